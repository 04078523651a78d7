"""Figures of the first checks (xfit.plots.fit_diagnostics) and ``xfit belle2 plots``.

A small workspace written here for the content checks; the Belle II workspace
($XFIT_DATA_DIR, fails without it) through the command.
"""
import argparse
import csv
import json

import numpy as np
import pytest

from xfit.cli import belle2_diagnostics
from xfit.errors import InputError
from xfit.histfactory import HistFactoryModel, minimize
from xfit.inference import diagnostics as D
from xfit.plots import fit_diagnostics as P

SPEC = {
    "version": "1.0.0",
    "channels": [
        {"name": "signal_region", "samples": [
            {"name": "sig", "data": [3.0, 8.0, 4.0], "modifiers": [
                {"name": "mu", "type": "normfactor", "data": None}]},
            {"name": "bkg", "data": [25.0, 20.0, 10.0], "modifiers": [
                {"name": "bnorm", "type": "normsys", "data": {"hi": 1.2, "lo": 0.85}},
                {"name": "stat", "type": "staterror", "data": [1.5, 1.2, 1.0]}]}]},
        {"name": "control", "samples": [
            {"name": "bkg", "data": [50.0, 40.0], "modifiers": [
                {"name": "bnorm", "type": "normsys", "data": {"hi": 1.2, "lo": 0.85}},
                {"name": "cr", "type": "shapesys", "data": [5.0, 4.0]}]}]},
    ],
    "observations": [{"name": "signal_region", "data": [33.0, 31.0, 12.0]}, {"name": "control", "data": [58.0, 37.0]}],
    "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
}


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    model = HistFactoryModel(json.loads(json.dumps(SPEC)))
    fit = minimize(model)
    out = tmp_path_factory.mktemp("plots")
    paths = P.draw_all(model, fit, out, n_impacts=3, n_correlations=4)
    return model, fit, out, paths


