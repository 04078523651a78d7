"""Profile-likelihood scans, executors and resumable result files (xfit.inference.scan,
.executors, .store)."""
import concurrent.futures as cf
import json
import time

import numpy as np
import pytest

from xfit.errors import InputError
from xfit.inference.executors import (
    DaskExecutor,
    SerialExecutor,
    dask_available,
    get_executor,
    is_dask_client,
    iter_seeds,
    run_chunks,
)
from xfit.inference.fit import Fit, delta_chi2_for_sigma
from xfit.inference.scan import Axis, ScanResult, profile_scan, snake_order
from xfit.inference.store import ResultStore
from xfit.likelihood import CombinedLikelihood, build_likelihood
from xfit.models import ChiralPlane, EFTPlane, get_model
from xfit.plots.profile_scan import plot_profile_scan

MX = 2.1
TERMS = ("b_to_s_emiss", "l3_z_gamma")


@pytest.fixture(scope="module")
def lik():
    return build_likelihood(TERMS)


class CountingLikelihood(CombinedLikelihood):
    """Counts chi2 calls (to check that a grid is evaluated in one vectorised call)."""

    def __init__(self, terms):
        super().__init__(terms)
        self.calls = 0

    def chi2(self, predictions):
        self.calls += 1
        return super().chi2(predictions)


def small_profile(lik, **kw):
    """A cheap profiled 1D scan: g_X A_YY with g_X A_WW profiled."""
    return profile_scan(EFTPlane(), lik, {"gX_AYY": np.linspace(-0.2, 0.2, 13)}, mX=MX,
                        start=[{"gX_AWW": 0.032}, {"gX_AWW": -0.032}], chunk_size=4, progress=False, **kw)


@pytest.fixture(scope="module")
def serial_scan(lik):
    """:func:`small_profile` run serially, once for this module: the reference of the executor
    and resume tests (read only)."""
    return small_profile(lik, executor="serial")


# --- vectorised grids ----------------------------------------------------------------------

def test_fig2_plane_is_one_vectorised_call_and_fast(lik):
    counting = CountingLikelihood(lik.terms)
    x, y = np.linspace(-0.03, 0.03, 200), np.linspace(-0.12, 0.12, 200)
    t0 = time.perf_counter()
    res = profile_scan(EFTPlane(), counting, {"gX_AWW": x, "gX_AYY": y}, mX=MX, progress=False)
    elapsed = time.perf_counter() - t0
    assert counting.calls == 1
    assert res.chi2.shape == (200, 200) and not res.profiled
    X, Y = np.meshgrid(x, y, indexing="ij")
    direct = lik.chi2(EFTPlane().predict(MX, gX_AWW=X, gX_AYY=Y))
    np.testing.assert_array_equal(res.chi2, direct)
    assert res.chi2_ref == pytest.approx(direct.min())
    assert elapsed < 10.0


def test_mass_axis_vectorised(lik):
    model = get_model("tau-flavor")
    m, g = np.linspace(2.0, 2.2, 5), np.linspace(0.0, 0.03, 7)
    res = profile_scan(model, lik, {"mX": m, "gX": g}, progress=False)
    M, G = np.meshgrid(m, g, indexing="ij")
    np.testing.assert_allclose(res.chi2, lik.chi2(model.predict(M, gX=G)), rtol=0, atol=0)
    assert res.labels["mX"] == r"$m_X$ [GeV]"


def test_contour_levels_match_delta_chi2_for_sigma(lik):
    res1 = profile_scan(get_model("tau-flavor"), lik, {"gX": np.linspace(0, 0.03, 31)}, mX=MX, progress=False)
    assert res1.dof == 1
    assert res1.levels() == {s: delta_chi2_for_sigma(s, 1) for s in (1, 2, 3)}
    assert [round(v, 2) for v in res1.levels().values()] == [1.0, 4.0, 9.0]
    res2 = profile_scan(ChiralPlane(), lik, {"gX_alphaL": np.linspace(-0.03, 0.03, 9),
                                            "gX_alphaR": np.linspace(-0.08, 0.08, 9)}, mX=MX, progress=False)
    assert [round(v, 2) for v in res2.levels().values()] == [2.30, 6.18, 11.83]


def test_1d_intervals_of_tau_model(lik):
    g = np.linspace(0.0, 0.03, 301)
    res = profile_scan(get_model("tau-flavor"), lik, {"gX": g}, mX=MX, progress=False)
    (lo, hi), = res.intervals()[1]
    best = res.best()["gX"]
    assert lo < best < hi
    # the interval ends are where Delta chi2 = 1
    model = get_model("tau-flavor")
    for end in (lo, hi):
        d = float(lik.chi2(model.predict(MX, gX=end))) - res.chi2_ref
        assert d == pytest.approx(1.0, abs=0.02)


