"""Worker processes: one BLAS thread each, and never outliving the run that started them.

A ``ProcessPoolExecutor`` worker blocks on its task queue; when the parent is killed
(``kill``, ``kill -9``, a closed terminal) nothing tells the worker, and it keeps computing
and then waits for ever: an orphan.  :func:`guard_worker` is the pool's ``initializer``:

* on Linux it asks the kernel to send the worker SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``), and exits at once if the parent is already gone;
* everywhere it also starts a daemon thread that checks every second whether the parent
  process still exists, and ends the worker when it does not.

:func:`single_threaded_blas` limits the worker's BLAS/OpenMP pools to one thread (the
workers already use every core).  :func:`init_worker` does both; it is the ``initializer``
of the process pools of :mod:`xfit.inference.executors`.  :func:`stop_workers` ends a pool's
workers without waiting for their running tasks (for an interrupted run, whose finished
chunks are already stored).
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


#: Environment variables that limit the BLAS/OpenMP thread pools of a process.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def single_threaded_blas() -> None:
    """One BLAS thread in this (worker) process.  With threadpoolctl installed the loaded
    pools are limited; the environment variables take effect for libraries loaded after this
    (spawned workers)."""
    for var in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(var, "1")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def init_worker(parent: int | None = None) -> None:
    """The process pools' initializer: :func:`guard_worker` and :func:`single_threaded_blas`."""
    guard_worker(parent)
    single_threaded_blas()


def stop_workers(executor) -> None:
    """Terminate the worker processes of a ``ProcessPoolExecutor`` (no-op for others)."""
    processes = getattr(executor, "_processes", None) or {}
    for proc in list(processes.values()):
        try:
            proc.terminate()
        except (OSError, AttributeError):
            pass
    executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["BLAS_THREAD_VARIABLES", "guard_worker", "init_worker", "single_threaded_blas", "stop_workers"]
