"""The SM fit of the Belle II B+ -> K+ nu nubar likelihood and its significances.

Model: the published pyhf workspace (HEPData ins2947386; Belle II, arXiv:2311.14647), evaluated
with :mod:`xfit.histfactory`.  Parameter of interest ``mu`` = B(B+ -> K+ nu nubar) /
4.97e-6.  All 231 nuisance parameters are profiled.

* ``mu`` and ``mu_err``: maximum-likelihood estimate and the HESSE error (square root of the
  mu-mu element of the inverse Hessian of -ln L at the minimum);
* ``Z_bkg_only`` = sqrt(q0), q0 = 2 [ -ln L(mu=0) + ln L(mu_hat) ] (discovery test, one-sided:
  0 if mu_hat < 0; Cowan et al. arXiv:1007.1727 Eqs. 12 and 53,
  :mod:`xfit.inference.test_statistics`);
* ``Z_vs_SM`` = sign(mu_hat - 1) sqrt(t1), t1 = 2 [ -ln L(mu=1) + ln L(mu_hat) ]
  (Eq. 8, asymptotic/Wilks; positive for an excess over the SM).

The fits go through :mod:`xfit.inference.mle` (Newton with the exact Hessian, MIGRAD fallback).

Belle II (arXiv:2311.14647): mu = 4.6 +- 1.3, 3.5 sigma, 2.7 sigma.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..histfactory import HistFactoryModel
from ..inference import mle
from ..inference import test_statistics as ts
from ..inference.results import Result, to_jsonable
from . import files

_MODELS: dict[tuple, HistFactoryModel] = {}


def load_model(spec: dict | None = None) -> HistFactoryModel:
    """The fast model of the published workspace (cached per process for the default file)."""
    if spec is not None:
        return HistFactoryModel(spec)
    path = files.find_file(files.WORKSPACE_FILE)
    st = path.stat()
    key = (str(path), st.st_mtime, st.st_size)
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = HistFactoryModel(files.load_workspace(path))
    return _MODELS[key]


@dataclass(repr=False)
class SMFit(Result):
    """Result of :func:`fit_sm` (see module docstring for the definitions)."""

    mu: float
    mu_err: float
    Z_bkg_only: float
    Z_vs_SM: float
    fit_seconds: float
    nll_min: float
    nll_mu0: float
    nll_mu1: float
    bestfit: np.ndarray = field(repr=False)

    def summary(self) -> dict:
        """The JSON printed by ``xfit belle2 fit-sm --json``."""
        return {"mu": self.mu, "mu_err": self.mu_err, "Z_bkg_only": self.Z_bkg_only,
                "Z_vs_SM": self.Z_vs_SM, "fit_seconds": self.fit_seconds}

    def as_dict(self) -> dict:
        """Every field (the best-fit vector as a list)."""
        return Result.to_dict(self)

    def to_dict(self) -> dict:
        return to_jsonable(self.summary())


def fit_sm(model: HistFactoryModel | None = None, method: str = "newton") -> SMFit:
    """Fit mu with all nuisances profiled; significances vs mu = 0 and mu = 1.

    ``fit_seconds`` is the wall time of one full fit from the suggested initial values
    (minimisation + HESSE covariance), loading excluded.  Raises ConvergenceError if a fit
    does not converge.
    """
    model = load_model() if model is None else model
    i = model.poi_index
    t0 = time.perf_counter()
    best = mle.fit(model, method=method)
    cov = mle.hesse(model, best.x, fixed=best.fixed, globals_only=True)
    fit_seconds = time.perf_counter() - t0
    mu_hat = float(best.x[i])
    mu_err = math.sqrt(cov[i, i])
    r0 = mle.fixed_poi_fit(model, 0.0, i, init=best.x, method=method)
    r1 = mle.fixed_poi_fit(model, 1.0, i, init=best.x, method=method)
    q0 = ts.q0(r0.nll, best.nll, mu_hat)
    t1 = ts.t_mu(r1.nll, best.nll)
    return SMFit(
        mu=mu_hat, mu_err=mu_err,
        Z_bkg_only=ts.significance(q0),
        Z_vs_SM=math.copysign(ts.significance(t1), mu_hat - 1.0),
        fit_seconds=fit_seconds, nll_min=best.nll, nll_mu0=r0.nll, nll_mu1=r1.nll, bestfit=best.x,
    )


def stock_pyhf_fit(spec: dict | None = None, tolerance: float | None = None, significances: bool = True) -> dict:
    """The same quantities with stock pyhf (numpy backend, Minuit optimizer) -- slow (~10-30 s per fit).

    ``tolerance``: Minuit tolerance passed to pyhf (pyhf's default 0.1 stops MIGRAD at an EDM of
    ~6e-4 here, with mu about 0.009 above the minimum; 1e-3 reaches it).  Returns mu, mu_err
    (pyhf's HESSE), Z_bkg_only, Z_vs_SM (from default-tolerance fixed-mu fits), timings.
    """
    import pyhf

    spec = files.load_workspace() if spec is None else spec
    saved = pyhf.get_backend()
    opt = pyhf.optimize.minuit_optimizer(verbose=0) if tolerance is None else \
        pyhf.optimize.minuit_optimizer(verbose=0, tolerance=tolerance)
    pyhf.set_backend("numpy", opt)
    try:
        ws = pyhf.Workspace(spec)
        model = ws.model()
        data = ws.data(model)
        t0 = time.perf_counter()
        pars, twice_nll = pyhf.infer.mle.fit(data, model, return_uncertainties=True, return_fitted_val=True)
        seconds = time.perf_counter() - t0
        i = model.config.poi_index
        out = {"poi": model.config.poi_name, "mu": float(pars[i, 0]), "mu_err": float(pars[i, 1]),
               "fit_seconds": seconds, "twice_nll": float(twice_nll)}
        if significances:
            pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0))
            _, f0 = pyhf.infer.mle.fixed_poi_fit(0.0, data, model, return_fitted_val=True)
            _, f1 = pyhf.infer.mle.fixed_poi_fit(1.0, data, model, return_fitted_val=True)
            out["twice_nll_mu0"], out["twice_nll_mu1"] = float(f0), float(f1)
            out["Z_bkg_only"] = ts.significance(float(f0) - float(twice_nll))
            out["Z_vs_SM"] = math.copysign(ts.significance(float(f1) - float(twice_nll)), out["mu"] - 1.0)
        return out
    finally:
        pyhf.set_backend(*saved)
