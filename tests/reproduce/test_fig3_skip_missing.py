"""Fig. 3 without the Belle II data: a one-line data error, or with skip_missing a figure and
summary that say what is missing.  Run in a subprocess with XFIT_DATA_DIR and the cache
pointed at empty folders, so that no data set is found."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "cache").mkdir()
    return dict(os.environ, XFIT_DATA_DIR=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"),
                MPLBACKEND="Agg", PYTHONPATH=str(ROOT))


def test_fig3_without_data_stops_with_the_data_message(tmp_path):
    out = tmp_path / "fig3"
    proc = subprocess.run([sys.executable, "-m", "xfit", "reproduce", "fig3", "--out", str(out)],
                          capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) <= 3 and "Traceback" not in proc.stderr
    assert "belle2_knunu" in lines[0] and "xfit data fetch belle2-knunu" in lines[0]
    assert "--skip-missing" in proc.stderr
    assert not out.exists()


def test_fig3_skip_missing_says_what_is_missing(tmp_path):
    out = tmp_path / "fig3"
    code = ("from xfit.reproduce import fig3; import sys; "
            "fig3.FIG1_MASSES = (1e-3, 0.26, 6); "  # Fig. 1 on a small grid (it needs no Belle II data)
            f"fig3.reproduce({str(out)!r}, n_masses=4, progress=False, skip_missing=True)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(tmp_path),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["missing_searches"]) == {"belle2_knunu"}
    assert "belle2_knunu" not in summary["limits"]
    assert any(n.startswith("belle2_knunu: missing") for n in summary["notes"])
    assert (out / "fig3.png").exists()
