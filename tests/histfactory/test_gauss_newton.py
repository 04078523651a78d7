"""The Gauss-Newton part of the Hessian (Fisher scoring where the exact Hessian is not positive
definite, :func:`xfit.histfactory.evaluate.gauss_newton`)."""
from __future__ import annotations

import numpy as np
import pytest
from hf_toys import five_point_gradient, random_points, toy_workspace

from xfit.histfactory import HistFactoryModel, evaluate, minimize


def test_gauss_newton_is_jacobian_weighted_plus_constraints():
    m = HistFactoryModel(toy_workspace())
    observed = m.observed.copy()
    for th in random_points(m, 3, seed=8):
        J = five_point_gradient(m.expected_main, th).T  # (bins, parameters)
        lam = m.expected_main(th)
        W = np.divide(observed, lam**2, out=np.zeros_like(lam), where=observed != 0)
        want = J.T @ (W[:, None] * J)
        for idx, values in m.constraints.hess_diag(th):
            want[idx, idx] += values
        got = evaluate.gauss_newton(m, th).dense()
        assert np.max(np.abs(got - want)) <= 1e-7 * np.max(np.abs(want))
        # it is the exact Hessian without the terms weighted by G = 1 - n / lambda
        m.set_data(m.expected_main(th))  # G = 0 everywhere: the two agree
        assert np.allclose(evaluate.gauss_newton(m, th).dense(), m.hessian(th), rtol=1e-10, atol=1e-10)
        m.set_data(observed)


def test_newton_uses_it_where_the_hessian_is_indefinite_and_still_converges(monkeypatch):
    m = HistFactoryModel(toy_workspace())
    calls = []
    real = evaluate.gauss_newton

    def spy(model, theta):
        calls.append(theta.copy())
        return real(model, theta)

    monkeypatch.setattr(evaluate, "gauss_newton", spy)
    start = random_points(m, 1, seed=6, spread=4.5)[0]  # far from the minimum
    r = minimize(m, init=start)
    # the toy has several local minima: this start reaches one (the same as before Fisher
    # scoring was added); MIGRAD started there finds nothing lower
    assert r.valid and r.edm < 1e-9 and r.nll == pytest.approx(18.986591, abs=1e-6)
    assert minimize(m, init=r.x, method="migrad").nll >= r.nll - 1e-8
    H = m.hessian(r.x)
    assert np.all(np.linalg.eigvalsh(H[np.ix_(~m.fixed, ~m.fixed)]) > 0)
    assert calls  # the Gauss-Newton step was taken
