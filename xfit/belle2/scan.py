"""Mass scan of B+ -> K+ X (X invisible) with the Belle II likelihood: best fit, local
significance and CLs upper limits on B(B+ -> K+ X) x P_inv -- a thin loop over m_X on top
of the statistics stack :mod:`xfit.inference` (see docs/inference.md):

* at each mass the X templates of :class:`xfit.belle2.signal.KXModel` are put into the
  observed and the Asimov model of one :class:`~xfit.inference.calculators.AsymptoticCalculator`
  (POI ``mu_X`` = B_X / 1e-5, bounded to [0, MU_X_MAX]; SM signal fixed at mu = 1 unless
  ``sm_free``); the background-only fit (mu_X = 0, the SM fit) and the Asimov data set are
  computed once; fits are warm-started along the scan;
* q0(m) = 2 [ -ln L(B=0) + ln L(B_hat(m)) ] (Cowan et al. Eq. 12,
  :func:`xfit.inference.test_statistics.q0`); ``Z_local`` = sqrt(q0) at the best mass,
  **1 degree of freedom** (B at fixed m_X, one-sided; the look-elsewhere effect in m_X is not
  included);
* 95 % CL CLs upper limits with q~_mu (Eq. 16), asymptotic, pyhf-compatible, and the expected
  bands N = -2..2 (:func:`xfit.inference.intervals.upper_limit`).

Each mass is written to ``<out>/scan.jsonl``, a :class:`xfit.inference.store.ResultStore`
(header with the fingerprint of the configuration, including the workspace sha256), as soon
as it is done; a rerun with the same settings skips the masses already there (resume after
interruption), another configuration starts the file afresh, a corrupt file is a
:class:`DataError`.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConvergenceError, DataError, InputError, require_finite_number
from ..inference import test_statistics as ts
from ..inference.calculators import AsymptoticCalculator
from ..inference.executors import require_chunk_size
from ..inference.intervals import upper_limit
from ..inference.results import Result, to_jsonable
from ..inference.store import ResultStore, run_metadata
from .signal import BR_UNIT, MU_X_MAX, MX_NO_EFFICIENCY, KXModel

#: Confidence level of the limits.
CL = 0.95
#: Expected-limit bands (N sigma; +N is the weaker limit, an upward data fluctuation).
BANDS = ("-2", "-1", "0", "1", "2")
#: Default scan: 0 < m_X < 4.6 GeV, 101 masses (m_X = 0.046 ... 4.6 GeV).
DEFAULT_MX_MIN, DEFAULT_MX_MAX, DEFAULT_N = 0.0, 4.6, 101
#: The most masses a scan takes (a limit of this software, not of the data: each mass costs fits
#: of ~10 ms, so 10^6 masses are hours; 1e20 gave numpy's "Maximum allowed size exceeded")
MAX_N_MASSES = 10**6
SCAN_FILE = "scan.jsonl"
SUMMARY_FILE = "scan_summary.json"
#: What to do with a corrupt scan file (the end of the DataError message).
_REMEDY = "delete it or rerun with --no-resume"


# --- per-mass computation ------------------------------------------------------------------

@dataclass(repr=False)
class MassPoint(Result):
    """Result at one mass (B in units of the branching fraction, not of 1e-5)."""

    mX: float
    BR_hat: float
    q0: float
    nll: float
    efficiency_events: float  # expected X events for B_X = 1e-5
    BR_95: float | None = None
    BR_95_expected: dict = field(default_factory=dict)  # "-2".."2" -> limit
    note: str = ""

    def to_dict(self) -> dict:
        """Strict-JSON dict (non-finite numbers become null)."""
        return to_jsonable({"mX": self.mX, "BR_hat": self.BR_hat, "q0": self.q0, "nll": self.nll,
                            "efficiency_events": self.efficiency_events, "BR_95": self.BR_95,
                            "BR_95_expected": dict(self.BR_95_expected), "note": self.note})

    @classmethod
    def from_dict(cls, d: dict) -> MassPoint:
        """The point of a :meth:`to_dict` dict; :class:`DataError` if a field has the wrong type."""
        def num(key, value, allow_none=True):
            if value is None and allow_none:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise DataError(f"field {key!r} must be a number or null, got {str(value)[:80]!r}")
            return float(value)

        if not isinstance(d, dict):
            raise DataError(f"a mass point must be a JSON object, got {type(d).__name__}")
        missing = [k for k in ("mX", "BR_hat", "q0", "nll", "efficiency_events") if k not in d]
        if missing:
            raise DataError(f"a mass point lacks the field(s) {', '.join(missing)}")
        def g(k):
            return math.nan if d[k] is None else num(k, d[k])
        exp = d.get("BR_95_expected", {})
        if not isinstance(exp, dict):
            raise DataError(f"field 'BR_95_expected' must be a mapping {{'-2'..'2': number}}, got {str(exp)[:80]!r}")
        exp = {str(k): num(f"BR_95_expected[{k}]", v) for k, v in exp.items()}
        note = d.get("note", "")
        if not isinstance(note, str):
            raise DataError(f"field 'note' must be a string, got {str(note)[:80]!r}")
        return cls(num("mX", d["mX"], allow_none=False), g("BR_hat"), g("q0"), g("nll"),
                   g("efficiency_events"), num("BR_95", d.get("BR_95")), exp, note)


class Scanner:
    """Fits and limits of the SM + X model at given masses, with warm starts.

    ``kx``: a :class:`KXModel` (built if None).  ``calc`` is the asymptotic calculator of
    the model (POI mu_X); its background-only fit is the SM fit ``sm_fit``.
    """

    def __init__(self, kx: KXModel | None = None, width: float = 0.0, sm_free: bool = False):
        self.kx = KXModel(sm_free=sm_free) if kx is None else kx
        self.width = float(width)
        self.calc = AsymptoticCalculator(self.kx.model, poi_index=self.kx.ix, fix=self.kx.fix())
        self.sm_fit = self.calc.bkg_fit
        self._last_limits = None  # the limits of the last mass: first trial values of the next

    def reset(self) -> None:
        """Forget the warm starts (fits and limits of earlier masses): the next points are
        computed as by a fresh Scanner (a chunk of masses on an executor starts so)."""
        self._last_limits = None
        self.calc.reset_starts()

    def set_mass(self, mX: float) -> float:
        """Templates of mX in the observed and Asimov models; expected X events at B = 1e-5."""
        ev = self.kx.set_mass(mX, self.width)
        self.kx.set_mass(mX, self.width, model=self.calc.asimov)
        self.calc.new_templates()
        return ev

    def free_fit(self, init=None):
        """Best fit at the current mass, mu_X >= 0 (warm start from the last one)."""
        return self.calc.free_fit(init)

    def cls(self, mu: float, mu_hat: float, nll_hat: float) -> float:
        """Observed CLs at mu_X = mu (mu_hat, nll_hat: the free fit at this mass)."""
        return self.calc.cls(mu, mu_hat, nll_hat)

    def point(self, mX: float, limits: bool = True) -> MassPoint:
        """Free fit, q0 and (optionally) observed and expected limits at mass mX."""
        ev = self.set_mass(mX)
        if ev <= 0.0:
            return MassPoint(float(mX), 0.0, 0.0, self.sm_fit.nll, 0.0, None, {},
                             note=f"no signal efficiency above mX = {MX_NO_EFFICIENCY:.3f} GeV: likelihood flat in B")
        r = self.free_fit()
        mu_hat = float(r.x[self.kx.ix])
        q0 = ts.q0(self.sm_fit.nll, r.nll)
        mp = MassPoint(float(mX), mu_hat * BR_UNIT, q0, r.nll, ev)
        if limits:
            ul = upper_limit(self.calc, cl=CL, mu_max=MU_X_MAX, free=r, start=self._last_limits)
            self._last_limits = ul if ul.obs_limit is not None else None
            mp.BR_95_expected = {k: v * BR_UNIT for k, v in ul.exp_limits.items()}
            mp.BR_95 = None if ul.obs_limit is None else ul.obs_limit * BR_UNIT
            if ul.obs_limit is None:
                mp.note = f"limit above B = {MU_X_MAX * BR_UNIT:g}"
        return mp

    def profile_nll(self, mX: float) -> float:
        """min over B and nuisances of -ln L at mass mX."""
        if self.set_mass(mX) <= 0.0:
            return self.sm_fit.nll
        return self.free_fit().nll


# --- the scan ------------------------------------------------------------------------------

def default_masses(mx_min=DEFAULT_MX_MIN, mx_max=DEFAULT_MX_MAX, n=DEFAULT_N) -> np.ndarray:
    """n masses evenly spaced in (mx_min, mx_max]; mx_min itself is excluded when it is 0."""
    if not (n >= 2 and mx_max > mx_min >= 0 and math.isfinite(mx_max)):
        raise InputError(f"need 0 <= --mX-min < --mX-max and --n-masses >= 2; got --mX-min {mx_min}, "
                         f"--mX-max {mx_max}, --n-masses {n}")
    if n > MAX_N_MASSES:
        raise InputError(f"--n-masses must be at most {MAX_N_MASSES}, got {str(n)[:80]}")
    if mx_min == 0.0:
        return np.linspace(0.0, mx_max, n + 1)[1:]
    return np.linspace(mx_min, mx_max, n)


def check_masses_have_efficiency(masses, width: float = 0.0) -> None:
    """:class:`InputError` if no mass of a narrow-line scan is below MX_NO_EFFICIENCY (every
    point would have zero signal efficiency: a flat likelihood, nothing to fit)."""
    m = np.asarray(masses, dtype=float).ravel()
    if m.size == 0 or not np.all(np.isfinite(m)) or np.any(m < 0):
        raise InputError("the scan masses must be finite numbers >= 0 GeV (at least one)")
    if float(width) == 0.0 and np.all(m >= MX_NO_EFFICIENCY):
        raise InputError(f"every scan mass is at or above MX_NO_EFFICIENCY = {MX_NO_EFFICIENCY:.4f} GeV, "
                         "where the Belle II signal efficiency is zero; choose --mX-min below it")


def _config(masses, width, sm_free, limits) -> dict:
    """What defines a scan (the fingerprint of its result file)."""
    from . import files

    return {"kind": "belle2_mass_scan", "version": 3, "masses": [round(float(m), 12) for m in masses],
            "width": float(width), "sm_free": bool(sm_free), "limits": bool(limits), "cl": CL,
            "input_sha256": files.input_digests()}


def open_scan_store(path: str | os.PathLike, config: dict, resume: bool = True) -> ResultStore:
    """The resumable result file of a scan: one chunk per mass (index in ``config["masses"]``),
    each a :meth:`MassPoint.to_dict`.  Same configuration: resumed; another configuration (or
    ``resume=False``): started afresh; corrupt (not UTF-8, a header that is not a mapping, a
    malformed point other than a truncated last line): :class:`DataError`."""
    meta = run_metadata(grid={"mX": config["masses"]}, analysis="Belle II B+ -> K+ X mass scan")
    return ResultStore(path, config, meta, overwrite=not resume, on_mismatch="restart",
                       chunk_sizes=[1] * len(config["masses"]), validate=MassPoint.from_dict, remedy=_REMEDY)


@dataclass(repr=False)
class ScanResult(Result):
    """A Belle II B+ -> K+ X mass scan: the points, the refined best fit, Z_local."""

    points: list[MassPoint]
    best_mX: float
    best_BR: float
    Z_local: float
    q0_best: float
    seconds: float
    width: float
    sm_free: bool

    def summary(self) -> dict:
        """The JSON printed by ``xfit belle2 scan --json``."""
        return {
            "best_fit": {"mX": self.best_mX, "BR": self.best_BR},
            "Z_local": self.Z_local,
            "Z_local_dof": 1,
            "q0_best": self.q0_best,
            "width": self.width,
            "sm_signal": "free" if self.sm_free else "fixed at mu = 1",
            "cl": CL,
            "upper_limits": [
                {"mX": p.mX, "BR_95": p.BR_95,
                 "BR_95_expected": {k: p.BR_95_expected.get(k) for k in BANDS}}
                for p in self.points
            ],
            "no_efficiency_above_mX": MX_NO_EFFICIENCY,
            "seconds": self.seconds,
        }

    def to_dict(self) -> dict:
        return to_jsonable(self.summary())


#: Masses per chunk when the scan runs on an executor (neighbouring masses share warm starts).
SCAN_CHUNK = 13
#: Per worker process: {(width, sm_free): Scanner}.
_WORKER_SCANNERS: dict = {}


def _point_or_failure(sc: Scanner, mX: float, limits: bool) -> MassPoint:
    try:
        return sc.point(float(mX), limits=limits)
    except ConvergenceError as exc:
        return MassPoint(float(mX), math.nan, math.nan, math.nan, math.nan, None, {}, note=f"fit failed: {exc}")


def _scan_chunk(task: dict) -> list[dict]:
    """The points of one chunk of neighbouring masses (on an executor): a Scanner built once
    per worker process, reset at the start of the chunk, warm-started inside it (local
    process workers run BLAS single-threaded: :func:`~xfit.inference.workers.single_threaded_blas`)."""
    key = (task["width"], task["sm_free"])
    if key not in _WORKER_SCANNERS:
        _WORKER_SCANNERS[key] = Scanner(width=task["width"], sm_free=task["sm_free"])
    sc = _WORKER_SCANNERS[key]
    sc.reset()
    return [_point_or_failure(sc, m, task["limits"]).to_dict() for m in task["masses"]]


def _run_points_on(executor, masses, todo, width, sm_free, limits, chunk_size, record) -> None:
    """Compute the masses ``todo`` (indices) in chunks of neighbours on ``executor``;
    ``record(i, point)`` as each chunk finishes."""
    import concurrent.futures as cf

    from ..inference.executors import get_executor

    chunks = [todo[a:a + chunk_size] for a in range(0, len(todo), chunk_size)]
    with get_executor(executor) as ex:
        futures = {ex.submit(_scan_chunk, {"masses": [float(masses[i]) for i in c], "width": width,
                                           "sm_free": sm_free, "limits": limits}): c for c in chunks}
        for fut in cf.as_completed(futures):
            for i, d in zip(futures[fut], fut.result()):
                record(i, MassPoint.from_dict(d))


def run_scan(masses=None, width: float = 0.0, sm_free: bool = False, out: str | os.PathLike | None = None,
             limits: bool = True, resume: bool = True, log=None,
             scanner: Scanner | None = None, executor=None, chunk_size: int = SCAN_CHUNK) -> ScanResult:
    """Scan the masses (default :func:`default_masses`), store each point, refine the best fit.

    With ``out``: ``<out>/scan.jsonl`` (:func:`open_scan_store`) and ``<out>/scan_summary.json``
    (the plots: :func:`xfit.plots.belle2_scan.plot_scan` of the result).  Completed masses of
    an earlier run with the same configuration are reused (unless ``resume=False``).
    ``executor`` (None: this process, one warm-started chain; else any executor of
    :func:`xfit.inference.executors.get_executor`, e.g. "process" for both cores): chunks
    of ``chunk_size`` neighbouring masses, warm-started inside each chunk (limits agree
    with the serial chain to ~1e-9 relative).
    """
    t0 = time.perf_counter()
    try:
        masses = default_masses() if masses is None else np.asarray(masses, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"the scan masses must be finite numbers >= 0 GeV, got {str(masses)[:80]}") from None
    width = require_finite_number(width, "--width")
    if width < 0:
        raise InputError(f"--width must be >= 0 GeV, got {width}")
    chunk_size = require_chunk_size(chunk_size)  # masses per task
    check_masses_have_efficiency(masses, width)
    say = log or (lambda s: None)
    store = None
    done: dict[int, MassPoint] = {}
    if out is not None:
        store = open_scan_store(Path(out) / SCAN_FILE, _config(masses, width, sm_free, limits), resume)
        done = {i: MassPoint.from_dict(d) for i, d in store.completed().items()}
        if done:
            say(f"resuming: {len(done)} of {len(masses)} masses already in {store.path}")
    sc = Scanner(width=width, sm_free=sm_free) if scanner is None else scanner
    found: dict[int, MassPoint] = dict(done)

    def record(i: int, p: MassPoint) -> None:
        found[i] = p
        if store is not None:
            store.append(i, p.to_dict())
        say(f"mX = {p.mX:.4f} GeV: B_hat = {p.BR_hat:.3g}, q0 = {p.q0:.3f}, B_95 = {p.BR_95}")

    todo = [i for i in range(len(masses)) if i not in done]
    if executor is None or executor == "serial" or len(todo) <= 1:
        for i in todo:
            record(i, _point_or_failure(sc, masses[i], limits))
    else:
        _run_points_on(executor, masses, todo, width, sm_free, limits, chunk_size, record)
    points = [found[i] for i in range(len(masses))]

    ok = [p for p in points if math.isfinite(p.q0)]
    if not ok:
        raise ConvergenceError("no mass point of the scan converged")
    ib = int(np.argmax([p.q0 for p in ok]))
    best_m, best_nll = ok[ib].mX, ok[ib].nll
    # refine the best mass between the neighbouring grid points (profile over B and nuisances)
    ms = [p.mX for p in ok]
    lo = ms[ib - 1] if ib > 0 else ms[ib]
    hi = ms[ib + 1] if ib + 1 < len(ms) else ms[ib]
    if hi > lo and ok[ib].q0 > 0:
        from scipy import optimize  # here: the scan itself does not need scipy.optimize

        res = optimize.minimize_scalar(sc.profile_nll, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-4})
        if res.fun < best_nll:
            best_m, best_nll = float(res.x), float(res.fun)
    sc.set_mass(best_m)
    rb = sc.free_fit()
    best_br = float(rb.x[sc.kx.ix]) * BR_UNIT
    q0 = ts.q0(sc.sm_fit.nll, rb.nll)
    result = ScanResult(points, best_m, best_br, ts.significance(q0), q0, time.perf_counter() - t0,
                        width, sm_free)
    if out is not None:
        result.save(Path(out) / SUMMARY_FILE)
    return result
