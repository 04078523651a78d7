"""A finished emcee run: samples, diagnostics (autocorrelation time, acceptance), summaries
(quantiles, HPD intervals) and posterior predictions (its corner plot:
:func:`xfit.plots.corner.chain_corner_plot`)."""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ...errors import DataError, InputError
from ..priors import PriorSet
from .autocorr import integrated_time
from .posterior import ModelLogLikelihood

#: a chain after burn-in shorter than this many autocorrelation times triggers a warning
MIN_TAU_MULTIPLE = 50
#: quantiles reported by :func:`summarize` (name -> probability)
QUANTILES = {"q2.5": 0.025, "q16": 0.16, "median": 0.5, "q84": 0.84, "q97.5": 0.975}


class ChainTooShortWarning(UserWarning):
    """The chain (after burn-in) is shorter than 50 integrated autocorrelation times: the
    autocorrelation time, and the errors of posterior summaries, are not reliable."""



def hpd_interval(samples, level: float = 0.68) -> tuple[float, float]:
    """Highest-posterior-density (shortest) interval holding ``level`` of the samples."""
    x = np.sort(np.asarray(samples, dtype=float).reshape(-1))
    if not 0 < level < 1:
        raise InputError(f"credible level must be in (0, 1), got {level}")
    n = x.size
    k = int(math.ceil(level * n))
    if n == 0 or k < 1:
        raise InputError("no samples for an HPD interval")
    if not np.isfinite(x[-1]) or not np.isfinite(x[0]):  # sorted: NaN and +-inf sit at the ends
        raise InputError(f"samples for an HPD interval must be finite, got {int(np.count_nonzero(~np.isfinite(x)))} "
                         f"non-finite of {n}")
    if k >= n:
        return float(x[0]), float(x[-1])
    widths = x[k - 1:] - x[: n - k + 1]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + k - 1])


def summarize(samples, hpd: bool = False) -> dict[str, float]:
    """Median, 16/84 % and 2.5/97.5 % quantiles, mean and standard deviation of 1D samples
    (and the 68 % / 95 % HPD intervals with ``hpd=True``)."""
    x = np.asarray(samples, dtype=float).reshape(-1)
    if x.size == 0:
        raise InputError("no samples to summarise (an empty chain, or every step burnt in)")
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
    """A finished (or resumed) emcee run: samples, diagnostics, summaries, predictions.

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
        chain = self.get_chain(discard)
        tau = integrated_time(chain)
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

    def to_dict(self, hpd: bool = False, warn: bool = True) -> dict:
        d = self.diagnostics(warn=warn)
        return {"parameters": list(self.parameters), "priors": {k: repr(p) for k, p in self.priors.items()},
                "summary": self.summary(hpd=hpd), **d, "beta": self.beta, "seed": self.seed,
                "chain_file": None if self.path is None else str(self.path), "resumed": self.resumed}

    def __repr__(self) -> str:
        return (f"<Chain {', '.join(self.parameters)}: {self.nsteps} steps x {self.nwalkers} walkers, "
                f"burn {self.burn}, acceptance {self.acceptance_fraction:.2f}"
                f"{'' if self.path is None else f', {self.path}'}>")


