"""``xfit belle2 posterior``: posterior in (m_X, B x P_inv) with every Belle II nuisance
marginalised (Laplace), and the Bayes factor of SM + X against the SM.

    xfit belle2 posterior [--json] [--out DIR] [--prior-BR uniform|log-uniform] [--BR-max B]
                          [--BR-min B] [--mX-min M] [--mX-max M] [--width G] [--sm-free]
                          [--mu-max MU] [--walkers N] [--steps N] [--nlive N] [--seed S] [--no-resume]

:func:`register` adds the sub-command to the ``xfit belle2`` sub-parsers.
"""
from __future__ import annotations

import argparse
import sys

from ..outputs import check_output_dir
from .belle2 import SUBCOMMAND_MODULES
from .common import dump_json


def cmd_posterior(args) -> int:
    from ..belle2.posterior import PosteriorSettings, run_posterior

    settings = PosteriorSettings(mX_min=args.mX_min, mX_max=args.mX_max, prior_BR=args.prior_BR,
                                 BR_min=args.BR_min, BR_max=args.BR_max, width=args.width, sm_free=args.sm_free,
                                 mu_max=args.mu_max, n_BR=args.n_BR, n_mu=args.n_mu)
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if not args.quiet else None
    out = None if args.out is None else check_output_dir(args.out)
    res = run_posterior(settings, out=out, resume=not args.no_resume, nwalkers=args.walkers,
                        nsteps=args.steps, nlive=args.nlive, seed=args.seed, log=log)
    if out is not None:
        from ..plots.belle2_posterior import plot_posterior

        plot_posterior(res, out)
    s = res.summary
    if args.json:
        print(dump_json(s))
        return 0
    mx, br, bf = s["mX"], s["BR"], s["ln_bayes_factor"]
    print("Belle II B+ -> K+ X (X invisible), nuisances marginalised (Laplace)")
    print(f"  m_X = {mx['median']:.3f} (+{mx['q84'] - mx['median']:.3f} -{mx['median'] - mx['q16']:.3f}) GeV, "
          f"mode {mx['mode']:.3f} GeV")
    print(f"  B x P_inv = {br['median']:.3g} (+{br['q84'] - br['median']:.2g} -{br['median'] - br['q16']:.2g}), "
          f"mode {br['mode']:.3g}")
    print(f"  ln BF(SM + X vs SM) = {bf['value']:.2f} +- {bf['error']:.2f}   (quadrature {bf['quadrature']:.2f})")
    pr = s["priors"]
    print(f"  priors: m_X uniform [{pr['mX']['low']:.3g}, {pr['mX']['high']:.4g}] GeV, B {pr['BR']['kind']} "
          f"[{pr['BR']['low']:.3g}, {pr['BR']['high']:.3g}]" + (", mu uniform" if args.sm_free else ", mu = 1"))
    print(f"  {s['n_effective']} effective samples; {s['cpu_seconds']:.0f} s CPU"
          + (f"; files in {args.out}" if args.out else ""))
    return 0


def register(belle2_subparsers) -> None:
    """Add ``posterior`` to the sub-parsers of ``xfit belle2``."""
    from ..belle2.posterior import (
        DEFAULT_BR_MAX,
        DEFAULT_BR_MIN,
        DEFAULT_MU_MAX,
        DEFAULT_N_BR,
        DEFAULT_N_MU,
        PRIOR_KINDS,
    )
    from ..belle2.signal import MX_NO_EFFICIENCY

    p = belle2_subparsers.add_parser(
        "posterior", help=SUBCOMMAND_MODULES["posterior"][1],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Bayesian analysis of B+ -> K+ X with the Belle II likelihood: Laplace-marginal likelihood "
        "over the 231 nuisances on a grid, emcee posterior, dynesty evidence (pip install 'xfit[bayes]').")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--out", default="xfit-output/belle2-posterior", metavar="DIR",
                   help="directory for samples, plots, checkpoints (resumable; default xfit-output/belle2-posterior)")
    p.add_argument("--prior-BR", dest="prior_BR", default="uniform", metavar="KIND",
                   help="prior of B: " + " or ".join(PRIOR_KINDS))
    p.add_argument("--BR-max", dest="BR_max", metavar="B", default=DEFAULT_BR_MAX, help="upper bound of the B prior")
    p.add_argument("--BR-min", dest="BR_min", metavar="B", default=DEFAULT_BR_MIN,
                   help="lower bound of the log-uniform B prior")
    p.add_argument("--mX-min", dest="mX_min", metavar="M", default=0.0, help="lower bound of the m_X prior [GeV]")
    p.add_argument("--mX-max", dest="mX_max", metavar="M", default=MX_NO_EFFICIENCY,
                   help="upper bound of the m_X prior [GeV] (<= 4.675 for a narrow X: no efficiency above)")
    p.add_argument("--width", default=0.0, metavar="G", help="Gamma_X [GeV], fixed (0: narrow line)")
    p.add_argument("--sm-free", action="store_true", help="sample the SM signal strength mu (otherwise fixed at 1)")
    p.add_argument("--mu-max", dest="mu_max", metavar="MU", default=DEFAULT_MU_MAX,
                   help="upper bound of the uniform mu prior")
    p.add_argument("--n-BR", dest="n_BR", type=int, default=DEFAULT_N_BR, help="grid values of B per mass")
    p.add_argument("--n-mu", dest="n_mu", type=int, default=DEFAULT_N_MU, help="grid values of mu (--sm-free)")
    p.add_argument("--walkers", type=int, default=32, help="emcee walkers")
    p.add_argument("--steps", type=int, default=3000, help="emcee steps (a quarter discarded)")
    p.add_argument("--nlive", type=int, default=1000, help="dynesty live points")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--no-resume", action="store_true", help="start anew even if --out holds a run")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=cmd_posterior)
