"""Newton started with the factorised Hessian of a fit nearby (``minimize(..., hessian=...)``):
the same minimum as a fit from scratch, to the fits' tolerance, with fewer Hessians."""
from __future__ import annotations

import numpy as np
import pytest
from hf_toys import toy_workspace

from xfit.histfactory import HistFactoryModel, minimize


@pytest.fixture(scope="module")
def model() -> HistFactoryModel:
    return HistFactoryModel(toy_workspace())


def _counting(model):
    calls = {"hess": 0}
    orig = model.nll_grad_hess

    def hess(x):
        calls["hess"] += 1
        return orig(x)
    model.nll_grad_hess = hess
    return calls, orig


def test_fit_started_with_a_nearby_hessian_reaches_the_same_minimum(model):
    poi = model.poi_index
    first = minimize(model, fix={poi: 1.0})
    assert first.hessian is not None
    solver, free = first.hessian
    assert free.shape == (model.npars,) and not free[poi]
    calls, orig = _counting(model)
    try:
        for mu in (1.02, 1.1, 1.5):
            calls["hess"] = 0
            cold = minimize(model, init=first.x, fix={poi: mu})
            n_cold = calls["hess"]
            calls["hess"] = 0
            warm = minimize(model, init=first.x, fix={poi: mu}, hessian=first.hessian)
            n_warm = calls["hess"]
            assert warm.valid and warm.nll == pytest.approx(cold.nll, rel=0, abs=1e-8)
            np.testing.assert_allclose(warm.x, cold.x, rtol=0, atol=1e-4)
            assert n_warm < n_cold  # at least one Hessian saved at each mu (cold: 1, 1, 2; warm: 0, 0, 1)
    finally:
        model.nll_grad_hess = orig


def test_a_hessian_over_other_free_parameters_is_not_used(model):
    poi = model.poi_index
    free_fit = minimize(model)  # the POI free: another set of free parameters
    cond = minimize(model, init=free_fit.x, fix={poi: 1.3})
    hinted = minimize(model, init=free_fit.x, fix={poi: 1.3}, hessian=free_fit.hessian)
    assert hinted.valid and hinted.nll == pytest.approx(cond.nll, rel=0, abs=1e-8)


def test_minimum_tangent_is_the_derivative_of_the_conditional_minimum(model):
    """blocks.minimum_tangent (-H_ff^-1 H_fp, used by ProfileFits and the Laplace grid) against
    central differences of exact conditional fits."""
    from xfit.histfactory.blocks import minimum_tangent

    poi, mu, h = model.poi_index, 1.2, 1e-3
    fit = minimize(model, fix={poi: mu}, edm=1e-14)
    Hb = model.nll_grad_hess(fit.x)[2]
    solver, free = fit.hessian
    t = minimum_tangent(Hb, Hb.factorize(free), poi)
    assert t[poi] == 0.0 and np.all(t[~free] == 0.0)
    up = minimize(model, init=fit.x, fix={poi: mu + h}, edm=1e-14).x
    dn = minimize(model, init=fit.x, fix={poi: mu - h}, edm=1e-14).x
    fd = (up - dn) / (2 * h)
    fd[poi] = 0.0
    assert np.max(np.abs(fd)) > 0.05  # the nuisances do move with the POI
    np.testing.assert_allclose(t, fd, rtol=0, atol=1e-5)
