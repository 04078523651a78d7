"""Rare meson decays P -> P' X and P -> V X through the loop-induced coupling g_xi.

Eqs. (3.9) and (3.10) of arXiv:2603.04394 (Goldstone-equivalent, longitudinal X):

    Gamma(P -> P' X) = |g_xi|^2 / (32 pi) |k| m_P^2 / m_X^2 (1 - m_P'^2/m_P^2)^2 f_0^2(m_X^2)
    Gamma(P -> V X)  = |g_xi|^2 / (8 pi)  |k|^3 / m_X^2 A_0^2(m_X^2)

Isospin: neutral modes with a pi0 or rho0 (a d dbar component of amplitude -1/sqrt2) get a
factor 1/2 in the rate relative to the charged form factor (footnote 4 of the paper).

K_L -> pi0 X: with K_L = (K0 - K0bar)/sqrt2 and pi0 = (u ubar - d dbar)/sqrt2 the two
amplitudes combine to  A(K_L -> pi0 X) = i Im(g_xi_sd) x [K+ -> pi+ amplitude / g_xi], so
Eq. (3.9) is used with |g_xi| -> |Im g_xi| (and the K+ -> pi+ form factor).  Footnote 4 of
the paper writes sqrt2 Im g_xi; that would give B(K_L)/B(K+) = 2 tau_L/tau_+ Im^2/|g|^2 and
break the Grossman-Nir bound B(K_L -> pi0 X) <= (tau_L/tau_+) B(K+ -> pi+ X) (Phys. Lett. B
398 (1997) 163).  xfit uses the isospin result |Im g_xi|; the derivation is in
docs/physics.md and tested in tests/test_meson_decays.py.

A channel above threshold (m_X >= m_P - m_daughter) has a rate of exactly 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import form_factors
from ..errors import InputError, validate_mass
from .constants import DEFAULT_SM, SMInputs
from .kinematics import two_body_momentum
from .loops import fcnc_coupling


@dataclass(frozen=True)
class MesonChannel:
    """One decay of Table 4: parent and daughter mesons, the quark transition, the form
    factor (a name in :data:`xfit.physics.form_factors.FORM_FACTORS`), the daughter's spin
    ('P' pseudoscalar, Eq. 3.9; 'V' vector, Eq. 3.10) and the isospin factor of the rate."""

    key: str
    parent: str
    daughter: str
    transition: str
    form_factor: str
    daughter_spin: str
    isospin_factor: float = 1.0
    coupling_part: str = "abs"  # 'abs': |g|, 'imag': |Im g| (K_L -> pi0 X)
    experiment: str = ""


#: Table 4 of arXiv:2603.04394.  Keys are the prediction names.
CHANNELS: dict[str, MesonChannel] = {
    c.key: c
    for c in (
        MesonChannel("BR(K+->pi+X)", "K+", "pi+", "s->d", "K->pi f0", "P", experiment="NA62"),
        MesonChannel("BR(KL->pi0X)", "KL", "pi0", "s->d", "K->pi f0", "P", coupling_part="imag", experiment="KOTO"),
        MesonChannel("BR(D+->pi+X)", "D+", "pi+", "c->u", "D->pi f0", "P", experiment="CLEO"),
        MesonChannel("BR(B+->pi+X)", "B+", "pi+", "b->d", "B->pi f0", "P", experiment="Belle"),
        MesonChannel("BR(B0->pi0X)", "B0", "pi0", "b->d", "B->pi f0", "P", 0.5, experiment="Belle"),
        MesonChannel("BR(B+->rho+X)", "B+", "rho+", "b->d", "B->rho A0", "V", experiment="Belle"),
        MesonChannel("BR(B0->rho0X)", "B0", "rho0", "b->d", "B->rho A0", "V", 0.5, experiment="Belle"),
        MesonChannel("BR(B+->K+X)", "B+", "K+", "b->s", "B->K f0", "P", experiment="Belle II, BaBar"),
        MesonChannel("BR(B0->K0X)", "B0", "K0", "b->s", "B->K f0", "P", experiment="BaBar"),
        MesonChannel("BR(B+->K*+X)", "B+", "K*+", "b->s", "B->K* A0", "V", experiment="BaBar"),
        MesonChannel("BR(B0->K*0X)", "B0", "K*0", "b->s", "B->K* A0", "V", experiment="BaBar"),
    )
}


def get_channel(key: str) -> MesonChannel:
    try:
        return CHANNELS[key]
    except KeyError:
        raise InputError(f"unknown meson channel {key!r}; known: {', '.join(CHANNELS)}") from None


def threshold(channel: MesonChannel, sm: SMInputs = DEFAULT_SM) -> float:
    """Largest m_X for which the channel is open: m_parent - m_daughter [GeV]."""
    return sm.meson(channel.parent).mass - sm.meson(channel.daughter).mass


def closed_reason(channel: MesonChannel, mX: float, sm: SMInputs = DEFAULT_SM) -> str | None:
    """None if open, else a sentence saying why the rate is 0."""
    thr = threshold(channel, sm)
    if mX >= thr:
        return f"closed: m_X = {mX:g} GeV >= m_{channel.parent} - m_{channel.daughter} = {thr:.4f} GeV"
    return None


def _form_factor_squared(channel: MesonChannel, q2):
    ff = form_factors.FORM_FACTORS[channel.form_factor]
    q2max = form_factors.form_factor_q2_max(channel.form_factor)
    # The form-factor papers' meson masses differ from PDG 2024 at the sub-MeV level, which
    # moves q2_max by < 0.01 GeV^2: evaluate at most at the form factor's own endpoint.
    return ff(np.minimum(q2, q2max)) ** 2


def decay_width_from_coupling(channel: MesonChannel, mX, g_xi, sm: SMInputs = DEFAULT_SM):
    """Partial width [GeV] from the complex coupling g_xi of the channel's transition.

    Eq. (3.9) for pseudoscalar daughters, Eq. (3.10) for vector daughters; 0 above
    threshold; the isospin factor and the K_L prescription are applied here.
    """
    mX = np.asarray(mX, dtype=float)
    g_xi = np.asarray(g_xi)
    mP = sm.meson(channel.parent).mass
    md = sm.meson(channel.daughter).mass
    mX_b, g_b = np.broadcast_arrays(mX, g_xi)
    out = np.zeros(mX_b.shape)
    is_open = mX_b < mP - md
    if not np.any(is_open):
        return out if out.ndim else float(out)
    m = mX_b[is_open]
    g = g_b[is_open]
    g2 = np.imag(g) ** 2 if channel.coupling_part == "imag" else np.abs(g) ** 2
    k = two_body_momentum(mP, md, m)
    ff2 = _form_factor_squared(channel, m * m)
    if channel.daughter_spin == "P":
        width = g2 / (32.0 * np.pi) * k * mP**2 / m**2 * (1.0 - md**2 / mP**2) ** 2 * ff2
    else:
        width = g2 / (8.0 * np.pi) * k**3 / m**2 * ff2
    out[is_open] = channel.isospin_factor * width
    return out if out.ndim else float(out)


def branching_ratio(channel_key: str, mX, gX_A_WW, sm: SMInputs = DEFAULT_SM):
    """B(P -> P'/V X) from g_X A_XWW (production only; multiply by B(X -> invisible) for
    the missing-energy signature)."""
    ch = get_channel(channel_key)
    mX = validate_mass(mX)
    g_xi = fcnc_coupling(ch.transition, gX_A_WW, sm)
    return decay_width_from_coupling(ch, mX, g_xi, sm) / sm.meson(ch.parent).width
