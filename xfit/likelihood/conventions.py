"""Generic term types: Gaussian measurements and the half-Gaussian limit convention.

A published upper limit x < x_UL at confidence level CL, where nothing better is public,
becomes a half-Gaussian in the constrained rate x >= 0 with mean 0 and width
sigma = x_UL / Phi^-1(CL), i.e. chi2 = (x / sigma)^2 (:class:`UpperLimitTerm`).  At the
published limit chi2 = [Phi^-1(CL)]^2, so the one-sided p-value of x_UL is exactly 1 - CL
(chi2 = 1.642 at a 90 % CL limit, 2.706 at a 95 % CL limit).  Counting experiments and
limits with a published expected limit have faithful likelihoods
(:mod:`xfit.likelihood.counting`, :mod:`xfit.likelihood.shifted`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache, partial

import numpy as np

from ..errors import DataError, InputError, require_finite_number
from .core import Citation, LikelihoodTerm


def missing_energy_rate(predictions: Mapping[str, np.ndarray], production_key: str) -> np.ndarray:
    """Rate of a missing-energy signature: B(production) x B(X -> invisible)."""
    return np.asarray(predictions[production_key]) * np.asarray(predictions["BR(X->invisible)"])


#: Phi^-1(CL) at the confidence levels of the shipped limits, exactly as scipy.special.ndtri
#: returns them (tests/likelihood/test_conventions.py compares): building these terms imports
#: no scipy.special (0.2 s), and every chi2 stays the same to the last bit.
ONE_SIDED_Z = {0.90: 1.2815515655446004, 0.95: 1.6448536269514722}


def _confidence_level(cl) -> float:
    """``cl`` as a float, or InputError naming it (text, None, NaN): _one_sided_z checks the range."""
    return require_finite_number(cl, "cl (confidence level)")


@lru_cache(maxsize=64)
def _one_sided_z(cl: float) -> float:
    """Phi^-1(CL), checked and computed once per confidence level (chi2 is a hot loop)."""
    if not 0.5 < cl < 1.0:
        raise InputError(f"confidence level must be in (0.5, 1), got {cl}")
    if cl in ONE_SIDED_Z:
        return ONE_SIDED_Z[cl]
    from scipy.special import ndtri  # what scipy.stats.norm.ppf calls; scipy.stats costs 0.3 s to import

    return float(ndtri(cl))


def half_gaussian_sigma(upper_limit, cl: float):
    """Width of the limit convention: sigma = x_UL / Phi^-1(CL) (see module docstring)."""
    return np.asarray(upper_limit, dtype=float) / _one_sided_z(_confidence_level(cl))


def chi2_threshold_one_sided(cl: float) -> float:
    """Delta chi2 at which a one-sided limit reaches confidence level ``cl``: [Phi^-1(CL)]^2."""
    return _one_sided_z(_confidence_level(cl)) ** 2


class GaussianTerm(LikelihoodTerm):
    """chi2 = ((f(predictions) - mean) / sigma)^2 for a measured quantity."""

    likelihood = "gaussian"

    def __init__(self, name: str, citation: Citation, observables: tuple[str, ...],
                 quantity: Callable[[Mapping[str, np.ndarray]], np.ndarray],
                 mean: float, sigma: float, mass_range=(0.0, np.inf), description: str = ""):
        self.name, self.citation, self.observables = name, citation, tuple(observables)
        self.quantity, self.mean, self.sigma = quantity, float(mean), float(sigma)
        self.mass_range, self.description = tuple(mass_range), description

    def _chi2(self, predictions):
        return ((self.quantity(predictions) - self.mean) / self.sigma) ** 2


class UpperLimitTerm(LikelihoodTerm):
    """A published upper limit x < x_UL(m_X) at confidence level ``cl``, as a half-Gaussian.

    ``quantity(predictions)`` gives the constrained rate; ``upper_limit(mX)`` the published
    limit at each mass (NaN or inf where there is none: such masses contribute 0).
    """

    likelihood = "half-gaussian"

    def __init__(self, name: str, citation: Citation, observables: tuple[str, ...],
                 quantity: Callable[[Mapping[str, np.ndarray]], np.ndarray],
                 upper_limit: Callable[[np.ndarray], np.ndarray] | float, cl: float,
                 mass_range=(0.0, np.inf), description: str = ""):
        self.name, self.citation, self.observables = name, citation, tuple(observables)
        self.quantity, self.cl = quantity, float(cl)
        self._upper_limit = upper_limit
        self.mass_range, self.description = tuple(mass_range), description
        half_gaussian_sigma(1.0, self.cl)  # validates cl

    def upper_limit(self, mX) -> np.ndarray:
        if callable(self._upper_limit):
            return np.asarray(self._upper_limit(np.asarray(mX, dtype=float)), dtype=float)
        return np.full(np.shape(mX), float(self._upper_limit))

    def _chi2(self, predictions):
        ul = self.upper_limit(predictions["mX"])
        sigma = half_gaussian_sigma(ul, self.cl)
        x = self.quantity(predictions)
        if np.any(x < 0):
            raise InputError(f"likelihood term {self.name!r}: the constrained rate must be >= 0, got {np.min(x):g}")
        ok = np.isfinite(sigma) & (sigma > 0)
        return np.where(ok, (x / np.where(ok, sigma, 1.0)) ** 2, 0.0)


class MissingEnergyLimit(UpperLimitTerm):
    """A published limit on a missing-energy rate: B(production) x B(X -> invisible) < UL.

    ``production_key`` is the prediction key of the production rate (e.g. "BR(K+->pi+X)");
    the limit convention is that of :class:`UpperLimitTerm`.
    """

    def __init__(self, name: str, citation: Citation, production_key: str,
                 upper_limit: Callable[[np.ndarray], np.ndarray] | float, cl: float,
                 mass_range=(0.0, np.inf), description: str = ""):
        super().__init__(name, citation, (production_key, "BR(X->invisible)"),
                         quantity=partial(missing_energy_rate, production_key=production_key),
                         upper_limit=upper_limit, cl=cl, mass_range=mass_range, description=description)
        self.production_key = production_key


def channel_mass_range(name: str, entry: Mapping) -> tuple[str, tuple[float, float]]:
    """(production key, (0, m_parent - m_daughter)) of a data-file entry with an ``endpoint``."""
    from ..physics.meson_decays import get_channel, threshold

    key = entry["observable"]
    try:
        channel = get_channel(key)
    except InputError as exc:
        raise DataError(f"{name}: data file entry {exc}") from None
    if tuple(entry.get("endpoint") or (channel.parent, channel.daughter)) != (channel.parent, channel.daughter):
        raise DataError(f"{name}: {key} has endpoint {entry['endpoint']}, but the channel is "
                        f"{channel.parent} -> {channel.daughter}")
    return key, (0.0, threshold(channel))


class ChannelSum(LikelihoodTerm):
    """Several channel terms of one publication, summed (e.g. Belle B -> pi/rho E_miss)."""

    def __init__(self, name: str, citation: Citation, channels, description: str = ""):
        self.name, self.citation, self.description = name, citation, description
        self.channels = tuple(channels)
        self.observables = tuple(t.production_key for t in self.channels) + ("BR(X->invisible)",)
        self.mass_range = (0.0, max(t.mass_range[1] for t in self.channels))
        cls = {getattr(t, "cl", None) for t in self.channels}
        self.cl = cls.pop() if len(cls) == 1 else None

    def upper_limits(self) -> dict[str, float]:
        """The published limit of each channel, by prediction key."""
        return {t.production_key: float(t.upper_limit(0.0)) for t in self.channels}

    def chi2_by_channel(self, predictions) -> dict[str, np.ndarray]:
        return {t.production_key: t.chi2(predictions) for t in self.channels}

    def _chi2(self, predictions):
        return sum(t.chi2(predictions) for t in self.channels)


def shifted_gaussian_parameters(observed, expected, cl: float) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sigma) of the Gaussian in the rate that reproduces both a published observed and
    expected upper limit at confidence level ``cl`` with xfit's limit rule (Delta chi2 =
    z^2, z = Phi^-1(CL), from the minimum over rates >= 0):

    sigma = UL_exp / z (the expected limit: no signal, mean 0); mean = UL_obs - z sigma when
    UL_obs >= UL_exp (an excess: the minimum is at the mean), else
    mean = (UL_obs^2 - z^2 sigma^2) / (2 UL_obs) < 0 (a deficit: the minimum is at rate 0 and
    Delta chi2(UL_obs) = (UL_obs^2 - 2 UL_obs mean) / sigma^2 = z^2)."""
    obs, exp = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    z = _one_sided_z(float(cl))
    sigma = exp / z
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(obs >= exp, obs - z * sigma, (obs**2 - (z * sigma) ** 2) / (2 * obs))
    return mean, sigma


