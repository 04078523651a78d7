"""B+ -> K+ X templates, the SM + X model, the mass scan with CLs limits and the global-
likelihood term.  Needs the Belle II files in $XFIT_DATA_DIR (fails without)."""
from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from xfit.belle2 import files, scan, signal
from xfit.errors import InputError
from xfit.inference.calculators import cls_from_q, expected_sqrt_qa
from xfit.physics.constants import DEFAULT_SM
from xfit.physics.form_factors import b_to_k_fplus
from xfit.physics.kinematics import kallen
from xfit.plots.belle2_scan import plot_scan

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kx() -> signal.KXModel:
    return signal.KXModel()


@pytest.fixture(scope="module")
def scanner(kx) -> scan.Scanner:
    return scan.Scanner(kx=kx)


# --- SM spectrum and reweighting -----------------------------------------------------------

def test_sm_bin_integrals():
    integrals = signal.sm_bin_integrals()
    assert integrals.shape == (100,) and integrals.sum() == pytest.approx(signal.B_SM, rel=1e-12)
    # the shape is lambda^{3/2} f+^2 with HPQCD f+ (ratio of two narrow bins = ratio of densities)
    q2 = signal.Q2_CENTRES[[10, 60]]
    mB2, mK2 = DEFAULT_SM.meson("B+").mass ** 2, DEFAULT_SM.meson("K+").mass ** 2
    dens = kallen(mB2, mK2, q2) ** 1.5 * b_to_k_fplus(q2) ** 2
    assert integrals[60] / integrals[10] == pytest.approx(dens[1] / dens[0], rel=2e-3)
    assert integrals[-1] > 0 and signal.q2_max() > files.Q2_GEN_MAX


def test_reweighting_the_sm_spectrum_gives_back_the_sm_templates():
    dens = files.load_number_densities()
    t = signal.reweighted_templates(signal.sm_bin_integrals())
    for k, N in dens.items():
        assert np.allclose(t[k], N[:, 1:].sum(axis=1), rtol=1e-12)  # the underflow column is SM-only
    with pytest.raises(InputError):
        signal.reweighted_templates(np.ones(5))


# --- narrow line ---------------------------------------------------------------------------

def test_line_template_equals_the_efficiency_at_bin_centres():
    eff = signal.efficiency_table()
    for i in (0, 17, 50, 94):
        t = signal.x_templates(math.sqrt(signal.Q2_CENTRES[i]))
        for k in eff:
            assert np.allclose(t[k], eff[k][:, i], rtol=1e-9)


def test_line_template_is_continuous_in_mX():
    """Linear interpolation between bin centres: no steps at the generated-bin edges."""
    for edge in signal.Q2_HI[:94:7]:
        lo = signal.x_templates(math.sqrt(edge - 1e-9))
        hi = signal.x_templates(math.sqrt(edge + 1e-9))
        for k in lo:
            assert np.allclose(lo[k], hi[k], rtol=1e-6, atol=1e-3)
    # and between two centres the template is the linear mix
    q2a, q2b = signal.Q2_CENTRES[30], signal.Q2_CENTRES[31]
    mid = signal.x_templates(math.sqrt(0.75 * q2a + 0.25 * q2b))
    ta, tb = signal.x_templates(math.sqrt(q2a)), signal.x_templates(math.sqrt(q2b))
    for k in mid:
        assert np.allclose(mid[k], 0.75 * ta[k] + 0.25 * tb[k], rtol=1e-9)


def test_no_efficiency_above_21p7():
    dens = files.load_number_densities()
    for N in dens.values():
        assert not N[:, 1 + signal.LAST_POPULATED_BIN + 1:].any()
    assert signal.Q2_HI[signal.LAST_POPULATED_BIN] == pytest.approx(21.74, abs=0.01)
    below = signal.x_templates(signal.MX_NO_EFFICIENCY - 0.01)
    above = signal.x_templates(signal.MX_NO_EFFICIENCY + 1e-6)
    assert sum(v.sum() for v in below.values()) > 0
    assert sum(v.sum() for v in above.values()) == 0
    with pytest.raises(InputError):
        signal.x_templates(-1.0)


