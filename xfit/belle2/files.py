"""Locate, verify and download the public Belle II B+ -> K+ nu nubar likelihood material.

Source: Belle II, "A model-agnostic likelihood for the reinterpretation of the
B+ -> K+ nu nubar measurement at Belle II", arXiv:2507.12393; HEPData record ins2947386,
DOI 10.17182/hepdata.166082.  The measurement: Belle II, arXiv:2311.14647,
Phys. Rev. D 109 (2024) 112006.

Four files are used (see :data:`FILES`):

* ``combined_likelihood.json`` -- the pyhf (HistFactory) workspace of the combined
  inclusive-tag (ITA) and hadronic-tag (HTA) analysis;
* ``number_density_ita_regA.csv``, ``number_density_ita_regB.csv``,
  ``number_density_hta.csv`` -- the joint number densities N[j, i] (reconstructed bin j of the
  fit, generated-q^2 bin i) used to reweight the SM signal to another q^2 spectrum.

Where they are looked for, in this order (per file):

1. ``$XFIT_DATA_DIR/belle2_knunu/`` if the environment variable ``XFIT_DATA_DIR`` is set;
2. the user cache ``$XDG_CACHE_HOME/xfit/belle2_knunu/`` (default ``~/.cache/xfit/belle2_knunu``),
   which is where ``xfit data fetch belle2-knunu`` (:func:`fetch`) puts them.

What is loaded is verified (:func:`verify_file`): the sha256 of the reference copies is
accepted at once; a file with another digest (HEPData may re-package) is accepted only if its
content passes the checks -- pyhf schema validation, the five channels with 9/3/9/3/6 bins,
the signal samples present; number densities of shape (rows, 101), finite, non-negative, whose
rows sum to the nominal signal template of their channel.  Anything else raises
:class:`~xfit.errors.DataError` naming the file, the problem and the remedy.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import DataError

#: Name of the data set (sub-directory of the data directories).
DATASET = "belle2_knunu"

#: HEPData record (INSPIRE id), its DOI and the server.
HEPDATA_RECORD = "ins2947386"
HEPDATA_DOI = "10.17182/hepdata.166082"
HEPDATA_URL = "https://www.hepdata.net"

WORKSPACE_FILE = "combined_likelihood.json"

#: sha256 of the reference copies (README of the data set).
FILES: dict[str, str] = {
    WORKSPACE_FILE: "9ec0d563197912e03e31de202f04fea10babe39a10de99b9770d9292df285ab3",
    "number_density_ita_regA.csv": "ba6ecf3dc4ba7b5f74ae5f3b9f9bbbfd35bd0cae680af8b444e25ea2050f3366",
    "number_density_ita_regB.csv": "c8b7f5b29fbef0635565877a8b589b11c25c0d6043c412849d386bc9965ce3c9",
    "number_density_hta.csv": "2ef413de554d4d5553557e31c0f55e0f1afa01a52aafacc820d09dc72c41b4bb",
}

#: Channels of the workspace: short key -> (how the channel name starts or equals, bins).
CHANNELS: dict[str, tuple[str, int]] = {
    "A": ("A__", 9),  # ITA signal region (on-resonance)
    "B": ("B__", 3),  # ITA control region (on-resonance)
    "C": ("C__", 9),  # ITA signal region, off-resonance
    "D": ("D__", 3),  # ITA control region, off-resonance
    "sgn1_had": ("sgn1_had", 6),  # HTA
}

#: The SM B+ -> K+ nu nubar signal sample in each signal channel.
SIGNAL_SAMPLES: dict[str, str] = {"A": "signal", "B": "signal", "sgn1_had": "sgn_1_had"}

#: Number-density file -> channel key whose rows it describes.
NUMBER_DENSITY_FILES: dict[str, str] = {
    "number_density_ita_regA.csv": "A",
    "number_density_ita_regB.csv": "B",
    "number_density_hta.csv": "sgn1_had",
}

#: Generated-q^2 binning of the number densities: underflow [-1, 0) then 100 bins to q2_max.
Q2_GEN_MAX = 22.885
Q2_GEN_EDGES = np.concatenate([[-1.0], np.linspace(0.0, Q2_GEN_MAX, 101)])
N_Q2_COLUMNS = 101

#: Relative tolerance of "rows sum to the nominal signal template" (README: 1e-7 ITA, 2e-5 HTA).
ROW_SUM_RTOL = 1e-4

REMEDY = (
    "get it with `xfit data fetch belle2-knunu` (downloads HEPData record "
    f"{HEPDATA_RECORD}, DOI {HEPDATA_DOI}) or set XFIT_DATA_DIR to a directory containing "
    f"{DATASET}/"
)


# --- where ---------------------------------------------------------------------------------

def cache_dir() -> Path:
    """The user cache of this data set: $XDG_CACHE_HOME/xfit/belle2_knunu or ~/.cache/..."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xfit" / DATASET


