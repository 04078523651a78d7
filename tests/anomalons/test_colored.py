"""Coloured anomalons, Eqs. (A.18)-(A.23).  Exact arithmetic (no tolerance)."""
from fractions import Fraction as F

from xfit.anomalons.classify import scan_1ml_1dl, scan_two_dl, solve_dl_with_ml, solve_two_dl
from xfit.anomalons.colored import colored, colored_solutions, su3_anomaly
from xfit.anomalons.conditions import check_anomalies
from xfit.anomalons.rational import Affine
from xfit.anomalons.spectra import AnomalonModel, DLPair

SHIFTS = (F(0), F(1, 3), F(-2, 7), F(5))


def residuals(model, x):
    r = check_anomalies(model.field_content(F(1, 3), x))
    return [r.residual(k) for k in ("XWW", "XYY", "XXY")]   # (A.18), (A.19), (A.20)


def ew_zero(model):
    return all(residuals(model, x) == [0, 0, 0] for x in SHIFTS)


def A22(fix_signs: bool):
    # (A.22) with alpha_{B+L} = 1/3 (charges in units of 3 alpha = charges):
    # (6, 6, 5/2, (10X - a)/60), (6, 6, 5/2, (-10X - a)/60), (8, 5, 3, (10X + a)/80), (8, 5, 3, (10X - a)/80).
    # fix_signs: partners get -Y, and the last charge (-10X + a)/80 as in A.11.
    a, X = F(1, 3), Affine(0, 1)
    x4 = (X * -10 + a) / 80 if fix_signs else (X * 10 - a) / 80
    p6 = DLPair(6, F(5, 2), (X * 10 - a) / 60, (X * -10 - a) / 60, 6)
    p5 = DLPair(5, F(3), (X * 10 + a) / 80, x4, 8)
    return AnomalonModel("A.22", (), (p6, p5), F(0))


def test_A22_as_printed():
    fixed = A22(fix_signs=True)
    assert residuals(fixed, 0) == [0, 0, 0]                    # (A.18)-(A.20) at X = 0 only
    assert residuals(fixed, 1)[:2] == [0, 0] and residuals(fixed, 1)[2] != 0
    assert su3_anomaly(fixed) == F(-1, 24)   # (A.21): 6 T(6)(-1/90) + 5 T(8)(1/120) = -alpha_{B+L}/8
    assert not ew_zero(A22(fix_signs=False))
    # the consistent coloured A.11 (k = 5) keeps equal X-slopes and solves (A.18)-(A.20) for all X
    good = colored(solve_two_dl(5, 6, 3, F(5, 2)), (), (8, 6))
    assert ew_zero(good) and su3_anomaly(good) != 0


def test_A23_is_rescaled_A4_but_fails_A21():
    a23 = colored(solve_dl_with_ml(2, (5,), (-1,)), (8,), (10,))   # A.4 with m = 2
    assert [m.X for m in a23.multiplets] == [F(-1, 144), F(1, 180), F(1, 180)]   # -a/48, a/60 over 3a
    assert ew_zero(a23)
    assert su3_anomaly(a23) == F(1, 16)       # 5 T(8)(-1/144) + 2*2 T(10)(1/180) != 0


def test_colored_solutions_satisfy_everything():
    sols = colored_solutions(scan_1ml_1dl(10, 10) + scan_two_dl(10))
    assert sols
    for s in sols:
        assert su3_anomaly(s) == 0 and ew_zero(s)
        assert check_anomalies(s.field_content(F(1, 3), 0)).su3.residual == 0
    # the smallest: Table 3 row 1 with the singlet pair in 10 and the doublet pair in 8:
    # n C2(10) = m C2(8): 1 * 6 = 2 * 3
    first = sols[0]
    assert [(m.color, m.n, m.Y) for m in first.multiplets] == [(10, 1, 1), (10, 1, -1), (8, 2, F(1, 2)), (8, 2, F(-1, 2))]
    # Table 2 row 1 with the triplet in 27 and the doublet pair in 10: n C2(27) = 2 m C2(10)
    assert any([(m.color, m.n) for m in s.multiplets] == [(27, 3), (10, 2), (10, 2)] for s in sols)


def test_colour_rescaling_rule():
    base = solve_two_dl(1, 2, 1, F(1, 2))
    c = colored(base, (), (3, 6))
    for mb, mc in zip(base.multiplets, c.multiplets):
        assert mc.X.const * mc.color == mb.X.const and mc.X.coef == mb.X.coef
