"""Regenerate tests/belle2/reference/stock_pyhf_export_refit.json: stock pyhf fits the workspace
that ``xfit belle2 export-pyhf --mX 2.1`` writes (SM + B+ -> K+ X at 2.1 GeV, SM signal fixed).

A full stock fit of the 233-parameter model takes tens of seconds, too slow for every test
run; ``tests/belle2/test_export.py`` compares xfit's fit with this file and keeps a cheap live
check (pyhf's logpdf at xfit's best fit).  Run after changing the export or the signal model:

    XFIT_DATA_DIR=../shared/data python benchmarks/stock_pyhf_export_refit.py
"""
from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path

import pyhf

from xfit.belle2 import export

OUT = Path(__file__).resolve().parents[1] / "tests" / "belle2" / "reference" / "stock_pyhf_export_refit.json"
MX = 2.1


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        paths = export.export_pyhf(d, MX, masses=[MX])
        ws = pyhf.Workspace(json.loads(paths["workspace"].read_text()))
    model = ws.model()
    data = ws.data(model)
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0, tolerance=1e-3))
    t0 = time.process_time()
    pars, twice_nll = pyhf.infer.mle.fit(data, model, return_fitted_val=True)
    cpu = time.process_time() - t0
    i = model.config.poi_index
    ref = {"what": f"stock pyhf fit of the exported SM + X workspace at mX = {MX} GeV (POI mu_X, unit "
                   f"{export.EXPORT_UNIT:g} of B(B+ -> K+ X) x P_inv; SM signal fixed at mu = 1)",
           "mX": MX, "mu_X_hat": float(pars[i]), "twice_nll": float(twice_nll),
           "optimizer": "minuit, tolerance 1e-3, default initial values",
           "pyhf_version": pyhf.__version__, "python": platform.python_version(), "cpu_seconds": round(cpu, 2)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(ref, indent=1) + "\n")
    print(json.dumps(ref, indent=1))


if __name__ == "__main__":
    main()
