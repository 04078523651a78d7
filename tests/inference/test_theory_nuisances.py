"""Theory inputs as profiled Gaussian nuisances (xfit.inference.nuisances, Fit/profile_scan
theory_nuisances=True, --theory-nuisances)."""
import copy
import dataclasses
import json

import numpy as np
import pytest

from xfit.cli import main
from xfit.errors import InputError
from xfit.inference import mle, nuisances
from xfit.inference.fit import Fit
from xfit.inference.nuisances import TheoryNuisances
from xfit.inference.scan import ScanResult, profile_scan
from xfit.likelihood import build_likelihood
from xfit.models import EFTPlane, get_model
from xfit.physics import form_factors
from xfit.uncertainties import (
    draw_inputs,
    form_factor_parameters,
    input_nuisances,
    inputs_at,
    normal_keys,
    sm_input_sigmas,
)

MX = 2.1
TERMS = "b_to_s_emiss,l3_z_gamma"
SM_INPUTS = ("ckm_lambda", "ckm_A", "ckm_rhobar", "ckm_etabar", "m_t", "m_b", "m_c", "m_s", "alpha_mz_inv", "sin2w")


@pytest.fixture(scope="module")
def tau():
    return get_model("tau-flavor")


@pytest.fixture(scope="module")
def lik():
    return build_likelihood(TERMS)


@pytest.fixture(scope="module")
def plain(tau, lik):
    return Fit(tau, lik, MX, start={"gX": 0.025}).run()


@pytest.fixture(scope="module")
def profiled(tau, lik):
    fit = Fit(tau, lik, MX, start={"gX": 0.025}, theory_nuisances=True)
    return fit, fit.run()


@pytest.fixture(scope="module")
def babar_nuisances(tau):
    """The nuisances of tau-flavor and babar_b_to_k at MX (read-only: built once for this module)."""
    return TheoryNuisances(tau, build_likelihood("babar_b_to_k"), MX)


@pytest.fixture(scope="module")
def fit_with_nuisances():
    """``Fit(model, terms, MX, theory_nuisances=True)`` (not run; chi2, predictions and gradient
    only) for ``model`` "eft" (EFTPlane) or a model name, built once per (model, terms)."""
    built = {}

    def get(model: str, terms: str):
        if (model, terms) not in built:
            m = EFTPlane() if model == "eft" else get_model(model)
            built[model, terms] = Fit(m, build_likelihood(terms), MX, theory_nuisances=True)
        return built[model, terms]

    return get


# --- the parametrisation -------------------------------------------------------------------

def test_inputs_at_reproduces_the_monte_carlo_draws():
    """draw_inputs is inputs_at at seeded standard normals: one code path for both."""
    draws = draw_inputs(get_model("tau-flavor").sm, 4, seed=7)
    rng = np.random.default_rng(7)
    normals = {k: rng.standard_normal(4) for k in normal_keys()}
    for j in range(4):
        one = inputs_at(get_model("tau-flavor").sm, {k: float(v[j]) for k, v in normals.items()})
        for k in sm_input_sigmas():
            assert getattr(one.sm, k) == pytest.approx(getattr(draws.sm, k)[j], rel=1e-15)
        for name, model in draws.form_factor_models.items():
            for f in dataclasses.fields(model):
                mine, theirs = getattr(one.form_factor_models[name], f.name), getattr(model, f.name)
                if f.name == "coefficients":
                    assert np.allclose([c for c in mine], [c[j] for c in theirs], rtol=1e-14, atol=0)
                elif isinstance(theirs, np.ndarray):
                    assert mine == pytest.approx(theirs[j], rel=1e-14)


