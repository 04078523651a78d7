"""The MCMC log-probability through ``model.predictor``: the same numbers as through
``model.predict``, only the keys the likelihood needs, the same answers on the cheap and the
masked paths of LogPosterior -- and why a chain with a given seed may change when the
physics changes at the level of rounding (documented, not hidden)."""
import warnings

import numpy as np
import pytest

from xfit.inference.mcmc import (
    DEFAULT_WALKERS,
    ChainTooShortWarning,
    LogPosterior,
    ModelLogLikelihood,
    min_walkers,
    sample,
)
from xfit.inference.priors import PriorSet, Uniform, as_prior_set
from xfit.likelihood import build_likelihood
from xfit.models import build_model, get_model

TERMS = "b_to_s_emiss,l3_z_gamma"


@pytest.mark.parametrize("spec", [{"name": "tau-flavor"}, {"name": "L=-4R", "goldstone": True},
                                  {"plane": "eft"}, {"plane": "chiral", "loop_normalisation": "paper"}])
def test_log_likelihood_equals_minus_half_chi2_of_predict(spec):
    model, lik = build_model(spec), build_likelihood(TERMS)
    lnl = ModelLogLikelihood(model, lik, 2.1)
    assert set(lnl.observables) == set(lik.observables)
    rng = np.random.default_rng(5)
    theta = 0.05 * rng.random((40, len(model.parameters)))
    if len(model.parameters) == 2:
        theta -= 0.025
    params = {p: theta[:, i] for i, p in enumerate(model.parameters)}
    want = -0.5 * np.asarray(lik.chi2(model.predict(2.1, **params)))
    got = lnl(theta)
    assert np.all(np.abs(got - want) <= 1e-12 * np.abs(want))
    # all predictions (posterior predictive) are those of predict
    full = lnl.predict(theta)
    assert list(full) == list(model.predict(2.1, **params))
    assert lnl.sm() == pytest.approx(-0.5 * float(lik.chi2(model.predict(2.1, **model.sm_point()))), rel=1e-12)


def test_log_posterior_cheap_and_masked_paths_agree():
    model, lik = get_model("tau-flavor"), build_likelihood(TERMS)
    lnl = ModelLogLikelihood(model, lik, 2.1)
    priors = as_prior_set(None, model.parameters)  # g_X uniform on [0, 0.1]
    inside = np.array([[0.0], [0.01], [0.025], [0.05]])
    for beta in (1.0, 0.3, 0.0):
        lp = LogPosterior(lnl, priors, beta)
        cheap = lp(inside)  # every point inside the prior
        masked = lp(np.vstack([inside, [[0.2]], [[-0.1]]]))  # two outside
        assert np.array_equal(cheap, masked[:4])
        assert np.all(np.isneginf(masked[4:]))
        assert np.array_equal(cheap[:, 0], priors.logpdf(inside) + beta * cheap[:, 1])


def test_log_posterior_minus_inf_likelihood_at_beta_zero():
    """beta = 0 times ln L = -inf is a point of zero density, not NaN (both paths)."""
    def lnl(theta):
        return np.where(theta[:, 0] > 0.5, -np.inf, -theta[:, 0])

    priors = PriorSet({"x": Uniform(0, 1)})
    lp = LogPosterior(lnl, priors, beta=0.0)
    out = lp(np.array([[0.2], [0.7]]))
    assert out[0, 0] == 0.0 and np.isneginf(out[1, 0]) and np.isneginf(out[1, 1])
    out = lp(np.array([[0.2], [0.7], [2.0]]))
    assert out[0, 0] == 0.0 and np.all(np.isneginf(out[1:, 0]))


def test_default_walkers():
    """The default ensemble (chosen for effective samples per CPU second, docs/bayes.md) is
    far above the minimum for the models' one or two parameters."""
    assert DEFAULT_WALKERS == 256 and DEFAULT_WALKERS >= 16 * min_walkers(2)


def test_chain_changes_with_rounding_of_its_start_but_not_its_posterior():
    """Why an MCMC result with a fixed seed is not stable to 1e-6 when the physics changes at
    the 1e-16 level (as the cached predictor did): ``init="fit"`` starts the walkers in a ball
    of HESSE's width, and HESSE's finite differences magnify a 1e-16 change of chi2 into
    ~1e-8 in that width; the walkers then start ~1e-8 apart and, a few dozen steps later, an
    accept/reject decision goes the other way.  The chain with a given seed is reproducible
    (same code, same chain, tested in test_mcmc.py); across such a change only its Monte-Carlo
    noise changes: the posterior summaries agree within their statistical errors."""
    model, lik = get_model("tau-flavor"), build_likelihood(TERMS)
    lnl = ModelLogLikelihood(model, lik, 2.1)
    priors = as_prior_set(None, model.parameters)
    start = 0.025 + 0.004 * np.random.default_rng(2).standard_normal((64, 1))
    # 200 steps (150 after burn-in, ~2700 effective samples per chain): the chains part within a
    # few dozen steps; the medians are compared at their Monte-Carlo error, and the standard
    # deviations (each known to ~1.4 %) within 10 %, still > 5 sigma of their difference
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChainTooShortWarning)
        a = sample(lnl, priors, nwalkers=64, nsteps=200, seed=4, initial=start, burn=50)
        b = sample(lnl, priors, nwalkers=64, nsteps=200, seed=4, initial=start * (1 + 1e-8), burn=50)
    assert not np.array_equal(a.coords, b.coords)  # the chains are different chains
    assert np.max(np.abs(a.coords[-1] - b.coords[-1])) > 1e-4  # and not merely 1e-8 apart
    sa, sb = a.summary()["gX"], b.summary()["gX"]
    n_eff = min(a.diagnostics(warn=False)["n_effective"]["gX"], b.diagnostics(warn=False)["n_effective"]["gX"])
    error = sa["std"] / np.sqrt(n_eff)  # Monte-Carlo error of a mean (a median's is ~1.25x)
    assert abs(sa["median"] - sb["median"]) < 5 * 1.25 * np.sqrt(2) * error
    assert abs(sa["std"] - sb["std"]) < 0.1 * sa["std"]