def test_breit_wigner():
    P = signal.breit_wigner_fractions(2.0, 0.05)
    assert P.sum() == pytest.approx(1.0, abs=2e-3) and np.all(P >= 0)
    i = int(np.searchsorted(signal.Q2_HI, 4.0))
    assert np.argmax(P) == i
    # narrow width: all in the bin of m^2 (the un-interpolated line)
    Pn = signal.breit_wigner_fractions(2.0, 1e-7)
    assert Pn[i] == pytest.approx(1.0, abs=1e-4)
    eff = signal.efficiency_table()
    t = signal.x_templates(2.0, width=1e-7)
    assert np.allclose(t["A"], eff["A"][:, i], rtol=1e-3, atol=1e-6 * eff["A"][:, i].max())
    wide = signal.x_templates(2.0, width=0.5)
    assert np.allclose(wide["B"], eff["B"] @ signal.breit_wigner_fractions(2.0, 0.5))
    with pytest.raises(InputError):
        signal.breit_wigner_fractions(2.0, 0.0)


# --- the SM + X model ----------------------------------------------------------------------

def test_x_sample_modifiers():
    spec = files.load_workspace()
    mods = signal.x_sample_modifiers(spec)
    names = files.channel_name_map(spec)
    by = {c["name"]: c for c in spec["channels"]}
    for key, sample in files.SIGNAL_SAMPLES.items():
        sm = next(s for s in by[names[key]]["samples"] if s["name"] == sample)
        kept = {m["name"] for m in mods[names[key]]}
        expected = {m["name"] for m in sm["modifiers"] if m["type"] != "normfactor" and not m["name"].startswith("corr_ff_")}
        assert kept == expected
        assert not any(n.startswith("corr_ff_") for n in kept) and "mu" not in kept
        nom = np.asarray(sm["data"])
        for m in mods[names[key]]:
            if m["type"] == "histosys":
                assert m["relative"]
                orig = next(x for x in sm["modifiers"] if x["name"] == m["name"])
                assert np.allclose(np.asarray(m["data"]["hi_data"]) * nom, orig["data"]["hi_data"])
    assert {m["name"] for m in mods[names["sgn1_had"]] if m["type"] == "normsys"} == {"nBB", "norm_sgn_1_had"}


def test_x_sample_with_the_sm_shape_is_the_sm_signal(kx):
    """An X sample carrying the SM template behaves exactly like extra SM signal (the
    form-factor nuisances at 0): lambda(SM+X; mu=1, mu_X=k) = lambda(SM; mu=1+k)."""
    from xfit.belle2 import fit

    sm_model = fit.load_model()
    m = kx.model.with_data(kx.model.observed, kx.model.auxdata)
    tmpl = files.signal_templates(files.load_workspace())
    for key, t in tmpl.items():
        m.set_sample_template(kx.channel_names[key], signal.X_SAMPLE, t)
    rng = np.random.default_rng(11)
    ff = [sm_model.index(f"corr_ff_c{i}") for i in (1, 2, 3)]
    for _ in range(5):
        th = sm_model.init.copy()
        for n in sm_model.par_order:
            sl = sm_model.par_slices[n]
            th[sl] = rng.uniform(0.8, 1.2, sl.stop - sl.start) if sm_model.bounds[sl.start, 0] > 0 else rng.uniform(-2, 2, sl.stop - sl.start)
        th[ff] = 0.0
        k = rng.uniform(0, 3)
        th[sm_model.poi_index] = 1.0 + k
        x = np.append(th, k)
        x[kx.imu] = 1.0
        assert np.allclose(m.expected_main(x), sm_model.expected_main(th), rtol=1e-12)
    # and with mu_X = 0 the SM + X model is the published one
    assert kx.model.nll(np.append(sm_model.init, 0.0)) == pytest.approx(sm_model.nll(sm_model.init), rel=1e-12)


