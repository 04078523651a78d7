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

The data set is registered with :mod:`xfit.datasets` (:data:`DATASET_SPEC`), which finds the
files (``$XFIT_DATA_DIR/belle2_knunu/``, then the user cache ``$XDG_CACHE_HOME/xfit/belle2_knunu/``
or ``~/.cache/xfit/belle2_knunu``), checks each against its pinned sha256 before use (a
mismatch is a :class:`~xfit.errors.DataError` unless ``XFIT_ALLOW_MODIFIED_DATA=1`` /
``xfit --allow-modified-data``) and downloads them from HEPData (:func:`fetch`).  This module
keeps what is specific to Belle II: the file names, the pinned digests and the content checks
run on an accepted modified file -- pyhf schema validation, the five channels with 9/3/9/3/6
bins, the signal samples; number densities of shape (rows, 101), finite, non-negative, whose
rows sum to the nominal signal template of their channel.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import datasets
from ..datasets import VerifiedFile, sha256_of  # noqa: F401  (public names of this module)
from ..datasets import hepdata as _hepdata
from ..datasets.download import Limits
from ..datasets.hepdata import HEPDATA_URL
from ..errors import DataError

#: Name of the data set's directory (in $XFIT_DATA_DIR and in the user cache).
DATASET = "belle2_knunu"
#: Name of the data set for ``xfit data fetch``/``status``.
DATASET_NAME = "belle2-knunu"

#: HEPData record (INSPIRE id) and its DOI.
HEPDATA_RECORD = "ins2947386"
HEPDATA_DOI = "10.17182/hepdata.166082"

WORKSPACE_FILE = "combined_likelihood.json"

#: Pinned sha256 of the files (the reference copies of HEPData record ins2947386 v1).
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


# --- content checks (second line of defence: run on an accepted modified file) ---------------

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

    pyhf schema validation (as ``pyhf.Workspace``; once per content, see
    :func:`xfit.histfactory.workspace.validate_schema`), the five channels with 9, 3, 9, 3, 6
    bins, observations of matching lengths, the SM signal samples and the POI ``mu``.
    """
    from ..histfactory.workspace import validate_schema

    if not isinstance(spec, dict):
        raise ValueError("not a JSON object")
    try:
        validate_schema(spec)
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
    pois = {m["config"]["poi"] for m in spec.get("measurements", [])}
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


def check_file(name: str, path, spec: dict | None = None) -> None:
    """Content checks of data-set file ``name`` at ``path`` (ValueError with the reason).

    A number density is checked against the signal templates of ``spec``, else of the
    workspace beside it, else of the one :func:`load_workspace` finds.
    """
    path = Path(path)
    if name == WORKSPACE_FILE:
        check_workspace_spec(_read_json(path))
    elif name in NUMBER_DENSITY_FILES:
        if spec is None:
            beside = path.parent / WORKSPACE_FILE
            spec = load_workspace(beside) if beside.is_file() else load_workspace()
        check_number_density(_read_csv_matrix(path), signal_templates(spec)[NUMBER_DENSITY_FILES[name]], name)
    else:
        raise ValueError("is not a file of this data set")


def _recognise(filename: str, payload: bytes) -> str | None:
    """A downloaded JSON file with another name that is a pyhf workspace is the workspace."""
    if not filename.lower().endswith(".json"):
        return None
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(obj, dict) and {"channels", "observations", "measurements"} <= set(obj):
        return WORKSPACE_FILE
    return None


#: The registration of this data set with :mod:`xfit.datasets`.
DATASET_SPEC = datasets.register(datasets.Dataset(
    name=DATASET_NAME, directory=DATASET, files=FILES,
    description="Belle II B+ -> K+ nu nubar likelihood and number densities (HEPData ins2947386)",
    hepdata_record=HEPDATA_RECORD, doi=HEPDATA_DOI,
    references=("Belle II, arXiv:2507.12393 (HEPData ins2947386)", "Belle II, arXiv:2311.14647, PRD 109 (2024) 112006"),
    check=check_file, recognise=_recognise,
))

REMEDY = DATASET_SPEC.remedy


# --- where ---------------------------------------------------------------------------------

def cache_dir() -> Path:
    """The user cache of this data set: $XDG_CACHE_HOME/xfit/belle2_knunu or ~/.cache/..."""
    return datasets.cache_dir(DATASET_SPEC)


def search_dirs() -> list[Path]:
    """Directories searched for the files, in order (see module docstring)."""
    return datasets.search_dirs(DATASET_SPEC)


def find_file(name: str) -> Path:
    """Path of data file ``name`` (one of :data:`FILES`); :class:`DataError` if absent."""
    return datasets.find_file(DATASET_SPEC, name)


# --- verification and loading ----------------------------------------------------------------

def verify_file(name: str, path: str | os.PathLike, spec: dict | None = None) -> VerifiedFile:
    """Check one file against its pinned sha256 (then, if it is an accepted modified file, its
    content; a number density against ``spec``'s signal templates): DataError otherwise."""
    v = datasets.verify(DATASET_SPEC, name, path, content_check=False)
    if not v.reference_digest:
        try:
            check_file(name, v.path, spec)
        except ValueError as exc:
            raise DataError(f"Belle II file {v.path} (modified, accepted by {datasets.ALLOW_ENV}) fails the "
                            f"content checks: {exc}\nre-download it with `xfit data fetch {DATASET_NAME} "
                            "--force`") from None
    return v


def _stat_key(p: Path) -> tuple[str, int, int, bool]:
    st = p.stat()
    return str(p), st.st_mtime_ns, st.st_size, datasets.allow_modified()


@lru_cache(maxsize=8)
def _load_workspace_cached(path: str, mtime_ns: int, size: int, allow: bool) -> tuple[str, VerifiedFile]:
    v = verify_file(WORKSPACE_FILE, path)
    with open(path, "rb") as f:
        return f.read().decode("utf-8"), v


def load_workspace(path: str | os.PathLike | None = None) -> dict:
    """The verified workspace spec (a fresh dict on every call)."""
    p = Path(path) if path is not None else find_file(WORKSPACE_FILE)
    if not p.is_file():
        raise DataError(f"Belle II workspace not found at {p}; {REMEDY}")
    text, v = _load_workspace_cached(*_stat_key(p))
    datasets.record(v)
    return json.loads(text)


@lru_cache(maxsize=8)
def _load_number_density_cached(name: str, path: str, mtime_ns: int, size: int,
                                allow: bool) -> tuple[np.ndarray, VerifiedFile]:
    v = verify_file(name, path)
    try:
        N = _read_csv_matrix(path)
    except ValueError as exc:
        raise DataError(f"Belle II file {path}: {exc}") from None
    N.setflags(write=False)
    return N, v


def load_number_densities(paths: dict[str, str | os.PathLike] | None = None) -> dict[str, np.ndarray]:
    """The verified number densities, keyed by channel key ("A", "B", "sgn1_had").

    Arrays are read-only views of shape (rows, 101); column 0 is the underflow q^2_gen bin.
    """
    out = {}
    for name, key in NUMBER_DENSITY_FILES.items():
        p = Path(paths[name]) if paths and name in paths else find_file(name)
        if not p.is_file():
            raise DataError(f"Belle II file {name} not found at {p}; {REMEDY}")
        N, v = _load_number_density_cached(name, *_stat_key(p))
        datasets.record(v)
        out[key] = N
    return out


def input_digests() -> dict[str, str]:
    """File name -> sha256 of the four files this process would use (each verified): the
    fingerprint of Belle II results computed from them (e.g. a resumable scan)."""
    return {name: verify_file(name, find_file(name)).sha256 for name in FILES}


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
                         "message": "sha256 matches the pinned digest" if v.reference_digest
                         else f"MODIFIED (sha256 {v.sha256}), accepted by {datasets.ALLOW_ENV}=1; content checks pass"})
        except DataError as exc:
            rows.append({"file": name, "path": str(p), "ok": False, "message": str(exc)})
    return rows


