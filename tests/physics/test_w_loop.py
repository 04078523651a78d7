"""The W-loop coupling g_xi (Eqs. 3.4-3.8 of arXiv:2603.04394), checked against its derivation.

docs/physics.md, "The W-loop coupling", derives the one-loop W exchange from the operator of
Eq. (3.4) and finds half of Eq. (3.6) as printed.  These tests check that derivation
numerically, independently of the closed form F(x) of Eq. (3.8):

* the Euclidean radial integral and the Feynman-parameter integral of the loop, evaluated
  by quadrature, reproduce F(x) (step 4 of the derivation);
* the divergent, mass-independent part cancels in the CKM-weighted sum (unitarity);
* the coupling assembled from the derivation's factors equals ``fcnc_coupling`` with
  ``loop_normalisation="derived"``, and ``"paper"`` is exactly Eq. (3.6) as printed;
* the ALP-EFT matching of Bauer et al. (arXiv:2012.12272), mapped onto Eq. (3.4), gives the
  same coupling as the derivation (the top term, which dominates);
* Z -> gamma X does not depend on the normalisation; every meson rate scales with its square.
"""
import math

import numpy as np
import pytest
from scipy import integrate

from xfit.errors import InputError
from xfit.models import get_model
from xfit.physics.ckm import DOWN_QUARKS, UP_QUARKS, ckm_matrix
from xfit.physics.constants import DEFAULT_SM, LOOP_NORMALISATIONS
from xfit.physics.loops import ckm_loop_sum, fcnc_coupling, loop_function

PAPER = DEFAULT_SM.replace(loop_normalisation="paper")
DERIVED = DEFAULT_SM.replace(loop_normalisation="derived")
X_VALUES = (1e-4, 0.01, 0.3, 0.999, 1.0, 1.001, 2.5, (162.5 / 80.3692) ** 2)


def radial_difference(x: float) -> float:
    """K(x) - K(0), K(x) = int_0^inf dL L^2 / ((L + x)(L + 1)^2)  (masses in units of m_W).

    Each K diverges logarithmically; the difference is finite.  The derivation gives -F(x).
    """
    # in t = ln L the integrand -x L^2 / ((L + x)(L + 1)^2) is smooth: one peak near L ~ x, ~ 1
    f = lambda t: -x * math.exp(2 * t) / ((math.exp(t) + x) * (math.exp(t) + 1.0) ** 2)  # noqa: E731
    t_x = math.log(x)
    pieces = sorted({-80.0, t_x - 10, t_x + 10, -10.0, 10.0, 60.0} | ({t_x} if -80 < t_x < 60 else set()))
    return sum(integrate.quad(f, a, b, epsabs=1e-300, epsrel=1e-12, limit=200)[0]
               for a, b in zip(pieces[:-1], pieces[1:]) if b > a)


def feynman_parameter_difference(x: float) -> float:
    """I(x) - I(0), I(x) = int_0^1 dy y ln(y + (1 - y) x): the mass-dependent part of the
    dimensionally regularised loop after combining 1/(A B^2) with one Feynman parameter y."""
    f = lambda y: y * (math.log(y + (1.0 - y) * x) - math.log(y))  # noqa: E731
    val, _ = integrate.quad(f, 0.0, 1.0, epsabs=0, epsrel=1e-13, limit=200)
    return val


