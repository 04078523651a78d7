"""Any q^2 spectrum of B+ -> K+ + invisible turned into Belle II templates.

A new contribution is given by its differential branching fraction dB/dq^2 [GeV^-2] as

* a callable (vectorised in q^2 [GeV^2]) -- :class:`DifferentialSpectrum`: the 100 generated-bin
  integrals are computed together by adaptive Gauss-Legendre quadrature
  (:mod:`xfit.belle2.quadrature`; a callable of scalars only: ``scipy.integrate.quad``, one call
  per bin), with optional break points such as the position of a peak;
* a table (q^2, dB/dq^2) -- :class:`TabulatedSpectrum`: the rate is the *linear interpolation*
  of the table (zero outside it) and its bin integrals are exact (piecewise quadratic
  antiderivative);
* a two-body line B+ -> K+ X, narrow or Breit-Wigner -- :class:`LineSpectrum`, which reuses the
  line templates of :func:`xfit.belle2.signal.x_templates` (interpolated efficiency for a
  narrow line, Breit-Wigner bin fractions otherwise).

Templates follow the reinterpretation recipe of Belle II, arXiv:2507.12393 (see
:mod:`xfit.belle2.signal`): nu_j = sum_i N[j, i] w_i with w_i = B_new,i / B_SM,i, i.e.
nu_j = sum_i eps[j, i] B_new,i with the efficiency table eps of
:func:`xfit.belle2.signal.efficiency_table` (:func:`spectrum_templates`).

Rate the templates cannot see (:func:`lost_fraction`): the tables hold no simulated event in
the generated bins above q^2 = 21.74 GeV^2 (:data:`xfit.belle2.signal.LAST_POPULATED_BIN`) nor
above their range, 22.885 GeV^2.  A spectrum with rate above
:data:`xfit.belle2.signal.Q2_NO_EFFICIENCY` = 21.855 GeV^2 triggers an
:class:`EfficiencyLossWarning` giving the fraction of its rate that is lost.

Built-in shapes (physics, GeV units):

* :func:`sm_like_spectrum` -- B -> K nu nubar with modified left- and right-handed Wilson
  coefficients C_L, C_R of the weak effective theory
  H = -(4 G_F/sqrt 2)(alpha/4pi) V_tb V_ts* sum_nu [C_L O_L + C_R O_R]
  (Buras, Girrbach-Noe, Niehoff, Straub, arXiv:1409.4557):
  B(B -> K nu nubar) = B_SM (1 - 2 eta) eps^2 with eps^2 = (|C_L|^2 + |C_R|^2) / |C_L^SM|^2,
  eta = -Re(C_L C_R^*) / (|C_L|^2 + |C_R|^2), i.e. (1 - 2 eta) eps^2 = |C_L + C_R|^2 / |C_L^SM|^2,
  with the q^2 shape of the SM (only the vector form factor f_+ enters B -> K):
  dB/dq^2 = |C_L + C_R|^2 / |C_L^SM|^2 x dB_SM/dq^2, dB_SM/dq^2 the spectrum of the Belle II
  simulation (:func:`xfit.belle2.signal.sm_spectrum_shape`, B_SM = 4.97e-6 over
  0 < q^2 < 22.885 GeV^2).  This is the example of arXiv:2507.12393.
  C_L^SM = -X_t / s_W^2 = -6.351 (:data:`xfit.physics.constants.C_L_SM`, with
  :data:`xfit.physics.constants.X_T`).  Only the ratio to C_L^SM matters for the spectrum.
* :func:`three_body_spectrum` -- B+ -> K+ chi chibar with a pair of invisible particles of mass
  m_chi (fermions or scalars) coupled to the b -> s scalar current (s-bar b) or vector current
  (s-bar gamma^mu b); operator basis of Kamenik & Smith, arXiv:1111.6402, used for
  B -> K E_miss by Bolton, Fajfer, Kamenik, Novoa-Brunet, arXiv:2403.13887.  With
  lambda = lambda(m_B^2, m_K^2, q^2) and beta = sqrt(1 - 4 m_chi^2 / q^2) (the two-body phase
  space of the pair), the hadronic matrix elements
  <K|s-bar b|B> = (m_B^2 - m_K^2)/(m_b - m_s) f_0(q^2) and
  <K|s-bar gamma^mu b|B> = f_+(q^2) (p_B + p_K)^mu + ... (the q^mu terms vanish against a
  conserved invisible current), and the spin sums of the invisible pair give
  (derived here; the same shapes as in the references above):

  ===========  ================  ==============================================
  chi          current           dB/dq^2 propto
  ===========  ================  ==============================================
  scalar       scalar (S)        lambda^{1/2} f_0^2 beta
  scalar       vector (V)        lambda^{3/2} f_+^2 beta^3
  fermion      scalar (S)        lambda^{1/2} f_0^2 q^2 beta^3
  fermion      vector (V)        lambda^{3/2} f_+^2 beta (3 - beta^2) / 2
  ===========  ================  ==============================================

  for 4 m_chi^2 < q^2 < (m_B - m_K)^2; the shape is normalised to the total branching
  fraction given (the couplings and the quark masses only set the normalisation).  For
  m_chi -> 0 the vector-current shapes become the SM lambda^{3/2} f_+^2.

Form factors: HPQCD f_+ and f_0 (arXiv:2207.12468) of :mod:`xfit.physics.form_factors`.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import integrate

from ..errors import InputError, require_finite_number
from ..physics.constants import C_L_SM, DEFAULT_SM
from ..physics.kinematics import kallen
from . import files, quadrature, signal

#: Upper end of the generated q^2 range of the number densities (GeV^2).
Q2_GEN_MAX = float(files.Q2_GEN_EDGES[-1])
#: Upper edge of the last generated bin with simulated events (GeV^2).
Q2_LAST_POPULATED_EDGE = float(signal.Q2_HI[signal.LAST_POPULATED_BIN])
#: Relative rate above Q2_NO_EFFICIENCY below which no EfficiencyLossWarning is given.
LOSS_WARNING_THRESHOLD = 1e-9

CHI_SPINS = ("scalar", "fermion")
CURRENTS = ("scalar", "vector")


class EfficiencyLossWarning(UserWarning):
    """Part of a spectrum lies where the Belle II tables have no efficiency (q^2 > 21.855 GeV^2)."""


# --- spectra ---------------------------------------------------------------------------------

class Spectrum:
    """A B+ -> K+ + invisible rate that can be turned into Belle II templates.

    Subclasses give :meth:`bin_integrals` (int dB/dq^2 over the 100 generated bins) and
    :meth:`integral` (int dB/dq^2 between two q^2 values); :func:`spectrum_templates` does the rest.
    """

    name = "spectrum"

    def bin_integrals(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def integral(self, lo: float, hi: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def total(self) -> float:
        """The total branching fraction, over 0 < q^2 < (m_B - m_K)^2."""
        return self.integral(0.0, signal.q2_max())

    def templates(self, efficiency: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Expected reconstructed events per channel key for this rate (``efficiency``: eps[j, i])."""
        b = self.bin_integrals()
        return {k: e @ b for k, e in efficiency.items()}


