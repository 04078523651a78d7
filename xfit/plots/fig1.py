"""Fig. 1 of arXiv:2603.04394: 90 % CL upper limits on g_X A_XWW versus m_X, one panel per
kaon search (NA62, KOTO), from :func:`xfit.reproduce.fig3.fig1_limits`."""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..inference.limits import CouplingLimit
from .save import save_figure, tight_layout
from .style import setup_style


def plot_fig1(out_dir: str | Path, curves: Mapping[str, CouplingLimit], labels: Mapping[str, str]) -> list[Path]:
    """One panel per curve (m_X in MeV on a linear axis, the limit on a log axis, the excluded
    region above it shaded), ``labels[name]`` in its legend and title; writes ``fig1.png``
    and ``fig1.pdf`` in ``out_dir`` and returns the paths."""
    import matplotlib.pyplot as plt

    if not curves:
        raise InputError("Fig. 1: no limit curve to draw; it needs a curve of at least one kaon search (NA62, KOTO)")
    setup_style()
    fig, axes = plt.subplots(1, len(curves), figsize=(5.2 * len(curves), 4.2), squeeze=False)
    for ax, (name, c) in zip(axes[0], curves.items()):
        ok = np.isfinite(c.limit)
        ax.plot(c.mX * 1e3, np.where(ok, c.limit, np.nan), color="tab:blue", lw=2, label=labels[name])
        if ok.any():
            ax.fill_between(c.mX * 1e3, np.where(ok, c.limit, 1.0), 1.0, where=ok, color="tab:blue", alpha=0.15, lw=0)
            lo = np.nanmin(c.limit[ok])
            ax.set_ylim(10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(np.nanmax(c.limit[ok])) + 0.3))
        ax.set_yscale("log")
        ax.set_xlim(0, c.mX.max() * 1e3)
        ax.set_xlabel(r"$m_X$ [MeV]")
        ax.set_ylabel(r"$|g_X\,\mathcal{A}^{\rm SM}_{XWW}|$ (90% CL upper limit)")
        ax.set_title(f"{labels[name]}, 90% CL, " + r"$\mathcal{B}(X\to{\rm inv}) = 1$", fontsize=9)
        ax.legend(fontsize=8, loc="upper left")
    tight_layout(fig)
    return save_figure(fig, out_dir, "fig1")
