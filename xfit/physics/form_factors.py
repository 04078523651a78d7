"""Hadronic form factors for rare meson decays with missing energy.

Pure, vectorised functions of the momentum transfer q^2 (GeV^2): a float or a numpy
array goes in, a float or an array of the same shape comes out. Each function
evaluates one published parametrisation whose coefficients live, with their
provenance, in ``data/form_factors.yaml`` (loaded once and cached).

============  =========================================================================
name          source
============  =========================================================================
B->K f0       HPQCD, arXiv:2207.12468, PRD 107 (2023) 014510, Table V
B->K f+       HPQCD, arXiv:2207.12468, PRD 107 (2023) 014510, Table V
B->K* A0      BSZ, arXiv:1503.05534, JHEP 08 (2016) 098, LCSR+lattice fit (ancillary)
B->rho A0     BSZ, arXiv:1503.05534, JHEP 08 (2016) 098, LCSR fit (ancillary)
B->K* V, A1, A12   BSZ, arXiv:1503.05534, LCSR+lattice fit (ancillary)
B->rho V, A1, A12  BSZ, arXiv:1503.05534, LCSR fit (ancillary)
B->pi f0      Fermilab/MILC, arXiv:1503.07839, PRD 92 (2015) 014024, Table XIX
B->pi f+      Fermilab/MILC, arXiv:1503.07839, PRD 92 (2015) 014024, Table XIX
K->pi f0      FLAG 2024 f+(0) (arXiv:2411.04268) x FlaviaNet slope (arXiv:1005.2323)
K->pi f+      FLAG 2024 f+(0) x dispersive slope Lambda_+ (arXiv:1602.04113)
D->pi f0      ETM arXiv:1706.03017: linear z-expansion through f(0) = 0.612 and f0(q2_max) = 1.134
D->pi f+      ETM arXiv:1706.03017 in flavio's BSZ-type series
============  =========================================================================

Evaluating outside the physical range 0 <= q^2 <= q^2_max (tolerance 1e-9 GeV^2)
raises :class:`xfit.errors.InputError` (a ``ValueError``) that names the form factor
and the range. See ``docs/form_factors.md``.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib.resources
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xfit.errors import DataError, InputError
from xfit.yamlio import safe_load

DATA_FILE_NAME = "form_factors.yaml"

#: Slack (GeV^2) allowed below 0 and above q^2_max before a q^2 counts as unphysical.
Q2_TOLERANCE = 1e-9


class FormFactorUnavailableError(DataError, NotImplementedError):
    """The form factor is declared in xfit but no citable coefficients are available."""


# --- kinematics and series ---------------------------------------------------------------


def z_variable(q2, t_plus: float, t0: float):
    """Conformal variable z(q^2) = (sqrt(t+ - q^2) - sqrt(t+ - t0)) / (sqrt(t+ - q^2) + sqrt(t+ - t0))."""
    upper = np.sqrt(t_plus - q2)
    anchor = np.sqrt(t_plus - t0)
    return (upper - anchor) / (upper + anchor)


def pair_thresholds(m_initial: float, m_final: float) -> tuple[float, float]:
    """(t_+, t_-) = ((m_i + m_f)^2, (m_i - m_f)^2) [GeV^2] of a P -> P' transition."""
    return (m_initial + m_final) ** 2, (m_initial - m_final) ** 2


def optimal_t0(m_initial: float, m_final: float) -> float:
    """t0 = t+ (1 - sqrt(1 - t-/t+)), which minimises |z| over the physical range."""
    t_plus, t_minus = pair_thresholds(m_initial, m_final)
    return t_plus * (1.0 - np.sqrt(1.0 - t_minus / t_plus))


def pole_factor(q2, pole_mass: float | None):
    """1 / (1 - q^2 / m_pole^2), or 1 when there is no pole."""
    if pole_mass is None:
        return np.ones_like(q2)
    return 1.0 / (1.0 - q2 / pole_mass**2)


