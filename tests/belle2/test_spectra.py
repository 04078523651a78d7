"""Any q^2 spectrum into Belle II templates (xfit.belle2.spectra).

Needs the Belle II files in $XFIT_DATA_DIR (fails without them).
"""
import math
import warnings

import numpy as np
import pytest

from xfit.belle2 import files, signal, spectra
from xfit.errors import InputError


@pytest.fixture(scope="module")
def eff():
    return signal.efficiency_table()


@pytest.fixture(scope="module")
def densities():
    return files.load_number_densities()


def quiet_templates(spec, eff):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spectra.EfficiencyLossWarning)
        return spectra.spectrum_templates(spec, eff)


# --- SM-like spectrum -------------------------------------------------------------------------

def test_sm_like_spectrum_reproduces_the_published_sm_templates(eff, densities):
    spec_ws = files.load_workspace()
    published = files.signal_templates(spec_ws)  # the `signal` / `sgn_1_had` samples
    t = quiet_templates(spectra.sm_like_spectrum(), eff)
    for k in files.SIGNAL_SAMPLES:
        N = densities[k]
        # exact up to the underflow column (q2_gen < 0, SM only) ...
        assert np.allclose(t[k] + N[:, 0], N.sum(axis=1), rtol=1e-10, atol=0)
        # ... so against the workspace: ITA to the row-sum precision, HTA to the underflow share (measured 0.22 %)
        rel = np.max(np.abs(t[k] / np.asarray(published[k]) - 1))
        assert rel < (1e-6 if k in ("A", "B") else 3e-3), (k, rel)
    assert np.max(np.abs(t["sgn1_had"] / np.asarray(published["sgn1_had"]) - 1)) > 1e-3  # the underflow is real


def test_sm_like_spectrum_scales_with_c_l_plus_c_r():
    sm = spectra.sm_like_spectrum().bin_integrals()
    assert sm.sum() == pytest.approx(signal.B_SM, rel=1e-9)
    assert np.allclose(sm, signal.sm_bin_integrals(), rtol=1e-9)
    c0 = spectra.C_L_SM
    assert spectra.C_L_SM == pytest.approx(-6.351, abs=1e-3)  # -X_t / s_W^2 = -1.469 / 0.23129
    assert np.allclose(spectra.sm_like_spectrum(2 * c0).bin_integrals(), 4 * sm, rtol=1e-9)
    assert np.allclose(spectra.sm_like_spectrum(c0, 0.5 * c0).bin_integrals(), 2.25 * sm, rtol=1e-9)
    assert np.allclose(spectra.sm_like_spectrum(c0, -c0).bin_integrals(), 0.0, atol=1e-20)
    # only |C_L + C_R| matters: a common phase changes nothing
    ph = complex(math.cos(0.7), math.sin(0.7))
    assert np.allclose(spectra.sm_like_spectrum(c0 * ph, 0.3 * c0 * ph).bin_integrals(),
                       1.69 * sm, rtol=1e-9)
    with pytest.raises(InputError):
        spectra.sm_like_spectrum("x")


# --- lines -----------------------------------------------------------------------------------

