"""The ``goldstone`` switch: SMInputs field, model keyword, CLI flag, analysis-file key, and
exactly the rates of Eqs. (3.9)/(3.10) as xfit computed them before the massive-vector default."""
import json

import numpy as np
import pytest

from xfit.analysis.checks import Checker as _Checker
from xfit.analysis.validation import _model
from xfit.cli import main
from xfit.errors import InputError
from xfit.models import ChargeModel, ChiralPlane, EFTPlane, WessZuminoModel, build_model, get_model
from xfit.physics.constants import DEFAULT_SM
from xfit.physics.meson_decays import CHANNELS

MASSES = np.array([0.05, 0.2, 1.0, 2.1, 4.0])
#: get_model("tau-flavor", loop_normalisation="paper").predict(MASSES, gX=0.0157) computed by
#: xfit at commit 8c71587 (Eqs. 3.9/3.10 only, before the massive-vector rates).
BEFORE = {
    "BR(K+->pi+X)": [7.8173052053e-05, 4.0782600028e-06, 0.0, 0.0, 0.0],
    "BR(KL->pi0X)": [4.3276240652e-05, 2.2808239383e-06, 0.0, 0.0, 0.0],
    "BR(D+->pi+X)": [3.1641293767e-13, 1.9801128974e-14, 7.8915159341e-16, 0.0, 0.0],
    "BR(B+->pi+X)": [0.00051961376962, 3.2415842935e-05, 1.2386981895e-06, 2.4628125246e-07, 7.4390194865e-08],
    "BR(B0->pi0X)": [0.0002406913133, 1.5015411398e-05, 5.7378538116e-07, 1.1408631801e-07, 3.4476278144e-08],
    "BR(B+->rho+X)": [0.00096584859475, 6.0339429254e-05, 2.3856625762e-06, 5.1317549859e-07, 6.8086343093e-08],
    "BR(B0->rho0X)": [0.0004473238902, 2.7945664021e-05, 1.104911341e-06, 2.3768754655e-07, 3.1552575124e-08],
    "BR(B+->K+X)": [0.020001560673, 0.0012506471461, 5.0592322008e-05, 1.1937196486e-05, 3.5509624462e-06],
    "BR(B0->K0X)": [0.018519617929, 0.0011579845278, 4.6843319122e-05, 1.1052001188e-05, 3.2843299746e-06],
    "BR(B+->K*+X)": [0.023300780082, 0.0014563117984, 5.8194641501e-05, 1.2850029468e-05, 1.2862825948e-06],
    "BR(B0->K*0X)": [0.021567112086, 0.0013479528757, 5.3860515734e-05, 1.188850326e-05, 1.1780688822e-06],
}


def test_goldstone_reproduces_the_previous_rates_exactly():
    pred = get_model("tau-flavor", loop_normalisation="paper", goldstone=True).predict(MASSES, gX=0.0157)
    assert set(BEFORE) == set(CHANNELS)
    for key, values in BEFORE.items():
        np.testing.assert_allclose(pred[key], values, rtol=1e-9, err_msg=key)


def test_default_is_the_massive_vector():
    assert DEFAULT_SM.goldstone is False
    exact = get_model("tau-flavor").predict(2.1, gX=0.02)
    goldstone = get_model("tau-flavor", goldstone=True).predict(2.1, gX=0.02)
    assert exact["BR(B+->K+X)"] / goldstone["BR(B+->K+X)"] == pytest.approx(0.9342, abs=1e-4)
    assert goldstone["F_L(B0->K*0X)"] == 1.0 and exact["F_L(B0->K*0X)"] < 0.7


@pytest.mark.parametrize("make", [
    lambda **kw: get_model("L-only", **kw),
    lambda **kw: ChargeModel.vector(alpha_mu=1, **kw),
    lambda **kw: WessZuminoModel(1.0, -1.0, **kw),
    lambda **kw: EFTPlane(**kw),
    lambda **kw: ChiralPlane(**kw),
])
def test_every_model_takes_the_keyword(make):
    assert make().goldstone is False
    assert make(goldstone=True).goldstone is True
    assert make(goldstone=True, loop_normalisation="paper").sm.loop_normalisation == "paper"
    assert make(sm=DEFAULT_SM.replace(goldstone=True)).goldstone is True


def test_bad_goldstone_value_is_an_input_error():
    with pytest.raises(InputError, match="goldstone"):
        get_model("tau-flavor", goldstone="no")


def validate_model(raw):
    return _model(_Checker("test.yaml"), raw)


def test_analysis_file_key():
    spec = validate_model({"name": "tau-flavor", "goldstone": True})
    assert build_model(spec).goldstone is True
    assert build_model(validate_model({"plane": "eft"})).goldstone is False
    with pytest.raises(InputError, match="model.goldstone"):
        validate_model({"name": "tau-flavor", "goldstone": "yes"})


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_predict_cli_flag(capsys):
    args = ("predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.02", "--json")
    exact = run_json(capsys, *args)
    goldstone = run_json(capsys, *args, "--goldstone")
    assert exact["inputs"]["goldstone"] is False and goldstone["inputs"]["goldstone"] is True
    assert goldstone["predictions"]["F_L(B+->K*+X)"] == 1.0
    assert exact["predictions"]["F_L(B+->K*+X)"] == pytest.approx(0.6461, abs=2e-4)
    assert exact["predictions"]["R_K*/K"] == pytest.approx(1.7666, abs=2e-4)


def test_closed_f_l_is_null_with_a_reason(capsys):
    d = run_json(capsys, "predict", "--model", "tau-flavor", "--mX", "4.6", "--gX", "0.02", "--json")
    assert d["predictions"]["F_L(B+->K*+X)"] is None  # JSON null, never NaN
    assert d["closed_channels"]["F_L(B+->K*+X)"].startswith("closed: m_X = 4.6 GeV")
    assert d["predictions"]["R_K*/K"] == 0.0  # B+ -> K+ X still open
    assert main(["predict", "--model", "tau-flavor", "--mX", "4.6", "--gX", "0.02"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out.lower()
    assert "F_L(B+->K*+X)" in out and "undefined" in out


def test_fit_plane_takes_the_flag(capsys):
    args = ("fit", "--plane", "eft", "--mX", "2.1", "--terms", "b_to_s_emiss,l3_z_gamma",
            "--start", "gX_AWW=0.03", "--start", "gX_AYY=0.0", "--json")
    assert run_json(capsys, *args, "--goldstone")["predictions"]["F_L(B+->K*+X)"] == 1.0
    assert run_json(capsys, *args)["predictions"]["F_L(B+->K*+X)"] < 0.7
