"""``xfit belle2``: the Belle II B+ -> K+ nu nubar likelihood (SM fit, B+ -> K+ X scan, checks, export).

xfit belle2 fit-sm [--json] [--stock] [--no-impacts]
xfit belle2 scan [--json] [--mX-min M] [--mX-max M] [--n-masses N] [--width G]
                 [--out DIR] [--sm-free] [--no-limits] [--no-resume] [--no-plots]
                 [--executor serial|process]
xfit belle2 export-pyhf --mX M [--width G] [--sm-free] [--out DIR]
xfit belle2 fit-spectrum FILE.csv [--json] [--sm-free]      (xfit/cli/belle2_spectrum.py)
xfit belle2 plots [--out DIR]                               (xfit/cli/belle2_diagnostics.py)
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys

from ..datasets import inputs_block
from ..errors import InputError, require_finite_number
from ..outputs import check_output_dir
from . import COMMANDS, selected_subcommand
from .common import check_local_executor, dump_json


def cmd_fit_sm(args) -> int:
    from ..belle2 import fit
    from ..belle2.signal import B_SM

    res = fit.fit_sm()
    out = res.summary()
    if args.json:
        from .belle2_diagnostics import fit_sm_diagnostics

        out.update(fit_sm_diagnostics(fit.load_model(), res.bestfit, with_impacts=not args.no_impacts))
    out["inputs"] = inputs_block()
    if args.stock:
        out["stock_pyhf"] = fit.stock_pyhf_fit()
    if args.json:
        print(dump_json(out))
    else:
        print("Belle II B+ -> K+ nu nubar, published likelihood (HEPData ins2947386), fast HistFactory fit")
        print(f"  mu = {out['mu']:.3f} +- {out['mu_err']:.3f}   (B = {out['mu'] * B_SM * 1e6:.1f}e-6)")
        print(f"  significance over background only: {out['Z_bkg_only']:.2f} sigma")
        print(f"  significance over the SM (mu = 1):  {out['Z_vs_SM']:.2f} sigma")
        print(f"  one full fit (minimum + HESSE): {1e3 * out['fit_seconds']:.1f} ms")
        if args.stock:
            s = out["stock_pyhf"]
            print(
                f"  stock pyhf: mu = {s['mu']:.3f} +- {s['mu_err']:.3f}, {s['Z_bkg_only']:.2f} sigma, "
                f"{s['Z_vs_SM']:.2f} sigma, {s['fit_seconds']:.1f} s"
            )
        print("  Belle II (arXiv:2311.14647): mu = 4.6 +- 1.3, 3.5 sigma, 2.7 sigma")
    return 0


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


def cmd_export_pyhf(args) -> int:
    from ..belle2 import export

    mX = require_finite_number(args.mX, "--mX")
    width = require_finite_number(args.width, "--width")
    if width < 0:
        raise InputError(f"--width must be >= 0 GeV, got {args.width}")
    paths = export.export_pyhf(check_output_dir(args.out), mX, width=width, sm_free=args.sm_free)
    for p in paths.values():
        print(p)
    return 0


#: Sub-commands of ``xfit belle2`` in modules of their own: name -> (module of xfit.cli, one-line
#: help).  The module's ``register`` adds the sub-command with this help; only the module of the
#: sub-command on the command line is imported (xfit.belle2.posterior alone takes ~0.6 s).
SUBCOMMAND_MODULES = {
    "fit-spectrum": ("belle2_spectrum", "fit the scale k of any q^2 spectrum (CSV q2,dBdq2) on top of the SM signal"),
    "plots": ("belle2_diagnostics",
              "pre/post-fit yields, pulls, impacts and correlations of the SM fit (PNG, PDF, CSV)"),
    "posterior": ("belle2_posterior",
                  "posterior in (m_X, B x P_inv), nuisances marginalised; Bayes factor SM + X vs SM"),
    "toys": ("belle2_toys", "global significance of the B+ -> K+ X best fit from toys (look-elsewhere effect)"),
}


def register(subparsers) -> None:
    """Add ``xfit belle2`` with its sub-commands (those of :data:`SUBCOMMAND_MODULES` from their modules)."""
    p = subparsers.add_parser(
        "belle2",
        help=COMMANDS["belle2"],
        description="The published Belle II B+ -> K+ nu nubar likelihood (HEPData ins2947386) "
        "with a fast HistFactory implementation; data files from `xfit data fetch belle2-knunu`.",
    )
    sub = p.add_subparsers(dest="belle2_command", metavar="SUBCOMMAND")
    sub.required = True

    f = sub.add_parser("fit-sm", help="fit the SM signal strength mu and its significances")
    f.add_argument("--json", action="store_true", help='print {"mu", "mu_err", "Z_bkg_only", "Z_vs_SM", "fit_seconds"}')
    f.add_argument("--stock", action="store_true", help="also fit with stock pyhf (slow, ~40 s) for comparison")
    f.add_argument(
        "--no-impacts",
        action="store_true",
        help="--json without the impacts (they take four refits per nuisance parameter, ~10 s)",
    )
    f.set_defaults(func=cmd_fit_sm)

    s = sub.add_parser(
        "scan",
        help="scan m_X of B+ -> K+ X: best fit, local significance, CLs limits",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.add_argument(
        "--mX-min", type=float, default=0.0, help="lowest mass [GeV] (0: excluded, the grid starts one step above)"
    )
    s.add_argument("--mX-max", type=float, default=4.6, help="highest mass [GeV]")
    s.add_argument("--n-masses", type=int, default=101, help="number of masses")
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

    e = sub.add_parser(
        "export-pyhf",
        help="write the SM + X model at one mass as a pyhf workspace and patch set",
        description="Write DIR/workspace.json (the published workspace plus the B+ -> K+ X "
        "sample at --mX, POI mu_X in units of 1e-6 of B(B+ -> K+ X) x P_inv, SM signal fixed at "
        "mu = 1 unless --sm-free) and DIR/patchset.json (one patch per mass of the scan grid).",
    )
    e.add_argument("--mX", required=True, help="mass of X [GeV]")
    e.add_argument("--width", default="0", help="Gamma_X [GeV] (0: narrow line)")
    e.add_argument("--sm-free", action="store_true", help="leave the SM signal strength mu free")
    e.add_argument("--out", default="xfit-output/belle2-export-pyhf", help="output directory")
    e.set_defaults(func=cmd_export_pyhf)

    selected = selected_subcommand("belle2")
    for name, (module, helptext) in SUBCOMMAND_MODULES.items():
        if name == selected:
            importlib.import_module(f"{__package__}.{module}").register(sub)
        else:  # never parsed: the command line names another sub-command (or none)
            sub.add_parser(name, help=helptext)
