"""Benchmark: the 200 x 200 Delta chi2 grid of Fig. 2 (left), vectorised.

Prints the wall time and points per second of the vectorised grid and, as a baseline
measured in the same run, of the same chi2 evaluated point by point in Python (on a
subset, scaled).  Target (issue 3): the full grid in <= 2 s on a 2-core machine.
Compare ratios, not seconds: the machines are shared and noisy.

    python benchmarks/fig2_grid.py
"""
from __future__ import annotations

import time

from xfit.likelihood import build_likelihood
from xfit.models import EFTPlane
from xfit.reproduce.fig2 import MX, TERMS_FULL, plane_grid


def best_of(f, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(n: int = 200, n_loop: int = 400) -> None:
    lik = build_likelihood(TERMS_FULL)
    model = EFTPlane()
    _, _, X, Y = plane_grid(n)
    grid = lambda: lik.chi2(model.predict(MX, gX_AWW=X, gX_AYY=Y))  # noqa: E731
    grid()  # warm up (loads data files, caches CKM sums)
    t_vec = best_of(grid)
    xs, ys = X.ravel()[:n_loop], Y.ravel()[:n_loop]

    def loop():
        for a, b in zip(xs, ys):
            lik.chi2(model.predict(MX, gX_AWW=a, gX_AYY=b))

    t_loop = best_of(loop, repeat=1) * (n * n / n_loop)
    points = n * n
    print(f"Fig. 2 grid {n}x{n} = {points} points")
    print(f"  vectorised : {t_vec:8.3f} s   {points / t_vec:12.0f} points/s")
    print(f"  per-point  : {t_loop:8.3f} s   {points / t_loop:12.0f} points/s  (baseline, scaled from {n_loop} points)")
    print(f"  speed-up   : {t_loop / t_vec:8.1f} x")
    print(f"  target <= 2 s: {'PASS' if t_vec <= 2.0 else 'FAIL'}")


if __name__ == "__main__":
    main()
