"""Pulls, impacts and saturated goodness of fit (xfit.inference.diagnostics).

A small workspace written here (every modifier type with a constraint) is checked against
direct refits and stock pyhf; the Belle II workspace ($XFIT_DATA_DIR, fails without it) for
shapes, order and finiteness.
"""
import json
import math

import numpy as np
import pyhf
import pytest
from scipy import stats

from xfit.errors import InputError
from xfit.histfactory import HistFactoryModel, minimize
from xfit.inference import diagnostics as D


def small_spec() -> dict:
    return {
        "version": "1.0.0",
        "channels": [
            {"name": "SR", "samples": [
                {"name": "sig", "data": [4.0, 9.0, 5.0], "modifiers": [
                    {"name": "mu", "type": "normfactor", "data": None},
                    {"name": "lumi", "type": "lumi", "data": None},
                    {"name": "stat_sr", "type": "staterror", "data": [0.5, 0.8, 0.6]}]},
                {"name": "bkg", "data": [30.0, 22.0, 12.0], "modifiers": [
                    {"name": "bnorm", "type": "normsys", "data": {"hi": 1.15, "lo": 0.88}},
                    {"name": "shape", "type": "histosys",
                     "data": {"hi_data": [33.0, 22.5, 10.0], "lo_data": [28.0, 21.0, 13.5]}},
                    {"name": "stat_sr", "type": "staterror", "data": [2.0, 1.5, 1.2]}]},
            ]},
            {"name": "CR", "samples": [
                {"name": "bkg", "data": [60.0, 45.0], "modifiers": [
                    {"name": "bnorm", "type": "normsys", "data": {"hi": 1.15, "lo": 0.88}},
                    {"name": "cr_shape", "type": "shapesys", "data": [6.0, 5.0]}]},
            ]},
        ],
        "observations": [{"name": "SR", "data": [41.0, 38.0, 15.0]}, {"name": "CR", "data": [70.0, 41.0]}],
        "measurements": [{"name": "meas", "config": {"poi": "mu", "parameters": [
            {"name": "lumi", "auxdata": [1.0], "sigmas": [0.02], "bounds": [[0.5, 1.5]], "inits": [1.0]}]}}],
    }


@pytest.fixture(scope="module")
def small():
    model = HistFactoryModel(small_spec())
    fit = minimize(model)
    return model, fit


def test_constraints_of_every_modifier_type(small):
    model, _ = small
    c = D.constraints(model)
    by = dict(zip(c.names, zip(c.theta0, c.sigma, c.kind, c.modifier)))
    assert "mu" not in by  # unconstrained
    assert by["bnorm"] == (0.0, 1.0, "normal", "normsys")
    assert by["shape"] == (0.0, 1.0, "normal", "histosys")
    assert by["lumi"][:3] == (1.0, 0.02, "normal")
    # staterror: sigma = sqrt(sum of squared uncertainties) / sum of nominal, per bin
    s0 = math.hypot(0.5, 2.0) / 34.0
    assert by["stat_sr[0]"][1] == pytest.approx(s0, rel=1e-12) and by["stat_sr[0]"][0] == 1.0
    # shapesys: Poisson, tau = (nominal / sigma)^2, sigma_pre = 1/sqrt(tau) = 6/60
    assert by["cr_shape[0]"][2] == "poisson" and by["cr_shape[0]"][1] == pytest.approx(0.1, rel=1e-12)
    assert by["cr_shape[1]"][0] == pytest.approx(1.0)


def test_pulls_against_stock_pyhf(small):
    model, fit = small
    p = D.pulls(model, fit)
    assert len(p) == model.npars - 1  # every parameter but mu
    pm = pyhf.Workspace(small_spec()).model()
    data = pyhf.Workspace(small_spec()).data(pm)
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0, tolerance=1e-5))
    pars = pyhf.infer.mle.fit(data, pm, return_uncertainties=True)
    c = D.constraints(model)
    for i, name, t0, s in zip(c.index, c.names, c.theta0, c.sigma):
        assert p[name]["theta"] == pytest.approx(pars[i, 0], abs=2e-3 * s)
        assert p[name]["value"] == pytest.approx((pars[i, 0] - t0) / s, abs=2e-3)
        assert p[name]["error"] == pytest.approx(pars[i, 1] / s, rel=2e-2)  # MINUIT HESSE vs exact Hessian
        assert 0 < p[name]["error"] <= 1.0 + 1e-9  # data only constrain further
    pyhf.set_backend("numpy")


