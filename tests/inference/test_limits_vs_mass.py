"""Upper limits on g_X versus m_X (xfit.inference.limits) and the Fig. 3 / Fig. 1 reproduction."""
import json
import math

import numpy as np
import pytest
from scipy import stats

from xfit.errors import InputError
from xfit.inference.limits import (
    coupling_limit,
    direct_search_bound,
    limits_by_search,
    naturalness_bound,
)
from xfit.likelihood import (
    Citation,
    CombinedLikelihood,
    GaussianTerm,
    UpperLimitTerm,
    chi2_threshold_one_sided,
    get_term,
    missing_energy_rate,
)
from xfit.models import EFTPlane, get_model
from xfit.physics.constants import DEFAULT_SM

TAU = get_model("tau-flavor")
THR90 = chi2_threshold_one_sided(0.90)


def single(name, **options):
    return CombinedLikelihood([get_term(name, **options)])


def rate_at_limit(term, model, curve, **fixed):
    ok = np.isfinite(curve.limit)
    params = {**{k: np.full(ok.sum(), v) for k, v in fixed.items()}, curve.parameter: curve.limit[ok]}
    pred = model.predict(curve.mX[ok], **params)
    return term.quantity(pred), term.upper_limit(curve.mX[ok]), ok


@pytest.mark.parametrize("name", ["koto_kl_pi0", "koto_kl_pi0_2015"])
def test_counting_term_reproduces_published_limit(name):
    """A counting term (0 events) also gives back the published 90% UL at g_X,90."""
    term = get_term(name)
    assert term.likelihood == "poisson" and term.cl == pytest.approx(0.90)
    masses = np.geomspace(1e-3, 0.3, 60)
    curve = coupling_limit(TAU, single(name), masses, progress=False)
    x, ul, ok = rate_at_limit(term, TAU, curve)
    assert ok.sum() > 30
    np.testing.assert_allclose(x / ul, 1.0, rtol=1e-5, atol=0)


@pytest.mark.parametrize("name", ["na62_k_pi", "e949_k_pi"])
def test_pure_limit_reproduces_published_limit(name):
    """At g_X,90 the predicted B(production) x B(X -> inv) equals the published 90% UL."""
    term = get_term(name)
    assert isinstance(term, UpperLimitTerm) and term.cl == pytest.approx(0.90)
    masses = np.geomspace(1e-3, 0.3, 120)
    curve = coupling_limit(TAU, single(name), masses, progress=False)
    x, ul, ok = rate_at_limit(term, TAU, curve)
    assert ok.sum() > 50
    np.testing.assert_allclose(x / ul, 1.0, rtol=1e-6, atol=0)
    assert set(np.array(curve.method)[ok]) == {"closed-form"}
    assert curve.threshold == pytest.approx(1.6424, abs=1e-4)


def test_l3_95cl_limit_converted_to_90cl():
    term = get_term("l3_z_gamma")
    masses = np.geomspace(1e-2, 10, 30)
    curve = coupling_limit(TAU, single("l3_z_gamma"), masses, progress=False)
    x, ul, ok = rate_at_limit(term, TAU, curve)
    assert ok.all()
    ratio = stats.norm.ppf(0.90) / stats.norm.ppf(term.cl)
    np.testing.assert_allclose(x / ul, ratio, rtol=1e-6)
    # at its own confidence level the term gives back its published limit exactly
    own = coupling_limit(TAU, single("l3_z_gamma"), masses, cl=term.cl, progress=False)
    x95, ul95, _ = rate_at_limit(term, TAU, own)
    np.testing.assert_allclose(x95 / ul95, 1.0, rtol=1e-6)


def test_sum_of_limits_reaches_threshold():
    lik = single("belle_b_to_pi_rho")
    masses = np.geomspace(1e-2, 5.0, 40)
    curve = coupling_limit(TAU, lik, masses, progress=False)
    ok = np.isfinite(curve.limit)
    chi2 = lik.chi2(TAU.predict(masses[ok], gX=curve.limit[ok]))
    np.testing.assert_allclose(chi2, THR90, rtol=1e-9)


def test_root_finder_agrees_with_closed_form():
    """An offset term makes chi2 non-homogeneous: the root finder must give the same limit."""
    masses = np.geomspace(1e-3, 0.25, 25)
    closed = coupling_limit(TAU, single("na62_k_pi"), masses, progress=False)
    offset = GaussianTerm("offset", Citation("test"), ("mX",), lambda p: np.zeros_like(p["mX"]), 1.0, 1.0)
    root = coupling_limit(TAU, CombinedLikelihood([get_term("na62_k_pi"), offset]), masses, progress=False)
    ok = np.isfinite(closed.limit)
    assert set(np.array(root.method)[ok]) == {"root"}
    np.testing.assert_allclose(root.limit[ok], closed.limit[ok], rtol=1e-9)


