"""Posterior of B+ -> K+ X (X invisible) in (m_X, B x P_inv) with every Belle II nuisance
marginalised, and the Bayes factor of SM + X against the SM.

Likelihood.  ln L_marg(m_X, B[, mu]) = ln int L d^231 theta over the nuisances of the Belle II
workspace, in the Laplace approximation (:mod:`xfit.belle2.laplace`; flat measure on the
nuisances, their constraint terms inside L).  The SM signal is fixed at mu = 1, or, with
``sm_free``, mu is a third sampled parameter.

Grid and interpolation.  ln L_marg is computed once on a grid and interpolated:

* in q^2 = m_X^2 the narrow-line templates are linear between the centres of the generated q^2
  bins (:func:`xfit.belle2.signal.line_weights`), so ln L_marg is smooth between those nodes and
  has kinks at them.  The grid holds every node inside the range (and, for Gamma_X > 0, every
  bin edge, where Breit-Wigner fractions of narrow widths change fastest) plus the midpoint of
  each interval; within an interval ln L_marg is the quadratic through its three values;
* in B: a cubic spline on ``n_BR`` equally spaced values 0 ... BR_max (warm-started Newton fits
  along B at each mass);
* in mu (``sm_free``): local cubic Lagrange interpolation on ``n_mu`` equally spaced values.

The interpolation error is measured against direct Laplace evaluations at points drawn from the
posterior (``interpolation_check`` in the summary).

Sampling.  dynesty (static nested sampling, :mod:`xfit.inference.nested`) gives ln Z of SM + X
and weighted posterior samples; emcee (differential-evolution moves, walkers started from the
nested-sampling posterior so that every mode is populated) gives the posterior samples that
are summarised.  ln Z_SM = ln L_marg(B = 0) (no free parameter) or, with ``sm_free``, the 1D
integral over the mu prior (trapezoid rule on 2001 points).  ln BF = ln Z_{SM+X} - ln Z_SM, with
dynesty's error.  A deterministic cross-check: the midpoint rule in the prior's unit square on
the mesh of the 2D posterior plot (``ln_bayes_factor.quadrature``).

Priors (declared in the summary): m_X uniform on [mX_min, mX_max] (default (0, 4.675) GeV, where
the Belle II signal efficiency is non-zero); B uniform on [0, BR_max] (default 1e-4) or
log-uniform on [BR_min, BR_max] (default BR_min 1e-8); mu (``sm_free``) uniform on [0, mu_max]
(default 10).  See docs/belle2_posterior.md.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

from ..errors import ConvergenceError, InputError, require_finite_number
from ..inference.priors import LogUniform, PriorSet, Uniform
from ..inference.progress import Progress
from . import files
from .laplace import LaplaceMarginal
from .signal import BR_UNIT, LAST_POPULATED_BIN, MX_NO_EFFICIENCY, Q2_CENTRES, Q2_HI, Q2_LO, KXModel, q2_max

PRIOR_KINDS = ("uniform", "log-uniform")
DEFAULT_BR_MAX = 1e-4
DEFAULT_BR_MIN = 1e-8
DEFAULT_MU_MAX = 10.0
DEFAULT_N_BR = 41
DEFAULT_N_MU = 7
GRID_FILE = "laplace_grid.npz"
CHAIN_FILE = "chain.h5"
NESTED_FILE = "dynesty.save"
SETTINGS_FILE = "settings.json"
SUMMARY_FILE = "posterior_summary.json"
#: emcee stores every THIN-th step.
THIN = 10
#: The largest --seed: it seeds emcee's numpy RandomState, whose seeding takes 0 .. 2**32 - 1
MAX_SEED = 2**32 - 1
#: Mesh of the 2D posterior (cells in the prior's unit square) and of the mu marginalisation.
MESH_MX, MESH_BR, MESH_MU = 600, 300, 24


def _number(v, flag: str) -> float:
    return require_finite_number(v, flag)


@dataclass(frozen=True)
class PosteriorSettings:
    """What defines a run (priors, width, SM treatment, grid); validated on construction."""

    mX_min: float = 0.0
    mX_max: float = MX_NO_EFFICIENCY
    prior_BR: str = "uniform"
    BR_min: float = DEFAULT_BR_MIN
    BR_max: float = DEFAULT_BR_MAX
    width: float = 0.0
    sm_free: bool = False
    mu_max: float = DEFAULT_MU_MAX
    n_BR: int = DEFAULT_N_BR
    n_mu: int = DEFAULT_N_MU

    def __post_init__(self):
        for name, flag in (("mX_min", "--mX-min"), ("mX_max", "--mX-max"), ("BR_min", "--BR-min"),
                           ("BR_max", "--BR-max"), ("width", "--width"), ("mu_max", "--mu-max")):
            object.__setattr__(self, name, _number(getattr(self, name), flag))
        if self.prior_BR not in PRIOR_KINDS:
            raise InputError(f"--prior-BR must be one of {', '.join(PRIOR_KINDS)}, got {str(self.prior_BR)[:80]!r}")
        if self.width < 0:
            raise InputError(f"--width must be >= 0 GeV, got {self.width:g}")
        top = MX_NO_EFFICIENCY if self.width == 0 else math.sqrt(q2_max())
        if self.mX_min < 0:
            raise InputError(f"--mX-min must be >= 0 GeV, got {self.mX_min:g}")
        if self.mX_max > top + 1e-12:
            what = "the Belle II efficiency ends" if self.width == 0 else "m_B - m_K"
            raise InputError(f"--mX-max must be <= {top:.4f} GeV ({what}), got {self.mX_max:g}")
        if not self.mX_min < self.mX_max:
            raise InputError(f"--mX-min must be below --mX-max, got {self.mX_min:g} and {self.mX_max:g}")
        if self.BR_max <= 0:
            raise InputError(f"--BR-max must be > 0, got {self.BR_max:g}")
        if self.BR_max > 1e-2:
            raise InputError(f"--BR-max must be <= 1e-2 (the fit bound of mu_X), got {self.BR_max:g}")
        if self.BR_min != DEFAULT_BR_MIN and not 0 < self.BR_min < self.BR_max:
            raise InputError(f"--BR-min must be in (0, --BR-max = {self.BR_max:g}), got {self.BR_min:g}")
        if self.prior_BR == "log-uniform" and not 0 < self.BR_min < self.BR_max:
            raise InputError(f"--BR-min must be in (0, --BR-max) for a log-uniform prior, got {self.BR_min:g}")
        if not self.mu_max > 0:
            raise InputError(f"--mu-max must be > 0, got {self.mu_max:g}")
        if int(self.n_BR) < 8:
            raise InputError(f"--n-BR must be at least 8, got {self.n_BR}")
        if int(self.n_mu) < 4:
            raise InputError(f"--n-mu must be at least 4, got {self.n_mu}")

    @property
    def names(self) -> tuple[str, ...]:
        return ("mX", "BR", "mu") if self.sm_free else ("mX", "BR")

    def priors(self) -> PriorSet:
        p = {"mX": Uniform(self.mX_min, self.mX_max),
             "BR": Uniform(0.0, self.BR_max) if self.prior_BR == "uniform" else LogUniform(self.BR_min, self.BR_max)}
        if self.sm_free:
            p["mu"] = Uniform(0.0, self.mu_max)
        return PriorSet(p)

    def declared_priors(self) -> dict:
        out = {"mX": {"kind": "uniform", "low": self.mX_min, "high": self.mX_max, "unit": "GeV"},
               "BR": ({"kind": "uniform", "low": 0.0, "high": self.BR_max} if self.prior_BR == "uniform" else
                      {"kind": "log-uniform", "low": self.BR_min, "high": self.BR_max}),
               "nuisances": "flat measure on the 231 nuisance parameters (constraint terms in the likelihood)"}
        out["BR"]["meaning"] = "B(B+ -> K+ X) x P_inv"
        if self.sm_free:
            out["mu"] = {"kind": "uniform", "low": 0.0, "high": self.mu_max,
                         "meaning": "B(B+ -> K+ nu nubar) / 4.97e-6"}
        else:
            out["mu"] = {"kind": "fixed", "value": 1.0}
        out["width"] = {"kind": "fixed", "value": self.width, "unit": "GeV"}
        return out

    def grid_key(self) -> dict:
        """The settings that determine the Laplace grid (a resumed grid must match them)."""
        d = asdict(self)
        for k in ("prior_BR", "BR_min"):
            d.pop(k)
        if not self.sm_free:
            d.pop("mu_max")
            d.pop("n_mu")
        return d

    def run_key(self) -> dict:
        """Everything that defines a run's results (a resumed run must match it)."""
        d = self.grid_key()
        d["prior_BR"] = self.prior_BR
        if self.prior_BR == "log-uniform":
            d["BR_min"] = self.BR_min
        return d


