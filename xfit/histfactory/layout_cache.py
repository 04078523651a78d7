"""On-disk cache of model layouts (:class:`~.layout.Layout`), so a known workspace builds its
model without importing pyhf or validating the workspace again.

An entry is ``$XDG_CACHE_HOME/xfit/models/<key>.json`` (default ``~/.cache/xfit/models/``), plain
JSON.  ``key`` is the sha256 of the canonical workspace JSON (``json.dumps(sort_keys=True)``)
together with the measurement, the POI, the modifier settings, the xfit version and the pyhf
version.  An entry is written only after pyhf built the model from a workspace that validated
against the schema, so a hit stands for "this exact content validated and pyhf gave this
layout".  Extra samples are not part of the key: their parameters are appended after pyhf's by
the model, from the :class:`~.model.ExtraSample` itself, and never pass through pyhf.

Entries are written atomically (temporary file + ``os.replace``); an unreadable, corrupt or
foreign entry is ignored (the layout is rebuilt with pyhf and the entry rewritten); a cache that
cannot be written is skipped silently.  ``XFIT_NO_MODEL_CACHE=1`` turns the cache off.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from .layout import Layout

#: Set to 1 (or any non-empty value other than 0) to neither read nor write the cache.
DISABLE_ENV = "XFIT_NO_MODEL_CACHE"
#: Version of the entry format (a change makes old entries foreign).
FORMAT = 1
#: Schema-valid workspaces seen in this process (sha256 of their canonical JSON).
_VALIDATED: set[str] = set()


def enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip() in ("", "0")


def cache_dir() -> Path:
    from ..datasets.registry import cache_root

    return cache_root() / "models"


def spec_json(spec) -> str | None:
    """The canonical JSON of ``spec`` (``json.dumps(sort_keys=True)``); None if it is not JSON."""
    try:
        return json.dumps(spec, sort_keys=True)
    except (TypeError, ValueError):
        return None


def digest_of(text: str) -> str:
    """sha256 (hex) of a canonical JSON text."""
    return hashlib.sha256(text.encode()).hexdigest()


def spec_digest(spec) -> str | None:
    """sha256 of the canonical JSON of ``spec``; None if it is not JSON-serialisable."""
    text = spec_json(spec)
    return None if text is None else digest_of(text)


@lru_cache(maxsize=1)
def pyhf_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyhf")
    except PackageNotFoundError:  # pragma: no cover - pyhf is a dependency
        return "unknown"


def model_key(digest: str, measurement, poi, modifier_settings) -> str:
    from .. import __version__

    ident = {"format": FORMAT, "spec": digest, "measurement": measurement, "poi": poi,
             "modifier_settings": modifier_settings, "xfit": __version__, "pyhf": pyhf_version()}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()


def _entry_path(key: str) -> Path:
    return cache_dir() / f"{key}.json"


def _payload_digest(layout_json: dict) -> str:
    return hashlib.sha256(json.dumps(layout_json, sort_keys=True).encode()).hexdigest()


def load(key: str) -> Layout | None:
    """The cached layout of ``key``, or None (no cache, no entry, or an entry not to be trusted)."""
    if not enabled():
        return None
    try:
        entry = json.loads(_entry_path(key).read_text())
        if (not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key
                or entry.get("validated") is not True
                or entry.get("layout_sha256") != _payload_digest(entry["layout"])):
            return None
        return Layout.from_json(entry["layout"])
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None


def store(key: str, digest: str, layout: Layout) -> None:
    """Write the entry of ``key`` atomically; any OSError leaves the cache as it was."""
    if not enabled():
        return
    data = layout.to_json()
    entry = {"format": FORMAT, "key": key, "spec_sha256": digest, "validated": True,
             "layout_sha256": _payload_digest(data), "layout": data}
    path = _entry_path(key)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w") as fh:
            json.dump(entry, fh)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def mark_validated(digest: str | None) -> None:
    """Remember (in this process) that the workspace of ``digest`` validated."""
    if digest is not None:
        _VALIDATED.add(digest)


def validated(digest: str | None) -> bool:
    """Whether the workspace of ``digest`` validated in this process or has a cache entry marker."""
    if digest is None:
        return False
    if digest in _VALIDATED:
        return True
    if enabled() and _marker_path(digest).is_file():
        _VALIDATED.add(digest)
        return True
    return False


def _marker_path(digest: str) -> Path:
    # the schema belongs to pyhf: a marker holds for one pyhf version
    tag = hashlib.sha256(f"{FORMAT}:{digest}:{pyhf_version()}".encode()).hexdigest()
    return cache_dir() / f"valid-{tag}"


def store_validated(digest: str | None) -> None:
    """Record that the workspace of ``digest`` validated, in this process and on disk."""
    if digest is None:
        return
    mark_validated(digest)
    if not enabled():
        return
    try:
        path = _marker_path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        pass