def test_impacts_against_direct_refits_and_pyhf(small):
    model, fit = small
    imp = D.impacts(model, fit, "mu")
    assert len(imp) == model.npars - 1
    size = [max(abs(d["delta_mu_up"]), abs(d["delta_mu_down"])) for d in imp]
    assert size == sorted(size, reverse=True)
    err = D.postfit_errors(model, fit)
    mu_hat = fit.x[model.poi_index]
    for d in imp[:3]:
        i = model.par_names.index(d["name"])
        assert d["theta_up"] == pytest.approx(fit.x[i] + err[i])
        r = minimize(model, fix={i: fit.x[i] + err[i]})  # cold start: the same minimum
        assert d["delta_mu_up"] == pytest.approx(r.x[model.poi_index] - mu_hat, abs=1e-4)  # fit precision
    # stock pyhf refit for the largest impact, pre-fit down variation
    d = imp[0]
    i = model.par_names.index(d["name"])
    pm = pyhf.Workspace(small_spec()).model()
    data = pyhf.Workspace(small_spec()).data(pm)
    init = list(pm.config.suggested_init())
    init[i] = d["theta_prefit_down"]
    fixed = list(pm.config.suggested_fixed())
    fixed[i] = True
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0, tolerance=1e-5))
    pars = pyhf.infer.mle.fit(data, pm, init_pars=init, fixed_params=fixed)
    pyhf.set_backend("numpy")
    assert d["prefit_down"] == pytest.approx(pars[model.poi_index] - mu_hat, abs=2e-3)
    # impacts are roughly symmetric and a pre-fit shift is larger than a post-fit one for a constrained parameter
    bn = next(x for x in imp if x["name"] == "bnorm")
    assert bn["delta_mu_up"] * bn["delta_mu_down"] < 0
    assert abs(bn["prefit_up"]) >= abs(bn["delta_mu_up"]) * 0.99


def _tight_shifts(model, fit, d, poi):
    """The four POI shifts of impact entry ``d`` by refits from the best fit converged to EDM 1e-13."""
    i = model.par_names.index(d["name"])
    out = {}
    for key, theta in (("delta_mu_up", "theta_up"), ("delta_mu_down", "theta_down"),
                       ("prefit_up", "theta_prefit_up"), ("prefit_down", "theta_prefit_down")):
        r = minimize(model, init=fit.x, fix={i: d[theta]}, edm=1e-13)
        out[key] = float(r.x[poi] - fit.x[poi])
    return out


def test_tangent_started_refits_reach_the_conditional_minima(small):
    """The refits start on the tangent of the conditional minimum with the best fit's Hessian and
    converge to IMPACT_EDM: every shift within 1.5e-5 of refits converged to EDM 1e-13 (the
    refits from the best fit to NEWTON_EDM, used before, are within 2.5e-5 on Belle II), on the
    small workspace and on Belle II parameters whose shifts differed most between the two."""
    from xfit.belle2 import files

    model, fit = small
    for d in D.impacts(model, fit, "mu"):
        tight = _tight_shifts(model, fit, d, model.poi_index)
        assert all(d[k] == pytest.approx(v, abs=1.5e-5) for k, v in tight.items()), d["name"]
    belle2 = HistFactoryModel(files.load_workspace())
    best = minimize(belle2)
    names = ["uncorr_siguncrt_signal_zoomSR_Y4S[6]", "uncorr_siguncrt_signal_zoomSR_Y4S[3]", "corr_bdt_c1",
             "qqbar_err_1_had[5]"]
    for d in D.impacts(belle2, best, parameters=names):
        tight = _tight_shifts(belle2, best, d, belle2.poi_index)
        assert all(d[k] == pytest.approx(v, abs=1.5e-5) for k, v in tight.items()), d["name"]


def test_impacts_with_a_fixed_parameter_in_the_fit(small):
    model, _ = small
    i = model.index("lumi")
    fit = minimize(model, fix={i: 1.0})
    imp = D.impacts(model, fit, "mu")
    assert "lumi" not in {d["name"] for d in imp}
    d = imp[0]
    j = model.par_names.index(d["name"])
    r = minimize(model, fix={i: 1.0, j: d["theta_down"]})
    assert d["delta_mu_down"] == pytest.approx(r.x[model.poi_index] - fit.x[model.poi_index], abs=1e-4)


