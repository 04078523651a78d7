"""MCMC with the theory inputs sampled as N(0, 1) nuisances (xfit mcmc --theory-nuisances)."""
import json

import numpy as np
import pytest

from xfit.cli import main
from xfit.inference.mcmc import ModelLogLikelihood, sample_model
from xfit.inference.mcmc.posterior import NuisanceLogLikelihood
from xfit.inference.nuisances import TheoryNuisances
from xfit.likelihood import build_likelihood
from xfit.models import get_model

TERMS = "b_to_s_emiss,l3_z_gamma"


@pytest.fixture(scope="module")
def setup():
    model, lik = get_model("tau-flavor"), build_likelihood(TERMS)
    return model, lik, TheoryNuisances(model, lik, 2.1)


def test_at_central_inputs_equals_the_plain_log_likelihood(setup):
    model, lik, nuis = setup
    plain = ModelLogLikelihood(model, lik, 2.1)
    with_nu = NuisanceLogLikelihood(model, lik, 2.1, nuis)
    g = np.linspace(0.0, 0.05, 7)[:, None]
    theta = np.hstack([g, np.zeros((len(g), len(nuis.names)))])
    assert with_nu.parameters == ("gX",) + nuis.names
    np.testing.assert_allclose(with_nu(theta), plain(g), rtol=1e-12, atol=0)


def test_a_shifted_input_matches_the_fit_machinery(setup):
    model, lik, nuis = setup
    lnl = NuisanceLogLikelihood(model, lik, 2.1, nuis)
    nu = np.zeros(len(nuis.names))
    nu[nuis.names.index("m_t")] = 1.0
    theta = np.concatenate([[0.025], nu])[None, :]
    expected = -0.5 * float(lik.chi2(nuis.predict({"gX": 0.025}, nu)))
    assert float(lnl(theta)[0]) == pytest.approx(expected, rel=1e-12)
    assert float(lnl(theta)[0]) != pytest.approx(float(ModelLogLikelihood(model, lik, 2.1)(np.array([[0.025]]))[0]),
                                                 rel=1e-6)


def test_chain_samples_the_nuisances_with_unit_gaussian_priors(setup):
    model, lik, nuis = setup
    chain = sample_model(model, lik, 2.1, nwalkers=48, nsteps=400, seed=3, theory_nuisances=True)
    assert chain.parameters == ("gX",) + nuis.names
    assert all(repr(chain.priors[n]).startswith("Gaussian(0, 1)") for n in nuis.names)
    s = chain.samples()
    # these two terms barely constrain the inputs: their posteriors stay close to N(0, 1)
    for j in range(1, s.shape[1]):
        assert abs(np.median(s[:, j])) < 0.35 and 0.6 < np.std(s[:, j]) < 1.4
    # and g_X stays where it is without them (HESSE: 0.0251 +- 0.0038)
    assert 0.021 < np.median(s[:, 0]) < 0.029
    assert chain.settings["theory_nuisances"] == list(nuis.names)


def test_cli_reports_the_nuisance_posteriors(tmp_path, capsys):
    code = main(["mcmc", "--model", "tau-flavor", "--mX", "2.1", "--terms", TERMS, "--steps", "60",
                 "--walkers", "32", "--seed", "1", "--theory-nuisances", "--out", str(tmp_path), "--json", "--quiet"])
    cap = capsys.readouterr()
    assert code == 0
    out = json.loads(cap.out)
    assert out["theory_nuisances"]["used"] is True
    assert "m_t" in out["theory_nuisances"]["posterior"] and "gX" in out
    assert "/60 steps (" not in cap.err  # --quiet
    # the corner plot shows the model's parameters only
    assert (tmp_path / "corner.png").is_file()


def test_cli_progress_lines_without_a_terminal_and_plain_runs_say_no_nuisances(tmp_path, capsys):
    code = main(["mcmc", "--model", "tau-flavor", "--mX", "2.1", "--terms", TERMS, "--steps", "40",
                 "--walkers", "16", "--seed", "1", "--out", str(tmp_path), "--json"])
    cap = capsys.readouterr()
    assert code == 0 and json.loads(cap.out)["theory_nuisances"] == {"used": False}
    assert "xfit mcmc: 40/40 steps (100%)" in cap.err


def test_evidence_with_nuisances_is_refused(tmp_path, capsys):
    code = main(["mcmc", "--model", "tau-flavor", "--mX", "2.1", "--steps", "40", "--theory-nuisances",
                 "--evidence", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "--evidence with --theory-nuisances" in err and len(err.strip().splitlines()) <= 3
