"""Review fixes: analysis-file validation (bands, kind reproduce), output directories,
Table II in closed form, shared v_X / m_Psi, input checks of the anomalon tools, Fig. 1/3."""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from xfit.analysis import load_analysis, run_analysis, validate_analysis
from xfit.cli import main
from xfit.errors import InputError
from xfit.reproduce import ensure_output_dir

REPO = Path(__file__).resolve().parents[2]


def _fig1_raw():
    return yaml.safe_load((REPO / "analyses" / "fig1.yaml").read_text())


# --- 1. limits.bands -----------------------------------------------------------------------

@pytest.mark.parametrize("key, value", [("naturalness_delta", [100, -1000]), ("naturalness_delta", [0]),
                                        ("direct_y", [-1.0]), ("naturalness_y", -3.5)])
def test_bands_must_be_positive(key, value):
    raw = _fig1_raw()
    raw["limits"]["bands"] = {key: value}
    with pytest.raises(InputError) as info:
        validate_analysis(raw, "inline", stem="fig1")
    msg = str(info.value)
    assert "\n" not in msg and f"limits.bands.{key}" in msg and "> 0" in msg


def test_bands_positive_values_accepted():
    raw = _fig1_raw()
    raw["limits"]["bands"] = {"naturalness_delta": [100, 1000], "direct_y": [1.0]}
    a = validate_analysis(raw, "inline", stem="fig1")
    assert a.limits["bands"]["naturalness_delta"] == [100.0, 1000.0]


# --- 2. output directories -----------------------------------------------------------------

def test_ensure_output_dir(tmp_path):
    assert ensure_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="cannot create output directory .*file"):
        ensure_output_dir(f)
    with pytest.raises(InputError, match="cannot create output directory"):
        ensure_output_dir(f / "sub")
    with pytest.raises(InputError, match="cannot create output directory '/proc/forbidden'"):
        ensure_output_dir("/proc/forbidden")


@pytest.mark.parametrize("figure", ["fig2", "fig1"])
def test_cli_reproduce_bad_out_is_one_line(tmp_path, capsys, figure):
    f = tmp_path / "file"
    f.write_text("x")
    for out in (str(f), "/proc/forbidden"):
        code = main(["reproduce", figure, "--out", out])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and re.search(r"--out '.*' is (an existing file|a system folder)", err)


