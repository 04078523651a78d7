"""Worker processes end with the run that started them (no orphans after kill or kill -9)."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: a parent that starts a guarded process pool, prints the workers' pids and waits
PARENT = textwrap.dedent("""
    import concurrent.futures as cf, os, sys, time
    sys.path.insert(0, {repo!r})
    from xfit.inference.workers import guard_worker

    def busy(_):
        t = time.time()
        while time.time() - t < 60:
            pass
        return os.getpid()

    def pid(_):
        return os.getpid()

    ex = cf.ProcessPoolExecutor(2, initializer=guard_worker, initargs=(os.getpid(),))
    pids = set(ex.map(pid, range(8)))
    for _ in range(2):
        ex.submit(busy, 0)
    print(" ".join(map(str, sorted(pids))), flush=True)
    time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_end_when_their_parent_is_killed(sig):
    p = subprocess.Popen([sys.executable, "-c", PARENT.format(repo=str(REPO))], stdout=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        workers = [int(x) for x in p.stdout.readline().split()]
        assert workers and all(_alive(w) for w in workers)
        os.kill(p.pid, sig)
        p.wait(timeout=10)
        deadline = time.time() + 5
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "orphan workers survived their parent"
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_guard_exits_at_once_when_the_parent_is_already_gone():
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
            "from xfit.inference.workers import guard_worker\n"
            "guard_worker(parent=1)  # not our parent: as if ours had died\n"
            "print('still running')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "still running" not in r.stdout


def _handlers():
    import signal
    return signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_workers_do_not_inherit_the_commands_interrupt_handlers():
    """A forked worker must not turn the parent's SIGTERM into a KeyboardInterrupt traceback,
    and Ctrl-C (SIGINT to the process group) is the parent's to handle."""
    import concurrent.futures as cf
    import os
    import signal

    from xfit.cli import _raise_interrupt
    from xfit.inference.workers import init_worker

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # as xfit.cli.main sets it
    try:
        with cf.ProcessPoolExecutor(1, initializer=init_worker, initargs=(os.getpid(),)) as ex:
            assert ex.submit(_handlers).result(timeout=60) == (True, True)
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_interrupt_wrapped_by_compiled_code_counts_as_an_interrupt():
    from xfit.cli import _caused_by_interrupt

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as inner:
            raise SystemError("CPUDispatcher returned a result with an exception set") from inner
    except SystemError as exc:
        assert _caused_by_interrupt(exc)
    assert not _caused_by_interrupt(ValueError("x"))


def _blocked() -> set:
    import signal
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_an_interrupt_while_deferred_is_raised_when_the_block_ends():
    """Ctrl-C and kill during the block (a fork) are noted, not raised there, whether the signal
    reaches this thread, another one (os.kill: any thread not blocking it) or only the Python
    handler (interrupt_main); at its end the handlers and the signal mask are as before and the
    interrupt is raised."""
    import _thread
    import signal

    from xfit.cli import _raise_interrupt
    from xfit.inference.workers import INTERRUPTS, interrupts_deferred

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # as xfit.cli.main sets it
    # Python's own Ctrl-C handler, whatever pytest inherited (a background runner: SIGINT ignored)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    handlers, mask = (signal.default_int_handler, _raise_interrupt), _blocked()
    try:
        for sig in INTERRUPTS:
            reached = False
            with pytest.raises(KeyboardInterrupt):
                with interrupts_deferred():
                    assert set(INTERRUPTS) <= _blocked()  # what a worker forked here starts with
                    os.kill(os.getpid(), sig)
                    signal.raise_signal(sig)
                    _thread.interrupt_main(sig)
                    reached = True
            assert reached and (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
            assert _blocked() == mask
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def _pid() -> int:
    return os.getpid()


def test_stop_workers_ends_a_worker_the_pool_did_not_record(monkeypatch):
    """A worker started, then an error before ProcessPoolExecutor records it: WorkerPool knows it
    (``started``) and stop_workers ends it.  Also checks the private attributes of
    ProcessPoolExecutor that stop_workers reads (a Python upgrade that renames one fails here)."""
    import multiprocessing.process

    from xfit.inference.workers import WorkerPool, stop_workers

    pool = WorkerPool(1)
    try:
        assert pool.submit(_pid).result(timeout=60) in {p.pid for p in pool.started}
        for name in ("_processes", "_call_queue", "_executor_manager_thread", "_pending_work_items"):
            assert getattr(pool, name, None) is not None, name
    finally:
        pool.shutdown()

    start = multiprocessing.process.BaseProcess.start

    def start_then_fail(self):
        start(self)
        raise RuntimeError("after the fork, before the pool's record")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start_then_fail)
    pool = WorkerPool(1)
    with pytest.raises(RuntimeError):
        pool.submit(_pid)
    monkeypatch.undo()
    (worker,) = pool.started
    assert worker.is_alive() and worker.pid not in pool._processes
    stop_workers(pool)
    worker.join(10)
    assert worker.exitcode == -signal.SIGTERM
