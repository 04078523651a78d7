"""1D and 2D profile-likelihood scans of any composed likelihood.

:func:`profile_scan` scans one or two *axes*; an axis is

* a model parameter (e.g. ``"gX"``, ``"gX_AWW"``) at fixed m_X,
* ``"mX"`` itself (m_X in GeV), or
* a *derived quantity*: any prediction key of the model (e.g. ``"BR(Z->gammaX)"``).

Every other model parameter that is not fixed is *profiled*: at each grid point chi2 is
minimised over it with iminuit (MIGRAD on the objective of :class:`xfit.inference.fit.Fit`,
with its parameter limits, e.g. g_X >= 0).  Points are visited along a snake path (rows of
a 2D grid alternate direction) so that each minimisation starts from its neighbour's best
fit (warm start); each point is also started from the user's ``start`` point(s) and the
lowest valid minimum is kept (guards against following a local minimum).

When nothing is left to profile the whole grid is evaluated in ONE vectorised call of the
model and the likelihood (the 200 x 200 plane of Fig. 2 is a single call).

Derived quantities (method ``"penalty"``): to profile chi2 at fixed f(theta) = t, xfit
minimises chi2(theta) + ((f(theta) - t) / (w |t|))^2 over all free parameters, first with a
loose relative width w = 0.1 and then, from there, with ``penalty_width`` (default 1e-4);
the reported chi2 is the likelihood part alone at that minimum, and the value of f actually
reached is stored (``derived_achieved``).  Points that miss the target by more than
10 x ``penalty_width`` (relative) are marked invalid.  The quadratic penalty shifts chi2 by
at most ~(w t dchi2/df)^2 / 4, negligible for w = 1e-4.  For t = 0 give ``derived_scale``
(the absolute width is then w x derived_scale).

Delta chi2 is relative to the lowest chi2 on the grid (``chi2_ref``, or a value given by
the caller, e.g. the global minimum from :class:`~xfit.inference.fit.Fit`), and contours are
drawn at :func:`~xfit.inference.fit.delta_chi2_for_sigma` (sigma, number of scanned axes):
1/2/3 sigma = 1, 4, 9 for one axis and 2.30, 6.18, 11.83 for two.

With ``theory_nuisances=True`` the theory inputs are profiled at every point as Gaussian
nuisances (:mod:`xfit.inference.nuisances`, as in :class:`~xfit.inference.fit.Fit`): every
point is then a minimisation (no vectorised grid), chi2 includes their constraint sum nu^2,
and their values at every point are kept (:attr:`ScanResult.nuisances`).

Scans are chunked and run on any executor (:mod:`xfit.inference.executors`), and, with
``store=PATH``, written chunk by chunk to a resumable JSON-lines file
(:mod:`xfit.inference.store`).  Chunks are independent (each warm-start chain starts inside
its chunk), so the result does not depend on the executor, on the order of completion or on
interruptions: a resumed scan is bit-identical to an uninterrupted one.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConvergenceError, InputError, require_finite_number
from ..likelihood import LikelihoodBase
from ..models.base import Model
from . import mle
from .executors import (
    chunk_indices,
    freeze,
    get_executor,
    iter_seeds,
    prepare_likelihood,
    require_chunk_size,
    resolve_likelihood,
    run_chunks,
)
from .fit import Fit, delta_chi2_for_sigma
from .results import Result
from .store import likelihood_probe, open_store, run_metadata, write_json

SIGMAS = (1, 2, 3)
#: Relative width of the first (loose) stage of the derived-quantity penalty.
PENALTY_COARSE = 0.1
#: Default number of grid points per chunk for profiled scans.
DEFAULT_CHUNK = 25


# --- axes ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Axis:
    """One scan axis: a name (parameter, ``"mX"`` or prediction key) and its grid values."""

    name: str
    values: np.ndarray
    spacing: str = "linear"

    def __post_init__(self):
        v = np.asarray(self.values, dtype=float).ravel()
        if v.size < 2:
            raise InputError(f"scan axis {self.name!r} needs at least 2 values, got {v.size}")
        if not np.all(np.isfinite(v)):
            raise InputError(f"scan axis {self.name!r} has non-finite values")
        if not np.all(np.diff(v) > 0):
            k = int(np.argmax(~(np.diff(v) > 0)))
            raise InputError(f"scan axis {self.name!r} must have strictly increasing values, "
                             f"got {v[k]:g} followed by {v[k + 1]:g}")
        object.__setattr__(self, "values", v)
        if self.spacing not in ("linear", "log"):
            raise InputError(f"axis spacing must be 'linear' or 'log', got {self.spacing!r}")

    @classmethod
    def linspace(cls, name: str, lo: float, hi: float, n: int) -> Axis:
        return cls(name, np.linspace(lo, hi, int(n)), "linear")

    @classmethod
    def logspace(cls, name: str, lo: float, hi: float, n: int) -> Axis:
        if lo <= 0 or hi <= 0:
            raise InputError(f"log axis {name!r} needs min, max > 0, got {lo}, {hi}")
        return cls(name, np.geomspace(lo, hi, int(n)), "log")

    def to_dict(self) -> dict:
        return {"name": self.name, "min": float(self.values[0]), "max": float(self.values[-1]),
                "n": int(self.values.size), "spacing": self.spacing}


def _guess_spacing(values) -> str:
    """'log' for positive, geometrically spaced values (np.geomspace), else 'linear'."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size > 2 and np.all(v > 0):
        r = np.diff(np.log(v))
        if not np.allclose(np.diff(v), np.diff(v)[0], rtol=1e-6) and np.allclose(r, r[0], rtol=1e-6):
            return "log"
    return "linear"