# --- the grid ------------------------------------------------------------------------------

def q2_breakpoints(settings: PosteriorSettings) -> np.ndarray:
    """q^2 values where ln L_marg may have kinks (template nodes) inside the range, with the ends."""
    lo, hi = settings.mX_min ** 2, settings.mX_max ** 2
    nodes = Q2_CENTRES[: LAST_POPULATED_BIN + 2]
    if settings.width > 0:
        nodes = np.union1d(nodes, np.union1d(Q2_LO, Q2_HI))
    inner = nodes[(nodes > lo + 1e-9) & (nodes < hi - 1e-9)]
    return np.concatenate([[lo], inner, [hi]])


def q2_grid(settings: PosteriorSettings) -> np.ndarray:
    """Breakpoints and the midpoint of every interval (2 k + 1 values for k intervals)."""
    b = q2_breakpoints(settings)
    g = np.empty(2 * len(b) - 1)
    g[0::2], g[1::2] = b, 0.5 * (b[:-1] + b[1:])
    return g


#: A Breit-Wigner needs m_X > 0: for Gamma_X > 0 the templates at m_X < MX_FLOOR are those of MX_FLOOR (GeV).
MX_FLOOR = 0.01


def template_mass(q2: float, width: float) -> float:
    """m_X at which the templates of grid value q^2 are evaluated (see :data:`MX_FLOOR`)."""
    m = math.sqrt(q2)
    return max(m, MX_FLOOR) if width > 0 else m


