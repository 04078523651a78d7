"""Benchmark: the Belle II B+ -> K+ nu nubar fit, fast path versus stock pyhf, and the scan.

    XFIT_DATA_DIR=../shared/data python benchmarks/belle2_fit.py [--no-stock] [--no-scan] [--repeat N]

Prints the wall time of one full fit (minimum + HESSE) with stock pyhf (numpy backend, Minuit,
default settings) and with xfit's fast HistFactory path (median of N cold fits), their ratio,
and the time of the default B+ -> K+ X mass scan with CLs limits (101 masses, no plots).
Targets (reported as PASS/FAIL, not asserted): fit <= 50 ms, >= 100x faster than stock pyhf,
scan with limits <= 30 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if not os.environ.get("XFIT_DATA_DIR") and (REPO.parent / "shared" / "data").is_dir():
    os.environ["XFIT_DATA_DIR"] = str(REPO.parent / "shared" / "data")

TARGET_FIT_S = 0.050
TARGET_RATIO = 100.0
TARGET_SCAN_S = 30.0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-stock", action="store_true", help="skip stock pyhf (about 15 s)")
    ap.add_argument("--no-scan", action="store_true", help="skip the default scan")
    ap.add_argument("--repeat", type=int, default=7, help="fast fits to time (median)")
    args = ap.parse_args(argv)

    from xfit.belle2 import files, fit, scan

    spec = files.load_workspace()
    t0 = time.perf_counter()
    model = fit.load_model()
    load_s = time.perf_counter() - t0
    times = []
    for _ in range(max(1, args.repeat)):
        r = fit.fit_sm(model)
        times.append(r.fit_seconds)
    fast = statistics.median(times)
    print(f"model build (load, excluded from fit time): {load_s:.2f} s")
    print(f"fast fit  (Newton + exact Hessian):  mu = {r.mu:.4f} +- {r.mu_err:.4f}, "
          f"Z0 = {r.Z_bkg_only:.3f}, Z1 = {r.Z_vs_SM:.3f};  {1e3 * fast:.1f} ms "
          f"(median of {len(times)}, min {1e3 * min(times):.1f} ms)  "
          f"[{verdict(fast <= TARGET_FIT_S)} <= {1e3 * TARGET_FIT_S:.0f} ms]")
    if not args.no_stock:
        s = fit.stock_pyhf_fit(spec, significances=False)
        ratio = s["fit_seconds"] / fast
        print(f"stock pyhf (numpy, minuit, default): mu = {s['mu']:.4f} +- {s['mu_err']:.4f};  {s['fit_seconds']:.2f} s")
        print(f"speed-up: {ratio:.0f}x  [{verdict(ratio >= TARGET_RATIO)} >= {TARGET_RATIO:.0f}x]")
    if not args.no_scan:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            res = scan.run_scan(out=tmp, plots=False)
            scan_s = time.perf_counter() - t0
        print(f"default scan with limits ({len(res.points)} masses, incl. setup): {scan_s:.1f} s  "
              f"[{verdict(scan_s <= TARGET_SCAN_S)} <= {TARGET_SCAN_S:.0f} s];  best fit mX = {res.best_mX:.3f} GeV, "
              f"B = {res.best_BR:.3g}, Z_local = {res.Z_local:.2f} (1 dof)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
