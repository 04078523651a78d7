"""Data files of experimental limits (data/limits/) and their loader (xfit.datafiles)."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from xfit import datafiles
from xfit.datafiles import REQUIRED_KEYS, LimitCurve, data_root, limit_of, load_data_file
from xfit.errors import DataError

REPO = Path(__file__).resolve().parents[2]
LIMITS_DIR = REPO / "data" / "limits"
LIMIT_FILES = sorted(p.name for p in LIMITS_DIR.glob("*.yaml"))
#: the ALPaca digitisations, read through XFIT_DATA_DIR (.ci/run: ../shared/data); the tests fail without
ALPACA = Path(os.environ.get("XFIT_DATA_DIR", "XFIT_DATA_DIR-is-not-set")) / "limits_alpaca"

#: The prediction keys a limit may constrain (the xfit predictions mapping).
PREDICTION_KEYS = {
    "BR(Z->gammaX)", "BR(K+->pi+X)", "BR(KL->pi0X)", "BR(D+->pi+X)", "BR(B+->pi+X)",
    "BR(B0->pi0X)", "BR(B+->rho+X)", "BR(B0->rho0X)", "BR(B+->K+X)", "BR(B0->K0X)",
    "BR(B+->K*+X)", "BR(B0->K*0X)",
}


def test_there_are_limit_files():
    assert len(LIMIT_FILES) >= 8


@pytest.mark.parametrize("fname", LIMIT_FILES)
def test_limit_file_loads_with_provenance(fname):
    d = load_data_file(f"limits/{fname}")
    for key in REQUIRED_KEYS:
        assert key in d, key
        assert d[key] not in (None, "", [], {}), key
    # hepdata: a DOI, or null with a sentence saying why
    hd = d["hepdata"]
    assert isinstance(hd, dict) and "doi" in hd
    if hd["doi"] is None:
        assert isinstance(hd["note"], str) and len(hd["note"].split()) >= 5
    else:
        assert hd["doi"].startswith("10.17182/hepdata.")
    # publication(s): every entry names an arXiv number, a journal or its role
    pubs = d["publication"] if isinstance(d["publication"], list) else [d["publication"]]
    assert any(p.get("arxiv") or p.get("journal") for p in pubs)
    cl = d["confidence_level"]
    assert isinstance(cl, float) and 0.5 < cl < 1.0
    lo, hi = d["mass_range_GeV"]
    assert 0.0 <= lo < hi
    assert isinstance(d["units"], dict) and d["units"]["mass"] == "GeV"
    assert len(d["digitisation"].split()) >= 5 and len(d["notes"].split()) >= 10
    for entry in d["limits"]:
        assert entry["observable"] in PREDICTION_KEYS
        assert entry["constrains"] == f"{entry['observable']} * BR(X->invisible)"
        lim = limit_of(entry)
        if isinstance(lim, LimitCurve):
            assert np.all(np.diff(lim.mass_GeV) > 0) and np.all(lim.upper_limit > 0)
            m_lo, m_hi = lim.mass_range
            assert lo <= m_lo and m_hi <= hi + 1e-12
        else:
            assert lim > 0


def test_every_csv_is_referenced_by_a_yaml_file():
    referenced = set()
    for fname in LIMIT_FILES:
        for entry in yaml.safe_load((LIMITS_DIR / fname).read_text())["limits"]:
            if "file" in entry.get("curve", {}):
                referenced.add(entry["curve"]["file"])
    assert referenced == {p.name for p in LIMITS_DIR.glob("*.csv")}


def test_other_data_files_using_the_loader_still_load():
    d = load_data_file("fits/b_to_s_emiss.yaml")
    assert d["mass_range_GeV"][0] < d["mass_range_GeV"][1]


# --- where files are found ----------------------------------------------------------------

def test_data_root_is_the_repository_data_directory():
    assert Path(str(data_root())).resolve() == (REPO / "data").resolve()


def test_data_root_falls_back_to_source_tree(monkeypatch):
    def no_package(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(datafiles.resources, "files", no_package)
    assert data_root() == REPO / "data"
    assert load_data_file("limits/l3_z_gamma.yaml")["limits"][0]["upper_limit"] == 1.0e-6


def test_absolute_path_and_root_argument(tmp_path):
    src = (LIMITS_DIR / "l3_z_gamma.yaml").read_text()
    (tmp_path / "copy.yaml").write_text(src)
    assert load_data_file(tmp_path / "copy.yaml")["confidence_level"] == 0.95
    assert load_data_file("copy.yaml", root=tmp_path)["confidence_level"] == 0.95


# --- corrupt files ------------------------------------------------------------------------

GOOD = {
    "observable": "B(test) x B(X -> invisible)",
    "publication": {"authors": "A. Author", "title": "T", "arxiv": "0000.00000", "journal": None},
    "hepdata": {"doi": None, "note": "No record exists for this made-up test file."},
    "confidence_level": 0.9,
    "mass_range_GeV": [0.0, 1.0],
    "units": {"mass": "GeV", "upper_limit": "branching fraction"},
    "digitisation": "typed in from nowhere, for a test",
    "notes": "a test file",
    "limits": [{"observable": "BR(K+->pi+X)", "upper_limit": 1.0e-5}],
}


def _write(tmp_path, name, content):
    p = tmp_path / name
    p.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return name


def _expect(tmp_path, name, *words):
    with pytest.raises(DataError) as exc:
        load_data_file(name, root=tmp_path)
    msg = str(exc.value)
    assert name in msg
    for w in words:
        assert w in msg, msg
    return msg


def test_good_test_file_loads(tmp_path):
    name = _write(tmp_path, "good.yaml", GOOD)
    assert load_data_file(name, root=tmp_path)["limits"][0]["upper_limit"] == 1.0e-5


def test_missing_file(tmp_path):
    _expect(tmp_path, "nope.yaml", "not found")


def test_bad_yaml(tmp_path):
    name = _write(tmp_path, "bad.yaml", "observable: [unclosed\nnotes: : :\n")
    _expect(tmp_path, name, "not valid YAML")


def test_not_a_mapping(tmp_path):
    name = _write(tmp_path, "list.yaml", "- 1\n- 2\n")
    _expect(tmp_path, name, "mapping")


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_missing_provenance_key(tmp_path, key):
    content = {k: v for k, v in GOOD.items() if k != key}
    name = _write(tmp_path, f"missing_{key}.yaml", content)
    _expect(tmp_path, name, "missing required provenance key", key)


def test_negative_limit(tmp_path):
    content = dict(GOOD, limits=[{"observable": "BR(K+->pi+X)", "upper_limit": -1.0e-5}])
    name = _write(tmp_path, "negative.yaml", content)
    _expect(tmp_path, name, "negative or zero")


def test_negative_limit_in_curve(tmp_path):
    curve = {"mass_GeV": [0.0, 0.1, 0.2], "upper_limit": [1e-9, -2e-9, 3e-9]}
    content = dict(GOOD, limits=[{"observable": "BR(K+->pi+X)", "curve": curve}])
    name = _write(tmp_path, "negative_curve.yaml", content)
    _expect(tmp_path, name, "negative or zero upper limit", "row 1")


def test_non_monotonic_masses(tmp_path):
    curve = {"mass_GeV": [0.0, 0.2, 0.1], "upper_limit": [1e-9, 2e-9, 3e-9]}
    content = dict(GOOD, limits=[{"observable": "BR(K+->pi+X)", "curve": curve}])
    name = _write(tmp_path, "nonmono.yaml", content)
    _expect(tmp_path, name, "non-monotonic masses")


def test_non_monotonic_masses_in_csv(tmp_path):
    (tmp_path / "c.csv").write_text("# comment\nmass_GeV,upper_limit,segment\n0.0,1e-9,1\n0.3,1e-9,1\n0.2,1e-9,1\n")
    content = dict(GOOD, limits=[{"observable": "BR(K+->pi+X)", "curve": {"file": "c.csv"}}])
    name = _write(tmp_path, "csvmono.yaml", content)
    with pytest.raises(DataError, match=r"c\.csv.*non-monotonic masses"):
        load_data_file(name, root=tmp_path)


def test_missing_csv_and_bad_csv(tmp_path):
    content = dict(GOOD, limits=[{"observable": "BR(K+->pi+X)", "curve": {"file": "absent.csv"}}])
    name = _write(tmp_path, "nocsv.yaml", content)
    with pytest.raises(DataError, match=r"absent\.csv.*not found"):
        load_data_file(name, root=tmp_path)
    (tmp_path / "cols.csv").write_text("m,limit\n0.0,1e-9\n")
    content = dict(GOOD, limits=[{"observable": "BR(K+->pi+X)", "curve": {"file": "cols.csv"}}])
    name = _write(tmp_path, "cols.yaml", content)
    with pytest.raises(DataError, match=r"cols\.csv.*missing column"):
        load_data_file(name, root=tmp_path)


def test_hepdata_null_needs_a_reason(tmp_path):
    name = _write(tmp_path, "hd.yaml", dict(GOOD, hepdata={"doi": None}))
    _expect(tmp_path, name, "hepdata.note")


def test_bad_confidence_level_and_mass_range(tmp_path):
    name = _write(tmp_path, "cl.yaml", dict(GOOD, confidence_level=90))
    _expect(tmp_path, name, "confidence_level")
    name = _write(tmp_path, "mr.yaml", dict(GOOD, mass_range_GeV=[1.0, 0.5]))
    _expect(tmp_path, name, "mass_range_GeV")


def test_entry_needs_one_limit(tmp_path):
    content = dict(GOOD, limits=[{"observable": "BR(K+->pi+X)"}])
    name = _write(tmp_path, "nolimit.yaml", content)
    _expect(tmp_path, name, "exactly one of")


# --- LimitCurve ---------------------------------------------------------------------------

def test_limit_curve_interpolates_log_linearly_within_segments():
    c = LimitCurve([0.0, 0.1, 0.2, 0.3], [1e-9, 1e-7, 1e-8, 1e-8], segment=[1, 1, 2, 2])
    assert c(0.05) == pytest.approx(1e-8, rel=1e-12)  # geometric mean of the neighbours
    assert c(0.1) == pytest.approx(1e-7, rel=1e-12)
    assert np.isnan(c(0.15))  # between segments: no limit
    assert np.isnan(c(0.31)) and np.isnan(c(-0.01))
    assert c([[0.0, 0.3]]).shape == (1, 2)
    assert c.segments == [(0.0, 0.1), (0.2, 0.3)]


def test_limit_curve_rejects_bad_input():
    with pytest.raises(DataError, match="non-monotonic"):
        LimitCurve([0.0, 0.0], [1e-9, 1e-9])
    with pytest.raises(DataError, match="negative or zero"):
        LimitCurve([0.0, 0.1], [1e-9, 0.0])
    with pytest.raises(DataError, match="NaN"):
        LimitCurve([0.0, 0.1], [1e-9, math.nan])


# --- spot checks against numbers quoted in the papers -------------------------------------

def _curve(fname):
    return limit_of(load_data_file(f"limits/{fname}")["limits"][0])


def test_belle_four_numbers_and_the_b0_pi0_typo():
    d = load_data_file("limits/belle_b_to_h_nunu_2017.yaml")
    ul = {e["observable"]: e["upper_limit"] for e in d["limits"]}
    assert ul == {
        "BR(B+->rho+X)": 3.0e-5,  # Eq. (3.17)
        "BR(B+->pi+X)": 1.4e-5,  # Belle; Eq. (3.18) prints 1.5e-5
        "BR(B0->rho0X)": 4.0e-5,  # Eq. (3.19)
        "BR(B0->pi0X)": 9.0e-6,  # Belle's 0.9e-5; Eq. (3.20) prints 9.0e-4 (typo)
    }
    assert d["confidence_level"] == 0.90


def test_babar_numbers():
    d = load_data_file("limits/babar_b_to_k_nunu_2013.yaml")
    ul = {e["observable"]: e["upper_limit"] for e in d["limits"]}
    assert ul == {"BR(B+->K+X)": 3.7e-5, "BR(B0->K0X)": 8.1e-5, "BR(B+->K*+X)": 1.16e-4, "BR(B0->K*0X)": 9.3e-5}


def test_multichannel_file_ranges_are_the_largest_endpoint():
    from xfit.physics.constants import MESONS

    for fname in ("belle_b_to_h_nunu_2017.yaml", "babar_b_to_k_nunu_2013.yaml"):
        d = load_data_file(f"limits/{fname}")
        ends = [MESONS[a].mass - MESONS[b].mass for a, b in (e["endpoint"] for e in d["limits"])]
        assert d["mass_range_GeV"][1] == pytest.approx(max(ends), abs=1e-9)


def test_l3_and_fcc_numbers():
    l3 = load_data_file("limits/l3_z_gamma.yaml")
    assert l3["limits"][0]["upper_limit"] == 1.0e-6 and l3["confidence_level"] == 0.95
    fcc = load_data_file("limits/fcc_ee_z_gamma.yaml")
    assert fcc["projection"] is True
    assert fcc["limits"][0]["upper_limit"] == 2.0e-11
    assert fcc["options"]["estimate"]["choices"]["naive"] == {"upper_limit": 2.5e-11}
    # Eq. (3.16): B_SM sqrt(L_LEP/L_FCC * B_LEP/B_SM) with B_SM = 7.2e-10
    naive = 7.2e-10 * math.sqrt(137e-12 / 150e-6 * 1e-6 / 7.2e-10)
    assert naive == pytest.approx(2.5e-11, rel=0.03)


def test_koto_curve_matches_abstract_at_135_MeV():
    d = load_data_file("limits/koto_kl_pi0_2015.yaml")
    curve = limit_of(d["limits"][0])
    assert curve(0.135) == pytest.approx(2.4e-9, rel=0.02)  # arXiv:1810.09655 abstract
    (c2015, c2021) = d["cross_checks"]
    assert c2015["upper_limit"] == 2.4e-9 and c2021["upper_limit"] == 1.6e-9
    assert c2021["upper_limit"] < curve(c2021["mass_GeV"])  # 2021 data is stronger: term is conservative


def test_na62_pi0_window_is_pi0_to_invisible_times_kpi2():
    curve = _curve("na62_k_pi_2025.yaml")
    br_pi0_inv_ul = 4.4e-9  # arXiv:2010.07644 abstract, 90% CL
    br_k_pipi0 = 0.2067  # PDG 2024 B(K+ -> pi+ pi0)
    assert curve(0.1349768) == pytest.approx(br_pi0_inv_ul * br_k_pipi0, rel=0.03)
    segs = curve.segments
    assert len(segs) == 3
    assert segs[1][0] >= 0.110 and segs[1][1] < segs[2][0]
    assert np.isnan(curve(0.1099))  # the 0.3 MeV gap between the two data sets
    assert np.isnan(curve(0.26))  # above the NA62 search region


def test_cleo_file_is_marked_unverified():
    d = load_data_file("limits/cleo_d_to_pi_recast.yaml")
    assert d["verified"] is False
    assert "NOT VERIFIED" in d["digitisation"]
    assert d["mass_range_GeV"] == [0.0, 0.1]


# --- the curves are ALPaca's numbers, unchanged -------------------------------------------

def _alpaca_row(fname):
    a = np.load(ALPACA / fname)
    assert a[-2, -1] == 4.0  # longest lifetime: log10(tau/ps) = 4
    m, r = a[-1, :-1], a[-2, :-1]
    ok = np.isfinite(r)
    return m[ok], 10.0 ** r[ok]


def test_na62_curve_is_the_alpaca_digitisation():
    curve = _curve("na62_k_pi_2025.yaml")
    m, ul = _alpaca_row("na62_kpiInv_2025.npy")
    main = np.isin(curve.segment, (1, 3))
    np.testing.assert_array_equal(curve.mass_GeV[main], m)
    np.testing.assert_allclose(curve.upper_limit[main], ul, rtol=1e-15)
    mp, ulp = _alpaca_row("na62_kpipi0.npy")
    win = (mp >= 0.110) & (mp < m[m > 0.15][0])
    np.testing.assert_array_equal(curve.mass_GeV[curve.segment == 2], mp[win])
    np.testing.assert_allclose(curve.upper_limit[curve.segment == 2], ulp[win], rtol=1e-15)


def test_e949_and_koto_curves_are_the_alpaca_digitisation():
    curve = _curve("e949_k_pi.yaml")
    m, ul = _alpaca_row("e949_kpiInv.npy")
    np.testing.assert_array_equal(curve.mass_GeV, m)
    np.testing.assert_allclose(curve.upper_limit, ul, rtol=1e-15)
    koto = _curve("koto_kl_pi0_2015.yaml")
    t = np.loadtxt(ALPACA / "koto_KLpiInv.txt")
    np.testing.assert_array_equal(koto.mass_GeV, t[:, 0])
    np.testing.assert_array_equal(koto.upper_limit, t[:, 2])
