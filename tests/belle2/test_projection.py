"""Belle II Asimov projections (xfit.belle2.projection, ``xfit project belle2``).  Needs the
Belle II files in $XFIT_DATA_DIR (fails without)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from xfit.belle2 import files, projection, scan
from xfit.cli import main
from xfit.errors import InputError


@pytest.fixture(scope="module")
def published():
    return projection.Projection(projection.PUBLISHED_LUMINOSITY_AB, "fixed")


@pytest.fixture(scope="module")
def scanner():
    return scan.Scanner()


def test_scale_spec_identities():
    spec = files.load_workspace()
    assert projection.scale_spec(spec, 1.0) == spec
    doubled = projection.scale_spec(spec, 2.0)
    for ch, ch2 in zip(spec["channels"], doubled["channels"]):
        for s, s2 in zip(ch["samples"], ch2["samples"]):
            np.testing.assert_allclose(s2["data"], 2 * np.asarray(s["data"]))
            for m, m2 in zip(s["modifiers"], s2["modifiers"]):
                if m["type"] == "histosys":
                    np.testing.assert_allclose(m2["data"]["hi_data"], 2 * np.asarray(m["data"]["hi_data"]))
                    np.testing.assert_allclose(m2["data"]["lo_data"], 2 * np.asarray(m["data"]["lo_data"]))
                elif m["type"] == "staterror":
                    np.testing.assert_allclose(m2["data"], 2 * np.asarray(m["data"]))
                else:  # normsys, normfactor: relative, unchanged
                    assert m2 == m
    for o, o2 in zip(spec["observations"], doubled["observations"]):
        np.testing.assert_allclose(o2["data"], 2 * np.asarray(o["data"]))
    dens = files.load_number_densities()
    d2 = projection.scale_densities(dens, 3.0)
    for k in dens:
        np.testing.assert_allclose(d2[k], 3 * np.asarray(dens[k]))


def test_published_luminosity_reproduces_the_published_asimov(published, scanner):
    # the Asimov data of the SM fit: the scan's background-only Asimov (mu_X = 0, mu = 1)
    np.testing.assert_allclose(published.kx.model.observed, scanner.calc.asimov.observed, rtol=1e-9)
    np.testing.assert_allclose(published.kx.model.auxdata, scanner.calc.asimov.auxdata, atol=1e-9)
    # and the relative MC-statistics widths are those of the published model
    np.testing.assert_allclose(published.kx.model.constraints.gauss_sigma,
                               scanner.kx.model.constraints.gauss_sigma, rtol=1e-12)


@pytest.mark.parametrize("mX", [1.0, 2.0])
def test_published_luminosity_expected_limits_equal_the_scan(published, scanner, mX):
    exp = published.expected_limit(mX)
    ref = scanner.point(mX).BR_95_expected
    for k in ("-2", "-1", "0", "1", "2"):
        assert exp[k] == pytest.approx(ref[k], rel=1e-5)
    assert exp["-2"] < exp["-1"] < exp["0"] < exp["1"] < exp["2"]


def test_scaled_equals_fixed_at_the_published_luminosity(published):
    sc = projection.Projection(projection.PUBLISHED_LUMINOSITY_AB, "scaled")
    assert sc.expected_limit(2.0)["0"] == pytest.approx(published.expected_limit(2.0)["0"], rel=1e-6)


def test_scaled_model_yields_and_widths():
    fx, sc = projection.Projection(3.62, "fixed"), projection.Projection(3.62, "scaled")
    pub = projection.Projection(0.362, "fixed")
    # the Asimov main counts are 10 x the published ones in both scenarios
    np.testing.assert_allclose(fx.kx.model.observed, 10 * pub.kx.model.observed, rtol=1e-9)
    np.testing.assert_allclose(sc.kx.model.observed, 10 * pub.kx.model.observed, rtol=1e-9)
    np.testing.assert_allclose(fx.kx.model.constraints.gauss_sigma, pub.kx.model.constraints.gauss_sigma,
                               rtol=1e-9)
    np.testing.assert_allclose(sc.kx.model.constraints.gauss_sigma,
                               pub.kx.model.constraints.gauss_sigma / math.sqrt(10), rtol=1e-9)
    # the X templates grow with the luminosity
    t_pub, t_fx = pub.kx.templates(2.0), fx.kx.templates(2.0)
    for k in t_pub:
        np.testing.assert_allclose(t_fx[k], 10 * t_pub[k], rtol=1e-12)


def test_limits_fall_with_luminosity_and_scaled_below_fixed(published):
    lims = {L: projection.Projection(L, "fixed").expected_limit(2.0)["0"] for L in (1.0, 5.0)}
    base = published.expected_limit(2.0)["0"]
    assert base > lims[1.0] > lims[5.0]
    scaled = projection.Projection(5.0, "scaled").expected_limit(2.0)["0"]
    assert scaled < lims[5.0]
    # no efficiency above MX_NO_EFFICIENCY: no limit
    assert published.expected_limit(4.7) is None


def test_sm_significance_grows_with_luminosity(published):
    z0 = published.sm_significance()
    z5 = projection.Projection(5.0, "fixed").sm_significance()
    z5s = projection.Projection(5.0, "scaled").sm_significance()
    assert 0 < z0 < z5 <= z5s + 1e-9


def test_discovery_br_solves_q0_equal_25(published):
    br = published.discovery_br(2.0)
    assert published.discovery_q0(2.0, br) == pytest.approx(25.0, rel=1e-4)
    # a discovery needs more signal than the expected exclusion
    assert br > published.expected_limit(2.0)["0"]
    assert published.discovery_br(4.7) is None


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, "abc", True])
def test_bad_luminosity(bad):
    with pytest.raises(InputError, match="--luminosity") as exc:
        projection.check_luminosity(bad)
    assert len(str(exc.value).splitlines()) <= 3


def test_bad_systematics():
    with pytest.raises(InputError, match="--systematics.*fixed, scaled") as exc:
        projection.Projection(1.0, "both")
    assert len(str(exc.value).splitlines()) <= 3


@pytest.mark.parametrize("argv,flag", [
    (["--luminosity", "-2"], "--luminosity"),
    (["--luminosity", "x"], "--luminosity"),
    (["--luminosity", "1", "--systematics", "none"], "--systematics"),
    (["--luminosity", "1", "--n-masses", "0"], "--n-masses"),
    (["--luminosity", "1", "--mX", "-1"], "--mX"),
])
def test_cli_bad_options(capsys, argv, flag):
    assert main(["project", "belle2", *argv]) != 0
    err = capsys.readouterr().err
    assert flag in err and len(err.strip().splitlines()) <= 3 and "Traceback" not in err


def test_cli_json(capsys):
    assert main(["project", "belle2", "--luminosity", "0.362", "--mX", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["luminosity_ab"] == 0.362 and out["systematics"] == "fixed"
    row = out["expected_limits"][0]
    assert row["mX"] == 2.0 and set(row["BR_95_band"]) == {"-2", "-1", "0", "1", "2"}
    assert row["BR_95"] == row["BR_95_band"]["0"]
    assert out["x_discovery_BR"][0]["BR_5sigma"] > row["BR_95"]
    assert out["sm_significance"] > 0


def test_discovery_luminosity_scaled_is_linear_in_q0(published):
    # with all widths shrinking as 1/sqrt(L) the Asimov q0 is proportional to L
    q0 = published.discovery_q0(2.11, 8.6e-6)
    assert projection.Projection(3.62, "scaled").discovery_q0(2.11, 8.6e-6) == pytest.approx(10 * q0, rel=1e-3)
    lum = projection.discovery_luminosity(2.11, 8.6e-6, "scaled")
    assert lum == pytest.approx(0.362 * 25.0 / q0, rel=1e-3)
