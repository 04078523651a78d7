"""Results written as they are computed, resumable, with metadata.

A :class:`ResultStore` is a JSON-lines file:

* line 1, the header: ``{"type": "header", "fingerprint": ..., "metadata": {...}}``;
* then one line per finished chunk: ``{"type": "chunk", "index": k, "result": {...}}``,
  appended (and flushed to disk with ``fsync``) the moment the chunk finishes.

Opening an existing store with the same fingerprint (a hash of everything that defines the
work: model, terms, grid, options, seed, chunking) resumes it: :meth:`completed` returns
the chunks already done and the caller runs only the others.  A different fingerprint is
an error (the file belongs to another computation) unless ``overwrite=True``.  A truncated
last line (the process was killed while writing) is dropped.  Floats are written with
``repr`` (JSON), which round-trips float64 exactly, so a resumed run gives bit-identical
arrays to an uninterrupted one.

:func:`run_metadata` is the metadata block every xfit result carries (terms, model,
versions of xfit/numpy/scipy/iminuit/Python, seed, UTC timestamp, grid).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, InputError
from .results import to_jsonable, write_json

FORMAT_VERSION = 1


def _plain(value):
    """Python types for JSON, NaN/inf kept (the store's own format allows them, so that a
    resumed run reads back exactly what was computed): :func:`xfit.inference.results.to_jsonable`
    with ``strict=False``, the one JSON policy of xfit."""
    return to_jsonable(value, strict=False)


def fingerprint(definition: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``definition`` (the inputs that fix the result)."""
    text = json.dumps(_plain(definition), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


class ResultStore:
    """A resumable JSON-lines result file (see the module docstring)."""

    def __init__(self, path: str | Path, definition: Mapping[str, Any],
                 metadata: Mapping[str, Any] | None = None, overwrite: bool = False,
                 on_mismatch: str = "error", chunk_sizes: Sequence[int] | None = None,
                 validate: Callable[[Any], Any] | None = None,
                 remedy: str = "delete it or pass overwrite=True"):
        if on_mismatch not in ("error", "restart"):
            raise InputError(f"on_mismatch must be 'error' or 'restart', got {on_mismatch!r}")
        self.path = Path(path)
        self.fingerprint = fingerprint(definition)
        self._done: dict[int, Any] = {}
        self.chunk_sizes = None if chunk_sizes is None else [int(n) for n in chunk_sizes]
        self.validate, self.remedy = validate, remedy
        if self.path.exists() and not overwrite and on_mismatch == "restart" and not self._matches():
            overwrite = True
        if self.path.exists() and not overwrite:
            self._load()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            header = {"type": "header", "format": FORMAT_VERSION, "fingerprint": self.fingerprint,
                      "definition": _plain(definition), "metadata": _plain(metadata or {})}
            with open(self.path, "w") as fh:
                fh.write(json.dumps(header, default=repr) + "\n")
                fh.flush()
                os.fsync(fh.fileno())

    def _matches(self) -> bool:
        """Whether the existing file's header has this store's fingerprint.  A header that is
        not a JSON mapping counts as matching, so that :meth:`_load` reports the corruption."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                header = json.loads(fh.readline())
        except OSError:
            return False
        except ValueError:  # bad JSON or not UTF-8
            return True
        if not isinstance(header, Mapping):
            return True
        return header.get("fingerprint") == self.fingerprint

    def _corrupt(self, problem: str) -> DataError:
        return DataError(f"result file {self.path} is corrupt ({problem}); {self.remedy}")

    def _check_chunk(self, rec: Mapping, n: int) -> int:
        """The index of a stored chunk record, after checking its types and array lengths."""
        index = rec.get("index")
        if isinstance(index, bool) or not isinstance(index, int):
            raise self._corrupt(f"line {n}: chunk without an integer index")
        if self.chunk_sizes is not None and not 0 <= index < len(self.chunk_sizes):
            raise self._corrupt(f"line {n}: chunk index {index} not in 0..{len(self.chunk_sizes) - 1}")
        result = rec.get("result")
        if not isinstance(result, Mapping):
            raise self._corrupt(f"line {n}: chunk {index} has no result mapping")
        if self.chunk_sizes is not None:
            size = self.chunk_sizes[index]

            def check(value, key):
                if isinstance(value, list) and len(value) != size:
                    raise self._corrupt(f"line {n}: chunk {index} has {len(value)} values of "
                                        f"{key!r}, expected {size}")
                if isinstance(value, Mapping):
                    for k, v in value.items():
                        check(v, f"{key}.{k}")

            for key, value in result.items():
                check(value, key)
        return index

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            raise self._corrupt("not UTF-8 text") from None
        if not lines:
            raise DataError(f"result file {self.path} is empty; {self.remedy}")
        try:
            header = json.loads(lines[0])
        except json.JSONDecodeError:
            raise self._corrupt("no valid header line") from None
        if not isinstance(header, Mapping) or header.get("type") != "header":
            raise self._corrupt("line 1 is not a header mapping")
        if header.get("fingerprint") != self.fingerprint:
            raise InputError(
                f"result file {self.path} holds a different computation (other model, terms, grid, "
                "options or seed); use another path, delete it, or pass overwrite=True"
            )
        good = [lines[0]]
        for n, line in enumerate(lines[1:], start=2):
            try:
                rec = json.loads(line)
                if not line.endswith("\n"):
                    raise json.JSONDecodeError("truncated", line, len(line))
            except json.JSONDecodeError:
                if n == len(lines):  # killed while writing the last line: drop it
                    break
                raise self._corrupt(f"line {n} is not valid JSON") from None
            if not isinstance(rec, Mapping):
                raise self._corrupt(f"line {n} is not a mapping")
            if rec.get("type") == "chunk":
                index = self._check_chunk(rec, n)
                if self.validate is not None:
                    try:
                        self.validate(rec["result"])
                    except DataError as exc:
                        raise self._corrupt(f"line {n}: {exc}") from None
                self._done[index] = rec["result"]
            good.append(line)
        if len(good) != len(lines):
            self.path.write_text("".join(good))

    def completed(self) -> dict[int, Any]:
        """{chunk index: result} of the chunks already stored."""
        return dict(self._done)

    def append(self, index: int, result: Any) -> Any:
        """Write one finished chunk (flushed and fsynced); return it as it will be read back."""
        result = json.loads(json.dumps(_plain(result)))  # exactly what a resumed run reads
        rec = {"type": "chunk", "index": int(index), "result": result}
        with open(self.path, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._done[int(index)] = result
        return result

    def __len__(self) -> int:
        return len(self._done)

    def __repr__(self) -> str:
        return f"<ResultStore {self.path}: {len(self._done)} chunk(s) done>"


def open_store(path: str | Path | None, definition: Mapping[str, Any],
               metadata: Mapping[str, Any] | None = None, overwrite: bool = False,
               on_mismatch: str = "error", chunk_sizes: Sequence[int] | None = None,
               **kw) -> ResultStore | None:
    """A :class:`ResultStore` at ``path``, or None when ``path`` is None (no storage).

    ``on_mismatch``: what to do when ``path`` holds another computation — ``"error"``
    (default, :class:`InputError`) or ``"restart"`` (start the file afresh).
    ``chunk_sizes``: the number of points of each chunk; every list in a stored chunk's
    result must have that length (else :class:`DataError`)."""
    if path is None:
        return None
    return ResultStore(path, definition, metadata, overwrite=overwrite, on_mismatch=on_mismatch,
                       chunk_sizes=chunk_sizes, **kw)


def likelihood_probe(model, likelihood, mX_values, params: Mapping[str, Any]) -> list[float]:
    """chi2 at a few fixed points, part of a store's fingerprint: if the data or physics
    behind a term change, an old result file is not mistaken for the new computation."""
    try:
        m = np.asarray(mX_values, dtype=float)
        vals = {k: np.broadcast_to(np.asarray(v, dtype=float), m.shape) for k, v in params.items()}
        chi2 = np.asarray(likelihood.chi2(model.predict(m, **vals)), dtype=float)
        return [float(f"{c:.12g}") for c in np.ravel(chi2)]
    except Exception as exc:  # noqa: BLE001 - probing is best effort, the real run reports errors
        return [f"probe failed: {type(exc).__name__}"]


# --- metadata ------------------------------------------------------------------------------

def versions() -> dict[str, str]:
    """Versions of xfit and of the libraries that determine its numbers."""
    import importlib.metadata

    import scipy

    from .. import __version__

    try:  # the installed distribution's version: iminuit itself need not be imported
        iminuit_version = importlib.metadata.version("iminuit")
    except importlib.metadata.PackageNotFoundError:
        import iminuit

        iminuit_version = iminuit.__version__
    return {"xfit": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "iminuit": iminuit_version, "python": platform.python_version()}


def utc_timestamp() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def describe_model(model) -> dict:
    """A JSON description of a model: name, class, parameters, charges/traces if any."""
    d = {"name": getattr(model, "name", type(model).__name__), "class": type(model).__name__,
         "parameters": list(getattr(model, "parameters", ())), "repr": repr(model)}
    for attr in ("A_WW", "A_YY", "XS", "br_inv", "br_invisible_override"):
        v = getattr(model, attr, None)
        if isinstance(v, (int, float)):
            d[attr] = float(v)
    if hasattr(model, "charges"):
        try:
            d["charges"] = model.charges()
        except Exception:  # noqa: BLE001, S110 - descriptive only
            pass
    return d


def run_metadata(likelihood=None, model=None, seed: int | None = None,
                 grid: Mapping[str, Any] | None = None, **extra) -> dict:
    """The metadata block of a result: what was computed, with what, when."""
    meta: dict[str, Any] = {"timestamp_utc": utc_timestamp(), "versions": versions(), "seed": seed}
    if likelihood is not None:
        meta["likelihood_terms"] = list(likelihood.names)
        try:
            meta["bibliography"] = likelihood.bibliography().splitlines()
        except Exception:  # noqa: BLE001, S110 - descriptive only
            pass
    if model is not None:
        meta["model"] = describe_model(model)
    if grid is not None:
        meta["grid"] = _plain(grid)
    meta.update(_plain(extra))
    return meta


def finite_or_none(values: Iterable[float]) -> list:
    """Floats, with NaN/inf replaced by None (JSON null)."""
    return [float(v) if v is not None and math.isfinite(float(v)) else None for v in values]


__all__ = [
    "ResultStore",
    "describe_model",
    "fingerprint",
    "finite_or_none",
    "likelihood_probe",
    "open_store",
    "run_metadata",
    "utc_timestamp",
    "versions",
    "write_json",
]
