"""``xfit belle2 toys`` with a handful of toys and few masses: finite outputs, p in [0, 1], the
same toys from any executor and from a rerun (resume), each toy reproducible alone.
Needs the Belle II data through $XFIT_DATA_DIR (fails, never skips, without it)."""
from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from xfit.belle2 import toys
from xfit.belle2.scan import default_masses
from xfit.belle2.signal import KXModel
from xfit.cli.belle2_toys import register
from xfit.errors import InputError
from xfit.inference import mle

MASSES = default_masses(1.0, 3.0, 5)


def test_upcrossings():
    assert toys.upcrossings([0.0, 1.0, 0.2, 0.7, 0.9, 0.1], 0.5) == 2
    assert toys.upcrossings([1.0, 1.0], 0.5) == 0  # starting above is not an up-crossing
    assert toys.upcrossings([0.0, math.nan, 1.0], 0.5) == 1


@pytest.mark.parametrize("toy_max, p, z_is_null", [([1.0, 2.0, 3.0, 4.0], 0.0, True),
                                                   ([20.0, 30.0, 40.0, 50.0], 1.0, True),
                                                   ([1.0, 20.0, 3.0, 30.0], 0.5, False)])
def test_summary_edge_cases(toy_max, p, z_is_null):
    """No toy above, every toy above, half above: p, its bounds and Z stay in range (null Z
    only where p is 0 or 1); Gross-Vitells p never exceeds 1."""
    r = toys.ToysResult([1.0, 2.0], [9.0, 4.0], toy_max, [3, 5, 4, 6], 0.5, 0, 1.0, 10, 0, 1.0)
    s = r.summary()
    assert s["p_global"] == p and s["n_toys"] == 4 and s["q0_max_obs"] == 9.0 and s["mX_at_max_obs"] == 1.0
    assert (s["Z_global"] is None) == z_is_null
    assert p <= s["p_global_upper_95"] <= 1 and math.isfinite(s["p_local"])
    assert s["gross_vitells"]["N_u0"] == 4.5 and 0 < s["gross_vitells"]["p_global"] <= 1
    expect = s["p_local"] + 4.5 * math.exp(-(9.0 - 0.5) / 2)
    assert s["gross_vitells"]["p_global"] == pytest.approx(min(expect, 1.0))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("toys")
    lines = []
    res = toys.run_toys(4, seed=5, masses=MASSES, executor="serial", out=out, log=lines.append)
    return out, res, lines


def test_outputs_are_finite_and_p_in_unit_interval(run):
    out, res, _ = run
    s = res.summary()
    assert {"Z_local", "Z_global", "p_global", "n_toys", "trials_factor"} <= set(s)
    assert s["n_toys"] == 4 and s["n_masses"] == len(MASSES) and s["n_failed_fits"] == 0
    for k in ("Z_local", "p_local", "q0_max_obs", "p_global", "p_global_err", "p_global_upper_95",
              "Z_global_lower_95", "trials_factor", "fits_per_cpu_second"):
        assert isinstance(s[k], float) and math.isfinite(s[k]), k
    assert 0 <= s["p_global"] <= 1 and 0 < s["p_global_upper_95"] <= 1
    assert s["Z_local"] == pytest.approx(math.sqrt(s["q0_max_obs"]))
    assert 2.0 < s["Z_local"] < 4.5  # the known ~3.5 sigma excess near 2 GeV
    gv = s["gross_vitells"]
    assert math.isfinite(gv["N_u0"]) and gv["N_u0"] >= 0 and gv["p_global"] >= s["p_local"]
    assert all(np.isfinite(res.max_q0_toys)) and all(q >= 0 for q in res.max_q0_toys)
    saved = json.loads((out / toys.SUMMARY_FILE).read_text())
    assert saved["n_toys"] == 4 and saved["p_global"] == s["p_global"]


