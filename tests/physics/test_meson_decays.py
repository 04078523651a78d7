"""Meson rates, Eqs. (3.9)-(3.10) (goldstone) and the massive-vector default: paper numbers,
K_L prescription, isospin, closed channels.  Exact-vs-Goldstone checks: tests/physics/."""
import numpy as np
import pytest

from xfit.models import get_model
from xfit.physics.constants import DEFAULT_SM as sm
from xfit.physics.couplings import scalar_pseudoscalar_couplings
from xfit.physics.meson_decays import CHANNELS, branching_ratio, decay_width_from_coupling, threshold

GOLDSTONE = sm.replace(goldstone=True)  # Eqs. (3.9)/(3.10) as in the paper


def gX_AWW_for_gS(gS=1.6e-8, mX=2.1):
    """g_X A_WW that gives |g_S| = gS at m_X (Eq. 3.25 is linear in it)."""
    unit, _ = scalar_pseudoscalar_couplings(mX, 1.0)
    return gS / abs(unit)


def test_b_to_kstar_at_belle2_best_fit():
    """Sec. 3.2.5: B(B+ -> K*+ X) = 1.1e-5 at the best-fit point (|g_S| = 1.6e-8, m_X = 2.1 GeV).
    The rate depends on g_xi only, so this checks Eq. (3.10) with the BSZ A0 independently of
    g_X.  xfit's A0 is BSZ (arXiv:1503.05534): A0(4.41 GeV^2) = 0.485, which gives 1.36e-5.
    The paper takes A0 from its Ref. [33]; its 1.1e-5 corresponds to A0(m_X^2) = 0.44 (the rate
    scales as A0^2, checked to 2 %).  Both statements are tested; docs/fig2.md discusses it."""
    from xfit.physics.form_factors import b_to_kstar_a0
    br = branching_ratio("BR(B+->K*+X)", 2.1, gX_AWW_for_gS(), GOLDSTONE)
    a0 = b_to_kstar_a0(2.1**2)
    assert br * (0.437 / a0) ** 2 == pytest.approx(1.1e-5, rel=0.02)
    assert br == pytest.approx(1.1e-5, rel=0.25)


def test_b_to_k_at_belle2_best_fit_is_of_excess_size():
    """The Belle II excess corresponds to B(B+ -> K+ X) of order 1e-5 (Altmannshofer et al. find
    8.8e-6 at 2 GeV for Belle II alone): a loose physics sanity window."""
    for conventions in (sm, GOLDSTONE):
        br = branching_ratio("BR(B+->K+X)", 2.1, gX_AWW_for_gS(), conventions)
        assert 0.5e-5 < br < 2.5e-5


@pytest.mark.parametrize("conventions, largest", [(GOLDSTONE, 1.07), (sm, 1.09)])
def test_kl_uses_imaginary_part_only(conventions, largest):
    """A(K_L -> pi0 X) = i Im(g) f: real couplings give 0, imaginary ones the K+ rate up to the
    K_L/K+ and pi0/pi+ mass differences (Goldstone phase space m_P^2 (1 - m_pi^2/m_P^2)^2 |k|:
    +3 to +6 %; the massive-vector rate grows like |k|^3 and is more sensitive: +5 to +8 %)."""
    kl, kp = CHANNELS["BR(KL->pi0X)"], CHANNELS["BR(K+->pi+X)"]
    m = np.array([0.05, 0.1, 0.2])
    assert np.all(decay_width_from_coupling(kl, m, 1e-10 + 0j, conventions) == 0)
    ratio = (decay_width_from_coupling(kl, m, 1e-10j, conventions)
             / decay_width_from_coupling(kp, m, 1e-10j, conventions))
    assert np.all((ratio > 1.0) & (ratio < largest))


def test_grossman_nir_bound():
    m = np.linspace(0.01, 0.25, 20)
    kl = branching_ratio("BR(KL->pi0X)", m, 1e-3)
    kp = branching_ratio("BR(K+->pi+X)", m, 1e-3)
    tau_ratio = sm.meson("KL").lifetime / sm.meson("K+").lifetime
    assert np.all(kl <= 1.02 * tau_ratio * kp)
    assert np.all(kl > 0)


def test_isospin_factor_for_neutral_b():
    m = np.array([0.5, 1.0, 2.0])
    w_plus = decay_width_from_coupling(CHANNELS["BR(B+->pi+X)"], m, 1e-9)
    w_zero = decay_width_from_coupling(CHANNELS["BR(B0->pi0X)"], m, 1e-9)
    assert np.allclose(w_zero / w_plus, 0.5, rtol=0.01)


@pytest.mark.parametrize("key", list(CHANNELS))
def test_closed_channel_is_exactly_zero_never_nan(key):
    thr = threshold(CHANNELS[key])
    m = np.array([thr * 0.5, thr * 0.999, thr, thr * 1.001, 10.0, 200.0])
    br = branching_ratio(key, m, -0.01)
    assert np.all(np.isfinite(br))
    assert br[0] > 0 and br[1] > 0
    assert np.all(br[2:] == 0.0)


def test_rates_scale_with_coupling_squared():
    p1 = get_model("tau-flavor").predict(1.0, gX=0.01)
    p2 = get_model("tau-flavor").predict(1.0, gX=0.02)
    for key in CHANNELS:
        assert p2[key] == pytest.approx(4 * p1[key], rel=1e-12)