def test_x_parameter_and_sm_signal_fixed_by_default(kx):
    assert kx.model.par_order[-1] == signal.X_PARAMETER and kx.ix == kx.model.npars - 1
    assert kx.fix() == {kx.imu: 1.0}
    assert kx.fix(mu_X=0.3) == {kx.imu: 1.0, kx.ix: 0.3}


# --- CLs -----------------------------------------------------------------------------------

def test_cls_formulae_match_pyhf_asymptotics():
    import pyhf
    from pyhf.infer.calculators import AsymptoticTestStatDistribution

    pyhf.set_backend("numpy")
    for qt, qa in [(0.0, 4.0), (1.0, 4.0), (4.0, 4.0), (9.0, 4.0), (0.3, 0.5), (12.0, 2.0)]:
        sqa = math.sqrt(qa)
        t = math.sqrt(qt) - sqa if math.sqrt(qt) <= sqa else (qt - qa) / (2 * sqa)
        sb, b = AsymptoticTestStatDistribution(-sqa, -sqa), AsymptoticTestStatDistribution(0.0, -sqa)
        ref = (float(sb.pvalue(t)), float(b.pvalue(t)))
        ours = cls_from_q(qt, qa)
        assert ours[0] == pytest.approx(ref[0], rel=1e-12) and ours[1] == pytest.approx(ref[1], rel=1e-12)
    # expected limits: Cowan et al. Eq. (89) with CLs, mu_up/sigma = Phi^-1(1 - alpha Phi(N)) + N
    from scipy import stats

    for n in (-2, -1, 0, 1, 2):
        s = expected_sqrt_qa(n)
        # the expected CLs (pyhf: test statistic at -N) at this q_A is exactly 0.05
        sb, b = AsymptoticTestStatDistribution(-s, -s), AsymptoticTestStatDistribution(0.0, -s)
        assert float(sb.pvalue(-n)) / float(b.pvalue(-n)) == pytest.approx(0.05, rel=1e-10)
        assert s == pytest.approx(stats.norm.ppf(1 - 0.05 * stats.norm.cdf(n)) + n)


def test_limit_solves_cls_and_bands_are_ordered(scanner):
    p = scanner.point(2.0)
    e = p.BR_95_expected
    assert e["-2"] < e["-1"] < e["0"] < e["1"] < e["2"]
    mu = p.BR_95 / signal.BR_UNIT
    assert scanner.cls(mu, p.BR_hat / signal.BR_UNIT, p.nll) == pytest.approx(0.05, abs=1e-4)
    assert p.BR_95 > p.BR_hat > 0 and p.q0 > 9


# --- the scan ------------------------------------------------------------------------------

