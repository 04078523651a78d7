"""Likelihood terms: the protocol, the term types, and the registry of measurements.

* :mod:`.core` -- :class:`LikelihoodTerm`, :class:`CombinedLikelihood`, :class:`Citation`;
* :mod:`.conventions` -- Gaussian terms and the half-Gaussian limit convention;
* :mod:`.measurements` -- a term from a measurement data file (``data/limits/*.yaml``);
* :mod:`.registry` -- :func:`get_term`, :func:`build_likelihood`, :func:`available_terms`.
"""
from __future__ import annotations

from .conventions import (
                          ChannelSum,
                          GaussianTerm,
                          MissingEnergyLimit,
                          UpperLimitTerm,
                          chi2_threshold_one_sided,
                          half_gaussian_sigma,
                          missing_energy_rate,
)
from .core import Citation, CombinedLikelihood, LikelihoodBase, LikelihoodTerm
from .registry import (
                          _REGISTRY,
                          available_terms,
                          build_likelihood,
                          describe_terms,
                          get_term,
                          measurement_files,
                          register_term,
)

__all__ = [
    "ChannelSum", "Citation", "CombinedLikelihood", "GaussianTerm", "LikelihoodBase", "LikelihoodTerm",
    "MissingEnergyLimit", "UpperLimitTerm", "_REGISTRY", "available_terms", "build_likelihood",
    "chi2_threshold_one_sided", "describe_terms", "get_term", "half_gaussian_sigma", "measurement_files",
    "missing_energy_rate", "register_term",
]
