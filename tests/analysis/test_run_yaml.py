"""Analyses as YAML files: the schema, validation messages, and ``xfit run``."""
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from xfit.analysis import SCHEMA, load_analysis, run_analysis, schema_markdown, validate_analysis
from xfit.cli import main
from xfit.errors import InputError

REPO = Path(__file__).resolve().parents[2]
ANALYSES = sorted((REPO / "analyses").glob("*.yaml"))
BROKEN = REPO / "tests" / "data" / "analyses_broken"

#: broken file -> fragments its one-line message must contain (the bad key, accepted values)
EXPECTED = {
    "unknown_key.yaml": ["unknown key 'modle'", "accepted keys:", "model", "terms"],
    "unknown_nested_key.yaml": ["unknown key 'scan.axes.gX.num'", "min, max, n, spacing, values"],
    "wrong_type.yaml": ["'scan.axes.gX.n' must be an integer", "'ten' (str)"],
    "wrong_type_seed.yaml": ["'seed' must be an integer", "1.5 (float)"],
    "unknown_model.yaml": ["unknown model 'tau-flavour'", "'model.name'", "tau-flavor, L-only"],
    "unknown_term.yaml": ["unknown likelihood term 'l3_z_gama'", "'terms[1]'", "l3_z_gamma"],
    "bad_range.yaml": ["bad range 'scan.axes.gX_AWW'", "min (0.03) must be < max (-0.03)"],
    "bad_log_range.yaml": ["bad range 'limits.masses'", "> 0 for log spacing"],
    "not_yaml.yaml": ["not valid YAML", "line 3"],
    "missing_required.yaml": ["missing required key 'terms'", "kind, model, terms, scan"],
    "missing_kind.yaml": ["missing required key 'kind'", "scan, limits, reproduce"],
    "unknown_kind.yaml": ["'kind' must be one of: scan, limits, reproduce", "'fit'"],
    "unknown_axis.yaml": ["unknown scan axis 'scan.axes.gX'", "gX_AWW, gX_AYY"],
    "bad_executor.yaml": ["'executor' must be one of: process, serial, dask", "'threads'"],
    "bad_format.yaml": ["'output.formats[1]' must be one of: png, pdf, svg", "'jpeg'"],
    "bad_cl.yaml": ["'limits.cl' must be a probability in (0.5, 1)", "90"],
    "missing_mass.yaml": ["missing 'fixed.mX'"],
    "not_a_mapping.yaml": ["must be a mapping", "(list)"],
    "empty.yaml": ["the file is empty", "'kind'"],
    "key_not_for_kind.yaml": ["key 'terms' is not used by kind 'limits'", "accepted keys for limits"],
    "limits_two_free.yaml": ["'limits.parameter' is needed", "gX_AWW, gX_AYY"],
}


