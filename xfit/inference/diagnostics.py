"""What an experimentalist checks first after a HistFactory fit: pulls, impacts, goodness of fit.

Generic for any :class:`xfit.histfactory.HistFactoryModel` with a parameter of interest (POI)
and a fit result of :func:`xfit.histfactory.minimize` (``x``, ``nll``, ``fixed``).

Constraints (read from the pyhf layout of the model): a Gaussian-constrained parameter
(normsys, histosys, lumi, staterror) has its nominal value theta_0 = its auxiliary datum and
pre-fit width sigma_pre (1 for normsys/histosys, the relative uncertainty for staterror
gammas, the luminosity uncertainty for lumi); a Poisson-constrained one (shapesys gammas,
rate theta tau) has theta_0 = aux / tau (= 1) and sigma_pre = 1 / sqrt(tau).

* :func:`pulls` -- for every free constrained parameter (one entry per component, named as
  ``model.par_names``): ``value`` = (theta-hat - theta_0) / sigma_pre and ``error`` =
  sigma_post / sigma_pre, sigma_post the HESSE error (square root of the diagonal of the
  inverse of the exact Hessian of -ln L at the minimum).  Gammas (staterror, shapesys) are
  reported the same way -- around theta_0 = 1 in units of their own sigma_pre -- and every
  entry also carries ``theta``, ``theta_error``, ``theta0``, ``sigma_prefit``, ``modifier``.
* :func:`impacts` -- the shift of the POI when a nuisance parameter is fixed at
  theta-hat +- sigma_post (post-fit impact) and at theta_0 +- sigma_pre (pre-fit impact) and
  all other parameters refitted (from the best fit moved along the tangent of the conditional
  minimum, Newton starting with the best fit's Hessian; converged to :data:`IMPACT_EDM`):
  delta_mu = mu-hat(theta fixed) - mu-hat.  Sorted by max(|delta_mu_up|, |delta_mu_down|)
  post-fit, largest first.  Fixed values are clipped to the parameter's bounds.
* :func:`gof` -- the saturated-model goodness of fit.  The saturated model has every main bin
  at its observed count (lambda_b = n_b) and every auxiliary measurement at its datum, so
  t = 2 [-ln L(theta-hat) + ln L_sat]
    = sum_b 2 [lambda_b - n_b + n_b ln(n_b / lambda_b)]     (Poisson deviance of the main bins)
    + sum_Gauss (theta-hat - theta_0)^2 / sigma_pre^2 + sum_Poisson 2 [tau theta - a + a ln(a / (tau theta))]
  (the constraint part).  Convention for the degrees of freedom: each free constrained
  parameter comes with its own auxiliary measurement, so
  ndof = N_main + N_aux,free - N_free = N_main - N_free,unconstrained  (the number of main bins
  minus the free parameters that only the main bins constrain: normfactors, shapefactors);
  p = P(chi2_ndof > t) (Wilks; the asymptotic approximation is poor for bins with few
  events).  Also reported: the deviance alone with its own chi2 p-value for the same ndof.
* :func:`diagnostics_json` -- ``{"pulls", "impacts", "gof"}`` for ``xfit belle2 fit-sm --json``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc, xlogy  # chdtrc(k, x): chi2.sf(x, k), without importing scipy.stats

from ..errors import ConvergenceError, InputError
from ..histfactory import covariance, minimize
from ..histfactory.blocks import minimum_tangent

#: Convergence target (expected decrease of -ln L) of the refits of :func:`impacts`, 10 times below
#: :data:`~xfit.histfactory.minimizer.NEWTON_EDM`: their Newton iterations start with the best
#: fit's Hessian, whose expected decrease is an estimate; at this target each shift of the POI
#: is within ~1.5e-5 of a refit converged to 1e-16 on the Belle II workspace (2.5e-5 for refits
#: from the best fit to NEWTON_EDM), at about half their cost.
IMPACT_EDM = 1e-10

#: Modifier types whose parameters are per-bin gammas.
GAMMA_MODIFIERS = ("staterror", "shapesys")


@dataclass(frozen=True)
class Constraints:
    """Constrained parameter components of a model: index, name, theta_0, sigma_pre, type.

    ``kind`` is "normal" or "poisson"; ``tau`` the Poisson rate factor (nan for Gaussians);
    ``modifier`` the modifier type (normsys, histosys, staterror, shapesys, lumi).
    """

    index: np.ndarray
    names: tuple
    theta0: np.ndarray
    sigma: np.ndarray
    kind: tuple
    tau: np.ndarray
    modifier: tuple


def _layout(model):
    """The model's :class:`~xfit.histfactory.layout.Layout` (read from pyhf's config if the model
    has none: a pyhf model, or a workspace to build one from)."""
    lay = getattr(model, "layout", None)
    if lay is not None:
        return lay
    from ..histfactory.layout import Layout

    cfg_model = getattr(model, "pyhf_model", None)
    if cfg_model is None:
        ws = getattr(model, "workspace", None)
        if ws is None:
            raise InputError("the model has neither a pyhf model nor a workspace to read its constraints from")
        cfg_model = ws.model()
    return Layout.from_pyhf_config(cfg_model.config)


def constraints(model) -> Constraints:
    """The constrained parameters of ``model`` in its parameter order (see module docstring)."""
    lay = _layout(model)
    idx, names, th0, sig, kind, tau, mods = [], [], [], [], [], [], []
    pos = 0
    for term in lay.constraint_terms:
        sl = model.par_slices[term.name]
        n = sl.stop - sl.start
        aux = np.asarray(lay.auxdata[pos:pos + n], float)  # pyhf's auxdata: the terms' in auxdata_order
        pos += n
        width = np.asarray(term.widths, float)
        if term.pdf_type == "poisson":
            factors = np.asarray(term.values, float)
            theta0 = aux / factors
        else:
            factors = np.full(len(aux), math.nan)
            theta0 = aux
        for k in range(n):
            idx.append(sl.start + k)
            names.append(model.par_names[sl.start + k])
            th0.append(theta0[k])
            sig.append(width[k])
            kind.append(term.pdf_type)
            tau.append(factors[k])
            mods.append(term.modifier)
    order = np.argsort(idx)
    pick = lambda seq: tuple(seq[i] for i in order)  # noqa: E731
    return Constraints(np.asarray(idx, int)[order], pick(names), np.asarray(th0)[order], np.asarray(sig)[order],
                       pick(kind), np.asarray(tau)[order], pick(mods))


def _poi_index(model, poi) -> int:
    if poi is None:
        i = model.poi_index
        if i is None:
            raise InputError("the model has no parameter of interest; pass poi=<name or index>")
        return int(i)
    if isinstance(poi, str):
        return model.index(poi)
    return int(poi)


def _fixed(model, fit) -> np.ndarray:
    f = getattr(fit, "fixed", None)
    return np.asarray(model.fixed if f is None else f, bool)


def _fix_dict(model, fit) -> dict[int, float]:
    """The parameters held fixed in ``fit`` beyond the model's own, as a ``fix`` dict."""
    fixed = _fixed(model, fit)
    return {int(i): float(fit.x[i]) for i in np.flatnonzero(fixed & ~np.asarray(model.fixed, bool))}


