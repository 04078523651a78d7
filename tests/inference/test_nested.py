"""Nested sampling (dynesty) against known evidences and against thermodynamic integration."""
import math

import numpy as np
import pytest

from xfit.errors import InputError
from xfit.inference.evidence import thermodynamic_integration
from xfit.inference.nested import nested_evidence
from xfit.inference.priors import LogUniform, PriorSet, Uniform

MEAN = np.array([1.0, -0.5])
COV = np.array([[1.0, 0.15], [0.15, 0.25]])
COV_INV = np.linalg.inv(COV)


def gaussian_lnl(x):
    """Unnormalised correlated 2D Gaussian (peak ln L = 0)."""
    d = np.asarray(x) - MEAN
    return -0.5 * np.einsum("...i,ij,...j->...", d, COV_INV, d)


class _Lnl:
    """Picklable likelihood (a checkpointed run pickles it)."""

    def __call__(self, x):
        return gaussian_lnl(x)


#: The Gaussian is inside (+-5 sigma in a and in b: 2e-6 of its mass outside).  Not wider: the
#: run's length grows with the information H = ln(prior volume / posterior volume), and so does
#: the stated error (~sqrt(H / nlive)) that the evidence is checked against -- this box (H ~ 1.8)
#: gives 0.09 at 300 live points and fails on an evidence off by a factor 1.5 either way, as the
#: [-10, 10] x [-5, 5] box (H ~ 3.2, error 0.12, 25 % slower) did only one way.
PRIORS_2D = PriorSet({"a": Uniform(-4, 6), "b": Uniform(-3, 2)})
PRIOR_VOLUME_2D = 10 * 5


@pytest.fixture(scope="module")
def gaussian_run(tmp_path_factory):
    """The 2D Gaussian's run, checkpointed: (result, checkpoint file).  One run for the evidence
    test and the checkpoint test (checkpointing does not change a run: same ln Z, samples, calls)."""
    ck = tmp_path_factory.mktemp("nested") / "ns.save"
    return nested_evidence(_Lnl(), PRIORS_2D, nlive=300, seed=3, checkpoint_file=ck), ck


def test_gaussian_evidence_within_stated_error(gaussian_run):
    exact = math.log(2 * math.pi) + 0.5 * np.linalg.slogdet(COV)[1] - math.log(PRIOR_VOLUME_2D)
    res = gaussian_run[0]
    assert 0 < res.ln_z_error < 0.3
    assert abs(res.ln_z - exact) < 3 * res.ln_z_error
    s = res.equal_weight_samples(np.random.default_rng(0))
    np.testing.assert_allclose(s.mean(axis=0), MEAN, atol=0.1)
    np.testing.assert_allclose(np.cov(s.T), COV, atol=0.12)
    assert res.n_effective > 300


def test_three_dimensional_gaussian():
    sig = np.array([0.5, 1.0, 0.3])
    half = 5 * sig  # the prior box: +-5 sigma in each dimension (5e-6 of the mass outside)
    priors = PriorSet({k: Uniform(-h, h) for k, h in zip("abc", half)})
    exact = 1.5 * math.log(2 * math.pi) + float(np.log(sig).sum()) - float(np.log(2 * half).sum())
    # 150 live points: the stated error (~sqrt(H / nlive), H ~ 2.7 nats in this box) is ~0.15 and
    # asserted < 0.25, so the test still fails on any mistake above 0.75 (a Gaussian normalisation,
    # 1.5 ln 2 pi = 2.8; a prior range off by a factor 3 in one dimension, ln 3 = 1.1); the box
    # [-6, 6]^3 (H ~ 5.1: error 0.2, 50 % slower) checked no more
    res = nested_evidence(lambda x: -0.5 * float(np.sum((np.asarray(x) / sig) ** 2)), priors, nlive=150, seed=5)
    assert abs(res.ln_z - exact) < 3 * res.ln_z_error
    assert res.ln_z_error < 0.25


def test_agrees_with_thermodynamic_integration():
    """A cheap, skewed likelihood (Poisson counts, log-uniform rate prior): both methods agree."""
    n_obs, bkg = 7, 2.0
    priors = PriorSet({"s": LogUniform(0.1, 30.0)})

    def lnl(theta):
        s = np.asarray(theta, float)[..., 0]
        lam = s + bkg
        return n_obs * np.log(lam) - lam

    # 150 live points, and 16 temperatures of 100 steps: stated errors ~0.08 and ~0.04, so the
    # agreement (and the exact value below) still fail on any mistake of ~0.3 or more (the
    # log-uniform prior's Jacobian, a missing Poisson term, the prior normalisation are all
    # larger; an evidence off by a factor 1.5 either way in either method).  The default 24
    # temperatures (error 0.027, 50 % slower) hardly tighten the agreement, whose tolerance is
    # set by the nested-sampling error.
    ns = nested_evidence(lambda x: float(lnl(np.asarray(x)[None, :])[0]), priors, nlive=150, seed=2)
    ti = thermodynamic_integration(lnl, priors, n_temps=16, nwalkers=32, nsteps=100, seed=2)
    assert ns.ln_z_error < 0.1 and ti.ln_z_error < 0.05
    assert abs(ns.ln_z - ti.ln_z) < 3 * math.hypot(ns.ln_z_error, ti.ln_z_error)
    # and the exact value by quadrature in ln s
    u = np.linspace(math.log(0.1), math.log(30.0), 20001)
    v = lnl(np.exp(u)[:, None])
    exact = float(np.log(np.trapezoid(np.exp(v), u) / (u[-1] - u[0])))
    assert abs(ns.ln_z - exact) < 3 * ns.ln_z_error


def test_checkpoint_resume(gaussian_run):
    first, ck = gaussian_run  # the run of test_gaussian_evidence_within_stated_error, checkpointed
    assert ck.exists()
    again = nested_evidence(_Lnl(), PRIORS_2D, nlive=300, seed=3, checkpoint_file=ck)  # a finished run: read back
    assert again.ln_z == first.ln_z and again.n_calls == first.n_calls


def test_bad_arguments():
    priors = PriorSet({"a": Uniform(0, 1)})
    with pytest.raises(InputError, match="live points"):
        nested_evidence(lambda x: 0.0, priors, nlive=2)
    with pytest.raises(InputError, match="dlogz"):
        nested_evidence(lambda x: 0.0, priors, dlogz=0)
    with pytest.raises(InputError, match="PriorSet"):
        nested_evidence(lambda x: 0.0, {"a": Uniform(0, 1)})