# --- download ------------------------------------------------------------------------------

def hepdata_urls(base_url: str = HEPDATA_URL, record: str = HEPDATA_RECORD) -> dict[str, str]:
    """The HEPData endpoints :func:`fetch` reads (see :func:`xfit.datasets.hepdata.hepdata_urls`)."""
    return _hepdata.hepdata_urls(base_url, record)


def fetch(dest: str | os.PathLike | None = None, base_url: str = HEPDATA_URL,
          timeout: float = 60.0, force: bool = False, log: Callable[[str], None] | None = None,
          limits: Limits | None = None) -> dict[str, Path]:
    """Download the Belle II files from HEPData into ``dest`` (default: the user cache).

    See :func:`xfit.datasets.hepdata.fetch`: resources of record ins2947386 (single files or
    tar/zip archives), else the original submission archive; every file must match its pinned
    sha256 before it is moved into ``dest``.  ``timeout`` is per connect/read; ``limits``
    (:class:`xfit.datasets.download.Limits`) overrides it and sets the total deadline, the
    size cap and the retries.  Returns name -> path; DataError on failure.
    """
    limits = limits or Limits(timeout=timeout)
    return _hepdata.fetch(DATASET_SPEC, dest=dest, base_url=base_url, limits=limits, force=force, log=log)


__all__ = ["CHANNELS", "DATASET", "DATASET_NAME", "DATASET_SPEC", "FILES", "HEPDATA_DOI", "HEPDATA_RECORD",
           "HEPDATA_URL", "NUMBER_DENSITY_FILES", "Q2_GEN_EDGES", "SIGNAL_SAMPLES", "WORKSPACE_FILE",
           "VerifiedFile", "cache_dir", "check_file", "fetch", "find_file", "hepdata_urls", "input_digests",
           "load_number_densities", "load_workspace", "search_dirs", "sha256_of", "status", "verify_file"]