def search_dirs() -> list[Path]:
    """Directories searched for the files, in order (see module docstring)."""
    dirs = []
    env = os.environ.get("XFIT_DATA_DIR")
    if env:
        dirs.append(Path(env) / DATASET)
    dirs.append(cache_dir())
    return dirs


def find_file(name: str) -> Path:
    """Path of data file ``name`` (one of :data:`FILES`); :class:`DataError` if absent."""
    if name not in FILES:
        raise DataError(f"unknown Belle II data file {name!r}; known: {', '.join(FILES)}")
    dirs = search_dirs()
    for d in dirs:
        p = d / name
        if p.is_file():
            return p
    where = ", ".join(str(d) for d in dirs)
    raise DataError(f"Belle II file {name} not found (looked in {where}); {REMEDY}")


# --- verification --------------------------------------------------------------------------

def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def channel_name_map(spec: dict) -> dict[str, str]:
    """Map the short channel keys of :data:`CHANNELS` to the workspace's channel names."""
    names = [c.get("name", "") for c in spec.get("channels", [])]
    out = {}
    for key, (pattern, _) in CHANNELS.items():
        hits = [n for n in names if (n == pattern if not pattern.endswith("__") else n.startswith(pattern))]
        if len(hits) != 1:
            raise ValueError(f"expected one channel {pattern!r}..., found {len(hits)} among {names}")
        out[key] = hits[0]
    return out


def signal_templates(spec: dict) -> dict[str, np.ndarray]:
    """Nominal SM signal template (mu = 1) of each signal channel of a workspace spec."""
    names = channel_name_map(spec)
    by_name = {c["name"]: c for c in spec["channels"]}
    out = {}
    for key, sample in SIGNAL_SAMPLES.items():
        samples = [s for s in by_name[names[key]]["samples"] if s["name"] == sample]
        if len(samples) != 1:
            raise ValueError(f"channel {names[key]} has no sample {sample!r}")
        out[key] = np.asarray(samples[0]["data"], dtype=float)
    return out


def check_workspace_spec(spec) -> None:
    """Content checks of the workspace (raises ValueError with the reason).

    pyhf schema validation (``pyhf.Workspace``), the five channels with 9, 3, 9, 3, 6 bins,
    observations of matching lengths, the SM signal samples and the POI ``mu``.
    """
    import pyhf

    if not isinstance(spec, dict):
        raise ValueError("not a JSON object")
    try:
        ws = pyhf.Workspace(spec)
    except Exception as exc:  # pyhf raises several exception types on schema problems
        raise ValueError(f"not a valid pyhf workspace ({type(exc).__name__}: {str(exc)[:200]})") from None
    names = channel_name_map(spec)
    obs = {o["name"]: o["data"] for o in spec["observations"]}
    by_name = {c["name"]: c for c in spec["channels"]}
    for key, (_, nbins) in CHANNELS.items():
        ch = by_name[names[key]]
        for s in ch["samples"]:
            if len(s["data"]) != nbins:
                raise ValueError(f"channel {ch['name']} sample {s['name']} has {len(s['data'])} bins, expected {nbins}")
        if len(obs.get(ch["name"], [])) != nbins:
            raise ValueError(f"observation of channel {ch['name']} does not have {nbins} bins")
    signal_templates(spec)
    pois = {m["config"]["poi"] for m in ws.get("measurements", [])}
    if pois != {"mu"}:
        raise ValueError(f"expected parameter of interest 'mu', found {sorted(pois)}")