def test_a_unit_nuisance_is_a_one_sigma_shift_of_its_input(tau, babar_nuisances):
    nuis = babar_nuisances
    nu = np.zeros(len(nuis.names))
    nu[nuis.names.index("m_t")] = 1.0
    shifted = nuis.predict({"gX": 0.03}, nu)
    direct = tau.with_sm(tau.sm.replace(m_t=tau.sm.m_t + sm_input_sigmas()["m_t"])).predict(MX, gX=0.03)
    assert shifted["BR(B+->K+X)"] == direct["BR(B+->K+X)"]
    p = next(q for q in form_factor_parameters() if q.key == ("B->K f+", "coefficients", 1))
    nu[:] = 0.0
    nu[nuis.names.index("B->K f+ coefficients[1]")] = -1.0
    model = form_factors.form_factor_model("B->K f+")
    coeffs = list(model.coefficients)
    coeffs[1] -= p.sigma
    with form_factors.substituted_models({"B->K f+": dataclasses.replace(model, coefficients=tuple(coeffs))}):
        direct = tau.predict(MX, gX=0.03)
    assert nuis.predict({"gX": 0.03}, nu)["BR(B+->K+X)"] == pytest.approx(float(direct["BR(B+->K+X)"]), rel=1e-14)
    assert nuis.input_shifts(nu) == {"B->K f+ coefficients[1]": -1.0}


def test_shared_and_correlated_inputs_move_together(babar_nuisances):
    by_name = {n.name: n for n in input_nuisances()}
    assert "B->K f+ coefficients[0]" not in by_name  # shared with B->K f0 a_0: no nuisance of its own
    assert by_name["B->K f0 coefficients[0]"].moves == ("B->K f0 coefficients[0]", "B->K f+ coefficients[0]")
    assert sum(n.startswith("B->K* FF component") for n in by_name) == 12
    nuis = babar_nuisances
    nu = np.zeros(len(nuis.names))
    nu[nuis.names.index("B->K* FF component 12")] = 1.0
    shifts = nuis.input_shifts(nu)
    # the largest eigen-component moves the 100 %-correlated alpha_0 of A0 and A12 alike
    assert shifts["B->K* A0 coefficients[0]"] == pytest.approx(shifts["B->K* A12 coefficients[0]"], rel=1e-2)
    assert len(shifts) == 12


# --- which nuisances are profiled -----------------------------------------------------------

def test_only_inputs_that_move_the_likelihood_are_profiled(profiled, babar_nuisances):
    fit, _ = profiled
    assert fit.nuisances.names == SM_INPUTS  # g_S, g_P, B(Z -> gamma X): no form factor enters
    assert len(fit.nuisances.inert) == len(input_nuisances()) - len(SM_INPUTS)
    babar = babar_nuisances
    assert "B->K f0 coefficients[0]" in babar.names and "B->K* FF component 12" in babar.names
    # a vector X couples to the conserved current: f0 enters B -> K X only through a_0 = a_0^+
    assert "B->K f0 coefficients[1]" in babar.inert and "B->K f+ coefficients[1]" in babar.names
    # the zero eigenvalue of the BSZ matrix (alpha_0 of A0 and A12 100 % correlated) moves nothing
    assert "B->K* FF component 1" in babar.inert
    assert not any(n.startswith(("B->rho", "K->pi", "D->pi")) for n in babar.names)
    closed = TheoryNuisances(get_model("tau-flavor"), build_likelihood("babar_b_to_k"), 4.7)
    assert not any(n.startswith("B->K*") for n in closed.names)  # B -> K* X is closed at 4.7 GeV


def _one_at_a_time(nuis, likelihood):
    """The classification one prediction at a time (the reference for the batched one):
    (active names, inert names, moves_sm), each nuisance at +1 alone at the probe point, and
    the active ones at the SM point."""
    model, observables = nuis.model, tuple(likelihood.observables)
    point = {p: 0.01 for p in model.parameters}
    base, sm_base = model.predict(nuis.mX, **point), model.predict(nuis.mX, **model.sm_point())
    active, inert, moves_sm = [], [], False
    for n in nuis.catalogue:
        shifted = nuis._predict_keys(point, {n.key: 1.0})
        moves = any(nuis._moves(base[o], shifted[o]) for o in observables)
        (active if moves else inert).append(n.name)
        if moves:
            at_sm = nuis._predict_keys(model.sm_point(), {n.key: 1.0})
            moves_sm = moves_sm or any(nuis._moves(sm_base[o], at_sm[o]) for o in observables)
    return tuple(active), tuple(inert), moves_sm


