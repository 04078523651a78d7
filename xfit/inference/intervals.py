"""CLs upper limits on the parameter of interest, with the expected bands (N = -2..2 sigma).

Both solve with warm-started, safeguarded Newton iterations; the derivatives of q~_mu and
q_mu,A with respect to mu come with each conditional fit (envelope theorem, see
:meth:`xfit.inference.calculators.AsymptoticCalculator.conditional`), so one limit costs a few
fits (a few ms each for the 232-parameter Belle II model):

* **expected** (:func:`expected_limits`): the expected CLs at the N-sigma quantile of the
  background-only hypothesis depends on q_mu,A only, and equals 1 - CL where
  sqrt(q_mu,A(mu)) = N + Phi^-1(1 - alpha Phi(N)) (:func:`~.calculators.expected_sqrt_qa`);
  Newton on sqrt(q_mu,A(mu)) = target, steps kept within [mu/4, 4 mu], starting from
  target x (mu / sqrt(q_A)) of the previous band (N = 0, -1, 1, -2, 2 in that order); with
  the bands of a neighbouring problem, a trial that is not accepted is followed by the root
  of mu = target x sigma(mu) with sigma about the last fit (value and slope fitted, the
  neighbour's band shape beyond first order, :func:`_shape_model`) instead of the Newton
  iterate, and the first trial of a later band is the root on that model about the nearest
  fit, the amplitude of its nonlinear part matched to the next fit at least 2 % away;
* **observed** (:func:`observed_limit`): Newton on ln CLs(mu) = ln(1 - CL), the slope by the
  chain rule through (q~, q_A) (closed-form CLs, finite differences in q), bisection
  whenever a step would leave the bracket [lo, hi] (CLs(lo) > 1 - CL > CLs(hi)); until a
  bracket exists steps may grow the guess by at most a factor 4; the next trial is the root
  with sqrt(q~) linear about the last fit and q_A from the Asimov fits
  (:func:`_cls_model_root`), when it lies in the bracket.

Convergence: relative step or bracket width below 1e-5, or a predicted error of the next
Newton iterate below :data:`ACCEPT_RTOL` (1e-9; the curvature from the slopes of two fits),
so that a good first trial (the previous band through the interpolated Asimov curve, the
previous mass of a scan) costs one or two fits.  A limit above ``mu_max`` is None.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConvergenceError
from .calculators import BANDS, cls_from_q, expected_sqrt_qa
from .results import Result

#: Default confidence level of the limits.
CL = 0.95
#: Relative tolerance of the root finding.
RTOL = 1e-5


#: Relative error of a Newton iterate below which it is accepted without one more fit
#: (predicted from the curvature, |f''| delta^2 / (2 |f'|), times a safety factor 10).
ACCEPT_RTOL = 1e-9


def _newton_accepts(step: float, mu: float, slope: float, curvature: float | None) -> bool:
    """Whether the Newton iterate mu + step is converged: a step below RTOL (the fits'
    tolerance), or a predicted error of the new iterate below ACCEPT_RTOL."""
    if abs(step) <= RTOL * abs(mu):
        return True
    if curvature is None or not (slope != 0 and math.isfinite(curvature)):
        return False
    return 10.0 * abs(curvature) * step * step / (2.0 * abs(slope)) <= ACCEPT_RTOL * abs(mu)


def _curvature(points, mu, slope):
    """f'' from the slope at the nearest other point of ``points`` [(mu, slope)]."""
    others = [(m, d) for m, d in points if m != mu]
    if not others:
        return None
    m2, d2 = min(others, key=lambda e: abs(e[0] - mu))
    return (slope - d2) / (mu - m2)


def _sigma_model(pts, curvature: float):
    """sigma(mu) = mu / sqrt(q_A(mu)) near the Asimov fits ``pts`` [(mu, sqrt q_A, slope)]:
    the cubic Hermite interpolant through the two nearest fits at least 2 % apart (values and
    slopes), or the quadratic through one fit with the given ``curvature`` (e.g. from the
    shape of the bands at the previous mass).  Returns a function of mu -> (sigma, sigma')."""
    sig = []
    for mu, sq, d in sorted(pts, key=lambda e: -e[0] * 0):
        if sq > 0 and all(abs(mu - m) > 0.02 * mu for m, _, _ in sig):
            sig.append((mu, mu / sq, (sq - mu * d) / sq**2))
    if len(sig) >= 2:
        def model(x, sig=sig):
            (m1, f1, d1), (m2, f2, d2) = sorted(sig, key=lambda e: abs(e[0] - x))[:2]
            h = m2 - m1
            t = (x - m1) / h
            h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
            dh00, dh10, dh01, dh11 = 6 * t**2 - 6 * t, 3 * t**2 - 4 * t + 1, -6 * t**2 + 6 * t, 3 * t**2 - 2 * t
            val = h00 * f1 + h10 * h * d1 + h01 * f2 + h11 * h * d2
            der = (dh00 * f1 + dh10 * h * d1 + dh01 * f2 + dh11 * h * d2) / h
            return val, der
        return model
    (m1, f1, d1) = sig[-1]
    return lambda x: (f1 + d1 * (x - m1) + curvature * (x - m1) ** 2, d1 + 2 * curvature * (x - m1))


def _horner(coef, x: float) -> float:
    """The polynomial with coefficients ``coef`` (highest power first) at x."""
    v = 0.0
    for c in coef:
        v = v * x + c
    return v


def _shape_model(point, shape, lam: float, kap: float):
    """sigma(mu) = mu / sqrt(q_A(mu)) about the Asimov fit ``point`` (mu1, sqrt q_A, slope):
    its value and slope, plus the part of ``shape`` (sigma of a neighbouring problem, a
    polynomial and its derivative, coefficients highest power first, rescaled as
    kap x shape(mu / lam)) beyond first order about mu1.  Returns a function of
    mu -> (sigma, sigma')."""
    m1, sq, d = point
    f1, d1 = m1 / sq, (sq - m1 * d) / sq**2
    poly, dpoly = shape
    s1, ds1 = _horner(poly, m1 / lam), _horner(dpoly, m1 / lam) / lam

    def model(x):
        val = f1 + d1 * (x - m1) + kap * (_horner(poly, x / lam) - s1 - ds1 * (x - m1))
        der = d1 + kap * (_horner(dpoly, x / lam) / lam - ds1)
        return val, der
    return model


def _solve_band(model, target: float, mu: float) -> float:
    """mu = target x sigma(mu) by Newton from ``mu`` (``mu`` itself if that fails)."""
    x = mu
    for _ in range(20):
        f, d = model(x)
        g, gp = x - target * f, 1.0 - target * d
        if not (gp > 0 and math.isfinite(g)):
            return mu
        step = g / gp
        x -= step
        if not (x > 0 and math.isfinite(x)):
            return mu
        if abs(step) <= 1e-12 * x:
            break
    return x


def expected_limits(calc, sigma_guess: float, cl: float = CL, mu_max: float = math.inf,
                    guesses: dict | None = None) -> dict[str, float]:
    """Expected CLs upper limits on the POI at N = -2..2 sigma: {"-2": mu, ..., "2": mu}
    (:func:`_expected_limits`, whose docstring says how)."""
    return _expected_limits(calc, sigma_guess, cl, mu_max, guesses)[0]


def _expected_limits(calc, sigma_guess: float, cl: float = CL, mu_max: float = math.inf,
                     guesses: dict | None = None) -> tuple[dict[str, float], list]:
    """Expected CLs upper limits on the POI at N = -2..2 sigma: {"-2": mu, ..., "2": mu}.

    ``calc``: an :class:`~xfit.inference.calculators.AsymptoticCalculator` (its ``q_asimov``);
    ``sigma_guess``: the POI's sigma (e.g. :meth:`asimov_sigma`), the starting scale;
    ``guesses``: the limits of a neighbouring problem (e.g. the previous mass of a scan),
    whose band shape sets the first trials.  Every Asimov fit (sqrt(q_A) and its slope) is
    kept: the first trial of each band after the first solves mu = target x sigma(mu) with
    sigma = mu / sqrt(q_A) interpolated through these fits (:func:`_sigma_model`), and
    Newton stops once the predicted error of the next iterate is below 1e-9 (relative).
    """
    out = {}
    pts: list[tuple[float, float, float]] = []  # (mu, sqrt(q_A), d sqrt(q_A) / d mu)
    scale = sigma_guess  # mu / sqrt(q_A) of the last solution
    prev_curv, prev0, shape = 0.0, None, None
    if guesses and all(guesses.get(str(n)) for n in BANDS):
        mus = [float(guesses[str(n)]) for n in BANDS]
        sig = [m / expected_sqrt_qa(n, cl) for m, n in zip(mus, BANDS)]
        prev0 = (float(guesses["0"]), sig[BANDS.index(0)])
        if len(set(mus)) == len(mus):
            coef = np.polyfit(mus, sig, len(mus) - 1)  # through the previous bands
            shape = (tuple(map(float, coef)), tuple(map(float, np.polyder(coef))))
        else:
            prev_curv = float(np.polyfit(mus, sig, 2)[0])

    def local_model(point, mu0, sigma0):
        """sigma(mu) about the fit ``point`` (value and slope fitted) with the nonlinear part
        of the previous shape, rescaled so that its median band goes through (mu0, sigma0)."""
        if shape is None:
            return _sigma_model([point], 0.0)
        lam, kap = mu0 / prev0[0], sigma0 / prev0[1]
        return _shape_model(point, shape, lam, kap)

    for n in (0, -1, 1, -2, 2):
        target = expected_sqrt_qa(n, cl)
        mu = max(target * scale, 1e-6)
        if not pts and prev0 is not None:
            mu = prev0[0]
        elif pts and shape is not None:
            near = min(pts, key=lambda p: abs(p[0] - mu))
            model = local_model(near, out["0"], out["0"] / expected_sqrt_qa(0, cl))
            far = [p for p in pts if abs(p[0] - near[0]) > 0.02 * near[0]]
            if far:  # the amplitude of the nonlinear part from the fit on the other side
                q = min(far, key=lambda p: abs(p[0] - mu))
                lin = near[0] / near[1] + (near[1] - near[0] * near[2]) / near[1] ** 2 * (q[0] - near[0])
                nl_model, nl_fit = model(q[0])[0] - lin, q[0] / q[1] - lin
                if abs(nl_model) > 0:
                    ratio = nl_fit / nl_model
                    if 0.5 < ratio < 2.0:
                        lam0 = out["0"] / prev0[0]
                        kap0 = (out["0"] / expected_sqrt_qa(0, cl)) / prev0[1]
                        model = _shape_model(near, shape, lam0, kap0 * ratio)
            mu = _solve_band(model, target, mu)
        elif pts:
            mu = _solve_band(_sigma_model(pts, prev_curv), target, mu)
        mu = min(mu, mu_max)
        for _ in range(30):
            qa, dqa = calc.q_asimov(mu)
            sq = math.sqrt(max(qa, 1e-300))
            slope = dqa / (2.0 * sq) if sq > 0 else 0.0
            pts.append((mu, sq, slope))
            new = mu - (sq - target) / slope if slope > 0 else mu * target / max(sq, 1e-12)
            new = min(max(new, 0.25 * mu), 4.0 * mu, mu_max)
            done = slope > 0 and _newton_accepts(new - mu, mu, slope,
                                                 _curvature([(p[0], p[2]) for p in pts], mu, slope))
            if not done and slope > 0 and sq > 0 and shape is not None:
                # the next trial: mu = target x sigma(mu) about this fit (value and slope
                # fitted, the previous mass's shape for the rest) -- closer to the root than
                # the Newton iterate; the Newton iterate if that fails
                scale0 = out["0"] if "0" in out else mu / target * expected_sqrt_qa(0, cl)
                trial = _solve_band(local_model(pts[-1], scale0, scale0 / expected_sqrt_qa(0, cl)), target, new)
                if 0.25 * mu <= trial <= min(4.0 * mu, mu_max):
                    new = trial
            mu = new
            if done:
                break
        out[str(n)] = mu
        scale = mu / target
    return out, pts


def _asimov_interpolant(pts):
    """q_A(mu) and its slope from the Asimov fits ``pts`` of :func:`_expected_limits`, for
    mu between the lowest and highest fit (None elsewhere): sigma(mu) interpolated as in
    :func:`_sigma_model` (a first Newton trial only; its error is ~1e-5 relative)."""
    if len(pts) < 2:
        return None
    model = _sigma_model(pts, 0.0)
    lo, hi = min(p[0] for p in pts), max(p[0] for p in pts)

    def qa(mu):
        if not lo <= mu <= hi:
            return None
        f, d = model(mu)
        s = mu / f
        return s * s, 2.0 * s * (f - mu * d) / (f * f)
    return qa


def _cls_model_root(mu, start, qt, dqt, qa, dqa, asimov_model, log_alpha, lo, hi, mu_max) -> float | None:
    """The next trial of :func:`observed_limit`: the root of ln CLs = ln alpha with sqrt(q~)
    linear about the fit at ``mu`` (value and slope fitted) and q_A from ``asimov_model``
    (else sqrt(q_A) linear about ``mu`` as well), by Newton from ``start``.  None if it fails
    or leaves the bracket (lo, hi) (hi None: (lo, min(4 mu, mu_max)])."""
    if not (qt > 0 and qa > 0 and math.isfinite(start)):
        return None
    st, sa = math.sqrt(qt), math.sqrt(qa)
    dst, dsa = dqt / (2.0 * st), dqa / (2.0 * sa)

    def h(x):
        model = asimov_model(x) if asimov_model is not None else None
        qa_x = model[0] if model is not None else max(sa + (x - mu) * dsa, 0.0) ** 2
        cls = cls_from_q(max(st + (x - mu) * dst, 0.0) ** 2, qa_x)[2]
        return math.log(max(cls, 1e-300)) - log_alpha

    top = min(4.0 * mu, mu_max) if hi is None else hi
    x = start
    for _ in range(30):
        if not lo < x < top and not (hi is None and x == top):
            return None
        e = 1e-7 * x
        f, d = h(x), (h(x + e) - h(x - e)) / (2.0 * e)
        if not (d < 0 and math.isfinite(f)):
            return None
        step = f / d
        x -= step
        if abs(step) <= 1e-12 * abs(x):
            return x if lo < x < top or (hi is None and x == top) else None
    return None


def observed_limit(calc, mu_hat: float, nll_hat: float, guess: float, cl: float = CL,
                   mu_max: float = math.inf, asimov_model=None) -> float | None:
    """Observed CLs upper limit on the POI (None if above ``mu_max``).

    ``mu_hat``, ``nll_hat``: the free fit to the observed data; ``guess``: the first trial
    value (e.g. the expected median plus mu_hat).  Raises :class:`ConvergenceError` if the
    iteration does not converge in 60 steps.  Newton stops once the predicted error of the
    next iterate (from the change of the slope between iterates) is below 1e-9.
    ``asimov_model``: mu -> (q_A, d q_A / d mu) or None, used for the first trial only (the
    interpolated Asimov curve of the expected limits: one Asimov fit less); every later
    iterate, and so the result, uses fitted q_A.
    """
    log_alpha = math.log(1.0 - cl)
    lo, hi = max(mu_hat, 0.0), None  # CLs(lo) >= 0.5: q~ = 0 there
    mu = max(guess, mu_hat + 1e-6, 1e-6)
    slopes: list[tuple[float, float]] = []
    for it in range(60):
        qt, dqt = calc.q_tilde(mu, mu_hat, nll_hat)
        approx = asimov_model(mu) if (it == 0 and asimov_model is not None) else None
        qa, dqa = approx if approx is not None else calc.q_asimov(mu)
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
        if slope < 0:
            slopes.append((mu, slope))
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
        if approx is not None:  # an interpolated q_A: never the last iterate, nor a bracket end
            lo, hi = max(mu_hat, 0.0), None
            slopes.clear()
            new = new if math.isfinite(new) and new > mu_hat else mu * (1 + 1e-3)
            mu = _cls_model_root(mu, new, qt, dqt, qa, dqa, asimov_model, log_alpha, lo, None, mu_max) or new
            continue
        if abs(new - mu) <= RTOL * mu or (hi is not None and hi - lo <= RTOL * hi):
            return float(new if hi is None or lo < new < hi else mu)
        if slope < 0 and lo < new and (hi is None or new < hi) and new <= mu_max \
                and _newton_accepts(new - mu, mu, slope, _curvature(slopes, mu, slope)):
            return float(new)
        mu = _cls_model_root(mu, new, qt, dqt, qa, dqa, asimov_model, log_alpha, lo, hi, mu_max) or new
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


def upper_limit(calc, cl: float = CL, mu_max: float | None = None, free=None,
                start: UpperLimitResult | None = None) -> UpperLimitResult:
    """Observed and expected CLs upper limits with an asymptotic calculator ``calc``.

    ``mu_max``: largest POI value searched (default the POI's upper bound); ``free``: the
    free fit if already done; ``start``: the limits of a neighbouring problem (e.g. the
    previous mass of a scan), the first trial values.  The expected limits are found first
    (from the Asimov sigma, or ``start``), the observed one starts from the expected median
    plus mu_hat (or from ``start``'s observed limit, scaled like the expected median).
    """
    free = calc.free_fit() if free is None else free
    if mu_max is None:
        mu_max = float(calc.model.bounds[calc.poi, 1])
    mu_hat = float(free.x[calc.poi])
    prev = start if start is not None and start.exp_limits.get("0") else None
    sigma = 1.0 if prev is not None else calc.asimov_sigma()
    exp, pts = _expected_limits(calc, sigma, cl, mu_max, guesses=None if prev is None else prev.exp_limits)
    guess = exp["0"] + mu_hat
    if prev is not None and prev.obs_limit is not None and math.isfinite(prev.mu_hat):
        # the excess over mu_hat in units of the expected median, carried over
        guess = mu_hat + (prev.obs_limit - prev.mu_hat) * exp["0"] / prev.exp_limits["0"]
    obs = observed_limit(calc, mu_hat, free.nll, guess=guess, cl=cl, mu_max=mu_max,
                         asimov_model=_asimov_interpolant(pts))
    return UpperLimitResult(obs, exp, cl, mu_hat, float(free.nll))


__all__ = ["ACCEPT_RTOL", "CL", "RTOL", "UpperLimitResult", "expected_limits", "observed_limit", "upper_limit"]
