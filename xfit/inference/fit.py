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

from ..errors import ConvergenceError, InputError, require_finite_number
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

    @property
    def delta_chi2_sm(self) -> float:
        return self.chi2_sm - self.chi2_min

    @property
    def significance(self) -> float:
        return significance_from_delta_chi2(self.delta_chi2_sm, self.ndof)

    def to_dict(self) -> dict:
        return to_jsonable({"model": self.model, "terms": list(self.terms), "mX": self.mX,
                "values": self.values, "errors": self.errors, "minos": self.minos,
                "chi2_min": self.chi2_min, "chi2_sm": self.chi2_sm,
                "delta_chi2_sm": self.delta_chi2_sm, "ndof": self.ndof,
                "significance_sigma": self.significance, "predictions": self.predictions})

    def __repr__(self) -> str:
        def fmt(k, v):
            if k in self.minos:
                lo, hi = self.minos[k]
                return f"{k} = {v:.4g} {lo:+.2g}/{hi:+.2g} (MINOS)"
            return f"{k} = {v:.4g} ± {self.errors.get(k, float('nan')):.2g}"
        pars = ", ".join(fmt(k, v) for k, v in self.values.items())
        return (f"<FitResult {self.model} @ mX={self.mX:g} GeV [{' + '.join(self.terms)}]: {pars}; "
                f"chi2_min = {self.chi2_min:.3f}, Δchi2(SM) = {self.delta_chi2_sm:.2f} "
                f"({self.significance:.2f}σ, {self.ndof} dof)>")


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
        missing = set(likelihood.observables) - set(model.predict(self.mX, **model.sm_point()))
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
        return float(self.likelihood.chi2(self.model.predict(self.mX, **params)))

    def chi2_at(self, **params) -> np.ndarray:
        """Vectorised chi2 at parameter arrays (no Python loop per point)."""
        return self.likelihood.chi2(self.model.predict(self.mX, **params))

    def _check_not_flat(self) -> None:
        """Refuse a likelihood that does not depend on the free parameters (MIGRAD would
        wander off to NaN): e.g. a baryonic X with B(X -> invisible) = 0 in missing-energy terms."""
        free = [p for p in self.model.parameters if p not in self.fixed]
        base = dict(self.start, **self.fixed)
        ref = self.chi2(*[base[p] for p in self.model.parameters])

        def moves(p):
            for factor in (0.0, 0.5, 2.0, 10.0):
                trial = dict(base, **{p: base[p] * factor if base[p] else 0.01 * factor})
                if self.chi2(*[trial[q] for q in self.model.parameters]) != ref:
                    return True
            return False

        flat = [p for p in free if not moves(p)]
        if not flat:
            return
        if len(flat) == len(free):
            raise ConvergenceError(
                f"the likelihood {'+'.join(self.likelihood.names)} does not depend on the parameters "
                f"{free} of model {self.model.name!r} at m_X = {self.mX:g} GeV (for example "
                "B(X -> invisible) = 0 or every channel closed): nothing to fit")
        raise ConvergenceError(
            f"the likelihood {'+'.join(self.likelihood.names)} does not depend on {', '.join(flat)} "
            f"(model {self.model.name!r} at m_X = {self.mX:g} GeV); fix "
            f"{'it' if len(flat) == 1 else 'them'} or add a term that constrains "
            f"{'it' if len(flat) == 1 else 'them'}")

    def run(self, minos: bool = False, strategy: int = 1) -> FitResult:
        self._check_not_flat()
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
        sm = self.model.sm_point()
        chi2_sm = float(self.likelihood.chi2(self.model.predict(self.mX, **sm)))
        pred = self.model.predict(self.mX, **values)
        return FitResult(model=self.model.name, terms=self.likelihood.names, mX=self.mX,
                         values=values, errors=errors, chi2_min=float(m.fval), chi2_sm=chi2_sm,
                         ndof=len(names) - len(self.fixed),
                         predictions={k: float(np.real(v)) for k, v in pred.items()},
                         minos=minos_errors, nfcn=m.nfcn)

    def __repr__(self) -> str:
        return f"<Fit {self.model.name} to {' + '.join(self.likelihood.names)} at mX = {self.mX:g} GeV>"
