"""Calculators: from a HistFactory model to CLs+b, CLb and CLs at a value mu of the POI.

:class:`Calculator` is the interface (an abstract base): ``hypotest(mu)`` returns a
:class:`HypoTestResult`.  :class:`AsymptoticCalculator` implements it with the asymptotic
formulae of Cowan, Cranmer, Gross, Vitells (arXiv:1007.1727) for the q~_mu statistic (Eq. 16),
exactly as pyhf's ``AsymptoticCalculator(test_stat="qtilde")``; a toy (pseudo-experiment)
calculator can implement the same interface later.

Asymptotics (pyhf's "-mu_hat/sigma" form):

* the Asimov data set is the expectation of the **background-only fit** (mu = 0, nuisances
  profiled on the observed data), main and auxiliary data (Eq. 24 and Sec. 3.8);
* q_mu,A = q~_mu on the Asimov data (its free minimum is the background-only point itself),
  which gives sigma through mu^2 / sigma^2 = q_mu,A (Eq. 29);
* t = sqrt(q~) - sqrt(q_A) for q~ <= q_A, else (q~ - q_A) / (2 sqrt(q_A)) (Eq. 66 rewritten);
  CLs+b = Phi(-(t + sqrt(q_A))), CLb = Phi(-t) (Eq. 65 with mu' = mu and mu' = 0),
  CLs = CLs+b / CLb;
* expected CLs at N sigma of the background-only hypothesis: the same with t = -N
  (:func:`expected_cls`; pyhf's ``expected_pvalues``), listed for N = -2..2 (-2: the
  smallest CLs, the strongest expected exclusion).
"""
from __future__ import annotations

import abc
import functools
import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from ..errors import ConvergenceError, InputError, require_finite_number
from . import mle
from . import test_statistics as ts
from .results import Result

#: Bands of the expected CLs and limits (N sigma of the background-only hypothesis).
BANDS = (-2, -1, 0, 1, 2)
#: Conditional fits remembered as starting points (per data set, observed and Asimov).
MAX_STARTS = 12


