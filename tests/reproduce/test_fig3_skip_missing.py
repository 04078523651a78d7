"""Fig. 3 without the Belle II data: a one-line data error, or with skip_missing a figure and
summary that say what is missing.  Run with XFIT_DATA_DIR and the cache pointed at empty
folders, so that no data set is found (in-process: the data are looked up through the
environment at every call; tests/bad_inputs/cases.yaml, ``reproduce-fig3-without-data``, runs
the same command line as ``python -m xfit``, end to end)."""
from __future__ import annotations

import json

from xfit.cli import main
from xfit.reproduce import fig3


def _no_data(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("XFIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_fig3_without_data_stops_with_the_data_message(tmp_path, monkeypatch, capsys):
    _no_data(tmp_path, monkeypatch)
    out = tmp_path / "fig3"
    assert main(["reproduce", "fig3", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) <= 3 and "Traceback" not in err
    assert "belle2_knunu" in lines[0] and "xfit data fetch belle2-knunu" in lines[0]
    assert "--skip-missing" in err
    assert not out.exists()


def test_fig3_skip_missing_says_what_is_missing(tmp_path, monkeypatch):
    _no_data(tmp_path, monkeypatch)
    out = tmp_path / "fig3"
    monkeypatch.setattr(fig3, "FIG1_MASSES", (1e-3, 0.26, 6))  # Fig. 1 on a small grid (it needs no Belle II data)
    # serial: the process executor of fig3.reproduce is exercised by tests/reproduce/test_fig3_kill.py
    # and compared with the serial one in tests/inference/test_limits_vs_mass.py
    fig3.reproduce(out, n_masses=4, progress=False, skip_missing=True, executor="serial")
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["missing_searches"]) == {"belle2_knunu"}
    assert "belle2_knunu" not in summary["limits"]
    assert any(n.startswith("belle2_knunu: missing") for n in summary["notes"])
    assert (out / "fig3.png").exists()
