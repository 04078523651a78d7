"""Inference on composed likelihoods.

* :class:`Fit` — one fit (MIGRAD + HESSE, MINOS on request), significance over the SM;
* :func:`profile_scan` — 1D/2D profile-likelihood scans (any parameter, m_X, or a prediction);
* :func:`coupling_limit`, :func:`limits_by_search` — limits on g_X versus m_X;
* :func:`sample_model` — emcee posteriors (resumable HDF5 chains), :class:`Chain` diagnostics;
* :func:`model_evidence`, :func:`sm_evidence`, :func:`bayes_factor` — model comparison;
* priors: :class:`Uniform`, :class:`LogUniform`, :class:`Gaussian`, :func:`parse_prior`.
"""
from .evidence import bayes_factor, model_evidence, sm_evidence
from .fit import Fit, FitResult, delta_chi2_for_sigma, significance_from_delta_chi2
from .limits import coupling_limit, limits_by_search
from .mcmc import Chain, sample_model
from .priors import Gaussian, LogUniform, TruncatedGaussian, Uniform, parse_prior
from .scan import ScanResult, profile_scan

__all__ = ["Fit", "FitResult", "significance_from_delta_chi2", "delta_chi2_for_sigma",
           "profile_scan", "ScanResult", "coupling_limit", "limits_by_search", "sample_model",
           "Chain", "model_evidence", "sm_evidence", "bayes_factor", "parse_prior", "Uniform",
           "LogUniform", "Gaussian", "TruncatedGaussian"]