def test_run_analysis_bad_output_dir(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    a = load_analysis(REPO / "analyses" / "fig1.yaml")
    with pytest.raises(InputError, match="--out '.*file' is an existing file"):
        run_analysis(a, out_dir=f, progress=False)
    raw = _fig1_raw()
    raw["output"]["dir"] = str(f)
    with pytest.raises(InputError, match="output.dir '.*file' is an existing file"):
        run_analysis(validate_analysis(raw, "inline", stem="fig1"), progress=False)


# --- 3. kind reproduce ---------------------------------------------------------------------

@pytest.mark.parametrize("extra, bad", [({"output": {"formats": ["svg"]}}, "output.formats"),
                                        ({"output": {"stem": "x"}}, "output.stem"),
                                        ({"executor": "serial"}, "executor"),
                                        ({"progress": False}, "progress")])
def test_reproduce_fig2_rejects_unused_keys(extra, bad):
    with pytest.raises(InputError) as info:
        validate_analysis({"kind": "reproduce", "figure": "fig2", **extra}, "inline")
    msg = str(info.value)
    assert "\n" not in msg and repr(bad) in msg and "accepted keys: kind, name, description, figure, output.dir" in msg


def test_reproduce_rejects_seed():
    with pytest.raises(InputError, match="key 'seed' is not used by kind 'reproduce'"):
        validate_analysis({"kind": "reproduce", "figure": "fig3", "seed": 1}, "inline")


def test_reproduce_fig3_passes_executor_and_progress(tmp_path, monkeypatch):
    from xfit.reproduce import fig3

    seen = {}

    def fake(out, executor=None, progress=True):
        seen.update(out=out, executor=executor, progress=progress)
        (Path(out) / "summary.json").write_text("{}")
        return {"files": [str(Path(out) / "fig3.png"), str(Path(out) / "summary.json")]}

    monkeypatch.setattr(fig3, "reproduce", fake)
    a = validate_analysis({"kind": "reproduce", "figure": "fig3", "executor": "serial", "progress": False,
                           "output": {"dir": str(tmp_path)}}, "inline", stem="f3")
    summary = run_analysis(a)
    assert seen["executor"]["type"] == "serial" and seen["progress"] is False
    assert summary["files"].count(str(tmp_path / "summary.json")) == 1
    assert json.loads((tmp_path / "summary.json").read_text())["figure"] == "fig3"


# --- 4. Table II ---------------------------------------------------------------------------

def test_table_ii_huge_m_max_is_closed_form():
    from xfit.anomalons.chiral_tau import table_II

    assert table_II(10**9) == table_II(10)
    assert [r["m"] for r in table_II(10**9)] == ["2", "4", "inf"]
    assert [r["m"] for r in table_II(3)] == ["2", "inf"]
    with pytest.raises(InputError, match="m_max must be a positive integer"):
        table_II(0)


# --- 5. shared implementations -------------------------------------------------------------

def test_unitarity_reuses_couplings():
    from xfit.anomalons import unitarity
    from xfit.physics import couplings

    assert unitarity.anomalon_mass is couplings.anomalon_mass
    assert float(unitarity.vev_X(2.1, 0.018)) == pytest.approx(float(couplings.breaking_scale(2.1, 0.018)))


# --- 6. input checks -----------------------------------------------------------------------

@pytest.mark.parametrize("mX, gX", [(2.1, 0.0), (2.1, 1e-320), (1e308, 1e-10)])
def test_vev_not_finite_is_input_error(mX, gX):
    from xfit.anomalons.unitarity import mass_ceiling, vev_X

    with pytest.raises(InputError, match="not finite"):
        vev_X(mX, gX)
    with pytest.raises(InputError, match="not finite"):
        mass_ceiling(2, "DL", 1, mX, gX)


def test_cli_bounds_extreme_input_is_one_line(capsys):
    code = main(["anomalons", "bounds", "--gX", "1e-320"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not finite" in err


def test_colored_solutions_accepts_plain_models():
    from xfit.anomalons.classify import scan_1ml_1dl
    from xfit.anomalons.colored import colored_solutions

    cands = scan_1ml_1dl(10, 10)
    from_candidates = colored_solutions(cands)
    models = [c.model for c in cands]
    assert len(colored_solutions(models)) >= len(from_candidates) > 0


def test_negative_dynkin_rejected():
    from xfit.anomalons.field_content import parse_field

    spec = {"name": "Q", "chirality": "L", "n": 1, "Y": 0, "X": 1, "color": 3, "dynkin": "-1/2"}
    with pytest.raises(InputError, match=r"dynkin .* must be >= 0.*got -1/2"):
        parse_field(spec, 0)
    assert parse_field({**spec, "dynkin": "1/2"}, 0)[1] == 0.5


# --- 7. Fig. 1 / Fig. 3 --------------------------------------------------------------------

def test_fig3_threshold_from_cl():
    import inspect

    from xfit.likelihood import chi2_threshold_one_sided
    from xfit.reproduce import fig3

    assert "1.642" not in inspect.getsource(fig3.reproduce)
    assert round(chi2_threshold_one_sided(fig3.CL), 3) == 1.642


def test_cli_fig1_computes_fig1_only(tmp_path, monkeypatch, capsys):
    from xfit.reproduce import fig3

    def no_fig3(*a, **k):
        raise AssertionError("xfit reproduce fig1 must not run Fig. 3")

    monkeypatch.setattr(fig3, "fig3_limits", no_fig3)
    # a small grid: the full 260 masses (the same as analyses/fig1.yaml) run in tests/analysis/test_run_yaml.py
    full = load_analysis(REPO / "analyses" / "fig1.yaml").limits["masses"]
    assert fig3.FIG1_MASSES == (full["min"], full["max"], full["n"])
    monkeypatch.setattr(fig3, "FIG1_MASSES", (1e-3, 0.26, 6))
    assert main(["reproduce", "fig1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "NA62" not in out or "g_X A_XWW" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["limits"]) == {"na62_k_pi", "koto_kl_pi0"}
    assert summary["parameter"] == "gX_AWW"
    assert all(v is None or (v > 0 and math.isfinite(v)) for v in summary["limits"]["na62_k_pi"]["gXAWW_90"])
    for ext in ("png", "pdf"):
        assert (tmp_path / f"fig1.{ext}").stat().st_size > 0
    assert not (tmp_path / "fig3.png").exists()
    assert np.isfinite(summary["timing_s"]["total"])
