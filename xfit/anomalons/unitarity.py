"""Perturbative-unitarity ceilings on anomalon Yukawas and masses (Sec. 4 of arXiv:2603.04394,
Sec. IV of the chiral-tau paper), and the parametric anomalon mass used in Fig. 3.

* Yukawa bounds, Eqs. (4.5), (4.7), (4.10) and chiral Eqs. (43), (59) (from Allwicher et al.,
  arXiv:2108.00013): a Dirac-like n-plet coupling y Psi_L Psi_R S has y <= sqrt(8 pi / n), a
  Majorana-like n-plet (1/2) y Psi Psi S has y <= sqrt(16 pi / n):
  n = 1, 2, 3 DL -> sqrt(8 pi), sqrt(4 pi), sqrt(8 pi/3); n = 3, 5 ML -> sqrt(16 pi/3), sqrt(16 pi/5).
* v_X = m_X / (X_S g_X), Eq. (4.2) (120 GeV / X_S at the Belle II best fit m_X = 2.1 GeV,
  g_X = 0.018, Eq. 4.3);
* masses after U(1)_X breaking, m = y v_X / sqrt(2) (below Eqs. 4.4, 4.6, 4.9);
* Fig. 3 uses the cruder m_Psi = y v_X = y m_X / g_X (Sec. 3.3): :func:`anomalon_mass`.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError

# one implementation of v_X and m_Psi: xfit.physics.couplings (re-exported here)
from ..physics.couplings import anomalon_mass, breaking_scale

#: Belle II best fit of the tau-flavour benchmark (Sec. 3.2.5, Eq. 4.3).
BEST_FIT_MX = 2.1
BEST_FIT_GX = 0.018


def yukawa_unitarity_bound(n: int, kind: str) -> float:
    """Largest Yukawa allowed by perturbative unitarity for an SU(2) n-plet: sqrt(8 pi/n) for a
    Dirac-like pair ("DL"), sqrt(16 pi/n) for a Majorana-like field ("ML")."""
    if int(n) != n or n < 1:
        raise InputError(f"n must be a positive integer, got {n!r}")
    if kind == "DL":
        return math.sqrt(8.0 * math.pi / n)
    if kind == "ML":
        return math.sqrt(16.0 * math.pi / n)
    raise InputError(f"kind must be 'DL' or 'ML', got {kind!r}")


def _require_finite(value, what: str, mX, gX, XS):
    if not np.all(np.isfinite(value)):
        raise InputError(f"{what} is not finite for m_X = {mX!r}, g_X = {gX!r}, X_S = {XS!r}; "
                         "accepted: finite m_X, g_X != 0, X_S != 0 with m_X/(X_S g_X) below ~1e300 GeV")
    return value


def vev_X(mX, gX, XS=1.0):
    """v_X = m_X / (X_S g_X) in GeV, Eq. (4.2) (:func:`xfit.physics.couplings.breaking_scale`);
    InputError if it is not finite (g_X = 0, overflow, ...)."""
    with np.errstate(over="ignore", invalid="ignore"):
        v = np.asarray(breaking_scale(mX, gX, float(XS)), dtype=float)
    return _require_finite(v, "v_X = m_X/(X_S g_X)", mX, gX, XS)


def mass_from_yukawa(y, vX):
    """Anomalon mass y v_X / sqrt(2) after U(1)_X breaking (<S> = v_X/sqrt(2), Eq. 4.1)."""
    return np.asarray(y, dtype=float) * np.asarray(vX, dtype=float) / math.sqrt(2.0)


def mass_ceiling(n: int, kind: str, XS, mX=BEST_FIT_MX, gX=BEST_FIT_GX):
    """Unitarity ceiling on the mass of an n-plet at (m_X, g_X): sqrt(.)-bound * v_X / sqrt(2)."""
    with np.errstate(over="ignore"):
        m = mass_from_yukawa(yukawa_unitarity_bound(n, kind), vev_X(mX, gX, XS))
    return _require_finite(m, "the unitarity mass ceiling", mX, gX, XS)


__all__ = ["BEST_FIT_GX", "BEST_FIT_MX", "anomalon_mass", "breaking_scale", "mass_ceiling",
           "mass_from_yukawa", "vev_X", "yukawa_unitarity_bound"]
