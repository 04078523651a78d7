"""Evidence by thermodynamic integration, against Gaussian likelihoods with uniform priors
whose evidence is known analytically (1D with a truncation, 2D correlated); quadrature; the
SM evidence; Bayes factors of the tau-flavour model."""
import math

import numpy as np
import pytest
from scipy import stats

from xfit.errors import ConvergenceError, InputError
from xfit.inference.evidence import (
    BayesFactor,
    EvidenceResult,
    bayes_factor,
    compare_models,
    integrate_ladder,
    model_evidence,
    power_ladder,
    quadrature_evidence,
    sm_evidence,
    thermodynamic_integration,
)
from xfit.inference.priors import PriorSet, Uniform
from xfit.likelihood import build_likelihood
from xfit.models import get_model

# 1D: a normalised Gaussian N(0.1, 0.08) under a uniform prior on [0, 2]; it is cut by the
# prior edge at 0, so Z = [Phi(23.75) - Phi(-1.25)] / 2.
MU1, S1, LO1, HI1 = 0.1, 0.08, 0.0, 2.0
PRIOR_1D = PriorSet({"x": Uniform(LO1, HI1)})
LNZ_1D = math.log((stats.norm.cdf(HI1, MU1, S1) - stats.norm.cdf(LO1, MU1, S1)) / (HI1 - LO1))

# 2D: a correlated normalised Gaussian under a uniform prior on [-2, 3] x [-4, 2]
MU2 = np.array([0.5, -1.0])
COV2 = np.array([[0.04, 0.018], [0.018, 0.09]])
LO2, HI2 = np.array([-1.5, -3.0]), np.array([2.5, 1.5])
PRIOR_2D = PriorSet({"a": Uniform(LO2[0], HI2[0]), "b": Uniform(LO2[1], HI2[1])})
_mvn = stats.multivariate_normal(MU2, COV2)
_box = _mvn.cdf(HI2) - _mvn.cdf([LO2[0], HI2[1]]) - _mvn.cdf([HI2[0], LO2[1]]) + _mvn.cdf(LO2)
LNZ_2D = math.log(_box / np.prod(HI2 - LO2))

#: the settings of the Monte-Carlo tests (fast; stated errors ~0.02); docs/bayes.md has the
#: coverage of the stated error over many seeds
TI_FAST = dict(n_temps=16, nsteps=100, burn=10, nwalkers=256)


# The likelihoods in numpy: scipy.stats' logpdf costs ~90 us per call of 256 walkers, a third of
# a sampler step; test_analytic_references checks their normalisation against scipy's cdf.
_LN_2PI = math.log(2 * math.pi)
_COV2_INV = np.linalg.inv(COV2)
_LN_DET_COV2 = float(np.linalg.slogdet(COV2)[1])


def lnl_1d(theta):
    z = (theta[:, 0] - MU1) / S1
    return -0.5 * z * z - math.log(S1) - 0.5 * _LN_2PI


def lnl_2d(theta):
    d = np.asarray(theta, float) - MU2
    return -0.5 * np.einsum("...i,ij,...j->...", d, _COV2_INV, d) - 0.5 * _LN_DET_COV2 - _LN_2PI


def exact_moments_1d(beta):
    """E and Var of ln L under the 1D power posterior, by brute-force quadrature."""
    x = np.linspace(LO1, HI1, 100001)
    lnl = stats.norm.logpdf(x, MU1, S1)
    w = np.exp(beta * (lnl - lnl.max()))
    w /= w.sum()
    e = np.sum(w * lnl)
    return e, np.sum(w * (lnl - e) ** 2)


def test_analytic_references():
    assert LNZ_1D == pytest.approx(math.log(stats.norm.cdf(1.25) / 2), abs=1e-12)
    assert 0.999 < _box <= 1.0
    q1 = quadrature_evidence(lnl_1d, PRIOR_1D)
    q2 = quadrature_evidence(lnl_2d, PRIOR_2D, n_points=400)
    assert q1.ln_z == pytest.approx(LNZ_1D, abs=1e-6)
    assert q2.ln_z == pytest.approx(LNZ_2D, abs=1e-4)


def test_integration_rule_on_exact_ladder_moments():
    """Without Monte-Carlo noise: the corrected trapezoid rule and its discretisation error."""
    for K in (16, 24):
        betas = power_ladder(K, 5)
        mv = np.array([exact_moments_1d(b) for b in betas])
        res = integrate_ladder(betas, mv[:, 0], mv[:, 1], power=5)
        err = abs(res["ln_z"] - LNZ_1D)
        assert err < 0.01
        assert err <= res["error_discretisation"]  # the stated error covers the true one
        assert abs(res["trapezoid"] - LNZ_1D) > err  # the variance correction helps
        assert res["error_mc"] == 0.0


def test_thermodynamic_integration_1d_gaussian():
    res = thermodynamic_integration(lnl_1d, PRIOR_1D, seed=1, **TI_FAST)
    delta = res.ln_z - LNZ_1D
    assert res.ln_z_error < 0.03
    assert abs(delta) < 0.05
    assert abs(delta) < 2 * res.ln_z_error
    assert res.betas.size == 17 and res.betas[0] == 0 and res.betas[-1] == 1
    assert np.all(np.diff(res.mean_lnl) > -5 * (res.se_mean_lnl[1:] + res.se_mean_lnl[:-1]))  # E[ln L] rises
    d = res.to_dict()
    assert d["ln_evidence"] == res.ln_z and len(d["ladder"]["beta"]) == 17


