"""Locating, verifying and downloading the Belle II B+ -> K+ nu nubar files.

The real files are read from $XFIT_DATA_DIR (.ci/run points it at ../shared/data); tests that need
them fail when they are missing.  Downloads are tested against a local HTTP server on
127.0.0.1 that mimics HEPData's endpoints (record JSON, resource list, resource files, original
submission archive).
"""
from __future__ import annotations

import http.server
import io
import json
import os
import shutil
import tarfile
import threading
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from xfit.belle2 import files  # noqa: E402
from xfit.datasets.download import Limits  # noqa: E402
from xfit.errors import DataError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

DATA = Path(os.environ.get("XFIT_DATA_DIR", "/nonexistent")) / files.DATASET


def real_bytes() -> dict[str, bytes]:
    """The reference files (the test fails if they are not available)."""
    out = {}
    for name in files.FILES:
        p = DATA / name
        assert p.is_file(), f"Belle II test data missing: {p} (set XFIT_DATA_DIR)"
        out[name] = p.read_bytes()
    return out


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty XFIT_DATA_DIR and user cache."""
    monkeypatch.setenv("XFIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


# --- the real files ------------------------------------------------------------------------

def test_real_files_found_and_match_reference_digests():
    for name, digest in files.FILES.items():
        p = files.find_file(name)
        assert p.parent == DATA
        assert files.sha256_of(p) == digest
        assert files.verify_file(name, p).reference_digest


def test_workspace_content_checks_pass():
    spec = files.load_workspace()
    files.check_workspace_spec(spec)
    names = files.channel_name_map(spec)
    observed = {o["name"]: o["data"] for o in spec["observations"]}
    nbins = {c["name"]: len(observed[c["name"]]) for c in spec["channels"]}
    assert {k: nbins[names[k]] for k in names} == {"A": 9, "B": 3, "C": 9, "D": 3, "sgn1_had": 6}


def test_number_densities_shapes_and_row_sums():
    dens = files.load_number_densities()
    tmpl = files.signal_templates(files.load_workspace())
    assert {k: v.shape for k, v in dens.items()} == {"A": (9, 101), "B": (3, 101), "sgn1_had": (6, 101)}
    for k, N in dens.items():
        assert np.allclose(N.sum(axis=1), tmpl[k], rtol=3e-5)
        assert not N.flags.writeable
    assert len(files.Q2_GEN_EDGES) == 102 and files.Q2_GEN_EDGES[0] == -1.0


# --- missing and corrupt files -------------------------------------------------------------

def test_missing_file_raises_data_error_with_remedy(isolated):
    with pytest.raises(DataError) as e:
        files.find_file(files.WORKSPACE_FILE)
    msg = str(e.value)
    assert "combined_likelihood.json" in msg and "not found" in msg
    assert "xfit data fetch belle2-knunu" in msg and "XFIT_DATA_DIR" in msg
    with pytest.raises(DataError, match="number_density"):
        files.load_number_densities()


def test_cache_is_searched_after_data_dir(isolated):
    cache = files.cache_dir()
    cache.mkdir(parents=True)
    shutil.copy(DATA / files.WORKSPACE_FILE, cache / files.WORKSPACE_FILE)
    assert files.find_file(files.WORKSPACE_FILE) == cache / files.WORKSPACE_FILE


def _install(tmp: Path, contents: dict[str, bytes]) -> Path:
    d = tmp / "data" / files.DATASET
    d.mkdir(parents=True, exist_ok=True)
    for name, b in contents.items():
        (d / name).write_bytes(b)
    return d


CORRUPTIONS = [
    ("combined_likelihood.json", lambda b: b[: len(b) // 2], "not readable JSON"),
    ("combined_likelihood.json", lambda b: json.dumps({"channels": []}).encode(), "not a valid pyhf workspace"),
    ("number_density_hta.csv", lambda b: b"\n".join(b.splitlines()[:-1]), "shape (5, 101)"),
    ("number_density_ita_regA.csv", lambda b: b.replace(b"e-01", b"e+00", 3), "do not sum"),
    ("number_density_ita_regB.csv", lambda b: b"hello,world\n", "cannot be parsed"),
]


@pytest.mark.parametrize("name, mutate, problem", CORRUPTIONS)
def test_corrupt_files_refused_by_pinned_digest(isolated, monkeypatch, name, mutate, problem):
    monkeypatch.delenv("XFIT_ALLOW_MODIFIED_DATA", raising=False)
    contents = real_bytes()
    contents[name] = mutate(contents[name])
    d = _install(isolated, contents)
    with pytest.raises(DataError) as e:
        files.verify_file(name, d / name)
    msg = str(e.value)
    assert name in msg and "not the pinned version" in msg and files.FILES[name] in msg
    assert files.sha256_of(d / name) in msg and "xfit data fetch belle2-knunu --force" in msg
    assert len(msg.splitlines()) <= 3


@pytest.mark.parametrize("name, mutate, problem", CORRUPTIONS)
def test_corrupt_files_fail_content_checks_even_when_opted_in(isolated, monkeypatch, name, mutate, problem):
    monkeypatch.setenv("XFIT_ALLOW_MODIFIED_DATA", "1")
    contents = real_bytes()
    contents[name] = mutate(contents[name])
    d = _install(isolated, contents)
    with pytest.raises(DataError) as e:
        files.verify_file(name, d / name)
    msg = str(e.value)
    assert name in msg and problem in msg and "xfit data fetch belle2-knunu" in msg


def test_reformatted_workspace_refused_then_accepted_with_opt_in(isolated, monkeypatch):
    contents = real_bytes()
    contents[files.WORKSPACE_FILE] = json.dumps(json.loads(contents[files.WORKSPACE_FILE]), indent=2).encode()
    d = _install(isolated, contents)
    monkeypatch.setenv("XFIT_ALLOW_MODIFIED_DATA", "0")
    with pytest.raises(DataError, match="not the pinned version"):
        files.load_workspace()
    monkeypatch.setenv("XFIT_ALLOW_MODIFIED_DATA", "1")
    v = files.verify_file(files.WORKSPACE_FILE, d / files.WORKSPACE_FILE)
    assert not v.reference_digest
    assert files.load_workspace()["version"] == "1.0.0"


def test_data_error_in_cli_is_one_line(isolated, capsys):
    from xfit.cli import main

    rc = main(["belle2", "fit-sm", "--json"])
    err = capsys.readouterr().err.strip()
    assert rc == DataError.exit_code
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "xfit data fetch belle2-knunu" in err


# --- download from a local fake HEPData ----------------------------------------------------

RECID, VERSION = 166082, 1


class FakeHEPData:
    """HTTP server on 127.0.0.1 with HEPData-like routes; ``mode`` chooses the packaging."""

    def __init__(self, contents: dict[str, bytes], mode: str):
        self.contents, self.mode, self.requests = contents, mode, []
        self.routes = self._routes()
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _routes(self) -> dict[str, tuple[bytes, dict]]:
        c = self.contents
        record = json.dumps({"recid": RECID, "version": VERSION,
                             "record": {"inspire_id": "2947386", "recid": RECID}}).encode()
        resources, routes = [], {}

        def add(rid: int, filename: str, payload: bytes, desc: str):
            resources.append({"id": rid, "file_type": filename.rsplit(".", 1)[-1], "file_description": desc,
                              "location": f"/record/resource/{rid}?view=true"})
            routes[f"/record/resource/{rid}"] = (payload, {"Content-Disposition": f"attachment; filename={filename}"})

        resources.append({"id": 1, "file_type": "github", "file_description": "code",
                          "location": "https://github.com/belle2/redist"})  # must not be fetched
        add(9, "README.txt", b"readme", "readme")
        if self.mode in ("files", "corrupt", "reformatted"):
            for i, (name, b) in enumerate(c.items()):
                add(100 + i, name, b, f"file {name}")
        elif self.mode == "tarball":
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tf:
                for name, b in c.items():
                    info = tarfile.TarInfo(f"Belle2_knunu/{name}")
                    info.size = len(b)
                    tf.addfile(info, io.BytesIO(b))
            add(200, "likelihood_material.tar.gz", buf.getvalue(), "pyhf workspace and number densities")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("submission.yaml", "---\n")
            for name, b in c.items():
                zf.writestr(f"HEPData-ins2947386-v1/{name}", b)
        routes[f"/download/submission/ins2947386/{VERSION}/original"] = (buf.getvalue(),
                                                                         {"Content-Type": "application/zip"})
        routes["/record/ins2947386"] = (record, {"Content-Type": "application/json"})
        routes[f"/record/resources/{RECID}/{VERSION}"] = (
            json.dumps({"submission_items": [{"name": "Common Resources", "type": "submission",
                                              "resources": resources}]}).encode(),
            {"Content-Type": "application/json"})
        return routes

    def _handler(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                path = urlparse(self.path).path
                outer.requests.append(self.path)
                if path not in outer.routes:
                    self.send_error(404)
                    return
                body, headers = outer.routes[path]
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler


@pytest.mark.parametrize("mode", ["files", "tarball", "original"])
def test_fetch_from_local_server(isolated, mode):
    with FakeHEPData(real_bytes(), mode) as srv:
        got = files.fetch(base_url=srv.url, timeout=10)
    assert set(got) == set(files.FILES)
    for name, p in got.items():
        assert p.parent == files.cache_dir()
        assert files.sha256_of(p) == files.FILES[name]
    assert "/record/ins2947386?format=json&light=true" in srv.requests
    assert not any("github" in r for r in srv.requests)
    if mode == "original":
        assert any(r.endswith("/original") for r in srv.requests)
    # the downloaded files are now found and loaded
    assert files.find_file(files.WORKSPACE_FILE) == files.cache_dir() / files.WORKSPACE_FILE
    assert files.load_number_densities()["A"].shape == (9, 101)
    # a second fetch finds everything valid and downloads nothing
    with FakeHEPData(real_bytes(), mode) as srv:
        files.fetch(base_url=srv.url, timeout=10)
    assert srv.requests == []


def test_fetch_refuses_repackaged_workspace_unless_opted_in(isolated, monkeypatch):
    contents = real_bytes()
    contents[files.WORKSPACE_FILE] = json.dumps(json.loads(contents[files.WORKSPACE_FILE])).encode()
    monkeypatch.setenv("XFIT_ALLOW_MODIFIED_DATA", "0")
    with FakeHEPData(contents, "reformatted") as srv:
        with pytest.raises(DataError, match="combined_likelihood.json.*not the pinned version"):
            files.fetch(base_url=srv.url, timeout=10)
    assert not files.cache_dir().exists() or not any(files.cache_dir().iterdir())
    monkeypatch.setenv("XFIT_ALLOW_MODIFIED_DATA", "1")
    with FakeHEPData(contents, "reformatted") as srv:
        got = files.fetch(base_url=srv.url, timeout=10)
    assert files.sha256_of(got[files.WORKSPACE_FILE]) != files.FILES[files.WORKSPACE_FILE]


def test_fetch_rejects_corrupt_download_and_writes_nothing(isolated, monkeypatch):
    contents = real_bytes()
    N = np.loadtxt(io.BytesIO(contents["number_density_hta.csv"]), delimiter=",")
    N[0, 10] += 1.0
    out = io.StringIO()
    np.savetxt(out, N, delimiter=",")
    contents["number_density_hta.csv"] = out.getvalue().encode()
    for allow, problem in (("0", "number_density_hta.csv.*not the pinned version"),
                           ("1", "number_density_hta.csv.*do not sum")):
        monkeypatch.setenv("XFIT_ALLOW_MODIFIED_DATA", allow)
        with FakeHEPData(contents, "corrupt") as srv:
            with pytest.raises(DataError, match=problem):
                files.fetch(base_url=srv.url, timeout=10)
        assert not files.cache_dir().exists() or not any(files.cache_dir().iterdir())
        assert not list(files.cache_dir().parent.glob(".fetch-*"))


def test_fetch_unreachable_server_is_data_error(isolated):
    # the default 3 retries, with a 10 ms first wait (Limits.backoff) instead of 1 s: the same
    # four attempts without 7 s of sleeping
    limits = Limits(timeout=2, backoff=0.01)
    assert limits.retries == Limits().retries
    with pytest.raises(DataError, match=r"download of http://127\.0\.0\.1:9/.*\(4 attempts\)"):
        files.fetch(base_url="http://127.0.0.1:9", limits=limits)


def test_cli_fetch(isolated, capsys):
    from xfit.cli import main

    with FakeHEPData(real_bytes(), "tarball") as srv:
        rc = main(["data", "fetch", "belle2-knunu", "--url", srv.url, "--dest", str(isolated / "dl")])
    assert rc == 0
    out = capsys.readouterr().out
    assert all(name in out for name in files.FILES)
    assert sorted(p.name for p in (isolated / "dl").iterdir()) == sorted(files.FILES)
    rc = main(["data", "fetch", "no-such-set"])
    assert rc == 2 and "unknown data set" in capsys.readouterr().err


def test_hepdata_endpoints_documented():
    u = files.hepdata_urls()
    assert u["record"] == "https://www.hepdata.net/record/ins2947386?format=json&light=true"
    assert u["resources"].format(recid=1, version=2) == "https://www.hepdata.net/record/resources/1/2"
    assert u["original"].format(version=1) == "https://www.hepdata.net/download/submission/ins2947386/1/original"