@pytest.mark.parametrize("model, terms, mX", [
    ("tau-flavor", TERMS, MX), ("tau-flavor", "babar_b_to_k", MX), ("tau-flavor", "babar_b_to_k", 4.7),
    ("tau-flavor", "toy_ratio", MX), ("eft", "babar_b_to_k,l3_z_gamma", 0.5),
])
def test_batched_classification_equals_the_one_at_a_time_one(model, terms, mX):
    m = EFTPlane() if model == "eft" else get_model(model)
    lik = _RatioTerm(m) if terms == "toy_ratio" else build_likelihood(terms)
    nuis = TheoryNuisances(m, lik, mX)
    assert (nuis.names, nuis.inert, nuis.moves_sm) == _one_at_a_time(nuis, lik)
    assert nuis.moves_sm == (terms == "toy_ratio")


def test_kept_predictors_give_the_numbers_of_fresh_ones(tau, babar_nuisances):
    """predict(..., keys=...) reuses the predictor at the same nuisance values (its factors of
    m_X computed once): every number equals a fresh model.with_sm(...).predictor(mX) at those
    inputs, bit for bit, for several g_X at each of several nuisance points."""
    nuis = babar_nuisances
    keys = ("BR(B+->K+X)", "BR(B0->K*0X)", "F_L(B0->K*0X)")
    rng = np.random.default_rng(3)
    for nu in (np.zeros(len(nuis.names)), rng.standard_normal(len(nuis.names)), 0.5 * np.ones(len(nuis.names))):
        normals = dict(zip(nuis.keys, (float(v) for v in nu)))
        inputs = inputs_at(tau.sm, normals)
        for gX in (0.01, 0.03, 0.01):
            kept = nuis.predict({"gX": gX}, nu, keys=keys)
            with form_factors.substituted_models(inputs.form_factor_models):
                fresh = tau.with_sm(inputs.sm).predictor(MX)(keys=keys, gX=gX)
            assert kept.keys() == fresh.keys() and all(np.array_equal(kept[k], fresh[k]) for k in fresh)


def test_the_most_recently_used_predictors_are_kept(babar_nuisances, monkeypatch):
    """The kept predictors are the RECENT_PREDICTORS most recently used (a fit comes back to
    nuisance values many calls later): a predictor used again stays, the least recently used
    one goes, and the number kept is bounded."""
    monkeypatch.setattr(nuisances, "RECENT_PREDICTORS", 3)
    nuis = copy.copy(babar_nuisances)  # the shared one keeps its own predictors
    nuis._recent = {}
    a, b, c, d = ({nuis.keys[0]: v} for v in (0.1, 0.2, 0.3, 0.4))
    kept = nuis._predictor_at(a)[0]
    nuis._predictor_at(b)
    assert nuis._predictor_at(a)[0] is kept  # used again: now the most recent
    nuis._predictor_at(c)
    nuis._predictor_at(d)  # full: b, the least recently used, goes
    assert len(nuis._recent) == 3 and nuis._predictor_at(a)[0] is kept
    assert tuple(b.items()) not in nuis._recent


# --- exact reductions -----------------------------------------------------------------------

@pytest.mark.parametrize("model, terms, points", [
    ("tau-flavor", TERMS, [(0.0,), (0.01,), (0.0251,), (0.3,)]),
    ("eft", "babar_b_to_k,l3_z_gamma", [(0.0, 0.0), (0.016, -0.2), (-0.01, 0.05)]),
])
def test_chi2_at_zero_nuisances_is_the_plain_chi2_exactly(model, terms, points, fit_with_nuisances):
    with_nu = fit_with_nuisances(model, terms)
    m, lik = with_nu.model, with_nu.likelihood
    without = Fit(m, lik, MX)
    zeros = [0.0] * len(with_nu.nuisances.names)
    assert len(zeros) >= 10
    for point in points:
        assert with_nu.chi2(*point, *zeros) == without.chi2(*point)
        pred = with_nu.predictions(*point, *zeros)
        ref = m.predict(MX, **dict(zip(m.parameters, point)))
        assert all(np.array_equal(pred[k], ref[k], equal_nan=True) for k in ref)


