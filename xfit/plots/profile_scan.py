"""Plots of a profile-likelihood scan (:class:`xfit.inference.scan.ScanResult`): the
Delta chi2 curve of a 1D scan or the filled 1/2/3 sigma regions of a 2D scan."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ConvergenceError, InputError
from ..inference.scan import ScanResult
from .save import save_figure
from .style import SIGMA_COLOURS, setup_style


def default_title(result: ScanResult) -> str:
    """Model, m_X, likelihood terms and profiled parameters of the scan, from its metadata."""
    m = result.metadata
    parts = [m.get("model", {}).get("name", "")]
    if m.get("mX") is not None:
        parts.append(f"$m_X = {m['mX']:g}$ GeV")
    parts.append(" + ".join(m.get("likelihood_terms", [])))
    if result.profiled:
        parts.append("profiled: " + ", ".join(result.profiled))
    return ", ".join(p for p in parts if p)


def plot_profile_scan(result: ScanResult, out_dir: str | Path, stem: str = "scan",
                      formats: Sequence[str] = ("png", "pdf"), title: str | None = None) -> list[Path]:
    """Delta chi2 curve (1D) or 1/2/3 sigma regions (2D), labelled, with a legend; written as
    ``stem.<format>`` in ``out_dir`` (returns the paths)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if result.dof not in (1, 2):
        raise InputError(f"a profile-scan plot draws 1 or 2 axes, got {result.dof}: {str(result.names)[:80]}")
    valid = np.asarray(result.valid, bool) & np.isfinite(result.delta_chi2)
    if not valid.any():
        raise ConvergenceError(f"profile scan {stem!r}: no grid point has a valid fit (0 of {valid.size}); "
                               "nothing to draw")
    setup_style()

    def lab(n):
        return result.labels.get(n, n)
    levels = result.levels()
    best = result.best()
    fig, ax = plt.subplots(figsize=(6.2, 5.0 if result.dof == 2 else 4.4))
    if result.dof == 1:
        a = result.axes[0]
        d = np.where(result.valid, result.delta_chi2, np.nan)
        ax.plot(a.values, d, color="k", lw=1.8, label=r"profile $\Delta\chi^2$")
        for s, lev in levels.items():
            ax.axhline(lev, color=SIGMA_COLOURS[s], lw=1.3, ls="--", label=f"{s:g}$\\sigma$ ({lev:.2f})")
        ax.plot([best[a.name]], [best["chi2"] - result.chi2_ref], "o", color="k", ms=5, label="best fit on grid")
        ax.set_xlabel(lab(a.name))
        ax.set_ylabel(r"$\Delta\chi^2 = \chi^2 - \chi^2_{\rm min}$")
        top = max(levels[3] * 1.6, 1.0)
        ax.set_ylim(-0.05 * top, top)
        if a.spacing == "log":
            ax.set_xscale("log")
    else:
        ax0, ax1 = result.axes
        X, Y = np.meshgrid(ax0.values, ax1.values, indexing="ij")
        d = np.where(result.valid, result.delta_chi2, np.nan)
        bounds = [0.0, *levels.values()]
        for k in (3, 2, 1):
            ax.contourf(X, Y, d, levels=[bounds[0], bounds[k]], colors=[SIGMA_COLOURS[k]])
        handles = [Patch(color=SIGMA_COLOURS[s], label=f"{s:g}$\\sigma$ ($\\Delta\\chi^2 < {lev:.2f}$)")
                   for s, lev in levels.items()]
        (pt,) = ax.plot([best[ax0.name]], [best[ax1.name]], "*", color="k", ms=10, label="best fit on grid")
        ax.legend(handles=handles + [pt], fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                  ncol=2, frameon=False)
        ax.set_xlabel(lab(ax0.name))
        ax.set_ylabel(lab(ax1.name))
        if ax0.spacing == "log":
            ax.set_xscale("log")
        if ax1.spacing == "log":
            ax.set_yscale("log")
    if result.dof == 1:
        ax.legend(fontsize=8, loc="best")
    ax.set_title(title or default_title(result), fontsize=9)
    return save_figure(fig, out_dir, stem, formats)
