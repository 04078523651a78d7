"""``xfit project``: future sensitivity (Asimov projections and published projections).

xfit project belle2 --luminosity L [--systematics fixed|scaled] [--n-masses N] [--mX M ...]
                    [--no-discovery] [--json]
xfit project counting [--json]
xfit project counting --term TERM --exposure-factor F [--regime background-limited|background-free]
                      [--mX M ...] [--json]
"""
from __future__ import annotations

import argparse

from ..errors import InputError, require_finite_number
from . import COMMANDS
from .common import dump_json


def cmd_belle2(args) -> int:
    from ..belle2 import projection

    lum = projection.check_luminosity(require_finite_number(args.luminosity, "--luminosity"))
    projection.check_systematics(args.systematics)
    if args.mX:
        masses = [require_finite_number(m, "--mX") for m in args.mX]
        if any(m <= 0 for m in masses):
            raise InputError(f"--mX must be > 0 GeV, got {args.mX!r:.80}")
    else:
        masses = projection.default_masses(args.n_masses)
    out = projection.project(lum, args.systematics, masses, discovery=not args.no_discovery)
    if args.json:
        print(dump_json(out))
        return 0
    print(f"Belle II B+ -> K+ X, Asimov projection to {lum:g} ab^-1 (systematics: {args.systematics})")
    print(f"  SM B+ -> K+ nu nubar expected significance: {out['sm_significance']:.2f} sigma")
    disc = {d["mX"]: d["BR_5sigma"] for d in out.get("x_discovery_BR", [])}
    for row in out["expected_limits"]:
        lim = "n/a" if row["BR_95"] is None else f"{row['BR_95']:.3g}"
        d = disc.get(row["mX"])
        extra = "" if row["mX"] not in disc else f"   B_5sigma = {'n/a' if d is None else f'{d:.3g}'}"
        print(f"  mX = {row['mX']:.3f} GeV: expected B_95 = {lim}{extra}")
    return 0


def cmd_counting(args) -> int:
    from .. import projections

    if (args.term is None) != (args.exposure_factor is None):
        raise InputError("--term and --exposure-factor go together (scale a registered search to F x its exposure); "
                         f"got --term {args.term!r:.40} and --exposure-factor {args.exposure_factor!r:.40}")
    if args.term is not None:
        masses = [require_finite_number(m, "--mX") for m in args.mX] if args.mX else None
        out = projections.exposure_projection(args.term, args.exposure_factor, masses, regime=args.regime)
        if args.json:
            print(dump_json(out))
            return 0
        print(f"{out['term']} at {out['exposure_factor']:g} x its exposure ({out['regime']}), "
              f"{100 * out['confidence_level']:g}% CL on {out['observable']}:")
        for r in out["limits"]:
            if r["expected_limit"] is None:
                print(f"  mX = {r['mX']:.4g} GeV: outside the search")
                continue
            band = r.get("expected_band")
            extra = "" if not band else f"  (-1 sigma {band['-1']:.3g}, +1 sigma {band['+1']:.3g})"
            print(f"  mX = {r['mX']:.4g} GeV: published {r['published_limit']:.3g} -> expected "
                  f"{r['expected_limit']:.3g}{extra}")
        return 0
    if args.regime is not None or args.mX:
        raise InputError("--regime and --mX need --term and --exposure-factor")
    rows = projections.summary()
    if args.json:
        print(dump_json(rows))
        return 0
    for r in rows:
        val = "not found" if r["projected_limit"] is None else f"{r['projected_limit']:.3g}"
        print(f"{r['name']}: {r['observable']}: {val} ({r['exposure']})")
    return 0


def register(subparsers) -> None:
    """Add ``xfit project belle2`` and ``xfit project counting``."""
    p = subparsers.add_parser("project", help=COMMANDS["project"])
    sub = p.add_subparsers(dest="project_command", metavar="SUBCOMMAND")
    sub.required = True
    b = sub.add_parser("belle2", help="expected B+ -> K+ X limits and discovery reach at a luminosity",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    b.add_argument("--luminosity", required=True, help="integrated luminosity [ab^-1] (published: 0.362)")
    b.add_argument("--systematics", default="fixed", help="fixed (published relative systematics) or scaled "
                   "(constraint widths x sqrt(0.362/L))")
    b.add_argument("--n-masses", type=int, default=21, help="masses evenly spaced in (0, 4.6] GeV")
    b.add_argument("--mX", action="append", help="a mass [GeV] (repeatable; overrides --n-masses)")
    b.add_argument("--no-discovery", action="store_true", help="skip the 5 sigma discovery B_X")
    b.add_argument("--json", action="store_true", help="print the result as JSON")
    b.set_defaults(func=cmd_belle2)
    c = sub.add_parser("counting", help="published projections of counting experiments (NA62, KOTO II, FCC-ee), "
                       "or a registered search scaled to F x its exposure")
    c.add_argument("--term", help="a registered search term to scale (see 'xfit terms')")
    c.add_argument("--exposure-factor", help="F: the exposure as a multiple of the published one (your choice)")
    c.add_argument("--regime", help="for terms without published counts: background-limited (UL/sqrt(F)) or "
                   "background-free (UL/F)")
    c.add_argument("--mX", action="append", help="a mass [GeV] (repeatable; default: 21 across the search)")
    c.add_argument("--json", action="store_true", help="print the list as JSON")
    c.set_defaults(func=cmd_counting)
