"""``xfit belle2 posterior``: Laplace-marginal likelihood, grid, sampling, resume, bad options.

Needs the Belle II files ($XFIT_DATA_DIR/belle2_knunu/); fails (never skips) without them.
"""
import argparse
import contextlib
import functools
import io
import json
import math

import numpy as np
import pytest

from xfit.belle2 import posterior as post
from xfit.belle2.laplace import LaplaceMarginal, importance_check, log_det_dense, log_det_free
from xfit.belle2.signal import MX_NO_EFFICIENCY, KXModel
from xfit.cli.belle2_posterior import register
from xfit.errors import InputError
from xfit.histfactory import minimize

#: A short run: masses around the excess, coarse B grid (a few seconds of fits).
SHORT = dict(mX_min=1.5, mX_max=2.8, BR_max=4e-5, n_BR=17)


@pytest.fixture(scope="module")
def kx():
    return KXModel()


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """The short run through ``xfit belle2 posterior --json`` (its JSON is the run's summary):
    (settings, summary, folder, JSON printed)."""
    out = tmp_path_factory.mktemp("posterior")
    s = post.PosteriorSettings(**SHORT)
    args = _parser().parse_args([
        "posterior", "--json", "--quiet", "--mX-min", str(SHORT["mX_min"]), "--mX-max", str(SHORT["mX_max"]),
        "--BR-max", str(SHORT["BR_max"]), "--n-BR", str(SHORT["n_BR"]), "--walkers", "16", "--steps", "300",
        "--nlive", "100", "--out", str(out)])
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert args.func(args) == 0
    printed = stdout.getvalue()
    return s, json.loads((out / post.SUMMARY_FILE).read_text()), out, printed


def test_block_log_det_equals_dense_cholesky(kx):
    kx.set_mass(2.1)
    lap = LaplaceMarginal(kx)
    pt = lap.at(0.9)
    assert pt.n_nuisance == 231
    hb = kx.model.nll_grad_hess(pt.x)[2]
    assert pt.log_det == pytest.approx(log_det_dense(hb, lap.nuisance), abs=1e-8)
    # ln L_marg = -NLL + n/2 ln 2 pi - ln det / 2
    assert pt.ln_marginal == pytest.approx(-pt.nll + 0.5 * 231 * math.log(2 * math.pi) - 0.5 * pt.log_det)


def test_laplace_agrees_with_importance_sampling(kx):
    """The full 231-dimensional integral by importance sampling at B = 0 and near the best fit.

    Absolute: the Laplace value is within 1 (in ln L) of the importance-sampling estimate;
    paired (what posteriors and Bayes factors see): the B-dependence of the correction is
    < 0.25 and within 4 Monte-Carlo errors of 0."""
    lap = LaplaceMarginal(kx)
    res = importance_check(lap, [(2.1, 0.0, 1.0), (2.1, 0.85, 1.0)], n_samples=1500, seed=7)
    for r in res:
        assert r.ess > 5
        assert abs(r.difference) < 1.0
    d = res[1]
    assert abs(d.paired_difference) < 0.25
    assert abs(d.paired_difference) < 4 * d.paired_error + 0.05


def test_tangent_warm_starts_give_the_values_of_independent_fits(kx):
    """build_grid starts each fit along mu_X from the previous minimum moved along the tangent,
    with its factorised Hessian (LaplaceMarginal.at, ``near``): the same minima to the Newton
    tolerance (EDM 1e-9).  At that tolerance ln L_marg itself is known to ~1e-4 (ln det H moves
    with the weakly constrained nuisances): both routes agree within 1e-6 relative and 3e-4
    absolute, and both are within 3e-4 of a fit converged to EDM 1e-15.  (The short MCMC runs
    that sample the interpolated surface are chaotic in it: their sampled quantiles move
    within their Monte-Carlo errors when the grid moves at this level.)"""
    lap = LaplaceMarginal(kx)
    mu_X = np.linspace(0.0, 4.0, 17)
    for mx in (1.6, 2.1, 2.7):
        kx.set_mass(mx)
        start = lap.at(0.0).x
        near, x, fast, plain = None, start, [], []
        for b in mu_X:  # the grid's route
            near = lap.at(b, init=start if near is None else near.x, near=near)
            assert near.factor is not None and near.mu_X == b  # the next fit takes the tangent route
            fast.append(near.ln_marginal)
        for b in mu_X:  # each fit warm-started from the previous minimum only
            pt = lap.at(b, init=x)
            x = pt.x
            plain.append(pt.ln_marginal)
        assert np.allclose(fast, plain, rtol=1e-6, atol=0) and np.allclose(fast, plain, rtol=0, atol=3e-4)
        tight = minimize(kx.model, init=near.x, fix=lap.fix(mu_X[-1]), edm=1e-15, max_iter=500,
                         raise_on_failure=False)
        ln_tight = (-tight.nll + 0.5 * lap.n_nuisance * math.log(2 * math.pi)
                    - 0.5 * log_det_free(kx.model.nll_grad_hess(tight.x)[2], lap.nuisance))
        assert abs(fast[-1] - ln_tight) < 3e-4 and abs(plain[-1] - ln_tight) < 3e-4


