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
from importlib import import_module

#: public name -> submodule that defines it; imported on first use (PEP 562), so that
#: ``import xfit.inference.results`` (the CLI's JSON policy) does not load scipy.stats, emcee, ...
_WHERE = {
    "AsymptoticCalculator": "calculators", "Calculator": "calculators", "HypoTestResult": "calculators",
    "bayes_factor": "evidence", "model_evidence": "evidence", "sm_evidence": "evidence",
    "Fit": "fit", "FitResult": "fit", "delta_chi2_for_sigma": "fit", "significance_from_delta_chi2": "fit",
    "UpperLimitResult": "intervals", "upper_limit": "intervals",
    "coupling_limit": "limits", "limits_by_search": "limits",
    "Chain": "mcmc", "sample_model": "mcmc",
    "Gaussian": "priors", "LogUniform": "priors", "TruncatedGaussian": "priors", "Uniform": "priors",
    "parse_prior": "priors",
    "Result": "results", "to_jsonable": "results",
    "ScanResult": "scan", "profile_scan": "scan",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_WHERE))


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
