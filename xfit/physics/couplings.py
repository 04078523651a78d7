"""Derived couplings and scales: g_S, g_P (Eq. 3.25), v_X (Eq. 4.2), anomalon masses."""
from __future__ import annotations

import numpy as np

from .constants import DEFAULT_SM, SMInputs
from .loops import fcnc_coupling


def scalar_pseudoscalar_couplings(mX, gX_A_WW, sm: SMInputs = DEFAULT_SM):
    """(g_S, g_P) of the b -> s X parametrisation of Bolton et al. (arXiv:2403.13887), Eq. (3.25):

        g_S = -(m_b - m_s)/2 * g_xi_sb / m_X,   g_P = (m_b + m_s)/2 * g_xi_sb / m_X

    Complex.  m_b = m_b(m_b), m_s = m_s(2 GeV) (MS-bar, PDG 2024).
    """
    g_xi = fcnc_coupling("b->s", gX_A_WW, sm)
    mX = np.asarray(mX, dtype=float)
    return -(sm.m_b - sm.m_s) / 2.0 * g_xi / mX, (sm.m_b + sm.m_s) / 2.0 * g_xi / mX


def breaking_scale(mX, gX, XS=1.0):
    """v_X = m_X / (X_S g_X) [GeV], Eq. (4.2); infinite for g_X = 0."""
    mX, gX = np.asarray(mX, float), np.asarray(gX, float)
    with np.errstate(divide="ignore"):
        v = mX / (XS * gX)
    return v if v.ndim else float(v)


def anomalon_mass(y, mX, gX, XS=1.0):
    """m_Psi = y_Psi v_X = y_Psi m_X / (X_S g_X) [GeV] (Sec. 3.3 of arXiv:2603.04394)."""
    return y * breaking_scale(mX, gX, XS)
