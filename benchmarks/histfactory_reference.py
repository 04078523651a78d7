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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if not os.environ.get("XFIT_DATA_DIR") and (REPO.parent / "shared" / "data").is_dir():
    os.environ["XFIT_DATA_DIR"] = str(REPO.parent / "shared" / "data")
sys.path.insert(0, str(REPO))
OUT = REPO / "tests" / "histfactory" / "reference" / "belle2_knunu_stock_pyhf.json"
TOLERANCE = 1e-3


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    import numpy as np
    import pyhf

    from xfit.belle2.fit import stock_pyhf_fit  # the one stock-pyhf fit of the workspace

    path = Path(os.environ["XFIT_DATA_DIR"]) / "belle2_knunu" / "combined_likelihood.json"
    raw = path.read_bytes()
    fit = stock_pyhf_fit(json.loads(raw), tolerance=TOLERANCE)
    out = {
        "what": "stock pyhf fit of the Belle II B+ -> K+ nu nubar combined workspace (arXiv:2311.14647)",
        "workspace_file": "belle2_knunu/combined_likelihood.json",
        "workspace_sha256": hashlib.sha256(raw).hexdigest(),
        "pyhf_version": pyhf.__version__,
        "numpy_version": np.__version__,
        "optimizer": f"pyhf numpy backend, minuit_optimizer(tolerance={TOLERANCE}) for the free fit, "
                     "default tolerance for the fixed-mu fits",
        **{k: fit[k] for k in ("poi", "mu", "mu_err", "twice_nll", "twice_nll_mu0", "twice_nll_mu1")},
        "free_fit_seconds": round(fit["fit_seconds"], 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