def postfit_covariance(model, fit) -> np.ndarray:
    """HESSE covariance of all parameters at the best fit (0 rows and columns for fixed ones)."""
    fit = as_fit(model, fit)
    return covariance(model, fit.x, fixed=_fixed(model, fit))


def postfit_errors(model, fit, cov: np.ndarray | None = None) -> np.ndarray:
    """HESSE errors of all parameters at the best fit (0 for fixed ones); ``cov``: the
    :func:`postfit_covariance` if already computed."""
    cov = postfit_covariance(model, fit) if cov is None else cov
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))


def pulls(model, fit, errors: np.ndarray | None = None) -> dict[str, dict]:
    """{parameter component: {"value", "error", ...}} for every free constrained parameter."""
    fit = as_fit(model, fit)
    c = constraints(model)
    err = postfit_errors(model, fit) if errors is None else np.asarray(errors, float)
    free = ~_fixed(model, fit)
    out = {}
    for i, name, t0, s, mod in zip(c.index, c.names, c.theta0, c.sigma, c.modifier):
        if not free[i]:
            continue
        th = float(fit.x[i])
        out[name] = {"value": float((th - t0) / s), "error": float(err[i] / s), "theta": th,
                     "theta_error": float(err[i]),
                     "theta0": float(t0), "sigma_prefit": float(s), "modifier": mod}
    return out