def test_scan_writes_jsonl_resumes_and_plots(tmp_path, scanner):
    masses = [0.5, 1.9, 2.1, 2.3]
    out = tmp_path / "scan"
    r1 = scan.run_scan(masses, out=out, scanner=scanner)
    plot_scan(r1, out)
    lines = (out / scan.SCAN_FILE).read_text().splitlines()
    head = json.loads(lines[0])
    assert len(lines) == 1 + len(masses) and head["type"] == "header"
    digests = head["definition"]["input_sha256"]
    assert digests["combined_likelihood.json"] == files.sha256_of(files.find_file(files.WORKSPACE_FILE))
    assert len(digests) == 4  # the workspace and the three number densities
    for stem in ("delta_chi2_vs_mX", "limits_vs_mX"):
        for ext in ("png", "pdf"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000
    s = json.loads((out / scan.SUMMARY_FILE).read_text())
    assert s["Z_local_dof"] == 1 and len(s["upper_limits"]) == 4
    assert 1.9 <= s["best_fit"]["mX"] <= 2.3 and s["best_fit"]["BR"] > 0
    # simulate an interruption after two masses (with a half-written line) and resume
    (out / scan.SCAN_FILE).write_text("\n".join(lines[:3]) + '\n{"mX": 2.1, "BR_h')
    calls = []
    orig = scanner.point
    scanner.point = lambda m, limits=True: calls.append(m) or orig(m, limits)
    try:
        r2 = scan.run_scan(masses, out=out, scanner=scanner)  # draws nothing: the figures are checked above
    finally:
        del scanner.point
    assert calls == [2.1, 2.3]
    assert [p.BR_95 for p in r2.points] == pytest.approx([p.BR_95 for p in r1.points], rel=1e-6)
    assert len((out / scan.SCAN_FILE).read_text().splitlines()) == 1 + len(masses)
    # another configuration starts afresh
    r3 = scan.run_scan(masses[:2], out=out, scanner=scanner, limits=False)
    assert r3.points[0].BR_95 is None


def test_scan_reports_no_efficiency(scanner):
    p = scanner.point(4.7)
    assert p.BR_95 is None and "no signal efficiency" in p.note and p.q0 == 0.0


def test_default_masses():
    m = scan.default_masses()
    assert len(m) >= 100 and m[0] > 0 and m[-1] == pytest.approx(4.6)
    with pytest.raises(InputError):
        scan.default_masses(3.0, 2.0, 10)


def test_cli_scan_json(tmp_path, capsys):
    from xfit.cli import main

    rc = main(["belle2", "scan", "--json", "--mX-min", "1.8", "--mX-max", "2.4", "--n-masses", "4",
               "--out", str(tmp_path / "s"), "--no-plots"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"best_fit", "Z_local", "Z_local_dof", "upper_limits"}
    assert out["Z_local"] > 3 and len(out["upper_limits"]) == 4
    assert all(u["BR_95"] > 0 for u in out["upper_limits"])
    assert main(["belle2", "scan", "--width", "-1", "--out", str(tmp_path / "x")]) == 2


# --- the global-likelihood term ------------------------------------------------------------

def _term_module():
    try:
        return importlib.import_module("xfit.likelihoods.belle2_knunu")
    except ModuleNotFoundError:  # running from the source tree without installation
        return importlib.import_module("likelihoods.belle2_knunu")


def test_likelihood_term():
    mod = _term_module()
    from xfit.likelihood import _REGISTRY, LikelihoodTerm

    assert _REGISTRY["belle2_knunu"] is mod.Belle2KNuNu
    term = mod.Belle2KNuNu()
    assert isinstance(term, LikelihoodTerm)
    assert term.observables == ("BR(B+->K+X)", "BR(X->invisible)")
    assert term.mass_range[1] == pytest.approx(signal.MX_NO_EFFICIENCY)
    assert "2311.14647" in str(term.citation) and "10.17182/hepdata.166082" in str(term.citation)
    mX = np.array([[0.5, 2.1, 2.1], [3.0, 4.9, 2.1]])
    br = np.array([[0.0, 8.6e-6, 0.0], [1e-5, 1e-5, 3e-5]])
    c = term.chi2({"mX": mX, "BR(B+->K+X)": br, "BR(X->invisible)": 1.0})
    assert c.shape == (2, 3)
    assert c[0, 0] == pytest.approx(0.0, abs=1e-8) and c[0, 2] == pytest.approx(0.0, abs=1e-8)
    assert c[1, 1] == 0.0  # outside the mass range
    assert c[0, 1] == pytest.approx(-13.17, abs=0.02)  # near the best fit of the scan
    assert c[1, 2] > 0
    # the same point through the product of the two observables
    c2 = term.chi2({"mX": 2.1, "BR(B+->K+X)": 1.72e-5, "BR(X->invisible)": 0.5})
    assert c2 == pytest.approx(c[0, 1], abs=1e-6)
    with pytest.raises(InputError):
        term.chi2({"mX": 2.0, "BR(B+->K+X)": -1e-6, "BR(X->invisible)": 1.0})


def test_term_via_registry_when_installed():
    """get_term works where xfit.likelihoods is importable (an installed package)."""
    try:
        importlib.import_module("xfit.likelihoods")
    except ModuleNotFoundError:
        _term_module()  # the source-tree module registers the same factory
        from xfit.likelihood import _REGISTRY

        assert "belle2_knunu" in _REGISTRY
        return
    from xfit.likelihood import get_term

    assert get_term("belle2_knunu", width=0.0).name == "belle2_knunu"
