"""Registered searches scaled to F x their exposure (xfit project counting --term T --exposure-factor F)."""
import json

import numpy as np
import pytest
from scipy import stats

from xfit.cli import main
from xfit.errors import InputError
from xfit.likelihood import get_term
from xfit.likelihood.counting import signal_at_limit
from xfit.projections import exposure_projection


def test_poisson_term_at_its_own_exposure_gives_back_the_published_limit():
    out = exposure_projection("koto_kl_pi0", 1.0, [0.135])
    row = out["limits"][0]
    # 0.252 background events: the median background-only count is 0, as observed
    assert row["expected_limit"] == pytest.approx(1.6e-9, rel=1e-9)
    assert row["published_limit"] == pytest.approx(1.6e-9, rel=1e-9)


def test_poisson_term_at_ten_times_the_exposure_follows_the_counts():
    term = get_term("koto_kl_pi0")
    out = exposure_projection("koto_kl_pi0", 10.0, [0.135])
    row = out["limits"][0]
    b = 10 * term.background
    n_med = int(stats.poisson.ppf(0.5, b))
    assert n_med == 2  # 2.52 background events
    ses10 = float(term.ses(np.array([0.135]))[0]) / 10
    expected = signal_at_limit(0.9, n_med, b, 10 * term.background_sigma) * ses10
    assert row["expected_limit"] == pytest.approx(expected, rel=1e-12)
    # more background than signal-free: the gain is less than the factor 10
    assert 1.6e-10 < row["expected_limit"] < 1.6e-9 / 3
    assert row["expected_band"]["-1"] <= row["expected_limit"] <= row["expected_band"]["+1"]


@pytest.mark.parametrize("regime, power", [("background-limited", 0.5), ("background-free", 1.0)])
def test_limit_without_counts_scales_as_the_chosen_regime(regime, power):
    out = exposure_projection("na62_k_pi", 4.0, [0.1, 0.2], regime=regime)
    for row in out["limits"]:
        assert row["expected_limit"] == pytest.approx(row["published_limit"] / 4.0 ** power, rel=1e-12)


def test_masses_outside_the_search_have_no_limit():
    row = exposure_projection("koto_kl_pi0", 2.0, [0.5])["limits"][0]
    assert row["expected_limit"] is None and row["published_limit"] is None


@pytest.mark.parametrize("kwargs, flag", [
    ({"term_name": "nope", "factor": 2}, "--term"),
    ({"term_name": "belle2_knunu", "factor": 2}, "--term"),
    ({"term_name": "fcc_ee_z_gamma", "factor": 2, "regime": "background-free"}, "--term"),
    ({"term_name": "koto_kl_pi0", "factor": 0}, "--exposure-factor"),
    ({"term_name": "koto_kl_pi0", "factor": 2, "regime": "background-free"}, "--regime"),
    ({"term_name": "na62_k_pi", "factor": 2}, "--regime"),
    ({"term_name": "na62_k_pi", "factor": 2, "regime": "sqrt"}, "--regime"),
])
def test_bad_requests_name_the_flag(kwargs, flag):
    with pytest.raises(InputError, match=flag):
        exposure_projection(**kwargs)


def test_cli_json(capsys):
    assert main(["project", "counting", "--term", "koto_kl_pi0", "--exposure-factor", "10", "--mX", "0.135",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["term"] == "koto_kl_pi0" and out["exposure_factor"] == 10.0
    assert out["limits"][0]["expected_limit"] < out["limits"][0]["published_limit"]


def test_cli_term_needs_the_factor(capsys):
    assert main(["project", "counting", "--term", "koto_kl_pi0"]) == 2
    err = capsys.readouterr().err
    assert "--exposure-factor" in err and len(err.strip().splitlines()) <= 3


def test_negative_masses_are_refused():
    with pytest.raises(InputError, match="--mX must be finite masses >= 0"):
        exposure_projection("koto_kl_pi0", 2.0, [-1.0])


@pytest.mark.parametrize("masses", ["abc", [], [None]])
def test_empty_or_non_numeric_masses_are_refused(masses):
    with pytest.raises(InputError, match="--mX must be finite masses >= 0"):
        exposure_projection("koto_kl_pi0", 2.0, masses)


def test_a_factor_too_large_for_the_poisson_quantiles_names_the_flag():
    with pytest.raises(InputError, match="--exposure-factor 1e\\+300 gives .* background events in koto_kl_pi0"):
        exposure_projection("koto_kl_pi0", 1e300, [0.135])


def test_band_quantiles_are_the_normal_cdf_at_minus_one_zero_plus_one_sigma():
    from xfit.projections import BAND_QUANTILES

    assert BAND_QUANTILES == pytest.approx({"-1": stats.norm.cdf(-1.0), "0": 0.5, "+1": stats.norm.cdf(1.0)},
                                           rel=1e-14, abs=0.0)


def test_poisson_projection_agrees_with_an_independent_integral():
    """F = 10: the median expected CLs limit from a direct integral over the truncated Gaussian
    background (scipy quad, not xfit's Gauss-Hermite nodes): P(N <= 2 | s + b) averaged over b."""
    from scipy import integrate, optimize

    term = get_term("koto_kl_pi0")
    b, sb = 10 * term.background, 10 * term.background_sigma

    def p_at_most_2(s):
        f = lambda x: stats.poisson.cdf(2, s + x) * stats.norm.pdf(x, b, sb)  # noqa: E731
        return integrate.quad(f, 0.0, b + 12 * sb, epsabs=1e-14)[0]

    s_ul = optimize.brentq(lambda s: p_at_most_2(s) / p_at_most_2(0.0) - 0.1, 0.0, 50.0, xtol=1e-12)
    assert s_ul == pytest.approx(3.862, abs=1e-3)  # signal events at the 90% CL limit for n = 2
    ses10 = float(term.ses(np.array([0.135]))[0]) / 10
    row = exposure_projection("koto_kl_pi0", 10.0, [0.135])["limits"][0]
    assert row["expected_limit"] == pytest.approx(s_ul * ses10, rel=1e-3)  # 2.4e-4 apart (40 nodes)
