"""Pseudo-experiments (toys) for any HistFactory model, and a toy-based CLs calculator.

* :func:`toy_rng` -- the random generator of one toy: ``numpy.random.default_rng`` seeded
  with the child ``(stream, index)`` of ``numpy.random.SeedSequence(seed)``, so every toy is
  reproducible on its own, whatever the number of toys or the order they are run in;
* :func:`sample_toy` -- one pseudo-data set at parameters theta: main counts
  Poisson(nu(theta)), auxiliary data Normal(theta, sigma) for Gaussian constraints and
  Poisson(theta tau) for Poisson constraints (the HistFactory constraint terms of
  :mod:`xfit.histfactory.constraints`; their expectation is ``model.asimov_data(theta)``);
* :func:`sample_toys` -- n such sets as arrays (statistics, tests);
* :class:`ToyCalculator` -- CLs with q~_mu (Cowan et al., arXiv:1007.1727, Eq. 16) from the
  toy distributions instead of the asymptotic formulae: toys generated under mu (nuisances
  of the conditional fit at mu to the observed data) and under mu = 0 (the background-only
  fit), CLs+b = P(q~ >= q~_obs | mu), CLb = P(q~ >= q~_obs | 0), CLs = CLs+b / CLb, each
  with its binomial error; the expected CLs at N sigma use the N-sigma quantile of the
  background-only distribution (the same convention as :func:`~.calculators.expected_cls`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError, require_count
from . import mle
from . import test_statistics as ts
from .calculators import BANDS, Calculator, HypoTestResult, normal_sf

#: Streams of child seeds: toys under the tested mu and under mu = 0.
STREAM_SIGNAL, STREAM_BACKGROUND = 0, 1


def _require_n_toys(n_toys) -> int:
    """``n_toys`` as an int, or InputError naming --toys (:func:`xfit.errors.require_count`)."""
    return require_count(n_toys, "--toys")


def toy_rng(seed: int, index: int, stream: int = 0) -> np.random.Generator:
    """Generator of toy ``index`` of ``stream``: child (stream, index) of SeedSequence(seed)."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(stream), int(index))))


def _aux_means(model, theta: np.ndarray) -> tuple:
    """What the auxiliary data of a toy at ``theta`` are drawn from: (number of auxiliary data,
    positions and means and widths of the Gaussian ones, positions and means of the Poisson ones)."""
    c = model.constraints
    return (c.naux, c.gauss_aux_pos, theta[c.gauss_param], c.gauss_sigma,
            c.pois_aux_pos, np.maximum(theta[c.pois_param] * c.pois_factor, 0.0))


def _draw_aux(means: tuple, rng: np.random.Generator) -> np.ndarray:
    naux, gauss_pos, gauss_mean, gauss_sigma, pois_pos, pois_mean = means
    aux = np.empty(naux)
    aux[gauss_pos] = rng.normal(gauss_mean, gauss_sigma)
    aux[pois_pos] = rng.poisson(pois_mean)
    return aux


def sample_aux(model, theta, rng: np.random.Generator) -> np.ndarray:
    """Fluctuated auxiliary data at ``theta`` (pyhf's auxdata order): Normal(theta, sigma) for
    Gaussian constraints, Poisson(theta tau) for Poisson ones."""
    return _draw_aux(_aux_means(model, np.asarray(theta, dtype=float)), rng)


