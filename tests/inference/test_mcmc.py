"""Posterior sampling: vectorised log-probability, reproducibility, resuming after a kill,
diagnostics, summaries, corner plots, posterior predictions and the ``xfit mcmc`` command."""
import json
import os
import signal
import time
import traceback
import warnings

import h5py
import numpy as np
import pytest

from xfit.cli import main
from xfit.errors import DataError, InputError
from xfit.inference import Fit
from xfit.inference.mcmc import ChainTooShortWarning, LogPosterior, hpd_interval, sample, sample_model, summarize
from xfit.inference.priors import PriorSet, Uniform
from xfit.likelihood import build_likelihood
from xfit.models import EFTPlane, get_model
from xfit.plots.corner import chain_corner_plot

PRIORS_2D = PriorSet({"a": Uniform(-5, 5), "b": Uniform(-5, 5)})
MU, SIGMA = np.array([0.5, -1.0]), np.array([0.3, 0.6])


def gaussian_lnl(theta):
    """ln L of an uncorrelated 2D Gaussian; vectorised over rows."""
    return -0.5 * np.sum(((theta - MU) / SIGMA) ** 2, axis=1)


class ShapeRecorder:
    def __init__(self, fn):
        self.fn, self.shapes = fn, []

    def __call__(self, theta):
        self.shapes.append(theta.shape)
        return self.fn(theta)


@pytest.fixture(scope="module")
def tau_flavor_chain(tmp_path_factory):
    model, lik = get_model("tau-flavor"), build_likelihood("b_to_s_emiss,l3_z_gamma")
    out = tmp_path_factory.mktemp("tau")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChainTooShortWarning)
        chain = sample_model(model, lik, 2.1, nwalkers=32, nsteps=150, seed=3, chain_file=out / "chain.h5")
    return model, lik, chain


def test_log_probability_is_vectorised_one_call_per_half_ensemble():
    rec = ShapeRecorder(gaussian_lnl)
    wide = PriorSet({"a": Uniform(-1e6, 1e6), "b": Uniform(-1e6, 1e6)})  # no proposal leaves it
    start = MU + SIGMA * np.random.default_rng(0).standard_normal((16, 2))
    chain = sample(rec, wide, nwalkers=16, nsteps=20, seed=1, initial=start)
    # one call for the initial ensemble, then one per half-ensemble and step: no loop per walker
    assert len(rec.shapes) == 1 + 2 * 20
    assert rec.shapes[0] == (16, 2) and set(rec.shapes[1:]) == {(8, 2)}
    assert chain.coords.shape == (20, 16, 2) and chain.log_likelihood.shape == (20, 16)
    # the stored ln L is the likelihood (blob), ln p adds the prior
    np.testing.assert_allclose(chain.log_likelihood, gaussian_lnl(chain.coords.reshape(-1, 2)).reshape(20, 16))
    np.testing.assert_allclose(chain.log_prob, chain.log_likelihood - 2 * np.log(2e6))


def test_log_posterior_skips_the_likelihood_outside_the_prior_and_tempers():
    rec = ShapeRecorder(gaussian_lnl)
    lp = LogPosterior(rec, PRIORS_2D, beta=0.25)
    out = lp(np.array([[0.5, -1.0], [7.0, 0.0], [0.0, 0.0]]))
    assert out.shape == (3, 2)
    assert rec.shapes == [(2, 2)]  # the point outside the prior is never evaluated
    assert np.isneginf(out[1, 0]) and np.isneginf(out[1, 1])
    assert out[0, 0] == pytest.approx(np.log(0.01))
    assert out[2, 0] == pytest.approx(np.log(0.01) + 0.25 * out[2, 1])
    with pytest.raises(InputError, match="beta"):
        LogPosterior(gaussian_lnl, PRIORS_2D, beta=1.5)


