"""Toys for the B+ -> K+ X mass scan: the global significance (look-elsewhere effect in m_X).

* pseudo-data from the SM-only fit to the real data (SM signal at mu = 1, mu_X = 0, every
  nuisance at its fitted value): main counts Poisson, auxiliary data fluctuated
  (:func:`xfit.inference.toys.sample_toy`; toy k uses :func:`xfit.inference.toys.toy_rng`
  (seed, k), so any toy is reproducible alone);
* on each toy (and on the real data) the mass scan of :mod:`xfit.belle2.scan` without limits:
  the background-only fit (mu_X = 0), then at each mass the free fit (mu_X >= 0, warm-started
  from the previous mass), q0(m) = 2 [ -ln L(B=0) + ln L(B_hat(m)) ] (Cowan et al. Eq. 12);
* the maximum of q0 over the grid per toy gives the distribution of the maximal local q0;
  p_global = fraction of toys with max q0 >= the observed one (binomial error),
  Z_global = Phi^-1(1 - p_global);
* Gross and Vitells (arXiv:1005.1891, Eq. 2 with one degree of freedom):
  p_global ~ p_local + <N(u0)> exp(-(u - u0) / 2), with <N(u0)> the mean number of
  up-crossings of the level u0 by q0(m) along the grid, counted on the toys.

The grid is coarser than the scan's by default (:data:`DEFAULT_N_MASSES` = 47 masses in
(0, 4.6] GeV, step ~0.1 GeV): the observed max q0 is taken on the same grid as the toys', so
the comparison is consistent; a finer grid can only raise both.

Each toy is written to ``<out>/toys.jsonl`` (:class:`xfit.inference.store.ResultStore`,
fingerprint: seed, n_toys, masses, input digests) as it finishes; a rerun skips finished toys.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from ..errors import ConvergenceError, DataError, InputError
from ..inference import mle
from ..inference import test_statistics as ts
from ..inference.executors import run_chunks
from ..inference.progress import Progress
from ..inference.results import Result, to_jsonable
from ..inference.store import ResultStore, run_metadata
from ..inference.toys import sample_toy, toy_rng
from .scan import DEFAULT_MX_MAX, DEFAULT_MX_MIN, check_masses_have_efficiency, default_masses
from .signal import KXModel

#: Default number of masses of the toy scans (the mass scan's default is 101).
DEFAULT_N_MASSES = 47
#: Default reference level u0 of the Gross-Vitells up-crossings.
DEFAULT_U0 = 0.5
TOYS_FILE = "toys.jsonl"
SUMMARY_FILE = "toys_summary.json"
_REMEDY = "delete it or choose another --out"


# --- one scan ------------------------------------------------------------------------------

def scan_q0(kx: KXModel, masses, main=None, aux=None) -> dict:
    """q0 at every mass for the data (main, aux) (default: the data already in ``kx.model``).

    Returns {"q0": [...], "n_fits", "n_failed", "cpu_seconds"}; a mass whose fit fails even
    from the background-only point has q0 = NaN (counted in n_failed)."""
    t0 = time.process_time()
    model = kx.model
    if main is not None:
        model.set_data(main, aux)
    fix = kx.fix()
    bkg = mle.fit(model, fix={**fix, kx.ix: 0.0})
    n_fits, failed, q0 = 1, 0, []
    start = bkg.x
    for mX in masses:
        if kx.set_mass(float(mX)) <= 0.0:
            q0.append(0.0)
            continue
        try:
            r = mle.fit(model, init=start, fix=fix, retries=[(bkg.x, "newton")])
            n_fits += 1
        except ConvergenceError:
            n_fits += 1
            failed += 1
            q0.append(math.nan)
            start = bkg.x
            continue
        q0.append(ts.q0(bkg.nll, r.nll))
        start = r.x
    return {"q0": q0, "n_fits": n_fits, "n_failed": failed, "cpu_seconds": time.process_time() - t0}


def upcrossings(q0, u0: float) -> int:
    """Number of up-crossings of the level u0 by the sequence q0 along the grid (NaN skipped)."""
    q = np.asarray([v for v in q0 if math.isfinite(v)], dtype=float)
    return int(np.count_nonzero((q[:-1] < u0) & (q[1:] >= u0))) if len(q) > 1 else 0


# --- toys in workers -----------------------------------------------------------------------

_KX: KXModel | None = None


def _worker_kx() -> KXModel:
    """The SM + X model of this process (built once per worker process)."""
    global _KX
    if _KX is None:
        _KX = KXModel()
    return _KX


def run_toy(task: dict) -> dict:
    """One toy: pseudo-data at task["theta"] with toy_rng(seed, index), its mass scan."""
    kx = _worker_kx()
    main, aux = sample_toy(kx.model, np.asarray(task["theta"]), toy_rng(task["seed"], task["index"]))
    res = scan_q0(kx, task["masses"], main, aux)
    q = [v for v in res["q0"] if math.isfinite(v)]
    res["max_q0"] = max(q) if q else math.nan
    return res


def _validate(d) -> None:
    if not isinstance(d, dict) or not isinstance(d.get("q0"), list) or "max_q0" not in d:
        raise DataError("a toy must be a mapping with a list 'q0' and 'max_q0'")


# --- the result ----------------------------------------------------------------------------

@dataclass(repr=False)
class ToysResult(Result):
    """Global significance of the best B+ -> K+ X fit from toys, and Gross-Vitells."""

    masses: list
    q0_obs: list
    max_q0_toys: list
    upcrossings_u0: list
    u0: float
    seed: int
    cpu_seconds: float
    n_fits: int
    n_failed: int
    wall_seconds: float
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """The JSON of ``xfit belle2 toys --json``."""
        q_obs = float(np.nanmax(self.q0_obs))
        mx_obs = float(self.masses[int(np.nanargmax(self.q0_obs))])
        tmax = np.asarray([v for v in self.max_q0_toys if math.isfinite(v)])
        n = len(tmax)
        k = int(np.count_nonzero(tmax >= q_obs))
        p = k / n if n else math.nan
        p_err = math.sqrt(p * (1 - p) / n) if n else math.nan
        p_up = (float(stats.beta.ppf(0.95, k + 1, n - k)) if k < n else 1.0) if n else math.nan  # Clopper-Pearson
        z_loc = ts.significance(q_obs)
        p_loc = float(stats.norm.sf(z_loc))
        nu0 = float(np.mean(self.upcrossings_u0)) if n else math.nan
        nu0_err = float(np.std(self.upcrossings_u0) / math.sqrt(n)) if n > 1 else math.nan
        p_gv = min(p_loc + nu0 * math.exp(-(q_obs - self.u0) / 2.0), 1.0)

        def z(pv):
            return float(stats.norm.isf(pv)) if 0 < pv < 1 else (math.inf if pv == 0 else -math.inf)

        fits_per_s = self.n_fits / self.cpu_seconds if self.cpu_seconds > 0 else math.nan
        return to_jsonable({
            "Z_local": z_loc, "p_local": p_loc, "q0_max_obs": q_obs, "mX_at_max_obs": mx_obs,
            "Z_global": z(p), "p_global": p, "p_global_err": p_err,
            "p_global_upper_95": p_up, "Z_global_lower_95": z(p_up),
            "n_toys": n, "n_above": k,
            "trials_factor": p / p_loc if p_loc > 0 else math.nan,
            "gross_vitells": {"u0": self.u0, "N_u0": nu0, "N_u0_err": nu0_err, "p_global": p_gv,
                              "Z_global": z(p_gv), "trials_factor": p_gv / p_loc if p_loc > 0 else math.nan},
            "n_masses": len(self.masses), "mX_min": float(self.masses[0]), "mX_max": float(self.masses[-1]),
            "seed": self.seed, "n_fits": self.n_fits, "n_failed_fits": self.n_failed,
            "cpu_seconds": self.cpu_seconds, "fits_per_cpu_second": fits_per_s,
            "wall_seconds": self.wall_seconds, **self.extra,
        })

    def to_dict(self) -> dict:
        return self.summary()


def _config(masses, n_toys: int, seed: int) -> dict:
    from . import files

    return {"kind": "belle2_toys", "version": 1, "seed": int(seed), "n_toys": int(n_toys),
            "masses": [round(float(m), 12) for m in masses], "sm_signal": "fixed at mu = 1",
            "input_sha256": files.input_digests()}


def run_toys(n_toys: int, seed: int = 0, masses=None, executor=None, out: str | os.PathLike | None = None,
             u0: float = DEFAULT_U0, log=None) -> ToysResult:
    """Observed scan and ``n_toys`` toy scans on ``masses`` (default: :data:`DEFAULT_N_MASSES`
    masses of :func:`xfit.belle2.scan.default_masses`); with ``out``, toys are stored in
    ``<out>/toys.jsonl`` as they finish and reused by a rerun with the same settings."""
    for flag, value, least in (("--n-toys", n_toys, 1), ("--seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise InputError(f"{flag} must be an integer >= {least}, got {str(value)[:80]}")
    if not (math.isfinite(u0) and u0 > 0):
        raise InputError(f"--u0 must be a number > 0, got {u0}")
    t_wall = time.perf_counter()
    masses = default_masses(DEFAULT_MX_MIN, DEFAULT_MX_MAX, DEFAULT_N_MASSES) if masses is None \
        else np.asarray(masses, dtype=float).ravel()
    check_masses_have_efficiency(masses)
    say = log or (lambda s: None)
    kx = KXModel()
    obs = scan_q0(kx, masses)
    sm_fit = mle.fit(kx.model, fix={**kx.fix(), kx.ix: 0.0})
    say(f"observed: max q0 = {np.nanmax(obs['q0']):.3f} on {len(masses)} masses")
    store = None
    if out is not None:
        config = _config(masses, n_toys, seed)
        meta = run_metadata(seed=int(seed), grid={"mX": config["masses"]}, analysis="Belle II B+ -> K+ X toys")
        store = ResultStore(Path(out) / TOYS_FILE, config, meta, on_mismatch="restart", validate=_validate,
                            remedy=_REMEDY)
    theta = [float(v) for v in sm_fit.x]
    ml = [float(m) for m in masses]
    tasks = [{"index": k, "seed": int(seed), "theta": theta, "masses": ml} for k in range(int(n_toys))]
    with Progress(int(n_toys), "xfit belle2 toys", unit="toys", initial=len(store) if store is not None else 0,
                  enabled=log is not None, log=log,
                  resume_hint="Ctrl-C keeps the finished toys; run again to resume") as bar:
        results = run_chunks(run_toy, tasks, executor=executor, store=store, progress=False, desc="toys",
                             callback=lambda i, res: bar.update())
    cpu = obs["cpu_seconds"] + sum(r["cpu_seconds"] for r in results)
    n_fits = obs["n_fits"] + sum(r["n_fits"] for r in results)
    n_failed = obs["n_failed"] + sum(r["n_failed"] for r in results)
    res = ToysResult([float(m) for m in masses], obs["q0"], [r["max_q0"] for r in results],
                     [upcrossings(r["q0"], u0) for r in results], float(u0), int(seed), cpu, n_fits,
                     n_failed, time.perf_counter() - t_wall)
    if out is not None:
        res.save(Path(out) / SUMMARY_FILE)
    return res


__all__ = ["DEFAULT_N_MASSES", "DEFAULT_U0", "ToysResult", "run_toy", "run_toys", "scan_q0", "upcrossings"]
