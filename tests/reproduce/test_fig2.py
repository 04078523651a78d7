"""The main job: Fig. 2 of arXiv:2603.04394 (fits at m_X = 2.1 GeV, plots, summary.json).

Targets of the papers and what xfit gets (docs/fig2.md explains the differences):
tau-flavour g_X ~ 0.018 and 4.3 sigma (paper); L=-4R g_X = 0.0042 (chiral paper).
"""
import json

import numpy as np
import pytest

from xfit.inference import Fit
from xfit.likelihood import build_likelihood, get_term
from xfit.models import get_model
from xfit.reproduce import fig2


@pytest.fixture(scope="module")
def results():
    """The paper's conventions: Eq. (3.6) as printed."""
    return fig2.fit_models(loop_normalisation="paper")


@pytest.fixture(scope="module")
def derived():
    """xfit's default: the W-loop coupling derived from Eq. (3.4), half of Eq. (3.6)."""
    return fig2.fit_models(loop_normalisation="derived")


def test_b_to_s_term_minimum_is_the_measured_g_S():
    lik = build_likelihood(["b_to_s_emiss"])
    r = Fit(get_model("tau-flavor", loop_normalisation="paper"), lik, 2.1, start={"gX": 0.016}).run()
    # without the g_P limit the minimum would sit exactly at |g_S| = 1.6e-8; g_P pulls it down slightly
    assert r.predictions["g_S"] == pytest.approx(1.6e-8, rel=0.02)
    # SM point: ((0 - 2.56e-16)/(2.56e-16 - 1.96e-16))^2 = 18.20 with the interval reading (default)
    assert r.chi2_sm == pytest.approx((2.56 / 0.60) ** 2, rel=1e-12)
    lin = Fit(get_model("tau-flavor", loop_normalisation="paper"), get_term("b_to_s_emiss", errors="linear"), 2.1,
              start={"gX": 0.016}).run()
    assert lin.chi2_sm == pytest.approx(16.0, rel=1e-12)  # linear propagation: (2.56/0.64)^2
    assert lin.significance == pytest.approx(np.sqrt(16.0 - lin.chi2_min), rel=1e-9)


def test_tau_flavor_best_fit(results):
    r = results["tau-flavor"]
    # paper: g_X ~ 0.018 and 4.3 sigma.  xfit's MS-bar g^4 at m_Z gives a g_X 10-13 % lower
    # (docs/physics.md: alpha = 1/137 in g^4 gives the paper's 0.018); the significance is
    # within 0.2 sigma (docs/fig2.md).  xfit's own values are pinned more tightly below.
    assert r.values["gX"] == pytest.approx(0.018, rel=0.15)
    assert r.significance == pytest.approx(4.3, abs=0.2)
    assert r.values["gX"] == pytest.approx(0.0157, rel=0.02) and r.significance == pytest.approx(4.15, abs=0.03)
    assert r.errors["gX"] > 0
    # B(Z -> gamma X) at the best fit is a few 1e-7, close to the L3 limit (paper: 5.6e-7 at 0.018)
    assert 2e-7 < r.predictions["BR(Z->gammaX)"] < 6e-7


def test_derived_normalisation_moves_the_tau_point(derived, results):
    """With g_xi derived from Eq. (3.4) (half of Eq. 3.6) b -> s needs twice the coupling, where
    Z -> gamma X pulls against it: the tau-flavour fit degrades (docs/fig2.md)."""
    r = derived["tau-flavor"]
    assert r.values["gX"] == pytest.approx(0.025088, rel=1e-4)
    assert r.significance == pytest.approx(3.3188, abs=1e-3)
    assert r.chi2_min == pytest.approx(7.1897, abs=1e-3)
    assert r.predictions["BR(Z->gammaX)"] == pytest.approx(1.2504e-6, rel=1e-3)
    # b -> s alone: exactly twice the paper-convention coupling (rates scale with the loop factor squared)
    bs = build_likelihood(["b_to_s_emiss"])
    g_derived = Fit(get_model("tau-flavor"), bs, 2.1, start={"gX": 0.032}).run().values["gX"]
    g_paper = Fit(get_model("tau-flavor", loop_normalisation="paper"), bs, 2.1, start={"gX": 0.016}).run().values["gX"]
    assert g_derived == pytest.approx(2 * g_paper, rel=1e-5)
    # models whose Z -> gamma X coupling is small keep their significance; only g_X doubles
    assert derived["L-only"].values["gX"] == pytest.approx(2 * results["L-only"].values["gX"], rel=0.03)
    assert derived["L=-4R"].values["gX"] == pytest.approx(2 * results["L=-4R"].values["gX"], rel=0.02)


#: Delta chi2 of each model's best fit from the global minimum of the (g_X A_WW, g_X A_YY)
#: plane (measured; docs/fig2.md).  2 dof: 1 sigma at 2.30, 2 sigma at 6.18.
DELTA_CHI2_PLANE = {"paper": {"tau-flavor": 0.6705, "L-only": 0.0578, "L=-4R": 0.0219},
                    "derived": {"tau-flavor": 6.8658, "L-only": 0.8836, "L=-4R": 0.3457}}


