"""Belle II B+ -> K+ nu nubar: the published likelihood as a term of the global fit.

chi2(B, m_X) = 2 NLL_prof(B_X = BR(B+->K+X) x BR(X->invisible), m_X) - 2 NLL_SM

* NLL_prof: -ln L of the published HistFactory model (HEPData ins2947386) plus the B+ -> K+ X
  sample of :mod:`xfit.belle2.signal` at mass m_X, minimised over all 231 Belle II nuisance
  parameters with B_X fixed (SM B+ -> K+ nu nubar signal fixed at mu = 1 unless
  ``sm_free=True``, then mu is profiled too);
* NLL_SM: the same with B_X = 0 (the SM-only fit).  The offset is independent of the
  parameters: chi2 = 0 at B = 0 and chi2 < 0 where the data prefer an X (its minimum is about
  -13.2 near m_X = 2.1 GeV, B = 8.6e-6).

Above m_X = 4.675 GeV (q^2 = 21.855 GeV^2) the Belle II tables have no signal efficiency, so
the likelihood is flat (chi2 = 0): the term's mass range ends there.

At each m_X the points are fitted together (:class:`xfit.histfactory.ProfileFits`: batched
Newton steps from the nearest already-solved B, each point converged to the tolerance of an
exact fit, nothing interpolated), so all walkers of an MCMC step cost one batched pass; the
fits kept per m_X warm-start later calls.  A point the batch cannot converge is fitted on its
own (warm start, SM-fit restart, MIGRAD).  Templates are cached per m_X.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Mapping

import numpy as np

from xfit.belle2.signal import MX_NO_EFFICIENCY
from xfit.errors import InputError
from xfit.likelihood import Citation, LikelihoodTerm, register_term

#: Upper end of the mass range: no signal efficiency above q^2 = 21.855 GeV^2 (see
#: ``xfit.belle2.signal.Q2_NO_EFFICIENCY``).
MX_MAX = MX_NO_EFFICIENCY

#: Per process and thread: {(workspace path, mtime, size, sm_free): (KXModel, SM fit)}.  Every
#: executor chunk unpickles a fresh copy of the term; this keeps it from rebuilding the
#: HistFactory model and redoing the SM fit each time.  Thread-local because a KXModel holds
#: the templates of its current mass (threads must not share one).
_SETUP_CACHE = threading.local()


def _cached_setup(sm_free: bool):
    """(KXModel, SM-only fit) for the current workspace file, built once per process/thread."""
    from xfit.belle2 import files
    from xfit.belle2.signal import KXModel
    from xfit.inference import mle

    path = files.find_file(files.WORKSPACE_FILE)
    st = path.stat()
    key = (str(path), st.st_mtime, st.st_size, bool(sm_free))
    cache = getattr(_SETUP_CACHE, "models", None)
    if cache is None:
        cache = _SETUP_CACHE.models = {}
    if key not in cache:
        for k in [k for k in cache if k[:3] != key[:3]]:  # the file changed: drop old models
            del cache[k]
        kx = KXModel(sm_free=sm_free)
        cache[key] = (kx, mle.fixed_poi_fit(kx.model, 0.0, kx.ix, fix=kx.fix(), fallback=False))
    return cache[key]

CITATION = Citation(
    "Belle-II:2023esi",
    arxiv="2311.14647",
    journal="Phys. Rev. D 109 (2024) 112006",
    hepdata="10.17182/hepdata.166082",
    note="likelihood and reinterpretation material: arXiv:2507.12393 (HEPData ins2947386)",
)


@register_term("belle2_knunu")
class Belle2KNuNu(LikelihoodTerm):
    """Belle II B+ -> K+ nu nubar (362 fb^-1, ITA + HTA) reinterpreted for B+ -> K+ X, X invisible.

    Options: ``width`` (Gamma_X in GeV; 0 = narrow line), ``sm_free`` (profile the SM signal
    strength instead of fixing it to 1).
    """

    name = "belle2_knunu"
    citation = CITATION
    observables = ("BR(B+->K+X)", "BR(X->invisible)")
    shares_data_with = ("b_to_s_emiss",)  # the b->s fit of Bolton et al. includes these data
    # chi2 depends on the couplings only through the rate B = BR(B+->K+X) x BR(X->inv): limits are
    # found once in B and mapped to g (xfit.inference.limits), not by the homogeneity test
    rate_profile = True
    slow = True  # a profile fit of 231 nuisances per point (~1-50 ms): limits need not time it
    mass_range = (0.0, MX_MAX)
    description = ("Belle II B+ -> K+ nu nubar published likelihood (HistFactory, 232 parameters) "
                   "with a B+ -> K+ X line at q^2 = mX^2; chi2 relative to the SM-only fit.")

    def __init__(self, width: float = 0.0, sm_free: bool = False):
        w = float(width)
        if not (math.isfinite(w) and w >= 0):
            raise InputError(f"belle2_knunu: width must be >= 0 GeV, got {width!r}")
        self.width = w
        self.sm_free = bool(sm_free)
        self._kx = None
        self._nll_sm = None
        self._x = None
        self._mass = None
        self._signal = False
        self._profiles: dict = {}  # (mX, width) -> ProfileFits, the most recent last

    #: masses whose batched fits (and their reference solutions) are kept
    MAX_PROFILES = 4

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_profiles"] = {}  # large and rebuilt on demand: not pickled to executors
        return state

    def _setup(self) -> None:
        if self._kx is None:
            kx, sm = _cached_setup(self.sm_free)
            self._kx, self._nll_sm, self._x, self._x_sm = kx, sm.nll, sm.x.copy(), sm.x.copy()
            self._mass = None

    def chi2_point(self, mX: float, BR: float) -> float:
        """chi2 at one (m_X, B_X = BR(B+->K+X) x BR(X->inv)); raises ConvergenceError if the
        profile fit fails."""
        from xfit.belle2.signal import BR_UNIT
        from xfit.inference import mle

        if not self._prepare_mass(mX):
            return 0.0
        kx = self._kx
        fix = kx.fix(mu_X=BR / BR_UNIT)
        # warm start from the previous point; if Newton fails (e.g. after a jump to a huge
        # signal), restart from the SM best fit, then with MIGRAD; else ConvergenceError
        r = mle.fit(kx.model, init=self._x, fix=fix, fallback=False,
                    retries=((self._x_sm, "newton"), (self._x_sm, "migrad")))
        self._x = r.x
        return 2.0 * (r.nll - self._nll_sm)

    def _prepare_mass(self, mX: float) -> bool:
        """Put the templates of m_X into the model; False where the X has no efficiency."""
        self._setup()
        kx = self._kx
        # the KXModel may be shared with other copies of this term: check its own mass
        if kx.mass != mX or kx.width != self.width:
            kx.set_mass(mX, self.width)
        if self._mass != (mX, self.width):
            self._mass = (mX, self.width)
            self._signal = sum(float(t.sum()) for t in kx.templates(mX, self.width).values()) > 0.0
        return self._signal

    def chi2_at_mass(self, mX: float, BR) -> np.ndarray:
        """chi2 at one m_X for an array of B_X, fitted together (see module docstring)."""
        from xfit.belle2.signal import BR_UNIT
        from xfit.histfactory import ProfileFits

        br = np.asarray(BR, dtype=float).reshape(-1)
        if not self._prepare_mass(mX):
            return np.zeros(len(br))
        kx = self._kx
        key = (float(mX), self.width)
        prof = self._profiles.pop(key, None)
        if prof is None or prof.model is not kx.model:
            prof = ProfileFits(kx.model, kx.ix, fix=kx.fixed_sm, rate=0.1)
        self._profiles[key] = prof  # most recent last
        while len(self._profiles) > self.MAX_PROFILES:
            del self._profiles[next(iter(self._profiles))]
        nll, X, ok = prof.fit(br / BR_UNIT, init=self._x)
        out = 2.0 * (nll - self._nll_sm)
        if ok.any():
            self._x = X[np.flatnonzero(ok)[-1]].copy()
        for i in np.flatnonzero(~ok):  # on its own, with restarts (ConvergenceError if all fail)
            out[i] = self.chi2_point(mX, float(br[i]))
        return out

    def _chi2(self, predictions: Mapping[str, np.ndarray]) -> np.ndarray:
        mX = np.real_if_close(np.asarray(predictions["mX"]))
        br = np.real_if_close(np.asarray(predictions["BR(B+->K+X)"]) * np.asarray(predictions["BR(X->invisible)"]))
        if np.iscomplexobj(br) or np.iscomplexobj(mX):
            raise InputError("belle2_knunu: branching ratios and masses must be real")
        mX, br = np.asarray(mX, float), np.asarray(br, float)
        if not (np.all(np.isfinite(br)) and np.all(br >= 0)):
            raise InputError("belle2_knunu: BR(B+->K+X) x BR(X->invisible) must be finite and >= 0")
        mX, br = np.broadcast_arrays(mX, br)
        out = np.empty(mX.shape)
        for m in np.unique(mX):  # one batch per mass
            sel = mX == m
            out[sel] = self.chi2_at_mass(float(m), br[sel])
        return out
