"""Priors: normalisation, inverse CDF, sampling, validation, the command-line syntax."""
import math

import numpy as np
import pytest
from scipy import integrate, stats

from xfit.errors import InputError
from xfit.inference.priors import (
    Gaussian,
    LogUniform,
    PriorSet,
    TruncatedGaussian,
    Uniform,
    as_prior_set,
    default_prior,
    default_priors,
    make_prior,
    parse_prior,
)

PRIORS = [Uniform(0, 0.1), Uniform(-2, 3), LogUniform(1e-4, 0.1), Gaussian(1.0, 2.0),
          TruncatedGaussian(0.0, 0.05, 0.0, np.inf), TruncatedGaussian(1.0, 0.5, -1.0, 1.2),
          TruncatedGaussian(0.0, 1.0, 10.0, 12.0)]

SCIPY = {
    "Uniform(0, 0.1)": stats.uniform(0, 0.1),
    "Uniform(-2, 3)": stats.uniform(-2, 5),
    "LogUniform(0.0001, 0.1)": stats.loguniform(1e-4, 0.1),
    "Gaussian(1, 2)": stats.norm(1, 2),
    "TruncatedGaussian(0, 0.05, 0, inf)": stats.truncnorm(0, np.inf, loc=0, scale=0.05),
    "TruncatedGaussian(1, 0.5, -1, 1.2)": stats.truncnorm(-4, 0.4, loc=1, scale=0.5),
    "TruncatedGaussian(0, 1, 10, 12)": stats.truncnorm(10, 12, loc=0, scale=1),
}


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_logpdf_is_normalised_and_matches_scipy(prior):
    lo, hi = prior.support
    lo = max(lo, -50.0)
    hi = min(hi, 50.0)
    points = [] if isinstance(prior, LogUniform) else None
    total, _ = integrate.quad(lambda x: math.exp(prior.logpdf(x)), lo, hi, limit=400, points=points)
    if isinstance(prior, LogUniform):  # quad on the log scale
        total, _ = integrate.quad(lambda y: math.exp(prior.logpdf(math.exp(y)) + y), math.log(lo), math.log(hi))
    assert total == pytest.approx(1.0, rel=1e-6)
    ref = SCIPY[repr(prior)]
    x = prior.ppf(np.linspace(0.01, 0.99, 25))
    np.testing.assert_allclose(prior.logpdf(x), ref.logpdf(x), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_ppf_is_the_inverse_cdf(prior):
    u = np.linspace(0.0, 1.0, 41)
    ref = SCIPY[repr(prior)]
    np.testing.assert_allclose(prior.ppf(u[1:-1]), ref.ppf(u[1:-1]), rtol=1e-9)
    x = prior.ppf(u)
    assert np.all(np.diff(x) >= 0)
    assert np.all((x >= prior.support[0]) & (x <= prior.support[1]))


@pytest.mark.parametrize("prior", PRIORS, ids=repr)
def test_sampling_is_reproducible_and_follows_the_prior(prior):
    a = prior.sample(4000, np.random.default_rng(7))
    b = prior.sample(4000, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4000,)
    assert np.all(np.isfinite(prior.logpdf(a)))
    assert stats.kstest(a, SCIPY[repr(prior)].cdf).pvalue > 1e-3


def test_logpdf_outside_support_and_vectorisation():
    u = Uniform(0, 0.1)
    assert u.logpdf(0.05) == pytest.approx(math.log(10))
    assert isinstance(u.logpdf(0.05), float)
    out = u.logpdf(np.array([[-0.1, 0.0, 0.05], [0.1, 0.2, np.nan]]))
    assert out.shape == (2, 3)
    assert np.isneginf(out[0, 0]) and np.isneginf(out[1, 1]) and np.isneginf(out[1, 2])
    assert np.isfinite(out[0, 1]) and np.isfinite(out[1, 0])  # closed interval
    lu = LogUniform(1e-4, 0.1)
    assert np.all(np.isneginf(lu.logpdf(np.array([-1.0, 0.0, 5e-5, 0.2]))))
    assert lu.logpdf(1e-3) == pytest.approx(-math.log(1e-3) - math.log(math.log(1e3)))
    tg = TruncatedGaussian(0, 1, 0, np.inf)
    assert np.isneginf(tg.logpdf(-1e-9))
    assert tg.logpdf(0.0) == pytest.approx(math.log(2) + stats.norm.logpdf(0.0))
    assert Gaussian(0, 1).logpdf(np.inf) == -np.inf
    far = TruncatedGaussian(0, 1, 1000, 1001)  # deep in the tail: still normalised (log space)
    total, _ = integrate.quad(lambda x: math.exp(far.logpdf(x)), 1000, 1001, points=[1000.001, 1000.01])
    assert total == pytest.approx(1.0, rel=1e-6)


def test_readable_reprs():
    assert repr(Uniform(0, 0.1)) == "Uniform(0, 0.1)"
    assert repr(LogUniform(1e-4, 0.1)) == "LogUniform(0.0001, 0.1)"
    assert repr(Gaussian(0.02, 0.01)) == "Gaussian(0.02, 0.01)"
    assert repr(TruncatedGaussian(0, 0.05, 0, np.inf)) == "TruncatedGaussian(0, 0.05, 0, inf)"
    assert repr(PriorSet({"gX": Uniform(0, 0.1)})) == "PriorSet(gX=Uniform(0, 0.1))"


@pytest.mark.parametrize("make, message", [
    (lambda: LogUniform(0, 0.1), "log-uniform prior needs 0 < low < high"),
    (lambda: LogUniform(-1, 0.1), "0 < low < high"),
    (lambda: LogUniform(0.1, 0.01), "0 < low < high"),
    (lambda: Uniform(1, 1), "uniform prior needs low < high"),
    (lambda: Uniform(0, np.inf), "finite"),
    (lambda: Uniform("a", 1), "finite number"),
    (lambda: Gaussian(0, 0), "sigma > 0"),
    (lambda: Gaussian(0, -1), "sigma > 0"),
    (lambda: Gaussian(np.nan, 1), "finite"),
    (lambda: TruncatedGaussian(0, 1, -np.inf, np.inf), "at least one finite bound"),
    (lambda: TruncatedGaussian(0, 1, 2, 1), "low < high"),
    (lambda: Uniform(0, 1).ppf(1.5), "[0, 1]"),
    (lambda: make_prior("cauchy", 0, 1), "unknown prior kind"),
    (lambda: make_prior("uniform", 0), "takes 2 numbers"),
])
def test_validation_messages(make, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make()


def test_parse_prior_command_line_syntax():
    assert parse_prior("gX:loguniform:1e-4:0.1") == ("gX", LogUniform(1e-4, 0.1))
    assert parse_prior("gX:uniform:0:0.05") == ("gX", Uniform(0, 0.05))
    assert parse_prior(" gX : Gaussian : 0.02 : 0.01 ") == ("gX", Gaussian(0.02, 0.01))
    assert parse_prior("gX:gaussian:0.02:0.01:0:inf") == ("gX", TruncatedGaussian(0.02, 0.01, 0, np.inf))
    assert parse_prior("a:truncgauss:0:1:-1") == ("a", TruncatedGaussian(0, 1, -1))
    for bad in ["gX", "gX:uniform", "gX:uniform:1", "gX:uniform:a:b", "gX:foo:1:2", ":uniform:0:1",
                "gX:loguniform:0:0.1", "gX:uniform:nan:1", "", "gX:uniform:0:1:2"]:
        with pytest.raises(InputError):
            parse_prior(bad)


def test_prior_sets_and_defaults():
    ps = PriorSet({"a": Uniform(0, 2), "b": Gaussian(0, 1)})
    theta = np.array([[1.0, 0.0], [3.0, 0.0], [0.5, 1.0]])
    lp = ps.logpdf(theta)
    assert lp.shape == (3,)
    assert lp[0] == pytest.approx(-math.log(2) + stats.norm.logpdf(0))
    assert np.isneginf(lp[1])
    assert ps.sample(10, np.random.default_rng(1)).shape == (10, 2)
    np.testing.assert_allclose(ps.ppf(np.array([[0.5, 0.5]])), [[1.0, 0.0]])
    with pytest.raises(InputError, match="2 coordinate"):
        ps.logpdf(np.zeros((4, 3)))
    # 1D: a flat array is n points
    assert PriorSet({"gX": Uniform(0, 0.1)}).logpdf(np.array([0.01, 0.2])).shape == (2,)

    assert default_prior("gX") == Uniform(0, 0.1)
    with pytest.raises(InputError, match="no default prior for parameter 'gX_AWW'"):
        default_prior("gX_AWW")
    d = default_priors(("gX",))
    assert d.names == ("gX",) and d["gX"] == Uniform(0, 0.1)
    with pytest.raises(InputError, match="unknown parameter"):
        default_priors(("gX",), {"gY": Uniform(0, 1)})
    assert as_prior_set(["gX:loguniform:1e-4:0.1"], ("gX",))["gX"] == LogUniform(1e-4, 0.1)
    assert as_prior_set({"gX": "uniform:0:0.2"}, ("gX",))["gX"] == Uniform(0, 0.2)
    with pytest.raises(InputError, match="given twice"):
        as_prior_set(["gX:uniform:0:1", "gX:uniform:0:2"], ("gX",))
