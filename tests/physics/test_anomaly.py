"""Anomaly traces: named models, the general field table against the closed forms."""
import random
from fractions import Fraction as F

import pytest

from xfit.models import get_model
from xfit.physics.anomaly import (
    WeylField,
    anomaly_traces,
    chiral_tau_fields,
    chiral_tau_traces,
    sm_fields,
    vector_charge_fields,
    vector_traces,
)


@pytest.mark.parametrize("name, A_WW, A_YY", [
    ("tau-flavor", -1, 1),   # A_YY = -A_WW = 3 alpha_{B+L} = 1 (Sec. 3.3)
    ("L-only", -1, -1),      # chiral paper: A_WW = -alpha_L, A_YY = 2 alpha_R - alpha_L
    ("L=-4R", -4, -6),
    ("baryon", -3, 3),       # alpha_{B+L} = 1
    ("electron", -1, 1),
    ("muon", -1, 1),
])
def test_named_model_traces(name, A_WW, A_YY):
    m = get_model(name)
    assert (m.A_WW, m.A_YY) == (A_WW, A_YY)  # exact: integers


def test_general_table_reproduces_vector_formula_exactly():
    rng = random.Random(1)
    for _ in range(50):
        a = [F(rng.randint(-12, 12), rng.randint(1, 7)) for _ in range(4)]
        t = anomaly_traces(vector_charge_fields(*a))
        assert (t.XWW, t.XYY) == vector_traces(*a)


def test_general_table_reproduces_chiral_formula_exactly():
    rng = random.Random(2)
    for _ in range(50):
        aL, aR = F(rng.randint(-9, 9), rng.randint(1, 5)), F(rng.randint(-9, 9), rng.randint(1, 5))
        t = anomaly_traces(chiral_tau_fields(aL, aR))
        assert (t.XWW, t.XYY) == chiral_tau_traces(aL, aR)


@pytest.mark.parametrize("charges", [
    dict(alpha_B=1, alpha_e=-1, alpha_mu=-1, alpha_tau=-1),  # B - L
    dict(alpha_mu=1, alpha_tau=-1),                          # L_mu - L_tau
    dict(alpha_B=1, alpha_e=-3),                             # B - 3 L_e
])
def test_anomaly_free_combinations_have_zero_ew_traces(charges):
    t = anomaly_traces(vector_charge_fields(**charges))
    assert t.XWW == 0 and t.XYY == 0


def test_doublet_normalisation():
    """A left-handed doublet of X charge 1 gives A_XWW = -1 and A_XYY = -2 * 2 * (1/2)^2 = -1."""
    t = anomaly_traces([WeylField("l", "L", 2, F(-1, 2), 1)])
    assert (t.XWW, t.XYY) == (-1, -1)
    assert t.witten_doublets == 1 and not t.witten_ok


def test_bad_field_rejected():
    with pytest.raises(ValueError, match="chirality"):
        WeylField("x", "X", 2, 0, 1)
    with pytest.raises(ValueError, match="lepton flavour"):
        sm_fields(0, {"nu": (1, 1)})
