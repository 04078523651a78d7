"""``xfit workspace fit|cls|limit`` agree with stock pyhf on small generated workspaces
(normsys, histosys, staterror, shapesys, lumi, two channels) and on the Belle II workspace.
The Belle II tests need $XFIT_DATA_DIR (set by conftest) and fail, never skip, without it."""
from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path

import numpy as np
import pytest

from xfit.cli import main


def make_spec(obs=(58, 61, 23), sig=1.0, poi_bounds=None) -> dict:
    """Two channels; signal with normfactor, lumi, normsys + histosys sharing a name;
    background with lumi, shapesys, staterror, normsys; a control region."""
    spec = {
        "channels": [
            {"name": "sr", "samples": [
                {"name": "signal", "data": [5.0 * sig, 9.0 * sig], "modifiers": [
                    {"name": "mu", "type": "normfactor", "data": None},
                    {"name": "lumi", "type": "lumi", "data": None},
                    {"name": "jes", "type": "normsys", "data": {"hi": 1.1, "lo": 0.85}},
                    {"name": "jes", "type": "histosys",
                     "data": {"hi_data": [5.5 * sig, 9.4 * sig], "lo_data": [4.4 * sig, 8.6 * sig]}}]},
                {"name": "bkg", "data": [50.0, 55.0], "modifiers": [
                    {"name": "lumi", "type": "lumi", "data": None},
                    {"name": "bkg_shape", "type": "shapesys", "data": [5.0, 8.0]},
                    {"name": "staterror_sr", "type": "staterror", "data": [2.0, 3.0]},
                    {"name": "xsec", "type": "normsys", "data": {"hi": 1.05, "lo": 0.95}}]}]},
            {"name": "cr", "samples": [
                {"name": "bkg", "data": [20.0], "modifiers": [
                    {"name": "staterror_cr", "type": "staterror", "data": [1.5]},
                    {"name": "jes", "type": "normsys", "data": {"hi": 1.2, "lo": 0.9}},
                    {"name": "jes", "type": "histosys", "data": {"hi_data": [21.0], "lo_data": [19.5]}}]}]},
        ],
        "observations": [{"name": "sr", "data": list(obs[:2])}, {"name": "cr", "data": [obs[2]]}],
        "measurements": [{"name": "meas", "config": {"poi": "mu", "parameters": [
            {"name": "lumi", "auxdata": [1.0], "sigmas": [0.02], "bounds": [[0.5, 1.5]], "inits": [1.0]}]}}],
        "version": "1.0.0",
    }
    if poi_bounds is not None:
        spec["measurements"][0]["config"]["parameters"].append({"name": "mu", "bounds": [list(poi_bounds)]})
    return spec


SPECS = {
    "near_background": make_spec(),
    "excess": make_spec(obs=(66, 75, 21), sig=1.5, poi_bounds=(0.0, 20.0)),
}


@pytest.fixture(params=sorted(SPECS))
def ws_file(request, tmp_path) -> tuple[Path, dict]:
    spec = SPECS[request.param]
    path = tmp_path / f"{request.param}.json"
    path.write_text(json.dumps(spec))
    return path, spec


def run_json(capsys, *argv):
    assert main(["workspace", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def pyhf_numpy(tolerance=1e-5):
    import pyhf

    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0, tolerance=tolerance))
    return pyhf


def stock_model(spec: dict, poi: str | None = None):
    """(pyhf.Workspace, pyhf.Model, data) of ``spec`` by stock pyhf (numpy backend), built and
    schema-validated once per content for the whole module (pyhf's fits and hypotests only read
    them); ``poi`` as ``Workspace.model(poi_name=...)``."""
    return _stock_model(json.dumps(spec, sort_keys=True), poi)


@functools.cache
def _stock_model(text: str, poi: str | None):
    import pyhf  # callers set the numpy backend (pyhf_numpy)

    ws = pyhf.Workspace(json.loads(text))
    m = ws.model() if poi is None else ws.model(poi_name=poi)
    return ws, m, ws.data(m)


