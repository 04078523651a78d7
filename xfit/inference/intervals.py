"""CLs upper limits on the parameter of interest, with the expected bands (N = -2..2 sigma).

Both solve with warm-started, safeguarded Newton iterations; the derivatives of q~_mu and
q_mu,A with respect to mu come with each conditional fit (envelope theorem, see
:meth:`xfit.inference.calculators.AsymptoticCalculator.conditional`), so one limit costs a few
fits (a few ms each for the 232-parameter Belle II model):

* **expected** (:func:`expected_limits`): the expected CLs at the N-sigma quantile of the
  background-only hypothesis depends on q_mu,A only, and equals 1 - CL where
  sqrt(q_mu,A(mu)) = N + Phi^-1(1 - alpha Phi(N)) (:func:`~.calculators.expected_sqrt_qa`);
  Newton on sqrt(q_mu,A(mu)) = target, steps kept within [mu/4, 4 mu], starting from
  target x (mu / sqrt(q_A)) of the previous band (N = 0, -1, 1, -2, 2 in that order);
* **observed** (:func:`observed_limit`): Newton on ln CLs(mu) = ln(1 - CL), the slope by the
  chain rule through (q~, q_A) (closed-form CLs, finite differences in q), bisection
  whenever a step would leave the bracket [lo, hi] (CLs(lo) > 1 - CL > CLs(hi)); until a
  bracket exists steps may grow the guess by at most a factor 4.

Convergence: relative step or bracket width below 1e-5.  A limit above ``mu_max`` is None.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import ConvergenceError
from .calculators import BANDS, cls_from_q, expected_sqrt_qa
from .results import Result

#: Default confidence level of the limits.
CL = 0.95
#: Relative tolerance of the root finding.
RTOL = 1e-5


def expected_limits(calc, sigma_guess: float, cl: float = CL, mu_max: float = math.inf) -> dict[str, float]:
    """Expected CLs upper limits on the POI at N = -2..2 sigma: {"-2": mu, ..., "2": mu}.

    ``calc``: an :class:`~xfit.inference.calculators.AsymptoticCalculator` (its ``q_asimov``);
    ``sigma_guess``: the POI's sigma (e.g. :meth:`asimov_sigma`), the starting scale.
    """
    out = {}
    scale = sigma_guess  # mu / sqrt(q_A) of the last solution
    for n in (0, -1, 1, -2, 2):
        target = expected_sqrt_qa(n, cl)
        mu = max(target * scale, 1e-6)
        for _ in range(30):
            qa, dqa = calc.q_asimov(mu)
            sq = math.sqrt(max(qa, 1e-300))
            slope = dqa / (2.0 * sq) if sq > 0 else 0.0
            new = mu - (sq - target) / slope if slope > 0 else mu * target / max(sq, 1e-12)
            new = min(max(new, 0.25 * mu), 4.0 * mu, mu_max)
            done = abs(new - mu) <= RTOL * mu
            mu = new
            if done:
                break
        out[str(n)] = mu
        scale = mu / target
    return out


def observed_limit(calc, mu_hat: float, nll_hat: float, guess: float, cl: float = CL,
                   mu_max: float = math.inf) -> float | None:
    """Observed CLs upper limit on the POI (None if above ``mu_max``).

    ``mu_hat``, ``nll_hat``: the free fit to the observed data; ``guess``: the first trial
    value (e.g. the expected median plus mu_hat).  Raises :class:`ConvergenceError` if the
    iteration does not converge in 60 steps.
    """
    log_alpha = math.log(1.0 - cl)
    lo, hi = max(mu_hat, 0.0), None  # CLs(lo) >= 0.5: q~ = 0 there
    mu = max(guess, mu_hat + 1e-6, 1e-6)
    for _ in range(60):
        qt, dqt = calc.q_tilde(mu, mu_hat, nll_hat)
        qa, dqa = calc.q_asimov(mu)
        cls = cls_from_q(qt, qa)[2]
        h = math.log(max(cls, 1e-300)) - log_alpha
        if h > 0:
            lo = mu
        else:
            hi = mu
        # d ln CLs / d mu by the chain rule through (q~, q_A) (closed-form CLs, differences)
        eps_t, eps_a = 1e-6 * max(qt, 1.0), 1e-6 * max(qa, 1.0)
        d_t = (math.log(cls_from_q(qt + eps_t, qa)[2]) - math.log(cls_from_q(max(qt - eps_t, 0.0), qa)[2])) \
            / (qt + eps_t - max(qt - eps_t, 0.0))
        d_a = (math.log(cls_from_q(qt, qa + eps_a)[2]) - math.log(cls_from_q(qt, qa - eps_a)[2])) / (2 * eps_a)
        slope = d_t * dqt + d_a * dqa
        new = mu - h / slope if slope < 0 else math.nan
        if hi is None:
            if not (new > mu) or not math.isfinite(new):
                new = 2.0 * mu
            new = min(new, 4.0 * mu)
            if new > mu_max:
                if mu >= mu_max:
                    return None
                new = mu_max
        elif not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if abs(new - mu) <= RTOL * mu or (hi is not None and hi - lo <= RTOL * hi):
            return float(new if hi is None or lo < new < hi else mu)
        mu = new
    raise ConvergenceError(f"CLs upper limit did not converge (bracket {lo:.4g}..{hi})")


@dataclass(repr=False)
class UpperLimitResult(Result):
    """Observed and expected CLs upper limits on the POI at confidence level ``cl``."""

    obs_limit: float | None
    exp_limits: dict = field(default_factory=dict)  # "-2".."2" -> limit
    cl: float = CL
    mu_hat: float = math.nan
    nll_hat: float = math.nan

    def summary(self) -> dict:
        """``{"obs_limit", "exp_limits": [N = -2..2]}`` (``xfit workspace limit --json``)."""
        return {"obs_limit": self.obs_limit, "exp_limits": [self.exp_limits.get(str(n)) for n in BANDS]}


def upper_limit(calc, cl: float = CL, mu_max: float | None = None, free=None) -> UpperLimitResult:
    """Observed and expected CLs upper limits with an asymptotic calculator ``calc``.

    ``mu_max``: largest POI value searched (default the POI's upper bound); ``free``: the
    free fit if already done.  The expected limits are found first (from the Asimov sigma),
    the observed one starts from the expected median plus mu_hat.
    """
    free = calc.free_fit() if free is None else free
    if mu_max is None:
        mu_max = float(calc.model.bounds[calc.poi, 1])
    mu_hat = float(free.x[calc.poi])
    exp = expected_limits(calc, calc.asimov_sigma(), cl, mu_max)
    obs = observed_limit(calc, mu_hat, free.nll, guess=exp["0"] + mu_hat, cl=cl, mu_max=mu_max)
    return UpperLimitResult(obs, exp, cl, mu_hat, float(free.nll))


__all__ = ["CL", "RTOL", "UpperLimitResult", "expected_limits", "observed_limit", "upper_limit"]
