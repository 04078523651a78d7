"""xfit.plots.profile_scan on scans it cannot draw: a clear message, not numpy's traceback."""
import numpy as np
import pytest

from xfit.errors import ConvergenceError, InputError
from xfit.inference.scan import Axis, ScanResult
from xfit.plots.profile_scan import plot_profile_scan


def _scan(shape, chi2, valid):
    axes = [Axis(n, np.arange(1.0, k + 1.0)) for n, k in zip("abc", shape)]
    return ScanResult(axes, np.broadcast_to(chi2, shape).copy(), {}, np.broadcast_to(valid, shape).copy(),
                      float(np.nanmin(chi2)) if np.isfinite(chi2).any() else float("nan"))


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_a_scan_without_a_valid_point_is_a_convergence_message(tmp_path, shape):
    with pytest.raises(ConvergenceError, match=r"profile scan 'scan': no grid point has a valid fit \(0 of"):
        plot_profile_scan(_scan(shape, np.nan, False), tmp_path)
    assert not list(tmp_path.iterdir())


def test_three_axes_are_refused_by_name(tmp_path):
    with pytest.raises(InputError, match=r"draws 1 or 2 axes, got 3: \['a', 'b', 'c'\]"):
        plot_profile_scan(_scan((2, 2, 2), 1.0, True), tmp_path)


def test_a_scan_with_valid_points_is_drawn(tmp_path):
    chi2 = np.array([3.0, 1.0, 2.0])
    paths = plot_profile_scan(_scan((3,), chi2, np.array([True, True, False])), tmp_path, formats=("png",))
    assert [p.name for p in paths] == ["scan.png"] and paths[0].stat().st_size > 1000
