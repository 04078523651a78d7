"""``xfit reproduce NAME``: the papers' figures from the data that ships with xfit."""
from __future__ import annotations

import importlib

from ..errors import InputError
from ..outputs import check_output_dir
from . import COMMANDS
from .common import add_theory_options, dump_json

#: figure name -> (module under xfit.reproduce, its function, description)
FIGURES = {
    "fig2": ("fig2", "reproduce", "Fig. 2 of arXiv:2603.04394: B->K(*)X + Z->gammaX fit at m_X = 2.1 GeV"),
    "fig3": ("fig3", "reproduce", "Fig. 3 (and Fig. 1) of arXiv:2603.04394: 90% CL limits on g_X versus m_X"),
    "fig1": ("fig3", "reproduce_fig1",
             "Fig. 1 of arXiv:2603.04394: 90% CL limits on g_X A_XWW from NA62 and KOTO"),
}
#: Figures whose function takes ``goldstone`` (``--goldstone``).
GOLDSTONE_FIGURES = ("fig2",)


#: Figures with limit curves for ``--hepdata``.
HEPDATA_FIGURES = ("fig3",)
#: The anomalon tables of ``xfit reproduce all``: name -> (what, library function).
TABLES = {
    "table2": "Table 2 of arXiv:2603.04394: anomalons, one ML field + one DL pair (Delta = 100, >= 1 TeV)",
    "table3": "Table 3 of arXiv:2603.04394: anomalons, two DL pairs (Delta = 100, >= 1 TeV)",
    "tableII": "Table II of the chiral-tau paper: chiral tau charges with a neutral lightest state",
}


def register(sub) -> None:
    p = sub.add_parser("reproduce", help=COMMANDS["reproduce"],
                       description="Reproduce a figure of the papers. Known: "
                       + "; ".join(f"{k}: {d}" for k, (_, _, d) in FIGURES.items())
                       + "; all: Figs. 1-3 and Tables 2, 3, II into one folder with an index.md")
    p.add_argument("figure", help="one of: " + ", ".join([*FIGURES, "all"]))
    p.add_argument("--out", default=None, help="output directory (default xfit-output/FIGURE)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--hepdata", metavar="DIR", default=None,
                   help="also write a validated HEPData submission of the limit curves (" + ", ".join(HEPDATA_FIGURES)
                   + ")")
    p.add_argument("--skip-missing", action="store_true", help="fig3: draw without searches whose data are missing")
    add_theory_options(p)
    p.set_defaults(func=run)


def _figure(name: str, out, theory: dict) -> dict:
    """Run one figure and write its refs.bib beside it."""
    from ..bibliography import write_refs_bib
    from ..reproduce import reproduce_terms

    module_name, function, _ = FIGURES[name]
    module = importlib.import_module(f"xfit.reproduce.{module_name}")
    summary = getattr(module, function)(out, **theory)
    terms = reproduce_terms(name) + (reproduce_terms("fig1") if name == "fig3" else [])
    summary.setdefault("files", []).append(str(write_refs_bib(out, terms)))
    return summary


def fig3_hepdata(directory: str, summary: dict) -> str:
    """HEPData submission of Fig. 3's curves (each search, the combination, the projections)."""
    from ..reproduce.fig3 import SEARCHES
    from .limits import MAIN_ARXIV, limit_curves, write_hepdata

    key = f"gX_{round(100 * summary['cl'])}"
    limits = {**summary["limits"], **summary.get("projections", {})}
    curves = limit_curves(limits, key, summary["cl"], "g_X",
                          "Fig. 3 of arXiv:2603.04394: upper limits on g_X, gauged tau flavour "
                          "(A_XYY = -A_XWW = 1)", {"combined": [t for t in SEARCHES if t in summary["limits"]]})
    return write_hepdata(directory, curves, f"Fig. 3 of arXiv:{MAIN_ARXIV}, recomputed by xfit")