class ShiftedGaussianLimit(MissingEnergyLimit):
    """A published limit with its expected limit: a Gaussian in the rate whose mean and width
    reproduce both (:func:`shifted_gaussian_parameters`), instead of a zero-centred one.

    ``expected_limit(mX)`` is the published expected (median, background-only) limit."""

    likelihood = "shifted-gaussian"

    def __init__(self, name: str, citation: Citation, production_key: str, upper_limit, expected_limit, cl: float,
                 mass_range=(0.0, np.inf), description: str = ""):
        super().__init__(name, citation, production_key, upper_limit, cl, mass_range, description)
        self.expected_limit = expected_limit

    def _chi2(self, predictions):
        m = predictions["mX"]
        mean, sigma = shifted_gaussian_parameters(self.upper_limit(m), self.expected_limit(np.asarray(m, float)),
                                                  self.cl)
        x = self.quantity(predictions)
        if np.any(x < 0):
            raise InputError(f"likelihood term {self.name!r}: the constrained rate must be >= 0, got {np.min(x):g}")
        ok = np.isfinite(sigma) & (sigma > 0) & np.isfinite(mean)
        # chi2 relative to rate 0, so that masses without data (0) and with data compare alike
        safe = np.where(ok, sigma, 1.0)
        return np.where(ok, ((x - mean) ** 2 - mean**2) / safe**2, 0.0)