@dataclass
class LaplaceGrid:
    """ln L_marg on the grid: ``table[i_q2, i_BR(, i_mu)]``; ``done[i_q2]`` marks computed columns."""

    q2: np.ndarray
    mu_X: np.ndarray
    mu: np.ndarray
    table: np.ndarray
    done: np.ndarray
    n_failed: int = 0
    cpu_seconds: float = 0.0

    def save(self, path: Path, key: dict) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, q2=self.q2, mu_X=self.mu_X, mu=self.mu, table=self.table, done=self.done,
                 n_failed=self.n_failed, cpu_seconds=self.cpu_seconds, key=json.dumps(key, sort_keys=True))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, key: dict) -> LaplaceGrid | None:
        if not path.exists():
            return None
        with np.load(path) as z:
            if str(z["key"]) != json.dumps(key, sort_keys=True):
                return None
            return cls(z["q2"], z["mu_X"], z["mu"], z["table"], z["done"], int(z["n_failed"]), float(z["cpu_seconds"]))


def _fill_failed(col: np.ndarray, mu_X: np.ndarray) -> np.ndarray:
    """Fill NaN (failed fits, at large B) by linear extrapolation from the last two good values."""
    for j in range(col.shape[1]):
        c = col[:, j]
        bad = ~np.isfinite(c)
        if not bad.any():
            continue
        good = np.flatnonzero(~bad)
        if len(good) < 2:
            raise ConvergenceError("the Laplace grid has fewer than two converged values in a column")
        slope = (c[good[-1]] - c[good[-2]]) / (mu_X[good[-1]] - mu_X[good[-2]])
        slope = min(slope, 0.0)
        c[bad] = np.interp(mu_X[bad], mu_X[good], c[good])
        tail = bad & (np.arange(len(c)) > good[-1])
        c[tail] = c[good[-1]] + slope * (mu_X[tail] - mu_X[good[-1]])
    return col


