"""Models: named benchmarks, field tables, planes, invisible branching ratios, bad input."""
import numpy as np
import pytest

from xfit.errors import InputError
from xfit.models import ChargeModel, ChiralPlane, EFTPlane, WessZuminoModel, available_models, get_model
from xfit.physics.anomaly import vector_charge_fields
from xfit.physics.constants import DEFAULT_SM as sm
from xfit.physics.x_decay import invisible_branching_ratio


def test_all_benchmarks_build_and_predict():
    assert set(available_models()) >= {"tau-flavor", "L-only", "L=-4R", "baryon", "electron", "muon"}
    for name in available_models():
        p = get_model(name).predict(2.1, gX=0.01)
        for k, v in p.items():
            assert np.all(np.isfinite(np.real(v))), (name, k)


def test_unknown_model_lists_known_ones():
    with pytest.raises(InputError, match="known models: tau-flavor"):
        get_model("tau-flavour-typo")


def test_from_fields_equals_vector_constructor():
    a = ChargeModel.from_fields(vector_charge_fields(alpha_B=0.5, alpha_mu=1.0))
    b = ChargeModel.vector(alpha_B=0.5, alpha_mu=1.0)
    assert (a.A_WW, a.A_YY) == pytest.approx((b.A_WW, b.A_YY))


def test_eft_plane_matches_named_model():
    """Rates depend on g_X A only: the plane at (g A_WW, g A_YY) equals the model at g."""
    m = get_model("L=-4R")
    g = 0.0042
    a = m.predict(2.1, gX=g)
    b = EFTPlane().predict(2.1, gX_AWW=g * m.A_WW, gX_AYY=g * m.A_YY)
    c = ChiralPlane().predict(2.1, gX_alphaL=4 * g, gX_alphaR=-1 * g)
    for k in ("BR(Z->gammaX)", "BR(B+->K*+X)", "BR(K+->pi+X)", "g_S"):
        assert a[k] == pytest.approx(b[k], rel=1e-12) and a[k] == pytest.approx(c[k], rel=1e-12)


def test_wess_zumino_model():
    m = WessZuminoModel(-1, 1)
    t = get_model("tau-flavor")
    assert m.predict(2.1, gX=0.01)["BR(B+->K+X)"] == pytest.approx(t.predict(2.1, gX=0.01)["BR(B+->K+X)"])


def test_vectorised_over_mass_and_coupling():
    m = get_model("tau-flavor")
    p = m.predict(np.array([[0.1], [2.1]]), gX=np.array([0.0, 0.01, 0.02]))
    assert p["BR(B+->K+X)"].shape == (2, 3)
    assert np.all(p["BR(B+->K+X)"][:, 0] == 0)


def test_invisible_branching_ratio_eq_3_28():
    m = get_model("tau-flavor")
    assert m.br_invisible(2.1) == 1.0
    mX = 4.0
    r = sm.m_tau**2 / mX**2
    expected = 1 / (1 + 2 * np.sqrt(1 - 4 * r) * (1 + 2 * r))  # Eq. (3.28)
    assert m.br_invisible(mX) == pytest.approx(expected, rel=1e-12)
    # electron number: X -> e+e- open almost everywhere: ~1/3 invisible
    assert get_model("electron").br_invisible(0.1) == pytest.approx(1 / 3, rel=1e-3)
    assert get_model("baryon").br_invisible(0.1) == 0.0
    assert get_model("muon").br_invisible(0.2) == 1.0
    # chiral: axial part suppresses the tau width near threshold (beta^3)
    chiral = invisible_branching_ratio(4.0, {"tau": (1.0, 0.0)})
    assert 0 < chiral < 1
    with pytest.raises(InputError, match="hadronic width"):
        ChargeModel.vector(alpha_B=1, alpha_tau=1).predict(2.1, gX=0.01)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(alpha_tau="abc"), "alpha_tau must be a finite number"),
    (dict(alpha_tau=float("nan")), "finite number"),
    (dict(alpha_B=float("inf")), "alpha_B must be a finite number"),
])
def test_bad_charges(kwargs, msg):
    with pytest.raises(InputError, match=msg):
        ChargeModel.vector(**kwargs)


@pytest.mark.parametrize("mX, gX, msg", [(-1.0, 0.01, "m_X"), (0.0, 0.01, "m_X"), (float("nan"), 0.01, "m_X"),
                                         (2.1, -0.1, "g_X"), (2.1, float("inf"), "g_X")])
def test_bad_mass_or_coupling(mX, gX, msg):
    with pytest.raises(InputError, match=msg):
        get_model("tau-flavor").predict(mX, gX=gX)
