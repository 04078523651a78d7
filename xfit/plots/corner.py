"""Corner plots of posterior samples (``corner``), with LaTeX parameter labels: of any samples
(:func:`corner_plot`) or of an MCMC chain (:func:`chain_corner_plot`)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from .save import save_figure
from .style import setup_style


def corner_plot(samples: np.ndarray, labels: Sequence[str], out_dir: str | Path | None = None,
                stem: str = "corner", title: str | None = None, truths=None):
    """Corner plot of ``samples`` (n, ndim) with 16/50/84 % quantiles marked; written as
    PNG + PDF when ``out_dir`` is given (returns the paths), else the figure is returned."""
    import corner
    import matplotlib.pyplot as plt

    setup_style()
    ndim = samples.shape[1]
    fig = plt.subplots(figsize=(4.8, 3.8))[0] if ndim == 1 else None  # corner's 1D default is tiny
    fig = corner.corner(samples, labels=list(labels), fig=fig, quantiles=[0.16, 0.5, 0.84], show_titles=True,
                        title_fmt=".3g", truths=truths, bins=40, smooth1d=None, label_kwargs={"fontsize": 13})
    if title:
        fig.suptitle(title, fontsize=10, y=1.02 if ndim > 1 else 1.06)
    if out_dir is None:
        return fig
    return save_figure(fig, out_dir, stem)


def chain_corner_plot(chain, out_dir: str | Path | None = None, stem: str = "corner", discard: int | None = None,
                      title: str | None = None, truths=None, parameters: Sequence[str] | None = None):
    """Corner plot of a :class:`xfit.inference.mcmc.Chain` with the parameters' LaTeX labels,
    16/50/84 % quantiles marked; written as PNG + PDF when ``out_dir`` is given (returns the
    paths), else the figure is returned.  ``parameters``: the columns to draw (default: all)."""
    names = list(chain.parameters if parameters is None else parameters)
    unknown = [p for p in names if p not in chain.parameters]
    if unknown:
        raise InputError(f"corner plot of unknown parameter(s) {unknown}; "
                         f"the chain has {', '.join(chain.parameters)}")
    cols = [chain.parameters.index(p) for p in names]
    return corner_plot(chain.samples(discard)[:, cols], [chain.labels[p] for p in names], out_dir, stem,
                       title=title, truths=truths)
