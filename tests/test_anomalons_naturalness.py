"""Finite naturalness, Eqs. (2.8)-(2.9), against the 'Naturalness (TeV)' columns of Tables 2-3.

Tolerance.  The paper prints one decimal (+-5 % at 1 TeV) and does not state mu, g2, gY.  With
the Planck reading (mu = M_Pl, MS-bar couplings at m_Z, M_h = 125.25 GeV) every entry comes out
1-7 % above the paper's; the tests pin that band (ratio in [1.00, 1.08]) so that a change of
convention or formula shows up, and record the weak-scale reading (mu = M_h) ~2.7x higher.
"""
from fractions import Fraction as F
import math

import pytest

from xfit.anomalons.classify import scan_1dl_2ml, table2, table3
from xfit.anomalons.naturalness import (PLANCK, REDUCED_PLANCK_MASS, WEAK_SCALE, delta_mh2, fine_tuning,
                                        get_convention, naturalness_bound, naturalness_bound_TeV)
from xfit.errors import InputError

PAPER_T2 = [7.3, 3.4, 2.0, 1.4, 1.0]
PAPER_T3 = [12.2, 5.4, 3.2, 2.2, 1.6, 1.2]


def test_table_columns_within_band():
    ours = [r["naturalness_TeV"] for r in table2()] + [r["naturalness_TeV"] for r in table3()][:6]
    for got, paper in zip(ours, PAPER_T2 + PAPER_T3):
        assert 1.00 <= got / paper <= 1.08, (got, paper)


def test_planck_reading_values_pinned():
    # regression values of the implemented convention (docs/anomalons.md, report)
    t2 = [r["naturalness_TeV"] for r in table2()]
    t3 = [r["naturalness_TeV"] for r in table3()]
    assert t2 == pytest.approx([7.526, 3.441, 2.072, 1.420, 1.050], abs=2e-3)
    assert t3 == pytest.approx([12.638, 5.586, 3.314, 2.252, 1.656, 1.283, 1.031], abs=2e-3)


def test_shape_fall_with_n_matches_paper():
    # ratios first/last row: paper 7.3/1.0 (6.9-7.7 given rounding) and 12.2/1.2 (9.7-10.7)
    t2 = [r["naturalness_TeV"] for r in table2()]
    t3 = [r["naturalness_TeV"] for r in table3()]
    assert 6.9 <= t2[0] / t2[4] <= 7.74 and 9.72 <= t3[0] / t3[5] <= 10.65
    assert 1.653 <= t3[0] / t2[0] <= 1.690           # 12.2/7.3 with rounding


def test_weak_scale_reading_is_about_three_times_higher_and_flatter():
    rows = table2(conv=WEAK_SCALE, min_bound_TeV=0)
    w = [r["naturalness_TeV"] for r in rows if r["n"] <= 11]
    assert 2.5 < w[0] / PAPER_T2[0] < 3.0 and w[0] / w[4] < 6.0   # paper: 7.3/1.0 = 7.3


def test_bound_solves_delta_equal_100():
    mults = [(3, F(0), 1), (2, F(1, 2), 2)]
    M = naturalness_bound(mults, 100)
    assert fine_tuning(mults, M) == pytest.approx(100, rel=1e-9)
    # explicit Eq. (2.9) at that mass
    g2, gY = PLANCK.g2, PLANCK.gY
    S = 1 * 3 * (2 * g2**4) + 2 * 2 * (0.75 * g2**4 + 0.25 * gY**4)
    d = S * M**2 / (4 * math.pi) ** 4 * (6 * math.log(M**2 / PLANCK.mu**2) - 1)
    assert delta_mh2(mults, M) == pytest.approx(d, rel=1e-12) and d < 0


def test_sqrt_delta_scaling_is_approximate():
    # tables quote "x sqrt(Delta/100)": true up to the slowly varying log (here within 6 %)
    mults = [(5, F(0), 1), (3, F(1), 2)]
    r = naturalness_bound(mults, 1000) / naturalness_bound(mults, 100)
    assert r == pytest.approx(math.sqrt(10), rel=0.06)


def test_reduced_planck_mass_sensitivity():
    conv = PLANCK.replace(mu=REDUCED_PLANCK_MASS, name="reduced")
    assert naturalness_bound_TeV([(3, 0, 1), (2, F(1, 2), 2)], conv=conv) == pytest.approx(7.71, abs=0.01)


def test_sec_4_1_m3_model():
    # "the naturalness criterion of 1% fine tuning imposes anomalon mass scale below 3.4 TeV"
    row = [r for r in table2() if r["m"] == 3][0]
    assert row["naturalness_TeV"] == pytest.approx(3.4, rel=0.02)


def test_1dl_2ml_k1_naturalness():
    accepted = [c for c in scan_1dl_2ml(50) if c.accepted]
    bounds = [naturalness_bound_TeV(c.model) for c in accepted]
    assert bounds[:2] == pytest.approx([2.75, 1.50], abs=0.01) and bounds[2] < 1


def test_bad_inputs():
    with pytest.raises(InputError):
        naturalness_bound([(3, 0, 1)], -1)
    with pytest.raises(InputError):
        naturalness_bound([(1, 0, 1)], 100)      # an SM singlet gives no bound
    with pytest.raises(InputError):
        get_convention("mu=1TeV")
