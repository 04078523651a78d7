"""Worker processes that never outlive the run that started them.

A ``ProcessPoolExecutor`` worker blocks on its task queue; when the parent is killed
(``kill``, ``kill -9``, a closed terminal) nothing tells the worker, and it keeps computing
and then waits for ever: an orphan.  :func:`guard_worker` is the pool's ``initializer``:

* on Linux it asks the kernel to send the worker SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``), and exits at once if the parent is already gone;
* everywhere it also starts a daemon thread that checks every second whether the parent
  process still exists, and ends the worker when it does not.

:func:`stop_workers` ends a pool's workers without waiting for their running tasks (for an
interrupted run, whose finished chunks are already stored).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

#: ``PR_SET_PDEATHSIG`` from <linux/prctl.h>
_PR_SET_PDEATHSIG = 1
#: seconds between the watchdog's checks of the parent
POLL_SECONDS = 1.0


def _parent_gone(parent: int) -> bool:
    return os.getppid() != parent


def _watch(parent: int) -> None:
    event = threading.Event()
    while not event.wait(POLL_SECONDS):
        if _parent_gone(parent):
            os._exit(1)


def guard_worker(parent: int | None = None) -> None:
    """Make this (worker) process end when ``parent`` (default: its current parent) dies."""
    parent = os.getppid() if parent is None else parent
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc/prctl: the watchdog alone
            pass
    if _parent_gone(parent):
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="xfit-parent-watchdog", daemon=True).start()


def stop_workers(executor) -> None:
    """Terminate the worker processes of a ``ProcessPoolExecutor`` (no-op for others)."""
    processes = getattr(executor, "_processes", None) or {}
    for proc in list(processes.values()):
        try:
            proc.terminate()
        except (OSError, AttributeError):
            pass
    executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["guard_worker", "stop_workers"]