def test_gaussian_posterior_moments_and_reproducibility():
    a = sample(gaussian_lnl, PRIORS_2D, nwalkers=64, nsteps=200, seed=11)
    b = sample(gaussian_lnl, PRIORS_2D, nwalkers=64, nsteps=200, seed=11)
    c = sample(gaussian_lnl, PRIORS_2D, nwalkers=64, nsteps=20, seed=12)
    np.testing.assert_array_equal(a.coords, b.coords)
    assert not np.array_equal(a.coords[:20], c.coords)
    s = a.samples()
    assert s.shape == (150 * 64, 2)
    np.testing.assert_allclose(s.mean(axis=0), MU, atol=0.05)
    np.testing.assert_allclose(s.std(axis=0), SIGMA, rtol=0.08)
    summ = a.summary(hpd=True)
    assert set(summ["a"]) >= {"median", "q16", "q84", "q2.5", "q97.5", "hpd68", "hpd95"}
    assert summ["a"]["q84"] - summ["a"]["q16"] == pytest.approx(2 * SIGMA[0], rel=0.1)
    assert 0.2 < a.acceptance_fraction < 0.8
    tau = a.autocorr_time(warn=False)
    assert tau.shape == (2,) and np.all((tau > 1) & (tau < 20))


def test_resume_after_stop_equals_uninterrupted_run(tmp_path):
    n = 40
    first = sample(gaussian_lnl, PRIORS_2D, 16, n, seed=5, chain_file=tmp_path / "a.h5", checkpoint_seconds=0)
    assert not first.resumed and first.steps_run == n
    resumed = sample(gaussian_lnl, PRIORS_2D, 16, 2 * n, seed=5, chain_file=tmp_path / "a.h5")
    assert resumed.resumed and resumed.steps_run == n
    straight = sample(gaussian_lnl, PRIORS_2D, 16, 2 * n, seed=5, chain_file=tmp_path / "b.h5")
    in_memory = sample(gaussian_lnl, PRIORS_2D, 16, 2 * n, seed=5)
    for other in (straight, in_memory):
        np.testing.assert_array_equal(resumed.coords, other.coords)
        np.testing.assert_array_equal(resumed.log_prob, other.log_prob)
        np.testing.assert_array_equal(resumed.log_likelihood, other.log_likelihood)
    np.testing.assert_array_equal(resumed.acceptance_fractions, straight.acceptance_fractions)
    # asking for fewer steps than stored: the first ones, as in a run of that length
    short = sample(gaussian_lnl, PRIORS_2D, 16, n, seed=5, chain_file=tmp_path / "a.h5")
    assert short.steps_run == 0
    np.testing.assert_array_equal(short.coords, straight.coords[:n])


