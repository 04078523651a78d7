"""Published sensitivity projections of counting experiments (``data/projections/*.yaml``).

Each file holds one projection: ``name``, ``experiment``, ``observable``, ``projected_limit``
(null where no published projection was found -- never invented), ``confidence_level``,
``exposure``, ``scaling`` and ``source`` (provenance).  A ``scaling`` of kind
``background_limited`` is the naive luminosity scaling of arXiv:2603.04394 Eq. (3.16): a
limit B_ref obtained with exposure L_ref against a background rate B_bkg becomes, with
exposure L,

    B(L) = sqrt(B_bkg B_ref L_ref / L)        (:func:`background_limited_limit`),

i.e. B_bkg sqrt((L_ref / L) (B_ref / B_bkg)) as printed there; a background-free search
would scale as 1 / L instead (:func:`background_free_limit`).
"""
from __future__ import annotations

import math

import numpy as np

from .datafiles import data_root
from .errors import DataError, InputError
from .yamlio import loads_yaml

#: Directory of the projection files under data/.
DIRECTORY = "projections"
#: Keys every projection file must have.
REQUIRED = ("name", "experiment", "observable", "projected_limit", "exposure", "scaling", "source", "notes")


def background_limited_limit(reference_limit, reference_exposure, exposure, background_rate):
    """Eq. (3.16) of arXiv:2603.04394: sqrt(B_bkg B_ref L_ref / L) (vectorised in ``exposure``)."""
    L = np.asarray(exposure, dtype=float)
    if np.any(L <= 0) or reference_exposure <= 0:
        raise InputError(f"exposures must be > 0, got {exposure!r:.80} and {reference_exposure!r:.80}")
    return np.sqrt(background_rate * reference_limit * reference_exposure / L)


def background_free_limit(reference_limit, reference_exposure, exposure):
    """A background-free limit scaled with exposure: B_ref L_ref / L (vectorised)."""
    L = np.asarray(exposure, dtype=float)
    if np.any(L <= 0) or reference_exposure <= 0:
        raise InputError(f"exposures must be > 0, got {exposure!r:.80} and {reference_exposure!r:.80}")
    return reference_limit * reference_exposure / L


def _limit_of(term_file: str, where: str) -> float:
    """The single published upper limit of ``data/limits/<term_file>.yaml`` (a number written once)."""
    node = data_root().joinpath("limits").joinpath(f"{term_file}.yaml")
    try:
        d = loads_yaml(node.read_text(encoding="utf-8"), source=node.name)
        value = d["limits"][0]["upper_limit"]
    except (OSError, KeyError, IndexError, TypeError):
        raise DataError(f"{where}: limit_of {term_file!r} names no data/limits file with one upper_limit") from None
    return float(value)


def _resolve(d: dict, name: str) -> dict:
    """Replace ``{limit_of: TERM}`` by the published limit of that term's data file."""
    where = f"data/projections/{name}"
    if isinstance(d.get("projected_limit"), dict):
        d["projected_limit"] = _limit_of(d["projected_limit"].get("limit_of"), f"{where}: projected_limit")
    s = d.get("scaling")
    if isinstance(s, dict) and isinstance(s.get("reference_limit"), dict):
        s["reference_limit"] = _limit_of(s["reference_limit"].get("limit_of"), f"{where}: scaling.reference_limit")
    return d


def _check(d, name: str) -> dict:
    if not isinstance(d, dict):
        raise DataError(f"data/projections/{name}: not a mapping")
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise DataError(f"data/projections/{name}: missing key(s) {', '.join(missing)}")
    lim = d["projected_limit"]
    if lim is not None and (isinstance(lim, bool) or not isinstance(lim, (int, float)) or not lim > 0):
        raise DataError(f"data/projections/{name}: projected_limit must be > 0 or null, got {str(lim)[:80]!r}")
    return d


def load_projections() -> dict[str, dict]:
    """All projection files, keyed by their ``name``."""
    root = data_root().joinpath(DIRECTORY)
    out = {}
    for node in sorted(root.iterdir(), key=lambda n: n.name):
        if node.name.endswith(".yaml"):
            raw = loads_yaml(node.read_text(encoding="utf-8"), source=node.name)
            d = _check(_resolve(raw, node.name) if isinstance(raw, dict) else raw, node.name)
            out[d["name"]] = d
    if not out:
        raise DataError("no projection files found in data/projections")
    return out


def scaled_limit(entry: dict) -> float | None:
    """The limit recomputed from the entry's ``scaling`` (None if it has none)."""
    s = entry.get("scaling") or {}
    if s.get("kind") == "background_limited":
        return float(background_limited_limit(s["reference_limit"], s["reference_exposure"], s["exposure"],
                                               s["background_rate"]))
    if s.get("kind") == "background_free":
        return float(background_free_limit(s["reference_limit"], s["reference_exposure"], s["exposure"]))
    return None


def summary() -> list[dict]:
    """One row per projection (``xfit project counting --json``)."""
    rows = []
    for name, d in load_projections().items():
        sl = scaled_limit(d)
        rows.append({
            "name": name, "experiment": d["experiment"], "observable": d["observable"],
            "projected_limit": d["projected_limit"], "confidence_level": d.get("confidence_level"),
            "exposure": d["exposure"], "scaling_estimate": None if sl is None or not math.isfinite(sl) else sl,
            "source": d["source"].get("publication") if isinstance(d["source"], dict) else d["source"],
            "status": "published projection" if d["projected_limit"] is not None
            else "not found (see notes)", "notes": " ".join(str(d["notes"]).split()),
        })
    return rows
