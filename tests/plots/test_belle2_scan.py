"""``xfit belle2 scan`` draws the scan (xfit.plots.belle2_scan) after the library has scanned;
``--no-plots`` draws nothing.  Needs the Belle II files ($XFIT_DATA_DIR; fails without them)."""
from xfit.cli import main

FIGURES = [f"{stem}.{ext}" for stem in ("delta_chi2_vs_mX", "limits_vs_mX") for ext in ("png", "pdf")]


def test_the_command_draws_the_scan_unless_told_not_to(tmp_path, capsys):
    args = ["belle2", "scan", "--json", "--mX-min", "1.9", "--mX-max", "2.1", "--n-masses", "3"]
    assert main([*args, "--out", str(tmp_path / "drawn")]) == 0
    for name in FIGURES:
        assert (tmp_path / "drawn" / name).stat().st_size > 1000, name
    assert main([*args, "--out", str(tmp_path / "bare"), "--no-plots"]) == 0
    assert not any((tmp_path / "bare" / name).exists() for name in FIGURES)
    assert (tmp_path / "bare" / "scan_summary.json").exists()
    capsys.readouterr()
