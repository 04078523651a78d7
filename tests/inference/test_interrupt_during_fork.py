"""An interrupt that arrives while the process pool forks a worker still stops the run.

The race (xfit/inference/workers.py, :func:`interrupts_deferred`): a KeyboardInterrupt raised
inside an at-fork hook (``logging``'s) was printed as "Exception ignored" and lost -- the run went
on and exited 0 -- and one raised between the fork and the pool's record of the worker left a
worker that nothing stopped, which the interpreter's exit waited for (a hang).  Killing a run the
moment its first worker appears hit the window in 10 of 10 runs; here the signal is sent *from*
the fork itself, so every run hits it:

* ``kill`` (SIGTERM) or Ctrl-C (SIGINT to the whole process group) sent from an at-fork hook of
  the parent, registered before ``logging``'s: the handler ran inside the hooks;
* the SIGTERM handler made to run just after ``Process.start`` returns, before the pool records
  the worker (``_thread.interrupt_main``: as if the signal had arrived there).

Each case runs ``xfit scan`` on a small profile scan (2 chunks: the local process pool of
:func:`xfit.inference.executors.get_executor`, as in ``xfit limits`` and ``xfit reproduce``), ~0.4 s
of CPU as it stops at the first fork.  On the code before the fix the first two exit 0 after
the whole scan, the third hangs.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: ``python -c SCRIPT POINT ARGV...``: xfit's command line with an interrupt at each fork of this process
SCRIPT = textwrap.dedent("""
    import _thread, functools, os, signal, sys
    # Ctrl-C as in a terminal: Python's own handler (a runner that starts the tests in the
    # background, e.g. `nohup ... &`, hands every child SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    point = sys.argv[1]
    if point in ("kill", "ctrl-c"):  # C callables: the signal handler runs in the next hook, logging's
        assert "logging" not in sys.modules
        os.register_at_fork(after_in_parent=functools.partial(os.kill, os.getpid(), signal.SIGTERM)
                            if point == "kill" else functools.partial(os.killpg, 0, signal.SIGINT))
    sys.path.insert(0, {repo!r})
    from xfit.cli import main
    if point == "before-record":
        import multiprocessing.process
        start = multiprocessing.process.BaseProcess.start
        def started_then_interrupted(self):
            start(self)
            _thread.interrupt_main(signal.SIGTERM)
        multiprocessing.process.BaseProcess.start = started_then_interrupted
    sys.exit(main(sys.argv[2:]))
""")

#: a profile scan of 27 points in 2 chunks (25 + 2): the process pool, and little to compute
SCAN = ["scan", "--plane", "eft", "--terms", "l3_z_gamma", "--mX", "2.1", "--axis", "gX_AYY=-0.3:0.3:27",
        "--start", "gX_AWW=0.016", "--executor", "process", "--no-progress"]


def _live_group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid`` (from /proc)."""
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


@pytest.mark.parametrize("point", ["kill", "ctrl-c", "before-record"])
def test_an_interrupt_during_a_worker_fork_stops_the_run(tmp_path, point):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    p = subprocess.Popen([sys.executable, "-c", SCRIPT.format(repo=str(REPO)), point, *SCAN, "--out", str(tmp_path)],
                         env=env, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"interrupted during a fork ({point}), the run did not end: a worker left running?")
        assert p.returncode == 130, f"the interrupt was lost: exit {p.returncode}\n{err}"
        assert err.splitlines() == ["xfit scan: interrupted (partial results, if any, are saved)"], err
        deadline = time.monotonic() + 10
        while _live_group(p.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _live_group(p.pid) == [], "worker processes outlived the interrupted run"
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