#: Accepted relative accuracy of a bin integral (``scipy.integrate.quad``, the per-bin path, needs
#: at least 50 x the double-precision epsilon, 1.1e-14).
EPSREL_RANGE = (1e-13, 0.1)


@dataclass
class DifferentialSpectrum(Spectrum):
    """dB/dq^2 [GeV^-2] given by a callable of q^2 [GeV^2] (vectorised or scalar).

    ``points``: q^2 values where the rate has structure (peaks, thresholds, kinks), where the
    integration intervals are cut; ``epsrel``: relative accuracy of each bin integral.
    """

    rate: Callable
    name: str = "dB/dq2"
    points: tuple = ()
    epsrel: float = 1e-10
    _cache: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        eps = self.epsrel
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not EPSREL_RANGE[0] <= eps <= EPSREL_RANGE[1]:
            raise InputError(f"{self.name}: epsrel {str(eps)[:80]}; accepted: a number in "
                             f"[{EPSREL_RANGE[0]:g}, {EPSREL_RANGE[1]:g}]")
        try:
            points = tuple(float(p) for p in self.points)
        except (TypeError, ValueError):
            points = (math.nan,)
        if not all(math.isfinite(p) for p in points):
            raise InputError(f"{self.name}: break points {str(self.points)[:80]}; accepted: finite q2 values [GeV^2]")
        self.points = points

    def _f(self, q2: float) -> float:
        v = float(np.asarray(self.rate(q2), dtype=float).reshape(-1)[0])
        if not math.isfinite(v) or v < 0:
            raise InputError(f"{self.name}: dB/dq2 must be finite and >= 0, got {v!r} at q2 = {q2:.6g} GeV^2")
        return v

    def _f_many(self, q2: np.ndarray) -> np.ndarray:
        """The rate at an array of q^2 (NaN where it is negative: see :meth:`_integrals`)."""
        v = np.asarray(self.rate(q2), dtype=float)
        return np.where(v >= 0, v, np.nan) if v.shape == q2.shape else np.full(q2.shape, np.nan)

    def _integrals(self, lo, hi) -> np.ndarray:
        """int dB/dq^2 over each [lo_i, hi_i]: all at once (:func:`.quadrature.integrals`) for a
        vectorised rate, else (a rate of scalars only, a value not finite or negative, an
        interval the vectorised rule does not resolve) one ``quad`` per interval, which names a
        bad value."""
        out = quadrature.integrals(self._f_many, lo, hi, self.points, self.epsrel)
        if out is not None:
            return out
        return np.array([self._quad(a, b) for a, b in zip(lo, hi)])

    def _quad(self, lo: float, hi: float) -> float:
        if hi <= lo:
            return 0.0
        pts = [p for p in self.points if lo < p < hi]
        val, _ = integrate.quad(self._f, lo, hi, points=pts or None, limit=200,
                                epsabs=0.0, epsrel=self.epsrel)
        return float(val)

    def integral(self, lo: float, hi: float) -> float:
        return float(self._integrals([lo], [hi])[0]) if hi > lo else 0.0

    def bin_integrals(self) -> np.ndarray:
        if self._cache is None:
            self._cache = self._integrals(signal.Q2_LO, signal.Q2_HI)
        return self._cache


