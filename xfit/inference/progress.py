"""Progress of long runs, for a person at a terminal and for a log file.

:class:`Progress` is the one progress reporter of xfit's long computations (limits, scans,
toys, posteriors, MCMC, evidences):

* on a terminal (stderr is a tty) it is a tqdm bar with rate and ETA;
* otherwise (a log, CI, a pipe) it writes one line per ~10 % of the work:
  ``xfit limits: 40/101 masses (40%), 12 s elapsed, ETA 18 s``;
* a resumed run says so first: ``resuming: 37 of 101 masses already done``;
* when the projected duration exceeds :data:`LONG_RUN_SECONDS` (10 minutes) it says so once,
  as soon as an estimate exists (an a-priori cost per unit given by the caller, else the
  pace of the first completed units), with the estimate and how to interrupt and resume.

``enabled=False`` silences it (``--quiet``/``progress=False``); the messages go to stderr (or
to ``log``, a callable taking one line, when given) so that ``--json`` output on stdout stays
clean.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: Runs projected to take longer than this (seconds) are announced before they go on.
LONG_RUN_SECONDS = 600.0
#: Without a terminal, one line per this fraction of the work.
LINE_FRACTION = 0.10


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def stderr_is_terminal(stream: TextIO | None = None) -> bool:
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Report ``done``/``total`` units of a computation (see the module docstring).

    >>> import io
    >>> log = io.StringIO()
    >>> with Progress(4, "demo", unit="masses", initial=1, stream=log) as p:
    ...     for _ in range(3):
    ...         p.update()
    >>> log.getvalue().splitlines()[0]
    'demo: resuming: 1 of 4 masses already done'
    """

    def __init__(self, total: int, desc: str, unit: str = "items", initial: int = 0,
                 enabled: bool = True, stream: TextIO | None = None,
                 seconds_per_unit: float | None = None, resume_hint: str | None = None,
                 log: Callable[[str], None] | None = None, after_seconds: float = 0.0):
        self.total, self.desc, self.unit = int(total), desc, unit
        self.done = self.initial = int(initial)
        self.enabled = bool(enabled) and self.total > 0
        self.stream = sys.stderr if stream is None else stream
        self.resume_hint, self.log = resume_hint, log
        #: without a terminal, no progress line before this many seconds (short runs stay quiet)
        self.after_seconds = float(after_seconds)
        self._start = time.monotonic()
        self._warned = False
        self._next_line = self.initial + max(1, round(LINE_FRACTION * self.total))
        self._bar = None
        if not self.enabled:
            return
        if self.initial:
            self._say(f"resuming: {self.initial} of {self.total} {self.unit} already done")
        if stderr_is_terminal(self.stream):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, initial=self.initial, desc=desc, unit=f" {unit}",
                             leave=False, file=self.stream, dynamic_ncols=True)
        if seconds_per_unit is not None:
            self._maybe_warn(seconds_per_unit * (self.total - self.initial))

    # -- reporting -------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(f"{self.desc}: {text}")
        else:
            print(f"{self.desc}: {text}", file=self.stream, flush=True)

    def _maybe_warn(self, remaining_seconds: float) -> None:
        if self._warned or remaining_seconds <= LONG_RUN_SECONDS:
            return
        self._warned = True
        hint = f"; {self.resume_hint}" if self.resume_hint else ""
        message = (f"this run will take about {_duration(remaining_seconds)} more "
                   f"({self.total - self.done} {self.unit} to go){hint}")
        if self._bar is not None and self.log is None:
            self._bar.write(f"{self.desc}: {message}", file=self.stream)
        else:
            self._say(message)

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        elapsed = time.monotonic() - self._start
        new = self.done - self.initial
        eta = elapsed / new * (self.total - self.done) if new > 0 else float("nan")
        if new > 0:
            self._maybe_warn(eta)
        if self._bar is not None:
            self._bar.update(n)
        elif (self.done >= self._next_line or self.done >= self.total) and elapsed >= self.after_seconds:
            self._next_line = self.done + max(1, round(LINE_FRACTION * self.total))
            pct = 100.0 * self.done / self.total
            tail = f", ETA {_duration(eta)}" if self.done < self.total and eta == eta else ""
            self._say(f"{self.done}/{self.total} {self.unit} ({pct:.0f}%), {_duration(elapsed)} elapsed{tail}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["LONG_RUN_SECONDS", "Progress", "stderr_is_terminal"]
