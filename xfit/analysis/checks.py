"""Typed checks of parsed YAML values; each failure is a one-line :class:`InputError`
naming the file and the key."""
from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import InputError


def show(v) -> str:
    """A value as it appears in a message: its repr cut to 40 characters, and its type."""
    s = repr(v)
    if len(s) > 40:
        s = s[:37] + "..."
    return f"{s} ({type(v).__name__})"


class Checker:
    """Checks values of the file ``source``; every method returns the checked value."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, msg: str):
        raise InputError(f"{self.source}: {msg}")

    def keys(self, d: Mapping, allowed, where: str, required=()) -> None:
        inside = f" in {where!r}" if where else ""
        for k in d:
            if k not in allowed:
                loc = f"'{where}.{k}'" if where else f"'{k}'"
                self.fail(f"unknown key {loc}; accepted keys{inside}: {', '.join(allowed)}")
        for k in required:
            if k not in d:
                loc = f"'{where}.{k}'" if where else f"'{k}'"
                self.fail(f"missing required key {loc}; required{inside}: {', '.join(required)}")

    def mapping(self, v, where: str) -> dict:
        if not isinstance(v, Mapping):
            self.fail(f"'{where}' must be a mapping (key: value), got {show(v)}")
        return dict(v)

    def number(self, v, where: str, lo=None, hi=None, lo_open=False, hi_open=False) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            self.fail(f"'{where}' must be a finite number, got {show(v)}")
        v = float(v)
        if lo is not None and (v < lo or (lo_open and v == lo)):
            self.fail(f"'{where}' must be {'>' if lo_open else '>='} {lo:g}, got {v:g}")
        if hi is not None and (v > hi or (hi_open and v == hi)):
            self.fail(f"'{where}' must be {'<' if hi_open else '<='} {hi:g}, got {v:g}")
        return v

    def positive(self, v, where: str) -> float:
        return self.number(v, where, 0.0, None, True)

    def integer(self, v, where: str, lo=None) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(f"'{where}' must be an integer, got {show(v)}")
        if lo is not None and v < lo:
            self.fail(f"'{where}' must be an integer >= {lo}, got {v}")
        return int(v)

    def boolean(self, v, where: str) -> bool:
        if not isinstance(v, bool):
            self.fail(f"'{where}' must be true or false, got {show(v)}")
        return v

    def string(self, v, where: str, choices=None) -> str:
        if not isinstance(v, str):
            self.fail(f"'{where}' must be a string, got {show(v)}")
        if choices is not None and v not in choices:
            self.fail(f"'{where}' must be one of: {', '.join(choices)}; got {v!r}")
        return v

    def number_list(self, v, where: str, min_len=0, positive: bool = False) -> list[float]:
        if not isinstance(v, list):
            self.fail(f"'{where}' must be a list of {'positive ' if positive else ''}numbers, got {show(v)}")
        if len(v) < min_len:
            self.fail(f"'{where}' needs at least {min_len} values, got {len(v)}")
        check = self.positive if positive else self.number
        return [check(x, f"{where}[{i}]") for i, x in enumerate(v)]
