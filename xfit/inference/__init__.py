"""Inference on composed likelihoods.

* :class:`Fit` — one fit (MIGRAD + HESSE, MINOS on request), significance over the SM;
* :func:`profile_scan` — 1D/2D profile-likelihood scans (any parameter, m_X, or a prediction);
* :func:`coupling_limit`, :func:`limits_by_search` — limits on g_X versus m_X;
* :func:`sample_model` — emcee posteriors (resumable HDF5 chains), :class:`Chain` diagnostics;
* :func:`model_evidence`, :func:`sm_evidence`, :func:`bayes_factor` — model comparison;
* priors: :class:`Uniform`, :class:`LogUniform`, :class:`Gaussian`, :func:`parse_prior`.

The statistics stack (split like pyhf's ``infer``; see docs/inference.md):

* :mod:`.mle` -- the one fit helper (iminuit for chi2 objectives, Newton/MIGRAD for
  HistFactory -ln L; it owns errordef);
* :mod:`.test_statistics` -- q0, q_mu, q~_mu, t_mu (Cowan et al., arXiv:1007.1727);
* :mod:`.calculators` -- :class:`AsymptoticCalculator` (CLs+b, CLb, CLs, expected band);
* :mod:`.intervals` -- CLs upper limits with expected bands;
* :mod:`.results` -- the result base type :class:`Result` and the JSON policy :func:`to_jsonable`;
* :mod:`.store` -- the resumable JSON-lines :class:`~xfit.inference.store.ResultStore`.
"""
from .calculators import AsymptoticCalculator, Calculator, HypoTestResult
from .evidence import bayes_factor, model_evidence, sm_evidence
from .fit import Fit, FitResult, delta_chi2_for_sigma, significance_from_delta_chi2
from .intervals import UpperLimitResult, upper_limit
from .limits import coupling_limit, limits_by_search
from .mcmc import Chain, sample_model
from .priors import Gaussian, LogUniform, TruncatedGaussian, Uniform, parse_prior
from .results import Result, to_jsonable
from .scan import ScanResult, profile_scan

__all__ = [
           "AsymptoticCalculator",
           "Calculator",
           "Chain",
           "Fit",
           "FitResult",
           "Gaussian",
           "HypoTestResult",
           "LogUniform",
           "Result",
           "ScanResult",
           "TruncatedGaussian",
           "Uniform",
           "UpperLimitResult",
           "bayes_factor",
           "coupling_limit",
           "delta_chi2_for_sigma",
           "limits_by_search",
           "model_evidence",
           "parse_prior",
           "profile_scan",
           "sample_model",
           "significance_from_delta_chi2",
           "sm_evidence",
           "to_jsonable",
           "upper_limit",
]
