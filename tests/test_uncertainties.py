"""Theory uncertainties: Monte Carlo propagation of the inputs (xfit.uncertainties), the
electroweak scheme (--ew-scheme) and ``xfit predict --uncertainties``."""
import dataclasses
import json
import time

import numpy as np
import pytest

from xfit.cli import main
from xfit.errors import InputError
from xfit.models import get_model
from xfit.physics import form_factors
from xfit.physics.constants import ALPHA_0_INV, DEFAULT_SM
from xfit.physics.loops import ckm_loop_sum
from xfit.uncertainties import (
    draw_inputs,
    form_factor_parameters,
    load_uncertainty_table,
    not_varied,
    propagate,
    sm_input_sigmas,
)

MX = 2.1
GX = 0.03
RATES = ["BR(Z->gammaX)", "BR(B+->pi+X)", "BR(B0->pi0X)", "BR(B+->rho+X)", "BR(B0->rho0X)", "BR(B+->K+X)",
         "BR(B0->K0X)", "BR(B+->K*+X)", "BR(B0->K*0X)"]


@pytest.fixture(scope="module")
def tau():
    return get_model("tau-flavor")


@pytest.fixture(scope="module")
def bands(tau):
    return propagate(tau, MX, gX=GX)


def test_zero_covariance_gives_the_plain_predictions_exactly(tau):
    central = tau.predict(MX, gX=GX)
    flat = propagate(tau, MX, draws=50, scale=0.0, gX=GX)
    assert set(flat) >= set(RATES) | {"g_S", "g_P", "F_L(B+->K*+X)", "R_K*/K"}
    for key, band in flat.items():
        assert band["q16"] == pytest.approx(float(central[key]), rel=1e-12, abs=1e-300), key
        assert band["q84"] == pytest.approx(float(central[key]), rel=1e-12, abs=1e-300), key


def test_bands_bracket_the_central_value_and_have_width(tau, bands):
    central = tau.predict(MX, gX=GX)
    for key in [*RATES[1:], "g_S", "F_L(B+->K*+X)", "R_K*/K"]:
        c = float(central[key])
        assert bands[key]["q16"] < c < bands[key]["q84"], key
        assert bands[key]["q84"] - bands[key]["q16"] > 1e-3 * c, key


def test_bands_shrink_linearly_with_the_spread(tau):
    full = propagate(tau, MX, draws=4000, gX=GX)["BR(B+->K+X)"]
    tenth = propagate(tau, MX, draws=4000, scale=0.1, gX=GX)["BR(B+->K+X)"]
    ratio = (tenth["q84"] - tenth["q16"]) / (full["q84"] - full["q16"])
    assert ratio == pytest.approx(0.1, rel=0.1)


def test_reproducible_with_a_seed(tau):
    a = propagate(tau, MX, draws=1000, seed=7, gX=GX)
    b = propagate(tau, MX, draws=1000, seed=7, gX=GX)
    c = propagate(tau, MX, draws=1000, seed=8, gX=GX)
    assert a == b
    assert a["BR(B+->K+X)"] != c["BR(B+->K+X)"]


def test_b_to_k_band_at_2p1_gev_is_plausible(tau, bands):
    """B(B+ -> K+ X) at 2.1 GeV: about +-9 % (the rate goes as f^2 with HPQCD's f(0) = 0.332(12),
    +-3.6 %, i.e. +-7 % from the form factor; |V_ts|^2 via A adds ~4 %)."""
    c = float(tau.predict(MX, gX=GX)["BR(B+->K+X)"])
    half = (bands["BR(B+->K+X)"]["q84"] - bands["BR(B+->K+X)"]["q16"]) / (2 * c)
    f0_rel = 0.012 / 0.332
    assert 1.5 * f0_rel < half < 0.15
    # the form factors alone: only the B->K inputs varied would give ~ 2 x 3.6 %
    assert half == pytest.approx(0.087, abs=0.01)


