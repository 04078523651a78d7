"""Helpers shared by command groups: model options, JSON output (the JSON policy itself is
:func:`xfit.inference.results.to_jsonable`)."""
from __future__ import annotations

from ..errors import InputError, require_finite_number
from ..inference.results import dumps, to_jsonable  # noqa: F401 - to_jsonable: the one JSON policy
from ..models import available_models, build_model
from ..models.builder import KIND_ENTRIES
from ..models.field_table import field_model

CHARGE_OPTIONS = KIND_ENTRIES["charges"]
CHIRAL_OPTIONS = KIND_ENTRIES["chiral"]
TRACE_OPTIONS = KIND_ENTRIES["wess_zumino"]

#: The executors of the commands that run on this machine only (``xfit belle2 scan``, ``xfit belle2 toys``).
LOCAL_EXECUTORS = ("serial", "process")


def check_local_executor(value) -> str:
    """``--executor`` of a command that runs on this machine only: one of :data:`LOCAL_EXECUTORS`."""
    if value not in LOCAL_EXECUTORS:
        raise InputError(f"--executor must be {' or '.join(LOCAL_EXECUTORS)}, got {str(value)[:80]!r}")
    return value


def add_theory_nuisances_option(p) -> None:
    """``--theory-nuisances`` of ``xfit fit`` and ``xfit scan`` (profiled at every fit)."""
    p.add_argument("--theory-nuisances", action="store_true",
                   help="profile the theory inputs (CKM, m_t, m_b, m_c, m_s, alpha, s_W^2, form factors) as correlated "
                   "Gaussian nuisances, widths and correlations of data/theory_uncertainties.yaml (docs/physics.md)")


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
    g.add_argument("--fields", metavar="FILE.yaml", help="YAML table of light Weyl fields with X charges: "
                   "fields: [{name, chirality: L|R, su2, Y, X, colour, copies}] (xfit/models/field_table.py)")
    g.add_argument("--br-invisible", dest="br_invisible", metavar="B",
                   help="B(X -> invisible) to use instead of the model's (needed for --A-WW/--A-YY; default 1 there)")
    g.add_argument("--XS", dest="XS", default="1", metavar="Q",
                   help="U(1)_X charge of the breaking scalar, for v_X = m_X/(X_S g_X) (default 1)")
    add_theory_options(parser, ew_scheme=True)


def add_theory_options(parser, ew_scheme: bool = False) -> None:
    """The theory conventions of every command that computes rates: ``--loop-normalisation
    {derived,paper}``, ``--goldstone`` and, with ``ew_scheme`` (commands that build a model:
    :func:`add_model_options`), ``--ew-scheme {mz,alpha0}``."""
    from ..physics.constants import DEFAULT_EW_SCHEME, DEFAULT_LOOP_NORMALISATION, EW_SCHEMES, LOOP_NORMALISATIONS

    parser.add_argument("--loop-normalisation", dest="loop_normalisation", choices=tuple(LOOP_NORMALISATIONS),
                        default=DEFAULT_LOOP_NORMALISATION,
                        help="normalisation of the W-loop coupling g_xi: 'derived' (default; the one-loop W "
                        "exchange from Eq. 3.4, half of Eq. 3.6, docs/physics.md) or 'paper' (Eq. 3.6 as printed)")
    if ew_scheme:
        parser.add_argument("--ew-scheme", dest="ew_scheme", choices=tuple(EW_SCHEMES), default=DEFAULT_EW_SCHEME,
                            help="alpha that fixes g and g' (the W loop, Z -> gamma X): 'mz' (default; MS-bar "
                            "alpha(m_Z)) or 'alpha0' (alpha(0) = 1/137.036, what the paper's numbers correspond to)")
    parser.add_argument("--goldstone", action="store_true",
                        help="meson-decay rates in the Goldstone limit, Eqs. 3.9/3.10 of the paper (longitudinal "
                        "X only); default: a massive vector X with all three helicities (docs/physics.md)")


def _given(args, options) -> dict:
    return {o: getattr(args, o) for o in options if getattr(args, o, None) is not None}


