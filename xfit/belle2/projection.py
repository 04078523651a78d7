"""Future Belle II sensitivity to B+ -> K+ nu nubar and B+ -> K+ X: Asimov projections of the
published likelihood (HEPData ins2947386; data set 0.362 ab^-1, Belle II arXiv:2311.14647) to
an integrated luminosity L.

**Scaled model.**  With k = L / 0.362 ab^-1 (:data:`PUBLISHED_LUMINOSITY_AB`),
:func:`scale_spec` multiplies by k, in the pyhf spec, every sample's nominal ``data``, every
histosys ``hi_data``/``lo_data`` (so relative shape variations are unchanged), every
staterror ``data`` (the absolute MC uncertainties: relative widths unchanged) and the
observations; normsys factors (relative) and normfactors are untouched.  The number densities
of the X templates are multiplied by k as well (:func:`scale_densities`), so the X yield per
unit branching fraction grows with L like the SM signal.

**Systematics scenarios** (:data:`SYSTEMATICS`):

* ``fixed`` -- the published relative systematics: normsys/histosys effects and their unit
  Gaussian constraints unchanged, staterror relative widths unchanged (the spec scaling above);
* ``scaled`` -- every Gaussian constraint width of the model (normsys/histosys alphas *and*
  staterror gammas) is multiplied by s = sqrt(0.362 / L) after the model is built
  (:func:`scale_constraint_widths`).  For the staterror gammas this is the same as scaling
  the absolute MC uncertainties by sqrt(k) instead of k (MC samples growing with the data);
  for the alphas it is equivalent to scaling their effects by s at small pulls.  The widths
  are changed rather than the effects so that the Asimov data below are the same expected
  yields in both scenarios.

**Asimov data.**  Nuisances at the SM fit of the published model to the observed data
(SM signal mu = 1 fixed, mu_X = 0; :func:`published_sm_fit`); the scaled model's expected
main counts at those values (exactly k times the published expectation) and auxiliary data
equal to those values.  A background-only fit of the Asimov data returns the same point, so
at L = 0.362 ab^-1 with ``fixed`` the expected limits are those of ``xfit belle2 scan``.

* expected 95 % CL CLs limits on B_X: :class:`xfit.inference.calculators.AsymptoticCalculator`
  (POI mu_X, SM mu fixed at 1) and :func:`xfit.inference.intervals.expected_limits`;
* SM significance: q0 = 2 [-ln L(mu = 0, mu_X = 0, nuisances profiled) + ln L(SM fit point)]
  on the Asimov data (Cowan et al. arXiv:1007.1727 Eq. 12 with Eq. 24), Z = sqrt(q0);
* 5 sigma discovery B_X at a mass: Asimov data of SM + X at B_X (nuisances at the SM fit),
  q0 of B_X = 0 against it (mu = 1 fixed), and the B_X where q0 = 25 (Brent in ln B_X).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..errors import ConvergenceError, InputError
from ..inference import mle
from ..inference.calculators import BANDS as _BANDS
from ..inference.calculators import AsymptoticCalculator
from ..inference.intervals import expected_limits
from . import files
from .signal import BR_UNIT, MU_X_MAX, MX_NO_EFFICIENCY, KXModel

#: Integrated luminosity of the published data set (Belle II, arXiv:2311.14647), ab^-1.
PUBLISHED_LUMINOSITY_AB = 0.362
#: Systematics scenarios (see module docstring).
SYSTEMATICS = ("fixed", "scaled")
#: q0 of a 5 sigma discovery.
Q0_DISCOVERY = 25.0
#: Confidence level of the expected limits.
CL = 0.95


def check_luminosity(L) -> float:
    """L as a float; InputError unless it is a finite number > 0 (ab^-1)."""
    try:
        x = float(L)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(L, bool) or not (math.isfinite(x) and x > 0):
        raise InputError(f"--luminosity must be a number > 0 (ab^-1), got {str(L)[:80]!r}")
    return x


def check_systematics(name) -> str:
    """The scenario name; InputError unless it is one of :data:`SYSTEMATICS`."""
    if name not in SYSTEMATICS:
        raise InputError(f"--systematics must be one of {', '.join(SYSTEMATICS)}, got {str(name)[:80]!r}")
    return name


def scale_spec(spec: dict, factor: float) -> dict:
    """A copy of the pyhf ``spec`` with yields, histosys templates, staterror uncertainties
    and observations multiplied by ``factor`` (normsys and normfactors unchanged)."""
    f = float(factor)
    out = copy.deepcopy(spec)
    for ch in out["channels"]:
        for s in ch["samples"]:
            s["data"] = [f * v for v in s["data"]]
            for m in s["modifiers"]:
                if m["type"] == "histosys":
                    m["data"] = {k: [f * v for v in m["data"][k]] for k in ("hi_data", "lo_data")}
                elif m["type"] == "staterror":
                    m["data"] = [f * v for v in m["data"]]
                elif m["type"] in ("shapesys", "lumi"):
                    raise InputError(f"modifier type {m['type']!r} is not handled by the projection")
    for o in out["observations"]:
        o["data"] = [f * v for v in o["data"]]
    return out


def scale_densities(densities: dict[str, np.ndarray], factor: float) -> dict[str, np.ndarray]:
    """The number densities N[j, i] multiplied by ``factor`` (new read-only arrays)."""
    out = {}
    for k, N in densities.items():
        a = np.asarray(N, float) * float(factor)
        a.setflags(write=False)
        out[k] = a
    return out


def scale_constraint_widths(model, factor: float) -> None:
    """Multiply the width of every Gaussian constraint of ``model`` by ``factor`` (in place;
    the model's Constraints object is replaced by a modified copy)."""
    c = copy.copy(model.constraints)
    c.gauss_sigma = c.gauss_sigma * float(factor)
    c.gauss_inv_var = 1.0 / c.gauss_sigma ** 2
    c.gauss_const = float(np.sum(np.log(c.gauss_sigma * math.sqrt(2.0 * math.pi))))
    model.constraints = c


def published_sm_fit(kx: KXModel):
    """The SM fit (mu = 1, mu_X = 0, nuisances profiled) of the published model to the data."""
    return mle.fit(kx.model, fix={kx.imu: 1.0, kx.ix: 0.0})


@dataclass
class _Published:
    spec: dict
    densities: dict
    theta: np.ndarray


_PUBLISHED: dict[str, _Published] = {}


def _published() -> _Published:
    """The published spec, densities and SM-fit point (cached per process and workspace)."""
    key = files.input_digests()[files.WORKSPACE_FILE]
    if key not in _PUBLISHED:
        spec, dens = files.load_workspace(), files.load_number_densities()
        kx = KXModel(spec=spec, densities=dens)
        _PUBLISHED.clear()
        _PUBLISHED[key] = _Published(spec, dens, published_sm_fit(kx).x.copy())
    return _PUBLISHED[key]


class Projection:
    """The Belle II model scaled to ``luminosity`` (ab^-1) with ``systematics``, its data
    set to the Asimov data of the SM fit (see module docstring)."""

    def __init__(self, luminosity: float, systematics: str = "fixed"):
        self.luminosity = check_luminosity(luminosity)
        self.systematics = check_systematics(systematics)
        self.factor = self.luminosity / PUBLISHED_LUMINOSITY_AB
        pub = _published()
        self.theta_sm = pub.theta.copy()
        self.kx = KXModel(spec=scale_spec(pub.spec, self.factor), densities=scale_densities(pub.densities, self.factor))
        if self.systematics == "scaled":
            scale_constraint_widths(self.kx.model, 1.0 / math.sqrt(self.factor))
        self.kx.model.set_data(*self.kx.model.asimov_data(self.theta_sm))
        self._calc = None

    @property
    def calc(self) -> AsymptoticCalculator:
        """The asymptotic calculator of the Asimov model (POI mu_X, SM mu fixed at 1)."""
        if self._calc is None:
            self._calc = AsymptoticCalculator(self.kx.model, poi_index=self.kx.ix, fix=self.kx.fix())
        return self._calc

    def expected_limit(self, mX: float) -> dict[str, float] | None:
        """Expected 95 % CL CLs limits on B_X at mX, {"-2".."2": B}; None without efficiency."""
        calc = self.calc
        ev = self.kx.set_mass(mX)
        self.kx.set_mass(mX, model=calc.asimov)
        if ev <= 0.0:
            return None
        lim = expected_limits(calc, calc.asimov_sigma(), CL, MU_X_MAX)
        return {k: lim[k] * BR_UNIT for k in map(str, _BANDS)}

    def sm_significance(self) -> float:
        """Z = sqrt(q0) of the SM B+ -> K+ nu nubar signal against background only (Asimov)."""
        m = self.kx.model
        nll1 = m.nll(self.theta_sm)
        r = mle.fit(m, init=self.theta_sm, fix={self.kx.imu: 0.0, self.kx.ix: 0.0})
        return math.sqrt(max(2.0 * (r.nll - nll1), 0.0))

    def discovery_q0(self, mX: float, br: float) -> float:
        """Asimov q0 of B_X = 0 on data of SM + X at B_X = ``br`` (mass ``mX``)."""
        self.kx.set_mass(mX)
        theta = self.theta_sm.copy()
        theta[self.kx.ix] = float(br) / BR_UNIT
        m = self.kx.model.with_data(*self.kx.model.asimov_data(theta))
        r = mle.fit(m, init=self.theta_sm, fix={self.kx.imu: 1.0, self.kx.ix: 0.0})
        return max(2.0 * (r.nll - m.nll(theta)), 0.0)

    def discovery_br(self, mX: float, q0_target: float = Q0_DISCOVERY) -> float | None:
        """B_X at which the Asimov q0 equals ``q0_target`` (25: 5 sigma); None without efficiency
        or above MU_X_MAX * BR_UNIT."""
        if self.kx.set_mass(mX) <= 0.0:
            return None
        def h(lnb):
            return math.log(max(self.discovery_q0(mX, math.exp(lnb)), 1e-300)) - math.log(q0_target)
        lo, hi = math.log(1e-8), math.log(1e-6)
        while h(lo) > 0:
            lo -= math.log(10.0)
            if lo < math.log(1e-14):
                raise ConvergenceError(f"no lower bracket for the discovery B_X at mX = {mX}")
        while h(hi) < 0:
            hi += math.log(10.0)
            if hi > math.log(MU_X_MAX * BR_UNIT):
                return None
        return math.exp(optimize.brentq(h, lo, hi, xtol=1e-6))


def default_masses(n: int) -> np.ndarray:
    """n masses evenly spaced in (0, 4.6] GeV (those of ``xfit belle2 scan --n-masses n``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"--n-masses must be an integer >= 1, got {str(n)[:80]!r}")
    return np.linspace(0.0, 4.6, n + 1)[1:]


def project(luminosity: float, systematics: str = "fixed", masses=None, discovery: bool = True) -> dict:
    """The summary of ``xfit project belle2 --json`` (see module docstring)."""
    p = Projection(luminosity, systematics)
    masses = default_masses(21) if masses is None else np.asarray(masses, float).ravel()
    limits, disc = [], []
    for mX in masses:
        lim = p.expected_limit(float(mX))
        limits.append({"mX": float(mX), "BR_95": None if lim is None else lim["0"], "BR_95_band": lim})
        if discovery:
            disc.append({"mX": float(mX), "BR_5sigma": p.discovery_br(float(mX))})
    out = {"luminosity_ab": p.luminosity, "systematics": p.systematics,
           "published_luminosity_ab": PUBLISHED_LUMINOSITY_AB,
           "expected_limits": limits, "sm_significance": p.sm_significance()}
    if discovery:
        out["x_discovery_BR"] = disc
    out["no_efficiency_above_mX"] = MX_NO_EFFICIENCY
    return out


def discovery_luminosity(mX: float, br: float, systematics: str = "fixed", lo: float = 0.362,
                         hi: float = 50.0) -> float | None:
    """The luminosity (ab^-1) at which the Asimov q0 of SM + X (B_X = ``br`` at ``mX``)
    against B_X = 0 reaches 25; None if not reached below ``hi``."""
    def h(lnl):
        return math.log(max(Projection(math.exp(lnl), systematics).discovery_q0(mX, br), 1e-300)) \
            - math.log(Q0_DISCOVERY)
    a, b = math.log(lo), math.log(hi)
    ha, hb = h(a), h(b)
    if ha > 0:
        return math.exp(a)
    if hb < 0:
        return None
    return math.exp(optimize.brentq(h, a, b, xtol=1e-4))
