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
  2, one vectorised call for all masses of a chunk), the minimum refined by a golden-section
  search in log10 g (to 1e-5) between the grid neighbours of the lowest point, then the
  Illinois variant of regula falsi on log10 g (to 1e-11) between the grid points that
  bracket the first crossing above the minimum; every step is one vectorised call for the
  masses not yet converged (slow likelihoods: one mass at a time).  Raise
  ``points_per_decade`` for a likelihood with structure finer than a factor 3 in g.
* **in the rate** — at masses where a term declaring ``rate_profile`` applies (chi2 a
  function of the product B of its observables, e.g. the full Belle II likelihood, where
  each evaluation is a profile fit): mass by mass, warm-started from the previous mass,
  the minimum and the crossing are found in B (:func:`_rate_limit`: ~12 evaluations per
  mass instead of ~50), and the evaluations are kept so that the sum of all searches
  (``combined`` in :func:`limits_by_search`) reuses them.

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
    require_chunk_size,
    resolve_likelihood,
    run_chunks,
)
from .results import Result, to_jsonable
from .scan import likelihood_predictions
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
#: ``metadata["executor"]`` of a limit whose likelihood was fast (run in the calling process).
FAST_EXECUTOR = "serial (fast likelihood)"
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
    #: per mass, the evaluations [(g, chi2)] of a rate-profile term (reused for "combined")
    rate_evaluations: list = field(default_factory=list, repr=False)

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
    """chi2 at (mX, g) arrays (broadcast), one vectorised call (of the predictions the
    likelihood reads only, :func:`xfit.inference.scan.likelihood_predictions`)."""
    mX, g = np.broadcast_arrays(np.asarray(mX, float), np.asarray(g, float))
    params = {**{k: np.full(g.shape, v) for k, v in fixed.items()}, parameter: g}
    return np.asarray(lik.chi2(likelihood_predictions(model, lik, mX, params)), dtype=float) * np.ones(g.shape)


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


#: Tolerance (in log10 g) of the vectorised golden-section refinement of the minimum
#: (chi2_min exact to ~1e-9 for the curvatures met here; the former Brent used 1e-4).
GOLDEN_XTOL = 1e-5
#: Tolerance (in log10 g) of the crossing (the xtol of the former scalar ``brentq``).
ROOT_XTOL = 1e-11


def _refine_minima(model, lik, parameter, fixed, masses, lo, hi):
    """Golden-section search of chi2 over log10 g in [lo, hi] for all masses at once (one
    vectorised call per step, for the masses not yet converged: each mass's iterates do
    not depend on the others); returns (t, chi2) at the best point found."""
    inv = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo.copy(), hi.copy()
    c, d = b - inv * (b - a), a + inv * (b - a)
    fc = _chi2(model, lik, parameter, fixed, masses, 10.0**c)
    fd = _chi2(model, lik, parameter, fixed, masses, 10.0**d)
    for _ in range(200):
        act = np.flatnonzero(b - a > GOLDEN_XTOL)
        if act.size == 0:
            break
        left = fc[act] < fd[act]  # the minimum is in [a, d]
        aa, bb = np.where(left, a[act], c[act]), np.where(left, d[act], b[act])
        new_c, new_d = bb - inv * (bb - aa), aa + inv * (bb - aa)
        t_new = np.where(left, new_c, new_d)
        f_new = _chi2(model, lik, parameter, fixed, masses[act], 10.0**t_new)
        c_old, fc_old, d_old, fd_old = c[act], fc[act], d[act], fd[act]
        a[act], b[act] = aa, bb
        c[act] = np.where(left, new_c, d_old)
        fc[act] = np.where(left, f_new, fd_old)
        d[act] = np.where(left, c_old, new_d)
        fd[act] = np.where(left, fc_old, f_new)
    take_c = fc <= fd
    return np.where(take_c, c, d), np.where(take_c, fc, fd)