def series_in_z(coefficients, x, *, bcl_threshold_term: bool = False):
    """sum_n a_n x^n; with ``bcl_threshold_term`` the BCL basis x^n - (-1)^(n-N) (n/N) x^N.

    N is the number of coefficients. The BCL basis removes the spurious threshold
    singularity of a vector form factor (Bourrely, Caprini, Lellouch, arXiv:0807.2722).
    """
    n_terms = len(coefficients)
    total = np.zeros_like(x)
    for n, a_n in enumerate(coefficients):
        basis = x**n
        if bcl_threshold_term:
            basis = basis - (-1.0) ** (n - n_terms) * (n / n_terms) * x**n_terms
        total = total + a_n * basis
    return total


# --- parametrisations --------------------------------------------------------------------


@dataclass(frozen=True)
class ZSeriesModel:
    """f(q^2) = prefactor * P(q^2) * sum_n a_n basis_n(x), x = z or z - z(0)."""

    coefficients: tuple[float, ...]
    t_plus: float
    t0: float
    pole_mass: float | None
    prefactor: float = 1.0
    subtract_z_at_zero: bool = False
    bcl_threshold_term: bool = False

    def __call__(self, q2):
        x = z_variable(q2, self.t_plus, self.t0)
        if self.subtract_z_at_zero:
            x = x - z_variable(0.0, self.t_plus, self.t0)
        series = series_in_z(self.coefficients, x, bcl_threshold_term=self.bcl_threshold_term)
        return self.prefactor * pole_factor(q2, self.pole_mass) * series


@dataclass(frozen=True)
class LinearSlopeModel:
    """f(q^2) = f(0) (1 + slope q^2 / mass_scale^2)."""

    value_at_zero: float
    slope: float
    mass_scale: float

    def __call__(self, q2):
        return self.value_at_zero * (1.0 + self.slope * q2 / self.mass_scale**2)


@dataclass(frozen=True)
class TwoPointZModel:
    """f(q^2) = f(0) + [f(q2_max) - f(0)] z(q^2)/z(q2_max), t0 = 0: the linear z-expansion
    through two published values (used for D -> pi f0 from ETM's f(0) and f0(q2_max))."""

    value_at_zero: float
    value_at_q2max: float
    t_plus: float
    q2_anchor: float

    def __call__(self, q2):
        z = z_variable(q2, self.t_plus, 0.0)
        z_end = z_variable(self.q2_anchor, self.t_plus, 0.0)
        return self.value_at_zero + (self.value_at_q2max - self.value_at_zero) * z / z_end


@dataclass(frozen=True)
class UnavailableModel:
    """Placeholder for a form factor without citable coefficients; always raises."""

    name: str
    reason: str

    def __call__(self, q2):
        raise FormFactorUnavailableError(f"form factor {self.name!r} is not available: {self.reason}")


def build_model(model_entry: dict, name: str = "?"):
    """Build a callable parametrisation from a ``model:`` block of the YAML file."""
    kind = model_entry.get("kind")
    if kind == "z_series":
        m_initial = float(model_entry["m_initial"])
        m_final = float(model_entry["m_final"])
        t0 = model_entry["t0"]
        t0 = optimal_t0(m_initial, m_final) if t0 == "optimal" else float(t0)
        pole = model_entry.get("pole_mass")
        return ZSeriesModel(
            coefficients=tuple(float(a) for a in model_entry["coefficients"]),
            t_plus=pair_thresholds(m_initial, m_final)[0],
            t0=t0,
            pole_mass=None if pole is None else float(pole),
            prefactor=float(model_entry.get("prefactor", 1.0)),
            subtract_z_at_zero=bool(model_entry.get("subtract_z_at_zero", False)),
            bcl_threshold_term=bool(model_entry.get("bcl_threshold_term", False)),
        )
    if kind == "linear_slope":
        return LinearSlopeModel(
            value_at_zero=float(model_entry["value_at_zero"]),
            slope=float(model_entry["slope"]),
            mass_scale=float(model_entry["mass_scale"]),
        )
    if kind == "two_point_z":
        m_initial, m_final = float(model_entry["m_initial"]), float(model_entry["m_final"])
        return TwoPointZModel(
            value_at_zero=float(model_entry["value_at_zero"]),
            value_at_q2max=float(model_entry["value_at_q2max"]),
            t_plus=pair_thresholds(m_initial, m_final)[0],
            q2_anchor=pair_thresholds(m_initial, m_final)[1],
        )
    if kind == "unavailable":
        return UnavailableModel(name=name, reason=str(model_entry.get("reason", "")).strip())
    raise DataError(
        f"form factor {name!r}: unknown model kind {kind!r} in {DATA_FILE_NAME}; "
        "expected 'z_series', 'linear_slope', 'two_point_z' or 'unavailable'"
    )


