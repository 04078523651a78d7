"""The ``xfit predict`` command: keys, units, bad input."""
import json
import subprocess
import sys

import pytest

from xfit.cli import main

KEYS = ["A_WW", "A_YY", "g_S", "g_P", "v_X", "BR(X->invisible)", "BR(Z->gammaX)", "BR(K+->pi+X)",
        "BR(KL->pi0X)", "BR(D+->pi+X)", "BR(B+->pi+X)", "BR(B0->pi0X)", "BR(B+->rho+X)",
        "BR(B0->rho0X)", "BR(B+->K+X)", "BR(B0->K0X)", "BR(B+->K*+X)", "BR(B0->K*0X)",
        "F_L(B+->K*+X)", "F_L(B0->K*0X)", "F_L(B+->rho+X)", "F_L(B0->rho0X)", "R_K*/K"]


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_keys_exactly(capsys):
    code, out, _ = run(capsys, "predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.018", "--json")
    assert code == 0
    d = json.loads(out)
    assert set(d) >= {"model", "inputs", "predictions"}
    assert list(d["predictions"]) == KEYS
    assert d["model"]["name"] == "tau-flavor" and d["inputs"]["mX"] == 2.1
    assert d["model"]["A_WW"] == -1 and d["model"]["A_YY"] == 1 and d["model"]["loop_normalisation"] == "derived"
    p = d["predictions"]
    assert p["A_WW"] == -1 and p["A_YY"] == 1 and p["BR(X->invisible)"] == 1
    assert p["v_X"] == pytest.approx(2.1 / 0.018)
    # m_X = 2.1 GeV is above the K -> pi X and D -> pi X endpoints: exactly 0 with a reason
    assert p["BR(K+->pi+X)"] == 0 and p["BR(KL->pi0X)"] == 0 and p["BR(D+->pi+X)"] == 0
    assert "closed" in d["closed_channels"]["BR(K+->pi+X)"]


def test_human_output_has_units(capsys):
    code, out, _ = run(capsys, "predict", "--model", "L=-4R", "--mX", "2.1", "--gX", "0.0042")
    assert code == 0 and "v_X" in out and "GeV" in out and "closed" in out


@pytest.mark.parametrize("argv, msg", [
    (["--model", "nope", "--mX", "2.1", "--gX", "0.01"], "known models: tau-flavor"),
    (["--model", "tau-flavor", "--mX", "abc", "--gX", "0.01"], "--mX must be a finite number"),
    (["--model", "tau-flavor", "--mX", "nan", "--gX", "0.01"], "--mX must be a finite number"),
    (["--model", "tau-flavor", "--mX", "-2", "--gX", "0.01"], "--mX must be > 0"),
    (["--model", "tau-flavor", "--mX", "0", "--gX", "0.01"], "--mX must be > 0"),
    (["--model", "tau-flavor", "--mX", "2.1", "--gX", "-1"], "--gX must be >= 0"),
    (["--alpha-tau", "one", "--mX", "2.1", "--gX", "0.01"], "--alpha-tau must be a finite number"),
    (["--alpha-L", "1", "--mX", "2.1", "--gX", "0.01"], "both --alpha-L and --alpha-R"),
    (["--mX", "2.1", "--gX", "0.01"], "no model given"),
    (["--model", "tau-flavor", "--alpha-tau", "1", "--mX", "2.1", "--gX", "0.01"], "give one kind of model"),
    (["--A-WW", "-1", "--mX", "2.1", "--gX", "0.01"], "both --A-WW and --A-YY"),
    (["--A-WW", "-1", "--A-YY", "1", "--XS", "0", "--mX", "2.1", "--gX", "0.01"], "--XS (the U(1)_X charge"),
    (["--model", "L-only", "--br-invisible", "2", "--mX", "2.1", "--gX", "0.01"], "--br-invisible must be in [0, 1]"),
    (["--model", "tau-flavour", "--mX", "2.1", "--gX", "0.01"], "unknown model 'tau-flavour' (--model)"),
])
def test_bad_input_one_line_message(capsys, argv, msg):
    code, out, err = run(capsys, "predict", *argv)
    assert code != 0
    assert msg in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_console_script_entry_point_runs():
    r = subprocess.run([sys.executable, "-m", "xfit.cli", "predict", "--model", "nope", "--mX", "1", "--gX", "0"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "unknown model" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("mX, gX", [("1e-300", "1"), ("0.1", "1e300")])
def test_overflowing_inputs_are_an_error_not_nan(capsys, mX, gX):
    code, out, err = run(capsys, "predict", "--model", "tau-flavor", "--mX", mX, "--gX", gX, "--json")
    assert code == 2 and "not finite" in err and len(err.strip().splitlines()) == 1


def test_unphysical_branching_ratios_are_flagged(capsys):
    code, out, _ = run(capsys, "predict", "--model", "tau-flavor", "--mX", "0.1", "--gX", "10", "--json")
    d = json.loads(out)
    assert code == 0 and "BR(K+->pi+X)" in d["warnings"] and "> 1" in d["warnings"]["BR(K+->pi+X)"]
    code, out, _ = run(capsys, "predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.016", "--json")
    assert json.loads(out)["warnings"] == {}