def _illinois_roots(F, a, b):
    """Roots of F (vectorised over elements; F(idx, t) evaluates the elements ``idx`` at
    ``t``) in brackets [a, b] with F(a) < 0 <= F(b), by the Illinois variant of regula
    falsi, each element until its bracket or its step is below :data:`ROOT_XTOL`."""
    a, b = a.copy(), b.copy()
    all_idx = np.arange(a.size)
    fa, fb = F(all_idx, a), F(all_idx, b)
    side = np.zeros(a.size, dtype=int)  # which end was kept last (-1: a, +1: b)
    x = 0.5 * (a + b)
    active = np.ones(a.size, dtype=bool)
    for _ in range(200):
        act = np.flatnonzero(active)
        if act.size == 0:
            break
        xa, xb, ya, yb = a[act], b[act], fa[act], fb[act]
        xn = xb - yb * (xb - xa) / (yb - ya)
        bad = ~((xn > xa) & (xn < xb))
        xn = np.where(bad, 0.5 * (xa + xb), xn)
        fx = F(act, xn)
        step = np.abs(xn - x[act])
        x[act] = xn
        up = fx >= 0  # the crossing is below xn: it becomes b
        b[act] = np.where(up, xn, xb)
        fb[act] = np.where(up, fx, yb)
        a[act] = np.where(up, xa, xn)
        fa[act] = np.where(up, ya, fx)
        # Illinois: an end kept twice in a row has its value halved
        keep_a, keep_b = up, ~up
        fa[act] = np.where(keep_a & (side[act] == -1), 0.5 * fa[act], fa[act])
        fb[act] = np.where(keep_b & (side[act] == 1), 0.5 * fb[act], fb[act])
        side[act] = np.where(keep_a, -1, 1)
        active[act] = (b[act] - a[act] > ROOT_XTOL) & (step > 0.1 * ROOT_XTOL) & (fx != 0)
    return x


def _root_limits(model, lik, parameter, fixed, masses, threshold, g_min, g_max, per_decade):
    """Root-finding limits for all masses at once (see the module docstring): every step of
    the minimum refinement and of the bisection is one vectorised call for all masses."""
    n = max(math.ceil(per_decade * math.log10(g_max / g_min)), 2) + 1
    grid = np.concatenate([[0.0], np.geomspace(g_min, g_max, n)])
    c = _chi2(model, lik, parameter, fixed, masses[:, None], grid[None, :])
    limit = np.full(masses.size, np.nan)
    best = np.full(masses.size, np.nan)
    dz = np.full(masses.size, np.nan)
    method = ["none"] * masses.size
    finite = np.isfinite(c).all(axis=1)
    depends = finite & (np.ptp(np.where(np.isfinite(c), c, 0.0), axis=1)
                        > 1e-12 * np.maximum(1.0, np.abs(np.where(np.isfinite(c), c, 0.0)).max(axis=1)))
    idx = np.flatnonzero(depends)  # elsewhere chi2 does not depend on g
    if idx.size == 0:
        return limit, best, dz, method
    rows = c[idx]
    j = np.argmin(rows, axis=1)
    cmin = rows[np.arange(idx.size), j]
    ghat = grid[j]
    inner = (j > 0) & (j < grid.size - 1)
    if inner.any():
        k = np.flatnonzero(inner)
        jj = j[k]
        lo = np.where(jj > 1, np.log10(grid[np.maximum(jj - 1, 1)]), math.log10(g_min) - 3.0)
        hi = np.log10(grid[jj + 1])
        t_ref, c_ref = _refine_minima(model, lik, parameter, fixed, masses[idx[k]], lo, hi)
        better = c_ref < cmin[k]
        cmin[k[better]] = c_ref[better]
        ghat[k[better]] = 10.0 ** t_ref[better]
    best[idx] = ghat
    dz[idx] = rows[:, 0] - cmin
    above = (rows - cmin[:, None] >= threshold) & (grid[None, :] > ghat[:, None])
    has = above.any(axis=1)
    kk = np.argmax(above, axis=1)
    t_lo = np.full(idx.size, np.nan)
    t_hi = np.full(idx.size, np.nan)
    for r in np.flatnonzero(has):  # brackets; a crossing below the grid walks down
        k = int(kk[r])
        g_hi, g_lo = grid[k], max(grid[k - 1], ghat[r])
        if g_lo <= 0.0:
            m = masses[idx[r]]
            g_lo = g_min
            for _ in range(6):
                if float(_chi2(model, lik, parameter, fixed, m, g_lo)) - cmin[r] < threshold:
                    break
                g_hi, g_lo = g_lo, g_lo * 1e-3
            else:
                continue
        t_lo[r], t_hi[r] = math.log10(g_lo), math.log10(g_hi)
    ok = np.flatnonzero(np.isfinite(t_lo))
    if ok.size:
        m_ok, target = masses[idx[ok]], cmin[ok] + threshold

        def F(sel, t):
            return _chi2(model, lik, parameter, fixed, m_ok[sel], 10.0**t) - target[sel]

        limit[idx[ok]] = 10.0 ** _illinois_roots(F, t_lo[ok], t_hi[ok])
        for r in ok:
            method[idx[r]] = "root"
    return limit, best, dz, method


# --- terms profiled in their rate (e.g. the full Belle II likelihood) ------------------------

def _rate_terms(lik) -> list:
    """The terms of ``lik`` that declare ``rate_profile`` (chi2 a function of the product of
    their observables at fixed m_X, not homogeneous in it)."""
    return [t for t in lik.terms if getattr(t, "rate_profile", False)]


