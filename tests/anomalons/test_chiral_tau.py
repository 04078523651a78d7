"""Chiral tau models: Eqs. (31)-(39), Table II, Tables III-IV of the chiral-tau paper (exact)."""
from fractions import Fraction as F

import pytest

from xfit.anomalons.chiral_tau import (
    l_minus_4r_content,
    l_only_content,
    neutral_lp_m,
    scan_chiral_tau,
    solve_chiral_tau,
    table_II,
)
from xfit.anomalons.conditions import check_anomalies

TABLE_II = [{"m": "2", "n": 5, "Y": "-2", "XL_plus_XR": "3/2", "XS_over_aL": "1/20"},
            {"m": "4", "n": 3, "Y": "-1", "XL_plus_XR": "5/4", "XS_over_aL": "1/4"},
            {"m": "inf", "n": 2, "Y": "-1/2", "XL_plus_XR": "1", "XS_over_aL": "1"}]


def test_table_II():
    assert table_II() == TABLE_II
    assert table_II(m_max=10) == TABLE_II


def test_rational_m_gives_one_solution_per_n():
    # the text's "rational m": |Y| = (n-1)/2 needs m = (n+1)/(n-2); Table II = its integer cases
    grid = {F(p, q) for p in range(-30, 31) if p for q in range(1, 31)} | {None}
    sols = {(s.n, s.m) for s in scan_chiral_tau(grid)}
    assert sols == {(n, neutral_lp_m(n)) for n in range(2, 11)}
    assert {n for n, m in sols if m is None or m.denominator == 1} == {2, 3, 5}


@pytest.mark.parametrize("n", range(2, 11))
@pytest.mark.parametrize("m", [None, F(1), F(2), F(4), F(5, 2), F(-3), F(7, 3)])
def test_solutions_cancel_25_to_27(n, m):
    s = solve_chiral_tau(n, m)
    if s is None:
        return
    for aL in (1, F(3, 2), -2):
        r = check_anomalies(s.field_content(aL))
        assert all(r.residual(k) == 0 for k in ("XWW", "XYY", "XXY"))
    assert s.XS == s.X_LR - s.X_LL == F(6, n * (n * n - 1))       # (30), (31)
    assert s.Y < 0 < s.XL_plus_XR or abs(s.alpha_R_over_alpha_L) > 1   # opposite signs (Eq. 27)


def test_table_IV_charges_from_solution():
    s = solve_chiral_tau(3, 4)   # alpha_L = 4: L_L = -3, L_R = -2 with Y = +1 (other sign of Table II)
    assert (-4 * s.X_LR, -4 * s.X_LL) == (-3, -2) or (4 * s.X_LL, 4 * s.X_LR) == (2, 3)
    assert (4 * s.XS, -4 * s.XL_plus_XR) == (1, -5)


def test_tables_III_IV_cancel_all_anomalies():
    for content in (l_only_content(), l_minus_4r_content()):
        r = check_anomalies(content)
        assert r.all_cancel, content.description


def test_m_infinity_is_L_only():
    s = solve_chiral_tau(2, None)
    assert (s.Y, s.XL_plus_XR, s.XS, s.X_LL, s.X_LR) == (F(-1, 2), 1, 1, 0, 1)   # Table III: L_L 0, L_R 1


def test_no_solution_cases():
    assert solve_chiral_tau(1, 2) is None and solve_chiral_tau(3, 0) is None
    assert solve_chiral_tau(3, -2) is None        # Y = 0 (alpha_L = 2 alpha_R)
    assert solve_chiral_tau(4, 3) is None         # irrational hypercharge