# --- profiling ---------------------------------------------------------------------------

def test_profile_matches_independent_fits(lik, serial_scan):
    res = serial_scan
    assert res.profiled.keys() == {"gX_AWW"} and res.valid.all()
    for i in (0, 6, 12):
        y = res.axes[0].values[i]
        best = min((Fit(EFTPlane(), lik, MX, start={"gX_AWW": s}, fixed={"gX_AYY": y}).run()
                    for s in (0.032, -0.032)), key=lambda r: r.chi2_min)
        assert res.chi2[i] == pytest.approx(best.chi2_min, abs=1e-6)
        assert abs(res.profiled["gX_AWW"][i]) == pytest.approx(abs(best.values["gX_AWW"]), rel=1e-3)


def test_profile_with_mass_axis(lik):
    res = profile_scan(EFTPlane(), lik, {"mX": [2.05, 2.1, 2.15], "gX_AYY": [-0.05, 0.0, 0.05]},
                       start=[{"gX_AWW": 0.016}, {"gX_AWW": -0.016}], progress=False, executor="serial")
    assert res.chi2.shape == (3, 3) and res.valid.all()
    fit = Fit(EFTPlane(), lik, 2.15, start={"gX_AWW": 0.016}, fixed={"gX_AYY": 0.05}).run()
    assert res.chi2[2, 2] == pytest.approx(fit.chi2_min, abs=1e-6)


def test_derived_quantity_scan_by_penalty(lik):
    model = get_model("tau-flavor")
    targets = np.geomspace(1e-8, 2e-6, 9)
    res = profile_scan(model, lik, {"BR(Z->gammaX)": targets}, mX=MX, start={"gX": 0.018},
                       progress=False, executor="serial")
    assert res.axes[0].spacing == "log"
    np.testing.assert_allclose(res.derived_achieved, targets, rtol=1e-3)
    # one parameter, BR ~ g^2: the constraint fixes g exactly; compare chi2 there
    br1 = float(model.predict(MX, gX=1.0)["BR(Z->gammaX)"])
    g_exact = np.sqrt(targets / br1)
    np.testing.assert_allclose(res.profiled["gX"], g_exact, rtol=1e-3)
    np.testing.assert_allclose(res.chi2, lik.chi2(model.predict(MX, gX=g_exact)), rtol=1e-3, atol=1e-3)
    assert res.valid.all()


def test_bad_axes_are_rejected(lik):
    model = get_model("tau-flavor")
    with pytest.raises(InputError, match="unknown scan axis 'gY'"):
        profile_scan(model, lik, {"gY": [0, 1]}, mX=MX)
    with pytest.raises(InputError, match="give mX"):
        profile_scan(model, lik, {"gX": [0, 0.01]})
    with pytest.raises(InputError, match="both scanned and fixed"):
        profile_scan(EFTPlane(), lik, {"gX_AWW": [0, 0.01]}, mX=MX, fixed={"gX_AWW": 0.0})
    with pytest.raises(InputError, match="1 or 2 axes"):
        profile_scan(EFTPlane(), lik, {"mX": [1, 2], "gX_AWW": [0, 1], "gX_AYY": [0, 1]})
    with pytest.raises(InputError, match="at least 2 values"):
        Axis("gX", [0.1])


def test_snake_order_visits_neighbours():
    order = snake_order((3, 4))
    rows, cols = np.unravel_index(order, (3, 4))
    steps = np.abs(np.diff(rows)) + np.abs(np.diff(cols))
    assert sorted(order) == list(range(12)) and (steps == 1).all()


# --- saving and plotting -------------------------------------------------------------------

def test_save_load_and_plot(lik, tmp_path):
    res = small_profile(lik, executor="serial", seed=7)
    files = res.save(tmp_path, "prof") + plot_profile_scan(res, tmp_path, "prof")
    assert sorted(p.name for p in files) == ["prof.json", "prof.npz", "prof.pdf", "prof.png"]
    assert all(p.stat().st_size > 0 for p in files)
    meta = json.loads((tmp_path / "prof.json").read_text())
    m = meta["metadata"]
    assert m["likelihood_terms"] == list(TERMS)
    assert m["model"]["name"] == "eft-plane" and m["seed"] == 7 and m["mX"] == MX
    assert {"xfit", "numpy", "iminuit"} <= set(m["versions"])
    assert m["timestamp_utc"].endswith("+00:00")
    assert m["grid"]["axes"][0]["name"] == "gX_AYY" and m["grid"]["shape"] == [13]
    back = ScanResult.load(tmp_path / "prof.npz")
    np.testing.assert_array_equal(back.chi2, res.chi2)
    np.testing.assert_array_equal(back.profiled["gX_AWW"], res.profiled["gX_AWW"])
    assert back.names == res.names and back.chi2_ref == res.chi2_ref
    res2 = profile_scan(ChiralPlane(), lik, {"gX_alphaL": np.linspace(-0.03, 0.03, 15),
                                            "gX_alphaR": np.linspace(-0.08, 0.08, 15)}, mX=MX, progress=False)
    assert [p.suffix for p in plot_profile_scan(res2, tmp_path, "plane", formats=("png", "svg"))] == [".png", ".svg"]


