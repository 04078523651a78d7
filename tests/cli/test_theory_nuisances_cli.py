"""``--theory-nuisances`` of ``xfit fit``, ``xfit scan`` and ``xfit mcmc`` reaches the fits: the
nuisances are reported, and profiling them never raises the minimum chi2 (more freedom)."""
import json

from xfit.cli import main

FIT = ["--model", "tau-flavor", "--mX", "2.1", "--terms", "b_to_s_emiss,l3_z_gamma"]


def _json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fit_profiles_the_theory_inputs(capsys):
    plain = _json(capsys, ["fit", *FIT])
    prof = _json(capsys, ["fit", *FIT, "--theory-nuisances"])
    assert plain["theory_nuisances"] == {"used": False}
    assert prof["theory_nuisances"]["used"] and "ckm_A" in prof["theory_nuisances"]["nuisances"]
    assert prof["chi2_min"] < plain["chi2_min"] - 1e-3


def test_scan_profiles_the_theory_inputs(capsys, tmp_path):
    axis = ["--axis", "gX=0.01:0.03:3"]
    plain = _json(capsys, ["scan", *FIT, *axis, "--out", str(tmp_path / "plain")])
    prof = _json(capsys, ["scan", *FIT, *axis, "--theory-nuisances", "--out", str(tmp_path / "prof")])
    assert not plain["scan"]["theory_nuisances"]["used"] and prof["scan"]["theory_nuisances"]["used"]
    assert "ckm_A" in prof["scan"]["theory_nuisances"]["at_best"]
    assert prof["scan"]["chi2_ref"] < plain["scan"]["chi2_ref"] - 1e-3


def test_mcmc_samples_the_theory_inputs(capsys, tmp_path):
    out = _json(capsys, ["mcmc", *FIT, "--steps", "20", "--walkers", "32", "--quiet", "--theory-nuisances",
                         "--out", str(tmp_path)])
    posterior = out["theory_nuisances"]["posterior"]
    assert out["theory_nuisances"]["used"] and "ckm_A" in posterior and "gX" not in posterior