def build_grid(settings: PosteriorSettings, kx: KXModel | None = None, path: Path | None = None,
               log: Callable[[str], None] | None = None, save_every: int = 10) -> LaplaceGrid:
    """Compute (or resume from ``path``) the Laplace grid of ``settings``."""
    key = settings.grid_key()
    grid = LaplaceGrid.load(path, key) if path is not None else None
    q2 = q2_grid(settings)
    mu_X = np.linspace(0.0, settings.BR_max / BR_UNIT, int(settings.n_BR))
    mu = np.linspace(0.0, settings.mu_max, int(settings.n_mu)) if settings.sm_free else np.array([1.0])
    if grid is None:
        grid = LaplaceGrid(q2, mu_X, mu, np.full((len(q2), len(mu_X), len(mu)), np.nan),
                           np.zeros(len(q2), dtype=bool))
    if grid.done.all():
        return grid
    kx = KXModel(sm_free=settings.sm_free) if kx is None else kx
    lap = LaplaceMarginal(kx)
    t0 = time.process_time()
    start_x = {}
    n_new = 0
    bar = Progress(len(q2), "xfit belle2 posterior: Laplace grid", unit="masses", initial=int(grid.done.sum()),
                   enabled=log is not None, log=log,
                   resume_hint="Ctrl-C keeps the finished masses; run again to resume")
    for i, q in enumerate(q2):
        if grid.done[i]:
            continue
        kx.set_mass(template_mass(q, settings.width), settings.width)
        col = np.full((len(mu_X), len(mu)), np.nan)
        for j, m in enumerate(mu):
            x, near = start_x.get(j), None
            for k, b in enumerate(mu_X):
                try:
                    pt = lap.at(b, m, init=x, near=near)
                except ConvergenceError:
                    grid.n_failed += 1
                    near = None
                    continue
                col[k, j] = pt.ln_marginal
                x, near = pt.x, pt
                if k == 0:
                    start_x[j] = pt.x
        grid.table[i] = _fill_failed(col, mu_X)
        grid.done[i] = True
        n_new += 1
        bar.update()
        if path is not None and n_new % save_every == 0:
            grid.cpu_seconds += time.process_time() - t0
            t0 = time.process_time()
            grid.save(path, key)
    bar.close()
    grid.cpu_seconds += time.process_time() - t0
    if path is not None:
        grid.save(path, key)
    return grid


# --- interpolation -------------------------------------------------------------------------

class MarginalSurface:
    """ln L_marg(m_X, B[, mu]) interpolated from a :class:`LaplaceGrid` (vectorised; picklable)."""

    def __init__(self, grid: LaplaceGrid):
        self.q2 = grid.q2
        self.breaks = grid.q2[0::2]
        self.mu_X = grid.mu_X
        self.mu = grid.mu
        spl = CubicSpline(grid.mu_X, grid.table, axis=1)
        self.c = spl.c  # (4, nB - 1, nq, nmu)
        self.sm_free = len(grid.mu) > 1

    def __call__(self, mX, BR, mu=None) -> np.ndarray:
        mX, BR = np.asarray(mX, float), np.asarray(BR, float)
        if mX.shape != BR.shape:
            mX, BR = np.broadcast_arrays(mX, BR)
        shape = mX.shape
        q2 = _clip(mX.reshape(-1) ** 2, self.breaks[0], self.breaks[-1])
        b = _clip(BR.reshape(-1) / BR_UNIT, self.mu_X[0], self.mu_X[-1])
        n = q2.size
        first = 2 * _clip(np.searchsorted(self.breaks, q2, side="right") - 1, 0, len(self.breaks) - 2)
        kb = _clip(np.searchsorted(self.mu_X, b, side="right") - 1, 0, len(self.mu_X) - 2)
        dx = (b - self.mu_X[kb])[:, None, None]
        cc = self.c[:, kb[:, None], first[:, None] + _THREE]  # (4, n, 3, nmu)
        vals = ((cc[0] * dx + cc[1]) * dx + cc[2]) * dx + cc[3]  # (n, 3, nmu)
        if self.sm_free:
            m = np.broadcast_to(np.asarray(1.0 if mu is None else mu, float), shape).reshape(-1)
            vals = _lagrange4(self.mu, vals, _clip(m, self.mu[0], self.mu[-1]))
        else:
            vals = vals[:, :, 0]
        x0, x1, x2 = self.q2[first], self.q2[first + 1], self.q2[first + 2]
        w0 = (q2 - x1) * (q2 - x2) / ((x0 - x1) * (x0 - x2))
        w1 = (q2 - x0) * (q2 - x2) / ((x1 - x0) * (x1 - x2))
        w2 = (q2 - x0) * (q2 - x1) / ((x2 - x0) * (x2 - x1))
        out = w0 * vals[:, 0] + w1 * vals[:, 1] + w2 * vals[:, 2]
        return out.reshape(shape) if shape else float(out[0]) if n == 1 else out


_THREE = np.arange(3)


def _clip(x, low, high):
    """``np.clip`` (the same values) without its overhead on the few points of a sampler's call."""
    return np.minimum(np.maximum(x, low), high)