def check_number_density(N: np.ndarray, template: np.ndarray, name: str = "") -> None:
    """Content checks of a number density N[j, i] against its channel's signal template."""
    rows = len(template)
    if N.shape != (rows, N_Q2_COLUMNS):
        raise ValueError(f"shape {N.shape}, expected ({rows}, {N_Q2_COLUMNS})")
    if not np.all(np.isfinite(N)) or np.any(N < 0):
        raise ValueError("entries must be finite and non-negative")
    sums = N.sum(axis=1)
    if not np.allclose(sums, template, rtol=ROW_SUM_RTOL, atol=1e-9):
        worst = np.max(np.abs(sums / np.where(template > 0, template, 1.0) - 1.0))
        raise ValueError(f"rows do not sum to the nominal signal template (worst relative difference {worst:.2g})")


def _read_csv_matrix(path) -> np.ndarray:
    try:
        return np.loadtxt(path, delimiter=",", ndmin=2)
    except Exception as exc:
        raise ValueError(f"cannot be parsed as comma-separated numbers ({exc})") from None


def _read_json(path):
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"is not readable JSON ({type(exc).__name__}: {str(exc)[:120]})") from None


@dataclass(frozen=True)
class VerifiedFile:
    """Outcome of :func:`verify_file`: path, sha256, whether it equals the reference digest."""

    name: str
    path: Path
    sha256: str
    reference_digest: bool


def verify_file(name: str, path: str | os.PathLike, spec: dict | None = None) -> VerifiedFile:
    """Check one file (digest, else content); :class:`DataError` naming file and problem.

    A number density needs the workspace ``spec`` for its row-sum check; without it the
    workspace is located with :func:`find_file`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Belle II file {name} not found at {path}; {REMEDY}")
    digest = sha256_of(path)
    ref = digest == FILES.get(name)
    try:
        if name == WORKSPACE_FILE:
            if not ref:
                check_workspace_spec(_read_json(path))
        elif name in NUMBER_DENSITY_FILES:
            if not ref:
                if spec is None:
                    spec = load_workspace()
                key = NUMBER_DENSITY_FILES[name]
                check_number_density(_read_csv_matrix(path), signal_templates(spec)[key], name)
        else:
            raise ValueError("is not a file of this data set")
    except ValueError as exc:
        raise DataError(
            f"Belle II file {path} is corrupt or not the expected one: {exc} "
            f"(sha256 {digest[:12]}..., reference {FILES.get(name, '?')[:12]}...); "
            f"delete it and {REMEDY}"
        ) from None
    return VerifiedFile(name, path, digest, ref)


# --- loading -------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _load_workspace_cached(path: str, mtime: float, size: int) -> str:
    verify_file(WORKSPACE_FILE, path)
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def load_workspace(path: str | os.PathLike | None = None) -> dict:
    """The verified workspace spec (a fresh dict on every call)."""
    p = Path(path) if path is not None else find_file(WORKSPACE_FILE)
    if not p.is_file():
        raise DataError(f"Belle II workspace not found at {p}; {REMEDY}")
    st = p.stat()
    return json.loads(_load_workspace_cached(str(p), st.st_mtime, st.st_size))


@lru_cache(maxsize=8)
def _load_number_density_cached(name: str, path: str, mtime: float, size: int) -> np.ndarray:
    verify_file(name, path)
    N = _read_csv_matrix(path)
    N.setflags(write=False)
    return N


def load_number_densities(paths: dict[str, str | os.PathLike] | None = None) -> dict[str, np.ndarray]:
    """The verified number densities, keyed by channel key ("A", "B", "sgn1_had").

    Arrays are read-only views of shape (rows, 101); column 0 is the underflow q^2_gen bin.
    """
    out = {}
    for name, key in NUMBER_DENSITY_FILES.items():
        p = Path(paths[name]) if paths and name in paths else find_file(name)
        if not p.is_file():
            raise DataError(f"Belle II file {name} not found at {p}; {REMEDY}")
        st = p.stat()
        out[key] = _load_number_density_cached(name, str(p), st.st_mtime, st.st_size)
    return out


def status() -> list[dict]:
    """Where each file is found and whether it verifies (for ``xfit data status``)."""
    rows = []
    for name in FILES:
        try:
            p = find_file(name)
        except DataError as exc:
            rows.append({"file": name, "path": None, "ok": False, "message": str(exc)})
            continue
        try:
            v = verify_file(name, p)
            rows.append({"file": name, "path": str(p), "ok": True,
                         "message": "sha256 matches the reference" if v.reference_digest
                         else "content checks pass (sha256 differs from the reference copy)"})
        except DataError as exc:
            rows.append({"file": name, "path": str(p), "ok": False, "message": str(exc)})
    return rows


# --- download ------------------------------------------------------------------------------

USER_AGENT = "xfit (https://github.com/xfit; Belle II likelihood fetch)"


def _http_get(url: str, timeout: float) -> tuple[bytes, dict]:
    """GET ``url``; returns (body, headers).  Network problems become DataError."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read(), {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        raise DataError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"download of {url} failed: {reason}") from None