#: Relative tolerance of the crossing in the rate (secant steps; the next iterate's error
#: is far below it): 1e-9, three orders below the 1e-6 to which limits are reproducible.
RATE_RTOL = 1e-9
#: Couplings at which :class:`_RateCurve` checks that the predictions are powers of g.
REF_COUPLINGS = G_REF * np.array([1.0, 2.0, 4.0])


class _RateCurve:
    """chi2(g) = h(B(g)) + f(g) at one mass: ``h`` the rate term as a function of its rate B
    (the product of its observables), every evaluation kept (keyed by B); ``f`` the other
    terms (cheap, vectorised).  ``known``: [(g, h), ...] from an earlier computation at this
    mass with the same model (e.g. the rate term's own limit, reused for ``combined``).

    Where every prediction of the model is a power of g at this mass (checked at three
    couplings; e.g. rates proportional to g^2, B(X -> invisible) independent of g) the
    predictions at any g are computed from that power law instead of calling the model."""

    def __init__(self, model, term, rest, parameter, fixed, mX, known=(), pred=None):
        self.model, self.term, self.rest = model, term, rest
        self.parameter, self.fixed, self.mX = parameter, dict(fixed), float(mX)
        self.obs = tuple(term.observables)
        if pred is None:  # predictions at REF_COUPLINGS
            pred = self._predict(REF_COUPLINGS)
        self.laws = self._power_laws(pred)
        b = np.ones(3)
        for o in self.obs:
            b = b * np.real(np.asarray(pred[o]))
        with np.errstate(divide="ignore", invalid="ignore"):
            k1, k2 = np.log2(b[1] / b[0]), np.log2(b[2] / b[1])
        # B(g) = B(g_ref) (g / g_ref)^k when the model says so (checked at three couplings)
        self.power = (float(b[0]), float(k1)) if (
            np.all(np.isfinite(b)) and b[0] > 0 and np.isfinite(k1) and k1 > 0 and abs(k1 - k2) < 1e-9) else None
        self.h: dict[float, float] = {}
        self.gs: list[float] = []
        self._b: list[float] = []
        self._b_of_g: dict[float, float] = {}
        for g, v in known:
            b = self.rate(float(g))
            self.h[b] = float(v)
            self.gs.append(float(g))
            self._b.append(b)
            self._b_of_g[float(g)] = b

    def _predict(self, g):
        g = np.asarray(g, dtype=float)
        return self.model.predict(np.full(g.shape, self.mX), **{
            **{k: np.full(g.shape, v) for k, v in self.fixed.items()}, self.parameter: g})

    @staticmethod
    def _power_laws(pred):
        """{key: (value at g_ref, power)} (power 0: independent of g), or None if some
        prediction is not a power of g."""
        laws = {}
        for key, v in pred.items():
            v = np.broadcast_to(np.asarray(v), (3,))
            if np.iscomplexobj(v):
                return None
            if np.array_equal(v, np.full(3, v[0]), equal_nan=True):
                laws[key] = (float(v[0]), 0.0)
                continue
            if not (np.all(np.isfinite(v)) and (np.all(v > 0) or np.all(v < 0))):
                return None
            k1, k2 = np.log2(v[1] / v[0]), np.log2(v[2] / v[1])
            if not abs(k1 - k2) < 1e-9:
                return None
            laws[key] = (float(v[0]), float(k1))
        return laws

    def predictions(self, g) -> dict:
        """The model's predictions at couplings ``g`` (array) at this mass."""
        g = np.asarray(g, dtype=float)
        if self.laws is None:
            return self._predict(g)
        x = g / G_REF
        with np.errstate(divide="ignore"):
            return {k: (np.full(g.shape, c) if p == 0.0 else c * x**p) for k, (c, p) in self.laws.items()}

    def rate(self, g: float) -> float:
        if self.power is not None:
            b_ref, k = self.power
            return b_ref * (g / G_REF) ** k
        pred = self._predict(np.array([g]))
        out = 1.0
        for o in self.obs:
            out *= float(np.real(np.asarray(pred[o]))[0])
        return out

    def h_at(self, g: float, b: float | None = None) -> float:
        """chi2 of the rate term at coupling g (its rate ``b`` if known)."""
        if b is None:
            b = self._b_of_g.get(g)
            b = self.rate(g) if b is None else b
        if b not in self.h:
            pred = {"mX": np.array([self.mX]), self.obs[0]: np.array([b]),
                    **{o: np.ones(1) for o in self.obs[1:]}}
            self.h[b] = float(np.asarray(self.term.chi2(pred)).ravel()[0])
            self.gs.append(float(g))
            self._b.append(b)
            self._b_of_g[float(g)] = b
        return self.h[b]

    def f_at(self, g) -> np.ndarray:
        g = np.asarray(g, dtype=float)
        if self.rest is None:
            return np.zeros(g.shape)
        return np.asarray(self.rest.chi2(self.predictions(g)), dtype=float) * np.ones(g.shape)

    def __call__(self, g: float) -> float:
        return self.h_at(g) + float(self.f_at(g))

    def known(self) -> list[list[float]]:
        """[(g, h)] of every evaluation (to reuse at this mass)."""
        return [[g, self.h[b]] for g, b in zip(self.gs, self._b)]


