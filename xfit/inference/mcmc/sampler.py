"""Running emcee: :func:`sample` (any vectorised ln L and priors) and :func:`sample_model`
(a model and a likelihood at fixed m_X), with seeds, initial positions and resuming."""
from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ...errors import ConvergenceError, DataError, InputError, require_finite_number
from ..priors import PriorSet, as_prior_set
from .backend import CHAIN_FORMAT, checkpointed_backend_class, normalise_settings, read_chain_settings
from .chain import Chain
from .posterior import LogPosterior, ModelLogLikelihood, NuisanceLogLikelihood, check_prior_domain

#: emcee moves by name.  "de" (default) is differential evolution (ter Braak 2006; emcee's
#: DEMove): integrated autocorrelation times of ~4 steps in one dimension and ~8 in two,
#: against ~25-30 for emcee's default stretch move (available as "stretch").  emcee 3.1's
#: DESnookerMove is *not* used: it samples a 2D unit Gaussian with variance 0.90 (its
#: "unit" vector is delta/sqrt(|delta|)), a bias xfit's tests would catch.
#: Each is emcee's move with the accept/reject loop over walkers done on arrays
#: (:mod:`.vectorised`: the same chains, bit for bit).
MOVES = {
    "de": lambda vectorised: vectorised.DEMove(),
    "stretch": lambda vectorised: vectorised.StretchMove(),
}



#: Default ensemble size, chosen for throughput (docs/bayes.md, "Throughput"): emcee's cost per
#: step is ~0.3 ms whatever the ensemble, the likelihood's a few us per walker, and the
#: autocorrelation time of the DE moves (4-5 steps) does not depend on the number of walkers, so
#: effective samples per CPU second grow with the ensemble: 6.9k/s with 32 walkers, 22k/s with
#: 128, 37k/s with 256, 51k/s with 512 (b_to_s_emiss + l3_z_gamma, 300 steps).  256 is past the
#: knee: each doubling beyond it gains < 40 % while the chain file and every summary double.
DEFAULT_WALKERS = 256


def min_walkers(ndim: int) -> int:
    """The smallest ensemble xfit accepts for ``ndim`` parameters: max(4, 2 ndim)."""
    return max(4, 2 * int(ndim))


#: The largest count (steps, walkers, live points, temperatures) a sampler accepts: emcee, dynesty
#: and the HDF5 chain file hold counts as C integers (1e20 gave an OverflowError traceback).
MAX_COUNT = 2**31 - 1


