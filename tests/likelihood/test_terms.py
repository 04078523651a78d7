"""The measurement likelihood terms (one data file each, data/limits/*.yaml): the half-Gaussian
limit convention, masses, vectorisation, options and spot checks of the numbers they use."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from xfit.datafiles import LimitCurve
from xfit.errors import DataError, InputError
from xfit.likelihood import CombinedLikelihood, chi2_threshold_one_sided, get_term

SINGLE = ["l3_z_gamma", "fcc_ee_z_gamma", "na62_k_pi", "e949_k_pi", "cleo_d_to_pi"]
MULTI = ["belle_b_to_pi_rho", "babar_b_to_k"]
#: counting terms (tests/likelihood/test_measurements.py tests their statistics)
COUNTING = ["koto_kl_pi0", "koto_kl_pi0_2015"]
ALL = SINGLE + MULTI + COUNTING
OPTIONS = {"cleo_d_to_pi": {"allow_unverified": True}}


def build(name, **options):
    return get_term(name, **{**OPTIONS.get(name, {}), **options})


def threshold(term):
    return float(stats.norm.ppf(term.cl) ** 2)


def sample_masses(term):
    """Masses inside the term's range where it has a limit: knots, midpoints, edges."""
    ul = term._upper_limit
    if isinstance(ul, LimitCurve):
        knots = ul.mass_GeV[:: max(1, ul.mass_GeV.size // 12)]
        mids = 0.5 * (ul.mass_GeV[:-1] + ul.mass_GeV[1:])[:: max(1, ul.mass_GeV.size // 12)]
        m = np.concatenate([knots, mids, [ul.mass_GeV[-1]]])
        return m[np.isfinite(ul(m))]
    lo, hi = term.mass_range
    return np.array([lo, 0.5 * (lo + hi), hi, 1e-3 * hi])


def preds(term, m, rate, br_inv=1.0):
    key = term.observables[0]
    m = np.asarray(m, dtype=float)
    return {"mX": m, key: np.broadcast_to(rate, m.shape), "BR(X->invisible)": np.broadcast_to(br_inv, m.shape)}


# --- the limit convention -----------------------------------------------------------------

@pytest.mark.parametrize("name", SINGLE)
def test_chi2_at_the_published_limit_is_the_cl_threshold(name):
    term = build(name)
    m = sample_masses(term)
    assert m.size >= 3
    chi2 = term.chi2(preds(term, m, term.upper_limit(m)))
    np.testing.assert_allclose(chi2, threshold(term), rtol=0, atol=1e-9)
    assert threshold(term) == pytest.approx(chi2_threshold_one_sided(term.cl), abs=1e-12)
    # the 90 % / 95 % CL values of the convention
    assert threshold(term) == pytest.approx({0.90: 1.6424, 0.95: 2.7055}[term.cl], abs=1e-4)


@pytest.mark.parametrize("name", SINGLE)
def test_invisible_branching_fraction_scales_the_rate(name):
    term = build(name)
    m = sample_masses(term)
    chi2 = term.chi2(preds(term, m, term.upper_limit(m), br_inv=0.5))
    np.testing.assert_allclose(chi2, 0.25 * threshold(term), rtol=0, atol=1e-9)
    # rate at the limit only after B(X -> invisible): production = UL / B_inv
    chi2 = term.chi2(preds(term, m, term.upper_limit(m) / 0.2, br_inv=0.2))
    np.testing.assert_allclose(chi2, threshold(term), rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ALL)
def test_zero_rate_gives_zero(name):
    term = build(name)
    lo, hi = term.mass_range
    m = np.linspace(lo, hi, 7)
    p = {"mX": m, "BR(X->invisible)": np.ones_like(m)}
    p.update({k: np.zeros_like(m) for k in term.observables if k != "BR(X->invisible)"})
    np.testing.assert_array_equal(term.chi2(p), 0.0)
    p["BR(X->invisible)"] = np.zeros_like(m)
    p.update({k: np.ones_like(m) for k in term.observables if k != "BR(X->invisible)"})
    np.testing.assert_array_equal(term.chi2(p), 0.0)  # nothing invisible: no missing energy


@pytest.mark.parametrize("name", ALL)
def test_outside_the_mass_range_gives_zero(name):
    term = build(name)
    lo, hi = term.mass_range
    m = np.array([hi * 1.001 + 1e-6, hi + 1.0, 50.0])
    p = {"mX": m, "BR(X->invisible)": np.ones_like(m)}
    p.update({k: np.full_like(m, 0.1) for k in term.observables if k != "BR(X->invisible)"})
    np.testing.assert_array_equal(term.chi2(p), 0.0)
    assert term.chi2({k: v[0] for k, v in p.items()}) == 0.0


@pytest.mark.parametrize("name", ALL)
def test_vectorised_input_matches_scalar_calls(name):
    term = build(name)
    lo, hi = term.mass_range
    rng = np.random.default_rng(1)
    m = rng.uniform(lo, hi * 1.2, size=(3, 4))
    p = {"mX": m, "BR(X->invisible)": rng.uniform(0.3, 1.0, size=(3, 4))}
    p.update({k: rng.uniform(0, 1e-4, size=(3, 4)) for k in term.observables if k != "BR(X->invisible)"})
    chi2 = term.chi2(p)
    assert chi2.shape == (3, 4) and np.all(chi2 >= 0)
    loop = np.array([[term.chi2({k: v[i, j] for k, v in p.items()}) for j in range(4)] for i in range(3)])
    np.testing.assert_allclose(chi2, loop, rtol=1e-12, atol=0)
    assert isinstance(term.chi2({k: v[0, 0] for k, v in p.items()}), float)
    # one-dimensional arrays (a mass scan) give the same numbers
    flat = term.chi2({k: v.ravel() for k, v in p.items()})
    np.testing.assert_allclose(flat, chi2.ravel(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ALL)
def test_missing_prediction_is_an_input_error(name):
    term = build(name)
    with pytest.raises(InputError, match="needs prediction"):
        term.chi2({"mX": 0.1, "BR(X->invisible)": 1.0})


@pytest.mark.parametrize("name", ALL)
def test_term_metadata(name):
    term = build(name)
    assert term.name == name
    assert term.citation.bibtex_key and (term.citation.arxiv or term.citation.journal)
    assert term.description
    assert "BR(X->invisible)" in term.observables
    assert term.projection is (name == "fcc_ee_z_gamma")
    assert name in term.bibliography()


def test_registered_and_buildable_by_name():
    from xfit.likelihood import available_terms, get_term

    names = available_terms()
    for name in ALL:
        assert name in names
        assert get_term(name, **OPTIONS.get(name, {})).name == name


def test_terms_add_up():
    total = build("l3_z_gamma") + build("na62_k_pi") + build("belle_b_to_pi_rho")
    assert isinstance(total, CombinedLikelihood)
    m = np.array([0.1, 2.0])
    p = {k: np.zeros(2) for k in total.observables}
    p.update({"mX": m, "BR(X->invisible)": np.ones(2), "BR(Z->gammaX)": np.array([1e-6, 1e-6])})
    np.testing.assert_allclose(total.chi2(p), stats.norm.ppf(0.95) ** 2, atol=1e-9)


# --- multi-channel terms ------------------------------------------------------------------

@pytest.mark.parametrize("name", MULTI)
def test_each_channel_reaches_its_cl_and_channels_add(name):
    term = build(name)
    thr = threshold(term)
    uls = term.upper_limits()
    assert len(uls) == 4
    m = np.array([0.0, 0.5, 2.0, 4.0])  # below every endpoint
    zero = {k: np.zeros_like(m) for k in uls}
    for key, ul in uls.items():
        p = {"mX": m, "BR(X->invisible)": np.ones_like(m), **zero, key: np.full_like(m, ul)}
        np.testing.assert_allclose(term.chi2(p), thr, rtol=0, atol=1e-9)
        by = term.chi2_by_channel(p)
        assert set(by) == set(uls)
        np.testing.assert_allclose(by[key], thr, atol=1e-9)
    p = {"mX": m, "BR(X->invisible)": np.ones_like(m), **{k: np.full_like(m, v) for k, v in uls.items()}}
    np.testing.assert_allclose(term.chi2(p), 4 * thr, rtol=0, atol=1e-8)


def test_belle_channels_stop_at_their_endpoints():
    from xfit.physics.constants import MESONS

    term = build("belle_b_to_pi_rho")
    thr = threshold(term)
    uls = term.upper_limits()
    m = np.array([4.6])  # above m_B - m_rho = 4.504, below m_B - m_pi = 5.14
    assert MESONS["B+"].mass - MESONS["rho+"].mass < 4.6 < MESONS["B+"].mass - MESONS["pi+"].mass
    p = {"mX": m, "BR(X->invisible)": np.ones(1), **{k: np.full(1, v) for k, v in uls.items()}}
    np.testing.assert_allclose(term.chi2(p), 2 * thr, atol=1e-9)  # only the two pi channels
    assert term.mass_range[1] == pytest.approx(MESONS["B0"].mass - MESONS["pi0"].mass)


def test_belle_uses_belles_b0_pi0_value_not_the_typo():
    uls = build("belle_b_to_pi_rho").upper_limits()
    assert uls == pytest.approx(
        {"BR(B+->rho+X)": 3.0e-5, "BR(B+->pi+X)": 1.4e-5, "BR(B0->rho0X)": 4.0e-5, "BR(B0->pi0X)": 9.0e-6},
        rel=1e-15,
    )
    # the 9.0e-4 printed in Eq. (3.20) would allow 100 times more: at 1e-5 Belle excludes it
    term = build("belle_b_to_pi_rho")
    p = {"mX": 1.0, "BR(X->invisible)": 1.0, "BR(B+->rho+X)": 0.0, "BR(B+->pi+X)": 0.0,
         "BR(B0->rho0X)": 0.0, "BR(B0->pi0X)": 1.0e-5}
    assert term.chi2(p) > threshold(term)


def test_babar_values_and_recast_option():
    term = build("babar_b_to_k")
    assert term.upper_limits() == pytest.approx(
        {"BR(B+->K+X)": 3.7e-5, "BR(B0->K0X)": 8.1e-5, "BR(B+->K*+X)": 1.16e-4, "BR(B0->K*0X)": 9.3e-5},
        rel=1e-15,
    )
    with pytest.raises(InputError, match="recast=True"):
        build("babar_b_to_k", recast=True)


# --- spot checks and options of single terms ----------------------------------------------

def test_l3_and_fcc_values():
    l3 = build("l3_z_gamma")
    assert l3.cl == 0.95 and float(l3.upper_limit(1.0)) == 1.0e-6
    assert l3.mass_range == (0.0, 10.0)
    assert build("l3_z_gamma", mass_range=(0.0, 3.0)).mass_range == (0.0, 3.0)
    with pytest.raises(InputError, match="mass_range"):
        build("l3_z_gamma", mass_range=(2.0, 1.0))
    fcc = build("fcc_ee_z_gamma")
    assert fcc.projection is True and float(fcc.upper_limit(0.5)) == 2.0e-11
    assert float(build("fcc_ee_z_gamma", estimate="naive").upper_limit(0.5)) == 2.5e-11
    with pytest.raises(InputError, match="estimate"):
        build("fcc_ee_z_gamma", estimate="optimistic")


def test_na62_values_and_pi0_window_option():
    term = build("na62_k_pi")
    assert float(term.upper_limit(0.1349768)) == pytest.approx(4.4e-9 * 0.2067, rel=0.03)
    assert float(term.upper_limit(0.0)) == pytest.approx(2.9114423360464383e-11, rel=1e-12)
    no_window = build("na62_k_pi", include_pi0_window=False)
    p = {"mX": 0.135, "BR(K+->pi+X)": 1e-6, "BR(X->invisible)": 1.0}
    assert term.chi2(p) > 1e3 and no_window.chi2(p) == 0.0
    assert no_window.chi2(dict(p, mX=0.05)) == term.chi2(dict(p, mX=0.05))


def test_koto_values_and_data_sets():
    term = build("koto_kl_pi0")  # 2021 data
    assert float(term.upper_limit(0.135)) == pytest.approx(1.6e-9, rel=1e-12)
    assert term.mass_range[1] == pytest.approx(0.2601366742596811)
    assert float(build("koto_kl_pi0_2015").upper_limit(0.135)) == pytest.approx(2.4e-9, rel=0.02)
    with pytest.raises(InputError, match="dataset"):
        build("koto_kl_pi0", dataset="2015")  # the 2015 data are their own term now


def test_e949_gap_has_no_limit():
    term = build("e949_k_pi")
    p = {"mX": np.array([0.13, 0.05]), "BR(K+->pi+X)": np.full(2, 1e-6), "BR(X->invisible)": np.ones(2)}
    chi2 = term.chi2(p)
    assert chi2[0] == 0.0 and chi2[1] > 0.0


def test_cleo_refuses_unverified_value_by_default():
    with pytest.raises(DataError, match="not verified"):
        get_term("cleo_d_to_pi")
    term = build("cleo_d_to_pi")
    assert term.verified is False and "UNVERIFIED" in term.description
    assert term.mass_range == (0.0, 0.1) and term.cl == 0.90


@pytest.mark.parametrize("name", ALL)
def test_terms_pickle_for_worker_processes(name):
    import pickle

    term = build(name)
    copy = pickle.loads(pickle.dumps(term))
    m = sample_masses(term) if name in SINGLE else np.array([0.1, 1.0, 3.0])
    p = {k: np.full(m.shape, 1e-6) for k in term.observables}
    p["mX"] = m
    np.testing.assert_array_equal(copy.chi2(p), term.chi2(p))