def _sample_until_killed(path, nsteps: int, kill_at: int) -> int:
    """Fork a process that samples into ``path`` and SIGKILLs itself in its ``kill_at``-th call
    of ln L (no clean-up, no flush: a real kill); its wait status.  A fork, not a new
    interpreter: the child needs none of the ~1 s of imports a fresh ``python -c`` pays, and is
    killed all the same."""
    calls = [0]

    def lnl(theta):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return gaussian_lnl(theta)

    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        try:
            sample(lnl, PRIORS_2D, 16, nsteps, seed=9, chain_file=path, checkpoint_seconds=0)
        except BaseException:  # noqa: BLE001 - reported on stderr, the parent sees exit status 1
            traceback.print_exc()
        finally:
            os._exit(1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the sampling child neither finished nor was killed within 120 s")


def test_resume_after_sigkill_equals_uninterrupted_run(tmp_path):
    n = 30
    path = tmp_path / "killed.h5"
    # killed in the middle of step ~n/2 (2 calls per step, 1 for the start)
    status = _sample_until_killed(path, nsteps=2 * n, kill_at=n + 2)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    with h5py.File(path, "r") as f:
        done = int(f["mcmc"].attrs["iteration"])
    assert 0 < done < 2 * n
    resumed = sample(gaussian_lnl, PRIORS_2D, 16, 2 * n, seed=9, chain_file=path)
    assert resumed.resumed and resumed.steps_run == 2 * n - done
    straight = sample(gaussian_lnl, PRIORS_2D, 16, 2 * n, seed=9)
    np.testing.assert_array_equal(resumed.coords, straight.coords)
    np.testing.assert_array_equal(resumed.log_likelihood, straight.log_likelihood)


def test_ctrl_c_keeps_the_buffered_steps_and_resumes_exactly(tmp_path):
    calls = [0]

    def interrupted(theta):
        calls[0] += 1
        if calls[0] == 25:
            raise KeyboardInterrupt
        return gaussian_lnl(theta)

    path = tmp_path / "ctrl_c.h5"
    with pytest.raises(KeyboardInterrupt):  # buffered (checkpoint every hour): flushed on the way out
        sample(interrupted, PRIORS_2D, 16, 40, seed=8, chain_file=path, checkpoint_seconds=3600)
    with h5py.File(path, "r") as f:
        assert int(f["mcmc"].attrs["iteration"]) == 11  # 1 + 2 x 11 calls done, the 12th step interrupted
    resumed = sample(gaussian_lnl, PRIORS_2D, 16, 40, seed=8, chain_file=path)
    straight = sample(gaussian_lnl, PRIORS_2D, 16, 40, seed=8)
    np.testing.assert_array_equal(resumed.coords, straight.coords)
    np.testing.assert_array_equal(resumed.acceptance_fractions, straight.acceptance_fractions)


def test_chain_file_with_other_settings_or_corrupt(tmp_path):
    path = tmp_path / "c.h5"
    sample(gaussian_lnl, PRIORS_2D, 16, 10, seed=1, chain_file=path)
    with pytest.raises(InputError, match="other settings.*seed"):
        sample(gaussian_lnl, PRIORS_2D, 16, 10, seed=2, chain_file=path)
    with pytest.raises(InputError, match="nwalkers"):
        sample(gaussian_lnl, PRIORS_2D, 20, 10, seed=1, chain_file=path)
    fresh = sample(gaussian_lnl, PRIORS_2D, 16, 10, seed=2, chain_file=path, overwrite=True)
    assert not fresh.resumed
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not an HDF5 file")
    with pytest.raises(DataError, match="not a readable xfit chain"):
        sample(gaussian_lnl, PRIORS_2D, 16, 10, seed=1, chain_file=bad)
    assert not sample(gaussian_lnl, PRIORS_2D, 16, 10, seed=1, chain_file=bad, overwrite=True).resumed


@pytest.mark.parametrize("kwargs, message", [
    ({"nsteps": 0}, "number of steps must be an integer >= 1"),
    ({"nsteps": -3}, "number of steps"),
    ({"nwalkers": 3}, "number of walkers must be an integer >= 4"),
    ({"seed": -1}, "seed"),
    ({"moves": "hmc"}, "unknown moves"),
    ({"initial": np.full((16, 2), 9.0)}, "zero posterior density"),
    ({"initial": np.zeros((3, 2))}, "shape"),
])
def test_bad_sampler_input(kwargs, message):
    args = {"nwalkers": 16, "nsteps": 5, "seed": 1, **kwargs}
    with pytest.raises(InputError, match=message):
        sample(gaussian_lnl, PRIORS_2D, **args)


def test_chain_too_short_warning():
    short = sample(gaussian_lnl, PRIORS_2D, 16, 40, seed=2)
    with pytest.warns(ChainTooShortWarning, match="shorter than 50"):
        short.autocorr_time()
    long = sample(gaussian_lnl, PRIORS_2D, 32, 600, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChainTooShortWarning)
        tau = long.autocorr_time()
    assert (long.nsteps - long.burn) >= 50 * tau.max()
    assert long.diagnostics(warn=False)["long_enough"]


def test_credible_interval_helpers():
    x = np.random.default_rng(0).normal(2.0, 0.5, 200000)
    s = summarize(x, hpd=True)
    assert s["median"] == pytest.approx(2.0, abs=0.01)
    assert s["q16"] == pytest.approx(1.5, abs=0.01) and s["q84"] == pytest.approx(2.5, abs=0.01)
    assert s["q2.5"] == pytest.approx(2 - 0.98, abs=0.01) and s["q97.5"] == pytest.approx(2 + 0.98, abs=0.01)
    assert s["hpd68"] == pytest.approx([1.503, 2.497], abs=0.01)
    # a skewed distribution: the HPD interval is the shortest one and hugs the mode
    e = np.random.default_rng(1).exponential(1.0, 200000)
    lo, hi = hpd_interval(e, 0.68)
    assert lo == pytest.approx(0.0, abs=1e-3) and hi == pytest.approx(-np.log(0.32), abs=0.01)


def test_tau_flavor_posterior_matches_the_fit(tau_flavor_chain, tmp_path):
    model, lik, chain = tau_flavor_chain
    fit = Fit(model, lik, mX=2.1).run()
    s = chain.summary()["gX"]
    assert s["median"] == pytest.approx(fit.values["gX"], abs=0.3 * fit.errors["gX"])
    assert (s["q84"] - s["q16"]) / 2 == pytest.approx(fit.errors["gX"], rel=0.25)
    assert 0.2 < chain.acceptance_fraction < 0.8
    assert chain.path.exists()
    # posterior predictions: the samples pushed through model.predict (monotonic in g_X here)
    br = chain.posterior_predictive("BR(Z->gammaX)")
    assert br.shape == (chain.samples().shape[0],)
    direct = model.predict(2.1, gX=chain.samples()[:, 0])["BR(Z->gammaX)"]
    np.testing.assert_allclose(br, direct)
    ps = chain.predictive_summary(["BR(Z->gammaX)", "g_S"])
    at_median = model.predict(2.1, gX=s["median"])
    assert ps["BR(Z->gammaX)"]["median"] == pytest.approx(float(at_median["BR(Z->gammaX)"]), rel=1e-6)
    with pytest.raises(InputError, match="unknown observable"):
        chain.posterior_predictive("BR(nonsense)")
    # corner plot: PNG + PDF, the model's LaTeX label
    fig = chain_corner_plot(chain)
    assert any(ax.get_xlabel() == r"$g_X$" for ax in fig.axes)
    paths = chain_corner_plot(chain, tmp_path, "corner")
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_two_parameter_model_needs_declared_priors():
    model, lik = EFTPlane(), build_likelihood("b_to_s_emiss,l3_z_gamma")
    with pytest.raises(InputError, match="no default prior for parameter 'gX_AWW'"):
        sample_model(model, lik, 2.1, nsteps=5)
    priors = {"gX_AWW": Uniform(-0.05, 0.05), "gX_AYY": Uniform(-0.2, 0.2)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChainTooShortWarning)
        chain = sample_model(model, lik, 2.1, priors, nwalkers=16, nsteps=40, seed=1, init="prior")
        d = chain.diagnostics()
    assert chain.coords.shape == (40, 16, 2)
    assert set(d["tau_autocorr"]) == {"gX_AWW", "gX_AYY"}
    fig = chain_corner_plot(chain)
    labels = {ax.get_xlabel() for ax in fig.axes} | {ax.get_ylabel() for ax in fig.axes}
    assert model.parameter_labels["gX_AWW"] in labels and model.parameter_labels["gX_AYY"] in labels
    with pytest.raises(InputError, match="prior of gX must vanish"):
        sample_model(get_model("tau-flavor"), lik, 2.1, ["gX:gaussian:0:0.1"], nsteps=5)


# --- the command ---------------------------------------------------------------------------

def run_cli(args, capsys):
    code = main(["mcmc", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_output_chain_corner_and_resume(tmp_path, capsys):
    out_dir = tmp_path / "mc"
    base = ["--model", "tau-flavor", "--mX", "2.1", "--terms", "b_to_s_emiss,l3_z_gamma", "--seed", "4",
            "--walkers", "16", "--json", "--out", str(out_dir)]
    code, out, err = run_cli(base + ["--steps", "60"], capsys)
    assert code == 0, err
    res = json.loads(out)
    assert set(res["gX"]) >= {"median", "q16", "q84"}
    assert res["gX"]["q16"] < res["gX"]["median"] < res["gX"]["q84"]
    assert 0.005 < res["gX"]["median"] < 0.03
    assert isinstance(res["tau_autocorr"], float) and isinstance(res["acceptance"], float)
    assert res["priors"] == {"gX": "Uniform(0, 0.1)"}
    for f in ("chain.h5", "corner.png", "corner.pdf", "summary.json"):
        assert (out_dir / f).stat().st_size > 0
    assert "resum" not in err
    # the same command with more steps continues the chain, and says so on stderr
    code, out2, err2 = run_cli(base + ["--steps", "90"], capsys)
    assert code == 0 and "resuming" in err2 and "at step 60" in err2
    assert json.loads(out2)["resumed"] is True
    with h5py.File(out_dir / "chain.h5", "r") as f:
        assert f["mcmc"].attrs["iteration"] == 90
    # other settings in the same directory: a one-line error, nothing overwritten
    code, _, err3 = run_cli(base + ["--steps", "90", "--prior", "gX:loguniform:1e-4:0.1"], capsys)
    assert code == 2 and err3.count("\n") == 1 and "other settings" in err3


def test_cli_evidence_and_predictions(tmp_path, capsys):
    code, out, err = run_cli(["--model", "L-only", "--mX", "2.1", "--steps", "30", "--walkers", "8", "--seed", "2",
                              "--prior", "gX:loguniform:1e-4:0.1", "--observable", "BR(Z->gammaX)", "--hpd",
                              "--evidence", "--temps", "4", "--evidence-steps", "12", "--evidence-walkers", "16",
                              "--json", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    res = json.loads(out)
    assert res["priors"] == {"gX": "LogUniform(0.0001, 0.1)"}
    assert set(res["gX"]) >= {"hpd68", "hpd95"}
    assert res["predictions"]["BR(Z->gammaX)"]["median"] > 0
    ev = res["evidence"]
    assert ev["ln_evidence_sm"] == pytest.approx(-0.5 * float(build_likelihood("b_to_s_emiss,l3_z_gamma").chi2(
        get_model("L-only").predict(2.1, gX=0.0))))
    assert ev["ln_bayes_factor_vs_sm"] == pytest.approx(ev["ln_evidence"] - ev["ln_evidence_sm"])
    assert ev["ln_evidence_error"] > 0 and ev["n_temperatures"] == 4
    # a short chain: the warning is one line on stderr and flagged in the output
    assert res["chain_too_short"] is True
    assert "xfit mcmc: warning: the chain after burn-in" in err and "Traceback" not in err


@pytest.mark.parametrize("extra, message", [
    (["--steps", "0"], "--steps must be an integer >= 1"),
    (["--steps", "-10"], "--steps must be an integer >= 1"),
    (["--steps", "ten"], "--steps must be an integer >= 1"),
    (["--terms", "b_to_s_emiss,nonsense"], "unknown likelihood term 'nonsense'"),
    (["--prior", "gX:loguniform:0:0.1"], "log-uniform prior needs 0 < low < high"),
    (["--prior", "gX:uniform"], "malformed prior"),
    (["--prior", "gX:beta:1:2"], "unknown prior kind"),
    (["--prior", "gY:uniform:0:1"], "unknown parameter"),
    (["--mX", "-2"], "--mX must be > 0"),
    (["--walkers", "2"], "--walkers must be >= 4"),
    (["--temps", "5"], "--temps must be even"),
])
def test_cli_bad_input_one_line_error(extra, message, tmp_path, capsys):
    args = ["--model", "tau-flavor", "--mX", "2.1", "--steps", "10", "--out", str(tmp_path / "x")]
    for i in range(0, len(extra), 2):  # later options win over the defaults above
        if extra[i] in args:
            args[args.index(extra[i]) + 1] = extra[i + 1]
        else:
            args += extra[i:i + 2]
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith("xfit mcmc: error: ") and err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "x" / "chain.h5").exists()


def test_a_likelihood_that_ignores_the_model_is_said_to_give_back_the_prior():
    from xfit.inference.mcmc import sample_model
    from xfit.likelihood import build_likelihood
    from xfit.models import get_model

    with pytest.warns(UserWarning, match="does not depend on gX for model 'baryon'.*posterior is the prior"):
        sample_model(get_model("baryon"), build_likelihood("b_to_s_emiss"), 2.1, nwalkers=8, nsteps=10, seed=1,
                     init="prior")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_hpd_interval_refuses_non_finite_samples(bad):
    """NaN sorted last and was silently taken as an end of the interval."""
    with pytest.raises(InputError, match="finite"):
        hpd_interval([1.0, 2.0, 3.0, bad], 0.68)


def test_summarize_of_no_samples_is_an_input_error():
    with pytest.raises(InputError, match="no samples"):
        summarize([])