# --- resumability and executors ------------------------------------------------------------

class Stop(Exception):
    pass


def test_interrupted_scan_resumes_to_identical_result(lik, tmp_path, serial_scan):
    reference = serial_scan
    store = tmp_path / "scan.jsonl"
    seen = []

    def die_after_two(i, res):
        seen.append(i)
        if len(seen) == 2:
            raise Stop

    with pytest.raises(Stop):
        small_profile(lik, executor="serial", store=store, callback=die_after_two)
    lines = store.read_text().splitlines()
    assert len(lines) == 1 + 2  # header + 2 chunks written before the "crash"
    rerun = []
    resumed = small_profile(lik, executor="serial", store=store, callback=lambda i, r: rerun.append(i))
    assert sorted(rerun) == [i for i in range(4) if i not in seen]  # only the missing chunks ran
    np.testing.assert_array_equal(resumed.chi2, reference.chi2)
    np.testing.assert_array_equal(resumed.profiled["gX_AWW"], reference.profiled["gX_AWW"])
    np.testing.assert_array_equal(resumed.valid, reference.valid)
    # a complete store: nothing runs, same arrays again
    again = small_profile(lik, executor="serial", store=store, callback=lambda i, r: rerun.append(("x", i)))
    assert not any(isinstance(x, tuple) for x in rerun)
    np.testing.assert_array_equal(again.chi2, reference.chi2)


def test_store_rejects_other_computation_and_drops_truncated_line(lik, tmp_path):
    store = tmp_path / "s.jsonl"
    small_profile(lik, executor="serial", store=store)
    with pytest.raises(InputError, match="different computation"):
        small_profile(lik, executor="serial", store=store, seed=99)
    restarted = small_profile(lik, executor="serial", store=store, seed=99, on_mismatch="restart")
    assert restarted.valid.all()
    with open(store, "a") as fh:  # a process killed while writing
        fh.write('{"type": "chunk", "index": 3, "res')
    st = ResultStore(store, json.loads(store.read_text().splitlines()[0])["definition"])
    assert len(st) == 4


def test_process_pool_gives_identical_result(lik, serial_scan):
    serial = serial_scan
    procs = small_profile(lik, executor="process")
    np.testing.assert_array_equal(procs.chi2, serial.chi2)
    np.testing.assert_array_equal(procs.profiled["gX_AWW"], serial.profiled["gX_AWW"])
    with cf.ThreadPoolExecutor(2) as pool:
        threads = small_profile(lik, executor=pool)
    np.testing.assert_array_equal(threads.chi2, serial.chi2)


def test_seeds_are_reproducible():
    assert iter_seeds(1, 4) == iter_seeds(1, 4)
    assert iter_seeds(1, 4) != iter_seeds(2, 4)
    assert iter_seeds(1, 4)[:2] == iter_seeds(1, 2)


def test_run_chunks_reports_progress_off_a_terminal_and_is_silenced_by_progress_false(monkeypatch, capsys):
    from xfit.inference import progress as progress_mod

    clock = iter(range(0, 1000, 5))  # every call 5 s later: past the 2 s of a short run
    monkeypatch.setattr(progress_mod.time, "monotonic", lambda: float(next(clock)))
    assert run_chunks(abs, [-1, -2, -3], executor="serial", desc="demo") == [1, 2, 3]
    err = capsys.readouterr().err
    assert "xfit demo: 3/3 chunks (100%)" in err
    assert run_chunks(abs, [-1, -2], executor="serial", desc="demo", progress=False) == [1, 2]
    assert capsys.readouterr().err == ""


def test_unknown_executor():
    with pytest.raises(InputError, match="unknown executor 'threads'"):
        get_executor("threads")
    with get_executor("serial") as ex:
        assert isinstance(ex, SerialExecutor) and list(ex.map(abs, [-1, 2])) == [1, 2]


