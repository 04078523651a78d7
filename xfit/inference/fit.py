"""One clear object per fit: :class:`Fit` minimises chi2 = -2 ln L of a composed likelihood
over a model's parameters at fixed m_X with iminuit (MIGRAD + HESSE, MINOS on request).

The significance over the SM is Delta chi2 = chi2(SM point) - chi2_min with as many degrees
of freedom as free parameters, converted to Gaussian sigmas two-sidedly
(Z = Phi^-1(1 - p/2), which is sqrt(Delta chi2) for one parameter).
A fit that does not converge raises :class:`xfit.errors.ConvergenceError`.

With ``theory_nuisances=True`` the theory inputs (CKM, quark masses, electroweak inputs, form
factors: :mod:`xfit.inference.nuisances`) are standardised Gaussian nuisances nu profiled with
the model parameters: chi2 = -2 ln L(predictions at nu) + sum nu^2.  chi2 of the SM is then
profiled over nu too, and the significance keeps as many degrees of freedom as model
parameters (the nuisances are constrained, not free).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from ..errors import ConvergenceError, InputError, XfitError, require_finite_number
from ..likelihood import LikelihoodBase, chi2_threshold_one_sided
from ..models.base import Model
from . import mle
from .results import Result, to_jsonable

#: Finite-difference steps of :meth:`Fit.gradient`: absolute for a standardised nuisance,
#: relative (to |x| + 1e-3) for a model parameter.
GRADIENT_STEP_NUISANCE = 1e-4
GRADIENT_STEP_PARAMETER = 1e-5


#: Range of every standardised theory nuisance in a fit (a pull of 5 sigma costs 25 in chi2):
#: keeps MIGRAD/MINOS away from unphysical inputs (e.g. a CKM matrix that is not unitary
#: any more) where the likelihood is flat in the couplings, as at g_X = 0.
NUISANCE_BOUND = 5.0


def _require_dof(dof) -> int:
    """``dof`` (a number of fitted parameters) as an int, or InputError: an integer >= 1."""
    if isinstance(dof, bool) or not isinstance(dof, numbers.Integral) or dof < 1:
        raise InputError(f"dof (number of parameters) must be an integer >= 1, got {str(dof)[:80]!r}")
    return int(dof)


def significance_from_delta_chi2(delta_chi2: float, dof: int) -> float:
    """Gaussian-equivalent significance of a chi2 improvement with ``dof`` parameters.

    One and two parameters in closed form (sqrt(Delta chi2); Phi^-1 of 1 - exp(-Delta chi2 / 2) / 2,
    the standard library's quantile): the common fits import no scipy.special (0.2 s).  They
    agree with scipy.special.chdtrc + ndtri to ~1e-15 relative, and stay finite where the
    survival function underflows (Delta chi2 > ~1400 for one parameter).  NaN is refused
    (InputError), +inf gives inf."""
    dof = _require_dof(dof)
    if isinstance(delta_chi2, bool) or not isinstance(delta_chi2, numbers.Real) or math.isnan(delta_chi2):
        raise InputError(f"delta_chi2 must be a number (not NaN), got {str(delta_chi2)[:80]!r}")
    if delta_chi2 <= 0:
        return 0.0
    if dof == 1:
        return math.sqrt(delta_chi2)
    if dof == 2:
        half_p = 0.5 * math.exp(-0.5 * delta_chi2)  # p = chi2 survival function for 2 dof
        return -NormalDist().inv_cdf(half_p) if half_p > 0.0 else math.inf
    from scipy import special

    p = special.chdtrc(dof, delta_chi2)  # chi2 survival function (as scipy.stats.chi2.sf)
    return float(-special.ndtri(p / 2.0))


def delta_chi2_for_sigma(n_sigma: float, dof: int) -> float:
    """Delta chi2 of an n-sigma region for ``dof`` parameters (2.30, 6.18, 11.83 for dof=2).

    One and two parameters in closed form (n^2; -2 ln p with the two-sided p = 2 (1 - Phi(n))),
    to ~1e-15 relative of scipy.special.chdtri; more parameters with scipy.special."""
    dof = _require_dof(dof)
    n_sigma = require_finite_number(n_sigma, "n_sigma (the contour level in sigma)")
    if n_sigma < 0:
        raise InputError(f"n_sigma (the contour level in sigma) must be >= 0, got {n_sigma!r}")
    if n_sigma > 0 and dof == 1:
        return n_sigma * n_sigma
    if n_sigma > 0 and dof == 2:
        from .calculators import normal_sf  # the one 1 - Phi; erfc(n / sqrt 2) = 2 normal_sf(n) exactly

        return -2.0 * math.log(2.0 * normal_sf(n_sigma))
    from scipy import special

    return float(special.chdtri(dof, 2.0 * special.ndtr(-n_sigma)))


@dataclass(repr=False)
class FitResult(Result):
    """Best fit of one model to one likelihood at one m_X."""

    model: str
    terms: tuple[str, ...]
    mX: float
    values: dict[str, float]
    errors: dict[str, float]
    chi2_min: float
    chi2_sm: float
    ndof: int
    predictions: dict[str, float] = field(default_factory=dict)
    minos: dict[str, tuple[float, float]] = field(default_factory=dict)
    nfcn: int = 0
    #: parameters whose best value sits at a bound of their range: {name: bound}; their
    #: HESSE error is not meaningful and :attr:`upper_limits_95` is reported instead
    at_bound: dict[str, float] = field(default_factory=dict)
    #: one-sided 95 % CL upper limits (Delta chi2 = 2.71 from the bound) of :attr:`at_bound`
    upper_limits_95: dict[str, float | None] = field(default_factory=dict)
    #: remarks on the inputs (e.g. a term with no sensitivity at this m_X)
    notes: list[str] = field(default_factory=list)
    #: the profiled theory nuisances (:meth:`xfit.inference.nuisances.TheoryNuisances.summary`),
    #: or None for a fit at the central theory inputs
    theory_nuisances: dict | None = None

    @property
    def delta_chi2_sm(self) -> float:
        return self.chi2_sm - self.chi2_min

    @property
    def significance(self) -> float:
        """Gaussian-equivalent significance over the SM; NaN when every parameter was fixed
        (``ndof`` = 0: a chi2 difference of two fixed points has no number of sigmas)."""
        if self.ndof < 1:
            return math.nan
        return significance_from_delta_chi2(self.delta_chi2_sm, self.ndof)

    def to_dict(self) -> dict:
        return to_jsonable({"model": self.model, "terms": list(self.terms), "mX": self.mX,
                "values": self.values,
                "errors": {k: (None if k in self.at_bound else e) for k, e in self.errors.items()},
                "minos": self.minos, "at_bound": self.at_bound, "upper_limit_95": self.upper_limits_95,
                "notes": self.notes,
                "chi2_min": self.chi2_min, "chi2_sm": self.chi2_sm,
                "delta_chi2_sm": self.delta_chi2_sm, "ndof": self.ndof,
                "significance_sigma": self.significance, "predictions": self.predictions,
                "theory_nuisances": self.theory_nuisances or {"used": False}})

    def __repr__(self) -> str:
        def fmt(k, v):
            if k in self.at_bound:
                ul = self.upper_limits_95.get(k)
                lim = f"95% CL upper limit {ul:.3g}" if ul is not None else "no 95% CL upper limit found"
                return (f"{k} = {v:.3g}, at its bound {self.at_bound[k]:g} within 0.1σ "
                        f"(no symmetric error; {lim})")
            if k in self.minos:
                lo, hi = self.minos[k]
                return f"{k} = {v:.4g} {lo:+.2g}/{hi:+.2g} (MINOS)"
            return f"{k} = {v:.4g} ± {self.errors.get(k, float('nan')):.2g}"
        pars = ", ".join(fmt(k, v) for k, v in self.values.items())
        return (f"<FitResult {self.model} @ mX={self.mX:g} GeV [{' + '.join(self.terms)}]: {pars}; "
                f"chi2_min = {self.chi2_min:.3f}, Δchi2(SM) = {self.delta_chi2_sm:.2f} "
                f"({self.significance:.2f}σ, {self.ndof} dof)>"
                + self._nuisance_lines() + "".join(f"\nnote: {n}" for n in self.notes))

    def _nuisance_lines(self) -> str:
        t = self.theory_nuisances
        if not t:
            return ""
        pulls = ", ".join(f"{k} {v['value']:+.2f}±{v['error']:.2f}" for k, v in t["nuisances"].items())
        return (f"\ntheory nuisances ({len(t['nuisances'])} profiled, scale {t['scale']:g}; "
                f"constraint {t['constraint_chi2']:.3f}): {pulls or 'none moves these terms'}"
                f"\n  not affecting these terms at this m_X: {len(t['inert'])} ({', '.join(t['inert'][:4])}"
                f"{', ...' if len(t['inert']) > 4 else ''})")


class Fit:
    """Fit ``model`` to ``likelihood`` at fixed ``mX``.

    >>> fit = Fit(get_model("tau-flavor"), build_likelihood("b_to_s_emiss,l3_z_gamma"), mX=2.1)
    >>> result = fit.run()            # MIGRAD + HESSE

    ``theory_nuisances=True`` profiles the theory inputs as Gaussian nuisances
    (:class:`xfit.inference.nuisances.TheoryNuisances`; ``theory_scale`` multiplies every
    theory sigma, 0 giving back the plain fit exactly).  :attr:`parameters` are then the model
    parameters followed by the nuisance names, and :meth:`chi2` takes all of them.
    """

    def __init__(self, model: Model, likelihood: LikelihoodBase, mX: float,
                 start: Mapping[str, float] | None = None,
                 limits: Mapping[str, tuple] | None = None, fixed: Mapping[str, float] | None = None,
                 theory_nuisances: bool = False, theory_scale: float = 1.0):
        self.model, self.likelihood = model, likelihood
        self.mX = require_finite_number(mX, "mX (the X mass in GeV)")
        if self.mX <= 0:
            raise InputError(f"mX (the X mass in GeV) must be > 0, got {mX!r}")
        accepted = ", ".join(model.parameters)
        for what, given in (("start", start), ("limits", limits), ("fixed", fixed)):
            bad = sorted(set(given or {}) - set(model.parameters))
            if bad:
                raise InputError(f"unknown {what} parameter(s) {bad}; model {model.name!r} accepts {accepted}")
        for p, lim in (limits or {}).items():
            try:
                lo, hi = lim
            except (TypeError, ValueError):
                raise InputError(f"limits of {p!r} must be a pair (lower, upper) with None for no bound, "
                                 f"got {lim!r}") from None
            lo = None if lo is None else require_finite_number(lo, f"lower limit of {p!r}")
            hi = None if hi is None else require_finite_number(hi, f"upper limit of {p!r}")
            if lo is not None and hi is not None and not lo < hi:
                raise InputError(f"limits of {p!r} must have lower < upper, got ({lo:g}, {hi:g})")
        for what, given in (("fixed", fixed), ("start", start)):
            for p, v in (given or {}).items():
                require_finite_number(v, f"{what} value of {p!r}")
        self.predictor = model.predictor(self.mX)  # model.predict at this m_X, m_X-dependent parts cached
        missing = set(likelihood.observables) - set(self.predictor.keys())
        if missing:
            raise InputError(f"model {model.name!r} does not predict {sorted(missing)} needed by the likelihood")
        self.start = {p: 0.01 for p in model.parameters}
        self.start.update(start or {})
        self.limits = dict(limits or {})
        if "gX" in model.parameters:
            self.limits.setdefault("gX", (0.0, None))
        self.fixed = dict(fixed or {})
        self.minuit = None  # the iminuit.Minuit of the last run()
        if not isinstance(theory_nuisances, bool):
            raise InputError(f"theory_nuisances must be True or False, got {theory_nuisances!r:.80}")
        self.nuisances = None
        if theory_nuisances:
            from .nuisances import TheoryNuisances

            self.nuisances = TheoryNuisances(model, likelihood, self.mX, theory_scale,
                                             probe={**self.start, **self.fixed})
            self.start.update({n: 0.0 for n in self.nuisances.names})
            self.limits.update({n: (-NUISANCE_BOUND, NUISANCE_BOUND) for n in self.nuisances.names})
        #: the minimised parameters: the model's, then the theory nuisances (if any)
        self.parameters = tuple(model.parameters) + (self.nuisances.names if self.nuisances else ())

    # the objective -----------------------------------------------------------------------
    def predictions(self, *values) -> dict:
        """The model's predictions at ``values`` of :attr:`parameters` (with the theory
        nuisances, at the shifted inputs)."""
        n = len(self.model.parameters)
        params = dict(zip(self.model.parameters, values[:n]))
        if self.nuisances is None:
            return self.predictor(**params)
        return self.nuisances.predict(params, values[n:])

    def constraint(self, *values) -> float:
        """The Gaussian constraint of the theory nuisances in ``values`` (0 without them)."""
        return 0.0 if self.nuisances is None else self.nuisances.constraint(values[len(self.model.parameters):])

    def chi2(self, *values) -> float:
        """chi2 at ``values`` of :attr:`parameters` (with nuisances: plus sum nu^2)."""
        if self.nuisances is None:
            return float(self.likelihood.chi2(self.predictions(*values)))
        n = len(self.model.parameters)  # at shifted inputs, only the likelihood's observables are computed
        pred = self.nuisances.predict(dict(zip(self.model.parameters, values[:n])), values[n:],
                                      keys=self.likelihood.observables)
        return float(self.likelihood.chi2(pred)) + self.constraint(*values)

    def gradient(self, *values) -> np.ndarray:
        """d chi2/d :attr:`parameters` at ``values`` (theory-nuisance fits only; used by the
        profile of scan points, :mod:`xfit.inference.scan`): central
        differences (one-sided at a bound), every shifted point in ONE vectorised evaluation
        of the model and the likelihood (:meth:`TheoryNuisances.predict_batch`); the
        constraint's part 2 nu is exact.  Steps: 1e-4 for a nuisance, 1e-5 (|x| + 1e-3) for a
        model parameter."""
        if self.nuisances is None:
            raise InputError("Fit.gradient needs a fit with theory_nuisances=True (the vectorised inputs)")
        x = np.asarray(values, dtype=float)
        n_model, k = len(self.model.parameters), x.size
        steps = np.full(k, GRADIENT_STEP_NUISANCE)
        steps[:n_model] = GRADIENT_STEP_PARAMETER * (np.abs(x[:n_model]) + 1e-3)
        up, down = np.tile(x, (k, 1)), np.tile(x, (k, 1))
        for i, name in enumerate(self.parameters):
            lo, hi = self.limits.get(name) or (None, None)
            up[i, i] = x[i] + steps[i] if hi is None or x[i] + steps[i] <= hi else x[i]
            down[i, i] = x[i] - steps[i] if lo is None or x[i] - steps[i] >= lo else x[i]
            if up[i, i] == down[i, i]:  # an interval narrower than the step: its two ends (not 0/0)
                up[i, i], down[i, i] = min(x[i] + steps[i], hi), max(x[i] - steps[i], lo)
        points = np.vstack([up, down])
        pred = self.nuisances.predict_batch(dict(zip(self.model.parameters, points[:, :n_model].T)),
                                            points[:, n_model:], keys=self.likelihood.observables)
        chi2 = np.asarray(self.likelihood.chi2(pred), dtype=float)
        grad = (chi2[:k] - chi2[k:]) / (np.diag(up) - np.diag(down))
        grad[n_model:] += 2.0 * x[n_model:]
        return grad

    def _gradient(self):
        """:meth:`gradient` for MIGRAD when theory nuisances are profiled (all shifted points in
        one vectorised evaluation), else None (iminuit's numerical gradient)."""
        return self.gradient if self.nuisances is not None and self.nuisances.names else None

    def _central_chi2(self, *values) -> float:
        """chi2 at model-parameter ``values`` and the central theory inputs (nu = 0)."""
        params = dict(zip(self.model.parameters, values))
        return float(self.likelihood.chi2(self.predictor(keys=self.likelihood.observables, **params)))

    def chi2_at(self, **params) -> np.ndarray:
        """Vectorised chi2 at parameter arrays (no Python loop per point)."""
        return self.likelihood.chi2(self.predictor(keys=self.likelihood.observables, **params))

    def _terms_out_of_range(self) -> list[str]:
        """Terms of the likelihood whose mass range ends below m_X (no sensitivity there)."""
        terms = getattr(self.likelihood, "terms", None) or [self.likelihood]
        return [f"{t.name} covers m_X <= {t.mass_range[1]:.4g} GeV only (no signal efficiency above)"
                for t in terms if getattr(t, "mass_range", None) and self.mX > t.mass_range[1]]

    def _trials(self, base: Mapping[str, float], p: str) -> list[tuple[float, float]]:
        """(value, chi2) of ``p`` at scaled starts and at a few absolute values inside its
        limits, the other parameters at ``base``."""
        trials = [base[p] * f for f in (0.0, 0.5, 2.0, 10.0, 1e3, 1e6)] if base[p] else []
        lo, hi = (self.limits.get(p) or (None, None))
        for v in (1e-4, 1e-3, 1e-2, 0.1, 1.0):
            trials += [v, -v]
        out = []
        for v in trials:
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                continue
            try:
                out.append((v, self._central_chi2(*[v if q == p else base[q] for q in self.model.parameters])))
            except XfitError:
                continue
        return out

    def _moves(self, base: Mapping[str, float], p: str) -> bool:
        """Does chi2 change when ``p`` moves?  Tried at scaled starts and at a few absolute
        values, so that a tiny start (g_X = 1e-9: chi2 equal to the SM one within rounding)
        is not mistaken for a flat likelihood."""
        ref = self._central_chi2(*[base[q] for q in self.model.parameters])
        return any(c != ref for _, c in self._trials(base, p))

    def _rescue_start(self) -> None:
        """A parameter whose start sits where chi2 is locally flat (a tiny g_X) starts
        instead at the lowest-chi2 trial value, so that MIGRAD does not stop there."""
        base = dict(self.start, **self.fixed)
        for p in self.model.parameters:
            if p in self.fixed or not base[p]:
                continue
            ref = self._central_chi2(*[base[q] for q in self.model.parameters])
            local = [self._central_chi2(*[base[p] * f if q == p else base[q] for q in self.model.parameters])
                     for f in (0.5, 2.0)]
            if all(abs(c - ref) < 1e-6 for c in local):  # below MIGRAD's tolerance
                finite = [(v, c) for v, c in self._trials(base, p) if np.isfinite(c) and c < ref - 1e-6]
                if finite:
                    base[p] = self.start[p] = min(finite, key=lambda t: t[1])[0]

    def _check_not_flat(self) -> None:
        """Refuse a likelihood that does not depend on the free parameters (MIGRAD would
        wander off to NaN): e.g. a baryonic X with B(X -> invisible) = 0 in missing-energy
        terms, or a term used above its mass range."""
        free = [p for p in self.model.parameters if p not in self.fixed]
        base = dict(self.start, **self.fixed)
        flat = [p for p in free if not self._moves(base, p)]
        if not flat:
            return
        names = "+".join(self.likelihood.names)
        out_of_range = self._terms_out_of_range()
        if len(flat) == len(free) and out_of_range:
            raise InputError(f"no sensitivity at m_X = {self.mX:g} GeV (--mX): " + "; ".join(out_of_range)
                             + "; choose a lighter m_X or other --terms")
        if len(flat) == len(free):
            raise ConvergenceError(
                f"the likelihood {names} does not depend on the parameters {free} of model "
                f"{self.model.name!r} at m_X = {self.mX:g} GeV (for example B(X -> invisible) = 0 "
                "or every channel closed): nothing to fit")
        it = "it" if len(flat) == 1 else "them"
        raise ConvergenceError(
            f"the likelihood {names} does not depend on {', '.join(flat)} (model {self.model.name!r} "
            f"at m_X = {self.mX:g} GeV); fix {it} or add a term that constrains {it}")

    def profile_chi2(self, p: str, value: float, start: Mapping[str, float]) -> float:
        """chi2 minimised over every free parameter but ``p`` (held at ``value``), the theory
        nuisances included, from ``start``: MIGRAD with the vectorised gradient and strategy 0,
        as at the points of a profile scan."""
        fixed = {**self.fixed, p: float(value)}
        grad = self._gradient()
        m, valid = mle.migrad(self.chi2, list(self.parameters), {**start, p: float(value)}, self.limits, fixed,
                              strategy=0 if grad else None, grad=grad)
        if not valid:
            raise ConvergenceError(f"the profile of {p} = {value:g} did not converge (EDM = {m.fmin.edm:.3g})")
        return float(m.fval)

    def _upper_limit_95_profiled(self, m, p: str) -> float | None:
        """As :meth:`_upper_limit_95`, by root finding on :meth:`profile_chi2` (fits with theory
        nuisances: MINOS in many dimensions at a bound where chi2 is flat is slow and wanders)."""
        from scipy.optimize import brentq

        target = float(m.fval) + chi2_threshold_one_sided(0.95)  # 2.71: one-sided 95 % = two-sided 90 %
        best = {q: float(m.values[q]) for q in self.parameters}
        hi_limit = (self.limits.get(p) or (None, None))[1]
        try:
            # the limit with the nuisances held at their best values (cheap: one call per point)
            # is below the profiled one (profiling lowers chi2): start the bracket there
            lo = self._conditional_crossing(p, best, target, hi_limit)
            if lo is None:
                return None
            hi = lo
            while self.profile_chi2(p, hi, best) < target:
                lo, hi = hi, best[p] + 1.25 * (hi - best[p])
                if hi_limit is not None and hi > hi_limit:
                    return None
            if hi == lo:
                return lo
            return float(brentq(lambda v: self.profile_chi2(p, v, best) - target, lo, hi, xtol=1e-6 * hi))
        except XfitError:
            return None

    def _conditional_crossing(self, p: str, best: Mapping[str, float], target: float, hi_limit) -> float | None:
        """Where chi2 along ``p``, everything else at ``best``, reaches ``target`` (None if never)."""
        from scipy.optimize import brentq

        def f(v):
            return self.chi2(*[v if q == p else best[q] for q in self.parameters]) - target

        lo, step = best[p], max(abs(best[p]), 1e-6)
        hi = lo + step
        while f(hi) < 0:
            lo, hi = hi, hi + 2.0 * (hi - best[p])
            if (hi_limit is not None and hi > hi_limit) or hi - best[p] > 1e8 * step:
                return None
        return float(brentq(f, lo, hi, xtol=1e-9 * hi))

    def _upper_limit_95(self, m, p: str) -> float | None:
        """One-sided 95 % CL upper limit of ``p`` when its best value is at its lower bound:
        the upper end of the Delta chi2 = 2.71 (two-sided 90 %) MINOS interval (with theory
        nuisances: :meth:`_upper_limit_95_profiled`, the same Delta chi2 by root finding)."""
        if self.nuisances is not None and self.nuisances.names:
            return self._upper_limit_95_profiled(m, p)
        try:
            m.minos(p, cl=0.90)
        except RuntimeError:
            return None
        me = m.merrors[p]
        return float(m.values[p] + me.upper) if me.upper_valid else None

    def _sm_chi2(self) -> float:
        """chi2 of the SM point; with theory nuisances, minimised over them (the constraint
        included: 0 at nu = 0 when the SM point does not depend on the inputs)."""
        sm = self.model.sm_point()
        if self.nuisances is None or not self.nuisances.moves_sm:
            return self._central_chi2(*[sm[p] for p in self.model.parameters])
        start = {**sm, **{n: 0.0 for n in self.nuisances.names}}
        m, valid = mle.migrad(self.chi2, list(self.parameters), start, self.limits, sm, grad=self._gradient())
        if not valid:
            raise ConvergenceError(f"the fit of the theory nuisances at the SM point of {self.model.name!r} "
                                   f"(m_X = {self.mX:g} GeV) did not converge (EDM = {m.fmin.edm:.3g})")
        return float(m.fval)

    def run(self, minos: bool = False, strategy: int = 1, predictions: bool = True) -> FitResult:
        """MIGRAD and HESSE (and MINOS with ``minos``); ``predictions=False`` leaves
        :attr:`FitResult.predictions` empty (the starting point of an MCMC needs none)."""
        self._check_not_flat()
        self._rescue_start()
        names = list(self.model.parameters)
        everything = list(self.parameters)
        m, valid = mle.migrad(self.chi2, everything, self.start, self.limits, self.fixed, strategy=strategy,
                              grad=self._gradient())
        if not valid:
            raise ConvergenceError(
                f"the fit of {self.model.name!r} to {'+'.join(self.likelihood.names)} at m_X = {self.mX:g} GeV "
                f"did not converge (EDM = {m.fmin.edm:.3g}, calls = {m.nfcn}); try other starting values"
            )
        m.hesse()
        self.minuit = m
        minos_errors = {}
        free = [p for p in names if p not in self.fixed]
        if minos:
            m.minos(*free)
            minos_errors = {p: (m.merrors[p].lower, m.merrors[p].upper) for p in free}
        values = {p: float(m.values[p]) for p in names}
        errors = {p: float(m.errors[p]) for p in names}
        at_bound = {}
        for p in names:
            lo = (self.limits.get(p) or (None, None))[0]
            if p not in self.fixed and lo is not None and values[p] - lo <= 0.1 * errors[p]:
                at_bound[p] = float(lo)
        upper = {p: self._upper_limit_95(m, p) for p in at_bound}
        best = [float(m.values[p]) for p in everything]
        pred = self.predictions(*best) if predictions else {}
        theory = None
        if self.nuisances is not None:
            theory = self.nuisances.summary({n: m.values[n] for n in self.nuisances.names},
                                            {n: m.errors[n] for n in self.nuisances.names})
        return FitResult(model=self.model.name, terms=self.likelihood.names, mX=self.mX,
                         values=values, errors=errors, chi2_min=float(m.fval), chi2_sm=self._sm_chi2(),
                         ndof=len(names) - len(self.fixed),
                         predictions={k: float(np.real(v)) for k, v in pred.items()},
                         minos=minos_errors, nfcn=m.nfcn, at_bound=at_bound, upper_limits_95=upper,
                         notes=self._notes(), theory_nuisances=theory)

    def _notes(self) -> list[str]:
        notes = [f"{n}: it adds only a constant at m_X = {self.mX:g} GeV" for n in self._terms_out_of_range()]
        if self.nuisances is not None and self.minuit is not None:
            pulled = [n for n in self.nuisances.names if abs(self.minuit.values[n]) > 3.0]
            if pulled:
                notes.append(f"theory nuisances pulled by more than 3 sigma: {', '.join(pulled)} "
                             "(the data disagree with the theory inputs)")
        if self.nuisances is not None and not self.nuisances.names:
            notes.append(f"theory nuisances: no varied theory input moves {'+'.join(self.likelihood.names)} at "
                         f"m_X = {self.mX:g} GeV (or their scale is 0); the fit is the one at the central inputs")
        return notes

    def __repr__(self) -> str:
        extra = f", {len(self.nuisances.names)} theory nuisances" if self.nuisances is not None else ""
        return f"<Fit {self.model.name} to {' + '.join(self.likelihood.names)} at mX = {self.mX:g} GeV{extra}>"
