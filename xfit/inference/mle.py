"""Maximum-likelihood fits: the one place that chooses the minimiser and its errordef.

Two kinds of objective:

* **chi2 = -2 ln L** of a composed likelihood as a function of a model's parameters
  (:class:`xfit.inference.fit.Fit`, profile scans): iminuit MIGRAD with ``errordef = 1``
  (:data:`ERRORDEF_CHI2`), :func:`migrad`.  This module holds the only Minuit set-up of
  xfit outside :mod:`xfit.histfactory` (whose Newton minimiser has its own MIGRAD fallback).
* **-ln L** of a HistFactory model (:class:`xfit.histfactory.HistFactoryModel`):
  ``errordef = 0.5`` (:data:`ERRORDEF_NLL`), minimised by :func:`xfit.histfactory.minimize`
  (projected Newton with the exact Hessian) with MIGRAD as fallback, :func:`fit`,
  :func:`fixed_poi_fit`; :func:`hesse` gives the covariance (inverse Hessian of -ln L).

pyhf's ``infer.mle`` works with twice the NLL; :func:`twice_nll` converts.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConvergenceError

#: errordef of a chi2 = -2 ln L objective (a 1 sigma error is Delta chi2 = 1).
ERRORDEF_CHI2 = 1.0
#: errordef of a -ln L objective (a 1 sigma error is Delta(-ln L) = 0.5).
ERRORDEF_NLL = 0.5


# --- chi2 objectives of model parameters (iminuit) -----------------------------------------

def migrad(objective: Callable[..., float], names: Sequence[str], start: Mapping[str, float],
           limits: Mapping[str, tuple] | None = None, fixed: Mapping[str, float] | None = None,
           strategy: int | None = None, errordef: float = ERRORDEF_CHI2, retry: bool = True,
           grad: Callable[..., Any] | None = None):
    """MIGRAD on ``objective(*values)`` (parameters ``names``, starting at ``start``).

    ``limits``: {name: (lo, hi)} with None for no bound; ``fixed``: {name: value} held fixed;
    ``strategy``: Minuit strategy (None: iminuit's default, 1); ``retry``: run MIGRAD once
    more from where it stopped if the first call is not valid; ``grad``: the gradient of the
    objective (same arguments; None: iminuit's numerical one).  Returns ``(minuit, valid)``.
    """
    from iminuit import Minuit

    m = Minuit(objective, *[float(start[p]) for p in names], name=list(names), grad=grad)
    m.errordef = errordef
    if strategy is not None:
        m.strategy = strategy
    for p, lim in (limits or {}).items():
        m.limits[p] = lim
    for p, v in (fixed or {}).items():
        m.values[p] = v
        m.fixed[p] = True
    m.migrad()
    if retry and not m.valid:
        m.migrad()  # one retry from where it stopped
    return m, bool(m.valid)


# --- HistFactory models (-ln L) ------------------------------------------------------------

def fit(model, init=None, fix: Mapping[int, float] | None = None, method: str = "newton",
        fallback: bool = True, retries: Sequence[tuple[Any, str]] = (), raise_on_failure: bool = True,
        hessian: tuple | None = None):
    """Minimise -ln L of a HistFactory ``model`` over its free parameters (bounds respected).

    ``init``: starting vector (warm start; default the suggested initial values); ``fix``:
    {parameter index: value} held fixed besides the model's fixed parameters; ``method``:
    "newton" (default) or "migrad".  If the fit does not converge, each of ``retries``
    ((init, method) pairs) is tried in turn, then (``fallback``) MIGRAD from ``init``.
    Returns :class:`xfit.histfactory.FitResult`; raises :class:`ConvergenceError` when every
    attempt fails (or, with ``raise_on_failure=False``, returns the last attempt with
    ``valid`` False).  ``hessian``: the ``hessian`` of a Newton fit nearby, to start the first
    attempt with (see :func:`xfit.histfactory.minimize`).
    """
    from ..histfactory import minimize

    attempts = [(init, method), *retries]
    if fallback and method != "migrad":
        attempts.append((init, "migrad"))
    for k, (x0, meth) in enumerate(attempts):
        last = k == len(attempts) - 1
        try:
            return minimize(model, init=x0, fix=fix, method=meth, raise_on_failure=raise_on_failure or not last,
                            hessian=hessian if k == 0 else None)
        except ConvergenceError:
            if last:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def fixed_poi_fit(model, poi_value: float, poi_index: int | None = None, init=None,
                  fix: Mapping[int, float] | None = None, **kw):
    """:func:`fit` with the parameter of interest fixed at ``poi_value`` (pyhf's
    ``fixed_poi_fit``); ``fix``: other parameters held fixed as well."""
    i = model.poi_index if poi_index is None else int(poi_index)
    return fit(model, init=init, fix={**dict(fix or {}), i: float(poi_value)}, **kw)


def hesse(model, x, fixed=None, globals_only: bool = False) -> np.ndarray:
    """Covariance at ``x``: the inverse Hessian of -ln L (errordef 0.5) over the free
    parameters; rows and columns of fixed parameters are 0 (see
    :func:`xfit.histfactory.covariance`)."""
    from ..histfactory import covariance

    return covariance(model, x, fixed=fixed, globals_only=globals_only)


def twice_nll(nll: float) -> float:
    """-2 ln L from -ln L (pyhf's ``fitted_val``)."""
    return 2.0 * float(nll)


__all__ = ["ERRORDEF_CHI2", "ERRORDEF_NLL", "fit", "fixed_poi_fit", "hesse", "migrad", "twice_nll"]
