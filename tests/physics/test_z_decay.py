"""Z -> gamma X: the Z-photon projection (Eq. 3.13), the rate (Eq. 3.14), and the factor 16
with respect to the chiral-tau paper's Eq. (19)."""
import numpy as np
import pytest

from xfit.physics.constants import DEFAULT_SM as sm
from xfit.physics.z_decay import c_x_z_gamma, z_to_gamma_x_branching_ratio, z_to_gamma_x_width


def chiral_paper_eq19_width(mX, gX, A_WW, A_YY):
    """Eq. (19) of the chiral-tau paper, written out independently of xfit's code."""
    return gX**2 * sm.g**2 * sm.g_prime**2 / (1536 * np.pi**5) * (A_WW - A_YY) ** 2 * sm.m_Z**3 / mX**2


def test_projection_on_z_and_photon():
    """Rotate the operator g^2 A_WW W3W3 + g'^2 A_YY BB to the (Z, A) basis numerically and read
    off the Z-A cross term; it must equal 16 pi^2 c_XZgamma / (2 g_X) (both orderings of ZA)."""
    cw, sw = np.sqrt(sm.cos2w), np.sqrt(sm.sin2w)
    R = np.array([[cw, sw], [-sw, cw]])  # (W3, B) = R (Z, A)
    for A_WW, A_YY in [(-1, 1), (-4, -6), (-1, -1), (2.5, 0.3)]:
        K = np.diag([sm.g**2 * A_WW, sm.g_prime**2 * A_YY])  # coefficients in the (W3, B) basis
        K_ZA = R.T @ K @ R
        cross = K_ZA[0, 1] + K_ZA[1, 0]  # coefficient of eps dZ dA
        # L = g_X/(16 pi^2) xi/m_X * cross * eps dZ dA  ==  c_XZgamma xi/m_X eps dZ dA
        assert cross / (16 * np.pi**2) == pytest.approx(c_x_z_gamma(A_WW, A_YY), rel=1e-12)


def test_width_formula_by_hand():
    mX, c = 2.1, c_x_z_gamma(-0.017, 0.017)
    expected = c**2 / (96 * np.pi) * (sm.m_Z**2 - mX**2) ** 2 / (sm.m_Z * mX**2) * (1 - mX**4 / sm.m_Z**4)
    assert z_to_gamma_x_width(mX, -0.017, 0.017) == pytest.approx(expected, rel=1e-14)


def test_factor_16_for_vector_charges():
    """For A_YY = -A_WW the chiral paper's Eq. (19) is 16 x Eq. (3.14) when m_X << m_Z."""
    mX = 0.05  # deep in the m_X << m_Z limit: corrections O(m_X^2/m_Z^2) ~ 3e-7
    ours = z_to_gamma_x_width(mX, -0.01, 0.01)
    theirs = chiral_paper_eq19_width(mX, 0.01, -1, 1)
    assert theirs / ours == pytest.approx(16.0, rel=1e-5)


def test_paper_branching_ratios():
    """5.6e-7: chiral paper Eq. (58) for L=-4R at g_X = 0.0042 with its Eq. (19); main paper Eq.
    (3.14) for tau-flavour near g_X = 0.017.  Tolerance 2 %: the papers quote two digits."""
    br19 = chiral_paper_eq19_width(2.1, 0.0042, -4, -6) / sm.Gamma_Z
    assert br19 == pytest.approx(5.6e-7, rel=0.02)
    assert z_to_gamma_x_branching_ratio(2.1, -0.017, 0.017) == pytest.approx(5.6e-7, rel=0.03)
    # Eq. (3.14) / Eq. (19) = (c^2 A_WW - s^2 A_YY)^2 / 6144 / ((A_WW - A_YY)^2 / 1536); for L=-4R,
    # (A_WW - A_YY)^2 = 4, so B(Z->gammaX) at g_X = 0.0042 is 0.18 x 5.6e-7 = 1.0e-7 with Eq. (3.14)
    r = z_to_gamma_x_branching_ratio(2.1, -4 * 0.0042, -6 * 0.0042) / br19
    assert r == pytest.approx((sm.cos2w * -4 - sm.sin2w * -6) ** 2 / 16, rel=2e-3)


def test_closed_above_mz_and_vectorised():
    m = np.array([1.0, 50.0, sm.m_Z, 120.0])
    w = z_to_gamma_x_width(m, -0.01, 0.01)
    assert w.shape == (4,) and np.all(np.isfinite(w))
    assert w[2] == 0.0 and w[3] == 0.0 and w[0] > w[1] > 0
    assert z_to_gamma_x_width(95.0, -0.01, 0.01) == 0.0
