"""B+ -> K+ X templates for the Belle II B+ -> K+ nu nubar likelihood, and the SM + X model.

Reinterpretation recipe (Belle II, arXiv:2507.12393; Gaertner et al., arXiv:2402.08417): for a
new contribution with differential branching fraction dB_X/dq^2, the expected yield in
reconstructed bin j of a signal channel is

    nu_j = sum_i N[j, i] w_i,   w_i = int_{bin i} dB_X/dq^2 / int_{bin i} dB_SM/dq^2,

with N[j, i] the joint number density (expected reconstructed SM events generated in q^2 bin i,
:mod:`xfit.belle2.files`) and dB_SM/dq^2 the SM spectrum that produced the simulation:

    dB_SM/dq^2  propto  lambda^{3/2}(m_B^2, m_K^2, q^2) f_+(q^2)^2

with the HPQCD f_+ (arXiv:2207.12468, :func:`xfit.physics.form_factors.b_to_k_fplus`), normalised
to B_SM = 4.97e-6 over 0 < q^2 < 22.885 GeV^2 (the generated range of the tables).

The per-bin efficiency (reconstructed events per unit branching fraction generated in bin i)
is eps[j, i] = N[j, i] / int_{bin i} dB_SM/dq^2, so that nu_j = sum_i eps[j, i] B_X,i.

* **Narrow X (Gamma_X = 0).**  B+ -> K+ X with X escaping is a line at q^2 = m_X^2.  Putting
  the whole B_X = B(B+ -> K+ X) x P_inv into the bin containing m_X^2 makes the templates (and
  the limits) jump at every bin edge; instead eps[j, .] is interpolated *linearly in q^2
  between neighbouring bin centres* and nu_j = eps_j(m_X^2) B_X.  Below the first centre
  (q^2 < 0.114 GeV^2) the first value is kept.  The tables contain no simulated events above
  q^2 = 21.74 GeV^2 (upper edge of the last populated bin, "about 21.7" in the Belle II
  material); the interpolated efficiency falls linearly from the last populated centre
  (21.63) to 0 at the next centre, :data:`Q2_NO_EFFICIENCY` = 21.855 GeV^2, and is 0 above:
  for m_X > sqrt(21.855) = 4.675 GeV the method has no efficiency and the likelihood is flat
  in B_X.
* **Broad X (Gamma_X > 0).**  The fraction of decays in generated bin i is the integral of a
  relativistic Breit-Wigner in q^2, 1 / ((q^2 - m_X^2)^2 + m_X^2 Gamma_X^2), over the bin,
  normalised over the physical range 0 < q^2 < (m_B - m_K)^2 (done analytically with arctan);
  nu_j = B_X sum_i eps[j, i] P_i.  (As Gamma_X -> 0 this tends to the un-interpolated
  bin-step line.)
* The underflow column (q^2_gen < 0) belongs to the SM sample only; X templates use the 100
  physical columns.

The SM + X model (:class:`KXModel`) adds to each of the three signal channels (ITA regions A
and B, HTA) a sample ``bkx`` scaled by the parameter ``mu_X`` = B_X / :data:`BR_UNIT`.  Which
nuisance modifiers of the SM signal act on it (:func:`x_sample_modifiers`):

* kept -- detector and normalisation effects, which act per reconstructed bin whatever the
  q^2 spectrum: the per-bin signal uncertainties (``staterror`` gammas, shared with the SM
  signal), normsys ``nBB`` and ``norm_sgn_1_had``, and the histosys ``corr_pid_*``,
  ``corr_trackingEff_c1``, ``corr_neutralGamma_c1``, ``corr_neutralUnmatched_c1``,
  ``corr_bdt_c1``, ``corr_bb_c1``, ``corr_KLeff_c1``, ``PID_corr*_1_had``, ``NEE_1_had``.
  A histosys enters as the same *relative* variation per reconstructed bin
  (hi_X/nom_X = hi_SM/nom_SM), i.e. the SM template's relative effect is transferred;
* dropped -- ``corr_ff_c1..c3``, the B -> K form-factor variations of the SM q^2 shape,
  which do not apply to a two-body line; the normfactor ``mu`` (the X sample has its own).
  No other histosys of the SM signal describes the SM q^2 spectrum in this workspace.

The SM B+ -> K+ nu nubar signal stays in the model at mu = 1 (fixed) unless ``sm_free``.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..physics.constants import DEFAULT_SM
from ..physics.kinematics import kallen
from . import files

if TYPE_CHECKING:  # the model is built inside KXModel (histfactory imports scipy.linalg)
    from ..histfactory import HistFactoryModel

#: SM branching fraction of the simulated signal (HPQCD f+, 0 < q^2 < 22.885 GeV^2).
B_SM = 4.97e-6
#: Unit of the X normalisation parameter: mu_X = B_X / BR_UNIT.
BR_UNIT = 1e-5
#: Name of the X sample and of its normalisation parameter.
X_SAMPLE = "bkx"
X_PARAMETER = "mu_X"
#: Upper bound of mu_X (B_X <= 1e-2; far beyond any allowed value).
MU_X_MAX = 1000.0
#: Modifiers of the SM signal that do not act on the X sample (see module docstring).
DROPPED_MODIFIERS = ("corr_ff_",)

#: Generated-q^2 bins (the 100 physical columns of the number densities).
Q2_LO = files.Q2_GEN_EDGES[1:-1]
Q2_HI = files.Q2_GEN_EDGES[2:]
Q2_CENTRES = 0.5 * (Q2_LO + Q2_HI)
#: Last populated generated bin: index 94 of the physical columns, [21.51, 21.74] GeV^2.
LAST_POPULATED_BIN = 94
#: q^2 above which the interpolated efficiency is zero (centre of the first empty bin).
Q2_NO_EFFICIENCY = float(Q2_CENTRES[LAST_POPULATED_BIN + 1])
#: m_X above which the X templates vanish (GeV).
MX_NO_EFFICIENCY = math.sqrt(Q2_NO_EFFICIENCY)


def q2_max(sm=DEFAULT_SM) -> float:
    """Kinematic endpoint (m_B+ - m_K+)^2 in GeV^2."""
    return (sm.meson("B+").mass - sm.meson("K+").mass) ** 2


def sm_spectrum_shape(q2, sm=DEFAULT_SM):
    """Unnormalised SM dB/dq^2: lambda^{3/2}(m_B^2, m_K^2, q^2) f_+(q^2)^2 (0 outside range)."""
    from ..physics.form_factors import b_to_k_fplus

    q2 = np.asarray(q2, dtype=float)
    qmax = q2_max(sm)
    inside = (q2 >= 0.0) & (q2 <= qmax)
    qc = np.clip(q2, 0.0, qmax)
    lam = np.clip(kallen(sm.meson("B+").mass ** 2, sm.meson("K+").mass ** 2, qc), 0.0, None)
    return np.where(inside, lam ** 1.5 * np.asarray(b_to_k_fplus(qc)) ** 2, 0.0)


@lru_cache(maxsize=4)
def _sm_bin_integrals_cached(sm) -> np.ndarray:
    x, w = np.polynomial.legendre.leggauss(24)
    half = 0.5 * (Q2_HI - Q2_LO)
    nodes = 0.5 * (Q2_HI + Q2_LO)[:, None] + half[:, None] * x[None, :]
    raw = (sm_spectrum_shape(nodes, sm) * w[None, :]).sum(axis=1) * half
    out = B_SM * raw / raw.sum()  # the 100 bins span exactly 0 < q^2 < 22.885
    out.setflags(write=False)
    return out


def sm_bin_integrals(sm=DEFAULT_SM) -> np.ndarray:
    """int_{bin i} dB_SM/dq^2 for the 100 generated bins (sum = 4.97e-6); 24-point Gauss-Legendre."""
    return _sm_bin_integrals_cached(sm)


def efficiency_table(densities: dict[str, np.ndarray] | None = None, sm=DEFAULT_SM) -> dict[str, np.ndarray]:
    """eps[j, i] = N[j, 1 + i] / int_{bin i} dB_SM for each signal channel (events per unit B).

    Keys are the channel keys of :data:`xfit.belle2.files.SIGNAL_SAMPLES`.
    """
    dens = files.load_number_densities() if densities is None else densities
    integ = sm_bin_integrals(sm)
    return {k: np.asarray(N, float)[:, 1:] / integ[None, :] for k, N in dens.items()}


def reweighted_templates(new_bin_integrals, densities=None, sm=DEFAULT_SM) -> dict[str, np.ndarray]:
    """The general recipe: nu_j = sum_i N[j, i] w_i with w_i = B_new,i / int_{bin i} dB_SM.

    ``new_bin_integrals``: int_{bin i} dB_new/dq^2 over the 100 generated bins (the underflow
    column is not included: it belongs to the SM sample).  Keys as :func:`efficiency_table`.
    """
    b = np.asarray(new_bin_integrals, dtype=float)
    if b.shape != (len(Q2_LO),):
        raise InputError(f"need {len(Q2_LO)} bin integrals, got shape {b.shape}")
    return {k: e @ b for k, e in efficiency_table(densities, sm).items()}


def line_weights(mX: float) -> tuple[np.ndarray, np.ndarray]:
    """(bin indices, weights) interpolating linearly in q^2 = mX^2 between bin centres."""
    q2 = float(mX) ** 2
    if q2 >= Q2_NO_EFFICIENCY:
        return np.array([LAST_POPULATED_BIN + 1]), np.array([0.0])
    if q2 <= Q2_CENTRES[0]:
        return np.array([0]), np.array([1.0])
    i = int(np.searchsorted(Q2_CENTRES, q2) - 1)
    t = (q2 - Q2_CENTRES[i]) / (Q2_CENTRES[i + 1] - Q2_CENTRES[i])
    return np.array([i, i + 1]), np.array([1.0 - t, t])


def breit_wigner_fractions(mX: float, width: float, sm=DEFAULT_SM) -> np.ndarray:
    """Fraction of a relativistic Breit-Wigner in q^2 in each of the 100 generated bins.

    P_i = int_{bin i} dq^2 / ((q^2 - m^2)^2 + m^2 G^2), normalised over 0 < q^2 < (m_B - m_K)^2;
    the integral is (1 / (m G)) arctan((q^2 - m^2) / (m G)).
    """
    m, g = float(mX), float(width)
    if not (m > 0 and g > 0):
        raise InputError(f"a Breit-Wigner needs mX > 0 and width > 0, got mX={mX}, width={width}")
    mg = m * g
    prim = lambda q2: np.arctan((q2 - m * m) / mg)  # noqa: E731 - antiderivative up to 1/(m G)
    total = prim(q2_max(sm)) - prim(0.0)
    return (prim(Q2_HI) - prim(Q2_LO)) / total


def x_templates(mX: float, width: float = 0.0, densities=None, sm=DEFAULT_SM,
                efficiency: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Expected reconstructed events per unit B_X (= B(B+ -> K+ X) P_inv) in each signal channel.

    Narrow line (width 0): interpolated efficiency at q^2 = mX^2; otherwise Breit-Wigner bin
    fractions.  Keys: "A", "B", "sgn1_had".  ``efficiency``: a precomputed
    :func:`efficiency_table` of ``densities`` and ``sm`` (computed here if None).
    """
    mX = float(mX)
    if not math.isfinite(mX) or mX < 0:
        raise InputError(f"mX must be a finite mass >= 0 GeV, got {mX}")
    if width < 0 or not math.isfinite(width):
        raise InputError(f"width must be finite and >= 0 GeV, got {width}")
    eff = efficiency_table(densities, sm) if efficiency is None else efficiency
    if width == 0.0:
        idx, w = line_weights(mX)
        return {k: (e[:, idx] * w[None, :]).sum(axis=1) if idx[0] < e.shape[1] else np.zeros(e.shape[0])
                for k, e in eff.items()}
    b = breit_wigner_fractions(mX, width, sm)
    return {k: e @ b for k, e in eff.items()}  # = reweighted_templates(b, densities, sm)


