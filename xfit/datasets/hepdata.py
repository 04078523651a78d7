"""Fetch the files of a data set from its HEPData record.

HEPData endpoints (:func:`hepdata_urls`):

* ``record``: ``{base}/record/{record}?format=json&light=true`` -- metadata with ``recid``
  and ``version``;
* ``resources``: ``{base}/record/resources/{recid}/{version}`` -- the additional resources,
  ``{"submission_items": [{"resources": [{"id", "file_type", "file_description",
  "location"}]}]}`` with ``location`` = ``/record/resource/{id}?view=true`` (the file);
* ``original``: ``{base}/download/submission/{record}/{version}/original`` -- the archive as
  submitted, with the resource files (fallback).

Resources are downloaded (:func:`xfit.datasets.download.retrieve`) into a staging directory
beside the destination, never into it; single files are recognised by name (or by the data
set's ``recognise``), archives (tar, zip; nested once) by member name.  Every wanted file is
then checked against its pinned sha256 (:func:`xfit.datasets.pinning.verify`) and only then
moved (atomically) into the destination.  Nothing partial is left behind on failure.
"""
from __future__ import annotations

import io
import json
import os
import re
import tarfile
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..errors import DataError
from . import pinning
from .download import Budget, DeadlineExceeded, Limits, retrieve
from .registry import Dataset, cache_dir

HEPDATA_URL = "https://www.hepdata.net"


def hepdata_urls(base_url: str, record: str) -> dict[str, str]:
    """The HEPData endpoints used by :func:`fetch` (module docstring)."""
    return {
        "record": f"{base_url}/record/{record}?format=json&light=true",
        "resources": f"{base_url}/record/resources/{{recid}}/{{version}}",
        "original": f"{base_url}/download/submission/{record}/{{version}}/original",
    }


def _filename_from_headers(headers: dict) -> str | None:
    cd = headers.get("content-disposition", "")
    m = (re.search(r"filename\*=(?:UTF-8'')?([^;]+)", cd, flags=re.I)
         or re.search(r'filename="?([^";]+)"?', cd, flags=re.I))
    if m:
        return os.path.basename(urllib.parse.unquote(m.group(1).strip()))
    return None


def _archive_members(payload: bytes, max_bytes: int) -> dict[str, bytes] | None:
    """basename -> bytes of the regular files of a tar/zip payload (None if not an archive).

    Only basenames are used, so member paths cannot escape; the unpacked total is capped."""
    out: dict[str, bytes] = {}
    total = 0

    def add(name: str, size: int, read: Callable[[], bytes]) -> None:
        nonlocal total
        total += size
        if total > max_bytes:
            raise DataError(f"archive unpacks to more than the cap of {max_bytes} bytes")
        out[os.path.basename(name)] = read()

    if zipfile.is_zipfile(io.BytesIO(payload)):
        try:
            with zipfile.ZipFile(io.BytesIO(payload)) as zf:
                for info in zf.infolist():
                    if not info.is_dir():
                        add(info.filename, info.file_size, lambda i=info: zf.read(i))
        except (zipfile.BadZipFile, OSError, EOFError):
            return None
        return out
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:*") as tf:
            for m in tf.getmembers():
                if m.isfile():
                    f = tf.extractfile(m)
                    if f is not None:
                        add(m.name, m.size, f.read)
        return out
    except (tarfile.TarError, EOFError, OSError):
        return None


class _Collector:
    """Gathers the wanted files of ``dataset`` from downloaded payloads."""

    def __init__(self, dataset: Dataset, wanted: list[str], max_bytes: int):
        self.dataset, self.wanted, self.max_bytes = dataset, wanted, max_bytes
        self.found: dict[str, bytes] = {}

    def done(self) -> bool:
        return all(n in self.found for n in self.wanted)

    def add(self, payload: bytes, filename: str | None, depth: int = 0) -> None:
        if filename in self.dataset.files:
            self.found.setdefault(filename, payload)
            return
        members = _archive_members(payload, self.max_bytes) if depth < 2 else None
        if members is not None:
            for name, data in members.items():
                self.add(data, name, depth + 1)
            return
        if self.dataset.recognise is not None:
            name = self.dataset.recognise(filename or "", payload)
            if name in self.wanted:
                self.found.setdefault(name, payload)


