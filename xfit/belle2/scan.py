"""Mass scan of B+ -> K+ X (X invisible) with the Belle II likelihood: best fit, local
significance and CLs upper limits on B(B+ -> K+ X) x P_inv.

At each mass the SM + X model (:class:`xfit.belle2.signal.KXModel`; SM signal fixed at mu = 1
unless ``sm_free``) is fitted with B_X >= 0 and all nuisances profiled (warm starts along the
scan).  Definitions (Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727):

* q0(m) = 2 [ -ln L(B=0) + ln L(B_hat(m)) ]  (B_hat >= 0), the improvement of SM+X over SM;
  ``Z_local`` = sqrt(q0) at the best mass, **1 degree of freedom** (B at fixed m_X, one-sided;
  the look-elsewhere effect in m_X is not included);
* q~_mu = 2 [ -ln L(mu) + ln L(mu_hat) ] for mu >= mu_hat (0 otherwise), with mu_hat >= 0 --
  the q~ statistic of Eq. (16);
* its asymptotic distributions use sigma from the background-only Asimov data set (the SM fit,
  mu_X = 0, expected counts and auxiliary data at the fitted nuisances), q_mu,A =
  2 [ -ln L_A(mu) + ln L_A(0) ]:  in pyhf's "-mu_hat/sigma" form t = sqrt(q~) - sqrt(q_A) for
  q~ <= q_A, else (q~ - q_A) / (2 sqrt(q_A)); CLs+b = Phi(-(t + sqrt(q_A))), CLb = Phi(-t),
  CLs = CLs+b / CLb (Eqs. 65-66; identical to pyhf's AsymptoticCalculator with "qtilde");
* the 95 % CL upper limit solves CLs(mu) = 0.05; expected limits at N = -2..2 solve
  sqrt(q_A(mu)) = N + Phi^-1(1 - 0.05 Phi(N)) (the Asimov CLs at the N-sigma quantile).

Each mass is written as one JSON line to ``<out>/scan.jsonl`` as soon as it is done; a rerun
with the same settings skips the masses already there (resume after interruption).
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import optimize, stats

from ..errors import ConvergenceError, DataError, InputError
from .fit import significance_from_q
from ..histfactory import covariance, minimize
from .signal import BR_UNIT, MU_X_MAX, MX_NO_EFFICIENCY, KXModel

#: Confidence level of the limits.
CL = 0.95
#: Expected-limit bands (N sigma; +N is the weaker limit, an upward data fluctuation).
BANDS = (-2, -1, 0, 1, 2)
#: Default scan: 0 < m_X < 4.6 GeV, 101 masses (m_X = 0.046 ... 4.6 GeV).
DEFAULT_MX_MIN, DEFAULT_MX_MAX, DEFAULT_N = 0.0, 4.6, 101
SCAN_FILE = "scan.jsonl"
SUMMARY_FILE = "scan_summary.json"


# --- asymptotic CLs ------------------------------------------------------------------------

def cls_from_q(qtilde: float, q_asimov: float) -> tuple[float, float, float]:
    """(CLs+b, CLb, CLs) for the q~_mu statistic given q_mu,A (Cowan et al. Eqs. 65-66)."""
    qt, qa = max(float(qtilde), 0.0), float(q_asimov)
    if not qa > 1e-12:  # no sensitivity at this mu: the test cannot exclude it
        return 1.0, 1.0, 1.0
    sqa = math.sqrt(qa)
    t = math.sqrt(qt) - sqa if qt <= qa else (qt - qa) / (2.0 * sqa)
    clsb = float(stats.norm.sf(t + sqa))
    clb = float(stats.norm.sf(t))
    return clsb, clb, clsb / clb if clb > 0 else math.nan


def q0_from_nll(nll_sm: float, nll_best: float) -> float:
    """q0 = 2 [ -ln L(B=0) + ln L(B_hat) ], >= 0 (a negative value from rounding counts as 0);
    the local significance is :func:`xfit.belle2.fit.significance_from_q` of it."""
    return max(2.0 * (float(nll_sm) - float(nll_best)), 0.0)


def expected_sqrt_qa(n_sigma: float, cl: float = CL) -> float:
    """sqrt(q_mu,A) at which the expected CLs at the N-sigma quantile equals 1 - cl."""
    alpha = 1.0 - cl
    return n_sigma + float(stats.norm.ppf(1.0 - alpha * stats.norm.cdf(n_sigma)))


# --- per-mass computation ------------------------------------------------------------------

@dataclass
class MassPoint:
    """Result at one mass (B in units of the branching fraction, not of 1e-5)."""

    mX: float
    BR_hat: float
    q0: float
    nll: float
    efficiency_events: float  # expected X events for B_X = 1e-5
    BR_95: float | None = None
    BR_95_expected: dict = field(default_factory=dict)  # "-2".."2" -> limit
    note: str = ""

    def to_json(self) -> dict:
        """Strict-JSON dict (non-finite numbers become null)."""
        f = lambda v: v if v is None or math.isfinite(v) else None  # noqa: E731
        return {"mX": self.mX, "BR_hat": f(self.BR_hat), "q0": f(self.q0), "nll": f(self.nll),
                "efficiency_events": f(self.efficiency_events), "BR_95": f(self.BR_95),
                "BR_95_expected": {k: f(v) for k, v in self.BR_95_expected.items()}, "note": self.note}

    @classmethod
    def from_json(cls, d: dict) -> "MassPoint":
        """The point of a :meth:`to_json` dict; :class:`DataError` if a field has the wrong type."""
        def num(key, value, allow_none=True):
            if value is None and allow_none:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise DataError(f"field {key!r} must be a number or null, got {value!r}")
            return float(value)

        if not isinstance(d, dict):
            raise DataError(f"a mass point must be a JSON object, got {type(d).__name__}")
        missing = [k for k in ("mX", "BR_hat", "q0", "nll", "efficiency_events") if k not in d]
        if missing:
            raise DataError(f"a mass point lacks the field(s) {', '.join(missing)}")
        g = lambda k: math.nan if d[k] is None else num(k, d[k])  # noqa: E731
        exp = d.get("BR_95_expected", {})
        if not isinstance(exp, dict):
            raise DataError(f"field 'BR_95_expected' must be a mapping {{'-2'..'2': number}}, got {exp!r}")
        exp = {str(k): num(f"BR_95_expected[{k}]", v) for k, v in exp.items()}
        note = d.get("note", "")
        if not isinstance(note, str):
            raise DataError(f"field 'note' must be a string, got {note!r}")
        return cls(num("mX", d["mX"], allow_none=False), g("BR_hat"), g("q0"), g("nll"),
                   g("efficiency_events"), num("BR_95", d.get("BR_95")), exp, note)


class Scanner:
    """Fits and limits of the SM + X model at given masses, with warm starts.

    ``kx``: a :class:`KXModel` (built if None).  The SM-only fit (mu_X = 0) and the background-
    only Asimov data set are computed once.
    """

    def __init__(self, kx: KXModel | None = None, width: float = 0.0, sm_free: bool = False):
        self.kx = KXModel(sm_free=sm_free) if kx is None else kx
        self.width = float(width)
        m = self.kx.model
        self.sm_fit = minimize(m, fix=self.kx.fix(mu_X=0.0))
        main_a, aux_a = m.asimov_data(self.sm_fit.x)
        self.asimov = m.with_data(main_a, aux_a)
        self.asimov_min = self.asimov.nll(self.sm_fit.x)
        self._x_obs = self.sm_fit.x.copy()
        self._x_asimov = self.sm_fit.x.copy()

    # .. fits ..............................................................................
    def set_mass(self, mX: float) -> float:
        """Templates of mX in the observed and Asimov models; expected X events at B = 1e-5."""
        ev = self.kx.set_mass(mX, self.width)
        self.kx.set_mass(mX, self.width, model=self.asimov)
        return ev

    def free_fit(self, init=None):
        """Best fit at the current mass, mu_X >= 0 (warm start from the last one)."""
        r = minimize(self.kx.model, init=self._x_obs if init is None else init, fix=self.kx.fix())
        self._x_obs = r.x
        return r

    def _cond(self, mu: float, asimov: bool) -> tuple[float, float]:
        """(-ln L, d(-ln L)/d mu_X) of the fit with mu_X = mu fixed (observed or Asimov data).

        At the conditional minimum the derivative of the profiled NLL with respect to mu_X is
        the partial derivative (envelope theorem), so it comes with the fit.
        """
        m = self.asimov if asimov else self.kx.model
        start = (self._x_asimov if asimov else self._x_obs).copy()
        r = minimize(m, init=start, fix=self.kx.fix(mu_X=mu))
        if asimov:
            self._x_asimov = r.x
        g = r.grad if r.grad is not None else m.nll_and_grad(r.x)[1]
        return r.nll, float(g[self.kx.ix])

    def q_asimov(self, mu: float) -> tuple[float, float]:
        """(q_mu,A, d q_mu,A / d mu) for the background-only Asimov data set."""
        nll, d = self._cond(mu, True)
        return max(2.0 * (nll - self.asimov_min), 0.0), 2.0 * d

    def q_tilde(self, mu: float, mu_hat: float, nll_hat: float) -> tuple[float, float]:
        """(q~_mu, d q~_mu / d mu) on the observed data (mu_hat, nll_hat: the free fit)."""
        if mu <= mu_hat:
            return 0.0, 0.0
        nll, d = self._cond(mu, False)
        return max(2.0 * (nll - nll_hat), 0.0), 2.0 * d

    def cls(self, mu: float, mu_hat: float, nll_hat: float) -> float:
        """Observed CLs at mu_X = mu (mu_hat, nll_hat: the free fit at this mass)."""
        return cls_from_q(self.q_tilde(mu, mu_hat, nll_hat)[0], self.q_asimov(mu)[0])[2]

    # .. limits ............................................................................
    def expected_limits(self, sigma_guess: float) -> dict[str, float]:
        """Expected 95 % CL limits on mu_X for N = -2..2: Newton on sqrt(q_A(mu)) = target."""
        out = {}
        scale = sigma_guess  # mu / sqrt(q_A) of the last solution
        for n in (0, -1, 1, -2, 2):
            target = expected_sqrt_qa(n)
            mu = max(target * scale, 1e-6)
            for _ in range(30):
                qa, dqa = self.q_asimov(mu)
                sq = math.sqrt(max(qa, 1e-300))
                slope = dqa / (2.0 * sq) if sq > 0 else 0.0
                new = mu - (sq - target) / slope if slope > 0 else mu * target / max(sq, 1e-12)
                new = min(max(new, 0.25 * mu), 4.0 * mu, MU_X_MAX)
                done = abs(new - mu) <= 1e-5 * mu
                mu = new
                if done:
                    break
            out[str(n)] = mu
            scale = mu / target
        return out

    def observed_limit(self, mu_hat: float, nll_hat: float, guess: float) -> float | None:
        """95 % CL CLs upper limit on mu_X (None if above MU_X_MAX).

        Safeguarded Newton iteration on ln CLs(mu) = ln 0.05 with the derivatives of q~ and
        q_A from the fits (bisection whenever a step would leave the bracket).
        """
        log_alpha = math.log(1.0 - CL)
        lo, hi = max(mu_hat, 0.0), None  # CLs(lo) >= 0.5: q~ = 0 there
        mu = max(guess, mu_hat + 1e-6, 1e-6)
        for _ in range(60):
            qt, dqt = self.q_tilde(mu, mu_hat, nll_hat)
            qa, dqa = self.q_asimov(mu)
            cls = cls_from_q(qt, qa)[2]
            h = math.log(max(cls, 1e-300)) - log_alpha
            if h > 0:
                lo = mu
            else:
                hi = mu
            # d ln CLs / d mu by the chain rule through (q~, q_A) (closed-form CLs, differences)
            eps_t, eps_a = 1e-6 * max(qt, 1.0), 1e-6 * max(qa, 1.0)
            d_t = (math.log(cls_from_q(qt + eps_t, qa)[2]) - math.log(cls_from_q(max(qt - eps_t, 0.0), qa)[2])) / (qt + eps_t - max(qt - eps_t, 0.0))
            d_a = (math.log(cls_from_q(qt, qa + eps_a)[2]) - math.log(cls_from_q(qt, qa - eps_a)[2])) / (2 * eps_a)
            slope = d_t * dqt + d_a * dqa
            new = mu - h / slope if slope < 0 else math.nan
            if hi is None:
                if not (new > mu) or not math.isfinite(new):
                    new = 2.0 * mu
                new = min(new, 4.0 * mu)
                if new > MU_X_MAX:
                    if mu >= MU_X_MAX:
                        return None
                    new = MU_X_MAX
            elif not (lo < new < hi):
                new = 0.5 * (lo + hi)
            if abs(new - mu) <= 1e-5 * mu or (hi is not None and hi - lo <= 1e-5 * hi):
                return float(new if hi is None or lo < new < hi else mu)
            mu = new
        raise ConvergenceError(f"CLs upper limit did not converge (bracket {lo:.4g}..{hi})")

    def point(self, mX: float, limits: bool = True) -> MassPoint:
        """Free fit, q0 and (optionally) observed and expected limits at mass mX."""
        ev = self.set_mass(mX)
        if ev <= 0.0:
            return MassPoint(float(mX), 0.0, 0.0, self.sm_fit.nll, 0.0, None, {},
                             note=f"no signal efficiency above mX = {MX_NO_EFFICIENCY:.3f} GeV: likelihood flat in B")
        r = self.free_fit()
        mu_hat = float(r.x[self.kx.ix])
        q0 = q0_from_nll(self.sm_fit.nll, r.nll)
        mp = MassPoint(float(mX), mu_hat * BR_UNIT, q0, r.nll, ev)
        if limits:
            exp = self.expected_limits(self.asimov_sigma())
            mp.BR_95_expected = {k: v * BR_UNIT for k, v in exp.items()}
            obs = self.observed_limit(mu_hat, r.nll, guess=exp["0"] + mu_hat)
            mp.BR_95 = None if obs is None else obs * BR_UNIT
            if obs is None:
                mp.note = f"limit above B = {MU_X_MAX * BR_UNIT:g}"
            self._x_obs = r.x  # warm start of the next mass from this best fit
        return mp

    def asimov_sigma(self) -> float:
        """sigma of mu_X from the Asimov Hessian at mu_X = 0 (starting guess of the limits)."""
        fixed = self.asimov.fixed.copy()
        for i in self.kx.fix():
            fixed[i] = True
        try:
            cov = covariance(self.asimov, self.sm_fit.x, fixed=fixed, globals_only=True)
            return math.sqrt(cov[self.kx.ix, self.kx.ix]) or 1.0
        except ConvergenceError:
            return 1.0

    def profile_nll(self, mX: float) -> float:
        """min over B and nuisances of -ln L at mass mX."""
        if self.set_mass(mX) <= 0.0:
            return self.sm_fit.nll
        return self.free_fit().nll


# --- the scan ------------------------------------------------------------------------------

def default_masses(mx_min=DEFAULT_MX_MIN, mx_max=DEFAULT_MX_MAX, n=DEFAULT_N) -> np.ndarray:
    """n masses evenly spaced in (mx_min, mx_max]; mx_min itself is excluded when it is 0."""
    if not (n >= 2 and mx_max > mx_min >= 0 and math.isfinite(mx_max)):
        raise InputError(f"need 0 <= mX-min < mX-max and n-masses >= 2; got {mx_min}, {mx_max}, {n}")
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
    from . import files

    return {"version": 1, "masses": [round(float(m), 12) for m in masses], "width": float(width),
            "sm_free": bool(sm_free), "limits": bool(limits), "cl": CL,
            "input_sha256": files.input_digests()}


def _read_existing(path: Path, config: dict) -> dict[float, MassPoint]:
    """Points already in scan.jsonl if it was written with the same configuration.

    A file of another configuration is ignored (and rewritten); a corrupt file (not UTF-8, a
    header that is not a mapping, a malformed point other than a truncated last line) is a
    :class:`DataError`."""
    if not path.is_file():
        return {}

    def corrupt(problem: str) -> DataError:
        return DataError(f"scan file {path} is corrupt ({problem}); delete it or rerun with --no-resume")

    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError:
        raise corrupt("not UTF-8 text") from None
    if not lines:
        return {}
    try:
        head = json.loads(lines[0])
    except ValueError:
        raise corrupt("line 1 is not valid JSON") from None
    if not isinstance(head, dict) or "config" not in head:
        raise corrupt("line 1 is not a header mapping with a 'config' entry")
    if head.get("config") != config:
        return {}
    done = {}
    for n, line in enumerate(lines[1:], start=2):
        try:
            d = json.loads(line)
        except ValueError:
            if n == len(lines):
                break  # a truncated last line from an interruption
            raise corrupt(f"line {n} is not valid JSON") from None
        try:
            p = MassPoint.from_json(d)
        except DataError as exc:
            raise corrupt(f"line {n}: {exc}") from None
        done[round(p.mX, 12)] = p
    return done


@dataclass
class ScanResult:
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
                 "BR_95_expected": {k: p.BR_95_expected.get(k) for k in ("-2", "-1", "0", "1", "2")}}
                for p in self.points
            ],
            "no_efficiency_above_mX": MX_NO_EFFICIENCY,
            "seconds": self.seconds,
        }


def run_scan(masses=None, width: float = 0.0, sm_free: bool = False, out: str | os.PathLike | None = None,
             limits: bool = True, resume: bool = True, plots: bool = True, log=None,
             scanner: Scanner | None = None) -> ScanResult:
    """Scan the masses (default :func:`default_masses`), write JSON lines, refine the best fit.

    With ``out``: ``<out>/scan.jsonl`` (one line per mass, header with the configuration),
    ``<out>/scan_summary.json`` and the plots (``delta_chi2_vs_mX``, ``limits_vs_mX``, PNG and
    PDF).  Completed masses of an earlier run with the same configuration are reused.
    """
    t0 = time.perf_counter()
    masses = default_masses() if masses is None else np.asarray(masses, dtype=float).ravel()
    if width < 0 or not math.isfinite(width):
        raise InputError(f"--width must be >= 0 GeV, got {width}")
    check_masses_have_efficiency(masses, width)
    say = log or (lambda s: None)
    sc = Scanner(width=width, sm_free=sm_free) if scanner is None else scanner
    config = _config(masses, width, sm_free, limits)
    done: dict[float, MassPoint] = {}
    fh = None
    if out is not None:
        outdir = Path(out)
        outdir.mkdir(parents=True, exist_ok=True)
        path = outdir / SCAN_FILE
        done = _read_existing(path, config) if resume else {}
        if done:
            say(f"resuming: {len(done)} of {len(masses)} masses already in {path}")
            # rewrite the file without a possibly truncated tail
            with open(path, "w") as f:
                f.write(json.dumps({"config": config}) + "\n")
                for p in done.values():
                    f.write(json.dumps(p.to_json()) + "\n")
        else:
            with open(path, "w") as f:
                f.write(json.dumps({"config": config}) + "\n")
        fh = open(path, "a")
    points = []
    try:
        for mX in masses:
            key = round(float(mX), 12)
            if key in done:
                points.append(done[key])
                continue
            try:
                p = sc.point(float(mX), limits=limits)
            except ConvergenceError as exc:
                p = MassPoint(float(mX), math.nan, math.nan, math.nan, math.nan, None, {}, note=f"fit failed: {exc}")
            points.append(p)
            if fh is not None:
                fh.write(json.dumps(p.to_json(), allow_nan=False) + "\n")
                fh.flush()
            say(f"mX = {p.mX:.4f} GeV: B_hat = {p.BR_hat:.3g}, q0 = {p.q0:.3f}, B_95 = {p.BR_95}")
    finally:
        if fh is not None:
            fh.close()

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
        res = optimize.minimize_scalar(sc.profile_nll, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-4})
        if res.fun < best_nll:
            best_m, best_nll = float(res.x), float(res.fun)
    sc.set_mass(best_m)
    rb = sc.free_fit()
    best_br = float(rb.x[sc.kx.ix]) * BR_UNIT
    q0 = q0_from_nll(sc.sm_fit.nll, rb.nll)
    result = ScanResult(points, best_m, best_br, significance_from_q(q0), q0, time.perf_counter() - t0,
                        width, sm_free)
    if out is not None:
        with open(Path(out) / SUMMARY_FILE, "w") as f:
            json.dump(result.summary(), f, indent=1)
        if plots:
            from . import plots as _plots

            _plots.plot_scan(result, out)
    return result