def run(args) -> int:
    if args.figure == "all":
        return run_all(args)
    if args.figure not in FIGURES:
        raise InputError(f"unknown figure {args.figure!r:.80}; known: {', '.join([*FIGURES, 'all'])}")
    if args.hepdata and args.figure not in HEPDATA_FIGURES:
        raise InputError(f"--hepdata is available for {', '.join(HEPDATA_FIGURES)} (limit curves), "
                         f"not {args.figure}")
    description = FIGURES[args.figure][2]
    out = check_output_dir(args.out or f"xfit-output/{args.figure}", "--out")  # xfit/outputs.py
    theory = {"loop_normalisation": args.loop_normalisation,
              **({"skip_missing": True} if args.skip_missing and args.figure == "fig3" else {})}
    if args.goldstone:
        if args.figure not in GOLDSTONE_FIGURES:
            raise InputError(f"--goldstone is available for {', '.join(GOLDSTONE_FIGURES)} only, not {args.figure}\n"
                             f"(the other figures use the massive-vector rates)")
        theory["goldstone"] = True
    summary = _figure(args.figure, out, theory)
    if args.hepdata:
        summary["hepdata"] = fig3_hepdata(args.hepdata, summary)
        summary["files"].append(summary["hepdata"])
    if args.json:
        print(dump_json(summary))
    else:
        rates = "Goldstone limit, Eqs. 3.9/3.10" if args.goldstone else "massive vector X"
        print(f"{description} (W-loop normalisation: {args.loop_normalisation}; meson rates: {rates})")
        for name, row in summary.get("models", {}).items():
            print(f"  {name:<11} g_X = {row['gX']:.4g} ± {row['gX_err']:.2g}, chi2_min = {row['chi2_min']:.2f}, "
                  f"{row['significance_sigma']:.2f} sigma over the SM, B(Z->gammaX) = {row['BR(Z->gammaX)']:.3g}, "
                  f"B(B+->K*+X) = {row['BR(B+->K*+X)']:.3g}")
        for name, row in summary.get("limits", {}).items():
            key = next((k for k in row if k != "mX"), "gX_90")
            pairs = [(m, g) for m, g in zip(row.get("mX", []), row.get(key, [])) if g is not None]
            if pairs:
                m_best, g_best = min(pairs, key=lambda p: p[1])
                par = {"gX_90": "g_X", "gXAWW_90": "g_X A_XWW"}.get(key, key)
                print(f"  {name:<18} strongest 90% CL limit {par} < {g_best:.3g} at m_X = {m_best:.3g} GeV "
                      f"({len(pairs)} masses with a limit)")
        print("wrote:")
        for f in summary.get("files", []):
            print(f"  {f}")
    return 0


def _markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)\n"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def anomalon_tables() -> dict[str, list[dict]]:
    """Tables 2, 3 (defaults of ``xfit anomalons table2/table3``) and Table II (``chiral-tau``)."""
    from ..anomalons import classify
    from ..anomalons.chiral_tau import table_II

    return {"table2": classify.table2(), "table3": classify.table3(), "tableII": table_II()}


#: What each file of ``reproduce all`` holds (first matching pattern), for index.md.
_FILE_NOTES = (
    ("refs.bib", "BibTeX of every input (xfit cite)"),
    ("summary.json", "summary of the run (numbers quoted by the command)"),
    ("limits.json", "limit curves per search, with the method per mass"),
    ("fig1.", "Fig. 1: 90% CL limits on g_X A_XWW from NA62 and KOTO"),
    ("fig2", "Fig. 2: B->K(*)X + Z->gammaX fit at m_X = 2.1 GeV"),
    ("fig3", "Fig. 3: 90% CL limits on g_X versus m_X (gauged tau flavour)"),
    (".jsonl", "stored chunk of a computation (lets an interrupted run resume)"),
)


def _describe(path) -> str:
    for stem, what in TABLES.items():
        if path.name.startswith(stem + "."):
            return what + (" (JSON)" if path.suffix == ".json" else " (Markdown)")
    return next((note for pattern, note in _FILE_NOTES if pattern in path.name), "output file")


def run_all(args) -> int:
    """``xfit reproduce all``: Figs. 1-3 and Tables 2, 3, II into one folder, with index.md."""
    from pathlib import Path

    from ..bibliography import write_refs_bib
    from ..inference.store import write_json
    from ..reproduce import ensure_output_dir

    if args.hepdata:
        raise InputError("--hepdata is not taken by 'reproduce all'; use: xfit reproduce fig3 --hepdata DIR")
    out = ensure_output_dir(args.out or "xfit-output/all")
    theory = {"loop_normalisation": args.loop_normalisation}
    if args.goldstone:
        raise InputError("--goldstone applies to fig2 only; use: xfit reproduce fig2 --goldstone")
    summaries = {"fig2": _figure("fig2", out / "fig2", theory), "fig3": _figure("fig3", out / "fig3", theory)}
    for name, rows in anomalon_tables().items():
        write_json(out / f"{name}.json", rows)
        (out / f"{name}.md").write_text(f"# {TABLES[name]}\n\n" + _markdown_table(rows), encoding="utf-8")
    from ..reproduce import reproduce_terms

    write_refs_bib(out, reproduce_terms("fig2") + reproduce_terms("fig3") + reproduce_terms("fig1"))
    files = sorted(p for p in Path(out).rglob("*") if p.is_file() and p.name != "index.md")
    lines = ["# xfit reproduce all", "",
             f"Figures 1-3 and Tables 2, 3 of arXiv:2603.04394 and Table II of the chiral-tau paper "
             f"(W-loop normalisation: {args.loop_normalisation}).", ""]
    lines += [f"- `{p.relative_to(out)}`: {_describe(p)}" for p in files]
    (out / "index.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = {"out": str(out), "files": [str(p) for p in files] + [str(out / "index.md")],
              "figures": {k: {"files": v.get("files", [])} for k, v in summaries.items()}}
    if args.json:
        print(dump_json(result))
    else:
        print(f"Figs. 1-3 and Tables 2, 3, II in {out} ({len(result['files'])} files; see index.md)")
    return 0
