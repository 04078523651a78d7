"""``xfit limits``: the upper limit on g_X (or a chosen parameter) versus m_X for any model
and terms, each term alone and combined (kind ``limits`` of an analysis file, run through
:mod:`xfit.analysis`), with ``--hepdata DIR`` for a HEPData submission.

    xfit limits --model tau-flavor --terms l3_z_gamma,na62_k_pi --mX 0.01:5:40:log --cl 0.95 \\
        --hepdata xfit-output/limits/hepdata

Also the HEPData helpers of the other commands that produce limit curves
(:func:`limit_curves`, :func:`write_hepdata`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..errors import InputError, require_finite_number
from . import COMMANDS
from .common import dump_json, print_files, print_limit_lines
from .scan import add_common_options, common_mapping, parse_assignments, parse_range, save_analysis, term_list, validate

MAIN_ARXIV = "2603.04394"
_BR = re.compile(r"^BR\(([^()]+?)->(.+?)X\)$")


def reactions_of(observables: Sequence[str]) -> list[str]:
    """HEPData reaction keywords of a term's observables: ``BR(B+->K+X)`` -> ``B+ --> K+ X``."""
    out = []
    for o in observables:
        m = _BR.match(o)
        if m and m.group(1) != "X":
            out.append(f"{m.group(1).upper()} --> {m.group(2).upper()} X")
    return out


def term_info(name: str) -> tuple[list[str], list[str]]:
    """(reactions, arXiv ids) of a registered term (the combination: of its parts)."""
    from ..bibliography import term_reference
    from ..errors import DataError
    from ..likelihood import get_term

    try:
        t = get_term(name)
    except DataError:
        t = get_term(name, allow_unverified=True)
    arxiv = term_reference(name).arxiv
    return reactions_of(t.observables), [arxiv] if arxiv else []


def limit_curves(limits: Mapping[str, Mapping], key: str, cl: float, quantity: str, description: str,
                 parts: Mapping[str, Sequence[str]], units: str = "") -> list:
    """:class:`xfit.hepdata.LimitCurve` of summary limit curves ``{name: {"mX": [...], key: [...]}}``;
    ``parts`` maps each curve to the terms it uses (the combination: all)."""
    from ..hepdata import LimitCurve

    curves = []
    for name, c in limits.items():
        reactions, refs = [], [MAIN_ARXIV]
        for t in parts.get(name, [name]):
            r, a = term_info(t)
            reactions += r
            refs += a
        label = "all searches combined" if name == "combined" else f"likelihood term {name}"
        curves.append(LimitCurve(name=name, description=f"{description} ({label}).", mX=c["mX"],
                                 observed=c[key], quantity=quantity, cl=cl, units=units,
                                 reactions=list(dict.fromkeys(reactions)),
                                 references=list(dict.fromkeys(refs))))
    return curves


def write_hepdata(directory: str, curves: Sequence, comment: str) -> str:
    """Write and validate the submission; return the path of submission.yaml."""
    from pathlib import Path

    from ..hepdata import write_limits_submission

    # absolute: write_limits_submission works in a scratch directory
    return str(write_limits_submission(Path(directory).resolve(), curves, comment, references=[MAIN_ARXIV]))


def register(sub) -> None:
    p = sub.add_parser("limits", help=COMMANDS["limits"],
                       description="Upper limits versus m_X (kind 'limits' of an analysis file, docs/inference.md): "
                       "each likelihood term alone and their combination.")
    add_common_options(p, "limits")
    p.add_argument("--mX", required=True, metavar="MIN:MAX:N[:log]", help="the m_X grid [GeV]")
    p.add_argument("--cl", default="0.90", help="confidence level in (0.5, 1) (default 0.90)")
    p.add_argument("--parameter", default=None,
                   help="the parameter bounded (default: the model's only free one; fix others with --fixed)")
    p.add_argument("--no-combined", action="store_true", help="no combined limit")
    p.add_argument("--hepdata", metavar="DIR", default=None,
                   help="also write a validated HEPData submission of the curves into DIR")
    p.set_defaults(func=run)


def build_mapping(args) -> dict:
    d = common_mapping(args, "limits")
    fixed = parse_assignments(args.fixed, "--fixed")
    if "mX" in fixed:
        raise InputError("--fixed mX is not accepted by xfit limits: m_X is the --mX grid")
    if fixed:
        d["fixed"] = fixed
    lim = {"masses": parse_range(args.mX, "--mX"), "searches": term_list(args.terms),
           "cl": require_finite_number(args.cl, "--cl"), "combined": not args.no_combined}
    if args.parameter:
        lim["parameter"] = args.parameter
    d["limits"] = lim
    return d


def run(args) -> int:
    from ..analysis import run_analysis

    mapping = build_mapping(args)
    a = validate(mapping, "limits")
    save_analysis(mapping, args.save_analysis)
    summary = run_analysis(a, fresh=args.fresh)
    key = f"{summary['parameter']}_{round(100 * summary['cl'])}"
    if args.hepdata:
        names = [t["name"] for t in a.limits["searches"]]
        par = summary["parameter"]
        curves = limit_curves(summary["limits"], key, summary["cl"], {"gX": "g_X"}.get(par, par),
                              f"Upper limit on {par} versus m_X, model {summary['model'].get('name', '')}",
                              {"combined": names})
        summary["hepdata"] = write_hepdata(args.hepdata, curves, f"xfit limits '{a.name}' (arXiv:{MAIN_ARXIV})")
        summary["files"].append(summary["hepdata"])
    if args.json:
        print(dump_json(summary))
        return 0
    print(f"xfit limits '{a.name}' done in {summary['elapsed_s']:.2f} s ({100 * summary['cl']:g}% CL)")
    print_limit_lines(summary["limits"], key)
    print_files(summary["files"])
    return 0
