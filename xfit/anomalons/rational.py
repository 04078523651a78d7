"""Exact rational helpers for the anomalon classification.

Every U(1)_X charge and hypercharge of arXiv:2603.04394 (Sec. 2, App. A) and of the
chiral-tau paper (Sec. III) is a rational number, and several of them carry a free common
shift (the 𝒳 of Eq. A.11 and Table 3).  This module gives

* :func:`to_fraction` - parse user input (int, "1/12", "-0.5", YAML floats) exactly;
* :func:`rational_sqrt` - the exact square root of a non-negative rational, or ``None``
  (the "is this hypercharge rational" test of Eqs. A.3, A.8, A.13-A.16 and chiral Eq. 32);
* :func:`fraction_str` - "1/2", "-3", the form used in tables and JSON;
* :class:`Affine` - charges ``const + coef * X`` linear in the free shift 𝒳.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..errors import InputError, to_fraction  # noqa: F401 - to_fraction: re-exported


def rational_sqrt(q) -> Fraction | None:
    """Exact square root of a rational ``q >= 0`` if it is rational, else ``None`` (also for q < 0)."""
    q = Fraction(q)
    if q < 0:
        return None
    num, den = q.numerator, q.denominator  # lowest terms, so sqrt is rational iff both are squares
    rn, rd = math.isqrt(num), math.isqrt(den)
    if rn * rn == num and rd * rd == den:
        return Fraction(rn, rd)
    return None


def fraction_str(q) -> str:
    """``Fraction(1, 2)`` -> ``"1/2"``, ``Fraction(-3)`` -> ``"-3"`` (Affine: its own str)."""
    if isinstance(q, Affine):
        return str(q)
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


@dataclass(frozen=True)
class Affine:
    """A charge ``const + coef * X`` linear in the free shift 𝒳 (Eq. A.11, Table 3).

    Supports ``+``, ``-`` and multiplication by rationals; :meth:`at` substitutes a value of 𝒳.
    ``str`` gives the paper's notation, e.g. ``"X - 1/2"`` or ``"-X - 1/2"``.
    """

    const: Fraction
    coef: Fraction = Fraction(0)

    def __post_init__(self):
        object.__setattr__(self, "const", Fraction(self.const))
        object.__setattr__(self, "coef", Fraction(self.coef))

    def at(self, x) -> Fraction:
        return self.const + self.coef * Fraction(x)

    @property
    def is_constant(self) -> bool:
        return self.coef == 0

    def __add__(self, other):
        o = as_affine(other)
        return Affine(self.const + o.const, self.coef + o.coef)

    __radd__ = __add__

    def __neg__(self):
        return Affine(-self.const, -self.coef)

    def __sub__(self, other):
        return self + (-as_affine(other))

    def __rsub__(self, other):
        return as_affine(other) - self

    def __mul__(self, k):
        if isinstance(k, Affine):
            raise TypeError("Affine charges are linear in X: multiply by a number only")
        return Affine(self.const * k, self.coef * k)

    __rmul__ = __mul__

    def __truediv__(self, k):
        return Affine(self.const / k, self.coef / k)

    def __str__(self) -> str:
        if self.coef == 0:
            return fraction_str(self.const)
        c = self.coef
        num = "X" if abs(c.numerator) == 1 else f"{abs(c.numerator)}X"
        head = ("-" if c < 0 else "") + num + ("" if c.denominator == 1 else f"/{c.denominator}")
        if self.const == 0:
            return head
        sign = "+" if self.const > 0 else "-"
        return f"{head} {sign} {fraction_str(abs(self.const))}"


def as_affine(q) -> Affine:
    """A number or an :class:`Affine` as an :class:`Affine`."""
    return q if isinstance(q, Affine) else Affine(Fraction(q))


def at(q, x) -> Fraction:
    """Substitute 𝒳 = x in ``q`` (a number is returned unchanged as a Fraction)."""
    return q.at(x) if isinstance(q, Affine) else Fraction(q)
