"""``xfit belle2 plots --out DIR``: the first checks of the Belle II SM fit as figures.

    xfit belle2 plots [--out DIR] [--n-impacts N] [--n-correlations N]

Pre- and post-fit yields per channel, pulls, the impact ranking and the largest correlations
(PNG, PDF and CSV).  Also :func:`fit_sm_diagnostics`, the ``"pulls"``, ``"impacts"``, ``"gof"``
entries for ``xfit belle2 fit-sm --json`` (the integrator adds the call).  Wiring: the
integrator calls :func:`register` with the sub-parser group of ``xfit belle2``.
"""
from __future__ import annotations

from ..errors import InputError
from ..outputs import check_output_dir
from .belle2 import SUBCOMMAND_MODULES


def _sm_model_and_fit():
    from ..belle2 import files
    from ..histfactory import HistFactoryModel, minimize

    model = HistFactoryModel(files.load_workspace())
    return model, minimize(model)


def fit_sm_diagnostics(model=None, fit=None, with_impacts: bool = True) -> dict:
    """``{"pulls", "impacts", "gof"}`` of the SM fit of the published workspace (JSON-ready)."""
    from ..inference import diagnostics

    if model is None:
        model, fit = _sm_model_and_fit()
    return diagnostics.diagnostics_json(model, fit, with_impacts=with_impacts)


def cmd_plots(args) -> int:
    from ..inference import diagnostics
    from ..plots import fit_diagnostics

    for flag, v in (("--n-impacts", args.n_impacts), ("--n-correlations", args.n_correlations)):
        if v < 1:
            raise InputError(f"{flag} must be at least 1, got {v}")
    model, fit = _sm_model_and_fit()
    paths = fit_diagnostics.draw_all(model, fit, check_output_dir(args.out), n_impacts=args.n_impacts,
                                     n_correlations=args.n_correlations)
    g = diagnostics.gof(model, fit)
    print(f"saturated goodness of fit: t = {g['t']:.2f} for {g['ndof']} dof, p = {g['p_value']:.3f}")
    print(f"{len(paths)} files in {args.out}")
    return 0


def register(belle2_subparsers) -> None:
    """Add ``plots`` to the sub-parser group of ``xfit belle2``."""
    p = belle2_subparsers.add_parser(
        "plots", help=SUBCOMMAND_MODULES["plots"][1],
        description="Figures of the first checks of the SM fit of the published Belle II likelihood: "
        "pre- and post-fit yields per channel with a data/model panel, the pulls of the nuisance "
        "parameters, the ranking of the largest impacts on mu and the largest correlations; "
        "each figure as PNG and PDF with its numbers as CSV.")
    p.add_argument("--out", default="xfit-output/belle2-plots",
                   help="output directory (default: xfit-output/belle2-plots)")
    p.add_argument("--n-impacts", type=int, default=20, help="number of impacts in the ranking (default 20)")
    p.add_argument("--n-correlations", type=int, default=20,
                   help="number of parameters in the correlation matrix (default 20)")
    p.set_defaults(func=cmd_plots)
