"""The model-layout cache (xfit.histfactory.layout_cache): a model built from a cache entry is the
model built with pyhf (every layout field; nll, gradient and Hessian bit for bit), a hit imports
neither pyhf nor jsonschema, corrupt or foreign entries are ignored, a changed workspace misses,
XFIT_NO_MODEL_CACHE=1 turns the cache off, and a workspace is schema-validated once."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hf_toys import random_points, toy_workspace

from xfit.belle2 import files
from xfit.belle2.signal import x_sample_modifiers
from xfit.errors import InputError
from xfit.histfactory import ExtraSample, HistFactoryModel, layout_cache, validate
from xfit.histfactory.layout import Layout

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    """Every test gets an empty cache of its own and a process that has validated nothing."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(layout_cache.DISABLE_ENV, raising=False)
    monkeypatch.setattr(layout_cache, "_VALIDATED", set())
    return tmp_path / "cache" / "xfit" / "models"


def entries(cache) -> list[Path]:
    return sorted(cache.glob("*.json"))


def from_cache(model) -> bool:
    """Whether ``model`` was built from a cache entry (pyhf not used yet)."""
    return model._pyhf[0] is None


def belle2_with_extra():
    """The Belle II workspace and an extra sample like the X signal (shared histosys, own norm)."""
    spec = files.load_workspace()
    names = files.channel_name_map(spec)
    rng = np.random.default_rng(3)
    tmpl = {names[k]: rng.uniform(0.1, 2.0, len(files.signal_templates(spec)[k])) for k in files.SIGNAL_SAMPLES}
    extra = ExtraSample("x", "mu_x", tmpl, x_sample_modifiers(spec), norm_bounds=(0.0, 50.0), norm_init=0.5)
    return spec, [extra]


LAYOUT_FIELDS = ("channels", "channel_nbins", "channel_offsets", "nbins", "par_order", "par_slices", "npars",
                 "poi_name", "poi_index", "par_names", "naux", "nrows", "sample_rows")
ARRAY_FIELDS = ("init", "bounds", "fixed", "observed", "auxdata", "_nominal", "_histo_up", "_histo_dn")
CONSTRAINT_FIELDS = ("gauss_param", "gauss_aux_pos", "gauss_sigma", "gauss_aux", "pois_param", "pois_aux_pos",
                     "pois_factor", "pois_aux")


def assert_same_model(a: HistFactoryModel, b: HistFactoryModel, n_points: int = 4) -> None:
    for f in LAYOUT_FIELDS:
        va, vb = getattr(a, f), getattr(b, f)
        if f == "sample_rows":
            assert va.keys() == vb.keys()
            assert all(np.array_equal(va[k], vb[k]) for k in va)
        else:
            assert va == vb, f
    for f in ARRAY_FIELDS:
        va, vb = getattr(a, f), getattr(b, f)
        assert va.dtype == vb.dtype and np.array_equal(va, vb), f
    for f in CONSTRAINT_FIELDS:
        assert np.array_equal(getattr(a.constraints, f), getattr(b.constraints, f)), f
    assert a.constraints.gauss_const == b.constraints.gauss_const
    assert a.layout == b.layout
    for th in random_points(a, n_points, seed=7):
        assert a.nll(th) == b.nll(th)
        fa, ga = a.nll_and_grad(th)
        fb, gb = b.nll_and_grad(th)
        assert fa == fb and np.array_equal(ga, gb)
        assert np.array_equal(a.hessian(th), b.hessian(th))


@pytest.mark.parametrize("case", ["belle2_extra", "toy_code1"])
def test_model_from_cache_is_the_model_from_pyhf(case, cache_home):
    if case == "belle2_extra":
        spec, extra = belle2_with_extra()
        kwargs = {"extra_samples": extra}
    else:  # every modifier type, Poisson (shapesys) constraints, another interpolation code
        spec, kwargs = toy_workspace(), {"modifier_settings": {"normsys": {"interpcode": "code1"}}}
    built = HistFactoryModel(copy.deepcopy(spec), **kwargs)
    assert not from_cache(built) and len(entries(cache_home)) == 1
    cached = HistFactoryModel(copy.deepcopy(spec), **kwargs)
    assert from_cache(cached)
    assert_same_model(built, cached)
    # the cached layout is pyhf's config, field by field
    assert cached.layout == Layout.from_pyhf_config(built.pyhf_model.config)
    if case == "toy_code1":
        assert len(cached.constraints.pois_param) > 0
    # the lazily built pyhf model is the workspace's: same logpdf as the fast model
    th = random_points(cached, 1, seed=11)[0]
    npars = built.pyhf_model.config.npars
    data = np.asarray(cached.workspace.data(cached.pyhf_model))
    assert not from_cache(cached)
    if case == "toy_code1":
        assert float(cached.pyhf_model.logpdf(th[:npars], data)[0]) == pytest.approx(cached.logpdf(th), rel=1e-10)


