"""Posterior sampling with emcee: vectorised, resumable, reproducible.

Modules: :mod:`.posterior` (the log-probability), :mod:`.chain` (the :class:`Chain` result
and its diagnostics), :mod:`.autocorr` (the autocorrelation time), :mod:`.backend` (the
resumable HDF5 chain file), :mod:`.vectorised` (emcee's sampler and moves without loops over
walkers), :mod:`.sampler` (:func:`sample`, :func:`sample_model`).

* The log-probability is **vectorised**: emcee (with its accept/reject step on arrays,
  :mod:`.vectorised`, the same chains bit for bit) is built with ``vectorize=True`` and hands the
  whole (half-)ensemble to :class:`LogPosterior`, which evaluates the model's predictions and
  the likelihood once on arrays (no Python loop per walker).  It returns ``ln prior +
  beta ln L`` and, as an emcee *blob*, ``ln L`` itself (stored with the chain; the
  thermodynamic integration of :mod:`xfit.inference.evidence` uses it).
* Chains are **written as they run** (:class:`emcee.backends.HDFBackend`, in batches at least
  once a second) together with the run's settings.  Run again with the same file and settings and
  the sampler **continues from the last stored state** (positions, ln p, blobs and the
  random-number state), so an interrupted run extended to N steps is identical, bit for
  bit, to an uninterrupted N-step run with the same seed.  ``nsteps`` is the *total*
  length of the chain.  Other settings in an existing file are an error (or, with
  ``overwrite=True``, the file is started afresh).
* **Reproducible**: ``np.random.default_rng(seed)`` draws the seed of emcee's random state
  and then the initial positions.
* **Diagnostics**: integrated autocorrelation time with emcee's estimator
  (:func:`.autocorr.integrated_time`: all walkers' FFTs at once) on the chain after burn-in, the acceptance
  fraction, and a :class:`ChainTooShortWarning` when the chain after burn-in is shorter
  than 50 tau (emcee's own rule of thumb).
* **Results**: credible intervals (median, 16/84, 2.5/97.5 % quantiles; highest posterior
  density on request), corner plots (:func:`xfit.plots.corner.chain_corner_plot`; PNG + PDF,
  LaTeX labels of the model's parameters) and posterior predictions of any observable (the samples pushed through
  ``model.predict``).

>>> chain = sample_model(get_model("tau-flavor"), build_likelihood("b_to_s_emiss,l3_z_gamma"),
...                      mX=2.1, nsteps=2000, seed=1, chain_file="out/chain.h5")
>>> chain.summary()["gX"]["median"], chain.autocorr_time(), chain.acceptance_fraction
"""
from .backend import CHAIN_FORMAT, read_chain_settings
from .chain import MIN_TAU_MULTIPLE, QUANTILES, Chain, ChainTooShortWarning, hpd_interval, summarize
from .posterior import LogPosterior, ModelLogLikelihood, check_prior_domain
from .sampler import DEFAULT_WALKERS, MOVES, fit_initializer, min_walkers, positive_int, sample, sample_model

__all__ = ["CHAIN_FORMAT", "read_chain_settings", "MIN_TAU_MULTIPLE", "QUANTILES", "Chain", "ChainTooShortWarning",
           "hpd_interval", "summarize", "LogPosterior", "ModelLogLikelihood", "check_prior_domain", "DEFAULT_WALKERS",
           "MOVES", "fit_initializer", "min_walkers", "positive_int", "sample", "sample_model"]
