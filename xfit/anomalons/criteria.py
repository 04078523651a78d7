"""Phenomenological criteria (i)-(iii) of Sec. 2.2 of arXiv:2603.04394 for single multiplets.

* electric charges ``Q = T3 + Y`` with ``T3 in {-(n-1)/2, ..., (n-1)/2}``;
* Eq. (2.10) (and Eq. 38 of the chiral-tau paper, its difference form): the radiative
  splitting ``m_Q - m_0 = 166 MeV * Q (Q + 2Y/c_W)`` and the charge of the lightest state;
* Eq. (2.11): perturbativity ``(T3 g)^2 / 4 pi <= 1`` for the largest ``|T3| = (n-1)/2``;
* the renormalisable Higgs Yukawa ``Psi_a Psi_b H`` between two left-handed multiplets,
  which lets the lightest anomalon be a mixture (criterion (ii), last paragraph).

All functions are pure; hypercharges are exact :class:`fractions.Fraction`.
"""
from __future__ import annotations

import math
from fractions import Fraction

from ..physics.constants import DEFAULT_SM

#: Electroweak radiative splitting scale of Eq. (2.10) (Cirelli-Fornengo-Strumia), in GeV.
SPLITTING_SCALE_GEV = 0.166

#: SU(2)_L coupling used in the perturbativity criterion (2.11) ("g ~ 0.65" in the paper).
PERTURBATIVITY_G = 0.65

HALF = Fraction(1, 2)


def charges(n: int, Y) -> list[Fraction]:
    """Electric charges Q = T3 + Y of the components of an SU(2) n-plet with hypercharge Y."""
    j = Fraction(n - 1, 2)
    return [Fraction(Y) - j + k for k in range(n)]


def has_integer_charges(n: int, Y) -> bool:
    """True if every component of (n, Y) has an integer electric charge."""
    return (Fraction(Y) - Fraction(n - 1, 2)).denominator == 1


def has_neutral_component(n: int, Y) -> bool:
    """True if (n, Y) contains a Q = 0 state: integer charges and |Y| <= (n-1)/2."""
    return has_integer_charges(n, Y) and abs(Fraction(Y)) <= Fraction(n - 1, 2)


def radiative_splitting(Q, Y, cW: float | None = None) -> float:
    """m_Q - m_0 in GeV from electroweak loops, Eq. (2.10): 166 MeV * Q (Q + 2Y/c_W).

    (Eq. 38 of the chiral-tau paper, m_{Q+1} - m_Q = 166 MeV (1 + 2Q + 2Y/c_W), is its
    difference.)  ``cW`` defaults to the MS-bar c_W of :data:`DEFAULT_SM`.
    """
    cW = math.sqrt(DEFAULT_SM.cos2w) if cW is None else cW
    Q, Y = float(Q), float(Y)
    return SPLITTING_SCALE_GEV * Q * (Q + 2.0 * Y / cW)


def lightest_charge(n: int, Y, cW: float | None = None) -> Fraction:
    """Electric charge of the lightest component of (n, Y) under the splitting (2.10).

    The splitting is measured from the Q = 0 level, which need not exist (then every
    component is charged and the minimum is still well defined).
    """
    qs = charges(n, Y)
    return min(qs, key=lambda q: (radiative_splitting(q, Y, cW), abs(q)))


def lightest_is_neutral(n: int, Y, cW: float | None = None) -> bool:
    """Criterion (ii) for an isolated multiplet: its lightest state is neutral.

    For Y = 0 and odd n (Majorana-like fields) this is always true; for a Dirac-like pair it
    holds iff |Y| = (n-1)/2 (Sec. 2.2; tested over n <= 12 in tests/anomalons/test_criteria.py).
    """
    return has_integer_charges(n, Y) and lightest_charge(n, Y, cW) == 0


def max_perturbative_dim(g: float = PERTURBATIVITY_G) -> int:
    """Largest n with ((n-1)/2 g)^2 / 4 pi <= 1, Eq. (2.11): 11 for g = 0.65 ("n <~ 10")."""
    n = 1
    while ((n / 2.0) * g) ** 2 / (4.0 * math.pi) <= 1.0:  # test n+1, whose |T3| is n/2
        n += 1
    return n


def higgs_yukawa_links(a, b) -> bool:
    """SU(2) x U(1)_Y part of a Yukawa ``Psi_a Psi_b H`` (or H^dagger) between left-handed
    multiplets ``a = (n_a, Y_a)`` and ``b``: |n_a - n_b| = 1 and Y_a + Y_b = +-1/2.

    The U(1)_X part (X_a + X_b = 0, the Higgs being X-neutral) is checked by the caller,
    since charges may depend on the free shift 𝒳.
    """
    (na, Ya), (nb, Yb) = a, b
    return abs(na - nb) == 1 and abs(Fraction(Ya) + Fraction(Yb)) == HALF
