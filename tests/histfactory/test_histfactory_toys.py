"""The HistFactory backend on generated workspaces that use every modifier type, against pyhf
(``pyhf.Model.logpdf``, ``expected_data``, ``pyhf.infer.mle``) and finite differences."""
from __future__ import annotations

import numpy as np
import pyhf
import pytest
from hf_toys import five_point_gradient, random_points, toy_workspace

from xfit.histfactory import (
    SUPPORTED_MODIFIERS,
    HistFactoryModel,
    from_workspace,
    minimize,
)

#: interpolation settings tested against pyhf: the defaults and the other accepted codes
SETTINGS = {
    "default": None,
    "normsys_code1": {"normsys": {"interpcode": "code1"}},
    "histosys_code0": {"histosys": {"interpcode": "code0"}},
    "both": {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}},
}


@pytest.fixture(scope="module", params=list(SETTINGS))
def model(request) -> HistFactoryModel:
    return HistFactoryModel(toy_workspace(), modifier_settings=SETTINGS[request.param])


def pyhf_data(m):
    return np.asarray(m.workspace.data(m.pyhf_model))


def test_toy_uses_every_modifier_type(model):
    used = {mod["type"] for ch in toy_workspace()["channels"] for s in ch["samples"] for mod in s["modifiers"]}
    assert used == set(SUPPORTED_MODIFIERS)
    cfg = model.pyhf_model.config
    assert model.par_names == list(cfg.par_names) and model.npars == cfg.npars
    assert model.par_names[model.par_slices["side_stat"].start] == "side_stat[0]"
    # measurement config: bounds, inits, fixed, lumi auxdata/sigma; shapesys zero-uncertainty bin fixed
    assert tuple(model.bounds[model.index("k_qcd")]) == (0.2, 4.0) and model.init[model.index("k_qcd")] == 1.3
    assert model.init[model.poi_index] == 0.5 and model.poi_name == "mu"
    assert model.fixed[model.index("sig_theory")] and model.fixed[model.par_slices["bkg_shape"].start + 1]
    assert model.fixed.sum() == 2
    assert np.allclose(model.bounds, cfg.suggested_bounds()) and np.allclose(model.init, cfg.suggested_init())
    i = model.index("lumi")
    assert model.constraints.gauss_sigma[list(model.constraints.gauss_param).index(i)] == 0.04
    assert len(model.par_names) == model.npars == 19  # 8 scalars, stat 5, bkg_shape 3, cr_free 2, side_stat 1


def test_logpdf_agrees_with_pyhf(model):
    pm, data = model.pyhf_model, pyhf_data(model)
    points = random_points(model, 30, seed=2)
    alphas = np.concatenate([th[[model.index(n) for n in ("jes", "bkg_norm", "qcd_shape")]] for th in points])
    assert np.any(np.abs(alphas) > 1) and np.any(np.abs(alphas) < 1)  # both interpolation regimes
    for th in points + [model.init]:
        assert model.logpdf(th) == pytest.approx(float(pm.logpdf(th, data)[0]), rel=1e-8, abs=0)
        assert np.allclose(model.expected_main(th), pm.expected_actualdata(th), rtol=1e-12, atol=0)
        main, aux = model.asimov_data(th)
        assert np.allclose(np.concatenate([main, aux]), pm.expected_data(th), rtol=1e-12, atol=0)


def test_gradient_and_hessian_are_exact(model):
    smooth = model.interpolation_codes == {"normsys": "code4", "histosys": "code4p"}  # code1/code0: kink at 0
    zero_poi = random_points(model, 1, seed=5)[0]
    zero_poi[model.poi_index] = 0.0  # a zero factor: products of the other factors without division
    for th in random_points(model, 4, seed=3) + [zero_poi] + ([model.init] if smooth else []):
        val, g = model.nll_and_grad(th)
        assert val == pytest.approx(model.nll(th), rel=1e-14)
        num = five_point_gradient(model.nll, th)
        assert np.max(np.abs(num - g)) <= 1e-8 * max(1.0, np.max(np.abs(g)))
        H = model.hessian(th)
        Hn = five_point_gradient(lambda x: model.nll_and_grad(x)[1], th)
        assert np.array_equal(H, H.T)
        assert np.max(np.abs(H - Hn)) <= 1e-8 * np.max(np.abs(H))