def _lagrange4(nodes: np.ndarray, vals: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Cubic Lagrange interpolation in the last axis of ``vals`` (n, 3, k) at x (n,): the weight
    of node a is prod_{b != a} (x - x_b) / (x_a - x_b), the products taken in the order of b."""
    k = _clip(np.searchsorted(nodes, x, side="right") - 2, 0, len(nodes) - 4)
    idx = k[:, None] + _FOUR  # (n, 4)
    xs = nodes[idx]
    t = x[:, None]
    w = np.ones_like(xs)
    for j in range(1, 4):  # the j-th factor of every weight: b = j - 1 below a, b = j above
        b = _OTHER[j - 1]
        w = w * (t - xs[:, b]) / (xs - xs[:, b])
    v = np.take_along_axis(vals, idx[:, None, :], axis=2)  # (n, 3, 4)
    return ((w[:, 0, None] * v[:, :, 0] + w[:, 1, None] * v[:, :, 1]) + w[:, 2, None] * v[:, :, 2]) \
        + w[:, 3, None] * v[:, :, 3]


_FOUR = np.arange(4)
#: _OTHER[j - 1][a]: the node b of the j-th factor of node a's weight (b runs over 0..3 without a)
_OTHER = [np.where(j - 1 < _FOUR, j - 1, j) for j in range(1, 4)]


class SurfaceLogLikelihood:
    """ln L_marg of points (n, ndim) or (ndim,) in the order of :attr:`PosteriorSettings.names`."""

    def __init__(self, surface: MarginalSurface):
        self.surface = surface

    def __call__(self, theta):
        t = np.asarray(theta, float)
        one = t.ndim == 1
        t = np.atleast_2d(t)
        v = self.surface(t[:, 0], t[:, 1], t[:, 2] if t.shape[1] > 2 else None)
        v = np.atleast_1d(v)
        return float(v[0]) if one else v


class LogPosterior:
    """ln prior + ln L_marg, vectorised over walkers (picklable)."""

    def __init__(self, priors: PriorSet, lnl: SurfaceLogLikelihood):
        self.priors, self.lnl = priors, lnl

    def __call__(self, theta):
        t = np.atleast_2d(np.asarray(theta, float))
        lp = self.priors.logpdf(t)
        ok = np.isfinite(lp)
        out = np.full(len(t), -np.inf)
        if ok.any():
            out[ok] = lp[ok] + self.lnl(t[ok])
        return out


# --- evidence of the SM -------------------------------------------------------------------

def ln_evidence_sm(surface: MarginalSurface, settings: PosteriorSettings) -> float:
    """ln Z_SM: ln L_marg(B = 0) (mu = 1), or its average over the mu prior with ``sm_free``."""
    mX0 = math.sqrt(surface.breaks[0])
    if not settings.sm_free:
        return float(surface(mX0, 0.0))
    mu = np.linspace(0.0, settings.mu_max, 2001)
    v = np.asarray(surface(np.full_like(mu, mX0), np.zeros_like(mu), mu))
    top = v.max()
    return float(top + math.log(np.trapezoid(np.exp(v - top), mu) / settings.mu_max))


# --- the 2D posterior on a mesh ------------------------------------------------------------

@dataclass
class PosteriorMesh:
    """Posterior mass per cell of the prior's unit square in (m_X, B) (mu marginalised)."""

    mX: np.ndarray  # cell centres
    BR: np.ndarray
    mass: np.ndarray  # (n_mX, n_BR), sums to 1
    ln_z_quadrature: float  # ln int L pi (midpoint rule on the mesh)
    levels: dict  # {"68": threshold on mass per cell, "95": ...}


def posterior_mesh(surface: MarginalSurface, settings: PosteriorSettings,
                   n_mx: int = MESH_MX, n_br: int = MESH_BR, n_mu: int = MESH_MU) -> PosteriorMesh:
    priors = settings.priors()
    u_mx = (np.arange(n_mx) + 0.5) / n_mx
    u_br = (np.arange(n_br) + 0.5) / n_br
    mx = priors["mX"].ppf(u_mx)
    br = priors["BR"].ppf(u_br)
    M, B = np.meshgrid(mx, br, indexing="ij")
    if settings.sm_free:
        mus = priors["mu"].ppf((np.arange(n_mu) + 0.5) / n_mu)
        vals = np.stack([surface(M, B, np.full_like(M, m)) for m in mus], axis=-1)
        top = vals.max()
        lnl = top + np.log(np.mean(np.exp(vals - top), axis=-1))
    else:
        lnl = np.asarray(surface(M, B))
    top = lnl.max()
    w = np.exp(lnl - top)
    ln_z = float(top + math.log(w.mean()))
    mass = w / w.sum()
    order = np.sort(mass.ravel())[::-1]
    cum = np.cumsum(order)
    levels = {str(int(100 * cl)): float(order[min(np.searchsorted(cum, cl), len(order) - 1)]) for cl in (0.68, 0.95)}
    return PosteriorMesh(mx, br, mass, ln_z, levels)


def marginal_modes(mesh: PosteriorMesh, settings: PosteriorSettings) -> dict:
    """Modes of the 1D marginals on the mesh: per unit m_X, and per unit of the variable in which
    the B prior is flat (B, or ln B for the log-uniform prior)."""
    return {"mX": float(mesh.mX[np.argmax(mesh.mass.sum(axis=1))]),
            "BR": float(mesh.BR[np.argmax(mesh.mass.sum(axis=0))])}


# --- the run -------------------------------------------------------------------------------

def input_files() -> dict:
    from .. import __version__

    return {"xfit_version": __version__,
            "sha256": {name: files.sha256_of(files.find_file(name)) for name in files.FILES}}


def _check_out(out: Path, settings: PosteriorSettings, resume: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sfile = out / SETTINGS_FILE
    mine = json.dumps(settings.run_key(), sort_keys=True)
    if sfile.exists() and resume and sfile.read_text() != mine:
        raise InputError(f"--out {str(out)[:60]} holds a run with other settings; use another --out or --no-resume")
    if not resume:
        for name in (GRID_FILE, CHAIN_FILE, NESTED_FILE, SUMMARY_FILE):
            if (out / name).exists():
                (out / name).unlink()
    sfile.write_text(mine)


def run_emcee(logpost: LogPosterior, initial: np.ndarray, nsteps: int, seed: int, path: Path | None,
              log=None):
    """emcee with DE/DE-snooker moves; resumes an HDF5 chain at ``path``.

    Every :data:`THIN`-th step is stored (``nsteps`` counts all steps; writing each step to
    HDF5 would cost more than the sampling), through xfit's checkpointed backend
    (:func:`~xfit.inference.mcmc.backend.checkpointed_backend_class`: the stored steps written in
    batches at least once a second, each with its random state, so that a kill loses at most
    that batch and never the consistency of the file)."""
    import emcee
    import h5py

    from ..inference.mcmc.backend import checkpointed_backend_class

    nwalkers, ndim = initial.shape
    backend = None
    done = 0
    if path is not None:
        backend = checkpointed_backend_class()(str(path))
        try:
            done = backend.iteration
        except (OSError, KeyError):
            done = 0
        if done == 0:
            backend.reset(nwalkers, ndim)
        elif backend.shape != (nwalkers, ndim):
            raise InputError(f"the chain in {path.parent} has {backend.shape[0]} walkers; use --walkers "
                             f"{backend.shape[0]} to resume it, or --no-resume")
        else:
            with h5py.File(path, "r") as f:
                per_step_rows = "accepted_total" in f[backend.name]
            if not per_step_rows:  # written by emcee's own backend (an older xfit): continued with it
                backend = emcee.backends.HDFBackend(str(path))
    # emcee's moves and sampler without their loops over walkers (the same chain, bit for bit)
    from ..inference.mcmc import vectorised

    moves = [(vectorised.DEMove(), 0.8), (vectorised.DESnookerMove(), 0.2)]
    sampler = vectorised.EnsembleSampler(nwalkers, ndim, logpost, vectorize=True, moves=moves, backend=backend)
    sampler._random.seed(seed)  # noqa: SLF001 - emcee's documented way is a global seed; keep it local
    n_store = nsteps // THIN
    if done < n_store:
        start = backend.get_last_sample() if done > 0 else initial
        try:
            with Progress(n_store, "xfit belle2 posterior: emcee", unit=f"x{THIN} steps", initial=done,
                          enabled=log is not None, log=log) as bar:
                for _ in sampler.sample(start, iterations=n_store - done, progress=False, store=True,
                                        thin_by=THIN):
                    bar.update()
        finally:  # also on Ctrl-C: keep every stored step
            if hasattr(backend, "flush"):
                backend.flush()
    return sampler


@dataclass
class PosteriorResult:
    summary: dict
    samples: np.ndarray
    names: tuple[str, ...]
    mesh: PosteriorMesh
    surface: MarginalSurface


def _quantiles(x: np.ndarray) -> dict:
    q16, med, q84 = np.quantile(x, [0.16, 0.5, 0.84])
    return {"median": float(med), "q16": float(q16), "q84": float(q84)}


def interpolation_check(surface: MarginalSurface, settings: PosteriorSettings, points: np.ndarray,
                        kx: KXModel | None = None) -> dict:
    """Direct Laplace evaluations against the interpolated surface at ``points`` (n, ndim)."""
    kx = KXModel(sm_free=settings.sm_free) if kx is None else kx
    lap = LaplaceMarginal(kx)
    diffs = []
    for p in points:
        kx.set_mass(template_mass(float(p[0]) ** 2, settings.width), settings.width)
        direct = lap.at(float(p[1]) / BR_UNIT, float(p[2]) if settings.sm_free else 1.0).ln_marginal
        diffs.append(float(surface(p[0], p[1], p[2] if settings.sm_free else None)) - direct)
    d = np.abs(np.array(diffs))
    return {"n_points": int(len(d)), "max_abs_error": float(d.max()), "rms_error": float(np.sqrt(np.mean(d ** 2))),
            "where": "points drawn from the posterior"}


def run_posterior(settings: PosteriorSettings, out: str | os.PathLike | None = None, resume: bool = True,
                  nwalkers: int = 32, nsteps: int = 3000, burn: int | None = None, nlive: int = 1000,
                  n_check: int = 20, seed: int = 0, log: Callable[[str], None] | None = None,
                  kx: KXModel | None = None) -> PosteriorResult:
    """Grid -> dynesty evidence -> emcee posterior -> summary (and files in ``out``)."""
    from ..inference.mcmc.sampler import MAX_COUNT
    from ..inference.nested import min_live_points, nested_evidence

    t_cpu = time.process_time()
    outp = Path(out) if out is not None else None
    for flag, value in (("--steps", nsteps), ("--walkers", nwalkers), ("--nlive", nlive)):
        if isinstance(value, (int, np.integer)) and value > MAX_COUNT:
            raise InputError(f"{flag} must be at most {MAX_COUNT}, got {str(value)[:80]}")
    if nsteps < 10 * THIN or nsteps % THIN:
        raise InputError(f"--steps must be a multiple of {THIN} and at least {10 * THIN}, got {nsteps}")
    burn = nsteps // 4 if burn is None else int(burn)
    if not 0 <= burn < nsteps:
        raise InputError(f"--burn must be in [0, --steps), got {burn}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed must be an integer in [0, {MAX_SEED}], got {str(seed)[:80]}")
    ndim = len(settings.names)
    if nwalkers < 2 * ndim + 2 or nwalkers % 2:
        raise InputError(f"--walkers must be even and >= {2 * ndim + 2}, got {nwalkers}")
    if isinstance(nlive, bool) or not isinstance(nlive, (int, np.integer)) or nlive < min_live_points(ndim):
        raise InputError(f"--nlive must be an integer >= {min_live_points(ndim)}, got {nlive!r}")
    if outp is not None:  # after every check of the options: bad input leaves no folder behind
        _check_out(outp, settings, resume)
    if kx is None:
        kx = KXModel(sm_free=settings.sm_free)
    grid = build_grid(settings, kx, outp / GRID_FILE if outp else None, log=log)
    surface = MarginalSurface(grid)
    lnl = SurfaceLogLikelihood(surface)
    priors = settings.priors()
    if log is not None:
        log("nested sampling (dynesty) ...")
    nested = nested_evidence(lnl, priors, nlive=nlive, seed=seed,
                             checkpoint_file=outp / NESTED_FILE if outp else None, resume=resume)
    ln_z_sm = ln_evidence_sm(surface, settings)
    rng = np.random.default_rng(seed)
    post = nested.equal_weight_samples(rng)
    init = post[rng.choice(len(post), nwalkers, replace=len(post) < nwalkers)]
    init = init * (1.0 + 1e-6 * rng.standard_normal(init.shape))
    init[:, 1] = np.clip(init[:, 1], *priors["BR"].support)
    if log is not None:
        log("emcee ...")
    logpost = LogPosterior(priors, lnl)
    sampler = run_emcee(logpost, init, nsteps, seed, outp / CHAIN_FILE if outp else None, log=log)
    chain = sampler.get_chain(discard=burn // THIN, flat=False)
    flat = chain.reshape(-1, ndim)
    emcee_log = logging.getLogger("emcee")
    level = emcee_log.level
    emcee_log.setLevel(logging.ERROR)  # the short-chain warning: the estimate is reported as is
    try:
        tau = float(np.max(sampler.get_autocorr_time(discard=burn // THIN, quiet=True)))  # in stored steps
    except Exception:  # noqa: BLE001 - emcee raises on very short chains; fall back to no thinning
        tau = 1.0
    finally:
        emcee_log.setLevel(level)
    tau = max(tau, 1.0) if math.isfinite(tau) else float((nsteps - burn) // THIN)
    n_eff = int(flat.shape[0] / tau)
    mesh = posterior_mesh(surface, settings)
    modes = marginal_modes(mesh, settings)
    check_pts = flat[rng.choice(len(flat), min(n_check, len(flat)), replace=False)] if n_check else np.zeros((0, ndim))
    icheck = interpolation_check(surface, settings, check_pts, kx) if n_check else None
    summary = {name: {"mode": modes.get(name), **_quantiles(flat[:, i])} for i, name in enumerate(settings.names)}
    if settings.sm_free:
        summary["mu"]["mode"] = None
    summary["BR"]["mode_variable"] = "BR" if settings.prior_BR == "uniform" else "ln BR"
    summary.update({
        "ln_bayes_factor": {"value": nested.ln_z - ln_z_sm, "error": nested.ln_z_error,
                            "ln_evidence_SM_plus_X": nested.ln_z, "ln_evidence_SM": ln_z_sm,
                            "quadrature": mesh.ln_z_quadrature - ln_z_sm,
                            "meaning": "ln Z(SM + X) - ln Z(SM), nuisances marginalised (Laplace)"},
        "priors": settings.declared_priors(),
        "method": ("Laplace approximation of the 231-dimensional nuisance integral (exact Hessian at the "
                   "conditional minimum), interpolated on a grid in (m_X^2, B" + (", mu" if settings.sm_free else "")
                   + "); posterior by emcee (DE moves), evidence by dynesty nested sampling"),
        "n_effective": n_eff,
        "sampler": {"emcee": {"nwalkers": nwalkers, "nsteps": nsteps, "burn": burn, "thin": THIN,
                              "tau_max_stored_steps": tau,
                              "acceptance": float(np.mean(sampler.acceptance_fraction))},
                    "dynesty": nested.to_dict()},
        "laplace_grid": {"n_mX2": int(len(grid.q2)), "n_BR": int(len(grid.mu_X)), "n_mu": int(len(grid.mu)),
                         "n_failed_fits": int(grid.n_failed), "cpu_seconds": grid.cpu_seconds},
        "interpolation_check": icheck,
        "inputs": input_files(),
        "settings": asdict(settings),
        "cpu_seconds": time.process_time() - t_cpu,
    })
    res = PosteriorResult(summary, flat, settings.names, mesh, surface)
    if outp is not None:
        write_outputs(res, outp)
    return res


# --- files ---------------------------------------------------------------------------------

def write_outputs(res: PosteriorResult, out: Path) -> list[Path]:
    """``samples.csv``, ``posterior_2d.csv`` and the summary in ``out`` (the figures:
    :func:`xfit.plots.belle2_posterior.plot_posterior`)."""
    paths = []
    p = out / "samples.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([{"mX": "mX_GeV", "BR": "BR", "mu": "mu_SM"}[n] for n in res.names])
        w.writerows(res.samples.tolist())
    paths.append(p)
    mesh = res.mesh
    p = out / "posterior_2d.csv"
    with open(p, "w", newline="") as fh:
        fh.write(f"# posterior mass per cell of the prior's unit square in (mX, BR); cells of equal prior mass\n"
                 f"# HPD thresholds on the mass per cell: 68% {mesh.levels['68']:.6e}, 95% {mesh.levels['95']:.6e}\n")
        w = csv.writer(fh)
        w.writerow(["mX_GeV", "BR", "posterior_mass", "in_hpd68", "in_hpd95"])
        # the rows as csv.writer writes them (no field needs quoting), formatted in one pass: the
        # mX and BR fields and the HPD flags are formatted once each, only the mass once per cell
        eol = w.dialect.lineterminator
        flags = [f",{int(hpd68)},{int(hpd95)}{eol}" for hpd68 in (False, True) for hpd95 in (False, True)]
        which = (2 * (mesh.mass >= mesh.levels["68"]) + (mesh.mass >= mesh.levels["95"])).tolist()
        brs = [f",{br:.6g}," for br in mesh.BR]
        for mx, row, flag_row in zip(mesh.mX, mesh.mass.tolist(), which):
            first = f"{mx:.6g}"
            fh.write("".join([first + br + format(m, ".6e") + flags[k] for br, m, k in zip(brs, row, flag_row)]))
    paths.append(p)
    p = out / SUMMARY_FILE
    p.write_text(json.dumps(res.summary, indent=1, default=float))
    paths.append(p)
    return paths