def test_zero_scale_gives_the_plain_fit_exactly(tau, lik, plain):
    fit = Fit(tau, lik, MX, start={"gX": 0.025}, theory_nuisances=True, theory_scale=0.0)
    res = fit.run(minos=True)
    ref = Fit(tau, lik, MX, start={"gX": 0.025}).run(minos=True)
    assert fit.nuisances.names == ()
    assert (res.values, res.errors, res.minos) == (ref.values, ref.errors, ref.minos)
    assert (res.chi2_min, res.chi2_sm) == (ref.chi2_min, ref.chi2_sm)
    assert res.theory_nuisances["used"] and res.theory_nuisances["constraint_chi2"] == 0.0
    assert any("no varied theory input moves" in n for n in res.notes)


def test_a_tiny_scale_is_continuous_with_the_plain_fit(tau, lik, plain):
    res = Fit(tau, lik, MX, start={"gX": 0.025}, theory_nuisances=True, theory_scale=1e-3).run()
    assert res.values["gX"] == pytest.approx(plain.values["gX"], rel=1e-4)
    assert res.errors["gX"] == pytest.approx(plain.errors["gX"], rel=1e-3)
    assert res.chi2_min == pytest.approx(plain.chi2_min, abs=1e-5)


# --- physics of the profile -----------------------------------------------------------------

def test_profiling_adds_the_theory_error_in_quadrature(tau):
    """One Gaussian term on g_S, g_P (b_to_s_emiss, nearly linear in g_X): the profiled error
    is sqrt(sigma_data^2 + (g_X r)^2), r the relative theory error of g_S (sum over nuisances
    of its squared derivative)."""
    lik = build_likelihood("b_to_s_emiss")
    ref = Fit(tau, lik, MX, start={"gX": 0.03}).run()
    fit = Fit(tau, lik, MX, start={"gX": 0.03}, theory_nuisances=True)
    res = fit.run()
    k = len(fit.nuisances.names)
    base = float(tau.predict(MX, gX=0.03)["g_S"])
    r2 = 0.0
    for i in range(k):
        nu = np.zeros(k)
        nu[i] = 1e-3
        up, down = (float(fit.nuisances.predict({"gX": 0.03}, s * nu)["g_S"]) for s in (1, -1))
        r2 += ((up - down) / 2e-3 / base) ** 2
    assert 0.02 < np.sqrt(r2) < 0.03  # |V_ts| (A: 1.9 %), m_t (1.3 %), lambda (0.6 %)
    expected = np.hypot(ref.errors["gX"], ref.values["gX"] * np.sqrt(r2))
    assert res.errors["gX"] == pytest.approx(expected, rel=5e-3)
    assert res.values["gX"] == pytest.approx(ref.values["gX"], rel=2e-3)


def test_benchmark_fit_with_nuisances(plain, profiled):
    _, res = profiled
    assert res.chi2_min <= plain.chi2_min  # profiling can only lower chi2
    assert res.chi2_sm == pytest.approx(plain.chi2_sm, abs=1e-6)  # no rate at g_X = 0: nothing to pull
    assert res.values["gX"] == pytest.approx(0.02509, rel=2e-3)
    assert res.significance == pytest.approx(3.325, abs=0.01)
    t = res.theory_nuisances
    assert t["used"] and list(t["nuisances"]) == list(SM_INPUTS)
    assert t["constraint_chi2"] == pytest.approx(sum(v["value"] ** 2 for v in t["nuisances"].values()))
    assert all(0.9 < v["error"] <= 1.0 + 1e-3 and abs(v["value"]) < 0.5 for v in t["nuisances"].values())
    assert plain.to_dict()["theory_nuisances"] == {"used": False}
    assert "theory nuisances (10 profiled" in repr(res)


