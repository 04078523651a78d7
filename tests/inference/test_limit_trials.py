"""The local models that choose the next trial of a CLs limit (intervals._shape_model,
intervals._cls_model_root): exact when what they assume holds."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from xfit.inference import intervals
from xfit.inference.calculators import cls_from_q, expected_sqrt_qa


def _sigma(mu):  # a smooth sigma(mu) = mu / sqrt(q_A)
    return 1.3 + 0.05 * mu - 0.01 * mu**2 + 0.002 * mu**3


def _dsigma(mu):
    return 0.05 - 0.02 * mu + 0.006 * mu**2


def test_shape_model_is_exact_when_the_shape_is_the_function():
    coef = np.array([0.002, -0.01, 0.05, 1.3])
    shape = (tuple(coef), tuple(np.polyder(coef)))
    m1 = 1.7
    sq = m1 / _sigma(m1)
    slope = (_sigma(m1) - m1 * _dsigma(m1)) / _sigma(m1) ** 2  # d sqrt(q_A) / d mu
    model = intervals._shape_model((m1, sq, slope), shape, 1.0, 1.0)
    for x in (0.5, 1.7, 3.0, 4.5):
        val, der = model(x)
        assert val == pytest.approx(_sigma(x), rel=1e-12) and der == pytest.approx(_dsigma(x), rel=1e-12)
    # the band solved on it is the root of sqrt(q_A) = target
    target = expected_sqrt_qa(1)
    mu = intervals._solve_band(model, target, 3.0)
    assert mu != 3.0
    assert mu / _sigma(mu) == pytest.approx(target, rel=1e-12)


def test_shape_model_takes_value_and_slope_from_the_fit_not_from_the_shape():
    coef = np.array([0.002, -0.01, 0.05, 1.3])
    shape = (tuple(coef), tuple(np.polyder(coef)))
    m1 = 2.0
    sq, slope = m1 / 1.1, 0.4  # a fit that the shape does not go through
    val, der = intervals._shape_model((m1, sq, slope), shape, 1.0, 1.0)(m1)
    assert val == pytest.approx(m1 / sq, rel=1e-14)
    assert der == pytest.approx((sq - m1 * slope) / sq**2, rel=1e-12)


def test_cls_model_root_is_the_root_when_sqrt_q_tilde_is_linear():
    mu_hat, sig_obs = 0.3, 0.9
    st = lambda x: (x - mu_hat) / sig_obs  # noqa: E731 - sqrt(q~) linear in mu
    qa = lambda x: (x / _sigma(x)) ** 2  # noqa: E731

    def dqa(x):
        return 2 * (x / _sigma(x)) * (_sigma(x) - x * _dsigma(x)) / _sigma(x) ** 2

    log_alpha = math.log(0.05)
    mu = 2.0
    root = intervals._cls_model_root(mu, mu, st(mu) ** 2, 2 * st(mu) / sig_obs, qa(mu), dqa(mu),
                                     lambda x: (qa(x), dqa(x)), log_alpha, mu_hat, None, 100.0)
    want = optimize.brentq(lambda x: math.log(cls_from_q(st(x) ** 2, qa(x))[2]) - log_alpha, 0.5, 8.0,
                           xtol=1e-14)
    assert root == pytest.approx(want, rel=1e-10)
    # outside the bracket: no trial (the caller keeps the Newton iterate)
    assert intervals._cls_model_root(mu, mu, st(mu) ** 2, 2 * st(mu) / sig_obs, qa(mu), dqa(mu),
                                     lambda x: (qa(x), dqa(x)), log_alpha, mu_hat, 0.9 * want, 100.0) is None


@pytest.mark.parametrize("cl", [float("nan"), 1.5, 0.0, "x"])
def test_expected_sqrt_qa_refuses_a_bad_confidence_level(cl):
    """NaN gave NaN and 1.5 a statistics.StatisticsError traceback."""
    from xfit.errors import InputError

    with pytest.raises(InputError, match="cl"):
        expected_sqrt_qa(0, cl)


def test_expected_sqrt_qa_matches_cowan_eq_89():
    """median (N = 0) at 95 % CL: sqrt(q_A) = Phi^-1(1 - 0.05 / 2) = 1.959964 (Cowan et al.)."""
    assert expected_sqrt_qa(0, 0.95) == pytest.approx(1.959963984540054, rel=1e-12)
