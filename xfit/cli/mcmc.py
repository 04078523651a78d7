"""``xfit mcmc``: the posterior of a model's parameters at one m_X with emcee.

    xfit mcmc --model tau-flavor --mX 2.1 --terms b_to_s_emiss,l3_z_gamma --steps 2000 --seed 1 --json

prints the median and the 16/84 % (and 2.5/97.5 %) quantiles of every parameter, the
integrated autocorrelation time and the acceptance fraction, and writes into ``--out``
(default ``xfit-output/mcmc``) the chain (``chain.h5``, written while it runs), a corner
plot (``corner.png``/``.pdf``) and ``summary.json``.  Run the same command again after an
interruption (or with more ``--steps``) and the chain continues from where it stopped.
``--evidence`` adds ln Z by thermodynamic integration and the Bayes factor against the SM.
Default prior: g_X uniform on [0, 0.1] (docs/bayes.md).
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

from ..datasets import inputs_block
from ..errors import InputError, require_finite_number
from . import COMMANDS
from .common import add_model_options, dump_json, model_from_args

DEFAULT_TERMS = "b_to_s_emiss,l3_z_gamma"
DEFAULT_OUT = "xfit-output/mcmc"


def register(sub) -> None:
    p = sub.add_parser(
        "mcmc", help=COMMANDS["mcmc"],
        description="Sample the posterior of a model's parameters at fixed m_X with emcee (vectorised, "
        "reproducible with --seed). The chain is written to OUT/chain.h5 while it runs; the same command "
        "continues an interrupted chain. Default prior: gX uniform on [0, 0.1].")
    add_model_options(p)
    p.add_argument("--mX", required=True, help="mass of X in GeV (> 0)")
    p.add_argument("--terms", default=DEFAULT_TERMS,
                   help=f"comma-separated likelihood terms (default {DEFAULT_TERMS})")
    p.add_argument("--steps", default="2000", help="total chain length in steps (default 2000)")
    p.add_argument("--walkers", default="256", help="number of walkers (default 256, for throughput: docs/bayes.md)")
    p.add_argument("--seed", default="0", help="random seed (default 0): same seed, same chain")
    p.add_argument("--burn", default=None, help="steps discarded as burn-in (default: a quarter of --steps)")
    p.add_argument("--prior", action="append", default=[], metavar="SPEC",
                   help="prior of a parameter, e.g. gX:loguniform:1e-4:0.1, gX:uniform:0:0.05, "
                   "gX:gaussian:0.02:0.01:0:inf (truncated); repeatable")
    p.add_argument("--init", choices=("fit", "prior"), default="fit",
                   help="start the walkers around the best fit (default) or from prior draws")
    p.add_argument("--observable", action="append", default=[], metavar="KEY",
                   help="also summarise the posterior prediction of this observable (e.g. 'BR(Z->gammaX)'); repeatable")
    p.add_argument("--hpd", action="store_true", help="also give 68 %% / 95 %% highest-posterior-density intervals")
    p.add_argument("--evidence", action="store_true",
                   help="also compute ln Z (thermodynamic integration) and the Bayes factor against the SM")
    p.add_argument("--temps", default="24", help="rungs of the temperature ladder for --evidence (even, default 24)")
    p.add_argument("--evidence-steps", dest="evidence_steps", default="200",
                   help="steps per temperature for --evidence (default 200)")
    p.add_argument("--evidence-walkers", dest="evidence_walkers", default="128",
                   help="walkers per temperature for --evidence (default 128)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh when OUT/chain.h5 holds a chain with other settings")
    p.add_argument("--progress", action="store_true",
                   help="progress on stderr (the default: a bar on a terminal, else a line per 10%%)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--theory-nuisances", action="store_true",
                   help="sample the theory inputs (form factors, CKM, masses, EW inputs) as N(0,1) nuisances "
                        "beside the model's parameters (docs/physics.md, 'Theory nuisances')")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _int_option(value, name: str, minimum: int, counts: bool = True) -> int:
    """An integer option >= ``minimum`` (:func:`xfit.inference.mcmc.positive_int`), and for a
    count (``counts``) at most :data:`xfit.inference.mcmc.sampler.MAX_COUNT` (1e20 gave an
    OverflowError or an h5py TypeError traceback)."""
    from ..inference.mcmc import positive_int
    from ..inference.mcmc.sampler import MAX_COUNT

    n = positive_int(value, name, minimum)
    maximum = MAX_COUNT if counts else None
    if maximum is not None and n > maximum:
        raise InputError(f"{name} must be an integer in [{minimum}, {maximum}], got {str(value)[:80]!r}")
    return n


def _warn_line(message) -> None:
    text = " ".join(str(message).split())
    print(f"xfit mcmc: warning: {text}", file=sys.stderr)


def run(args) -> int:
    from ..outputs import output_lock

    with output_lock(args.out):  # refuses a bad --out, or one another process is writing
        return _run(args)


def _run(args) -> int:
    # validate the cheap things first: bad input fails before any sampling
    steps = _int_option(args.steps, "--steps", 1)
    walkers = _int_option(args.walkers, "--walkers", 2)
    seed = _int_option(args.seed, "--seed", 0, counts=False)  # numpy's default_rng takes any seed >= 0
    burn = None if args.burn is None else _int_option(args.burn, "--burn", 0)
    if burn is not None and burn >= steps:
        raise InputError(f"--burn must be smaller than --steps ({steps}), got {burn}")
    temps = _int_option(args.temps, "--temps", 4)
    if temps % 2:
        raise InputError(f"--temps must be even (the error estimate halves the ladder), got {temps}")
    ev_steps = _int_option(args.evidence_steps, "--evidence-steps", 8)
    ev_walkers = _int_option(args.evidence_walkers, "--evidence-walkers", 4)
    mX = require_finite_number(args.mX, "--mX")
    if mX <= 0:
        raise InputError(f"--mX must be > 0 GeV, got {args.mX}")

    if args.theory_nuisances and args.evidence:
        raise InputError("--evidence with --theory-nuisances is not available (the evidence integrates the model's "
                         "parameters only); drop one of them")

    from ..inference.priors import as_prior_set
    from .fit import likelihood_from_option

    model = model_from_args(args)
    likelihood = likelihood_from_option(args.terms)
    try:
        priors = as_prior_set(args.prior, model.parameters)
    except InputError as exc:
        raise InputError(f"--prior: {exc}") from None
    from ..inference.mcmc import min_walkers

    if walkers < min_walkers(len(model.parameters)):
        raise InputError(f"--walkers must be >= {min_walkers(len(model.parameters))} for "
                         f"{len(model.parameters)} parameter(s), got {walkers}")

    import emcee  # noqa: F401 -- before the clock: the rates below time the sampling, not this import (scipy.stats)

    from ..inference.mcmc import ChainTooShortWarning, read_chain_settings, sample_model
    from ..plots.corner import chain_corner_plot

    out = Path(args.out)
    chain_file = out / "chain.h5"
    existed = chain_file.exists()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cpu0 = time.process_time()
        chain = sample_model(model, likelihood, mX, priors, nwalkers=walkers, nsteps=steps, seed=seed,
                             chain_file=chain_file, init=args.init, burn=burn, overwrite=args.overwrite,
                             progress=not args.quiet, theory_nuisances=args.theory_nuisances)
        sampling_cpu = time.process_time() - cpu0
        if chain.resumed:
            _, stored = read_chain_settings(chain_file)
            done = stored - chain.steps_run
            if chain.steps_run:
                print(f"xfit mcmc: resuming {chain_file} at step {done}: {chain.steps_run} more step(s) "
                      f"to {steps}", file=sys.stderr)
            else:
                print(f"xfit mcmc: {chain_file} already holds {stored} steps with these settings; "
                      f"using the first {steps}", file=sys.stderr)
        elif existed:
            print(f"xfit mcmc: started {chain_file} afresh", file=sys.stderr)
        diag = chain.diagnostics(warn=True)
        summary = chain.summary(hpd=args.hpd)
        predictions = chain.predictive_summary(args.observable, hpd=args.hpd) if args.observable else None
        title = f"{model.name}, $m_X$ = {mX:g} GeV: {' + '.join(likelihood.names)}"
        # the model's parameters (the theory nuisances' posteriors are in the summary)
        corner_files = chain_corner_plot(chain, out, "corner", title=title, parameters=model.parameters)
        evidence = None
        if args.evidence:
            from ..inference.evidence import bayes_factor, model_evidence, sm_evidence

            ev = model_evidence(model, likelihood, mX, priors, seed=seed, n_temps=temps, nsteps=ev_steps,
                                nwalkers=max(ev_walkers, 2 * len(model.parameters)), progress=not args.quiet)
            sm = sm_evidence(likelihood, mX, model=model)
            bf = bayes_factor(ev, sm)
            evidence = {"ln_evidence": ev.ln_z, "ln_evidence_error": ev.ln_z_error,
                        "ln_evidence_sm": sm.ln_z, "ln_bayes_factor_vs_sm": bf.ln_b,
                        "ln_bayes_factor_error": bf.error, "interpretation": bf.interpretation,
                        "error_mc": ev.error_mc, "error_discretisation": ev.error_discretisation,
                        "method": ev.method, "n_temperatures": temps, "steps_per_temperature": ev_steps,
                        "walkers_per_temperature": ev_walkers}
    too_short = False
    for w in caught:
        if issubclass(w.category, ChainTooShortWarning):
            too_short = True
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        _warn_line(w.message)

    params = list(model.parameters)
    tau = diag["tau_autocorr"]
    result = {p: summary[p] for p in params}
    result.update({
        "tau_autocorr": tau[params[0]] if len(params) == 1 else tau,
        "acceptance": diag["acceptance"],
        "model": model.name, "mX": mX, "terms": list(likelihood.names),
        "priors": {p: repr(priors[p]) for p in params},
        "steps": steps, "walkers": walkers, "seed": seed, "burn": chain.burn,
        "n_samples": int((chain.nsteps - chain.burn) * chain.nwalkers),
        "n_effective": diag["n_effective"][params[0]] if len(params) == 1 else diag["n_effective"],
        "chain_too_short": too_short, "resumed": chain.resumed,
        # speed of this invocation: likelihood evaluations = walkers x steps run now (CPU time of the
        # sampling, including the start-up fit); effective samples over the same CPU time
        "evaluations": int(chain.steps_run * chain.nwalkers),
        "evaluations_per_second": (chain.steps_run * chain.nwalkers / sampling_cpu) if sampling_cpu > 0 else None,
        "effective_samples_per_second": ((min(diag["n_effective"].values()) if isinstance(diag["n_effective"], dict)
                                          else diag["n_effective"]) / sampling_cpu
                                         if sampling_cpu > 0 and chain.steps_run else None),
        "inputs": inputs_block(),
        "files": {"chain": str(chain_file), "corner": [str(f) for f in corner_files],
                  "summary": str(out / "summary.json")},
    })
    nuisance_names = [n for n in chain.parameters if n not in params]
    result["theory_nuisances"] = {"used": bool(args.theory_nuisances)}
    if nuisance_names:  # posterior of each standardised input (prior N(0, 1))
        result["theory_nuisances"].update({"source": "data/theory_uncertainties.yaml",
                                           "posterior": {n: summary[n] for n in nuisance_names}})
    if predictions is not None:
        result["predictions"] = predictions
    if evidence is not None:
        result["evidence"] = evidence
    text = dump_json(result)
    (out / "summary.json").write_text(text + "\n")
    if args.json:
        print(text)
        return 0
    print(f"xfit mcmc: {model.name} at m_X = {mX:g} GeV, {' + '.join(likelihood.names)}; "
          f"{steps} steps x {walkers} walkers (burn-in {chain.burn}), seed {seed}")
    for p in params:
        s = summary[p]
        print(f"  {p:<10} prior {priors[p]!r}: median {s['median']:.4g}, 68% [{s['q16']:.4g}, {s['q84']:.4g}], "
              f"95% [{s['q2.5']:.4g}, {s['q97.5']:.4g}]")
    taus = ", ".join(f"{p} {t:.3g}" for p, t in tau.items())
    print(f"  autocorrelation time (steps): {taus}; acceptance {diag['acceptance']:.2f}")
    for k, s in (predictions or {}).items():
        print(f"  {k:<18} median {s['median']:.4g}, 68% [{s['q16']:.4g}, {s['q84']:.4g}]")
    if evidence is not None:
        print(f"  ln Z = {evidence['ln_evidence']:.3f} ± {evidence['ln_evidence_error']:.3f}, "
              f"ln Z(SM) = {evidence['ln_evidence_sm']:.3f}: ln B(vs SM) = {evidence['ln_bayes_factor_vs_sm']:.3f} "
              f"± {evidence['ln_bayes_factor_error']:.3f} ({evidence['interpretation']})")
    print("wrote:")
    for f in [chain_file, *corner_files, out / "summary.json"]:
        print(f"  {f}")
    return 0