class _ToySampler:
    """Pseudo-experiments at one ``theta``: the expected main counts and the auxiliary means
    computed once, ``sampler(rng)`` is :func:`sample_toy` ``(model, theta, rng)`` (the same draws)."""

    def __init__(self, model, theta):
        theta = np.asarray(theta, dtype=float)
        self.main = np.maximum(model.expected_main(theta), 0.0)
        self.aux = _aux_means(model, theta)

    def __call__(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        main = rng.poisson(self.main).astype(float)
        return main, _draw_aux(self.aux, rng)


def sample_toy(model, theta, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(main, aux) of one pseudo-experiment at ``theta``: main counts Poisson around
    ``model.expected_main(theta)``, auxiliary data from :func:`sample_aux`."""
    return _ToySampler(model, theta)(rng)


def sample_toys(model, theta, n: int, seed: int, stream: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Arrays (n, nbins) and (n, naux) of ``n`` toys at ``theta`` (toy k from :func:`toy_rng`)."""
    n = _require_n_toys(n)
    sampler = _ToySampler(model, theta)
    mains, auxs = zip(*(sampler(toy_rng(seed, k, stream)) for k in range(n)))
    return np.array(mains), np.array(auxs)


def _for_many_fits(model):
    """``model`` for a run of many fits: a copy with the same data that evaluates with the
    compiled kernel (:meth:`~xfit.histfactory.HistFactoryModel.use_compiled_kernel`: numba
    unless ``XFIT_KERNEL=numpy`` or numba is not installed; the same numbers to rounding); the
    caller's model keeps its kernel."""
    if not hasattr(model, "use_compiled_kernel"):
        return model
    other = model.with_data(model.observed)
    other.use_compiled_kernel()
    return other


def _fraction(q: np.ndarray, q_obs: float) -> tuple[float, float]:
    """(fraction of ``q`` >= q_obs, its binomial error)."""
    n = len(q)
    p = float(np.count_nonzero(q >= q_obs - 1e-12)) / n
    return p, math.sqrt(p * (1.0 - p) / n)


@dataclass(repr=False)
class ToyHypoTestResult(HypoTestResult):
    """:class:`HypoTestResult` from toys (``q_asimov`` is NaN: no Asimov data set is used)."""

    n_toys: int = 0
    n_failed: int = 0
    CLsb_err: float = math.nan
    CLb_err: float = math.nan
    CLs_err: float = math.nan

    def summary(self) -> dict:
        """``{"CLs_obs", "CLs_exp", "n_toys"}`` (``xfit workspace cls --toys N --json``)."""
        return {**super().summary(), "n_toys": self.n_toys}


class ToyCalculator(Calculator):
    """q~_mu CLs from pseudo-experiments for a :class:`xfit.histfactory.HistFactoryModel`.

    ``poi_index``, ``fix``, ``method`` as :class:`~.calculators.AsymptoticCalculator`;
    ``n_toys`` toys under each hypothesis; ``seed`` makes the result reproducible (toy k under
    mu uses :func:`toy_rng` (seed, k, 0), under mu = 0 (seed, k, 1)).  Toys whose fits fail
    are left out and counted (``n_failed``).  The fits run on a copy of ``model`` with the
    compiled kernel of many-fit runs (:func:`_for_many_fits`); ``model`` itself is not changed.
    """

    name = "toys"

    def __init__(self, model, poi_index: int | None = None, fix: dict[int, float] | None = None,
                 n_toys: int = 1000, seed: int = 0, method: str = "newton"):
        n_toys = _require_n_toys(n_toys)
        self.model = _for_many_fits(model)
        self.poi = model.poi_index if poi_index is None else int(poi_index)
        self.fix = dict(fix or {})
        self.method = method
        self.n_toys = int(n_toys)
        self.seed = int(seed)
        self.bkg_fit = mle.fit(model, fix={**self.fix, self.poi: 0.0}, method=method)

    def free_fit(self, init=None):
        """Best fit to the observed data, POI within its bounds."""
        return mle.fit(self.model, init=init, fix=self.fix, method=self.method)

    def q_tilde(self, model, mu: float, init) -> tuple[float, float]:
        """(q~_mu, mu_hat) of ``model``'s data (fits started at ``init``), Eq. (16)."""
        free = mle.fit(model, init=init, fix=self.fix, method=self.method)
        mu_hat = float(free.x[self.poi])
        if mu <= mu_hat:
            return 0.0, mu_hat
        cond = mle.fixed_poi_fit(model, mu, self.poi, init=free.x, fix=self.fix, method=self.method)
        nll_zero = None
        if mu_hat < 0:
            nll_zero = mle.fixed_poi_fit(model, 0.0, self.poi, init=free.x, fix=self.fix, method=self.method).nll
        return ts.q_mu_tilde(mu, cond.nll, free.nll, mu_hat, nll_zero), mu_hat

    def distribution(self, mu: float, theta, stream: int) -> tuple[np.ndarray, int]:
        """(q~_mu of the toys generated at ``theta``, number of toys whose fits failed)."""
        qs, failed = [], 0
        sampler = _ToySampler(self.model, theta)
        for k in range(self.n_toys):
            main, aux = sampler(toy_rng(self.seed, k, stream))
            try:
                qs.append(self.q_tilde(self.model.with_data(main, aux), mu, theta)[0])
            except ConvergenceError:
                failed += 1
        if not qs:
            raise ConvergenceError(f"every toy fit failed at mu = {mu:g}")
        return np.asarray(qs), failed

    def hypotest(self, mu: float) -> ToyHypoTestResult:
        """CLs+b, CLb, CLs with binomial errors and the expected CLs (N = -2..2) at ``mu``."""
        mu = float(mu)
        q_obs, mu_hat = self.q_tilde(self.model, mu, None)
        sb_fit = mle.fixed_poi_fit(self.model, mu, self.poi, fix=self.fix, method=self.method)
        q_sb, f_sb = self.distribution(mu, sb_fit.x, STREAM_SIGNAL)
        q_b, f_b = self.distribution(mu, self.bkg_fit.x, STREAM_BACKGROUND)
        clsb, e_sb = _fraction(q_sb, q_obs)
        clb, e_b = _fraction(q_b, q_obs)
        cls = clsb / clb if clb > 0 else math.nan
        e_cls = cls * math.hypot(e_sb / clsb if clsb > 0 else 0.0, e_b / clb) if clb > 0 else math.nan
        expected = []
        for n in BANDS:  # CLb = Phi(N) at the N-sigma quantile of the background-only q~
            q_n = float(np.quantile(q_b, normal_sf(n)))
            sb, b = _fraction(q_sb, q_n)[0], _fraction(q_b, q_n)[0]
            expected.append(sb / b if b > 0 else math.nan)
        return ToyHypoTestResult(mu, q_obs, math.nan, clsb, clb, cls, expected, mu_hat,
                                 calculator="toys", n_toys=self.n_toys, n_failed=f_sb + f_b,
                                 CLsb_err=e_sb, CLb_err=e_b, CLs_err=e_cls)


__all__ = ["STREAM_BACKGROUND", "STREAM_SIGNAL", "ToyCalculator", "ToyHypoTestResult", "sample_aux",
           "sample_toy", "sample_toys", "toy_rng"]
