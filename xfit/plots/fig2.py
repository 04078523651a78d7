"""Drawing Fig. 2 of arXiv:2603.04394 from computed chi2 values (the numbers come from
:mod:`xfit.reproduce.fig2`)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .save import save_figure
from .style import MODEL_COLOURS, SIGMA_COLOURS, SIGMA_LINESTYLES, new_figure


@dataclass(frozen=True)
class ModelLine:
    """A one-parameter model in the (g_X A_WW, g_X A_YY) plane and its best-fit g_X."""

    name: str
    A_WW: float
    A_YY: float
    gX_best: float


def draw_plane(out_dir: str | Path, X, Y, delta_chi2, delta_chi2_z, levels: Sequence[float],
               models: Sequence[ModelLine], gX_range, mX: float, loop_normalisation: str) -> list[Path]:
    """Left panel: 1/2/3 sigma regions of ``delta_chi2`` (filled), of ``delta_chi2_z``
    (Z -> gamma X alone, grey lines), the model lines over ``gX_range`` and their best fits."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, ax = new_figure((9.0, 5.4))
    bounds = [0.0, *levels]
    for s in (3, 2, 1):
        ax.contourf(X, Y, delta_chi2, levels=[0.0, bounds[s]], colors=[SIGMA_COLOURS[s]])
    for s, lev in zip((1, 2, 3), levels):
        ax.contour(X, Y, delta_chi2_z, levels=[lev], colors="grey", linestyles=SIGMA_LINESTYLES[s], linewidths=1.2)
    t = np.asarray(gX_range, dtype=float)
    for m in models:
        colour = MODEL_COLOURS[m.name]
        ax.plot(t * m.A_WW, t * m.A_YY, color=colour, lw=1.6,
                label=f"{m.name} ($\\mathcal{{A}}_{{WW}}={m.A_WW:g}$, $\\mathcal{{A}}_{{YY}}={m.A_YY:g}$)")
        ax.plot([m.gX_best * m.A_WW], [m.gX_best * m.A_YY], "o", color=colour, ms=7, mec="k")
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=SIGMA_COLOURS[s], label=f"{s}$\\sigma$ B$\\to$K$^{{(*)}}$X + Z$\\to\\gamma$X")
                for s in (1, 2, 3)]
    handles += [Line2D([], [], color="grey", ls=SIGMA_LINESTYLES[s], label=f"{s}$\\sigma$ Z$\\to\\gamma$X alone")
                for s in (1, 2, 3)]
    # outside the axes, so that it covers no contour
    ax.legend(handles=handles, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    ax.set_xlim(X[0, 0], X[0, -1])
    ax.set_ylim(Y[0, 0], Y[-1, 0])
    ax.axhline(0, color="k", lw=0.4)
    ax.axvline(0, color="k", lw=0.4)
    ax.set_xlabel(r"$g_X\,\mathcal{A}^{\rm SM}_{XWW}$ (dimensionless)")
    ax.set_ylabel(r"$g_X\,\mathcal{A}^{\rm SM}_{XYY}$ (dimensionless)")
    ax.set_title(rf"$m_X = {mX}$ GeV: $\Delta\chi^2$ regions (2 parameters), W loop: {loop_normalisation}",
                 fontsize=10)
    return save_figure(fig, out_dir, "fig2_left")


def draw_improvement(out_dir: str | Path, g, full, b_to_s_only, belle2_sigma: float, mX: float,
                     loop_normalisation: str) -> list[Path]:
    """Right panel: chi2(SM) - chi2(g_X) of the tau-flavour model, with (``full``) and
    without (``b_to_s_only``) Z -> gamma X; 1/2/3 sigma lines and the Belle II excess."""
    colour = MODEL_COLOURS["tau-flavor"]
    g_max = float(g[-1])
    fig, ax = new_figure((6.0, 4.4))
    ax.plot(g, full, color=colour, lw=2, label=r"B$\to$K$^{(*)}$X + Z$\to\gamma$X")
    ax.plot(g, b_to_s_only, color=colour, lw=2, ls="--", label=r"B$\to$K$^{(*)}$X only")
    for s in (1, 2, 3):
        ax.axhline(s**2, color="grey", ls="--", lw=1)
        ax.text(g_max * 0.99, s**2 + 0.2, f"{s}$\\sigma$", color="grey", ha="right", va="bottom")
    ax.axhline(belle2_sigma**2, color="tab:red", ls="--", lw=1,
               label=rf"Belle II as $\nu\bar\nu$ excess ({belle2_sigma}$\sigma$)")
    ax.set_xlim(0, g_max)
    ax.set_ylim(bottom=-5)
    ax.set_xlabel(r"$g_X$ (dimensionless)")
    ax.set_ylabel(r"$\chi^2_{\rm SM} - \chi^2(g_X)$")
    ax.set_title(rf"$\tau$-flavour model, $m_X = {mX}$ GeV, W loop: {loop_normalisation}", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, out_dir, "fig2_right")
