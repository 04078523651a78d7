"""Pinned sha256 of external files: modified Belle II files are refused before use unless the
user opts in (XFIT_ALLOW_MODIFIED_DATA=1 / xfit --allow-modified-data, one warning per file);
the "inputs" block of results names the digests of the files actually used."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from xfit import datasets
from xfit.belle2 import files
from xfit.errors import DataError, InputError

SHARED = Path(os.environ.get("XFIT_DATA_DIR", "/nonexistent")) / files.DATASET
WARNING = "warning: using modified data file"


def real_bytes() -> dict[str, bytes]:
    out = {}
    for name in files.FILES:
        p = SHARED / name
        assert p.is_file(), f"Belle II test data missing: {p} (set XFIT_DATA_DIR)"
        out[name] = p.read_bytes()
    return out


def change_one_observed_count(b: bytes) -> bytes:
    spec = json.loads(b)
    spec["observations"][0]["data"][0] += 1
    return json.dumps(spec).encode()


def scale_one_background(b: bytes) -> bytes:
    spec = json.loads(b)
    channel = next(c for c in spec["channels"] if c["name"].startswith("A__"))
    sample = next(s for s in channel["samples"] if s["name"] != "signal")
    sample["data"] = [1.01 * x for x in sample["data"]]
    return json.dumps(spec).encode()


def swap_two_q2_columns(b: bytes) -> bytes:
    lines = []
    for line in b.decode().splitlines():
        cells = line.split(",")
        cells[10], cells[11] = cells[11], cells[10]
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


MODIFICATIONS = {
    "observed count +1": (files.WORKSPACE_FILE, change_one_observed_count),
    "background x 1.01": (files.WORKSPACE_FILE, scale_one_background),
    "q2 columns swapped": ("number_density_ita_regA.csv", swap_two_q2_columns),
}


@pytest.fixture
def modified_data(tmp_path, monkeypatch, request):
    """XFIT_DATA_DIR with the real files, one of them modified; returns (name, path)."""
    name, mutate = MODIFICATIONS[request.param]
    d = tmp_path / "data" / files.DATASET
    d.mkdir(parents=True)
    for n, b in real_bytes().items():
        (d / n).write_bytes(mutate(b) if n == name else b)
    assert files.sha256_of(d / name) != files.FILES[name]
    monkeypatch.setenv("XFIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(datasets.ALLOW_ENV, "0")
    datasets.reset_record()
    return name, d / name


def load(name: str):
    return files.load_workspace() if name == files.WORKSPACE_FILE else files.load_number_densities()


@pytest.mark.parametrize("modified_data", list(MODIFICATIONS), indirect=True)
def test_modified_file_is_refused_with_the_digests(modified_data):
    name, path = modified_data
    with pytest.raises(DataError) as e:
        load(name)
    msg = str(e.value)
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    assert str(path) in msg and "not the pinned version" in msg
    assert f"sha256 {actual}, expected {files.FILES[name]}" in msg
    assert "xfit data fetch belle2-knunu --force" in msg and "--allow-modified-data" in msg
    assert len(msg.splitlines()) == 3
    assert datasets.inputs_block()["files"] == {}  # nothing was used


@pytest.mark.parametrize("modified_data", list(MODIFICATIONS), indirect=True)
def test_modified_file_accepted_with_opt_in_and_one_warning(modified_data, monkeypatch, capsys):
    name, path = modified_data
    monkeypatch.setenv(datasets.ALLOW_ENV, "1")
    load(name)
    load(name)
    files.verify_file(name, path)
    err = capsys.readouterr().err
    assert err.count(WARNING) == 1 and str(path) in err
    block = datasets.inputs_block()
    key = f"{files.DATASET}/{name}"
    assert block["files"][key] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert block["modified"] == [key]


@pytest.mark.parametrize("modified_data", ["q2 columns swapped"], indirect=True)
def test_scan_fingerprint_sees_modified_number_densities(modified_data, monkeypatch):
    name, path = modified_data
    with pytest.raises(DataError, match="not the pinned version"):
        files.input_digests()
    monkeypatch.setenv(datasets.ALLOW_ENV, "1")
    digests = files.input_digests()
    assert set(digests) == set(files.FILES)
    assert digests[name] == files.sha256_of(path) != files.FILES[name]
    assert digests[files.WORKSPACE_FILE] == files.FILES[files.WORKSPACE_FILE]


def test_inputs_block_names_the_real_digests(monkeypatch):
    monkeypatch.delenv(datasets.ALLOW_ENV, raising=False)
    datasets.reset_record()
    files.load_workspace()
    files.load_number_densities()
    block = datasets.inputs_block()
    from xfit import __version__

    assert block["xfit_version"] == __version__ and "modified" not in block
    assert block["files"] == {f"{files.DATASET}/{n}": hashlib.sha256((SHARED / n).read_bytes()).hexdigest()
                              for n in files.FILES}
    assert block["files"][f"{files.DATASET}/{files.WORKSPACE_FILE}"] == \
        "9ec0d563197912e03e31de202f04fea10babe39a10de99b9770d9292df285ab3"
    # cached loads are recorded again after a reset
    datasets.reset_record()
    files.load_workspace()
    assert list(datasets.inputs_block()["files"]) == [f"{files.DATASET}/{files.WORKSPACE_FILE}"]


def test_fit_sm_json_carries_the_inputs_block(belle2_fit_sm_json):
    out = belle2_fit_sm_json  # `xfit belle2 fit-sm --json` without the opt-in, once per session (tests/conftest.py)
    assert out["inputs"]["files"][f"{files.DATASET}/{files.WORKSPACE_FILE}"] == files.FILES[files.WORKSPACE_FILE]


@pytest.mark.parametrize("modified_data", ["background x 1.01"], indirect=True)
def test_cli_flag_allows_modified_data(modified_data, capsys):
    from xfit.cli import main

    assert main(["data", "status", "belle2-knunu"]) == 3
    assert "not the pinned version" in capsys.readouterr().out
    assert main(["--allow-modified-data", "data", "status", "belle2-knunu"]) == 0
    assert os.environ[datasets.ALLOW_ENV] == "1"  # restored to "0" by the fixture's monkeypatch
    out, err = capsys.readouterr()
    assert "MODIFIED" in out and err.count(WARNING) == 1


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_opt_in_value_is_input_error(monkeypatch, value):
    monkeypatch.setenv(datasets.ALLOW_ENV, value)
    with pytest.raises(InputError, match=f"XFIT_ALLOW_MODIFIED_DATA must be 1 or 0, got '{value}'"):
        datasets.allow_modified()


def test_registry():
    ds = datasets.get("belle2-knunu")
    assert ds is files.DATASET_SPEC and ds.files == files.FILES and ds.hepdata_record == "ins2947386"
    assert "belle2-knunu" in datasets.available()
    with pytest.raises(InputError, match="unknown data set 'nope'; known: .*belle2-knunu"):
        datasets.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        datasets.register(datasets.Dataset(name="belle2-knunu", directory="x", files={}, description=""))