def test_block_solve_matches_dense(model):
    th = random_points(model, 1, seed=4)[0]
    th = minimize(model, init=th).x  # H is positive definite near the minimum
    _, g, blocks = model.nll_grad_hess(th)
    g = g + 1.0
    free = ~model.fixed
    H = model.hessian(th)
    x, _ = blocks.solve(g, free)
    f = np.flatnonzero(free)
    assert np.allclose(x[f], np.linalg.solve(H[np.ix_(f, f)], g[f]), rtol=1e-10, atol=1e-12)
    assert np.all(x[~free] == 0)


def _pyhf_fit(m, fixed_poi=None):
    saved = pyhf.get_backend()
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0, tolerance=1e-6, strategy=2))
    try:
        data = pyhf_data(m)
        if fixed_poi is None:
            return pyhf.infer.mle.fit(data, m.pyhf_model, return_fitted_val=True)
        return pyhf.infer.mle.fixed_poi_fit(fixed_poi, data, m.pyhf_model, return_fitted_val=True)
    finally:
        pyhf.set_backend(*saved)


@pytest.mark.parametrize("fixed_poi", [None, 2.0])
def test_best_fit_agrees_with_pyhf(model, fixed_poi):
    best, twice_nll = _pyhf_fit(model, fixed_poi)
    r = minimize(model, fix=None if fixed_poi is None else {model.poi_index: fixed_poi})
    assert r.valid and r.edm < 1e-9
    assert 2 * r.nll == pytest.approx(float(twice_nll), rel=1e-6, abs=1e-6)
    assert 2 * r.nll <= float(twice_nll) + 1e-8  # at least as low as pyhf's minimum (kinks: ~1e-9)
    # with code1/code0 an alpha may sit at its kink (alpha = 0), where MIGRAD stops ~1e-4 away
    smooth = model.interpolation_codes == {"normsys": "code4", "histosys": "code4p"}
    assert np.max(np.abs(r.x - np.asarray(best))) < (1e-4 if smooth else 3e-4)
    # MIGRAD (tolerance MIGRAD_TOL, strategy 0) on the same NLL agrees too; it stops early at kinks
    m = minimize(model, fix=None if fixed_poi is None else {model.poi_index: fixed_poi}, method="migrad")
    assert m.valid and m.nll >= r.nll - 1e-9 and m.nll == pytest.approx(r.nll, abs=1e-5 if smooth else 1e-2)


def test_other_measurement_and_poi():
    m = from_workspace(toy_workspace(), measurement="qcd_norm")
    assert m.poi_name == "k_qcd" and m.poi_index == m.index("k_qcd")
    i = m.index("lumi")
    assert m.auxdata[list(m.constraints.gauss_param).index(i)] == 1.02
    assert not m.fixed[m.index("sig_theory")]  # fixed only in the "main" measurement
    pm, data = m.pyhf_model, pyhf_data(m)
    for th in random_points(m, 5, seed=6):
        assert m.logpdf(th) == pytest.approx(float(pm.logpdf(th, data)[0]), rel=1e-8, abs=0)
    o = from_workspace(toy_workspace(), poi="k_qcd")
    assert o.poi_name == "k_qcd" and o.init[o.index("mu")] == 0.5


