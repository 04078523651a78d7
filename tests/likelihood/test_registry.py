"""The registry: one term per measurement data file, projections refused unless asked for,
`xfit terms`, and Fig. 3 defined once (analyses/fig3.yaml, shipped as package data)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from xfit.datafiles import load_data_file
from xfit.errors import DataError, InputError
from xfit.likelihood import (
    available_terms,
    build_likelihood,
    chi2_threshold_one_sided,
    describe_terms,
    get_term,
    measurement_files,
)
from xfit.likelihood.measurements import build_measurement

REPO = Path(__file__).resolve().parents[2]
CODE_TERMS = {"b_to_s_emiss", "belle2_knunu"}


def test_every_measurement_file_is_a_registered_term():
    files = measurement_files()
    assert set(files) <= set(available_terms())
    on_disk = {}
    for folder in ("limits", "fits"):
        for p in sorted((REPO / "data" / folder).glob("*.yaml")):
            d = yaml.safe_load(p.read_text())
            if "name" in d:
                on_disk[d["name"]] = f"{folder}/{p.name}"
    assert on_disk == files
    # every term is a data file; code terms are the two that need code
    assert set(available_terms()) == set(files)
    assert {n for n, f in files.items() if load_data_file(f).get("implementation")} == CODE_TERMS


def test_no_thin_per_experiment_modules_are_left():
    modules = {p.stem for p in (REPO / "likelihoods").glob("*.py")} - {"__init__"}
    assert modules == CODE_TERMS


@pytest.mark.parametrize("name", sorted(measurement_files()))
def test_term_carries_its_file_metadata(name):
    d = load_data_file(measurement_files()[name])
    term = get_term(name, **({"allow_unverified": True} if d.get("verified") is False else {}))
    assert term.name == name
    assert term.likelihood == d["likelihood"]
    assert term.citation.bibtex_key == d["citation"]["bibtex_key"]
    assert term.citation.bibtex_key_verified is d["citation"].get("bibtex_key_verified", True)
    assert term.label == d["label"] and term.colour == d["colour"]
    assert term.projection is bool(d.get("projection", False))
    assert term.description


def test_projections_are_refused_unless_asked_for():
    with pytest.raises(InputError, match="projection") as exc:
        build_likelihood("l3_z_gamma,fcc_ee_z_gamma")
    msg = str(exc.value)
    assert "fcc_ee_z_gamma" in msg and "projections=True" in msg and "\n" not in msg
    lik = build_likelihood("l3_z_gamma,fcc_ee_z_gamma", projections=True)
    assert lik.names == ("l3_z_gamma", "fcc_ee_z_gamma")
    assert get_term("fcc_ee_z_gamma").projection is True  # a single term can still be built


def test_unknown_option_names_the_accepted_ones():
    with pytest.raises(InputError, match="unknown option 'colour'.*accepted: include_pi0_window, mass_range"):
        get_term("na62_k_pi", colour="red")
    with pytest.raises(InputError, match="accepted: 'ref42', 'naive'"):
        get_term("fcc_ee_z_gamma", estimate="optimistic")


def test_unverified_value_is_refused_by_default():
    with pytest.raises(DataError, match="not verified"):
        get_term("cleo_d_to_pi")
    assert get_term("cleo_d_to_pi", allow_unverified=True).verified is False


def test_a_new_limit_is_one_yaml_file(tmp_path):
    """The docs/data.md recipe: a data file alone gives a working term."""
    text = (REPO / "docs" / "data.md").read_text()
    block = text.split("## Adding a published limit: one YAML file", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my_search.yaml").write_text(block)
    d = load_data_file(tmp_path / "my_search.yaml")
    term = build_measurement(d, "my_search.yaml")
    assert term.name == "my_search" and term.likelihood == "half-gaussian"
    p = {"mX": np.array([0.1, 0.2]), "BR(K+->pi+X)": np.full(2, 1e-10), "BR(X->invisible)": np.ones(2)}
    np.testing.assert_allclose(term.chi2(p), chi2_threshold_one_sided(0.90), rtol=1e-12)
    assert term.chi2(dict(p, mX=np.array([0.3, 1.0]))).tolist() == [0.0, 0.0]


def test_describe_terms_and_cli(capsys):
    from xfit.cli import main

    rows = describe_terms()
    assert [r["name"] for r in rows] == available_terms()
    for r in rows:
        assert set(r) == {"name", "likelihood", "observables", "mass_range", "citation", "projection"}
        assert r["mass_range"][0] < r["mass_range"][1] and r["observables"] and r["citation"]
    assert main(["terms", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(rows))
    assert main(["terms"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["name", "likelihood"] and len(out) == 2 + len(rows)
    assert any(line.startswith("fcc_ee_z_gamma") and " yes " in line for line in out)


def test_fig3_is_defined_once_in_the_shipped_analysis_file():
    from importlib import resources

    from xfit.analysis import load_analysis
    from xfit.reproduce import fig3

    shipped = resources.files("xfit.analyses").joinpath("fig3.yaml").read_text()
    assert shipped == (REPO / "analyses" / "fig3.yaml").read_text()
    a = load_analysis(REPO / "analyses" / "fig3.yaml")
    assert list(fig3.SEARCHES) == [t["name"] for t in a.limits["searches"]]
    assert list(fig3.PROJECTIONS) == [t["name"] for t in a.limits["projections"]]
    assert {k: v[0] for k, v in fig3.SEARCHES.items()} == {t["name"]: t["options"] for t in a.limits["searches"]}
    m = a.limits["masses"]
    assert (fig3.MASS_RANGE, fig3.N_MASSES) == ((m["min"], m["max"]), m["n"])
    assert fig3.CL == a.limits["cl"] and fig3.MODEL == a.model["name"]
    # package data: pyproject ships analyses/*.yaml as xfit.analyses
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"xfit.analyses" = "analyses"' in pyproject and '"xfit.analyses" = ["*.yaml"]' in pyproject
