"""Batched evaluation (many parameter vectors in one pass) and :class:`ProfileFits` (many fits
at many values of one parameter, advanced together) against the one-at-a-time code paths."""
from __future__ import annotations

import numpy as np
import pytest
from hf_toys import random_points, toy_workspace

from xfit.histfactory import HistFactoryModel, ProfileFits, histosys, minimize, normsys

SETTINGS = {
    "default": None,
    "both_other_codes": {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}},
}


@pytest.fixture(scope="module", params=list(SETTINGS))
def model(request) -> HistFactoryModel:
    return HistFactoryModel(toy_workspace(), modifier_settings=SETTINGS[request.param])


def test_interpolation_codes_on_a_batch_equal_one_row_at_a_time():
    rng = np.random.default_rng(7)
    a = rng.uniform(-2.5, 2.5, (5, 9))
    a[0, :3] = [-1.0, 0.0, 1.0]  # the joins of code4p and code4
    for func in (histosys.code4p, histosys.code0):
        batch = func(a)
        for w in range(len(a)):
            for got, want in zip(batch, func(a[w])):
                assert np.allclose(got[w], want, rtol=1e-13, atol=1e-14)
    hi, lo = rng.uniform(1.01, 1.6, 9), rng.uniform(0.5, 0.99, 9)
    table = normsys.code4_table(normsys.code4_coefficients(hi, lo))
    for func in (normsys.code4, normsys.code1):
        batch = func(a, np.log(hi), np.log(lo), table)
        for w in range(len(a)):
            for got, want in zip(batch, func(a[w], np.log(hi), np.log(lo), table)):
                assert np.allclose(got[w], want, rtol=1e-13, atol=1e-14)


def test_nll_and_grad_many_equals_one_point_at_a_time(model):
    pts = random_points(model, 6, seed=11)
    pts[2] = pts[2].copy()
    pts[2][model.poi_index] = 0.0  # a zero factor: goes through the one-point path
    X = np.array(pts)
    vals, grads = model.nll_and_grad_many(X)
    for w, th in enumerate(pts):
        v, g = model.nll_and_grad(th)
        assert vals[w] == pytest.approx(v, rel=1e-13)
        assert np.allclose(grads[w], g, rtol=1e-11, atol=1e-11 * np.max(np.abs(g)))


def test_invalid_points_in_a_batch_are_inf():
    m = HistFactoryModel(toy_workspace())
    th = random_points(m, 2, seed=2)
    bad = th[0].copy()
    bad[m.bounds[:, 0] < 0] = -40.0  # alphas far below: histosys drive yields below 0
    assert m.nll(bad) == np.inf
    vals, grads = m.nll_and_grad_many(np.array([th[1], bad]))
    assert vals[0] == pytest.approx(m.nll(th[1]), rel=1e-13) and vals[1] == np.inf
    assert np.all(np.isnan(grads[1]))


def test_solver_solves_many_right_hand_sides_and_hessian_column(model):
    th = minimize(model, init=random_points(model, 1, seed=4)[0]).x
    _, g, blocks = model.nll_grad_hess(th)
    free = ~model.fixed
    free[model.poi_index] = False
    some = free.copy()
    some[model.compiled.local_params[::3]] = False  # some local parameters fixed as well
    rhs = g[None, :] + np.random.default_rng(3).normal(size=(4, model.npars))
    for fr in (free, some):
        fac = blocks.factorize(fr)
        many = fac.solve(rhs)
        for w in range(len(rhs)):
            assert np.allclose(many[w], fac.solve(rhs[w]), rtol=1e-12, atol=1e-14)
        assert np.all(many[:, ~fr] == 0)
    H = blocks.dense()
    for p in range(model.npars):
        assert np.array_equal(blocks.column(p), H[:, p])


@pytest.mark.parametrize("settings", list(SETTINGS))
def test_profile_fits_equal_exact_fits(settings):
    m = HistFactoryModel(toy_workspace(), modifier_settings=SETTINGS[settings])
    i = m.poi_index
    values = np.array([0.3, 0.6, 0.65, 0.9, 1.0, 1.3, 2.0, 3.0, 0.0, 1.01])
    prof = ProfileFits(m, i)
    for batch in (values, values[::-1] * 1.02, np.array([1.5])):
        nll, X, ok = prof.fit(batch)
        assert ok.all()
        for k, v in enumerate(batch):
            exact = minimize(m, fix={i: v})
            assert nll[k] == pytest.approx(exact.nll, rel=1e-9, abs=1e-8)
            assert nll[k] >= exact.nll - 1e-8
            assert X[k, i] == v
            assert np.max(np.abs(X[k] - exact.x)) < 1e-3
    assert prof.stats["batched"] > 0 and prof.stats["references"] >= 1