#: Largest grid a scan accepts: chi2, validity and each profiled parameter take one array of
#: this many points (8 bytes each); a larger grid is refused before anything is allocated.
MAX_GRID_POINTS = 10**7


def check_grid_size(sizes, what: str = "scan grid") -> int:
    """The number of points of a grid with axes of ``sizes``; InputError above
    :data:`MAX_GRID_POINTS`, with the memory it would need."""
    n = 1
    for k in sizes:
        n *= int(k)
    if n > MAX_GRID_POINTS:
        shape = " x ".join(str(int(k)) for k in sizes)
        raise InputError(f"{what} of {shape} = {n:.3g} points is too large (about {8 * n / 1e9:.3g} GB per array);"
                         f" use at most {MAX_GRID_POINTS:.0e} points")
    return n


def _as_axes(axes) -> list[Axis]:
    if isinstance(axes, Axis):
        axes = [axes]
    if isinstance(axes, Mapping):
        axes = [a if isinstance(a, Axis) else Axis(str(k), a, _guess_spacing(a)) for k, a in axes.items()]
    axes = list(axes)
    if not 1 <= len(axes) <= 2:
        raise InputError(f"a scan has 1 or 2 axes, got {len(axes)}")
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise InputError(f"scan axes must differ, got {names}")
    check_grid_size([a.values.size for a in axes])
    return axes


