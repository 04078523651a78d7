"""Z -> gamma X through the Wess-Zumino terms.

The Goldstone-equivalent operator (Eq. 3.4 and its hypercharge analogue),

    L > g_X / (16 pi^2) (xi / m_X) eps^{a m b n} [ g^2 A_XWW (d_a W^i_m)(d_b W^i_n)
                                                + g'^2 A_XYY (d_a B_m)(d_b B_n) ],

projected with W^3 = c_W Z + s_W A, B = -s_W Z + c_W A, has the Z-photon cross term

    c_XZgamma = g_X g g' (c_W^2 A_XWW - s_W^2 A_XYY) / (8 pi^2)          (Eq. 3.13)

because 2 c_W s_W g^2 = 2 g g' c_W^2 and 2 c_W s_W g'^2 = 2 g g' s_W^2.  Eq. (3.14) then
gives the width.  The chiral-tau paper's Eq. (19) weights the traces as (A_XWW - A_XYY) with
a 1/(1536 pi^5) prefactor; for vector charges it is 16 times Eq. (3.14) in the
m_X << m_Z limit.  xfit uses Eqs. (3.13)-(3.14); docs/physics.md has the derivation and
tests/physics/test_z_decay.py checks both the projection and the factor 16.
"""
from __future__ import annotations

import numpy as np

from ..errors import validate_mass
from .constants import DEFAULT_SM, SMInputs


def c_x_z_gamma(gX_A_WW, gX_A_YY, sm: SMInputs = DEFAULT_SM):
    """c_XZgamma = g g' (c_W^2 g_X A_XWW - s_W^2 g_X A_XYY) / (8 pi^2), Eq. (3.13)."""
    return sm.g * sm.g_prime * (sm.cos2w * np.asarray(gX_A_WW, float)
                                - sm.sin2w * np.asarray(gX_A_YY, float)) / (8.0 * np.pi**2)


def z_to_gamma_x_width(mX, gX_A_WW, gX_A_YY, sm: SMInputs = DEFAULT_SM):
    """Gamma(Z -> gamma X) [GeV], Eq. (3.14):

        |c|^2 / (96 pi) (m_Z^2 - m_X^2)^2 / (m_Z m_X^2) (1 - m_X^4 / m_Z^4);   0 for m_X >= m_Z.
    """
    mX = validate_mass(mX)
    c = c_x_z_gamma(gX_A_WW, gX_A_YY, sm)
    mZ = sm.m_Z
    with np.errstate(divide="ignore", invalid="ignore"):
        width = (c**2 / (96.0 * np.pi) * (mZ**2 - mX**2) ** 2 / (mZ * mX**2)
                 * (1.0 - mX**4 / mZ**4))
    return np.where(mX < mZ, width, 0.0) if np.ndim(width) else (float(width) if mX < mZ else 0.0)


def z_to_gamma_x_branching_ratio(mX, gX_A_WW, gX_A_YY, sm: SMInputs = DEFAULT_SM):
    """B(Z -> gamma X) = Gamma(Z -> gamma X) / Gamma_Z (PDG 2024 Gamma_Z)."""
    return z_to_gamma_x_width(mX, gX_A_WW, gX_A_YY, sm) / sm.Gamma_Z
