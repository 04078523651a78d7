"""``xfit scan``: 1D and 2D profile-likelihood scans from the command line.

The flags build the mapping of an analysis file (kind ``scan``, docs/inference.md) and run it
through :mod:`xfit.analysis` (validate, then run), so a scan behaves exactly as the file
``--save-analysis FILE.yaml`` writes.

    xfit scan --plane eft --terms b_to_s_emiss,l3_z_gamma --mX 2.1 \\
        --axis gX_AYY=-0.3:0.3:61 --start gX_AWW=0.016 --start gX_AWW=-0.016
    xfit scan --model tau-flavor --terms l3_z_gamma --axis mX=0.01:10:20:log --axis gX=1e-4:1:20:log

No ``--hepdata`` here: a profile scan is a Delta chi2 surface, not a limit curve versus m_X
(use ``xfit limits --hepdata``).
"""
from __future__ import annotations

from ..errors import InputError, require_finite_number
from . import COMMANDS
from .common import (
    CHARGE_OPTIONS,
    CHIRAL_OPTIONS,
    TRACE_OPTIONS,
    add_model_options,
    add_theory_nuisances_option,
    dump_json,
    print_files,
    print_scan_lines,
    theory_from_args,
)

#: analysis-file keys -> the flags that set them (so that validation messages name flags)
_KEY_FLAGS = (("scan.axes.", "--axis "), ("'fixed.mX'", "--mX"), ("fixed.", "--fixed "), ("scan.start", "--start"),
              ("limits.masses", "--mX"), ("limits.searches", "--terms"), ("limits.cl", "--cl"),
              ("limits.parameter", "--parameter"), ("'terms", "'--terms"), ("executor", "--executor"),
              ("'fixed'", "--fixed"), ("'seed'", "'--seed'"), ("'name'", "'--name'"))
_SOURCE = "flags"


def add_common_options(p, command: str) -> None:
    """Flags shared by ``xfit scan`` and ``xfit limits`` (model, terms, output, executor)."""
    from ..models.builder import PLANES

    add_model_options(p)
    p.add_argument("--plane", choices=tuple(PLANES), default=None,
                   help="a two-parameter plane instead of a model: eft (gX_AWW, gX_AYY) or chiral "
                   "(gX_alphaL, gX_alphaR)")
    p.add_argument("--terms", required=True, metavar="A,B", help="comma-separated likelihood terms (xfit terms)")
    p.add_argument("--fixed", action="append", default=[], metavar="PAR=VALUE",
                   help="fix a model parameter (repeatable)")
    p.add_argument("--name", default=command,
                   help=f"name of the analysis; stem of the output files (default {command})")
    p.add_argument("--out", default=None, help=f"output directory (default xfit-output/{command})")
    p.add_argument("--executor", default="process",
                   help="where chunks run: process (default), serial, dask or dask://HOST:PORT")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--fresh", action="store_true", help="ignore stored chunks; recompute everything")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--save-analysis", metavar="FILE.yaml", default=None,
                   help="also write the equivalent analysis file (run it again with xfit run FILE.yaml)")


def register(sub) -> None:
    p = sub.add_parser("scan", help=COMMANDS["scan"],
                       description="Profile-likelihood scan (kind 'scan' of an analysis file, docs/inference.md): "
                       "1 or 2 axes among the model parameters, mX and the prediction keys; the other "
                       "parameters are profiled.")
    add_common_options(p, "scan")
    p.add_argument("--axis", action="append", default=[], metavar="NAME=MIN:MAX:N[:log]",
                   help="a scan axis (1 or 2): model parameter, mX or a prediction key, e.g. gX=1e-4:1:40:log")
    p.add_argument("--mX", default=None, metavar="GEV", help="fixed m_X [GeV] (needed unless mX is an axis)")
    p.add_argument("--start", action="append", default=[], metavar="PAR=V[,PAR=V]",
                   help="a starting point of the profiled parameters (repeatable: several starts)")
    add_theory_nuisances_option(p)
    p.set_defaults(func=run)


def parse_range(text: str, flag: str) -> dict:
    """``MIN:MAX:N[:log|linear]`` -> a range mapping of the analysis schema."""
    parts = text.split(":")
    accepted = "MIN:MAX:N or MIN:MAX:N:log"
    if len(parts) not in (3, 4):
        raise InputError(f"{flag}: got {text[:80]!r}; accepted: {accepted}")
    lo, hi = (require_finite_number(x, flag) for x in parts[:2])
    try:
        n = int(parts[2])
    except ValueError:
        raise InputError(f"{flag}: N must be an integer, got {parts[2][:80]!r}; accepted: {accepted}") from None
    r = {"min": lo, "max": hi, "n": n}
    if len(parts) == 4:
        if parts[3] not in ("log", "linear"):
            raise InputError(f"{flag}: spacing {parts[3][:80]!r}; accepted: log, linear")
        r["spacing"] = parts[3]
    return r


