"""Decays of X into leptons and the invisible branching ratio.

X couples to the lepton current with charges (alpha_L, alpha_R) per flavour (vector charge
alpha: alpha_L = alpha_R = alpha).  Tree-level widths of a massive vector (g_X factored
out, it cancels in branching ratios):

    Gamma(X -> nu_i nubar_i) = g_X^2 alpha_L,i^2 m_X / (24 pi)          (one Weyl neutrino)
    Gamma(X -> l_i+ l_i-)    = g_X^2 m_X / (12 pi) beta [g_V^2 (1 + 2r) + g_A^2 beta^2],
        r = m_l^2/m_X^2, beta = sqrt(1 - 4r), g_V = (alpha_L + alpha_R)/2, g_A = (alpha_R - alpha_L)/2

For the tau-flavour vector model this is Eq. (3.28) of arXiv:2603.04394:
B(X -> E_miss) = 1 below 2 m_tau and [1 + 2 beta (1 + 2r)]^-1 above.

Quark (baryon-number) couplings: a purely baryonic X has no neutrino coupling, so
B(X -> invisible) = 0.  For charges that mix baryon number with lepton numbers the hadronic
width of X is not modelled and :func:`invisible_branching_ratio` raises, asking for an
explicit B(X -> invisible).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import InputError, finite_array, validate_mass
from .constants import DEFAULT_SM, SMInputs

LEPTONS = ("e", "mu", "tau")


def neutrino_width(mX, alpha_L, gX=1.0):
    """Gamma(X -> nu nubar) for one flavour [GeV] (left-handed neutrinos only)."""
    return gX**2 * alpha_L**2 * np.asarray(mX, float) / (24.0 * np.pi)


def charged_lepton_width(mX, m_lepton, alpha_L, alpha_R, gX=1.0):
    """Gamma(X -> l+ l-) [GeV] for chiral charges; 0 below threshold 2 m_l."""
    mX = np.asarray(mX, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        r = np.where(mX > 0, m_lepton**2 / np.where(mX > 0, mX, 1.0) ** 2, np.inf)
        beta2 = 1.0 - 4.0 * r
        beta = np.sqrt(np.clip(beta2, 0.0, None))
        gV, gA = 0.5 * (alpha_L + alpha_R), 0.5 * (alpha_R - alpha_L)
        width = gX**2 * mX / (12.0 * np.pi) * beta * (gV**2 * (1 + 2 * r) + gA**2 * beta2)
    return np.where(beta2 > 0, width, 0.0)


def invisible_branching_ratio(mX, lepton_charges: Mapping[str, tuple], alpha_B=0.0,
                              sm: SMInputs = DEFAULT_SM, uncoupled: float | None = None):
    """B(X -> invisible) = sum Gamma(nu nubar) / total (Eq. 3.28 generalised).

    ``lepton_charges`` maps 'e', 'mu', 'tau' to (alpha_L, alpha_R) (floats or arrays that
    broadcast with ``mX``).  Where X couples to leptons but no channel is open (e.g. only
    alpha_R below 2 m_l) X has no tree-level decay, is long-lived and escapes: the ratio is 1.
    Where X has no coupling at all the ratio is undefined: that is an InputError unless
    ``uncoupled`` gives the value to use there.
    """
    mX = validate_mass(mX)
    unknown = set(lepton_charges) - set(LEPTONS)
    if unknown:
        raise InputError(f"unknown lepton flavour(s) {sorted(unknown)}; accepted: {', '.join(LEPTONS)}")
    nu = np.zeros_like(mX)
    total = np.zeros_like(mX)
    any_lepton = False
    coupled = np.zeros_like(mX, dtype=bool)
    for flav in LEPTONS:
        try:
            aL, aR = lepton_charges.get(flav, (0.0, 0.0))
        except (TypeError, ValueError):
            raise InputError(f"lepton charges of {flav!r} must be a pair (alpha_L, alpha_R), "
                             f"got {lepton_charges.get(flav)!r}") from None
        aL, aR = finite_array(aL, f"alpha_L of {flav}"), finite_array(aR, f"alpha_R of {flav}")
        if not (np.any(aL != 0) or np.any(aR != 0)):
            continue
        any_lepton = True
        coupled = coupled | (aL != 0) | (aR != 0)
        w_nu = neutrino_width(mX, aL)
        nu = nu + w_nu
        total = total + w_nu + charged_lepton_width(mX, getattr(sm, f"m_{flav}"), aL, aR)
    if alpha_B != 0:
        if any_lepton:
            raise InputError(
                "B(X -> invisible) for charges mixing baryon and lepton number needs the "
                "hadronic width of X, which xfit does not model; pass br_invisible explicitly"
            )
        return np.zeros_like(mX) if mX.ndim else 0.0
    if not any_lepton and uncoupled is None:
        raise InputError("X has no couplings to leptons or quarks: B(X -> invisible) is undefined; "
                         "pass br_invisible explicitly")
    if uncoupled is None and not np.all(coupled):
        raise InputError("X has no coupling at some of the given points: B(X -> invisible) is undefined "
                         "there; pass br_invisible (or uncoupled=) explicitly")
    fill = np.where(coupled, 1.0, 0.0 if uncoupled is None else uncoupled)
    with np.errstate(invalid="ignore", divide="ignore"):
        br = np.where(total > 0, nu / np.where(total > 0, total, 1.0), fill)
    return br if br.ndim else float(br)