def x_sample_modifiers(spec: dict) -> dict[str, list[dict]]:
    """Modifiers of the X sample per channel name, derived from the SM signal's (see docstring).

    histosys become relative ({"relative": True, hi/nom, lo/nom}); normfactors and the dropped
    form-factor variations are removed; staterror, normsys, lumi, shapesys are shared as is.
    """
    names = files.channel_name_map(spec)
    by_name = {c["name"]: c for c in spec["channels"]}
    out = {}
    for key, sample in files.SIGNAL_SAMPLES.items():
        ch = by_name[names[key]]
        s = next(x for x in ch["samples"] if x["name"] == sample)
        nom = np.asarray(s["data"], float)
        safe = np.where(nom != 0, nom, 1.0)
        mods = []
        for m in s["modifiers"]:
            if m["type"] == "normfactor" or m["name"].startswith(DROPPED_MODIFIERS):
                continue
            if m["type"] == "histosys":
                hi = np.where(nom != 0, np.asarray(m["data"]["hi_data"], float) / safe, 1.0)
                lo = np.where(nom != 0, np.asarray(m["data"]["lo_data"], float) / safe, 1.0)
                mods.append({"type": "histosys", "name": m["name"], "relative": True,
                             "data": {"hi_data": hi.tolist(), "lo_data": lo.tolist()}})
            else:
                mods.append(dict(m))
        out[names[key]] = mods
    return out