def read_csv(path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_every_figure_as_png_pdf_and_csv(drawn):
    _, _, out, paths = drawn
    stems = ["yields_prefit", "yields_postfit", "pulls", "pulls_gammas", "impacts", "correlations"]
    for stem in stems:
        for ext in ("png", "pdf", "csv"):
            p = out / f"{stem}.{ext}"
            assert p in paths and p.stat().st_size > 100, p
    assert (out / "yields_postfit.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "impacts.pdf").read_bytes()[:4] == b"%PDF"


def test_yield_numbers(drawn):
    model, fit, out, _ = drawn
    for stem, theta in (("yields_prefit", model.init), ("yields_postfit", fit.x)):
        header, rows = read_csv(out / f"{stem}.csv")
        assert header[:2] == ["channel", "bin"] and header[-4:] == ["total_expected", "data", "data_lo68", "data_hi68"]
        total = np.array([float(r[header.index("total_expected")]) for r in rows])
        assert np.allclose(total, model.asimov_data(theta)[0], rtol=1e-8)
        data = np.array([float(r[header.index("data")]) for r in rows])
        assert np.array_equal(data, model.observed)
        parts = np.array([[float(v) for v in r[2:-4]] for r in rows]).sum(axis=1)
        assert np.allclose(parts, total, rtol=1e-8)


def test_poisson_intervals_are_garwood():
    lo, hi = P.poisson_interval([0, 1, 10])
    assert np.allclose(lo, [0.0, 0.1727538, 6.8913056], atol=1e-6)
    assert np.allclose(hi, [1.8410216, 3.2995266, 14.2669498], atol=1e-6)


def test_poisson_intervals_equal_the_chi2_quantiles_of_scipy_stats():
    """poisson_interval computes chi2.ppf(p, 2k)/2 as gammaincinv(k, p) (scipy.stats not
    imported): the same numbers, bit for bit."""
    from scipy import stats

    n = np.array([0, 1, 2, 3, 7, 10, 33, 100, 1234, 54321], float)
    a = 0.5 * (1.0 - P.POISSON_CL)
    lo, hi = P.poisson_interval(n)
    assert np.array_equal(lo, np.where(n > 0, 0.5 * stats.chi2.ppf(a, 2 * np.maximum(n, 1e-300)), 0.0))
    assert np.array_equal(hi, 0.5 * stats.chi2.ppf(1.0 - a, 2 * (n + 1)))


def test_pull_and_impact_numbers(drawn):
    model, fit, out, _ = drawn
    pulls = D.pulls(model, fit)
    header, rows = read_csv(out / "pulls.csv")
    assert [r[0] for r in rows] == ["bnorm"]
    assert float(rows[0][2]) == pytest.approx(pulls["bnorm"]["value"], rel=1e-8)
    _, rows = read_csv(out / "pulls_gammas.csv")
    assert {r[0] for r in rows} == {"stat[0]", "stat[1]", "stat[2]", "cr[0]", "cr[1]"}
    header, rows = read_csv(out / "impacts.csv")
    assert len(rows) == 3 and [r[0] for r in rows] == ["1", "2", "3"]
    imp = D.impacts(model, fit)
    assert [r[1] for r in rows] == [d["name"] for d in imp[:3]]
    _, rows = read_csv(out / "correlations.csv")
    rho = np.array([[float(v) for v in r[1:]] for r in rows])
    assert rho.shape == (4, 4) and np.allclose(np.diag(rho), 1.0) and np.allclose(rho, rho.T)


def test_largest_correlations_picks_the_correlated_pair():
    rho = np.eye(4)
    rho[1, 3] = rho[3, 1] = -0.9
    rho[0, 2] = rho[2, 0] = 0.1
    assert P.largest_correlations(rho, list("abcd"), n=2) == [1, 3]


def test_legends_cover_no_axes(drawn, tmp_path):
    import matplotlib.pyplot as plt

    model, fit, _, _ = drawn
    # redraw the impact ranking and check in display coordinates
    imp = D.impacts(model, fit)
    orig = P.save_figure
    figs = []
    P.save_figure = lambda fig, out, stem: figs.append(fig) or []
    try:
        P.plot_impacts(imp, tmp_path, n=3)
        P.plot_pulls(D.pulls(model, fit), tmp_path)
        P.plot_yields(model, fit.x, tmp_path, "y", "t")
    finally:
        P.save_figure = orig
    for fig in figs:
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        legends = [a.get_legend() for a in fig.axes if a.get_legend()] + list(fig.legends)
        assert legends
        for leg in legends:
            lb = leg.get_window_extent(r)
            for ax in fig.axes:
                assert not lb.overlaps(ax.get_window_extent(r)), (ax.get_title(), leg)
        plt.close(fig)


def test_cli_plots_on_belle2(tmp_path, capsys):
    p = argparse.ArgumentParser(prog="xfit")
    sub = p.add_subparsers(dest="command")
    b = sub.add_parser("belle2").add_subparsers(dest="belle2_command")
    belle2_diagnostics.register(b)
    assert p.parse_args(["belle2", "plots"]).n_correlations == 20  # the default
    # 5 correlations, not the default 20: the command's plumbing is the same (the matrix is
    # drawn by the same code for any n; its numbers are checked on the small workspace above)
    # and the 5 x 5 matrix draws 25 numbers instead of 400 (~0.7 s)
    args = p.parse_args(["belle2", "plots", "--out", str(tmp_path / "checks"), "--n-impacts", "20",
                         "--n-correlations", "5"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "29 dof" in out and "18 files" in out
    header, rows = read_csv(tmp_path / "checks" / "impacts.csv")
    assert len(rows) == 20
    size = [max(abs(float(r[2])), abs(float(r[3]))) for r in rows]
    assert size == sorted(size, reverse=True)
    _, rows = read_csv(tmp_path / "checks" / "yields_postfit.csv")
    assert len(rows) == 30  # the 30 main bins of the workspace
    header, rows = read_csv(tmp_path / "checks" / "correlations.csv")
    assert len(header) == 6 and len(rows) == 5
    bad = p.parse_args(["belle2", "plots", "--out", str(tmp_path), "--n-impacts", "0"])
    with pytest.raises(InputError, match="--n-impacts"):
        bad.func(bad)


def test_a_model_of_one_parameter_gets_no_empty_correlation_figure(tmp_path):
    """One parameter (nothing correlated, no pulls, no impacts): the yields only, not an empty
    "0 parameters" matrix (and matplotlib's singular-axis warnings)."""
    import warnings

    spec = {"version": "1.0.0", "channels": [{"name": "sr", "samples": [
        {"name": "sig", "data": [3.0, 8.0], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
        {"name": "bkg", "data": [25.0, 20.0], "modifiers": []}]}],
        "observations": [{"name": "sr", "data": [30.0, 27.0]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}]}
    model = HistFactoryModel(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = P.draw_all(model, minimize(model), tmp_path)
    assert sorted({p.stem for p in paths}) == ["yields_postfit", "yields_prefit"]
    assert not (tmp_path / "correlations.png").exists()


def test_pull_bands_and_poisson_coverage_are_the_house_sigma_ones(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    from xfit.plots.style import SIGMA_COLOURS

    assert P.POISSON_CL == pytest.approx(0.682689492137, rel=1e-12)  # erf(1/sqrt 2)
    seen = []
    monkeypatch.setattr(P, "save_figure", lambda fig, out, stem: seen.append(fig.axes[0]) or plt.close(fig) or [])
    pull = {"modifier": "normsys", "value": 0.3, "error": 0.9, "theta": 0.3, "theta_error": 0.9, "theta0": 0.0,
            "sigma_prefit": 1.0}
    P.plot_pulls({"bnorm": pull}, tmp_path)
    bands = {p.get_label(): to_rgb(p.get_facecolor()) for p in seen[0].patches}
    assert bands == {r"$\pm 1$": to_rgb(SIGMA_COLOURS[1]), r"$\pm 2$": to_rgb(SIGMA_COLOURS[2])}
