"""Shared test set-up.

* XFIT_DATA_DIR: where the external data are (the Belle II public files, the ALPaca
  digitisations used as cross-checks).  CI sets it (.ci/run) to the shared data folder beside
  the clone; tests read the data only through it and fail (never skip) when it is unset or the
  files are missing.  A relative XFIT_DATA_DIR (the README's ``XFIT_DATA_DIR=../shared/data``)
  is made absolute here, against the folder pytest was started in: tests that change the
  working folder or start commands in another one must find the same data.
* matplotlib draws off-screen.
* BLAS runs one thread, here and in every process a test starts (set before numpy loads): the
  suite's matrices are small, and idle OpenBLAS threads spin, which cost the suite ~10% of its CPU.
"""
import os
from pathlib import Path
from types import SimpleNamespace

from xfit.inference.workers import single_threaded_blas

# before numpy loads (unless a pytest plugin loaded it first: then the processes the tests start
# still get one thread, and this one too if threadpoolctl is installed)
single_threaded_blas()

import matplotlib  # noqa: E402 -- after the BLAS threads are set
import pytest  # noqa: E402

matplotlib.use("Agg")

if os.environ.get("XFIT_DATA_DIR"):
    os.environ["XFIT_DATA_DIR"] = os.path.abspath(os.environ["XFIT_DATA_DIR"])

REPO = Path(__file__).resolve().parents[1]

#: Fig. 3 in the tests: masses 1 MeV ... 10 GeV (geometric: 1e-3, 1e-2, 0.1, 1, 10 GeV -- the K, D
#: and B windows and above), its Fig. 1 on 6 masses (the full 260: tests/analysis/test_run_yaml.py).
SMALL_FIG3_MASSES = 5
SMALL_FIG1_MASSES = (1e-3, 0.26, 6)


@pytest.fixture(scope="session")
def small_fig3(tmp_path_factory):
    """``xfit reproduce fig3 --hepdata HD --json`` with ``fig3.reproduce`` on :data:`SMALL_FIG3_MASSES`
    masses (serial), computed once per session: ``.out`` (its folder), ``.summary`` (the JSON
    printed), ``.hepdata`` (HD), ``.n_masses``, ``.fig1_masses`` (Fig. 1's grid).  Tests that need
    the same limits again copy its ``chunks/`` folder into their output folder, and
    fig3.reproduce resumes them instead of recomputing."""
    import contextlib
    import functools
    import io
    import json

    from xfit.cli import main
    from xfit.reproduce import fig3

    out = tmp_path_factory.mktemp("fig3")
    hepdata = tmp_path_factory.mktemp("fig3_hepdata")
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
        mp.setattr(fig3, "FIG1_MASSES", SMALL_FIG1_MASSES)
        mp.setattr(fig3, "reproduce", functools.partial(fig3.reproduce, n_masses=SMALL_FIG3_MASSES,
                                                        executor="serial", progress=False))
        assert main(["reproduce", "fig3", "--out", str(out), "--hepdata", str(hepdata), "--json"]) == 0
    return SimpleNamespace(out=out, summary=json.loads(stdout.getvalue()), hepdata=hepdata,
                           n_masses=SMALL_FIG3_MASSES, fig1_masses=SMALL_FIG1_MASSES)


@pytest.fixture(scope="session")
def belle2_fit_sm_json():
    """What ``xfit belle2 fit-sm --json`` prints (parsed; the pinned Belle II files, no opt-in to
    modified data), run once per session for the tests of its numbers and of its inputs block."""
    import contextlib
    import io
    import json

    from xfit import datasets
    from xfit.cli import main

    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
        mp.delenv(datasets.ALLOW_ENV, raising=False)
        assert main(["belle2", "fit-sm", "--json"]) == 0
    return json.loads(stdout.getvalue())


def pytest_collection_finish(session):
    """Move everything imported and collected so far (numpy, scipy, pyhf, matplotlib, the test
    modules) out of the garbage collector's reach: it lives for the whole run, and the
    collector would otherwise traverse it again in every full collection (~1 s of the run's
    CPU and ~0.5 s at pytest's exit)."""
    import gc

    gc.freeze()