def parse_assignments(items, flag: str) -> dict[str, float]:
    """``["A=1", "B=2,C=3"]`` -> {A: 1, B: 2, C: 3}."""
    out = {}
    for item in items:
        for part in item.split(","):
            name, sep, val = part.partition("=")
            if not sep or not name.strip():
                raise InputError(f"{flag}: got {item[:80]!r}; accepted: PAR=VALUE")
            out[name.strip()] = require_finite_number(val, f"{flag} {name.strip()}")
    return out


def model_spec(args) -> dict:
    """The ``model`` mapping of the analysis the model flags describe (errors name the flags)."""
    from .common import model_from_args

    theory = theory_from_args(args)
    if args.plane:
        given = [o for o in ("model", "fields", *CHARGE_OPTIONS, *CHIRAL_OPTIONS, *TRACE_OPTIONS)
                 if getattr(args, o, None) is not None]
        if given:
            raise InputError(f"--plane {args.plane} cannot be combined with --{given[0].replace('_', '-')}")
        spec = {"plane": args.plane, **theory}
        if args.br_invisible is not None:
            spec["br_invisible"] = require_finite_number(args.br_invisible, "--br-invisible")
        return spec
    if getattr(args, "fields", None):
        raise InputError("--fields is not available here (an analysis takes a model mapping);\n"
                         "use --model, --plane, charges (--alpha-B ...) or --A-WW/--A-YY")
    model_from_args(args)  # checks the flags, with messages naming them
    spec = {"XS": require_finite_number(args.XS, "--XS"), **theory}
    if args.br_invisible is not None:
        spec["br_invisible"] = require_finite_number(args.br_invisible, "--br-invisible")
    if args.model:
        spec["name"] = args.model
        return spec
    for kind, opts in (("charges", CHARGE_OPTIONS), ("chiral", CHIRAL_OPTIONS), ("wess_zumino", TRACE_OPTIONS)):
        values = {o: require_finite_number(getattr(args, o), "--" + o.replace("_", "-"))
                  for o in opts if getattr(args, o, None) is not None}
        if values:
            spec[kind] = values
    return spec


def common_mapping(args, kind: str) -> dict:
    """The top-level keys shared by kinds scan and limits."""
    d = {"kind": kind, "name": args.name, "model": model_spec(args),
         "output": {"dir": args.out or f"xfit-output/{kind}"}, "seed": args.seed,
         "executor": args.executor, "progress": not args.no_progress}
    return d


def term_list(text: str) -> list[str]:
    from .cite import parse_terms

    return parse_terms(text, "--terms")


def flag_message(exc: InputError) -> str:
    """A validation message with the analysis keys replaced by the flags that set them."""
    msg = str(exc).removeprefix(f"{_SOURCE}: ")
    for key, flag in _KEY_FLAGS:
        msg = msg.replace(key, flag)
    return msg


def validate(mapping: dict, command: str):
    from ..analysis import validate_analysis

    try:
        return validate_analysis(mapping, source=_SOURCE, stem=mapping["name"])
    except InputError as exc:
        raise InputError(flag_message(exc)) from None


def save_analysis(mapping: dict, path: str | None) -> None:
    if not path:
        return
    import yaml

    from ..errors import InputError as _InputError

    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"# written by xfit {mapping['kind']} --save-analysis; run with: xfit run {path}\n")
            yaml.safe_dump(mapping, fh, sort_keys=False)
    except OSError as exc:
        raise _InputError(f"--save-analysis {path[:80]!r} cannot be written ({exc.strerror})") from None


def build_mapping(args) -> dict:
    d = common_mapping(args, "scan")
    if not args.axis:
        raise InputError("--axis is required (1 or 2 times), e.g. --axis gX=1e-4:1:40:log")
    axes = {}
    for a in args.axis:
        name, sep, rng = a.partition("=")
        if not sep:
            raise InputError(f"--axis: got {a[:80]!r}; accepted: NAME=MIN:MAX:N[:log]")
        axes[name.strip()] = parse_range(rng, f"--axis {name.strip()}")
    fixed = parse_assignments(args.fixed, "--fixed")
    if args.mX is not None:
        fixed["mX"] = require_finite_number(args.mX, "--mX")
    d["terms"] = term_list(args.terms)
    if fixed:
        d["fixed"] = fixed
    scan = {"axes": axes}
    if args.start:
        scan["start"] = [parse_assignments([s], "--start") for s in args.start]
    if args.theory_nuisances:
        scan["theory_nuisances"] = True
    d["scan"] = scan
    return d


def run(args) -> int:
    from ..analysis import run_analysis

    mapping = build_mapping(args)
    a = validate(mapping, "scan")
    save_analysis(mapping, args.save_analysis)
    summary = run_analysis(a, fresh=args.fresh)
    if args.json:
        print(dump_json(summary))
        return 0
    print(f"xfit scan '{a.name}' done in {summary['elapsed_s']:.2f} s")
    print_scan_lines(summary["scan"])
    print_files(summary["files"])
    return 0
