"""``model.predictor(mX)``: the m_X-dependent factors of every prediction computed once.

Its results must equal ``model.predict(mX, **params)`` and, to <= 1e-12 relative, every rate
computed straight from the physics functions at the couplings (the factorisation at fixed
m_X -- rates ∝ (g_X A_XWW)^2, |g_S|, |g_P| ∝ |g_X A_XWW|, B(Z -> gamma X) ∝ c_XZgamma^2 --
is checked here, not assumed), for every registered model and theory option.
"""
from __future__ import annotations

import numpy as np
import pytest

from xfit.errors import InputError
from xfit.models import build_model
from xfit.models.registry import BENCHMARKS
from xfit.physics.anomaly import sm_fields
from xfit.physics.couplings import scalar_pseudoscalar_couplings
from xfit.physics.meson_decays import CHANNELS, branching_ratio, longitudinal_fraction
from xfit.physics.x_decay import invisible_branching_ratio
from xfit.physics.z_decay import z_to_gamma_x_branching_ratio
from xfit.predictions import LONGITUDINAL_FRACTIONS, RATIOS, Predictor, compute_predictions, width_ratio

SPECS = [{"name": n} for n in BENCHMARKS if n != "baryon"] + [
    {"name": "baryon", "br_invisible": 0.3},
    {"charges": {"alpha_mu": 1, "alpha_tau": -1}},
    {"chiral": {"alpha_L": 2, "alpha_R": -1}},
    {"wess_zumino": {"A_WW": 0.5, "A_YY": -2.0}, "XS": 2.0},
    {"plane": "eft", "br_invisible": 0.7},
    {"plane": "chiral"},
]
OPTIONS = [{}, {"loop_normalisation": "paper"}, {"goldstone": True}, {"ew_scheme": "alpha0"}]
#: light, around the b -> s fit, near the B -> K* endpoint, above every meson channel, above m_Z
MASSES = [0.05, 2.1, 4.5, 10.0, 95.0]


def grid(model):
    """A grid of parameter values: zero, tiny, typical and large couplings, both signs in planes."""
    if model.parameters == ("gX",):
        return {"gX": np.array([0.0, 1e-7, 1e-3, 0.03, 0.5])}
    a = np.array([0.0, 1e-6, -2e-3, 0.04, -0.3, 0.2])
    b = np.array([0.0, 3e-6, 1e-3, -0.05, 0.1, 0.2])
    return dict(zip(model.parameters, (a, b)))


def direct(pred, mX, sm) -> dict[str, np.ndarray]:
    """Every coupling-dependent prediction from the physics functions at the couplings."""
    cWW, cYY = pred["gX*A_WW"], pred["gX*A_YY"]
    g_S, g_P = scalar_pseudoscalar_couplings(mX, cWW, sm)
    out = {"g_S": np.abs(g_S), "g_P": np.abs(g_P), "BR(Z->gammaX)": z_to_gamma_x_branching_ratio(mX, cWW, cYY, sm)}
    out.update({key: branching_ratio(key, mX, cWW, sm) for key in CHANNELS})
    out.update({key: longitudinal_fraction(ch, mX, sm) for key, ch in LONGITUDINAL_FRACTIONS.items()})
    out.update({key: width_ratio(top, bottom, mX, sm) for key, (top, bottom) in RATIOS.items()})
    return out


def assert_close(a, b, rtol=1e-12, what=""):
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    assert np.array_equal(np.isnan(a), np.isnan(b)), what
    same = (a == b) | np.isnan(a)  # equal, also where both are inf (v_X at g_X = 0)
    ok = ~same
    assert np.all(np.abs(a[ok] - b[ok]) <= rtol * np.abs(b[ok])), (what, a[ok], b[ok])


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: str(s)[:40])
def test_predictor_equals_predict_and_the_physics_functions(spec, options):
    model = build_model({**spec, **options})
    params = grid(model)
    for mX in MASSES:
        predictor = model.predictor(mX)
        got = predictor(**params)
        # the same as predict, key for key and in the same order
        want = model.predict(mX, **params)
        assert list(got) == list(want)
        for key in want:
            assert_close(got[key], want[key], 0.0, key)
        # every rate as the physics functions give it at the couplings (not via the factorisation)
        for key, value in direct(got, mX, model.sm).items():
            assert_close(got[key], value, 1e-12, f"{key} at m_X = {mX}")
        # the model's inputs
        if "gX" in params:
            assert_close(got["gX*A_WW"], params["gX"] * model.A_WW, 0.0)
            assert_close(got["gX*A_YY"], params["gX"] * model.A_YY, 0.0)
        if model.kind == "charges":
            assert_close(got["BR(X->invisible)"], model.br_invisible(mX), 0.0)
        if spec.get("plane") == "chiral":
            aL, aR = params["gX_alphaL"], params["gX_alphaR"]
            assert_close(got["BR(X->invisible)"],
                         invisible_branching_ratio(mX, {"tau": (aL, aR)}, 0.0, model.sm, uncoupled=1.0), 0.0)
        # the keys it announces without evaluating, and any subset of them
        assert predictor.keys() == tuple(want)
        subset = ["BR(Z->gammaX)", "g_S", "BR(X->invisible)"]
        part = predictor(keys=subset, **params)
        assert set(part) == {"mX", *subset}
        for key in subset:
            assert_close(part[key], want[key], 0.0, key)


