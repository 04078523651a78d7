"""``xfit belle2 toys``: the global significance of the B+ -> K+ X best fit from toys
(look-elsewhere effect in m_X), with the Gross-Vitells up-crossing estimate for comparison.

    xfit belle2 toys --n-toys N [--seed S] [--json] [--executor serial|process] [--out DIR]
                     [--n-masses N] [--mX-min M] [--mX-max M] [--u0 U]

:func:`register` adds the sub-command to the ``xfit belle2`` sub-parsers.
"""
from __future__ import annotations

import argparse
import math
import sys

from ..errors import InputError, require_finite_number
from ..outputs import check_output_dir
from .belle2 import SUBCOMMAND_MODULES
from .common import check_local_executor, dump_json


def cmd_toys(args) -> int:
    from ..belle2 import scan
    from ..belle2.toys import run_toys

    if args.n_toys < 1:
        raise InputError(f"--n-toys must be at least 1, got {args.n_toys}")
    if args.n_masses < 2:
        raise InputError(f"--n-masses must be at least 2, got {args.n_masses}")
    if args.seed < 0:  # numpy's SeedSequence takes no negative seed
        raise InputError(f"--seed must be an integer >= 0, got {args.seed}")
    mx_min = require_finite_number(args.mX_min, "--mX-min")
    mx_max = require_finite_number(args.mX_max, "--mX-max")
    u0 = require_finite_number(args.u0, "--u0")
    check_local_executor(args.executor)
    masses = scan.default_masses(mx_min, mx_max, args.n_masses)
    log = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    res = run_toys(args.n_toys, seed=args.seed, masses=masses, executor=args.executor,
                    out=None if args.out is None else check_output_dir(args.out), u0=u0, log=log)
    s = res.summary()
    if args.json:
        print(dump_json(s))
        return 0

    def fmt(v, spec=".2f"):
        return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)

    gv = s["gross_vitells"]
    print(f"Belle II B+ -> K+ X: {s['n_toys']} toys, {s['n_masses']} masses in "
          f"[{s['mX_min']:.3f}, {s['mX_max']:.3f}] GeV, seed {s['seed']}")
    print(f"  observed max q0 = {s['q0_max_obs']:.3f} at mX = {s['mX_at_max_obs']:.3f} GeV: "
          f"Z_local = {s['Z_local']:.2f} sigma (p_local = {s['p_local']:.3g})")
    print(f"  toys: p_global = {s['p_global']:.4g} +- {s['p_global_err']:.2g} ({s['n_above']} toys above), "
          f"Z_global = {fmt(s['Z_global'])} sigma, trials factor {fmt(s['trials_factor'], '.1f')}")
    print(f"  Gross-Vitells (u0 = {gv['u0']:g}, <N(u0)> = {gv['N_u0']:.2f}): p_global = {gv['p_global']:.3g}, "
          f"Z_global = {fmt(gv['Z_global'])} sigma, trials factor {fmt(gv['trials_factor'], '.1f')}")
    print(f"  {s['n_fits']} fits, {s['fits_per_cpu_second']:.0f} fits per CPU second, {s['wall_seconds']:.1f} s")
    return 0


def register(belle2_subparsers) -> None:
    """Add ``toys`` to the sub-parsers of ``xfit belle2``."""
    from ..belle2.scan import DEFAULT_MX_MAX, DEFAULT_MX_MIN
    from ..belle2.toys import DEFAULT_N_MASSES, DEFAULT_U0

    p = belle2_subparsers.add_parser(
        "toys", help=SUBCOMMAND_MODULES["toys"][1],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Pseudo-data from the SM-only fit, the mass scan (free fit per mass, q0) on each toy, the "
        "distribution of the maximal local q0: p_global, Z_global and the trials factor of the observed best "
        "fit, and the Gross-Vitells up-crossing estimate. Toys use a coarser mass grid than `xfit belle2 scan` "
        f"(default {DEFAULT_N_MASSES} masses); the observed max q0 is taken on the same grid.")
    p.add_argument("--n-toys", dest="n_toys", type=int, required=True, help="number of toys")
    p.add_argument("--seed", type=int, default=0, help="random seed (toy k is reproducible alone)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--executor", default="process", help="serial or process (local worker processes)")
    p.add_argument("--out", default="xfit-output/belle2-toys", metavar="DIR",
                   help="directory for toys.jsonl (resumable) and toys_summary.json")
    p.add_argument("--n-masses", dest="n_masses", type=int, default=DEFAULT_N_MASSES, help="number of masses")
    p.add_argument("--mX-min", dest="mX_min", default=DEFAULT_MX_MIN, metavar="M",
                   help="lowest mass [GeV] (0: excluded, the grid starts one step above)")
    p.add_argument("--mX-max", dest="mX_max", default=DEFAULT_MX_MAX, metavar="M", help="highest mass [GeV]")
    p.add_argument("--u0", default=DEFAULT_U0, metavar="U", help="reference level of the Gross-Vitells up-crossings")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_toys)