# --- data file ---------------------------------------------------------------------------


def _data_file_text() -> str:
    """Text of form_factors.yaml, from the installed package or from the source tree."""
    try:
        return (importlib.resources.files("xfit.data") / DATA_FILE_NAME).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        source_tree_file = Path(__file__).parents[2] / "data" / DATA_FILE_NAME
        try:
            return source_tree_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError(
                f"{DATA_FILE_NAME} not found in package xfit.data nor at {source_tree_file}"
            ) from None


@functools.lru_cache(maxsize=1)
def load_form_factor_table() -> dict:
    """The parsed ``data/form_factors.yaml`` (cached; do not mutate)."""
    # libyaml's parser where available (8x faster, same documents): this load is on the path of
    # the first prediction of every process
    table = safe_load(_data_file_text())
    if not isinstance(table, dict) or "form_factors" not in table:
        raise DataError(f"{DATA_FILE_NAME} has no 'form_factors' section")
    return table


@dataclass(frozen=True)
class _FormFactorSpec:
    name: str
    model: Callable
    q2_max: float


@functools.cache
def _spec(name: str) -> _FormFactorSpec:
    entries = load_form_factor_table()["form_factors"]
    if name not in entries:
        raise InputError(f"unknown form factor {name!r}; known: {', '.join(FORM_FACTOR_NAMES)}")
    entry = entries[name]
    return _FormFactorSpec(name=name, model=build_model(entry["model"], name), q2_max=float(entry["q2_max"]))


# --- evaluation --------------------------------------------------------------------------


def form_factor_q2_max(name: str) -> float:
    """The largest q^2 [GeV^2] of form factor ``name`` (cached; cheap in loops)."""
    return _spec(name).q2_max


def _checked_q2(q2, name: str, q2_max: float) -> np.ndarray:
    """q^2 as a float array inside [0, q2_max]; InputError naming the range otherwise."""
    try:
        if np.iscomplexobj(q2):
            raise TypeError
        values = np.asarray(q2, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"form factor {name}: q2 must be a real number (GeV^2) or an array of them, "
                         f"got {q2!r:.80}") from None
    outside = ~np.isfinite(values) | (values < -Q2_TOLERANCE) | (values > q2_max + Q2_TOLERANCE)
    if np.any(outside):
        first_bad = float(np.ravel(values[outside] if values.ndim else values)[0])
        raise InputError(
            f"form factor {name}: q2 = {first_bad:g} GeV^2 is outside the physical range "
            f"0 <= q2 <= {q2_max:.6g} GeV^2"
        )
    return np.clip(values, 0.0, q2_max)


#: Parametrisations that replace those of the data file inside :func:`substituted_models`.
_SUBSTITUTED: contextvars.ContextVar[Mapping[str, Callable] | None] = contextvars.ContextVar(
    "xfit_form_factor_substitutes", default=None)


def form_factor_model(name: str):
    """The parametrisation object of form factor ``name`` (a frozen dataclass: ZSeriesModel,
    LinearSlopeModel, TwoPointZModel).  ``dataclasses.replace`` it with array-valued parameters
    (e.g. coefficients drawn from their covariance) to evaluate a batch of variants at once."""
    return _spec(name).model


