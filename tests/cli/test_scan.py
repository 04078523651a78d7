"""``xfit scan``: flags -> analysis mapping -> xfit.analysis; same result as the saved file."""
import json

import numpy as np
import yaml

from xfit.analysis import load_analysis, run_analysis
from xfit.cli import main

ARGS = ["scan", "--plane", "eft", "--terms", "b_to_s_emiss,l3_z_gamma", "--mX", "2.1",
        "--axis", "gX_AYY=-0.3:0.3:5", "--start", "gX_AWW=0.016", "--start", "gX_AWW=-0.016",
        "--executor", "serial", "--no-progress"]


def test_scan_1d_matches_its_analysis_file(tmp_path, capsys):
    out, saved = tmp_path / "cli", tmp_path / "a.yaml"
    assert main([*ARGS, "--out", str(out), "--save-analysis", str(saved), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "scan" and summary["terms"] == ["b_to_s_emiss", "l3_z_gamma"]
    for f in ("scan.npz", "scan.summary.json", "refs.bib"):
        assert (out / f).is_file()
    assert "arXiv:2403.13887" in (out / "refs.bib").read_text()
    raw = yaml.safe_load(saved.read_text())
    assert raw["kind"] == "scan" and raw["scan"]["axes"]["gX_AYY"] == {"min": -0.3, "max": 0.3, "n": 5}
    a = load_analysis(saved)
    assert a.output["formats"] == ["png", "pdf"]
    a.output["formats"] = ["png"]  # the scan is compared; the command above wrote this figure as PNG and PDF
    again = run_analysis(a, out_dir=tmp_path / "file", executor="serial", progress=False)
    a, b = np.load(out / "scan.npz"), np.load(tmp_path / "file" / "scan.npz")
    assert set(a.files) == set(b.files)
    np.testing.assert_allclose(a["chi2"], b["chi2"], rtol=1e-10)
    assert again["scan"]["best"] == summary["scan"]["best"]


def test_scan_2d_with_mass_axis(tmp_path, capsys):
    assert main(["scan", "--model", "tau-flavor", "--terms", "l3_z_gamma", "--axis", "mX=0.1:5:3:log",
                 "--axis", "gX=1e-5:1e-2:4:log", "--executor", "serial", "--no-progress",
                 "--out", str(tmp_path), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["scan"]
    assert s["n_points"] == 12 and s["dof"] == 2


def _err(argv, capsys) -> str:
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) <= 3
    return err


def test_scan_bad_flags_are_short_errors(capsys):
    base = ["scan", "--model", "tau-flavor", "--terms", "l3_z_gamma", "--mX", "1"]
    assert "--axis" in _err([*base, "--axis", "gX=1:2"], capsys)
    assert "--axis" in _err([*base, "--axis", "nope=1:2:3"], capsys)
    assert "--terms" in _err(["scan", "--model", "tau-flavor", "--terms", "zzz", "--axis", "gX=1:2:3"], capsys)
    assert "--fixed" in _err([*base, "--axis", "gX=1:2:3", "--fixed", "junk"], capsys)
    assert "--plane" in _err([*base, "--plane", "eft", "--axis", "gX=1:2:3"], capsys)


def test_default_output_folder_and_two_analyses_in_one_folder_keep_their_summaries(tmp_path, monkeypatch, capsys):
    """The first scan goes to the default folder (no --out), the second into the same folder
    by --out: one scan fewer than a test of each (the first was the default-folder test's)."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "xfit-output" / "scan"
    for name, lo in (("first", -0.3), ("second", -0.2)):
        argv = [a if a != "gX_AYY=-0.3:0.3:5" else f"gX_AYY={lo}:0.3:5" for a in ARGS]
        assert main([*argv, "--name", name, *(["--out", str(folder)] if name == "second" else [])]) == 0
        if name == "first":
            assert (folder / "first.summary.json").is_file()
            assert "best grid point" in capsys.readouterr().out
    capsys.readouterr()
    first = json.loads((folder / "first.summary.json").read_text())
    second = json.loads((folder / "second.summary.json").read_text())
    assert first["analysis"] == "first" and second["analysis"] == "second"
    assert first["scan"]["n_points"] == second["scan"]["n_points"] == 5
    assert (folder / "first.npz").is_file() and (folder / "second.npz").is_file()