def model_from_args(args):
    """Build the model the options describe (:func:`xfit.models.build_model`, or a field table
    for ``--fields``); InputError names the flag that is wrong."""
    charges, chiral, traces = (_given(args, opts) for opts in (CHARGE_OPTIONS, CHIRAL_OPTIONS, TRACE_OPTIONS))
    kinds = [k for k, v in (("--model", args.model), ("--fields", getattr(args, "fields", None)),
                            ("vector charges", charges),
                            ("chiral charges", chiral), ("Wess-Zumino coefficients", traces)) if v]
    if not kinds:
        raise InputError("no model given: use --model NAME (" + ", ".join(available_models())
                         + "), or --fields FILE.yaml, or --alpha-B/--alpha-e/--alpha-mu/--alpha-tau, "
                         "or --alpha-L/--alpha-R, or --A-WW/--A-YY")
    if len(kinds) > 1:
        raise InputError(f"give one kind of model, got {' and '.join(kinds)}")
    if chiral and len(chiral) != 2:
        raise InputError("chiral charges need both --alpha-L and --alpha-R")
    if traces and len(traces) != 2:
        raise InputError("Wess-Zumino coefficients need both --A-WW and --A-YY")
    spec = {"XS": require_finite_number(args.XS, "--XS"), **theory_from_args(args)}
    if spec["XS"] == 0:
        raise InputError("--XS (the U(1)_X charge of the breaking scalar) must be non-zero, got 0")
    if args.br_invisible is not None:
        br = require_finite_number(args.br_invisible, "--br-invisible")
        if not 0 <= br <= 1:
            raise InputError(f"--br-invisible must be in [0, 1], got {args.br_invisible}")
        spec["br_invisible"] = br
    if getattr(args, "fields", None):
        return field_model(args.fields, XS=spec["XS"], br_invisible=spec.get("br_invisible"),
                           **theory_from_args(args))
    if args.model:
        if args.model not in available_models():
            raise InputError(f"unknown model {args.model!r:.80} (--model); "
                             f"known models: {', '.join(available_models())}")
        spec["name"] = args.model
    else:
        kind, values = next((k, v) for k, v in (("charges", charges), ("chiral", chiral), ("wess_zumino", traces)) if v)
        spec[kind] = {k: require_finite_number(v, "--" + k.replace("_", "-")) for k, v in values.items()}
    return build_model(spec)


def theory_from_args(args) -> dict:
    """The model keywords of :func:`add_theory_options`: loop_normalisation, ew_scheme and goldstone."""
    from ..physics.constants import DEFAULT_EW_SCHEME

    return {"loop_normalisation": args.loop_normalisation, "goldstone": bool(getattr(args, "goldstone", False)),
            "ew_scheme": getattr(args, "ew_scheme", DEFAULT_EW_SCHEME)}


def dump_json(obj) -> str:
    """Strict JSON (NaN/inf as null) of ``obj``, indented: :func:`xfit.inference.results.dumps`."""
    return dumps(obj)


def print_scan_lines(scan: dict) -> None:
    """The best grid point and the intervals of a profile scan's summary (``xfit scan``, ``xfit run``)."""
    print("  best grid point: " + ", ".join(f"{k} = {v:.4g}" for k, v in scan["best"].items())
          + f"; {scan['n_points']} points, {scan['n_invalid']} invalid")
    for sig, spans in scan.get("intervals", {}).items():
        print(f"  {sig}: " + "; ".join(f"[{lo:.4g}, {hi:.4g}]" for lo, hi in spans))


def print_limit_lines(limits: dict, key: str) -> None:
    """One line per curve of a limits summary: the range of ``key`` and the masses with a limit."""
    for name, c in limits.items():
        vals = [v for v in c[key] if v is not None]
        rng = f"{min(vals):.3g} .. {max(vals):.3g}" if vals else "no limit"
        print(f"  {name:<20} {key}: {rng} ({len(vals)}/{len(c['mX'])} masses)")


def print_files(files) -> None:
    """The 'wrote:' block of an analysis summary."""
    print("  wrote:")
    for f in files:
        print(f"    {f}")
