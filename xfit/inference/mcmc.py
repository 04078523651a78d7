"""Posterior sampling with emcee: vectorised, resumable, reproducible.

* The log-probability is **vectorised**: emcee is built with ``vectorize=True`` and hands the
  whole (half-)ensemble to :class:`LogPosterior`, which evaluates the model's predictions and
  the likelihood once on arrays (no Python loop per walker).  It returns ``ln prior +
  beta ln L`` and, as an emcee *blob*, ``ln L`` itself (stored with the chain; the
  thermodynamic integration of :mod:`xfit.inference.evidence` uses it).
* Chains are **written as they run** (:class:`emcee.backends.HDFBackend`, one HDF5 write per
  step) together with the run's settings.  Run again with the same file and settings and
  the sampler **continues from the last stored state** (positions, ln p, blobs and the
  random-number state), so an interrupted run extended to N steps is identical, bit for
  bit, to an uninterrupted N-step run with the same seed.  ``nsteps`` is the *total*
  length of the chain.  Other settings in an existing file are an error (or, with
  ``overwrite=True``, the file is started afresh).
* **Reproducible**: ``np.random.default_rng(seed)`` draws the seed of emcee's random state
  and then the initial positions.
* **Diagnostics**: integrated autocorrelation time with emcee's estimator
  (:func:`emcee.autocorr.integrated_time`) on the chain after burn-in, the acceptance
  fraction, and a :class:`ChainTooShortWarning` when the chain after burn-in is shorter
  than 50 tau (emcee's own rule of thumb).
* **Results**: credible intervals (median, 16/84, 2.5/97.5 % quantiles; highest posterior
  density on request), corner plots (``corner``; PNG + PDF, LaTeX labels of the model's
  parameters) and posterior predictions of any observable (the samples pushed through
  ``model.predict``).

>>> chain = sample_model(get_model("tau-flavor"), build_likelihood("b_to_s_emiss,l3_z_gamma"),
...                      mX=2.1, nsteps=2000, seed=1, chain_file="out/chain.h5")
>>> chain.summary()["gX"]["median"], chain.autocorr_time(), chain.acceptance_fraction
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from ..errors import ConvergenceError, DataError, InputError, require_finite_number
from .priors import PriorSet, as_prior_set

#: bump when the meaning of the stored settings changes (old files are then not resumed)
CHAIN_FORMAT = 1
#: a chain after burn-in shorter than this many autocorrelation times triggers a warning
MIN_TAU_MULTIPLE = 50
#: quantiles reported by :func:`summarize` (name -> probability)
QUANTILES = {"q2.5": 0.025, "q16": 0.16, "median": 0.5, "q84": 0.84, "q97.5": 0.975}


class ChainTooShortWarning(UserWarning):
    """The chain (after burn-in) is shorter than 50 integrated autocorrelation times: the
    autocorrelation time, and the errors of posterior summaries, are not reliable."""


# --- the log-probability ----------------------------------------------------------------

class ModelLogLikelihood:
    """ln L(theta) = -chi2/2 of ``likelihood`` for ``model`` at fixed ``mX``, vectorised.

    Called with points of shape (n, ndim) (columns in ``model.parameters`` order) it makes
    **one** call of ``model.predict`` and of ``likelihood.chi2`` on arrays of length n.
    Non-finite chi2 becomes ln L = -inf.
    """

    def __init__(self, model, likelihood, mX):
        self.model, self.likelihood = model, likelihood
        self.mX = require_finite_number(mX, "m_X")
        if self.mX <= 0:
            raise InputError(f"m_X must be > 0 GeV, got {mX}")
        self.parameters = tuple(model.parameters)
        sm = model.predict(self.mX, **model.sm_point())
        missing = set(likelihood.observables) - set(sm)
        if missing:
            raise InputError(f"model {model.name!r} does not predict {sorted(missing)} needed by the likelihood")

    def params(self, theta) -> dict[str, np.ndarray]:
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1:
            theta = theta[:, None] if len(self.parameters) == 1 else theta[None, :]
        return {p: theta[:, i] for i, p in enumerate(self.parameters)}

    def predict(self, theta) -> dict[str, np.ndarray]:
        """All predictions at the points ``theta`` (n, ndim)."""
        return self.model.predict(self.mX, **self.params(theta))

    def __call__(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        n = theta.shape[0] if theta.ndim else 1
        chi2 = np.broadcast_to(np.asarray(self.likelihood.chi2(self.predict(theta)), dtype=float), (n,))
        lnl = -0.5 * chi2
        return np.where(np.isfinite(lnl), lnl, -np.inf)

    def sm(self) -> float:
        """ln L at the model's Standard-Model point (no X couplings)."""
        sm = self.model.sm_point()
        return float(-0.5 * np.asarray(self.likelihood.chi2(self.model.predict(self.mX, **sm)), dtype=float))