def impacts(model, fit, poi=None, errors: np.ndarray | None = None, parameters=None) -> list[dict]:
    """Pre- and post-fit impacts on the POI of each free constrained parameter, largest first.

    ``parameters``: names (as in ``model.par_names``) to restrict to; default all.
    Each entry: name, delta_mu_up, delta_mu_down (post-fit), prefit_up, prefit_down, and the
    values the parameter was fixed at.
    """
    fit = as_fit(model, fit)
    ipoi = _poi_index(model, poi)
    c = constraints(model)
    err = postfit_errors(model, fit) if errors is None else np.asarray(errors, float)
    free = ~_fixed(model, fit)
    base_fix = _fix_dict(model, fit)
    lo, hi = model.bounds[:, 0], model.bounds[:, 1]
    mu_hat = float(fit.x[ipoi])
    if isinstance(parameters, str):  # not letter by letter
        raise InputError(f"impacts: parameters must be a list of names, got the string {parameters!r:.80}")
    wanted = None if parameters is None else set(parameters)
    unknown = sorted(wanted - set(c.names), key=str) if wanted is not None else []
    if unknown:
        shown = ", ".join(map(str, unknown[:3])) + (", ..." if len(unknown) > 3 else "")
        raise InputError(f"impacts: unknown parameter(s) {shown[:80]}; accepted: the model's constrained "
                         f"parameters, e.g. {', '.join(c.names[:3])}")
    x_hat = np.asarray(fit.x, float)
    _, g_hat, hess = model.nll_grad_hess(x_hat)
    at_bound = ((x_hat <= lo) & (g_hat > 0)) | ((x_hat >= hi) & (g_hat < 0))
    out = []
    for i, name, t0, s in zip(c.index, c.names, c.theta0, c.sigma):
        if not free[i] or i == ipoi or (wanted is not None and name not in wanted):
            continue
        th = float(fit.x[i])
        values = {"up": th + err[i], "down": th - err[i], "prefit_up": t0 + s, "prefit_down": t0 - s}
        start = _conditional_start(hess, ~free | at_bound, int(i))
        shifts = {}
        for key, v in values.items():
            v = float(np.clip(v, lo[i], hi[i]))
            values[key] = v
            fix = {**base_fix, int(i): v}
            try:
                r = None
                if start is not None:  # on the tangent through the best fit, Newton with the best fit's Hessian
                    tangent, hessian = start
                    r = minimize(model, init=x_hat + (v - th) * tangent, fix=fix, hessian=hessian,
                                 edm=IMPACT_EDM, raise_on_failure=False)
                if r is None or not r.valid:  # from the best fit, as a fit of its own
                    r = minimize(model, init=fit.x, fix=fix)
            except ConvergenceError:
                raise ConvergenceError(f"impact of {name}: the fit with it fixed at {v:.6g} did not converge") from None
            shifts[key] = float(r.x[ipoi]) - mu_hat
        out.append({"name": name, "delta_mu_up": shifts["up"], "delta_mu_down": shifts["down"],
                    "prefit_up": shifts["prefit_up"], "prefit_down": shifts["prefit_down"],
                    "theta_up": values["up"], "theta_down": values["down"],
                    "theta_prefit_up": values["prefit_up"], "theta_prefit_down": values["prefit_down"]})
    out.sort(key=lambda d: -max(abs(d["delta_mu_up"]), abs(d["delta_mu_down"])))
    return out


def _conditional_start(hess, held, i: int):
    """(dx/d theta_i, (factorised Hessian, free parameters)) of the refits with parameter ``i``
    held fixed near the best fit (``held``: the parameters fixed or at a bound there): the
    tangent -H_ff^-1 H_fi of the conditional minimum (implicit function theorem, 1 at ``i``)
    and the best fit's Hessian over the free ones, from which Newton starts
    (:func:`~xfit.histfactory.minimize`, ``hessian``).  None if that Hessian is not positive
    definite (the refits then start from the best fit with a Hessian of their own)."""
    if hess is None:  # the NLL is not finite at the best fit
        return None
    free = ~held
    free[i] = False
    try:
        fac = hess.factorize(free)
    except np.linalg.LinAlgError:
        return None
    tangent = minimum_tangent(hess, fac, i)
    tangent[i] = 1.0
    return tangent, (fac, free)