def test_interpolation_reproduces_direct_laplace(kx):
    s = post.PosteriorSettings(mX_min=2.0, mX_max=2.3, BR_max=3e-5, n_BR=13)
    grid = post.build_grid(s, kx)
    surf = post.MarginalSurface(grid)
    lap = LaplaceMarginal(kx)
    rng = np.random.default_rng(1)
    for mx, br in zip(rng.uniform(2.0, 2.3, 4), rng.uniform(0, 2e-5, 4)):
        kx.set_mass(mx)
        assert float(surf(mx, br)) == pytest.approx(lap.at(br / 1e-5).ln_marginal, abs=0.02)
    # grid nodes are reproduced exactly
    assert float(surf(math.sqrt(grid.q2[3]), grid.mu_X[5] * 1e-5)) == pytest.approx(grid.table[3, 5, 0], abs=1e-9)


def test_short_run_on_real_data(short_run):
    s, summ, out, _ = short_run
    for name in ("mX", "BR"):
        q = summ[name]
        assert all(math.isfinite(q[k]) for k in ("mode", "median", "q16", "q84"))
        assert q["q16"] < q["median"] < q["q84"]
    assert abs(summ["mX"]["mode"] - 2.1) < 0.15  # the profile best fit is at m_X ~ 2.1 GeV
    assert 3e-6 < summ["BR"]["median"] < 1.5e-5
    bf = summ["ln_bayes_factor"]
    assert math.isfinite(bf["value"]) and 0 < bf["error"] < 1
    assert abs(bf["value"] - bf["quadrature"]) < 3 * bf["error"] + 0.1
    assert summ["n_effective"] > 100
    assert summ["interpolation_check"]["max_abs_error"] < 0.05
    assert set(summ["inputs"]["sha256"]) == {"combined_likelihood.json", "number_density_hta.csv",
                                             "number_density_ita_regA.csv", "number_density_ita_regB.csv"}
    assert summ["priors"]["BR"] == {"kind": "uniform", "low": 0.0, "high": 4e-5, "meaning": "B(B+ -> K+ X) x P_inv"}
    for f in ("samples.csv", "posterior_2d.csv", "posterior_2d.png", "posterior_2d.pdf", "corner.png",
              "corner.pdf", post.SUMMARY_FILE, post.GRID_FILE, post.CHAIN_FILE, post.NESTED_FILE):
        assert (out / f).exists(), f


def coarse_mesh(monkeypatch):
    """The figure's posterior mesh (posterior_2d.csv, its plot, the quadrature evidence) on 60 x 30
    (x 6 in mu) cells instead of 600 x 300 (x 24), for runs that do not check it."""
    monkeypatch.setattr(post, "posterior_mesh", functools.partial(post.posterior_mesh, n_mx=60, n_br=30, n_mu=6))


def test_resume(short_run, kx, monkeypatch):
    s, summ, out, _ = short_run
    coarse_mesh(monkeypatch)  # the resumed pieces are the grid, the chain and the nested run
    grid_file = out / post.GRID_FILE
    full = post.LaplaceGrid.load(grid_file, s.grid_key())
    # an interrupted grid: the last columns missing -> only they are recomputed, to the same values
    part = post.LaplaceGrid(full.q2, full.mu_X, full.mu, full.table.copy(), full.done.copy())
    part.done[-3:] = False
    part.table[-3:] = np.nan
    part.save(grid_file, s.grid_key())
    res2 = post.run_posterior(s, out=out, nwalkers=16, nsteps=400, nlive=100, n_check=0, kx=kx)
    again = post.LaplaceGrid.load(grid_file, s.grid_key())
    assert again.done.all()
    np.testing.assert_allclose(again.table, full.table, atol=1e-6)
    import emcee

    assert emcee.backends.HDFBackend(str(out / post.CHAIN_FILE), read_only=True).iteration == 400 // post.THIN
    # the finished nested-sampling run is read back, not redone
    assert res2.summary["ln_bayes_factor"]["ln_evidence_SM_plus_X"] == pytest.approx(
        summ["ln_bayes_factor"]["ln_evidence_SM_plus_X"], abs=1e-3)
    with pytest.raises(InputError, match="other settings"):
        post.run_posterior(post.PosteriorSettings(**{**SHORT, "BR_max": 5e-5}), out=out, kx=kx)