def test_measurement_and_poi_are_part_of_the_key(cache_home):
    spec = toy_workspace()
    HistFactoryModel(spec)
    names = [p["name"] for p in spec["measurements"][0]["config"]["parameters"]]
    other = next(n for n in names if n != spec["measurements"][0]["config"]["poi"] and not n.startswith("lumi"))
    m = HistFactoryModel(spec, poi=other)
    assert not from_cache(m) and m.poi_name == other and len(entries(cache_home)) == 2


def run_python(code: str, env: dict) -> str:
    full = {**os.environ, **env, "XFIT_DATA_DIR": os.environ.get("XFIT_DATA_DIR", "")}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=full, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_cache_hit_imports_neither_pyhf_nor_jsonschema(tmp_path, cache_home):
    """One fresh process (imports are process-level): the Belle II and a toy model from a cache
    filled beforehand (here, by the same code) import neither pyhf nor jsonschema; then, with an
    empty cache in the same process, the same models are built by pyhf after validating (both
    imported: the check above can see an import) and give the same -ln L.  One process instead
    of a cold one and a warm one: the warm half runs first, so nothing the cold half imports can
    reach it, and it shows that pyhf and jsonschema were not imported before the cold half."""
    from xfit.histfactory import from_workspace

    path = tmp_path / "toy.json"
    path.write_text(json.dumps(toy_workspace()))
    filled = [HistFactoryModel(files.load_workspace()), from_workspace(path)]  # what fit.load_model() builds
    assert [from_cache(m) for m in filled] == [False, False] and len(entries(cache_home)) == 2
    code = (
        "import os, sys, json\n"
        "from xfit.belle2 import fit\n"
        "from xfit.histfactory import from_workspace\n"
        "def models():\n"
        f"    m = fit.load_model(); t = from_workspace({str(path)!r})\n"
        "    return [m._pyhf[0] is None, t._pyhf[0] is None, 'pyhf' in sys.modules,"
        " 'jsonschema' in sys.modules, m.nll(m.init), t.nll(t.init)]\n"
        "warm = models()\n"
        f"os.environ['XDG_CACHE_HOME'] = {str(tmp_path / 'empty')!r}\n"
        "fit._MODELS.clear()\n"
        "print(json.dumps([warm, models()]))\n"
    )
    env = {"XDG_CACHE_HOME": str(cache_home.parent.parent)}
    warm, cold = json.loads(run_python(code, env))
    assert cold[:4] == [False, False, True, True]
    assert warm[:4] == [True, True, False, False]
    assert warm[4:] == cold[4:] == [m.nll(m.init) for m in filled]
    assert len(entries(tmp_path / "empty" / "xfit" / "models")) == 2  # the cold half filled the empty cache


