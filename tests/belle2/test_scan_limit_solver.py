"""The CLs limits of the Belle II scan, solved with few fits (one pool of Asimov fits per
mass, Newton stopped on its predicted error, the previous mass's limits as first trials):
equal to a brute-force bracketing root finder (scipy brentq to 1e-13) to 1e-8 relative --
the acceptance tolerance 1e-9 (intervals.ACCEPT_RTOL) keeps every limit well inside the
1e-6 within which a speed change may move results -- and the same with warm starts from
another mass, on an executor or serially."""
import math

import numpy as np
import pytest
from scipy import optimize

from xfit.belle2 import scan
from xfit.inference import intervals
from xfit.inference.calculators import cls_from_q, expected_sqrt_qa


@pytest.fixture(scope="module")
def scanner():
    return scan.Scanner()


def _brute_force(sc, mX):
    """Expected and observed 95 % CL limits on mu_X by brentq (xtol 1e-13 relative)."""
    sc.set_mass(mX)
    free = sc.free_fit()
    mu_hat, nll_hat = float(free.x[sc.kx.ix]), free.nll
    calc = sc.calc

    def root(f, guess):
        lo, hi = guess / 2, guess * 2
        return optimize.brentq(f, lo, hi, xtol=1e-13 * lo, rtol=1e-14)

    ref = intervals.upper_limit(calc, free=free)  # for the brackets only
    exp = {str(n): root(lambda mu, n=n: math.sqrt(calc.q_asimov(mu)[0]) - expected_sqrt_qa(n), ref.exp_limits[str(n)])
           for n in (-2, -1, 0, 1, 2)}
    obs = root(lambda mu: cls_from_q(calc.q_tilde(mu, mu_hat, nll_hat)[0], calc.q_asimov(mu)[0])[2] - 0.05,
               ref.obs_limit)
    return exp, obs


@pytest.mark.parametrize("mX", [0.7, 2.1, 3.9])
def test_limits_equal_a_brute_force_root_finder(scanner, mX):
    exp, obs = _brute_force(scanner, mX)
    scanner.reset()
    p = scanner.point(mX)  # cold: from the Asimov sigma
    warm = scanner.point(mX * 1.02)  # warm: from the limits at mX
    exp_w, obs_w = _brute_force(scanner, mX * 1.02)
    unit = scan.BR_UNIT
    assert p.BR_95 / unit == pytest.approx(obs, rel=1e-8)
    assert warm.BR_95 / unit == pytest.approx(obs_w, rel=1e-8)
    for k in exp:
        assert p.BR_95_expected[k] / unit == pytest.approx(exp[k], rel=1e-8)
        assert warm.BR_95_expected[k] / unit == pytest.approx(exp_w[k], rel=1e-8)


def test_executor_chunks_equal_the_serial_scan(tmp_path, scanner):
    masses = [1.8, 1.9, 2.0, 2.1, 2.2]
    scanner.reset()
    serial = scan.run_scan(masses, scanner=scanner)
    chunks = scan.run_scan(masses, out=tmp_path / "s", executor="process", chunk_size=2)
    np.testing.assert_allclose([p.BR_95 for p in chunks.points], [p.BR_95 for p in serial.points], rtol=1e-8)
    for k in scan.BANDS:
        np.testing.assert_allclose([p.BR_95_expected[k] for p in chunks.points],
                                   [p.BR_95_expected[k] for p in serial.points], rtol=1e-8)
    assert len((tmp_path / "s" / scan.SCAN_FILE).read_text().splitlines()) == 1 + len(masses)


@pytest.mark.parametrize("kwargs, match", [
    ({"masses": ["a"]}, r"^the scan masses must be finite numbers >= 0 GeV, got \['a'\]$"),
    ({"masses": [1.0], "width": "x"}, r"^--width must be a finite number, got 'x'$"),
    ({"masses": [1.0], "width": float("inf")}, r"^--width must be a finite number, got inf$"),
    ({"masses": [1.0], "width": -0.1}, r"^--width must be >= 0 GeV, got -0.1$"),
    # the check of xfit.inference.executors.require_chunk_size, not a second one
    ({"masses": [1.0, 2.0], "chunk_size": 0}, r"^chunk_size must be a whole number >= 1 \(points per chunk\), got 0$"),
    ({"masses": [1.0, 2.0], "chunk_size": float("nan")}, r"^chunk_size must be a whole number .*, got nan$"),
    ({"masses": [1.0, 2.0], "chunk_size": 2.5}, r"^chunk_size must be a whole number .*, got 2.5$"),
])
def test_run_scan_rejects_bad_arguments_before_any_fit(kwargs, match, monkeypatch):
    from xfit.errors import InputError

    def no_fits(*a, **k):  # any model building means the bad argument was not caught first
        raise AssertionError("run_scan built a Scanner before checking its arguments")

    monkeypatch.setattr(scan, "Scanner", no_fits)
    with pytest.raises(InputError, match=match):
        scan.run_scan(executor="process", **kwargs)
