"""Review fixes of xfit.inference and xfit.belle2: corrupt resume files, input checks,
flat directions, shared helpers."""
import json
import shutil

import h5py
import numpy as np
import pytest

from xfit.errors import ConvergenceError, DataError, InputError
from xfit.inference.fit import Fit
from xfit.inference.limits import coupling_limit
from xfit.inference.mcmc import sample
from xfit.inference.priors import PriorSet, Uniform
from xfit.inference.scan import Axis, profile_scan
from xfit.inference.store import ResultStore
from xfit.likelihood import build_likelihood
from xfit.models import EFTPlane, get_model

MX = 2.1
TERMS = ("b_to_s_emiss", "l3_z_gamma")


@pytest.fixture(scope="module")
def lik():
    return build_likelihood(TERMS)


def small_profile(lik, **kw):
    return profile_scan(EFTPlane(), lik, {"gX_AYY": np.linspace(-0.2, 0.2, 13)}, mX=MX,
                        start=[{"gX_AWW": 0.016}, {"gX_AWW": -0.016}], chunk_size=4, progress=False,
                        executor="serial", **kw)


# --- 1. ResultStore resume -----------------------------------------------------------------

@pytest.fixture(scope="module")
def written_store(lik, tmp_path_factory):
    """The store of one complete :func:`small_profile` (computed once for this module)."""
    store = tmp_path_factory.mktemp("store") / "scan.jsonl"
    small_profile(lik, store=store)
    return store


@pytest.fixture
def store(written_store, tmp_path):
    """A fresh copy of :func:`written_store` in this test's folder, as ``small_profile`` writes it."""
    path = tmp_path / "scan.jsonl"
    shutil.copyfile(written_store, path)
    return path


def _rewrite(path, fn):
    lines = path.read_text().splitlines()
    recs = [json.loads(line) for line in lines]
    fn(recs)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))


def test_store_chunk_with_truncated_chi2_is_data_error(lik, store):

    def cut(recs):
        recs[2]["result"]["chi2"] = recs[2]["result"]["chi2"][:1]

    _rewrite(store, cut)
    with pytest.raises(DataError, match=r"scan\.jsonl.*chi2.*delete it or pass overwrite=True"):
        small_profile(lik, store=store)
    assert small_profile(lik, store=store, overwrite=True).valid.all()


@pytest.mark.parametrize("mangle, message", [
    (lambda recs: recs.__setitem__(0, [1]), "header"),
    (lambda recs: recs.__setitem__(0, None), "header"),
    (lambda recs: recs[1].pop("index"), "integer index"),
    (lambda recs: recs[1].__setitem__("index", "0"), "integer index"),
    (lambda recs: recs[1].__setitem__("index", 99), "index 99"),
    (lambda recs: recs[1].__setitem__("result", [1, 2]), "result mapping"),
    (lambda recs: recs[1]["result"]["profiled"].__setitem__("gX_AWW", [0.0]), "profiled.gX_AWW"),
])
def test_store_corrupt_records_are_data_errors(lik, store, mangle, message):
    _rewrite(store, mangle)
    with pytest.raises(DataError, match=message):
        small_profile(lik, store=store)


def test_store_non_utf8_is_data_error(store):
    with open(store, "ab") as fh:
        fh.write(b'{"type": "chunk", "index": 0, "result": {"chi2": "\xff\xfe"}}\n')
    header = json.loads(store.read_bytes().splitlines()[0])
    with pytest.raises(DataError, match="not UTF-8.*delete it"):
        ResultStore(store, header["definition"])


# --- 3. MCMC chain file --------------------------------------------------------------------

def test_chain_iteration_beyond_stored_rows_is_data_error(tmp_path):
    priors = PriorSet({"a": Uniform(-5, 5), "b": Uniform(-5, 5)})
    def lnl(t):
        return -0.5 * np.sum(t ** 2, axis=1)
    path = tmp_path / "c.h5"
    sample(lnl, priors, 8, 10, seed=1, chain_file=path)
    with h5py.File(path, "a") as f:
        f["mcmc"].attrs["iteration"] = 1000
    with pytest.raises(DataError, match=r"c\.h5.*iteration 1000.*--overwrite"):
        sample(lnl, priors, 8, 20, seed=1, chain_file=path)
    assert not sample(lnl, priors, 8, 5, seed=1, chain_file=path, overwrite=True).resumed