def test_plane_minimum_from_both_b_to_s_solutions(derived, results):
    """Delta chi2 of each model's best fit from the minimum of the (g_X A_WW, g_X A_YY) plane."""
    from xfit.models import EFTPlane

    lik = build_likelihood(fig2.TERMS_FULL)
    for conv, res in (("paper", results), ("derived", derived)):
        plane = fig2.plane_minimum(loop_normalisation=conv)
        # the same minimum as fits started by hand at +-s, s = 0.016 / loop factor
        s = 0.016 / {"paper": 1.0, "derived": 0.5}[conv]
        by_hand = min((Fit(EFTPlane(loop_normalisation=conv), lik, 2.1, start={"gX_AWW": sx, "gX_AYY": 0.0}).run()
                       for sx in (s, -s)), key=lambda r: r.chi2_min)
        assert plane.chi2_min == pytest.approx(by_hand.chi2_min, abs=1e-9)
        assert plane.chi2_min == pytest.approx(0.3238, abs=2e-3)  # as good in both normalisations
        summ = fig2.summary(res, plane)
        for name, expected in DELTA_CHI2_PLANE[conv].items():
            assert summ[name]["delta_chi2_plane"] == pytest.approx(expected, abs=2e-3)
            assert summ[name]["delta_chi2_plane"] == pytest.approx(res[name].chi2_min - plane.chi2_min, abs=1e-12)


def test_l_minus_4r_best_fit_matches_chiral_paper(results):
    """Chiral paper Eq. (57)-(58): best fit g_X = 0.0042; |A_WW| = 4 so g_X = g_X(L-only)/4."""
    r4, r1 = results["L=-4R"], results["L-only"]
    assert r4.values["gX"] == pytest.approx(0.0042, rel=0.08)   # chiral paper Eq. (58)
    assert r4.values["gX"] * 4 == pytest.approx(r1.values["gX"], rel=0.05)


def test_grid_is_one_vectorised_call_and_finite():
    lik = build_likelihood(fig2.TERMS_FULL)
    x, y, X, Y = fig2.plane_grid(50)
    chi2 = fig2.plane_chi2(lik, X, Y)
    assert chi2.shape == (50, 50) and np.all(np.isfinite(chi2))
    # the chi2 depends on |g_X A_WW| through g_S: symmetric under (x, y) -> (-x, -y)
    assert np.allclose(chi2, chi2[::-1, ::-1])


def test_reproduce_writes_files_and_summary(tmp_path):
    s = fig2.reproduce(tmp_path, n_grid=60)
    assert s["loop_normalisation"] == "derived" and s["goldstone"] is False
    for stem in ("fig2_left", "fig2_right"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 1000
    d = json.loads((tmp_path / "summary.json").read_text())
    for name in ("tau-flavor", "L-only", "L=-4R"):
        row = d["models"][name]
        assert set(row) >= {"gX", "gX_err", "chi2_min", "significance_sigma", "BR(Z->gammaX)", "BR(B+->K*+X)",
                            "delta_chi2_plane"}
        assert all(np.isfinite(v) for v in row.values())
        assert row["delta_chi2_plane"] == pytest.approx(DELTA_CHI2_PLANE["derived"][name], abs=2e-3)
    assert d["plane_minimum"]["chi2_min"] == pytest.approx(0.3238, abs=2e-3)


@pytest.fixture(scope="module")
def paper_goldstone():
    """The paper's conventions in full: Eq. (3.6) as printed and Eqs. (3.9)/(3.10)."""
    return fig2.fit_models(loop_normalisation="paper", goldstone=True)


def test_paper_conventions_with_goldstone_reproduce_the_previous_numbers(paper_goldstone, results):
    """--goldstone --loop-normalisation paper gives xfit's pre-exact-rates numbers.  The fit itself
    does not depend on the meson-rate formulas (b_to_s_emiss constrains g_S, g_P of Eq. 3.25):
    only B(B+ -> K*+ X) at the best fit moves, by the exact/Goldstone ratio 1.533 at 2.1 GeV."""
    r = paper_goldstone["tau-flavor"]
    assert r.values["gX"] == pytest.approx(0.0157, rel=0.02) and r.significance == pytest.approx(4.15, abs=0.03)
    assert r.predictions["BR(B+->K*+X)"] == pytest.approx(1.284e-5, rel=1e-3)  # README table before
    assert r.predictions["F_L(B+->K*+X)"] == 1.0
    for name, exact in results.items():
        assert exact.values["gX"] == pytest.approx(paper_goldstone[name].values["gX"], rel=1e-9)
        assert exact.chi2_min == pytest.approx(paper_goldstone[name].chi2_min, rel=1e-9)
        ratio = exact.predictions["BR(B+->K*+X)"] / paper_goldstone[name].predictions["BR(B+->K*+X)"]
        assert ratio == pytest.approx(1.5332, abs=2e-4)
        assert exact.predictions["F_L(B+->K*+X)"] == pytest.approx(0.6461, abs=2e-4)


def test_reproduce_cli_passes_goldstone_through(monkeypatch, capsys, tmp_path):
    from xfit.cli import main

    seen = {}

    def fake(out, **kw):
        seen.clear()
        seen.update(kw)
        return {"models": {}, "files": []}

    monkeypatch.setattr(fig2, "reproduce", fake)
    assert main(["reproduce", "fig2", "--goldstone", "--loop-normalisation", "paper", "--out", str(tmp_path)]) == 0
    assert seen == {"loop_normalisation": "paper", "goldstone": True}
    assert "Goldstone limit" in capsys.readouterr().out
    assert main(["reproduce", "fig2", "--out", str(tmp_path)]) == 0
    assert seen == {"loop_normalisation": "derived"}
    # figures whose function does not take it refuse --goldstone instead of ignoring it
    assert main(["reproduce", "fig3", "--goldstone", "--out", str(tmp_path)]) != 0
    assert "--goldstone is available for fig2 only" in capsys.readouterr().err


def test_flat_likelihood_is_refused_not_nan():
    """A baryonic X has B(X -> invisible) = 0: missing-energy terms do not depend on g_X."""
    from xfit.errors import ConvergenceError
    with pytest.raises(ConvergenceError, match="does not depend on the parameters"):
        Fit(get_model("baryon"), build_likelihood(fig2.TERMS_FULL), 2.1).run()