def poisson_deviance(observed, expected) -> np.ndarray:
    """2 [lambda - n + n ln(n / lambda)] per bin (0 ln 0 = 0)."""
    n = np.asarray(observed, float)
    lam = np.asarray(expected, float)
    return 2.0 * (lam - n + xlogy(n, n) - xlogy(n, lam))


def gof(model, fit) -> dict:
    """Saturated-model goodness of fit (module docstring): t, ndof, p-value and the parts."""
    fit = as_fit(model, fit)
    c = constraints(model)
    x = np.asarray(fit.x, float)
    expected = np.asarray(model.asimov_data(x)[0], float)
    observed = np.asarray(model.observed, float)
    dev = float(np.sum(poisson_deviance(observed, expected)))
    fixed = _fixed(model, fit)
    cons = 0.0
    for i, t0, s, kind, tau in zip(c.index, c.theta0, c.sigma, c.kind, c.tau):
        if kind == "normal":
            cons += ((x[i] - t0) / s) ** 2
        else:
            a = t0 * tau
            cons += float(poisson_deviance(a, tau * x[i]))
    constrained = np.zeros(model.npars, bool)
    constrained[c.index] = True
    n_free_unconstrained = int(np.sum(~fixed & ~constrained))
    n_main = len(observed)
    ndof = n_main - n_free_unconstrained
    t = dev + cons
    if ndof <= 0:
        raise InputError(f"saturated goodness of fit needs more main bins ({n_main}) than free "
                         f"unconstrained parameters ({n_free_unconstrained})")
    return {"t": float(t), "ndof": ndof, "p_value": float(chdtrc(ndof, t)),
            "deviance": dev, "deviance_p_value": float(chdtrc(ndof, dev)), "constraint_part": float(cons),
            "n_main_bins": n_main, "n_free_unconstrained": n_free_unconstrained,
            "convention": "t = 2[-lnL(fit) + lnL(saturated: main bins at data, aux at data)]; "
                          "ndof = main bins - free unconstrained parameters"}


def correlation(model, fit, cov: np.ndarray | None = None) -> np.ndarray:
    """Correlation matrix of the parameters at the best fit (0 rows for fixed parameters);
    ``cov``: the :func:`postfit_covariance` if already computed."""
    cov = postfit_covariance(model, fit) if cov is None else cov
    s = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = cov / np.outer(s, s)
    return np.where(np.outer(s, s) > 0, rho, 0.0)


@dataclass(frozen=True)
class _Point:
    x: np.ndarray
    fixed: np.ndarray


def as_fit(model, fit):
    """A fit result (``x``, ``fixed``) from a FitResult, an object with ``bestfit`` (e.g. the SM
    fit of :mod:`xfit.belle2.fit`) or a best-fit parameter vector (model's fixed parameters)."""
    if hasattr(fit, "x"):
        return fit
    x = getattr(fit, "bestfit", fit)
    x = np.asarray(x, dtype=float)
    if x.shape != (model.npars,):
        raise InputError(f"a best fit needs {model.npars} parameter values, got shape {x.shape}")
    return _Point(x, np.asarray(model.fixed, bool))


def diagnostics_json(model, fit=None, poi=None, n_impacts: int | None = None, with_impacts: bool = True) -> dict:
    """``{"pulls", "impacts", "gof"}`` (JSON-ready) for ``xfit belle2 fit-sm --json``.

    ``fit``: a best fit of ``model`` (FitResult, SM-fit result with ``bestfit``, or parameter
    vector; fitted here if None); ``n_impacts``: keep only the largest; ``with_impacts=False``
    skips the impacts (four refits per nuisance parameter).
    """
    fit = minimize(model) if fit is None else as_fit(model, fit)
    err = postfit_errors(model, fit)
    out = {"pulls": pulls(model, fit, errors=err), "gof": gof(model, fit)}
    if with_impacts:
        imp = impacts(model, fit, poi, errors=err)
        out["impacts"] = imp if n_impacts is None else imp[:n_impacts]
    return out
