"""Inference: fits (:mod:`.fit`), grids and profile scans, posteriors, limits."""
from .fit import Fit, FitResult, significance_from_delta_chi2, delta_chi2_for_sigma

__all__ = ["Fit", "FitResult", "significance_from_delta_chi2", "delta_chi2_for_sigma"]
