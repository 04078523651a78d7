"""Finite naturalness, Eqs. (2.8)-(2.9) of arXiv:2603.04394 (method of Farina, Pappadopulo,
Strumia, arXiv:1303.7244).

A fermion multiplet (1, n, Y) of mass M shifts the Higgs mass parameter at two loops by

    delta m_h^2 = C n M^2 / (4 pi)^4 * [(n^2-1)/4 g2^4 + Y^2 gY^4] * (6 ln(M^2/mu^2) - 1)   (2.9)

with C = 1 for a Majorana-like field, 2 for a Dirac-like pair; the anomalons of a model share
the scale M and their contributions add.  The bound is the M at which
Delta = |delta m_h^2| / M_h^2 (Eq. 2.8) reaches the allowed tuning (100).

Reading of the renormalisation scale mu.  Taking mu ~ M_h (or any weak-scale mu) gives bounds
2.6-3x above Tables 2-3 and a log that *shrinks* with M, so the bound falls too slowly with n.
The tables imply instead a nearly constant |6 ln(M^2/mu^2) - 1| ~ 440-510 for M = 1-12 TeV,
growing slightly as M drops: mu = M_Pl (which gives 415-445), i.e. the SM + anomalons valid up
to the Planck scale with the Higgs mass parameter set there (as in the finite-naturalness
bounds of FPS and of Clarke-Cox, arXiv:1607.07446, with Lambda_h = M_Pl): the correction is the
finite threshold (-1) plus the two-loop running of m_h^2 from M_Pl down to M.  (This reading is
inferred from the tables; the FPS text itself was not available to check the choice of mu.)
That is the default :data:`PLANCK` convention; :data:`WEAK_SCALE` (mu = M_h)
is kept for comparison.  With g2, gY = MS-bar couplings at m_Z the Planck reading gives the
paper's columns to within +1...+7 % (docs/anomalons.md lists every row); no natural choice of
mu or couplings reproduces all eleven rounded entries.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scipy.optimize import brentq

from ..errors import InputError
from ..physics.constants import DEFAULT_SM

#: Higgs pole mass in GeV (PDG 2022 average, the value quoted with the tables).
HIGGS_MASS = 125.25
#: Planck mass G_N^{-1/2} in GeV (PDG 2024).
PLANCK_MASS = 1.220890e19
#: Reduced Planck mass in GeV (PDG 2024), for sensitivity studies.
REDUCED_PLANCK_MASS = 2.435e18
#: Default allowed tuning, Eq. (2.8).
DEFAULT_DELTA = 100.0


@dataclass(frozen=True)
class NaturalnessConvention:
    """Inputs of Eq. (2.9): renormalisation scale mu [GeV], couplings g2, gY, Higgs mass [GeV]."""

    name: str
    mu: float
    g2: float = DEFAULT_SM.g
    gY: float = DEFAULT_SM.g_prime
    M_h: float = HIGGS_MASS

    def replace(self, **changes) -> "NaturalnessConvention":
        return replace(self, **changes)


#: mu = M_Pl, MS-bar g2(m_Z) = 0.6517, gY(m_Z) = 0.3575 from DEFAULT_SM (module docstring).
PLANCK = NaturalnessConvention("planck", PLANCK_MASS)
#: mu = M_h: Eq. (2.9) read with a weak-scale renormalisation scale (about 3x the tables).
WEAK_SCALE = NaturalnessConvention("weak-scale", HIGGS_MASS)
CONVENTIONS = {c.name: c for c in (PLANCK, WEAK_SCALE)}


def get_convention(name: str) -> NaturalnessConvention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise InputError(f"unknown naturalness convention {name!r}; accepted: {', '.join(CONVENTIONS)}") from None


def gauge_factor(multiplets, conv: NaturalnessConvention = PLANCK) -> float:
    """sum C n [(n^2-1)/4 g2^4 + Y^2 gY^4] over (n, Y, C) (C includes colour multiplicity)."""
    return sum(C * n * ((n * n - 1) / 4.0 * conv.g2**4 + float(Y) ** 2 * conv.gY**4) for n, Y, C in multiplets)


def delta_mh2(multiplets, M: float, conv: NaturalnessConvention = PLANCK) -> float:
    """delta m_h^2 in GeV^2 of Eq. (2.9) for anomalons of common mass M [GeV]."""
    log = 6.0 * math.log(M * M / conv.mu**2) - 1.0
    return gauge_factor(multiplets, conv) * M * M / (4.0 * math.pi) ** 4 * log


def fine_tuning(multiplets, M: float, conv: NaturalnessConvention = PLANCK) -> float:
    """Delta = |delta m_h^2| / M_h^2, Eq. (2.8)."""
    return abs(delta_mh2(multiplets, M, conv)) / conv.M_h**2


def naturalness_bound(multiplets, Delta: float = DEFAULT_DELTA, conv: NaturalnessConvention = PLANCK) -> float:
    """Largest common anomalon mass M [GeV] with fine_tuning <= Delta (Eqs. 2.8-2.9).

    Searched up to 10^9 GeV, on the side of the log's zero where Delta(M) grows monotonically
    (from 1 GeV when mu is far above, from 1.5 x the zero when mu is low).
    """
    if not (Delta > 0 and math.isfinite(Delta)):
        raise InputError(f"Delta must be a finite number > 0, got {Delta!r}")
    multiplets = list(multiplets)
    if gauge_factor(multiplets, conv) <= 0:
        raise InputError("no electroweak-charged multiplet: Eq. (2.9) gives no bound")
    zero = conv.mu * math.exp(1.0 / 12.0)  # M where the log of (2.9) vanishes
    hi = math.log(1e9)
    lo = math.log(1.5 * zero) if zero < 1e8 else 0.0  # above the zero, or from 1 GeV if mu >> 10^9
    f = lambda lnM: math.log(fine_tuning(multiplets, math.exp(lnM), conv)) - math.log(Delta)
    if f(lo) > 0:
        raise InputError(f"Delta = {Delta} is below the tuning of the lightest mass considered")
    if f(hi) < 0:
        raise InputError(f"Delta = {Delta} is not reached below 10^9 GeV")
    return math.exp(brentq(f, lo, hi, xtol=1e-12, rtol=1e-12))


def naturalness_bound_TeV(model_or_multiplets, Delta: float = DEFAULT_DELTA,
                          conv: NaturalnessConvention = PLANCK) -> float:
    """:func:`naturalness_bound` in TeV; accepts an AnomalonModel or (n, Y, C) tuples."""
    mults = (model_or_multiplets.naturalness_multiplets()
             if hasattr(model_or_multiplets, "naturalness_multiplets") else model_or_multiplets)
    return naturalness_bound(mults, Delta, conv) / 1e3
