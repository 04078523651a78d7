"""The compiled (numba) kernel against the numpy path: values, gradients, Hessian blocks,
factorisations and full fits agree; the numpy path is taken where the kernel does not cover a
model; the kernel policy (XFIT_KERNEL, use_compiled_kernel).  numba is in the test extra: these
tests fail (never skip) without it."""
from __future__ import annotations

import numpy as np
import pytest
from hf_toys import random_points, toy_workspace

import xfit.histfactory.kernel_numba as kn  # fails without numba (it is in the test extra)
from xfit.belle2 import files
from xfit.errors import InputError
from xfit.histfactory import HistFactoryModel, covariance, evaluate, histosys, kernel, minimize, minimizer, normsys


def _rel(a, b) -> float:
    """max |a - b| / max |b| (norm-wise relative difference)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)) if b.size else 0.0


def _rank_one(spec):
    """The toy workspace without shapesys and shapefactor (which share rows with staterror):
    every local block is diagonal plus rank one."""
    for ch in spec["channels"]:
        for s in ch["samples"]:
            s["modifiers"] = [m for m in s["modifiers"] if m["type"] not in ("shapesys", "shapefactor")]
    spec["measurements"][0]["config"]["parameters"] = [
        p for p in spec["measurements"][0]["config"]["parameters"] if p["name"] != "cr_free"]
    return spec


SPECS = {
    "belle2": files.load_workspace,  # 232 parameters, rank-one local blocks
    "toy": toy_workspace,  # every modifier type, shapesys + staterror on one row: not rank one
    "toy_rank_one": lambda: _rank_one(toy_workspace()),
}


@pytest.fixture(scope="module", params=list(SPECS))
def pair(request):
    """(numpy model, numba model) of one workspace."""
    spec = SPECS[request.param]()
    return request.param, HistFactoryModel(spec, kernel="numpy"), HistFactoryModel(spec, kernel="numba")


def _points(model, n=3):
    pts = random_points(model, n, seed=3, spread=1.8)
    zero = pts[0].copy()
    zero[model.poi_index] = 0.0  # a factor exactly 0 (the POI normfactor at its bound)
    return pts + [zero]


def _assert_blocks_equal(a, b, tol=1e-12):
    for name in ("A", "B", "D"):
        assert _rel(getattr(a, name), getattr(b, name)) <= tol, name
    assert (a.rank_one is None) == (b.rank_one is None)
    if b.rank_one is not None:
        for x, y in zip(a.rank_one, b.rank_one):
            assert _rel(x, y) <= tol


def test_kernel_choice_and_coverage(pair):
    name, mp, mn = pair
    assert (mp.kernel, mn.kernel) == ("numpy", "numba")
    assert mp._kernel is None and mn._kernel.supported


def test_value_gradient_and_hessian_blocks_agree(pair):
    _, mp, mn = pair
    for x in _points(mp):
        vp, gp, hp = mp.nll_grad_hess(x)
        vn, gn, hn = mn.nll_grad_hess(x)
        assert abs(vn - vp) <= 1e-12 * abs(vp)
        assert _rel(gn, gp) <= 1e-12
        _assert_blocks_equal(hn, hp)
        assert abs(mn.nll(x) - mp.nll(x)) <= 1e-12 * abs(vp)
        _assert_blocks_equal(evaluate.gauss_newton(mn, x), evaluate.gauss_newton(mp, x))
    pts = np.array(_points(mp))
    vp, gp = mp.nll_and_grad_many(pts)
    vn, gn = mn.nll_and_grad_many(pts)
    assert _rel(vn, vp) <= 1e-12 and _rel(gn, gp) <= 1e-12


def test_invalid_points_are_inf_in_both():
    mp, mn = (HistFactoryModel(toy_workspace(), kernel=k) for k in ("numpy", "numba"))
    x = mp.init.copy()
    x[mp.index("k_qcd")] = -1.0  # negative yields in the qcd bins
    for m in (mp, mn):
        v, g = m.nll_and_grad(x)
        assert v == np.inf and np.isnan(g).all() and m.nll_grad_hess(x)[2] is None


def test_factorisation_and_solve_agree(pair):
    name, mp, mn = pair
    x = minimize(mp).x
    hp, hn = mp.nll_grad_hess(x)[2], mn.nll_grad_hess(x)[2]
    g = mp.nll_and_grad(x + 0.01)[1]
    free = ~mp.fixed
    some_fixed = free.copy()
    some_fixed[[mp.poi_index, mp.compiled.local_params[0]]] = False
    calls = []
    real = kn._factorize

    def spy(*a):
        calls.append(1)
        return real(*a)

    with pytest.MonkeyPatch.context() as mpatch:
        mpatch.setattr(kn, "_factorize", spy)
        for f, damping in ((free, 0.0), (some_fixed, 0.0), (free, 1e-3)):
            fp, fn = hp.factorize(f, damping), hn.factorize(f, damping)
            assert _rel(fn.Sinv, fp.Sinv) <= 1e-10
            assert _rel(fn.Y, fp.Y) <= 1e-10 and _rel(fn.Bf, fp.Bf) <= 1e-12 and _rel(fn.Dinv, fp.Dinv) <= 1e-10
            assert _rel(fn.solve(g), fp.solve(g)) <= 1e-10
            assert np.all(fn.solve(g)[~f] == 0.0)
            many = np.stack([g, -2.0 * g + 0.1])
            assert _rel(fn.solve(many), fp.solve(many)) <= 1e-10
    # the compiled factorisation where the local blocks are diagonal plus rank one; else numpy
    assert len(calls) == (3 if hn.rank_one is not None else 0)
    assert (hn.rank_one is None) == (name == "toy")


def test_full_fits_agree_free_fixed_and_at_bounds(pair):
    _, mp, mn = pair
    poi = mp.poi_index
    for fix in (None, {poi: 0.0}, {poi: 1.7, int(mp.compiled.global_params[0]): 0.3}):
        rp, rn = minimize(mp, fix=fix), minimize(mn, fix=fix)
        assert abs(rn.nll - rp.nll) <= 1e-9 * abs(rp.nll)
        assert np.max(np.abs(rn.x - rp.x)) <= 1e-9 * max(1.0, np.max(np.abs(rp.x)))
        cp = covariance(mp, rp.x, fixed=rp.fixed, globals_only=True)
        cn = covariance(mn, rn.x, fixed=rn.fixed, globals_only=True)
        assert _rel(cn, cp) <= 1e-8


def test_other_interpolation_codes_take_the_numpy_path():
    settings = {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}
    mp = HistFactoryModel(toy_workspace(), modifier_settings=settings, kernel="numpy")
    mn = HistFactoryModel(toy_workspace(), modifier_settings=settings, kernel="numba")
    assert mn.kernel == "numba" and not mn._kernel.supported
    x = random_points(mp, 1, seed=5)[0]
    assert mn._kernel.evaluate(mn, x, 2) is None
    vp, gp, hp = mp.nll_grad_hess(x)
    vn, gn, hn = mn.nll_grad_hess(x)
    assert vn == vp and np.array_equal(gn, gp) and np.array_equal(hn.A, hp.A)


def test_scalar_interpolation_equals_the_vectorised_one():
    """The kernel's scalar forms of histosys code4p and normsys code4 (see kernel_numba's
    docstring for why they exist) against histosys.code4p and normsys.code4."""
    alphas = np.concatenate([np.linspace(-3.0, 3.0, 61), [-1.0, 1.0, 0.0, -1e-9, 1e-9, 0.999999, -1.000001]])
    poly = np.ascontiguousarray(histosys._CODE4P_POLY)
    want = histosys.code4p(alphas)
    got = np.array([kn.code4p_scalar(a, poly) for a in alphas]).T
    for g, w in zip(got, want):
        assert np.allclose(g, w, rtol=1e-14, atol=1e-14)
    hi, lo = np.array([1.15, 1.3, 1.02]), np.array([0.8, 0.6, 0.97])
    table = normsys.code4_table(normsys.code4_coefficients(hi, lo))
    for u in range(3):
        want = normsys.code4(alphas, np.full_like(alphas, np.log(hi[u])), np.full_like(alphas, np.log(lo[u])),
                             np.repeat(table[:, u:u + 1], len(alphas), axis=1))
        got = np.array([kn.code4_scalar(a, np.log(hi[u]), np.log(lo[u]), table, u) for a in alphas]).T
        for g, w in zip(got, want):
            assert np.allclose(g, w, rtol=1e-14, atol=1e-14)


def test_templates_and_data_changes_reach_the_kernel():
    spec = toy_workspace()
    mp, mn = (HistFactoryModel(spec, kernel=k) for k in ("numpy", "numba"))
    x = random_points(mp, 1, seed=9)[0]
    for m in (mp, mn):
        m.set_sample_template("cr", "qcd", [26.0, 12.0])
    assert abs(mn.nll(x) - mp.nll(x)) <= 1e-12 * abs(mp.nll(x))
    obs = mp.observed * 1.1
    cp, cn = mp.with_data(obs), mn.with_data(obs, mn.auxdata * 1.01)
    cp.set_data(obs, mp.auxdata * 1.01)
    assert np.isfinite(cp.nll(x)) and abs(cn.nll(x) - cp.nll(x)) <= 1e-12 * abs(cp.nll(x))
    assert cn.nll(x) != mn.nll(x)


def test_kernel_policy(monkeypatch):
    monkeypatch.setenv("XFIT_KERNEL", "fast")
    with pytest.raises(InputError, match="XFIT_KERNEL='fast'.*auto, numpy, numba"):
        kernel.requested()
    monkeypatch.setenv("XFIT_KERNEL", "numpy")
    assert kernel.resolve(many_fits=True) == "numpy"
    monkeypatch.delenv("XFIT_KERNEL")
    assert kernel.resolve(many_fits=False) == "numpy" and kernel.resolve(many_fits=True) == "numba"
    m = HistFactoryModel(toy_workspace())
    assert m.kernel == "numpy" and m.use_compiled_kernel() == "numba" and m.kernel == "numba"
    monkeypatch.setattr(kernel, "numba_available", lambda: False)
    assert kernel.resolve(many_fits=True) == "numpy"  # auto: silently numpy
    with pytest.raises(InputError, match="numba is not installed"):
        kernel.resolve("numba")
    with pytest.raises(InputError, match="kernel 'cuda'"):
        HistFactoryModel(toy_workspace(), kernel="cuda")


def test_compiled_functions_are_cached_in_xfit_cache_unless_the_user_chose(tmp_path):
    """A fresh process (numba reads NUMBA_CACHE_DIR when it is imported): without NUMBA_CACHE_DIR
    the compiled functions are cached under $XDG_CACHE_HOME/xfit/numba; then, in the same
    process, a NUMBA_CACHE_DIR of the user's, numba's configuration re-read from the environment
    and the module executed again (as a process started with it would) keeps the user's folder
    (one process instead of two: a module that overwrote the variable, or numba's setting, fails
    here as it did in a second process)."""
    import os
    import subprocess
    import sys

    code = ("import importlib, os\n"
            "import xfit.histfactory.kernel_numba as kn\n"
            "print(kn._value_grad._cache._cache_path)\n"
            f"os.environ['NUMBA_CACHE_DIR'] = {str(tmp_path / 'mine')!r}\n"
            "import numba.core.config\n"
            "numba.core.config.reload_config()\n"
            "kn = importlib.reload(kn)\n"
            "print(kn._value_grad._cache._cache_path)\n"
            "print(os.environ['NUMBA_CACHE_DIR'])\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    default, chosen, variable = out.stdout.strip().splitlines()
    assert default.startswith(str(tmp_path / "xdg" / "xfit" / "numba"))
    # the module left the user's variable as it was (what numba reads when a process imports it)
    assert chosen.startswith(str(tmp_path / "mine")) and variable == str(tmp_path / "mine")


def test_belle2_signal_model_with_relative_histosys_agrees(monkeypatch):
    """KXModel asks for the compiled kernel; its X templates (relative histosys) follow the mass."""
    from xfit.belle2.signal import KXModel

    monkeypatch.delenv("XFIT_KERNEL", raising=False)
    kx = KXModel()
    assert kx.model.kernel == "numba"
    kx.set_mass(2.0)
    mp = kx.model.with_data(kx.model.observed)
    mp.use_kernel("numpy")
    for x in _points(mp, 2):
        x[kx.ix] = 1.5
        vp, gp, hp = mp.nll_grad_hess(x)
        vn, gn, hn = kx.model.nll_grad_hess(x)
        assert abs(vn - vp) <= 1e-12 * abs(vp) and _rel(gn, gp) <= 1e-12
        _assert_blocks_equal(hn, hp)


def test_threads_sharing_a_model_get_their_own_workspace():
    """The Hessian reuses the first-order pieces of the calling thread's last gradient only."""
    from concurrent.futures import ThreadPoolExecutor

    mn = HistFactoryModel(toy_workspace(), kernel="numba")
    mp = HistFactoryModel(toy_workspace(), kernel="numpy")
    pts = random_points(mp, 4, seed=11)
    want = [mp.nll_grad_hess(x)[2].A for x in pts]

    def work(i):
        out = []
        for _ in range(30):
            mn.nll_and_grad(pts[i])
            mn.nll_and_grad(pts[(i + 1) % 4])  # another point in between
            mn.nll_and_grad(pts[i])
            out.append(mn.nll_grad_hess(pts[i])[2].A)
        return out

    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(work, range(4)))
    for i, res in enumerate(results):
        assert all(_rel(a, want[i]) <= 1e-12 for a in res)


