"""Fits per second of the Belle II B+ -> K+ X toy mass scans (``xfit belle2 toys``).

    PYTHONPATH=. XFIT_DATA_DIR=... python benchmarks/belle2_toys.py [--n-toys 20] [--n-masses 47] [--seed 1]

Three ways of doing the same work (pseudo-data from the SM-only fit, background-only fit and
one free fit per mass on each toy), measured in the same run:

1. per-toy loop, cold starts: every fit from the model's initial values (CPU time);
2. :func:`xfit.belle2.toys.run_toy` serially: fits warm-started along the mass grid (CPU time);
3. :func:`xfit.belle2.toys.run_toys` with the process executor (toys in parallel worker
   processes; wall time, and the CPU time summed over the workers).

Prints fits per CPU second of each, the largest difference of the toys' max q0 between 1 and 2
(warm starts must not land in other minima), and the projected time of 1000 toys x 100 masses.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-toys", type=int, default=20)
    ap.add_argument("--n-masses", type=int, default=47)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from xfit.belle2 import toys
    from xfit.belle2.scan import default_masses
    from xfit.belle2.signal import KXModel
    from xfit.inference import mle
    from xfit.inference import test_statistics as ts
    from xfit.inference.toys import sample_toy, toy_rng

    masses = [float(m) for m in default_masses(0.0, 4.6, args.n_masses)]
    kx = KXModel()
    theta = mle.fit(kx.model, fix={**kx.fix(), kx.ix: 0.0}).x
    fix = kx.fix()

    # 1. per-toy loop, cold starts
    t0, n_cold, max_cold = time.process_time(), 0, []
    for k in range(args.n_toys):
        main_, aux = sample_toy(kx.model, theta, toy_rng(args.seed, k))
        model = kx.model.with_data(main_, aux)
        bkg = mle.fit(model, fix={**fix, kx.ix: 0.0})
        n_cold += 1
        q = []
        for mX in masses:
            if kx.set_mass(mX, model=model) <= 0.0:
                continue
            q.append(ts.q0(bkg.nll, mle.fit(model, fix=fix).nll))
            n_cold += 1
        max_cold.append(max(q))
    cpu_cold = time.process_time() - t0

    # 2. warm-started scans, serially
    t0 = time.process_time()
    warm = [toys.run_toy({"index": k, "seed": args.seed, "theta": theta, "masses": masses})
            for k in range(args.n_toys)]
    cpu_warm = time.process_time() - t0
    n_warm = sum(r["n_fits"] for r in warm)
    diff = float(np.max(np.abs(np.array(max_cold) - np.array([r["max_q0"] for r in warm]))))

    # 3. the command's path with worker processes (includes the observed scan)
    w0 = time.perf_counter()
    res = toys.run_toys(args.n_toys, seed=args.seed, masses=masses, executor="process")
    wall = time.perf_counter() - w0
    s = res.summary()

    rate_cold, rate_warm = n_cold / cpu_cold, n_warm / cpu_warm
    print(f"{args.n_toys} toys x {args.n_masses} masses (seed {args.seed})")
    print(f"  per-toy loop, cold starts : {n_cold:6d} fits, {cpu_cold:7.2f} s CPU, {rate_cold:7.0f} fits/s")
    print(f"  run_toy, warm starts      : {n_warm:6d} fits, {cpu_warm:7.2f} s CPU, {rate_warm:7.0f} fits/s "
          f"(x{rate_warm / rate_cold:.2f}); max |max q0 difference| = {diff:.2e}")
    print(f"  run_toys, process executor: {s['n_fits']:6d} fits, {s['cpu_seconds']:7.2f} s CPU in the workers, "
          f"{wall:.2f} s wall, {s['n_fits'] / wall:7.0f} fits per wall second")
    fits_1000 = 1000 * (100 + 1)
    print(f"  projected 1000 toys x 100 masses ({fits_1000} fits): {fits_1000 / rate_warm / 60:.1f} min CPU "
          f"(warm starts), {fits_1000 / rate_cold / 60:.1f} min CPU (cold starts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
