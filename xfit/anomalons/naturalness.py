"""Finite naturalness, Eqs. (2.8)-(2.9) of arXiv:2603.04394 (method of Farina, Pappadopulo,
Strumia, arXiv:1303.7244).

A fermion multiplet (1, n, Y) of mass M shifts the Higgs mass parameter at two loops by

    delta m_h^2 = C n M^2 / (4 pi)^4 * [(n^2-1)/4 g2^4 + Y^2 gY^4] * (6 ln(M^2/mu^2) - 1)   (2.9)

with C = 1 for a Majorana-like field, 2 for a Dirac-like pair; the anomalons of a model share
the scale M and their contributions add.  The bound is the M at which
Delta = |delta m_h^2| / M_h^2 (Eq. 2.8) reaches the allowed tuning (100).

The paper does not say which mu, couplings or Higgs mass it used, nor how it printed the
bounds.  Three readings are implemented (docs/anomalons.md; ``xfit anomalons
naturalness-readings`` recomputes the comparison):

``tables`` (default)
    The log of (2.9) frozen, |6 ln(M^2/mu^2) - 1| = :data:`TABLES_LOG_FACTOR` for every
    anomalon mass, MS-bar g2, gY at m_Z, M_h = 125.25 GeV, bounds truncated to 0.1 TeV
    (rounded down, as an upper bound is).  The printed columns of Tables 2 and 3 allow a frozen
    log only in [438.3, 441.0] with truncation, and in no interval when rounded to nearest
    (:mod:`xfit.anomalons.naturalness_readings`); the value is the centre of that window, so
    this convention is calibrated on the tables, not derived.  It equals mu = M_Pl with the log
    evaluated once at M = 1.6 TeV (mu/M = e^36.55).  It makes the tables' "x sqrt(Delta/100)"
    scaling exact.
``planck``
    Eq. (2.9) as printed, log at the anomalon mass, mu = M_Pl (the running of m_h^2 from the
    Planck scale down to M): entries 1-7 % above the tables.
``weak-scale``
    Eq. (2.9) with mu = M_h: about 3x the tables, falling too slowly with n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..errors import InputError
from ..physics.constants import DEFAULT_SM

#: Higgs pole mass in GeV (PDG 2022 average).
HIGGS_MASS = 125.25
#: Planck mass G_N^{-1/2} in GeV (PDG 2024).
PLANCK_MASS = 1.220890e19
#: Reduced Planck mass (8 pi G_N)^{-1/2} in GeV (PDG 2024).
REDUCED_PLANCK_MASS = 2.435e18
#: Default allowed tuning, Eq. (2.8).
DEFAULT_DELTA = 100.0
#: |6 ln(M^2/mu^2) - 1| of the ``tables`` convention: the centre of the window [438.3, 441.0]
#: that the printed columns of Tables 2-3 allow (tests recompute it from the data file).
TABLES_LOG_FACTOR = 439.65
#: How a bound is printed to one decimal in TeV: to nearest, or truncated (rounded down).
ROUNDINGS = ("nearest", "truncate")


def check_rounding(rounding: str, what: str = "rounding") -> str:
    """``rounding`` if it is one of :data:`ROUNDINGS`, else InputError."""
    if rounding not in ROUNDINGS:
        raise InputError(f"{what} {rounding!r} unknown; accepted: {', '.join(ROUNDINGS)}")
    return rounding


def printed_interval(printed_TeV: float, rounding: str) -> tuple[float, float]:
    """The true bounds [low, high) in TeV that print as the one-decimal ``printed_TeV``."""
    check_rounding(rounding)
    return (printed_TeV - 0.05, printed_TeV + 0.05) if rounding == "nearest" else (printed_TeV, printed_TeV + 0.1)


@dataclass(frozen=True)
class NaturalnessConvention:
    """Inputs of Eq. (2.9).

    mu: renormalisation scale [GeV]; g2, gY: gauge couplings; M_h: Higgs pole mass [GeV];
    frozen_log: if set, |6 ln(M^2/mu^2) - 1| takes this value for every M (the sign stays that
    of mu >> M); table_rounding: how a table prints a bound (one of :data:`ROUNDINGS`).
    """

    name: str
    mu: float
    g2: float = DEFAULT_SM.g
    gY: float = DEFAULT_SM.g_prime
    M_h: float = HIGGS_MASS
    frozen_log: float | None = None
    table_rounding: str = "nearest"

    def __post_init__(self):
        check_rounding(self.table_rounding, "table_rounding")
        for key in ("mu", "g2", "gY", "M_h") + (("frozen_log",) if self.frozen_log is not None else ()):
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise InputError(
                    f"naturalness convention {self.name!r}: {key} must be a finite number > 0, got {value!r}"
                )

    def replace(self, **changes) -> NaturalnessConvention:
        return replace(self, **changes)


#: Frozen log calibrated on Tables 2-3, truncated printing (module docstring).
TABLES = NaturalnessConvention("tables", PLANCK_MASS, frozen_log=TABLES_LOG_FACTOR, table_rounding="truncate")
#: Eq. (2.9) as printed with mu = M_Pl and the log at the anomalon mass.
PLANCK = NaturalnessConvention("planck", PLANCK_MASS)
#: Eq. (2.9) with a weak-scale renormalisation scale mu = M_h (about 3x the tables).
WEAK_SCALE = NaturalnessConvention("weak-scale", HIGGS_MASS)
CONVENTIONS = {c.name: c for c in (TABLES, PLANCK, WEAK_SCALE)}
#: The convention used when none is given.
DEFAULT_CONVENTION = TABLES


def get_convention(name: str) -> NaturalnessConvention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise InputError(f"unknown naturalness convention {name!r}; accepted: {', '.join(CONVENTIONS)}") from None


def gauge_factor(multiplets, conv: NaturalnessConvention = DEFAULT_CONVENTION) -> float:
    """sum C n [(n^2-1)/4 g2^4 + Y^2 gY^4] over (n, Y, C) (C includes colour multiplicity)."""
    return sum(C * n * ((n * n - 1) / 4.0 * conv.g2**4 + float(Y) ** 2 * conv.gY**4) for n, Y, C in multiplets)


def log_factor(M: float, conv: NaturalnessConvention = DEFAULT_CONVENTION) -> float:
    """The last factor of Eq. (2.9), 6 ln(M^2/mu^2) - 1 (-conv.frozen_log if that is set)."""
    if conv.frozen_log is not None:
        return -conv.frozen_log
    return 6.0 * math.log(M * M / conv.mu**2) - 1.0


def delta_mh2(multiplets, M: float, conv: NaturalnessConvention = DEFAULT_CONVENTION) -> float:
    """delta m_h^2 in GeV^2 of Eq. (2.9) for anomalons of common mass M [GeV]."""
    return gauge_factor(multiplets, conv) * M * M / (4.0 * math.pi) ** 4 * log_factor(M, conv)


def fine_tuning(multiplets, M: float, conv: NaturalnessConvention = DEFAULT_CONVENTION) -> float:
    """Delta = |delta m_h^2| / M_h^2, Eq. (2.8)."""
    return abs(delta_mh2(multiplets, M, conv)) / conv.M_h**2


def naturalness_bound(
    multiplets, Delta: float = DEFAULT_DELTA, conv: NaturalnessConvention = DEFAULT_CONVENTION
) -> float:
    """Largest common anomalon mass M [GeV] with fine_tuning <= Delta (Eqs. 2.8-2.9).

    A frozen log gives M = sqrt(Delta M_h^2 (4 pi)^4 / (G L)) in closed form; otherwise M is
    searched up to 10^9 GeV, on the side of the log's zero where Delta(M) grows monotonically
    (from 1 GeV when mu is far above, from 1.5 x the zero when mu is low).
    """
    if not (isinstance(Delta, (int, float)) and Delta > 0 and math.isfinite(Delta)):
        raise InputError(f"Delta must be a finite number > 0, got {Delta!r}")
    multiplets = list(multiplets)
    if gauge_factor(multiplets, conv) <= 0:
        raise InputError("no electroweak-charged multiplet: Eq. (2.9) gives no bound")
    if conv.frozen_log is not None:
        return math.sqrt(
            Delta * conv.M_h**2 * (4.0 * math.pi) ** 4 / (gauge_factor(multiplets, conv) * conv.frozen_log)
        )
    zero = conv.mu * math.exp(1.0 / 12.0)  # M where the log of (2.9) vanishes
    hi = math.log(1e9)
    lo = math.log(1.5 * zero) if zero < 1e8 else 0.0

    def f(lnM):
        return math.log(fine_tuning(multiplets, math.exp(lnM), conv)) - math.log(Delta)

    if f(lo) > 0:
        raise InputError(f"Delta = {Delta} is below the tuning of the lightest mass considered")
    if f(hi) < 0:
        raise InputError(f"Delta = {Delta} is not reached below 10^9 GeV")
    from scipy.optimize import brentq  # here: scipy.optimize costs ~0.3 s to import

    return math.exp(brentq(f, lo, hi, xtol=1e-12, rtol=1e-12))


def naturalness_bound_TeV(
    model_or_multiplets, Delta: float = DEFAULT_DELTA, conv: NaturalnessConvention = DEFAULT_CONVENTION
) -> float:
    """:func:`naturalness_bound` in TeV; accepts an AnomalonModel or (n, Y, C) tuples."""
    mults = (
        model_or_multiplets.naturalness_multiplets()
        if hasattr(model_or_multiplets, "naturalness_multiplets")
        else model_or_multiplets
    )
    return naturalness_bound(mults, Delta, conv) / 1e3


def printed_bound(bound_TeV: float, rounding: str = "nearest") -> float:
    """A bound in TeV as a one-decimal table entry: to nearest, or truncated (rounded down).

    A 1e-9 guard absorbs floating-point noise at an exact edge (e.g. 3.4 stored as 3.39999...).
    """
    check_rounding(rounding)
    tenths = bound_TeV * 10.0
    return (math.floor(tenths + 0.5) if rounding == "nearest" else math.floor(tenths + 1e-9)) / 10.0
