"""Fig. 2 of arXiv:2603.04394: B -> K(*) X and Z -> gamma X at m_X = 2.1 GeV.

Left: Delta chi2 regions (1/2/3 sigma for two parameters) in the plane
(g_X A_XWW, g_X A_XYY) from b_to_s_emiss + l3_z_gamma; grey contours from Z -> gamma X
alone; the L-only, L=-4R and tau-vector model lines with their best-fit points.
Right: improvement over the SM, chi2(SM) - chi2(g_X), versus g_X for the tau-flavour model,
with and without Z -> gamma X; 1/2/3 sigma lines for one parameter.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..inference.fit import Fit, delta_chi2_for_sigma
from ..inference.results import to_jsonable
from ..likelihood import build_likelihood
from ..models import EFTPlane, get_model
from ..physics.constants import DEFAULT_LOOP_NORMALISATION, LOOP_NORMALISATIONS
from ..plots import setup_style
from ..plots.fig2 import ModelLine, draw_improvement, draw_plane
from . import ensure_output_dir

MX = 2.1
MODELS = ("tau-flavor", "L-only", "L=-4R")
TERMS_FULL = ("b_to_s_emiss", "l3_z_gamma")
SUMMARY_KEYS = ("BR(Z->gammaX)", "BR(B+->K*+X)")
#: Significance of the Belle II excess read as SM-like neutrinos (2.7 sigma, Sec. 3.2.5).
BELLE2_NUNU_SIGMA = 2.7


#: Half-width of the g_X A_WW axis (and of the g_X axis of the right panel) for the paper's
#: Eq. (3.6); the b -> s solution moves as 1/(loop factor), so other normalisations scale it.
X_HALF_WIDTH_PAPER = 0.03


def x_half_width(loop_normalisation: str = DEFAULT_LOOP_NORMALISATION) -> float:
    """Half-width of the g_X A_WW axis that frames the b -> s solution for this normalisation."""
    return X_HALF_WIDTH_PAPER / LOOP_NORMALISATIONS[loop_normalisation]


def plane_grid(n: int = 200, x_range=(-0.03, 0.03), y_range=(-0.12, 0.12)):
    """The (g_X A_WW, g_X A_YY) grid of the left panel."""
    x = np.linspace(*x_range, n)
    y = np.linspace(*y_range, n)
    return x, y, *np.meshgrid(x, y, indexing="xy")


def plane_predictions(X, Y, mX: float = MX, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
                      goldstone: bool = False) -> dict[str, np.ndarray]:
    """The predictions on the grid, vectorised (one call for all points)."""
    plane = EFTPlane(loop_normalisation=loop_normalisation, goldstone=goldstone)
    return plane.predict(mX, gX_AWW=X, gX_AYY=Y)


def plane_chi2(likelihood, X, Y, mX: float = MX, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
               goldstone: bool = False) -> np.ndarray:
    """chi2 on the grid, vectorised (one call for all points)."""
    return likelihood.chi2(plane_predictions(X, Y, mX, loop_normalisation, goldstone))


def fit_models(models=MODELS, terms=TERMS_FULL, mX: float = MX, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
               goldstone: bool = False):
    likelihood = build_likelihood(terms)
    results = {}
    for name in models:
        model = get_model(name, loop_normalisation=loop_normalisation, goldstone=goldstone)
        # start near the g_S solution so MIGRAD does not sit at the SM point (0.016 for "paper";
        # the solution scales as 1/loop factor)
        start = 0.016 / (model.sm.loop_factor * max(abs(model.A_WW), 1e-12))
        results[name] = Fit(model, likelihood, mX, start={"gX": start}).run()
    return results


def plane_minimum(terms=TERMS_FULL, mX: float = MX, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION):
    """Global minimum of the (g_X A_WW, g_X A_YY) plane with the same terms: the better of two
    fits of :class:`EFTPlane` started at g_X A_WW = +-s, s = 0.016 / loop factor (the two b -> s
    solutions, g_S = +-|g_S|), g_X A_YY = 0."""
    likelihood = build_likelihood(terms)
    plane = EFTPlane(loop_normalisation=loop_normalisation)
    s = 0.016 / plane.sm.loop_factor
    fits = [Fit(plane, likelihood, mX, start={"gX_AWW": x0, "gX_AYY": 0.0}).run() for x0 in (s, -s)]
    return min(fits, key=lambda r: r.chi2_min)


def summary(results, plane=None) -> dict:
    """Per model: best fit, chi2 and, with ``plane`` (:func:`plane_minimum`), ``delta_chi2_plane``:
    chi2 of the model's best fit minus the plane's global minimum (same m_X, same terms)."""
    out = {}
    for name, r in results.items():
        out[name] = {"gX": r.values["gX"], "gX_err": r.errors["gX"], "chi2_min": r.chi2_min,
                     "chi2_sm": r.chi2_sm, "delta_chi2_sm": r.delta_chi2_sm,
                     "significance_sigma": r.significance,
                     **{k: r.predictions[k] for k in SUMMARY_KEYS}}
        if plane is not None:
            out[name]["delta_chi2_plane"] = r.chi2_min - plane.chi2_min
    return out


def plot_left(out_dir, results, n: int = 200, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
              goldstone: bool = False):
    """The left panel (:func:`xfit.plots.fig2.draw_plane`) from the fits of :func:`fit_models`."""
    full = build_likelihood(TERMS_FULL)
    z_only = build_likelihood(["l3_z_gamma"])
    w = x_half_width(loop_normalisation)
    _, _, X, Y = plane_grid(n, x_range=(-w, w))
    predictions = plane_predictions(X, Y, loop_normalisation=loop_normalisation, goldstone=goldstone)
    chi2, dz = full.chi2(predictions), z_only.chi2(predictions)
    levels = [delta_chi2_for_sigma(s, 2) for s in (1, 2, 3)]
    models = {name: get_model(name) for name in results}
    lines = [ModelLine(name, m.A_WW, m.A_YY, results[name].values["gX"]) for name, m in models.items()]
    gX_range = np.linspace(-0.2, 0.2, 400) / LOOP_NORMALISATIONS[loop_normalisation]
    return draw_plane(out_dir, X, Y, chi2 - chi2.min(), dz - dz.min(), levels, lines, gX_range, MX,
                      loop_normalisation)


def improvement_curves(term_sets, g, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
                       goldstone: bool = False) -> list[np.ndarray]:
    """chi2(SM) - chi2(g_X) of the tau-flavour model on ``g`` for each set of terms in
    ``term_sets`` (the predictions computed once)."""
    model = get_model("tau-flavor", loop_normalisation=loop_normalisation, goldstone=goldstone)
    at_g, at_sm = model.predict(MX, gX=g), model.predict(MX, gX=0.0)
    curves = []
    for terms in term_sets:
        lik = build_likelihood(terms)
        curves.append(lik.chi2(at_sm) - lik.chi2(at_g))
    return curves


def improvement_curve(terms, g, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION, goldstone: bool = False):
    """chi2(SM) - chi2(g_X) of the tau-flavour model on ``g`` with ``terms``."""
    return improvement_curves([terms], g, loop_normalisation, goldstone)[0]


def plot_right(out_dir, g_max: float | None = None, n: int = 400,
               loop_normalisation: str = DEFAULT_LOOP_NORMALISATION, goldstone: bool = False):
    """The right panel (:func:`xfit.plots.fig2.draw_improvement`) on g_X in [0, ``g_max``]."""
    g_max = x_half_width(loop_normalisation) if g_max is None else g_max
    g = np.linspace(0.0, g_max, n)
    full, b_to_s_only = improvement_curves([TERMS_FULL, ("b_to_s_emiss",)], g, loop_normalisation, goldstone)
    return draw_improvement(out_dir, g, full, b_to_s_only, BELLE2_NUNU_SIGMA, MX, loop_normalisation)


def reproduce(out_dir: str | Path = "xfit-output/fig2", n_grid: int = 200,
              loop_normalisation: str = DEFAULT_LOOP_NORMALISATION, goldstone: bool = False) -> dict:
    """Run the fits, write fig2_left/right (PNG, PDF) and summary.json; return the summary.

    ``loop_normalisation``: "derived" (default, the one-loop W exchange from Eq. 3.4) or
    "paper" (Eq. 3.6 as printed).  ``goldstone``: meson rates of Eqs. (3.9)/(3.10) instead of
    the massive-vector rates; ``loop_normalisation="paper", goldstone=True`` are the paper's
    conventions."""
    setup_style()
    out = ensure_output_dir(out_dir)
    results = fit_models(loop_normalisation=loop_normalisation, goldstone=goldstone)
    plane = plane_minimum(loop_normalisation=loop_normalisation)
    files = (plot_left(out, results, n=n_grid, loop_normalisation=loop_normalisation, goldstone=goldstone)
             + plot_right(out, loop_normalisation=loop_normalisation, goldstone=goldstone))
    summ = {"mX": MX, "terms": list(TERMS_FULL), "loop_normalisation": loop_normalisation, "goldstone": goldstone,
            "models": summary(results, plane),
            "plane_minimum": {"gX_AWW": plane.values["gX_AWW"], "gX_AYY": plane.values["gX_AYY"],
                              "chi2_min": plane.chi2_min},
            "bibliography": build_likelihood(TERMS_FULL).bibliography().splitlines()}
    (out / "summary.json").write_text(json.dumps(to_jsonable(summ), indent=2))
    summ["files"] = [str(p) for p in files] + [str(out / "summary.json")]
    return summ