def test_fit_agrees_with_pyhf(ws_file, capsys):
    path, spec = ws_file
    out = run_json(capsys, "fit", str(path))
    assert set(out) == {"twice_nll", "parameters", "converged", "fit_seconds"} and out["converged"]
    pyhf = pyhf_numpy()
    ws, m, data = stock_model(spec)
    pars, twice_nll = pyhf.infer.mle.fit(data, m, return_fitted_val=True)
    assert list(out["parameters"]) == list(m.config.par_names)  # e.g. staterror_cr[0]
    assert out["twice_nll"] == pytest.approx(float(twice_nll), abs=1e-3)
    ours = np.array([d["value"] for d in out["parameters"].values()])
    # our minimum is at least as deep; the point itself gives pyhf's logpdf back
    assert out["twice_nll"] <= float(twice_nll) + 1e-6
    assert out["twice_nll"] == pytest.approx(-2 * float(m.logpdf(ours, data)[0]), rel=1e-10)
    assert np.allclose(ours, pars, atol=2e-3)
    assert all(d["error"] > 0 for d in out["parameters"].values())


@pytest.mark.parametrize("mu", [0.5, 2.0])
def test_cls_agrees_with_pyhf_hypotest(ws_file, capsys, mu):
    path, spec = ws_file
    out = run_json(capsys, "cls", str(path), "--poi-value", str(mu))
    assert set(out) == {"CLs_obs", "CLs_exp"} and len(out["CLs_exp"]) == 5
    pyhf = pyhf_numpy()
    ws, m, data = stock_model(spec)
    obs, exp = pyhf.infer.hypotest(mu, data, m, test_stat="qtilde", return_expected_set=True)
    assert out["CLs_obs"] == pytest.approx(float(obs), abs=1e-3)
    assert out["CLs_exp"] == pytest.approx([float(e) for e in exp], abs=1e-3)
    assert out["CLs_exp"] == sorted(out["CLs_exp"])


def test_limit_is_where_pyhf_cls_crosses(ws_file, capsys):
    """pyhf's own upper_limit takes ~25 s (toms748 over many hypotests): instead, pyhf's
    hypotest at our observed and median expected limits gives CLs = 0.05."""
    path, spec = ws_file
    out = run_json(capsys, "limit", str(path))
    assert set(out) == {"obs_limit", "exp_limits"} and len(out["exp_limits"]) == 5
    assert out["exp_limits"] == sorted(out["exp_limits"])
    pyhf = pyhf_numpy()
    ws, m, data = stock_model(spec)
    obs = pyhf.infer.hypotest(out["obs_limit"], data, m, test_stat="qtilde")
    assert float(obs) == pytest.approx(0.05, abs=1e-3)
    _, exp = pyhf.infer.hypotest(out["exp_limits"][2], data, m, test_stat="qtilde",
                                 return_expected_set=True)
    assert float(exp[2]) == pytest.approx(0.05, abs=1e-3)
    # --cl changes the level: a 90 % CL limit is lower
    out90 = run_json(capsys, "limit", str(path), "--cl", "0.9")
    assert out90["obs_limit"] < out["obs_limit"]


def test_human_readable_tables(ws_file, capsys):
    path, _ = ws_file
    assert main(["workspace", "fit", str(path)]) == 0
    text = capsys.readouterr().out
    assert "-2 ln L" in text and "staterror_sr[1]" in text
    assert main(["workspace", "cls", str(path), "--poi-value", "1"]) == 0
    assert "CLs observed" in capsys.readouterr().out
    assert main(["workspace", "limit", str(path)]) == 0
    assert "expected +2 sigma" in capsys.readouterr().out


def test_poi_and_measurement_options(tmp_path, capsys):
    spec = make_spec()
    spec["measurements"].append(copy.deepcopy(spec["measurements"][0]))
    spec["measurements"][1]["name"] = "other"
    path = tmp_path / "ws.json"
    path.write_text(json.dumps(spec))
    a = run_json(capsys, "fit", str(path), "--measurement", "other")
    b = run_json(capsys, "fit", str(path))
    assert a["twice_nll"] == pytest.approx(b["twice_nll"], rel=1e-12)
    # --poi: CLs for the cross-section normsys instead of mu
    pyhf = pyhf_numpy()
    _, m, data = stock_model(spec, poi="xsec")
    out = run_json(capsys, "cls", str(path), "--poi", "xsec", "--poi-value", "1.0")
    ref = pyhf.infer.hypotest(1.0, data, m, test_stat="qtilde")
    assert out["CLs_obs"] == pytest.approx(float(ref), abs=1e-3)


