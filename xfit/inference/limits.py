"""Upper limits on a coupling (g_X, or g_X A_XWW, ...) versus m_X, search by search.

Convention (the one of :mod:`xfit.likelihood`): at confidence level CL the limit g_CL is
where

    Delta chi2(g) = chi2(g) - chi2_min = [Phi^-1(CL)]^2      (1.642 at 90 % CL),

with chi2_min the minimum over g >= 0 (for a pure limit term chi2_min = chi2(0) = 0; for a
term with a preference for signal, e.g. the Belle II B+ -> K+ E_miss likelihood, the minimum
at g > 0), and g_CL > argmin.  Because every limit term is a half-Gaussian in its rate
(:class:`xfit.likelihood.UpperLimitTerm`), a term published at 90 % CL gives back exactly its
published limit on B(production) x B(X -> invisible); a term published at another CL
(L3: 95 %) is converted by the same half-Gaussian (its 90 % CL rate is
x_UL Phi^-1(0.90)/Phi^-1(0.95) = 0.78 x_UL).  :func:`chi2_threshold_one_sided` gives the
threshold.

Two methods, chosen per mass:

* **closed form** — when chi2 is homogeneous in g (chi2(lambda g) = lambda^k chi2(g), e.g.
  k = 4 for half-Gaussian limits on rates proportional to g^2, alone or summed), the limit
  is g_ref (threshold / chi2(g_ref))^(1/k).  The homogeneity is *tested* at each mass
  (chi2 at 0, g_ref, 2 g_ref, 4 g_ref) and the result is verified (|chi2(g_CL) -
  threshold| < 1e-9 threshold); all masses in one vectorised call.
* **root finding** — otherwise: chi2 on a log grid of g (``points_per_decade``, default
  2, one vectorised call for all masses of a chunk), the minimum refined with a bounded
  scalar minimisation (Brent, to 1e-4 in log10 g: chi2_min to ~1e-6) between the grid
  neighbours of the lowest point, then ``scipy.optimize.brentq`` on log10 g (xtol 1e-11) between the grid
  points that bracket the first crossing above the minimum.  Raise ``points_per_decade``
  for a likelihood with structure finer than a factor 3 in g.

No limit (NaN, JSON null) where the likelihood does not depend on g at that mass (the
search does not apply, the channel is closed, B(X -> invisible) = 0), or where the
crossing lies above ``g_max`` (default 4 pi: no sensitivity to perturbative couplings).

Masses are processed in chunks; slow likelihoods (more than ``slow_seconds`` per point,
e.g. the full Belle II likelihood) run their chunks on the ``executor``; with ``store`` the
chunks are appended to a resumable JSON-lines file (:mod:`xfit.inference.store`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize

from ..errors import ConvergenceError, InputError, require_finite_number
from ..likelihood import CombinedLikelihood, LikelihoodBase, chi2_threshold_one_sided
from ..models.base import Model
from .executors import (
    chunk_indices,
    freeze,
    prepare_likelihood,
    resolve_likelihood,
    run_chunks,
)
from .results import Result, to_jsonable
from .store import finite_or_none, likelihood_probe, open_store, run_metadata

#: Default upper end of the coupling range: larger "limits" are no sensitivity.
G_MAX = 4.0 * math.pi
#: Default lower end of the coupling grid of the root-finding method.
G_MIN = 1e-10
#: Reference coupling of the closed-form method.
G_REF = 1e-2
#: Masses per chunk.
DEFAULT_CHUNK = 16
#: Seconds per likelihood evaluation above which a search counts as slow (executor used).
SLOW_SECONDS = 2e-3
#: Relative tolerance of the closed-form verification.
CLOSED_FORM_RTOL = 1e-9


@dataclass(repr=False)
class CouplingLimit(Result):
    """Upper limit on ``parameter`` versus m_X from one likelihood (a search or a sum)."""

    name: str
    parameter: str
    cl: float
    mX: np.ndarray
    limit: np.ndarray  # NaN: no limit at that mass
    method: list[str]  # "closed-form", "root", "none" or "failed: ..." per mass
    best_fit: np.ndarray  # argmin over g >= 0 (0 for pure limits)
    delta_chi2_zero: np.ndarray  # chi2(0) - chi2_min: preference for signal
    terms: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        return chi2_threshold_one_sided(self.cl)

    def has_limit(self) -> np.ndarray:
        return np.isfinite(self.limit)

    def failures(self) -> dict[float, str]:
        """{m_X: reason} where the likelihood could not be evaluated (no limit there)."""
        return {float(m): r[len("failed: ") :] for m, r in zip(self.mX, self.method) if r.startswith("failed")}

    def to_json(self, key: str | None = None) -> dict:
        """``{"mX": [...], "gX_90": [...]}`` (GeV; null where there is no limit)."""
        key = key or f"{self.parameter}_{round(100 * self.cl):d}"
        return {"mX": [float(m) for m in self.mX], key: finite_or_none(self.limit)}

    def to_dict(self) -> dict:
        return to_jsonable(
            {
                "name": self.name,
                "parameter": self.parameter,
                "cl": self.cl,
                "terms": list(self.terms),
                "threshold_delta_chi2": self.threshold,
                **self.to_json("limit"),
                "method": self.method,
                "best_fit": finite_or_none(self.best_fit),
                "delta_chi2_zero": finite_or_none(self.delta_chi2_zero),
                "metadata": self.metadata,
            }
        )

    def __repr__(self) -> str:
        n = int(self.has_limit().sum())
        rng = f"{np.nanmin(self.limit):.3g}..{np.nanmax(self.limit):.3g}" if n else "none"
        return f"<CouplingLimit {self.name}: {self.parameter} < {rng} at {self.cl:.0%} CL, {n}/{self.mX.size} masses>"


def _model_parameter(model: Model, parameter: str | None, fixed: Mapping[str, float]) -> str:
    if parameter is None:
        free = [p for p in model.parameters if p not in fixed]
        if len(free) != 1:
            raise InputError(
                f"model {model.name!r} has parameters {', '.join(model.parameters)}: "
                "say which one to bound (parameter=...) and fix the others"
            )
        return free[0]
    if parameter not in model.parameters:
        raise InputError(f"unknown parameter {parameter!r}; model {model.name!r} has {', '.join(model.parameters)}")
    others = set(model.parameters) - {parameter} - set(fixed)
    if others:
        raise InputError(f"fix the other parameter(s) {sorted(others)} of model {model.name!r} (fixed={{...}})")
    return parameter


def _chi2(model: Model, lik, parameter: str, fixed: Mapping[str, float], mX, g) -> np.ndarray:
    """chi2 at (mX, g) arrays (broadcast), one vectorised call."""
    mX, g = np.broadcast_arrays(np.asarray(mX, float), np.asarray(g, float))
    params = {**{k: np.full(g.shape, v) for k, v in fixed.items()}, parameter: g}
    return np.asarray(lik.chi2(model.predict(mX, **params)), dtype=float) * np.ones(g.shape)


def _closed_form(model, lik, parameter, fixed, masses, threshold, g_ref=G_REF):
    """Limits where chi2 is homogeneous in g; NaN elsewhere, plus a mask of 'no dependence'."""
    gs = g_ref * np.array([0.0, 1.0, 2.0, 4.0])
    c = _chi2(model, lik, parameter, fixed, masses[:, None], gs[None, :])
    c0, c1, c2, c4 = c.T
    scale = np.maximum(np.abs(c).max(axis=1), 1e-300)
    flat = (np.abs(c - c0[:, None]).max(axis=1) <= 1e-14 * scale) | ~np.isfinite(c).all(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        k1 = np.log2(c2 / c1)
        k2 = np.log2(c4 / c2)
        homog = (
            ~flat
            & (np.abs(c0) <= 1e-14 * scale)
            & (c1 > 0)
            & np.isfinite(k1)
            & np.isfinite(k2)
            & (np.abs(k1 - k2) < 1e-8)
            & (k1 > 0)
        )
        g = np.where(homog, g_ref * (threshold / np.where(homog, c1, 1.0)) ** (1.0 / np.where(homog, k1, 1.0)), np.nan)
    if homog.any():
        check = _chi2(model, lik, parameter, fixed, masses[homog], g[homog])
        ok = np.abs(check - threshold) <= CLOSED_FORM_RTOL * threshold
        idx = np.flatnonzero(homog)
        g[idx[~ok]] = np.nan
        homog[idx[~ok]] = False
    return g, homog, flat


def _root_limits(model, lik, parameter, fixed, masses, threshold, g_min, g_max, per_decade):
    """Root-finding limits for each mass (see the module docstring)."""
    n = max(math.ceil(per_decade * math.log10(g_max / g_min)), 2) + 1
    grid = np.concatenate([[0.0], np.geomspace(g_min, g_max, n)])
    c = _chi2(model, lik, parameter, fixed, masses[:, None], grid[None, :])
    limit = np.full(masses.size, np.nan)
    best = np.full(masses.size, np.nan)
    dz = np.full(masses.size, np.nan)
    method = ["none"] * masses.size
    for i, m in enumerate(masses):
        row = c[i]
        if not np.isfinite(row).all() or np.ptp(row) <= 1e-12 * max(1.0, np.abs(row).max()):
            continue  # chi2 does not depend on g here

        def f(t, m=m):
            return float(_chi2(model, lik, parameter, fixed, m, 10.0**t))

        j = int(np.argmin(row))
        cmin, ghat = float(row[j]), float(grid[j])
        if 0 < j < grid.size - 1:
            lo = math.log10(grid[j - 1]) if j > 1 else math.log10(g_min) - 3.0
            res = optimize.minimize_scalar(
                f, bounds=(lo, math.log10(grid[j + 1])), method="bounded", options={"xatol": 1e-4}
            )
            if res.fun < cmin:
                cmin, ghat = float(res.fun), float(10.0**res.x)
        best[i] = ghat
        dz[i] = row[0] - cmin
        above = np.flatnonzero((row - cmin >= threshold) & (grid > ghat))
        if above.size == 0:
            continue  # no sensitivity up to g_max
        k = int(above[0])
        g_hi = grid[k]
        g_lo = max(grid[k - 1], ghat)
        if g_lo <= 0.0:  # crossing below the grid: walk down
            g_lo = g_min
            for _ in range(6):
                if f(math.log10(g_lo)) - cmin < threshold:
                    break
                g_hi, g_lo = g_lo, g_lo * 1e-3
            else:
                continue
        r = optimize.brentq(
            lambda t: f(t) - cmin - threshold,  # noqa: B023 - used at once, inside the loop
            math.log10(g_lo),
            math.log10(g_hi),
            xtol=1e-11,
            rtol=4 * np.finfo(float).eps,
        )
        limit[i] = 10.0**r
        method[i] = "root"
    return limit, best, dz, method


def _limits_at(model, lik, par, fixed, thr, masses, g_min, g_max, per_decade):
    """Limits at ``masses``: closed form where exact, else root finding."""
    limit, homog, flat = _closed_form(model, lik, par, fixed, masses, thr)
    method = ["closed-form" if h else "none" for h in homog]
    best = np.where(homog, 0.0, np.nan)
    dz = np.where(homog, 0.0, np.nan)
    rest = np.flatnonzero(~homog & ~flat)
    if rest.size:
        l2, b2, d2, m2 = _root_limits(model, lik, par, fixed, masses[rest], thr, g_min, g_max, per_decade)
        limit[rest], best[rest], dz[rest] = l2, b2, d2
        for i, mm in zip(rest, m2):
            method[i] = mm
    limit = np.where(limit <= g_max, limit, np.nan)
    for i in np.flatnonzero(~np.isfinite(limit)):
        method[i] = "none"
    return limit, method, best, dz


def _limit_chunk(task: Mapping[str, Any]) -> dict:
    """Limits at the masses of one chunk.  If the likelihood does not converge (e.g. a
    profile fit inside a term, :class:`~xfit.errors.ConvergenceError`), the masses are
    redone one by one and a mass that still fails gets no limit and the method
    ``"failed: <reason>"``.  Other errors (missing data, bad input) propagate."""
    model, lik = task["model"], resolve_likelihood(task["likelihood"])
    args = (model, lik, task["parameter"], task["fixed"], task["threshold"])
    rest = (task["g_min"], task["g_max"], task["per_decade"])
    masses = np.asarray(task["masses"], dtype=float)
    try:
        limit, method, best, dz = _limits_at(*args, masses, *rest)
    except ConvergenceError:
        limit, best, dz = (np.full(masses.size, np.nan) for _ in range(3))
        method = []
        for i, _m in enumerate(masses):
            try:
                l1, m1, b1, d1 = _limits_at(*args, masses[i : i + 1], *rest)
                limit[i], best[i], dz[i] = l1[0], b1[0], d1[0]
                method.append(m1[0])
            except ConvergenceError as exc:
                method.append(f"failed: {type(exc).__name__}: {exc}")
    return {"limit": limit.tolist(), "method": method, "best_fit": best.tolist(), "delta_chi2_zero": dz.tolist()}


def seconds_per_point(
    model: Model,
    likelihood: LikelihoodBase,
    parameter: str,
    fixed: Mapping[str, float],
    masses: np.ndarray,
    n: int = 32,
) -> float:
    """Wall time of one likelihood evaluation: one vectorised call at ``n`` points spread
    over ``masses`` (repeated if there are fewer), divided by ``n``."""
    m = np.asarray(masses, float)
    m = m[np.linspace(0, len(m) - 1, n).round().astype(int)]
    t0 = time.perf_counter()
    _chi2(model, likelihood, parameter, fixed, m, np.full(m.shape, G_REF))
    return (time.perf_counter() - t0) / m.size


def coupling_limit(
    model: Model,
    likelihood: LikelihoodBase,
    masses,
    cl: float = 0.90,
    parameter: str | None = None,
    fixed: Mapping[str, float] | None = None,
    name: str | None = None,
    g_min: float = G_MIN,
    g_max: float = G_MAX,
    points_per_decade: int = 2,
    executor: Any = None,
    chunk_size: int = DEFAULT_CHUNK,
    store: str | Path | None = None,
    overwrite: bool = False,
    on_mismatch: str = "error",
    progress: bool = True,
    slow_seconds: float = SLOW_SECONDS,
    seed: int | None = None,
    callback: Callable[[int, Mapping], None] | None = None,
) -> CouplingLimit:
    """Upper limit at ``cl`` on ``parameter`` of ``model`` versus m_X (``masses`` in GeV).

    ``executor`` (default local processes) is used only when the likelihood is slow (more
    than ``slow_seconds`` per evaluation); fast likelihoods run in the calling process,
    vectorised.  The result never depends on the executor.  ``seed`` is recorded only (the
    computation is deterministic).
    """
    t0 = time.perf_counter()
    fixed = dict(fixed or {})
    parameter = _model_parameter(model, parameter, fixed)
    masses = np.asarray(masses, dtype=float).ravel()
    if masses.size == 0 or not np.all(np.isfinite(masses)) or np.any(masses <= 0):
        raise InputError("masses must be finite numbers > 0 GeV")
    cl = require_finite_number(cl, "cl")
    if not 0 < cl < 1:
        raise InputError(f"cl (confidence level) must be between 0 and 1 exclusive, e.g. 0.90; got {cl!r}")
    g_min = require_finite_number(g_min, "g_min")
    g_max = require_finite_number(g_max, "g_max")
    if not 0 < g_min < g_max:
        raise InputError(f"need finite 0 < g_min < g_max, got {g_min}, {g_max}")
    if (
        isinstance(points_per_decade, bool)
        or not isinstance(points_per_decade, (int, np.integer))
        or points_per_decade < 1
    ):
        raise InputError(f"points_per_decade must be an integer >= 1, got {points_per_decade!r}")
    points_per_decade = int(points_per_decade)
    thr = chi2_threshold_one_sided(cl)
    name = name or "+".join(likelihood.names)
    frozen = freeze(likelihood)  # before any evaluation: every chunk starts from this state
    scratch = frozen.thaw() if frozen is not None else likelihood  # for probes and timing
    spans = chunk_indices(masses.size, int(chunk_size))
    definition = {
        "kind": "coupling_limit",
        "model": repr(model),
        "terms": list(likelihood.names),
        "parameter": parameter,
        "fixed": fixed,
        "cl": cl,
        "masses": masses,
        "g_min": g_min,
        "g_max": g_max,
        "per_decade": points_per_decade,
        "chunk_size": int(chunk_size),
    }
    if store is not None:
        probe_m = masses[[0, masses.size // 2, -1]]
        definition["probe"] = likelihood_probe(
            model, scratch, probe_m, {**fixed, parameter: np.array([1e-4, 1e-3, 1e-2])}
        )
    metadata = run_metadata(
        likelihood,
        model,
        seed,
        {"mX": masses, "chunk_size": int(chunk_size)},
        parameter=parameter,
        fixed=fixed,
        cl=cl,
        threshold_delta_chi2=thr,
        convention="one-sided half-Gaussian: Delta chi2 = [Phi^-1(CL)]^2 from the minimum over g >= 0",
    )
    st = open_store(
        store, definition, metadata, overwrite=overwrite, on_mismatch=on_mismatch, chunk_sizes=[b - a for a, b in spans]
    )
    slow = seconds_per_point(model, scratch, parameter, fixed, masses) > slow_seconds
    ex = executor if slow else "serial"
    from .executors import get_executor

    with get_executor(ex) as pool:
        pool, portable = prepare_likelihood(likelihood, pool, frozen)
        tasks = [
            {
                "model": model,
                "likelihood": portable,
                "parameter": parameter,
                "fixed": fixed,
                "threshold": thr,
                "masses": masses[a:b],
                "g_min": g_min,
                "g_max": g_max,
                "per_decade": points_per_decade,
            }
            for a, b in spans
        ]
        results = run_chunks(
            _limit_chunk, tasks, pool, store=st, progress=progress, desc=f"limits {name}", callback=callback
        )

    def cat(key):
        return [v for r in results for v in r[key]]

    metadata["elapsed_s"] = round(time.perf_counter() - t0, 3)
    metadata["executor"] = "serial (fast likelihood)" if not slow else repr(executor or "process")
    return CouplingLimit(
        name=name,
        parameter=parameter,
        cl=cl,
        mX=masses,
        limit=np.array(cat("limit"), dtype=float),
        method=cat("method"),
        best_fit=np.array(cat("best_fit"), dtype=float),
        delta_chi2_zero=np.array(cat("delta_chi2_zero"), dtype=float),
        terms=tuple(likelihood.names),
        metadata=metadata,
    )


def limits_by_search(
    model: Model,
    searches: Mapping[str, LikelihoodBase],
    masses,
    cl: float = 0.90,
    combined: str | None = "combined",
    store_dir: str | Path | None = None,
    **kw,
) -> dict[str, CouplingLimit]:
    """:func:`coupling_limit` for each search separately and (``combined``: its name, or
    None to skip) for the sum of all of them.  ``store_dir``: one resumable file per search."""
    out = {}
    items = list(searches.items())
    if combined:
        if combined in searches:
            raise InputError(f"a search is named {combined!r}, the name of the combination")
        items.append((combined, CombinedLikelihood([t for _, lik in searches.items() for t in lik.terms])))
    for name, lik in items:
        store = None if store_dir is None else Path(store_dir) / f"limits_{name}.jsonl"
        out[name] = coupling_limit(model, lik, masses, cl=cl, name=name, store=store, **kw)
    return out


# --- bands of the IR-UV interplay (Sec. 3.3) -----------------------------------------------


def coupling_for_anomalon_mass(mX, m_psi: float, y: float, XS: float = 1.0) -> np.ndarray:
    """g_X at which m_Psi = y v_X = y m_X/(X_S g_X) equals ``m_psi`` [GeV]
    (the inverse of :func:`xfit.physics.couplings.anomalon_mass`, which is 1/g_X-linear)."""
    from ..physics.couplings import anomalon_mass

    return np.asarray(anomalon_mass(y, mX, 1.0, XS), dtype=float) / m_psi


def direct_search_bound(mX, y: float, m_psi_min: float = 100.0, XS: float = 1.0) -> np.ndarray:
    """Direct anomalon searches, m_Psi > m_psi_min: g_X above this line is excluded."""
    return coupling_for_anomalon_mass(mX, m_psi_min, y, XS)


def naturalness_bound(mX, delta: float, y: float = math.sqrt(4 * math.pi), XS: float = 1.0) -> np.ndarray:
    """Finite naturalness m_Psi <~ sqrt(Delta) TeV: g_X below this line needs more tuning than 1/Delta."""
    return coupling_for_anomalon_mass(mX, math.sqrt(delta) * 1000.0, y, XS)


# --- plotting ------------------------------------------------------------------------------


def _pastel(colour: str, amount: float = 0.72):
    """``colour`` mixed with white (opaque fills that do not turn muddy when stacked)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def draw_limit(
    ax,
    curve: CouplingLimit,
    colour: str,
    label: str,
    top: float,
    fill: bool = True,
    ls: str = "-",
    lw: float = 1.6,
    alpha: float = 1.0,
    z: float = 1.0,
) -> None:
    """One limit curve on log axes, the excluded region above it shaded (opaque pastel of
    the curve's colour, at z-order ``z``; lines are drawn above every fill)."""
    m, g = curve.mX, curve.limit
    ok = np.isfinite(g)
    if not ok.any():
        ax.plot([], [], color=colour, ls=ls, lw=lw, label=f"{label} (no limit)")
        return
    ax.plot(m, np.where(ok, g, np.nan), color=colour, ls=ls, lw=lw, label=label, zorder=10)
    if fill:
        ax.fill_between(m, np.where(ok, g, top), top, where=ok, color=_pastel(colour), alpha=alpha, lw=0, zorder=z)