@pytest.mark.parametrize("model, terms, point", [
    ("tau-flavor", TERMS, [0.025]),
    ("tau-flavor", "babar_b_to_k,l3_z_gamma", [0.02]),
    ("eft", "babar_b_to_k,l3_z_gamma", [0.01, -0.05]),
])
def test_vectorised_gradient_matches_finite_differences_of_chi2(model, terms, point, fit_with_nuisances):
    fit = fit_with_nuisances(model, terms)
    v = np.concatenate([point, np.random.default_rng(1).normal(size=len(fit.nuisances.names)) * 0.5])
    grad = fit.gradient(*v)
    for i in range(v.size):
        e = np.zeros(v.size)
        e[i] = 1e-6 if i >= len(point) else 1e-7
        numeric = (fit.chi2(*(v + e)) - fit.chi2(*(v - e))) / (2 * e[i])
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-5)


def test_upper_limit_at_the_bound_with_form_factor_nuisances(tau):
    """B -> rho form factors (18 % on the rate) loosen the one-sided 95 % CL limit of a fit at
    g_X = 0 slightly; the limit is the profiled Delta chi2 = 2.71 crossing."""
    lik = build_likelihood("belle_b_to_pi_rho")
    plain = Fit(tau, lik, MX, start={"gX": 0.05}).run()
    fit = Fit(tau, lik, MX, start={"gX": 0.05}, theory_nuisances=True)
    res = fit.run()
    assert any(n.startswith("B->rho FF") for n in fit.nuisances.names)
    assert res.at_bound == {"gX": 0.0} == plain.at_bound
    limit, ref = res.upper_limits_95["gX"], plain.upper_limits_95["gX"]
    assert ref < limit < 1.02 * ref
    best = {q: float(fit.minuit.values[q]) for q in fit.parameters}
    assert fit.profile_chi2("gX", limit, best) - res.chi2_min == pytest.approx(2.7055, abs=1e-3)


class _RatioTerm:
    """A toy likelihood with an observable that does not vanish at the SM point (R_K*/K is
    independent of g_X): 10 % above its central prediction +- 2 %, and g_S at g_X = 0.025 +- 30 %."""

    names = ("toy_ratio",)
    observables = ("R_K*/K", "g_S")

    def __init__(self, model):
        central = model.predict(MX, gX=0.025)
        self.r0, self.g0 = float(central["R_K*/K"]), float(central["g_S"])

    def chi2(self, p):
        return (((p["R_K*/K"] - 1.1 * self.r0) / (0.02 * self.r0)) ** 2
                + ((p["g_S"] - self.g0) / (0.3 * self.g0)) ** 2)


def test_sm_chi2_is_profiled_where_the_inputs_move_it(tau):
    toy = _RatioTerm(tau)
    plain = Fit(tau, toy, MX, start={"gX": 0.025}).run()
    fit = Fit(tau, toy, MX, start={"gX": 0.025}, theory_nuisances=True)
    res = fit.run()
    assert fit.nuisances.moves_sm and any(n.startswith("B->K") for n in fit.nuisances.names)
    assert plain.chi2_sm == pytest.approx(25.0 + 1 / 0.09, rel=1e-9)
    assert res.chi2_sm < plain.chi2_sm - 10  # the form factors absorb most of the 10 % of R_K*/K
    sm = {"gX": 0.0, **{n: 0.0 for n in fit.nuisances.names}}
    # an independent minimisation over the nuisances at g_X = 0: MIGRAD with iminuit's own
    # numerical derivatives (the fit under test uses Fit.gradient, the vectorised differences)
    m, ok = mle.migrad(fit.chi2, list(fit.parameters), sm, fit.limits, {"gX": 0.0}, strategy=0)
    assert ok and res.chi2_sm == pytest.approx(m.fval, abs=1e-4)
    assert res.chi2_min < plain.chi2_min and res.chi2_min > 0


def test_bad_options_are_refused(tau, lik):
    with pytest.raises(InputError, match="theory_scale.*>= 0"):
        Fit(tau, lik, MX, theory_nuisances=True, theory_scale=-1.0)
    with pytest.raises(InputError, match="theory_nuisances must be True or False.*'yes'"):
        Fit(tau, lik, MX, theory_nuisances="yes")


# --- scans -----------------------------------------------------------------------------------