def test_signal_preference_uses_minimum_over_g():
    """A measured rate (Gaussian, mean > 0): Delta chi2 from the minimum at g_hat > 0."""
    key = "BR(Z->gammaX)"
    meas = GaussianTerm("z_signal", Citation("test"), (key, "BR(X->invisible)"),
                        lambda p: missing_energy_rate(p, key), 4e-7, 1e-7)
    lik = CombinedLikelihood([meas])
    masses = np.array([0.5, 1.0, 2.0])
    curve = coupling_limit(TAU, lik, masses, progress=False)
    br1 = TAU.predict(masses, gX=1.0)[key]
    g_hat = np.sqrt(4e-7 / br1)
    g_up = np.sqrt((4e-7 + math.sqrt(THR90) * 1e-7) / br1)  # exact for a Gaussian in the rate
    np.testing.assert_allclose(curve.best_fit, g_hat, rtol=1e-3)  # a flat minimum: located to ~1e-4 in log10 g
    np.testing.assert_allclose(curve.limit, g_up, rtol=1e-8)
    np.testing.assert_allclose(curve.delta_chi2_zero, 16.0, rtol=1e-6)
    assert curve.method == ["root"] * 3


def test_combined_is_at_most_every_individual_limit():
    names = ["l3_z_gamma", "na62_k_pi", "koto_kl_pi0", "belle_b_to_pi_rho", "e949_k_pi"]
    masses = np.geomspace(1e-3, 10, 80)
    res = limits_by_search(TAU, {n: single(n) for n in names}, masses, progress=False)
    comb = res["combined"].limit
    assert np.isfinite(comb).all()
    for n in names:
        ok = np.isfinite(res[n].limit)
        assert np.all(comb[ok] <= res[n].limit[ok] * (1 + 1e-12)), n
    # where only one search applies, the combination is that search
    only_l3 = masses > 5.0
    np.testing.assert_allclose(comb[only_l3], res["l3_z_gamma"].limit[only_l3], rtol=1e-9)


def test_no_sensitivity_gives_null():
    masses = np.array([0.05, 0.2, 0.3, 1.0, 3.0])
    curve = coupling_limit(TAU, single("na62_k_pi"), masses, progress=False)
    assert np.isfinite(curve.limit[:2]).all() and np.isnan(curve.limit[2:]).all()
    assert curve.method[2:] == ["none"] * 3
    assert curve.to_json()["gX_90"][2:] == [None, None, None]
    assert curve.to_json()["mX"] == masses.tolist()
    # a weak search: limits above g_max = 4 pi count as no sensitivity
    cleo = coupling_limit(TAU, single("cleo_d_to_pi", allow_unverified=True), np.array([1e-3, 0.05]),
                          progress=False)
    assert cleo.limit[0] < 4 * math.pi and np.isnan(cleo.limit[1])


def test_closed_channel_gives_no_limit():
    """A constant limit on B(K+ -> pi+ X) at every mass: no limit above m_K - m_pi."""
    key = "BR(K+->pi+X)"
    term = UpperLimitTerm("flat_kpi", Citation("test"), (key, "BR(X->invisible)"),
                          lambda p: missing_energy_rate(p, key), 1e-10, 0.90)
    endpoint = DEFAULT_SM.meson("K+").mass - DEFAULT_SM.meson("pi+").mass
    masses = np.array([0.1, 0.3, endpoint - 1e-3, endpoint + 1e-3, 0.4, 2.0])
    curve = coupling_limit(TAU, CombinedLikelihood([term]), masses, progress=False)
    assert np.isfinite(curve.limit[:3]).all()
    assert np.isnan(curve.limit[3:]).all()


def test_limits_are_vectorised_over_masses():
    class Counting(CombinedLikelihood):
        calls = 0

        def chi2(self, predictions):
            Counting.calls += 1
            return super().chi2(predictions)

    for n in (10, 200):
        Counting.calls = 0
        coupling_limit(TAU, Counting([get_term("na62_k_pi")]), np.geomspace(1e-3, 0.25, n),
                       chunk_size=1000, progress=False)
        assert Counting.calls <= 3  # probe + closed form + verification, whatever n is


