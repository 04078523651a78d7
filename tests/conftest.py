"""Shared test set-up.

* XFIT_DATA_DIR: where the external data are (the Belle II public files, the ALPaca
  digitisations used as cross-checks).  CI sets it (.ci/run) to the shared data folder beside
  the clone; tests read the data only through it and fail (never skip) when it is unset or the
  files are missing.
* matplotlib draws off-screen.
"""
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]

#: Fig. 3 in the tests: masses 1 MeV ... 10 GeV (geometric: 1e-3, 1e-2, 0.1, 1, 10 GeV -- the K, D
#: and B windows and above), its Fig. 1 on 6 masses (the full 260: tests/analysis/test_run_yaml.py).
SMALL_FIG3_MASSES = 5
SMALL_FIG1_MASSES = (1e-3, 0.26, 6)


@pytest.fixture(scope="session")
def small_fig3(tmp_path_factory):
    """``fig3.reproduce`` on :data:`SMALL_FIG3_MASSES` masses (serial), computed once per session:
    ``.out`` (its folder), ``.summary``, ``.n_masses``, ``.fig1_masses`` (Fig. 1's grid).  Tests that need the same limits again copy its ``chunks/`` folder into
    their output folder, and fig3.reproduce resumes them instead of recomputing."""
    from xfit.reproduce import fig3

    out = tmp_path_factory.mktemp("fig3")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fig3, "FIG1_MASSES", SMALL_FIG1_MASSES)
        summary = fig3.reproduce(out, n_masses=SMALL_FIG3_MASSES, executor="serial", progress=False)
    return SimpleNamespace(out=out, summary=summary, n_masses=SMALL_FIG3_MASSES, fig1_masses=SMALL_FIG1_MASSES)