def _parabolic_min(F, pts, rtol=1e-6, ftol=1e-10, max_iter=60):
    """Minimum of F by successive parabolic interpolation through the three lowest points,
    safeguarded by golden sections inside the bracket around the best point.
    ``pts``: evaluated [(x, F(x))] containing a bracket (an inner point below both ends).
    Stops when the parabola's vertex moves the best point by less than ``rtol`` (relative)
    or lies less than ``ftol`` below it (profile chi2 values are exact to ~1e-9 only)."""
    pts = sorted(pts)
    for _ in range(max_iter):
        j = min(range(1, len(pts) - 1), key=lambda i: pts[i][1])
        x1, f1 = pts[j]
        lo, hi = pts[j - 1][0], pts[j + 1][0]
        (a0, g0), (a1, g1), (a2, g2) = sorted(sorted(pts, key=lambda e: e[1])[:3])
        curv = ((g2 - g1) / (a2 - a1) - (g1 - g0) / (a1 - a0)) / (a2 - a0)
        x = math.nan
        if curv > 0:
            # vertex of the parabola through the three lowest points
            num = (a1 - a0) ** 2 * (g1 - g2) - (a1 - a2) ** 2 * (g1 - g0)
            den = (a1 - a0) * (g1 - g2) - (a1 - a2) * (g1 - g0)
            x = a1 - 0.5 * num / den if den != 0 else math.nan
        if not (lo < x < hi) or not math.isfinite(x):
            x = x1 + 0.381966 * ((hi - x1) if hi - x1 > x1 - lo else (lo - x1))
            curv = math.inf
        if abs(x - x1) <= rtol * abs(x1) or curv * (x - x1) ** 2 < ftol:
            return x1, f1
        pts = sorted([*pts, (x, F(x))])
    j = min(range(len(pts)), key=lambda i: pts[i][1])
    return pts[j]


def _secant_root(T, x_a, f_a, x_b, lo, hi, rtol):
    """Root of T (increasing through it) by secant steps from (x_a, T(x_a)) and the trial
    x_b, kept inside the bracket (T(lo) < 0, T(hi) >= 0 or hi None) by bisection or
    doubling; returns the next iterate once a step is below ``rtol`` (relative)."""
    for _ in range(100):
        f_b = T(x_b)
        if f_b >= 0:
            hi = x_b
        else:
            lo = max(lo, x_b)
        x_n = x_b - f_b * (x_b - x_a) / (f_b - f_a) if f_b != f_a else math.nan
        if not math.isfinite(x_n) or x_n <= lo or (hi is not None and x_n >= hi):
            x_n = 0.5 * (lo + hi) if hi is not None else 2.0 * x_b
        if abs(x_n - x_b) <= rtol * abs(x_b):
            return x_n
        x_a, f_a, x_b = x_b, f_b, x_n
    raise ConvergenceError("the limit crossing did not converge")


