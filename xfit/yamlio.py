"""The one YAML loader for files people write (field tables, anomalon field contents, ...).

:func:`load_yaml` reads a file with limits, so that a mistaken or hostile file is a one-line
:class:`~xfit.errors.InputError` naming the file and the problem, within a fraction of a
second, instead of a hang, a memory blow-up, a traceback or a silently wrong value:

* size (:data:`MAX_BYTES`), checked before reading;
* UTF-8 text only (the offset of the first bad byte is named);
* an empty document (nothing, or only comments) is an error;
* nesting depth (:data:`MAX_DEPTH`) and the number of nodes after alias expansion
  (:data:`MAX_NODES`; a "billion laughs" file of nested aliases stops at once) are counted on
  the event stream, before anything is built;
* scalars longer than :data:`MAX_SCALAR` characters;
* duplicate keys in a mapping (YAML would silently keep the last one);
* exactly one document;
* only the safe YAML types (``yaml.SafeLoader``: no Python objects).

A file that cannot be read at all (missing, a directory, no permission) is a
:class:`~xfit.errors.DataError` ("cannot read ...").
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from .errors import DataError, InputError

MAX_BYTES = 1_000_000
MAX_DEPTH = 50
MAX_NODES = 100_000
MAX_SCALAR = 4096

#: YAML's safe loader, libyaml's C implementation where installed (the same documents, several
#: times faster); the limits of :func:`loads_yaml` are checked on top of it.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Loader = SAFE_LOADER


def safe_load(text: str):
    """``yaml.safe_load`` through libyaml when available (the same safe types, ~10x faster on
    the package's data files); raises ``yaml.YAMLError`` like it.  For the package's own data
    (no limits): files people write go through :func:`load_yaml`."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a SafeLoader


class _Problem(Exception):
    """A limit is exceeded (message without the file name)."""


def _where(mark) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def _check_events(text: str, max_depth: int, max_nodes: int, max_scalar: int) -> None:
    """Depth, expanded node count, scalar length and document count, from the event stream."""
    depth = 0
    expanded = 0
    sizes: dict[str, int] = {}   # anchor -> expanded size of its node
    stack: list[list] = []       # open collections: [anchor, size so far]
    documents = 0

    def add(n: int, mark) -> None:
        nonlocal expanded
        expanded += n
        if expanded > max_nodes:
            raise _Problem(f"more than {max_nodes} values after expanding aliases{_where(mark)}")
        if stack:
            stack[-1][1] += n

    for ev in yaml.parse(text, Loader=_Loader):
        if isinstance(ev, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _Problem(f"more than one YAML document{_where(ev.start_mark)}")
        elif isinstance(ev, yaml.ScalarEvent):
            if len(ev.value) > max_scalar:
                raise _Problem(f"a value of {len(ev.value)} characters, more than the limit of {max_scalar}"
                               f"{_where(ev.start_mark)}")
            if ev.anchor is not None:
                sizes[ev.anchor] = 1
            add(1, ev.start_mark)
        elif isinstance(ev, yaml.AliasEvent):
            add(sizes.get(ev.anchor, 1), ev.start_mark)
        elif isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > max_depth:
                raise _Problem(f"nested more than {max_depth} levels deep{_where(ev.start_mark)}")
            add(1, ev.start_mark)
            stack.append([ev.anchor, 1])
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
            anchor, size = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
            if stack:
                stack[-1][1] += size - 1  # the collection's own 1 was added when it opened


class _StrictLoader(_Loader):
    """SafeLoader refusing duplicate keys."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise _Problem(f"a mapping key that is not a plain value{_where(key_node.start_mark)}") from None
                if key in seen:
                    raise _Problem(f"duplicate key {str(key)[:80]!r}{_where(key_node.start_mark)}, "
                                   f"first at line {seen[key] + 1}")
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def loads_yaml(data: bytes | str, source: str = "<string>", *, max_bytes: int = MAX_BYTES,
               max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES, max_scalar: int = MAX_SCALAR):
    """Parse YAML ``data`` with the limits of the module docstring; ``source`` names it in errors."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise InputError(f"{source}: file of {len(raw)} bytes, more than the limit of {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (byte {exc.start} is {raw[exc.start:exc.start + 1]!r})") from None
    text = text.removeprefix("\ufeff")
    try:
        _check_events(text, max_depth, max_nodes, max_scalar)
        doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _Problem as exc:
        raise InputError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = (getattr(exc, "problem", None) or "invalid YAML").strip()
        if "nesting depth" in problem:  # PyYAML >= 6.0.4 stops deep flow collections while scanning ahead
            raise InputError(f"{source}: nested more than {max_depth} levels deep{_where(mark)}") from None
        raise InputError(f"{source}: invalid YAML{_where(mark)}: {problem[:120]}") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise InputError(f"{source}: nested too deeply") from None
    if doc is None:
        raise InputError(f"{source}: empty file (no YAML content)")
    return doc


def load_yaml(path: str | os.PathLike, **limits):
    """Read and parse the YAML file ``path`` (:func:`loads_yaml`'s limits, ``max_bytes`` checked
    before reading).  InputError on bad content, DataError if the file cannot be read."""
    p = Path(path)
    max_bytes = limits.get("max_bytes", MAX_BYTES)
    try:
        size = p.stat().st_size
        if p.is_file() and size > max_bytes:
            raise InputError(f"{p}: file of {size} bytes, more than the limit of {max_bytes}")
        with open(p, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror or exc}") from None
    return loads_yaml(raw, str(p), **limits)