def test_resume_and_reproducibility(run):
    out, res, _ = run
    path = out / toys.TOYS_FILE
    lines = path.read_text().splitlines()
    assert len(lines) == 5  # header + 4 toys
    # a rerun skips every finished toy
    log = []
    again = toys.run_toys(4, seed=5, masses=MASSES, executor="serial", out=out, log=log.append)
    assert any("resuming: 4 of 4 toys already done" in m for m in log) and not any(" toys (" in m for m in log)
    assert again.max_q0_toys == res.max_q0_toys
    # interrupted after two toys: the rerun computes the others, with the same numbers
    path.write_text("\n".join(lines[:3]) + "\n")
    log = []
    resumed = toys.run_toys(4, seed=5, masses=MASSES, executor="serial", out=out, log=log.append)
    assert any("resuming: 2 of 4" in m for m in log)
    assert [m.split(": ")[1].split(" (")[0] for m in log if " toys (" in m] == ["3/4 toys", "4/4 toys"]
    assert resumed.max_q0_toys == pytest.approx(res.max_q0_toys, abs=1e-9)
    # one toy alone, from its seed
    kx = KXModel()  # observed data: the SM-only fit gives the generating parameters
    theta = mle.fit(kx.model, fix={**kx.fix(), kx.ix: 0.0}).x
    alone = toys.run_toy({"index": 2, "seed": 5, "theta": theta, "masses": [float(m) for m in MASSES]})
    assert alone["max_q0"] == pytest.approx(res.max_q0_toys[2], abs=1e-7)
    # another seed gives other toys
    other = toys.run_toys(2, seed=6, masses=MASSES, executor="serial")
    assert other.max_q0_toys != res.max_q0_toys[:2]


def _parser():
    ap = argparse.ArgumentParser(prog="xfit belle2")
    register(ap.add_subparsers(dest="belle2_command"))
    return ap


def test_cli_json_process_executor_matches_serial(tmp_path, capsys, run):
    _, res, _ = run
    ap = _parser()
    args = ap.parse_args(["toys", "--n-toys", "2", "--seed", "5", "--json", "--quiet", "--executor", "process",
                          "--out", str(tmp_path), "--n-masses", "5", "--mX-min", "1.0", "--mX-max", "3.0"])
    assert args.func(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_toys"] == 2 and 0 <= d["p_global"] <= 1 and d["trials_factor"] >= 0
    stored = [json.loads(line) for line in (tmp_path / toys.TOYS_FILE).read_text().splitlines()[1:]]
    by_index = {r["index"]: r["result"]["max_q0"] for r in stored}
    assert by_index[0] == pytest.approx(res.max_q0_toys[0], abs=1e-9)
    assert by_index[1] == pytest.approx(res.max_q0_toys[1], abs=1e-9)


@pytest.mark.parametrize("argv, flag", [
    (["--n-toys", "0"], "--n-toys"),
    (["--n-toys", "2", "--n-masses", "1"], "--n-masses"),
    (["--n-toys", "2", "--executor", "cluster"], "--executor"),
    (["--n-toys", "2", "--mX-max", "nan"], "--mX-max"),
    (["--n-toys", "2", "--u0", "-1"], "--u0"),
])
def test_bad_options_are_one_line_errors(argv, flag, tmp_path):
    args = _parser().parse_args(["toys", "--out", str(tmp_path), "--quiet", *argv])
    with pytest.raises(InputError) as e:
        args.func(args)
    msg = str(e.value)
    assert flag in msg and "\n" not in msg and len(msg) < 200


@pytest.mark.parametrize("kwargs, match", [
    ({"n_toys": 0}, r"^--n-toys must be an integer >= 1, got 0$"),
    ({"n_toys": float("nan")}, r"^--n-toys must be an integer >= 1, got nan$"),
    ({"n_toys": 1.5}, r"^--n-toys must be an integer >= 1, got 1.5$"),
    ({"n_toys": 2, "seed": -1}, r"^--seed must be an integer >= 0, got -1$"),
    ({"n_toys": 2, "seed": 1.5}, r"^--seed must be an integer >= 0, got 1.5$"),
])
def test_run_toys_rejects_bad_counts_and_seeds_before_any_fit(kwargs, match, monkeypatch):
    from xfit.errors import InputError

    def no_model(*a, **k):  # building the model means the bad argument was not caught first
        raise AssertionError("run_toys built a model before checking its arguments")

    monkeypatch.setattr(toys, "KXModel", no_model)
    with pytest.raises(InputError, match=match):
        toys.run_toys(**kwargs)
