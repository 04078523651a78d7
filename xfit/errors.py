"""Exceptions of xfit.  Each message names the problem and the accepted values.

The command line turns any :class:`XfitError` into a one-line message and a non-zero exit
code (no traceback); library users catch them by class.
"""
from __future__ import annotations


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


def require_finite_number(value, name: str) -> float:
    """Return ``value`` as a float, or raise :class:`InputError` naming ``name``."""
    import math

    if isinstance(value, bool):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return x
