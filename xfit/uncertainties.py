"""Theory uncertainties on every prediction, by Monte Carlo propagation of the input errors.

The varied inputs, their standard deviations, sources and correlations are in
``data/theory_uncertainties.yaml`` (central values stay in :mod:`xfit.physics.constants` and
``data/form_factors.yaml``).  :func:`draw_inputs` draws them (seeded); :func:`propagate`
evaluates :func:`xfit.predictions.compute_predictions` once, vectorised over all draws: the
Standard-Model inputs as an :class:`~xfit.physics.constants.SMInputs` whose fields are arrays,
the form factors through :func:`xfit.physics.form_factors.substituted_models` with
array-valued coefficients.  The result is the 16 % and 84 % quantiles of every prediction.
See docs/physics.md, "Theory uncertainties".
"""
from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import yaml

from .datafiles import _read_text, data_root
from .errors import DataError, InputError
from .physics import form_factors
from .physics.constants import SMInputs
from .predictions import UNDEFINED_WHERE_CLOSED, compute_predictions

DATA_FILE_NAME = "theory_uncertainties.yaml"
#: Default number of Monte Carlo draws.
DEFAULT_DRAWS = 10_000
#: The quantiles reported: the central 68 % interval.
QUANTILES = {"q16": 0.16, "q84": 0.84}
#: Predictions without a theory uncertainty (model inputs, not computed rates).
NOT_PROPAGATED = ("mX", "gX*A_WW", "gX*A_YY", "A_WW", "A_YY", "v_X", "BR(X->invisible)")


@functools.lru_cache(maxsize=1)
def load_uncertainty_table() -> dict:
    """The parsed ``data/theory_uncertainties.yaml`` (cached; do not mutate)."""
    table = yaml.safe_load(_read_text(data_root().joinpath(DATA_FILE_NAME), DATA_FILE_NAME))
    if not isinstance(table, dict) or "sm_inputs" not in table or "form_factors" not in table:
        raise DataError(f"{DATA_FILE_NAME}: needs the sections 'sm_inputs' and 'form_factors'")
    return table


def sm_input_sigmas() -> dict[str, float]:
    """{SMInputs field: standard deviation} of the varied Standard-Model inputs."""
    fields = {f.name for f in dataclasses.fields(SMInputs)}
    out = {}
    for key, entry in load_uncertainty_table()["sm_inputs"].items():
        if not isinstance(entry, Mapping):
            continue  # the prose keys (correlations, not_varied)
        if key not in fields:
            raise DataError(f"{DATA_FILE_NAME}: sm_inputs.{key} is not an SMInputs field")
        out[key] = float(entry["sigma"])
    return out


def _lookup(entry: Mapping, dotted: str):
    value = entry
    for part in dotted.split("."):
        value = value[part]
    return value


@dataclass(frozen=True)
class FormFactorParameter:
    """One varied parameter: ``form_factor``'s model field ``field`` (index ``index`` of the
    coefficients, else None), its standard deviation, and the parameter whose draw it shares
    (``shared_with`` = (form factor, field, index)) if it is exactly equal to another one."""

    form_factor: str
    field: str
    index: int | None
    sigma: float
    shared_with: tuple[str, str, int | None] | None = None

    @property
    def key(self) -> tuple[str, str, int | None]:
        return (self.form_factor, self.field, self.index)


@functools.lru_cache(maxsize=1)
def form_factor_parameters() -> tuple[FormFactorParameter, ...]:
    """The varied form-factor parameters of the data file, in a fixed order."""
    ff_table = form_factors.load_form_factor_table()["form_factors"]
    out = []
    for name, entry in load_uncertainty_table()["form_factors"].items():
        if name not in form_factors.FORM_FACTORS:
            raise DataError(f"{DATA_FILE_NAME}: unknown form factor {name!r}")
        for p in entry["parameters"]:
            sigma = _lookup(ff_table[name], p["sigma_from"]) if "sigma_from" in p else p["sigma"]
            shared = p.get("shared_with")
            if p["field"] == "coefficients":
                for i, s in enumerate(sigma):
                    other = shared.get(i) if isinstance(shared, Mapping) else None
                    out.append(FormFactorParameter(name, "coefficients", i, float(s),
                                                   None if other is None else (other, "coefficients", i)))
            else:
                out.append(FormFactorParameter(name, p["field"], None, float(sigma),
                                               None if shared is None else (shared, p["field"], None)))
    return tuple(out)


