"""Many profile fits of one model that differ only in the value of one fixed parameter.

A profile likelihood -ln L_p(v) = min over the free parameters of -ln L with parameter ``index``
held at v is wanted at many values v at once (the points of a scan, the walkers of an MCMC).
:class:`ProfileFits` advances all of them together, as stacked arrays (one evaluation of
value and gradient for all points per iteration, :meth:`HistFactoryModel.nll_and_grad_many`):

* it keeps *reference* solutions: exact Newton fits (:func:`~.minimizer.minimize`) at some
  values v_ref, with the factorised Hessian H_ref at the solution and the tangent
  dx/dv = -H_ref^-1 d(grad)/dv (implicit function theorem);
* a point v starts from the nearest reference, predicted to first order,
  x0 = x_ref + (v - v_ref) dx/dv, and iterates x <- x - H_ref^-1 g(x) (the Newton step with
  the reference's Hessian, as :func:`~.minimizer.minimize` reuses a factorised Hessian
  while the steps converge fast), with the same Armijo condition;
* it is converged by the criterion of :func:`~.minimizer.minimize`: expected decrease
  g.H^-1.g / 2 < ``edm`` (:data:`~.minimizer.NEWTON_EDM`) with the same set of free parameters
  (none reaching a bound that the reference does not have);
* a point whose steps do not shrink the expected decrease by the factor ``rate`` (default
  0.2, as :func:`~.minimizer.minimize` before it recomputes a reused Hessian) per iteration
  (the reference is too far), that changes its active bounds, or whose step is rejected,
  becomes a new reference itself: an exact Newton fit warm-started from where it got to.
  The contraction test bounds the mismatch of H_ref, so the true g.H^-1.g/2 is within a
  small factor of the target.

Every result is thus a minimum to the tolerance of :func:`~.minimizer.minimize`; no value is
interpolated.  Nothing here knows about a particular analysis.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError, InputError, finite_array
from .blocks import minimum_tangent
from .minimizer import ARMIJO, NEWTON_EDM, PRECISION_EDM, checked_fix, free_set, minimize


@dataclass
class Reference:
    """An exact fit at ``value`` with what the points started from it need."""

    value: float
    x: np.ndarray
    nll: float
    free: np.ndarray  # free parameters at the solution (not fixed, not held at a bound)
    solver: object  # BlockSolver of the Hessian at x over ``free``
    tangent: np.ndarray  # dx/dvalue at x (0 on parameters that are not free)
    order: int  # creation order (the oldest is dropped first)


class ProfileFits:
    """Profile fits of ``model`` at many values of parameter ``index`` (see module docstring).

    ``fix``: other parameters held fixed ({index: value}); ``edm``: convergence target;
    ``max_references``: references kept (the oldest are dropped); ``max_iter``: iterations
    of a batch; ``max_rounds``: rounds of new references (one per round, at the median of
    the points that failed) before each point still failing is fitted as a reference;
    ``rate``: a point fails unless each step lowers its expected decrease g.H_ref^-1.g/2 by at
    least this factor; ``max_solutions``: solved points remembered as starting points.
    """

    def __init__(self, model, index: int, fix: dict | None = None, edm: float = NEWTON_EDM,
                 max_references: int = 32, max_iter: int = 30, max_rounds: int = 4, rate: float = 0.2,
                 max_solutions: int = 256):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < model.npars:
            raise InputError(f"parameter index {str(index)[:80]} outside 0..{model.npars - 1}")
        for name, v in (("edm", edm), ("rate", rate)):
            if not (isinstance(v, (int, float)) and 0.0 < v < math.inf):
                raise InputError(f"{name} must be a positive finite number, got {str(v)[:80]}")
        self.model = model
        self.index = int(index)
        self.fix = {k: v for k, v in checked_fix(model, fix).items() if k != self.index}
        self.edm = float(edm)
        self.max_references = int(max_references)
        self.max_iter = int(max_iter)
        self.max_rounds = int(max_rounds)
        self.rate = float(rate)
        self.max_solutions = int(max_solutions)
        self._solved_v = np.zeros(0)
        self._solved_x = np.zeros((0, model.npars))
        self.references: list[Reference] = []
        self._counter = itertools.count()
        self.fixed = model.fixed.copy()
        self.fixed[list(self.fix)] = True
        self.fixed[self.index] = True
        #: counters: points fitted in batches, references made, batch iterations
        self.stats = {"batched": 0, "references": 0, "iterations": 0}

    # .. references .........................................................................
    def add_reference(self, value: float, init=None) -> Reference:
        """An exact fit at ``value`` (warm start ``init``), kept as a reference.  Raises
        ConvergenceError if the fit fails or its Hessian is not positive definite."""
        mdl = self.model
        r = minimize(mdl, init=init, fix={**self.fix, self.index: float(value)}, edm=self.edm)
        x, g = r.x, r.grad
        lo, hi = mdl.bounds[:, 0], mdl.bounds[:, 1]
        free = free_set(x, g, lo, hi, r.fixed)
        Hb = mdl.nll_grad_hess(x)[2]
        if Hb is None:
            raise ConvergenceError("the NLL is not finite at a reference fit")
        try:
            solver = Hb.factorize(free)
        except np.linalg.LinAlgError:
            raise ConvergenceError("the Hessian at a reference fit is not positive definite") from None
        ref = Reference(float(value), x.copy(), float(r.nll), free, solver, minimum_tangent(Hb, solver, self.index),
                        next(self._counter))
        self.references.append(ref)
        if len(self.references) > self.max_references:
            self.references.remove(min(self.references, key=lambda q: q.order))
        self.stats["references"] += 1
        return ref

    def _nearest(self, values) -> np.ndarray:
        refs = np.array([q.value for q in self.references])
        return np.argmin(np.abs(values[:, None] - refs[None, :]), axis=1)

    # .. fits ...............................................................................
    def fit(self, values, init=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(-ln L_p, best-fit vectors, converged) at each of ``values``: shapes (n,), (n, npars),
        (n,).  ``init``: start of the first reference if there is none yet.  Points whose exact
        fit fails have converged False (NaN -ln L)."""
        values = finite_array(values, "values").reshape(-1)
        n = len(values)
        nll = np.full(n, math.nan)
        X = np.full((n, self.model.npars), math.nan)
        ok = np.zeros(n, dtype=bool)
        if n == 0:
            return nll, X, ok
        pending = np.arange(n)
        if not self.references:
            first = int(pending[np.argsort(values, kind="stable")[n // 2]])
            pending = self._reference_point(first, values, nll, X, ok, init, pending)
        for _round in itertools.count():
            if not len(pending):
                break
            conv, Xp, fp = self._advance(values[pending])
            done = pending[conv]
            nll[done], X[done], ok[done] = fp[conv], Xp[conv], True
            self.stats["batched"] += len(done)
            self._remember(values[done], Xp[conv])
            failed = pending[~conv][np.argsort(values[pending[~conv]], kind="stable")]
            if not len(failed):
                break
            starts = dict(zip(pending[~conv].tolist(), Xp[~conv]))
            if _round >= self.max_rounds:  # still failing: each becomes a reference
                for i in failed:
                    self._reference_point(int(i), values, nll, X, ok, starts[int(i)], failed[:0])
                break
            # the failed point in the middle becomes a reference; the others try again
            mid = int(failed[len(failed) // 2])
            pending = self._reference_point(mid, values, nll, X, ok, starts[mid], failed)
        return nll, X, ok

    def _remember(self, values, X) -> None:
        """Keep recent solutions: starting points of later fits at nearby values."""
        self._solved_v = np.concatenate([values, self._solved_v])[: self.max_solutions]
        self._solved_x = np.concatenate([X, self._solved_x])[: self.max_solutions]

    def _reference_point(self, i, values, nll, X, ok, init, pending) -> np.ndarray:
        """Make point i a reference (its result is the exact fit); the rest of ``pending``."""
        if init is not None and not np.all(np.isfinite(init)):
            init = None
        starts = [init] if init is not None else []
        if self.references:
            starts.append(self._start(values[i]))
        for start in starts or [None]:
            try:
                ref = self.add_reference(values[i], init=start)
                nll[i], X[i], ok[i] = ref.nll, ref.x, True
                break
            except ConvergenceError:
                continue
        rest = pending[pending != i]
        if not self.references:  # no reference at all: fit every point on its own
            for k in rest:
                try:
                    ref = self.add_reference(values[k], init=init)
                    nll[k], X[k], ok[k] = ref.nll, ref.x, True
                except ConvergenceError:
                    continue
            return rest[:0]
        return rest

    def _start(self, value):
        """The predicted solution at ``value`` (None if there is no reference)."""
        if not self.references:
            return None
        v = np.array([float(value)])
        return self._predict(v, self._nearest(v))[0]

    def _predict(self, values, near) -> np.ndarray:
        """First-order predictions from the nearest solution (a reference or a remembered
        point), along the tangent of the nearest reference ``near``."""
        mdl = self.model
        rv = np.array([q.value for q in self.references])[near]
        x0 = np.array([q.x for q in self.references])[near]
        v0 = rv.copy()
        if len(self._solved_v):
            k = np.argmin(np.abs(values[:, None] - self._solved_v[None, :]), axis=1)
            closer = np.abs(values - self._solved_v[k]) < np.abs(values - rv)
            x0[closer], v0[closer] = self._solved_x[k[closer]], self._solved_v[k[closer]]
        tangent = np.array([q.tangent for q in self.references])[near]
        X = x0 + (values - v0)[:, None] * tangent
        X = np.where(self.fixed, X, np.clip(X, mdl.bounds[:, 0], mdl.bounds[:, 1]))
        for k, v in self.fix.items():
            X[:, k] = v
        X[:, self.index] = values
        return X

    def _steps(self, near, G):
        """Newton steps with each point's reference Hessian: (steps, reference free flags)."""
        step = np.empty_like(G)
        free = np.empty(G.shape, dtype=bool)
        for j in np.unique(near):
            sel = near == j
            ref = self.references[j]
            step[sel] = ref.solver.solve(G[sel])
            free[sel] = ref.free
        return step, free

    def _advance(self, values):
        """Quasi-Newton iterations of all ``values`` at once, each with the factorised Hessian
        of its nearest reference: (converged, x, -ln L) per point."""
        mdl = self.model
        lo, hi = mdl.bounds[:, 0], mdl.bounds[:, 1]
        near = self._nearest(values)
        X = self._predict(values, near)
        f, G = mdl.nll_and_grad_many(X)
        n = len(values)
        done = np.zeros(n, dtype=bool)
        fail = ~np.isfinite(f)
        last = np.full(n, math.inf)
        for _ in range(self.max_iter):
            a = np.flatnonzero(~done & ~fail)
            if not len(a):
                break
            self.stats["iterations"] += 1
            Xa, Ga, fa = X[a], G[a], f[a]
            free = free_set(Xa, Ga, lo, hi, self.fixed)
            step, ref_free = self._steps(near[a], Ga)
            same = (free == ref_free).all(axis=1)
            edm = 0.5 * np.einsum("wi,wi->w", Ga, step)
            conv = same & (edm >= 0) & (edm < self.edm)
            bad = ~same | (edm < 0) | (~conv & (edm > self.rate * last[a]))
            done[a[conv]] = True
            fail[a[bad & ~conv]] = True
            go = ~conv & ~bad
            if not go.any():
                continue
            idx = a[go]
            last[idx] = edm[go]
            Xg = Xa[go]
            Xn = np.where(free[go], np.clip(Xg - step[go], lo, hi), Xg)
            fn, Gn = mdl.nll_and_grad_many(Xn)
            acc = np.isfinite(fn) & (fn <= fa[go] + ARMIJO * np.einsum("wi,wi->w", Ga[go], Xn - Xg))
            X[idx[acc]], f[idx[acc]], G[idx[acc]] = Xn[acc], fn[acc], Gn[acc]
            precise = ~acc & (edm[go] < PRECISION_EDM * self.edm)  # at the numerical precision of the NLL
            done[idx[precise]] = True
            fail[idx[~acc & ~precise]] = True
        return done, X, f
