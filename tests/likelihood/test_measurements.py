"""Faithful likelihood types: each term reaches its published CL at its published limit;
the counting (Poisson) terms and their inputs."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from xfit.datafiles import LimitCurve, load_data_file
from xfit.errors import DataError
from xfit.likelihood import chi2_threshold_one_sided, get_term, measurement_files
from xfit.likelihood.counting import chi2_of_log_p, log_cls, signal_at_limit

#: Terms built from data alone (code terms have no single published limit).
DATA_TERMS = sorted(n for n, f in measurement_files().items() if not load_data_file(f).get("implementation"))
OPTIONS = {"cleo_d_to_pi": {"allow_unverified": True}}


def cl_reached(chi2) -> np.ndarray:
    """The one-sided confidence level whose Delta chi2 threshold is ``chi2``."""
    return stats.norm.cdf(np.sqrt(chi2))


def published_points(d) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(prediction key, masses, published limits) of each limit entry of a data file."""
    out = []
    for e in d["limits"]:
        if "curve" in e:
            c = LimitCurve.from_entry(e)
            m = c.mass_GeV[:: max(1, c.mass_GeV.size // 15)]
            out.append((e["observable"], m, c(m)))
        else:
            m = np.array([e.get("at_mass_GeV", 0.5 * sum(d["mass_range_GeV"]) if "endpoint" not in e else 0.1)])
            out.append((e["observable"], m, np.full(1, e["upper_limit"])))
    return out


@pytest.mark.parametrize("name", DATA_TERMS)
def test_each_term_reaches_its_published_cl_at_its_published_limit(name):
    d = load_data_file(measurement_files()[name])
    term = get_term(name, **OPTIONS.get(name, {}))
    for key, m, ul in published_points(d):
        p = {"mX": m, "BR(X->invisible)": np.ones_like(m)}
        p.update({k: np.zeros_like(m) for k in term.observables if k != "BR(X->invisible)"})
        p[key] = ul
        np.testing.assert_allclose(cl_reached(term.chi2(p)), d["confidence_level"], rtol=0, atol=1e-9)
        # and below the limit the term allows the rate at that CL
        p[key] = 0.9 * ul
        assert np.all(cl_reached(term.chi2(p)) < d["confidence_level"])


@pytest.mark.parametrize("name", DATA_TERMS)
def test_every_term_states_its_type_and_approximations(name):
    d = load_data_file(measurement_files()[name])
    assert d["likelihood"] in ("half-gaussian", "poisson")
    assert get_term(name, **OPTIONS.get(name, {})).likelihood == d["likelihood"]
    if d["likelihood"] == "half-gaussian":
        assert "approximation" in d["notes"].lower() or d.get("projection"), \
            f"{name}: a half-Gaussian file must say it is an approximation and why"


def test_counting_limit_for_no_events_is_the_classical_one():
    assert signal_at_limit(0.90, 0, 0.252, 0.082) == pytest.approx(-np.log(0.10), rel=1e-12)
    # CLs with 0 events does not depend on the background
    s = np.array([0.5, 2.0, 5.0])
    np.testing.assert_allclose(log_cls(s, 0, 0.252, 0.08), -s)
    # chi2: 0 below ln 2 events, the one-sided Gaussian equivalent above
    chi2 = chi2_of_log_p(log_cls(np.array([0.5, np.log(10), 2 * np.log(10)]), 0, 0.0))
    np.testing.assert_allclose(chi2, [0.0, chi2_threshold_one_sided(0.90), stats.norm.ppf(0.99) ** 2], atol=1e-9)


def test_counting_with_events_marginalises_the_background():
    # 3 events over 1.22 +- 0.26 (KOTO 2016-18 numbers, arXiv:2012.07571): CLs at s_UL is 0.10
    s_ul = signal_at_limit(0.90, 3, 1.22, 0.26)
    assert float(np.exp(log_cls(s_ul, 3, 1.22, 0.26))) == pytest.approx(0.10, rel=1e-9)
    # a larger background uncertainty weakens the limit only a little here; no uncertainty is exact Poisson
    exact = signal_at_limit(0.90, 3, 1.22, 0.0)
    cdf = stats.poisson.cdf(3, exact + 1.22) / stats.poisson.cdf(3, 1.22)
    assert cdf == pytest.approx(0.10, rel=1e-9)
    assert abs(s_ul - exact) < 0.2
    # far in the tail the chi2 stays finite and grows
    far = chi2_of_log_p(log_cls(np.array([50.0, 500.0]), 3, 1.22, 0.26))
    assert np.all(np.isfinite(far)) and far[1] > far[0] > 50


def test_koto_2021_is_the_default_and_2015_selectable():
    new, old = get_term("koto_kl_pi0"), get_term("koto_kl_pi0_2015")
    assert new.likelihood == old.likelihood == "poisson"
    assert new.citation.arxiv == "2411.11237" and old.citation.arxiv == "1810.09655"
    assert str(new.citation).count("2411.11237") == 1  # the arXiv id stands in for the unverified key
    assert new.n_observed == old.n_observed == 0
    assert new.background == pytest.approx(0.252)
    # published points: 1.6e-9 (2021) and 2.4e-9 (2015) at 135 MeV
    assert float(new.upper_limit(0.135)) == pytest.approx(1.6e-9, rel=1e-12)
    assert float(old.upper_limit(0.135)) == pytest.approx(2.4e-9, rel=0.02)
    # the 2021 shape is the 2015 one, scaled at 135 MeV
    m = np.array([0.01, 0.1, 0.2, 0.25])
    np.testing.assert_allclose(new.upper_limit(m) / old.upper_limit(m), 1.6e-9 / float(old.upper_limit(0.135)),
                               rtol=1e-12)
    # single-event sensitivity at 135 MeV: 1.6e-9 / 2.303 = 6.9e-10 (K_L -> pi0 nu nubar: 9.33e-10)
    assert float(new.ses(0.135)) == pytest.approx(6.95e-10, rel=1e-3)


def test_koto_counting_tail_is_weaker_than_a_gaussian_one():
    term = get_term("koto_kl_pi0")
    ul = float(term.upper_limit(0.135))
    p = {"mX": np.full(3, 0.135), "BR(X->invisible)": np.ones(3), "BR(KL->pi0X)": np.array([0.25, 1.0, 2.0]) * ul}
    chi2 = term.chi2(p)
    half_gaussian = chi2_threshold_one_sided(0.90) * np.array([0.25, 1.0, 2.0]) ** 2
    assert chi2[0] == 0.0 and chi2[1] == pytest.approx(half_gaussian[1], rel=1e-9)
    assert chi2[2] == pytest.approx(stats.norm.ppf(0.99) ** 2, rel=1e-9) and chi2[2] < half_gaussian[2]


def test_poisson_file_without_counts_is_a_data_error(tmp_path):
    from xfit.likelihood.measurements import build_measurement

    d = load_data_file("limits/koto_kl_pi0_2015.yaml")
    d = dict(d, counts={"observed": 0})
    with pytest.raises(DataError, match="counts"):
        build_measurement(d, "x.yaml")


def test_shifted_gaussian_reproduces_observed_and_expected_limits():
    """An excess (observed > expected) and a deficit (observed < expected) at two masses."""
    from xfit.likelihood.measurements import build_measurement

    d = load_data_file("limits/na62_k_pi_2025.yaml")
    d = dict(d, likelihood="shifted-gaussian", options={},
             limits=[{"observable": "BR(K+->pi+X)",
                      "curve": {"mass_GeV": np.array([0.05, 0.2]), "upper_limit": np.array([3e-11, 1e-11]),
                                "segment": np.array([1, 1])}}],
             expected={"curve": {"mass_GeV": [0.05, 0.2], "upper_limit": [2e-11, 2e-11]}})
    term = build_measurement(d, "x.yaml")
    assert term.likelihood == "shifted-gaussian"
    thr = chi2_threshold_one_sided(0.90)
    for m, obs, exp in ((0.05, 3e-11, 2e-11), (0.2, 1e-11, 2e-11)):
        x = np.linspace(0, 2 * obs, 2001)
        p = {"mX": np.full(x.shape, m), "BR(K+->pi+X)": x, "BR(X->invisible)": np.ones_like(x)}
        chi2 = term.chi2(p)
        dchi2 = chi2 - chi2.min()
        # observed limit: Delta chi2 from the minimum over rates >= 0 reaches the threshold there
        at = term.chi2({"mX": m, "BR(K+->pi+X)": obs, "BR(X->invisible)": 1.0}) - chi2.min()
        assert at == pytest.approx(thr, rel=1e-6)
        assert np.all(dchi2[x < obs * 0.999] < thr)
        # expected limit: with the mean at 0 (no signal) the same width gives exp
        sigma = exp / stats.norm.ppf(0.90)
        assert (exp / sigma) ** 2 == pytest.approx(thr, rel=1e-12)
    # the excess has its minimum inside, the deficit at rate 0
    x = np.linspace(0, 6e-11, 601)
    c = term.chi2({"mX": np.full(x.shape, 0.05), "BR(K+->pi+X)": x, "BR(X->invisible)": np.ones_like(x)})
    assert 0 < x[np.argmin(c)] < 3e-11