def _gaussian(q0, sigma):
    return lambda q2: np.exp(-0.5 * ((np.asarray(q2) - q0) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def test_narrow_peak_given_as_a_callable_converges_to_the_line_templates(eff):
    for i in (15, 60, 80):
        q0 = float(signal.Q2_CENTRES[i])  # at a bin centre the interpolated line is the bin's efficiency
        line = signal.x_templates(math.sqrt(q0), efficiency=eff)
        errors = []
        for sigma in (0.1, 0.05, 0.01):
            t = spectra.spectrum_templates(spectra.DifferentialSpectrum(_gaussian(q0, sigma), points=(q0,)), eff)
            errors.append(max(np.max(np.abs(t[k] - line[k])) / line[k].sum() for k in line))
        assert errors[0] > errors[1] > 1e-5, (i, errors)  # the tails reach the neighbouring bins
        assert errors[2] < 1e-10, (i, errors)  # contained in the bin: the line template
    # off a bin centre, a narrow peak fills its bin: the bin-step line (the Breit-Wigner limit),
    # not the interpolated one
    i = 60
    q0 = float(signal.Q2_LO[i] + 0.3 * (signal.Q2_HI[i] - signal.Q2_LO[i]))
    t = spectra.spectrum_templates(spectra.DifferentialSpectrum(_gaussian(q0, 0.005), points=(q0,)), eff)
    interp = signal.x_templates(math.sqrt(q0), efficiency=eff)
    for k in t:
        assert np.allclose(t[k], eff[k][:, i], rtol=1e-9, atol=1e-12 * eff[k][:, i].sum())
        assert not np.allclose(t[k], interp[k], rtol=1e-3)


def test_line_spectrum_reuses_the_signal_templates(eff):
    for mX, width in ((1.3, 0.0), (2.5, 0.05)):
        t = spectra.LineSpectrum(mX, 2e-6, width).templates(eff)
        ref = signal.x_templates(mX, width, efficiency=eff)
        for k in ref:
            assert np.allclose(t[k], 2e-6 * ref[k], rtol=1e-14)
    # a Breit-Wigner given as a callable gives the same bin integrals as the analytic one
    m, g, br = 2.5, 0.05, 1e-6
    qmax = signal.q2_max()
    norm = (math.atan((qmax - m * m) / (m * g)) + math.atan(m * m / (m * g))) / (m * g)
    bw = spectra.DifferentialSpectrum(lambda q2: br / norm / ((np.asarray(q2) - m * m) ** 2 + (m * g) ** 2),
                                      points=(m * m,))
    assert np.allclose(bw.bin_integrals(), br * signal.breit_wigner_fractions(m, g), rtol=1e-8, atol=1e-20)
    assert spectra.LineSpectrum(m, br, g).total() == br
    with pytest.raises(InputError):
        spectra.LineSpectrum(6.0, 1e-6)


# --- three-body ----------------------------------------------------------------------------

@pytest.mark.parametrize("chi", spectra.CHI_SPINS)
@pytest.mark.parametrize("current", spectra.CURRENTS)
def test_three_body_spectrum_integrates_to_its_total_rate(chi, current):
    m, br = 0.8, 3e-6
    s = spectra.three_body_spectrum(m, br, chi, current)
    assert s.total() == pytest.approx(br, rel=1e-9)
    above = s.integral(spectra.Q2_GEN_MAX, signal.q2_max())
    assert s.bin_integrals().sum() + above == pytest.approx(br, rel=1e-9)
    # nothing below the pair threshold, something just above it
    thr = 4 * m * m
    assert s.rate(np.array([0.5 * thr, 0.999 * thr]))[0] == 0.0
    assert np.all(s.rate(np.array([1.01 * thr, 10.0])) > 0)
    assert s.integral(0.0, thr) == 0.0


def test_three_body_threshold_factors():
    q2 = np.array([3.0, 8.0, 15.0])
    m = 0.6
    beta = np.sqrt(1 - 4 * m * m / q2)
    base_v = spectra.three_body_shape(q2, 0.0, "scalar", "vector")
    base_s = spectra.three_body_shape(q2, 0.0, "scalar", "scalar")
    assert np.allclose(spectra.three_body_shape(q2, m, "scalar", "vector") / base_v, beta ** 3)
    assert np.allclose(spectra.three_body_shape(q2, m, "fermion", "vector") / base_v, beta * (3 - beta ** 2) / 2)
    assert np.allclose(spectra.three_body_shape(q2, m, "scalar", "scalar") / base_s, beta)
    assert np.allclose(spectra.three_body_shape(q2, m, "fermion", "scalar") / base_s, q2 * beta ** 3)
    # massless pair through a vector current: the SM shape lambda^{3/2} f_+^2
    assert np.allclose(base_v / signal.sm_spectrum_shape(q2), 1.0, rtol=1e-12)
    for bad in (dict(chi="boson"), dict(current="tensor")):
        with pytest.raises(InputError):
            spectra.three_body_spectrum(0.1, 1e-6, **bad)
    with pytest.raises(InputError):
        spectra.three_body_spectrum(2.5, 1e-6)  # 2 m_chi above m_B - m_K


# --- tables ----------------------------------------------------------------------------------

def test_table_integrals_are_exact_for_the_linear_interpolation():
    q2 = np.array([0.0, 3.0, 10.0, 20.0])
    rate = np.array([1.0, 4.0, 2.0, 0.0])
    tab = spectra.TabulatedSpectrum(q2, rate)
    fine = spectra.DifferentialSpectrum(tab, points=tuple(q2[1:-1]))
    assert np.allclose(tab.bin_integrals(), fine.bin_integrals(), rtol=1e-10, atol=1e-14)
    assert tab.total() == pytest.approx(np.trapezoid(rate, q2), rel=1e-14)
    assert tab.integral(20.0, 22.0) == 0.0


def test_a_fine_table_of_the_sm_reproduces_the_sm_templates(eff):
    q2 = np.linspace(0.0, signal.q2_max(), 2001)
    tab = spectra.TabulatedSpectrum(q2, spectra.sm_spectrum(q2))
    t = quiet_templates(tab, eff)
    ref = quiet_templates(spectra.sm_like_spectrum(), eff)
    for k in ref:
        assert np.allclose(t[k], ref[k], rtol=2e-4)


def test_spectra_above_the_efficiency_range_warn_with_the_lost_fraction(eff):
    # flat in 0 < q2 < 22.885: (22.885 - 21.74) / 22.885 = 5.0 % of the rate is lost
    flat = spectra.TabulatedSpectrum(np.array([0.0, spectra.Q2_GEN_MAX]), np.array([1.0, 1.0]) / spectra.Q2_GEN_MAX)
    with pytest.warns(spectra.EfficiencyLossWarning, match=r"5 % of the rate\s+is lost"):
        spectra.spectrum_templates(flat, eff)
    lost, above = spectra.lost_fraction(flat)
    assert lost == pytest.approx((spectra.Q2_GEN_MAX - spectra.Q2_LAST_POPULATED_EDGE) / spectra.Q2_GEN_MAX, rel=1e-12)
    assert lost == pytest.approx(0.05, rel=1e-12)  # 95 of the 100 generated bins are populated
    assert above == pytest.approx((spectra.Q2_GEN_MAX - signal.Q2_NO_EFFICIENCY) / spectra.Q2_GEN_MAX, rel=1e-12)
    below = spectra.TabulatedSpectrum(np.array([1.0, 20.0]), np.array([1.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spectra.spectrum_templates(below, eff)
    with pytest.warns(spectra.EfficiencyLossWarning):
        spectra.spectrum_templates(spectra.LineSpectrum(4.7, 1e-6), eff)


@pytest.mark.parametrize("q2, rate, match", [
    ([1.0], [1.0], "at least 2 rows"),
    ([1.0, 2.0], [1.0, -1.0], "must be >= 0"),
    ([2.0, 1.0], [1.0, 1.0], "strictly increasing"),
    ([1.0, 1.0], [1.0, 1.0], "strictly increasing"),
    ([1.0, np.nan], [1.0, 1.0], "finite"),
    ([-1.0, 2.0], [1.0, 1.0], r"must lie in \[0"),
    ([1.0, 30.0], [1.0, 1.0], r"must lie in \[0"),
])
def test_bad_tables(q2, rate, match):
    with pytest.raises(InputError, match=match):
        spectra.TabulatedSpectrum(np.array(q2), np.array(rate))


def test_callable_returning_negative_or_nan_rates_is_refused():
    with pytest.raises(InputError, match="finite and >= 0"):
        spectra.DifferentialSpectrum(lambda q2: -1.0).bin_integrals()
    with pytest.raises(InputError, match="finite and >= 0"):
        spectra.DifferentialSpectrum(lambda q2: np.nan).bin_integrals()
    with pytest.raises(InputError):
        spectra.as_spectrum(42)


@pytest.mark.parametrize("bad", [-1e-3, np.nan, np.inf])
def test_vectorised_rate_bad_in_part_of_the_range_is_refused_at_that_q2(bad):
    """A vectorised rate goes through the all-bins quadrature (xfit.belle2.quadrature), which must
    not integrate a negative or non-finite value: it hands over to the per-bin path, which names
    the first bad q^2 (above 5 GeV^2 here)."""
    spec = spectra.DifferentialSpectrum(lambda q2: np.where(q2 > 5.0, bad, 1e-7), name="mine")
    with pytest.raises(InputError, match=r"^mine: dB/dq2 must be finite and >= 0, got .* at q2 = 5\.\d+ GeV\^2$"):
        spec.bin_integrals()


# --- CSV files -------------------------------------------------------------------------------

def test_csv_reading(tmp_path):
    p = tmp_path / "spec.csv"
    p.write_text("# a comment\nq2, dBdq2 ,extra\n0.5,1e-7,x\n4.0,2e-7,y\n\n9.0,0,z\n")
    tab = spectra.read_spectrum_csv(p)
    assert np.array_equal(tab.q2, [0.5, 4.0, 9.0]) and np.array_equal(tab.rate, [1e-7, 2e-7, 0.0])


@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("# only a comment\n\n", "empty"),
    ("q2,rate\n1,2\n3,4\n", "missing column.*dBdq2"),
    ("x,y\n1,2\n3,4\n", "missing column.*q2, dBdq2"),
    ("q2,dBdq2\n1,abc\n3,4\n", "data row 1, column dBdq2: 'abc' is not a number"),
    ("q2,dBdq2\n1,1e-7\n3\n", "data row 2, column dBdq2: '' is not a number"),
    ("q2,dBdq2\n1,1e-7\nnan,1e-7\n", "q2 must be finite"),
    ("q2,dBdq2\n1,1e-7\n3,-1e-7\n", "must be >= 0"),
    ("q2,dBdq2\n3,1e-7\n1,1e-7\n", "strictly increasing"),
    ("q2,dBdq2\n", "at least 2 rows"),
    ("q2,dBdq2\n1,1e-7\n", "at least 2 rows"),
])
def test_bad_csv_files_give_one_line_errors_naming_the_file(tmp_path, text, match):
    p = tmp_path / "bad_spectrum.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as exc:
        spectra.read_spectrum_csv(p)
    msg = str(exc.value)
    assert "bad_spectrum.csv" in msg and "\n" not in msg


def test_missing_csv_file(tmp_path):
    with pytest.raises(InputError, match="nothere.csv: cannot read"):
        spectra.read_spectrum_csv(tmp_path / "nothere.csv")


@pytest.mark.parametrize("kwargs, match", [
    ({"epsrel": float("nan")}, r"^mine: epsrel nan; accepted: a number in \[1e-13, 0\.1\]$"),
    ({"epsrel": 0.0}, r"^mine: epsrel 0\.0; accepted"),
    ({"epsrel": -1e-6}, r"^mine: epsrel -1e-06; accepted"),
    ({"epsrel": "1e-8"}, r"^mine: epsrel 1e-8; accepted"),
    ({"points": (2.0, float("nan"))}, r"^mine: break points \(2\.0, nan\); accepted: finite q2 values \[GeV\^2\]$"),
    ({"points": ("peak",)}, r"^mine: break points \('peak',\); accepted"),
])
def test_bad_accuracy_or_break_points_are_refused(kwargs, match):
    """epsrel NaN closed every bin after one round (NaN tolerance: no error exceeds it), silently;
    0 or negative gave scipy's ValueError; a NaN break point was silently ignored."""
    with pytest.raises(InputError, match=match):
        spectra.DifferentialSpectrum(np.exp, name="mine", **kwargs)
    ok = spectra.DifferentialSpectrum(lambda q2: np.exp(-q2), name="mine", points=np.array([2.0]), epsrel=1e-8)
    assert ok.points == (2.0,) and ok.integral(0.0, 4.0) == pytest.approx(1.0 - math.exp(-4.0), rel=1e-8)
