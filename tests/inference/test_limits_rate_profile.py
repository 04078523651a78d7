"""Limits of terms profiled in their rate (``LikelihoodTerm.rate_profile``): found once per
mass in the rate B with warm starts (xfit.inference.limits._rate_limit), they equal the
limits of the general grid-and-brentq method to 1e-9 relative, alone and in a combination,
with and without the evaluations of the term alone reused for the combination."""
import math

import numpy as np
import pytest

from xfit.inference import limits
from xfit.inference.limits import coupling_limit, limits_by_search
from xfit.likelihood import Citation, CombinedLikelihood, LikelihoodTerm, get_term
from xfit.models import get_model

TAU = get_model("tau-flavor")
MASSES = np.array([0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 3.0])


class PoissonRate(LikelihoodTerm):
    """A counting experiment in B = BR(B+->K+X) BR(X->inv): n = 15 events over b = 10 (a
    preference for signal), s = B x 2e6 (0 events above 4 GeV: no sensitivity there)."""

    name = "toy_poisson_rate"
    citation = Citation("toy")
    observables = ("BR(B+->K+X)", "BR(X->invisible)")
    mass_range = (0.0, 4.0)

    def __init__(self, n=15.0, b=10.0, rate_profile=False):
        self.n, self.b, self.rate_profile = n, b, rate_profile

    def _chi2(self, p):
        s = np.asarray(p["BR(B+->K+X)"]) * np.asarray(p["BR(X->invisible)"]) * 2e6
        mu = s + self.b
        return 2.0 * (mu - self.b - self.n * np.log(mu / self.b))


@pytest.mark.parametrize("n", [15.0, 4.0])  # an excess (minimum at g > 0) and a deficit (at 0)
def test_rate_profile_equals_the_grid_method(n):
    grid = coupling_limit(TAU, CombinedLikelihood([PoissonRate(n)]), MASSES, progress=False)
    rate = coupling_limit(TAU, CombinedLikelihood([PoissonRate(n, rate_profile=True)]), MASSES, progress=False)
    assert np.all(np.isfinite(grid.limit)) and rate.method == grid.method == ["root"] * MASSES.size
    np.testing.assert_allclose(rate.limit, grid.limit, rtol=1e-9)
    np.testing.assert_allclose(rate.best_fit, grid.best_fit, rtol=2e-3, atol=0)  # grid: xatol 1e-4 in log10 g
    np.testing.assert_allclose(rate.delta_chi2_zero, grid.delta_chi2_zero, rtol=1e-6, atol=1e-9)
    assert len(rate.rate_evaluations) == MASSES.size and all(rate.rate_evaluations)


def test_combined_reuses_the_term_alone_and_equals_the_grid_method():
    masses = np.geomspace(0.05, 4.5, 12)  # includes masses above the toy's range (4 GeV)
    others = {"l3_z_gamma": CombinedLikelihood([get_term("l3_z_gamma")]),
              "belle_b_to_pi_rho": CombinedLikelihood([get_term("belle_b_to_pi_rho")])}
    grid = limits_by_search(TAU, {**others, "toy": CombinedLikelihood([PoissonRate()])}, masses, progress=False)
    rate = limits_by_search(TAU, {**others, "toy": CombinedLikelihood([PoissonRate(rate_profile=True)])}, masses,
                            progress=False)
    for k in grid:
        np.testing.assert_allclose(rate[k].limit, grid[k].limit, rtol=1e-9, err_msg=k)
    assert rate["combined"].method[-1] == "closed-form"  # above 4 GeV only the half-Gaussian terms
    # the combination computed without the evaluations of the term alone: the same limits
    fresh = coupling_limit(TAU, CombinedLikelihood([*others["l3_z_gamma"].terms, *others["belle_b_to_pi_rho"].terms,
                                                    PoissonRate(rate_profile=True)]), masses, progress=False)
    np.testing.assert_allclose(fresh.limit, rate["combined"].limit, rtol=1e-9)


def test_rate_curve_predictions_follow_the_model():
    """Where every prediction is a power of g the curve computes them without the model."""
    curve = limits._RateCurve(TAU, PoissonRate(), None, "gX", {}, 1.3)
    assert curve.laws is not None and curve.power[1] == pytest.approx(2.0, abs=1e-12)
    g = np.array([0.0, 3e-5, 0.2])
    ref, got = TAU.predict(np.full(3, 1.3), gX=g), curve.predictions(g)
    for k in ("BR(B+->K+X)", "BR(X->invisible)", "BR(Z->gammaX)", "BR(K+->pi+X)"):
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-13, atol=0)
    assert curve.rate(0.2) == pytest.approx(float(ref["BR(B+->K+X)"][2] * ref["BR(X->invisible)"][2]), rel=1e-13)


def test_belle2_limits_in_the_rate_equal_the_grid_method():
    """The full Belle II likelihood at three Fig. 3 masses: the limits of the general method
    (xfit 0.1, pinned; 53 profile fits per mass) to 1e-7 relative, with ~12 fits per mass."""
    from xfit.reproduce.fig3 import MODEL

    model = get_model(MODEL)
    term = get_term("belle2_knunu")
    term.rate_profile = True
    masses = np.array([0.001, 0.1, 1.0])
    res = limits_by_search(model, {"belle2_knunu": CombinedLikelihood([term]),
                                   "l3_z_gamma": CombinedLikelihood([get_term("l3_z_gamma")]),
                                   "na62_k_pi": CombinedLikelihood([get_term("na62_k_pi")])},
                           masses, executor="serial", progress=False)
    np.testing.assert_allclose(res["belle2_knunu"].limit,
                               [7.717603933410332e-06, 0.0007717623116129997, 0.007154819820282285], rtol=1e-7)
    assert all(res["belle2_knunu"].best_fit > 0)  # the Belle II excess: a minimum at g > 0
    assert max(len(e) for e in res["belle2_knunu"].rate_evaluations) < 40
    assert all(math.isfinite(v) for v in res["combined"].limit)