def normal_sf(x: float) -> float:
    """Survival function of the standard normal, 1 - Phi(x) = erfc(x / sqrt 2) / 2 (the
    scalar form of ``scipy.stats.norm.sf``, without its per-call overhead)."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def cls_from_q(qtilde: float, q_asimov: float) -> tuple[float, float, float]:
    """(CLs+b, CLb, CLs) for the q~_mu statistic given q_mu,A (Cowan et al. Eqs. 65-66)."""
    qt, qa = max(float(qtilde), 0.0), float(q_asimov)
    if not qa > 1e-12:  # no sensitivity at this mu: the test cannot exclude it
        return 1.0, 1.0, 1.0
    sqa = math.sqrt(qa)
    t = math.sqrt(qt) - sqa if qt <= qa else (qt - qa) / (2.0 * sqa)
    clsb = normal_sf(t + sqa)
    clb = normal_sf(t)
    return clsb, clb, clsb / clb if clb > 0 else math.nan


def expected_cls(q_asimov: float, bands=BANDS) -> list[float]:
    """Expected CLs at N sigma (N in ``bands``) of the background-only hypothesis given q_mu,A
    (pyhf's expected set with its default "normal" base distribution: test statistic t = -N)."""
    qa = float(q_asimov)
    if not qa > 1e-12:
        return [1.0 for _ in bands]
    sqa = math.sqrt(qa)
    out = []
    for n in bands:
        t = -float(n)
        clsb, clb = normal_sf(t + sqa), normal_sf(t)
        out.append(clsb / clb if clb > 0 else math.nan)
    return out


@functools.lru_cache(maxsize=64)
def expected_sqrt_qa(n_sigma: float, cl: float = 0.95) -> float:
    """sqrt(q_mu,A) at which the expected CLs at the N-sigma quantile equals 1 - cl
    (Cowan et al. Eq. 89 with CLs: mu_up / sigma = N + Phi^-1(1 - alpha Phi(N)))."""
    n_sigma = require_finite_number(n_sigma, "n_sigma (the band of the expected limit)")
    cl = require_finite_number(cl, "cl (confidence level)")
    if not 0.0 < cl < 1.0:
        raise InputError(f"cl (confidence level) must be in (0, 1), e.g. 0.95; got {cl!r}")
    alpha = 1.0 - cl
    unit = NormalDist()  # the standard library's Phi and Phi^-1 (no scipy.stats import)
    return n_sigma + unit.inv_cdf(1.0 - alpha * unit.cdf(n_sigma))


@dataclass(repr=False)
class HypoTestResult(Result):
    """One hypothesis test at POI value ``mu``: the statistics and the CL values."""

    mu: float
    q_tilde: float
    q_asimov: float
    CLsb: float
    CLb: float
    CLs: float
    CLs_exp: list = field(default_factory=list)  # N = -2..2
    mu_hat: float = math.nan
    test_stat: str = "qtilde"
    calculator: str = "asymptotic"

    def summary(self) -> dict:
        """``{"CLs_obs", "CLs_exp"}`` (``xfit workspace cls --json``)."""
        return {"CLs_obs": self.CLs, "CLs_exp": list(self.CLs_exp)}


class Calculator(abc.ABC):
    """Interface of a CLs calculator for one model and its observed data.

    ``free_fit()`` fits the POI; ``hypotest(mu)`` returns a :class:`HypoTestResult`.
    :class:`AsymptoticCalculator` is the asymptotic implementation; a toy calculator (the
    distributions of q~_mu from pseudo-experiments) will be another.
    """

    #: short name stored in the results
    name = "abstract"

    @abc.abstractmethod
    def free_fit(self, init=None):
        """The unconditional fit to the observed data (POI within its bounds)."""

    @abc.abstractmethod
    def hypotest(self, mu: float) -> HypoTestResult:
        """CLs+b, CLb, CLs (observed) and the expected CLs band at POI value ``mu``."""


class AsymptoticCalculator(Calculator):
    """Asymptotic q~_mu calculator for a :class:`xfit.histfactory.HistFactoryModel`.

    ``poi_index``: the POI (default the model's); ``fix``: {index: value} of further
    parameters held fixed in every fit (e.g. the SM signal strength of the Belle II B+ -> K+ X
    model); ``method``: minimiser of :func:`xfit.inference.mle.fit`.

    The background-only fit (POI = 0) and the Asimov data set are computed once.  Fits are
    warm-started: the free fit from the last one; each conditional fit on the parabola (or
    line) through the three (two) conditional fits nearest in mu since the templates last
    changed (:meth:`new_templates`), else from the nearest one (a scan in mu or in a template
    parameter moves smoothly), and with the factorised Hessian of the last conditional fit of
    the same data set (Newton reuses it under its usual rules, see
    :func:`xfit.histfactory.minimize`).  The observed
    and Asimov models (``model``, ``asimov``) are separate objects: a caller that changes a
    template (e.g. the X mass) changes it in both.
    """

    name = "asymptotic"

    def __init__(self, model, poi_index: int | None = None, fix: dict[int, float] | None = None,
                 method: str = "newton"):
        self.model = model
        self.poi = model.poi_index if poi_index is None else int(poi_index)
        self.fix = dict(fix or {})
        self.method = method
        self.bkg_fit = mle.fit(model, fix={**self.fix, self.poi: 0.0}, method=method)
        main_a, aux_a = model.asimov_data(self.bkg_fit.x)
        self.asimov = model.with_data(main_a, aux_a)
        self.asimov_min = self.asimov.nll(self.bkg_fit.x)
        self._x_obs = self.bkg_fit.x.copy()
        self._x_asimov = self.bkg_fit.x.copy()
        #: recent conditional fits {asimov: [(mu, x, epoch), ...]}: starting points
        self._starts: dict[bool, list] = {False: [], True: []}
        self._epoch = 0
        #: {asimov: (epoch, the factorised Hessian of the last conditional fit)}: the start of
        #: the next one with the same templates (Newton reuses it while it converges fast)
        self._hessians: dict[bool, tuple] = {}

    # .. fits ..............................................................................
    def free_fit(self, init=None):
        """Best fit to the observed data, POI within its bounds (warm start from the last)."""
        r = mle.fit(self.model, init=self._x_obs if init is None else init, fix=self.fix, method=self.method)
        self._x_obs = r.x
        return r

    def conditional(self, mu: float, asimov: bool) -> tuple[float, float]:
        """(-ln L, d(-ln L)/d mu) of the fit with the POI fixed at ``mu`` (observed or Asimov).

        At the conditional minimum the derivative of the profiled NLL with respect to the POI
        is the partial derivative (envelope theorem), so it comes with the fit.
        """
        m = self.asimov if asimov else self.model
        last = self._hessians.get(asimov)
        hessian = last[1] if last is not None else None
        r = mle.fixed_poi_fit(m, mu, self.poi, init=self._start(mu, asimov), fix=self.fix, method=self.method,
                              hessian=hessian)
        if r.hessian is not None:
            self._hessians[asimov] = (self._epoch, r.hessian)
        if asimov:
            self._x_asimov = r.x
        hist = self._starts[asimov]
        hist.append((float(mu), r.x, self._epoch))
        del hist[:-MAX_STARTS]
        g = r.grad if r.grad is not None else m.nll_and_grad(r.x)[1]
        return r.nll, float(g[self.poi])

    def reset_starts(self) -> None:
        """Start the next fits from the background-only fit, as a fresh calculator does."""
        self._x_obs = self.bkg_fit.x.copy()
        self._x_asimov = self.bkg_fit.x.copy()
        self._starts = {False: [], True: []}
        self._hessians = {}

    def new_templates(self) -> None:
        """Tell the calculator that the models changed (e.g. a new X mass in a scan): the
        conditional fits made so far remain starting points, but are not extrapolated."""
        self._epoch += 1

    def _start(self, mu: float, asimov: bool):
        """Starting point of a conditional fit at ``mu``: the parabola through the three fits
        nearest in mu since the models last changed (nuisances move smoothly with mu; the line
        through the nearest two if there are only two or the parabola bends by more than the
        line's own step), else
        the nearest fit, else the last fit."""
        hist = self._starts[asimov]
        if not hist:
            return (self._x_asimov if asimov else self._x_obs).copy()
        near = sorted((e for e in hist if e[2] == self._epoch), key=lambda e: abs(e[0] - mu))[:3]
        if len(near) >= 2 and near[0][0] != near[1][0]:
            (m1, x1, _), (m2, x2, _) = near[:2]
            line = x1 + (x2 - x1) * ((mu - m1) / (m2 - m1))
            if len(near) == 3 and near[2][0] not in (m1, m2):
                # the parabola through the three, unless its bend exceeds the line's own step
                m3, x3 = near[2][0], near[2][1]
                bend = (mu - m1) * (mu - m2) * ((x3 - x1) / (m3 - m1) - (x2 - x1) / (m2 - m1)) / (m3 - m2)
                if np.max(np.abs(bend)) <= np.max(np.abs(line - x1)):
                    return line + bend
            return line
        return min(hist, key=lambda e: abs(e[0] - mu))[1].copy()

    # .. test statistics ...................................................................
    def q_asimov(self, mu: float) -> tuple[float, float]:
        """(q_mu,A, d q_mu,A / d mu) on the background-only Asimov data set."""
        nll, d = self.conditional(mu, True)
        return ts.t_mu(nll, self.asimov_min), 2.0 * d

    def q_tilde(self, mu: float, mu_hat: float, nll_hat: float) -> tuple[float, float]:
        """(q~_mu, d q~_mu / d mu) on the observed data (mu_hat, nll_hat: the free fit).

        With the POI bounded below by 0 (the usual case, and pyhf's condition for q~) mu_hat
        is never negative; if the bounds allow mu_hat < 0, Eq. (16) takes the fit at mu = 0
        as the reference (pyhf, which warns in that case, would use q_mu instead)."""
        if mu <= mu_hat:
            return 0.0, 0.0
        nll, d = self.conditional(mu, False)
        nll_zero = self.conditional(0.0, False)[0] if mu_hat < 0 else None
        return ts.q_mu_tilde(mu, nll, nll_hat, mu_hat, nll_zero), 2.0 * d

    def cls(self, mu: float, mu_hat: float, nll_hat: float) -> float:
        """Observed CLs at ``mu`` (mu_hat, nll_hat: the free fit)."""
        return cls_from_q(self.q_tilde(mu, mu_hat, nll_hat)[0], self.q_asimov(mu)[0])[2]

    def asimov_sigma(self) -> float:
        """sigma of the POI from the Asimov Hessian at the background-only point (the
        starting guess of the limits); 1 if the Hessian is not positive definite."""
        fixed = self.asimov.fixed.copy()
        for i in self.fix:
            fixed[i] = True
        try:
            cov = mle.hesse(self.asimov, self.bkg_fit.x, fixed=fixed, globals_only=True)
            return math.sqrt(cov[self.poi, self.poi]) or 1.0
        except ConvergenceError:
            return 1.0

    # .. the test ..........................................................................
    def hypotest(self, mu: float, free=None) -> HypoTestResult:
        """CLs+b, CLb, CLs and the expected CLs (N = -2..2) at ``mu`` (``free``: a free fit
        already done, else one is made)."""
        free = self.free_fit() if free is None else free
        mu_hat = float(free.x[self.poi])
        qt = self.q_tilde(mu, mu_hat, free.nll)[0]
        qa = self.q_asimov(mu)[0]
        clsb, clb, cls = cls_from_q(qt, qa)
        return HypoTestResult(float(mu), qt, qa, clsb, clb, cls, expected_cls(qa), mu_hat)


__all__ = [
    "BANDS",
    "AsymptoticCalculator",
    "Calculator",
    "HypoTestResult",
    "cls_from_q",
    "expected_cls",
    "expected_sqrt_qa",
]
