"""Bayesian evidence and Bayes factors by thermodynamic integration.

The evidence of a model with parameters theta, prior pi and likelihood L is
Z = integral L(theta) pi(theta) dtheta.  With the *power posteriors*
p_beta(theta) ~ L(theta)^beta pi(theta) (beta = 0: the prior, beta = 1: the posterior),

    ln Z = integral_0^1 E_beta[ln L] d beta,        d E_beta[ln L] / d beta = Var_beta[ln L]

(thermodynamic integration; Gelman & Meng 1998, Lartillot & Philippe 2006, Friel & Pettitt
2008).  xfit samples the power posteriors on the ladder beta_k = (k/K)^p (default K = 24,
p = 5: most rungs where E_beta[ln L] changes fastest, near beta = 0) with emcee — one
vectorised chain per rung, each started from the end of the previous one; beta = 0 is
sampled exactly from the prior — and integrates with the *corrected trapezoid rule*
(Friel, Hurn & Wyse 2014), which uses the variance as the derivative:

    ln Z ~ sum_k (b_{k+1} - b_k)/2 (E_k + E_{k+1}) - sum_k (b_{k+1} - b_k)^2/12 (V_{k+1} - V_k).

The error is the quadrature sum of

* the Monte-Carlo error: the standard error of each E_k (and V_k), from the variance of
  ln L times the integrated autocorrelation time of the ln L chain over the number of
  samples (or the spread of the walkers' means, whichever is larger), propagated through
  the rule's weights;
* the discretisation error: |I_K - I_{K/2}| / 15 (the rule is O(h^4); I_{K/2} uses every
  other rung) plus the difference to Simpson's rule in t = beta^(1/p) (on exact ladder
  moments each term alone is about the true error; their sum is the conservative choice).

See docs/bayes.md for the choice of method and the tests against analytic evidences.

The Standard Model has no free parameter: its evidence is L(SM point) (:func:`sm_evidence`).
Since every chi2 in xfit is -2 ln L up to a constant that depends only on the likelihood
terms, evidences are comparable only for the *same* terms; Bayes factors are.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import integrate
from scipy.special import logsumexp

from ..errors import ConvergenceError, InputError
from .mcmc import ModelLogLikelihood, check_prior_domain, min_walkers, positive_int, sample
from .mcmc.autocorr import integrated_time
from .priors import PriorSet, as_prior_set


@dataclass
class EvidenceResult:
    """ln Z with its error, and what went into it."""

    ln_z: float
    ln_z_error: float
    method: str
    label: str = ""
    betas: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mean_lnl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    var_lnl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    se_mean_lnl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tau_lnl: np.ndarray = field(default_factory=lambda: np.zeros(0))
    acceptance: np.ndarray = field(default_factory=lambda: np.zeros(0))
    error_mc: float = 0.0
    error_discretisation: float = 0.0
    ln_z_trapezoid: float = math.nan
    ln_z_simpson: float = math.nan
    ln_z_half_ladder: float = math.nan
    ln_l_max: float = math.nan
    n_samples: int = 0
    priors: str = ""

    def to_dict(self) -> dict:
        d = {"label": self.label, "method": self.method, "ln_evidence": self.ln_z,
             "ln_evidence_error": self.ln_z_error, "error_mc": self.error_mc,
             "error_discretisation": self.error_discretisation, "priors": self.priors}
        if self.betas.size:
            d.update({"ln_evidence_trapezoid": self.ln_z_trapezoid, "ln_evidence_simpson": self.ln_z_simpson,
                      "n_temperatures": int(self.betas.size - 1), "n_samples": self.n_samples,
                      "ln_L_max_sampled": self.ln_l_max,
                      "ladder": {"beta": self.betas.tolist(), "mean_lnL": self.mean_lnl.tolist(),
                                 "var_lnL": self.var_lnl.tolist(), "se_mean_lnL": self.se_mean_lnl.tolist(),
                                 "tau_lnL": self.tau_lnl.tolist(), "acceptance": self.acceptance.tolist()}})
        return d

    def __repr__(self) -> str:
        name = f" {self.label}" if self.label else ""
        return f"<Evidence{name}: ln Z = {self.ln_z:.3f} ± {self.ln_z_error:.3f} ({self.method})>"


@dataclass
class BayesFactor:
    """ln B = ln Z(numerator) - ln Z(denominator), errors added in quadrature."""

    ln_b: float
    error: float
    numerator: str
    denominator: str

    @property
    def value(self) -> float:
        return math.exp(self.ln_b) if self.ln_b < 700 else math.inf

    @property
    def interpretation(self) -> str:
        """Kass & Raftery (1995) scale on 2 ln B, stated for the numerator."""
        two = 2 * self.ln_b
        if two < 0:
            return f"favours {self.denominator}"
        if two < 2:
            return "not worth more than a bare mention"
        if two < 6:
            return "positive"
        if two < 10:
            return "strong"
        return "very strong"

    def to_dict(self) -> dict:
        return {"numerator": self.numerator, "denominator": self.denominator, "ln_B": self.ln_b,
                "ln_B_error": self.error, "B": self.value, "interpretation": self.interpretation}

    def __repr__(self) -> str:
        return (f"<BayesFactor {self.numerator} vs {self.denominator}: ln B = {self.ln_b:.3f} ± {self.error:.3f} "
                f"({self.interpretation})>")


def bayes_factor(numerator: EvidenceResult, denominator: EvidenceResult) -> BayesFactor:
    return BayesFactor(numerator.ln_z - denominator.ln_z, math.hypot(numerator.ln_z_error, denominator.ln_z_error),
                       numerator.label or "model 1", denominator.label or "model 2")


# --- the integration rule ------------------------------------------------------------------

def power_ladder(n_temps: int = 24, power: float = 5.0) -> np.ndarray:
    """beta_k = (k/K)^power, k = 0..K."""
    n_temps = positive_int(n_temps, "number of temperatures", minimum=4)
    if n_temps % 2:
        raise InputError(f"number of temperatures must be even (the error estimate halves the ladder), got {n_temps}")
    if not (isinstance(power, (int, float)) and math.isfinite(power) and power >= 1):
        raise InputError(f"ladder power must be a number >= 1, got {power!r}")
    return (np.arange(n_temps + 1) / n_temps) ** float(power)


def _corrected_trapezoid(betas, mean, var) -> float:
    d = np.diff(betas)
    return float(np.sum(d * (mean[1:] + mean[:-1]) / 2) - np.sum(d ** 2 * (var[1:] - var[:-1]) / 12))


def integrate_ladder(betas, mean, var, se_mean=None, se_var=None, power: float | None = 5.0) -> dict:
    """ln Z from E_beta[ln L] (``mean``) and Var_beta[ln L] (``var``) on a ladder ``betas``
    from 0 to 1 (corrected trapezoid rule), with the trapezoid and Simpson values and the
    error estimate described in the module docstring."""
    betas, mean, var = (np.asarray(a, dtype=float) for a in (betas, mean, var))
    if betas.ndim != 1 or betas.size < 3 or betas[0] != 0 or betas[-1] != 1 or np.any(np.diff(betas) <= 0):
        raise InputError("the ladder must increase from beta = 0 to beta = 1 with at least 3 rungs")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise ConvergenceError("E[ln L] or Var[ln L] is not finite on the ladder (ln L = -inf inside the prior?)")
    d = np.diff(betas)
    trap = float(np.sum(d * (mean[1:] + mean[:-1]) / 2))
    corr = _corrected_trapezoid(betas, mean, var)
    K = betas.size - 1
    if power is not None and np.allclose(betas, (np.arange(K + 1) / K) ** power, rtol=1e-12, atol=1e-15):
        t = np.arange(K + 1) / K  # uniform in t = beta^(1/p): Simpson there
        simpson = float(integrate.simpson(mean * power * t ** (power - 1), x=t))
    else:
        simpson = float(integrate.simpson(mean, x=betas))
    half = _corrected_trapezoid(betas[::2], mean[::2], var[::2]) if K % 2 == 0 else math.nan
    err_disc = (abs(corr - half) / 15 if math.isfinite(half) else 0.0) + abs(corr - simpson)
    err_mc = 0.0
    if se_mean is not None:
        w = np.zeros(K + 1)
        w[:-1] += d / 2
        w[1:] += d / 2
        c = np.zeros(K + 1)  # weights of V_k in the correction term
        c[:-1] += d ** 2 / 12
        c[1:] -= d ** 2 / 12
        se_var = np.zeros(K + 1) if se_var is None else np.asarray(se_var, dtype=float)
        err_mc = float(np.sqrt(np.sum((w * np.asarray(se_mean, dtype=float)) ** 2) + np.sum((c * se_var) ** 2)))
    return {"ln_z": corr, "trapezoid": trap, "simpson": simpson, "half_ladder": half,
            "error_mc": err_mc, "error_discretisation": err_disc, "error": math.hypot(err_mc, err_disc)}


def _rung_statistics(lnl: np.ndarray, iid: bool = False) -> tuple[float, float, float, float, float]:
    """(mean, variance, s.e. of the mean, s.e. of the variance, tau) of ln L samples
    (nsteps, nwalkers) of one rung."""
    x = np.asarray(lnl, dtype=float)
    flat = x.reshape(-1)
    mean, var = float(flat.mean()), float(flat.var())
    m4 = float(np.mean((flat - mean) ** 4))
    if iid:
        tau = 1.0
        se, se_var = math.sqrt(var / flat.size), math.sqrt(max(m4 - var ** 2, 0.0) / flat.size)
        return mean, var, se, se_var, tau
    tau = float(integrated_time(x)[0]) if var > 0 else 1.0
    if not math.isfinite(tau) or tau < 1:
        tau = 1.0
    n_eff = flat.size / tau
    se_tau = math.sqrt(var / n_eff)
    walker_means = x.mean(axis=0)
    se_walkers = float(walker_means.std(ddof=1) / math.sqrt(x.shape[1])) if x.shape[1] > 1 else 0.0
    se_var = math.sqrt(max(m4 - var ** 2, 0.0) / n_eff)
    return mean, var, max(se_tau, se_walkers), se_var, tau


# --- thermodynamic integration -------------------------------------------------------------

def thermodynamic_integration(log_likelihood: Callable[[np.ndarray], np.ndarray], priors: PriorSet,
                              n_temps: int = 24, power: float = 5.0, nwalkers: int = 128, nsteps: int = 200,
                              burn: int | None = None, seed: int | None = None, moves: str = "de",
                              label: str = "", progress: bool = False) -> EvidenceResult:
    """ln Z of ``log_likelihood`` (points (n, ndim) -> ln L (n,)) under ``priors``.

    One emcee chain of ``nsteps`` steps (``burn`` discarded, default a quarter) and
    ``nwalkers`` walkers per rung of the ladder (:func:`power_ladder`); rung 0 (beta = 0)
    is ``nwalkers x (nsteps - burn)`` exact prior draws.  Reproducible with ``seed``.
    ``progress``: report the rungs (:class:`~xfit.inference.progress.Progress`), with the
    duration estimated from the cost of rung 0's evaluations, announced if over 10 minutes.
    """
    import time

    from .progress import Progress

    if not isinstance(priors, PriorSet):
        raise InputError("priors must be a PriorSet")
    betas = power_ladder(n_temps, power)
    nsteps = positive_int(nsteps, "number of steps per temperature", minimum=8)
    nwalkers = positive_int(nwalkers, "number of walkers", minimum=min_walkers(priors.ndim))
    burn = nsteps // 4 if burn is None else int(burn)
    if not 0 <= burn < nsteps - 4:
        raise InputError(f"burn-in must be in [0, {nsteps - 5}] steps, got {burn}")
    if seed is not None:
        seed = positive_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    n_keep = nsteps - burn

    # beta = 0: exact draws from the prior
    theta0 = priors.sample(nwalkers * n_keep, rng)
    cpu0 = time.process_time()
    lnl0 = np.asarray(log_likelihood(theta0), dtype=float).reshape(n_keep, nwalkers)
    per_point = (time.process_time() - cpu0) / theta0.shape[0]
    if not np.all(np.isfinite(lnl0)):
        raise ConvergenceError("ln L = -inf (or NaN) at points inside the prior support: thermodynamic "
                               "integration needs a likelihood that is finite wherever the prior is not zero")
    stats = [_rung_statistics(lnl0, iid=True)]
    acceptance = [1.0]
    ln_l_max = float(lnl0.max())
    position = theta0[-nwalkers:]
    rung_seeds = rng.integers(2**32 - 1, size=betas.size)
    bar = Progress(betas.size - 1, "xfit evidence (thermodynamic integration)", unit="temperatures",
                   enabled=progress, seconds_per_unit=per_point * nwalkers * nsteps)
    for k in range(1, betas.size):
        chain = sample(log_likelihood, priors, nwalkers, nsteps, int(rung_seeds[k]), initial=position,
                       beta=float(betas[k]), burn=burn, moves=moves)
        bar.update()
        lnl = chain.get_log_likelihood()
        if not np.all(np.isfinite(lnl)):
            raise ConvergenceError(f"ln L = -inf in the chain at beta = {betas[k]:.3g}")
        stats.append(_rung_statistics(lnl))
        acceptance.append(chain.acceptance_fraction)
        ln_l_max = max(ln_l_max, float(lnl.max()))
        position = chain.coords[-1]
    bar.close()
    mean, var, se, se_var, tau = (np.array(col) for col in zip(*stats))
    res = integrate_ladder(betas, mean, var, se, se_var, power=power)
    return EvidenceResult(ln_z=res["ln_z"], ln_z_error=res["error"], method="thermodynamic integration",
                          label=label, betas=betas, mean_lnl=mean, var_lnl=var, se_mean_lnl=se, tau_lnl=tau,
                          acceptance=np.array(acceptance), error_mc=res["error_mc"],
                          error_discretisation=res["error_discretisation"], ln_z_trapezoid=res["trapezoid"],
                          ln_z_simpson=res["simpson"], ln_z_half_ladder=res["half_ladder"], ln_l_max=ln_l_max,
                          n_samples=int(nwalkers * n_keep * betas.size), priors=repr(priors))


def quadrature_evidence(log_likelihood: Callable[[np.ndarray], np.ndarray], priors: PriorSet,
                        n_points: int | None = None, label: str = "") -> EvidenceResult:
    """ln Z by the midpoint rule on the unit cube of the prior's inverse CDF
    (Z = integral_[0,1]^d L(ppf(u)) du), for one or two parameters.  A deterministic
    cross-check of :func:`thermodynamic_integration` (its error is not estimated beyond the
    difference to the rule with half the points)."""
    d = priors.ndim
    if d > 2:
        raise InputError(f"quadrature evidence is for 1 or 2 parameters, got {d}")
    n = positive_int(n_points if n_points is not None else (20001 if d == 1 else 801), "number of points",
                      minimum=16)

    def ln_z_with(m):
        u1 = (np.arange(m) + 0.5) / m
        grids = np.meshgrid(*([u1] * d), indexing="ij")
        u = np.stack([g.reshape(-1) for g in grids], axis=-1)
        lnl = np.asarray(log_likelihood(priors.ppf(u)), dtype=float)
        lnl = np.where(np.isfinite(lnl), lnl, -np.inf)
        return float(logsumexp(lnl) - math.log(u.shape[0])), float(np.max(lnl))

    ln_z, lmax = ln_z_with(n)
    ln_z2, _ = ln_z_with(n // 2)
    return EvidenceResult(ln_z=ln_z, ln_z_error=abs(ln_z - ln_z2), method="quadrature", label=label,
                          error_discretisation=abs(ln_z - ln_z2), ln_l_max=lmax, priors=repr(priors))


# --- models ------------------------------------------------------------------------------

def model_evidence(model, likelihood, mX, priors=None, method: str = "ti", label: str | None = None,
                   **kwargs) -> EvidenceResult:
    """ln Z of ``model`` (its parameters under ``priors``; default g_X uniform on [0, 0.1])
    given ``likelihood`` at fixed ``mX``.  ``method``: "ti" (thermodynamic integration;
    ``kwargs`` go to :func:`thermodynamic_integration`) or "quadrature" (1-2 parameters)."""
    priors = as_prior_set(priors, model.parameters)
    check_prior_domain(model, priors)
    lnl = ModelLogLikelihood(model, likelihood, mX)
    label = model.name if label is None else label
    if method == "ti":
        return thermodynamic_integration(lnl, priors, label=label, **kwargs)
    if method == "quadrature":
        return quadrature_evidence(lnl, priors, label=label, **kwargs)
    raise InputError(f"evidence method must be 'ti' or 'quadrature', got {method!r}")


def sm_evidence(likelihood, mX, model=None, label: str = "SM") -> EvidenceResult:
    """The Standard Model has no free parameter: Z_SM = L(SM point) (no error)."""
    if model is None:
        from ..models import get_model

        model = get_model("tau-flavor")  # any model: at g_X = 0 all predictions are the SM's
    lnl = ModelLogLikelihood(model, likelihood, mX).sm()
    return EvidenceResult(ln_z=lnl, ln_z_error=0.0, method="SM point (no free parameter)", label=label,
                          ln_l_max=lnl, priors="none")


def compare_models(models: Mapping[str, object], likelihood, mX, priors: Mapping[str, object] | None = None,
                   reference: str = "SM", **kwargs) -> dict:
    """Evidences of the SM and of ``models`` ({name: model}) and their Bayes factors against
    ``reference`` (the SM by default).  ``priors``: {name: priors of that model}.

    Returns {"evidence": {name: EvidenceResult}, "bayes_factors": {name: BayesFactor}}.
    """
    priors = dict(priors or {})
    unknown = set(priors) - set(models)
    if unknown:
        raise InputError(f"priors given for unknown model(s) {sorted(unknown)}")
    ev = {"SM": sm_evidence(likelihood, mX, model=next(iter(models.values()), None))}
    for name, model in models.items():
        if name == "SM":
            raise InputError("the name 'SM' is reserved for the Standard Model")
        ev[name] = model_evidence(model, likelihood, mX, priors.get(name), label=name, **kwargs)
    if reference not in ev:
        raise InputError(f"unknown reference model {reference!r}; known: {', '.join(ev)}")
    bf = {name: bayes_factor(e, ev[reference]) for name, e in ev.items() if name != reference}
    return {"evidence": ev, "bayes_factors": bf}