def test_thermodynamic_integration_2d_correlated_gaussian():
    res = thermodynamic_integration(lnl_2d, PRIOR_2D, seed=2, **TI_FAST)
    delta = res.ln_z - LNZ_2D
    assert res.ln_z_error < 0.03
    assert abs(delta) < 0.05
    assert abs(delta) < 2 * res.ln_z_error
    # at beta = 1 the chain samples the posterior: E[ln L] = ln L_max - ndim/2 for a Gaussian
    assert res.mean_lnl[-1] == pytest.approx(_mvn.logpdf(MU2) - 1.0, abs=5 * res.se_mean_lnl[-1])


def test_thermodynamic_integration_is_reproducible():
    a = thermodynamic_integration(lnl_1d, PRIOR_1D, n_temps=4, nsteps=12, nwalkers=16, seed=5)
    b = thermodynamic_integration(lnl_1d, PRIOR_1D, n_temps=4, nsteps=12, nwalkers=16, seed=5)
    assert a.ln_z == b.ln_z and a.ln_z_error == b.ln_z_error


def test_bad_evidence_input():
    with pytest.raises(InputError, match="even"):
        power_ladder(15)
    with pytest.raises(InputError, match=">= 4"):
        power_ladder(2)
    with pytest.raises(InputError, match="ladder must increase"):
        integrate_ladder([0, 0.5, 0.4, 1], [0, 0, 0, 0], [0, 0, 0, 0])
    with pytest.raises(ConvergenceError, match="finite"):
        thermodynamic_integration(lambda t: np.where(t[:, 0] > 1, -np.inf, 0.0), PRIOR_1D,
                                  n_temps=4, nsteps=12, nwalkers=16, seed=1)
    with pytest.raises(InputError, match="1 or 2 parameters"):
        quadrature_evidence(lnl_1d, PriorSet({k: Uniform(0, 1) for k in "abc"}))


def test_bayes_factor_arithmetic():
    a = EvidenceResult(ln_z=-3.0, ln_z_error=0.03, method="x", label="SM+X")
    b = EvidenceResult(ln_z=-8.0, ln_z_error=0.04, method="x", label="SM")
    bf = bayes_factor(a, b)
    assert isinstance(bf, BayesFactor)
    assert bf.ln_b == pytest.approx(5.0) and bf.error == pytest.approx(0.05)
    assert bf.value == pytest.approx(math.exp(5.0))
    assert bf.interpretation == "very strong"  # 2 ln B = 10
    assert bayes_factor(b, a).interpretation == "favours SM+X"


def test_sm_evidence_and_tau_flavor_bayes_factor():
    lik = build_likelihood("b_to_s_emiss,l3_z_gamma")
    model = get_model("tau-flavor")
    sm = sm_evidence(lik, 2.1)
    chi2_sm = float(lik.chi2(model.predict(2.1, gX=0.0)))
    assert sm.ln_z == pytest.approx(-0.5 * chi2_sm) and sm.ln_z_error == 0.0
    quad = model_evidence(model, lik, 2.1, method="quadrature")
    ti = model_evidence(model, lik, 2.1, seed=3, n_temps=16, nsteps=30, burn=6, nwalkers=64)
    # a short ladder, but its stated error covers the difference to the quadrature
    assert abs(ti.ln_z - quad.ln_z) < 3 * ti.ln_z_error + 1e-3
    assert ti.ln_z_error < 0.25
    bf = bayes_factor(quad, sm)
    # the data prefer g_X ~ 0.016 over the SM (Delta chi2 ~ 15), the prior [0, 0.1] costs ~ln 20
    assert 3.0 < bf.ln_b < 8.0
    # a gauged baryon number has no invisible X: the likelihood is that of the SM
    cmp = compare_models({"baryon": get_model("baryon"), "tau-flavor": model}, lik, 2.1, method="quadrature")
    assert cmp["bayes_factors"]["baryon"].ln_b == pytest.approx(0.0, abs=1e-9)
    assert cmp["bayes_factors"]["tau-flavor"].ln_b == pytest.approx(bf.ln_b)
    with pytest.raises(InputError, match="reserved"):
        compare_models({"SM": model}, lik, 2.1, method="quadrature")


@pytest.mark.parametrize("conventions, ln_b", [({}, 3.20), ({"loop_normalisation": "paper", "goldstone": True}, 5.61)])
def test_documented_bayes_factor_of_the_tau_flavour_model(conventions, ln_b):
    """docs/bayes.md: ln B(SM + X vs SM) of tau-flavor at 2.1 GeV, b_to_s_emiss + l3_z_gamma,
    g_X ~ U(0, 0.1), by quadrature (derived normalisation and exact rates; the paper's conventions)."""
    from xfit.inference.evidence import compare_models
    from xfit.likelihood import build_likelihood
    from xfit.models import get_model

    r = compare_models({"tau-flavor": get_model("tau-flavor", **conventions)},
                       build_likelihood("b_to_s_emiss,l3_z_gamma"), 2.1, method="quadrature")
    assert r["bayes_factors"]["tau-flavor"].ln_b == pytest.approx(ln_b, abs=0.005)