def _y_label(y: float) -> str:
    return r"\sqrt{4\pi}" if abs(y - math.sqrt(4 * math.pi)) < 1e-9 else f"{y:g}"


def plot_limits(
    curves: Mapping[str, CouplingLimit],
    out_dir: str | Path,
    stem: str = "limits",
    formats: Sequence[str] = ("png", "pdf"),
    labels: Mapping[str, str] | None = None,
    colours: Mapping[str, str] | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
    direct_y: Sequence[float] = (),
    naturalness_delta: Sequence[float] = (),
    naturalness_y: float = math.sqrt(4 * math.pi),
    projections: Mapping[str, CouplingLimit] | None = None,
    xscale: str = "log",
) -> list[Path]:
    """Limit curves versus m_X on log-log axes (upper panel); with ``projections`` a lower
    panel repeats the combined limit and adds the projections as dashed lines."""
    import matplotlib.pyplot as plt

    from ..plots import SEARCH_COLOURS, setup_style
    from .scan import save_figure_formats

    setup_style()
    labels = dict(labels or {})
    colours = {**SEARCH_COLOURS, **(colours or {})}
    allm = np.concatenate([c.mX for c in curves.values()])
    mlo, mhi = float(allm.min()), float(allm.max())
    finite = np.concatenate([c.limit[np.isfinite(c.limit)] for c in curves.values()] + [np.array([1e-3])])
    lo, hi = ylim or (10 ** math.floor(math.log10(finite.min()) - 0.5), 10.0)
    panels = 2 if projections else 1
    fig, axes = plt.subplots(panels, 1, figsize=(10.5, 4.8 * panels), squeeze=False)
    mm = np.geomspace(mlo, mhi, 200) if mlo > 0 else np.linspace(mlo, mhi, 200)

    def _bands(ax):
        for y, ls in zip(direct_y, (":", "-", "--")):
            g = direct_search_bound(mm, y)
            ax.plot(
                mm,
                g,
                color="goldenrod",
                ls=ls,
                lw=1.4,
                zorder=11,
                label=r"direct: $m_\Psi > 100$ GeV, $y_\Psi = " + _y_label(y) + "$",
            )
            ax.fill_between(mm, g, hi, color="gold", alpha=0.15, lw=0, zorder=5)
        for d, a in zip(naturalness_delta, (0.18, 0.12, 0.08)):
            g = naturalness_bound(mm, d, naturalness_y)
            ax.fill_between(
                mm,
                lo,
                g,
                color="grey",
                alpha=a,
                lw=0,
                zorder=5,
                label=rf"natural.: $m_\Psi \gtrsim \sqrt{{{d:g}}}$ TeV (tuning $<1/{d:g}$), $y_\Psi="
                + _y_label(naturalness_y)
                + "$",
            )

    ax = axes[0, 0]
    # fills: strongest search first, weaker ones over it, so that just above each curve the
    # colour is that of the search that excludes there first
    strength = {k: (np.nanmedian(c.limit) if np.isfinite(c.limit).any() else np.inf) for k, c in curves.items()}
    for z, name in enumerate(sorted((k for k in curves if k != "combined"), key=lambda k: strength[k])):
        draw_limit(ax, curves[name], colours.get(name, "k"), labels.get(name, name), hi, z=1 + 0.01 * z)
    if "combined" in curves:
        draw_limit(
            ax,
            curves["combined"],
            colours.get("combined", "k"),
            labels.get("combined", "combined"),
            hi,
            fill=False,
            lw=2.4,
        )
    _bands(ax)
    ax.set_title(title or "", fontsize=10)
    if projections:
        axp = axes[1, 0]
        if "combined" in curves:
            draw_limit(axp, curves["combined"], "dimgrey", "current limit (combined)", hi)
        for name, c in projections.items():
            draw_limit(axp, c, colours.get(name, "k"), labels.get(name, name), hi, fill=False, ls="--", lw=2)
        _bands(axp)
        axp.set_title("future projections (dashed)", fontsize=10)
    for a in axes[:, 0]:
        a.set_xscale(xscale)
        a.set_yscale("log")
        a.set_xlim(mlo, mhi)
        a.set_ylim(lo, hi)
        a.set_ylabel(ylabel or r"$g_X$ (90% CL upper limit, dimensionless)")
        a.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        a.tick_params(labelbottom=True)
    for a in axes[:, 0]:
        a.set_xlabel(r"$m_X$ [GeV]")
    fig.tight_layout()
    return save_figure_formats(fig, out_dir, stem, formats)


__all__ = [
    "G_MAX",
    "G_MIN",
    "CouplingLimit",
    "coupling_for_anomalon_mass",
    "coupling_limit",
    "direct_search_bound",
    "draw_limit",
    "limits_by_search",
    "naturalness_bound",
    "plot_limits",
    "seconds_per_point",
]
