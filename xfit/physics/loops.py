"""The W-loop that turns the Wess-Zumino XWW coupling into flavour-changing couplings.

Eqs. (3.5)-(3.8) of arXiv:2603.04394 (the loop result is from Izaguirre, Lin, Shuve,
arXiv:1611.09355, their Ref. [32]).  The one-loop W exchange computed from the operator of
Eq. (3.4) gives **half** of Eq. (3.6) as printed; ``sm.loop_normalisation`` selects
``"derived"`` (the default, factor 1/2) or ``"paper"`` (Eq. 3.6 as printed).  The
derivation, its numerical check and the mapping onto the ALP EFT (Bauer et al.,
arXiv:2012.12272) are in docs/physics.md, "The W-loop coupling".
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import InputError
from .ckm import DOWN_QUARKS, UP_QUARKS, ckm_matrix
from .constants import DEFAULT_SM, SMInputs

#: Flavour transitions with their type: (initial quark, final quark).
TRANSITIONS = {"s->d": ("s", "d"), "b->d": ("b", "d"), "b->s": ("b", "s"), "c->u": ("c", "u")}


def loop_function(x):
    """F(x) = x (1 + x (ln x - 1)) / (1 - x)^2, Eq. (3.8).

    F(0) = 0, F(1) = 1/2 (limit), F(x) ~ x for x -> 0.  Vectorised; x >= 0.
    """
    x = np.asarray(x, dtype=float)
    if np.any(x < 0):
        raise ValueError("loop_function: x = m_q^2/m_W^2 must be >= 0")
    out = np.empty_like(x)
    near1 = np.abs(x - 1.0) < 1e-4
    zero = x == 0.0
    reg = ~(near1 | zero)
    xr = x[reg]
    out[reg] = xr * (1.0 + xr * (np.log(xr) - 1.0)) / (1.0 - xr) ** 2
    eps = x[near1] - 1.0  # series about x = 1: 1/2 + eps/3 - eps^2/12 + ...
    out[near1] = 0.5 + eps / 3.0 - eps**2 / 12.0
    out[zero] = 0.0
    return out if out.ndim else float(out)


def _quark_mass(sm: SMInputs, q: str) -> float:
    return getattr(sm, f"m_{q}")


def ckm_loop_sum(transition: str, sm: SMInputs = DEFAULT_SM):
    """The CKM-weighted loop sum of Eqs. (3.6)/(3.7) for one transition.

    down-type d_i -> d_j:  sum_{a=u,c,t} V_{a i} V*_{a j} F(m_a^2/m_W^2)      (3.6)
    up-type   u_i -> u_j:  sum_{b=d,s,b} V*_{i b} V_{j b} F(m_b^2/m_W^2)      (3.7)

    Complex; cached.  For a batch of draws (``sm.is_batch``) a complex array, not cached.
    """
    return _loop_sum(transition, sm) if sm.is_batch else _loop_sum_cached(transition, sm)


@lru_cache(maxsize=64)
def _loop_sum_cached(transition: str, sm: SMInputs) -> complex:
    return complex(_loop_sum(transition, sm))


def _loop_sum(transition: str, sm: SMInputs):
    try:
        qi, qj = TRANSITIONS[transition]
    except KeyError:
        raise InputError(f"unknown transition {transition!r}; known: {', '.join(TRANSITIONS)}") from None
    V = ckm_matrix(sm)
    if qi in DOWN_QUARKS:
        i, j = DOWN_QUARKS.index(qi), DOWN_QUARKS.index(qj)
        return sum(V[a, i] * np.conj(V[a, j]) * loop_function(_quark_mass(sm, q) ** 2 / sm.m_W**2)
                   for a, q in enumerate(UP_QUARKS))
    i, j = UP_QUARKS.index(qi), UP_QUARKS.index(qj)
    return sum(np.conj(V[i, b]) * V[j, b] * loop_function(_quark_mass(sm, q) ** 2 / sm.m_W**2)
               for b, q in enumerate(DOWN_QUARKS))


def fcnc_coupling(transition: str, gX_A_WW, sm: SMInputs = DEFAULT_SM):
    """g_xi for a quark transition, Eqs. (3.6)-(3.7) times the loop normalisation k:

        g_xi = -k * 3 g^4 / (4 pi)^4 * (g_X A_XWW) * [CKM loop sum],

    k = 1/2 for ``sm.loop_normalisation == "derived"`` (the one-loop W exchange from
    Eq. 3.4, docs/physics.md) and k = 1 for ``"paper"`` (Eq. 3.6 as printed).
    ``gX_A_WW`` is the product g_X * A_XWW^SM (float or array); returns complex.
    """
    prefactor = -sm.loop_factor * 3.0 * sm.g**4 / (4.0 * np.pi) ** 4
    return prefactor * np.asarray(gX_A_WW, dtype=float) * ckm_loop_sum(transition, sm)