#: Most negative eigenvalue of a published correlation matrix accepted as rounding (set to 0).
EIGENVALUE_ROUNDING = 1e-3


@functools.lru_cache(maxsize=1)
def correlated_groups() -> tuple[tuple[tuple[tuple[str, str, int], ...], np.ndarray], ...]:
    """((parameter keys, factor F), ...): the groups of form-factor parameters drawn jointly;
    F @ standard normals has the group's correlation matrix (eigen-decomposition, so that a
    matrix that is semi-definite only up to rounding works)."""
    known = {p.key for p in form_factor_parameters()}
    out = []
    for i, group in enumerate(load_uncertainty_table().get("correlated_groups") or ()):
        keys = tuple((str(name), "coefficients", int(index)) for name, index in group["parameters"])
        corr = np.asarray(group["correlation"], dtype=float)
        unknown = [k for k in keys if k not in known]
        if unknown or corr.shape != (len(keys), len(keys)) or not np.allclose(corr, corr.T):
            raise DataError(f"{DATA_FILE_NAME}: correlated_groups[{i}] is not a symmetric matrix over "
                            f"varied parameters (unknown: {unknown[:2]})")
        eigenvalues, vectors = np.linalg.eigh(corr)
        if eigenvalues.min() < -EIGENVALUE_ROUNDING:
            raise DataError(f"{DATA_FILE_NAME}: correlated_groups[{i}] is not positive semi-definite "
                            f"(eigenvalue {eigenvalues.min():.3g})")
        out.append((keys, vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))))
    return tuple(out)


def not_varied() -> dict[str, str]:
    """{form factor: why its parameters are not varied} (no published errors were found)."""
    return {k: " ".join(str(v).split()) for k, v in (load_uncertainty_table().get("not_found") or {}).items()}


@dataclass(frozen=True)
class InputDraws:
    """A batch of draws: the SM inputs (an SMInputs with array fields) and the form-factor
    parametrisations with array-valued parameters, keyed by form-factor name."""

    sm: SMInputs
    form_factor_models: dict
    n: int


@functools.lru_cache(maxsize=1)
def normal_keys() -> tuple:
    """The keys of the standard normals behind every varied input, in draw order: the SMInputs
    field names, then the form-factor parameter keys (:attr:`FormFactorParameter.key`)."""
    return (*sm_input_sigmas(), *(p.key for p in form_factor_parameters()))


@functools.lru_cache(maxsize=1)
def _known_keys() -> frozenset:
    return frozenset(normal_keys())


def correlated_normals(normals: Mapping) -> dict:
    """``normals`` with the members of every correlated group replaced by factor @ (their
    normals): each form-factor key then holds that parameter's shift in units of its sigma.
    Keys absent from ``normals`` count as 0; a group none of whose keys is given is left out."""
    z = dict(normals)
    for keys, factor in correlated_groups():
        if any(k in z for k in keys):
            joint = factor @ np.array(np.broadcast_arrays(*[z.get(k, 0.0) for k in keys]))
            z.update(zip(keys, joint))
    return z