def _rate_limit(curve: _RateCurve, threshold, g_min, g_max, guess: float | None, hat_ratio: float | None = None):
    """(limit, best fit, chi2(0) - chi2_min, method) at one mass from a :class:`_RateCurve`,
    or None where the crossing is not found near the guess (then the grid method decides).

    chi2 is assumed unimodal in g >= 0 (true for the profile likelihood of a signal rate,
    alone or plus half-Gaussian limits):

    * minimum: probes at ``hat_ratio`` (the best fit over the limit at the previous mass;
      default 0.3) x the guess (the limit of the previous mass, or of the rate term alone),
      then 10 x lower each, until one lies below chi2(0) (a preference for
      signal) or within 1e-10 of it (none: the minimum is at g = 0); a dip is refined by
      successive parabolic interpolation in the rate B (near-quadratic in B), until the
      parabola promises less than 1e-10 in chi2 or 1e-6
      relative in B;
    * crossing chi2 = chi2_min + threshold: the parabola through the minimum and the
      nearest evaluated point predicts it, secant steps in B refine it until a step is below
      :data:`RATE_RTOL` (1e-9) relative.

    Without a power law B(g) the minimum is refined in log10 g (bounded Brent) and the
    crossing bracketed by steps from the guess and solved with ``brentq`` in g.
    """
    c0 = curve(0.0)
    if guess is None or not (guess > 0 and math.isfinite(guess)):
        # the first mass: the first point of the coarse grid threshold above chi2(0), by an
        # exponential search from the middle of the grid and bisection (the largest couplings,
        # where a profile fit may struggle, are rarely evaluated)
        n = max(math.ceil(2 * math.log10(g_max / g_min)), 2) + 1
        grid = np.geomspace(g_min, g_max, n)

        def above(i):
            return curve(float(grid[i])) - c0 >= threshold

        lo_i, hi_i, i, step = -1, None, n // 2, 1
        while hi_i is None:
            if above(i):
                hi_i = i
            else:
                lo_i = i
                if i == n - 1:
                    return None
                i, step = min(i + step, n - 1), 2 * step
        step = 1
        while lo_i == -1 and hi_i > 0:
            i = max(hi_i - step, 0)
            if above(i):
                hi_i, step = i, 2 * step
            else:
                lo_i = i
        while hi_i - lo_i > 1:
            mid = (lo_i + hi_i) // 2
            if above(mid):
                hi_i = mid
            else:
                lo_i = mid
        guess = float(grid[hi_i])
    # --- the minimum
    cmin, ghat = c0, 0.0
    ladder, dip = [], None
    p = (hat_ratio if hat_ratio is not None and 1e-3 < hat_ratio < 0.9 else 0.3) * guess
    while p >= g_min * 1e-3:
        v = curve(p) - c0
        ladder.append(p)
        if v < 0:
            dip = p
            break
        if v < 1e-10:
            break
        p *= 0.1
    right = None
    if dip is not None:
        right = ladder[-2] if len(ladder) > 1 else guess
        while curve(right) <= curve(dip) and right < g_max:
            right *= 3.0
    if curve.power is not None:
        return _rate_limit_in_rate(curve, threshold, g_max, guess, c0, dip, right)
    if dip is not None:
        res = optimize.minimize_scalar(lambda t: curve(10.0**t), method="bounded", options={"xatol": 1e-6},
                                       bounds=(math.log10(dip) - 3.0, math.log10(right)))
        cmin, ghat = curve(dip), dip
        if res.fun < cmin:
            cmin, ghat = float(res.fun), float(10.0**res.x)
    thr = cmin + threshold

    def T(g):
        return curve(g) - thr

    lo, hi = ghat, None
    for g in sorted(g for g in curve.gs if g > ghat):
        if T(g) >= 0:
            hi = g
            break
        lo = g
    if hi is None:
        g1 = max(guess, lo * 1.01) if lo > 0 else guess
        step = 1.02
        while True:
            if g1 >= g_max:
                if T(g_max) < 0:
                    return float("nan"), ghat, c0 - cmin, "none"
                hi = g_max
                break
            if T(g1) >= 0:
                hi = g1
                break
            lo, g1, step = g1, g1 * step, step * step
    if lo == ghat:  # nothing known between the minimum and the crossing: step down from hi
        g1, step = hi / 1.02, 1.02
        while True:
            if g1 <= ghat:  # chi2(ghat) = chi2_min: below the crossing
                break
            if g1 < g_min * 1e-3:
                return None
            if T(g1) < 0:
                lo = g1
                break
            hi, g1, step = g1, g1 / step, step * step
    r = optimize.brentq(T, lo, hi, xtol=1e-11 * math.log(10.0) * lo, rtol=4 * np.finfo(float).eps)
    return float(r), ghat, c0 - cmin, "root"


def _rate_limit_in_rate(curve: _RateCurve, threshold, g_max, guess, c0, dip, right):
    """:func:`_rate_limit` where B(g) = B_ref (g / g_ref)^k: minimum and crossing in B."""
    b_ref, k = curve.power

    def g_of(b):
        return G_REF * (max(b, 0.0) / b_ref) ** (1.0 / k)

    def F(b):
        g = g_of(b)
        return curve.h_at(g, b) + float(curve.f_at(g))

    bhat, cmin = 0.0, c0
    if dip is not None:
        pts = [(0.0, c0), (curve.rate(dip), curve(dip)), (curve.rate(right), curve(right))]
        bhat, cmin = _parabolic_min(F, pts)
    thr = cmin + threshold
    b_max = curve.rate(g_max)
    bs = np.array(sorted(b for b in curve.h if b > bhat))
    tv = np.array([curve.h[b] for b in bs]) + curve.f_at(np.array([g_of(b) for b in bs])) - thr
    known = list(zip(bs.tolist(), tv.tolist()))
    lo, hi = bhat, None
    for b, t in known:
        if t >= 0:
            hi = b
            break
        lo = b
    # the nearest evaluated point to the crossing, and the parabola through the minimum
    cands = [(b, t) for b, t in known if b in (lo, hi) and b > bhat]
    if not cands:
        b = max(curve.rate(guess), 2.0 * bhat)
        cands = [(b, F(b) - thr)]
        if cands[0][1] >= 0:
            hi = b
        else:
            lo = b
    b_a, t_a = min(cands, key=lambda c: abs(c[1]))
    scale = (t_a + threshold) / threshold
    x0 = bhat + (b_a - bhat) / math.sqrt(scale) if scale > 0 else 2.0 * b_a
    if hi is None and x0 > b_max:
        if F(b_max) - thr < 0:
            return float("nan"), g_of(bhat), c0 - cmin, "none"
        hi = b_max
    if not (lo < x0 and (hi is None or x0 < hi)):
        x0 = 0.5 * (lo + hi) if hi is not None else 2.0 * max(lo, b_a)
    b_root = _secant_root(lambda b: F(b) - thr, b_a, t_a, x0, lo, hi, rtol=RATE_RTOL)
    return g_of(b_root), g_of(bhat), c0 - cmin, "root"


