"""Loading user workspaces: schema validation, measurements, POI, interpolation settings and
one-line errors for bad input."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hf_toys import toy_workspace

from xfit.errors import DataError, InputError
from xfit.histfactory import HistFactoryModel, from_workspace

PACKAGE = Path(__file__).resolve().parents[2] / "xfit" / "histfactory"


def test_from_json_file_and_classmethod(tmp_path):
    path = tmp_path / "ws.json"
    path.write_text(json.dumps(toy_workspace()))
    a = from_workspace(path)
    b = HistFactoryModel.from_workspace(str(path), measurement="main", poi="mu")
    th = a.init + 0.05
    assert a.nll(th) == b.nll(th) and a.par_names == b.par_names and a.poi_name == "mu"


@pytest.mark.parametrize("mutate, where", [
    (lambda s: s.pop("observations"), "<root>"),
    (lambda s: s["channels"][0]["samples"][0].__setitem__("data", "many"), "channels[0].samples[0].data"),
    (lambda s: s["channels"][1]["samples"][0]["modifiers"][0].__setitem__("type", "magic"),
     "channels[1].samples[0].modifiers[0]"),
    (lambda s: s["measurements"][0]["config"].pop("poi"), "measurements[0].config"),
])
def test_invalid_workspace_is_one_line_input_error(mutate, where):
    spec = toy_workspace()
    mutate(spec)
    with pytest.raises(InputError) as exc:
        from_workspace(spec)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(f"invalid workspace at {where}:")


def test_validation_remembers_only_valid_contents(tmp_path, monkeypatch):
    """validate() skips the schema check of a content it has passed before (the sha256 of its
    canonical JSON, xfit.histfactory.layout_cache): the same spec mutated in place is checked again."""
    from xfit.histfactory import layout_cache, workspace

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    spec = toy_workspace()
    workspace.validate(spec)
    assert layout_cache.validated(layout_cache.spec_digest(spec))
    workspace.validate(toy_workspace())  # equal content: no second schema check needed, still valid
    spec["channels"][0]["samples"][0]["data"] = "many"
    assert not layout_cache.validated(layout_cache.spec_digest(spec))
    with pytest.raises(InputError, match=r"channels\[0\]\.samples\[0\]\.data"):
        workspace.validate(spec)
    assert not layout_cache.validated(layout_cache.spec_digest(spec))  # an invalid content is never remembered


def test_bad_files_and_choices(tmp_path):
    with pytest.raises(DataError, match="cannot be read"):
        from_workspace(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="is not JSON"):
        from_workspace(tmp_path / "bad.json")
    with pytest.raises(InputError, match="measurement 'nope' not in the workspace; accepted: main, qcd_norm"):
        from_workspace(toy_workspace(), measurement="nope")
    spec = toy_workspace()
    spec["version"] = "2.0.0"
    with pytest.raises(InputError, match="version '2.0.0' not supported; accepted: '1.0.0'"):
        from_workspace(spec)
    with pytest.raises(InputError, match="cannot build a model"):
        from_workspace(toy_workspace(), poi="not_a_parameter")
    spec = toy_workspace()
    spec["observations"] = spec["observations"][1:]
    with pytest.raises(InputError, match="observations: no data for channel.s. 'empty'; observations are given for 'sr'"):
        from_workspace(spec)


def test_interpolation_code_choices():
    with pytest.raises(InputError, match=r"^histosys interpolation code 'code2' not supported; accepted: code4p, code0$"):
        HistFactoryModel(toy_workspace(), modifier_settings={"histosys": {"interpcode": "code2"}})
    with pytest.raises(InputError, match=r"^normsys interpolation code 'code0' not supported; accepted: code4, code1$"):
        HistFactoryModel(toy_workspace(), modifier_settings={"normsys": {"interpcode": "code0"}})
    with pytest.raises(InputError, match="key 'staterror' not accepted"):
        HistFactoryModel(toy_workspace(), modifier_settings={"staterror": {"interpcode": "code0"}})
    m = HistFactoryModel(toy_workspace(), modifier_settings={"normsys": {"interpcode": "code1"}})
    assert m.interpolation_codes == {"normsys": "code1", "histosys": "code4p"}


def test_bad_modifier_data_names_the_modifier():
    spec = toy_workspace()
    spec["channels"][0]["samples"][1]["modifiers"][1]["data"] = {"hi": 1.1, "lo": 0.0}
    with pytest.raises(InputError, match="normsys 'bkg_norm' in channel 'sr': hi=1.1, lo=0.0"):
        from_workspace(spec)


def test_backend_knows_no_analysis():
    """Nothing in xfit/histfactory refers to a particular analysis."""
    for path in PACKAGE.glob("*.py"):
        text = path.read_text().lower()
        for word in ("belle", "knunu", "b+ ->", "hepdata"):
            assert word not in text, f"{path.name} mentions {word!r}"


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_sample_yield_that_is_not_finite_is_input_error(bad, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    spec = toy_workspace()
    sample = spec["channels"][0]["samples"][0]
    sample["data"][1] = bad
    with pytest.raises(InputError, match=rf"^sample '{sample['name']}' in channel '{spec['channels'][0]['name']}': "
                                         rf"yield {bad:g} in bin 1; accepted: finite numbers$"):
        HistFactoryModel(spec)


@pytest.mark.parametrize("mtype, key", [("histosys", "hi_data"), ("staterror", "data"), ("shapesys", "data"),
                                        ("normsys", "hi")])
def test_modifier_data_that_is_not_finite_is_input_error(mtype, key, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    spec = toy_workspace()
    ch, s, m = next((ch, s, m) for ch in spec["channels"] for s in ch["samples"] for m in s["modifiers"]
                    if m["type"] == mtype)
    if key == "data":
        m["data"][0] = float("nan")
    elif key == "hi":
        m["data"]["hi"] = float("inf")
    else:
        m["data"][key][0] = float("nan")
    with pytest.raises(InputError, match=rf"^{mtype} '{m['name']}' of sample '{s['name']}' in channel "
                                         rf"'{ch['name']}': {key} .*(nan|inf).*; accepted: finite numbers$"):
        HistFactoryModel(spec)


def test_a_modified_file_is_validated_again(tmp_path, monkeypatch):
    """Validation is remembered per content (in the process and by a marker on disk), never per
    file: a file that validated, then edited into an invalid workspace, is refused -- in the same
    process and in a new one (the in-process memory emptied, the marker of the old content left)."""
    from xfit.histfactory import layout_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(layout_cache.DISABLE_ENV, raising=False)
    monkeypatch.setattr(layout_cache, "_VALIDATED", set())
    path = tmp_path / "ws.json"
    spec = toy_workspace()
    path.write_text(json.dumps(spec))
    from_workspace(path)
    assert any((tmp_path / "cache").rglob("*")), "no validation marker written"
    spec["channels"][0]["samples"][0]["data"] = "many"
    path.write_text(json.dumps(spec))
    for fresh in (False, True):
        if fresh:
            monkeypatch.setattr(layout_cache, "_VALIDATED", set())
        with pytest.raises(InputError, match=r"^invalid workspace at channels\[0\]\.samples\[0\]\.data: "):
            from_workspace(path)


@pytest.mark.parametrize("where, bad", [("gauss", float("nan")), ("gauss", float("inf")), ("pois", float("nan")),
                                        ("pois", -3.0)])
def test_auxiliary_data_that_are_not_finite_or_negative_poisson_are_input_error(where, bad):
    """set_data/with_data checked the length of the auxiliary data only: NaN gave -ln L = NaN, a
    negative Poisson count -ln L = inf, silently, in both kernels."""
    m = HistFactoryModel(toy_workspace())
    i = int((m.constraints.gauss_aux_pos if where == "gauss" else m.constraints.pois_aux_pos)[0])
    aux = m.auxdata.copy()
    aux[i] = bad
    with pytest.raises(InputError, match=rf"^auxiliary data must be finite \(and >= 0 for Poisson constraints\); "
                                         rf"value {i} \(in pyhf's auxdata order\) is {bad:g}$"):
        m.with_data(m.observed, aux)
    aux[i] = 0.0  # zero is a valid count and a valid Gaussian centre
    assert np.isfinite(m.with_data(m.observed, aux).nll(m.init))
