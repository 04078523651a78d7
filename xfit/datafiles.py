"""Curated experimental inputs: find, load and validate the files under ``data/``.

Every number a likelihood term uses lives in a data file with its provenance (see
docs/data.md).  :func:`load_data_file` finds a file through ``importlib.resources``
(the installed package ``xfit.data`` is the repository's ``data/`` directory) and falls back
to ``<repo>/data`` when xfit runs from a source tree.  It checks the provenance keys every
file must carry and the numbers a limit file holds, and raises :class:`~xfit.errors.DataError`
naming the file and what is wrong.

Limit files (``data/limits/*.yaml``) hold a list ``limits`` of entries, each either a constant
``upper_limit`` or a ``curve`` (``mass_GeV``, ``upper_limit`` and optionally ``segment`` given
inline, or ``file:`` a CSV next to the YAML file).  :class:`LimitCurve` turns a curve into
the callable ``upper_limit(mX)`` that :class:`xfit.likelihood.UpperLimitTerm` takes.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import yaml

from .errors import DataError, InputError
from .yamlio import safe_load

__all__ = [
    "REQUIRED_KEYS",
    "LimitCurve",
    "data_root",
    "limit_of",
    "load_data_file",
    "mass_range_option",
]

#: Provenance keys every data file must have (docs/data.md says what each holds).
REQUIRED_KEYS: tuple[str, ...] = (
    "observable",
    "publication",
    "hepdata",
    "confidence_level",
    "mass_range_GeV",
    "units",
    "digitisation",
    "notes",
)

_CSV_COLUMNS = ("mass_GeV", "upper_limit")


def data_root():
    """The directory holding the data files (a :class:`~importlib.resources.abc.Traversable`).

    ``importlib.resources.files("xfit.data")`` for an installed xfit; ``<repo>/data`` when
    ``xfit.data`` is not importable (running from a source tree with ``PYTHONPATH``).
    """
    try:
        return resources.files("xfit.data")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "data"


def _locate(relpath: str | Path, root=None):
    """The file ``relpath`` under ``root`` (default :func:`data_root`); absolute paths as given."""
    p = Path(relpath)
    if p.is_absolute():
        return p
    node = data_root() if root is None else (Path(root) if isinstance(root, str) else root)
    for part in PurePosixPath(str(relpath).replace("\\", "/")).parts:
        node = node.joinpath(part)
    return node


def _read_text(node, name: str) -> str:
    try:
        return node.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise DataError(f"data file {name!r}: not found (looked for {node})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"data file {name!r}: not UTF-8 text ({exc})") from None


def load_data_file(relpath: str | Path, root=None) -> dict[str, Any]:
    """Load and validate the YAML data file ``relpath`` (e.g. ``"limits/l3_z_gamma.yaml"``).

    ``relpath`` is relative to the data directory (or to ``root`` if given; an absolute path
    is used as is).  Returns the file's mapping; a ``curve`` of a ``limits`` entry comes back
    with numpy arrays ``mass_GeV``, ``upper_limit`` and ``segment`` (also when its numbers
    live in a CSV file).  Raises :class:`DataError` for a missing file, invalid YAML, a missing
    provenance key, masses that do not increase, or a limit that is not positive.
    """
    name = str(relpath)
    node = _locate(relpath, root)
    text = _read_text(node, name)
    try:
        content = safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"data file {name!r}: not valid YAML: {exc}") from None
    if not isinstance(content, dict):
        raise DataError(
            f"data file {name!r}: expected a YAML mapping of keys at top level, got {type(content).__name__}"
        )
    missing = [k for k in REQUIRED_KEYS if k not in content]
    if missing:
        raise DataError(
            f"data file {name!r}: missing required provenance key(s) {missing}; "
            f"every data file needs {list(REQUIRED_KEYS)}"
        )
    _check_provenance(content, name)
    if "limits" in content:
        parent = node.parent if hasattr(node, "parent") else None
        content["limits"] = _check_limits(content["limits"], name, parent)
    return content


# --- validation ----------------------------------------------------------------------------


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_mass_range(value, name: str, where: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(_is_number(v) for v in value):
        raise DataError(f"data file {name!r}: {where} must be [low, high] in GeV, got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if math.isnan(lo) or math.isnan(hi) or lo < 0 or not lo < hi:
        raise DataError(f"data file {name!r}: {where} must satisfy 0 <= low < high, got {value!r}")
    return lo, hi


def _check_cl(value, name: str, where: str) -> None:
    if _is_number(value):
        if not 0.0 < float(value) < 1.0:
            raise DataError(f"data file {name!r}: {where} must be a fraction in (0, 1) (e.g. 0.90), got {value!r}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_cl(v, name, f"{where}.{k}")
    elif not isinstance(value, str):
        raise DataError(f"data file {name!r}: {where} must be a number in (0, 1), got {value!r}")


def _check_provenance(content: dict, name: str) -> None:
    for key in ("observable", "digitisation", "notes", "units"):
        if content[key] in (None, "", [], {}):
            raise DataError(f"data file {name!r}: provenance key {key!r} is empty")
    pub = content["publication"]
    pubs = pub if isinstance(pub, list) else [pub]
    if not pubs or not all(isinstance(p, dict) and p for p in pubs):
        raise DataError(
            f"data file {name!r}: 'publication' must be a mapping (authors, title, arxiv, "
            f"journal) or a list of them, got {pub!r}"
        )
    hd = content["hepdata"]
    if isinstance(hd, dict):
        if "doi" not in hd:
            raise DataError(f"data file {name!r}: 'hepdata' mapping needs a 'doi' (or doi: null)")
        if hd["doi"] is None and not (isinstance(hd.get("note"), str) and hd["note"].strip()):
            raise DataError(f"data file {name!r}: 'hepdata.doi' is null, so 'hepdata.note' must say why")
    elif hd is not None and not isinstance(hd, str):
        raise DataError(f"data file {name!r}: 'hepdata' must be a DOI string, null or a mapping")
    _check_cl(content["confidence_level"], name, "confidence_level")
    _check_mass_range(content["mass_range_GeV"], name, "mass_range_GeV")


def _check_limits(limits, name: str, parent) -> list[dict]:
    if not isinstance(limits, list) or not limits:
        raise DataError(f"data file {name!r}: 'limits' must be a non-empty list of entries")
    out = []
    for i, entry in enumerate(limits):
        where = f"limits[{i}]"
        if not isinstance(entry, dict):
            raise DataError(f"data file {name!r}: {where} must be a mapping, got {entry!r}")
        if not isinstance(entry.get("observable"), str) or not entry["observable"]:
            raise DataError(f"data file {name!r}: {where} needs an 'observable' (a prediction key)")
        if "mass_range_GeV" in entry:
            _check_mass_range(entry["mass_range_GeV"], name, f"{where}.mass_range_GeV")
        has_ul, has_curve = "upper_limit" in entry, "curve" in entry
        if has_ul == has_curve:
            raise DataError(f"data file {name!r}: {where} needs exactly one of 'upper_limit' (a number) or 'curve'")
        entry = dict(entry)
        if has_ul:
            ul = entry["upper_limit"]
            if not _is_number(ul) or not math.isfinite(ul) or ul <= 0:
                raise DataError(
                    f"data file {name!r}: {where}.upper_limit must be a positive finite number, "
                    f"got {ul!r} (negative or zero limits are not allowed)"
                )
        else:
            entry["curve"] = _load_curve(entry["curve"], name, where, parent)
        out.append(entry)
    return out


def _load_curve(curve, name: str, where: str, parent) -> dict:
    if not isinstance(curve, dict):
        raise DataError(f"data file {name!r}: {where}.curve must be a mapping, got {curve!r}")
    curve = dict(curve)
    if "file" in curve:
        if parent is None:
            raise DataError(f"data file {name!r}: cannot locate {where}.curve.file {curve['file']!r}")
        csv_name = f"{PurePosixPath(name).parent / curve['file']}"
        mass, ul, seg = _read_curve_csv(_read_text(parent.joinpath(curve["file"]), csv_name), csv_name)
        label = csv_name
    else:
        try:
            mass = [float(v) for v in curve["mass_GeV"]]
            ul = [float(v) for v in curve["upper_limit"]]
            seg = [int(v) for v in curve.get("segment", [1] * len(mass))]
        except KeyError as exc:
            raise DataError(
                f"data file {name!r}: {where}.curve needs 'mass_GeV' and 'upper_limit' lists (or 'file'); missing {exc}"
            ) from None
        except (TypeError, ValueError) as exc:
            raise DataError(f"data file {name!r}: {where}.curve holds a non-number ({exc})") from None
        label = name
    curve["mass_GeV"], curve["upper_limit"], curve["segment"] = _check_curve(mass, ul, seg, label, f"{where}.curve")
    return curve


def _read_curve_csv(text: str, name: str):
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise DataError(f"data file {name!r}: no rows (expected a header {list(_CSV_COLUMNS)})")
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    cols = reader.fieldnames or []
    missing = [c for c in _CSV_COLUMNS if c not in cols]
    if missing:
        raise DataError(f"data file {name!r}: missing column(s) {missing}; header is {cols}")
    mass, ul, seg = [], [], []
    for row_no, row in enumerate(reader, start=1):
        try:
            mass.append(float(row["mass_GeV"]))
            ul.append(float(row["upper_limit"]))
            seg.append(int(row["segment"]) if row.get("segment") not in (None, "") else 1)
        except (TypeError, ValueError):
            raise DataError(f"data file {name!r}: data row {row_no} is not numeric: {row}") from None
    return mass, ul, seg


def _check_curve(mass: Iterable[float], ul: Iterable[float], seg: Iterable[int], name: str, where: str):
    m = np.asarray(list(mass), dtype=float)
    u = np.asarray(list(ul), dtype=float)
    s = np.asarray(list(seg), dtype=int)
    if not (m.size and m.size == u.size == s.size):
        raise DataError(
            f"data file {name!r}: {where} needs equally long, non-empty mass and limit columns "
            f"(got {m.size} masses, {u.size} limits, {s.size} segment labels)"
        )
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(u))):
        raise DataError(f"data file {name!r}: {where} holds NaN or infinite values (drop such points)")
    if np.any(m < 0):
        i = int(np.argmax(m < 0))
        raise DataError(f"data file {name!r}: {where} has a negative mass at row {i}: {m[i]!r} GeV")
    bad = np.nonzero(u <= 0)[0]
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"data file {name!r}: {where} has a negative or zero upper limit at row {i} (m = {m[i]:g} GeV): {u[i]!r}"
        )
    dec = np.nonzero(np.diff(m) <= 0)[0]
    if dec.size:
        i = int(dec[0]) + 1
        raise DataError(
            f"data file {name!r}: {where} masses are not strictly increasing (non-monotonic masses): "
            f"row {i} has m = {m[i]!r} GeV after {m[i - 1]!r} GeV"
        )
    if np.any(np.diff(s) < 0):
        raise DataError(f"data file {name!r}: {where} segment labels must not decrease with mass")
    return m, u, s


# --- limit curves --------------------------------------------------------------------------


class LimitCurve:
    """An upper limit versus m_X from digitised points.

    Within each segment (a contiguous run of points) the limit is interpolated linearly in
    log(limit) versus m_X; between segments and outside the covered masses there is no limit
    (NaN, which :class:`xfit.likelihood.UpperLimitTerm` turns into a zero contribution).
    """

    def __init__(self, mass_GeV, upper_limit, segment=None, name: str = "curve"):
        seg = np.ones(len(mass_GeV), dtype=int) if segment is None else segment
        self.mass_GeV, self.upper_limit, self.segment = _check_curve(mass_GeV, upper_limit, seg, name, "curve")
        self.name = name
        self._pieces = []
        for label in np.unique(self.segment):
            sel = self.segment == label
            self._pieces.append((self.mass_GeV[sel], np.log(self.upper_limit[sel])))

    @classmethod
    def from_entry(cls, entry: dict, name: str = "curve", exclude_segments=()) -> LimitCurve:
        """The curve of a data-file entry, optionally without some of its segments."""
        c = entry["curve"]
        keep = ~np.isin(c["segment"], list(exclude_segments))
        return cls(c["mass_GeV"][keep], c["upper_limit"][keep], c["segment"][keep], name=name)

    @property
    def mass_range(self) -> tuple[float, float]:
        return float(self.mass_GeV[0]), float(self.mass_GeV[-1])

    @property
    def segments(self) -> list[tuple[float, float]]:
        """(first, last) mass of each segment, in GeV."""
        return [(float(m[0]), float(m[-1])) for m, _ in self._pieces]

    def __call__(self, mX) -> np.ndarray:
        m = np.asarray(mX, dtype=float)
        out = np.full(m.shape, np.nan)
        for ms, logs in self._pieces:
            inside = (m >= ms[0]) & (m <= ms[-1])
            if inside.any():
                out[inside] = np.exp(np.interp(m[inside], ms, logs))
        return out

    def __repr__(self) -> str:
        lo, hi = self.mass_range
        return (
            f"<LimitCurve {self.name}: {self.mass_GeV.size} points, {len(self._pieces)} segment(s), {lo:g}-{hi:g} GeV>"
        )


def limit_of(entry: dict, name: str = "curve"):
    """The limit of a validated ``limits`` entry: a float, or a :class:`LimitCurve`."""
    if "upper_limit" in entry:
        return float(entry["upper_limit"])
    return LimitCurve.from_entry(entry, name=name)


def mass_range_option(value, default, term: str) -> tuple[float, float]:
    """A user-supplied ``mass_range`` option (or ``default`` if None) as ``(low, high)`` in GeV."""
    if value is None:
        value = default
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"{term}: mass_range must be (low, high) in GeV, got {value!r}") from None
    if math.isnan(lo) or math.isnan(hi) or lo < 0 or not lo < hi:
        raise InputError(f"{term}: mass_range must satisfy 0 <= low < high (GeV), got {value!r}")
    return lo, hi
