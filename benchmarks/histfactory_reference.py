"""Regenerate the stock-pyhf reference of the Belle II B+ -> K+ nu nubar workspace fit.

    XFIT_DATA_DIR=../shared/data python benchmarks/histfactory_reference.py [--out FILE]

Runs stock pyhf (numpy backend, Minuit optimizer with tolerance 1e-3 for the free fit -- pyhf's
default 0.1 stops MIGRAD at EDM ~6e-4, about 0.009 in mu above the minimum -- and pyhf's default
tolerance for the fits with mu fixed to 0 and 1) on
$XFIT_DATA_DIR/belle2_knunu/combined_likelihood.json and writes pyhf's numbers (mu, mu_err,
twice_nll, twice_nll at mu = 0 and 1), pyhf's version and the sha256 of the workspace file to
tests/histfactory/reference/belle2_knunu_stock_pyhf.json, which
tests/histfactory/test_histfactory_belle2.py compares with the fast backend.  About a minute.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if not os.environ.get("XFIT_DATA_DIR") and (REPO.parent / "shared" / "data").is_dir():
    os.environ["XFIT_DATA_DIR"] = str(REPO.parent / "shared" / "data")
OUT = REPO / "tests" / "histfactory" / "reference" / "belle2_knunu_stock_pyhf.json"
TOLERANCE = 1e-3


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    import numpy as np
    import pyhf

    path = Path(os.environ["XFIT_DATA_DIR"]) / "belle2_knunu" / "combined_likelihood.json"
    raw = path.read_bytes()
    spec = json.loads(raw)
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0, tolerance=TOLERANCE))
    ws = pyhf.Workspace(spec)
    model = ws.model()
    data = ws.data(model)
    t0 = time.perf_counter()
    pars, twice_nll = pyhf.infer.mle.fit(data, model, return_uncertainties=True, return_fitted_val=True)
    seconds = time.perf_counter() - t0
    i = model.config.poi_index
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0))
    _, f0 = pyhf.infer.mle.fixed_poi_fit(0.0, data, model, return_fitted_val=True)
    _, f1 = pyhf.infer.mle.fixed_poi_fit(1.0, data, model, return_fitted_val=True)
    out = {
        "what": "stock pyhf fit of the Belle II B+ -> K+ nu nubar combined workspace (arXiv:2311.14647)",
        "workspace_file": "belle2_knunu/combined_likelihood.json",
        "workspace_sha256": hashlib.sha256(raw).hexdigest(),
        "pyhf_version": pyhf.__version__,
        "numpy_version": np.__version__,
        "optimizer": f"pyhf numpy backend, minuit_optimizer(tolerance={TOLERANCE}) for the free fit, "
                     "default tolerance for the fixed-mu fits",
        "poi": model.config.poi_name,
        "mu": float(pars[i, 0]),
        "mu_err": float(pars[i, 1]),
        "twice_nll": float(twice_nll),
        "twice_nll_mu0": float(f0),
        "twice_nll_mu1": float(f1),
        "free_fit_seconds": round(seconds, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
