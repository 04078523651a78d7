"""The statistics stack of xfit.inference: test statistics, asymptotic calculator, intervals,
results and the JSON policy, the single Minuit set-up, and the one-way import graph."""
from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from xfit.inference import calculators, intervals, mle, results
from xfit.inference import test_statistics as ts

PACKAGE = Path(__file__).resolve().parents[2] / "xfit"


# --- test statistics -----------------------------------------------------------------------

def test_statistics_follow_cowan_et_al():
    assert ts.t_mu(10.0, 8.0) == 4.0 and ts.t_mu(8.0, 8.0 + 1e-12) == 0.0
    assert ts.q0(10.0, 8.0, mu_hat=1.0) == 4.0 and ts.q0(10.0, 8.0, mu_hat=-0.5) == 0.0  # Eq. 12
    assert ts.q_mu(2.0, 10.0, 8.0, mu_hat=1.0) == 4.0 and ts.q_mu(0.5, 10.0, 8.0, mu_hat=1.0) == 0.0  # Eq. 14
    # Eq. 16: mu_hat < 0 -> denominator at mu = 0
    assert ts.q_mu_tilde(2.0, 10.0, 8.0, mu_hat=-1.0, nll_zero=9.0) == 2.0
    assert ts.q_mu_tilde(2.0, 10.0, 8.0, mu_hat=1.0) == 4.0 and ts.q_mu_tilde(1.0, 10.0, 8.0, mu_hat=1.0) == 0.0
    with pytest.raises(ValueError, match="nll_zero"):
        ts.q_mu_tilde(2.0, 10.0, 8.0, mu_hat=-1.0)
    assert ts.significance(9.0) == 3.0 and ts.significance(-1e-12) == 0.0  # Eq. 53
    for f in (ts.t_mu, ts.q0, ts.q_mu, ts.q_mu_tilde, ts.significance):
        assert re.search(r"Eq\. \(\d+\)", f.__doc__), f.__name__


# --- asymptotic CLs ------------------------------------------------------------------------

def test_cls_and_expected_band_are_pyhfs():
    import pyhf
    from pyhf.infer.calculators import AsymptoticTestStatDistribution as Dist

    pyhf.set_backend("numpy")
    for qt, qa in [(0.0, 4.0), (1.0, 4.0), (9.0, 4.0), (0.3, 0.5), (12.0, 2.0), (0.2, 0.3)]:
        sqa = math.sqrt(qa)
        t = math.sqrt(qt) - sqa if math.sqrt(qt) <= sqa else (qt - qa) / (2 * sqa)
        sb, b = Dist(-sqa), Dist(0.0)
        clsb, clb, cls = calculators.cls_from_q(qt, qa)
        assert clsb == pytest.approx(float(sb.pvalue(t)), rel=1e-12)
        assert clb == pytest.approx(float(b.pvalue(t)), rel=1e-12)
        assert cls == pytest.approx(clsb / clb, rel=1e-14)
        ref = [float(sb.pvalue(b.expected_value(n))) / float(b.pvalue(b.expected_value(n)))
               for n in (2, 1, 0, -1, -2)]
        assert calculators.expected_cls(qa) == pytest.approx(ref, rel=1e-12)
    for n in calculators.BANDS:  # the expected limit's q_A gives expected CLs = 0.05 in band n
        s = calculators.expected_sqrt_qa(n)
        assert calculators.expected_cls(s * s)[calculators.BANDS.index(n)] == pytest.approx(0.05, rel=1e-10)
    assert calculators.cls_from_q(1.0, 0.0) == (1.0, 1.0, 1.0)


def test_calculator_is_an_interface_for_toys_later():
    assert issubclass(calculators.AsymptoticCalculator, calculators.Calculator)
    with pytest.raises(TypeError):
        calculators.Calculator()