@contextlib.contextmanager
def substituted_models(models: Mapping[str, Callable]) -> Iterator[None]:
    """Within the block, form factors named in ``models`` are evaluated with those
    parametrisations instead of the data file's (the physical q^2 range is kept).  Used by
    :mod:`xfit.uncertainties` to evaluate every rate over a batch of form-factor draws."""
    unknown = [n for n in models if n not in FORM_FACTORS]
    if unknown:
        raise InputError(f"unknown form factor {unknown[0]!r:.80}; known: {', '.join(FORM_FACTOR_NAMES)}")
    token = _SUBSTITUTED.set({**(_SUBSTITUTED.get() or {}), **models})
    try:
        yield
    finally:
        _SUBSTITUTED.reset(token)


#: Recent evaluations at one q^2, {(name, parametrisation, q^2, shape): value}: a fit with
#: theory nuisances evaluates every form factor at the same q^2 with the same parameters
#: whenever another input moves.  Only hashable (scalar-parameter) parametrisations are kept;
#: a value is what the evaluation gives, bit for bit (the parametrisation is part of the key).
_RECENT: dict = {}
_RECENT_SIZE = 4096


def _evaluate(name: str, q2):
    spec = _spec(name)
    model = (_SUBSTITUTED.get() or {}).get(name, spec.model)
    key = None
    if isinstance(q2, float) or (np.size(q2) == 1 and not np.iscomplexobj(q2)):
        try:
            key = (name, model, float(q2) if isinstance(q2, float) else float(np.ravel(q2)[0]), np.shape(q2))
            hit = _RECENT.get(key)
        except (TypeError, ValueError):  # array-valued parameters (a batch of draws), or q2 not a number
            key = hit = None
        if hit is not None:
            return hit if isinstance(hit, float) else hit.copy()
    values = _checked_q2(q2, name, spec.q2_max)
    result = model(values)
    out = float(result) if np.ndim(result) == 0 else result
    if key is not None:
        if len(_RECENT) >= _RECENT_SIZE:
            _RECENT.clear()
        _RECENT[key] = out if isinstance(out, float) else np.array(out, copy=True)
    return out


def b_to_k_f0(q2):
    """B -> K scalar form factor f0(q^2), q^2 in GeV^2.

    HPQCD (W. G. Parrott, C. Bouchard, C. T. H. Davies), arXiv:2207.12468,
    Phys. Rev. D 107 (2023) 014510, Table V:
    f0 = L / (1 - q^2/M_{B_s0*}^2) sum_{n<3} a_n^0 z^n with t0 = 0, t+ = (M_B + M_K)^2.
    Valid for 0 <= q^2 <= (m_B+ - m_K+)^2.
    """
    return _evaluate("B->K f0", q2)


def b_to_k_fplus(q2):
    """B -> K vector form factor f+(q^2), q^2 in GeV^2.

    HPQCD (W. G. Parrott, C. Bouchard, C. T. H. Davies), arXiv:2207.12468,
    Phys. Rev. D 107 (2023) 014510, Table V: BCL-type expansion
    f+ = L / (1 - q^2/M_{B_s*}^2) sum_{n<3} a_n^+ [z^n - (n/3)(-1)^(n-3) z^3], t0 = 0.
    Valid over the full range 0 <= q^2 <= (m_B+ - m_K+)^2 (lattice data cover it).
    """
    return _evaluate("B->K f+", q2)


def b_to_kstar_a0(q2):
    """B -> K* axial form factor A0(q^2), q^2 in GeV^2.

    Bharucha, Straub, Zwicky, arXiv:1503.05534, JHEP 08 (2016) 098: combined LCSR +
    lattice fit (ancillary file BKstar_LCSR-Lattice.json), SSE form
    A0 = 1/(1 - q^2/m_R^2) sum_k alpha_k [z(q^2) - z(0)]^k, m_R = 5.366 GeV (0- B_s,
    BSZ Table 3), t0 = t+(1 - sqrt(1 - t-/t+)). Valid for 0 <= q^2 <= (m_B - m_K*)^2.
    """
    return _evaluate("B->K* A0", q2)


