"""Toys of xfit.inference.toys: the pseudo-data have the right means and variances (main
Poisson, Gaussian and Poisson auxiliary data), every toy is reproducible alone from its seed,
and the toy CLs (ToyCalculator, ``xfit workspace cls --toys``) agree with the asymptotic ones on
a high-count workspace, where the asymptotic formulae hold."""
from __future__ import annotations

import json

import numpy as np
import pytest

from xfit.cli import main
from xfit.errors import InputError
from xfit.histfactory import HistFactoryModel
from xfit.inference.calculators import AsymptoticCalculator
from xfit.inference.toys import ToyCalculator, sample_toy, sample_toys, toy_rng


def small_spec() -> dict:
    """Gaussian constraints (lumi with sigma 0.05, normsys, staterror) and a Poisson one (shapesys)."""
    return {
        "version": "1.0.0",
        "channels": [{"name": "sr", "samples": [
            {"name": "signal", "data": [3.0, 6.0], "modifiers": [
                {"name": "mu", "type": "normfactor", "data": None},
                {"name": "lumi", "type": "lumi", "data": None}]},
            {"name": "bkg", "data": [20.0, 12.0], "modifiers": [
                {"name": "lumi", "type": "lumi", "data": None},
                {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                {"name": "stat", "type": "staterror", "data": [2.0, 1.5]},
                {"name": "shape", "type": "shapesys", "data": [4.0, 2.0]}]}]}],
        "observations": [{"name": "sr", "data": [24, 19]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": [
            {"name": "lumi", "auxdata": [1.0], "sigmas": [0.05], "bounds": [[0.5, 1.5]], "inits": [1.0]}]}}],
    }