@dataclass
class TabulatedSpectrum(Spectrum):
    """dB/dq^2 [GeV^-2] as a table, linearly interpolated (zero outside the table).

    ``q2`` strictly increasing in [0, (m_B - m_K)^2] GeV^2, ``rate`` finite and >= 0, at least two points.
    """

    q2: np.ndarray
    rate: np.ndarray
    name: str = "table"

    def __post_init__(self):
        self.q2, self.rate = check_table(self.q2, self.rate, self.name)
        dx = np.diff(self.q2)
        self._cum = np.concatenate([[0.0], np.cumsum(0.5 * dx * (self.rate[1:] + self.rate[:-1]))])

    def __call__(self, q2):
        """The interpolated dB/dq^2 at ``q2``."""
        return np.interp(q2, self.q2, self.rate, left=0.0, right=0.0)

    def _antiderivative(self, x) -> np.ndarray:
        """int_{q2[0]}^{x} of the linear interpolation (exact; constant outside the table)."""
        x = np.clip(np.asarray(x, dtype=float), self.q2[0], self.q2[-1])
        k = np.clip(np.searchsorted(self.q2, x, side="right") - 1, 0, len(self.q2) - 2)
        x0, y0 = self.q2[k], self.rate[k]
        slope = (self.rate[k + 1] - y0) / (self.q2[k + 1] - x0)
        t = x - x0
        return self._cum[k] + y0 * t + 0.5 * slope * t * t

    def integral(self, lo: float, hi: float) -> float:
        return float(self._antiderivative(hi) - self._antiderivative(lo)) if hi > lo else 0.0

    def bin_integrals(self) -> np.ndarray:
        return self._antiderivative(signal.Q2_HI) - self._antiderivative(signal.Q2_LO)


