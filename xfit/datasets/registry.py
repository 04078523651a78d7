"""Registry of external data sets: what they are, which files, where they are looked for.

A data set is registered once (:func:`register`) by the module that knows its content, e.g.
:mod:`xfit.belle2.files`.  Its files are looked for, in this order:

1. ``$XFIT_DATA_DIR/<directory>/`` if the environment variable ``XFIT_DATA_DIR`` is set;
2. the user cache ``$XDG_CACHE_HOME/xfit/<directory>/`` (default ``~/.cache/xfit/<directory>``),
   which is where ``xfit data fetch NAME`` writes.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, InputError


@dataclass(frozen=True)
class Dataset:
    """An external data set.

    ``files`` maps each file name to its pinned sha256 (hex).  ``check(name, path)`` is the
    content check (raises ValueError with the reason); it runs only on a file whose digest
    differs from the pin and that the user accepted (see :mod:`xfit.datasets.pinning`).
    ``recognise(filename, payload)`` may name the data-set file a downloaded payload is when
    its file name does not say so (HEPData may rename resources); None if it is none of them.
    """

    name: str
    directory: str
    files: Mapping[str, str]
    description: str
    hepdata_record: str | None = None
    doi: str | None = None
    references: tuple[str, ...] = ()
    check: Callable[[str, Path], None] | None = field(default=None, compare=False)
    recognise: Callable[[str, bytes], str | None] | None = field(default=None, compare=False)

    def __post_init__(self):
        for fname, digest in self.files.items():
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError(f"data set {self.name}: pinned sha256 of {fname} is not 64 hex digits")

    @property
    def remedy(self) -> str:
        src = f" (HEPData record {self.hepdata_record}, DOI {self.doi})" if self.hepdata_record else ""
        return (f"get it with `xfit data fetch {self.name}`{src} or set XFIT_DATA_DIR to a directory "
                f"containing {self.directory}/")


_REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    """Add ``dataset`` (idempotent for the same definition); returns it."""
    old = _REGISTRY.get(dataset.name)
    if old is not None and old != dataset:
        raise ValueError(f"data set {dataset.name!r} is already registered with another definition")
    _REGISTRY[dataset.name] = dataset
    return dataset


def get(name: str) -> Dataset:
    """The registered data set ``name``; InputError listing the known ones otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown data set {str(name)[:80]!r}; known: {', '.join(_REGISTRY) or 'none'}") from None


def available() -> list[str]:
    return list(_REGISTRY)


def cache_root() -> Path:
    """$XDG_CACHE_HOME/xfit, or ~/.cache/xfit."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xfit"


def cache_dir(dataset: Dataset) -> Path:
    """The user cache of ``dataset`` (where ``xfit data fetch`` writes)."""
    return cache_root() / dataset.directory


def search_dirs(dataset: Dataset) -> list[Path]:
    """Directories searched for the files of ``dataset``, in order (module docstring)."""
    dirs = []
    env = os.environ.get("XFIT_DATA_DIR")
    if env:
        dirs.append(Path(env) / dataset.directory)
    dirs.append(cache_dir(dataset))
    return dirs


def find_file(dataset: Dataset, name: str) -> Path:
    """Path of file ``name`` of ``dataset``; DataError if it is unknown or absent."""
    if name not in dataset.files:
        raise DataError(f"unknown {dataset.name} file {name!r}; known: {', '.join(dataset.files)}")
    dirs = search_dirs(dataset)
    for d in dirs:
        p = d / name
        if p.is_file():
            return p
    where = ", ".join(str(d) for d in dirs)
    raise DataError(f"{dataset.name} file {name} not found (looked in {where}); {dataset.remedy}")
