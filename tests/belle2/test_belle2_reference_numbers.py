"""The numbers of ``xfit belle2 fit-sm --json`` and of the default ``xfit belle2 scan --json``
(best fit, Z_local and every observed and expected limit of the 101-mass grid) are those of
the code before the statistics moved to xfit.inference, to 1e-6 relative
(tests/data/belle2_reference_numbers.json).  Needs $XFIT_DATA_DIR (fails without)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "data" / "belle2_reference_numbers.json").read_text())
RTOL = 1e-6


def _compare(ours, ref, path=""):
    if isinstance(ref, dict):
        if path == "":  # outputs now also name their inputs (sha256 of every file, xfit version)
            assert set(ours["inputs"]["files"]) >= {"belle2_knunu/combined_likelihood.json"}
            ours = {k: v for k, v in ours.items() if k not in ("inputs", "pulls", "gof", "impacts")}
        assert set(ours) == set(ref), path
        for k in ref:
            _compare(ours[k], ref[k], f"{path}/{k}")
    elif isinstance(ref, list):
        assert len(ours) == len(ref), path
        for i, (a, b) in enumerate(zip(ours, ref)):
            _compare(a, b, f"{path}[{i}]")
    elif isinstance(ref, float):
        assert math.isclose(ours, ref, rel_tol=RTOL, abs_tol=0.0), (path, ours, ref)
    else:
        assert ours == ref, (path, ours, ref)


def test_fit_sm_numbers_unchanged(capsys):
    from xfit.cli import main

    assert main(["belle2", "fit-sm", "--json", "--no-impacts"]) == 0
    out = json.loads(capsys.readouterr().out)
    out.pop("fit_seconds")
    _compare(out, REFERENCE["fit_sm"])


def test_default_scan_numbers_unchanged(tmp_path, capsys):
    from xfit.cli import main

    assert main(["belle2", "scan", "--json", "--out", str(tmp_path / "scan"), "--no-plots"]) == 0
    out = json.loads(capsys.readouterr().out)
    out.pop("seconds")
    _compare(out, REFERENCE["scan"])
    assert out["best_fit"]["mX"] == pytest.approx(2.108, abs=1e-3) and out["Z_local"] == pytest.approx(3.63, abs=5e-3)