def snake_order(shape: tuple[int, ...]) -> np.ndarray:
    """Flat (C-order) indices of a grid visited row by row, alternating direction, so that
    consecutive points are neighbours (for warm starts)."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    if len(shape) == 2:
        idx = idx.copy()
        idx[1::2] = idx[1::2, ::-1]
    return idx.ravel()


def axis_label(model: Model | None, name: str) -> str:
    """Axis label with units: m_X in GeV, couplings dimensionless, derived keys by name."""
    if name == "mX":
        return r"$m_X$ [GeV]"
    if model is not None and name in model.parameters:
        return f"{model.label(name)} (dimensionless)"
    if name == "v_X":
        return r"$v_X$ [GeV]"
    if name.startswith("BR(") and name.endswith(")"):
        inner = name[3:-1].replace("->", r"\to ")
        for word in ("gamma", "pi", "rho"):
            inner = inner.replace(word, "\\" + word + " ")
        return rf"$\mathcal{{B}}({inner})$"
    return name


# --- the result ----------------------------------------------------------------------------

@dataclass(repr=False)
class ScanResult(Result):
    """A profile scan: chi2 on the grid, the profiled parameters' best values, metadata."""

    axes: list[Axis]
    chi2: np.ndarray
    profiled: dict[str, np.ndarray]
    valid: np.ndarray
    chi2_ref: float
    metadata: dict = field(default_factory=dict)
    derived_achieved: np.ndarray | None = None
    labels: dict[str, str] = field(default_factory=dict)
    #: profiled theory nuisances (``theory_nuisances=True``): {name: values on the grid}; a
    #: nuisance that does not move the likelihood at a point sits at 0 there
    nuisances: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def dof(self) -> int:
        """Number of scanned axes: the degrees of freedom of the Delta chi2 regions."""
        return len(self.axes)

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.axes]

    @property
    def delta_chi2(self) -> np.ndarray:
        return self.chi2 - self.chi2_ref

    def levels(self, sigmas: Sequence[float] = SIGMAS) -> dict[float, float]:
        """{n_sigma: Delta chi2 level} for this scan's number of axes."""
        return {s: delta_chi2_for_sigma(s, self.dof) for s in sigmas}

    def best(self) -> dict[str, float]:
        """The grid point with the lowest chi2 (axes and profiled parameters)."""
        c = np.where(self.valid, self.chi2, np.inf)
        if not np.isfinite(c).any():
            c = self.chi2
        i = np.unravel_index(int(np.nanargmin(c)), self.chi2.shape)
        out = {a.name: float(a.values[i[k]]) for k, a in enumerate(self.axes)}
        out.update({p: float(v[i]) for p, v in self.profiled.items()})
        out["chi2"] = float(self.chi2[i])
        return out

    def intervals(self, sigmas: Sequence[float] = SIGMAS) -> dict[float, list[tuple[float, float]]]:
        """1D scans: the intervals where Delta chi2 < level, ends interpolated linearly
        between grid points (a bound at a grid edge means the interval is open there)."""
        if self.dof != 1:
            raise InputError("intervals are defined for 1D scans only")
        x, d = self.axes[0].values, self.delta_chi2
        out = {}
        for s, lev in self.levels(sigmas).items():
            inside = d < lev
            spans, k = [], 0
            while k < len(x):
                if not inside[k]:
                    k += 1
                    continue
                j = k
                while j + 1 < len(x) and inside[j + 1]:
                    j += 1
                lo = x[k] if k == 0 else np.interp(lev, [d[k], d[k - 1]], [x[k], x[k - 1]])
                hi = x[j] if j == len(x) - 1 else np.interp(lev, [d[j], d[j + 1]], [x[j], x[j + 1]])
                spans.append((float(lo), float(hi)))
                k = j + 1
            out[s] = spans
        return out

    def summary(self) -> dict:
        s = {"axes": [a.to_dict() for a in self.axes], "profiled": list(self.profiled),
             "dof": self.dof, "chi2_ref": self.chi2_ref, "best": self.best(),
             "levels": {f"{k:g}sigma": v for k, v in self.levels().items()},
             "n_points": int(self.chi2.size), "n_invalid": int((~self.valid).sum())}
        if self.dof == 1:
            s["intervals"] = {f"{k:g}sigma": v for k, v in self.intervals().items()}
        s["theory_nuisances"] = {"used": bool(self.metadata.get("theory_nuisances", False))}
        if self.nuisances:
            c = np.where(self.valid, self.chi2, np.inf)
            i = np.unravel_index(int(np.nanargmin(c if np.isfinite(c).any() else self.chi2)), self.chi2.shape)
            s["theory_nuisances"]["at_best"] = {n: float(v[i]) for n, v in self.nuisances.items()}
        return s

    def to_dict(self) -> dict:
        """Summary and metadata (strict JSON; the arrays are in the ``.npz`` of :meth:`save`)."""
        from .results import to_jsonable

        return to_jsonable({"summary": self.summary(), "metadata": self.metadata, "labels": self.labels})

    # persistence ----------------------------------------------------------------------
    def save(self, out_dir: str | Path, stem: str = "scan") -> list[Path]:
        """``stem.npz`` (arrays) and ``stem.json`` (metadata + summary)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        arrays = {f"axis{k}": a.values for k, a in enumerate(self.axes)}
        arrays.update(chi2=self.chi2, delta_chi2=self.delta_chi2, valid=self.valid)
        for k, (_p, v) in enumerate(self.profiled.items()):
            arrays[f"profiled{k}"] = v
        for k, (_n, v) in enumerate(self.nuisances.items()):
            arrays[f"nuisance{k}"] = v
        if self.derived_achieved is not None:
            arrays["derived_achieved"] = self.derived_achieved
        npz = out / f"{stem}.npz"
        np.savez_compressed(npz, **arrays)
        meta = {"metadata": self.metadata, "summary": self.summary(),
                "arrays": {"axis_names": self.names, "profiled_names": list(self.profiled),
                           "nuisance_names": list(self.nuisances), "file": npz.name}, "labels": self.labels}
        return [npz, write_json(out / f"{stem}.json", meta)]

    @classmethod
    def load(cls, path: str | Path) -> ScanResult:
        """Read back what :meth:`save` wrote (give either file or the stem)."""
        p = Path(path)
        stem = p.with_suffix("") if p.suffix in (".npz", ".json") else p
        meta = json.loads(stem.with_suffix(".json").read_text())
        with np.load(stem.with_suffix(".npz")) as z:
            axes = [Axis(d["name"], z[f"axis{k}"], d["spacing"]) for k, d in enumerate(meta["summary"]["axes"])]
            profiled = {n: z[f"profiled{k}"] for k, n in enumerate(meta["arrays"]["profiled_names"])}
            derived = z["derived_achieved"] if "derived_achieved" in z.files else None
            nuisances = {n: z[f"nuisance{k}"] for k, n in enumerate(meta["arrays"].get("nuisance_names", []))}
            return cls(axes, z["chi2"], profiled, z["valid"].astype(bool), float(meta["summary"]["chi2_ref"]),
                       meta["metadata"], derived, meta.get("labels", {}), nuisances)


# --- workers (module level: picklable) -----------------------------------------------------

def likelihood_predictions(model: Model, lik, mX, params: Mapping[str, Any]) -> dict:
    """``model.predict(mX, **params)`` restricted to what ``lik`` reads (its ``observables``,
    and ``"mX"``): the same numbers (:meth:`xfit.models.base.Model.predictor`), without the
    rates of every other channel (grids of scans, root finding of limits)."""
    keys = getattr(lik, "observables", None)
    return model.predict(mX, **params) if keys is None else model.predictor(mX)(keys=tuple(keys), **params)


def _evaluate_chunk(task: Mapping[str, Any]) -> dict:
    """Vectorised chi2 at all points of a chunk (nothing profiled): one call.  If a term
    does not converge somewhere, the points are redone one by one (NaN where it fails)."""
    model, lik = task["model"], resolve_likelihood(task["likelihood"])
    pts = np.asarray(task["points"], dtype=float)
    cols = dict(zip(task["axis_names"], pts.T))
    mX = cols.pop("mX", task["mX"])
    params = {**{k: np.full(len(pts), v) for k, v in task["fixed"].items()}, **cols}
    try:
        chi2 = np.asarray(lik.chi2(likelihood_predictions(model, lik, mX, params)), dtype=float)
        chi2 = np.broadcast_to(chi2, (len(pts),))
    except ConvergenceError:
        chi2 = np.full(len(pts), np.nan)
        m_all = np.broadcast_to(np.asarray(mX, dtype=float), (len(pts),))
        for i in range(len(pts)):
            try:
                one = {k: v[i:i + 1] for k, v in params.items()}
                chi2[i] = float(np.ravel(lik.chi2(likelihood_predictions(model, lik, m_all[i:i + 1], one)))[0])
            except ConvergenceError:
                pass
    return {"chi2": chi2.tolist()}


class _Objective:
    """chi2 of ``fit`` (with its theory nuisances' constraint, if any) plus the
    derived-quantity penalty (one prediction per call)."""

    def __init__(self, fit: Fit, key: str | None = None, target: float = 0.0, width: float = 1.0):
        self.fit, self.key, self.target, self.width = fit, key, target, width

    def parts(self, *values) -> tuple[float, float]:
        pred = self.fit.predictions(*values)
        chi2 = float(self.fit.likelihood.chi2(pred)) + self.fit.constraint(*values)
        f = float(np.real(pred[self.key])) if self.key else 0.0
        return chi2, f

    def __call__(self, *values) -> float:
        chi2, f = self.parts(*values)
        return chi2 + ((f - self.target) / self.width) ** 2


#: MIGRAD strategy of the profile over theory nuisances at a scan point (with the vectorised
#: gradient :meth:`Fit.gradient`): 0 skips Minuit's numerical Hessian seeds, ~6x fewer
#: evaluations; chi2 agrees with a strategy-1 profile to ~2e-6 (tested).
NUISANCE_STRATEGY = 0


def _migrad(objective, names, start, limits, fixed, fit: Fit | None = None):
    """MIGRAD on a chi2 objective (:func:`xfit.inference.mle.migrad`, errordef 1); with
    ``fit`` (its own chi2) having theory nuisances, with its gradient and strategy 0."""
    if fit is not None and fit.nuisances is not None and fit.nuisances.names:
        return mle.migrad(objective, names, start, limits, fixed, strategy=NUISANCE_STRATEGY, grad=fit.gradient)
    return mle.migrad(objective, names, start, limits, fixed)


def _profile_point(fit: Fit, fixed: Mapping[str, float], starts: Sequence[Mapping[str, float]],
                   derived: Mapping[str, Any] | None, rng: np.random.Generator, n_random: int):
    """Minimise over the free parameters (and the fit's theory nuisances) from each start;
    keep the lowest valid minimum."""
    names = list(fit.parameters)
    free = [p for p in names if p not in fixed]
    best = None
    tried = list(starts)
    for attempt in range(len(tried) + n_random):
        if attempt < len(tried):
            s0 = tried[attempt]
        else:  # random restarts (only if nothing converged): jitter the first start's model parameters
            s0 = {p: tried[0].get(p, fit.start[p]) * (1 + rng.normal()) + 0.01 * rng.normal()
                  for p in free if p in fit.model.parameters}
        start = {**{p: fit.start[p] for p in names}, **{p: s0[p] for p in free if p in s0}, **fixed}
        for p in free:  # keep starts inside limits
            lo, hi = (fit.limits.get(p) or (None, None))
            if lo is not None and start[p] <= lo:
                start[p] = lo + 1e-6 * (abs(lo) + 1)
            if hi is not None and start[p] >= hi:
                start[p] = hi - 1e-6 * (abs(hi) + 1)
        try:
            if derived is None:
                m, ok = _migrad(fit.chi2, names, start, fit.limits, fixed, fit)
                chi2, f = float(m.fval), None
            else:
                t = derived["target"]
                scale = abs(t) if t != 0 else derived["scale"]
                obj = _Objective(fit, derived["key"], t, PENALTY_COARSE * scale)
                m, _ = _migrad(obj, names, start, fit.limits, fixed)
                obj.width = derived["width"] * scale
                m, ok = _migrad(obj, names, {p: m.values[p] for p in names}, fit.limits, fixed)
                chi2, f = obj.parts(*[m.values[p] for p in names])
                ok = ok and abs(f - t) <= 10 * derived["width"] * scale
            cand = (not ok, chi2 if derived is None else float(m.fval), chi2,
                    {p: float(m.values[p]) for p in free}, f, int(m.nfcn))
        except ConvergenceError:  # a term's own fit failed inside the objective
            cand = (True, np.inf, np.nan, {p: np.nan for p in free}, None, 0)
        if best is None or cand[:2] < best[:2]:
            best = cand
        if attempt + 1 >= len(tried) and not best[0]:
            break
    invalid, _, chi2, values, f, _ = best
    return chi2, values, not invalid, f


def _profile_chunk(task: Mapping[str, Any]) -> dict:
    """Profile every point of a chunk, each warm-started from the previous one."""
    model, lik = task["model"], resolve_likelihood(task["likelihood"])
    rng = np.random.default_rng(task["seed"])
    names, derived = task["axis_names"], task["derived"]
    fits: dict[float, Fit] = {}
    theory = task.get("theory_nuisances", False)
    out = {"chi2": [], "valid": [], "profiled": {p: [] for p in task["profiled"]}, "derived_achieved": []}
    if theory:
        out["nuisances"] = []
    warm = None
    for point in np.asarray(task["points"], dtype=float):
        coords = dict(zip(names, point))
        mX = float(coords.pop("mX", task["mX"]))
        d = None
        if derived is not None:
            d = {**derived, "target": float(coords.pop(derived["key"]))}
        if mX not in fits:
            fits[mX] = Fit(model, lik, mX, start=task["start"][0], limits=task["limits"], theory_nuisances=theory)
        fixed = {**task["fixed"], **coords}
        starts = ([warm] if warm is not None else []) + [s for s in task["start"] if s != warm]
        chi2, values, ok, f = _profile_point(fits[mX], fixed, starts, d, rng, task["n_random"])
        warm = values if ok and np.all(np.isfinite(list(values.values()))) else warm
        out["chi2"].append(chi2)
        out["valid"].append(ok)
        for p in task["profiled"]:
            out["profiled"][p].append(values[p])
        if theory:
            out["nuisances"].append({n: values[n] for n in fits[mX].nuisances.names})
        out["derived_achieved"].append(f)
    return out


# --- the scan ------------------------------------------------------------------------------

def profile_scan(model: Model, likelihood: LikelihoodBase, axes, mX: float | None = None,
                 fixed: Mapping[str, float] | None = None,
                 start: Mapping[str, float] | Sequence[Mapping[str, float]] | None = None,
                 limits: Mapping[str, tuple] | None = None, executor: Any = None,
                 chunk_size: int | None = None, store: str | Path | None = None,
                 overwrite: bool = False, on_mismatch: str = "error", progress: bool = True,
                 seed: int | None = 0,
                 penalty_width: float = 1e-4, derived_scale: float | None = None,
                 chi2_ref: float | None = None, n_random_restarts: int = 3,
                 callback: Callable[[int, Mapping], None] | None = None,
                 theory_nuisances: bool = False) -> ScanResult:
    """Profile-likelihood scan of ``likelihood`` for ``model`` along 1 or 2 ``axes``.

    Parameters
    ----------
    axes : ``{name: values}``, or a list of :class:`Axis`.  Names: model parameters,
        ``"mX"``, or one prediction key (a derived quantity, profiled by a penalty).
    mX : fixed m_X [GeV] (required unless ``"mX"`` is an axis).
    fixed : parameters held at given values (not scanned, not profiled).
    start : starting point(s) of the profiled parameters (dict or list of dicts); every
        point is also started from its neighbour's best fit.
    limits : iminuit limits per parameter (default: those of :class:`Fit`, g_X >= 0).
    executor : see :mod:`xfit.inference.executors`: ``None``/``"process"`` (default) local
        processes, ``"serial"``, a Dask client, any ``concurrent.futures`` executor.  Not
        used by vectorised scans (one call) nor when a single chunk is left.
    chunk_size : grid points per chunk (profiled scans: default 25, or one grid row for
        2D; vectorised scans: default the whole grid, i.e. one call).
    store : path of a JSON-lines file to which chunks are appended as they finish; an
        interrupted scan restarted with the same arguments resumes from it.  If the file
        holds another computation: ``on_mismatch="error"`` (default) or ``"restart"``;
        ``overwrite=True`` always starts afresh.
    seed : seeds the random restarts of fits that fail to converge (per chunk, see
        :func:`~xfit.inference.executors.iter_seeds`); stored in the metadata.
    chi2_ref : reference of Delta chi2 (default: the lowest chi2 on the grid).
    theory_nuisances : profile the theory inputs as Gaussian nuisances at every point
        (:mod:`xfit.inference.nuisances`); part of the identity of a stored scan.
    """
    t0 = time.perf_counter()
    axes = _as_axes(axes)
    pw = require_finite_number(penalty_width, "penalty_width")
    if pw <= 0:
        raise InputError(f"penalty_width must be a finite number > 0, got {penalty_width!r}")
    if isinstance(n_random_restarts, bool) or not isinstance(n_random_restarts, (int, np.integer)) \
            or n_random_restarts < 0:
        raise InputError(f"n_random_restarts must be an integer >= 0, got {n_random_restarts!r}")
    n_random_restarts = int(n_random_restarts)
    if not isinstance(theory_nuisances, bool):
        raise InputError(f"theory_nuisances must be True or False, got {theory_nuisances!r:.80}")
    frozen = freeze(likelihood)  # before any evaluation: every chunk starts from this state
    scratch = frozen.thaw() if frozen is not None else likelihood  # for probes
    fixed = dict(fixed or {})
    if "mX" in fixed:
        if mX is not None and float(fixed["mX"]) != float(mX):
            raise InputError(f"m_X given twice: mX={mX} and fixed mX={fixed['mX']}")
        mX = fixed.pop("mX")
    names = [a.name for a in axes]
    params = tuple(model.parameters)
    probe_mX = float(axes[names.index("mX")].values[0]) if "mX" in names else mX
    if probe_mX is None:
        raise InputError("give mX (m_X in GeV) or scan it as an axis 'mX'")
    keys = set(model.predict(probe_mX, **model.sm_point()))
    derived_names = [n for n in names if n not in params and n != "mX"]
    for n in derived_names:
        if n not in keys:
            raise InputError(f"unknown scan axis {n!r}; accepted: model parameters {', '.join(params)}, "
                             f"'mX', or a prediction key ({', '.join(sorted(keys))})")
    if len(derived_names) > 1:
        raise InputError(f"at most one derived-quantity axis per scan, got {derived_names}")
    unknown = set(fixed) - set(params)
    if unknown:
        raise InputError(f"unknown fixed parameter(s) {sorted(unknown)}; model {model.name!r} has {', '.join(params)}")
    both = set(fixed) & set(names)
    if both:
        raise InputError(f"parameter(s) {sorted(both)} both scanned and fixed")
    if mX is not None and "mX" in names:
        raise InputError("m_X is scanned: do not also give a fixed mX")
    profiled = [p for p in params if p not in names and p not in fixed]
    derived = None
    if derived_names:
        if not profiled:
            raise InputError(f"derived axis {derived_names[0]!r} needs at least one free parameter to profile; "
                             f"all of {', '.join(params)} are scanned or fixed")
        if derived_scale is None and np.any(axes[names.index(derived_names[0])].values == 0):
            raise InputError(f"derived axis {derived_names[0]!r} contains 0: give derived_scale")
        derived = {"key": derived_names[0], "width": float(penalty_width), "scale": derived_scale or 1.0}
    starts = [start] if isinstance(start, Mapping) or start is None else list(start)
    if not starts:
        raise InputError("start is an empty list: give a mapping, a non-empty list of mappings or None "
                         f"(starting values of the profiled parameters {', '.join(profiled) or '(none)'})")
    starts = [{**{p: 0.01 for p in params}, **(s or {})} for s in starts]
    for s in starts:
        bad = set(s) - set(params)
        if bad:
            raise InputError(f"unknown start parameter(s) {sorted(bad)}; model {model.name!r} has {', '.join(params)}")

    shape = tuple(a.values.size for a in axes)
    mesh = np.meshgrid(*[a.values for a in axes], indexing="ij")
    flat = np.stack([g.ravel() for g in mesh], axis=1)  # C order
    vectorised = not profiled and not theory_nuisances
    order = np.arange(flat.shape[0]) if vectorised else snake_order(shape)
    if chunk_size is None:
        chunk_size = flat.shape[0] if vectorised else (shape[1] if len(shape) == 2 else DEFAULT_CHUNK)
    chunk_size = require_chunk_size(chunk_size)
    spans = chunk_indices(len(order), chunk_size)
    seeds = iter_seeds(seed, len(spans))

    grid = {"axes": [a.to_dict() for a in axes], "shape": list(shape), "chunk_size": chunk_size}
    definition = {"kind": "profile_scan", "model": repr(model), "model_params": list(params),
                  "terms": list(likelihood.names), "mX": mX, "fixed": fixed, "axes": names,
                  "values": [a.values for a in axes], "start": starts, "limits": limits,
                  "seed": seed, "chunk_size": chunk_size, "derived": derived,
                  "n_random_restarts": n_random_restarts, "theory_nuisances": theory_nuisances}
    metadata = run_metadata(likelihood, model, seed, grid, mX=mX, fixed=fixed, profiled=profiled,
                            method="vectorised grid (one call per chunk)" if vectorised else
                            "iminuit MIGRAD per point, warm-started along a snake path",
                            derived_method=None if derived is None else
                            f"quadratic penalty, relative width {penalty_width:g}",
                            theory_nuisances=theory_nuisances)
    if store is not None:
        definition["probe"] = likelihood_probe(
            model, scratch, np.full(3, probe_mX),
            {p: np.array([0.003, 0.01, 0.03]) for p in params})
    st = open_store(store, definition, metadata, overwrite=overwrite, on_mismatch=on_mismatch,
                    chunk_sizes=[b - a for a, b in spans])

    if vectorised and len(spans) == 1 and st is None:
        # the fast path: the whole grid in ONE call of model and likelihood
        chi2_flat = np.asarray(likelihood.chi2(likelihood_predictions(
            model, likelihood, mesh[names.index("mX")] if "mX" in names else mX,
            {**{k: np.full(shape, v) for k, v in fixed.items()},
             **{n: g for n, g in zip(names, mesh) if n != "mX"}})), dtype=float).ravel()
        results = [{"chi2": chi2_flat.tolist()}]
    else:
        with get_executor(executor) as ex:
            ex, portable = prepare_likelihood(likelihood, ex, frozen)
            tasks = []
            for (a, b), sd in zip(spans, seeds):
                task = {"model": model, "likelihood": portable, "mX": mX, "axis_names": names,
                        "points": flat[order[a:b]], "fixed": fixed, "seed": sd}
                if not vectorised:
                    task.update(profiled=profiled, start=starts, limits=limits, derived=derived,
                                n_random=n_random_restarts, theory_nuisances=theory_nuisances)
                tasks.append(task)
            func = _evaluate_chunk if vectorised else _profile_chunk
            results = run_chunks(func, tasks, ex, store=st, progress=progress,
                                 desc=f"scan {'x'.join(names)}", callback=callback)

    chi2 = np.empty(flat.shape[0])
    valid = np.ones(flat.shape[0], dtype=bool)
    prof = {p: np.full(flat.shape[0], np.nan) for p in profiled}
    achieved = np.full(flat.shape[0], np.nan) if derived else None
    nuisance_names = list(dict.fromkeys(n for res in results for point in res.get("nuisances", []) for n in point))
    nuis = {n: np.zeros(flat.shape[0]) for n in nuisance_names}  # 0: not moving the likelihood there
    for (a, b), res in zip(spans, results):
        idx = order[a:b]
        chi2[idx] = res["chi2"]
        if not vectorised:
            valid[idx] = res["valid"]
            for p in profiled:
                prof[p][idx] = res["profiled"][p]
            for i, point in zip(idx, res.get("nuisances", [])):
                for n, v in point.items():
                    nuis[n][i] = np.nan if v is None else v
            if derived:
                achieved[idx] = res["derived_achieved"]
    valid &= np.isfinite(chi2)
    chi2 = chi2.reshape(shape)
    valid = valid.reshape(shape)
    prof = {p: v.reshape(shape) for p, v in prof.items()}
    nuis = {n: v.reshape(shape) for n, v in nuis.items()}
    if derived:
        achieved = achieved.reshape(shape)
    if chi2_ref is None:
        ok = valid & np.isfinite(chi2)
        chi2_ref = float(np.min(chi2[ok])) if ok.any() else float("nan")
    metadata["elapsed_s"] = round(time.perf_counter() - t0, 3)
    metadata["n_invalid"] = int((~valid).sum())
    labels = {n: axis_label(model, n) for n in names}
    return ScanResult(axes, chi2, prof, valid, float(chi2_ref), metadata, achieved, labels, nuis)


def contour_levels(dof: int, sigmas: Sequence[float] = SIGMAS) -> dict[float, float]:
    """{n_sigma: Delta chi2} for ``dof`` parameters (:func:`delta_chi2_for_sigma`)."""
    return {s: delta_chi2_for_sigma(s, dof) for s in sigmas}


__all__ = [
    "Axis",
    "ScanResult",
    "axis_label",
    "contour_levels",
    "likelihood_predictions",
    "profile_scan",
    "snake_order",
]
