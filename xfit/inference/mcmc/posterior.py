"""The log-probability handed to emcee: ln prior + beta ln L of a model and a likelihood.

:class:`ModelLogLikelihood` evaluates the model's predictions and the likelihood once on
arrays of points (no Python loop per walker); :class:`LogPosterior` adds the priors and
returns ln L as emcee's *blob* (the thermodynamic integration of
:mod:`xfit.inference.evidence` uses it).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import InputError, require_finite_number
from ..priors import PriorSet


class ModelLogLikelihood:
    """ln L(theta) = -chi2/2 of ``likelihood`` for ``model`` at fixed ``mX``, vectorised.

    Called with points of shape (n, ndim) (columns in ``model.parameters`` order) it makes
    **one** call of the model's predictions and of ``likelihood.chi2`` on arrays of length n.
    The predictions come from ``model.predictor(mX)`` (the m_X-dependent factors computed
    once, identical to ``model.predict``), and only those the likelihood needs.
    Non-finite chi2 becomes ln L = -inf.
    """

    def __init__(self, model, likelihood, mX):
        self.model, self.likelihood = model, likelihood
        self.mX = require_finite_number(mX, "m_X")
        if self.mX <= 0:
            raise InputError(f"m_X must be > 0 GeV, got {mX}")
        self.parameters = tuple(model.parameters)
        self.predictor = model.predictor(self.mX)
        missing = set(likelihood.observables) - set(self.predictor.keys())
        if missing:
            raise InputError(f"model {model.name!r} does not predict {sorted(missing)} needed by the likelihood")
        self.observables = tuple(likelihood.observables)

    def params(self, theta) -> dict[str, np.ndarray]:
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1:
            theta = theta[:, None] if len(self.parameters) == 1 else theta[None, :]
        return {p: theta[:, i] for i, p in enumerate(self.parameters)}

    def predict(self, theta) -> dict[str, np.ndarray]:
        """All predictions at the points ``theta`` (n, ndim)."""
        return self.predictor(**self.params(theta))

    def __call__(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        n = theta.shape[0] if theta.ndim else 1
        pred = self.predictor(keys=self.observables, **self.params(theta))
        chi2 = np.broadcast_to(np.asarray(self.likelihood.chi2(pred), dtype=float), (n,))
        lnl = -0.5 * chi2
        return np.where(np.isfinite(lnl), lnl, -np.inf)

    def sm(self) -> float:
        """ln L at the model's Standard-Model point (no X couplings)."""
        sm = self.model.sm_point()
        return float(-0.5 * np.asarray(self.likelihood.chi2(self.predictor(**sm)), dtype=float))


class NuisanceLogLikelihood(ModelLogLikelihood):
    """ln L(theta, nu) with the theory inputs as standardised nuisances ``nu`` (issue 13).

    Columns: the model's parameters, then the active nuisances of ``nuisances`` (a
    :class:`~xfit.inference.nuisances.TheoryNuisances`); their N(0, 1) priors are the
    constraint, so ln L here is -chi2/2 of the likelihood alone, evaluated with the inputs
    shifted point by point in one vectorised call (``TheoryNuisances.predict_batch``).
    """

    def __init__(self, model, likelihood, mX, nuisances):
        super().__init__(model, likelihood, mX)
        self.nuisances = nuisances
        self.model_parameters = tuple(model.parameters)
        self.parameters = self.model_parameters + tuple(nuisances.names)

    def params(self, theta) -> dict[str, np.ndarray]:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        return {p: theta[:, i] for i, p in enumerate(self.model_parameters)}

    def predict(self, theta, keys=None) -> dict[str, np.ndarray]:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        return self.nuisances.predict_batch(self.params(theta), theta[:, len(self.model_parameters):], keys=keys)

    def __call__(self, theta) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        pred = self.predict(theta, keys=self.likelihood.observables)
        chi2 = np.broadcast_to(np.asarray(self.likelihood.chi2(pred), dtype=float), (theta.shape[0],))
        lnl = -0.5 * chi2
        return np.where(np.isfinite(lnl), lnl, -np.inf)

    def sm(self) -> float:
        if self.nuisances.moves_sm:
            raise InputError("--evidence with --theory-nuisances: the SM likelihood depends on the theory inputs "
                             "here, so ln Z(SM) would need its own integral; run the evidence without nuisances")
        return super().sm()


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
        ok = np.isfinite(lp)
        out = np.empty((theta.shape[0], 2))
        if ok.all():  # the common case: every point inside the prior support, no masked copies
            vals = np.asarray(self.log_likelihood(theta), dtype=float).reshape(-1)
            lnl = np.where(np.isfinite(vals), vals, -np.inf)
        else:
            lnl = np.full(theta.shape[0], -np.inf)
            if ok.any():
                vals = np.asarray(self.log_likelihood(theta[ok]), dtype=float).reshape(-1)
                lnl[ok] = np.where(np.isfinite(vals), vals, -np.inf)
        good = np.isfinite(lnl)  # lnl is -inf wherever lp is
        if good.all():  # the common case again: no -inf to mask
            out[:, 0] = lp + self.beta * lnl
        else:
            with np.errstate(invalid="ignore"):  # beta = 0 times -inf: those points are set below
                out[:, 0] = np.where(good, lp + self.beta * lnl, -np.inf)
        out[:, 1] = lnl
        return out


def check_prior_domain(model, priors: PriorSet) -> None:
    """g_X >= 0 in every model: its prior must not reach negative values."""
    if "gX" in priors.names and priors["gX"].support[0] < 0:
        raise InputError(f"the prior of gX must vanish for g_X < 0 (g_X >= 0), got {priors['gX']!r}; "
                         "e.g. gX:uniform:0:0.1 or gX:gaussian:MEAN:SIGMA:0:inf")


