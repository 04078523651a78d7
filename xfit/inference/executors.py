"""Executors: where the chunks of a scan, a limit curve or a set of toys run.

Everything in :mod:`xfit.inference` that loops over expensive points accepts an
``executor`` argument, which may be

* ``None`` or ``"process"`` / ``"processes"`` — local processes
  (:class:`~xfit.inference.workers.WorkerPool`, a :class:`concurrent.futures.ProcessPoolExecutor`
  whose workers an interrupt stops, at most :data:`DEFAULT_MAX_WORKERS` workers), the default;
* ``"serial"`` — run every chunk in the calling process, in order (for debugging, for
  profilers and for tests);
* ``"dask"`` (a local Dask cluster) or ``"dask://HOST:PORT"`` / ``"tcp://HOST:PORT"``
  (an existing Dask scheduler) — needs the optional dependency ``pip install xfit[dask]``
  (the ``distributed`` package), see :func:`dask_available`;
* any object with the ``concurrent.futures.Executor`` API (``submit`` and ``map``), e.g.
  a ``ThreadPoolExecutor`` or an ``mpi4py.futures.MPIPoolExecutor``;
* a Dask ``distributed.Client`` (detected by its API, :func:`is_dask_client`), wrapped in
  :class:`DaskExecutor` so that its futures behave like ``concurrent.futures`` ones.

:func:`run_chunks` is the single loop that every caller uses: it submits the chunks that
are not yet in a :class:`~xfit.inference.store.ResultStore`, appends each result to the
store the moment it finishes, shows a progress bar, and returns all results in chunk order.
Results never depend on which executor ran them or in which order chunks finished: each
chunk is a pure function of its task (which carries its own seed).
"""
from __future__ import annotations

import concurrent.futures as cf
import importlib.util
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import InputError, require_count
from .workers import WorkerPool, stop_workers

#: Default number of local worker processes (the project's machines have 2 cores to spare).
DEFAULT_MAX_WORKERS = 2

#: Accepted executor names (strings); anything else must be an executor object.
EXECUTOR_NAMES = ("process", "processes", "serial", "dask")


# --- executors ------------------------------------------------------------------------------

class SerialExecutor(cf.Executor):
    """Runs each task immediately in the calling process (``submit`` returns a finished
    future).  Exceptions are stored in the future, as with any executor."""

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        return map(fn, *iterables)

    def __repr__(self) -> str:
        return "SerialExecutor()"


def is_dask_client(obj) -> bool:
    """True for a Dask ``distributed.Client`` (or anything exposing its API:
    ``submit``, ``map``, ``gather`` and ``scheduler_info``)."""
    return all(callable(getattr(obj, a, None)) for a in ("submit", "map", "gather", "scheduler_info"))


class DaskExecutor(cf.Executor):
    """A ``concurrent.futures`` view of a Dask client.

    ``submit`` forwards to ``client.submit(fn, *args, pure=False)`` and returns a standard
    :class:`concurrent.futures.Future` completed by the Dask future's done-callback, so
    ``concurrent.futures.as_completed`` works unchanged.  ``map`` forwards to
    ``client.map`` and gathers the results in order.  Tasks are submitted with
    ``pure=False``: xfit chunks carry their own seeds, and Dask must not hash the
    (possibly large) arguments to deduplicate them.
    """

    def __init__(self, client, close_client: bool = False):
        if not is_dask_client(client):
            raise InputError(f"{client!r} is not a Dask client (needs submit, map, gather, scheduler_info)")
        self.client = client
        self._close_client = close_client
        self._dask_futures: list = []

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        dfut = self.client.submit(fn, *args, pure=False, **kwargs)
        self._dask_futures.append(dfut)
        fut: cf.Future = cf.Future()
        fut.set_running_or_notify_cancel()

        def _done(d):
            try:
                fut.set_result(d.result())
            except BaseException as exc:  # noqa: BLE001 - delivered through the future
                fut.set_exception(exc)

        dfut.add_done_callback(_done)
        return fut

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        futures = self.client.map(fn, *iterables, pure=False)
        return iter(self.client.gather(futures))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            pending = [f for f in self._dask_futures if not f.done()]
            if pending and hasattr(self.client, "cancel"):
                self.client.cancel(pending)
        self._dask_futures = []
        if self._close_client and hasattr(self.client, "close"):
            self.client.close()

    @property
    def n_workers(self) -> int:
        try:
            return max(1, len(self.client.scheduler_info().get("workers", {})))
        except Exception:  # noqa: BLE001 - informative only
            return 1

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client!r})"


def dask_available() -> bool:
    """Whether the optional Dask backend (``pip install xfit[dask]``) is installed."""
    return importlib.util.find_spec("distributed") is not None


def _dask_client(address: str | None):
    if not dask_available():
        raise InputError("executor 'dask' needs the optional dependency distributed: "
                         "pip install 'xfit[dask]' (or use executor 'process' or 'serial')")
    from distributed import Client, LocalCluster  # type: ignore[import-not-found]

    if address:
        return Client(address)
    return Client(LocalCluster(n_workers=DEFAULT_MAX_WORKERS, threads_per_worker=1))


