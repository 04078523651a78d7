"""``xfit belle2``: the Belle II B+ -> K+ nu nubar likelihood (SM fit, B+ -> K+ X scan, checks, export).

xfit belle2 fit-sm [--json] [--stock] [--no-impacts]
xfit belle2 scan [--json] [--mX-min M] [--mX-max M] [--n-masses N] ...  (xfit/cli/belle2_scan.py)
xfit belle2 export-pyhf --mX M [--width G] [--sm-free] [--out DIR]
xfit belle2 fit-spectrum FILE.csv [--json] [--sm-free]      (xfit/cli/belle2_spectrum.py)
xfit belle2 plots [--out DIR]                               (xfit/cli/belle2_diagnostics.py)
"""

from __future__ import annotations

import importlib

from ..datasets import inputs_block
from ..errors import InputError, require_finite_number
from ..outputs import check_output_dir
from . import COMMANDS, selected_subcommand
from .common import dump_json


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
    "scan": ("belle2_scan", "scan m_X of B+ -> K+ X: best fit, local significance, CLs limits"),
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

    selected = selected_subcommand("belle2")
    for name, (module, helptext) in SUBCOMMAND_MODULES.items():
        if name == selected:
            importlib.import_module(f"{__package__}.{module}").register(sub)
        else:  # never parsed: the command line names another sub-command (or none)
            sub.add_parser(name, help=helptext)

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

