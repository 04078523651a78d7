"""Limit plots (xfit.plots.limits) and Fig. 1 (xfit.plots.fig1) from made-up limit curves."""
import numpy as np
import pytest

from xfit.inference.limits import CouplingLimit
from xfit.plots.fig1 import plot_fig1
from xfit.plots.limits import draw_limit, plot_limits


def curve(name, limit, m=None):
    m = np.geomspace(1e-3, 2.0, len(limit)) if m is None else m
    n = len(m)
    return CouplingLimit(name, "gX", 0.9, m, np.asarray(limit, float), ["root"] * n, np.zeros(n), np.zeros(n))


def test_draw_limit_labels_a_curve_without_limit_and_fills_above():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    draw_limit(ax, curve("a", [np.nan, np.nan]), "tab:red", "A", 10.0)
    draw_limit(ax, curve("b", [1e-2, 2e-2]), "tab:blue", "B", 10.0)
    assert [t.get_label() for t in ax.get_lines()] == ["A (no limit)", "B"]
    assert len(ax.collections) == 1  # one fill: B's excluded region
    plt.close(fig)


def test_plot_limits_with_projections_and_other_formats(tmp_path):
    curves = {"na62_k_pi": curve("na62_k_pi", [1e-3, 2e-3, 4e-3]), "combined": curve("combined", [1e-3, 2e-3, 3e-3])}
    paths = plot_limits(curves, tmp_path, "lim", projections={"fcc_ee_z_gamma": curve("p", [5e-4, 6e-4, 7e-4])},
                        direct_y=(1.0,), naturalness_delta=(100.0,), labels={"combined": "all"})
    assert [p.name for p in paths] == ["lim.png", "lim.pdf"] and all(p.stat().st_size > 1000 for p in paths)
    assert [p.name for p in plot_limits(curves, tmp_path, "lim", formats=("SVG",))] == ["lim.svg"]


def test_fig1_one_panel_per_curve_with_its_label(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    seen = []
    monkeypatch.setattr(plt.Figure, "savefig", lambda self, p, **kw: seen.append(
        [a.get_title() for a in self.axes]) or open(p, "wb").close())
    m = np.linspace(1e-3, 0.26, 5)
    paths = plot_fig1(tmp_path, {"na62_k_pi": curve("n", [1e-5] * 5, m), "koto_kl_pi0": curve("k", [np.nan] * 5, m)},
                      {"na62_k_pi": "NA62 here", "koto_kl_pi0": "KOTO here"})
    assert [p.name for p in paths] == ["fig1.png", "fig1.pdf"]
    assert len(seen[0]) == 2 and seen[0][0].startswith("NA62 here") and seen[0][1].startswith("KOTO here")


def test_nothing_to_draw_is_a_clear_message_not_a_traceback(tmp_path):
    from xfit.errors import InputError

    for curves in ({}, {"na62_k_pi": curve("n", [], np.empty(0))}):
        with pytest.raises(InputError, match="limit plot 'lim': no curve with a mass to draw"):
            plot_limits(curves, tmp_path, "lim")
    with pytest.raises(InputError, match="Fig. 1: no limit curve"):
        plot_fig1(tmp_path, {}, {})
    assert not list(tmp_path.iterdir())


def test_limit_plot_of_one_mass_shows_it_and_labels_the_curves_cl(tmp_path, monkeypatch):
    import warnings

    import matplotlib.pyplot as plt

    seen = []
    monkeypatch.setattr(plt.Figure, "savefig", lambda self, p, **kw: seen.append(self.axes[0]) or open(p, "wb").close())
    one = {"na62_k_pi": CouplingLimit("n", "gX", 0.95, np.array([0.1]), np.array([1e-3]), ["root"], np.zeros(1),
                                      np.zeros(1))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "identical low and high xlims"
        plot_limits(one, tmp_path, "lim", formats=("png",))
    ax = seen[0]
    assert ax.get_xlim() == pytest.approx((0.0995, 0.1005), rel=1e-12)
    assert ax.get_lines()[0].get_marker() == "o"  # a one-point line without a marker draws nothing
    assert ax.get_ylabel() == r"$g_X$ (95% CL upper limit, dimensionless)"  # the curve's CL, not 90 %