def test_every_broken_file_has_an_expected_message():
    assert {p.name for p in BROKEN.glob("*.yaml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_is_rejected_with_a_one_line_message(name):
    path = BROKEN / name
    with pytest.raises(InputError) as info:
        load_analysis(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(str(path))
    for fragment in EXPECTED[name]:
        assert fragment in msg, (fragment, msg)


def test_cli_reports_invalid_file_without_traceback(capsys):
    code = main(["run", str(BROKEN / "unknown_term.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("xfit run: error:") and "l3_z_gama" in err
    assert main(["run", str(REPO / "no-such-file.yaml")]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize("path", ANALYSES, ids=[p.stem for p in ANALYSES])
def test_shipped_analyses_are_valid(path):
    a = load_analysis(path)
    assert a.kind in ("scan", "limits", "reproduce") and a.name == path.stem


def test_shipped_analyses_cover_the_studies():
    names = {p.stem for p in ANALYSES}
    assert {"fig1", "fig2", "fig3", "chiral_plane", "profile_1d"} <= names
    kinds = {p.stem: load_analysis(p).kind for p in ANALYSES}
    assert kinds["fig3"] == "limits" and kinds["fig2"] == "scan" and kinds["chiral_plane"] == "scan"


def test_check_option(capsys):
    assert main(["run", "--check", *map(str, ANALYSES)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok (") == len(ANALYSES)


def test_run_fig2_scan_via_cli(tmp_path, capsys):
    code = main(["run", str(REPO / "analyses" / "fig2.yaml"), "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    assert "best grid point" in capsys.readouterr().out
    for f in ("fig2.npz", "fig2.json", "fig2.png", "fig2.pdf", "summary.json"):
        assert (tmp_path / f).stat().st_size > 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["scan"]["n_points"] == 40000 and summary["scan"]["dof"] == 2
    assert summary["metadata"]["likelihood_terms"] == ["b_to_s_emiss", "l3_z_gamma"]
    with np.load(tmp_path / "fig2.npz") as z:
        assert z["chi2"].shape == (200, 200)


def test_run_fig1_limits(tmp_path):
    a = load_analysis(REPO / "analyses" / "fig1.yaml")
    # the PNG checked below only: the PDF of a limits figure (plot_limits, ~0.35 s here) is written
    # by the session's `xfit reproduce fig3` (tests/conftest.py), the formats of a file by test_run_fig2_scan_via_cli
    assert a.output["formats"] == ["png", "pdf"]
    a.output["formats"] = ["png"]
    summary = run_analysis(a, out_dir=tmp_path, progress=False)
    assert set(summary["limits"]) == {"na62_k_pi", "koto_kl_pi0"}
    c = summary["limits"]["na62_k_pi"]
    assert set(c) == {"mX", "gX_AWW_90"} and len(c["mX"]) == 260
    assert (tmp_path / "fig1.png").is_file() and (tmp_path / "fig1.limits.json").is_file()


def test_run_derived_scan_and_resume(tmp_path):
    raw = yaml.safe_load((REPO / "analyses" / "profile_br_z.yaml").read_text())
    raw["scan"]["axes"]["BR(Z->gammaX)"]["n"] = 8
    raw["scan"]["chunk_size"] = 3
    # one figure format: resuming is about the chunks, and the PDF of a 1D scan is written by the
    # `xfit scan` tests (tests/cli/test_scan.py); PNG keeps the figure step in both runs
    raw["output"]["formats"] = ["png"]
    a = validate_analysis(raw, "inline", stem="brz")
    first = run_analysis(a, out_dir=tmp_path, executor="serial", progress=False)
    chunks = tmp_path / "brz.chunks.jsonl"
    assert len(chunks.read_text().splitlines()) == 1 + 3
    again = run_analysis(a, out_dir=tmp_path, executor="serial", progress=False)
    assert again["scan"]["best"] == first["scan"]["best"]
    assert first["scan"]["n_invalid"] == 0


def test_model_forms_and_executor_mapping():
    base = {"kind": "scan", "terms": ["b_to_s_emiss"], "fixed": {"mX": 2.1},
            "scan": {"axes": {"gX": {"min": 0.0, "max": 0.03, "n": 5}}}}
    for model in ({"charges": {"alpha_tau": 1}}, {"chiral": {"alpha_L": 1, "alpha_R": 0}},
                  {"wess_zumino": {"A_WW": -1, "A_YY": 1}}, {"name": "L-only", "XS": 2}):
        a = validate_analysis({**base, "model": model}, "inline")
        assert a.build_model().parameters == ("gX",)
    a = validate_analysis({**base, "model": "tau-flavor", "executor": {"type": "process", "workers": 1}}, "inline")
    assert a.executor_spec() == {"type": "process", "workers": 1, "address": None}
    with pytest.raises(InputError, match="exactly one of"):
        validate_analysis({**base, "model": {"name": "tau-flavor", "plane": "eft"}}, "inline")
    with pytest.raises(InputError, match="inline: model: XS is not an option of the eft plane"):
        validate_analysis({**base, "model": {"plane": "eft", "XS": 2}}, "inline")


def test_reproduce_kind():
    a = validate_analysis({"kind": "reproduce", "figure": "fig3", "output": {"dir": "x"}}, "inline", stem="f3")
    assert a.figure == "fig3" and a.output["dir"] == "x"
    with pytest.raises(InputError, match="'figure' must be one of: fig2, fig3"):
        validate_analysis({"kind": "reproduce", "figure": "fig9"}, "inline")
    with pytest.raises(InputError, match="key 'model' is not used by kind 'reproduce'"):
        validate_analysis({"kind": "reproduce", "figure": "fig2", "model": "tau-flavor"}, "inline")


def test_schema_is_documented():
    """docs/inference.md holds exactly the generated tables (regenerate: python -m xfit.analysis)."""
    doc = (REPO / "docs" / "inference.md").read_text()
    begin = doc.index("do not edit -->\n\n") + len("do not edit -->\n\n")
    end = doc.index("<!-- end of schema -->")
    assert doc[begin:end] == schema_markdown()
    for section, keys in SCHEMA.items():
        for k in keys:
            assert f"| `{k.name}` |" in doc[begin:end], (section, k.name)


def test_defaults_are_the_values_used():
    """An analysis that gives no optional key gets exactly the schema's defaults."""
    from xfit.analysis.schema import default

    a = validate_analysis({"kind": "limits", "model": "tau-flavor",
                           "limits": {"masses": {"min": 0.1, "max": 1.0, "n": 3}, "searches": ["na62_k_pi"]}},
                          "inline", stem="lim")
    assert a.name == "lim" and a.output == {"dir": "xfit-output/lim", "formats": ["png", "pdf"], "stem": "lim"}
    assert (a.seed, a.progress, a.resume, a.description) == (0, True, True, "")
    assert a.executor == {"type": "process", "workers": 2, "address": None}
    for k in ("combined", "projections", "cl", "g_min", "g_max", "points_per_decade", "chunk_size", "xscale"):
        assert a.limits[k] == default("limits", k), k
    assert a.limits["bands"] == {k: default("limits.bands", k) for k in ("direct_y", "naturalness_delta",
                                                                          "naturalness_y")}
    assert a.limits["masses"]["spacing"] == default("range", "spacing") == "linear"
    assert a.model == {"name": "tau-flavor", "loop_normalisation": default("model", "loop_normalisation"),
                       "goldstone": default("model", "goldstone"), "ew_scheme": default("model", "ew_scheme")}
    assert a.build_model().XS == default("model", "XS")
    s = validate_analysis({"kind": "scan", "model": {"plane": "eft"}, "terms": ["l3_z_gamma"], "fixed": {"mX": 2.1},
                           "scan": {"axes": {"gX_AYY": {"min": -0.1, "max": 0.1, "n": 3}}}}, "inline")
    assert s.scan["penalty_width"] == default("scan", "penalty_width") and "chunk_size" not in s.scan
    assert s.terms == [{"name": "l3_z_gamma", "options": {}, "label": None}]


def test_model_summary_describes_the_model(tmp_path):
    raw = yaml.safe_load((REPO / "analyses" / "profile_1d.yaml").read_text())
    raw["scan"]["axes"] = {"gX_AYY": {"min": -0.1, "max": 0.1, "n": 3}}
    raw["output"]["formats"] = ["png"]  # the summary is the subject (PDFs of 1D scans: tests/cli/test_scan.py)
    summary = run_analysis(validate_analysis(raw, "inline", stem="p1"), out_dir=tmp_path, executor="serial",
                           progress=False)
    assert summary["model"]["name"] == "eft-plane" and summary["model"]["loop_normalisation"] == "derived"
    assert list(summary["model"]["parameters"]) == ["gX_AWW", "gX_AYY"]


def test_unknown_axis_lists_each_accepted_axis_once():
    d = {"kind": "scan", "model": "tau-flavor", "terms": ["b_to_s_emiss"], "fixed": {"mX": 2.1},
         "scan": {"axes": {"nope": {"min": 0.0, "max": 1.0, "n": 3}}}}
    with pytest.raises(InputError) as exc:
        validate_analysis(d)
    accepted = str(exc.value).split("accepted: ", 1)[1].split(", ")
    assert "gX" in accepted and "BR(K+->pi+X)" in accepted
    assert len(accepted) == len(set(accepted))
