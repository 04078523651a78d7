"""Anomaly traces of U(1)_X with the electroweak group, from a table of Weyl fields.

Definition (Eq. 3.2 of arXiv:2603.04394; Eq. 4 of the chiral-tau paper)::

    A_abc = Tr[T_a {T_b, T_c}]|_R - Tr[T_a {T_b, T_c}]|_L

For a field in the SU(2)_L representation of dimension n with hypercharge Y, X charge X and
colour multiplicity N (right- or left-handed Weyl spinor):

* A_XWW gets  +-N X n(n^2-1)/6     (Tr over the n-plet of {T^a, T^b} = n(n^2-1)/6 delta^ab;
  for a doublet this is X, so a left-handed lepton doublet of charge 1 gives A_XWW = -1)
* A_XYY gets  +-2 N n X Y^2
* A_XXY gets  +-2 N n X^2 Y,  A_XXX gets +-2 N n X^3,  A_X (gravitational) gets +-N n X

The functions use only +, -, * so exact :class:`fractions.Fraction` inputs give exact
outputs (the anomalon classification relies on this).  The closed forms

* vector charges (Eq. 2.7, 3.2):   A_XYY = -A_XWW = 3 alpha_{B+L},
  alpha_{B+L} = alpha_B + (alpha_e + alpha_mu + alpha_tau)/3
* chiral tau (chiral paper Eqs. 21-22):  A_XWW = -alpha_L,  A_XYY = 2 alpha_R - alpha_L

are what :func:`anomaly_traces` gives for :func:`sm_fields` and :func:`chiral_tau_fields`
(see tests/physics/test_anomaly.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from numbers import Number

LEPTON_FLAVOURS = ("e", "mu", "tau")


@dataclass(frozen=True)
class WeylField:
    """One Weyl field: name, chirality 'L' or 'R', SU(2) dimension n, hypercharge Y,
    U(1)_X charge X, colour multiplicity N (3 for quarks) and copies (generations)."""

    name: str
    chirality: str
    n: int
    Y: Number
    X: Number
    N: int = 1
    copies: int = 1

    def __post_init__(self):
        if self.chirality not in ("L", "R"):
            raise ValueError(f"field {self.name}: chirality must be 'L' or 'R', got {self.chirality!r}")
        if int(self.n) != self.n or self.n < 1:
            raise ValueError(f"field {self.name}: SU(2) dimension must be a positive integer, got {self.n!r}")

    @property
    def sign(self) -> int:
        """+1 for right-handed, -1 for left-handed fields (Eq. 3.2)."""
        return 1 if self.chirality == "R" else -1

    @property
    def multiplicity(self) -> int:
        return self.N * self.copies


@dataclass(frozen=True)
class AnomalyTraces:
    """The anomaly coefficients of a field content."""

    XWW: Number
    XYY: Number
    XXY: Number
    XXX: Number
    X: Number
    witten_doublets: int  # number of Weyl fields in SU(2) reps with n = 2 mod 4

    @property
    def witten_ok(self) -> bool:
        return self.witten_doublets % 2 == 0


def anomaly_traces(fields: Iterable[WeylField]) -> AnomalyTraces:
    """Anomaly traces (Eq. 3.2) of a list of Weyl fields; exact for Fraction charges."""
    xww = xyy = xxy = xxx = x = 0
    witten = 0
    for f in fields:
        s, m, n = f.sign, f.multiplicity, f.n
        xww += s * m * f.X * Fraction(n * (n * n - 1), 6)
        xyy += s * m * 2 * n * f.X * f.Y * f.Y
        xxy += s * m * 2 * n * f.X * f.X * f.Y
        xxx += s * m * 2 * n * f.X * f.X * f.X
        x += s * m * n * f.X
        if n % 4 == 2:
            witten += m
    return AnomalyTraces(XWW=_simplify(xww), XYY=_simplify(xyy), XXY=_simplify(xxy),
                         XXX=_simplify(xxx), X=_simplify(x), witten_doublets=witten)


def _simplify(v):
    """Keep Fractions exact, turn Fraction-times-float results into floats."""
    if isinstance(v, Fraction) and v.denominator == 1:
        return int(v)
    return v


def sm_fields(alpha_B=0, lepton_charges: dict | None = None) -> list[WeylField]:
    """The SM fermions (three generations, no right-handed neutrinos) with X charges.

    ``lepton_charges`` maps a flavour ('e', 'mu', 'tau') to ``(alpha_L, alpha_R)``, the X
    charges of its left-handed doublet and right-handed singlet (vector charge alpha:
    ``(alpha, alpha)``).  Quarks carry alpha_B/3 (Table 1 of arXiv:2603.04394).
    """
    q = Fraction(alpha_B) / 3 if isinstance(alpha_B, (int, Fraction)) else alpha_B / 3
    fields = [
        WeylField("q_L", "L", 2, Fraction(1, 6), q, N=3, copies=3),
        WeylField("u_R", "R", 1, Fraction(2, 3), q, N=3, copies=3),
        WeylField("d_R", "R", 1, Fraction(-1, 3), q, N=3, copies=3),
    ]
    lepton_charges = lepton_charges or {}
    unknown = set(lepton_charges) - set(LEPTON_FLAVOURS)
    if unknown:
        raise ValueError(f"unknown lepton flavour(s) {sorted(unknown)}; accepted: e, mu, tau")
    for flav in LEPTON_FLAVOURS:
        aL, aR = lepton_charges.get(flav, (0, 0))
        fields.append(WeylField(f"l_L^{flav}", "L", 2, Fraction(-1, 2), aL))
        fields.append(WeylField(f"e_R^{flav}", "R", 1, -1, aR))
    return fields


def vector_charge_fields(alpha_B=0, alpha_e=0, alpha_mu=0, alpha_tau=0) -> list[WeylField]:
    """SM fields for X = alpha_B B + sum_i alpha_i L_i (Eq. 1.1)."""
    return sm_fields(alpha_B, {"e": (alpha_e, alpha_e), "mu": (alpha_mu, alpha_mu),
                               "tau": (alpha_tau, alpha_tau)})


def chiral_tau_fields(alpha_L, alpha_R) -> list[WeylField]:
    """SM fields with chiral tau-lepton charges (chiral paper, Eq. 2)."""
    return sm_fields(0, {"tau": (alpha_L, alpha_R)})


def alpha_B_plus_L(alpha_B=0, alpha_e=0, alpha_mu=0, alpha_tau=0):
    """alpha_{B+L} = alpha_B + (alpha_e + alpha_mu + alpha_tau)/3 (Eq. 2.7)."""
    total_L = alpha_e + alpha_mu + alpha_tau
    if all(isinstance(a, (int, Fraction)) for a in (alpha_B, total_L)):
        return alpha_B + Fraction(total_L, 3) if isinstance(total_L, int) else alpha_B + total_L / 3
    return alpha_B + total_L / 3


def vector_traces(alpha_B=0, alpha_e=0, alpha_mu=0, alpha_tau=0) -> tuple:
    """(A_XWW, A_XYY) = (-3 alpha_{B+L}, 3 alpha_{B+L}) for vector charges (Eqs. 2.7, 3.2)."""
    a = 3 * alpha_B_plus_L(alpha_B, alpha_e, alpha_mu, alpha_tau)
    return _simplify(-a), _simplify(a)


def chiral_tau_traces(alpha_L, alpha_R) -> tuple:
    """(A_XWW, A_XYY) = (-alpha_L, 2 alpha_R - alpha_L) (chiral paper Eqs. 21-22)."""
    return -alpha_L, 2 * alpha_R - alpha_L