def positive_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or :class:`InputError` naming ``name``."""
    try:
        f = require_finite_number(value, name)
    except InputError:
        f = None
    if f is None or f != int(f) or int(f) < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(f)



def _initial_state(initial, priors: PriorSet, nwalkers: int, rng, logpost: LogPosterior):
    ndim = priors.ndim
    if initial is None:
        p0 = priors.sample(nwalkers, rng)
    elif callable(initial):
        p0 = np.asarray(initial(rng), dtype=float)
    else:
        p0 = np.asarray(initial, dtype=float)
    if p0.ndim == 1 and ndim == 1:
        p0 = p0[:, None]
    if p0.shape != (nwalkers, ndim):
        raise InputError(f"initial positions must have shape ({nwalkers}, {ndim}), got {p0.shape}")
    values = logpost(p0)
    bad = ~np.isfinite(values[:, 0])
    if bad.any():
        raise InputError(f"{int(bad.sum())} of {nwalkers} initial walker positions have zero posterior "
                         "density (outside the prior support, or ln L = -inf)")
    import emcee

    # hand the values to emcee so that the start is evaluated once
    return emcee.State(p0, log_prob=values[:, 0].copy(), blobs=values[:, 1].copy())


def _run_steps(sampler, state, n: int, total: int, done: int, progress: bool) -> None:
    """``n`` emcee steps from ``state`` (what ``run_mcmc`` does), reported by
    :class:`~xfit.inference.progress.Progress` (a bar on a terminal, else a line per 10 %)."""
    from ..progress import Progress

    with Progress(total, "xfit mcmc", unit="steps", initial=done, enabled=progress,
                  resume_hint="Ctrl-C keeps every finished step; run again to resume") as bar:
        for _ in sampler.sample(state, iterations=n):
            bar.update()


def sample(log_likelihood: Callable[[np.ndarray], np.ndarray], priors: PriorSet, nwalkers: int = DEFAULT_WALKERS,
           nsteps: int = 1000, seed: int | None = None, *, initial=None, chain_file: str | Path | None = None,
           settings: Mapping | None = None, overwrite: bool = False, beta: float = 1.0,
           burn: int | None = None, progress: bool = False, labels: Mapping[str, str] | None = None,
           moves: str = "de", checkpoint_seconds: float = 1.0) -> Chain:
    """Sample ``exp(beta ln L) x prior`` with emcee's ensemble sampler (vectorised).

    ``log_likelihood`` maps points (n, ndim) to ln L (n,), columns in ``priors`` order.
    ``nsteps`` is the total chain length.  With ``chain_file`` the chain is written step by
    step to HDF5 (with the run settings: ``settings``, priors, walkers, seed, beta); if the
    file holds a chain of the same settings the run continues from its last state
    (``chain.resumed``), and a longer stored chain is cut to ``nsteps``.  ``initial``:
    None (draws from the prior), an array (nwalkers, ndim) or a callable ``rng -> array``.
    ``moves``: "de" (differential evolution, default) or "stretch" (see
    :data:`MOVES`).  The file is written at least every ``checkpoint_seconds``.
    """
    if not isinstance(priors, PriorSet):
        raise InputError("priors must be a PriorSet")
    nsteps = positive_int(nsteps, "number of steps")
    ndim = priors.ndim
    nwalkers = positive_int(nwalkers, "number of walkers", minimum=min_walkers(ndim))
    if seed is not None:
        seed = positive_int(seed, "seed", minimum=0)
    if moves not in MOVES:
        raise InputError(f"unknown moves {moves!r}; known: {', '.join(MOVES)}")
    logpost = LogPosterior(log_likelihood, priors, beta)
    full_settings = normalise_settings({"format": CHAIN_FORMAT, **dict(settings or {}), "moves": moves,
                                "parameters": list(priors.names), "priors": priors.to_dict(),
                                "nwalkers": nwalkers, "seed": seed, "beta": logpost.beta})

    backend, resumed, path = None, False, None
    if chain_file is not None:
        import h5py

        path = Path(chain_file)
        if path.exists():
            try:
                stored, iteration = read_chain_settings(path)
            except DataError:
                if not overwrite:
                    raise
                stored, iteration = None, 0
            if stored == full_settings and iteration > 0:
                resumed = True
            elif iteration == 0 or overwrite:
                path.unlink()
            else:
                diff = sorted(k for k in set(full_settings) | set(stored or {})
                              if (stored or {}).get(k) != full_settings.get(k))
                raise InputError(f"chain file {path} holds a chain with other settings "
                                 f"(differing: {', '.join(diff) or 'none stored'}); use another output "
                                 "directory or start afresh (--overwrite)")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not resumed:
            with h5py.File(path, "w") as f:  # settings first, so that a killed run is recognised
                f.attrs["xfit_settings"] = json.dumps(full_settings, sort_keys=True)
        backend = checkpointed_backend_class()(str(path), name="mcmc", checkpoint_seconds=checkpoint_seconds)

    from . import vectorised

    sampler = vectorised.EnsembleSampler(nwalkers, ndim, logpost, vectorize=True, backend=backend,
                                         moves=MOVES[moves](vectorised))
    steps_run = 0
    try:
        if resumed:
            done = int(sampler.backend.iteration)
            if done < nsteps:
                steps_run = nsteps - done
                _run_steps(sampler, sampler.get_last_sample(), steps_run, nsteps, done, progress)
        else:
            rng = np.random.default_rng(seed)
            emcee_seed = int(rng.integers(2**32 - 1))
            p0 = _initial_state(initial, priors, nwalkers, rng, logpost)
            sampler.random_state = np.random.RandomState(emcee_seed).get_state()
            steps_run = nsteps
            _run_steps(sampler, p0, nsteps, nsteps, 0, progress)
    finally:  # also on Ctrl-C: keep every finished step
        if hasattr(sampler.backend, "flush"):
            sampler.backend.flush()

    b = sampler.backend
    coords = b.get_chain()
    log_prob = b.get_log_prob()
    blobs = b.get_blobs()
    accepted = b.accepted if coords.shape[0] == nsteps else None
    coords, log_prob = coords[:nsteps], log_prob[:nsteps]
    if blobs is not None:
        blobs = np.asarray(blobs, dtype=float).reshape(len(blobs), nwalkers)[:nsteps]
    return Chain(coords, log_prob, blobs, accepted, priors.names, priors, beta=logpost.beta, burn=burn,
                 seed=seed, labels=labels, path=path, resumed=resumed, steps_run=steps_run,
                 settings=full_settings, log_likelihood_fn=log_likelihood)


def fit_initializer(model, likelihood, mX, priors: PriorSet, nwalkers: int, width: float = 1.0):
    """``rng -> (nwalkers, ndim)``: a Gaussian ball around the best fit (:class:`Fit`), of
    ``width`` x the HESSE errors, kept inside the prior support; prior draws if the fit
    fails."""
    from ..fit import Fit

    def init(rng):
        lims = {p: tuple(None if not math.isfinite(v) else v for v in priors[p].support)
                for p in model.parameters}
        start = {p: float(priors[p].ppf(0.5)) for p in model.parameters}
        try:
            res = Fit(model, likelihood, mX, start=start, limits=lims).run(predictions=False)
        except ConvergenceError:
            warnings.warn("the fit for the starting point did not converge; walkers start from prior draws",
                          UserWarning, stacklevel=3)
            return priors.sample(nwalkers, rng)
        centre = np.array([res.values[p] for p in model.parameters])
        scale = np.array([res.errors[p] if math.isfinite(res.errors[p]) and res.errors[p] > 0
                          else 1e-3 * max(abs(res.values[p]), 1e-3) for p in model.parameters])
        p0 = centre + width * scale * rng.standard_normal((nwalkers, len(centre)))
        for _ in range(100):  # redraw walkers outside the prior support
            bad = ~np.isfinite(priors.logpdf(p0))
            if not bad.any():
                return p0
            p0[bad] = centre + width * scale * rng.standard_normal((int(bad.sum()), len(centre)))
        bad = ~np.isfinite(priors.logpdf(p0))
        p0[bad] = priors.sample(int(bad.sum()), rng)
        return p0

    return init


def _with_nuisance_draws(init: Callable, n_nuisances: int) -> Callable:
    """An initializer of the model's parameters extended by N(0, 1) draws of the nuisances
    (their prior)."""
    def extended(rng):
        p0 = init(rng)
        return np.hstack([p0, rng.standard_normal((p0.shape[0], n_nuisances))])

    return extended


def _warn_if_flat(lnl, priors: PriorSet, model, seed) -> None:
    """Warn when ln L takes one value at 16 prior draws: the likelihood does not constrain the
    model (e.g. B(X -> invisible) = 0), so the posterior is the prior."""
    draws = priors.sample(16, np.random.default_rng(seed))
    values = np.asarray(lnl(draws), dtype=float)
    if np.all(np.isfinite(values)) and np.ptp(values) == 0.0:
        warnings.warn(f"the likelihood does not depend on {', '.join(model.parameters)} for model {model.name!r} "
                      f"at m_X = {lnl.mX:g} GeV (e.g. B(X->invisible) = 0): the posterior is the prior",
                      UserWarning, stacklevel=3)


def sample_model(model, likelihood, mX, priors=None, nwalkers: int = DEFAULT_WALKERS, nsteps: int = 2000,
                 seed: int | None = None, *, chain_file: str | Path | None = None, init: str = "fit",
                 burn: int | None = None, overwrite: bool = False, progress: bool = False,
                 settings: Mapping | None = None, moves: str = "de", checkpoint_seconds: float = 1.0,
                 theory_nuisances: bool = False) -> Chain:
    """The posterior of ``model``'s parameters at fixed ``mX`` given ``likelihood``.

    ``priors``: a :class:`PriorSet`, {name: Prior or "kind:args"}, a list of CLI specs
    (``"gX:loguniform:1e-4:0.1"``) or None (defaults: g_X uniform on [0, 0.1]).
    ``init="fit"`` starts the walkers in a ball around the best fit, ``"prior"`` from prior
    draws.  ``theory_nuisances=True`` samples the theory inputs too, as standardised
    nuisances with N(0, 1) priors (:class:`~xfit.inference.nuisances.TheoryNuisances`; the
    chain's columns gain their names).  See :func:`sample` for the chain file, resuming and
    seeds.
    """
    priors = as_prior_set(priors, model.parameters)
    check_prior_domain(model, priors)
    if theory_nuisances:
        from ..nuisances import TheoryNuisances
        from ..priors import Gaussian

        nuisances = TheoryNuisances(model, likelihood, mX)
        lnl = NuisanceLogLikelihood(model, likelihood, mX, nuisances)
        priors = PriorSet({**priors.priors, **{n: Gaussian(0.0, 1.0) for n in nuisances.names}})
    else:
        lnl = ModelLogLikelihood(model, likelihood, mX)
    nwalkers_i = positive_int(nwalkers, "--walkers (number of walkers)", minimum=min_walkers(priors.ndim))
    _warn_if_flat(lnl, priors, model, seed)
    if init == "fit":
        model_priors = PriorSet({p: priors[p] for p in model.parameters})
        initial = fit_initializer(model, likelihood, lnl.mX, model_priors, nwalkers_i)
        if theory_nuisances:
            initial = _with_nuisance_draws(initial, priors.ndim - len(model.parameters))
    elif init == "prior":
        initial = None
    else:
        raise InputError(f"init must be 'fit' or 'prior', got {init!r}")
    full = {"model": model.describe(), "mX": lnl.mX, "terms": list(likelihood.names), "init": init,
            **({"theory_nuisances": list(lnl.parameters[len(model.parameters):])} if theory_nuisances else {}),
            **dict(settings or {})}
    labels = {p: model.label(p) for p in model.parameters}
    labels.update({p: p for p in lnl.parameters[len(model.parameters):]})
    return sample(lnl, priors, nwalkers_i, nsteps, seed, initial=initial, chain_file=chain_file,
                  settings=full, overwrite=overwrite, burn=burn, progress=progress, labels=labels,
                  moves=moves, checkpoint_seconds=checkpoint_seconds)