def _counting_model(n_obs=12.0, s=5.0, b=8.0, sigma_b=1.0):
    from xfit.histfactory import HistFactoryModel

    spec = {"channels": [{"name": "c", "samples": [
        {"name": "s", "data": [s], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
        {"name": "b", "data": [b], "modifiers": [{"name": "unc", "type": "shapesys", "data": [sigma_b]}]}]}],
        "observations": [{"name": "c", "data": [n_obs]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}], "version": "1.0.0"}
    return HistFactoryModel(spec)


def test_intervals_solve_cls_with_the_calculator():
    calc = calculators.AsymptoticCalculator(_counting_model())
    ul = intervals.upper_limit(calc)
    e = [ul.exp_limits[k] for k in ("-2", "-1", "0", "1", "2")]
    assert e == sorted(e) and ul.obs_limit > ul.mu_hat > 0
    assert calc.hypotest(ul.obs_limit).CLs == pytest.approx(0.05, abs=1e-5)
    for k, n in enumerate(calculators.BANDS):
        assert calc.hypotest(ul.exp_limits[str(n)]).CLs_exp[k] == pytest.approx(0.05, abs=1e-5)
    ul90 = intervals.upper_limit(calc, cl=0.90)
    assert ul90.obs_limit < ul.obs_limit
    assert ul.summary()["exp_limits"] == e


# --- mle -----------------------------------------------------------------------------------

def test_mle_owns_errordef_and_the_minimiser():
    m, ok = mle.migrad(lambda a, b: (a - 1) ** 2 + ((b + 2) / 3) ** 2, ["a", "b"], {"a": 0.0, "b": 0.0})
    assert ok and m.errordef == mle.ERRORDEF_CHI2 == 1.0
    assert m.errors["a"] == pytest.approx(1.0, rel=1e-3) and m.errors["b"] == pytest.approx(3.0, rel=1e-3)
    m, _ = mle.migrad(lambda a: 0.5 * a * a, ["a"], {"a": 1.0}, errordef=mle.ERRORDEF_NLL)
    assert m.errors["a"] == pytest.approx(1.0, rel=1e-3)
    m, _ = mle.migrad(lambda a, b: (a - b) ** 2 + b * b, ["a", "b"], {"a": 1.0, "b": 1.0},
                      limits={"a": (0.5, None)}, fixed={"b": 0.2})
    assert m.values["b"] == 0.2 and m.values["a"] == pytest.approx(0.5, abs=1e-6)
    model = _counting_model()
    r = mle.fit(model)
    r0 = mle.fixed_poi_fit(model, 0.0)
    assert r.valid and r0.x[model.poi_index] == 0.0 and r0.nll > r.nll
    assert mle.twice_nll(r.nll) == pytest.approx(-2 * model.logpdf(r.x))
    assert mle.hesse(model, r.x).shape == (model.npars, model.npars)


def _code_files():
    return [p for p in PACKAGE.rglob("*.py") if "histfactory" not in p.parts]


def test_one_minuit_setup_outside_histfactory():
    hits = [(p.relative_to(PACKAGE), n) for p in _code_files()
            for n, line in enumerate(p.read_text().splitlines(), 1) if "Minuit(" in line]
    assert [str(p) for p, _ in hits] == ["inference/mle.py"], hits


def test_no_library_module_imports_the_cli():
    offenders = []
    for p in PACKAGE.rglob("*.py"):
        if "cli" in p.relative_to(PACKAGE).parts or p.name == "__main__.py":
            continue
        text = p.read_text()
        if "cli" not in text:  # an import of the CLI names it: only files that say "cli" are parsed (~0.4 s less)
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom):
                mod = ("." * node.level) + (node.module or "")
                if re.match(r"^(\.+|xfit\.)cli\b", mod) or mod.startswith("xfit.cli"):
                    offenders.append(str(p.relative_to(PACKAGE)))
            elif isinstance(node, ast.Import) and any(a.name.startswith("xfit.cli") for a in node.names):
                offenders.append(str(p.relative_to(PACKAGE)))
    assert offenders == []