def _check_normals(normals: Mapping) -> None:
    """InputError unless every key of ``normals`` is one of :func:`normal_keys` and every value
    a finite number or array (one sum over the values: cheap enough for every step of a fit)."""
    known = _known_keys()
    unknown = [k for k in normals if k not in known]
    if unknown:
        raise InputError(f"unknown theory input {unknown[0]!r:.80}; "
                         "accepted: the keys of xfit.uncertainties.normal_keys()")
    try:
        ok = bool(np.isfinite(sum(normals.values(), 0.0)).all())
    except (TypeError, ValueError):
        ok = False
    if not ok:
        for k, v in normals.items():
            try:
                if np.isfinite(np.asarray(v, dtype=float)).all():
                    continue
            except (TypeError, ValueError):
                pass
            raise InputError(f"theory input {input_label(k)!r:.60}: its standard normal must be a finite number, "
                             f"got {v!r:.80}")
        raise InputError("the standard normals of the theory inputs do not broadcast to one shape")


def _check_scale(scale) -> None:
    try:
        ok = not isinstance(scale, bool) and bool(0.0 <= scale < math.inf)
    except (TypeError, ValueError):  # text, None, an array of several scales
        ok = False
    if not ok:
        raise InputError(f"theory_scale (the factor on every theory sigma) must be a finite number >= 0, "
                         f"got {scale!r:.80}")


def inputs_at(sm: SMInputs, normals: Mapping, scale: float = 1.0) -> InputDraws:
    """The inputs at standard normals ``normals`` ({key of :func:`normal_keys`: number or array};
    absent keys are 0, and inputs that depend only on absent keys keep their central values):
    input = central + scale * sigma * z, with z the correlated normals
    (:func:`correlated_normals`).  Scalars give an SMInputs with scalar fields and scalar
    form-factor parameters; arrays give a batch of ``n`` draws (:func:`draw_inputs`)."""
    sigmas = sm_input_sigmas()
    _check_normals(normals)
    _check_scale(scale)
    shape = np.broadcast_shapes(*(np.shape(v) for v in normals.values())) if normals else ()
    scalar = shape == ()

    def plain(x):
        return float(x) if scalar else x

    sm_changes = {k: plain(getattr(sm, k) + scale * s * normals[k]) for k, s in sigmas.items() if k in normals}
    z = correlated_normals({k: v for k, v in normals.items() if k not in sigmas})
    params = form_factor_parameters()
    by_key = {p.key: p for p in params}
    changes: dict[str, dict] = {}
    for p in params:
        source = by_key[p.shared_with] if p.shared_with is not None else p  # shared: its sigma and draw
        if source.key not in z:
            continue
        value = scale * source.sigma * z[source.key]
        model = form_factors.form_factor_model(p.form_factor)
        ff = changes.setdefault(p.form_factor, {})
        if p.index is None:
            ff[p.field] = plain(getattr(model, p.field) + value)
        else:
            coeffs = ff.setdefault("coefficients", list(model.coefficients))
            coeffs[p.index] = plain(model.coefficients[p.index] + value)
    models = {}
    for name, ch in changes.items():
        if "coefficients" in ch:
            ch["coefficients"] = tuple(c if scalar else np.broadcast_to(c, shape) for c in ch["coefficients"])
        models[name] = dataclasses.replace(form_factors.form_factor_model(name), **ch)
    return InputDraws(sm=sm.replace(**sm_changes) if sm_changes else sm, form_factor_models=models,
                      n=int(np.prod(shape)))


def draw_inputs(sm: SMInputs, n: int = DEFAULT_DRAWS, seed: int | None = 0, scale: float = 1.0) -> InputDraws:
    """``n`` Gaussian draws of every input of the data file around the central values of ``sm``
    and ``data/form_factors.yaml``; ``scale`` multiplies every standard deviation (0: no spread)."""
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise InputError(f"--draws must be an integer >= 2; got {str(n)[:80]!r}")
    rng = np.random.default_rng(seed)
    return inputs_at(sm, {k: rng.standard_normal(n) for k in normal_keys()}, scale)


