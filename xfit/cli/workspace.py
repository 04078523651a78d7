"""``xfit workspace``: any pyhf workspace (JSON, schema 1.0.0) with xfit's fast HistFactory
backend and its statistics stack (:mod:`xfit.inference`).

    xfit workspace fit   FILE.json [--json] [--poi NAME] [--measurement NAME]
    xfit workspace cls   FILE.json --poi-value MU [--toys N [--seed S]] [--json] [--poi NAME] [--measurement NAME]
    xfit workspace limit FILE.json [--cl 0.95] [--json] [--poi NAME] [--measurement NAME]

``fit``: maximum-likelihood fit, -2 ln L at the minimum (pyhf's ``twice_nll``), every parameter
with its HESSE error (exact inverse Hessian), names as pyhf's (``staterror_sr[0]``).
``cls``: CLs with q~_mu, asymptotic, as ``pyhf.infer.hypotest(mu, ..., test_stat="qtilde",
return_expected_set=True)``, or from toys (``--toys N``, :class:`xfit.inference.toys.ToyCalculator`,
with ``"n_toys"`` in the JSON).  ``limit``: observed and expected (-2..2 sigma) CLs upper limits.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

from ..errors import DataError, InputError, require_finite_number
from . import COMMANDS
from .common import dump_json


def _short(text, n: int = 80) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 3] + "..."


def load_spec(file: str) -> dict:
    """The workspace JSON of ``FILE`` (InputError/DataError in one line if unreadable)."""
    path = Path(file)
    if not path.is_file():
        raise InputError(f"FILE {_short(file)!r} is not a file; give a pyhf workspace JSON file")
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{_short(path)} is not valid JSON ({_short(exc)})") from None
    if not isinstance(spec, dict):
        raise DataError(f"{_short(path)} is not a pyhf workspace (a JSON object with channels, "
                        f"observations, measurements, version), got a JSON {type(spec).__name__}")
    return spec


def build_model(spec: dict, file: str, poi: str | None = None, measurement: str | None = None):
    """:class:`xfit.histfactory.HistFactoryModel` of ``spec``; ``poi`` overrides the
    measurement's POI.  pyhf's schema and model errors become one-line errors.

    The schema validation is pyhf's, once per workspace content (see
    :func:`xfit.histfactory.workspace.validate_schema`): a workspace seen before neither
    validates again nor imports pyhf (its model layout comes from the layout cache)."""
    from ..histfactory import HistFactoryModel
    from ..histfactory.workspace import validate_schema

    try:
        validate_schema(spec)
    except Exception as exc:  # noqa: BLE001 - pyhf raises several types for broken specs
        import pyhf.exceptions  # imported by the validation that raised

        if not isinstance(exc, pyhf.exceptions.InvalidSpecification):
            raise DataError(f"{_short(file)} is not a valid pyhf workspace: {_short(exc, 120)}") from None
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        where = next((ln[len("Path:"):].strip() for ln in lines if ln.startswith("Path:")), "")
        msg = lines[0].rstrip(".") if lines else type(exc).__name__
        raise DataError(f"{_short(file)} is not a valid pyhf workspace: {_short(msg, 120)}"
                        + (f" (at {_short(where)})" if where else "")) from None
    names = [m["name"] for m in spec.get("measurements", [])]
    if measurement is not None and measurement not in names:
        raise InputError(f"--measurement {_short(measurement)!r} is not in the workspace; "
                         f"accepted: {_short(', '.join(names), 120)}")
    try:
        return HistFactoryModel(spec, measurement=measurement, poi=poi)
    except InputError:
        if poi is None:
            raise
        try:
            pars = HistFactoryModel(spec, measurement=measurement).par_order  # the parameters a POI may be
        except InputError as exc:
            raise DataError(f"{_short(file)}: invalid model ({_short(exc, 120)})") from None
        if poi not in pars:
            raise InputError(f"--poi {_short(poi)!r} is not a parameter of the model; accepted: "
                             f"{_short(', '.join(pars), 120)}") from None
        raise


def _model(args):
    spec = load_spec(args.file)
    return build_model(spec, args.file, poi=args.poi, measurement=args.measurement)


def pyhf_names(model) -> list[str]:
    """One name per parameter component as pyhf's ``config.par_names`` (a per-bin modifier
    of one bin is still ``name[0]``): the model's, read from pyhf's config into its layout."""
    return list(model.par_names)


# --- the commands --------------------------------------------------------------------------

def cmd_fit(args) -> int:
    from ..errors import ConvergenceError
    from ..inference import mle

    model = _model(args)
    t0 = time.perf_counter()
    r = mle.fit(model, raise_on_failure=False)
    try:
        cov = mle.hesse(model, r.x, fixed=r.fixed)
        err = [math.sqrt(v) if v >= 0 else math.nan for v in cov.diagonal()]
    except ConvergenceError:
        err = [math.nan] * model.npars
    seconds = time.perf_counter() - t0
    names = pyhf_names(model)
    out = {"twice_nll": mle.twice_nll(r.nll),
           "parameters": {n: {"value": float(v), "error": e} for n, v, e in zip(names, r.x, err)},
           "converged": bool(r.valid), "fit_seconds": seconds}
    if args.json:
        print(dump_json(out))
        return 0
    print(f"{args.file}: -2 ln L = {out['twice_nll']:.6f} ({'converged' if r.valid else 'NOT converged'}, "
          f"{1e3 * seconds:.1f} ms), POI {model.poi_name}")
    width = max(len(n) for n in names)
    for n, d in out["parameters"].items():
        print(f"  {n:<{width}}  {d['value']:>12.6g} +- {d['error']:.3g}")
    return 0


def _calculator(args):
    from ..inference.calculators import AsymptoticCalculator

    model = _model(args)
    if model.poi_index is None:
        raise InputError("the workspace has no parameter of interest; give --poi NAME")
    return model, AsymptoticCalculator(model)


def cmd_cls(args) -> int:
    mu = require_finite_number(args.poi_value, "--poi-value")
    model, calc = _calculator(args)
    lo, hi = model.bounds[model.poi_index]
    if not lo <= mu <= hi:
        raise InputError(f"--poi-value must be within the bounds of {model.poi_name}, [{lo:g}, {hi:g}]; got {mu:g}")
    if args.toys is not None:
        from ..inference.toys import ToyCalculator

        if args.toys < 1:
            raise InputError(f"--toys must be at least 1, got {args.toys}")
        calc = ToyCalculator(model, n_toys=args.toys, seed=args.seed)
    res = calc.hypotest(mu)
    out = res.summary()
    if args.json:
        print(dump_json(out))
        return 0
    how = f"{args.toys} toys per hypothesis, seed {args.seed}" if args.toys is not None else "asymptotic"
    print(f"{args.file}: {model.poi_name} = {mu:g}, q~_mu {how} (mu_hat = {res.mu_hat:.4g})")
    print(f"  CLs observed = {res.CLs:.6g}   (CLs+b = {res.CLsb:.4g}, CLb = {res.CLb:.4g})")
    for n, v in zip((-2, -1, 0, 1, 2), res.CLs_exp):
        print(f"  CLs expected {n:+d} sigma = {v:.6g}")
    return 0


def cmd_limit(args) -> int:
    from ..inference.intervals import upper_limit

    cl = require_finite_number(args.cl, "--cl")
    if not 0 < cl < 1:
        raise InputError(f"--cl must be between 0 and 1 exclusive, e.g. 0.95; got {cl:g}")
    model, calc = _calculator(args)
    res = upper_limit(calc, cl=cl)
    out = res.summary()
    if args.json:
        print(dump_json(out))
        return 0
    def fmt(v):
        return "above the POI bound" if v is None else f"{v:.6g}"
    print(f"{args.file}: {100 * cl:g}% CL CLs upper limits on {model.poi_name} (q~_mu, asymptotic)")
    print(f"  observed: {fmt(out['obs_limit'])}")
    for n, v in zip((-2, -1, 0, 1, 2), out["exp_limits"]):
        print(f"  expected {n:+d} sigma: {fmt(v)}")
    return 0


def register(subparsers) -> None:
    """Add ``xfit workspace fit|cls|limit``."""
    p = subparsers.add_parser(
        "workspace", help=COMMANDS["workspace"],
        description="Any pyhf workspace (JSON) with xfit's HistFactory backend: maximum-likelihood fit, "
        "CLs (q~_mu, asymptotic, as pyhf's hypotest) and CLs upper limits.")
    sub = p.add_subparsers(dest="workspace_command", metavar="SUBCOMMAND")
    sub.required = True

    def common(q):
        q.add_argument("file", metavar="FILE.json", help="pyhf workspace (JSON)")
        q.add_argument("--json", action="store_true", help="print JSON")
        q.add_argument("--poi", metavar="NAME", help="parameter of interest (default: the measurement's)")
        q.add_argument("--measurement", metavar="NAME", help="measurement to use (default: the first)")

    f = sub.add_parser("fit", help="maximum-likelihood fit: -2 ln L, parameters and errors")
    common(f)
    f.set_defaults(func=cmd_fit)
    c = sub.add_parser("cls", help="CLs at one POI value (q~_mu, asymptotic, as pyhf.infer.hypotest)")
    common(c)
    c.add_argument("--poi-value", required=True, metavar="MU", help="POI value tested")
    c.add_argument("--toys", type=int, default=None, metavar="N",
                   help="CLs from N pseudo-experiments per hypothesis instead of the asymptotic formulae")
    c.add_argument("--seed", type=int, default=0, metavar="S", help="random seed of the toys (default 0)")
    c.set_defaults(func=cmd_cls)
    u = sub.add_parser("limit", help="observed and expected CLs upper limits on the POI")
    common(u)
    u.add_argument("--cl", default="0.95", help="confidence level (default 0.95)")
    u.set_defaults(func=cmd_limit)
