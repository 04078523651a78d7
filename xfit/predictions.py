"""Every observable a model predicts, from (m_X, g_X A_XWW, g_X A_XYY, B(X -> invisible)).

All rates depend on the Wess-Zumino coefficients only through the products g_X A_XWW and
g_X A_XYY, so this one function serves every model (named charges, the EFT plane, the
chiral plane).  Inputs broadcast against each other (vectorised over grids).
"""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError, finite_array, shown, validate_mass
from .physics.constants import DEFAULT_SM, SMInputs
from .physics.couplings import breaking_scale, scalar_pseudoscalar_couplings
from .physics.meson_decays import (
    CHANNELS,
    branching_ratio,
    closed_reason,
    decay_width_from_coupling,
    longitudinal_fraction,
)
from .physics.z_decay import c_x_z_gamma, z_to_gamma_x_branching_ratio

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


#: Prediction keys proportional to |g_X A_XWW| at fixed m_X (|g_S|, |g_P|: Eq. 3.25 is linear in g_xi).
LINEAR_IN_CWW: tuple[str, ...] = ("g_S", "g_P")
#: Prediction keys proportional to (g_X A_XWW)^2 at fixed m_X: every meson rate (|g_xi|^2 or
#: (Im g_xi)^2 with g_xi linear in g_X A_XWW, Eqs. 3.6-3.10 and the massive-vector rates).
QUADRATIC_IN_CWW: tuple[str, ...] = tuple(CHANNELS)
#: B(Z -> gamma X) is |c_XZgamma|^2 times a function of m_X (Eq. 3.14), c_XZgamma linear in
#: (g_X A_XWW, g_X A_XYY) (Eq. 3.13).
Z_KEY = "BR(Z->gammaX)"
#: Prediction keys that do not depend on the couplings at all.
COUPLING_FREE: tuple[str, ...] = (*LONGITUDINAL_FRACTIONS, *RATIOS)
#: Key lists whose checked selection a :class:`Predictor` keeps (a fit asks with one or two).
MAX_PLANS = 64


