"""The one model builder (a plain mapping -> a model) and Model.describe()."""
import json

import numpy as np
import pytest

from xfit.errors import InputError
from xfit.models import ChargeModel, ChiralPlane, EFTPlane, WessZuminoModel, build_model, get_model

SPECS = [
    ({"name": "tau-flavor"}, ChargeModel, "charges", (-1.0, 1.0)),
    ({"charges": {"alpha_e": 1}, "XS": 2}, ChargeModel, "charges", (-1.0, 1.0)),
    ({"chiral": {"alpha_L": 4, "alpha_R": -1}}, ChargeModel, "charges", (-4.0, -6.0)),
    ({"wess_zumino": {"A_WW": -1, "A_YY": 3}, "br_invisible": 0.5}, WessZuminoModel, "wess_zumino", (-1.0, 3.0)),
    ({"plane": "eft"}, EFTPlane, "plane", None),
    ({"plane": "chiral", "loop_normalisation": "paper"}, ChiralPlane, "plane", None),
]


@pytest.mark.parametrize("spec, cls, kind, traces", SPECS)
def test_every_kind_builds_and_describes_itself(spec, cls, kind, traces):
    m = build_model(spec)
    assert type(m) is cls
    d = m.describe()
    assert d["name"] == m.name and d["kind"] == kind and d["class"] == cls.__name__
    assert list(d["parameters"]) == list(m.parameters)
    assert all(d["parameters"][p] == m.label(p) for p in m.parameters)
    assert d["loop_normalisation"] == spec.get("loop_normalisation", "derived")
    if traces is not None:
        assert (d["A_WW"], d["A_YY"]) == traces
    else:
        assert "A_WW" not in d
    json.dumps(d)  # plain data
    assert m.name in repr(m) and f"W loop {m.loop_normalisation}" in repr(m)


def test_builder_matches_direct_construction():
    built = build_model({"name": "L=-4R", "XS": 3, "br_invisible": 0.25, "loop_normalisation": "paper"})
    direct = get_model("L=-4R", XS=3, br_invisible=0.25, loop_normalisation="paper")
    assert built.describe() == direct.describe()
    a, b = built.predict(2.1, gX=0.01), direct.predict(2.1, gX=0.01)
    assert a.keys() == b.keys()
    for k in a:
        assert np.asarray(a[k]) == pytest.approx(np.asarray(b[k]), nan_ok=True), k


def test_br_invisible_rule_is_described():
    assert build_model({"name": "tau-flavor"}).describe()["br_invisible"].startswith("from the charges")
    assert build_model({"name": "tau-flavor", "br_invisible": 0.3}).describe()["br_invisible"] == 0.3
    assert build_model({"wess_zumino": {"A_WW": 1, "A_YY": 1}}).describe()["br_invisible"] == 1.0
    assert build_model({"plane": "eft"}).describe()["br_invisible"] == 1.0


@pytest.mark.parametrize("spec, message", [
    ({}, "exactly one of: name, charges, chiral, wess_zumino, plane; got none"),
    ({"name": "tau-flavor", "plane": "eft"}, "exactly one of.*got name, plane"),
    ({"name": "tau-flavor", "colour": 1}, "unknown model key.*'colour'"),
    ({"chiral": {"alpha_L": 1}}, "'chiral': missing alpha_R"),
    ({"charges": {"alpha_x": 1}}, "'charges': unknown alpha_x"),
    ({"plane": "flat"}, "unknown plane 'flat'; accepted: eft, chiral"),
    ({"plane": "eft", "XS": 2}, "XS is not an option of the eft plane"),
    ({"plane": "chiral", "br_invisible": 0.5}, "br_invisible is not an option of the chiral plane"),
    ({"wess_zumino": {"A_WW": 1, "A_YY": 1}, "XS": 0}, "X_S .* must be non-zero"),
    ({"name": "nope"}, "unknown model 'nope'"),
    ({"name": ["tau-flavor"]}, "model 'name' must be a string"),
])
def test_bad_specs_are_input_errors(spec, message):
    with pytest.raises(InputError, match=message):
        build_model(spec)
