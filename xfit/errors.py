"""Exceptions of xfit.  Each message names the problem and the accepted values.

The command line turns any :class:`XfitError` into a one-line message and a non-zero exit
code (no traceback); library users catch them by class.
"""
from __future__ import annotations

import math
from fractions import Fraction
from numbers import Rational


class XfitError(Exception):
    """Base class of every error xfit raises on purpose."""

    exit_code = 2


class InputError(XfitError, ValueError):
    """A user input (model name, charge, mass, coupling, option) is not acceptable."""


class DataError(XfitError):
    """A data file is missing, corrupt or not what xfit expects."""

    exit_code = 3


class ConvergenceError(XfitError):
    """A fit or a scan point did not converge; the result must not be used."""

    exit_code = 4


def shown(value, width: int = 80) -> str:
    """``repr(value)`` on one line, cut to ``width`` characters (the value quoted in a message)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def require_finite_number(value, name: str) -> float:
    """Return ``value`` as a float, or raise :class:`InputError` naming ``name``."""
    import math

    if isinstance(value, bool):
        raise InputError(f"{name} must be a finite number, got {shown(value)}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a finite number, got {shown(value)}") from None
    if not math.isfinite(x):
        raise InputError(f"{name} must be a finite number, got {shown(value)}")
    return x


def require_count(value, name: str, meaning: str = "") -> int:
    """``value`` as an int, or :class:`InputError` naming ``name``: a whole number >= 1 (2.0 is 2;
    2.5, NaN, inf, True or text are refused, not truncated).  ``meaning`` is added in brackets."""
    from numbers import Integral, Real

    ok = not isinstance(value, bool) and isinstance(value, Real)
    if ok and not isinstance(value, Integral):
        ok = float(value).is_integer()  # False for NaN and inf
    if not ok or value < 1:
        extra = f" ({meaning})" if meaning else ""
        raise InputError(f"{name} must be a whole number >= 1{extra}, got {shown(value)}")
    return int(value)


def finite_array(value, name: str, lo: float | None = None, hi: float | None = None, *,
                 lo_open: bool = False):
    """``value`` as a float numpy array; InputError naming ``name`` unless every element is a
    finite real number in [lo, hi] (``lo_open``: lo excluded)."""
    import numpy as np

    if type(value) is np.ndarray and value.dtype == np.float64:  # the common case, without conversion
        a = value
    else:
        try:
            if np.iscomplexobj(value):
                raise TypeError
            a = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be a finite real number (or an array of them), got {shown(value)}") from None
    if not np.isfinite(a).all():
        raise InputError(f"{name} must be finite, got {shown(value)}")
    if lo is not None and ((a <= lo).any() if lo_open else (a < lo).any()):
        rng = f"{'>' if lo_open else '>='} {lo:g}" + (f" and <= {hi:g}" if hi is not None else "")
        raise InputError(f"{name} must be {rng}, got {shown(value)}")
    if hi is not None and (a > hi).any():
        raise InputError(f"{name} must be <= {hi:g}, got {shown(value)}")
    return a


def validate_mass(mX, name: str = "m_X"):
    """m_X [GeV] as a float array; InputError unless finite and > 0."""
    return finite_array(mX, f"{name} (GeV)", 0.0, lo_open=True)


def to_fraction(value, what: str = "value") -> Fraction:
    """``value`` as an exact :class:`Fraction`; :class:`InputError` naming ``what`` if not a number.

    Accepts ints, Fractions, strings such as ``"1/12"``, ``"-2"``, ``"0.25"`` and floats
    (taken at their shortest decimal representation, so a YAML ``0.1`` is exactly 1/10).
    """
    if isinstance(value, bool) or value is None:
        raise InputError(f"{what} must be a number or a fraction string like '1/12', got {value!r}")
    if isinstance(value, Rational):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{what} must be finite, got {value!r}")
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip().replace(" ", ""))
        except (ValueError, ZeroDivisionError):
            pass
    raise InputError(f"{what} must be a number or a fraction string like '1/12', got {value!r}")
