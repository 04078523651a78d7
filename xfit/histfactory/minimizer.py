"""Minimisation of -ln L: projected Newton with the exact block Hessian, MIGRAD fallback.

:func:`minimize` runs a projected Newton method (bounds by an active set, Levenberg damping
while the Hessian is not positive definite, Armijo backtracking), converged when the expected
decrease g.H^-1.g/2 < :data:`NEWTON_EDM`; the Newton system is solved with the block
factorisation of :mod:`.blocks`.  iminuit MIGRAD with the analytic gradient is available as
``method="migrad"`` (cross-checks, fallback).  :func:`covariance` inverts the exact Hessian
(what HESSE estimates numerically); :func:`numerical_hessian` differentiates the gradient.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError, InputError, require_finite_number
from . import evaluate
from .model import HistFactoryModel


@dataclass
class FitResult:
    """Outcome of :func:`minimize`: best-fit vector, NLL, evaluations, convergence measure.

    ``edm`` is the expected distance to the minimum g.H^-1.g / 2 (Newton) or MIGRAD's EDM.
    """

    x: np.ndarray
    nll: float
    nfcn: int
    edm: float
    valid: bool
    fixed: np.ndarray
    method: str = "newton"
    grad: np.ndarray | None = None  # gradient of -ln L at x (Newton only)
    #: the factorised Hessian (:class:`~.blocks.BlockSolver`) and its free parameters with
    #: which Newton converged (Newton only): the ``hessian`` of a fit nearby
    hessian: tuple | None = None


#: Convergence target of the Newton minimiser: expected NLL decrease g.H^-1.g/2.
NEWTON_EDM = 1e-9
#: Expected decrease (g.H^-1.g/2 of a Fisher-scoring step) above which the next step is a
#: Fisher-scoring step as well, without trying the exact Hessian first (far from the minimum).
FISHER_EDM = 1.0
#: Sufficient-decrease factor of the line search (Armijo): a step is taken if -ln L drops by
#: at least ARMIJO times the first-order change g.(x_new - x).
ARMIJO = 1e-4
#: A step that fails the line search while the expected decrease is below PRECISION_EDM x the
#: target is taken as converged: the NLL is at its numerical precision.
PRECISION_EDM = 100.0
#: MIGRAD tolerance for method="migrad" (EDM < 0.002 * tol * 0.5).
MIGRAD_TOL = 0.001


def checked_fix(model, fix) -> dict[int, float]:
    """``fix`` ({parameter index: value}) as {int: float}; InputError unless each index is an
    integer in 0..npars-1 and each value a finite number."""
    out = {}
    for i, v in (fix or {}).items():
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < model.npars:
            raise InputError(f"fix: parameter index {str(i)[:80]!r} not known; accepted: integers 0..{model.npars - 1}")
        out[int(i)] = require_finite_number(v, f"fix: value of parameter {int(i)}")
    return out


def _fixed_mask(model, fix):
    fixed = model.fixed.copy()
    x_fix = checked_fix(model, fix)
    fixed[list(x_fix)] = True
    return fixed, x_fix


def minimize(model: HistFactoryModel, init=None, fix: dict[int, float] | None = None,
             method: str = "newton", max_iter: int = 200, edm: float = NEWTON_EDM,
             raise_on_failure: bool = True, hessian: tuple | None = None) -> FitResult:
    """Minimise the NLL over the free parameters (bounds respected).

    ``init``: starting vector (warm start), default the model's suggested initial values;
    ``fix``: {parameter index: value} held fixed in addition to the model's fixed parameters.
    ``method``: "newton" (projected Newton with the exact Hessian, default), "migrad"
    (iminuit MIGRAD with the analytic gradient, tolerance :data:`MIGRAD_TOL`) or "auto"
    (Newton, and MIGRAD from Newton's last point if Newton does not converge).
    ``hessian``: the ``hessian`` of a fit at a nearby point of the same model (Newton
    starts with it, as it reuses a factorised Hessian from an earlier iterate while the steps
    converge fast, see :func:`_newton`).
    Raises :class:`ConvergenceError` if the minimum is not reached.
    """
    if not (isinstance(edm, (int, float)) and 0.0 < edm < math.inf):
        raise InputError(f"edm (convergence target) must be a positive finite number, got {str(edm)[:80]}")
    x = np.array(model.init if init is None else init, dtype=float)
    if x.shape != (model.npars,):
        raise InputError(f"initial vector needs {model.npars} values, got shape {x.shape}")
    fixed, x_fix = _fixed_mask(model, fix)
    for i, v in x_fix.items():
        x[i] = v
    lo, hi = model.bounds[:, 0], model.bounds[:, 1]
    x = np.where(fixed, x, np.clip(x, lo, hi))
    if method == "migrad":
        res = _migrad(model, x, fixed)
    elif method in ("newton", "auto"):
        res = _newton(model, x, fixed, max_iter=max_iter, edm_target=edm, hessian=hessian)
        if method == "auto" and not res.valid:
            start = res.x if math.isfinite(res.nll) else x
            fallback = _migrad(model, start, fixed)
            fallback.nfcn += res.nfcn
            fallback.method = "newton+migrad"
            res = fallback
    else:
        raise InputError(f"unknown minimisation method {method!r}; accepted: 'newton', 'migrad', 'auto'")
    if raise_on_failure and not res.valid:
        if not math.isfinite(model.nll(x)):  # only on failure: no extra evaluation in a fit that converges
            raise ConvergenceError("-ln L is not finite at the start point: an expected bin yield is not > 0 "
                                   "(or a value is NaN); start elsewhere")
        raise ConvergenceError(
            f"{res.method} did not converge (edm {res.edm:.3g} after {res.nfcn} evaluations"
            + (f", fixed {sorted(x_fix)}" if x_fix else "") + ")"
        )
    return res


def _newton(model, x, fixed, max_iter, edm_target, hessian=None) -> FitResult:
    """Projected Newton iterations with the block-structured exact Hessian.

    Where the exact Hessian is not positive definite, a step with its Gauss-Newton part
    (:func:`~.evaluate.gauss_newton`, Fisher scoring); Levenberg damping (added to the
    diagonal) while that is not positive definite either or its step fails, lowered by 100
    after every full step.  Convergence is only declared with the exact, undamped Hessian.
    The factorised Hessian is reused for further steps
    while they converge fast (a reused step needs only the gradient); it is recomputed at the
    current point when the expected decrease falls by less than a factor 5 per step, when the
    line search shortens a step, or when the set of parameters at their bounds changes.
    ``hessian`` (solver, free): a factorised Hessian of a fit nearby to start with, under the
    same rules (used while its free set is the current one and the steps converge fast).
    """
    lo, hi = np.ascontiguousarray(model.bounds[:, 0]), np.ascontiguousarray(model.bounds[:, 1])
    kern = model._kernel
    free_of, trial_point = (kern.free_set, kern.trial_point) if kern is not None else (free_set, _trial_point)
    f, g = model.nll_and_grad(x)
    nfcn = 1
    if not math.isfinite(f):
        return FitResult(x, f, nfcn, math.inf, False, fixed)
    damping, edm, last_edm = 0.0, math.inf, math.inf
    Hb = fac = fac_free = None
    if hessian is not None:
        fac, fac_free = hessian
    approx = False  # Hb is the Gauss-Newton part, not the exact Hessian
    fisher_next = False  # far from the minimum after a Fisher step: the next one is one too
    for _ in range(max_iter):
        free = free_of(x, g, lo, hi, fixed)
        if fac is not None and not (free == fac_free).all():
            fac = None
        if fac is None:
            if Hb is None:
                if fisher_next:
                    Hb, approx = evaluate.gauss_newton(model, x), True
                else:
                    Hb, approx = model.nll_grad_hess(x)[2], False
                nfcn += 1
                fisher_next = False
            try:
                fac = Hb.factorize(free, damping)
            except np.linalg.LinAlgError:
                if damping == 0.0 and not approx:  # not positive definite: Fisher scoring
                    Hb, approx = evaluate.gauss_newton(model, x), True
                    continue
                damping = 1e-3 if damping == 0.0 else 10.0 * damping
                if damping > 1e10:
                    break
                continue
            fac_free, last_edm = free, math.inf
        step = fac.solve(g)
        edm = 0.5 * float(g @ step)
        if edm < edm_target:
            if damping == 0.0 and not approx:
                return FitResult(x, f, nfcn, edm, True, fixed, grad=g, hessian=(fac, fac_free))
            damping, fac = 0.0, None  # confirm with the exact, undamped Hessian
            if approx:
                Hb = None
            continue
        if edm > 0.2 * last_edm or edm < 0:  # the reused Hessian no longer converges fast
            fac = Hb = None
            continue
        last_edm = edm
        t, accepted = 1.0, False
        while t > 1e-8:  # the gradient comes with the value: most full steps are accepted
            xn, slope = trial_point(x, step, t, lo, hi, free, g)
            fn, gn = model.nll_and_grad(xn)
            nfcn += 1
            if math.isfinite(fn) and fn <= f + ARMIJO * slope:
                accepted = True
                break
            t *= 0.25
        if accepted:
            x, f, g = xn, fn, gn
            fisher_next = approx and damping == 0.0 and t == 1.0 and edm > FISHER_EDM
            Hb = None
            if t < 1.0 or damping or approx:
                fac = None
                if t == 1.0:
                    damping = damping * 0.01 if damping > 1e-5 else 0.0
        elif edm < PRECISION_EDM * edm_target and damping == 0.0 and not approx:  # NLL at its numerical precision
            return FitResult(x, f, nfcn, edm, True, fixed, grad=g, hessian=(fac, fac_free))
        else:
            damping = 1e-3 if damping == 0.0 else 10.0 * damping
            fac = None
            if damping > 1e10:
                break
    return FitResult(x, f, nfcn, edm, False, fixed, grad=g)


def free_set(x, g, lo, hi, fixed) -> np.ndarray:
    """The free parameters of a Newton step at ``x``: not fixed and not held at a bound by the
    gradient ``g``; ``x``, ``g`` (npars,) or (W, npars) (the compiled kernel has the same
    function, :func:`.kernel_numba.free_set`)."""
    return ~(fixed | ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)))


def _trial_point(x, step, t, lo, hi, free, g) -> tuple[np.ndarray, float]:
    """(xn, g.(xn - x)): the point x - t * step clipped to the bounds on the ``free`` parameters
    (x elsewhere) and the directional change of the line search (the compiled kernel has the
    same function, :func:`.kernel_numba.trial_point`)."""
    xn = np.where(free, np.minimum(np.maximum(x - t * step, lo), hi), x)  # = clip, cheaper
    return xn, float(g @ (xn - x))


def _migrad(model, x0, fixed) -> FitResult:
    from iminuit import Minuit

    cache = {}

    def both(x):
        key = x.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = model.nll_and_grad(x)
        return cache[key]

    m = Minuit(lambda x: both(np.asarray(x))[0], x0, grad=lambda x: both(np.asarray(x))[1].copy(),
               name=model.par_names)
    m.errordef = Minuit.LIKELIHOOD
    m.limits = [tuple(b) for b in model.bounds]
    m.fixed = fixed
    m.tol = MIGRAD_TOL
    m.strategy = 0
    m.migrad()
    nfcn = m.nfcn
    if not m.valid:
        m.strategy = 1
        m.migrad()
        nfcn += m.nfcn
    x = np.array(m.values, dtype=float)
    val = model.nll(x)
    return FitResult(x, val, nfcn, float(m.fmin.edm), bool(m.valid) and math.isfinite(val), fixed, "migrad")


def covariance(model: HistFactoryModel, x, fixed=None, globals_only: bool = False) -> np.ndarray:
    """HESSE covariance: the inverse of the exact NLL Hessian over the free parameters.

    With -ln L (errordef 0.5) the covariance is H^-1; rows and columns of fixed parameters
    are 0.  ``globals_only``: compute only the block of the global parameters (exact, via the
    Schur complement; the rest is left 0) -- enough for the error of the POI and much
    faster.  Raises ConvergenceError if the Hessian is not positive definite.
    """
    fixed = model.fixed if fixed is None else np.asarray(fixed, bool)
    x = np.asarray(x, dtype=float)
    Hb = model.nll_grad_hess(x)[2]
    if Hb is None:
        raise ConvergenceError("the NLL is not finite at the point where the covariance is wanted")
    C = np.zeros((model.npars, model.npars))
    try:
        if globals_only:
            Sinv = Hb.factorize(~fixed).Sinv
            gi = model.compiled.global_params
            fg = ~fixed[gi]
            if not fg.all():
                Sinv = Sinv * fg[:, None] * fg[None, :]
            ng = len(gi)
            if ng and gi[0] == 0 and gi[-1] == ng - 1:  # the first ng parameters (sorted, distinct)
                C[:ng, :ng] = Sinv
            else:
                C[np.ix_(gi, gi)] = Sinv
            return C
        free = np.flatnonzero(~fixed)
        L = np.linalg.cholesky(Hb.dense()[np.ix_(free, free)])
    except np.linalg.LinAlgError:
        raise ConvergenceError("the Hessian at the minimum is not positive definite") from None
    inv_L = np.linalg.solve(L, np.eye(len(free)))
    C[np.ix_(free, free)] = inv_L.T @ inv_L
    return C


def numerical_hessian(model: HistFactoryModel, x, step: float = 1e-5) -> np.ndarray:
    """Hessian by central differences of the analytic gradient (for tests and checks)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    H = np.empty((n, n))
    for i in range(n):
        h = step * max(1.0, abs(x[i]))
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        H[i] = (model.nll_and_grad(xp)[1] - model.nll_and_grad(xm)[1]) / (2 * h)
    return 0.5 * (H + H.T)
