"""Shared test set-up.

* XFIT_DATA_DIR: where the external data are (the Belle II public files, the ALPaca
  digitisations used as cross-checks).  CI sets it (.ci/run) to the shared data folder beside
  the clone; tests read the data only through it and fail (never skip) when it is unset or the
  files are missing.
* matplotlib draws off-screen.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
