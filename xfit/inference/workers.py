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
    """The process pools' initializer: :func:`guard_worker`, :func:`single_threaded_blas`, and
    the default signal handling of a worker: a forked worker inherits the command's SIGTERM ->
    KeyboardInterrupt handler and would print a traceback when the parent stops it; Ctrl-C
    (SIGINT to the whole process group) is the parent's to handle, which stops the workers."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    guard_worker(parent)
    single_threaded_blas()


def _ignore(*_args) -> None:
    return None


def stop_workers(executor) -> None:
    """Terminate the worker processes of a ``ProcessPoolExecutor`` (no-op for others).

    The pool's call queue is told not to join its feeder thread at exit: with the workers gone,
    that thread can block for ever writing queued tasks into a full pipe, and the interpreter's
    exit (which joins it) would hang instead of ending the interrupted run."""
    call_queue = getattr(executor, "_call_queue", None)
    if call_queue is not None:
        call_queue.cancel_join_thread()
    processes = dict(getattr(executor, "_processes", None) or {})
    executor.shutdown(wait=False)
    # the pool's manager thread marks the abandoned futures broken once the workers are gone;
    # on Python 3.11 it fails with an InvalidStateError traceback on a future already cancelled
    # (by the caller): such futures ignore that last exception
    for item in list((getattr(executor, "_pending_work_items", None) or {}).values()):
        future = getattr(item, "future", None)
        if future is not None and future.cancelled():
            future.set_exception = _ignore
    for proc in processes.values():
        try:
            proc.terminate()
        except (OSError, AttributeError):
            pass


__all__ = ["BLAS_THREAD_VARIABLES", "guard_worker", "init_worker", "single_threaded_blas", "stop_workers"]
