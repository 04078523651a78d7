"""Fig. 3 and Fig. 1 of arXiv:2603.04394: 90 % CL upper limits on couplings versus m_X.

Fig. 3 (upper panel): for the gauged tau-flavour benchmark (A_XYY = -A_XWW = 1; B(X ->
invisible) from Eq. 3.28, handled by the model) the 90 % CL upper limit on g_X from each
missing-energy search — L3 Z -> gamma X, NA62 K+ -> pi+ X, KOTO K_L -> pi0 X, CLEO
D -> pi X (recast), Belle B -> pi/rho X, Belle II B+ -> K+ X (the full Belle II likelihood,
term ``belle2_knunu``, when it is installed) — and from their combination; the region above
each curve is excluded.  Also: direct anomalon searches m_Psi = y m_X/g_X > 100 GeV for
y = 1 (dotted) and sqrt(4 pi) (solid), and finite naturalness m_Psi <~ sqrt(Delta) TeV
for Delta = 100, 1000 with y = sqrt(4 pi) (grey: couplings below need more tuning).
Lower panel: projections — FCC-ee Z -> gamma X at 2e-11 (``fcc_ee_z_gamma``).  The
flavour-factory projections of the paper (its Ref. [55], massless approximation) are not
available to xfit as numbers, so none are drawn.

Limits follow xfit's one-sided convention (:mod:`xfit.inference.limits`):
Delta chi2 = [Phi^-1(CL)]^2 from the minimum over g_X >= 0 (1.642 at CL = 0.90;
:func:`xfit.likelihood.chi2_threshold_one_sided`).

Fig. 1: 90 % CL upper limits on g_X A_XWW from NA62 (left) and KOTO (right) versus m_X,
in the EFT plane with B(X -> invisible) = 1 (g_X A_XYY does not enter kaon decays).
The red NA62 2016-2024 recast curve of the paper (its Ref. [48]) is not available as data.

``reproduce(out_dir)`` writes fig3.png/pdf, fig1.png/pdf, limits.json (every curve with
its method per mass and metadata) and summary.json (``"limits"``: for each search and for
``"combined"``, ``{"mX": [...], "gX_90": [...]}``, GeV, null where there is no limit).
``reproduce_fig1(out_dir)`` computes and draws Fig. 1 only (``xfit reproduce fig1``).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..datasets import inputs_block
from ..errors import DataError, XfitError
from ..inference.store import write_json
from ..likelihood import CombinedLikelihood, available_terms, chi2_threshold_one_sided, get_term
from ..models import EFTPlane, get_model
from ..physics.constants import DEFAULT_LOOP_NORMALISATION
from . import ensure_output_dir

if TYPE_CHECKING:
    from ..inference.limits import CouplingLimit

# xfit.inference.limits (scipy.optimize) and the plots are imported where the limits are computed
# and drawn: a run that stops at a missing data set (the usual first error) starts ~0.1 s sooner.

#: The definition of Fig. 3: the analysis file shipped with xfit (package ``xfit.analyses``).
FIG3_FILE = "fig3.yaml"


def load_fig3_spec() -> dict:
    """Fig. 3 as defined once, in ``analyses/fig3.yaml`` (``xfit run`` reads the same file).

    Returns {"model", "cl", "masses": (min, max, n), "searches", "projections" (each
    {name: (options, label)}), "ylim", "direct_y", "naturalness_delta"}."""
    from importlib import resources

    from ..yamlio import safe_load

    try:
        text = resources.files("xfit.analyses").joinpath(FIG3_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        raise DataError(f"the Fig. 3 analysis file {FIG3_FILE!r} is missing from the xfit.analyses package; "
                        "reinstall xfit") from None
    d = safe_load(text)
    lim = d["limits"]

    def _terms(entries) -> dict[str, tuple[dict, str]]:
        out = {}
        for e in entries or ():
            e = {"name": e} if isinstance(e, str) else e
            out[e["name"]] = (dict(e.get("options") or {}), e.get("label"))
        return out

    m = lim["masses"]
    bands = lim.get("bands") or {}
    return {"model": d["model"], "cl": float(lim.get("cl", 0.90)),
            "masses": (float(m["min"]), float(m["max"]), int(m["n"])),
            "searches": _terms(lim["searches"]), "projections": _terms(lim.get("projections")),
            "ylim": tuple(lim["ylim"]) if lim.get("ylim") else None,
            "direct_y": tuple(bands.get("direct_y", ())),
            "naturalness_delta": tuple(bands.get("naturalness_delta", ()))}


_SPEC = load_fig3_spec()
MODEL: str = _SPEC["model"]
CL: float = _SPEC["cl"]
#: Fig. 3 searches and projections: term name -> (options, legend label or None = the term's).
SEARCHES: dict[str, tuple[dict, str | None]] = _SPEC["searches"]
PROJECTIONS: dict[str, tuple[dict, str | None]] = _SPEC["projections"]
#: m_X grid of Fig. 3 [GeV] (CLEO is sensitive only at the lowest masses).
MASS_RANGE = _SPEC["masses"][:2]
N_MASSES = _SPEC["masses"][2]
Y_DIRECT = _SPEC["direct_y"]
NATURALNESS_DELTA = _SPEC["naturalness_delta"]
YLIM = _SPEC["ylim"]
#: Fig. 1: NA62 and KOTO on a linear m_X axis up to the kaon endpoint region.
FIG1_TERMS = {"na62_k_pi": r"NA62 $K^+\to\pi^+X$ (2016-2022)", "koto_kl_pi0": r"KOTO $K_L\to\pi^0X$"}
FIG1_MASSES = (1e-3, 0.26, 260)


def build_searches(spec: dict[str, tuple[dict, str]],
                   model=None) -> tuple[dict[str, CombinedLikelihood], dict[str, str]]:
    """The likelihood of each search that can be evaluated here; {name: reason} for the
    others (term not installed, data file missing, unverified input refused, ...).

    Each term is evaluated once on a throwaway copy (terms such as the Belle II likelihood
    load their data lazily, at the first evaluation); the returned objects are untouched.
    """
    import pickle

    model = model or get_model(MODEL)
    probe = model.predict(np.array([0.05, 1.0, 3.0]), **{p: np.full(3, 1e-3) for p in model.parameters})
    known = set(available_terms())
    out, missing = {}, {}
    for name, (options, _) in spec.items():
        if name not in known:
            missing[name] = "likelihood term not available in this installation"
            continue
        try:
            term = get_term(name, **options)
            lik = CombinedLikelihood([term])
            pickle.loads(pickle.dumps(lik)).chi2(probe)
        except XfitError as exc:
            missing[name] = str(exc)
            continue
        out[name] = lik
    return out, missing


def labels_and_colours(spec: dict[str, tuple[dict, str | None]]) -> tuple[dict[str, str], dict[str, str]]:
    """Legend labels (the figure's, else each term's data-file label) and colours (data files)."""
    known = set(available_terms())
    labels, colours = {}, {}
    for name, (options, label) in spec.items():
        term = None
        if name in known:
            try:
                term = get_term(name, **options)
            except XfitError:
                term = None
        labels[name] = label or (term.label if term is not None else name)
        if term is not None and term.colour:
            colours[name] = term.colour
    return labels, colours


def fig3_limits(masses=None, executor: Any = None, store_dir: str | Path | None = None,
                progress: bool = True, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
                searches: tuple[dict, dict] | None = None,
                ) -> tuple[dict[str, CouplingLimit], dict[str, CouplingLimit], dict[str, str]]:
    """(current limits incl. "combined", projections, missing searches) for the tau model.

    ``loop_normalisation`` ("derived" or "paper") scales g_xi and so every meson bound on g_X
    (by a factor 2 between the two); the Z -> gamma X bounds do not depend on it."""
    from ..inference.limits import limits_by_search

    model = get_model(MODEL, loop_normalisation=loop_normalisation)
    masses = np.geomspace(*MASS_RANGE, N_MASSES) if masses is None else np.asarray(masses, float)
    searches, missing = searches if searches is not None else build_searches(SEARCHES)
    missing = dict(missing)
    kw = dict(cl=CL, executor=executor, progress=progress, on_mismatch="restart")
    current = limits_by_search(model, searches, masses, store_dir=store_dir, **kw)
    proj_lik, proj_missing = build_searches(PROJECTIONS)
    missing.update(proj_missing)
    projections = limits_by_search(model, proj_lik, masses, combined=None, store_dir=store_dir, **kw)
    return current, projections, missing


def fig1_limits(progress: bool = True,
                loop_normalisation: str = DEFAULT_LOOP_NORMALISATION) -> dict[str, CouplingLimit]:
    """Upper limits on g_X A_XWW (EFT plane, B(X -> inv) = 1, g_X A_XYY = 0)."""
    from ..inference.limits import limits_by_search

    masses = np.linspace(*FIG1_MASSES)
    plane = EFTPlane(br_invisible=1.0, loop_normalisation=loop_normalisation)
    searches, _ = build_searches({k: ({}, v) for k, v in FIG1_TERMS.items()}, plane)
    return limits_by_search(plane, searches, masses, cl=CL, combined=None,
                            parameter="gX_AWW", fixed={"gX_AYY": 0.0}, progress=progress, executor="serial")


def reproduce(out_dir: str | Path = "xfit-output/fig3", executor: Any = None, progress: bool = True,
              n_masses: int = N_MASSES, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
              skip_missing: bool = False) -> dict:
    """Compute and plot Fig. 3 (and Fig. 1); return the summary (also in summary.json).

    Intermediate results go to ``out_dir/chunks/*.jsonl`` so an interrupted run resumes.
    A search whose data are missing (e.g. the Belle II files) stops the run with a
    DataError before anything is written, unless ``skip_missing``: then the figure's title
    and the summary name what is missing.
    """
    t0 = time.perf_counter()
    searches = build_searches(SEARCHES)
    if searches[1] and not skip_missing:
        name, reason = next(iter(searches[1].items()))
        raise DataError(f"Fig. 3 needs {name}: {reason}\n(or draw it without: --skip-missing)")
    out = ensure_output_dir(out_dir)
    masses = np.geomspace(*MASS_RANGE, n_masses)
    current, projections, missing = fig3_limits(masses, executor=executor, store_dir=out / "chunks",
                                                progress=progress, loop_normalisation=loop_normalisation,
                                                searches=searches)
    t_limits = time.perf_counter() - t0
    from ..plots.fig1 import plot_fig1
    from ..plots.limits import plot_limits

    labels, colours = labels_and_colours({**SEARCHES, **PROJECTIONS})
    labels["combined"] = "combined (all searches above)"
    files = plot_limits(current, out, "fig3", labels=labels, colours=colours, projections=projections,
                        title=r"gauged $\tau$ flavour ($\mathcal{A}_{XYY} = -\mathcal{A}_{XWW} = 1$), "
                              "90% CL upper limits"
                              + (f"\nmissing (no data): {', '.join(missing)}" if missing else ""),
                        direct_y=Y_DIRECT, naturalness_delta=NATURALNESS_DELTA, ylim=YLIM)
    fig1 = fig1_limits(progress=progress, loop_normalisation=loop_normalisation)
    files += plot_fig1(out, fig1, FIG1_TERMS)
    key = f"gX_{round(100 * CL)}"
    notes = [
        f"Upper limits: g_X above each curve is excluded ({100 * CL:g}% CL, Delta chi2 = "
        f"{chi2_threshold_one_sided(CL):.3f} from the minimum over g_X >= 0).",
        "L3 publishes a 95% CL limit; at 90% CL the half-Gaussian convention gives B(Z->gamma X) B_inv < 0.78e-6.",
        "Flavour-factory projections (Ref. [55] of arXiv:2603.04394) are not available as data: only FCC-ee is shown.",
        "Fig. 1: the NA62 2016-2024 recast (Ref. [48]) is not available as data: "
        "only the NA62 2016-2022 and KOTO curves.",
    ]
    notes += [f"{k}: missing, not in the figure ({reason})" for k, reason in missing.items()]
    for k, c in current.items():
        if c.failures():
            ms = sorted(c.failures())
            notes.append(f"{k}: the likelihood failed at {len(ms)} mass(es) ({ms[0]:.3g}-{ms[-1]:.3g} GeV), "
                         "no limit there (see failed_masses).")
    if "koto_kl_pi0" in current:
        notes.append("koto_kl_pi0: KOTO 2021 data (arXiv:2411.11237), a counting likelihood (0 events); its m_X "
                     "dependence is that of the 2015 curve, scaled to the published 1.6e-9 at 135 MeV "
                     "(an approximation, docs/measurements.md).")
    if "cleo_d_to_pi" in current:
        notes.append("cleo_d_to_pi uses a value not yet verified against arXiv:2002.04623 "
                     "(built with allow_unverified=True).")
    summary = {
        "figure": "Fig. 3 of arXiv:2603.04394",
        "model": MODEL, "cl": CL, "parameter": "gX", "mass_unit": "GeV",
        "loop_normalisation": loop_normalisation,
        "limits": {k: c.to_json(key) for k, c in current.items()},
        "projections": {k: c.to_json(key) for k, c in projections.items()},
        "missing_searches": missing,
        "methods": {k: sorted({m if not m.startswith("failed") else "failed" for m in c.method})
                    for k, c in {**current, **projections}.items()},
        "failed_masses": {k: c.failures() for k, c in {**current, **projections}.items() if c.failures()},
        "fig1": _fig1_summary(fig1),
        "notes": notes,
        "bibliography": [f"[{t}] {get_term(t, **SEARCHES.get(t, PROJECTIONS.get(t, ({}, '')))[0]).citation}"
                         for t in [*current, *projections] if t != "combined"],
        "timing_s": {"limits": round(t_limits, 2), "total": round(time.perf_counter() - t0, 2)},
        "inputs": inputs_block(),
    }
    write_json(out / "limits.json", {k: c.to_dict() for k, c in {**current, **projections}.items()}
               | {f"fig1:{k}": c.to_dict() for k, c in fig1.items()})
    write_json(out / "summary.json", summary)
    summary["files"] = [str(p) for p in files] + [str(out / "limits.json"), str(out / "summary.json")]
    return summary


def _fig1_summary(fig1: dict[str, CouplingLimit]) -> dict:
    return {"parameter": "gX_AWW", "model": "eft-plane (B(X->inv) = 1, gX_AYY = 0)",
            "limits": {k: c.to_json(f"gXAWW_{round(100 * CL)}") for k, c in fig1.items()}}


def reproduce_fig1(out_dir: str | Path = "xfit-output/fig1", progress: bool = True,
                   loop_normalisation: str = DEFAULT_LOOP_NORMALISATION) -> dict:
    """Compute and plot Fig. 1 only (NA62 and KOTO); write fig1.png/pdf, limits.json and
    summary.json; return the summary (``"limits"``: {term: {"mX": [...], "gXAWW_90": [...]}})."""
    from ..plots.fig1 import plot_fig1

    t0 = time.perf_counter()
    out = ensure_output_dir(out_dir)
    fig1 = fig1_limits(progress=progress, loop_normalisation=loop_normalisation)
    files = plot_fig1(out, fig1, FIG1_TERMS)
    summary = {
        "figure": "Fig. 1 of arXiv:2603.04394", "cl": CL, "mass_unit": "GeV", **_fig1_summary(fig1),
        "loop_normalisation": loop_normalisation,
        "notes": [f"Upper limits on g_X A_XWW above each curve are excluded ({100 * CL:g}% CL, Delta chi2 = "
                  f"{chi2_threshold_one_sided(CL):.3f} from the minimum).",
                  "The NA62 2016-2024 recast (Ref. [48]) is not available as data: only the NA62 2016-2022 "
                  "and KOTO curves."],
        "bibliography": [f"[{t}] {get_term(t).citation}" for t in fig1],
        "timing_s": {"total": round(time.perf_counter() - t0, 2)},
    }
    write_json(out / "limits.json", {f"fig1:{k}": c.to_dict() for k, c in fig1.items()})
    write_json(out / "summary.json", summary)
    summary["files"] = [str(p) for p in files] + [str(out / "limits.json"), str(out / "summary.json")]
    return summary