# --- 4. scan axes and options --------------------------------------------------------------

@pytest.mark.parametrize("values", [[0.1, 0.0, 0.2], [0.0, 0.0, 1.0], [3.0, 2.0, 1.0]])
def test_axis_must_increase(values):
    with pytest.raises(InputError, match="'gX_AYY' must have strictly increasing values"):
        Axis("gX_AYY", values)


@pytest.mark.parametrize("kw, message", [
    ({"penalty_width": 0.0}, "penalty_width"),
    ({"penalty_width": -1e-3}, "penalty_width"),
    ({"penalty_width": float("nan")}, "penalty_width"),
    ({"n_random_restarts": -1}, "n_random_restarts must be an integer >= 0"),
    ({"n_random_restarts": 1.5}, "n_random_restarts"),
])
def test_profile_scan_option_checks(lik, kw, message):
    with pytest.raises(InputError, match=message):
        small_profile(lik, **kw)


# --- 5. Fit inputs and flat directions -----------------------------------------------------

@pytest.mark.parametrize("kw, message", [
    ({"limits": {"gX_AWW": (0.1, 0.0)}}, "lower < upper"),
    ({"limits": {"gX_AWW": (0.1, 0.1)}}, "lower < upper"),
    ({"limits": {"gX": (0.0, 1.0)}}, "unknown limits parameter.*accepts gX_AWW, gX_AYY"),
    ({"fixed": {"gY": 0.0}}, "unknown fixed parameter.*accepts gX_AWW, gX_AYY"),
    ({"start": {"gZ": 0.0}}, "unknown start parameter.*accepts"),
    ({"limits": {"gX_AWW": 5}}, "pair"),
    ({"fixed": {"gX_AWW": "a"}}, "fixed value of 'gX_AWW'"),
    ({"start": {"gX_AWW": float("nan")}}, "start value of 'gX_AWW'"),  # was accepted, failed in run()
    ({"start": {"gX_AWW": "a"}}, "start value of 'gX_AWW'"),
])
def test_fit_input_checks(lik, kw, message):
    with pytest.raises(InputError, match=message):
        Fit(EFTPlane(), lik, MX, **kw)


@pytest.mark.parametrize("mX", ["heavy", None, float("nan"), -1.0, True])
def test_fit_mass_must_be_a_number(lik, mX):
    with pytest.raises(InputError, match="mX"):
        Fit(EFTPlane(), lik, mX)


def test_fit_names_the_parameter_the_likelihood_ignores():
    """b -> s + missing energy sees g_X A_WW (the W loop) but not g_X A_YY."""
    fit = Fit(EFTPlane(), build_likelihood("b_to_s_emiss"), MX)
    with pytest.raises(ConvergenceError,
                       match=r"does not depend on gX_AYY .*; fix it or add a term that constrains it"):
        fit.run()
    fixed = Fit(EFTPlane(), build_likelihood("b_to_s_emiss"), MX, fixed={"gX_AYY": 0.0}).run()
    assert fixed.ndof == 1


def test_fit_all_flat_keeps_the_general_message():
    from xfit.reproduce import fig2

    with pytest.raises(ConvergenceError, match="does not depend on the parameters"):
        Fit(get_model("baryon"), build_likelihood(fig2.TERMS_FULL), 2.1).run()


# --- 6. coupling_limit options -------------------------------------------------------------