def test_predictor_of_a_field_table_model():
    model = build_model({"name": "tau-flavor"}).from_fields(sm_fields(0, {"tau": (1, 1)}), name="table")
    g = np.array([0.0, 0.01, 0.2])
    got = model.predictor(0.7)(gX=g)
    for key, value in direct(got, 0.7, model.sm).items():
        assert_close(got[key], value, 1e-12, key)


def test_one_point_gives_the_types_of_the_physics_functions():
    model = build_model({"name": "tau-flavor"})
    got = model.predictor(2.1)(gX=0.02)
    assert isinstance(got["BR(B+->K+X)"], float) and isinstance(got["BR(Z->gammaX)"], float)
    assert isinstance(got["F_L(B+->K*+X)"], float)
    assert np.shape(got["mX"]) == () and np.shape(got["gX"]) == ()


def test_predictor_over_an_array_of_masses_equals_compute_predictions():
    masses = np.geomspace(1e-3, 100.0, 57)
    cWW, cYY = np.linspace(-0.1, 0.1, 57), np.linspace(0.2, -0.05, 57)
    got = Predictor(masses)(cWW, cYY, 0.8)
    want = compute_predictions(masses, cWW, cYY, 0.8)
    for key, value in direct(got, masses, Predictor(1.0).sm).items():
        assert_close(got[key], value, 1e-12, key)
        assert_close(want[key], value, 1e-12, key)


def test_cached_factors_are_not_handed_out_for_mutation():
    predictor = build_model({"name": "tau-flavor"}).predictor(np.array([1.0, 2.0]))
    first = predictor(gX=np.array([0.01, 0.02]))
    first["F_L(B+->K*+X)"][:] = -1.0
    first["BR(B+->K+X)"][:] = -1.0
    again = predictor(gX=np.array([0.01, 0.02]))
    assert np.all(again["F_L(B+->K*+X)"] > 0) and np.all(again["BR(B+->K+X)"] > 0)


def test_predictor_validates_each_call():
    predictor = build_model({"name": "tau-flavor"}).predictor(2.1)
    with pytest.raises(InputError, match="g_X must be a finite number >= 0"):
        predictor(gX=np.array([0.01, np.nan]))
    with pytest.raises(InputError, match="g_X must be a finite number >= 0"):
        predictor(gX=-0.1)
    plane = build_model({"plane": "eft"}).predictor(2.1)
    with pytest.raises(InputError, match="g_X A_XWW must be finite"):
        plane(gX_AWW=np.inf, gX_AYY=0.0)
    with pytest.raises(InputError, match="not finite for these inputs"):
        plane(gX_AWW=1e200, gX_AYY=0.0)
    with pytest.raises(InputError, match="unknown prediction key"):
        predictor(keys=["BR(nonsense)"], gX=0.01)
    with pytest.raises(InputError, match="m_X"):
        build_model({"name": "tau-flavor"}).predictor(-1.0)


def test_a_model_with_its_own_predict_is_called_through_it():
    from xfit.models import ChargeModel
    from xfit.models.base import Model

    class Doubled(ChargeModel):  # overrides predict only: the predictor must not bypass it
        def predict(self, mX, gX):
            out = super().predict(mX, gX)
            out["BR(Z->gammaX)"] = 2 * out["BR(Z->gammaX)"]
            return out

    class Minimal(Model):  # no hooks at all
        parameters = ("gX",)

        def predict(self, mX, gX):
            return compute_predictions(mX, gX, -gX, 1.0)

    d = Doubled.vector(alpha_tau=1)
    assert d.predictor(2.1)(gX=0.01)["BR(Z->gammaX)"] == d.predict(2.1, gX=0.01)["BR(Z->gammaX)"]
    m = Minimal()
    got = m.predictor(2.1)(keys=["g_S"], gX=np.array([0.0, 0.01]))
    assert set(got) == {"mX", "g_S"} and np.array_equal(got["g_S"], m.predict(2.1, np.array([0.0, 0.01]))["g_S"])
    assert "BR(Z->gammaX)" in m.predictor(2.1).keys()


@pytest.mark.parametrize("spec", [{"name": "tau-flavor"}, {"wess_zumino": {"A_WW": 0.5, "A_YY": -2.0}}])
def test_bad_gX_is_a_short_input_error(spec):
    model = build_model(spec)
    with pytest.raises(InputError, match="g_X must be a finite number >= 0, got 'a'"):
        model.predict(2.1, gX="a")
    with pytest.raises(InputError, match="g_X must be a finite number >= 0") as err:
        model.predictor(2.1)(gX=-np.ones(1000))
    assert len(str(err.value)) < 160 and str(err.value).count("\n") < 3