def _run(sampler_cls, moves, log_prob, nwalkers):
    """A short chain from a fixed start and seed: what a run leaves behind."""
    start = np.array([0.5, -1.0]) + np.array([0.3, 0.6]) * np.random.default_rng(1).standard_normal((nwalkers, 2))
    start[:, 0] = np.clip(start[:, 0], 0.25, 1.9)  # inside the prior
    sampler = sampler_cls(nwalkers, 2, log_prob, vectorize=True, moves=moves)
    sampler._random.seed(7)
    sampler.run_mcmc(start, 40)
    return (sampler.get_chain(), sampler.get_log_prob(), sampler.get_blobs(), sampler.backend.accepted,
            sampler._random.get_state()[1])


@pytest.mark.parametrize("moves", ["de", "stretch", "de+snooker"])
def test_vectorised_sampler_gives_emcee_s_chain_bit_for_bit(moves):
    """xfit's sampler and moves (acceptance and ln p on arrays, not walker by walker) against stock
    emcee: the same positions, ln p, blobs, acceptance counts and random state, for the vectorised
    log-probabilities xfit hands over ((n, 2) with ln L as blob; (n,)), with a prior edge inside
    the walkers' reach (-inf proposals)."""
    import emcee

    from xfit.inference.mcmc import vectorised

    def make(m):
        return {"de": [m.DEMove()], "stretch": [m.StretchMove()],
                "de+snooker": [(m.DEMove(), 0.8), (m.DESnookerMove(), 0.2)]}[moves]

    lp = LogPosterior(lambda t: -0.5 * np.sum(((t - [0.5, -1.0]) / [0.3, 0.6]) ** 2, axis=1),
                      PriorSet({"a": Uniform(0.2, 2), "b": Uniform(-5, 5)}))
    for log_prob in (lp, lambda t: lp(t)[:, 0]):
        stock = _run(emcee.EnsembleSampler, make(emcee.moves), log_prob, 24)
        fast = _run(vectorised.EnsembleSampler, make(vectorised), log_prob, 24)
        assert 0 < stock[3].sum() < 40 * 24  # some proposals rejected, some accepted
        for a, b in zip(stock, fast):
            assert (a is None and b is None) or np.array_equal(a, b)
    with pytest.raises(ValueError, match="NaN"):
        _run(vectorised.EnsembleSampler, make(vectorised), lambda t: np.full(len(t), np.nan), 16)
    # in memory the steps carry no copy of the random state: a run continued there is one run
    one = vectorised.EnsembleSampler(24, 2, lp, vectorize=True, moves=make(vectorised))
    one._random.seed(7)
    one.run_mcmc(stock[0][0], 30)
    two = vectorised.EnsembleSampler(24, 2, lp, vectorize=True, moves=make(vectorised))
    two._random.seed(7)
    two.run_mcmc(stock[0][0], 10)
    two.run_mcmc(None, 20)
    assert np.array_equal(one.get_chain(), two.get_chain()) and two.get_last_sample().random_state is None


def test_autocorrelation_time_is_emcee_s():
    """xfit's integrated autocorrelation time (all walkers' FFTs at once) against emcee's estimator
    (one walker at a time): AR(1) chains of several shapes, to rounding; NaN for a walker that
    never moves, as emcee."""
    import emcee

    from xfit.inference.mcmc.autocorr import integrated_time

    rng = np.random.default_rng(0)
    for nsteps, nwalkers, ndim, phi in [(90, 256, 1, 0.6), (300, 70, 2, 0.9), (31, 16, 3, 0.3), (5, 4, 1, 0.1)]:
        x = np.zeros((nsteps, nwalkers, ndim))
        noise = rng.standard_normal(x.shape)
        for t in range(1, nsteps):
            x[t] = phi * x[t - 1] + noise[t]
        want = emcee.autocorr.integrated_time(x, tol=0, quiet=True)
        np.testing.assert_allclose(integrated_time(x), want, rtol=1e-12)
        if ndim == 1:
            np.testing.assert_allclose(integrated_time(x[:, :, 0]), want, rtol=1e-12)
    x[:, 1, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(emcee.autocorr.integrated_time(x, tol=0, quiet=True)[0]) and np.isnan(integrated_time(x)[0])


@pytest.mark.parametrize("moves", ["de", "stretch"])
def test_vectorised_sampler_refuses_nan_from_a_proposal(moves):
    """ln p = NaN at a proposal (not at the start, which emcee's own check refuses) is an error,
    as in stock emcee; the array acceptance would otherwise reject it silently (NaN > ln u is False)."""
    from xfit.inference.mcmc import vectorised

    calls = [0]

    def log_prob(theta):
        calls[0] += 1
        ln_p = -0.5 * np.sum(theta ** 2, axis=1)
        return ln_p if calls[0] == 1 else np.where(theta[:, 0] > 0, np.nan, ln_p)

    move = {"de": vectorised.DEMove(), "stretch": vectorised.StretchMove()}[moves]
    sampler = vectorised.EnsembleSampler(16, 2, log_prob, vectorize=True, moves=[move])
    sampler._random.seed(3)
    start = np.random.default_rng(3).standard_normal((16, 2))
    with pytest.raises(ValueError, match="Probability function returned NaN"):
        sampler.run_mcmc(start, 5)
    assert calls[0] > 1  # the error came from a proposal
