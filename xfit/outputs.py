"""Output folders of every command that writes files: one validator and one lock.

:func:`check_output_dir` refuses, before anything is computed or created, an ``--out`` that
is an existing file, lies under a system folder (``/``, ``/usr``, ``/etc``, ``/proc``, ...) or
cannot be written; :func:`output_lock` keeps two processes from writing the same folder
at once (a ``filelock`` lock file in the folder: the second one is refused with a message).
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from .errors import InputError

#: Folders (and everything under them) no command writes into; "/" itself is refused too.
SYSTEM_DIRS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin",
               "/sys", "/usr", "/var/lib", "/var/log")
LOCK_NAME = ".xfit.lock"


def _cut(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def check_output_dir(path, flag: str = "--out") -> Path:
    """``path`` as a Path if it can be an output folder; InputError naming ``flag`` if not.
    Nothing is created."""
    if path is None or str(path).strip() == "":
        raise InputError(f"{flag} must be a folder path, got {path!r}")
    p = Path(os.path.expanduser(str(path)))
    shown = _cut(str(path))
    resolved = p.resolve(strict=False)
    if resolved == Path(resolved.anchor) or any(
            resolved == Path(s) or Path(s) in resolved.parents for s in SYSTEM_DIRS):
        raise InputError(f"{flag} {shown!r} is a system folder or lies under one; "
                         "give a folder of your own (e.g. under your home or the working folder)")
    if p.exists() and not p.is_dir():
        raise InputError(f"{flag} {shown!r} is an existing file, not a folder; give a folder path")
    existing = p if p.exists() else next((q for q in p.absolute().parents if q.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {shown!r} cannot be written ({str(existing)!r} is not a writable folder); "
                         "give a writable folder path")
    return p


@contextlib.contextmanager
def output_lock(path, flag: str = "--out"):
    """Hold an exclusive lock on the output folder ``path`` (created if needed) while the
    block runs; InputError at once if another process holds it.  If the block raises an
    XfitError and the folder was created here and holds nothing else, it is removed."""
    from filelock import FileLock, Timeout

    from .errors import XfitError

    p = check_output_dir(path, flag)
    created = not p.exists()
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{flag} {_cut(str(path))!r} cannot be created: {exc.strerror or exc}") from None
    lock_path = p / LOCK_NAME
    own = not lock_path.exists()  # created here: removed again at the end
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise InputError(f"{flag} {_cut(str(path))!r} is being written by another xfit process; "
                         "wait for it to finish or give another folder") from None
    try:
        yield p
    finally:
        lock.release()
        if own:
            with contextlib.suppress(OSError):
                lock_path.unlink()
        if created and sys.exc_info()[0] is not None and issubclass(sys.exc_info()[0], XfitError):
            with contextlib.suppress(OSError):  # refused input: leave no empty folder behind
                p.rmdir()
