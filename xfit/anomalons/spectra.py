"""Anomalon spectra made of Majorana-like (ML) fields and Dirac-like (DL) pairs (Sec. 2.2 (i)).

All anomalons Psi_alpha are left-handed Weyl multiplets (Table 1 of arXiv:2603.04394).
Charges are stored in units of 3 alpha_{B+L} (the tables' normalisation), possibly as
:class:`~xfit.anomalons.rational.Affine` functions of the free shift 𝒳 (Eq. A.11).

* ML field: (n, Y = 0, X) with n odd, mass term Psi Psi S^(+) so X = +-X_S/2;
* DL pair: (n, Y, X_+) and (n, -Y, X_-), mass term Psi_+ Psi_- S^(+) so X_+ + X_- = +-X_S.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..physics.anomaly import WeylField
from .field_content import FieldContent, SMCharges
from .rational import Affine, at, fraction_str


@dataclass(frozen=True)
class Multiplet:
    """A left-handed Weyl multiplet: SU(2) dimension n, hypercharge Y, X / (3 alpha_{B+L})."""

    n: int
    Y: Fraction
    X: Fraction | Affine
    color: int = 1


@dataclass(frozen=True)
class DLPair:
    """A Dirac-like pair (n, Y, X_plus) + (n, -Y, X_minus), Y > 0."""

    n: int
    Y: Fraction
    X_plus: Fraction | Affine
    X_minus: Fraction | Affine
    color: int = 1

    @property
    def members(self) -> tuple[Multiplet, Multiplet]:
        return (Multiplet(self.n, self.Y, self.X_plus, self.color),
                Multiplet(self.n, -self.Y, self.X_minus, self.color))


@dataclass(frozen=True)
class AnomalonModel:
    """A spectrum of ML fields and DL pairs with the charge X_S of the scalar S (units 3 alpha_{B+L})."""

    family: str
    ml: tuple[Multiplet, ...]
    dl: tuple[DLPair, ...]
    XS: Fraction | Affine

    @property
    def multiplets(self) -> list[Multiplet]:
        out = list(self.ml)
        for pair in self.dl:
            out.extend(pair.members)
        return out

    @property
    def dims(self) -> tuple[int, ...]:
        return tuple(m.n for m in self.multiplets)

    @property
    def n_weyl(self) -> int:
        return len(self.multiplets)

    def weyl_fields(self, alpha_BL=Fraction(1, 3), shift=0) -> list[WeylField]:
        """Left-handed WeylFields with X = 3 alpha_{B+L} * (stored charge at 𝒳 = shift)."""
        scale = 3 * Fraction(alpha_BL)
        out = []
        for i, m in enumerate(self.multiplets):
            out.append(WeylField(f"Psi{i + 1}", "L", m.n, m.Y, scale * at(m.X, shift), N=m.color))
        return out

    def field_content(self, alpha_BL=Fraction(1, 3), shift=0) -> FieldContent:
        """With SM charges alpha_B = alpha_{B+L} (only alpha_{B+L} enters (2.4)-(2.6)).

        (2.2)-(2.3) are left to SM singlets, criterion (iv): they are not part of the model.
        """
        return FieldContent(SMCharges.vector(alpha_B=alpha_BL), tuple(self.weyl_fields(alpha_BL, shift)))

    def naturalness_multiplets(self) -> list[tuple[int, Fraction, int]]:
        """(n, Y, C N_c) per mass eigen-multiplet for Eq. (2.9): C = 1 (ML), 2 (DL pair)."""
        return ([(m.n, m.Y, 1 * m.color) for m in self.ml]
                + [(p.n, p.Y, 2 * p.color) for p in self.dl])

    def describe(self) -> str:
        parts = [f"ML({m.n}, 0, {fraction_str(m.X)})" for m in self.ml]
        parts += [f"DL({p.n}, ±{fraction_str(p.Y)}; {fraction_str(p.X_plus)}, {fraction_str(p.X_minus)})"
                  for p in self.dl]
        return " + ".join(parts) + f"; X_S = {fraction_str(self.XS)}  [units of 3 alpha_B+L]"
