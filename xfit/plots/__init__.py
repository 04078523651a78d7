"""Plotting in one place: the house style and colours, saving figures, and the figures
that are not owned by one analysis (corner plots of chains, Fig. 2 of arXiv:2603.04394).

No module here selects a matplotlib backend: scripts and the CLI get matplotlib's default
(Agg when there is no display), tests set ``MPLBACKEND=Agg``.  matplotlib itself is
imported when a figure is drawn, not when :mod:`xfit.plots` is imported.
"""
from .save import save_figure
from .style import MODEL_COLOURS, SEARCH_COLOURS, SIGMA_COLOURS, SIGMA_LINESTYLES, setup_style

__all__ = ["MODEL_COLOURS", "SEARCH_COLOURS", "SIGMA_COLOURS", "SIGMA_LINESTYLES", "save_figure", "setup_style"]