def default_workers() -> int:
    return max(1, min(DEFAULT_MAX_WORKERS, os.cpu_count() or 1))


class ManagedExecutor:
    """Context manager returned by :func:`get_executor`: shuts down what it created,
    leaves executors passed in by the caller alone."""

    def __init__(self, executor: cf.Executor, owned: bool):
        self.executor, self.owned = executor, owned

    def __enter__(self) -> cf.Executor:
        return self.executor

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.owned:
            return
        if exc_type is not None and isinstance(self.executor, cf.ProcessPoolExecutor):
            stop_workers(self.executor)  # interrupted: finished chunks are stored; do not wait for the rest
        else:
            self.executor.shutdown(wait=True, cancel_futures=exc_type is not None)


def _require_workers(value: Any) -> int:
    """A number of worker processes as an int, or InputError: a whole number >= 1."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"workers (number of worker processes) must be a whole number >= 1, "
                         f"got {str(value)[:80]!r}")
    return int(value)


def get_executor(spec: Any = None, max_workers: int | None = None) -> ManagedExecutor:
    """Resolve ``spec`` (see the module docstring, or a mapping ``{"type": "process" |
    "serial" | "dask", "workers": N, "address": "HOST:PORT"}``) to an executor, as a context
    manager that shuts down only what it created.

    >>> with get_executor("serial") as ex:
    ...     list(ex.map(abs, [-1, 2]))
    [1, 2]
    """
    if isinstance(spec, Mapping):  # {"type": ..., "workers": ..., "address": ...} (analysis files)
        kind = spec.get("type", "process")
        if kind in ("process", "processes"):
            workers = spec.get("workers")
            return get_executor("process", max_workers=max_workers if workers is None else workers)
        if kind == "dask" and spec.get("address"):
            return get_executor(f"dask://{spec['address']}")
        return get_executor(kind)
    if spec is None or (isinstance(spec, str) and spec in ("process", "processes")):
        n = default_workers() if max_workers is None else _require_workers(max_workers)
        return ManagedExecutor(WorkerPool(max_workers=n), owned=True)
    if isinstance(spec, str):
        if spec == "serial":
            return ManagedExecutor(SerialExecutor(), owned=True)
        if spec == "dask":
            return ManagedExecutor(DaskExecutor(_dask_client(None), close_client=True), owned=True)
        if spec.startswith(("dask://", "tcp://", "tls://")):
            address = spec[len("dask://"):] if spec.startswith("dask://") else spec
            return ManagedExecutor(DaskExecutor(_dask_client(address), close_client=True), owned=True)
        raise InputError(f"unknown executor {spec!r}; accepted: {', '.join(EXECUTOR_NAMES)}, "
                         "'dask://HOST:PORT', or an executor object with submit/map")
    if isinstance(spec, DaskExecutor) or isinstance(spec, cf.Executor):
        return ManagedExecutor(spec, owned=False)
    if is_dask_client(spec):
        return ManagedExecutor(DaskExecutor(spec), owned=False)
    if callable(getattr(spec, "submit", None)) and callable(getattr(spec, "map", None)):
        return ManagedExecutor(spec, owned=False)
    raise InputError(f"unknown executor {spec!r}; accepted: {', '.join(EXECUTOR_NAMES)}, "
                     "'dask://HOST:PORT', or an executor object with submit/map")


def is_local_process_executor(executor) -> bool:
    return isinstance(executor, cf.ProcessPoolExecutor)


# --- sending likelihoods to workers ------------------------------------------------------

class FrozenLikelihood:
    """A likelihood frozen as pickle bytes when a computation starts.

    Every chunk thaws its own copy, so each chunk starts from the same state whatever ran
    before, in which process or thread, or in which order: results of terms that keep
    internal state (the Belle II likelihood warm-starts its nuisance-parameter fits) are
    then independent of the executor and of interruptions, and threads never share a
    mutable term.
    """

    def __init__(self, likelihood):
        self.data = pickle.dumps(likelihood, protocol=pickle.HIGHEST_PROTOCOL)
        self.names = tuple(getattr(likelihood, "names", ()))

    def thaw(self):
        return pickle.loads(self.data)

    def __repr__(self) -> str:
        return f"FrozenLikelihood({' + '.join(self.names)}; {len(self.data)} bytes)"


def portable_likelihood(likelihood) -> FrozenLikelihood:
    """The likelihood frozen for the chunks (:class:`FrozenLikelihood`); InputError if it
    does not pickle (e.g. a term built with a lambda)."""
    try:
        return FrozenLikelihood(likelihood)
    except Exception as exc:  # noqa: BLE001 - any pickling failure
        raise InputError(f"likelihood {likelihood!r} cannot be pickled ({type(exc).__name__}: {exc}); "
                         "it can only run serially in this process") from None


def freeze(likelihood) -> FrozenLikelihood | None:
    """:class:`FrozenLikelihood` of ``likelihood``, or None if it does not pickle."""
    try:
        return portable_likelihood(likelihood)
    except InputError:
        return None


def prepare_likelihood(likelihood, executor, frozen: FrozenLikelihood | None = None):
    """(executor, what to put in tasks).  Normally the frozen likelihood (``frozen``, or
    frozen now); if it does not pickle, the live object with the serial executor (and a
    RuntimeWarning unless the executor was already serial)."""
    frozen = frozen if frozen is not None else freeze(likelihood)
    if frozen is not None:
        return executor, frozen
    if not isinstance(executor, SerialExecutor):
        import warnings

        warnings.warn(f"likelihood {likelihood!r} does not pickle; running serially instead of on "
                      f"{executor!r}", RuntimeWarning, stacklevel=3)
    return SerialExecutor(), likelihood


def resolve_likelihood(obj):
    """In a chunk: a fresh copy of a :class:`FrozenLikelihood`, or the object itself."""
    return obj.thaw() if isinstance(obj, FrozenLikelihood) else obj


# --- the chunk loop ------------------------------------------------------------------------

def run_chunks(func: Callable[[Any], Mapping], tasks: Sequence[Any], executor: Any = None,
               store=None, progress: bool | None = True, desc: str = "xfit",
               callback: Callable[[int, Mapping], None] | None = None) -> list:
    """Run ``func(task)`` for every task; return the results in task order.

    * ``store`` (a :class:`~xfit.inference.store.ResultStore` or None): chunks already in
      it are not run again; every new result is appended the moment it arrives (so an
      interrupted run loses at most the chunks in flight).
    * ``executor``: see :func:`get_executor`.  With a single chunk left and a local
      process pool (or None), the work runs in the calling process.
    * ``callback(index, result)`` is called after each new result is stored (progress
      reporting; an exception raised there stops the run, with the stored chunks kept).
    * ``progress`` (default on; False silences it): :class:`~xfit.inference.progress.Progress`,
      a bar on a terminal, else a line per ~10 % once the run has taken 2 s, a notice when it
      resumes and when it will take more than 10 minutes.
    * Results must be JSON-serialisable mappings when a store is used.
    """
    from .progress import Progress

    tasks = list(tasks)
    done: dict[int, Any] = dict(store.completed()) if store is not None else {}
    todo = [i for i in range(len(tasks)) if i not in done]
    bar = Progress(len(tasks), desc if desc.startswith("xfit") else f"xfit {desc}", unit="chunks",
                   initial=len(tasks) - len(todo), enabled=progress is not False, after_seconds=2.0,
                   resume_hint="Ctrl-C keeps the finished chunks; run again to resume" if store is not None else None)

    def _record(i: int, res) -> None:
        if store is not None:
            res = store.append(i, res)
        done[i] = res
        bar.update()
        if callback is not None:
            callback(i, res)

    try:
        if not todo:
            pass
        elif len(todo) == 1 and (executor is None or isinstance(executor, cf.ProcessPoolExecutor)
                                 or executor in ("process", "processes")):
            _record(todo[0], func(tasks[todo[0]]))
        else:
            with get_executor(executor) as ex:
                if isinstance(ex, SerialExecutor):
                    for i in todo:
                        _record(i, func(tasks[i]))
                else:
                    futures = {ex.submit(func, tasks[i]): i for i in todo}
                    try:
                        for fut in cf.as_completed(futures):
                            _record(futures[fut], fut.result())
                    finally:
                        for fut in futures:
                            fut.cancel()
    finally:
        bar.close()
    return [done[i] for i in range(len(tasks))]


def require_chunk_size(chunk_size: Any) -> int:
    """``chunk_size`` as an int, or InputError (:func:`xfit.errors.require_count`)."""
    return require_count(chunk_size, "chunk_size", "points per chunk")


def chunk_indices(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """[(start, stop), ...] covering range(n) in chunks of ``chunk_size`` (the last shorter;
    checked by :func:`require_chunk_size`)."""
    chunk_size = require_chunk_size(chunk_size)
    return [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]


def iter_seeds(seed: int | None, n: int) -> list[int]:
    """``n`` independent 63-bit seeds derived from ``seed`` (numpy SeedSequence.spawn):
    chunk k always gets the same seed, whatever the executor or order of execution."""
    import numpy as np

    ss = np.random.SeedSequence(seed if seed is not None else 0)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in ss.spawn(n)]


__all__ = ["SerialExecutor", "DaskExecutor", "ManagedExecutor", "get_executor", "is_dask_client",
           "dask_available", "run_chunks", "chunk_indices", "require_chunk_size", "iter_seeds", "portable_likelihood",
           "prepare_likelihood", "resolve_likelihood", "FrozenLikelihood", "freeze",
           "DEFAULT_MAX_WORKERS", "EXECUTOR_NAMES"]
