"""Models built from tables of light Weyl fields: traces from the table itself (every field,
u_R/d_R and per-generation charges included), B(X -> invisible) from the lepton charges when
the table maps onto SM charges, else --br-invisible required; the YAML file format."""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from xfit.errors import InputError
from xfit.models import ChargeModel, get_model
from xfit.models.field_table import field_model, flavour_of, read_field_table, sm_charges_of
from xfit.physics.anomaly import (
    anomaly_traces,
    chiral_tau_fields,
    chiral_tau_traces,
    sm_fields,
    vector_charge_fields,
    vector_traces,
)

QUARKS = """
  - {name: q, chirality: L, su2: 2, Y: "1/6", X: "1/3", colour: 3, copies: 3}
  - {name: u_R, chirality: R, su2: 1, Y: "2/3", X: "1/3", colour: 3, copies: 3}
  - {name: d_R, chirality: R, su2: 1, Y: "-1/3", X: "1/3", colour: 3, copies: 3}"""


def lepton(flavour: str, XL, XR) -> str:
    return (f'\n  - {{name: l_{flavour}, chirality: L, su2: 2, Y: "-1/2", X: "{XL}"}}'
            f'\n  - {{name: e_{flavour}, chirality: R, su2: 1, Y: -1, X: "{XR}"}}')


#: benchmark -> (field table, closed-form (A_WW, A_YY)) (Eqs. 2.7, 3.2; chiral paper Eqs. 21-22)
BENCHMARK_TABLES = {
    "tau-flavor": ("fields:" + lepton("tau", 1, 1), vector_traces(alpha_tau=1)),
    "L-only": ("fields:" + lepton("tau", 1, 0), chiral_tau_traces(1, 0)),
    "L=-4R": ("fields:" + lepton("tau", 4, -1), chiral_tau_traces(4, -1)),
    "baryon": ("fields:" + QUARKS, vector_traces(alpha_B=1)),
    "electron": ("fields:" + lepton("e", 1, 1), vector_traces(alpha_e=1)),
    "muon": ("fields:" + lepton("mu", 1, 1), vector_traces(alpha_mu=1)),
}
MASSES = np.array([0.05, 0.5, 2.0, 3.3, 5.0])


