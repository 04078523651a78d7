"""CPU time of a full ``xfit belle2 posterior`` run (Laplace grid + dynesty evidence + emcee),
and the Laplace-vs-importance-sampling check at several (m_X, B) points.

    XFIT_DATA_DIR=... python benchmarks/belle2_posterior.py [--sm-free] [--width G] [--no-check]

Prints the CPU seconds of each stage and of the whole run (process time: the 2-core machine is
shared, so wall time says little), the summary numbers, and the importance-sampling table.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sm-free", action="store_true")
    ap.add_argument("--width", type=float, default=0.0)
    ap.add_argument("--no-check", action="store_true", help="skip the importance-sampling check")
    ap.add_argument("--is-samples", type=int, default=4000)
    args = ap.parse_args()

    from xfit.belle2.laplace import LaplaceMarginal, importance_check
    from xfit.belle2.posterior import PosteriorSettings, run_posterior
    from xfit.belle2.signal import KXModel
    from xfit.plots.belle2_posterior import plot_posterior

    t0, w0 = time.process_time(), time.perf_counter()
    settings = PosteriorSettings(width=args.width, sm_free=args.sm_free)
    with tempfile.TemporaryDirectory() as out:
        res = run_posterior(settings, out=out, log=lambda s: None)
        plot_posterior(res, out)  # as ``xfit belle2 posterior --out`` does
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    s = res.summary
    print(f"full run ({'sm-free' if args.sm_free else 'mu = 1'}, width {args.width} GeV): "
          f"{cpu:.1f} s CPU ({wall:.1f} s wall); Laplace grid {s['laplace_grid']['cpu_seconds']:.1f} s CPU "
          f"for {s['laplace_grid']['n_mX2']} x {s['laplace_grid']['n_BR']} x {s['laplace_grid']['n_mu']} points")
    print(json.dumps({k: s[k] for k in ("mX", "BR", "ln_bayes_factor", "n_effective", "interpolation_check")},
                     indent=1, default=float))
    if args.no_check:
        return 0
    kx = KXModel()
    lap = LaplaceMarginal(kx)
    best_br = s["BR"]["mode"]
    pts = [(2.1, 0.0, 1.0), (s["mX"]["mode"], best_br / 1e-5, 1.0), (2.1, 2.0, 1.0), (0.5, 0.5, 1.0),
           (3.5, 1.0, 1.0)]
    t1 = time.process_time()
    rows = importance_check(lap, pts, n_samples=args.is_samples, seed=11)
    print(f"importance sampling ({args.is_samples} draws per point, proposal N(theta_hat, 1.06^2 H^-1), "
          f"{time.process_time() - t1:.1f} s CPU):")
    print("  mX [GeV]  B          ln L_Laplace   IS - Laplace        (vs B=0 point, paired)   ESS")
    for r in rows:
        print(f"  {r.mX:7.3f}  {r.mu_X * 1e-5:9.3g}  {r.ln_laplace:12.3f}  {r.difference:+.3f} +- {r.error:.3f}"
              f"   {r.paired_difference:+.3f} +- {r.paired_error:.3f}   {r.ess:6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