def fetch(dataset: Dataset, dest: str | os.PathLike | None = None, base_url: str = HEPDATA_URL,
          limits: Limits | None = None, force: bool = False,
          log: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Download the files of ``dataset`` from its HEPData record into ``dest`` (default: the
    user cache) and return name -> path.  Files present and matching their pins are kept
    unless ``force``.  DataError on any failure, with nothing written to ``dest``."""
    if not dataset.hepdata_record:
        raise DataError(f"data set {dataset.name} has no HEPData record to fetch from")
    say = log or (lambda msg: None)
    limits = limits or Limits()
    budget = Budget(limits)
    dest = Path(dest) if dest is not None else cache_dir(dataset)
    base_url = base_url.rstrip("/")
    record = dataset.hepdata_record
    urls = hepdata_urls(base_url, record)

    have: dict[str, Path] = {}
    if not force:
        for name in dataset.files:
            try:
                have[name] = pinning.verify(dataset, name, dest / name, record_use=False).path
            except DataError:
                pass
    wanted = [n for n in dataset.files if n not in have]
    if not wanted:
        say(f"all files already present and valid in {dest}")
        return have

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".fetch-{dataset.directory}-") as tmp:
        staging = Path(tmp)
        downloads = staging / "downloads"
        counter = iter(range(10**6))

        def get(url: str, sha256: str | None = None) -> tuple[bytes, dict]:
            path, headers = retrieve(url, downloads, f"payload-{next(counter)}", budget, sha256)
            data = path.read_bytes()
            path.unlink()
            return data, headers

        say(f"reading HEPData record {record} ({urls['record']})")
        body, _ = get(urls["record"])
        try:
            meta = json.loads(body)
            recid = meta.get("recid") or meta["record"]["recid"]
            version = meta.get("version") or meta["record"].get("version") or 1
            int(recid), int(version)
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise DataError(f"HEPData answer for {record} is not the expected record JSON "
                            f"({urls['record']}; starts {body[:40]!r})") from None

        found = _Collector(dataset, wanted, limits.max_bytes)
        res_url = urls["resources"].format(recid=recid, version=version)
        say(f"listing additional resources ({res_url})")
        try:
            body, _ = get(res_url)
            items = json.loads(body).get("submission_items", [])
            resources = [r for it in items for r in it.get("resources", [])]
        except (DataError, ValueError, AttributeError, TypeError, UnicodeDecodeError) as exc:
            say(f"  could not list resources ({str(exc)[:120]}); trying the original submission archive")
            resources = []
        for r in resources:
            if found.done():
                break
            loc = str(r.get("location", "")) if isinstance(r, dict) else ""
            url = loc if loc.startswith(("http://", "https://")) else base_url + "/" + loc.lstrip("/")
            if not loc or not url.startswith(base_url + "/"):
                continue  # links to other sites (code repositories, papers) are not downloaded
            say(f"  downloading resource {r.get('id')}: {str(r.get('file_description', ''))[:60]!r}")
            try:
                payload, headers = get(url)
            except DataError as exc:
                if isinstance(exc, DeadlineExceeded):
                    raise
                say(f"  skipped: {exc}")
                continue
            found.add(payload, _filename_from_headers(headers) or os.path.basename(urllib.parse.urlparse(url).path))

        if not found.done():
            url = urls["original"].format(version=version)
            say(f"looking in the original submission archive ({url})")
            try:
                payload, headers = get(url)
                found.add(payload, _filename_from_headers(headers) or "original")
            except DataError as exc:
                if isinstance(exc, DeadlineExceeded):
                    raise
                say(f"  failed: {exc}")

        missing = [n for n in wanted if n not in found.found]
        if missing:
            raise DataError(f"HEPData record {record} did not provide {', '.join(missing)} (neither as "
                            f"additional resources nor in the original submission); set XFIT_DATA_DIR to a "
                            f"directory containing {dataset.directory}/ with these files")

        final = staging / "verified"
        final.mkdir()
        for name in wanted:
            (final / name).write_bytes(found.found[name])
        for name in wanted:  # content checks of a modified file may look beside it for the others
            pinning.verify(dataset, name, final / name, record_use=False)
        dest.mkdir(parents=True, exist_ok=True)
        for name in wanted:
            os.replace(final / name, dest / name)
            have[name] = dest / name
            say(f"  {name}: ok -> {dest / name}")
    return {n: have[n] for n in dataset.files}