def test_extra_sample_equals_the_sample_written_into_the_workspace():
    """An ExtraSample (own normfactor, relative histosys, template changed later) gives the same
    logpdf as pyhf with that sample written into the workspace."""
    from xfit.histfactory import ExtraSample

    ratios = {"hi_data": [1.1, 1.05, 0.98], "lo_data": [0.92, 0.96, 1.01]}
    extra = ExtraSample("xs", "mu_x", {"sr": np.zeros(3), "cr": np.zeros(2)},
                        {"sr": [{"type": "histosys", "name": "jes", "relative": True, "data": ratios},
                                {"type": "lumi", "name": "lumi", "data": None}],
                         "cr": [{"type": "normsys", "name": "bkg_norm", "data": {"hi": 1.2, "lo": 0.7}}]},
                        norm_bounds=(0.0, 5.0), norm_init=0.0)
    m = HistFactoryModel(toy_workspace(), [extra])
    assert m.par_order[-1] == "mu_x" and m.par_names[-1] == "mu_x" and m.npars == 20
    sr, cr = np.array([2.0, 5.0, 1.0]), np.array([0.5, 0.25])
    m.set_sample_template("sr", "xs", sr)
    m.set_sample_template("cr", "xs", cr)
    spec = toy_workspace()
    spec["channels"][0]["samples"].append({"name": "xs", "data": list(sr), "modifiers": [
        {"type": "normfactor", "name": "mu_x", "data": None},
        {"type": "histosys", "name": "jes", "data": {k: list(np.array(v) * sr) for k, v in ratios.items()}},
        {"type": "lumi", "name": "lumi", "data": None}]})
    spec["channels"][1]["samples"].append({"name": "xs", "data": list(cr), "modifiers": [
        {"type": "normfactor", "name": "mu_x", "data": None},
        {"type": "normsys", "name": "bkg_norm", "data": {"hi": 1.2, "lo": 0.7}}]})
    ref = HistFactoryModel(spec)
    for th in random_points(m, 5, seed=11):
        th[-1] = 1.7
        th_ref = np.empty(ref.npars)
        for name, sl in ref.par_slices.items():
            th_ref[sl] = th[m.par_slices[name]]
        assert m.logpdf(th) == pytest.approx(float(ref.pyhf_model.logpdf(th_ref, pyhf_data(ref))[0]), rel=1e-10)
    base = HistFactoryModel(toy_workspace())
    th = base.init.copy()
    assert m.nll(np.append(th, 0.0)) == pytest.approx(base.nll(th), rel=1e-14)  # mu_x = 0: the original model


def test_evaluation_cache_follows_data_and_templates():
    """The Hessian reuses the last gradient's pieces only for the same point, data and templates."""
    m = HistFactoryModel(toy_workspace())
    th = random_points(m, 1, seed=12)[0]
    fresh = HistFactoryModel(toy_workspace())
    _, g = m.nll_and_grad(th)
    g[:] = 0.0  # the caller owns the returned gradient
    assert np.array_equal(m.nll_and_grad(th)[1], fresh.nll_and_grad(th)[1])
    main, aux = m.asimov_data(m.init)
    other = m.with_data(main, aux)
    fresh.set_data(main, aux)
    assert np.array_equal(other.hessian(th), fresh.hessian(th))
    assert not np.allclose(m.nll_grad_hess(th)[1], fresh.nll_grad_hess(th)[1])
    m.nll_and_grad(th)
    m.set_sample_template("sr", "signal", [1.0, 2.0, 3.0])
    spec = toy_workspace()
    spec["channels"][0]["samples"][0]["data"] = [1.0, 2.0, 3.0]
    spec["channels"][0]["samples"][0]["modifiers"][3]["data"] = {"hi_data": [1.6, 2.5, 2.9], "lo_data": [0.5, 1.2, 3.3]}
    ref = HistFactoryModel(spec)
    assert m.nll_grad_hess(th)[0] == pytest.approx(ref.nll(th), rel=1e-14)
    assert np.allclose(m.hessian(th), ref.hessian(th), rtol=1e-12, atol=0)


def _simple_workspaces():
    """Workspaces of pyhf.simplemodels (no histosys / no normsys / no local parameters)."""
    un = pyhf.simplemodels.uncorrelated_background(signal=[5.0, 10.0], bkg=[50.0, 60.0], bkg_uncertainty=[5.0, 12.0])
    co = pyhf.simplemodels.correlated_background(signal=[12.0, 11.0], bkg=[50.0, 52.0], bkg_up=[45.0, 57.0],
                                                 bkg_down=[55.0, 47.0])
    out = {}
    for name, m, obs in (("uncorrelated", un, [62, 63]), ("correlated", co, [60, 70])):
        out[name] = {"version": "1.0.0", "channels": m.spec["channels"],
                     "observations": [{"name": m.spec["channels"][0]["name"], "data": obs}],
                     "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}]}
    return out


@pytest.mark.parametrize("name", ["uncorrelated", "correlated"])
def test_pyhf_simplemodels(name):
    m = from_workspace(_simple_workspaces()[name])
    pm, data = m.pyhf_model, pyhf_data(m)
    for th in random_points(m, 10, seed=13):
        assert m.logpdf(th) == pytest.approx(float(pm.logpdf(th, data)[0]), rel=1e-8, abs=0)
    best, twice_nll = _pyhf_fit(m)
    r = minimize(m)
    assert r.valid and 2 * r.nll == pytest.approx(float(twice_nll), rel=1e-6, abs=1e-6)
    assert np.max(np.abs(r.x - np.asarray(best))) < 1e-4