def b_to_rho_a0(q2):
    """B -> rho axial form factor A0(q^2), q^2 in GeV^2.

    Bharucha, Straub, Zwicky, arXiv:1503.05534, JHEP 08 (2016) 098: LCSR fit
    (ancillary file Brho_LCSR.json; no lattice input exists for B -> rho), SSE form as
    for B -> K* with m_R = 5.279 GeV (0- B, BSZ Table 3). Sum-rule input only at low q^2:
    above ~14 GeV^2 this is an extrapolation. Valid for 0 <= q^2 <= (m_B - m_rho)^2.
    """
    return _evaluate("B->rho A0", q2)


def b_to_kstar_v(q2):
    """B -> K* vector form factor V(q^2): BSZ arXiv:1503.05534 LCSR+lattice fit, SSE form with
    the 1- B_s* pole (5.415 GeV). Valid for 0 <= q^2 <= (m_B - m_K*)^2."""
    return _evaluate("B->K* V", q2)


def b_to_kstar_a1(q2):
    """B -> K* axial form factor A1(q^2): BSZ arXiv:1503.05534 LCSR+lattice fit, SSE form with
    the 1+ B_s1 pole (5.830 GeV). Valid for 0 <= q^2 <= (m_B - m_K*)^2."""
    return _evaluate("B->K* A1", q2)


def b_to_kstar_a12(q2):
    """B -> K* axial form factor A12(q^2): BSZ arXiv:1503.05534 LCSR+lattice fit, SSE form with
    the 1+ B_s1 pole (5.830 GeV). Valid for 0 <= q^2 <= (m_B - m_K*)^2."""
    return _evaluate("B->K* A12", q2)


def b_to_rho_v(q2):
    """B -> rho vector form factor V(q^2): BSZ arXiv:1503.05534 LCSR fit, 1- B* pole (5.324
    GeV). Above ~14 GeV^2 an extrapolation. Valid for 0 <= q^2 <= (m_B - m_rho)^2."""
    return _evaluate("B->rho V", q2)


def b_to_rho_a1(q2):
    """B -> rho axial form factor A1(q^2): BSZ arXiv:1503.05534 LCSR fit, 1+ B1 pole (5.716
    GeV). Above ~14 GeV^2 an extrapolation. Valid for 0 <= q^2 <= (m_B - m_rho)^2."""
    return _evaluate("B->rho A1", q2)


def b_to_rho_a12(q2):
    """B -> rho axial form factor A12(q^2): BSZ arXiv:1503.05534 LCSR fit, 1+ B1 pole (5.716
    GeV). Valid for 0 <= q^2 <= (m_B - m_rho)^2."""
    return _evaluate("B->rho A12", q2)


def b_to_pi_f0(q2):
    """B -> pi scalar form factor f0(q^2), q^2 in GeV^2.

    Fermilab Lattice and MILC (J. A. Bailey et al.), arXiv:1503.07839,
    Phys. Rev. D 92 (2015) 014024, Table XIX (combined lattice + experiment fit):
    f0 = sum_{n<4} b_n^0 z^n (no pole), t0 = t+(1 - sqrt(1 - t-/t+)).
    Valid for 0 <= q^2 <= (m_B - m_pi)^2.
    """
    return _evaluate("B->pi f0", q2)


def b_to_pi_fplus(q2):
    """B -> pi vector form factor f+(q^2): Fermilab/MILC arXiv:1503.07839 Table XIX, BCL
    expansion (N = 4) with the B* pole (5.325 GeV). Valid for 0 <= q^2 <= (m_B - m_pi)^2."""
    return _evaluate("B->pi f+", q2)


