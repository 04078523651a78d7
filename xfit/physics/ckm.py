"""The CKM matrix in the standard parametrisation, complex, from the Wolfenstein inputs.

PDG 2024 review "CKM quark-mixing matrix", Eqs. (12.3) and (12.4): the exact (all-order)
map from (lambda, A, rhobar, etabar) to (s12, s23, s13, delta):

    s12 = lambda,  s23 = A lambda^2,
    s13 e^{i delta} = A lambda^3 (rhobar + i etabar) sqrt(1 - A^2 lambda^4)
                      / ( sqrt(1 - lambda^2) [1 - A^2 lambda^4 (rhobar + i etabar)] )
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .constants import DEFAULT_SM, SMInputs

UP_QUARKS = ("u", "c", "t")
DOWN_QUARKS = ("d", "s", "b")


def wolfenstein_ckm(lam, A, rhob, etab) -> np.ndarray:
    """The CKM matrix of Eqs. (12.3)-(12.4) from Wolfenstein inputs, vectorised: array inputs
    (a batch of draws) give V[up, down, ...] of shape (3, 3, *batch)."""
    lam, A, rhob, etab = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lam, A, rhob, etab)))
    rho_c = rhob + 1j * etab
    s12, s23 = lam, A * lam**2
    s13_phase = (A * lam**3 * rho_c * np.sqrt(1 - A**2 * lam**4)
                 / (np.sqrt(1 - lam**2) * (1 - A**2 * lam**4 * rho_c)))
    s13, delta = np.abs(s13_phase), np.angle(s13_phase)
    c12, c23, c13 = np.sqrt(1 - s12**2), np.sqrt(1 - s23**2), np.sqrt(1 - s13**2)
    e = np.exp(1j * delta)
    return np.array([
        [c12 * c13, s12 * c13, s13 / e],
        [-s12 * c23 - c12 * s23 * s13 * e, c12 * c23 - s12 * s23 * s13 * e, s23 * c13],
        [s12 * s23 - c12 * c23 * s13 * e, -c12 * s23 - s12 * c23 * s13 * e, c23 * c13],
    ], dtype=complex)


@lru_cache(maxsize=32)
def _ckm_matrix_cached(sm: SMInputs) -> np.ndarray:
    V = wolfenstein_ckm(sm.ckm_lambda, sm.ckm_A, sm.ckm_rhobar, sm.ckm_etabar)
    V.setflags(write=False)
    return V


def ckm_matrix(sm: SMInputs = DEFAULT_SM) -> np.ndarray:
    """3x3 complex CKM matrix V[up, down] (rows u, c, t; columns d, s, b); cached.  For a
    batch of draws (``sm.is_batch``) shape (3, 3, *batch), not cached."""
    if sm.is_batch:
        return wolfenstein_ckm(sm.ckm_lambda, sm.ckm_A, sm.ckm_rhobar, sm.ckm_etabar)
    return _ckm_matrix_cached(sm)


def ckm_element(up: str, down: str, sm: SMInputs = DEFAULT_SM) -> complex:
    """V_{up down}, e.g. ``ckm_element('t', 's')``."""
    return complex(ckm_matrix(sm)[UP_QUARKS.index(up), DOWN_QUARKS.index(down)])
