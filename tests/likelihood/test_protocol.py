"""The likelihood protocol: addition, union of observables, registry, overlaps, convention."""
import numpy as np
import pytest

from xfit.errors import InputError
from xfit.likelihood import (
    CombinedLikelihood,
    available_terms,
    build_likelihood,
    chi2_threshold_one_sided,
    get_term,
    half_gaussian_sigma,
)
from xfit.models import get_model


def test_terms_add_like_cost_functions():
    a, b = get_term("b_to_s_emiss"), get_term("l3_z_gamma")
    s = a + b
    assert isinstance(s, CombinedLikelihood) and s.names == ("b_to_s_emiss", "l3_z_gamma")
    assert set(s.observables) == set(a.observables) | set(b.observables)
    pred = get_model("tau-flavor").predict(2.1, gX=np.array([0.0, 0.01, 0.02]))
    assert np.allclose(s.chi2(pred), a.chi2(pred) + b.chi2(pred))
    assert sum([a, b]).names == s.names
    assert "Phys. Lett. B 412 (1997) 201" in s.bibliography()


def test_registry_and_errors():
    assert {"b_to_s_emiss", "l3_z_gamma", "belle2_knunu", "na62_k_pi"} <= set(available_terms())
    with pytest.raises(InputError, match="unknown likelihood term 'nope'; known: "):
        get_term("nope")
    with pytest.raises(InputError, match="added twice"):
        get_term("l3_z_gamma") + get_term("l3_z_gamma")
    with pytest.raises(InputError, match="no likelihood terms"):
        build_likelihood("")


def test_overlapping_data_refused():
    with pytest.raises(InputError, match="double counts"):
        build_likelihood("b_to_s_emiss,belle2_knunu")
    lik = build_likelihood("b_to_s_emiss,belle2_knunu", allow_overlap=True)
    assert lik.names == ("b_to_s_emiss", "belle2_knunu")


def test_missing_prediction_named():
    with pytest.raises(InputError, match="needs prediction"):
        get_term("l3_z_gamma").chi2({"mX": np.array([1.0])})


def test_one_limit_convention():
    """chi2 = (x/sigma)^2, sigma = UL/Phi^-1(CL): the limit sits at Phi^-1(CL)^2."""
    assert chi2_threshold_one_sided(0.90) == pytest.approx(1.6424, abs=1e-4)
    assert chi2_threshold_one_sided(0.95) == pytest.approx(2.7055, abs=1e-4)
    assert (1.0 / half_gaussian_sigma(1.0, 0.95)) ** 2 == pytest.approx(chi2_threshold_one_sided(0.95))
    with pytest.raises(InputError, match="confidence level"):
        half_gaussian_sigma(1.0, 1.2)
