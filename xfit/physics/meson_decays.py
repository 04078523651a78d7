"""Rare meson decays P -> P' X and P -> V X through the loop-induced coupling g_xi.

The massive X couples to the loop-induced left-handed current,
L = g_xi X_mu dbar_j gamma^mu P_L d_i + h.c. (the operator of Eq. 3.5 of arXiv:2603.04394
with d_mu xi / m_X -> X_mu).  The default ("exact") rates sum over the three helicities of
a massive vector (docs/physics.md, "Beyond the Goldstone limit"):

    Gamma(P -> M X) = |g_xi|^2 |k| / (32 pi m_P^2) (|H_0|^2 + |H_+|^2 + |H_-|^2)

with the helicity amplitudes of :mod:`xfit.physics.helicity_amplitudes` (f_+ for P -> P',
V, A_1, A_12 for P -> V).  With ``sm.goldstone`` the rates are Eqs. (3.9) and (3.10) of
the paper, the Goldstone-equivalent (longitudinal X, m_X << m_P) limit, which keeps only
the timelike amplitude H_t (f_0, A_0):

    Gamma(P -> P' X) = |g_xi|^2 / (32 pi) |k| m_P^2 / m_X^2 (1 - m_P'^2/m_P^2)^2 f_0^2(m_X^2)
    Gamma(P -> V X)  = |g_xi|^2 / (8 pi)  |k|^3 / m_X^2 A_0^2(m_X^2)

Both agree as m_X -> 0 (f_+(0) = f_0(0); 8 m_P m_V A_12(0) = (m_P^2 - m_V^2) A_0(0)).

Isospin: neutral modes with a pi0 or rho0 (a d dbar component of amplitude -1/sqrt2) get a
factor 1/2 in the rate relative to the charged form factor (footnote 4 of the paper).

K_L -> pi0 X: with K_L = (K0 - K0bar)/sqrt2 and pi0 = (u ubar - d dbar)/sqrt2 the two
amplitudes combine to  A(K_L -> pi0 X) = i Im(g_xi_sd) x [K+ -> pi+ amplitude / g_xi], so
Eq. (3.9) is used with |g_xi| -> |Im g_xi| (and the K+ -> pi+ form factor).  Footnote 4 of
the paper writes sqrt2 Im g_xi; that would give B(K_L)/B(K+) = 2 tau_L/tau_+ Im^2/|g|^2 and
break the Grossman-Nir bound B(K_L -> pi0 X) <= (tau_L/tau_+) B(K+ -> pi+ X) (Phys. Lett. B
398 (1997) 163).  xfit uses the isospin result |Im g_xi|; the derivation is in
docs/physics.md and tested in tests/physics/test_meson_decays.py.

A channel above threshold (m_X >= m_P - m_daughter) has a rate of exactly 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, validate_mass
from . import form_factors, helicity_amplitudes
from .constants import DEFAULT_SM, SMInputs
from .kinematics import two_body_momentum
from .loops import fcnc_coupling

#: Names (after the transition prefix) of the form factors each amplitude needs: the
#: Goldstone limit (H_t) and the massive-vector helicity amplitudes (H_0, H_+-, and H_t).
GOLDSTONE_FORM_FACTOR = {"P": "f0", "V": "A0"}
MASSIVE_FORM_FACTORS = {"P": ("f+", "f0"), "V": ("V", "A1", "A12", "A0")}


@dataclass(frozen=True)
class MesonChannel:
    """One decay of Table 4: parent and daughter mesons, the quark transition, the
    transition's form factors (the prefix of names in
    :data:`xfit.physics.form_factors.FORM_FACTORS`, e.g. "B->K": "B->K f+", "B->K f0"), the
    daughter's spin ('P' pseudoscalar, Eq. 3.9; 'V' vector, Eq. 3.10) and the isospin factor
    of the rate."""

    key: str
    parent: str
    daughter: str
    transition: str
    hadronic: str
    daughter_spin: str
    isospin_factor: float = 1.0
    coupling_part: str = "abs"  # 'abs': |g|, 'imag': |Im g| (K_L -> pi0 X)
    experiment: str = ""

    @property
    def form_factor(self) -> str:
        """The form factor of the Goldstone-limit rate, Eq. (3.9) (f_0) or (3.10) (A_0)."""
        return f"{self.hadronic} {GOLDSTONE_FORM_FACTOR[self.daughter_spin]}"


#: Table 4 of arXiv:2603.04394.  Keys are the prediction names.
CHANNELS: dict[str, MesonChannel] = {
    c.key: c
    for c in (
        MesonChannel("BR(K+->pi+X)", "K+", "pi+", "s->d", "K->pi", "P", experiment="NA62"),
        MesonChannel("BR(KL->pi0X)", "KL", "pi0", "s->d", "K->pi", "P", coupling_part="imag", experiment="KOTO"),
        MesonChannel("BR(D+->pi+X)", "D+", "pi+", "c->u", "D->pi", "P", experiment="CLEO"),
        MesonChannel("BR(B+->pi+X)", "B+", "pi+", "b->d", "B->pi", "P", experiment="Belle"),
        MesonChannel("BR(B0->pi0X)", "B0", "pi0", "b->d", "B->pi", "P", 0.5, experiment="Belle"),
        MesonChannel("BR(B+->rho+X)", "B+", "rho+", "b->d", "B->rho", "V", experiment="Belle"),
        MesonChannel("BR(B0->rho0X)", "B0", "rho0", "b->d", "B->rho", "V", 0.5, experiment="Belle"),
        MesonChannel("BR(B+->K+X)", "B+", "K+", "b->s", "B->K", "P", experiment="Belle II, BaBar"),
        MesonChannel("BR(B0->K0X)", "B0", "K0", "b->s", "B->K", "P", experiment="BaBar"),
        MesonChannel("BR(B+->K*+X)", "B+", "K*+", "b->s", "B->K*", "V", experiment="BaBar"),
        MesonChannel("BR(B0->K*0X)", "B0", "K*0", "b->s", "B->K*", "V", experiment="BaBar"),
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


def _form_factor(channel: MesonChannel, which: str, q2):
    name = f"{channel.hadronic} {which}"
    # The form-factor papers' meson masses differ from PDG 2024 at the sub-MeV level, which
    # moves q2_max by < 0.01 GeV^2: evaluate at most at the form factor's own endpoint.
    return form_factors.FORM_FACTORS[name](np.minimum(q2, form_factors.form_factor_q2_max(name)))


def helicity_amplitudes_of(channel: MesonChannel, mX, sm: SMInputs = DEFAULT_SM):
    """H_0, H_+, H_-, H_t [GeV] of an open channel at m_X (array of open masses)."""
    mX = np.asarray(mX, dtype=float)
    mP, md = sm.meson(channel.parent).mass, sm.meson(channel.daughter).mass
    q2 = mX * mX
    ffs = [_form_factor(channel, w, q2) for w in MASSIVE_FORM_FACTORS[channel.daughter_spin]]
    if channel.daughter_spin == "P":
        return helicity_amplitudes.pseudoscalar_daughter(mP, md, q2, *ffs)
    V, A1, A12, A0 = ffs
    # BSZ Eq. (16), 8 m_P m_V A12(0) = (m_P^2 - m_V^2) A0(0), is exact; the fit obeys it with
    # BSZ's meson masses.  Rescale A12 (by < 0.5 %) so that it holds with this channel's
    # masses: then H_0 -> H_t as m_X -> 0 (the Goldstone limit) exactly.
    A12 = A12 * ((mP**2 - md**2) * _form_factor(channel, "A0", 0.0)
                 / (8.0 * mP * md * _form_factor(channel, "A12", 0.0)))
    return helicity_amplitudes.vector_daughter(mP, md, q2, V, A1, A12, A0)


def _goldstone_width(channel: MesonChannel, m, g2, sm: SMInputs):
    """Eq. (3.9) (pseudoscalar daughter) or Eq. (3.10) (vector daughter), as printed."""
    mP, md = sm.meson(channel.parent).mass, sm.meson(channel.daughter).mass
    k = two_body_momentum(mP, md, m)
    ff2 = _form_factor(channel, GOLDSTONE_FORM_FACTOR[channel.daughter_spin], m * m) ** 2
    if channel.daughter_spin == "P":
        return g2 / (32.0 * np.pi) * k * mP**2 / m**2 * (1.0 - md**2 / mP**2) ** 2 * ff2
    return g2 / (8.0 * np.pi) * k**3 / m**2 * ff2


def _massive_vector_width(channel: MesonChannel, m, g2, sm: SMInputs):
    """|g|^2 |k| / (32 pi m_P^2) (|H_0|^2 + |H_+|^2 + |H_-|^2): all helicities of a massive X."""
    mP, md = sm.meson(channel.parent).mass, sm.meson(channel.daughter).mass
    k = two_body_momentum(mP, md, m)
    return g2 * k / (32.0 * np.pi * mP**2) * helicity_amplitudes_of(channel, m, sm).massive_sum


def _open_masses(channel: MesonChannel, mX, sm: SMInputs):
    mX = np.asarray(mX, dtype=float)
    return mX < threshold(channel, sm)


def decay_width_from_coupling(channel: MesonChannel, mX, g_xi, sm: SMInputs = DEFAULT_SM):
    """Partial width [GeV] from the complex coupling g_xi of the channel's transition.

    The massive-vector rate (all three helicities) by default; Eq. (3.9) for pseudoscalar
    and Eq. (3.10) for vector daughters if ``sm.goldstone``.  0 above threshold; the
    isospin factor and the K_L prescription are applied here.
    """
    mX = np.asarray(mX, dtype=float)
    g_xi = np.asarray(g_xi)
    mX_b, g_b = np.broadcast_arrays(mX, g_xi)
    out = np.zeros(mX_b.shape)
    is_open = _open_masses(channel, mX_b, sm)
    if not np.any(is_open):
        return out if out.ndim else float(out)
    m = mX_b[is_open]
    g = g_b[is_open]
    g2 = np.imag(g) ** 2 if channel.coupling_part == "imag" else np.abs(g) ** 2
    width = (_goldstone_width if sm.goldstone else _massive_vector_width)(channel, m, g2, sm)
    out[is_open] = channel.isospin_factor * width
    return out if out.ndim else float(out)


def longitudinal_fraction(channel_key: str, mX, sm: SMInputs = DEFAULT_SM):
    """F_L = |H_0|^2 / sum_lambda |H_lambda|^2 of a P -> V X channel: the fraction of
    longitudinally polarised daughters V (and X).

    1 in the Goldstone limit (``sm.goldstone``: X is longitudinal only).  Undefined where
    the channel is closed (m_X >= m_P - m_V): NaN there; :func:`closed_reason` says why.
    """
    ch = get_channel(channel_key)
    if ch.daughter_spin != "V":
        raise InputError(f"F_L is defined for a vector daughter; {channel_key} has a pseudoscalar one")
    mX = np.asarray(validate_mass(mX), dtype=float)
    out = np.full(mX.shape, np.nan)
    is_open = _open_masses(ch, mX, sm)
    if np.any(is_open):
        out[is_open] = 1.0 if sm.goldstone else helicity_amplitudes_of(ch, mX[is_open], sm).longitudinal_fraction
    return out if out.ndim else float(out)


def branching_ratio(channel_key: str, mX, gX_A_WW, sm: SMInputs = DEFAULT_SM):
    """B(P -> P'/V X) from g_X A_XWW (production only; multiply by B(X -> invisible) for
    the missing-energy signature)."""
    ch = get_channel(channel_key)
    mX = validate_mass(mX)
    g_xi = fcnc_coupling(ch.transition, gX_A_WW, sm)
    return decay_width_from_coupling(ch, mX, g_xi, sm) / sm.meson(ch.parent).width
