"""The house style: colours of sigma regions, models and searches; matplotlib settings."""
from __future__ import annotations

#: Fill colours of the 1, 2, 3 sigma regions (green, yellow, orange as in Fig. 2 of
#: arXiv:2603.04394 and Fig. 1 of the chiral-tau paper).
SIGMA_COLOURS = {1: "#4daf4a", 2: "#ffdd33", 3: "#ff9933"}
#: Line styles of 1, 2, 3 sigma contours drawn as lines (solid, dashed, dot-dashed).
SIGMA_LINESTYLES = {1: "-", 2: "--", 3: "-."}
#: Colours of the benchmark models.
MODEL_COLOURS = {"L-only": "tab:red", "L=-4R": "tab:blue", "tau-flavor": "tab:purple",
                 "baryon": "tab:brown", "electron": "tab:olive", "muon": "tab:cyan"}
#: Colours of the searches in limit plots (Fig. 3 of arXiv:2603.04394).
SEARCH_COLOURS = {"l3_z_gamma": "hotpink", "fcc_ee_z_gamma": "hotpink", "na62_k_pi": "tab:red",
                  "koto_kl_pi0": "tab:blue", "e949_k_pi": "firebrick", "cleo_d_to_pi": "tab:orange",
                  "belle_b_to_pi_rho": "tab:purple", "belle2_knunu": "tab:green",
                  "babar_b_to_k": "darkgreen", "combined": "black"}
#: matplotlib settings of every xfit figure.
RC_PARAMS = {"figure.dpi": 110, "savefig.dpi": 150, "font.size": 11, "axes.grid": False, "legend.frameon": False}


def setup_style() -> None:
    """Apply :data:`RC_PARAMS` to matplotlib (its global settings; pyplot is not imported)."""
    import matplotlib as mpl

    mpl.rcParams.update(RC_PARAMS)


def new_figure(figsize: tuple[float, float]):
    """``(figure, axes)`` of one panel of size ``figsize`` (inches), made without pyplot: no
    backend is chosen (no GUI toolkit imported where there is a display) and pyplot does not
    keep the figure; :func:`xfit.plots.save_figure` writes it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()
