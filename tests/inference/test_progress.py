"""Progress of long runs: lines per ~10 % off a terminal, resume notice, long-run warning."""
import io

from xfit.inference import progress as progress_mod
from xfit.inference.progress import LONG_RUN_SECONDS, Progress


def test_one_line_per_tenth_without_a_terminal():
    log = io.StringIO()
    with Progress(100, "xfit limits", unit="masses", stream=log) as p:
        for _ in range(100):
            p.update()
    lines = log.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("xfit limits: 10/100 masses (10%)") and "ETA" in lines[0]
    assert lines[-1].startswith("xfit limits: 100/100 masses (100%)") and "ETA" not in lines[-1]


def test_resumed_run_says_how_much_was_done():
    log = io.StringIO()
    Progress(101, "xfit belle2 scan", unit="masses", initial=37, stream=log).close()
    assert log.getvalue().splitlines() == ["xfit belle2 scan: resuming: 37 of 101 masses already done"]


def test_long_run_is_announced_once_from_an_a_priori_estimate():
    log = io.StringIO()
    p = Progress(1000, "xfit mcmc", unit="steps", stream=log, seconds_per_unit=1.0,
                 resume_hint="Ctrl-C keeps what is done; run again to resume")
    for _ in range(300):
        p.update()
    text = log.getvalue()
    assert text.count("will take about") == 1
    assert "17 min" in text and "1000 steps to go" in text and "resume" in text


def test_long_run_is_announced_from_the_pace_of_the_first_units(monkeypatch):
    clock = iter([0.0, 2.0 * LONG_RUN_SECONDS / 50] + [1e9] * 10)
    monkeypatch.setattr(progress_mod.time, "monotonic", lambda: next(clock))
    log = io.StringIO()
    p = Progress(100, "xfit toys", unit="toys", stream=log)
    p.update()
    assert "will take about" in log.getvalue()


def test_short_run_is_not_announced_and_disabled_progress_is_silent():
    log = io.StringIO()
    with Progress(10, "x", stream=log, seconds_per_unit=1.0) as p:
        p.update(10)
    assert "will take" not in log.getvalue()
    log = io.StringIO()
    with Progress(10, "x", stream=log, enabled=False, initial=3, seconds_per_unit=1e6) as p:
        p.update(7)
    assert log.getvalue() == ""
