"""Sec. 2.2 criteria for single multiplets: charges, Eq. (2.10) splitting, Eq. (2.11)."""
from fractions import Fraction as F

import pytest

from xfit.anomalons.criteria import (
    charges,
    has_integer_charges,
    has_neutral_component,
    higgs_yukawa_links,
    lightest_charge,
    lightest_is_neutral,
    max_perturbative_dim,
    radiative_splitting,
)
from xfit.anomalons.rational import Affine, rational_sqrt, to_fraction
from xfit.errors import InputError


def test_charges_of_multiplets():
    assert charges(2, F(1, 2)) == [0, 1]
    assert charges(3, 0) == [-1, 0, 1]
    assert not has_integer_charges(2, 1) and has_integer_charges(3, 1)
    assert has_neutral_component(5, 2) and not has_neutral_component(2, F(3, 2))


def test_dl_pair_lightest_state_neutral_iff_Y_is_maximal():
    # Sec. 2.2 (ii): "the LP is neutral for a DL pair iff |Y| = (n-1)/2" - checked for all
    # multiplets with integer charges, n <= 12, 0 < |Y| <= 8, against the splitting (2.10).
    for n in range(1, 13):
        for twoY in range(-16, 17):
            Y = F(twoY, 2)
            if Y == 0 or not has_integer_charges(n, Y):
                continue
            assert lightest_is_neutral(n, Y) == (abs(Y) == F(n - 1, 2)), (n, Y)


def test_ml_fields_always_neutral_lightest():
    for n in (3, 5, 7, 9, 11):
        assert lightest_charge(n, 0) == 0


def test_splitting_matches_chiral_eq_38():
    # Eq. (38): m_{Q+1} - m_Q = 166 MeV (1 + 2Q + 2Y/c_W) is the difference of Eq. (2.10).
    cW = 0.88
    for Y in (F(-2), F(1, 2), F(3)):
        for Q in range(-3, 4):
            diff = radiative_splitting(Q + 1, Y, cW) - radiative_splitting(Q, Y, cW)
            assert diff == pytest.approx(0.166 * (1 + 2 * Q + 2 * float(Y) / cW), rel=1e-12)
    assert radiative_splitting(1, 0, cW) == pytest.approx(0.166)   # wino-like: 166 MeV (Sec. 4.1)


def test_perturbativity_bound_eq_2_11():
    # ((n-1)/2 * 0.65)^2/(4 pi) <= 1 gives n <= 11 ("n <~ 10" in the text; Table 2 has n = 11)
    assert max_perturbative_dim() == 11
    assert max_perturbative_dim(1.0) == 8


def test_higgs_yukawa_quantum_numbers():
    assert higgs_yukawa_links((3, 0), (2, F(1, 2)))        # wino-higgsino-like, Eq. (4.4)
    assert higgs_yukawa_links((1, 1), (2, F(-1, 2)))       # Table 6 A-B
    assert not higgs_yukawa_links((5, 0), (3, 1))
    assert not higgs_yukawa_links((3, 0), (3, F(1, 2)))


def test_rational_helpers():
    assert rational_sqrt(F(9, 4)) == F(3, 2) and rational_sqrt(F(2)) is None and rational_sqrt(-1) is None
    assert to_fraction("1/12") == F(1, 12) and to_fraction(0.1) == F(1, 10) and to_fraction(-3) == -3
    for bad in (True, None, "x", float("nan"), "1/0"):
        with pytest.raises(InputError):
            to_fraction(bad, "X")
    assert str(Affine(F(-1, 2), 1)) == "X - 1/2" and str(Affine(F(-1, 42), -1)) == "-X - 1/42"
    assert str(Affine(F(1, 20), F(1, 10))) == "X/10 + 1/20" and str(Affine(F(1, 3))) == "1/3"
    a = Affine(1, 2)
    assert (a - a).is_constant and (3 * a).at(1) == 9 and (a / 2).at(0) == F(1, 2)