def test_bad_chiral_couplings_are_input_errors():
    model = build_model({"plane": "chiral"})
    with pytest.raises(InputError, match="g_X alpha_L must be a finite real number"):
        model.predict(2.1, gX_alphaL="a", gX_alphaR=0.0)
    with pytest.raises(InputError, match="g_X alpha_R must be finite"):
        model.predict(2.1, gX_alphaL=0.1, gX_alphaR=np.nan)


def test_predictor_names_an_unknown_or_missing_parameter():
    predictor = build_model({"name": "tau-flavor"}).predictor(2.1)
    with pytest.raises(InputError, match="unknown parameter 'g' of model .*accepted: gX"):
        predictor(g=0.1)
    with pytest.raises(InputError, match="no value of parameter 'gX' of model"):
        predictor()
    plane = build_model({"plane": "eft"}).predictor(2.1)
    with pytest.raises(InputError, match="no value of parameter 'gX_AYY'.*needed: gX_AWW, gX_AYY"):
        plane(gX_AWW=0.1)


def test_with_sm_refuses_what_is_not_smInputs():
    model = build_model({"name": "tau-flavor"})
    with pytest.raises(InputError, match="must be an xfit.physics.constants.SMInputs, got 'x'"):
        model.with_sm("x")
    shifted = model.with_sm(model.sm.replace(m_t=170.0))
    assert shifted.sm.m_t == 170.0 and model.sm.m_t != 170.0


def test_keys_given_as_one_string_are_refused():
    """A string is not taken letter by letter (nor, through predict, as substrings)."""
    with pytest.raises(InputError, match="keys must be a list of prediction keys, got the string 'g_S'"):
        Predictor(2.1)(0.01, 0.0, 1.0, keys="g_S")

    class OwnPredict(type(build_model({"plane": "eft"}))):
        def predict(self, mX, gX_AWW, gX_AYY):
            return super().predict(mX, gX_AWW, gX_AYY)

    for model in (build_model({"name": "tau-flavor"}), OwnPredict()):
        predictor = model.predictor(2.1)
        params = dict.fromkeys(model.parameters, 0.01)
        with pytest.raises(InputError, match="keys must be a list of prediction keys"):
            predictor(keys="BR(B+->K+X)", **params)


def test_keys_that_are_not_a_list_or_a_generator_of_bad_keys_are_refused():
    """keys=3 is an InputError (not a TypeError); a generator is read once, so an unhashable
    entry in it is still named, not dropped leaving an empty key list."""
    with pytest.raises(InputError, match="keys must be a list of prediction keys, got 3"):
        Predictor(2.1)(0.01, 0.0, 1.0, keys=3)
    with pytest.raises(InputError, match=r"unknown prediction key\(s\) \[\['g_S'\]\]"):
        Predictor(2.1)(0.01, 0.0, 1.0, keys=(k for k in [["g_S"]]))


def test_one_float_point_equals_the_one_element_array_path():
    """The single-float fast path gives the values of the array path, key by key."""
    for mX in (0.05, 2.1, 4.5, 95.0):
        one = Predictor(mX)(0.013, -0.02, 0.7, gX=0.3, XS=2.0)
        arr = Predictor(np.array([mX]))(np.array([0.013]), np.array([-0.02]), np.array([0.7]),
                                        gX=np.array([0.3]), XS=np.array([2.0]))
        assert set(one) == set(arr)
        for key in one:
            assert np.array_equal(np.atleast_1d(one[key]), arr[key], equal_nan=True), key


def test_a_model_predictor_reads_a_generator_of_keys_once():
    """The model's own keys (g_X) were dropped when ``keys`` was a generator (it was read
    twice: once for the core predictions, then found empty for the model's keys)."""
    class OwnPredict(type(build_model({"plane": "eft"}))):
        def predict(self, mX, gX_AWW, gX_AYY):
            return super().predict(mX, gX_AWW, gX_AYY)

    for model in (build_model({"name": "tau-flavor"}), build_model({"plane": "eft"}), OwnPredict()):
        predictor = model.predictor(2.1)
        params = dict.fromkeys(model.parameters, 0.01)
        extras = [k for k in model.predict(2.1, **params) if k not in Predictor(2.1).keys]  # e.g. gX
        keys = [*extras, "BR(B+->K+X)", "g_S"]
        want = predictor(keys=keys, **params)
        got = predictor(keys=(k for k in keys), **params)
        assert set(got) == set(want) == {"mX", *keys}
        assert all(np.array_equal(got[k], want[k]) for k in want)
    with pytest.raises(InputError, match="keys must be a list of prediction keys, got 3"):
        build_model({"name": "tau-flavor"}).predictor(2.1)(keys=3, gX=0.01)
