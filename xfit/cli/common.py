"""Helpers shared by command groups: model options, JSON output."""
from __future__ import annotations

import json
import math

import numpy as np

from ..errors import InputError, require_finite_number
from ..models import ChargeModel, WessZuminoModel, available_models, get_model

CHARGE_OPTIONS = ("alpha_B", "alpha_e", "alpha_mu", "alpha_tau")
CHIRAL_OPTIONS = ("alpha_L", "alpha_R")
TRACE_OPTIONS = ("A_WW", "A_YY")


def add_model_options(parser, require_gX: bool = True) -> None:
    g = parser.add_argument_group("model (a named benchmark, or charges, or Wess-Zumino coefficients)")
    g.add_argument("--model", help="named benchmark: " + ", ".join(available_models()))
    for opt in CHARGE_OPTIONS:
        g.add_argument(f"--{opt.replace('_', '-')}", dest=opt, metavar="Q",
                       help=f"vector U(1)_X charge {opt} (Eq. 1.1)")
    for opt in CHIRAL_OPTIONS:
        g.add_argument(f"--{opt.replace('_', '-')}", dest=opt, metavar="Q", help=f"chiral tau charge {opt}")
    for opt in TRACE_OPTIONS:
        g.add_argument(f"--{opt.replace('_', '-')}", dest=opt, metavar="A",
                       help=f"Wess-Zumino coefficient {opt} (SM anomaly trace)")
    g.add_argument("--br-invisible", dest="br_invisible", metavar="B",
                   help="B(X -> invisible) to use instead of the model's (needed for --A-WW/--A-YY; default 1 there)")
    g.add_argument("--XS", dest="XS", default="1", metavar="Q",
                   help="U(1)_X charge of the breaking scalar, for v_X = m_X/(X_S g_X) (default 1)")
    add_theory_options(parser)


def add_theory_options(parser) -> None:
    """The theory conventions of every command that computes rates: ``--loop-normalisation
    {derived,paper}`` and ``--goldstone``."""
    from ..physics.constants import DEFAULT_LOOP_NORMALISATION, LOOP_NORMALISATIONS

    parser.add_argument("--loop-normalisation", dest="loop_normalisation", choices=tuple(LOOP_NORMALISATIONS),
                        default=DEFAULT_LOOP_NORMALISATION,
                        help="normalisation of the W-loop coupling g_xi: 'derived' (default; the one-loop W "
                        "exchange from Eq. 3.4, half of Eq. 3.6, docs/physics.md) or 'paper' (Eq. 3.6 as printed)")
    parser.add_argument("--goldstone", action="store_true",
                        help="meson-decay rates in the Goldstone limit, Eqs. 3.9/3.10 of the paper (longitudinal "
                        "X only); default: a massive vector X with all three helicities (docs/physics.md)")


def model_from_args(args):
    """Build the model the options describe; InputError names what is wrong."""
    given = lambda opts: {o: getattr(args, o) for o in opts if getattr(args, o, None) is not None}
    charges, chiral, traces = given(CHARGE_OPTIONS), given(CHIRAL_OPTIONS), given(TRACE_OPTIONS)
    kinds = [k for k, v in (("--model", args.model), ("vector charges", charges),
                            ("chiral charges", chiral), ("Wess-Zumino coefficients", traces)) if v]
    if not kinds:
        raise InputError("no model given: use --model NAME (" + ", ".join(available_models())
                         + "), or --alpha-B/--alpha-e/--alpha-mu/--alpha-tau, or --alpha-L/--alpha-R, or --A-WW/--A-YY")
    if len(kinds) > 1:
        raise InputError(f"give one kind of model, got {' and '.join(kinds)}")
    XS = require_finite_number(args.XS, "--XS")
    br = None if args.br_invisible is None else require_finite_number(args.br_invisible, "--br-invisible")
    theory = theory_from_args(args)
    if args.model:
        return get_model(args.model, XS=XS, br_invisible=br, **theory)
    if charges:
        vals = {k: require_finite_number(v, "--" + k.replace("_", "-")) for k, v in charges.items()}
        return ChargeModel.vector(**vals, name="vector-charges", XS=XS, br_invisible=br, **theory)
    if chiral:
        if len(chiral) != 2:
            raise InputError("chiral charges need both --alpha-L and --alpha-R")
        return ChargeModel.chiral_tau(require_finite_number(chiral["alpha_L"], "--alpha-L"),
                                      require_finite_number(chiral["alpha_R"], "--alpha-R"),
                                      name="chiral-tau", XS=XS, br_invisible=br, **theory)
    if len(traces) != 2:
        raise InputError("Wess-Zumino coefficients need both --A-WW and --A-YY")
    return WessZuminoModel(require_finite_number(traces["A_WW"], "--A-WW"),
                           require_finite_number(traces["A_YY"], "--A-YY"),
                           br_invisible=1.0 if br is None else br, XS=XS, **theory)


def theory_from_args(args) -> dict:
    """The model keywords of :func:`add_theory_options`: loop_normalisation and goldstone."""
    return {"loop_normalisation": args.loop_normalisation, "goldstone": bool(getattr(args, "goldstone", False))}


def to_jsonable(value):
    """numpy scalars/arrays to Python; non-finite floats to None (JSON has no inf/NaN)."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, complex):
        return [to_jsonable(value.real), to_jsonable(value.imag)]
    return value


def dump_json(obj) -> str:
    return json.dumps(to_jsonable(obj), indent=2)