def test_profile_fits_with_other_parameters_fixed():
    m = HistFactoryModel(toy_workspace())
    i = m.poi_index
    other = int(np.flatnonzero(m.bounds[:, 0] < 0)[0])  # an alpha
    prof = ProfileFits(m, i, fix={other: 0.5}, max_references=2)
    values = np.linspace(0.2, 2.5, 12)
    nll, X, ok = prof.fit(values)
    assert ok.all() and np.all(X[:, other] == 0.5)
    assert len(prof.references) <= 2
    for k, v in enumerate(values):
        assert nll[k] == pytest.approx(minimize(m, fix={i: v, other: 0.5}).nll, rel=1e-9, abs=1e-8)


def test_profile_fits_reject_a_bad_index():
    from xfit.errors import InputError

    m = HistFactoryModel(toy_workspace())
    with pytest.raises(InputError, match="parameter index"):
        ProfileFits(m, m.npars)


def test_points_that_do_not_converge_fast_become_references():
    m = HistFactoryModel(toy_workspace())
    i = m.poi_index
    values = np.array([0.5, 1.0, 1.5, 2.0, 2.5])
    # rate ~ 0: any point not converged at its start fails the contraction test; max_rounds 0:
    # after one round every failed point is fitted on its own as a reference
    prof = ProfileFits(m, i, rate=1e-300, max_rounds=0)
    nll, X, ok = prof.fit(values)
    assert ok.all() and prof.stats["references"] == len(values)
    for k, v in enumerate(values):
        assert nll[k] == pytest.approx(minimize(m, fix={i: v}).nll, rel=1e-9, abs=1e-8)


def test_a_failed_exact_fit_is_reported_not_raised(monkeypatch):
    from xfit.errors import ConvergenceError
    from xfit.histfactory import profile

    m = HistFactoryModel(toy_workspace())
    i = m.poi_index
    real = profile.minimize

    def failing(model, init=None, fix=None, **kw):
        if fix[i] == 7.0:
            raise ConvergenceError("no")
        return real(model, init=init, fix=fix, **kw)

    monkeypatch.setattr(profile, "minimize", failing)
    prof = ProfileFits(m, i, rate=1e-300, max_rounds=0)  # every point is fitted exactly
    nll, X, ok = prof.fit(np.array([1.0, 7.0, 2.0]))
    assert ok.tolist() == [True, False, True] and np.isnan(nll[1]) and np.isfinite(nll[[0, 2]]).all()


@pytest.mark.parametrize("fix, match", [
    ({999: 1.0}, r"^fix: parameter index '999' not known; accepted: integers 0\.\.18$"),
    ({"mu": 1.0}, r"^fix: parameter index 'mu' not known"),
    ({0: float("nan")}, r"^fix: value of parameter 0 must be a finite number, got nan$"),
    ({0: float("inf")}, r"^fix: value of parameter 0 must be a finite number, got inf$"),
])
def test_minimize_and_profile_fits_reject_a_bad_fix(fix, match):
    from xfit.errors import InputError

    m = HistFactoryModel(toy_workspace())
    assert m.npars == 19
    with pytest.raises(InputError, match=match):
        minimize(m, fix=fix)
    with pytest.raises(InputError, match=match):
        ProfileFits(m, m.poi_index, fix=fix)


@pytest.mark.parametrize("kwargs, match", [
    ({"edm": float("nan")}, r"^edm must be a positive finite number, got nan$"),
    ({"edm": -1e-9}, r"^edm must be a positive finite number, got -1e-09$"),
    ({"rate": float("nan")}, r"^rate must be a positive finite number, got nan$"),
    ({"rate": 0.0}, r"^rate must be a positive finite number, got 0.0$"),
])
def test_profile_fits_reject_bad_settings(kwargs, match):
    from xfit.errors import InputError

    m = HistFactoryModel(toy_workspace())
    with pytest.raises(InputError, match=match):
        ProfileFits(m, m.poi_index, **kwargs)