def _limits_at(model, lik, par, fixed, thr, masses, g_min, g_max, per_decade, known=None, guesses=None,
               slow=False):
    """Limits at ``masses``: closed form where exact, else root finding; masses where a
    rate-profile term applies are done one by one (:func:`_rate_limit`, warm-started from
    the previous mass).  Returns (limit, method, best, dz, known): ``known`` is
    {index: [(g, chi2 of the rate term)]} at those masses."""
    limit = np.full(masses.size, np.nan)
    method = ["none"] * masses.size
    best = np.full(masses.size, np.nan)
    dz = np.full(masses.size, np.nan)
    rate = _rate_terms(lik)
    applies = np.zeros(masses.size, dtype=bool)
    for t in rate:
        applies |= np.asarray(t.applies(masses), dtype=bool)
    if len(rate) > 1:  # several rate terms at once: the general method
        applies[:] = False
    out_known: dict[int, list] = {}
    plain = np.flatnonzero(~applies)
    if plain.size:
        ms = masses[plain]
        lim, homog, flat = _closed_form(model, lik, par, fixed, ms, thr)
        limit[plain] = lim
        best[plain] = np.where(homog, 0.0, np.nan)
        dz[plain] = np.where(homog, 0.0, np.nan)
        for i, h in zip(plain, homog):
            method[i] = "closed-form" if h else "none"
        rest = plain[~homog & ~flat]
        if rest.size:
            # slow likelihoods (warm-started point to point) one mass at a time; the result of
            # each mass does not depend on the batch it is computed in
            for part in ([rest[j:j + 1] for j in range(rest.size)] if slow else [rest]):
                l2, b2, d2, m2 = _root_limits(model, lik, par, fixed, masses[part], thr, g_min, g_max, per_decade)
                limit[part], best[part], dz[part] = l2, b2, d2
                for i, mm in zip(part, m2):
                    method[i] = mm
    if applies.any():
        term = rate[0]
        others = [t for t in lik.terms if t is not term]
        rest_lik = CombinedLikelihood(others) if others else None
        guess, ratio = None, None
        idx = np.flatnonzero(applies)
        allpred = model.predict(np.repeat(masses[idx], 3), **{
            **{k: np.full(3 * idx.size, v) for k, v in fixed.items()}, par: np.tile(REF_COUPLINGS, idx.size)})
        for n, i in enumerate(idx):
            pred = {k: np.broadcast_to(np.asarray(v), (3 * idx.size,))[3 * n:3 * n + 3] for k, v in allpred.items()}
            curve = _RateCurve(model, term, rest_lik, par, fixed, masses[i], (known or {}).get(int(i), ()), pred)
            g_i = guess  # the previous mass; else the given guess (e.g. the rate term's own limit)
            if g_i is None and guesses is not None and np.isfinite(guesses[i]):
                g_i = float(guesses[i])
            res = _rate_limit(curve, thr, g_min, g_max, g_i, ratio)
            if res is None:  # not bracketed near the guess: the grid method at this mass
                l2, b2, d2, m2 = _root_limits(model, lik, par, fixed, masses[i:i + 1], thr, g_min, g_max,
                                              per_decade)
                res = (float(l2[0]), float(b2[0]), float(d2[0]), m2[0])
            limit[i], best[i], dz[i], method[i] = res
            out_known[int(i)] = curve.known()
            if np.isfinite(limit[i]):
                guess = float(limit[i])
                ratio = float(best[i]) / guess if np.isfinite(best[i]) and best[i] > 0 else None
    limit = np.where(limit <= g_max, limit, np.nan)
    for i in np.flatnonzero(~np.isfinite(limit)):
        method[i] = "none"
    return limit, method, best, dz, out_known