def _filename_from_headers(headers: dict) -> str | None:
    cd = headers.get("content-disposition", "")
    m = re.search(r"filename\*=(?:UTF-8'')?([^;]+)", cd, flags=re.I) or re.search(r'filename="?([^";]+)"?', cd, flags=re.I)
    if m:
        return os.path.basename(urllib.parse.unquote(m.group(1).strip()))
    return None


def _looks_like_workspace(payload: bytes) -> bool:
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(obj, dict) and {"channels", "observations", "measurements"} <= set(obj)


def _members_of_archive(payload: bytes) -> dict[str, bytes] | None:
    """basename -> bytes of the regular files in a tar/zip payload (None if not an archive).

    Only basenames are used, so member paths can never escape the destination.
    """
    out: dict[str, bytes] = {}
    if zipfile.is_zipfile(io.BytesIO(payload)):
        with zipfile.ZipFile(io.BytesIO(payload)) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    out[os.path.basename(info.filename)] = zf.read(info)
        return out
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:*") as tf:
            for m in tf.getmembers():
                if m.isfile():
                    f = tf.extractfile(m)
                    if f is not None:
                        out[os.path.basename(m.name)] = f.read()
        return out
    except (tarfile.TarError, EOFError, OSError):
        return None


def _collect(payload: bytes, filename: str | None, found: dict[str, bytes], depth: int = 0) -> None:
    """Add to ``found`` the wanted files contained in one downloaded payload."""
    if filename in FILES:
        found.setdefault(filename, payload)
        return
    members = _members_of_archive(payload)
    if members is not None and depth < 2:
        for name, data in members.items():
            _collect(data, name, found, depth + 1)
        return
    if WORKSPACE_FILE not in found and (filename or "").lower().endswith(".json") and _looks_like_workspace(payload):
        found[WORKSPACE_FILE] = payload


def hepdata_urls(base_url: str = HEPDATA_URL, record: str = HEPDATA_RECORD) -> dict[str, str]:
    """The HEPData endpoints used by :func:`fetch` (documented here for reference).

    * ``record``: ``{base}/record/{record}?format=json&light=true`` -- record metadata with
      ``recid`` and ``version``;
    * ``resources``: ``{base}/record/resources/{recid}/{version}`` -- the additional resources,
      ``{"submission_items": [{"resources": [{"id", "file_type", "file_description",
      "location"}]}]}`` with ``location`` = ``/record/resource/{id}?view=true`` (the file);
    * ``original``: ``{base}/download/submission/{record}/{version}/original`` -- the archive
      as submitted, with the resource files (fallback).
    """
    return {
        "record": f"{base_url}/record/{record}?format=json&light=true",
        "resources": f"{base_url}/record/resources/{{recid}}/{{version}}",
        "original": f"{base_url}/download/submission/{record}/{{version}}/original",
    }