def test_inference_does_not_import_analyses():
    """physics -> models -> likelihood terms / histfactory -> inference -> analyses -> CLI."""
    for p in (PACKAGE / "inference").glob("*.py"):
        text = p.read_text()
        for upper in ("belle2", "reproduce", "cli", "analysis", "anomalons"):
            assert not re.search(rf"from \.\.{upper}\b|import xfit\.{upper}\b|from xfit\.{upper}\b", text), (p, upper)


# --- results and the JSON policy -----------------------------------------------------------

def test_one_json_policy():
    from xfit.cli import common
    from xfit.inference import store

    assert common.to_jsonable is results.to_jsonable
    value = {"a": np.float64(np.nan), "b": np.arange(3), 1: (np.inf, 2.5), "c": np.bool_(True), "d": 1 + 2j}
    strict = results.to_jsonable(value)
    assert strict == {"a": None, "b": [0, 1, 2], "1": [None, 2.5], "c": True, "d": [1.0, 2.0]}
    json.dumps(strict, allow_nan=False)
    kept = store._plain(value)  # the store keeps NaN (its format round-trips them)
    assert math.isnan(kept["a"]) and kept["1"][0] == math.inf
    assert json.loads(common.dump_json(value)) == strict


def test_result_base_to_dict_save_repr(tmp_path):
    from xfit.belle2.fit import SMFit
    from xfit.belle2.scan import MassPoint, ScanResult
    from xfit.inference.fit import FitResult
    from xfit.inference.limits import CouplingLimit
    from xfit.inference.scan import ScanResult as ProfileScanResult

    for cls in (SMFit, MassPoint, ScanResult, FitResult, CouplingLimit, ProfileScanResult,
                calculators.HypoTestResult, intervals.UpperLimitResult):
        assert issubclass(cls, results.Result), cls
    r = calculators.HypoTestResult(1.0, 2.0, float("nan"), 0.1, 0.5, 0.2, [0.1] * 5, 0.3)
    d = r.to_dict()
    assert d["q_asimov"] is None and d["CLs_exp"] == [0.1] * 5
    path = r.save(tmp_path / "sub" / "r.json")
    assert json.loads(path.read_text()) == d
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # no temporary file left
    text = repr(r)
    assert text.startswith("<HypoTestResult ") and "CLs=0.2" in text and "CLs_exp=<5 items>" in text
    u = intervals.UpperLimitResult(None, {"0": 1.0})
    assert u.to_dict()["obs_limit"] is None and "UpperLimitResult" in repr(u)


def test_q_tilde_with_negative_mu_hat_uses_the_fit_at_zero():
    """Eq. (16) for mu_hat < 0 (possible only if the POI bounds allow it)."""
    from xfit.histfactory import HistFactoryModel

    spec = {"channels": [{"name": "c", "samples": [
        {"name": "s", "data": [5.0], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
        {"name": "b", "data": [10.0], "modifiers": [{"name": "unc", "type": "shapesys", "data": [1.0]}]}]}],
        "observations": [{"name": "c", "data": [6.0]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": [
            {"name": "mu", "bounds": [[-5.0, 10.0]]}]}}], "version": "1.0.0"}
    model = HistFactoryModel(spec)
    calc = calculators.AsymptoticCalculator(model)
    free = calc.free_fit()
    mu_hat = float(free.x[model.poi_index])
    assert mu_hat < 0
    q = calc.q_tilde(1.0, mu_hat, free.nll)[0]
    ref = 2 * (mle.fixed_poi_fit(model, 1.0).nll - mle.fixed_poi_fit(model, 0.0).nll)
    assert q == pytest.approx(ref, rel=1e-8)
    assert q < 2 * (mle.fixed_poi_fit(model, 1.0).nll - free.nll)  # smaller than q_mu