def test_fig1_parameter_is_gx_times_aww():
    masses = np.linspace(0.01, 0.25, 20)
    eft = coupling_limit(EFTPlane(br_invisible=1.0), single("na62_k_pi"), masses, parameter="gX_AWW",
                         fixed={"gX_AYY": 0.0}, progress=False)
    tau = coupling_limit(TAU, single("na62_k_pi"), masses, progress=False)
    ok = np.isfinite(tau.limit)
    # tau model: |A_WW| = 1 and B(X -> inv) = 1 below 2 m_tau, so g_X A_WW limit = g_X limit
    np.testing.assert_allclose(eft.limit[ok], tau.limit[ok] * abs(TAU.A_WW), rtol=1e-9)
    with pytest.raises(InputError, match="fix the other parameter"):
        coupling_limit(EFTPlane(), single("na62_k_pi"), masses, parameter="gX_AWW", progress=False)


def test_resumable_and_executor_independent(tmp_path):
    lik = single("koto_kl_pi0")
    masses = np.geomspace(1e-3, 0.3, 40)
    ref = coupling_limit(TAU, lik, masses, chunk_size=10, progress=False)

    class Stop(Exception):
        pass

    def die(i, r):
        raise Stop

    store = tmp_path / "lim.jsonl"
    with pytest.raises(Stop):
        coupling_limit(TAU, lik, masses, chunk_size=10, store=store, callback=die, progress=False)
    assert len(store.read_text().splitlines()) == 2
    resumed = coupling_limit(TAU, lik, masses, chunk_size=10, store=store, progress=False)
    np.testing.assert_array_equal(resumed.limit, ref.limit)
    # slow_seconds=0 sends the chunks to the (process) executor: same numbers
    procs = coupling_limit(TAU, lik, masses, chunk_size=10, slow_seconds=0.0, executor="process", progress=False)
    np.testing.assert_array_equal(procs.limit, ref.limit)


def test_a_term_declaring_itself_slow_is_not_timed(monkeypatch):
    """``slow = True`` on a term (the Belle II profile likelihood's) skips the timing probe and
    runs one mass at a time, with the same limits; an undeclared fast term is still timed."""
    import xfit.inference.limits as limits_module

    masses = np.geomspace(0.3, 4.0, 4)
    fast = coupling_limit(TAU, single("l3_z_gamma"), masses, progress=False)
    assert fast.metadata["executor"] == limits_module.FAST_EXECUTOR
    term = get_term("l3_z_gamma")
    term.slow = True

    def no_probe(*args, **kwargs):
        raise AssertionError("a term declaring itself slow was timed")

    monkeypatch.setattr(limits_module, "seconds_per_point", no_probe)
    declared = coupling_limit(TAU, CombinedLikelihood([term]), masses, executor="serial", progress=False)
    assert declared.metadata["executor"] != limits_module.FAST_EXECUTOR
    np.testing.assert_array_equal(declared.limit, fast.limit)
    assert get_term("belle2_knunu").slow


def test_direct_search_and_naturalness_bands():
    assert float(direct_search_bound(1.0, 1.0)) == pytest.approx(1.0 / 100.0)
    assert float(direct_search_bound(2.0, math.sqrt(4 * math.pi))) == pytest.approx(2 * math.sqrt(4 * math.pi) / 100)
    assert float(naturalness_bound(1.0, 100.0)) == pytest.approx(math.sqrt(4 * math.pi) / 1e4)
    from xfit.physics.couplings import anomalon_mass

    g = direct_search_bound(0.5, 1.0)
    assert float(anomalon_mass(1.0, 0.5, g)) == pytest.approx(100.0)