def test_corrupt_or_foreign_entry_is_ignored_and_rewritten(cache_home):
    spec = toy_workspace()
    ref = HistFactoryModel(spec)
    (entry,) = entries(cache_home)
    good = entry.read_text()
    data = json.loads(good)
    tampered = copy.deepcopy(data)
    tampered["layout"]["init"][0] += 1.0  # edited content: its checksum no longer matches
    foreign = copy.deepcopy(data)
    foreign["key"] = "0" * 64  # an entry of another model under this name
    incoherent = copy.deepcopy(data)
    incoherent["layout"]["npars"] += 1  # checksum recomputed, but the pieces do not fit
    incoherent["layout_sha256"] = layout_cache._payload_digest(incoherent["layout"])
    for text in ["{not json", good[: len(good) // 2], "", "[1, 2]", "\xff\xfe", json.dumps(tampered),
                 json.dumps(foreign), json.dumps(incoherent)]:
        entry.write_text(text)
        m = HistFactoryModel(spec)
        assert not from_cache(m)
        assert_same_model(ref, m, n_points=1)
        assert entry.read_text() == good  # rewritten
    entry.unlink()
    entry.mkdir()  # not even a file: ignored, and the cache is not written
    m = HistFactoryModel(spec)
    assert not from_cache(m) and entry.is_dir()
    assert not list(cache_home.glob("*.tmp"))


def test_changed_workspace_misses(cache_home):
    ref = HistFactoryModel(files.load_workspace())
    changed = files.load_workspace()
    changed["observations"][0]["data"][0] += 1.0  # one count
    m = HistFactoryModel(changed)
    assert not from_cache(m) and len(entries(cache_home)) == 2
    assert np.count_nonzero(m.observed != ref.observed) == 1
    assert from_cache(HistFactoryModel(files.load_workspace()))


def test_env_var_turns_the_cache_off(cache_home, monkeypatch):
    monkeypatch.setenv(layout_cache.DISABLE_ENV, "1")
    spec = toy_workspace()
    a, b = HistFactoryModel(spec), HistFactoryModel(spec)
    assert not from_cache(a) and not from_cache(b)
    assert not cache_home.exists()
    assert layout_cache.load(layout_cache.model_key(layout_cache.spec_digest(spec), None, None, {})) is None


def test_a_workspace_is_validated_once(monkeypatch):
    import pyhf

    calls = []
    real = pyhf.schema.validate

    def counting(spec, schema_name, *args, **kwargs):
        if schema_name != "measurement.json":  # pyhf checks the (small) measurement when it picks it
            calls.append(schema_name)
        return real(spec, schema_name, *args, **kwargs)

    monkeypatch.setattr(pyhf.schema, "validate", counting)
    monkeypatch.setenv(layout_cache.DISABLE_ENV, "1")  # in this process only
    spec = toy_workspace()
    validate(spec)
    HistFactoryModel(spec)  # validates again in pyhf_workspace_and_model: remembered
    validate(copy.deepcopy(spec))
    assert calls == ["workspace.json"]  # and pyhf's model.json check of the same content is skipped
    bad = toy_workspace()
    bad["channels"][0]["samples"][0]["data"] = "oops"
    for _ in range(2):  # an invalid workspace is never remembered as valid
        with pytest.raises(InputError, match="invalid workspace"):
            validate(bad)
    assert len(calls) == 3


@pytest.mark.parametrize("case", ["belle2", "toy"])
def test_diagnostics_constraints_from_the_cached_layout_are_pyhf_s(case):
    """Pulls read theta_0, widths and modifier types from the layout: without pyhf on a hit, and
    identical to what pyhf's config gives."""
    from xfit.inference import diagnostics

    spec = files.load_workspace() if case == "belle2" else toy_workspace()
    HistFactoryModel(copy.deepcopy(spec))
    cached = HistFactoryModel(copy.deepcopy(spec))
    got = diagnostics.constraints(cached)
    assert from_cache(cached)
    cfg = cached.pyhf_model.config  # the reference: pyhf's parameter sets, read directly
    types = {}
    for name, mtype in cfg.modifiers:
        types.setdefault(name, mtype)
    want = {}
    for pname in cfg.auxdata_order:
        ps = cfg.param_set(pname)
        sl = cfg.par_slice(pname)
        tau = list(ps.factors) if ps.pdf_type == "poisson" else [np.nan] * ps.n_parameters
        for k in range(ps.n_parameters):
            theta0 = ps.auxdata[k] / tau[k] if ps.pdf_type == "poisson" else ps.auxdata[k]
            want[sl.start + k] = (cfg.par_names[sl.start + k], ps.pdf_type, types[pname], theta0, ps.width()[k],
                                  tau[k])
    assert list(got.index) == sorted(want)
    for j, i in enumerate(got.index):
        name, kind, mod, theta0, width, tau = want[i]
        assert (got.names[j], got.kind[j], got.modifier[j]) == (name, kind, mod)
        assert got.theta0[j] == theta0 and got.sigma[j] == width
        assert got.tau[j] == tau or (np.isnan(tau) and np.isnan(got.tau[j]))
    if case == "toy":
        assert "poisson" in got.kind and "shapesys" in got.modifier
