"""One result base type and one JSON policy for every result of xfit.

* :func:`to_jsonable` -- THE function that turns numpy scalars/arrays, tuples, complex numbers
  and non-finite floats into JSON: NaN/inf become ``null`` (strict JSON, the default), or are
  kept as floats (``strict=False``: the resumable store's own format, which round-trips them).
  The CLI (:mod:`xfit.cli.common`), the store (:mod:`xfit.inference.store`) and the results
  below all use it.
* :func:`dumps`, :func:`write_json` -- strict JSON text / an atomically written file.
* :class:`Result` -- the base of every result type (the Belle II SM fit, mass points and mass
  scans, :class:`~xfit.inference.fit.FitResult`, profile scans, coupling limits, hypothesis
  tests, upper limits): ``to_dict()`` (strict JSON), ``save(path)`` (atomic write of
  ``to_dict()``), a readable ``__repr__`` (class name and the scalar fields) and, in Jupyter,
  ``_repr_html_``: a table of every field (scalars in full, arrays and mappings summarised).
"""
from __future__ import annotations

import dataclasses
import html
import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def to_jsonable(value: Any, strict: bool = True) -> Any:
    """Python/JSON types for ``value``: mappings (keys as strings), lists, floats, ints, bools,
    strings, None.  numpy arrays and scalars become lists and Python numbers, complex numbers
    ``[re, im]``; with ``strict`` (default) non-finite floats become None (JSON null)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, strict) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, strict) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), strict)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if (math.isfinite(v) or not strict) else None
    if isinstance(value, complex):
        return [to_jsonable(value.real, strict), to_jsonable(value.imag, strict)]
    if isinstance(value, Result):
        return to_jsonable(value.to_dict(), strict)
    return value


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (see :func:`to_jsonable`)."""
    return json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as strict JSON to ``path`` atomically (a temporary file in the same
    directory, then renamed over ``path``: readers never see a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(obj, indent=indent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _short(value: Any) -> str | None:
    """A short text of a scalar field for ``__repr__`` (None: leave the field out)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    return None


class Result:
    """Base of every xfit result.

    Subclasses (usually dataclasses declared with ``repr=False``) override :meth:`to_dict`
    when their JSON is not simply their fields.
    """

    def to_dict(self) -> dict:
        """Strict-JSON mapping of the result (numpy to Python, NaN/inf to null)."""
        if dataclasses.is_dataclass(self):
            d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        else:
            d = dict(vars(self))
        return to_jsonable(d)

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON to ``path`` (atomically); returns the path."""
        return write_json(path, self.to_dict())

    def _repr_fields(self) -> dict[str, Any]:
        if dataclasses.is_dataclass(self):
            return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.repr}
        return dict(vars(self))

    def __repr__(self) -> str:
        parts = []
        for k, v in self._repr_fields().items():
            s = _short(v)
            if s is None and isinstance(v, (list, tuple, np.ndarray, Mapping)):
                s = f"<{len(v)} items>"
            if s is not None:
                parts.append(f"{k}={s}")
        return f"<{type(self).__name__} " + ", ".join(parts) + ">"

    def _repr_html_(self) -> str:
        """The result as an HTML table (Jupyter): one row per field, like iminuit's displays."""
        rows = []
        for k, v in self._repr_fields().items():
            rows.append(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                        f"<td style='text-align:left'>{html.escape(_html_value(v))}</td></tr>")
        return (f"<table><caption style='text-align:left'><b>{html.escape(type(self).__name__)}</b>"
                "</caption>" + "".join(rows) + "</table>")


def _html_value(value: Any) -> str:
    """A field's text in :meth:`Result._repr_html_`: scalars in full, containers summarised."""
    s = _short(value)
    if s is not None:
        return s
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        if value.size and value.size <= 8:
            return np.array2string(value, precision=6, separator=", ")
        return f"array of shape {value.shape}"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k}: {_short(v) if _short(v) is not None else '...'}" for k, v in list(value.items())[:8])
        return "{" + inner + (", ..." if len(value) > 8 else "") + "}"
    if isinstance(value, (list, tuple)):
        if len(value) <= 8 and all(_short(v) is not None for v in value):
            return "[" + ", ".join(_short(v) for v in value) + "]"
        return f"{len(value)} items"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


__all__ = ["Result", "dumps", "to_jsonable", "write_json"]