def test_gof_against_pyhf_saturated_likelihood(small):
    model, fit = small
    g = D.gof(model, fit)
    pm = pyhf.Workspace(small_spec()).model()
    data = np.asarray(pyhf.Workspace(small_spec()).data(pm), float)
    n = data[:model.nbins]
    c = D.constraints(model)
    theta_sat = np.array(pm.config.suggested_init(), float)
    theta_sat[c.index] = c.theta0
    ln_sat = float(np.sum(stats.poisson.logpmf(n, n)))
    ln_sat += float(np.squeeze(pm.constraint_logpdf(data[model.nbins:], theta_sat)))
    t_ref = 2 * (-float(np.squeeze(pm.logpdf(fit.x, data))) + ln_sat)
    assert g["t"] == pytest.approx(t_ref, rel=1e-9, abs=1e-9)
    assert g["ndof"] == 5 - 1 and g["n_free_unconstrained"] == 1
    assert g["p_value"] == pytest.approx(stats.chi2.sf(t_ref, 4))
    assert g["deviance"] + g["constraint_part"] == pytest.approx(g["t"])
    assert 0 < g["p_value"] <= 1
    # data = the fitted expectation: t is the constraint part only
    model2 = model.with_data(*model.asimov_data(fit.x))
    g2 = D.gof(model2, fit)
    assert g2["deviance"] == pytest.approx(0.0, abs=1e-10)


def test_diagnostics_json_is_json(small):
    model, fit = small
    d = D.diagnostics_json(model, fit, n_impacts=3)
    s = json.dumps(d)
    back = json.loads(s)
    assert set(back) == {"pulls", "impacts", "gof"} and len(back["impacts"]) == 3


# --- Belle II --------------------------------------------------------------------------------

def test_belle2_pulls_impacts_gof(belle2_fit_sm_json):
    # D.diagnostics_json of the Belle II SM fit, as `xfit belle2 fit-sm --json` prints it (run once
    # per session, tests/conftest.py; a fit and its best-fit vector give the same entries, below)
    d = {k: belle2_fit_sm_json[k] for k in ("pulls", "impacts", "gof")}
    assert len(d["pulls"]) == 231
    for v in d["pulls"].values():
        # sigma_post <= sigma_pre up to the curvature of the non-linear (code4) interpolation and of
        # the Poisson terms where data exceed the fit: measured max 1.052 (norm_qqbar_1_had)
        assert math.isfinite(v["value"]) and 0 < v["error"] <= 1.1
    assert len(d["impacts"]) == 231
    size = [max(abs(x["delta_mu_up"]), abs(x["delta_mu_down"])) for x in d["impacts"]]
    assert size == sorted(size, reverse=True)
    assert all(math.isfinite(x[k]) for x in d["impacts"] for k in ("delta_mu_up", "delta_mu_down",
                                                                  "prefit_up", "prefit_down"))
    # the largest post-fit impacts are of order the systematic part of sigma_mu (0.9 of 1.3)
    assert 0.2 < size[0] < 1.3
    g = d["gof"]
    assert g["ndof"] == 29 and 0 < g["p_value"] <= 1 and g["t"] > 0
    json.dumps(d)


def test_diagnostics_json_accepts_a_parameter_vector_or_a_bestfit_holder(small):
    model, fit = small

    class Holder:
        bestfit = fit.x

    a = D.diagnostics_json(model, fit, n_impacts=2)
    for other in (fit.x, Holder()):
        b = D.diagnostics_json(model, other, n_impacts=2)
        assert b["gof"] == a["gof"] and b["impacts"] == a["impacts"]
    with pytest.raises(InputError):
        D.diagnostics_json(model, np.zeros(3))


def test_impacts_of_unknown_parameters_is_an_input_error(small):
    """An unknown name gave an empty list, silently."""
    model, fit = small
    with pytest.raises(InputError, match="unknown parameter.*bogus") as info:
        D.impacts(model, fit, "mu", parameters=["bogus"])
    assert len(str(info.value).splitlines()) <= 3


def test_impacts_refuse_one_string_and_name_mixed_unknowns(small):
    """parameters="lumi" was taken letter by letter (unknown 'i', 'l', 'm'); a list mixing a
    number and a name gave a TypeError from sorting them."""
    model, fit = small
    with pytest.raises(InputError, match="parameters must be a list of names, got the string 'lumi'"):
        D.impacts(model, fit, "mu", parameters="lumi")
    with pytest.raises(InputError, match="unknown parameter.*1, bogus"):
        D.impacts(model, fit, "mu", parameters=[1, "bogus"])