class Predictor:
    """Every prediction at fixed m_X as a function of (g_X A_XWW, g_X A_XYY, B(X -> invisible)).

    At fixed m_X each rate is its coupling dependence times a factor of m_X alone:
    |g_S|, |g_P| ∝ |g_X A_XWW|; the meson rates ∝ (g_X A_XWW)^2; B(Z -> gamma X) ∝
    c_XZgamma^2 (Eq. 3.13); F_L and R_K*/K do not depend on the couplings.  The factors are
    computed once (on first use, :meth:`factor`) by the physics functions themselves at unit
    coupling (no formula is written a second time); each call is then a few array operations,
    whatever the number of points.  ``mX`` may be a number or an array (the factors then have its shape).
    :func:`compute_predictions` is this class built and called once.
    """

    def __init__(self, mX, sm: SMInputs = DEFAULT_SM):
        self.mX = validate_mass(mX)
        self.sm = sm
        self._factors: dict[str, object] = {}  # filled on first use: a likelihood needs a few keys only
        self._mX_views: dict[tuple[int, ...], np.ndarray] = {}
        self._plans: dict[tuple[str, ...] | None, tuple] = {}  # what a list of keys asks for (_plan)
        self.keys = ("mX", "gX*A_WW", "gX*A_YY", *LINEAR_IN_CWW, "v_X", "BR(X->invisible)", Z_KEY,
                     *QUADRATIC_IN_CWW, *COUPLING_FREE)
        self._key_set = frozenset(self.keys)

    def factor(self, key: str):
        """The factor of m_X alone in prediction ``key`` (see the class docstring), computed once."""
        f = self._factors.get(key)
        if f is None:
            f = self._factors[key] = self._compute_factor(key)
        return f

    def _compute_factor(self, key: str):
        mX, sm = self.mX, self.sm
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if key in LINEAR_IN_CWW:  # |g_S|, |g_P| at g_X A_XWW = 1: one evaluation gives both, both kept
                both = scalar_pseudoscalar_couplings(mX, 1.0, sm)
                for k, g in zip(LINEAR_IN_CWW, both):
                    self._factors.setdefault(k, np.abs(g))
                return self._factors[key]
            if key in QUADRATIC_IN_CWW:  # the rate at g_X A_XWW = 1
                return branching_ratio(key, mX, 1.0, sm)
            if key == Z_KEY:  # per c_XZgamma^2: the rate at (g_X A_XWW, g_X A_XYY) = (1, 0) over its c^2
                return z_to_gamma_x_branching_ratio(mX, 1.0, 0.0, sm) / c_x_z_gamma(1.0, 0.0, sm) ** 2
            if key in LONGITUDINAL_FRACTIONS:
                return longitudinal_fraction(LONGITUDINAL_FRACTIONS[key], mX, sm)
            if key in RATIOS:
                return width_ratio(*RATIOS[key], mX, sm)
        raise InputError(f"prediction {key!r} has no factor of m_X alone")

    def __call__(self, gX_A_WW, gX_A_YY, br_invisible, gX=None, XS=1.0, keys=None) -> dict[str, np.ndarray]:
        """The predictions (a dict of arrays broadcast to a common shape) at these couplings;
        with ``keys`` only those (and ``"mX"``), in the order of :data:`PREDICTION_KEYS`.
        Identical to :func:`compute_predictions` at this m_X."""
        cWW = _finite(gX_A_WW, "g_X A_XWW")
        cYY = _finite(gX_A_YY, "g_X A_XYY")
        br_inv = _finite(br_invisible, "B(X -> invisible)", 0.0, 1.0)
        if gX is not None:
            gX = _finite(gX, "g_X", 0.0)
            XS = _finite(XS, "X_S")
            if np.any(XS == 0):
                raise InputError("X_S must be non-zero (it sets v_X = m_X/(X_S g_X), Eq. 4.2)")
        wants_WW, wants_YY, linear, wants_vX, wants_inv, wants_Z, quadratic, free = self._plan(keys)
        s = self.mX.shape
        if cWW.shape == s and cYY.shape == s and br_inv.shape == s:
            shape = s
        else:
            shape = np.broadcast_shapes(s, cWW.shape, cYY.shape, br_inv.shape)
        mX_view = self._mX_views.get(shape)  # read-only views, kept per shape (an MCMC asks for one)
        if mX_view is None:
            mX_view = self._mX_views[shape] = _view(self.mX, shape)
        out: dict[str, np.ndarray] = {"mX": mX_view}
        if wants_WW:
            out["gX*A_WW"] = _view(cWW, shape)
        if wants_YY:
            out["gX*A_YY"] = _view(cYY, shape)
        if linear:
            abs_cWW = np.abs(cWW)
            for key in linear:
                out[key] = _full(self.factor(key) * abs_cWW, shape)
        if gX is not None and wants_vX:
            out["v_X"] = np.broadcast_to(breaking_scale(self.mX, gX, XS), shape)
        if wants_inv:
            out["BR(X->invisible)"] = _view(br_inv, shape)
        with np.errstate(over="ignore", invalid="ignore"):
            if wants_Z:
                out[Z_KEY] = _full(self.factor(Z_KEY) * c_x_z_gamma(cWW, cYY, self.sm) ** 2, shape)
            if quadratic:
                cWW2 = cWW * cWW
                for key in quadratic:
                    out[key] = _full(self.factor(key) * cWW2, shape)
        for key in free:
            out[key] = _copy(self.factor(key), shape)
        rates = (*linear, Z_KEY, *quadratic) if wants_Z else (*linear, *quadratic)
        # v_X = m_X/(X_S g_X) is legitimately infinite at g_X = 0; rates and couplings must be finite.
        # F_L and ratios do not depend on the couplings; they are NaN exactly where undefined.
        if shape:
            bad = [k for k in rates if not np.isfinite(out[k]).all()]
        else:  # a single point: the rates are floats (_full)
            bad = [k for k in rates if not math.isfinite(out[k])]
        if bad:
            raise InputError(
                f"predictions {bad[:3]} are not finite for these inputs (rates scale as (g_X/m_X)^2): "
                f"m_X in [{self.mX.min():.3g}, {self.mX.max():.3g}] GeV and |g_X A| up to "
                f"{max(np.abs(cWW).max(), np.abs(cYY).max()):.3g} "
                "are outside the numerically meaningful range"
            )
        return out

    def _plan(self, keys) -> tuple:
        """Which predictions ``keys`` asks for (None: all), checked once per key list and kept:
        (g_X A_WW?, g_X A_YY?, linear keys, v_X?, B(X -> inv)?, B(Z -> gamma X)?, quadratic
        keys, coupling-free keys), each list in the order of :data:`PREDICTION_KEYS`."""
        if isinstance(keys, str):
            raise InputError(f"keys must be a list of prediction keys, got the string {keys!r:.80}")
        try:
            token = None if keys is None else tuple(keys)  # once: a generator is read only once
        except TypeError:
            raise InputError(f"keys must be a list of prediction keys, got {shown(keys)}") from None
        try:
            plan = self._plans.get(token)
        except TypeError:  # an unhashable entry: not a key (refused below)
            plan = None
        if plan is not None:
            return plan
        want = self._key_set if token is None else token
        unknown = [k for k in want if k not in self.keys]  # (a tuple: an unhashable entry is unknown too)
        if unknown:
            raise InputError(f"unknown prediction key(s) {unknown[:3]}; known: {', '.join(self.keys)}")
        want = set(want)
        plan = ("gX*A_WW" in want, "gX*A_YY" in want, tuple(k for k in LINEAR_IN_CWW if k in want),
                "v_X" in want, "BR(X->invisible)" in want, Z_KEY in want,
                tuple(k for k in QUADRATIC_IN_CWW if k in want), tuple(k for k in COUPLING_FREE if k in want))
        if len(self._plans) < MAX_PLANS:
            self._plans[token] = plan
        return plan


