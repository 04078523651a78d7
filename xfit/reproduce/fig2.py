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

from ..cli.common import to_jsonable
from ..inference.fit import Fit, delta_chi2_for_sigma
from ..likelihood import build_likelihood
from ..models import EFTPlane, get_model
from ..physics.constants import DEFAULT_LOOP_NORMALISATION, LOOP_NORMALISATIONS
from . import ensure_output_dir
from ..plots import MODEL_COLOURS, SIGMA_COLOURS, SIGMA_LINESTYLES, save_figure, setup_style

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


def plane_chi2(likelihood, X, Y, mX: float = MX, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
               goldstone: bool = False) -> np.ndarray:
    """chi2 on the grid, vectorised (one call for all points)."""
    plane = EFTPlane(loop_normalisation=loop_normalisation, goldstone=goldstone)
    return likelihood.chi2(plane.predict(mX, gX_AWW=X, gX_AYY=Y))


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


def summary(results) -> dict:
    out = {}
    for name, r in results.items():
        out[name] = {"gX": r.values["gX"], "gX_err": r.errors["gX"], "chi2_min": r.chi2_min,
                     "chi2_sm": r.chi2_sm, "delta_chi2_sm": r.delta_chi2_sm,
                     "significance_sigma": r.significance,
                     **{k: r.predictions[k] for k in SUMMARY_KEYS}}
    return out


def plot_left(out_dir, results, n: int = 200, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION,
              goldstone: bool = False):
    import matplotlib.pyplot as plt

    full = build_likelihood(TERMS_FULL)
    z_only = build_likelihood(["l3_z_gamma"])
    w = x_half_width(loop_normalisation)
    x, y, X, Y = plane_grid(n, x_range=(-w, w))
    chi2 = plane_chi2(full, X, Y, loop_normalisation=loop_normalisation, goldstone=goldstone)
    dchi2 = chi2 - chi2.min()
    dz = plane_chi2(z_only, X, Y, loop_normalisation=loop_normalisation, goldstone=goldstone)
    dz = dz - dz.min()
    levels = [delta_chi2_for_sigma(s, 2) for s in (1, 2, 3)]
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    bounds = [0.0, *levels]
    for s in (3, 2, 1):
        ax.contourf(X, Y, dchi2, levels=[0.0, bounds[s]], colors=[SIGMA_COLOURS[s]])
    for s, lev in zip((1, 2, 3), levels):
        ax.contour(X, Y, dz, levels=[lev], colors="grey", linestyles=SIGMA_LINESTYLES[s], linewidths=1.2)
    for name, r in results.items():
        m = get_model(name)
        t = np.linspace(-0.2, 0.2, 400) / LOOP_NORMALISATIONS[loop_normalisation]
        ax.plot(t * m.A_WW, t * m.A_YY, color=MODEL_COLOURS[name], lw=1.6,
                label=f"{name} ($\\mathcal{{A}}_{{WW}}={m.A_WW:g}$, $\\mathcal{{A}}_{{YY}}={m.A_YY:g}$)")
        g = r.values["gX"]
        ax.plot([g * m.A_WW], [g * m.A_YY], "o", color=MODEL_COLOURS[name], ms=7, mec="k")
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D
    handles, labels = ax.get_legend_handles_labels()
    handles += [Patch(color=SIGMA_COLOURS[s], label=f"{s}$\\sigma$ B$\\to$K$^{{(*)}}$X + Z$\\to\\gamma$X") for s in (1, 2, 3)]
    handles += [Line2D([], [], color="grey", ls=SIGMA_LINESTYLES[s], label=f"{s}$\\sigma$ Z$\\to\\gamma$X alone") for s in (1, 2, 3)]
    ax.legend(handles=handles, fontsize=7.5, loc="upper left", ncol=1)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.axhline(0, color="k", lw=0.4)
    ax.axvline(0, color="k", lw=0.4)
    ax.set_xlabel(r"$g_X\,\mathcal{A}^{\rm SM}_{XWW}$ (dimensionless)")
    ax.set_ylabel(r"$g_X\,\mathcal{A}^{\rm SM}_{XYY}$ (dimensionless)")
    ax.set_title(rf"$m_X = {MX}$ GeV: $\Delta\chi^2$ regions (2 parameters), W loop: {loop_normalisation}",
                 fontsize=10)
    return save_figure(fig, out_dir, "fig2_left")


def improvement_curve(terms, g, loop_normalisation: str = DEFAULT_LOOP_NORMALISATION, goldstone: bool = False):
    model = get_model("tau-flavor", loop_normalisation=loop_normalisation, goldstone=goldstone)
    lik = build_likelihood(terms)
    chi2 = lik.chi2(model.predict(MX, gX=g))
    chi2_sm = lik.chi2(model.predict(MX, gX=0.0))
    return chi2_sm - chi2


def plot_right(out_dir, g_max: float | None = None, n: int = 400,
               loop_normalisation: str = DEFAULT_LOOP_NORMALISATION, goldstone: bool = False):
    import matplotlib.pyplot as plt

    g_max = x_half_width(loop_normalisation) if g_max is None else g_max
    g = np.linspace(0.0, g_max, n)
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    ax.plot(g, improvement_curve(TERMS_FULL, g, loop_normalisation, goldstone), color=MODEL_COLOURS["tau-flavor"], lw=2,
            label=r"B$\to$K$^{(*)}$X + Z$\to\gamma$X")
    ax.plot(g, improvement_curve(("b_to_s_emiss",), g, loop_normalisation, goldstone),
            color=MODEL_COLOURS["tau-flavor"], lw=2, ls="--",
            label=r"B$\to$K$^{(*)}$X only")
    for s in (1, 2, 3):
        ax.axhline(s**2, color="grey", ls="--", lw=1)
        ax.text(g_max * 0.99, s**2 + 0.2, f"{s}$\\sigma$", color="grey", ha="right", va="bottom")
    ax.axhline(BELLE2_NUNU_SIGMA**2, color="tab:red", ls="--", lw=1,
               label=rf"Belle II as $\nu\bar\nu$ excess ({BELLE2_NUNU_SIGMA}$\sigma$)")
    ax.set_xlim(0, g_max)
    ax.set_ylim(bottom=-5)
    ax.set_xlabel(r"$g_X$ (dimensionless)")
    ax.set_ylabel(r"$\chi^2_{\rm SM} - \chi^2(g_X)$")
    ax.set_title(rf"$\tau$-flavour model, $m_X = {MX}$ GeV, W loop: {loop_normalisation}", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, out_dir, "fig2_right")


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
    files = (plot_left(out, results, n=n_grid, loop_normalisation=loop_normalisation, goldstone=goldstone)
             + plot_right(out, loop_normalisation=loop_normalisation, goldstone=goldstone))
    summ = {"mX": MX, "terms": list(TERMS_FULL), "loop_normalisation": loop_normalisation, "goldstone": goldstone,
            "models": summary(results),
            "bibliography": build_likelihood(TERMS_FULL).bibliography().splitlines()}
    (out / "summary.json").write_text(json.dumps(to_jsonable(summ), indent=2))
    summ["files"] = [str(p) for p in files] + [str(out / "summary.json")]
    return summ
