"""``xfit limits``: term by term and combined, refs.bib, HEPData output validated."""
import json

import yaml

from xfit.cli import main
from xfit.hepdata import validation_errors

BASE = ["limits", "--model", "tau-flavor", "--terms", "l3_z_gamma,na62_k_pi", "--mX", "0.01:1:5:log",
        "--executor", "serial", "--no-progress"]


def test_limits_with_hepdata(tmp_path, capsys):
    hd, saved = tmp_path / "hepdata", tmp_path / "l.yaml"
    assert main([*BASE, "--cl", "0.95", "--out", str(tmp_path / "o"), "--hepdata", str(hd),
                 "--save-analysis", str(saved), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert set(s["limits"]) == {"l3_z_gamma", "na62_k_pi", "combined"} and s["cl"] == 0.95
    comb, l3 = s["limits"]["combined"]["gX_95"], s["limits"]["l3_z_gamma"]["gX_95"]
    assert all(c <= a * (1 + 1e-6) for c, a in zip(comb, l3))  # the combination is at least as strong
    assert validation_errors(hd) == []
    table = yaml.safe_load((hd / "na62_k_pi.yaml").read_text())
    assert table["dependent_variables"][0]["qualifiers"][0]["value"] == "95%"
    sub = (hd / "submission.yaml").read_text()
    assert "K+ --> PI+ X" in sub and "2507.17286" in sub and "2603.04394" in sub
    assert "NA62:2025upx" in (tmp_path / "o" / "refs.bib").read_text()
    assert yaml.safe_load(saved.read_text())["limits"]["cl"] == 0.95


def test_limits_bad_flags_are_short_errors(capsys):
    for argv, flag in ((["--cl", "2"], "--cl"), (["--parameter", "zz"], "--parameter")):
        assert main([*BASE, *argv]) != 0
        err = capsys.readouterr().err
        assert flag in err and len(err.strip().splitlines()) <= 3
    assert main(["limits", "--model", "tau-flavor", "--terms", "l3_z_gamma", "--mX", "1:0.1:3"]) != 0
    err = capsys.readouterr().err
    assert "--mX" in err and len(err.strip().splitlines()) <= 3
