"""Gauged chiral tau-lepton number (chiral-tau paper, Sec. III-IV).

One anomalon n-plet L_L (left-handed) + L_R (right-handed), same hypercharge Y, mass from
y L_L L_R S^* so X_S = X_{L_R} - X_{L_L} (Eq. 30).  With alpha_R / alpha_L = -1/m (Eq. 39)
the conditions (25)-(27) give, in units of alpha_L:

    X_S = 6 / (n (n^2-1))                                                       (31)
    Y^2 = (n^2-1)(1 + 2/m) / 12                                                 (32)
    X_{L_L} + X_{L_R} = -+ sqrt((n^2-1) / (3 (1 + 2/m))) (1 - 1/m^2)            (33)

(the signs of Y and of X_{L_L} + X_{L_R} are opposite, from Eq. 27).  Table II keeps rational
charges and a neutral lightest state of the n-plet under the splitting of Eq. (38), which holds
iff |Y| = (n-1)/2, i.e. m = (n+1)/(n-2).  Every 3 <= n <= 10 gives a rational m this way;
Table II lists the integer ones, m = 2 (n = 5), m = 4 (n = 3), plus m = infinity (n = 2).

Tables III (L-only) and IV (L = -4R) are :func:`l_only_content` and :func:`l_minus_4r_content`.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..errors import InputError
from ..physics.anomaly import WeylField
from .criteria import lightest_is_neutral
from .field_content import FieldContent, SMCharges
from .rational import fraction_str, rational_sqrt


@dataclass(frozen=True)
class ChiralTauSolution:
    """Solution of Eqs. (31)-(33) for (n, m), charges in units of alpha_L; m = None is infinity."""

    n: int
    m: Fraction | None
    Y: Fraction          # the negative root (Table II sign convention)
    XL_plus_XR: Fraction
    XS: Fraction

    @property
    def alpha_R_over_alpha_L(self) -> Fraction:
        return Fraction(0) if self.m is None else -1 / self.m

    @property
    def X_LL(self) -> Fraction:
        return (self.XL_plus_XR - self.XS) / 2

    @property
    def X_LR(self) -> Fraction:
        return (self.XL_plus_XR + self.XS) / 2

    @property
    def lightest_is_neutral(self) -> bool:
        """Eq. (38) splitting: the lightest state of the n-plet is neutral."""
        return lightest_is_neutral(self.n, self.Y)

    def field_content(self, alpha_L=1) -> FieldContent:
        """SM with chiral tau charges plus L_L, L_R (no singlets: (23)-(24) are left to N_R)."""
        a = Fraction(alpha_L)
        return FieldContent(SMCharges.chiral_tau(a, a * self.alpha_R_over_alpha_L),
                            (WeylField("L_L", "L", self.n, self.Y, a * self.X_LL),
                             WeylField("L_R", "R", self.n, self.Y, a * self.X_LR)))

    def row(self) -> dict:
        return {"m": "inf" if self.m is None else fraction_str(self.m), "n": self.n,
                "Y": fraction_str(self.Y), "XL_plus_XR": fraction_str(self.XL_plus_XR),
                "XS_over_aL": fraction_str(self.XS)}


def solve_chiral_tau(n: int, m) -> ChiralTauSolution | None:
    """Eqs. (31)-(33) for the n-plet and m = -alpha_L/alpha_R (None: infinity); None unless the
    hypercharge and charges are rational and Y != 0."""
    if n < 2 or (m is not None and Fraction(m) == 0):
        return None
    r = Fraction(0) if m is None else -1 / Fraction(m)   # alpha_R / alpha_L
    k = 1 - 2 * r                                          # (alpha_L - 2 alpha_R) / alpha_L
    Y = rational_sqrt(Fraction(n * n - 1) * k / 12)
    if Y is None or Y == 0:
        return None
    root = rational_sqrt(Fraction(n * n - 1) / (3 * k))
    if root is None:
        return None
    total = root * (1 - r * r)                             # sign opposite to Y, Y < 0 here
    return ChiralTauSolution(n, None if m is None else Fraction(m), -Y, total, Fraction(6, n * (n * n - 1)))


def scan_chiral_tau(m_values, n_range=range(2, 11)) -> list[ChiralTauSolution]:
    """Rational solutions with a neutral lightest state, Sec. III C; m_values may include None (infinity)."""
    out = []
    for n in n_range:
        for m in m_values:
            sol = solve_chiral_tau(n, m)
            if sol is not None and sol.lightest_is_neutral:
                out.append(sol)
    return out


def neutral_lp_m(n: int) -> Fraction | None:
    """The m for which |Y| = (n-1)/2 (neutral lightest state): (n+1)/(n-2); None (infinity) for n = 2."""
    return None if n == 2 else Fraction(n + 1, n - 2)


def table_II(m_max: int = 100, n_range=range(2, 11)) -> list[dict]:
    """Table II: integer 1 <= |m| <= m_max and m = infinity, 2 <= n <= 10, ordered by m.

    A neutral lightest state needs m = (n+1)/(n-2) (:func:`neutral_lp_m`), so the table is
    built from n alone (one candidate m per n) and does not depend on m_max beyond the cut."""
    if isinstance(m_max, bool) or int(m_max) != m_max or m_max < 1:
        raise InputError(f"m_max must be a positive integer, got {m_max!r}")
    sols = []
    for n in n_range:
        if n < 2:
            continue
        m = neutral_lp_m(n)
        if m is not None and (m.denominator != 1 or abs(m) > m_max):
            continue
        sol = solve_chiral_tau(n, m)
        if sol is not None and sol.lightest_is_neutral:
            sols.append(sol)
    sols.sort(key=lambda s: (s.m is None, s.m if s.m is not None else 0))
    return [s.row() for s in sols]


def l_only_content() -> FieldContent:
    """Table III (L-only model): alpha_L = 1, alpha_R = 0; anomalon doublets L_L, L_R and the
    vector-like Froggatt-Nielsen doublet E_L, E_R."""
    h = Fraction(-1, 2)
    return FieldContent(SMCharges.chiral_tau(1, 0), (
        WeylField("L_L", "L", 2, h, 0), WeylField("L_R", "R", 2, h, 1),
        WeylField("E_L", "L", 2, h, 0), WeylField("E_R", "R", 2, h, 0)),
        description="chiral-tau paper, Table III (L-only)")


def l_minus_4r_content() -> FieldContent:
    """Table IV (L = -4R model): alpha_L = 4, alpha_R = -1; triplets L_L, L_R, singlets N_R^1,2
    and the vector-like singlet E_L, E_R."""
    return FieldContent(SMCharges.chiral_tau(4, -1), (
        WeylField("L_L", "L", 3, 1, -3), WeylField("L_R", "R", 3, 1, -2),
        WeylField("N_R^1", "R", 1, 0, 2), WeylField("N_R^2", "R", 1, 0, 4),
        WeylField("E_L", "L", 1, -1, 4), WeylField("E_R", "R", 1, -1, 4)),
        description="chiral-tau paper, Table IV (L = -4R)")
