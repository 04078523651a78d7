"""Figures of the Belle II B+ -> K+ X posterior (:func:`xfit.belle2.posterior.run_posterior`):

* ``corner``: the emcee samples in (m_X, B x P_inv[, mu_SM]), 16/50/84 % quantiles marked;
* ``posterior_2d``: the posterior mass per cell of the prior's unit square in (m_X, B x P_inv)
  with the 68 % and 95 % HPD contours.

PNG and PDF each (:func:`xfit.plots.save_figure`); the numbers are in the run's
``samples.csv`` and ``posterior_2d.csv``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..belle2.posterior import PosteriorResult
from .save import save_figure

#: Axis labels of the sampled parameters.
LABELS = {"mX": r"$m_X$ [GeV]", "BR": r"$\mathcal{B}(B^+\to K^+X)\,P_{\rm inv}$", "mu": r"$\mu_{\rm SM}$"}


def plot_posterior(res: PosteriorResult, out_dir: str | Path) -> list[Path]:
    """``corner`` and ``posterior_2d`` (PNG + PDF) of ``res`` in ``out_dir``; the B axis is
    logarithmic for the log-uniform prior of the run, else linear up to twice the top of the
    95 % HPD region.  Returns the paths."""
    import corner
    import matplotlib.pyplot as plt

    paths = []
    fig = corner.corner(res.samples, labels=[LABELS[n] for n in res.names], quantiles=[0.16, 0.5, 0.84],
                        show_titles=True, title_fmt=".3g", title_kwargs={"fontsize": 8})
    paths += save_figure(fig, out_dir, "corner")
    mesh = res.mesh
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.pcolormesh(mesh.mX, mesh.BR, mesh.mass.T, shading="nearest", cmap="Blues", rasterized=True)
    ax.contour(mesh.mX, mesh.BR, mesh.mass.T, levels=sorted([mesh.levels["95"], mesh.levels["68"]]),
               colors=["k", "k"], linestyles=["--", "-"])
    ax.plot([], [], "k-", label="68 % HPD")
    ax.plot([], [], "k--", label="95 % HPD")
    ax.legend(loc="upper right", fontsize=8)
    if res.summary["settings"]["prior_BR"] == "log-uniform":
        ax.set_yscale("log")
    else:  # the B prior reaches far beyond the posterior: show up to 2 x the top of the 95 % HPD region
        top = mesh.BR[np.flatnonzero((mesh.mass >= mesh.levels["95"]).any(axis=0)).max()]
        ax.set_ylim(0.0, min(2.0 * top, mesh.BR[-1]))
    ax.set_xlabel(r"$m_X$ [GeV]")
    ax.set_ylabel(r"$\mathcal{B}(B^+\to K^+X)\times P_{\rm inv}$")
    ax.set_title("Belle II $B^+\\to K^+\\nu\\bar\\nu$ data: posterior of $B^+\\to K^+X$ (nuisances marginalised)",
                 fontsize=9)
    paths += save_figure(fig, out_dir, "posterior_2d")
    return paths
