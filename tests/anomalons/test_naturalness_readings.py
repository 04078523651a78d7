"""Inverting Eq. (2.9) on the printed 'Naturalness (TeV)' columns (data/anomalons/naturalness_tables.yaml)."""
import math

import pytest

from xfit.anomalons.naturalness import PLANCK, TABLES, TABLES_LOG_FACTOR, WEAK_SCALE, fine_tuning, log_factor
from xfit.anomalons.naturalness_readings import (
    PrintedBound,
    compare,
    frozen_log_window,
    printed_bounds,
    readings_report,
)
from xfit.datafiles import data_root
from xfit.errors import DataError, InputError


@pytest.fixture(scope="module")
def printed():
    return printed_bounds()


def test_printed_entries_match_the_classification(printed):
    delta, entries = printed
    assert delta == 100 and len(entries) == 11
    assert [e.table for e in entries] == ["2"] * 5 + ["3"] * 6
    # Table 2 first row: ML triplet (C = 1) + DL doublet pair with Y = 1/2 (C = 2)
    assert sorted(entries[0].multiplets) == [(2, 0.5, 2), (3, 0, 1)]
    assert [e.printed_TeV for e in entries] == [7.3, 3.4, 2.0, 1.4, 1.0, 12.2, 5.4, 3.2, 2.2, 1.6, 1.2]


def test_no_frozen_log_fits_when_rounded_to_nearest(printed):
    delta, entries = printed
    assert frozen_log_window(entries, delta, "nearest", TABLES) is None


def test_frozen_log_window_when_truncated(printed):
    delta, entries = printed
    lo, hi = frozen_log_window(entries, delta, "truncate", TABLES)
    assert (lo, hi) == pytest.approx((438.31, 441.01), abs=0.01)
    # the tables convention sits at the centre of that window
    assert lo < TABLES_LOG_FACTOR < hi and TABLES_LOG_FACTOR == pytest.approx((lo + hi) / 2, abs=0.05)


def test_window_edges_are_where_an_entry_flips(printed):
    delta, entries = printed
    lo, hi = frozen_log_window(entries, delta, "truncate", TABLES)
    inside = compare(TABLES.replace(frozen_log=lo + 0.01), entries, delta)["reproduced"]["truncate"]
    below = compare(TABLES.replace(frozen_log=lo - 0.01), entries, delta)["reproduced"]["truncate"]
    above = compare(TABLES.replace(frozen_log=hi + 0.01), entries, delta)["reproduced"]["truncate"]
    assert inside == 11 and below == 10 and above == 10


def test_conventions_against_the_printed_columns(printed):
    delta, entries = printed
    assert compare(TABLES, entries, delta)["reproduced"] == {"nearest": 3, "truncate": 11}
    planck = compare(PLANCK, entries, delta)
    assert planck["reproduced"]["nearest"] < 11 and planck["reproduced"]["truncate"] < 11
    assert compare(WEAK_SCALE, entries, delta)["reproduced"] == {"nearest": 0, "truncate": 0}
    # Planck reading: every entry above the printed one by 1-7 %
    assert all(1.0 < b / e.printed_TeV < 1.07 for b, e in zip(planck["bounds_TeV"], entries))


def test_frozen_log_equals_the_planck_log_at_a_fixed_mass():
    # the frozen value is Eq. (2.9)'s log with mu = M_Pl evaluated once at M* = 1.6 TeV
    M_star = PLANCK.mu * math.exp(-(TABLES_LOG_FACTOR - 1) / 12)
    assert 1.5e3 < M_star < 1.7e3
    assert log_factor(M_star, PLANCK) == pytest.approx(log_factor(1e4, TABLES), rel=1e-12)
    # so at M* both readings give the same tuning
    mults = [(3, 0, 1), (2, 0.5, 2)]
    assert fine_tuning(mults, M_star, PLANCK) == pytest.approx(fine_tuning(mults, M_star, TABLES), rel=1e-12)


def test_report_structure():
    r = readings_report()
    assert set(r) == {"delta", "entries", "conventions", "frozen_log_window", "window_couplings",
                      "tables_log_factor"}
    assert [c["convention"] for c in r["conventions"]] == ["tables", "planck", "weak-scale"]
    assert r["frozen_log_window"]["nearest"] is None


def test_interval_of_a_printed_entry():
    e = PrintedBound("2", "x", ((3, 0, 1),), 3.4)
    assert e.interval_TeV("truncate") == pytest.approx((3.4, 3.5))
    assert e.interval_TeV("nearest") == pytest.approx((3.35, 3.45))
    with pytest.raises(InputError, match="accepted: nearest, truncate"):
        e.interval_TeV("floor")


def test_unknown_model_in_the_data_file_is_a_data_error(tmp_path):
    bad = tmp_path / "tables.yaml"
    good = data_root().joinpath("anomalons").joinpath("naturalness_tables.yaml").read_text()
    bad.write_text(good.replace("{n: 5, m: 3, Y: \"1\",", "{n: 5, m: 3, Y: \"2\","))
    with pytest.raises(DataError, match=r"table2\[1\].*not an accepted model"):
        printed_bounds(str(bad))
    bad.write_text(good.replace("{n: 5, m: 3, Y: \"1\",", "{n: 5, Y: \"1\","))
    with pytest.raises(DataError, match=r"table2\[1\] misses 'm'"):
        printed_bounds(str(bad))
