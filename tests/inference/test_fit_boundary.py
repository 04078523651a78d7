"""Fit at a boundary, tiny starts, and terms used outside their mass range."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from xfit.cli import main
from xfit.errors import ConvergenceError, InputError
from xfit.inference.fit import Fit
from xfit.likelihood import build_likelihood
from xfit.models import get_model

TAU = get_model("tau-flavor")


def test_best_fit_at_zero_reports_bound_and_upper_limit():
    lik = build_likelihood("l3_z_gamma")
    fit = Fit(TAU, lik, 2.1)
    res = fit.run()
    assert res.at_bound == {"gX": 0.0}
    ul = res.upper_limits_95["gX"]
    # one-sided 95 % CL: Delta chi2 = 2.71 above the minimum (at the bound)
    target = res.chi2_min + 2.705543454095404
    root = optimize.brentq(lambda g: fit.chi2(g) - target, 1e-6, 1.0)
    assert ul == pytest.approx(root, rel=2e-3)
    text = repr(res)
    assert "at its bound 0" in text and f"95% CL upper limit {ul:.3g}" in text and "±" not in text
    d = res.to_dict()
    assert d["errors"]["gX"] is None and d["upper_limit_95"]["gX"] == ul


def test_signal_fit_is_not_at_bound():
    res = Fit(TAU, build_likelihood("b_to_s_emiss"), 2.1).run()
    assert res.at_bound == {} and res.errors["gX"] > 0 and "±" in repr(res)


def test_tiny_start_is_not_called_flat():
    lik = build_likelihood("b_to_s_emiss")
    tiny = Fit(TAU, lik, 2.1, start={"gX": 1e-9}).run()
    usual = Fit(TAU, lik, 2.1).run()
    assert tiny.values["gX"] == pytest.approx(usual.values["gX"], rel=1e-3)
    assert tiny.chi2_min == pytest.approx(usual.chi2_min, abs=1e-4)


def test_truly_flat_still_refused():
    model = get_model("baryon", br_invisible=0.0)
    with pytest.raises(ConvergenceError, match="does not depend"):
        Fit(model, build_likelihood("b_to_s_emiss"), 2.1, start={"gX": 1e-9}).run()


def test_belle2_knunu_above_its_mass_range():
    lik = build_likelihood("belle2_knunu")
    with pytest.raises(InputError, match=r"belle2_knunu covers m_X <= 4.675 GeV only"):
        Fit(TAU, lik, 4.8).run()


def test_belle2_knunu_above_range_with_other_terms_is_noted(capsys):
    assert main(["fit", "--model", "tau-flavor", "--mX", "4.8", "--terms", "belle2_knunu,l3_z_gamma"]) == 0
    out = capsys.readouterr().out
    assert "note: belle2_knunu covers m_X <= 4.675 GeV only" in out
    assert np.isfinite(float(out.split("95% CL upper limit ")[1].split(")")[0]))
