"""Downloads against a local server on 127.0.0.1 (ephemeral port, one thread per request,
bounded handlers that stop by themselves): the right files arrive; truncated bodies, HTTP 500,
an HTML page with status 200, a stalled server, a trickling body and an endless body each end
in a clear DataError within a few seconds, with nothing partial left in the cache."""
from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import tarfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from xfit import datasets
from xfit.datasets import hepdata
from xfit.datasets.download import Limits, check_url
from xfit.errors import DataError

CONTENT = {"table.csv": b"1,2,3\n4,5,6\n", "model.json": json.dumps({"a": [1, 2, 3]}).encode()}
TOY = datasets.register(datasets.Dataset(
    name="toy-downloads", directory="toy_downloads", description="synthetic data set of the download tests",
    files={n: hashlib.sha256(b).hexdigest() for n, b in CONTENT.items()}, hepdata_record="ins1"))
LIMITS = Limits(timeout=0.5, deadline=3.0, max_bytes=1_000_000, retries=2, backoff=0.05)
SECONDS = 6.0  # every failure must be reported within this (deadline 3 s + one read timeout + slack)
#: For the servers that only the deadline stops (stall, trickle): 1 s, still twice the read
#: timeout, so that it is the deadline, not a read timeout, that ends a trickle of one byte per 0.1 s.
SHORT_DEADLINE = dataclasses.replace(LIMITS, deadline=1.0)
HANDLER_MAX_SECONDS = 8.0  # no handler runs longer than this, whatever the client does


def _tarball() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, b in CONTENT.items():
            info = tarfile.TarInfo(f"toy/{name}")
            info.size = len(b)
            tf.addfile(info, io.BytesIO(b))
    return buf.getvalue()


ROUTES = {
    "/record/ins1": json.dumps({"recid": 7, "version": 1}).encode(),
    "/record/resources/7/1": json.dumps({"submission_items": [{"resources": [
        {"id": 3, "file_description": "toy", "location": "/record/resource/3?view=true"}]}]}).encode(),
    "/record/resource/3": _tarball(),
}
HTML = b"<!DOCTYPE html><html><body>Maintenance: please come back later</body></html>"


class Server:
    """ThreadingHTTPServer on 127.0.0.1:0; ``mode`` picks the behaviour of every route."""

    def __init__(self, mode: str):
        self.mode, self.stop = mode, threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                t_end = time.monotonic() + HANDLER_MAX_SECONDS
                body = ROUTES.get(urlparse(self.path).path)
                if body is None:
                    self.send_error(404)
                    return
                mode = outer.mode
                try:
                    if mode == "500":
                        self.send_error(500)
                    elif mode == "stall":  # accepts the connection, never answers
                        while time.monotonic() < t_end and not outer.stop.wait(0.05):
                            pass
                    else:
                        self.send_response(200)
                        if mode == "html":
                            self.send_header("Content-Type", "text/html")
                            self.send_header("Content-Length", str(len(HTML)))
                            self.end_headers()
                            self.wfile.write(HTML)
                        elif mode == "endless":  # no Content-Length, bytes until the client hangs up
                            self.end_headers()
                            chunk = b"x" * 65536
                            while time.monotonic() < t_end and not outer.stop.is_set():
                                self.wfile.write(chunk)
                        elif mode == "trickle":  # one byte at a time, never a read timeout
                            self.send_header("Content-Length", str(10**6))
                            self.end_headers()
                            while time.monotonic() < t_end and not outer.stop.wait(0.1):
                                self.wfile.write(b"x")
                                self.wfile.flush()
                        else:
                            self.send_header("Content-Length", str(len(body)))
                            self.end_headers()
                            self.wfile.write(body if mode == "ok" else body[: len(body) // 2])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=2)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(datasets.ALLOW_ENV, "0")
    return tmp_path / "cache" / "xfit"


def nothing_left(cache: Path) -> bool:
    return not cache.exists() or not any(cache.rglob("*"))


def test_right_files_arrive_verified(cache):
    with Server("ok") as srv:
        got = hepdata.fetch(TOY, base_url=srv.url, limits=LIMITS)
    assert {n: p.read_bytes() for n, p in got.items()} == CONTENT
    assert all(p.parent == cache / "toy_downloads" for p in got.values())
    assert sorted(p.name for p in cache.rglob("*")) == sorted([*CONTENT, "toy_downloads"])  # no leftovers


@pytest.mark.parametrize("mode, problem", [
    ("truncated", r"truncated body .*\(3 attempts\)"),
    ("500", r"HTTP 500 .*\(3 attempts\)"),
    ("html", r"not the expected record JSON .*<!DOCTYPE html>"),
    ("stall", r"timed out|deadline of 1 s exceeded"),
    ("trickle", r"deadline of 1 s exceeded"),
    ("endless", r"more than the cap of 1000000 bytes"),
])
def test_hostile_server_ends_in_data_error_quickly(cache, mode, problem):
    t0 = time.monotonic()
    with Server(mode) as srv:
        with pytest.raises(DataError, match=problem) as e:
            hepdata.fetch(TOY, base_url=srv.url, limits=SHORT_DEADLINE if mode in ("stall", "trickle") else LIMITS)
    assert time.monotonic() - t0 < SECONDS
    assert f"download of {srv.url}/record/ins1" in str(e.value) or mode == "html"
    assert nothing_left(cache)


def test_html_instead_of_a_file_is_refused_by_its_pinned_digest(cache):
    """Record and resource list fine, the files themselves an HTML page (status 200)."""
    routes = dict(ROUTES)
    ROUTES["/record/resource/3"] = HTML
    ROUTES["/download/submission/ins1/1/original"] = HTML
    try:
        with Server("ok") as srv:
            with pytest.raises(DataError, match="did not provide table.csv, model.json"):
                hepdata.fetch(TOY, base_url=srv.url, limits=LIMITS)
    finally:
        ROUTES.clear()
        ROUTES.update(routes)
    assert nothing_left(cache)


def test_file_with_wrong_content_is_refused_before_entering_the_cache(cache):
    routes = dict(ROUTES)
    bad = dict(CONTENT, **{"table.csv": b"1,2,3\n4,5,7\n"})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, b in bad.items():
            info = tarfile.TarInfo(name)
            info.size = len(b)
            tf.addfile(info, io.BytesIO(b))
    ROUTES["/record/resource/3"] = buf.getvalue()
    try:
        with Server("ok") as srv:
            with pytest.raises(DataError, match="table.csv .* not the pinned version"):
                hepdata.fetch(TOY, base_url=srv.url, limits=LIMITS)
    finally:
        ROUTES.clear()
        ROUTES.update(routes)
    assert nothing_left(cache)


@pytest.mark.parametrize("url", ["http://example.org/x", "ftp://127.0.0.1/x", "file:///etc/passwd",
                                 "http://localhost/x"])
def test_only_https_or_local_http(url, cache):
    with pytest.raises(DataError, match="only https:// URLs are accepted"):
        check_url(url)
    with pytest.raises(DataError, match="only https:// URLs are accepted"):
        hepdata.fetch(TOY, base_url=url.rsplit("/", 1)[0], limits=LIMITS)
    assert nothing_left(cache)
    check_url("https://www.hepdata.net/record/ins2947386")
    check_url("http://127.0.0.1:8080/x")


def test_unreachable_server(cache):
    t0 = time.monotonic()
    with pytest.raises(DataError, match=r"download of http://127.0.0.1:9/.*connection refused"):
        hepdata.fetch(TOY, base_url="http://127.0.0.1:9", limits=LIMITS)
    assert time.monotonic() - t0 < SECONDS and nothing_left(cache)
