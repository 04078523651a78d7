"""Anomaly bookkeeping, Eqs. (2.2)-(2.6), (A.21) and Witten.  Everything is exact (Fractions):
the tolerances are zero."""
import random
from fractions import Fraction as F
from pathlib import Path

import pytest

from xfit.anomalons.conditions import PAPER_PER_TRACE, check_anomalies, paper_from_traces, sm_paper_terms, su3_residual
from xfit.anomalons.field_content import FieldContent, SMCharges, load_field_content, parse_field_content
from xfit.anomalons.uv_models import table5_content, table6_content
from xfit.errors import DataError, InputError
from xfit.physics.anomaly import WeylField, anomaly_traces

DATA = Path(__file__).parents[1] / "data" / "anomalons"


def _rand_q(rng, k=9, d=6):
    return F(rng.randint(-k, k), rng.randint(1, d))


def _random_content(rng, chiral: bool):
    sm = (SMCharges.chiral_tau(_rand_q(rng), _rand_q(rng), _rand_q(rng)) if chiral
          else SMCharges.vector(*(_rand_q(rng) for _ in range(4))))
    fields = tuple(WeylField(f"f{i}", rng.choice("LR"), rng.randint(1, 6), _rand_q(rng, 5, 2), _rand_q(rng),
                             N=rng.choice((1, 3, 8)), copies=rng.randint(1, 2)) for i in range(rng.randint(0, 5)))
    return FieldContent(sm, fields)


@pytest.mark.parametrize("chiral", [False, True])
def test_paper_form_equals_trace_form_for_random_contents(chiral):
    # check_anomalies raises if the closed-form SM terms + rescaled traces differ from the traces
    # of the full field list; this exercises both normalisations on 200 random contents.
    rng = random.Random(7 + chiral)
    for _ in range(200):
        content = _random_content(rng, chiral)
        report = check_anomalies(content)
        full = anomaly_traces(content.all_fields())
        for c in report.conditions:  # the constant factors of the module docstring
            assert c.residual == PAPER_PER_TRACE[c.key] * getattr(full, c.key)
            assert c.satisfied == (getattr(full, c.key) == 0)  # both normalisations agree on zero


def test_sm_closed_forms_are_the_papers():
    a_B, a_e, a_mu, a_tau = F(1, 3), F(2), F(-1, 2), F(5, 7)
    t = sm_paper_terms(SMCharges.vector(a_B, a_e, a_mu, a_tau))
    a_BL = a_B + (a_e + a_mu + a_tau) / 3                      # Eq. (2.7)
    assert t == {"X": a_e + a_mu + a_tau, "XXX": a_e**3 + a_mu**3 + a_tau**3,
                 "XWW": F(3, 2) * a_BL, "XYY": -F(3, 2) * a_BL, "XXY": 0}   # Eqs. (2.2)-(2.6)
    aL, aR = F(4), F(-1)                                         # chiral paper Eqs. (23)-(27)
    t = sm_paper_terms(SMCharges.chiral_tau(aL, aR))
    assert t == {"X": 2 * aL - aR, "XXX": 2 * aL**3 - aR**3, "XWW": aL / 2, "XYY": aL / 2 - aR,
                 "XXY": aR**2 - aL**2}


def test_sm_alone_residuals_tau_flavour():
    r = check_anomalies(FieldContent(SMCharges.vector(alpha_tau=1)))
    assert [c.residual for c in r.conditions] == [1, 1, F(1, 2), F(-1, 2), 0]
    assert r.witten_count == 12 and r.witten_ok and r.su3.satisfied and not r.all_cancel


@pytest.mark.parametrize("content", [table5_content(), table6_content(0), table6_content(F(1, 6)),
                                     table6_content(F(-3, 11))], ids=["T5", "T6-X0", "T6-X1/6", "T6-X-3/11"])
def test_paper_models_cancel_everything(content):
    r = check_anomalies(content)
    assert r.all_cancel and r.electroweak_cancel


def test_witten_counts_colour_and_copies():
    f = WeylField("D", "L", 2, 0, 0, N=3, copies=1)   # a colour-triplet doublet: 3 doublets
    r = check_anomalies(FieldContent(SMCharges(), (f,)))
    assert r.witten_count == 15 and not r.witten_ok
    r = check_anomalies(FieldContent(SMCharges(), (f, WeylField("D'", "L", 6, 0, 0))))   # n = 6 = 4l+2
    assert r.witten_count == 16 and r.witten_ok