def k_to_pi_f0(q2):
    """K -> pi scalar form factor f0(q^2), q^2 in GeV^2.

    f+(0) = 0.9698 (FLAG 2024, arXiv:2411.04268, N_f = 2+1+1) times the linear shape
    1 + lambda_0 q^2/m_pi+^2, lambda_0 = 13.38e-3 (FlaviaNet Kaon WG, arXiv:1005.2323,
    Eur. Phys. J. C 69 (2010) 399). Valid for 0 <= q^2 <= (m_K - m_pi)^2 (K_L -> pi0
    endpoint, the largest of the K -> pi modes).
    """
    return _evaluate("K->pi f0", q2)


def k_to_pi_fplus(q2):
    """K -> pi vector form factor f+(q^2) = f+(0) (1 + lambda_+' q^2/m_pi+^2): FLAG 2024
    f+(0) = 0.9698 and the dispersive slope Lambda_+ = 24.22e-3 (arXiv:1602.04113).
    Valid for 0 <= q^2 <= (m_K - m_pi)^2 (K_L -> pi0 endpoint)."""
    return _evaluate("K->pi f+", q2)


def d_to_pi_f0(q2):
    """D -> pi scalar form factor f0(q^2), 0 <= q^2 <= (m_D - m_pi)^2.

    A linear z-interpolation between ETM's (arXiv:1706.03017) f(0) = 0.612 and
    f0(q2_max) = 1.134; their z-coefficient tables could not be read here (the "D->pi f0"
    entry of data/form_factors.yaml).
    """
    return _evaluate("D->pi f0", q2)


def d_to_pi_fplus(q2):
    """D -> pi vector form factor f+(q^2), 0 <= q^2 <= (m_D - m_pi)^2: ETM arXiv:1706.03017 in
    flavio's BSZ-type series (D* pole 2.007 GeV); f+(0) = 0.612, f+(q2_max) = 2.13."""
    return _evaluate("D->pi f+", q2)


#: Name -> function, for callers that select a form factor by name.
FORM_FACTORS: dict[str, Callable] = {
    "B->K f0": b_to_k_f0,
    "B->K f+": b_to_k_fplus,
    "B->K* A0": b_to_kstar_a0,
    "B->rho A0": b_to_rho_a0,
    "B->K* V": b_to_kstar_v,
    "B->K* A1": b_to_kstar_a1,
    "B->K* A12": b_to_kstar_a12,
    "B->rho V": b_to_rho_v,
    "B->rho A1": b_to_rho_a1,
    "B->rho A12": b_to_rho_a12,
    "B->pi f0": b_to_pi_f0,
    "B->pi f+": b_to_pi_fplus,
    "K->pi f0": k_to_pi_f0,
    "K->pi f+": k_to_pi_fplus,
    "D->pi f0": d_to_pi_f0,
    "D->pi f+": d_to_pi_fplus,
}

FORM_FACTOR_NAMES: tuple[str, ...] = tuple(FORM_FACTORS)


def _citation(paper: dict) -> str:
    return f"arXiv:{paper['arxiv']}; {paper['journal']} ({paper['authors'].strip()})"


def form_factor_info(name: str) -> dict:
    """Provenance of one form factor.

    Keys: ``citation`` (arXiv number + journal), ``table``, ``parametrisation``,
    ``q2_max`` (GeV^2), plus ``status`` ('available' or 'unavailable'),
    ``provenance`` (where the digits were read) and ``value_at_q2_zero``.
    """
    entries = load_form_factor_table()["form_factors"]
    if name not in entries:
        raise InputError(f"unknown form factor {name!r}; known: {', '.join(FORM_FACTOR_NAMES)}")
    entry = entries[name]
    return {
        "citation": _citation(entry["paper"]),
        "table": str(entry["table"]).strip(),
        "parametrisation": str(entry["parametrisation"]).strip(),
        "q2_max": float(entry["q2_max"]),
        "status": entry["status"],
        "provenance": str(entry["provenance"]).strip(),
        "value_at_q2_zero": dict(entry.get("value_at_q2_zero") or {}),
    }