def high_count_spec(scale: float = 20.0) -> dict:
    """Two bins with ~1000 events: the asymptotic regime."""
    return {
        "version": "1.0.0",
        "channels": [{"name": "sr", "samples": [
            {"name": "signal", "data": [5.0 * scale, 10.0 * scale], "modifiers": [
                {"name": "mu", "type": "normfactor", "data": None}]},
            {"name": "bkg", "data": [50.0 * scale, 60.0 * scale], "modifiers": [
                {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.03, "lo": 0.97}},
                {"name": "bkg_shape", "type": "shapesys", "data": [1.0 * scale, 1.2 * scale]}]}]}],
        "observations": [{"name": "sr", "data": [52.0 * scale, 63.0 * scale]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": [{"name": "mu", "bounds": [[0, 5]]}]}}],
    }


@pytest.fixture(scope="module")
def model():
    return HistFactoryModel(small_spec())


def _theta(model):
    th = model.init.copy()
    th[model.index("mu")] = 1.5
    th[model.index("lumi")] = 1.03
    th[model.index("bkg_norm")] = 0.4
    return th


def test_toy_statistics(model):
    """Means and variances of main and auxiliary data over 4000 toys: main Poisson(nu(theta)),
    Gaussian aux Normal(theta, sigma), Poisson aux Poisson(theta tau)."""
    n = 4000
    th = _theta(model)
    th[model.par_slices["shape"]] = [1.2, 0.9]
    main, aux = sample_toys(model, th, n, seed=11)
    assert main.shape == (n, model.nbins) and aux.shape == (n, model.naux)
    nu = model.expected_main(th)
    assert np.all(main == np.round(main)) and np.all(main >= 0)
    se = np.sqrt(nu / n)
    assert np.all(np.abs(main.mean(0) - nu) < 4 * se)
    assert np.allclose(main.var(0), nu, rtol=0.1)
    c = model.constraints
    ga = aux[:, c.gauss_aux_pos]
    mean_g, sig = th[c.gauss_param], c.gauss_sigma
    assert np.all(np.abs(ga.mean(0) - mean_g) < 4 * sig / np.sqrt(n))
    assert np.allclose(ga.std(0), sig, rtol=0.05)
    assert 0.04 < sig.min() < 0.06  # the lumi width of the measurement is used
    pa = aux[:, c.pois_aux_pos]
    rate = th[c.pois_param] * c.pois_factor
    assert len(rate) == 2 and np.all(pa == np.round(pa))
    assert np.all(np.abs(pa.mean(0) - rate) < 4 * np.sqrt(rate / n))
    assert np.allclose(pa.var(0), rate, rtol=0.1)
    # the expectation is the Asimov data set
    main_a, aux_a = model.asimov_data(th)
    assert np.allclose(main_a, nu)
    assert np.allclose(aux.mean(0), aux_a, atol=4 * np.sqrt(np.maximum(aux_a, 1.0) / n) + 0.01)


def test_seeds_reproduce_each_toy_alone(model):
    th = _theta(model)
    a = sample_toy(model, th, toy_rng(7, 3))
    b = sample_toy(model, th, toy_rng(7, 3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    m5, x5 = sample_toys(model, th, 5, seed=7)
    m9, x9 = sample_toys(model, th, 9, seed=7)
    assert np.array_equal(m5, m9[:5]) and np.array_equal(x5, x9[:5])  # toy k does not depend on n
    assert np.array_equal(m5[3], a[0]) and np.array_equal(x5[3], a[1])
    other = sample_toy(model, th, toy_rng(8, 3))
    stream = sample_toy(model, th, toy_rng(7, 3, stream=1))
    assert not np.array_equal(other[1], a[1]) and not np.array_equal(stream[1], a[1])


@pytest.mark.parametrize("mu", [0.6, 0.8])
def test_toy_cls_agrees_with_asymptotic_at_high_counts(mu):
    m = HistFactoryModel(high_count_spec())
    asym = AsymptoticCalculator(m).hypotest(mu)
    toys = ToyCalculator(m, n_toys=400, seed=3).hypotest(mu)
    assert toys.n_toys == 400 and toys.n_failed == 0 and toys.calculator == "toys"
    assert toys.q_tilde == pytest.approx(asym.q_tilde, rel=1e-6, abs=1e-9)
    for name, err in (("CLsb", toys.CLsb_err), ("CLb", toys.CLb_err), ("CLs", toys.CLs_err)):
        assert 0 < err < 0.05
        assert abs(getattr(toys, name) - getattr(asym, name)) < 3.5 * err + 0.005, name
    assert toys.CLs_exp[2] == pytest.approx(asym.CLs_exp[2], abs=0.06)  # median expected
    assert toys.summary()["n_toys"] == 400


def test_toy_calculator_fits_a_copy_with_the_compiled_kernel(model):
    """Many toy fits: the calculator's copy of the model (same data) evaluates with the kernel
    of many-fit runs (numba where installed, unless XFIT_KERNEL=numpy); the caller's model
    keeps its own."""
    from xfit.histfactory import kernel

    before = model.kernel
    calc = ToyCalculator(model, n_toys=1)
    assert model.kernel == before and calc.model is not model
    assert calc.model.kernel == kernel.resolve(None, many_fits=True)
    assert np.array_equal(calc.model.observed, model.observed)
    assert np.array_equal(calc.model.auxdata, model.auxdata)


def test_toy_calculator_rejects_no_toys():
    with pytest.raises(InputError, match="--toys"):
        ToyCalculator(HistFactoryModel(small_spec()), n_toys=0)


def _cls(capsys, path, *extra):
    assert main(["workspace", "cls", str(path), "--poi-value", "0.5", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_workspace_cls_with_toys(tmp_path, capsys):
    path = tmp_path / "ws.json"
    path.write_text(json.dumps(high_count_spec()))
    asym = _cls(capsys, path)
    assert set(asym) == {"CLs_obs", "CLs_exp"}
    a = _cls(capsys, path, "--toys", "300", "--seed", "5")
    b = _cls(capsys, path, "--toys", "300", "--seed", "5")
    c = _cls(capsys, path, "--toys", "300", "--seed", "6")
    assert set(a) == {"CLs_obs", "CLs_exp", "n_toys"} and a["n_toys"] == 300 and len(a["CLs_exp"]) == 5
    assert a == b and a != c
    assert abs(a["CLs_obs"] - asym["CLs_obs"]) < 0.1  # ~4 binomial errors of 300 toys
    assert main(["workspace", "cls", str(path), "--poi-value", "0.5", "--toys", "0"]) != 0
    err = capsys.readouterr().err
    assert "--toys" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("n_toys", ["x", float("nan"), 2.5, None, True, 0, -1.0, float("inf")])
def test_a_bad_number_of_toys_names_the_flag(model, n_toys):
    """Text, NaN or None gave a ValueError/TypeError traceback, 2.5 was cut to 2 toys."""
    with pytest.raises(InputError, match="--toys must be a whole number >= 1") as info:
        ToyCalculator(model, n_toys=n_toys)
    assert len(str(info.value).splitlines()) <= 3
    with pytest.raises(InputError, match="--toys"):
        sample_toys(model, model.init, n_toys, seed=1)


def test_toy_draws_are_numpys_draws_in_pyhf_order(model):
    """A toy is, from its generator: Poisson main counts around nu(theta), then the Gaussian
    auxiliary data Normal(theta, sigma), then the Poisson ones Poisson(theta tau) -- drawn
    here directly with numpy (the kept means of the sampler give the same numbers)."""
    th = _theta(model)
    c = model.constraints
    rng = toy_rng(5, 2)
    main = rng.poisson(np.maximum(model.expected_main(th), 0.0)).astype(float)
    aux = np.empty(c.naux)
    aux[c.gauss_aux_pos] = rng.normal(th[c.gauss_param], c.gauss_sigma)
    aux[c.pois_aux_pos] = rng.poisson(th[c.pois_param] * c.pois_factor)
    got_main, got_aux = sample_toys(model, th, 3, seed=5)
    assert np.array_equal(got_main[2], main) and np.array_equal(got_aux[2], aux)
