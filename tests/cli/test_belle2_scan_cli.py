"""``xfit belle2 scan --executor``: the flag reaches the library's scan (whose chunks on an
executor equal the serial scan: tests/belle2/test_scan_limit_solver.py), and a bad value is a
one-line error naming the flag."""
import pytest

from xfit.belle2 import scan
from xfit.cli import main


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_executor_reaches_the_scan(executor, tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_run_scan(masses, **kwargs):
        seen.update(kwargs, masses=list(masses))
        raise SystemExit(0)  # stop before any fit: only the plumbing is under test

    monkeypatch.setattr(scan, "run_scan", fake_run_scan)
    with pytest.raises(SystemExit):
        main(["belle2", "scan", "--mX-min", "1.9", "--mX-max", "2.1", "--n-masses", "3", "--no-plots",
              "--out", str(tmp_path), "--executor", executor])
    assert seen["executor"] == executor and len(seen["masses"]) == 3


def test_the_default_is_serial(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(scan, "run_scan", lambda masses, **kw: seen.update(kw) or (_ for _ in ()).throw(SystemExit(0)))
    with pytest.raises(SystemExit):
        main(["belle2", "scan", "--n-masses", "3", "--no-plots", "--out", str(tmp_path)])
    assert seen["executor"] == "serial"


def test_unknown_executor_is_a_short_error(tmp_path, capsys):
    assert main(["belle2", "scan", "--executor", "cluster", "--out", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip()
    assert "--executor" in err and "cluster" in err and len(err.splitlines()) <= 3