def _limit_chunk(task: Mapping[str, Any]) -> dict:
    """Limits at the masses of one chunk.  If the likelihood does not converge (e.g. a
    profile fit inside a term, :class:`~xfit.errors.ConvergenceError`), the masses are
    redone one by one and a mass that still fails gets no limit and the method
    ``"failed: <reason>"``.  Other errors (missing data, bad input) propagate.

    ``task["known"]`` (optional): per mass of the chunk, the evaluations [(g, chi2)] of the
    rate-profile term made earlier (its own limit); ``task["guesses"]``: per mass, a first
    guess of the limit.  The result carries ``known`` for the masses of a rate-profile term."""
    model, lik = task["model"], resolve_likelihood(task["likelihood"])
    args = (model, lik, task["parameter"], task["fixed"], task["threshold"])
    rest = (task["g_min"], task["g_max"], task["per_decade"])
    masses = np.asarray(task["masses"], dtype=float)
    slow = bool(task.get("slow", False))
    given = task.get("known")
    known = {i: v for i, v in enumerate(given) if v} if given else None
    guesses = None if task.get("guesses") is None else np.array(
        [np.nan if v is None else v for v in task["guesses"]], dtype=float)
    out_known: list = [[] for _ in masses]
    try:
        limit, method, best, dz, kn = _limits_at(*args, masses, *rest, known, guesses, slow)
        for i, v in kn.items():
            out_known[i] = v
    except ConvergenceError:
        limit, best, dz = (np.full(masses.size, np.nan) for _ in range(3))
        method = []
        for i, _m in enumerate(masses):
            try:
                k1 = {0: known[i]} if known and i in known else None
                g1 = None if guesses is None else guesses[i : i + 1]
                l1, m1, b1, d1, kn = _limits_at(*args, masses[i : i + 1], *rest, k1, g1, slow)
                limit[i], best[i], dz[i] = l1[0], b1[0], d1[0]
                method.append(m1[0])
                out_known[i] = kn.get(0, [])
            except ConvergenceError as exc:
                method.append(f"failed: {type(exc).__name__}: {exc}")
    out = {"limit": limit.tolist(), "method": method, "best_fit": best.tolist(), "delta_chi2_zero": dz.tolist()}
    if any(out_known):
        out["known"] = out_known
    return out


def _merged_chunks(tasks, store, callback) -> list:
    """:func:`_limit_chunk` for a fast likelihood: the chunks not yet in ``store`` computed in
    one vectorised pass (every step of the root finding is then one call for all their
    masses; each mass's result does not depend on the others), then stored chunk by chunk."""
    done = dict(store.completed()) if store is not None else {}
    todo = [i for i in range(len(tasks)) if i not in done]
    if todo:
        merged = {**tasks[todo[0]], "masses": np.concatenate([np.asarray(tasks[i]["masses"], float) for i in todo])}
        for key in ("known", "guesses"):
            if tasks[todo[0]].get(key) is not None:
                merged[key] = [v for i in todo for v in tasks[i][key]]
        res = _limit_chunk(merged)
        start = 0
        for i in todo:
            n = len(tasks[i]["masses"])
            part = {k: v[start:start + n] for k, v in res.items()}
            start += n
            if store is not None:
                part = store.append(i, part)
            done[i] = part
            if callback is not None:
                callback(i, part)
    return [done[i] for i in range(len(tasks))]


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