class LogPosterior:
    """The vectorised log-probability handed to emcee (``vectorize=True``).

    ``theta`` (n, ndim) -> array (n, 2): column 0 is ``ln prior + beta ln L`` (``-inf``
    outside the prior support, where the likelihood is not evaluated at all), column 1 is
    ``ln L`` (the emcee blob).  ``beta`` < 1 gives the power posteriors of thermodynamic
    integration.
    """

    def __init__(self, log_likelihood: Callable[[np.ndarray], np.ndarray], priors: PriorSet,
                 beta: float = 1.0):
        self.log_likelihood, self.priors = log_likelihood, priors
        self.beta = float(beta)
        if not 0.0 <= self.beta <= 1.0:
            raise InputError(f"inverse temperature beta must be in [0, 1], got {beta}")
        self.ncalls = 0

    def __call__(self, theta) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        self.ncalls += 1
        lp = self.priors.logpdf(theta)
        lnl = np.full(theta.shape[0], -np.inf)
        ok = np.isfinite(lp)
        if ok.any():
            vals = np.asarray(self.log_likelihood(theta[ok]), dtype=float).reshape(-1)
            lnl[ok] = np.where(np.isfinite(vals), vals, -np.inf)
        good = ok & np.isfinite(lnl)
        out = np.full(theta.shape[0], -np.inf)
        out[good] = lp[good] + self.beta * lnl[good]
        return np.column_stack([out, lnl])


# --- summaries ------------------------------------------------------------------------------

def hpd_interval(samples, level: float = 0.68) -> tuple[float, float]:
    """Highest-posterior-density (shortest) interval holding ``level`` of the samples."""
    x = np.sort(np.asarray(samples, dtype=float).reshape(-1))
    if not 0 < level < 1:
        raise InputError(f"credible level must be in (0, 1), got {level}")
    n = x.size
    k = int(math.ceil(level * n))
    if n == 0 or k < 1:
        raise InputError("no samples for an HPD interval")
    if k >= n:
        return float(x[0]), float(x[-1])
    widths = x[k - 1:] - x[: n - k + 1]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + k - 1])


def summarize(samples, hpd: bool = False) -> dict[str, float]:
    """Median, 16/84 % and 2.5/97.5 % quantiles, mean and standard deviation of 1D samples
    (and the 68 % / 95 % HPD intervals with ``hpd=True``)."""
    x = np.asarray(samples, dtype=float).reshape(-1)
    q = np.quantile(x, list(QUANTILES.values()))
    out = {k: float(v) for k, v in zip(QUANTILES, q)}
    out = {"median": out["median"], "q16": out["q16"], "q84": out["q84"],
           "q2.5": out["q2.5"], "q97.5": out["q97.5"], "mean": float(x.mean()), "std": float(x.std())}
    if hpd:
        out["hpd68"] = list(hpd_interval(x, 0.68))
        out["hpd95"] = list(hpd_interval(x, 0.95))
    return out


# --- the chain -----------------------------------------------------------------------------

