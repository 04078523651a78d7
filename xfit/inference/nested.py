"""Bayesian evidence by nested sampling with dynesty (Skilling 2004/2006; Speagle 2020, arXiv:1904.02180).

A thin, generic wrapper: a log-likelihood of a point (ndim,) -> float and a :class:`PriorSet`
(its inverse CDFs map the unit cube onto the prior) go to :class:`dynesty.NestedSampler`
(static run, multi-ellipsoid bounds); the result carries ln Z, dynesty's error estimate of
ln Z, the weighted samples of the posterior and Kish's effective sample size
(sum w)^2 / sum w^2.  Runs resume from a checkpoint file (dynesty's own format) after an
interruption.

dynesty is an optional dependency (``pip install 'xfit[bayes]'``); without it the functions
here raise :class:`xfit.errors.InputError` naming the extra.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .priors import PriorSet

#: Default number of live points and stopping criterion (remaining evidence, in ln Z).
DEFAULT_NLIVE = 400
DEFAULT_DLOGZ = 0.05


def _dynesty():
    try:
        import dynesty
    except ModuleNotFoundError:
        raise InputError("nested sampling needs the package dynesty >= 3: pip install 'xfit[bayes]'") from None
    return dynesty


class PriorTransform:
    """Unit cube -> prior space through the inverse CDFs of a :class:`PriorSet` (picklable)."""

    def __init__(self, priors: PriorSet):
        self.priors = priors

    def __call__(self, u):
        return self.priors.ppf(np.clip(np.asarray(u, dtype=float), 0.0, 1.0)[None, :])[0]


class FiniteLogLikelihood:
    """A log-likelihood with NaN mapped to -inf (dynesty rejects such points); picklable."""

    def __init__(self, log_likelihood: Callable):
        self.log_likelihood = log_likelihood

    def __call__(self, theta) -> float:
        v = float(self.log_likelihood(np.asarray(theta, dtype=float)))
        return v if not math.isnan(v) else -np.inf


@dataclass
class NestedResult:
    """ln Z with dynesty's error, and the weighted posterior samples."""

    ln_z: float
    ln_z_error: float
    samples: np.ndarray
    log_weights: np.ndarray  # normalised: sum exp = 1
    ln_l: np.ndarray
    n_effective: int
    n_calls: int
    n_iterations: int
    names: tuple[str, ...] = field(default_factory=tuple)
    nlive: int = DEFAULT_NLIVE

    def equal_weight_samples(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Posterior samples of equal weight (systematic resampling of the weighted ones)."""
        rng = np.random.default_rng() if rng is None else rng
        w = np.exp(self.log_weights)
        n = len(w)
        pos = (rng.random() + np.arange(n)) / n
        idx = np.minimum(np.searchsorted(np.cumsum(w), pos), n - 1)
        return self.samples[idx]

    def to_dict(self) -> dict:
        return {"method": "nested sampling (dynesty, static, multi-ellipsoid)", "ln_evidence": self.ln_z,
                "ln_evidence_error": self.ln_z_error, "n_effective": self.n_effective, "n_calls": self.n_calls,
                "n_iterations": self.n_iterations, "nlive": self.nlive}


def min_live_points(ndim: int) -> int:
    """The fewest live points :func:`nested_evidence` accepts in ``ndim`` dimensions (dynesty's
    bounding ellipsoids need more points than dimensions; 2 ndim + 2 as for emcee's walkers)."""
    return 2 * int(ndim) + 2


def nested_evidence(log_likelihood: Callable[[np.ndarray], float], priors: PriorSet, nlive: int = DEFAULT_NLIVE,
                    dlogz: float = DEFAULT_DLOGZ, seed: int | None = 0,
                    checkpoint_file: str | os.PathLike | None = None,
                    resume: bool = True, checkpoint_every: float = 30.0, progress: bool = False) -> NestedResult:
    """ln Z = ln int L(theta) pi(theta) dtheta by dynesty's static nested sampler.

    ``log_likelihood``: one point (ndim,) -> ln L (``-inf`` allowed); ``priors``: a
    :class:`PriorSet` (proper priors).  ``checkpoint_file``: dynesty saves its state there
    every ``checkpoint_every`` seconds and at the end; with ``resume`` an existing file is
    continued (a finished run is read back without sampling again).  Picklable likelihoods
    only when checkpointing.
    """
    dynesty = _dynesty()
    if not isinstance(priors, PriorSet):
        raise InputError("priors must be a PriorSet")
    nlive = int(nlive)
    if nlive < min_live_points(priors.ndim):
        raise InputError(f"nested sampling needs at least {min_live_points(priors.ndim)} live points, got {nlive}")
    if not (dlogz > 0 and math.isfinite(dlogz)):
        raise InputError(f"the stopping criterion dlogz must be > 0, got {dlogz}")
    lnl = FiniteLogLikelihood(log_likelihood)
    ptf = PriorTransform(priors)
    ckpt = None if checkpoint_file is None else str(checkpoint_file)
    if ckpt is not None and resume and os.path.exists(ckpt):
        sampler = dynesty.NestedSampler.restore(ckpt)
        if not sampler.added_live:
            sampler.run_nested(dlogz=dlogz, print_progress=progress, checkpoint_file=ckpt,
                               checkpoint_every=checkpoint_every, resume=True)
    else:
        sampler = dynesty.NestedSampler(lnl, ptf, priors.ndim, nlive=nlive, bound="multi", sample="auto",
                                        rstate=np.random.default_rng(seed))
        kw = {} if ckpt is None else {"checkpoint_file": ckpt, "checkpoint_every": checkpoint_every}
        sampler.run_nested(dlogz=dlogz, print_progress=progress, **kw)
    res = sampler.results
    logwt = np.asarray(res.logwt, dtype=float)
    logw = logwt - np.logaddexp.reduce(logwt)
    w = np.exp(logw)
    n_eff = int(round(1.0 / float(np.sum(w * w))))
    return NestedResult(ln_z=float(res.logz[-1]), ln_z_error=float(res.logzerr[-1]),
                        samples=np.asarray(res.samples, dtype=float), log_weights=logw,
                        ln_l=np.asarray(res.logl, dtype=float), n_effective=n_eff, n_calls=int(np.sum(res.ncall)),
                        n_iterations=int(res.niter), names=priors.names, nlive=int(sampler.nlive))
