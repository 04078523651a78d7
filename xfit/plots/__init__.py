"""Plotting in one place: the house style and colours (:mod:`.style`), saving figures
(:mod:`.save`), and every figure of xfit, one module a kind:

* :mod:`.profile_scan` -- profile-likelihood scans (Delta chi2 curve, 1/2/3 sigma regions);
* :mod:`.limits` -- limits on a coupling versus m_X, search by search (Fig. 3 and ``limits`` analyses);
* :mod:`.fig1`, :mod:`.fig2` -- Figs. 1 and 2 of arXiv:2603.04394;
* :mod:`.corner` -- corner plots of samples and of MCMC chains;
* :mod:`.belle2_scan`, :mod:`.belle2_posterior` -- the Belle II B+ -> K+ X scan and posterior;
* :mod:`.fit_diagnostics` -- the first checks of a HistFactory fit (yields, pulls, impacts,
  correlations).

Nothing below the figures in the layering (physics, models, likelihood terms, inference,
xfit.belle2) imports this package or matplotlib: they return results, and the figures, the
analysis runner and the CLI draw them with the functions here.

No module here selects a matplotlib backend: scripts and the CLI get matplotlib's default
(Agg when there is no display), tests set ``MPLBACKEND=Agg``.  matplotlib itself is
imported when a figure is drawn, not when :mod:`xfit.plots` is imported.
"""
from .save import save_figure
from .style import MODEL_COLOURS, SEARCH_COLOURS, SIGMA_COLOURS, SIGMA_LINESTYLES, setup_style

__all__ = ["MODEL_COLOURS", "SEARCH_COLOURS", "SIGMA_COLOURS", "SIGMA_LINESTYLES", "save_figure", "setup_style"]
