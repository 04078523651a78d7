"""Running a validated analysis: :func:`run_analysis` writes its outputs (data as
.npz/.json, figures, summary.json) to the output directory and returns the summary.

* ``scan`` — a 1D or 2D profile-likelihood scan (:func:`xfit.inference.scan.profile_scan`);
* ``limits`` — upper limits on a coupling versus m_X, search by search and combined
  (:func:`xfit.inference.limits.limits_by_search`);
* ``reproduce`` — a figure of the papers (``xfit reproduce`` as a file).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, XfitError
from ..reproduce import reproduce_terms
from .schema import REPRODUCE_KEYS
from .validation import Analysis, range_values


def _likelihood(terms: list[dict], source: str):
    from ..likelihood import CombinedLikelihood, get_term

    built = []
    for t in terms:
        try:
            built.append(get_term(t["name"], **t["options"]))
        except TypeError as exc:
            raise InputError(f"{source}: bad options for term {t['name']!r}: {exc}") from None
        except XfitError as exc:
            raise InputError(f"{source}: term {t['name']!r}: {exc}") from None
    return CombinedLikelihood(built)


def _check_evaluates(lik, model, masses, fixed: Mapping[str, float], source: str) -> None:
    """Evaluate each term once on a throwaway copy (terms may load data lazily), so that a
    missing data file is reported before the run, naming the term."""
    import pickle

    masses = np.asarray(masses, dtype=float)
    params = {p: np.full(masses.shape, fixed.get(p, 1e-3)) for p in model.parameters}
    pred = model.predict(masses, **params)
    for term in lik.terms:
        try:
            try:
                copy = pickle.loads(pickle.dumps(term))
            except Exception:  # noqa: BLE001 - unpicklable: evaluate the object itself
                copy = term
            copy.chi2(pred)
        except XfitError as exc:
            raise InputError(f"{source}: term {term.name!r} cannot be evaluated: {exc}") from None


def run_analysis(a: Analysis, out_dir: str | Path | None = None, executor: Any = None,
                 progress: bool | None = None, fresh: bool = False) -> dict:
    """Run a validated analysis; write its outputs; return its summary (also summary.json).

    ``out_dir``, ``executor``, ``progress`` override the file; ``fresh`` ignores
    stored chunks (as ``resume: false``).
    """
    from ..outputs import output_lock

    t0 = time.perf_counter()
    with output_lock(a.out_dir(out_dir), "--out" if out_dir else f"{a.source}: output.dir") as out:
        return _run_in(a, out, t0, executor, progress, fresh)


def _run_in(a: Analysis, out: Path, t0: float, executor: Any, progress: bool | None, fresh: bool) -> dict:
    from ..bibliography import write_refs_bib
    from ..inference.store import write_json

    ex = executor if executor is not None else a.executor_spec()
    prog = a.progress if progress is None else progress
    overwrite = fresh or not a.resume
    if a.kind == "reproduce":
        import importlib

        kw = {"executor": ex, "progress": prog} if "executor" in REPRODUCE_KEYS[a.figure] else {}
        summary = importlib.import_module(f"xfit.reproduce.{a.figure}").reproduce(out, **kw)
        summary = {"analysis": a.name, "kind": a.kind, "figure": a.figure, **summary}
    elif a.kind == "scan":
        summary = _run_scan(a, out, ex, prog, overwrite)
    else:
        summary = _run_limits(a, out, ex, prog, overwrite)
    summary["elapsed_s"] = round(time.perf_counter() - t0, 3)
    summary["source"] = a.source
    files = summary.pop("files", [])
    refs = write_refs_bib(out, analysis_terms(a))
    write_json(out / "summary.json", summary)
    named = out / f"{a.name}.summary.json"  # kept when another analysis writes into the same folder
    write_json(named, summary)
    paths = [str(f) for f in files] + [str(out / "summary.json"), str(named), str(refs)]
    summary["files"] = list(dict.fromkeys(paths))  # the figure's own list may name summary.json too
    return summary


def analysis_terms(a: Analysis) -> list[str]:
    """The names of the likelihood terms an analysis uses (for its refs.bib)."""
    if a.kind == "reproduce":
        return reproduce_terms(a.figure)
    if a.kind == "scan":
        return [t["name"] for t in a.terms]
    return [t["name"] for t in a.limits["searches"] + a.limits["projections"]]


def _run_scan(a: Analysis, out: Path, ex, prog: bool, overwrite: bool) -> dict:
    from ..inference.scan import Axis, profile_scan
    from ..plots.profile_scan import plot_profile_scan

    model = a.build_model()
    lik = _likelihood(a.terms, a.source)
    axes = [Axis(n, range_values(r), r["spacing"]) for n, r in a.scan["axes"].items()]
    probe_m = range_values(a.scan["axes"]["mX"])[[0, -1]] if "mX" in a.scan["axes"] else [a.fixed["mX"]]
    _check_evaluates(lik, model, probe_m, a.fixed, a.source)
    fixed = {k: v for k, v in a.fixed.items() if k != "mX"}
    stem = a.output["stem"]
    res = profile_scan(model, lik, axes, mX=a.fixed.get("mX"), fixed=fixed, start=a.scan.get("start"),
                       limits=a.scan.get("limits"), executor=ex, chunk_size=a.scan.get("chunk_size"),
                       store=out / f"{stem}.chunks.jsonl", overwrite=overwrite, on_mismatch="restart",
                       progress=prog, seed=a.seed, penalty_width=a.scan["penalty_width"],
                       derived_scale=a.scan.get("derived_scale"), theory_nuisances=a.scan["theory_nuisances"])
    res.metadata.update(analysis=a.name, description=a.description, source=a.source)
    files = res.save(out, stem) + plot_profile_scan(res, out, stem, a.output["formats"])
    return {"analysis": a.name, "kind": "scan", "terms": list(lik.names), "model": model.describe(),
            "scan": res.summary(), "metadata": res.metadata, "files": files}


def _run_limits(a: Analysis, out: Path, ex, prog: bool, overwrite: bool) -> dict:
    from ..inference.limits import limits_by_search
    from ..inference.store import write_json
    from ..plots.limits import plot_limits

    model = a.build_model()
    L = a.limits
    masses = range_values(L["masses"])
    searches = {t["name"]: _likelihood([t], a.source) for t in L["searches"]}
    probe_m = masses[np.linspace(0, masses.size - 1, 3).astype(int)]
    for lik in searches.values():
        _check_evaluates(lik, model, probe_m, a.fixed, a.source)
    kw = dict(cl=L["cl"], parameter=L["parameter"], fixed=a.fixed, g_min=L["g_min"], g_max=L["g_max"],
              points_per_decade=L["points_per_decade"], chunk_size=L["chunk_size"], executor=ex,
              progress=prog, overwrite=overwrite, on_mismatch="restart", seed=a.seed)
    current = limits_by_search(model, searches, masses, combined="combined" if L["combined"] else None,
                               store_dir=out / "chunks", **kw)
    projections = {}
    if L["projections"]:
        proj = {t["name"]: _likelihood([t], a.source) for t in L["projections"]}
        projections = limits_by_search(model, proj, masses, combined=None, store_dir=out / "chunks", **kw)
    labels = {t["name"]: t["label"] or t["name"] for t in L["searches"] + L["projections"]}
    labels["combined"] = "combined"
    stem = a.output["stem"]
    ylabel = {"gX": r"$g_X$"}.get(L["parameter"], model.label(L["parameter"]))
    files = plot_limits(current, out, stem, a.output["formats"], labels=labels, projections=projections or None,
                        ylabel=f"{ylabel} ({100 * L['cl']:g}% CL upper limit, dimensionless)",
                        title=a.description or a.name, ylim=L.get("ylim"), xscale=L["xscale"],
                        direct_y=L["bands"]["direct_y"], naturalness_delta=L["bands"]["naturalness_delta"],
                        naturalness_y=L["bands"]["naturalness_y"])
    key = f"{L['parameter']}_{round(100 * L['cl'])}"
    detail = out / f"{stem}.limits.json"
    write_json(detail, {k: c.to_dict() for k, c in {**current, **projections}.items()})
    return {"analysis": a.name, "kind": "limits", "model": model.describe(), "parameter": L["parameter"],
            "cl": L["cl"], "mass_unit": "GeV", "limits": {k: c.to_json(key) for k, c in current.items()},
            "projections": {k: c.to_json(key) for k, c in projections.items()},
            "methods": {k: sorted({m if not m.startswith("failed") else "failed" for m in c.method})
                        for k, c in {**current, **projections}.items()},
            "failed_masses": {k: c.failures() for k, c in {**current, **projections}.items() if c.failures()},
            "files": files + [detail]}
