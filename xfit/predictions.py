"""Every observable a model predicts, from (m_X, g_X A_XWW, g_X A_XYY, B(X -> invisible)).

All rates depend on the Wess-Zumino coefficients only through the products g_X A_XWW and
g_X A_XYY, so this one function serves every model (named charges, the EFT plane, the
chiral plane).  Inputs broadcast against each other (vectorised over grids).
"""

from __future__ import annotations

import numpy as np

from .errors import InputError, finite_array, validate_mass
from .physics.constants import DEFAULT_SM, SMInputs
from .physics.couplings import breaking_scale, scalar_pseudoscalar_couplings
from .physics.meson_decays import (
    CHANNELS,
    branching_ratio,
    closed_reason,
    decay_width_from_coupling,
    longitudinal_fraction,
)
from .physics.z_decay import z_to_gamma_x_branching_ratio

#: F_L key -> its P -> V X channel.
LONGITUDINAL_FRACTIONS: dict[str, str] = {
    "F_L(B+->K*+X)": "BR(B+->K*+X)",
    "F_L(B0->K*0X)": "BR(B0->K*0X)",
    "F_L(B+->rho+X)": "BR(B+->rho+X)",
    "F_L(B0->rho0X)": "BR(B0->rho0X)",
}
#: Ratio key -> (numerator channel, denominator channel); same parent, same coupling.
RATIOS: dict[str, tuple[str, str]] = {"R_K*/K": ("BR(B+->K*+X)", "BR(B+->K+X)")}

#: The prediction keys with their units and meaning (documented in README/docs).
PREDICTION_KEYS: dict[str, str] = {
    "A_WW": "SM anomaly trace A_XWW (dimensionless; model only)",
    "A_YY": "SM anomaly trace A_XYY (dimensionless; model only)",
    "g_S": "|g_S| of Eq. (3.25), dimensionless",
    "g_P": "|g_P| of Eq. (3.25), dimensionless",
    "v_X": "U(1)_X breaking scale m_X/(X_S g_X) [GeV] (Eq. 4.2; X_S = 1 unless given)",
    "BR(X->invisible)": "B(X -> invisible) (Eq. 3.28, generalised)",
    "BR(Z->gammaX)": "B(Z -> gamma X) (Eqs. 3.13-3.14), production only",
    **{
        key: f"B({key[3:-1]}), production only: massive vector X (docs/physics.md, Beyond the Goldstone "
        f"limit), or Eq. {'3.9' if ch.daughter_spin == 'P' else '3.10'} with goldstone"
        for key, ch in CHANNELS.items()
    },
    **{
        key: f"fraction of longitudinal {CHANNELS[ch].daughter} (and X) in {ch[3:-1]}, "
        "|H_0|^2/sum|H|^2 (1 with goldstone); NaN where the channel is closed"
        for key, ch in LONGITUDINAL_FRACTIONS.items()
    },
    "R_K*/K": "B(B+ -> K*+ X)/B(B+ -> K+ X), independent of g_X; 0 where only K*+ is closed, NaN where both are",
}
#: Keys that are undefined (NaN) where their channel is closed; printed and written as null.
UNDEFINED_WHERE_CLOSED: tuple[str, ...] = (*LONGITUDINAL_FRACTIONS, *RATIOS)


