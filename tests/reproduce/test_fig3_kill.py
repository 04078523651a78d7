"""Killing `xfit reproduce fig3` (kill or kill -9) leaves no worker process behind.

The processes are read from /proc (one scan is a few ms of CPU; a ``ps`` per poll cost ~15 ms
each).  The kill comes once two workers are computing, i.e. once each has used
:data:`BUSY_CPU_S` of CPU: forking and ``init_worker`` take ~10 ms, so a worker past that is
inside a task (unpacking the Belle II likelihood, fitting) and not idle on its queue.  (The
test used to sleep 1 s instead, which spent up to 2 s of worker CPU per run for no extra check.)

A SIGTERM or Ctrl-C that lands while the pool forks its workers (the race of
xfit/inference/workers.py: the interrupt lost, or the exit hanging on an unstopped worker) is
tested in tests/inference/test_interrupt_during_fork.py, where the signal comes from the fork
itself; this test's timing does not aim at a fork."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: CPU seconds each worker must have used before the kill: it is computing, not starting up
BUSY_CPU_S = 0.2
_TICK = os.sysconf("SC_CLK_TCK")


def _procs() -> list[tuple[int, int, int, str, float]]:
    """(pid, ppid, pgid, state, cpu seconds) of every process (/proc/PID/stat)."""
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        out.append((int(entry.name), int(fields[1]), int(fields[2]), fields[0],
                    (int(fields[11]) + int(fields[12])) / _TICK))
    return out


def _children(pid: int) -> dict[int, float]:
    """{pid: cpu seconds} of the live children of ``pid``."""
    return {p: cpu for p, ppid, _, state, cpu in _procs() if ppid == pid and state != "Z"}


def _n_busy(pid: int) -> int:
    """How many children of ``pid`` have used at least :data:`BUSY_CPU_S` of CPU."""
    return sum(cpu >= BUSY_CPU_S for cpu in _children(pid).values())


def _group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    return [p for p, _, group, state, _ in _procs() if group == pgid and state != "Z"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_orphan_workers(tmp_path, sig):
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    p = subprocess.Popen([sys.executable, "-m", "xfit.cli", "reproduce", "fig3", "--out", str(tmp_path / "out")],
                         env=env, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(_children(p.pid)) < 2 and p.poll() is None:
            time.sleep(0.05)
        assert p.poll() is None and len(_children(p.pid)) >= 2, "fig3 started no worker processes"
        while time.time() < deadline and p.poll() is None and _n_busy(p.pid) < 2:
            time.sleep(0.05)
        assert p.poll() is None and _n_busy(p.pid) >= 2, f"the workers are not computing: {_children(p.pid)}"
        os.kill(p.pid, sig)
        p.wait(timeout=30)
        deadline = time.time() + 10
        while time.time() < deadline and _group(p.pid):
            time.sleep(0.1)
        assert _group(p.pid) == [], "processes of the killed run are still alive"
        if sig == signal.SIGTERM:  # ended like Ctrl-C: one clear line, no traceback
            err = p.stderr.read().decode()
            assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