def test_neutral_and_charged_modes_of_one_transition_move_together(tau, bands):
    """B0 and B+ rates of one transition share every draw: equal relative bands."""
    c = float(tau.predict(MX, gX=GX)["BR(B0->K0X)"])
    plus = float(tau.predict(MX, gX=GX)["BR(B+->K+X)"])
    assert bands["BR(B0->K0X)"]["q16"] / c == pytest.approx(bands["BR(B+->K+X)"]["q16"] / plus, rel=1e-3)


def test_closed_channels_have_zero_bands_and_undefined_ratios_none(tau):
    b = propagate(tau, 5.0, draws=100, gX=GX)
    assert b["BR(K+->pi+X)"] == {"q16": 0.0, "q84": 0.0}
    assert b["F_L(B+->K*+X)"] is None and b["R_K*/K"] is None


def test_one_point_under_a_second(tau):
    propagate(tau, MX, draws=100, gX=GX)  # warm the caches (data files)
    t0 = time.perf_counter()
    propagate(tau, MX, gX=GX)
    elapsed = time.perf_counter() - t0
    assert elapsed < 2.0, f"10^4 draws took {elapsed:.2f} s (measured ~0.2 s on an idle core)"


def test_batch_sm_inputs_match_the_scalar_path():
    d = draw_inputs(DEFAULT_SM, n=5, seed=3)
    batch = ckm_loop_sum("b->s", d.sm)
    for i in range(5):
        point = DEFAULT_SM.replace(**{k: float(getattr(d.sm, k)[i]) for k in sm_input_sigmas()})
        assert batch[i] == pytest.approx(ckm_loop_sum("b->s", point), rel=1e-12)
        assert d.sm.g[i] == pytest.approx(point.g, rel=1e-14)


def test_substituted_form_factors_match_per_draw_evaluation():
    d = draw_inputs(DEFAULT_SM, n=4, seed=1)
    model = d.form_factor_models["B->K f0"]
    q2 = np.full(4, 4.41)
    with form_factors.substituted_models(d.form_factor_models):
        batch = form_factors.b_to_k_f0(q2)
    for i in range(4):
        one = dataclasses.replace(model, coefficients=tuple(float(c[i]) for c in model.coefficients))
        assert batch[i] == pytest.approx(one(4.41), rel=1e-12)
    assert form_factors.b_to_k_f0(4.41) == pytest.approx(form_factors.form_factor_model("B->K f0")(4.41))


def test_exact_identities_are_kept_in_the_draws():
    d = draw_inputs(DEFAULT_SM, n=20, seed=2)
    m = d.form_factor_models
    np.testing.assert_array_equal(m["B->K f0"].coefficients[0], m["B->K f+"].coefficients[0])
    np.testing.assert_array_equal(m["K->pi f0"].value_at_zero, m["K->pi f+"].value_at_zero)
    assert not np.array_equal(m["B->K f0"].coefficients[1], m["B->K f+"].coefficients[1])


def test_every_varied_input_has_a_source():
    table = load_uncertainty_table()
    for key in sm_input_sigmas():
        assert "PDG 2024" in table["sm_inputs"][key]["source"]
    for name, entry in table["form_factors"].items():
        assert entry["source"] and entry["correlation"], name
    assert {p.form_factor for p in form_factor_parameters()} == set(table["form_factors"])
    assert set(not_varied()) == {"B->pi f0", "B->pi f+"}


def test_ew_scheme_alpha0_moves_the_tau_flavour_b_to_s_coupling_by_15_percent():
    """docs/physics.md, "What moves the extracted g_X": g_X 0.0161 -> ~0.0185 with alpha(0)."""
    mz = get_model("tau-flavor").predict(MX, gX=GX)
    a0 = get_model("tau-flavor", ew_scheme="alpha0").predict(MX, gX=GX)
    ratio = float(mz["g_S"] / a0["g_S"])  # = g_X(alpha0) / g_X(mz) at fixed |g_S|
    assert ratio == pytest.approx((ALPHA_0_INV / DEFAULT_SM.alpha_mz_inv) ** 2, rel=1e-10)
    assert ratio == pytest.approx(0.0185 / 0.0161, rel=0.01)
    assert float(mz["BR(B+->K+X)"] / a0["BR(B+->K+X)"]) == pytest.approx(ratio**2, rel=1e-10)