# --- Dask ----------------------------------------------------------------------------------

class FakeDaskFuture:
    """The parts of distributed.Future that DaskExecutor uses."""

    def __init__(self, fn, args, kwargs):
        self.key = f"fake-{id(self)}"
        try:
            self._value, self._exc = fn(*args, **kwargs), None
        except Exception as exc:  # noqa: BLE001
            self._value, self._exc = None, exc

    def result(self):
        if self._exc is not None:
            raise self._exc
        return self._value

    def done(self):
        return True

    def add_done_callback(self, fn):
        fn(self)


class FakeDaskClient:
    """An object exposing the Dask Client API (submit/map/gather/scheduler_info/cancel)."""

    def __init__(self):
        self.submitted, self.pure_flags = 0, []

    def submit(self, fn, *args, pure=True, key=None, **kwargs):
        self.submitted += 1
        self.pure_flags.append(pure)
        return FakeDaskFuture(fn, args, kwargs)

    def map(self, fn, *iterables, pure=True, **kw):
        self.pure_flags.append(pure)
        return [FakeDaskFuture(fn, a, {}) for a in zip(*iterables)]

    def gather(self, futures):
        return [f.result() for f in futures]

    def scheduler_info(self):
        return {"workers": {"fake-worker-0": {}}}

    def cancel(self, futures):
        pass


def test_dask_adapter_with_a_fake_client(lik, serial_scan):
    client = FakeDaskClient()
    assert is_dask_client(client) and not is_dask_client(SerialExecutor())
    with get_executor(client) as ex:
        assert isinstance(ex, DaskExecutor) and ex.n_workers == 1
        assert list(ex.map(abs, [-3, 4])) == [3, 4]
        fut = ex.submit(divmod, 7, 2)
        assert isinstance(fut, cf.Future) and fut.result() == (3, 1)
        bad = ex.submit(divmod, 1, 0)
        with pytest.raises(ZeroDivisionError):
            bad.result()
    serial = serial_scan
    client2 = FakeDaskClient()
    res = small_profile(lik, executor=client2)
    assert client2.submitted == 4  # one task per chunk
    assert set(client2.pure_flags) == {False}  # chunks are never deduplicated by hashing
    np.testing.assert_array_equal(res.chi2, serial.chi2)
    # run_chunks returns results in task order whatever the completion order
    assert run_chunks(abs, [-1, -2, -3], FakeDaskClient(), progress=False) == [1, 2, 3]


def test_dask_backend_real_cluster_or_clear_error(lik):
    """With `distributed` installed: a scan on a local in-process cluster equals the serial
    scan.  Without it (CI): asking for Dask is an InputError that says how to install it."""
    if dask_available():
        from distributed import Client, LocalCluster

        serial = small_profile(lik, executor="serial")
        with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
            assert is_dask_client(client)
            res = small_profile(lik, executor=client)
        np.testing.assert_array_equal(res.chi2, serial.chi2)
    else:
        with pytest.raises(InputError, match=r"pip install 'xfit\[dask\]'"):
            get_executor("dask")
        with pytest.raises(InputError, match="distributed"):
            small_profile(lik, executor="dask")


@pytest.mark.parametrize("spec", [{"name": "tau-flavor"}, {"plane": "eft"}, {"plane": "chiral"},
                                  {"name": "baryon", "br_invisible": 0.3}])
def test_likelihood_predictions_give_the_chi2_of_every_prediction(spec):
    """Scans and limits compute only what the likelihood reads (likelihood_predictions): the
    chi2 of every registered term (Belle II's profile fit aside: tests/inference/test_limits_vs_mass)
    equals, bit for bit, its chi2 of the full model.predict."""
    from xfit.errors import DataError
    from xfit.inference.scan import likelihood_predictions
    from xfit.likelihood.registry import _factories, get_term
    from xfit.models import build_model

    model = build_model(spec)
    mX = np.array([0.1, 0.5, 2.1, 4.0, 50.0])
    params = {p: np.array([1e-3, 0.01, 0.03, 0.02, 0.005]) for p in model.parameters}
    for name in sorted(set(_factories()) - {"belle2_knunu"}):
        try:
            lik = CombinedLikelihood([get_term(name)])
        except DataError:  # a recast limit not yet verified
            lik = CombinedLikelihood([get_term(name, allow_unverified=True)])
        part = likelihood_predictions(model, lik, mX, params)
        assert set(part) == {"mX", *lik.observables}, name
        assert np.array_equal(np.asarray(lik.chi2(part)), np.asarray(lik.chi2(model.predict(mX, **params))),
                              equal_nan=True), name