def test_fig3_reproduce_summary(small_fig3):
    from xfit.reproduce import fig3

    # fig3.reproduce(tmp_path, n_masses=n, executor="serial", progress=False) through the CLI, once per session
    tmp_path, summ, n = small_fig3.out, small_fig3.summary, small_fig3.n_masses
    data = json.loads((tmp_path / "summary.json").read_text())
    detail = json.loads((tmp_path / "limits.json").read_text())
    limits = data["limits"]
    expected = {k for k in fig3.SEARCHES if k not in data["missing_searches"]} | {"combined"}
    assert set(limits) == expected
    for c in limits.values():
        assert set(c) == {"mX", "gX_90"} and len(c["mX"]) == len(c["gX_90"]) == n
        assert all(v is None or v > 0 for v in c["gX_90"])
    # where no search prefers a signal, the combination is at least as strong as each search
    searches = [k for k in limits if k != "combined"]
    for i, comb in enumerate(limits["combined"]["gX_90"]):
        pref = [detail[k]["delta_chi2_zero"][i] for k in searches]
        if comb is None or any(p is not None and p > 1e-9 for p in pref):
            continue
        for k in searches:
            b = limits[k]["gX_90"][i]
            assert b is None or comb <= b * (1 + 1e-12), (k, i)
    assert limits["na62_k_pi"]["gX_90"][-1] is None  # 10 GeV: no K -> pi X
    assert "fcc_ee_z_gamma" in data["projections"]
    for stem in ("fig3", "fig1"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 0
    assert set(data["fig1"]["limits"]) == {"na62_k_pi", "koto_kl_pi0"}
    # the full Belle II likelihood must be part of Fig. 3 (its data: XFIT_DATA_DIR, as in CI)
    assert "belle2_knunu" in limits, data["missing_searches"].get("belle2_knunu")
    assert "belle2_knunu" not in data["missing_searches"]
    assert any("allow_unverified" in n for n in data["notes"])
    assert str(tmp_path / "summary.json") in summ["files"]


def test_belle2_full_likelihood_limit_from_minimum():
    """The full Belle II likelihood prefers a signal near 2.1 GeV: the limit is where
    chi2 - chi2_min = 1.642 with chi2_min the minimum over g_X >= 0 (needs the Belle II
    data, XFIT_DATA_DIR, as for the other Belle II tests)."""
    lik = single("belle2_knunu")
    masses = np.array([1.0, 2.1])
    curve = coupling_limit(TAU, lik, masses, executor="serial", progress=False)
    assert curve.method == ["root", "root"]
    assert curve.best_fit[1] > 0 and curve.delta_chi2_zero[1] > 9.0  # > 3 sigma preference at 2.1 GeV
    fresh = single("belle2_knunu")
    chi2_lim = fresh.chi2(TAU.predict(masses, gX=curve.limit))
    chi2_min = fresh.chi2(TAU.predict(masses, gX=curve.best_fit))
    np.testing.assert_allclose(chi2_lim - chi2_min, THR90, atol=2e-4)
    assert np.all(curve.limit > curve.best_fit)


@pytest.mark.parametrize("chunk_size", ["abc", float("nan"), 2.5, 0, True])
def test_coupling_limit_refuses_a_bad_chunk_size(chunk_size):
    """Text or NaN gave a ValueError traceback, 2.5 was silently truncated to 2."""
    from xfit.likelihood import build_likelihood

    with pytest.raises(InputError, match="chunk_size") as info:
        coupling_limit(TAU, build_likelihood("b_to_s_emiss"), [1.0, 2.0], chunk_size=chunk_size, progress=False)
    assert len(str(info.value).splitlines()) <= 3


def test_chunk_size_accepts_whole_numbers():
    from xfit.inference.executors import chunk_indices

    assert chunk_indices(5, 2.0) == chunk_indices(5, np.int64(2)) == [(0, 2), (2, 4), (4, 5)]


@pytest.mark.parametrize("kw, key", [({"masses": ["a"]}, "masses"), ({"masses": [1.0, float("nan")]}, "masses"),
                                     ({"masses": []}, "masses"), ({"guesses": [1e-3]}, "guesses"),
                                     ({"guesses": ["x", None]}, "guesses"), ({"known": [[]]}, "known")])
def test_coupling_limit_names_bad_masses_and_per_mass_hints(kw, key):
    """Text masses gave a ValueError traceback, text guesses a TypeError; a guesses or known
    list of the wrong length was silently cut."""
    from xfit.likelihood import build_likelihood

    args = {"masses": [1.0, 2.0], **kw}
    with pytest.raises(InputError, match=key) as info:
        coupling_limit(TAU, build_likelihood("b_to_s_emiss"), args.pop("masses"), progress=False, **args)
    assert len(str(info.value).splitlines()) <= 3


@pytest.mark.parametrize("kw, key", [({"guesses": 5}, "guesses"), ({"known": 5}, "known"),
                                     ({"guesses": "ab"}, "guesses"), ({"slow": "no"}, "slow")])
def test_coupling_limit_names_per_mass_hints_that_are_not_lists_and_a_bad_slow(kw, key):
    """guesses=5 or known=5 gave a TypeError traceback (no len); slow="no" ran as slow."""
    from xfit.likelihood import build_likelihood

    with pytest.raises(InputError, match=key) as info:
        coupling_limit(TAU, build_likelihood("b_to_s_emiss"), [1.0, 2.0], progress=False, **kw)
    assert len(str(info.value).splitlines()) <= 3
