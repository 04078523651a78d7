"""Significance and contour levels of fits: one and two parameters in closed form (no
scipy.special import).  Two parameters agree with scipy's chi2/normal functions to ~1e-15
relative; one parameter is exact (sqrt(Delta chi2), n^2), where scipy's chdtrc/chdtri round
to ~1e-14 relative (so the significances of summary.json can move by an ulp or so)."""
import math

import numpy as np
import pytest
from scipy import special

from xfit.errors import InputError
from xfit.inference.fit import delta_chi2_for_sigma, significance_from_delta_chi2


def _scipy_significance(delta_chi2, dof):
    return float(-special.ndtri(special.chdtrc(dof, delta_chi2) / 2.0))


#: relative agreement with scipy: its own rounding for one parameter, ~1e-15 for two
SCIPY_RTOL = {1: 5e-14, 2: 3e-15}


@pytest.mark.parametrize("dof", [1, 2])
def test_significance_matches_scipy(dof):
    for x in np.concatenate([np.linspace(1e-6, 2.0, 200), np.linspace(2.0, 400.0, 400)]):
        ref = _scipy_significance(x, dof)
        assert significance_from_delta_chi2(x, dof) == pytest.approx(ref, rel=SCIPY_RTOL[dof], abs=0)


def test_significance_of_one_parameter_is_exactly_the_square_root():
    assert significance_from_delta_chi2(11.014760603187328, 1) == math.sqrt(11.014760603187328)
    assert significance_from_delta_chi2(4.0, 1) == 2.0
    assert significance_from_delta_chi2(0.0, 1) == 0.0 and significance_from_delta_chi2(-1.0, 2) == 0.0
    assert significance_from_delta_chi2(1.0e4, 1) == 100.0  # finite where chdtrc underflows (scipy: inf)
    assert significance_from_delta_chi2(1.0e4, 2) == math.inf  # as scipy: the p-value underflows


def test_more_parameters_use_scipy():
    assert significance_from_delta_chi2(12.0, 3) == _scipy_significance(12.0, 3)
    assert delta_chi2_for_sigma(2.0, 3) == float(special.chdtri(3, 2.0 * special.ndtr(-2.0)))


@pytest.mark.parametrize("dof", [1, 2])
def test_contour_levels_match_scipy(dof):
    for s in np.linspace(0.1, 7.0, 300):
        ref = float(special.chdtri(dof, 2.0 * special.ndtr(-s)))
        assert delta_chi2_for_sigma(s, dof) == pytest.approx(ref, rel=SCIPY_RTOL[dof], abs=0)
    assert [round(delta_chi2_for_sigma(s, 2), 2) for s in (1, 2, 3)] == [2.30, 6.18, 11.83]
    assert delta_chi2_for_sigma(3.0, 1) == 9.0


@pytest.mark.parametrize("dof", [0, -1, 1.5, True, "2"])
def test_significance_and_levels_refuse_a_bad_number_of_parameters(dof):
    with pytest.raises(InputError, match="dof"):
        significance_from_delta_chi2(4.0, dof)
    with pytest.raises(InputError, match="dof"):
        delta_chi2_for_sigma(1.0, dof)


@pytest.mark.parametrize("dof", [1, 2, 3])
def test_significance_refuses_nan_and_keeps_inf(dof):
    with pytest.raises(InputError, match="delta_chi2"):
        significance_from_delta_chi2(float("nan"), dof)
    assert significance_from_delta_chi2(math.inf, dof) == math.inf


@pytest.mark.parametrize("n_sigma", [float("nan"), math.inf, -1.0, "x"])
def test_delta_chi2_for_sigma_refuses_bad_levels(n_sigma):
    with pytest.raises(InputError, match="n_sigma"):
        delta_chi2_for_sigma(n_sigma, 2)


def test_significance_of_a_fit_with_every_parameter_fixed_is_nan_not_inf():
    from xfit.inference.fit import FitResult

    r = FitResult(model="m", terms=("t",), mX=1.0, values={"g": 1e-3}, errors={"g": 0.0},
                  chi2_min=18.0, chi2_sm=18.03, ndof=0)
    assert math.isnan(r.significance)


def test_two_parameter_levels_use_the_one_normal_survival_function():
    """delta_chi2_for_sigma(n, 2) = -2 ln(2 (1 - Phi(n))) with calculators.normal_sf, to the
    last bit, and the textbook 2.30 / 6.18 / 11.83 (PDG Statistics review: Delta chi2 of the
    68.27 / 95.45 / 99.73 % regions of two jointly estimated parameters)."""
    from xfit.inference.calculators import normal_sf

    for n in (0.5, 1.0, 2.0, 3.0, 5.0, 8.0):
        assert delta_chi2_for_sigma(n, 2) == -2.0 * math.log(2.0 * normal_sf(n))
    assert [round(delta_chi2_for_sigma(n, 2), 2) for n in (1, 2, 3)] == [2.30, 6.18, 11.83]
