"""Every external file is checked against its pinned sha256 before use.

:func:`verify` is the one gate: a file whose digest equals the pin of its data set is used;
any other digest is a :class:`~xfit.errors.DataError` naming the file, both digests and what
to do -- unless the user opted in to modified data (``XFIT_ALLOW_MODIFIED_DATA=1``, or the
global ``xfit --allow-modified-data``), in which case a warning names the file once on stderr
and the data set's content checks decide.

Every verified file is recorded; :func:`inputs_block` returns them for result files::

    {"xfit_version": "0.1.0", "files": {"belle2_knunu/combined_likelihood.json": "9ec0...", ...}}
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import DataError, InputError
from .registry import Dataset

#: Environment variable of the opt-in (the CLI flag --allow-modified-data sets it).
ALLOW_ENV = "XFIT_ALLOW_MODIFIED_DATA"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")

_lock = threading.Lock()
_used: dict[str, str] = {}      # "<directory>/<file>" -> sha256 of the copy used
_modified: set[str] = set()     # keys of _used whose digest is not the pinned one
_warned: set[tuple[str, str]] = set()


def allow_modified() -> bool:
    """Whether the user opted in to files whose sha256 differs from the pin."""
    raw = os.environ.get(ALLOW_ENV, "")
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise InputError(f"environment variable {ALLOW_ENV} must be 1 or 0, got {raw[:80]!r}")


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=64)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    return sha256_of(path)


def _digest(path: Path) -> str:
    st = path.stat()
    return _sha256_cached(str(path), st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class VerifiedFile:
    """A file that passed :func:`verify`: path, sha256, whether it is the pinned copy."""

    dataset: str
    name: str
    path: Path
    sha256: str
    reference_digest: bool

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.name}"


def mismatch_message(dataset: Dataset, name: str, path, actual: str) -> str:
    """The three lines of a digest mismatch: which file, both digests, what to do."""
    return (f"{dataset.name} file {name} at {path} is not the pinned version\n"
            f"sha256 {actual}, expected {dataset.files[name]}\n"
            f"re-download it with `xfit data fetch {dataset.name} --force`, or accept a deliberately "
            f"modified file with --allow-modified-data ({ALLOW_ENV}=1)")


def _warn_once(dataset: Dataset, name: str, path, actual: str) -> None:
    with _lock:
        if (str(path), actual) in _warned:
            return
        _warned.add((str(path), actual))
    print(f"xfit: warning: using modified data file {path} ({dataset.name}/{name}: sha256 {actual[:16]}..., "
          f"pinned {dataset.files[name][:16]}...) because {ALLOW_ENV}=1", file=sys.stderr)


def verify(dataset: Dataset, name: str, path: str | os.PathLike, content_check: bool = True,
           record_use: bool = True) -> VerifiedFile:
    """Check file ``name`` of ``dataset`` at ``path`` against its pinned sha256 (module docstring).

    With the opt-in, a modified file passes if the data set's content checks pass
    (``content_check=False`` defers them to the caller).  The verified digest is recorded for
    :func:`inputs_block` unless ``record_use`` is False (a download checks, it does not use).
    """
    if name not in dataset.files:
        raise DataError(f"{name!r} is not a file of data set {dataset.name}; known: {', '.join(dataset.files)}")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{dataset.name} file {name} not found at {path}; {dataset.remedy}")
    actual = _digest(path)
    pinned = actual == dataset.files[name]
    if not pinned:
        if not allow_modified():
            raise DataError(mismatch_message(dataset, name, path, actual))
        _warn_once(dataset, name, path, actual)
        if content_check and dataset.check is not None:
            try:
                dataset.check(name, path)
            except ValueError as exc:
                raise DataError(f"{dataset.name} file {path} (modified, accepted by {ALLOW_ENV}) fails the "
                                f"content checks: {exc}\nre-download it with `xfit data fetch {dataset.name} "
                                "--force`") from None
    v = VerifiedFile(dataset.directory, name, path, actual, pinned)
    if record_use:
        record(v)
    return v


def record(v: VerifiedFile) -> None:
    """Note that ``v`` was used by this process (loaders that cache call this on every use)."""
    with _lock:
        _used[v.key] = v.sha256
        if v.reference_digest:
            _modified.discard(v.key)
        else:
            _modified.add(v.key)


def inputs_block() -> dict:
    """``{"xfit_version", "files": {"<directory>/<file>": sha256}}`` of every external file this
    process used (plus ``"modified"``: the files accepted by the opt-in, if any)."""
    from .. import __version__

    with _lock:
        out = {"xfit_version": __version__, "files": dict(sorted(_used.items()))}
        if _modified:
            out["modified"] = sorted(_modified)
    return out


def reset_record() -> None:
    """Forget the recorded files (for tests and long-lived processes)."""
    with _lock:
        _used.clear()
        _modified.clear()
