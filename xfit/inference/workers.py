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
of :class:`WorkerPool`, the process pool of :mod:`xfit.inference.executors`.
:func:`stop_workers` ends a pool's workers without waiting for their running tasks (for an
interrupted run, whose finished chunks are already stored).

An interrupt (Ctrl-C, or ``kill``, which the command line turns into one) that arrives while
the pool forks a worker must neither be lost nor leave a worker behind:
:class:`WorkerPool` forks inside :func:`interrupts_deferred`, and knows every worker it
started even if ``ProcessPoolExecutor`` has not recorded it yet.
"""
from __future__ import annotations

import concurrent.futures as cf
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: ``PR_SET_PDEATHSIG`` from <linux/prctl.h>
_PR_SET_PDEATHSIG = 1
#: seconds between the watchdog's checks of the parent
POLL_SECONDS = 1.0
#: seconds :func:`stop_workers` waits for a stopped pool's manager thread
STOP_SECONDS = 5.0
#: The signals that stop a run: Ctrl-C and ``kill``.
INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


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
    (SIGINT to the whole process group) is the parent's to handle, which stops the workers.
    Forked inside :func:`interrupts_deferred`, a worker starts with these signals blocked: they
    are unblocked once its handling is set (a SIGTERM sent meanwhile ends it then)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # forked inside interrupts_deferred(): the signals were held
        signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)
    guard_worker(parent)
    single_threaded_blas()



@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and ``kill`` (:data:`INTERRUPTS`) while the body runs -- a process pool
    forking its workers -- and act on them when it ends.

    A KeyboardInterrupt raised while a pool forks is lost or harmful: raised inside an at-fork
    hook (``logging``'s, for one) it is printed as "Exception ignored" and the run goes on; raised
    between the fork and the pool's record of the new worker, it leaves a worker that nothing
    stops and that the interpreter's exit waits for.  Here

    * the Python handlers of these signals (in the main thread) are replaced by one that only
      notes the signal: another thread (BLAS, the pool's) may be the one the kernel delivers a
      signal to, and the handler would then still run in the main thread, in the middle of the
      fork;
    * the signals are blocked in this thread, so a worker forked here starts with them blocked
      and receives them only once :func:`init_worker` has set its own handling;
    * at the end the handlers and the mask are restored, and each signal noted is raised again
      (the previous handler acts on it: a KeyboardInterrupt here, in normal Python code).
    """
    caught: list[int] = []

    def note(signum, _frame) -> None:
        caught.append(signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():  # handlers live in the main thread
        previous = {sig: signal.getsignal(sig) for sig in INTERRUPTS}
        previous = {sig: handler for sig, handler in previous.items() if callable(handler)}  # Python handlers
        for sig in previous:
            signal.signal(sig, note)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


def _ignore(*_args) -> None:
    return None


def stop_workers(executor) -> None:
    """Terminate the worker processes of a ``ProcessPoolExecutor`` (no-op for others): those
    it records, and for a :class:`WorkerPool` every process it started (:attr:`WorkerPool.started`).

    The pool's call queue is told not to join its feeder thread at exit: with the workers gone,
    that thread can block for ever writing queued tasks into a full pipe, and the interpreter's
    exit (which joins it) would hang instead of ending the interrupted run.  Then the pool's
    manager thread is given up to :data:`STOP_SECONDS` to notice the workers gone and close its
    pipes: the interpreter's exit wakes that thread through one of them, and while the thread is
    still closing it that write fails with an "OSError: Bad file descriptor" traceback (Python
    3.11; 1 interrupted run in 30 before this wait)."""
    manager = getattr(executor, "_executor_manager_thread", None)  # shutdown() forgets it
    call_queue = getattr(executor, "_call_queue", None)
    if call_queue is not None:
        call_queue.cancel_join_thread()
    processes = list((getattr(executor, "_processes", None) or {}).values())
    processes += [p for p in getattr(executor, "started", ()) if p not in processes]
    executor.shutdown(wait=False)
    # the pool's manager thread marks the abandoned futures broken once the workers are gone;
    # on Python 3.11 it fails with an InvalidStateError traceback on a future already cancelled
    # (by the caller): such futures ignore that last exception
    for item in list((getattr(executor, "_pending_work_items", None) or {}).values()):
        future = getattr(item, "future", None)
        if future is not None and future.cancelled():
            future.set_exception = _ignore
    for proc in processes:
        try:
            proc.terminate()
        except (OSError, AttributeError, ValueError):  # gone; never started (no popen); closed
            pass
    if isinstance(manager, threading.Thread) and manager is not threading.current_thread():
        manager.join(STOP_SECONDS)


class _RecordingContext:
    """A multiprocessing context (e.g. ``multiprocessing.get_context()``) that keeps every
    process it creates in :attr:`created`: a pool's ``mp_context``, so that the pool's owner
    knows its workers even when the pool has not recorded one."""

    def __init__(self, context):
        self._context = context
        self.created: list = []

    def Process(self, *args, **kwargs):  # the context API's name
        proc = self._context.Process(*args, **kwargs)
        self.created.append(proc)
        return proc

    def __getattr__(self, name):  # the rest of the context API
        if name == "_context":  # not set yet (a copy being made)
            raise AttributeError(name)
        return getattr(self._context, name)


class WorkerPool(cf.ProcessPoolExecutor):
    """The local process pool of :mod:`xfit.inference.executors`: workers set up by
    :func:`init_worker`, forked with interrupts deferred (:func:`interrupts_deferred`, around
    ``submit``, where ``ProcessPoolExecutor`` starts its workers), and every started worker
    known (:attr:`started`) so that :func:`stop_workers` ends them all."""

    def __init__(self, max_workers: int | None = None, mp_context=None):
        self._recording = _RecordingContext(mp_context or multiprocessing.get_context())
        super().__init__(max_workers=max_workers, mp_context=self._recording, initializer=init_worker,
                         initargs=(os.getpid(),))

    @property
    def started(self) -> list:
        """Every worker process this pool has created (started or not; alive or not)."""
        return list(self._recording.created)

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        with interrupts_deferred():
            return super().submit(fn, *args, **kwargs)


__all__ = ["BLAS_THREAD_VARIABLES", "INTERRUPTS", "WorkerPool", "guard_worker", "init_worker", "interrupts_deferred",
           "single_threaded_blas", "stop_workers"]