def fetch(dest: str | os.PathLike | None = None, base_url: str = HEPDATA_URL,
          record: str = HEPDATA_RECORD, timeout: float = 60.0, force: bool = False,
          log: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Download the Belle II files from HEPData into ``dest`` (default: the user cache).

    Reads the record metadata (``recid``, ``version``), lists the record's additional resources
    and downloads them (``/record/resource/{id}?view=true``); single files are recognised by
    name (or, for the workspace, by content), archives (tar, zip) are searched by member name.
    Files still missing are looked for in the original submission archive.  Every file is
    verified (:func:`verify_file`) before it is moved into ``dest``; files already present and
    valid are kept unless ``force``.  Returns name -> path.  Raises DataError on failure.
    """
    say = log or (lambda msg: None)
    dest = Path(dest) if dest is not None else cache_dir()
    base_url = base_url.rstrip("/")
    urls = hepdata_urls(base_url, record)

    have: dict[str, Path] = {}
    if not force:
        for name in FILES:
            p = dest / name
            if p.is_file():
                try:
                    verify_file(name, p, spec=_safe_spec(dest))
                    have[name] = p
                except DataError:
                    pass
    wanted = [n for n in FILES if n not in have]
    if not wanted:
        say(f"all files already present and valid in {dest}")
        return have

    say(f"reading HEPData record {record} ({urls['record']})")
    body, _ = _http_get(urls["record"], timeout)
    try:
        meta = json.loads(body)
        recid = meta.get("recid") or meta["record"]["recid"]
        version = meta.get("version") or meta["record"].get("version") or 1
    except (ValueError, KeyError, TypeError):
        raise DataError(f"HEPData answer for {record} is not the expected record JSON ({urls['record']})") from None

    found: dict[str, bytes] = {}
    res_url = urls["resources"].format(recid=recid, version=version)
    say(f"listing additional resources ({res_url})")
    try:
        body, _ = _http_get(res_url, timeout)
        items = json.loads(body).get("submission_items", [])
        resources = [r for it in items for r in it.get("resources", [])]
    except (DataError, ValueError, AttributeError) as exc:
        say(f"  could not list resources ({exc}); trying the original submission archive")
        resources = []
    for r in resources:
        if all(n in found for n in wanted):
            break
        loc = str(r.get("location", ""))
        if not loc:
            continue
        url = loc if loc.startswith(("http://", "https://")) else base_url + "/" + loc.lstrip("/")
        if not url.startswith(base_url):
            continue  # links to other sites (code repositories, papers) are not downloaded
        say(f"  downloading resource {r.get('id')}: {r.get('file_description', '')[:60]!r}")
        try:
            payload, headers = _http_get(url, timeout)
        except DataError as exc:
            say(f"  skipped: {exc}")
            continue
        name = _filename_from_headers(headers) or os.path.basename(urllib.parse.urlparse(url).path)
        _collect(payload, name, found)

    if not all(n in found for n in wanted):
        url = urls["original"].format(version=version)
        say(f"looking in the original submission archive ({url})")
        try:
            payload, headers = _http_get(url, timeout)
            _collect(payload, _filename_from_headers(headers) or "original", found)
        except DataError as exc:
            say(f"  failed: {exc}")

    missing = [n for n in wanted if n not in found]
    if missing:
        raise DataError(
            f"HEPData record {record} did not provide {', '.join(missing)} "
            f"(neither as additional resources nor in the original submission); "
            f"set XFIT_DATA_DIR to a directory containing {DATASET}/ with these files"
        )

    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".fetch-") as tmp:
        tmp = Path(tmp)
        for name in wanted:
            (tmp / name).write_bytes(found[name])
        # workspace first: the number densities are checked against its signal templates
        spec_path = tmp / WORKSPACE_FILE if WORKSPACE_FILE in wanted else have[WORKSPACE_FILE]
        verify_file(WORKSPACE_FILE, spec_path)
        spec = json.loads(Path(spec_path).read_text())
        for name in wanted:
            verify_file(name, tmp / name, spec=spec)
        for name in wanted:
            os.replace(tmp / name, dest / name)
            have[name] = dest / name
            say(f"  {name}: ok -> {dest / name}")
    return have


def _safe_spec(d: Path) -> dict | None:
    try:
        p = d / WORKSPACE_FILE
        verify_file(WORKSPACE_FILE, p)
        return json.loads(p.read_text())
    except (DataError, ValueError, OSError):
        return None
