"""Profile-likelihood test statistics (Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727).

Every function takes minimised negative log-likelihoods, -ln L, so that
-2 ln lambda(mu) = 2 [ -ln L(mu, theta_hat_hat(mu)) + ln L(mu_hat, theta_hat) ]:

* :func:`t_mu` -- t_mu = -2 ln lambda(mu), Eq. (8) (two-sided);
* :func:`q0` -- discovery, q0 = -2 ln lambda(0) for mu_hat >= 0, else 0, Eq. (12);
* :func:`q_mu` -- upper limits, q_mu = -2 ln lambda(mu) for mu_hat <= mu, else 0, Eq. (14);
* :func:`q_mu_tilde` -- upper limits with mu >= 0, q~_mu, Eq. (16): as q_mu, but for
  mu_hat < 0 the denominator is the fit at mu = 0 (with mu_hat bounded below by 0, as in
  xfit's and pyhf's fits, q~_mu = q_mu);
* :func:`significance` -- Z = sqrt(q0), Eq. (53) (the asymptotic one-sided significance).

Values below 0 that come from rounding of the minimised NLLs count as 0.
"""
from __future__ import annotations

import math


def t_mu(nll_mu: float, nll_hat: float) -> float:
    """t_mu = -2 ln lambda(mu) = 2 [ -ln L(mu) + ln L(mu_hat) ], Eq. (8); >= 0."""
    return max(2.0 * (float(nll_mu) - float(nll_hat)), 0.0)


def q0(nll_zero: float, nll_hat: float, mu_hat: float | None = None) -> float:
    """Discovery statistic q0, Eq. (12): -2 ln lambda(0) if mu_hat >= 0, else 0.

    ``nll_zero``: -ln L minimised with mu = 0 (background only); ``nll_hat``: the free
    minimum; ``mu_hat`` (optional): its mu (a fit bounded at mu >= 0 never has mu_hat < 0).
    """
    if mu_hat is not None and float(mu_hat) < 0:
        return 0.0
    return t_mu(nll_zero, nll_hat)


def q_mu(mu: float, nll_mu: float, nll_hat: float, mu_hat: float) -> float:
    """Upper-limit statistic q_mu, Eq. (14): -2 ln lambda(mu) if mu_hat <= mu, else 0."""
    if float(mu) <= float(mu_hat):
        return 0.0
    return t_mu(nll_mu, nll_hat)


def q_mu_tilde(mu: float, nll_mu: float, nll_hat: float, mu_hat: float,
               nll_zero: float | None = None) -> float:
    """Upper-limit statistic for mu >= 0, q~_mu, Eq. (16).

    0 if mu_hat > mu (here: mu <= mu_hat, as pyhf); 2 [ -ln L(mu) + ln L(0) ] if mu_hat < 0
    (``nll_zero``: -ln L minimised at mu = 0, required then); 2 [ -ln L(mu) + ln L(mu_hat) ]
    otherwise.
    """
    if float(mu) <= float(mu_hat):
        return 0.0
    if float(mu_hat) < 0:
        if nll_zero is None:
            raise ValueError("q_mu_tilde with mu_hat < 0 needs nll_zero, the fit at mu = 0")
        return t_mu(nll_mu, nll_zero)
    return t_mu(nll_mu, nll_hat)


def significance(q: float) -> float:
    """Z = sqrt(q), Eq. (53) (one-sided asymptotic significance; q < 0 from rounding is 0)."""
    return math.sqrt(max(float(q), 0.0))


__all__ = ["q0", "q_mu", "q_mu_tilde", "significance", "t_mu"]