def compute_predictions(
    mX, gX_A_WW, gX_A_YY, br_invisible, gX=None, XS=1.0, sm: SMInputs = DEFAULT_SM
) -> dict[str, np.ndarray]:
    """All predictions (a dict of arrays broadcast to a common shape).

    Production branching ratios do not include B(X -> invisible); the missing-energy rate
    of a search is their product (:func:`xfit.likelihood.missing_energy_rate`).
    """
    mX = validate_mass(mX)
    mX, cWW, cYY, br_inv = np.broadcast_arrays(
        mX,
        finite_array(gX_A_WW, "g_X A_XWW"),
        finite_array(gX_A_YY, "g_X A_XYY"),
        finite_array(br_invisible, "B(X -> invisible)", 0.0, 1.0),
    )
    if gX is not None:
        gX = finite_array(gX, "g_X", 0.0)
        XS = finite_array(XS, "X_S")
        if np.any(XS == 0):
            raise InputError("X_S must be non-zero (it sets v_X = m_X/(X_S g_X), Eq. 4.2)")
    out: dict[str, np.ndarray] = {"mX": mX, "gX*A_WW": cWW, "gX*A_YY": cYY}
    g_S, g_P = scalar_pseudoscalar_couplings(mX, cWW, sm)
    out["g_S"], out["g_P"] = np.abs(g_S), np.abs(g_P)
    if gX is not None:
        out["v_X"] = np.broadcast_to(breaking_scale(mX, gX, XS), mX.shape)
    out["BR(X->invisible)"] = br_inv
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out["BR(Z->gammaX)"] = z_to_gamma_x_branching_ratio(mX, cWW, cYY, sm)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for key in CHANNELS:
            out[key] = branching_ratio(key, mX, cWW, sm)
        for key, channel in LONGITUDINAL_FRACTIONS.items():
            out[key] = longitudinal_fraction(channel, mX, sm)
        for key, (top, bottom) in RATIOS.items():
            out[key] = width_ratio(top, bottom, mX, sm)
    # v_X = m_X/(X_S g_X) is legitimately infinite at g_X = 0; rates and couplings must be finite.
    # F_L and ratios do not depend on the couplings; they are NaN exactly where undefined.
    bad = [k for k, v in out.items() if k != "v_X" and k not in UNDEFINED_WHERE_CLOSED and not np.all(np.isfinite(v))]
    if bad:
        raise InputError(
            f"predictions {bad[:3]} are not finite for these inputs (rates scale as (g_X/m_X)^2): "
            f"m_X in [{mX.min():.3g}, {mX.max():.3g}] GeV and |g_X A| up to "
            f"{max(np.abs(cWW).max(), np.abs(cYY).max()):.3g} "
            "are outside the numerically meaningful range"
        )
    return out


def width_ratio(top: str, bottom: str, mX, sm: SMInputs = DEFAULT_SM):
    """Gamma(top)/Gamma(bottom) of two channels with the same parent and quark transition
    (so the ratio of branching ratios, independent of g_X); NaN where ``bottom`` is closed."""
    mX = np.asarray(validate_mass(mX), dtype=float)
    num = np.asarray(decay_width_from_coupling(CHANNELS[top], mX, 1.0, sm))
    den = np.asarray(decay_width_from_coupling(CHANNELS[bottom], mX, 1.0, sm))
    out = np.full(den.shape, np.nan)
    is_open = den > 0
    out[is_open] = num[is_open] / den[is_open]
    return out if out.ndim else float(out)


def unphysical_rates(predictions) -> dict[str, str]:
    """Branching ratios above 1: the coupling is far outside the validity of the EFT."""
    out = {}
    for key, v in predictions.items():
        if key.startswith("BR(") and np.any(np.asarray(v) > 1.0):
            out[key] = (
                f"{key} = {float(np.max(v)):.3g} > 1: g_X is far too large for the "
                "Goldstone-equivalent EFT (the prediction is not physical)"
            )
    return out


def closed_channels(mX: float, sm: SMInputs = DEFAULT_SM) -> dict[str, str]:
    """For one m_X: {prediction key: reason} for every channel that is closed (rate 0)."""
    m = validate_mass(mX)
    if m.ndim:
        raise InputError(f"closed_channels takes one m_X (a number in GeV), got an array of shape {m.shape}")
    mX = float(m)
    reasons = {key: r for key, ch in CHANNELS.items() if (r := closed_reason(ch, mX, sm))}
    reasons.update({key: reasons[ch] for key, ch in LONGITUDINAL_FRACTIONS.items() if ch in reasons})
    reasons.update({key: reasons[bottom] for key, (_, bottom) in RATIOS.items() if bottom in reasons})
    if mX >= sm.m_Z:
        reasons["BR(Z->gammaX)"] = f"closed: m_X = {mX:g} GeV >= m_Z = {sm.m_Z} GeV"
    return reasons
