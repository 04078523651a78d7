"""HEPData submissions of limit curves (xfit/hepdata.py), validated with hepdata-validator."""
import numpy as np
import pytest
import yaml

from xfit.errors import InputError
from xfit.hepdata import LimitCurve, validation_errors, write_limits_submission


def curve(name="Belle II B+ -> K+ X", with_band=True):
    m = np.array([0.5, 1.0, 2.0, 4.8])
    obs = [1.1e-5, 9.0e-6, 2.0e-5, None]  # no limit above the efficiency range
    scale = {"-2": 0.5, "-1": 0.7, "0": 1.0, "1": 1.4, "2": 1.9}  # an asymmetric band
    band = {k: [8e-6 * f, 8e-6 * f, 1.5e-5 * f, None] for k, f in scale.items()} if with_band else {}
    return LimitCurve(name=name, description="B+ -> K+ X with the Belle II likelihood.", mX=m, observed=obs,
                      quantity="B(B+ -> K+ X) x B(X -> invisible)", cl=0.95, expected=band,
                      reactions=["B+ --> K+ X"], observables=["BR"], references=["2311.14647"])


def test_submission_validates_and_has_axes_units_cl_bands(tmp_path):
    path = write_limits_submission(tmp_path / "hd", [curve(), curve("g_X limit", with_band=False)],
                                   comment="xfit test", references=["2603.04394"])
    assert path.is_file() and validation_errors(tmp_path / "hd") == []
    assert (tmp_path / "hd.tar.gz").is_file()
    docs = list(yaml.safe_load_all(path.read_text()))
    tables = [d for d in docs if d and "data_file" in d]
    assert [t["name"] for t in tables] == ["Belle II B+ -> K+ X", "g_X limit"]
    assert "1 of 4 masses have no limit" in tables[0]["description"]
    assert any("2603.04394" in r["location"] for r in docs[0]["additional_resources"])
    data = yaml.safe_load((tmp_path / "hd" / tables[0]["data_file"]).read_text())
    x = data["independent_variables"][0]
    assert x["header"] == {"name": "$m_X$", "units": "GeV"} and [v["value"] for v in x["values"]] == [0.5, 1.0, 2.0]
    obs, exp = data["dependent_variables"]
    assert obs["qualifiers"] == [{"name": "CL", "value": "95%"}]
    errs = exp["values"][0]["errors"]
    assert {e["label"] for e in errs} == {"1 sigma", "2 sigma"}
    one = next(e for e in errs if e["label"] == "1 sigma")["asymerror"]
    assert one["minus"] == pytest.approx(-0.3 * 8e-6) and one["plus"] == pytest.approx(0.4 * 8e-6)


def test_bad_tables_are_clear_errors(tmp_path):
    bad = curve()
    bad.observed = bad.observed[:2]
    with pytest.raises(InputError, match="2 observed limits for 4 masses"):
        write_limits_submission(tmp_path / "x", [bad], comment="")
    with pytest.raises(InputError, match="without / or"):
        write_limits_submission(tmp_path / "x", [curve("a/b")], comment="")
    with pytest.raises(InputError, match="unique"):
        write_limits_submission(tmp_path / "x", [curve(), curve()], comment="")
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="is a file"):
        write_limits_submission(tmp_path / "file", [curve()], comment="")
