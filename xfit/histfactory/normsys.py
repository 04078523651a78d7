"""``normsys``: an overall multiplicative factor f(alpha) of a sample, Gaussian-constrained alpha.

HistFactory note (K. Cranmer et al., CERN-OPEN-2012-016) ("OverallSys"): the factor
interpolates between ``lo`` (alpha = -1), 1 (alpha = 0) and ``hi`` (alpha = +1).  pyhf
(``pyhf.interpolators``, chosen with ``modifier_settings={"normsys": {"interpcode": ...}}``)
accepts two codes for normsys, both implemented here with their first two derivatives:

* ``code1`` -- piecewise exponential: hi^alpha for alpha > 0, lo^-alpha for alpha <= 0;
* ``code4`` (pyhf 0.7 default) -- exponential beyond |alpha| >= 1 (hi^alpha, lo^-alpha) and in
  between the polynomial 1 + sum_{i=1..6} a_i alpha^i whose value, first and second
  derivatives match the exponentials at alpha = +-1 (alpha0 = 1).

Every (parameter, hi, lo) triple is one "term"; rows that share it share its factor.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .powers import powers

#: Interpolation codes for normsys; the first is the default (pyhf 0.7).
CODES = ("code4", "code1")

#: Inverse of the 6x6 linear system fixing the code4 polynomial at alpha0 = 1: rows give a_1..a_6
#: from (hi - 1, lo - 1, hi ln hi, -lo ln lo, hi ln^2 hi, lo ln^2 lo).
_CODE4_SYSTEM_INVERSE = np.array([
    [15.0 / 16, -15.0 / 16, -7.0 / 16, -7.0 / 16, 1.0 / 16, -1.0 / 16],
    [3.0 / 2, 3.0 / 2, -9.0 / 16, 9.0 / 16, 1.0 / 16, 1.0 / 16],
    [-5.0 / 8, 5.0 / 8, 5.0 / 8, 5.0 / 8, -1.0 / 8, 1.0 / 8],
    [-3.0 / 2, -3.0 / 2, 7.0 / 8, -7.0 / 8, -1.0 / 8, -1.0 / 8],
    [3.0 / 16, -3.0 / 16, -3.0 / 16, -3.0 / 16, 1.0 / 16, -1.0 / 16],
    [1.0 / 2, 1.0 / 2, -5.0 / 16, 5.0 / 16, 1.0 / 16, 1.0 / 16],
])
_POWERS = np.arange(1, 7, dtype=float)


def code4_coefficients(hi, lo) -> np.ndarray:
    """Coefficients a_1..a_6 (leading axis) of the code4 polynomial for factors hi, lo > 0."""
    hi, lo = np.asarray(hi, float), np.asarray(lo, float)
    lu, ld = np.log(hi), np.log(lo)
    b = np.stack([hi - 1.0, lo - 1.0, lu * hi, -ld * lo, lu * lu * hi, ld * ld * lo])
    return np.tensordot(_CODE4_SYSTEM_INVERSE, b, axes=(1, 0))


def code4_table(coef) -> np.ndarray:
    """(3, U, 7): coefficients of alpha^0..alpha^6 in f, f' and f'' of the code4 polynomial,
    from a_1..a_6 (:func:`code4_coefficients`, shape (6, U))."""
    coef = np.asarray(coef, dtype=float)
    table = np.zeros((3, coef.shape[1], 7))
    table[0, :, 0] = 1.0
    table[0, :, 1:] = coef.T
    table[1, :, :6] = (coef * _POWERS[:, None]).T
    table[2, :, :5] = (coef[1:] * (_POWERS[1:] * _POWERS[:-1])[:, None]).T
    return table


def code4(alpha, log_hi, log_lo, table):
    """Factor f(alpha) and its first two derivatives, pyhf code4 (alpha0 = 1).

    ``alpha``: shape (U,) or a batch (..., U); ``log_hi``, ``log_lo``: (U,); ``table``:
    (3, U, 7) from :func:`code4_table`.
    For |alpha| < 1 one contraction of the powers of alpha with the table.
    """
    a = np.asarray(alpha, dtype=float)
    if a.ndim != 1:  # a batch (..., U)
        return _code4_batch(a, log_hi, log_lo, table)
    f, df, d2f = np.einsum("kui,iu->ku", table, powers(a))
    if np.abs(a).max(initial=0.0) >= 1.0:  # exponential: f = exp(alpha * slope)
        out = np.abs(a) >= 1.0
        slope = np.where(a > 0.0, log_hi, -log_lo)  # on every term: cheaper than selecting a few
        e = np.exp(a * slope)
        f, df, d2f = np.where(out, e, f), np.where(out, slope * e, df), np.where(out, slope * slope * e, d2f)
    return f, df, d2f


def _code4_batch(a, log_hi, log_lo, table):
    """:func:`code4` on a batch (..., U): one contraction of the powers of alpha with the table,
    then the exponential where |alpha| >= 1."""
    powers = np.empty(a.shape + (7,))
    powers[..., 0] = 1.0
    powers[..., 1:] = a[..., None]
    np.cumprod(powers, axis=-1, out=powers)
    f, df, d2f = np.einsum("kui,...ui->k...u", table, powers)
    out = np.abs(a) >= 1.0
    if out.any():
        slope = np.where(a > 0.0, log_hi, -log_lo)
        e = np.exp(a * slope)
        f, df, d2f = np.where(out, e, f), np.where(out, slope * e, df), np.where(out, slope * slope * e, d2f)
    return f, df, d2f


def code1(alpha, log_hi, log_lo, table=None):
    """Factor f(alpha) and its first two derivatives, pyhf code1 (piecewise exponential).

    f = exp(alpha ln hi) for alpha > 0 and exp(-alpha ln lo) otherwise; at alpha = 0 the
    derivatives are the one-sided ones from below (the function has a kink there).
    """
    a = np.asarray(alpha, dtype=float)
    slope = np.where(a > 0.0, log_hi, -log_lo)
    f = np.exp(a * slope)
    return f, slope * f, slope * slope * f


#: code name -> factor function (alpha, log_hi, log_lo, table) -> (f, f', f'')
FUNCTIONS = {"code4": code4, "code1": code1}


def compile(builder, modifier: dict, channel: str, rows, nominal) -> None:
    """One multiplicative term per (parameter, hi, lo) on every row of the sample."""
    data = modifier["data"]
    hi, lo = float(data["hi"]), float(data["lo"])
    if not (hi > 0 and lo > 0):
        raise InputError(f"normsys {modifier['name']!r} in channel {channel!r}: hi={hi}, lo={lo}; "
                         "both must be > 0 (the interpolation takes their logarithm)")
    builder.add_normsys(rows, builder.scalar_param(modifier["name"]), hi, lo)