@pytest.mark.parametrize("x", X_VALUES)
def test_radial_loop_integral_is_minus_F(x):
    assert radial_difference(x) == pytest.approx(-loop_function(x), rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("x", X_VALUES)
def test_feynman_parameter_integral_is_half_F(x):
    assert feynman_parameter_difference(x) == pytest.approx(0.5 * loop_function(x), rel=1e-9, abs=1e-14)


def test_divergence_cancels_by_ckm_unitarity():
    """With a cut-off Lambda^2 on the radial integral each flavour grows as ln Lambda; the
    CKM-weighted sum does not (sum_a V_ab V*_as = 0)."""
    V = ckm_matrix(DEFAULT_SM)
    i, j = DOWN_QUARKS.index("b"), DOWN_QUARKS.index("s")
    lam = np.array([V[a, i] * np.conj(V[a, j]) for a in range(3)])
    assert abs(lam.sum()) < 1e-15
    xs = [getattr(DEFAULT_SM, f"m_{q}") ** 2 / DEFAULT_SM.m_W**2 for q in UP_QUARKS]

    def cut(x, cutoff):
        return integrate.quad(lambda L: L**2 / ((L + x) * (L + 1.0) ** 2), 0.0, cutoff, limit=400,
                              epsabs=0, epsrel=1e-12)[0]

    # each term grows as ln(cut-off): raising the cut-off by 100 adds ln 100 to the top term
    assert cut(xs[2], 1e8) - cut(xs[2], 1e6) == pytest.approx(math.log(100.0), rel=1e-4)
    total = [abs(sum(lam[a] * cut(xs[a], c) for a in range(3))) for c in (1e4, 1e6)]
    assert total[0] == pytest.approx(total[1], rel=1e-3)  # the sum is cut-off independent


def derived_coupling(transition_down: tuple[str, str], gX_A_WW: float, sm=DEFAULT_SM) -> complex:
    """g_xi assembled from the steps of the derivation (docs/physics.md), with the loop integral
    done by quadrature instead of the closed form:

        L = C xi eps d W+ d W-,  C = 2 g_X g^2 A_XWW / (16 pi^2 m_X)          (step 1)
        G = (g^2 / 2) C (6 / 4) (1 / 16 pi^2) sum_a lambda_a [K(x_a) - K(0)]   (steps 2-5)
        g_xi = m_X G   (up to an overall sign fixed by the epsilon/gamma5 conventions)
    """
    qi, qj = transition_down
    V = ckm_matrix(sm)
    i, j = DOWN_QUARKS.index(qi), DOWN_QUARKS.index(qj)
    g = sm.g
    C_times_mX = 2.0 * gX_A_WW * g**2 / (16 * math.pi**2)
    loop = sum(V[a, i] * np.conj(V[a, j]) * radial_difference(getattr(sm, f"m_{q}") ** 2 / sm.m_W**2)
               for a, q in enumerate(UP_QUARKS))
    return (g**2 / 2.0) * C_times_mX * (6.0 / 4.0) / (16 * math.pi**2) * loop


@pytest.mark.parametrize("transition", [("b", "s"), ("b", "d"), ("s", "d")])
def test_derived_normalisation_is_the_loop_computed_from_eq_3_4(transition):
    name = "->".join(transition)
    derived = derived_coupling(transition, -1.0)
    code = fcnc_coupling(name, -1.0, DERIVED)
    # the overall sign depends on the epsilon^{0123} and gamma5 conventions and cancels in every rate
    assert abs(code) == pytest.approx(abs(derived), rel=1e-8)
    assert code == pytest.approx(derived, rel=1e-8) or code == pytest.approx(-derived, rel=1e-8)
    assert abs(fcnc_coupling(name, -1.0, PAPER)) == pytest.approx(2 * abs(derived), rel=1e-8)


def test_paper_normalisation_is_eq_3_6_as_printed():
    g = DEFAULT_SM.g
    printed = -3 * g**4 / (4 * math.pi) ** 4 * 0.7 * ckm_loop_sum("b->s", DEFAULT_SM)
    assert fcnc_coupling("b->s", 0.7, PAPER) == pytest.approx(printed, rel=1e-14)
    assert fcnc_coupling("b->s", 0.7) == pytest.approx(0.5 * printed, rel=1e-14)  # the default is derived
    assert LOOP_NORMALISATIONS == {"derived": 0.5, "paper": 1.0}


def test_pinned_g_xi_sb_at_one_point():
    """|g_xi(b -> s)| at g_X A_XWW = 1 with the PDG 2024 inputs of xfit (regression pins)."""
    assert abs(fcnc_coupling("b->s", 1.0, DERIVED)) == pytest.approx(5.09499e-7, rel=1e-5)
    assert abs(fcnc_coupling("b->s", 1.0, PAPER)) == pytest.approx(1.018998e-6, rel=1e-5)


def test_alp_eft_matching_of_bauer_et_al_gives_the_derived_coupling():
    """Bauer, Neubert, Renner, Schnubel, Thamm (arXiv:2012.12272) match
    c_WW (alpha_2/4 pi)(a/f) W Wtilde onto (d_mu a/f) k_D dbar_L gamma^mu d_L with the W-loop term

        k_D[ij] = -(y_t^2 / 16 pi^2) (3 alpha / (2 pi s_W^2)) c_WW V*_ti V_tj (1 - x + x ln x)/(1 - x)^2.

    Eq. (3.4) is that operator with c_WW / f = g_X A_XWW / (2 m_X) (since eps dW dW = W Wtilde / 2),
    so g_xi = m_X k_D / f.  With y_t^2 = g^2 x_t / 2 and alpha / s_W^2 = g^2 / 4 pi this is the top
    term of the derived coupling."""
    sm = DEFAULT_SM
    x_t = sm.m_t**2 / sm.m_W**2
    y_t2 = sm.g**2 * x_t / 2.0
    alpha_over_s2 = sm.g**2 / (4 * math.pi)
    V = ckm_matrix(sm)
    b, s, t = DOWN_QUARKS.index("b"), DOWN_QUARKS.index("s"), UP_QUARKS.index("t")
    gX_A = 1.0
    c_over_f_times_mX = gX_A / 2.0
    k = -(y_t2 / (16 * math.pi**2)) * (3 * alpha_over_s2 / (2 * math.pi)) * c_over_f_times_mX \
        * np.conj(V[t, s]) * V[t, b] * (1 - x_t + x_t * math.log(x_t)) / (1 - x_t) ** 2
    top_only = -0.5 * 3 * sm.g**4 / (4 * math.pi) ** 4 * gX_A * V[t, b] * np.conj(V[t, s]) * loop_function(x_t)
    assert abs(k) == pytest.approx(abs(top_only), rel=1e-12)
    # the top term is the coupling to 0.1 %: the charm term is suppressed by x_c
    assert abs(top_only) == pytest.approx(abs(fcnc_coupling("b->s", gX_A, DERIVED)), rel=2e-3)


def test_rates_scale_with_the_square_and_z_decay_does_not_move():
    paper = get_model("tau-flavor", loop_normalisation="paper").predict(2.1, gX=0.02)
    derived = get_model("tau-flavor").predict(2.1, gX=0.02)
    for key in ("BR(B+->K+X)", "BR(B+->K*+X)", "BR(K+->pi+X)", "BR(B+->pi+X)", "BR(D+->pi+X)"):
        assert derived[key] == pytest.approx(0.25 * paper[key], rel=1e-12), key
    assert derived["g_S"] == pytest.approx(0.5 * paper["g_S"], rel=1e-12)
    assert derived["BR(Z->gammaX)"] == pytest.approx(paper["BR(Z->gammaX)"], rel=1e-14)


def test_unknown_normalisation_is_a_clear_error():
    with pytest.raises(InputError, match="loop-normalisation.*derived, paper.*'twice'"):
        get_model("tau-flavor", loop_normalisation="twice")


def test_command_line_choice(capsys):
    import json

    from xfit.cli import main

    out = {}
    for conv in ("derived", "paper"):
        assert main(["predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.02", "--json",
                     "--loop-normalisation", conv]) == 0
        out[conv] = json.loads(capsys.readouterr().out)
        assert out[conv]["inputs"]["loop_normalisation"] == conv
    ratio = out["derived"]["predictions"]["BR(B+->K+X)"] / out["paper"]["predictions"]["BR(B+->K+X)"]
    assert ratio == pytest.approx(0.25, rel=1e-12)
    with pytest.raises(SystemExit) as exc:
        main(["predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.02", "--loop-normalisation", "half"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--loop-normalisation" in err and "'derived', 'paper'" in err and len(err.strip().splitlines()) <= 3