class Chain:
    """A finished (or resumed) emcee run: samples, diagnostics, summaries, plots.

    ``coords`` has shape (nsteps, nwalkers, ndim), ``log_prob`` and ``log_likelihood``
    (nsteps, nwalkers).  ``burn`` steps are discarded by default (a quarter of the chain
    unless given).
    """

    def __init__(self, coords, log_prob, log_likelihood, accepted, parameters: Sequence[str],
                 priors: PriorSet, beta: float = 1.0, burn: int | None = None, seed=None,
                 labels: Mapping[str, str] | None = None, path: Path | None = None,
                 resumed: bool = False, steps_run: int = 0, settings: dict | None = None,
                 log_likelihood_fn: ModelLogLikelihood | Callable | None = None):
        self.coords = np.asarray(coords, dtype=float)
        self.log_prob = np.asarray(log_prob, dtype=float)
        self.log_likelihood = None if log_likelihood is None else np.asarray(log_likelihood, dtype=float)
        self._accepted = None if accepted is None else np.asarray(accepted, dtype=float)
        self.parameters = tuple(parameters)
        self.priors, self.beta, self.seed = priors, float(beta), seed
        self.labels = {p: (labels or {}).get(p, p) for p in self.parameters}
        self.path, self.resumed, self.steps_run = path, resumed, int(steps_run)
        self.settings = dict(settings or {})
        self.log_likelihood_fn = log_likelihood_fn
        n = self.nsteps
        self.burn = int(n // 4 if burn is None else burn)
        if not 0 <= self.burn < n:
            raise InputError(f"burn-in must be in [0, {n - 1}] steps for a chain of {n} steps, got {burn}")

    # shape -----------------------------------------------------------------------------
    @property
    def nsteps(self) -> int:
        return self.coords.shape[0]

    @property
    def nwalkers(self) -> int:
        return self.coords.shape[1]

    @property
    def ndim(self) -> int:
        return self.coords.shape[2]

    def _discard(self, discard):
        d = self.burn if discard is None else int(discard)
        if not 0 <= d < self.nsteps:
            raise InputError(f"discard must be in [0, {self.nsteps - 1}], got {discard}")
        return d

    def get_chain(self, discard: int | None = None, thin: int = 1, flat: bool = False) -> np.ndarray:
        """The positions after ``discard`` steps (default: the burn-in), every ``thin``-th step."""
        c = self.coords[self._discard(discard)::max(int(thin), 1)]
        return c.reshape(-1, self.ndim) if flat else c

    def samples(self, discard: int | None = None, thin: int = 1) -> np.ndarray:
        """Flat posterior samples (n, ndim) after burn-in."""
        return self.get_chain(discard, thin, flat=True)

    def samples_dict(self, discard: int | None = None, thin: int = 1) -> dict[str, np.ndarray]:
        s = self.samples(discard, thin)
        return {p: s[:, i] for i, p in enumerate(self.parameters)}

    def get_log_likelihood(self, discard: int | None = None, thin: int = 1, flat: bool = False):
        if self.log_likelihood is None:
            raise DataError("this chain holds no ln L values")
        v = self.log_likelihood[self._discard(discard)::max(int(thin), 1)]
        return v.reshape(-1) if flat else v

    # diagnostics -----------------------------------------------------------------------
    @property
    def acceptance_fractions(self) -> np.ndarray:
        """Per walker: the fraction of proposals accepted."""
        if self._accepted is not None:
            return self._accepted / self.nsteps
        # a stretch move that is accepted always moves the walker
        moved = np.any(self.coords[1:] != self.coords[:-1], axis=-1)
        return moved.mean(axis=0) if len(moved) else np.zeros(self.nwalkers)

    @property
    def acceptance_fraction(self) -> float:
        """Mean acceptance fraction over walkers (0.2-0.5 is healthy for the stretch move)."""
        return float(np.mean(self.acceptance_fractions))

    def autocorr_time(self, discard: int | None = None, warn: bool = True) -> np.ndarray:
        """Integrated autocorrelation time per parameter (emcee's estimator, in steps) on
        the chain after ``discard`` steps; warns :class:`ChainTooShortWarning` when that
        chain is shorter than 50 tau."""
        import emcee

        chain = self.get_chain(discard)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tau = np.asarray(emcee.autocorr.integrated_time(chain, tol=0, quiet=True), dtype=float)
        n = chain.shape[0]
        if warn:
            worst = float(np.max(tau)) if np.all(np.isfinite(tau)) else math.inf
            if not n >= MIN_TAU_MULTIPLE * worst:
                what = (f"{MIN_TAU_MULTIPLE} x the autocorrelation time tau = {worst:.3g} steps "
                        f"({MIN_TAU_MULTIPLE * worst:.0f} steps)" if math.isfinite(worst) else
                        f"{MIN_TAU_MULTIPLE} autocorrelation times (tau cannot be estimated from it)")
                warnings.warn(f"the chain after burn-in has {n} steps, shorter than {what}: tau and the "
                              "posterior summaries are not reliable; run more steps",
                              ChainTooShortWarning, stacklevel=2)
        return tau

    def diagnostics(self, discard: int | None = None, warn: bool = True) -> dict:
        tau = self.autocorr_time(discard, warn=warn)
        n = self.nsteps - self._discard(discard)
        finite = np.isfinite(tau) & (tau > 0)
        return {
            "tau_autocorr": {p: float(t) for p, t in zip(self.parameters, tau)},
            "acceptance": self.acceptance_fraction,
            "n_steps": self.nsteps, "n_walkers": self.nwalkers, "burn": self._discard(discard),
            "n_effective": {p: (float(n * self.nwalkers / t) if f else None)
                            for p, t, f in zip(self.parameters, tau, finite)},
            "long_enough": bool(np.all(finite) and n >= MIN_TAU_MULTIPLE * float(np.max(tau))),
        }

    # summaries -------------------------------------------------------------------------
    def summary(self, discard: int | None = None, hpd: bool = False) -> dict[str, dict[str, float]]:
        """{parameter: {median, q16, q84, q2.5, q97.5, mean, std[, hpd68, hpd95]}}."""
        s = self.samples(discard)
        return {p: summarize(s[:, i], hpd=hpd) for i, p in enumerate(self.parameters)}

    def credible_interval(self, parameter: str, level: float = 0.68, kind: str = "central",
                          discard: int | None = None) -> tuple[float, float]:
        """Equal-tailed (``kind="central"``) or highest-density (``"hpd"``) interval."""
        if parameter not in self.parameters:
            raise InputError(f"unknown parameter {parameter!r}; the chain has {', '.join(self.parameters)}")
        x = self.samples(discard)[:, self.parameters.index(parameter)]
        if kind == "hpd":
            return hpd_interval(x, level)
        if kind != "central":
            raise InputError(f"interval kind must be 'central' or 'hpd', got {kind!r}")
        if not 0 < level < 1:
            raise InputError(f"credible level must be in (0, 1), got {level}")
        lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
        return float(lo), float(hi)

    # predictions -----------------------------------------------------------------------
    def posterior_predictive(self, observables: str | Iterable[str] | None = None,
                             discard: int | None = None, thin: int = 1, chunk: int = 20000):
        """Posterior samples of predictions: the parameter samples pushed through
        ``model.predict`` (vectorised, in chunks).  One observable name -> array; a list (or
        None: all) -> {name: array}."""
        fn = self.log_likelihood_fn
        if not isinstance(fn, ModelLogLikelihood):
            raise InputError("posterior predictions need a chain of a model (sample_model)")
        single = isinstance(observables, str)
        s = self.samples(discard, thin)
        parts: list[dict] = []
        for i in range(0, len(s), chunk):
            parts.append(fn.predict(s[i:i + chunk]))
        keys = list(parts[0]) if observables is None else ([observables] if single else list(observables))
        unknown = [k for k in keys if k not in parts[0]]
        if unknown:
            raise InputError(f"unknown observable(s) {unknown}; the model predicts: {', '.join(parts[0])}")
        out = {k: np.concatenate([np.broadcast_to(np.asarray(p[k]), (len(s[i * chunk:(i + 1) * chunk]),))
                                  for i, p in enumerate(parts)]) for k in keys}
        return out[keys[0]] if single else out

    def predictive_summary(self, observables: str | Iterable[str], discard: int | None = None,
                           thin: int = 1, hpd: bool = False) -> dict[str, dict[str, float]]:
        pred = self.posterior_predictive([observables] if isinstance(observables, str) else observables,
                                         discard, thin)
        return {k: summarize(np.real(v), hpd=hpd) for k, v in pred.items()}

    # plots -----------------------------------------------------------------------------
    def corner_plot(self, out_dir: str | Path | None = None, stem: str = "corner",
                    discard: int | None = None, title: str | None = None, truths=None):
        """Corner plot (``corner``) with the parameters' LaTeX labels, 16/50/84 % quantiles
        marked; written as PNG + PDF when ``out_dir`` is given (returns the paths), else the
        figure is returned."""
        import corner

        from ..plots import save_figure, setup_style

        setup_style()
        import matplotlib.pyplot as plt

        s = self.samples(discard)
        fig = plt.subplots(figsize=(4.8, 3.8))[0] if self.ndim == 1 else None  # corner's 1D default is tiny
        fig = corner.corner(s, labels=[self.labels[p] for p in self.parameters], fig=fig,
                            quantiles=[0.16, 0.5, 0.84], show_titles=True, title_fmt=".3g",
                            truths=truths, bins=40, smooth1d=None, label_kwargs={"fontsize": 13})
        if title:
            fig.suptitle(title, fontsize=10, y=1.02 if self.ndim > 1 else 1.06)
        if out_dir is None:
            return fig
        return save_figure(fig, out_dir, stem)

    def to_dict(self, hpd: bool = False, warn: bool = True) -> dict:
        d = self.diagnostics(warn=warn)
        return {"parameters": list(self.parameters), "priors": {k: repr(p) for k, p in self.priors.items()},
                "summary": self.summary(hpd=hpd), **d, "beta": self.beta, "seed": self.seed,
                "chain_file": None if self.path is None else str(self.path), "resumed": self.resumed}

    def __repr__(self) -> str:
        return (f"<Chain {', '.join(self.parameters)}: {self.nsteps} steps x {self.nwalkers} walkers, "
                f"burn {self.burn}, acceptance {self.acceptance_fraction:.2f}"
                f"{'' if self.path is None else f', {self.path}'}>")


# --- running -------------------------------------------------------------------------------

#: emcee moves by name.  "de" (default) is differential evolution (ter Braak 2006; emcee's
#: DEMove): integrated autocorrelation times of ~4 steps in one dimension and ~8 in two,
#: against ~25-30 for emcee's default stretch move (available as "stretch").  emcee 3.1's
#: DESnookerMove is *not* used: it samples a 2D unit Gaussian with variance 0.90 (its
#: "unit" vector is delta/sqrt(|delta|)), a bias xfit's tests would catch.
MOVES = {
    "de": lambda emcee: emcee.moves.DEMove(),
    "stretch": lambda emcee: emcee.moves.StretchMove(),
}


def _checkpointed_backend_class():
    import time

    import emcee

    class CheckpointedHDFBackend(emcee.backends.HDFBackend):
        """emcee's HDF5 backend, made cheaper and crash-consistent.

        * Steps are written in batches, at least every ``checkpoint_seconds`` (and at the
          end of a run, or on an exception such as Ctrl-C): emcee's backend opens the file
          several times per step, which costs as much as the likelihood here.
        * Everything needed to continue is stored *per step* (rows): positions, ln p, ln L,
          the random-number state after the step and the running acceptance counts.  The
          ``iteration`` attribute is written last and marks how many rows are valid, so a
          kill in the middle of a write loses at most that batch, never the consistency
          between the stored state and the random numbers that follow it.
        """

        _EXTRA = ("random_key", "random_pos", "random_has_gauss", "random_gauss", "accepted_total")

        def __init__(self, filename, name="mcmc", checkpoint_seconds: float = 1.0):
            super().__init__(filename, name=name)
            self.checkpoint_seconds = float(checkpoint_seconds)
            self._buffer: list = []
            self._last = time.monotonic()

        def grow(self, ngrow, blobs):
            self.flush()
            super().grow(ngrow, blobs)
            with h5py_file(self.filename, "a") as f:
                g = f[self.name]
                ntot = int(g.attrs["iteration"]) + ngrow
                nwalkers = int(g.attrs["nwalkers"])
                shapes = {"random_key": ((624,), np.uint32), "random_pos": ((), np.int64),
                          "random_has_gauss": ((), np.int64), "random_gauss": ((), np.float64),
                          "accepted_total": ((nwalkers,), np.float64)}
                for key, (shape, dtype) in shapes.items():
                    if key not in g:
                        g.create_dataset(key, (ntot, *shape), maxshape=(None, *shape), dtype=dtype)
                    elif g[key].shape[0] < ntot:
                        g[key].resize(ntot, axis=0)

        def save_step(self, state, accepted):
            self._buffer.append((np.array(state.coords, dtype=float), np.array(state.log_prob, dtype=float),
                                 None if state.blobs is None else np.array(state.blobs),
                                 np.asarray(accepted, dtype=float), state.random_state))
            if time.monotonic() - self._last >= self.checkpoint_seconds:
                self.flush()

        def flush(self) -> None:
            buf, self._buffer = self._buffer, []
            self._last = time.monotonic()
            if not buf:
                return
            with h5py_file(self.filename, "a") as f:
                g = f[self.name]
                it, n = int(g.attrs["iteration"]), len(buf)
                rows = slice(it, it + n)
                g["chain"][rows] = np.stack([b[0] for b in buf])
                g["log_prob"][rows] = np.stack([b[1] for b in buf])
                if buf[0][2] is not None:
                    g["blobs"][rows] = np.stack([b[2] for b in buf])
                base = g["accepted_total"][it - 1] if it > 0 else np.zeros(len(buf[0][3]))
                g["accepted_total"][rows] = base + np.cumsum([b[3] for b in buf], axis=0)
                g["random_key"][rows] = np.stack([np.asarray(b[4][1], dtype=np.uint32) for b in buf])
                g["random_pos"][rows] = [int(b[4][2]) for b in buf]
                g["random_has_gauss"][rows] = [int(b[4][3]) for b in buf]
                g["random_gauss"][rows] = [float(b[4][4]) for b in buf]
                g.attrs["iteration"] = it + n  # the commit: rows < iteration are valid

        # reads see the buffered steps too, and use the per-step rows
        def get_value(self, *args, **kwargs):
            self.flush()
            return super().get_value(*args, **kwargs)

        @property
        def iteration(self):
            self.flush()
            return super().iteration

        @property
        def accepted(self):
            self.flush()
            with self.open() as f:
                g = f[self.name]
                it = int(g.attrs["iteration"])
                if it > 0 and "accepted_total" in g:
                    return g["accepted_total"][it - 1]
            return super().accepted

        @property
        def random_state(self):
            self.flush()
            with self.open() as f:
                g = f[self.name]
                it = int(g.attrs["iteration"])
                if it > 0 and "random_key" in g:
                    return ("MT19937", g["random_key"][it - 1], int(g["random_pos"][it - 1]),
                            int(g["random_has_gauss"][it - 1]), float(g["random_gauss"][it - 1]))
            return super().random_state

    return CheckpointedHDFBackend


def h5py_file(path, mode):
    import h5py

    return h5py.File(path, mode)


def min_walkers(ndim: int) -> int:
    """The smallest ensemble xfit accepts for ``ndim`` parameters: max(4, 2 ndim)."""
    return max(4, 2 * int(ndim))


def positive_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or :class:`InputError` naming ``name``."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if not math.isfinite(f) or f != int(f) or int(f) < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(f)


_positive_int = positive_int  # the former private name


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(float(obj)) else str(float(obj))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj


def _normalise(settings: dict) -> dict:
    return json.loads(json.dumps(_jsonable(settings), sort_keys=True))


def read_chain_settings(path: str | Path) -> tuple[dict | None, int]:
    """(settings stored by xfit or None, number of stored steps) of a chain file."""
    import h5py

    def corrupt(problem: str) -> DataError:
        return DataError(f"chain file {path} is not a readable xfit chain ({problem}); "
                         "delete it or start afresh (--overwrite)")

    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("xfit_settings")
            settings = None if raw is None else json.loads(raw if isinstance(raw, str) else raw.decode())
            it = int(f["mcmc"].attrs.get("iteration", 0)) if "mcmc" in f else 0
            if it > 0:
                g = f["mcmc"]
                for key in ("chain", "log_prob", "accepted_total", "random_key"):
                    rows = g[key].shape[0] if key in g and g[key].shape else 0
                    if rows < it:
                        raise corrupt(f"iteration {it} but only {rows} stored rows of {key!r}")
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise corrupt(f"{exc.__class__.__name__}: {exc}") from None
    if settings is not None and not isinstance(settings, dict):
        raise corrupt(f"its settings are a {type(settings).__name__}, not a mapping")
    if it < 0:
        raise corrupt(f"negative iteration {it}")
    return settings, it


def _initial_state(initial, priors: PriorSet, nwalkers: int, rng, logpost: LogPosterior):
    ndim = priors.ndim
    if initial is None:
        p0 = priors.sample(nwalkers, rng)
    elif callable(initial):
        p0 = np.asarray(initial(rng), dtype=float)
    else:
        p0 = np.asarray(initial, dtype=float)
    if p0.ndim == 1 and ndim == 1:
        p0 = p0[:, None]
    if p0.shape != (nwalkers, ndim):
        raise InputError(f"initial positions must have shape ({nwalkers}, {ndim}), got {p0.shape}")
    values = logpost(p0)
    bad = ~np.isfinite(values[:, 0])
    if bad.any():
        raise InputError(f"{int(bad.sum())} of {nwalkers} initial walker positions have zero posterior "
                         "density (outside the prior support, or ln L = -inf)")
    import emcee

    # hand the values to emcee so that the start is evaluated once
    return emcee.State(p0, log_prob=values[:, 0].copy(), blobs=values[:, 1].copy())


def sample(log_likelihood: Callable[[np.ndarray], np.ndarray], priors: PriorSet, nwalkers: int = 32,
           nsteps: int = 1000, seed: int | None = None, *, initial=None, chain_file: str | Path | None = None,
           settings: Mapping | None = None, overwrite: bool = False, beta: float = 1.0,
           burn: int | None = None, progress: bool = False, labels: Mapping[str, str] | None = None,
           moves: str = "de", checkpoint_seconds: float = 1.0) -> Chain:
    """Sample ``exp(beta ln L) x prior`` with emcee's ensemble sampler (vectorised).

    ``log_likelihood`` maps points (n, ndim) to ln L (n,), columns in ``priors`` order.
    ``nsteps`` is the total chain length.  With ``chain_file`` the chain is written step by
    step to HDF5 (with the run settings: ``settings``, priors, walkers, seed, beta); if the
    file holds a chain of the same settings the run continues from its last state
    (``chain.resumed``), and a longer stored chain is cut to ``nsteps``.  ``initial``:
    None (draws from the prior), an array (nwalkers, ndim) or a callable ``rng -> array``.
    ``moves``: "de" (differential evolution, default) or "stretch" (see
    :data:`MOVES`).  The file is written at least every ``checkpoint_seconds``.
    """
    import emcee

    if not isinstance(priors, PriorSet):
        raise InputError("priors must be a PriorSet")
    nsteps = _positive_int(nsteps, "number of steps")
    ndim = priors.ndim
    nwalkers = _positive_int(nwalkers, "number of walkers", minimum=min_walkers(ndim))
    if seed is not None:
        seed = _positive_int(seed, "seed", minimum=0)
    if moves not in MOVES:
        raise InputError(f"unknown moves {moves!r}; known: {', '.join(MOVES)}")
    logpost = LogPosterior(log_likelihood, priors, beta)
    full_settings = _normalise({"format": CHAIN_FORMAT, **dict(settings or {}), "moves": moves,
                                "parameters": list(priors.names), "priors": priors.to_dict(),
                                "nwalkers": nwalkers, "seed": seed, "beta": logpost.beta})

    backend, resumed, path = None, False, None
    if chain_file is not None:
        import h5py

        path = Path(chain_file)
        if path.exists():
            try:
                stored, iteration = read_chain_settings(path)
            except DataError:
                if not overwrite:
                    raise
                stored, iteration = None, 0
            if stored == full_settings and iteration > 0:
                resumed = True
            elif iteration == 0 or overwrite:
                path.unlink()
            else:
                diff = sorted(k for k in set(full_settings) | set(stored or {})
                              if (stored or {}).get(k) != full_settings.get(k))
                raise InputError(f"chain file {path} holds a chain with other settings "
                                 f"(differing: {', '.join(diff) or 'none stored'}); use another output "
                                 "directory or start afresh (--overwrite)")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not resumed:
            with h5py.File(path, "w") as f:  # settings first, so that a killed run is recognised
                f.attrs["xfit_settings"] = json.dumps(full_settings, sort_keys=True)
        backend = _checkpointed_backend_class()(str(path), name="mcmc", checkpoint_seconds=checkpoint_seconds)

    sampler = emcee.EnsembleSampler(nwalkers, ndim, logpost, vectorize=True, backend=backend,
                                    moves=MOVES[moves](emcee))
    steps_run = 0
    try:
        if resumed:
            done = int(sampler.backend.iteration)
            if done < nsteps:
                steps_run = nsteps - done
                sampler.run_mcmc(None, steps_run, progress=progress)
        else:
            rng = np.random.default_rng(seed)
            emcee_seed = int(rng.integers(2**32 - 1))
            p0 = _initial_state(initial, priors, nwalkers, rng, logpost)
            sampler.random_state = np.random.RandomState(emcee_seed).get_state()
            steps_run = nsteps
            sampler.run_mcmc(p0, nsteps, progress=progress)
    finally:  # also on Ctrl-C: keep every finished step
        if hasattr(sampler.backend, "flush"):
            sampler.backend.flush()

    b = sampler.backend
    coords = b.get_chain()
    log_prob = b.get_log_prob()
    blobs = b.get_blobs()
    accepted = b.accepted if coords.shape[0] == nsteps else None
    coords, log_prob = coords[:nsteps], log_prob[:nsteps]
    if blobs is not None:
        blobs = np.asarray(blobs, dtype=float).reshape(len(blobs), nwalkers)[:nsteps]
    return Chain(coords, log_prob, blobs, accepted, priors.names, priors, beta=logpost.beta, burn=burn,
                 seed=seed, labels=labels, path=path, resumed=resumed, steps_run=steps_run,
                 settings=full_settings, log_likelihood_fn=log_likelihood)


def model_settings(model) -> dict:
    """What identifies a model in a chain file (name, class, charges/coefficients)."""
    d = {"model": getattr(model, "name", ""), "model_class": type(model).__name__,
         "model_parameters": list(model.parameters)}
    for attr in ("alpha_B", "lepton_charges", "A_WW", "A_YY", "XS", "br_invisible_override", "br_inv"):
        if hasattr(model, attr):
            v = getattr(model, attr)
            d[attr] = {k: list(x) for k, x in v.items()} if isinstance(v, dict) else v
    return d


def check_prior_domain(model, priors: PriorSet) -> None:
    """g_X >= 0 in every model: its prior must not reach negative values."""
    if "gX" in priors.names and priors["gX"].support[0] < 0:
        raise InputError(f"the prior of gX must vanish for g_X < 0 (g_X >= 0), got {priors['gX']!r}; "
                         "e.g. gX:uniform:0:0.1 or gX:gaussian:MEAN:SIGMA:0:inf")


def fit_initializer(model, likelihood, mX, priors: PriorSet, nwalkers: int, width: float = 1.0):
    """``rng -> (nwalkers, ndim)``: a Gaussian ball around the best fit (:class:`Fit`), of
    ``width`` x the HESSE errors, kept inside the prior support; prior draws if the fit
    fails."""
    from .fit import Fit

    def init(rng):
        lims = {p: tuple(None if not math.isfinite(v) else v for v in priors[p].support)
                for p in model.parameters}
        start = {p: float(priors[p].ppf(0.5)) for p in model.parameters}
        try:
            res = Fit(model, likelihood, mX, start=start, limits=lims).run()
        except ConvergenceError:
            warnings.warn("the fit for the starting point did not converge; walkers start from prior draws",
                          UserWarning, stacklevel=3)
            return priors.sample(nwalkers, rng)
        centre = np.array([res.values[p] for p in model.parameters])
        scale = np.array([res.errors[p] if math.isfinite(res.errors[p]) and res.errors[p] > 0
                          else 1e-3 * max(abs(res.values[p]), 1e-3) for p in model.parameters])
        p0 = centre + width * scale * rng.standard_normal((nwalkers, len(centre)))
        for _ in range(100):  # redraw walkers outside the prior support
            bad = ~np.isfinite(priors.logpdf(p0))
            if not bad.any():
                return p0
            p0[bad] = centre + width * scale * rng.standard_normal((int(bad.sum()), len(centre)))
        bad = ~np.isfinite(priors.logpdf(p0))
        p0[bad] = priors.sample(int(bad.sum()), rng)
        return p0

    return init


def sample_model(model, likelihood, mX, priors=None, nwalkers: int = 32, nsteps: int = 2000,
                 seed: int | None = None, *, chain_file: str | Path | None = None, init: str = "fit",
                 burn: int | None = None, overwrite: bool = False, progress: bool = False,
                 settings: Mapping | None = None, moves: str = "de", checkpoint_seconds: float = 1.0) -> Chain:
    """The posterior of ``model``'s parameters at fixed ``mX`` given ``likelihood``.

    ``priors``: a :class:`PriorSet`, {name: Prior or "kind:args"}, a list of CLI specs
    (``"gX:loguniform:1e-4:0.1"``) or None (defaults: g_X uniform on [0, 0.1]).
    ``init="fit"`` starts the walkers in a ball around the best fit, ``"prior"`` from prior
    draws.  See :func:`sample` for the chain file, resuming and seeds.
    """
    priors = as_prior_set(priors, model.parameters)
    check_prior_domain(model, priors)
    lnl = ModelLogLikelihood(model, likelihood, mX)
    nwalkers_i = _positive_int(nwalkers, "number of walkers", minimum=min_walkers(priors.ndim))
    if init == "fit":
        initial = fit_initializer(model, likelihood, lnl.mX, priors, nwalkers_i)
    elif init == "prior":
        initial = None
    else:
        raise InputError(f"init must be 'fit' or 'prior', got {init!r}")
    full = {**model_settings(model), "mX": lnl.mX, "terms": list(likelihood.names), "init": init,
            **dict(settings or {})}
    labels = {p: model.label(p) for p in model.parameters}
    return sample(lnl, priors, nwalkers_i, nsteps, seed, initial=initial, chain_file=chain_file,
                  settings=full, overwrite=overwrite, burn=burn, progress=progress, labels=labels,
                  moves=moves, checkpoint_seconds=checkpoint_seconds)
