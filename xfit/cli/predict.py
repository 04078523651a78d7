"""``xfit predict``: every prediction of a model at one (m_X, g_X)."""
from __future__ import annotations

import math

from ..errors import InputError, require_finite_number
from ..predictions import closed_channels, unphysical_rates
from ..uncertainties import not_varied, propagate
from . import COMMANDS
from .common import add_model_options, dump_json, model_from_args

#: The keys printed by ``xfit predict``, in order (the issue's list).
OUTPUT_KEYS = ["A_WW", "A_YY", "g_S", "g_P", "v_X", "BR(X->invisible)", "BR(Z->gammaX)",
               "BR(K+->pi+X)", "BR(KL->pi0X)", "BR(D+->pi+X)", "BR(B+->pi+X)", "BR(B0->pi0X)",
               "BR(B+->rho+X)", "BR(B0->rho0X)", "BR(B+->K+X)", "BR(B0->K0X)", "BR(B+->K*+X)",
               "BR(B0->K*0X)", "F_L(B+->K*+X)", "F_L(B0->K*0X)", "F_L(B+->rho+X)", "F_L(B0->rho0X)",
               "R_K*/K"]
UNITS = {"v_X": "GeV"}


def register(sub) -> None:
    p = sub.add_parser("predict", help=COMMANDS["predict"],
                       description="Print every prediction of a model at one (m_X, g_X). "
                       "Branching ratios are production rates; multiply by BR(X->invisible) "
                       "for the missing-energy signature.")
    add_model_options(p)
    p.add_argument("--mX", required=True, help="mass of X in GeV (> 0)")
    p.add_argument("--gX", required=True, help="U(1)_X gauge coupling (>= 0)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--uncertainties", action="store_true",
                   help="add the 16 %%/84 %% quantiles of every rate from Monte Carlo propagation of the theory "
                   "inputs (data/theory_uncertainties.yaml: form factors, CKM, quark masses, alpha, s_W^2)")
    p.add_argument("--draws", default="10000", metavar="N",
                   help="Monte Carlo draws for --uncertainties (default 10000)")
    p.add_argument("--seed", default="0", metavar="S", help="random seed for --uncertainties (default 0)")
    p.set_defaults(func=run)


def _integer(text, flag: str, minimum: int) -> int:
    try:
        value = int(str(text))
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise InputError(f"{flag} must be an integer >= {minimum}; got {str(text)[:80]!r}")
    return value


def run(args) -> int:
    mX = require_finite_number(args.mX, "--mX")
    gX = require_finite_number(args.gX, "--gX")
    if mX <= 0:
        raise InputError(f"--mX must be > 0 GeV, got {args.mX}")
    if gX < 0:
        raise InputError(f"--gX must be >= 0, got {args.gX}")
    draws, seed = _integer(args.draws, "--draws", 2), _integer(args.seed, "--seed", 0)
    model = model_from_args(args)
    pred = model.predict(mX, gX=gX)
    values = {k: float(pred[k]) for k in OUTPUT_KEYS}
    closed = closed_channels(mX, model.sm)
    warnings = unphysical_rates(values)
    bands = propagate(model, mX, draws=draws, seed=seed, gX=gX) if args.uncertainties else None
    if args.json:
        out = {"model": model.describe(), "inputs": {"mX": mX, "gX": gX, "XS": getattr(model, "XS", None),
                                                     "loop_normalisation": model.loop_normalisation,
                                                     "ew_scheme": model.ew_scheme, "goldstone": model.goldstone},
               "predictions": values}
        if bands is not None:
            out["uncertainties"] = {k: bands[k] for k in OUTPUT_KEYS if k in bands}
            out["uncertainty_settings"] = {"draws": draws, "seed": seed, "quantiles": "16 % and 84 %",
                                           "inputs": "data/theory_uncertainties.yaml", "not_varied": not_varied()}
        out.update({"closed_channels": closed, "warnings": warnings})
        print(dump_json(out))
        return 0
    print(f"xfit predictions for model {model.name!r} at m_X = {mX:g} GeV, g_X = {gX:g} "
          f"(W-loop normalisation: {model.loop_normalisation}; g, g' from "
          f"{'alpha(0)' if model.ew_scheme == 'alpha0' else 'alpha(m_Z)'}; meson rates: "
          f"{'Goldstone limit, Eqs. 3.9/3.10' if model.goldstone else 'massive vector X'})")
    for k in OUTPUT_KEYS:
        unit = UNITS.get(k, "")
        note = f"   ({closed[k]})" if k in closed else ""
        shown = "undefined" if math.isnan(values[k]) else f"{values[k]:.4e}"  # F_L, R of a closed channel
        band = bands.get(k) if bands else None
        spread = f"  [{band['q16']:.4e}, {band['q84']:.4e}]" if band else ""
        print(f"  {k:<18} = {shown} {unit}{spread}{note}")
    print("  (BR(...X) are production rates: times BR(X->invisible) for the missing-energy signal)")
    if bands is not None:
        print(f"  [q16, q84]: 68 % theory band from {draws} draws (seed {seed}) of data/theory_uncertainties.yaml;"
              f" form factors not varied: {', '.join(not_varied()) or 'none'}")
    for w in warnings.values():
        print(f"  warning: {w}")
    return 0
