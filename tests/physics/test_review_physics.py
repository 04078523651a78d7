"""Inputs that used to give NaN, a silent zero or a raw traceback in the physics, models and
likelihood layers: each is now a number with a reason or a one-line InputError."""
from fractions import Fraction

import numpy as np
import pytest

from xfit.errors import InputError
from xfit.likelihood import build_likelihood, get_term, half_gaussian_sigma
from xfit.models import ChargeModel, ChiralPlane, get_model
from xfit.models.charges import _exact
from xfit.physics.meson_decays import branching_ratio, get_channel
from xfit.physics.x_decay import invisible_branching_ratio
from xfit.physics.z_decay import z_to_gamma_x_width
from xfit.predictions import closed_channels, compute_predictions


def test_coupled_x_with_no_open_channel_escapes():
    # alpha_R only, m_X < 2 m_tau: no tree-level decay, X is long-lived and invisible (Eq. 3.28)
    assert invisible_branching_ratio(1.0, {"tau": (0.0, 1.0)}) == 1.0
    model = ChargeModel.chiral_tau(0, 1).predict(1.0, 0.5)
    plane = ChiralPlane().predict(1.0, 0.0, 0.5)
    assert model["BR(X->invisible)"] == plane["BR(X->invisible)"] == 1.0
    l3 = get_term("l3_z_gamma")
    assert l3.chi2(model) == pytest.approx(l3.chi2(plane)) and l3.chi2(model) > 1e5
    # above 2 m_tau the tau_R channel opens and the neutrinos (alpha_L = 0) get nothing
    assert invisible_branching_ratio(4.0, {"tau": (0.0, 1.0)}) == 0.0
    with pytest.raises(InputError, match="no coupling at some"):
        invisible_branching_ratio(np.array([1.0, 1.0]), {"tau": (np.array([0.0, 1.0]), 0.0)})


@pytest.mark.parametrize("args, match", [
    ((1.0, 1e-3, 0.0, -1.0), r"B\(X -> invisible\) must be >= 0"),
    ((1.0, 1e-3, 0.0, 2.0), r"B\(X -> invisible\) must be <= 1"),
    ((1.0, "x", 0.0, 1.0), "g_X A_XWW must be a finite real number"),
    ((1.0, 1e-3 + 1e-3j, 0.0, 1.0), "g_X A_XWW must be a finite real number"),
    ((1.0, 1e-3, np.nan, 1.0), "g_X A_XYY must be finite"),
    ((np.nan, 1e-3, 0.0, 1.0), r"m_X \(GeV\) must be finite"),
])
def test_compute_predictions_rejects(args, match):
    with pytest.raises(InputError, match=match):
        compute_predictions(*args)


def test_compute_predictions_rejects_bad_gX_and_XS():
    with pytest.raises(InputError, match="g_X must be finite"):
        compute_predictions(1.0, 1e-3, 0.0, 1.0, gX=np.nan)
    with pytest.raises(InputError, match="X_S must be non-zero"):
        compute_predictions(1.0, 1e-3, 0.0, 1.0, gX=1e-3, XS=0.0)


def test_physics_functions_validate_the_mass():
    for bad in (-0.1, np.nan, 0.0):
        with pytest.raises(InputError, match="m_X"):
            branching_ratio("BR(K+->pi+X)", bad, 1e-3)
        with pytest.raises(InputError, match="m_X"):
            z_to_gamma_x_width(bad, 1.0, 1.0)
        with pytest.raises(InputError, match="m_X"):
            invisible_branching_ratio(bad, {"tau": (1.0, 1.0)})
    with pytest.raises(InputError, match="one m_X"):
        closed_channels(np.array([0.1, 1.0]))
    with pytest.raises(InputError, match="m_X"):
        closed_channels(float("nan"))
    with pytest.raises(InputError, match="unknown meson channel 'foo'; known: BR"):
        get_channel("foo")
    with pytest.raises(InputError, match="must be a pair"):
        invisible_branching_ratio(1.0, {"tau": 1.0})


def test_likelihood_term_inputs():
    na62 = get_term("na62_k_pi")
    good = {"mX": 0.1, "BR(K+->pi+X)": 1e-11, "BR(X->invisible)": 1.0}
    assert na62.chi2(good) > 0
    with pytest.raises(InputError, match="m_X"):
        na62.chi2({**good, "mX": float("nan")})
    with pytest.raises(InputError, match=r"needs prediction\(s\) \['mX'\]"):
        na62.chi2({k: v for k, v in good.items() if k != "mX"})
    with pytest.raises(InputError, match="not finite"):
        na62.chi2({**good, "BR(K+->pi+X)": float("nan")})
    with pytest.raises(InputError, match="must be >= 0"):
        na62.chi2({**good, "BR(K+->pi+X)": -1e-11})
    with pytest.raises(InputError, match="include_pi0_window = .no. is not accepted; accepted: True, False"):
        get_term("na62_k_pi", include_pi0_window="no")
    with pytest.raises(InputError, match="confidence level must be in"):
        half_gaussian_sigma(1.0, 0.4)


def test_options_for_terms_not_built_and_bad_options():
    with pytest.raises(InputError, match=r"options given for term\(s\) \['na62_kpi'\]"):
        build_likelihood("na62_k_pi", na62_kpi={"include_pi0_window": False})
    with pytest.raises(InputError, match="likelihood term 'l3_z_gamma'.*foo"):
        get_term("l3_z_gamma", foo=1)
    with pytest.raises(InputError, match="model 'tau-flavor'.*foo"):
        get_model("tau-flavor", foo=1)


def test_charges_stay_exact():
    assert _exact(1 / 3) == Fraction(1, 3) and _exact(0.1) == Fraction(1, 10) and _exact(Fraction(2, 7)) == Fraction(2, 7)
    assert _exact(0.123456789) == Fraction("0.123456789")
    with pytest.raises(InputError, match=r"lepton_charges\['tau'\] must be a pair"):
        ChargeModel(lepton_charges={"tau": 1})
