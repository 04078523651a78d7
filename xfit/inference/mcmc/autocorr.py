"""Integrated autocorrelation time of an ensemble's chain, the estimator of emcee
(``emcee.autocorr.integrated_time``; Goodman & Weare 2010, Sokal 1997) with the walkers'
Fourier transforms done together instead of one Python call per walker.

For each parameter: the normalised autocorrelation function rho_k(t) of every walker's series
(by FFT, zero-padded to twice the next power of two), averaged over walkers,
tau(M) = 1 + 2 sum_{t=1}^{M} rho(t), and tau = tau(M) at the first M >= c tau(M) (Sokal's
automatic window, c = 5), or at the last lag if there is none.  The same numbers as emcee's up
to rounding (the average is summed in another order; tests/inference/test_mcmc_fast_paths.py).
"""
from __future__ import annotations

import numpy as np

#: walkers transformed per FFT call (bounds the memory: 64 walkers of a 10^4-step chain in one
#: 2D parameter space are 2 x 64 x 32768 complex values, 64 MB)
WALKERS_PER_BLOCK = 64


def integrated_time(chain, c: float = 5.0) -> np.ndarray:
    """tau per parameter (in steps) of ``chain`` (nsteps, nwalkers, ndim), or of a single
    parameter's (nsteps, nwalkers) (then an array of one).  NaN for a parameter whose value
    never changes in some walker."""
    x = np.asarray(chain, dtype=float)
    if x.ndim == 2:
        x = x[:, :, None]
    n_t, n_w, n_d = x.shape
    size = 1
    while size < n_t:
        size *= 2
    series = np.ascontiguousarray(np.moveaxis(x, 0, -1))  # (nwalkers, ndim, nsteps): FFTs along rows
    rho_sum = np.zeros((n_d, n_t))
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(0, n_w, WALKERS_PER_BLOCK):
            block = series[k:k + WALKERS_PER_BLOCK]
            ft = np.fft.fft(block - block.mean(axis=-1, keepdims=True), n=2 * size, axis=-1)
            acf = np.fft.ifft(ft * np.conjugate(ft), axis=-1)[..., :n_t].real
            rho_sum += (acf / acf[..., :1]).sum(axis=0)
    taus = 2.0 * np.cumsum(rho_sum / n_w, axis=-1) - 1.0
    out = np.empty(n_d)
    for d in range(n_d):
        inside = np.arange(n_t) < c * taus[d]
        out[d] = taus[d, int(np.argmin(inside)) if inside.any() else n_t - 1]
    return out
