"""``histosys``: an additive, bin-by-bin shape variation of a sample, Gaussian-constrained alpha.

HistFactory note (K. Cranmer et al., CERN-OPEN-2012-016) ("HistoSys"): the yield of
each bin moves from nominal to ``hi_data`` (alpha = +1) and ``lo_data`` (alpha = -1).  With
dup = hi - nom and ddn = nom - lo every supported code is linear in (dup, ddn):

    Delta(alpha) = w_up(alpha) dup + w_dn(alpha) ddn

pyhf (``pyhf.interpolators``, ``modifier_settings={"histosys": {"interpcode": ...}}``):

* ``code4p`` (pyhf 0.7 default) -- linear beyond |alpha| > 1 (w_up = alpha or w_dn = alpha) and
  in between w_up/dn = alpha/2 +- g(alpha), g = alpha^2 (15 - 10 alpha^2 + 3 alpha^4) / 16,
  i.e. alpha S + alpha^2 A (15 - 10 alpha^2 + 3 alpha^4) with S = (dup+ddn)/2, A = (dup-ddn)/16;
* ``code0`` -- piecewise linear: w_up = alpha for alpha > 0, w_dn = alpha for alpha <= 0.

pyhf's ``code2`` is not offered: its extrapolation beyond |alpha| > 1 is not continuous at
alpha = +-1 in pyhf 0.7, so there is no well-defined model to agree with.
"""
from __future__ import annotations

import numpy as np

from .powers import powers

#: Interpolation codes for histosys; the first is the default (pyhf 0.7).
CODES = ("code4p", "code0")


#: code4p inside |alpha| <= 1: w_up/dn = alpha/2 +- g(alpha), g = alpha^2 (G0 + G1 alpha^2 + G2 alpha^4)
#: with (G0, G1, G2) = (15, -10, 3) / 16 (pyhf ``interpolators.code4p``).
_CODE4P_G = np.array([15.0, -10.0, 3.0]) / 16.0


def code4p_table(G) -> np.ndarray:
    """Rows w_up, w_dn, w_up', w_dn', w_up'', w_dn'' of code4p for |alpha| <= 1 as polynomials
    in alpha (coefficients of alpha^0..alpha^6), from the coefficients ``G`` of g."""
    g0, g1, g2 = (float(v) for v in G)
    return np.array([
        [0.0, 0.5, g0, 0.0, g1, 0.0, g2],
        [0.0, 0.5, -g0, 0.0, -g1, 0.0, -g2],
        [0.5, 2 * g0, 0.0, 4 * g1, 0.0, 6 * g2, 0.0],
        [0.5, -2 * g0, 0.0, -4 * g1, 0.0, -6 * g2, 0.0],
        [2 * g0, 0.0, 12 * g1, 0.0, 30 * g2, 0.0, 0.0],
        [-2 * g0, 0.0, -12 * g1, 0.0, -30 * g2, 0.0, 0.0],
    ])


#: :func:`code4p_table` of :data:`_CODE4P_G`.
_CODE4P_POLY = code4p_table(_CODE4P_G)


def code4p(alpha):
    """Weights (w_up, w_dn) of pyhf code4p and their first and second derivatives (each of
    the shape of ``alpha``: (K,) or a batch (..., K)).

    |alpha| <= 1: one matrix product of the powers of alpha with :data:`_CODE4P_POLY`.  Beyond
    +-1 the weights are the linear continuation from the boundary (w_up = alpha, w_dn = 0
    above +1; w_up = 0, w_dn = alpha below -1): the polynomial at the clipped alpha plus its
    boundary slope times (alpha - clip(alpha)); the second derivatives vanish at +-1.
    """
    a = np.asarray(alpha, dtype=float)
    if a.ndim != 1:  # a batch (..., K)
        return _code4p_batch(a)
    if np.abs(a).max(initial=0.0) <= 1.0:
        return tuple(_CODE4P_POLY @ powers(a))
    ac = np.minimum(np.maximum(a, -1.0), 1.0)  # clip(a, -1, 1), faster on small arrays
    w = _CODE4P_POLY @ powers(ac)  # (6, K)
    w[:2] += w[2:4] * (a - ac)
    return tuple(w)


def _code4p_batch(a):
    """:func:`code4p` on a batch (..., K), evaluated elementwise (Horner) instead of through
    the power matrix."""
    g0, g1, g2 = _CODE4P_G
    ac = np.minimum(np.maximum(a, -1.0), 1.0)
    a2 = ac * ac
    g = a2 * (g0 + a2 * (g1 + g2 * a2))  # w_up/dn = alpha/2 +- g inside +-1
    dg = ac * (2 * g0 + a2 * (4 * g1 + 6 * g2 * a2))
    d2g = 2 * g0 + a2 * (12 * g1 + 30 * g2 * a2)
    half = 0.5 * ac
    up, dn, dup, ddn = half + g, half - g, 0.5 + dg, 0.5 - dg
    beyond = a - ac  # the linear continuation beyond +-1 (second derivatives 0 there)
    return (up + dup * beyond, dn + ddn * beyond, dup, ddn, d2g, -d2g)


def code0(alpha):
    """Weights (w_up, w_dn) of pyhf code0 (piecewise linear) and their derivatives.

    At alpha = 0 the derivatives are the one-sided ones from below (kink)."""
    a = np.asarray(alpha, dtype=float)
    pos = a > 0.0
    zero = np.zeros_like(a)
    return (np.where(pos, a, 0.0), np.where(pos, 0.0, a), pos.astype(float), (~pos).astype(float),
            zero, zero)


#: code name -> weight function alpha -> (w_up, w_dn, w_up', w_dn', w_up'', w_dn'')
FUNCTIONS = {"code4p": code4p, "code0": code0}


def compile(builder, modifier: dict, channel: str, rows, nominal) -> None:
    """The variations dup = hi - nom, ddn = nom - lo of every row of the sample.

    ``"relative": True`` (only for samples added by :class:`~xfit.histfactory.ExtraSample`):
    ``hi_data``/``lo_data`` are ratios to nominal and follow the template when it changes.
    """
    hi = builder.bin_array(modifier, "hi_data", channel, rows)
    lo = builder.bin_array(modifier, "lo_data", channel, rows)
    relative = bool(modifier.get("relative"))
    if relative:
        hi, lo = hi * nominal, lo * nominal
    builder.add_histosys(rows, modifier["name"], hi - nominal, nominal - lo,
                         ratios=(np.asarray(modifier["data"]["hi_data"], float),
                                 np.asarray(modifier["data"]["lo_data"], float)) if relative else None)
