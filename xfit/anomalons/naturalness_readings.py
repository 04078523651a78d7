"""Which readings of Eq. (2.9) give the printed "Naturalness (TeV)" columns of Tables 2 and 3.

The printed entries (``data/anomalons/naturalness_tables.yaml``) carry one decimal, so each
is an interval for the true bound: [p - 0.05, p + 0.05) if rounded to nearest, [p, p + 0.1) if
truncated.  This module

* computes every entry under a :class:`~.naturalness.NaturalnessConvention` and says which
  printed entries it gives (:func:`compare`), and
* inverts Eq. (2.9) for a log factor L = |6 ln(M^2/mu^2) - 1| frozen across the rows:
  M^2 = Delta M_h^2 (4 pi)^4 / (G L) with G the gauge factor of a row, so each entry bounds L,
  and :func:`frozen_log_window` intersects those bounds (``None`` if no single L fits).

With MS-bar couplings at m_Z and M_h = 125.25 GeV the window is [438.3, 441.0] for truncated
entries and empty for entries rounded to nearest; the ``tables`` convention takes its centre.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..datafiles import load_data_file
from ..errors import DataError
from .classify import table2_candidates, table3_candidates
from .naturalness import (
    CONVENTIONS,
    ROUNDINGS,
    NaturalnessConvention,
    gauge_factor,
    naturalness_bound_TeV,
    printed_bound,
    printed_interval,
)
from .rational import to_fraction

#: The printed columns, relative to the data directory.
PRINTED_TABLES_FILE = "anomalons/naturalness_tables.yaml"


@dataclass(frozen=True)
class PrintedBound:
    """One printed entry: which table and model, its (n, Y, C) multiplets, the printed TeV."""

    table: str
    label: str
    multiplets: tuple
    printed_TeV: float

    def interval_TeV(self, rounding: str) -> tuple[float, float]:
        """The true bounds that print as ``printed_TeV``: [low, high) in TeV."""
        return printed_interval(self.printed_TeV, rounding)


def _entry_model(entry: dict, keys: tuple[str, ...], index: dict, name: str, where: str):
    try:
        key = tuple(to_fraction(entry[k], k) for k in keys)
    except KeyError as exc:
        raise DataError(f"data file {name!r}: {where} misses {exc.args[0]!r}; needs {list(keys)}") from None
    if key not in index:
        raise DataError(f"data file {name!r}: {where} = {dict((k, entry[k]) for k in keys)} is not an accepted "
                        f"model of xfit's classification")
    return index[key]


def printed_bounds(path: str = PRINTED_TABLES_FILE) -> tuple[float, list[PrintedBound]]:
    """(Delta, entries) of the printed columns, each matched to the model xfit's scan finds.

    Raises DataError if an entry names a model the classification does not accept.
    """
    data = load_data_file(path)
    t2 = {(c.model.ml[0].n, c.model.dl[0].n, c.model.dl[0].Y): c.model
          for c in table2_candidates() if c.accepted}
    t3 = {(c.model.dl[0].n, c.model.dl[1].n, c.model.dl[0].Y, c.model.dl[1].Y): c.model
          for c in table3_candidates() if c.accepted}
    out = []
    for table, keys, index in (("2", ("n", "m", "Y"), t2), ("3", ("n", "m", "Y1", "Y3"), t3)):
        for i, entry in enumerate(data.get(f"table{table}") or []):
            model = _entry_model(entry, keys, index, path, f"table{table}[{i}]")
            label = ", ".join(f"{k}={entry[k]}" for k in keys)
            out.append(PrintedBound(table, label, tuple(model.naturalness_multiplets()),
                                    float(entry["naturalness_TeV"])))
    if not out:
        raise DataError(f"data file {path!r}: no table2/table3 entries")
    return float(data["delta"]), out


def compare(conv: NaturalnessConvention, entries: list[PrintedBound], Delta: float) -> dict:
    """Every entry's bound under ``conv`` and which printed entries each rounding reproduces."""
    bounds = [naturalness_bound_TeV(e.multiplets, Delta, conv) for e in entries]
    matches = {r: [abs(printed_bound(b, r) - e.printed_TeV) < 1e-9 for b, e in zip(bounds, entries)]
               for r in ROUNDINGS}
    return {"convention": conv.name, "bounds_TeV": bounds,
            "reproduced": {r: sum(m) for r, m in matches.items()}, "matches": matches}


def frozen_log_window(entries: list[PrintedBound], Delta: float, rounding: str,
                      conv: NaturalnessConvention) -> tuple[float, float] | None:
    """The interval of a frozen log factor L that gives every printed entry, or None.

    Uses the couplings and Higgs mass of ``conv``; L is |6 ln(M^2/mu^2) - 1| of Eq. (2.9).
    """
    K = Delta * conv.M_h**2 * (4.0 * math.pi) ** 4
    lo, hi = 0.0, math.inf
    for e in entries:
        G = gauge_factor(e.multiplets, conv)
        m_lo, m_hi = (1e3 * x for x in e.interval_TeV(rounding))
        lo = max(lo, K / (G * m_hi**2))   # L > lo  <=>  M < m_hi
        hi = min(hi, K / (G * m_lo**2))   # L <= hi <=>  M >= m_lo
    return (lo, hi) if lo < hi else None


def readings_report(path: str = PRINTED_TABLES_FILE) -> dict:
    """Everything ``xfit anomalons naturalness-readings`` prints: the printed entries, each
    convention's bounds and matches, and the frozen-log windows for both roundings."""
    Delta, entries = printed_bounds(path)
    convs = list(CONVENTIONS.values())
    reference = CONVENTIONS["tables"]
    windows = {r: frozen_log_window(entries, Delta, r, reference) for r in ROUNDINGS}
    return {
        "delta": Delta,
        "entries": [{"table": e.table, "model": e.label, "printed_TeV": e.printed_TeV} for e in entries],
        "conventions": [compare(c, entries, Delta) for c in convs],
        "frozen_log_window": {r: (list(w) if w else None) for r, w in windows.items()},
        "window_couplings": {"g2": reference.g2, "gY": reference.gY, "M_h": reference.M_h},
        "tables_log_factor": reference.frozen_log,
    }