def write(tmp_path, text: str, name: str = "table.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("name", list(BENCHMARK_TABLES))
def test_benchmark_tables_give_the_closed_form_traces_exactly(tmp_path, name):
    text, (AWW, AYY) = BENCHMARK_TABLES[name]
    p = write(tmp_path, text)
    fields, _ = read_field_table(p)
    t = anomaly_traces(fields)
    assert (t.XWW, t.XYY) == (AWW, AYY)
    assert all(isinstance(f.X, Fraction) and isinstance(f.Y, Fraction) for f in fields)
    model = field_model(p)
    bench = get_model(name)
    assert (model.A_WW, model.A_YY) == (float(AWW), float(AYY)) == (bench.A_WW, bench.A_YY)
    np.testing.assert_array_equal(model.br_invisible(MASSES), bench.br_invisible(MASSES))
    a, b = model.predict(2.0, gX=1e-3), bench.predict(2.0, gX=1e-3)
    for k in ("BR(B+->K+X)", "BR(Z->gammaX)", "BR(K+->pi+X)", "BR(X->invisible)"):
        assert a[k] == b[k], k


def test_u_R_and_d_R_charges_count():
    """The bug: from_fields kept only q_L (A_YY = 1 where the traces are 9)."""
    def table(Xq, Xu, Xd):
        return [f for f in sm_fields(0) if f.name.startswith(("l_L", "e_R"))] + [
            type(f)(f.name, f.chirality, f.n, f.Y, X, N=3, copies=3)
            for f, X in zip(sm_fields(0)[:3], (Xq, Xu, Xd))]

    assert (ChargeModel.from_fields(table(1, 1, 1)).A_YY, ChargeModel.from_fields(table(1, 1, 1)).A_WW) == (9, -9)
    only_u = ChargeModel.from_fields(table(0, 1, 0), br_invisible=0.0)
    assert (only_u.A_WW, only_u.A_YY) == (0.0, 8.0)  # 2 * 3 colours * 3 generations * (2/3)^2
    only_d = ChargeModel.from_fields(table(0, 0, 1), br_invisible=0.0)
    assert (only_d.A_WW, only_d.A_YY) == (0.0, 2.0)
    with pytest.raises(InputError, match=r"not those of baryon number.*\n.*--br-invisible"):
        ChargeModel.from_fields(table(0, 1, 0)).predict(1.0, gX=1e-3)


def test_per_generation_charges_count(tmp_path):
    p = write(tmp_path, """fields:
  - {name: q1, chirality: L, su2: 2, Y: "1/6", X: 1, colour: 3}
  - {name: l_mu, chirality: L, su2: 2, Y: "-1/2", X: 2}
  - {name: e_mu, chirality: R, su2: 1, Y: -1, X: "1/2"}
  - {name: l_e, chirality: L, su2: 2, Y: "-1/2", X: 0.5}
""")
    fields, _ = read_field_table(p)
    assert anomaly_traces(fields).XWW == -3 - 2 - Fraction(1, 2)
    # A_XYY = sum of (+-) 2 n N X Y^2 over the four fields (Eq. 3.2)
    assert anomaly_traces(fields).XYY == (-2 * 2 * 3 * 1 * Fraction(1, 36) - 2 * 2 * 2 * Fraction(1, 4)
                                          + 2 * 1 * Fraction(1, 2) * 1 - 2 * 2 * Fraction(1, 2) * Fraction(1, 4))
    assert anomaly_traces(fields).XYY == Fraction(-11, 6)
    with pytest.raises(InputError, match="not given for all 3 generations"):
        field_model(p).br_invisible(1.0)
    m = field_model(p, br_invisible=0.3)
    assert m.A_WW == float(anomaly_traces(fields).XWW) and m.br_invisible(1.0) == 0.3


def test_sm_field_tables_still_map_onto_their_charges():
    m = ChargeModel.from_fields(vector_charge_fields(alpha_B=0.5, alpha_mu=1.0), br_invisible=1.0)
    v = ChargeModel.vector(alpha_B=0.5, alpha_mu=1.0)
    assert (m.A_WW, m.A_YY) == (v.A_WW, v.A_YY)
    c = ChargeModel.from_fields(chiral_tau_fields(4, -1))
    assert c.lepton_charges == {"tau": (4.0, -1.0)}
    np.testing.assert_array_equal(c.br_invisible(MASSES), get_model("L=-4R").br_invisible(MASSES))


def test_fields_beyond_the_sm_need_br_invisible(tmp_path):
    p = write(tmp_path, "fields:" + lepton("tau", 1, 1) + '\n  - {name: N, chirality: R, su2: 1, Y: 0, X: 1}\n')
    with pytest.raises(InputError) as e:
        field_model(p).predict(1.0, gX=1e-3)
    msg = str(e.value)
    assert "field N (su2 1, Y 0, colour 1) is not an SM fermion" in msg and "--br-invisible" in msg
    assert len(msg.splitlines()) <= 3
    assert field_model(p, br_invisible=1.0).A_YY == 1.0  # N is a singlet with Y = 0: no trace


def test_flavour_from_key_or_name(tmp_path):
    assert [flavour_of(n) for n in ("e_tau", "l_L^mu", "e", "L[e]", "psi")] == ["tau", "mu", "e", "e", None]
    p = write(tmp_path, """fields:
  - {name: doublet3, chirality: L, su2: 2, Y: "-1/2", X: 1, flavour: tau}
  - {name: singlet3, chirality: R, su2: 1, Y: -1, X: 1, flavour: tau}
""")
    m = field_model(p)
    assert m.lepton_charges == {"tau": (1.0, 1.0)} and (m.A_WW, m.A_YY) == (-1.0, 1.0)
    all_gen = write(tmp_path, 'fields:\n  - {name: l, chirality: L, su2: 2, Y: "-1/2", X: 1, copies: 3}\n', "g.yaml")
    assert field_model(all_gen).lepton_charges == {f: (1.0, 0.0) for f in ("e", "mu", "tau")}
    unknown = write(tmp_path, 'fields:\n  - {name: psi, chirality: L, su2: 2, Y: "-1/2", X: 1}\n', "u.yaml")
    with pytest.raises(InputError, match="flavour unknown"):
        field_model(unknown).br_invisible(1.0)
    assert sm_charges_of([])[0] is None


@pytest.mark.parametrize("text, words", [
    ('fields:\n  - {name: a, chirality: left, su2: 1, Y: 0, X: 1}\n', ["fields[0] (a)", "chirality must be L or R"]),
    ('fields:\n  - {name: a, chirality: L, su2: 0, Y: 0, X: 1}\n', ["su2 must be an integer >= 1", "'0'"]),
    ('fields:\n  - {name: a, chirality: L, su2: 1, Y: one, X: 1}\n', ["Y must be a number", "'one'"]),
    ('fields:\n  - {name: a, chirality: L, su2: 1, Y: 0, X: 1, color: 3}\n', ["unknown key 'color'", "colour"]),
    ('fields:\n  - {name: a, chirality: L, su2: 1, Y: 0}\n', ["lacks X"]),
    ('fields:\n  - {name: a, chirality: L, su2: 1, Y: 0, X: 1, flavour: nu}\n', ["flavour must be one of e, mu, tau"]),
    ('fields:\n  - {name: a, chirality: L, su2: 1, Y: 0, X: 1}\n  - {name: a, chirality: R, su2: 1, Y: 0, X: 1}\n',
     ["field name 'a' appears twice"]),
    ('fields: []\n', ["'fields' must be a non-empty list"]),
    ('charges: {}\n', ["expected a mapping with 'fields'"]),
    ('fields:\n  - {name: a, chirality: L, su2: 1, Y: 0, X: 1, X: 2}\n', ["duplicate key 'X'"]),
    ('fields:\n  - {name: a, chirality: L, su2: 1, Y: 0, X: "1/0"}\n', ["X must be a number"]),
])
def test_bad_field_tables_are_one_line_input_errors(tmp_path, text, words):
    p = write(tmp_path, text)
    with pytest.raises(InputError) as e:
        field_model(p, br_invisible=1.0)
    msg = str(e.value)
    assert str(p) in msg and "\n" not in msg
    for w in words:
        assert w in msg


def test_cli_predict_fields_equals_named_model(tmp_path, capsys):
    from xfit.cli import main

    p = write(tmp_path, BENCHMARK_TABLES["L=-4R"][0])
    assert main(["predict", "--fields", str(p), "--mX", "2.1", "--gX", "0.003", "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["predict", "--model", "L=-4R", "--mX", "2.1", "--gX", "0.003", "--json"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert a["predictions"] == b["predictions"] and a["model"]["name"] == "fields:table.yaml"
    q = write(tmp_path, "fields:" + QUARKS + lepton("tau", 1, 1), "mixed.yaml")
    assert main(["predict", "--fields", str(q), "--mX", "2.1", "--gX", "0.003"]) == 2
    err = capsys.readouterr().err
    assert "hadronic width of X not modelled" in err and "--br-invisible" in err
    assert main(["predict", "--fields", str(q), "--model", "tau-flavor", "--mX", "1", "--gX", "0"]) == 2
    assert "give one kind of model, got --model and --fields" in capsys.readouterr().err