class KXModel:
    """SM + X model of the Belle II workspace with the templates of :func:`x_templates`.

    ``model`` is the :class:`HistFactoryModel` with the extra sample; ``ix`` the index of
    ``mu_X`` (B_X / 1e-5), ``imu`` that of the SM signal strength ``mu``.  ``fixed_sm`` is the
    ``fix`` argument for fits ({imu: 1.0}, or {} if ``sm_free``).  Templates are cached per
    (mX, width).

    Every user of this class runs many fits (scans, toys, posteriors, limits, the likelihood
    term): the model asks for the compiled kernel (``use_compiled_kernel``: numba when it is
    installed, unless ``XFIT_KERNEL=numpy``; see :mod:`xfit.histfactory.kernel`).
    """

    def __init__(self, spec: dict | None = None, densities=None, sm_free: bool = False, sm=DEFAULT_SM):
        spec = files.load_workspace() if spec is None else spec
        self.densities = files.load_number_densities() if densities is None else densities
        self.sm = sm
        self.efficiency = efficiency_table(self.densities, sm)  # once, not per mass
        self.channel_names = files.channel_name_map(spec)
        zero = {self.channel_names[k]: np.zeros(len(files.signal_templates(spec)[k])) for k in files.SIGNAL_SAMPLES}
        from ..histfactory import ExtraSample, HistFactoryModel  # scipy.linalg: only when a model is built

        extra = ExtraSample(X_SAMPLE, X_PARAMETER, zero, x_sample_modifiers(spec),
                            norm_bounds=(0.0, MU_X_MAX), norm_init=0.0)
        self.model = HistFactoryModel(spec, [extra])
        self.model.use_compiled_kernel()
        self.ix = self.model.index(X_PARAMETER)
        self.imu = self.model.index("mu")
        self.sm_free = bool(sm_free)
        self.fixed_sm = {} if sm_free else {self.imu: 1.0}
        self.mass = None
        self.width = 0.0
        self._cache: dict[tuple[float, float], dict[str, np.ndarray]] = {}

    def templates(self, mX: float, width: float = 0.0) -> dict[str, np.ndarray]:
        """X templates per unit mu_X (i.e. for B_X = 1e-5), keyed by channel key."""
        key = (float(mX), float(width))
        if key not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            t = x_templates(mX, width, self.densities, self.sm, efficiency=self.efficiency)
            self._cache[key] = {k: v * BR_UNIT for k, v in t.items()}
        return self._cache[key]

    def set_mass(self, mX: float, width: float = 0.0, model: HistFactoryModel | None = None) -> float:
        """Put the templates of (mX, width) into ``model`` (default: self.model).

        Returns the total expected X yield for B_X = 1e-5 (0 where there is no efficiency).
        """
        mdl = self.model if model is None else model
        tot = 0.0
        for k, t in self.templates(mX, width).items():
            mdl.set_sample_template(self.channel_names[k], X_SAMPLE, t)
            tot += float(t.sum())
        if mdl is self.model:
            self.mass, self.width = float(mX), float(width)
        return tot

    def fix(self, **extra) -> dict[int, float]:
        """The ``fix`` dict for fits: the SM signal at mu = 1 (unless free) plus ``mu_X=value``."""
        out = dict(self.fixed_sm)
        if "mu_X" in extra:
            out[self.ix] = float(extra["mu_X"])
        return out