@pytest.mark.parametrize("kw, message", [
    ({"cl": 1.0}, "cl .*between 0 and 1"),
    ({"cl": 0.0}, "cl .*between 0 and 1"),
    ({"cl": 90}, "cl .*between 0 and 1"),
    ({"cl": "high"}, "cl must be a finite number"),
    ({"g_max": float("inf")}, "g_max must be a finite number"),
    ({"g_max": -1.0}, "0 < g_min < g_max"),
    ({"points_per_decade": 0}, "points_per_decade must be an integer >= 1"),
    ({"points_per_decade": 2.5}, "points_per_decade"),
])
def test_coupling_limit_option_checks(kw, message):
    with pytest.raises(InputError, match=message):
        coupling_limit(get_model("tau-flavor"), build_likelihood("l3_z_gamma"), [1.0, 2.0], progress=False, **kw)


# --- 7. Belle II scan mass range, constants ------------------------------------------------

def test_belle2_cli_scan_beyond_efficiency_is_refused_before_fitting(tmp_path, capsys, monkeypatch):
    from xfit.belle2 import scan, signal
    from xfit.cli import main

    def no_fit(*a, **k):
        raise AssertionError("fitted although every mass has zero efficiency")

    monkeypatch.setattr(scan, "Scanner", no_fit)
    rc = main(["belle2", "scan", "--mX-min", "4.68", "--mX-max", "4.75", "--n-masses", "3",
               "--out", str(tmp_path / "s"), "--no-plots"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "MX_NO_EFFICIENCY" in err and f"{signal.MX_NO_EFFICIENCY:.4f}" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(InputError, match="MX_NO_EFFICIENCY"):
        scan.run_scan([4.7, 4.75])


def test_belle2_significance_helper():
    from xfit.inference.test_statistics import q0, significance

    assert q0(10.0, 8.0) == 4.0 and q0(8.0, 8.0 + 1e-12) == 0.0
    assert significance(q0(10.0, 8.0)) == 2.0


def test_belle2_term_mass_range_is_the_signal_constant():
    from xfit.belle2 import signal
    from xfit.likelihood import _REGISTRY

    build_likelihood("belle2_knunu")  # registers the term
    assert _REGISTRY["belle2_knunu"].mass_range[1] == signal.MX_NO_EFFICIENCY


# --- 8. Belle II term: one model per process -----------------------------------------------

def test_belle2_term_copies_share_the_model_and_agree():
    import pickle

    from xfit.belle2 import signal

    lik = build_likelihood("belle2_knunu")
    term = lik.terms[0]
    a, b = pickle.loads(pickle.dumps(term)), pickle.loads(pickle.dumps(term))
    ca = a.chi2_point(2.1, 8.6e-6)
    assert b.chi2_point(1.0, 1e-5) > -20  # moves the shared model to another mass
    assert a._kx is b._kx  # built once
    assert a.chi2_point(2.1, 8.6e-6) == pytest.approx(ca, abs=1e-6)  # a notices the move
    assert ca == pytest.approx(-13.17, abs=0.02)
    assert a.chi2_point(4.9, 1e-5) == 0.0 and b.chi2_point(2.1, 8.6e-6) == pytest.approx(ca, abs=1e-6)
    kx = a._kx
    assert kx.efficiency.keys() == signal.efficiency_table(kx.densities).keys()
    for w in (0.0, 0.05):
        direct = signal.x_templates(2.1, w, kx.densities)
        for k, t in signal.x_templates(2.1, w, kx.densities, efficiency=kx.efficiency).items():
            np.testing.assert_allclose(t, direct[k], rtol=1e-13)


# --- 9. one walker minimum and one integer check -------------------------------------------

def test_walker_minimum_and_integer_option_are_shared(tmp_path, capsys):
    from xfit.cli import main
    from xfit.inference.mcmc import min_walkers, positive_int

    assert [min_walkers(n) for n in (1, 2, 3, 5)] == [4, 4, 6, 10]
    assert positive_int("7", "--steps") == 7
    for bad in ("x", 0, 1.5, float("inf"), True):
        with pytest.raises(InputError, match="--steps must be an integer >= 1"):
            positive_int(bad, "--steps")
    rc = main(["mcmc", "--model", "tau-flavor", "--mX", "2.1", "--steps", "inf", "--out", str(tmp_path)])
    assert rc == 2 and "--steps must be an integer >= 1" in capsys.readouterr().err
