"""Shared test set-up.

* XFIT_DATA_DIR: where the Belle II public files are.  CI sets it (.ci/run) to
  ../shared/data; when unset, the tests use <repo>/../shared/data if it exists.  Tests that
  need the files fail (never skip) when they are missing.
* matplotlib draws off-screen.
"""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
_shared = REPO.parent / "shared" / "data"
if not os.environ.get("XFIT_DATA_DIR") and _shared.is_dir():
    os.environ["XFIT_DATA_DIR"] = str(_shared)
