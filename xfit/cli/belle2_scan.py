"""``xfit belle2 scan``: the B+ -> K+ X mass scan of the Belle II likelihood -- best fit,
local significance, CLs upper limits (xfit.belle2.scan), its plots and HEPData submission.

    xfit belle2 scan [--json] [--mX-min M] [--mX-max M] [--n-masses N] [--width G]
                     [--out DIR] [--hepdata DIR] [--sm-free] [--no-limits] [--no-resume]
                     [--no-plots] [--executor serial|process]

:func:`register` adds the sub-command to the ``xfit belle2`` sub-parsers (only when it is the
one on the command line: the defaults come from xfit.belle2.scan, which loads the statistics).
"""
from __future__ import annotations

import argparse
import math
import sys

from ..datasets import inputs_block
from ..errors import InputError, require_finite_number
from ..outputs import check_output_dir
from .belle2 import SUBCOMMAND_MODULES
from .common import check_local_executor, dump_json


def cmd_scan(args) -> int:
    from ..belle2 import scan
    from ..belle2.signal import MX_NO_EFFICIENCY, q2_max

    mx_min = require_finite_number(args.mX_min, "--mX-min")
    mx_max = require_finite_number(args.mX_max, "--mX-max")
    width = require_finite_number(args.width, "--width")
    if args.n_masses < 2:
        raise InputError(f"--n-masses must be at least 2, got {args.n_masses}")
    if width < 0:
        raise InputError(f"--width must be >= 0 GeV, got {width}")
    if mx_max > math.sqrt(q2_max()):
        raise InputError(f"--mX-max must be below m_B - m_K = {math.sqrt(q2_max()):.4f} GeV, got {mx_max}")
    if width == 0 and mx_min >= MX_NO_EFFICIENCY:
        raise InputError(
            f"--mX-min must be below MX_NO_EFFICIENCY = {MX_NO_EFFICIENCY:.4f} GeV (no Belle II "
            f"signal efficiency above it, every mass would be flat), got {mx_min}"
        )
    check_local_executor(args.executor)
    masses = scan.default_masses(mx_min, mx_max, args.n_masses)
    scan.check_masses_have_efficiency(masses, width)
    log = None if args.json else (lambda s: print(s, file=sys.stderr))
    out_dir = check_output_dir(args.out)
    res = scan.run_scan(
        masses,
        width=width,
        sm_free=args.sm_free,
        out=out_dir,
        limits=not args.no_limits,
        resume=not args.no_resume,
        log=log,
        executor=args.executor,
    )
    if not args.no_plots:
        from ..plots.belle2_scan import plot_scan

        plot_scan(res, out_dir)
    out = res.summary()
    out["inputs"] = inputs_block()
    from ..bibliography import write_refs_bib

    write_refs_bib(args.out, ["belle2_knunu"], belle2=True)
    if args.hepdata:
        out["hepdata"] = _scan_hepdata(args.hepdata, out)
    if args.json:
        print(dump_json(out))
    else:
        b = out["best_fit"]
        print(f"best fit: mX = {b['mX']:.4f} GeV, B(B+ -> K+ X) x P_inv = {b['BR']:.3g}")
        print(f"local significance (SM + X vs SM, {out['Z_local_dof']} dof): {out['Z_local']:.2f} sigma")
        print(f"{len(out['upper_limits'])} masses; results and plots in {args.out} ({res.seconds:.1f} s)")
    return 0


def _scan_hepdata(directory: str, summary: dict) -> str:
    """HEPData submission of the scan's 95% CL limits on B(B+ -> K+ X) x P_inv, with the
    expected median and +-1/2 sigma bands."""
    from ..hepdata import LimitCurve
    from .limits import MAIN_ARXIV, write_hepdata

    rows = summary["upper_limits"]
    if not rows or all(r["BR_95"] is None for r in rows):
        raise InputError("--hepdata needs the upper limits: drop --no-limits")
    width = summary["width"]
    line = "a narrow line" if not width else f"a width Gamma_X = {width:g} GeV"
    curve = LimitCurve(
        name="Upper limits B+ to K+ X", mX=[r["mX"] for r in rows], observed=[r["BR_95"] for r in rows],
        description=f"CLs upper limits on B(B+ -> K+ X) x B(X -> invisible) from the published Belle II "
        f"B+ -> K+ nu nubar likelihood (HEPData ins2947386) with {line} at q^2 = m_X^2 (SM signal "
        f"{summary['sm_signal']}).",
        expected={k: [r["BR_95_expected"].get(k) for r in rows] for k in ("-2", "-1", "0", "1", "2")},
        quantity="B(B+ -> K+ X) x B(X -> invisible)", cl=summary["cl"], reactions=["B+ --> K+ X"],
        observables=["BR"], phrases=["B physics", "Belle II"], references=["2311.14647", "2507.12393"])
    return write_hepdata(directory, [curve], f"xfit belle2 scan (arXiv:{MAIN_ARXIV})")


def register(belle2_subparsers) -> None:
    """Add ``scan`` to the sub-parsers of ``xfit belle2``."""
    from ..belle2.scan import DEFAULT_MX_MAX, DEFAULT_MX_MIN, DEFAULT_N

    s = belle2_subparsers.add_parser(
        "scan", help=SUBCOMMAND_MODULES["scan"][1], formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.add_argument("--mX-min", type=float, default=DEFAULT_MX_MIN,
                   help="lowest mass [GeV] (0: excluded, the grid starts one step above)")
    s.add_argument("--mX-max", type=float, default=DEFAULT_MX_MAX, help="highest mass [GeV]")
    s.add_argument("--n-masses", type=int, default=DEFAULT_N, help="number of masses")
    s.add_argument("--width", type=float, default=0.0, help="Gamma_X [GeV] (0: narrow line)")
    s.add_argument("--out", default="xfit-output/belle2-scan",
                   help="directory for scan.jsonl, the summary, the plots and refs.bib")
    s.add_argument("--hepdata", metavar="DIR", default=None,
                   help="also write a validated HEPData submission of the limits (observed, expected bands)")
    s.add_argument("--sm-free", action="store_true", help="profile the SM signal strength (default: fixed at 1)")
    s.add_argument("--no-limits", action="store_true", help="skip the CLs upper limits")
    s.add_argument("--no-resume", action="store_true", help="recompute masses already in OUT/scan.jsonl")
    s.add_argument("--no-plots", action="store_true", help="do not write the plots")
    s.add_argument("--executor", default="serial",
                   help="serial (one warm-started chain in this process) or process (chunks of neighbouring "
                   "masses on all cores)")
    s.set_defaults(func=cmd_scan)
