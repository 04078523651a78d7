"""Counting experiments: a search that observed n events over an expected background b.

The signal is s = B(production) x B(X -> invisible) / SES(m_X), with SES the single-event
sensitivity (1 / (number of parents x acceptance)) at m_X.  The counting p-value of a signal
s is the CLs ratio

    CLs(s) = P(N <= n | s + b) / P(N <= n | b),

with the background uncertainty marginalised (b ~ Gaussian(b0, sigma_b) truncated at 0,
Gauss-Hermite quadrature).  For n = 0 it is exp(-s) whatever b is, the classical limit
s_UL = -ln(1 - CL) (2.303 events at 90 % CL) that KOTO quotes.

chi2 is the one-sided Gaussian equivalent of that p-value,

    chi2(s) = [max(0, Phi^-1(1 - CLs(s)))]^2,

so that xfit's limit rule (Delta chi2 = [Phi^-1(CL)]^2, :func:`chi2_threshold_one_sided`)
gives back the counting experiment's limit at any CL, and above it chi2 grows with the
Poisson tail (linearly in s for n = 0) instead of quadratically.  The Poisson likelihood
itself, -2 ln L = 2 (s + b) - 2 n ln(s + b), would with Wilks' threshold give s_UL = 0.82 at
90 % CL for n = 0, 2.8 times stronger than the published limit: asymptotics fail at so few
events, hence the p-value form.

When a publication gives the limit versus m_X but the acceptance only at one mass (or not
at all), SES(m_X) = UL(m_X) / s_UL, with s_UL the signal count at which CLs = 1 - CL:
the published curve fixes the per-mass sensitivity, the counts fix the statistics.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import numpy as np
from scipy import optimize, special

from ..errors import DataError, InputError
from .conventions import missing_energy_rate
from .core import Citation, LikelihoodTerm

#: Gauss-Hermite nodes for marginalising a Gaussian background uncertainty.
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(40)


def poisson_log_cdf(n: int, mu) -> np.ndarray:
    """log P(N <= n | mu), accurate far in the tail (mu >> n)."""
    mu = np.asarray(mu, dtype=float)
    k = np.arange(n + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(k == 0, 0.0, k * np.log(mu[..., None])) - special.gammaln(k + 1)  # mu^0 = 1 at mu = 0
    return -mu + special.logsumexp(terms, axis=-1)


def _log_cdf_marginal(n: int, mu_signal: np.ndarray, b0: float, sigma_b: float) -> np.ndarray:
    """log P(N <= n | s + b), b ~ N(b0, sigma_b) truncated at 0 (exact for sigma_b = 0)."""
    s = np.asarray(mu_signal, dtype=float)
    if sigma_b <= 0:
        return poisson_log_cdf(n, s + b0)
    b = b0 + sigma_b * _GH_NODES
    keep = b >= 0
    w = _GH_WEIGHTS[keep] / _GH_WEIGHTS[keep].sum()
    logs = poisson_log_cdf(n, s[..., None] + b[keep])
    return special.logsumexp(logs, b=w, axis=-1)


def log_cls(signal, n_observed: int, background: float, background_sigma: float = 0.0) -> np.ndarray:
    """log CLs(s) of a counting experiment (module docstring)."""
    s = np.asarray(signal, dtype=float)
    if n_observed == 0:
        return -s  # exp(-(s+b)) / exp(-b), whatever the background
    return (_log_cdf_marginal(n_observed, s, background, background_sigma)
            - _log_cdf_marginal(n_observed, np.zeros(()), background, background_sigma))


def chi2_of_log_p(log_p) -> np.ndarray:
    """[max(0, Phi^-1(1 - p))]^2 from log p (accurate far in the tail)."""
    z = -special.ndtri_exp(np.minimum(np.asarray(log_p, dtype=float), 0.0))
    return np.where(z > 0, z, 0.0) ** 2


def signal_at_limit(cl: float, n_observed: int, background: float, background_sigma: float = 0.0) -> float:
    """Signal events s_UL with CLs(s_UL) = 1 - CL."""
    if not 0.5 < cl < 1:
        raise InputError(f"confidence level must be in (0.5, 1), got {cl}")
    target = np.log1p(-cl)
    if n_observed == 0:
        return float(-target)
    f = lambda s: float(log_cls(s, n_observed, background, background_sigma)) - target  # noqa: E731
    hi = 10.0 + 10 * n_observed
    while f(hi) > 0:
        hi *= 2
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-12))


class CountingTerm(LikelihoodTerm):
    """A counting search for B(production) x B(X -> invisible) (module docstring).

    ``ses(mX)`` is the single-event sensitivity at each mass (NaN where the search has none:
    such masses contribute 0).
    """

    likelihood = "poisson"

    def __init__(self, name: str, citation: Citation, production_key: str, n_observed: int,
                 background: float, background_sigma: float, ses: Callable[[np.ndarray], np.ndarray],
                 cl: float, mass_range=(0.0, np.inf), description: str = ""):
        if int(n_observed) != n_observed or n_observed < 0:
            raise DataError(f"{name}: observed events must be a whole number >= 0, got {n_observed!r}")
        if not (background >= 0 and background_sigma >= 0):
            raise DataError(f"{name}: background and its uncertainty must be >= 0, got {background!r}, "
                            f"{background_sigma!r}")
        self.name, self.citation, self.description = name, citation, description
        self.production_key = production_key
        self.observables = (production_key, "BR(X->invisible)")
        self.quantity = partial(missing_energy_rate, production_key=production_key)
        self.n_observed, self.background, self.background_sigma = int(n_observed), float(background), \
            float(background_sigma)
        self.ses = ses
        self.cl = float(cl)
        self.mass_range = tuple(mass_range)
        self.signal_at_limit = signal_at_limit(self.cl, self.n_observed, self.background, self.background_sigma)

    def upper_limit(self, mX) -> np.ndarray:
        """The rate at which this term reaches its confidence level (the published limit)."""
        return self.signal_at_limit * np.asarray(self.ses(np.asarray(mX, dtype=float)), dtype=float)

    def signal(self, predictions: Mapping[str, np.ndarray]) -> np.ndarray:
        x = self.quantity(predictions)
        if np.any(x < 0):
            raise InputError(f"likelihood term {self.name!r}: the constrained rate must be >= 0, got {np.min(x):g}")
        ses = np.asarray(self.ses(np.asarray(predictions["mX"], dtype=float)), dtype=float)
        ok = np.isfinite(ses) & (ses > 0)
        return np.where(ok, x / np.where(ok, ses, 1.0), 0.0)

    def _chi2(self, predictions):
        s = self.signal(predictions)
        return chi2_of_log_p(log_cls(s, self.n_observed, self.background, self.background_sigma))
