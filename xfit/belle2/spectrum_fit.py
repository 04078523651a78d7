"""Fit a scale factor k of any B+ -> K+ + invisible spectrum on top of the SM signal (Belle II).

Model: the published Belle II workspace plus the extra sample of :class:`xfit.belle2.signal.KXModel`
with the templates of the spectrum (:func:`xfit.belle2.spectra.spectrum_templates`) as its
nominal, i.e. expected events nu = nu_bkg + mu nu_SM + k nu_spectrum, with the SM signal
strength mu fixed at 1 unless ``sm_free``; the spectrum's sample carries the detector
nuisances of the SM signal (see :func:`xfit.belle2.signal.x_sample_modifiers`).  k = 1 is the
spectrum as given; k >= 0.

* ``scale``: k-hat and its HESSE error (inverse Hessian of -ln L at the minimum);
* ``q0`` = 2 [-ln L(k = 0) + ln L(k-hat)] (0 if k-hat = 0), ``Z`` = sqrt(q0);
* ``BR_95_scale``: the 95 % CL upper limit on k with the asymptotic CLs method and the
  q~_k test statistic (Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727, Eqs. (16), (65)-(66)):
  q~_k = 2 [-ln L(k) + ln L(k-hat)] for k-hat <= k (k-hat >= 0 by the bound), 0 otherwise;
  q_{k,A} the same on the Asimov data set of k = 0 (nuisances at their conditional fit to the
  data at k = 0, as pyhf); CLs = CLs+b / CLb with, for q~ <= q_A,
  CLs+b = Phi(-sqrt q~), CLb = Phi(sqrt q_A - sqrt q~), and for q~ > q_A,
  CLs+b = Phi(-(q~ + q_A) / (2 sqrt q_A)), CLb = Phi(-(q~ - q_A) / (2 sqrt q_A)).
  The limit solves CLs(k) = 0.05 (Brent's method).

Internally the fit parameter is ``mu_X`` of :class:`KXModel` with the template scaled so that
mu_X = 1 gives as many events as the SM signal (well-conditioned fits whatever the spectrum's
normalisation); k = mu_X x that factor.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceError, InputError
from ..histfactory import covariance, minimize
from ..inference.calculators import AsymptoticCalculator
from ..inference.intervals import upper_limit
from . import files, spectra
from .signal import X_SAMPLE, KXModel

#: Confidence level of the upper limit.
CL = 0.95


@dataclass
class SpectrumFit:
    """Result of :meth:`SpectrumFitter.fit` (definitions in the module docstring)."""

    scale: float
    scale_err: float
    q0: float
    Z: float
    BR_95_scale: float | None
    nll_hat: float
    nll_k0: float
    total_rate: float
    lost_fraction: float
    events_per_scale: float
    sm_free: bool
    mu_sm: float

    def summary(self) -> dict:
        """The JSON printed by ``xfit belle2 fit-spectrum --json``."""
        return {"scale": {"value": self.scale, "error": self.scale_err}, "q0": self.q0, "Z": self.Z,
                "BR_95_scale": self.BR_95_scale}


class SpectrumFitter:
    """Fits of k for any spectrum with one SM + X model (built once; templates swapped per fit)."""

    def __init__(self, kx: KXModel | None = None, sm_free: bool = False):
        self.kx = KXModel(sm_free=sm_free) if kx is None else kx
        self.model = self.kx.model
        self.ix = self.kx.ix
        sm = files.signal_templates(files.load_workspace())
        #: SM signal events (mu = 1) in the three channels with number densities
        self.sm_events = float(sum(np.sum(sm[k]) for k in files.SIGNAL_SAMPLES))

    def set_spectrum(self, spectrum, name: str = "spectrum") -> tuple[float, float, float]:
        """Put the spectrum's templates in the model; (events at k = 1, k per mu_X, lost fraction)."""
        s = spectra.as_spectrum(spectrum, name)
        t = spectra.spectrum_templates(s, self.kx.efficiency)
        events = float(sum(np.sum(v) for v in t.values()))
        if not events > 0 or not math.isfinite(events):
            raise InputError(f"{s.name}: the spectrum gives no expected Belle II events (is all of its rate above "
                             f"q2 = {spectra.signal.Q2_NO_EFFICIENCY:.3f} GeV^2 or zero?)")
        factor = self.sm_events / events
        for k, v in t.items():
            self.model.set_sample_template(self.kx.channel_names[k], X_SAMPLE, factor * v)
        return events, factor, spectra.lost_fraction(s)[0]

    def _fix(self, mu_x: float | None = None) -> dict[int, float]:
        out = dict(self.kx.fixed_sm)
        if mu_x is not None:
            out[self.ix] = float(mu_x)
        return out

    def fit(self, spectrum, name: str = "spectrum", limit: bool = True) -> SpectrumFit:
        """Best fit, significance and 95 % CL CLs upper limit of the scale k of ``spectrum``."""
        s = spectra.as_spectrum(spectrum, name)
        events, k_per_mu, lost = self.set_spectrum(s)
        model = self.model
        best = minimize(model, fix=self._fix())
        try:
            cov = covariance(model, best.x, fixed=best.fixed, globals_only=True)
        except ConvergenceError:
            raise ConvergenceError(f"{s.name}: the Hessian at the best fit is singular; with the SM signal free "
                                   "(--sm-free) a spectrum of SM shape cannot be told apart from it") from None
        mu_hat = float(best.x[self.ix])
        err = math.sqrt(max(cov[self.ix, self.ix], 0.0))
        r0 = minimize(model, init=best.x, fix=self._fix(0.0))
        q0 = max(2.0 * (r0.nll - best.nll), 0.0) if mu_hat > 0 else 0.0
        upper = self._upper_limit(best, r0, err) if limit else None
        return SpectrumFit(
            scale=mu_hat * k_per_mu, scale_err=err * k_per_mu, q0=q0, Z=math.sqrt(q0),
            BR_95_scale=None if upper is None else upper * k_per_mu,
            nll_hat=best.nll, nll_k0=r0.nll, total_rate=s.total(), lost_fraction=lost,
            events_per_scale=events, sm_free=self.kx.sm_free,
            mu_sm=float(best.x[self.kx.imu]))

    def _upper_limit(self, best, r0, err: float) -> float | None:
        """95 % CL CLs upper limit on mu_X (q~ statistic, asymptotic; :mod:`xfit.inference.intervals`);
        None above the parameter's bound."""
        calc = AsymptoticCalculator(self.model, poi_index=self.ix, fix=self.kx.fixed_sm)
        return upper_limit(calc, CL, free=best).obs_limit


def fit_spectrum(spectrum, sm_free: bool = False, name: str = "spectrum", fitter: SpectrumFitter | None = None,
                 limit: bool = True) -> SpectrumFit:
    """One-call API: fit the scale k of ``spectrum`` (a Spectrum, callable dB/dq^2 or (q2, dBdq2) table)."""
    f = SpectrumFitter(sm_free=sm_free) if fitter is None else fitter
    return f.fit(spectrum, name=name, limit=limit)
