"""A general, fast HistFactory backend for any pyhf workspace (pyhf schema 1.0.0).

Nothing here knows about a particular analysis.  Public names:

* :class:`HistFactoryModel` -- the compiled model: ``nll``, ``nll_and_grad``, ``nll_grad_hess``
  (exact), ``asimov_data``, ``with_data``, ``set_data``, parameter layout as pyhf's;
* :class:`ExtraSample` -- a sample added to a published workspace with its own normfactor;
* :func:`minimize` (Newton with the exact block Hessian, MIGRAD fallback), :func:`covariance`,
  :func:`numerical_hessian`, :class:`FitResult`.
"""
from .core import (
    NEWTON_EDM,
    SUPPORTED_MODIFIERS,
    ExtraSample,
    FitResult,
    HessianBlocks,
    HistFactoryModel,
    covariance,
    minimize,
    numerical_hessian,
)

__all__ = ["HistFactoryModel", "ExtraSample", "FitResult", "HessianBlocks", "minimize", "covariance",
           "numerical_hessian", "NEWTON_EDM", "SUPPORTED_MODIFIERS"]