@dataclass(frozen=True)
class InputNuisance:
    """One independent standard normal of the varied inputs: its ``name``, its ``key`` (of
    :func:`normal_keys`) and the inputs it moves (``moves``: labels of :func:`input_label`)."""

    name: str
    key: object
    moves: tuple[str, ...]


def input_label(key) -> str:
    """A readable label of a key of :func:`normal_keys` (e.g. ``"m_t"``,
    ``"B->K f0 coefficients[1]"``, ``"K->pi f0 value_at_zero"``)."""
    if isinstance(key, str):
        return key
    form_factor, field, index = key
    return f"{form_factor} {field}" + ("" if index is None else f"[{index}]")


@functools.lru_cache(maxsize=1)
def input_nuisances() -> tuple[InputNuisance, ...]:
    """The independent standard normals of every varied input, one per nuisance parameter of
    a fit (``--theory-nuisances``): the SM inputs and uncorrelated form-factor parameters by
    name; a parameter shared with another (``shared_with``) moves with that one and has none;
    a correlated group of k parameters has k components (the columns of its factor F, eigen-
    components of the published correlation matrix, named "<transition> FF component j")."""
    params = form_factor_parameters()
    shared = {}
    for p in params:
        if p.shared_with is not None:
            shared.setdefault(p.shared_with, []).append(input_label(p.key))
    grouped = {}
    for keys, _ in correlated_groups():
        members = tuple(label for k in keys for label in (input_label(k), *shared.get(k, [])))
        transition = keys[0][0].split()[0]
        for j, k in enumerate(keys):
            grouped[k] = InputNuisance(f"{transition} FF component {j + 1}", k, members)
    out = [InputNuisance(k, k, (k,)) for k in sm_input_sigmas()]
    for p in params:
        if p.shared_with is None:
            out.append(grouped.get(p.key) or InputNuisance(input_label(p.key), p.key,
                                                           (input_label(p.key), *shared.get(p.key, []))))
    return tuple(out)


def input_shifts(normals: Mapping) -> dict[str, float]:
    """{input label: its shift from the central value in units of its sigma} at standard
    normals ``normals`` (scalars), for every input that moves (shared parameters included)."""
    sigmas = sm_input_sigmas()
    _check_normals(normals)
    out = {k: float(normals[k]) for k in sigmas if k in normals}
    z = correlated_normals({k: v for k, v in normals.items() if k not in sigmas})
    for p in form_factor_parameters():
        source = p.shared_with if p.shared_with is not None else p.key
        if source in z:
            out[input_label(p.key)] = float(z[source])
    return out


def propagate(model, mX: float, draws: int = DEFAULT_DRAWS, seed: int | None = 0, scale: float = 1.0,
              **params) -> dict[str, dict[str, float]]:
    """{prediction key: {"q16": ..., "q84": ...}} of ``model`` at one m_X and parameter point
    (``params`` as for ``model.predict``, e.g. ``gX=0.03``), from ``draws`` Monte Carlo draws of
    the theory inputs.  Keys of model inputs (A_WW, v_X, B(X -> invisible), ...) are not
    included; keys undefined at this m_X (closed channel) come back as None."""
    mX = float(mX)
    central = model.predict(mX, **params)
    inputs = draw_inputs(model.sm, draws, seed, scale)
    gX = params.get("gX")
    masses = np.full(inputs.n, mX)
    with form_factors.substituted_models(inputs.form_factor_models):
        varied = compute_predictions(masses, central["gX*A_WW"], central["gX*A_YY"], central["BR(X->invisible)"],
                                     gX=gX, XS=getattr(model, "XS", 1.0), sm=inputs.sm)
    out = {}
    for key, values in varied.items():
        if key in NOT_PROPAGATED or key not in central:
            continue
        values = np.asarray(values, dtype=float)
        if key in UNDEFINED_WHERE_CLOSED and np.all(np.isnan(values)):
            out[key] = None
            continue
        out[key] = {name: float(np.quantile(values, q)) for name, q in QUANTILES.items()}
    return out
