"""``xfit belle2 scan`` draws the scan (xfit.plots.belle2_scan) after the library has scanned;
``--no-plots`` draws nothing.  Needs the Belle II files ($XFIT_DATA_DIR; fails without them)."""
from xfit.cli import main

FIGURES = [f"{stem}.{ext}" for stem in ("delta_chi2_vs_mX", "limits_vs_mX") for ext in ("png", "pdf")]


def test_the_command_draws_the_scan_unless_told_not_to(tmp_path, capsys):
    args = ["belle2", "scan", "--json", "--mX-min", "1.9", "--mX-max", "2.1", "--n-masses", "3"]
    assert main([*args, "--out", str(tmp_path / "drawn")]) == 0
    for name in FIGURES:
        assert (tmp_path / "drawn" / name).stat().st_size > 1000, name
    assert main([*args, "--out", str(tmp_path / "bare"), "--no-plots"]) == 0
    assert not any((tmp_path / "bare" / name).exists() for name in FIGURES)
    assert (tmp_path / "bare" / "scan_summary.json").exists()
    capsys.readouterr()


def _axes_of(monkeypatch):
    """The axes the next belle2_scan plot draws on (kept from save_figure's closing)."""
    import matplotlib.pyplot as plt

    import xfit.plots.belle2_scan as b

    seen = []

    def keep(fig, out, stem):
        seen.append(fig.axes[0])
        plt.close(fig)
        return []

    monkeypatch.setattr(b, "save_figure", keep)
    return seen


def test_no_finite_point_is_a_clear_message_not_a_traceback(tmp_path):
    import numpy as np
    import pytest

    from xfit.errors import InputError
    from xfit.plots.belle2_scan import plot_delta_chi2, plot_limits

    for mX, q0 in (([], []), ([1.0, 2.0], [np.nan, np.nan])):
        with pytest.raises(InputError, match="no finite q0.*\n.*--no-plots"):
            plot_delta_chi2(mX, q0, tmp_path)
    with pytest.raises(InputError, match="no finite 95% CL limit"):
        plot_limits([1.0, 2.0], [None, None], {k: [None, None] for k in ("-2", "-1", "0", "1", "2")}, tmp_path)
    with pytest.raises(InputError, match=r"lack the band\(s\) \['-2', '2'\]"):
        plot_limits([1.0], [1e-5], {k: [1e-5] for k in ("-1", "0", "1")}, tmp_path)
    assert not list(tmp_path.iterdir())  # nothing written


def test_sigma_lines_are_at_n_squared_and_a_single_mass_is_visible(tmp_path, monkeypatch):
    import warnings

    import pytest

    from xfit.plots.belle2_scan import plot_delta_chi2, plot_limits

    seen = _axes_of(monkeypatch)
    plot_delta_chi2([1.0, 2.0, 3.0], [0.5, 7.0, 1.0], tmp_path)
    levels = sorted(line.get_ydata()[0] for line in seen[0].lines if line.get_label().endswith("(1 dof)"))
    assert levels == [1.0, 4.0]  # 3 sigma: 9 > 1.15 x 7, left out
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "identical low and high xlims"
        plot_delta_chi2([1.5], [2.0], tmp_path)
        plot_limits([0.0], [1e-5], {k: [1e-5] for k in ("-2", "-1", "0", "1", "2")}, tmp_path)
    assert seen[1].get_xlim() == pytest.approx((1.4925, 1.5075), rel=1e-12)
    assert seen[2].get_xlim() == (-0.01, 0.01)
    assert seen[1].lines[0].get_marker() == "o"  # a one-point line without a marker draws nothing
    assert [ln.get_marker() for ln in seen[2].lines if ln.get_label() == "observed"] == ["o"]