def test_scan_profiles_the_nuisances_and_records_them(tau, lik, profiled, tmp_path):
    _, res = profiled
    axis = {"gX": np.array([0.02, 0.025, 0.03])}
    scan = profile_scan(tau, lik, axis, mX=MX, executor="serial", progress=False, theory_nuisances=True,
                        store=tmp_path / "s.jsonl")
    ref = profile_scan(tau, lik, axis, mX=MX, executor="serial", progress=False)
    assert scan.metadata["theory_nuisances"] is True and ref.metadata["theory_nuisances"] is False
    assert list(scan.nuisances) == list(SM_INPUTS) and not ref.nuisances
    assert np.all(scan.chi2 <= ref.chi2 + 1e-9)
    assert np.all(scan.chi2 >= res.chi2_min - 1e-6)  # the profile never goes below the global minimum
    # at g_X = 0.025 (next to the best fit) the profiled nuisances are the fit's
    for n, v in res.theory_nuisances["nuisances"].items():
        assert scan.nuisances[n][1] == pytest.approx(v["value"], abs=0.01)
    assert scan.summary()["theory_nuisances"]["used"] is True
    # the scan profiles with the vectorised gradient and strategy 0: same chi2 as a plain MIGRAD
    fit = Fit(tau, lik, MX, theory_nuisances=True)
    for g, c in zip(axis["gX"], scan.chi2):
        m, ok = mle.migrad(fit.chi2, list(fit.parameters), {**fit.start, "gX": g}, fit.limits, {"gX": g})
        assert ok and c == pytest.approx(m.fval, abs=1e-5)
    back = ScanResult.load(scan.save(tmp_path, "s")[0])
    assert all(np.array_equal(back.nuisances[n], scan.nuisances[n]) for n in scan.nuisances)
    # the stored chunks belong to the scan with nuisances: the plain scan may not reuse them
    with pytest.raises(InputError):
        profile_scan(tau, lik, axis, mX=MX, executor="serial", progress=False, store=tmp_path / "s.jsonl")


# --- command line ----------------------------------------------------------------------------

def test_cli_fit_json_says_whether_nuisances_were_used(capsys):
    argv = ["fit", "--model", "tau-flavor", "--mX", "2.1", "--terms", TERMS, "--json"]
    assert main([*argv, "--theory-nuisances"]) == 0
    with_nu = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    without = json.loads(capsys.readouterr().out)
    assert with_nu["theory_nuisances"]["used"] is True and without["theory_nuisances"] == {"used": False}
    assert with_nu["theory_nuisances"]["source"] == "data/theory_uncertainties.yaml"
    assert set(with_nu["theory_nuisances"]["nuisances"]) == set(SM_INPUTS)


def test_cli_scan_writes_the_flag_into_the_analysis(tmp_path, capsys):
    saved = tmp_path / "a.yaml"
    assert main(["scan", "--model", "tau-flavor", "--terms", TERMS, "--mX", "2.1", "--axis", "gX=0.02:0.03:2",
                 "--theory-nuisances", "--executor", "serial", "--no-progress", "--out", str(tmp_path / "o"),
                 "--save-analysis", str(saved), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["scan"]["theory_nuisances"]["used"] is True
    assert summary["metadata"]["theory_nuisances"] is True
    assert "theory_nuisances: true" in saved.read_text()


def test_gradient_in_an_interval_narrower_than_its_step_is_finite(fit_with_nuisances):
    """g_X limited to (0, 1e-9), narrower than its step 1e-8: the difference over the interval
    (it was 0/0, a NaN gradient handed to MIGRAD)."""
    fit = copy.copy(fit_with_nuisances("tau-flavor", TERMS))
    fit.limits = {**fit.limits, "gX": (0.0, 1e-9)}
    v = np.concatenate([[5e-10], np.zeros(len(fit.nuisances.names))])
    grad = fit.gradient(*v)
    assert np.isfinite(grad).all()
    ends = [v.copy(), v.copy()]
    ends[0][0], ends[1][0] = 1e-9, 0.0
    assert grad[0] == pytest.approx((fit.chi2(*ends[0]) - fit.chi2(*ends[1])) / 1e-9, rel=1e-9)