def _guess(g) -> float | None:
    """One entry of ``coupling_limit(guesses=...)`` as a float (None or non-finite: no guess)."""
    if g is None:
        return None
    try:
        return float(g)
    except (TypeError, ValueError):
        raise InputError(f"guesses must be numbers (limits of g) or None, got {str(g)[:80]!r}") from None


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
    known: Sequence | None = None,
    guesses: Sequence | None = None,
    slow: bool | None = None,
) -> CouplingLimit:
    """Upper limit at ``cl`` on ``parameter`` of ``model`` versus m_X (``masses`` in GeV).

    ``executor`` (default local processes) is used only when the likelihood is slow (more
    than ``slow_seconds`` per evaluation); fast likelihoods run in the calling process,
    vectorised.  The result never depends on the executor.  ``seed`` is recorded only (the
    computation is deterministic).  ``known`` (per mass, [(g, chi2)] of the likelihood's
    rate-profile term, e.g. ``rate_evaluations`` of its own limit with the same model) and
    ``guesses`` (per mass, a first guess of the limit) only save evaluations.  ``slow``
    (True/False) says whether the likelihood is slow instead of timing it (None: slow if one
    of its terms declares ``slow``, else timed).
    """
    t0 = time.perf_counter()
    fixed = dict(fixed or {})
    parameter = _model_parameter(model, parameter, fixed)
    try:
        masses = np.asarray(masses, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"masses must be finite numbers > 0 GeV, got {str(masses)[:80]!r}") from None
    if masses.size == 0 or not np.all(np.isfinite(masses)) or np.any(masses <= 0):
        raise InputError(f"masses must be finite numbers > 0 GeV, got {str(masses)[:80]!r}")
    for what, per_mass in (("known", known), ("guesses", guesses)):
        if per_mass is not None and (isinstance(per_mass, str) or not hasattr(per_mass, "__len__")):
            raise InputError(f"{what} must be a list with one entry per mass ({masses.size}), "
                             f"got {str(per_mass)[:80]!r}")
        if per_mass is not None and len(per_mass) != masses.size:
            raise InputError(f"{what} must have one entry per mass ({masses.size}), got {len(per_mass)}")
    if guesses is not None:  # a first guess per mass; None or non-finite: no guess
        guesses = [_guess(g) for g in guesses]
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
    chunk_size = require_chunk_size(chunk_size)
    thr = chi2_threshold_one_sided(cl)
    name = name or "+".join(likelihood.names)
    frozen = freeze(likelihood)  # before any evaluation: every chunk starts from this state
    scratch = frozen.thaw() if frozen is not None else likelihood  # for probes and timing
    spans = chunk_indices(masses.size, chunk_size)
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
        "chunk_size": chunk_size,
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
        {"mX": masses, "chunk_size": chunk_size},
        parameter=parameter,
        fixed=fixed,
        cl=cl,
        threshold_delta_chi2=thr,
        convention="one-sided half-Gaussian: Delta chi2 = [Phi^-1(CL)]^2 from the minimum over g >= 0",
    )
    st = open_store(
        store, definition, metadata, overwrite=overwrite, on_mismatch=on_mismatch, chunk_sizes=[b - a for a, b in spans]
    )
    if slow is not None and not isinstance(slow, (bool, np.bool_)):
        raise InputError(f"slow must be True, False or None (timed), got {str(slow)[:80]!r}")
    if slow is None:  # a term that declares itself slow is not timed
        slow = (any(getattr(t, "slow", False) for t in likelihood.terms)
                or seconds_per_point(model, scratch, parameter, fixed, masses) > slow_seconds)
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
                "slow": bool(slow),
                "known": None if known is None else [list(k or ()) for k in known[a:b]],
                "guesses": None if guesses is None else [None if g is None or not np.isfinite(g) else float(g)
                                                         for g in guesses[a:b]],
            }
            for a, b in spans
        ]
        if slow:
            results = run_chunks(
                _limit_chunk, tasks, pool, store=st, progress=progress, desc=f"limits {name}", callback=callback
            )
        else:
            results = _merged_chunks(tasks, st, callback)

    def cat(key):
        return [v for r in results for v in r[key]]

    metadata["elapsed_s"] = round(time.perf_counter() - t0, 3)
    metadata["executor"] = FAST_EXECUTOR if not slow else repr(executor or "process")
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
        rate_evaluations=[k for r in results for k in (r.get("known") or [[] for _ in r["limit"]])],
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
    None to skip) for the sum of all of them.  ``store_dir``: one resumable file per search.
    The combination evaluates every search's terms, so it is slow if one of them is (not
    timed again: a profile-fit term's probe fits are the costly ones)."""
    out = {}
    items = list(searches.items())
    if combined:
        if combined in searches:
            raise InputError(f"a search is named {combined!r}, the name of the combination")
        items.append((combined, CombinedLikelihood([t for _, lik in searches.items() for t in lik.terms])))
    for name, lik in items:
        store = None if store_dir is None else Path(store_dir) / f"limits_{name}.jsonl"
        reuse = {}
        if name == combined:  # the rate-profile term's evaluations and limits, computed alone
            rate = _rate_terms(lik)
            alone = [n for n, s in searches.items() if len(rate) == 1 and s.terms == (rate[0],)]
            if alone and alone[0] in out and out[alone[0]].rate_evaluations:
                reuse = {"known": out[alone[0]].rate_evaluations, "guesses": out[alone[0]].limit}
            if "slow" not in kw and any(r.metadata.get("executor") != FAST_EXECUTOR for r in out.values()):
                reuse["slow"] = True
        out[name] = coupling_limit(model, lik, masses, cl=cl, name=name, store=store, **kw, **reuse)
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


__all__ = [
    "G_MAX",
    "G_MIN",
    "CouplingLimit",
    "coupling_for_anomalon_mass",
    "coupling_limit",
    "direct_search_bound",
    "limits_by_search",
    "naturalness_bound",
    "seconds_per_point",
]
