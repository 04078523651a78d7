"""One clear object per fit: :class:`Fit` minimises chi2 = -2 ln L of a composed likelihood
over a model's parameters at fixed m_X with iminuit (MIGRAD + HESSE, MINOS on request).

The significance over the SM is Delta chi2 = chi2(SM point) - chi2_min with as many degrees
of freedom as free parameters, converted to Gaussian sigmas two-sidedly
(Z = Phi^-1(1 - p/2), which is sqrt(Delta chi2) for one parameter).
A fit that does not converge raises :class:`xfit.errors.ConvergenceError`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..errors import ConvergenceError, InputError, XfitError, require_finite_number
from ..likelihood import LikelihoodBase
from ..models.base import Model
from . import mle
from .results import Result, to_jsonable


def significance_from_delta_chi2(delta_chi2: float, dof: int) -> float:
    """Gaussian-equivalent significance of a chi2 improvement with ``dof`` parameters."""
    if delta_chi2 <= 0:
        return 0.0
    p = stats.chi2.sf(delta_chi2, dof)
    return float(stats.norm.isf(p / 2.0))


def delta_chi2_for_sigma(n_sigma: float, dof: int) -> float:
    """Delta chi2 of an n-sigma region for ``dof`` parameters (2.30, 6.18, 11.83 for dof=2)."""
    return float(stats.chi2.isf(2.0 * stats.norm.sf(n_sigma), dof))


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

    @property
    def delta_chi2_sm(self) -> float:
        return self.chi2_sm - self.chi2_min

    @property
    def significance(self) -> float:
        return significance_from_delta_chi2(self.delta_chi2_sm, self.ndof)

    def to_dict(self) -> dict:
        return to_jsonable({"model": self.model, "terms": list(self.terms), "mX": self.mX,
                "values": self.values,
                "errors": {k: (None if k in self.at_bound else e) for k, e in self.errors.items()},
                "minos": self.minos, "at_bound": self.at_bound, "upper_limit_95": self.upper_limits_95,
                "notes": self.notes,
                "chi2_min": self.chi2_min, "chi2_sm": self.chi2_sm,
                "delta_chi2_sm": self.delta_chi2_sm, "ndof": self.ndof,
                "significance_sigma": self.significance, "predictions": self.predictions})

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
                + "".join(f"\nnote: {n}" for n in self.notes))


class Fit:
    """Fit ``model`` to ``likelihood`` at fixed ``mX``.

    >>> fit = Fit(get_model("tau-flavor"), build_likelihood("b_to_s_emiss,l3_z_gamma"), mX=2.1)
    >>> result = fit.run()            # MIGRAD + HESSE
    """

    def __init__(self, model: Model, likelihood: LikelihoodBase, mX: float,
                 start: Mapping[str, float] | None = None,
                 limits: Mapping[str, tuple] | None = None, fixed: Mapping[str, float] | None = None):
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
        for p, v in (fixed or {}).items():
            require_finite_number(v, f"fixed value of {p!r}")
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

    # the objective -----------------------------------------------------------------------
    def chi2(self, *values) -> float:
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
                out.append((v, self.chi2(*[v if q == p else base[q] for q in self.model.parameters])))
            except XfitError:
                continue
        return out

    def _moves(self, base: Mapping[str, float], p: str) -> bool:
        """Does chi2 change when ``p`` moves?  Tried at scaled starts and at a few absolute
        values, so that a tiny start (g_X = 1e-9: chi2 equal to the SM one within rounding)
        is not mistaken for a flat likelihood."""
        ref = self.chi2(*[base[q] for q in self.model.parameters])
        return any(c != ref for _, c in self._trials(base, p))

    def _rescue_start(self) -> None:
        """A parameter whose start sits where chi2 is locally flat (a tiny g_X) starts
        instead at the lowest-chi2 trial value, so that MIGRAD does not stop there."""
        base = dict(self.start, **self.fixed)
        for p in self.model.parameters:
            if p in self.fixed or not base[p]:
                continue
            ref = self.chi2(*[base[q] for q in self.model.parameters])
            local = [self.chi2(*[base[p] * f if q == p else base[q] for q in self.model.parameters])
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

    def _upper_limit_95(self, m, p: str) -> float | None:
        """One-sided 95 % CL upper limit of ``p`` when its best value is at its lower bound:
        the upper end of the Delta chi2 = 2.71 (two-sided 90 %) MINOS interval."""
        try:
            m.minos(p, cl=0.90)
        except RuntimeError:
            return None
        me = m.merrors[p]
        return float(m.values[p] + me.upper) if me.upper_valid else None

    def run(self, minos: bool = False, strategy: int = 1, predictions: bool = True) -> FitResult:
        """MIGRAD and HESSE (and MINOS with ``minos``); ``predictions=False`` leaves
        :attr:`FitResult.predictions` empty (the starting point of an MCMC needs none)."""
        self._check_not_flat()
        self._rescue_start()
        names = list(self.model.parameters)
        m, valid = mle.migrad(self.chi2, names, self.start, self.limits, self.fixed, strategy=strategy)
        if not valid:
            raise ConvergenceError(
                f"the fit of {self.model.name!r} to {'+'.join(self.likelihood.names)} at m_X = {self.mX:g} GeV "
                f"did not converge (EDM = {m.fmin.edm:.3g}, calls = {m.nfcn}); try other starting values"
            )
        m.hesse()
        self.minuit = m
        minos_errors = {}
        if minos:
            m.minos()
            minos_errors = {p: (m.merrors[p].lower, m.merrors[p].upper) for p in names if p not in self.fixed}
        values = {p: float(m.values[p]) for p in names}
        errors = {p: float(m.errors[p]) for p in names}
        at_bound = {}
        for p in names:
            lo = (self.limits.get(p) or (None, None))[0]
            if p not in self.fixed and lo is not None and values[p] - lo <= 0.1 * errors[p]:
                at_bound[p] = float(lo)
        upper = {p: self._upper_limit_95(m, p) for p in at_bound}
        sm = self.model.sm_point()
        chi2_sm = float(self.likelihood.chi2(self.predictor(keys=self.likelihood.observables, **sm)))
        pred = self.predictor(**values) if predictions else {}
        return FitResult(model=self.model.name, terms=self.likelihood.names, mX=self.mX,
                         values=values, errors=errors, chi2_min=float(m.fval), chi2_sm=chi2_sm,
                         ndof=len(names) - len(self.fixed),
                         predictions={k: float(np.real(v)) for k, v in pred.items()},
                         minos=minos_errors, nfcn=m.nfcn, at_bound=at_bound, upper_limits_95=upper,
                         notes=[f"{n}: it adds only a constant at m_X = {self.mX:g} GeV"
                                for n in self._terms_out_of_range()])

    def __repr__(self) -> str:
        return f"<Fit {self.model.name} to {' + '.join(self.likelihood.names)} at mX = {self.mX:g} GeV>"
