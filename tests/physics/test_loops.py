"""Loop function F(x) (Eq. 3.8), CKM matrix, and the b->s coupling normalisation."""
import numpy as np
import pytest

from xfit.physics.ckm import ckm_matrix
from xfit.physics.constants import DEFAULT_SM, M_TOP_POLE
from xfit.physics.couplings import scalar_pseudoscalar_couplings
from xfit.physics.loops import ckm_loop_sum, fcnc_coupling, loop_function


def test_loop_function_values():
    assert loop_function(0.0) == 0.0
    assert loop_function(1.0) == pytest.approx(0.5, abs=1e-12)
    # continuity across the series region about x = 1
    for x in (1 - 2e-4, 1 - 5e-5, 1 + 5e-5, 1 + 2e-4):
        assert loop_function(x) == pytest.approx(0.5 + (x - 1) / 3, abs=1e-7)
    # small x: F ~ x (1 + x ln x)
    assert loop_function(1e-6) == pytest.approx(1e-6, rel=1e-4)
    # x = 4: F = 4 (1 + 4 (ln 4 - 1)) / 9, by hand
    assert loop_function(4.0) == pytest.approx(4 * (1 + 4 * (np.log(4) - 1)) / 9, rel=1e-14)
    assert np.shape(loop_function(np.ones((3, 2)))) == (3, 2)


def test_ckm_unitary_and_pdg_magnitudes():
    V = ckm_matrix()
    assert np.allclose(V @ V.conj().T, np.eye(3), atol=1e-14)
    # PDG 2024 global-fit magnitudes (CKM review Eq. 12.27), to their quoted precision
    assert abs(V[0, 1]) == pytest.approx(0.22501, abs=1e-5)
    assert abs(V[1, 2]) == pytest.approx(0.04183, abs=2e-4)
    assert abs(V[0, 2]) == pytest.approx(0.003732, abs=5e-5)
    assert abs(V[2, 1]) == pytest.approx(0.04111, abs=2e-4)
    J = np.imag(V[0, 1] * V[1, 2] * np.conj(V[0, 2]) * np.conj(V[1, 1]))
    assert J == pytest.approx(3.12e-5, rel=0.03)  # PDG 2024: J = (3.12 +0.13 -0.12) x 10^-5


def test_top_dominates_b_to_s():
    s = ckm_loop_sum("b->s")
    V = ckm_matrix()
    top = V[2, 2] * np.conj(V[2, 1]) * loop_function(DEFAULT_SM.m_t**2 / DEFAULT_SM.m_W**2)
    assert abs(s - top) / abs(s) < 1e-3


def test_coupling_is_linear_in_gX_AWW_and_complex():
    g1 = fcnc_coupling("b->s", 1.0)
    assert np.iscomplexobj(g1)
    assert fcnc_coupling("b->s", -2.5) == pytest.approx(-2.5 * g1)
    with pytest.raises(ValueError, match="known"):
        fcnc_coupling("t->c", 1.0)


def test_tau_flavor_coupling_from_belle2_fit():
    """|g_S| = 1.6e-8 at m_X = 2.1 GeV (Eq. 3.26) gives g_X ~ 0.018 in the paper.

    With PDG 2024 inputs and MS-bar m_t(m_t) xfit gets 0.0161; the pole mass gives 0.0152.
    The issue expects 0.015-0.017 with PDG-like constants; docs/physics.md lists what moves it.
    """
    paper = DEFAULT_SM.replace(loop_normalisation="paper")  # Eq. (3.6) as printed
    gS, gP = scalar_pseudoscalar_couplings(2.1, -1.0, paper)  # tau flavour: g_X A_WW = -g_X
    gX = 1.6e-8 / abs(gS)
    assert 0.015 <= gX <= 0.017
    assert gX == pytest.approx(0.01613, rel=2e-3)
    gS_pole, _ = scalar_pseudoscalar_couplings(2.1, -1.0, paper.replace(m_t=M_TOP_POLE))
    assert 1.6e-8 / abs(gS_pole) == pytest.approx(0.01518, rel=2e-3)
    # the derived normalisation (half of Eq. 3.6, docs/physics.md) needs twice the coupling
    gS_derived, _ = scalar_pseudoscalar_couplings(2.1, -1.0)
    assert 1.6e-8 / abs(gS_derived) == pytest.approx(2 * gX, rel=1e-12)
    # g_P / g_S = -(m_b + m_s)/(m_b - m_s)
    assert gP / gS == pytest.approx(-(DEFAULT_SM.m_b + DEFAULT_SM.m_s) / (DEFAULT_SM.m_b - DEFAULT_SM.m_s))


def test_sm_inputs_replace_validates():
    with pytest.raises(TypeError, match="unknown SM input"):
        DEFAULT_SM.replace(m_top=1.0)


@pytest.mark.parametrize("changes, expected", [
    ({}, 0.01613),
    ({"m_t": M_TOP_POLE}, 0.01518),
    ({"alpha_mz_inv": 137.035999}, 0.01851),  # low-scale alpha in g^4: close to the paper's 0.018
    ({"m_b": 4.78}, 0.01407),
])
def test_sensitivity_table_of_docs(changes, expected):
    """The table 'What moves the extracted g_X' in docs/physics.md (Eq. 3.6 as printed; the
    derived normalisation doubles every entry)."""
    gS, _ = scalar_pseudoscalar_couplings(2.1, -1.0, DEFAULT_SM.replace(loop_normalisation="paper", **changes))
    assert 1.6e-8 / abs(gS) == pytest.approx(expected, rel=2e-3)
    gS, _ = scalar_pseudoscalar_couplings(2.1, -1.0, DEFAULT_SM.replace(loop_normalisation="derived", **changes))
    assert 1.6e-8 / abs(gS) == pytest.approx(2 * expected, rel=2e-3)