@dataclass
class LineSpectrum(Spectrum):
    """B+ -> K+ X with X invisible: a line at q^2 = m_X^2 (``width`` 0) or a Breit-Wigner.

    ``br`` = B(B+ -> K+ X) x P_inv.  Templates are those of :func:`xfit.belle2.signal.x_templates`
    (interpolated efficiency for the narrow line).
    """

    mX: float
    br: float
    width: float = 0.0
    name: str = "line"

    def __post_init__(self):
        self.mX = require_finite_number(self.mX, "m_X")
        self.br = require_finite_number(self.br, "branching fraction")
        self.width = require_finite_number(self.width, "width")
        if self.mX < 0 or self.br < 0 or self.width < 0 or self.mX ** 2 > signal.q2_max():
            raise InputError(f"a line needs 0 <= m_X <= m_B - m_K, br >= 0, width >= 0; got "
                             f"m_X={self.mX}, br={self.br}, width={self.width}")

    def _fractions_cdf(self, q2) -> np.ndarray:
        """Fraction of the rate below q2 (step for a narrow line, arctan for a Breit-Wigner)."""
        q2 = np.asarray(q2, dtype=float)
        if self.width == 0.0:
            return (q2 >= self.mX ** 2).astype(float)
        mg = self.mX * self.width
        prim = np.arctan((np.clip(q2, 0.0, signal.q2_max()) - self.mX ** 2) / mg)
        lo, hi = math.atan(-self.mX ** 2 / mg), math.atan((signal.q2_max() - self.mX ** 2) / mg)
        return (prim - lo) / (hi - lo)

    def integral(self, lo: float, hi: float) -> float:
        if hi <= lo:
            return 0.0
        return float(self.br * (self._fractions_cdf(hi) - self._fractions_cdf(lo)))

    def total(self) -> float:
        return self.br

    def bin_integrals(self) -> np.ndarray:
        return self.br * (self._fractions_cdf(signal.Q2_HI) - self._fractions_cdf(signal.Q2_LO))

    def templates(self, efficiency: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        t = signal.x_templates(self.mX, self.width, efficiency=efficiency)
        return {k: self.br * v for k, v in t.items()}


def as_spectrum(obj, name: str = "spectrum", points: tuple = ()) -> Spectrum:
    """A :class:`Spectrum` from a Spectrum, a callable dB/dq^2 or a (q2, dBdq2) pair of arrays."""
    if isinstance(obj, Spectrum):
        return obj
    if callable(obj):
        return DifferentialSpectrum(obj, name=name, points=tuple(points))
    if isinstance(obj, (tuple, list)) and len(obj) == 2:
        return TabulatedSpectrum(np.asarray(obj[0], float), np.asarray(obj[1], float), name=name)
    raise InputError(f"{name}: a spectrum is a callable dB/dq2(q2) or a table (q2, dBdq2), got {type(obj).__name__}")


def check_table(q2, rate, name: str = "table") -> tuple[np.ndarray, np.ndarray]:
    """Validated float arrays (q2 strictly increasing within the physical range, rate finite >= 0)."""
    try:
        x = np.asarray(q2, dtype=float).reshape(-1)
        y = np.asarray(rate, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{name}: q2 and dBdq2 must be numbers") from None
    if len(x) != len(y):
        raise InputError(f"{name}: q2 has {len(x)} values and dBdq2 {len(y)}; they must match")
    if len(x) < 2:
        raise InputError(f"{name}: need at least 2 rows (q2, dBdq2), got {len(x)}")
    for what, a in (("q2", x), ("dBdq2", y)):
        bad = np.flatnonzero(~np.isfinite(a))
        if len(bad):
            raise InputError(f"{name}: {what} must be finite; row {bad[0] + 1} has {a[bad[0]]!r}")
    if np.any(y < 0):
        i = int(np.flatnonzero(y < 0)[0])
        raise InputError(f"{name}: dBdq2 must be >= 0 (a rate); row {i + 1} has {y[i]:.6g}")
    if np.any(np.diff(x) <= 0):
        i = int(np.flatnonzero(np.diff(x) <= 0)[0])
        raise InputError(f"{name}: q2 must be strictly increasing; row {i + 2} ({x[i + 1]:.6g}) "
                         f"follows {x[i]:.6g}")
    qmax = signal.q2_max()
    if x[0] < 0 or x[-1] > qmax * (1 + 1e-9):
        raise InputError(f"{name}: q2 must lie in [0, (m_B - m_K)^2 = {qmax:.4f}] GeV^2, "
                         f"got {x[0]:.6g} .. {x[-1]:.6g}")
    return x, y


# --- physics shapes ----------------------------------------------------------------------------

def _fplus(q2):
    from ..physics.form_factors import b_to_k_fplus

    return np.asarray(b_to_k_fplus(q2), dtype=float)


def _fzero(q2):
    from ..physics.form_factors import b_to_k_f0

    return np.asarray(b_to_k_f0(q2), dtype=float)


def _lambda(q2, sm=DEFAULT_SM):
    return np.clip(kallen(sm.meson("B+").mass ** 2, sm.meson("K+").mass ** 2, q2), 0.0, None)


_SM_NORM: dict = {}


def sm_spectrum(q2, sm=DEFAULT_SM):
    """dB_SM/dq^2 [GeV^-2] of the Belle II simulation: B_SM lambda^{3/2} f_+^2 / int_0^{22.885} (...)."""
    if sm not in _SM_NORM:
        _SM_NORM[sm] = integrate.quad(lambda x: float(signal.sm_spectrum_shape(x, sm)), 0.0, Q2_GEN_MAX,
                                      limit=200, epsabs=0.0, epsrel=1e-12)[0]
    return signal.B_SM * signal.sm_spectrum_shape(q2, sm) / _SM_NORM[sm]


def sm_like_spectrum(c_L: complex = C_L_SM, c_R: complex = 0.0, c_L_sm: float = C_L_SM,
                     sm=DEFAULT_SM) -> DifferentialSpectrum:
    """B -> K nu nubar with Wilson coefficients C_L, C_R (summed over the three neutrino flavours).

    dB/dq^2 = |C_L + C_R|^2 / |C_L^SM|^2 dB_SM/dq^2 (arXiv:1409.4557; see the module
    docstring).  C_L = C_L^SM, C_R = 0 is the SM of the Belle II simulation.
    """
    try:
        cl, cr, c0 = complex(c_L), complex(c_R), complex(c_L_sm)
    except (TypeError, ValueError):
        raise InputError(f"C_L, C_R must be numbers, got {c_L!r}, {c_R!r}") from None
    if not all(math.isfinite(abs(c)) for c in (cl, cr, c0)) or c0 == 0:
        raise InputError(f"C_L, C_R must be finite and C_L^SM non-zero, got {c_L!r}, {c_R!r}, {c_L_sm!r}")
    factor = abs(cl + cr) ** 2 / abs(c0) ** 2
    return DifferentialSpectrum(lambda q2: factor * sm_spectrum(q2, sm),
                                name=f"SM-like (C_L={c_L}, C_R={c_R})")


def three_body_shape(q2, m_chi: float, chi: str, current: str, sm=DEFAULT_SM):
    """Unnormalised dB/dq^2 of B+ -> K+ chi chibar (table in the module docstring); 0 outside."""
    q2 = np.asarray(q2, dtype=float)
    thr = 4.0 * m_chi ** 2
    qmax = signal.q2_max(sm)
    inside = (q2 > thr) & (q2 < qmax)
    qc = np.clip(q2, max(thr, 1e-300), qmax)
    beta = np.sqrt(np.clip(1.0 - thr / qc, 0.0, 1.0))
    lam = _lambda(qc, sm)
    if current == "scalar":
        shape = np.sqrt(lam) * _fzero(qc) ** 2 * (beta if chi == "scalar" else qc * beta ** 3)
    else:
        shape = lam ** 1.5 * _fplus(qc) ** 2 * (beta ** 3 if chi == "scalar" else 0.5 * beta * (3.0 - beta ** 2))
    return np.where(inside, shape, 0.0)


def three_body_spectrum(m_chi: float, br: float, chi: str = "fermion", current: str = "vector",
                        sm=DEFAULT_SM) -> DifferentialSpectrum:
    """B+ -> K+ chi chibar with total branching fraction ``br`` (module docstring for the shapes).

    ``chi``: "scalar" or "fermion"; ``current``: "scalar" (s-bar b) or "vector" (s-bar gamma^mu b).
    """
    m = require_finite_number(m_chi, "m_chi (GeV)")
    b = require_finite_number(br, "branching fraction")
    if chi not in CHI_SPINS:
        raise InputError(f"chi must be one of {', '.join(CHI_SPINS)}, got {chi!r}")
    if current not in CURRENTS:
        raise InputError(f"current must be one of {', '.join(CURRENTS)}, got {current!r}")
    qmax = signal.q2_max(sm)
    if m < 0 or 4 * m * m >= qmax or b < 0:
        raise InputError(f"need 0 <= 2 m_chi < m_B - m_K = {math.sqrt(qmax):.4f} GeV and br >= 0, "
                         f"got m_chi={m}, br={b}")
    thr = 4 * m * m
    norm = integrate.quad(lambda x: float(three_body_shape(x, m, chi, current, sm)), thr, qmax,
                          limit=200, epsabs=0.0, epsrel=1e-12)[0]
    return DifferentialSpectrum(lambda q2: b * three_body_shape(q2, m, chi, current, sm) / norm,
                                name=f"B+ -> K+ {chi} pair ({current} current, m_chi={m:g} GeV)",
                                points=(thr,) if thr > 0 else ())


# --- templates -----------------------------------------------------------------------------------

def lost_fraction(spec: Spectrum) -> tuple[float, float]:
    """(fraction of the total rate the templates miss, fraction above Q2_NO_EFFICIENCY).

    Missed: rate above the last populated generated bin (q^2 > 21.74 GeV^2) -- no simulated
    events -- for a continuous spectrum; for a line the efficiency vanishes above 21.855 GeV^2.
    """
    qmax = signal.q2_max()
    total = spec.total()
    if total <= 0:
        return 0.0, 0.0
    above = spec.integral(signal.Q2_NO_EFFICIENCY, qmax) / total
    if isinstance(spec, LineSpectrum) and spec.width == 0.0:
        return above, above
    return spec.integral(Q2_LAST_POPULATED_EDGE, qmax) / total, above


def spectrum_templates(spec, efficiency: dict[str, np.ndarray] | None = None, name: str = "spectrum",
                       warn: bool = True) -> dict[str, np.ndarray]:
    """Expected reconstructed events per signal channel key ("A", "B", "sgn1_had") for ``spec``.

    ``spec``: a :class:`Spectrum`, a callable dB/dq^2 or a table (q2, dBdq2).  Warns
    (:class:`EfficiencyLossWarning`) when part of the rate lies above q^2 = 21.855 GeV^2.
    """
    s = as_spectrum(spec, name)
    eff = signal.efficiency_table() if efficiency is None else efficiency
    if warn:
        lost, above = lost_fraction(s)
        if above > LOSS_WARNING_THRESHOLD:
            warnings.warn(f"{s.name}: {100 * above:.3g} % of the rate lies above q2 = {signal.Q2_NO_EFFICIENCY:.3f} "
                          f"GeV^2, where the Belle II tables have no efficiency; {100 * lost:.3g} % of the rate "
                          "is lost from the templates", EfficiencyLossWarning, stacklevel=2)
    return s.templates(eff)


# --- CSV input -----------------------------------------------------------------------------------

#: Columns of a spectrum CSV file: q^2 [GeV^2] and dB/dq^2 [GeV^-2].
CSV_COLUMNS = ("q2", "dBdq2")


def _cut(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def read_spectrum_csv(path) -> TabulatedSpectrum:
    """A :class:`TabulatedSpectrum` from a CSV file with a header naming the columns q2,dBdq2.

    Other columns are ignored; lines starting with '#' and blank lines are skipped.  Every
    problem raises :class:`InputError` with one line naming the file and the problem.
    """
    import csv
    from pathlib import Path

    p = Path(path)
    label = str(path) if len(str(path)) <= 60 else "..." + str(path)[-57:]
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        why = _cut(getattr(exc, "strerror", None) or type(exc).__name__, 60)
        raise InputError(f"{label}: cannot read the spectrum file ({why})") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{label}: the file is empty; expected a header q2,dBdq2 and at least 2 rows")
    rows = list(csv.reader(lines))
    header = [h.strip() for h in rows[0]]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{label}: missing column(s) {', '.join(missing)}; the header must name q2,dBdq2 "
                         f"(got {_cut(','.join(header), 60)!r})")
    cols = [header.index(c) for c in CSV_COLUMNS]
    data = np.empty((len(rows) - 1, 2))
    for r, row in enumerate(rows[1:], start=1):
        for j, (c, name) in enumerate(zip(cols, CSV_COLUMNS)):
            cell = row[c].strip() if c < len(row) else ""
            try:
                data[r - 1, j] = float(cell)
            except ValueError:
                raise InputError(f"{label}: data row {r}, column {name}: {_cut(cell, 30)!r} is not a number") from None
    return TabulatedSpectrum(data[:, 0], data[:, 1], name=label)
