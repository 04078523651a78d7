"""Killing `xfit reproduce fig3` (kill or kill -9) leaves no worker process behind."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _group(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip() and not line.split()[1].startswith("Z")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_orphan_workers(tmp_path, sig):
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    p = subprocess.Popen([sys.executable, "-m", "xfit.cli", "reproduce", "fig3", "--out", str(tmp_path / "out")],
                         env=env, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(_children(p.pid)) < 2 and p.poll() is None:
            time.sleep(0.2)
        assert p.poll() is None and len(_children(p.pid)) >= 2, "fig3 started no worker processes"
        time.sleep(1.0)  # the workers are computing
        os.kill(p.pid, sig)
        p.wait(timeout=30)
        deadline = time.time() + 10
        while time.time() < deadline and _group(p.pid):
            time.sleep(0.2)
        assert _group(p.pid) == [], "processes of the killed run are still alive"
        if sig == signal.SIGTERM:  # ended like Ctrl-C: one clear line, no traceback
            err = p.stderr.read().decode()
            assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