@pytest.mark.parametrize("kw, flag", [
    ({"BR_max": -1e-5}, "--BR-max"),
    ({"prior_BR": "log-uniform", "BR_min": -1e-7}, "--BR-min"),
    ({"prior_BR": "log-uniform", "BR_min": 2e-4}, "--BR-min"),
    ({"mX_max": 4.7}, "--mX-max"),
    ({"mX_min": -0.1}, "--mX-min"),
    ({"mX_min": 3.0, "mX_max": 2.0}, "--mX-min"),
    ({"prior_BR": "jeffreys"}, "--prior-BR"),
    ({"width": -0.1}, "--width"),
    ({"BR_max": "nan"}, "--BR-max"),
])
def test_bad_options_are_one_line_errors(kw, flag):
    with pytest.raises(InputError) as e:
        post.PosteriorSettings(**kw)
    msg = str(e.value)
    assert flag in msg and "\n" not in msg and len(msg) < 200


def test_mx_range_up_to_efficiency_edge_is_accepted():
    assert post.PosteriorSettings(mX_max=MX_NO_EFFICIENCY).mX_max == MX_NO_EFFICIENCY
    assert post.PosteriorSettings(width=0.05, mX_max=4.7).mX_max == 4.7  # a broad X has efficiency there


def _parser():
    ap = argparse.ArgumentParser(prog="xfit belle2")
    register(ap.add_subparsers(dest="belle2_command"))
    return ap


def test_cli_bad_prior_and_json(short_run):
    args = _parser().parse_args(["posterior", "--prior-BR", "flat"])
    with pytest.raises(InputError, match="--prior-BR"):
        args.func(args)
    # --json (the short run above is a CLI run): the summary, as written to its file
    d = json.loads(short_run[3])
    assert {"mX", "BR", "ln_bayes_factor", "priors", "method", "n_effective", "inputs"} <= set(d)
    assert d["inputs"]["xfit_version"]
    assert all((short_run[2] / f"{stem}.png").exists() for stem in ("corner", "posterior_2d"))
    assert d == short_run[1]


def test_broad_x_grid_from_zero_mass(kx):
    """Gamma_X > 0: bin edges are breakpoints, and m_X = 0 is evaluated at MX_FLOOR."""
    s = post.PosteriorSettings(width=0.05, mX_min=0.0, mX_max=0.6, BR_max=2e-5, n_BR=8)
    b = post.q2_breakpoints(s)
    assert np.any(np.isclose(b, 0.22885))  # the first bin edge
    grid = post.build_grid(s, kx)
    assert np.all(np.isfinite(grid.table)) and grid.done.all()


def test_sm_free_short_run(kx, tmp_path, monkeypatch):
    # the (m_X, B) figure mesh with mu marginalised on a coarse mesh: its numbers are checked at full
    # size in test_short_run_on_real_data (the quadrature evidence), here the sm_free plumbing (the
    # default 600 x 300 x 24 mesh is 4.3 million surface evaluations).  The plumbing needs no
    # precision either: the shortest chain run_posterior accepts (100 steps) and 30 live points
    # (0.6 s; 200 steps and 60 live points, 0.9 s, checked the same); 5 values of mu, so that
    # the 4-point interpolation in mu moves along them
    coarse_mesh(monkeypatch)
    s = post.PosteriorSettings(sm_free=True, mX_min=2.0, mX_max=2.1, BR_max=3e-5, n_BR=8, n_mu=5)
    res = post.run_posterior(s, out=tmp_path, nwalkers=16, nsteps=100, nlive=30, n_check=2,
                             kx=KXModel(sm_free=True))
    summ = res.summary
    assert summ["priors"]["mu"]["kind"] == "uniform"
    q = summ["mu"]
    assert 0 < q["q16"] < q["median"] < q["q84"] < s.mu_max
    assert q["q84"] < 0.5 * s.mu_max  # the data constrain mu (median ~1.6); its prior alone: q84 = 8.4
    assert math.isfinite(summ["ln_bayes_factor"]["value"]) and math.isfinite(summ["ln_bayes_factor"]["ln_evidence_SM"])
    assert res.samples.shape[1] == 3


@pytest.mark.parametrize("argv, flag", [
    (["--BR-max=-1e-5"], "--BR-max"),
    (["--mX-max", "5"], "--mX-max"),
    (["--prior-BR", "log-uniform", "--BR-min", "0"], "--BR-min"),
    (["--seed", "-1"], "--seed"),
])
def test_cli_bad_options_one_line(argv, flag, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default --out is xfit-output/belle2-posterior in the working folder
    args = _parser().parse_args(["posterior", "--quiet", *argv])
    with pytest.raises(InputError) as e:
        args.func(args)
    assert flag in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "xfit-output").exists()  # nothing partial left behind