def test_cholesky_by_return_code():
    """The compiled Cholesky (LAPACK dpotrf by its return code) equals numpy's; a matrix that is
    not positive definite gives info > 0 (no exception)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(7, 12))
    S = X @ X.T + np.eye(7)
    L = S.copy()
    L[np.triu_indices(7, 1)] = 99.0  # only the lower triangle is read
    assert kn._cholesky_lower(L) == 0
    assert _rel(L, np.linalg.cholesky(S)) <= 1e-14 and np.all(L[np.triu_indices(7, 1)] == 0.0)
    bad = S.copy()
    bad[3, 3] = -1.0
    assert kn._cholesky_lower(bad) == 4
    assert kn._cholesky_lower(np.zeros((0, 0))) == 0


def test_not_positive_definite_schur_complement_raises_in_both():
    """At the Belle II starting point the exact Hessian is not positive definite (Newton then
    takes a Fisher-scoring step): the compiled factorisation says so by its status, and both
    paths raise LinAlgError; damped enough, both factorise."""
    spec = files.load_workspace()
    mp, mn = HistFactoryModel(spec, kernel="numpy"), HistFactoryModel(spec, kernel="numba")
    hp, hn = mp.nll_grad_hess(mp.init)[2], mn.nll_grad_hess(mn.init)[2]
    c, free = mn.compiled, ~mn.fixed
    delta, w, u = hn.rank_one
    k = mn._kernel
    status = kn._factorize(hn.A, hn.B, delta, w, u, free[c.global_params], free[c.local_params], 0.0,
                           1e-8, k._blocks[2], k._blocks[3], k._slot_used)[0]
    assert status == 2
    for h in (hp, hn):
        with pytest.raises(np.linalg.LinAlgError):
            h.factorize(free)
    g = mp.nll_and_grad(mp.init)[1]
    assert _rel(hn.factorize(free, 1.0).solve(g), hp.factorize(free, 1.0).solve(g)) <= 1e-10


def test_newton_elementwise_steps_compiled_as_numpy():
    """The compiled free set and trial point of the Newton minimiser equal the numpy ones
    exactly: parameters at their bounds, fixed ones, infinite bounds and NaN steps."""
    rng = np.random.default_rng(7)
    n = 40
    lo, hi = np.full(n, -1.0), np.full(n, 2.0)
    lo[:4], hi[4:8] = -np.inf, np.inf
    x = rng.uniform(-1.0, 2.0, n)
    x[8:12], x[12:16] = -1.0, 2.0  # at the bounds
    g = rng.normal(size=n)
    g[8:10], g[12:14] = 1.0, -1.0  # held there by the gradient
    g[10:12], g[14:16] = -1.0, 1.0  # or not
    g[20] = 0.0
    fixed = np.zeros(n, bool)
    fixed[[3, 9, 30]] = True
    free = minimizer.free_set(x, g, lo, hi, fixed)
    assert np.array_equal(kn.free_set(x, g, lo, hi, fixed), free)
    assert not free[[3, 8, 9, 12, 13, 30]].any() and free[[10, 11, 14, 15]].all()
    step = rng.normal(scale=3.0, size=n)
    step[5] = np.nan
    for t in (1.0, 0.25, 1e-3):
        xn_p, slope_p = minimizer._trial_point(x, step, t, lo, hi, free, g)
        xn_n, slope_n = kn.trial_point(x, step, t, lo, hi, free, g)
        assert np.array_equal(xn_n, xn_p, equal_nan=True) and np.isnan(xn_n[5])
        assert (np.isnan(slope_n) and np.isnan(slope_p)) or slope_n == slope_p
    step[5] = 0.5
    xn_p, slope_p = minimizer._trial_point(x, step, 1.0, lo, hi, free, g)
    xn_n, slope_n = kn.trial_point(x, step, 1.0, lo, hi, free, g)
    assert np.array_equal(xn_n, xn_p) and slope_n == slope_p and np.isfinite(slope_n)
    assert np.all((xn_n >= lo) & (xn_n <= hi)) and np.all(xn_n[~free] == x[~free])


def test_damping_floor_is_one_constant_for_both_kernels(monkeypatch):
    """Levenberg damping lifts a diagonal element by damping * max(|H_ii|, blocks.DAMPING_FLOOR)
    on both paths: with a floor far above every |H_ii| the damped factorisations still agree,
    and differ from those with the default floor."""
    from xfit.histfactory import blocks

    assert blocks.DAMPING_FLOOR == 1e-8
    spec = _rank_one(toy_workspace())
    mp, mn = HistFactoryModel(spec, kernel="numpy"), HistFactoryModel(spec, kernel="numba")
    x = minimize(mp).x
    hp, hn = mp.nll_grad_hess(x)[2], mn.nll_grad_hess(x)[2]
    assert hn.rank_one is not None  # the compiled factorisation is used
    g = mp.nll_and_grad(x + 0.01)[1]
    free = ~mp.fixed
    default = hp.factorize(free, 0.5).solve(g)
    monkeypatch.setattr(blocks, "DAMPING_FLOOR", 1e6)
    sp, sn = hp.factorize(free, 0.5).solve(g), hn.factorize(free, 0.5).solve(g)
    assert _rel(sn, sp) <= 1e-10
    assert _rel(sp, default) > 1e-3


@pytest.mark.parametrize("k", ["numpy", "numba"])
def test_a_point_of_the_wrong_length_is_input_error_in_both(k):
    """The compiled loops do not check bounds: a short point read past its end (a made-up -ln L,
    then a corrupted heap); both kernels refuse it, and a point with one value too many."""
    m = HistFactoryModel(toy_workspace(), kernel=k)
    n = m.npars
    for bad in (m.init[:5], np.append(m.init, 1.0)):
        msg = rf"^parameter point of {len(bad)} values; accepted: {n} \(one per model parameter\)$"
        for call in (m.nll, m.nll_and_grad, m.nll_grad_hess, lambda x: evaluate.gauss_newton(m, x)):
            with pytest.raises(InputError, match=msg):
                call(bad)
        with pytest.raises(InputError, match=msg):
            m.nll_and_grad_many(np.stack([bad, bad]))
    assert np.isfinite(m.nll(m.init))  # the right length still works


@pytest.mark.parametrize("k", ["numpy", "numba"])
def test_a_right_hand_side_of_the_wrong_length_is_input_error_in_both(k):
    """BlockSolver.solve: the compiled solve read past a short right-hand side."""
    m = HistFactoryModel(_rank_one(toy_workspace()), kernel=k)
    x = minimize(m).x
    solver = m.nll_grad_hess(x)[2].factorize(~m.fixed)
    g = m.nll_and_grad(x + 0.01)[1]
    for bad in (g[:3], np.append(g, 1.0), np.stack([g[:3], g[:3]]), g[None, None, :]):
        with pytest.raises(InputError, match=rf"^right-hand side of shape \(.*\); accepted: \(npars,\) or "
                                             rf"\(W, npars\), npars = {m.npars}$"):
            solver.solve(bad)
    assert np.isfinite(solver.solve(g)).all()