def test_ew_scheme_is_validated():
    with pytest.raises(InputError, match="--ew-scheme"):
        DEFAULT_SM.replace(ew_scheme="onshell")


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_predict_uncertainties_json(capsys):
    base = ["predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.03", "--json"]
    _, plain, _ = _run(capsys, *base)
    code, out, _ = _run(capsys, *base, "--uncertainties", "--draws", "2000", "--seed", "4")
    assert code == 0
    d, p = json.loads(out), json.loads(plain)
    assert d["predictions"] == p["predictions"]
    assert "uncertainties" not in p
    assert set(d["uncertainties"]) >= set(RATES) | {"F_L(B+->K*+X)", "BR(K+->pi+X)"}
    assert d["uncertainty_settings"]["draws"] == 2000 and d["uncertainty_settings"]["seed"] == 4
    assert d["inputs"]["ew_scheme"] == "mz"
    band = d["uncertainties"]["BR(B+->K+X)"]
    assert band["q16"] < d["predictions"]["BR(B+->K+X)"] < band["q84"]


def test_cli_ew_scheme_in_inputs(capsys):
    code, out, _ = _run(capsys, "predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.03", "--json",
                        "--ew-scheme", "alpha0")
    assert code == 0 and json.loads(out)["inputs"]["ew_scheme"] == "alpha0"


@pytest.mark.parametrize("draws", ["1", "abc", "-5"])
def test_cli_bad_draws(capsys, draws):
    code, _, err = _run(capsys, "predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.03",
                        "--uncertainties", "--draws", draws)
    assert code != 0 and "--draws" in err and "Traceback" not in err


def test_bsz_draws_carry_the_published_correlations():
    """BSZ 1503.05534 ancillary BKstar_LCSR-Lattice.json: corr(alpha_0^V, alpha_0^A1) = 0.923,
    corr(alpha_0^A0, alpha_0^A12) = 1; sigmas as in data/form_factors.yaml."""
    d = draw_inputs(DEFAULT_SM, n=20000, seed=5)
    m = d.form_factor_models
    v0, a10 = m["B->K* V"].coefficients[0], m["B->K* A1"].coefficients[0]
    assert np.corrcoef(v0, a10)[0, 1] == pytest.approx(0.922982, abs=0.01)
    assert np.corrcoef(m["B->K* A0"].coefficients[0], m["B->K* A12"].coefficients[0])[0, 1] == pytest.approx(1, abs=1e-3)
    assert np.std(v0) == pytest.approx(0.0332944, rel=0.03)
    assert abs(np.corrcoef(v0, m["B->K f0"].coefficients[0])[0, 1]) < 0.03  # different fits: independent


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "a", None])
def test_inputs_at_refuses_a_non_finite_normal(bad):
    from xfit.uncertainties import input_shifts, inputs_at, normal_keys

    key = normal_keys()[0]
    with pytest.raises(InputError, match=f"theory input '{key}': its standard normal must be a finite number"):
        inputs_at(DEFAULT_SM, {key: bad})
    with pytest.raises(InputError, match="must be a finite number"):
        inputs_at(DEFAULT_SM, {key: np.array([0.0, 1.0, bad if bad is not None else np.nan], dtype=object)})
    with pytest.raises(InputError, match="its standard normal must be a finite number"):
        input_shifts({key: bad})


def test_input_shifts_refuses_an_unknown_input():
    from xfit.uncertainties import input_shifts

    with pytest.raises(InputError, match="unknown theory input 'bogus'"):
        input_shifts({"bogus": 1.0})


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), -1.0, "x", np.array([1.0, 2.0]), True])
def test_draws_refuse_a_bad_scale(scale):
    from xfit.uncertainties import draw_inputs

    with pytest.raises(InputError, match="theory_scale .* must be a finite number >= 0"):
        draw_inputs(DEFAULT_SM, 10, scale=scale)