@pytest.mark.parametrize("index", [1.5, "mu", True])
def test_profile_fits_reject_an_index_that_is_not_an_integer(index):
    from xfit.errors import InputError

    m = HistFactoryModel(toy_workspace())
    with pytest.raises(InputError, match=r"^parameter index .* outside 0\.\.18$"):
        ProfileFits(m, index)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_profile_fits_reject_values_that_are_not_finite(bad):
    from xfit.errors import InputError

    m = HistFactoryModel(toy_workspace())
    with pytest.raises(InputError, match=r"^values must be finite"):
        ProfileFits(m, m.poi_index).fit([1.0, bad, 2.0])


def test_minimize_rejects_a_bad_edm():
    from xfit.errors import InputError

    m = HistFactoryModel(toy_workspace())
    for bad in (float("nan"), 0.0, -1.0, float("inf")):
        with pytest.raises(InputError, match=r"^edm \(convergence target\) must be a positive finite number"):
            minimize(m, edm=bad)


def test_batched_fits_use_the_minimizers_free_set_and_line_search_rules():
    """ProfileFits steps by the rules of minimize (one definition of each, in .minimizer)."""
    from xfit.histfactory import minimizer, profile

    assert profile.free_set is minimizer.free_set
    assert (profile.ARMIJO, profile.PRECISION_EDM) == (minimizer.ARMIJO, minimizer.PRECISION_EDM) == (1e-4, 100.0)
    rng = np.random.default_rng(3)
    lo, hi = np.zeros(6), np.ones(6)
    X = rng.choice([0.0, 0.5, 1.0], (8, 6))
    G = rng.normal(size=(8, 6))
    fixed = np.array([True, False, False, False, False, False])
    many = minimizer.free_set(X, G, lo, hi, fixed)
    for w in range(len(X)):
        row = minimizer.free_set(X[w], G[w], lo, hi, fixed)
        assert many[w].tolist() == row.tolist()
        assert not row[0] and row[1:].tolist() == [not ((x <= 0 and g > 0) or (x >= 1 and g < 0))
                                                   for x, g in zip(X[w, 1:], G[w, 1:])]


def test_code4p_table_is_pyhfs_polynomial_and_the_batch_path_uses_the_same_coefficients(monkeypatch):
    # pyhf interpolators.code4p: w_up/dn = alpha/2 +- alpha^2 (15 - 10 alpha^2 + 3 alpha^4) / 16
    pyhf_table = np.array([
        [0.0, 8.0, 15.0, 0.0, -10.0, 0.0, 3.0],
        [0.0, 8.0, -15.0, 0.0, 10.0, 0.0, -3.0],
        [8.0, 30.0, 0.0, -40.0, 0.0, 18.0, 0.0],
        [8.0, -30.0, 0.0, 40.0, 0.0, -18.0, 0.0],
        [30.0, 0.0, -120.0, 0.0, 90.0, 0.0, 0.0],
        [-30.0, 0.0, 120.0, 0.0, -90.0, 0.0, 0.0],
    ]) / 16.0
    assert np.array_equal(histosys._CODE4P_POLY, pyhf_table)
    # other coefficients of g: the batch (Horner) path follows them as the one-row path does
    other = np.array([1.0, 2.0, -0.5])
    monkeypatch.setattr(histosys, "_CODE4P_G", other)
    monkeypatch.setattr(histosys, "_CODE4P_POLY", histosys.code4p_table(other))
    a = np.random.default_rng(5).uniform(-2.5, 2.5, (4, 6))
    batch = histosys.code4p(a)
    for w in range(len(a)):
        for got, want in zip(batch, histosys.code4p(a[w])):
            assert np.allclose(got[w], want, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("method", ["newton", "migrad", "auto"])
def test_a_start_point_where_the_nll_is_not_finite_is_named(method):
    """A fit that cannot start (a bin with observed events and no expected events, or NaN in the
    start vector) said only "did not converge (edm inf after 1 evaluations)"."""
    from xfit.errors import ConvergenceError

    spec = {"channels": [{"name": "c", "samples": [{"name": "s", "data": [0.0, 7.0], "modifiers": [
                {"name": "mu", "type": "normfactor", "data": None}]}]}],
            "observations": [{"name": "c", "data": [1.0, 8.0]}],
            "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}], "version": "1.0.0"}
    m = HistFactoryModel(spec)
    msg = r"^-ln L is not finite at the start point: an expected bin yield is not > 0 \(or a value is NaN\)"
    with pytest.raises(ConvergenceError, match=msg):
        minimize(m, method=method)
    ok = HistFactoryModel(toy_workspace())
    with pytest.raises(ConvergenceError, match=msg):
        minimize(ok, init=np.full(ok.npars, np.nan), method=method)
