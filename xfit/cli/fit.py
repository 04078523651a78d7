"""``xfit fit``: MIGRAD + HESSE (+ MINOS) fit of a model to likelihood terms at fixed m_X."""
from __future__ import annotations

from ..errors import InputError, require_finite_number
from . import COMMANDS
from .common import add_model_options, add_theory_nuisances_option, dump_json, model_from_args, theory_from_args

PLANES = ("eft", "chiral")


def register(sub) -> None:
    p = sub.add_parser("fit", help=COMMANDS["fit"],
                       description="Fit g_X of a model, or the EFT plane (g_X A_WW, g_X A_YY), or the "
                       "chiral plane (alpha_L g_X, alpha_R g_X), to a sum of likelihood terms.")
    add_model_options(p)
    p.add_argument("--plane", choices=sorted(PLANES), help="fit a two-parameter plane instead of a model")
    p.add_argument("--mX", required=True, help="mass of X in GeV")
    p.add_argument("--terms", required=True, help="comma-separated likelihood terms, e.g. b_to_s_emiss,l3_z_gamma")
    p.add_argument("--start", action="append", default=[], metavar="PAR=VALUE", help="starting value (repeatable)")
    p.add_argument("--minos", action="store_true", help="also run MINOS")
    add_theory_nuisances_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def likelihood_from_option(terms: str, flag: str = "--terms"):
    """The likelihood of a comma-separated ``--terms`` value; InputError naming the flag."""
    from ..likelihood import build_likelihood

    if not str(terms).strip(" ,"):
        raise InputError(f"{flag} is empty; give comma-separated term names (see `xfit terms`)")
    try:
        return build_likelihood(terms)
    except InputError as exc:
        msg = str(exc).replace(", or allow_overlap=True", "").replace(" or allow_overlap=True", "")
        raise InputError(f"{flag} {terms!r:.80}: {msg}") from None


def run(args) -> int:
    from ..inference.fit import Fit
    from ..models import ChiralPlane, EFTPlane

    mX = require_finite_number(args.mX, "--mX")
    if mX <= 0:
        raise InputError(f"--mX must be > 0 GeV, got {args.mX}")
    planes = {"eft": EFTPlane, "chiral": ChiralPlane}
    model = planes[args.plane](**theory_from_args(args)) if args.plane else model_from_args(args)
    lik = likelihood_from_option(args.terms)
    start = {}
    for item in args.start:
        if "=" not in item:
            raise InputError(f"--start takes PAR=VALUE, got {item!r:.80}; parameters: {', '.join(model.parameters)}")
        k, v = item.split("=", 1)
        if k.strip() not in model.parameters:
            raise InputError(f"--start {item!r:.80}: unknown parameter {k.strip()!r:.40}; "
                             f"model {model.name!r} has {', '.join(model.parameters)}")
        start[k.strip()] = require_finite_number(v, f"--start {k}")
    if not start and "gX" in model.parameters and getattr(model, "A_WW", 0):
        # near the b -> s solution at m_X = 2.1 GeV (g_xi scales with the loop factor: 0.016 for "paper")
        start = {"gX": 0.016 / (model.sm.loop_factor * abs(model.A_WW))}
    result = Fit(model, lik, mX, start=start, theory_nuisances=args.theory_nuisances).run(minos=args.minos)
    if args.json:
        from ..datasets import inputs_block

        print(dump_json({**result.to_dict(), "inputs": inputs_block()}))
    else:
        print(result)
        print("bibliography:\n  " + lik.bibliography().replace("\n", "\n  "))
    return 0