def _finite(value, name: str, lo: float | None = None, hi: float | None = None):
    """:func:`xfit.errors.finite_array` of ``value`` (the same array, the same errors); a
    single float (a fit's point) is checked without numpy's per-call overhead."""
    t = type(value)
    if t is float or t is np.float64 or (t is np.ndarray and value.ndim == 0 and value.dtype == np.float64):
        x = float(value)
        if math.isfinite(x) and (lo is None or x >= lo) and (hi is None or x <= hi):
            return value if t is np.ndarray else np.asarray(x)
    return finite_array(value, name, lo, hi)


def _view(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` broadcast to ``shape`` (a read-only view, as :func:`numpy.broadcast_arrays` gives)."""
    return a if a.shape == shape else np.broadcast_to(a, shape)


def _full(a, shape: tuple[int, ...]):
    """A freshly computed ``a`` at ``shape`` (copied only where it must be broadcast; a float
    for a single point, as the physics functions return)."""
    if not shape:
        return float(a)
    return a if np.shape(a) == shape else np.broadcast_to(a, shape).copy()


def _copy(a, shape: tuple[int, ...]):
    """A cached factor handed out: a float as is, an array as a fresh copy at ``shape``."""
    return a if isinstance(a, float) and not shape else np.broadcast_to(a, shape).copy()


def compute_predictions(
    mX, gX_A_WW, gX_A_YY, br_invisible, gX=None, XS=1.0, sm: SMInputs = DEFAULT_SM
) -> dict[str, np.ndarray]:
    """All predictions (a dict of arrays broadcast to a common shape).

    Production branching ratios do not include B(X -> invisible); the missing-energy rate
    of a search is their product (:func:`xfit.likelihood.missing_energy_rate`).  Repeated
    calls at one m_X are faster through a :class:`Predictor` kept for that m_X.
    """
    return Predictor(mX, sm)(gX_A_WW, gX_A_YY, br_invisible, gX=gX, XS=XS)


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