@pytest.mark.parametrize("argv, message", [
    (["fit", "{file}", "--measurement", "nope"], "--measurement 'nope'.*accepted: meas"),
    (["fit", "{file}", "--poi", "zz"], "--poi 'zz'.*accepted"),
    (["cls", "{file}", "--poi-value", "abc"], "--poi-value"),
    (["cls", "{file}", "--poi-value", "-3"], "--poi-value must be within"),
    (["limit", "{file}", "--cl", "95"], "--cl must be between 0 and 1"),
    (["fit", "{missing}"], "is not a file"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, message):
    path = tmp_path / "ws.json"
    path.write_text(json.dumps(make_spec()))
    argv = [a.format(file=path, missing=tmp_path / "missing.json") for a in argv]
    assert main(["workspace", *argv]) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    import re

    assert re.search(message, err), err


@pytest.mark.parametrize("mangle, message", [
    (lambda s: s["channels"][0]["samples"][0].pop("data"), "'data' is a required property"),
    (lambda s: s.pop("measurements"), "'measurements' is a required property"),
    (lambda s: s["channels"][0]["samples"][0]["modifiers"][0].__setitem__("type", "magic"), "valid pyhf workspace"),
])
def test_invalid_workspace_is_the_schema_error_in_one_line(tmp_path, capsys, mangle, message):
    spec = make_spec()
    mangle(spec)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    rc = main(["workspace", "fit", str(path), "--json"])
    err = capsys.readouterr().err
    assert rc != 0 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "not a valid pyhf workspace" in err and message in err
    path.write_text("{not json")
    assert main(["workspace", "fit", str(path)]) != 0
    assert "not valid JSON" in capsys.readouterr().err


# --- the Belle II workspace ----------------------------------------------------------------

def belle2_workspace() -> Path:
    path = Path(os.environ["XFIT_DATA_DIR"]) / "belle2_knunu" / "combined_likelihood.json"
    assert path.is_file(), f"Belle II workspace missing: {path} (xfit data fetch belle2-knunu)"
    return path


def test_belle2_workspace_fit_agrees_with_pyhf_and_fit_sm(capsys, belle2_fit_sm_json):
    """twice_nll against pyhf's logpdf at our minimum (a stock pyhf fit of the 232 parameters
    takes 30-90 s, even started at our minimum: not repeated here, see the slow test of
    tests/belle2/test_belle2_fit.py); mu and its error equal ``xfit belle2 fit-sm``."""
    path = belle2_workspace()
    out = run_json(capsys, "fit", str(path))
    assert out["converged"] and len(out["parameters"]) == 232
    pyhf = pyhf_numpy(tolerance=1e-3)
    spec = json.loads(path.read_text())
    ws = pyhf.Workspace(spec)
    m = ws.model()
    data = ws.data(m)
    ours = np.array([d["value"] for d in out["parameters"].values()])
    assert list(out["parameters"]) == list(m.config.par_names)
    assert out["twice_nll"] == pytest.approx(-2 * float(m.logpdf(ours, data)[0]), abs=1e-6)
    sm = belle2_fit_sm_json  # `xfit belle2 fit-sm --json`, once per session (tests/conftest.py)
    assert out["parameters"]["mu"]["value"] == pytest.approx(sm["mu"], rel=1e-6)
    assert out["parameters"]["mu"]["error"] == pytest.approx(sm["mu_err"], rel=1e-6)


def test_belle2_workspace_cls_and_limit(capsys):
    """CLs of the published SM fit's POI: fast (a few fits); consistent with its limit."""
    path = belle2_workspace()
    lim = run_json(capsys, "limit", str(path))
    assert lim["exp_limits"] == sorted(lim["exp_limits"]) and lim["obs_limit"] > 4.6  # mu_hat = 4.6
    out = run_json(capsys, "cls", str(path), "--poi-value", str(lim["obs_limit"]))
    assert out["CLs_obs"] == pytest.approx(0.05, abs=1e-4)
