"""The ``xfit anomalons`` command group: JSON keys, exit codes, one-line errors."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from xfit.cli import main

DATA = Path(__file__).parents[1] / "data" / "anomalons"


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_table2_json(capsys):
    code, out, _ = run(capsys, "anomalons", "table2", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 5
    assert all(set(r) == {"n", "m", "Y", "XS_over_3aBL", "naturalness_TeV", "naturalness_TeV_printed"} for r in rows)
    assert [(r["n"], r["m"], r["Y"], r["XS_over_3aBL"]) for r in rows] == [
        (3, 2, "1/2", "1"), (5, 3, "1", "1/6"), (7, 4, "3/2", "1/18"), (9, 5, "2", "1/40"), (11, 6, "5/2", "1/75")]
    assert [r["naturalness_TeV_printed"] for r in rows] == [7.3, 3.4, 2.0, 1.4, 1.0]
    code, out, _ = run(capsys, "anomalons", "table2", "--json", "--convention", "planck")
    assert [r["naturalness_TeV_printed"] for r in json.loads(out)] == [7.5, 3.4, 2.1, 1.4, 1.1]


def test_naturalness_readings(capsys):
    code, out, _ = run(capsys, "anomalons", "naturalness-readings", "--json")
    report = json.loads(out)
    assert code == 0 and report["frozen_log_window"]["nearest"] is None
    assert report["frozen_log_window"]["truncate"][0] < report["tables_log_factor"] < \
        report["frozen_log_window"]["truncate"][1]
    code, out, _ = run(capsys, "anomalons", "naturalness-readings")
    assert code == 0 and "tables: 11/11 entries truncated" in out and "nearest: none" in out


def test_table3_json(capsys):
    code, out, _ = run(capsys, "anomalons", "table3", "--json", "--min-naturalness", "1.04")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 6
    assert set(rows[0]) >= {"n", "m", "Y1", "Y3", "X1_over_3aBL", "X2_over_3aBL", "naturalness_TeV",
                            "naturalness_TeV_printed"}
    assert [r["naturalness_TeV_printed"] for r in rows] == [12.2, 5.4, 3.2, 2.2, 1.6, 1.2]
    assert [(r["n"], r["m"], r["Y1"], r["Y3"], r["X1_over_3aBL"], r["X2_over_3aBL"]) for r in rows][0] == (
        1, 2, "1", "1/2", "X - 1/2", "-X - 1/2")
    assert rows[5]["X2_over_3aBL"] == "-X - 1/42"
    code, out, _ = run(capsys, "anomalons", "table3", "--json")
    assert len(json.loads(out)) == 7   # default 1 TeV cut: (7, 8) at 1.04 TeV enters (docs/anomalons.md)


def test_chiral_tau_json(capsys):
    code, out, _ = run(capsys, "anomalons", "chiral-tau", "--json")
    assert code == 0 and json.loads(out) == [
        {"m": "2", "n": 5, "Y": "-2", "XL_plus_XR": "3/2", "XS_over_aL": "1/20"},
        {"m": "4", "n": 3, "Y": "-1", "XL_plus_XR": "5/4", "XS_over_aL": "1/4"},
        {"m": "inf", "n": 2, "Y": "-1/2", "XL_plus_XR": "1", "XS_over_aL": "1"}]
    code, out, _ = run(capsys, "anomalons", "chiral-tau", "--json", "--rational")
    assert len(json.loads(out)) == 9


@pytest.mark.parametrize("name", ["table5_model", "table6_model", "l_only", "l_minus_4r"])
def test_check_cancelling_files_exit_0(capsys, name):
    code, out, _ = run(capsys, "anomalons", "check", str(DATA / f"{name}.yaml"))
    assert code == 0 and "all anomalies cancel" in out and out.count("satisfied") == 7


def test_check_residuals_exit_1(capsys):
    code, out, _ = run(capsys, "anomalons", "check", str(DATA / "tau_flavour_no_anomalons.yaml"))
    assert code == 1
    assert "residual 1/2" in out and "residual -1/2" in out and "do NOT cancel" in out
    code, out, _ = run(capsys, "anomalons", "check", str(DATA / "tau_flavour_no_anomalons.yaml"), "--json")
    d = json.loads(out)
    assert code == 1 and d["all_cancel"] is False
    assert [c["residual"] for c in d["conditions"][:5]] == ["1", "1", "1/2", "-1/2", "0"]
    code, out, _ = run(capsys, "anomalons", "check", str(DATA / "witten_odd.yaml"))
    assert code == 1 and "violated (13 Weyl fermions" in out


@pytest.mark.parametrize("name, fragment", [
    ("broken_syntax", "invalid YAML"),
    ("bad_field_key", "unknown key 'hypercharge' in fields[0]; accepted keys: name, chirality, n, Y, X"),
    ("bad_top_key", "unknown key 'anomalons' in the top level; accepted keys: sm, fields, description"),
    ("bad_sm_key", "unknown key 'alpha_nu' in 'sm'; accepted keys: alpha_B"),
    ("bad_fraction", "X must be a number"),
    ("mixed_sm", "not both"),
])
def test_check_broken_files_one_line(capsys, name, fragment):
    code, out, err = run(capsys, "anomalons", "check", str(DATA / f"{name}.yaml"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("xfit anomalons: error:") and fragment in err


def test_check_missing_file(capsys):
    code, _, err = run(capsys, "anomalons", "check", str(DATA / "nope.yaml"))
    assert code == 3 and "cannot read" in err and err.count("\n") == 1


def test_classify_colored_bounds(capsys):
    code, out, _ = run(capsys, "anomalons", "classify", "--family", "2dl", "--accepted", "--json")
    assert code == 0 and len(json.loads(out)) == 9
    code, out, _ = run(capsys, "anomalons", "classify", "--family", "1ml1dl")
    assert code == 0 and "ACCEPTED" in out and "pseudoreal" in out
    code, out, _ = run(capsys, "anomalons", "colored", "--limit", "3", "--json")
    assert code == 0 and len(json.loads(out)) == 3
    code, out, _ = run(capsys, "anomalons", "bounds", "--json")
    d = json.loads(out)
    assert code == 0 and d["1DL-1ML m=2"]["ceilings"]["B"]["m_max_GeV"] == pytest.approx(337.7, abs=0.5)


@pytest.mark.parametrize("argv, fragment", [
    (["table2", "--delta", "-5"], "--delta must be > 0"),
    (["table2", "--delta", "abc"], "--delta must be a finite number"),
    (["chiral-tau", "--m-max", "0"], "--m-max must be a positive integer"),
    (["bounds", "--gX", "0"], "--gX must be > 0"),
    (["classify", "--max-dim", "x"], "--max-dim must be a positive integer"),
])
def test_bad_options(capsys, argv, fragment):
    code, _, err = run(capsys, "anomalons", *argv)
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_entry_point_subprocess():
    r = subprocess.run([sys.executable, "-m", "xfit", "anomalons", "table2", "--json"], capture_output=True,
                       text=True, cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0 and json.loads(r.stdout)[0]["n"] == 3