def test_su3_condition():
    # quarks with vector alpha_B: no [SU(3)^2 U(1)_X] anomaly (Sec. 2)
    r = check_anomalies(FieldContent(SMCharges.vector(alpha_B=F(5, 3))))
    assert r.su3.residual == 0
    # one colour octet doublet with X = 1: 2 * T(8) * 1 = 6 (left-handed counted positively)
    assert su3_residual([WeylField("O", "L", 2, 0, 1, N=8)], [F(3)]) == 6


def test_paper_from_traces_factors():
    t = anomaly_traces([WeylField("x", "L", 3, F(1, 2), 2)])
    p = paper_from_traces(t)
    # Left-handed (3, 1/2, 2): (2.2) n X = 6; (2.3) n X^3 = 24; (2.4) n(n^2-1)/12 X = 4;
    # (2.5) n Y^2 X = 3/2; (2.6) n Y X^2 = 6.
    assert p == {"X": 6, "XXX": 24, "XWW": 4, "XYY": F(3, 2), "XXY": 6}


# --- YAML input ---------------------------------------------------------------------------

def test_yaml_examples_load_and_cancel():
    for name in ("table5_model", "table6_model", "l_only", "l_minus_4r"):
        assert check_anomalies(load_field_content(DATA / f"{name}.yaml")).all_cancel, name


def test_yaml_numbers_are_exact():
    c = parse_field_content({"sm": {"alpha_tau": "1/3"}, "fields": [
        {"name": "a", "chirality": "L", "n": 2, "Y": 0.5, "X": "-1/12"},
        {"name": "b", "chirality": "R", "n": 1, "Y": "0.1", "X": 3, "color": 8, "copies": 2}]})
    a, b = c.fields
    assert (a.Y, a.X, b.Y, b.X, b.N, b.copies) == (F(1, 2), F(-1, 12), F(1, 10), 3, 8, 2)
    assert c.dynkin == (0, 3)
    assert c.sm.leptons[2] == (F(1, 3), F(1, 3))


def test_yaml_witten_and_residual_files():
    r = check_anomalies(load_field_content(DATA / "witten_odd.yaml"))
    assert not r.witten_ok and all(c.satisfied for c in r.conditions)
    r = check_anomalies(load_field_content(DATA / "tau_flavour_no_anomalons.yaml"))
    assert [c.residual for c in r.conditions] == [1, 1, F(1, 2), F(-1, 2), 0]


def test_a23_as_printed():
    # (2.4)-(2.6) cancel for A.23 (colour-rescaled A.4, m = 2); (A.21) does not: 1/16 (see colored.py)
    r = check_anomalies(load_field_content(DATA / "colored_a23.yaml"))
    assert r.electroweak_cancel and r.su3.residual == F(1, 16)


@pytest.mark.parametrize("name, words", [
    ("broken_syntax", ["invalid YAML", "line 2"]),
    ("bad_field_key", ["'hypercharge'", "accepted keys: name, chirality, n, Y, X, color, dynkin, copies"]),
    ("bad_top_key", ["'anomalons'", "accepted keys: sm, fields, description"]),
    ("bad_sm_key", ["'alpha_nu'", "alpha_B, alpha_e, alpha_mu, alpha_tau, alpha_L, alpha_R"]),
    ("bad_chirality", ["chirality must be 'L' or 'R'", "'left'"]),
    ("bad_fraction", ["X must be a number", "'one/12'"]),
    ("missing_key", ["lacks key(s) X"]),
    ("mixed_sm", ["alpha_tau", "alpha_L"]),
    ("bad_dimension", ["n (SU(2) dimension) must be an integer >= 1"]),
    ("not_a_mapping", ["mapping"]),
    ("empty", ["empty file"]),
])
def test_broken_files_raise_one_line_input_errors(name, words):
    with pytest.raises(InputError) as exc:
        load_field_content(DATA / f"{name}.yaml")
    msg = str(exc.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_missing_file_is_a_data_error():
    with pytest.raises(DataError):
        load_field_content(DATA / "does_not_exist.yaml")


def test_unknown_colour_dimension_needs_dynkin():
    spec = {"fields": [{"chirality": "L", "n": 1, "Y": 0, "X": 1, "color": 7}]}
    with pytest.raises(InputError, match="dynkin"):
        parse_field_content(spec)
    c = parse_field_content({"fields": [{"chirality": "L", "n": 1, "Y": 0, "X": 1, "color": 15, "dynkin": "35/2"}]})
    assert c.dynkin == (F(35, 2),)
