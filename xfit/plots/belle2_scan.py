"""Plots of the Belle II B+ -> K+ X scan (:func:`xfit.belle2.scan.run_scan`; PNG and PDF).

* ``delta_chi2_vs_mX``: q0(m_X) = -2 Delta ln L between the SM and the SM + X best fit at each
  mass (B profiled, B >= 0), with the 1, 2, 3 sigma local levels (1 degree of freedom);
* ``limits_vs_mX``: observed 95 % CL CLs upper limit on B(B+ -> K+ X) x P_inv with the
  expected median and the +-1 sigma (green) and +-2 sigma (yellow) bands.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..belle2.scan import BANDS, CL
from ..errors import InputError
from ..inference.fit import delta_chi2_for_sigma
from .save import save_figure


def _pyplot():
    import matplotlib.pyplot as plt  # the backend is the caller's choice (MPLBACKEND; Agg in scripts)

    return plt


def _require_points(mX, values, what: str) -> None:
    """A clear message instead of matplotlib's traceback (or an empty figure) when no mass
    has a finite ``values``."""
    if not np.isfinite(values).any():
        raise InputError(
            f"no finite {what} to draw (masses: {str(list(mX))[:80]});\n"
            "every fit of the scan failed or was skipped: see the scan's log, or pass --no-plots"
        )


def _ends(mX: np.ndarray) -> tuple[float, float]:
    """The m_X range of the axis (half a percent, or 0.01 GeV at 0, either side of a single mass)."""
    lo, hi = float(mX.min()), float(mX.max())
    pad = 0.0 if hi > lo else 0.005 * abs(lo) or 0.01
    return lo - pad, hi + pad


def plot_delta_chi2(mX, q0, out: str | os.PathLike, best=None, title: str = "") -> list[Path]:
    """q0 versus m_X (see module docstring).  Returns the written files."""
    mX, q0 = np.asarray(mX, float), np.asarray(q0, float)
    _require_points(mX, q0, "q0 = -2 Delta ln L")
    plt = _pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(mX, q0, color="C0", lw=1.6, marker="o" if mX.size == 1 else None, label="SM + X vs SM (B profiled)")
    for z, ls in ((1, ":"), (2, "--"), (3, "-.")):
        level = delta_chi2_for_sigma(z, 1)
        if level <= max(np.nanmax(q0) * 1.15, 1.0):
            ax.axhline(level, color="grey", ls=ls, lw=0.9, label=f"{z}$\\sigma$ local (1 dof)")
    if best is not None:
        ax.plot(
            [best[0]], [best[1]], marker="*", color="C3", ms=11, ls="none", label=f"best fit $m_X$ = {best[0]:.3f} GeV"
        )
    ax.set_xlabel(r"$m_X$ [GeV]")
    ax.set_ylabel(r"$\Delta\chi^2 = -2\,\Delta\ln L$ (SM $-$ SM+X)")
    ax.set_xlim(*_ends(mX))
    ax.set_ylim(bottom=0)
    ax.set_title(title or r"Belle II $B^+\to K^+\nu\bar\nu$ likelihood: $B^+\to K^+X$, $X$ invisible", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return save_figure(fig, out, "delta_chi2_vs_mX")


def plot_limits(mX, observed, expected: dict[str, np.ndarray], out: str | os.PathLike, title: str = "") -> list[Path]:
    """Observed limit and expected bands versus m_X; ``expected`` maps "-2".."2" to arrays."""
    mX = np.asarray(mX, float)
    obs = np.asarray([np.nan if v is None else v for v in observed], float)
    missing = [k for k in BANDS if k not in expected]
    if missing:
        raise InputError(f"expected limits lack the band(s) {missing}; needed: {list(BANDS)}")
    e = {k: np.asarray([np.nan if v is None else v for v in expected[k]], float) for k in BANDS}
    _require_points(mX, np.concatenate([obs, *e.values()]), f"{CL:.0%} CL limit")
    plt = _pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.fill_between(mX, e["-2"], e["2"], color="#ffdd00", lw=0, label=r"expected $\pm 2\sigma$")
    ax.fill_between(mX, e["-1"], e["1"], color="#00cc00", lw=0, label=r"expected $\pm 1\sigma$")
    ax.plot(mX, e["0"], color="k", ls="--", lw=1.2, label="expected (median)")
    ax.plot(mX, obs, color="k", lw=1.6, marker="o" if mX.size == 1 else None, label="observed")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_X$ [GeV]")
    ax.set_ylabel(f"{CL:.0%} CL upper limit on " + r"$\mathcal{B}(B^+\to K^+X)\times P_{\rm inv}$")
    ax.set_xlim(*_ends(mX))
    ax.set_title(
        title or r"Belle II $B^+\to K^+\nu\bar\nu$ likelihood, CL$_s$ ($\tilde q_\mu$, asymptotic)", fontsize=10
    )
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, out, "limits_vs_mX")


def plot_scan(result, out: str | os.PathLike) -> list[Path]:
    """Both plots of a :class:`xfit.belle2.scan.ScanResult` in ``out`` (the limits only where
    the scan computed them)."""
    pts = [p for p in result.points if math.isfinite(p.q0)]
    mX = [p.mX for p in pts]
    paths = plot_delta_chi2(mX, [p.q0 for p in pts], out, best=(result.best_mX, result.q0_best))
    with_limits = [p for p in pts if p.BR_95_expected]
    if with_limits:
        paths += plot_limits(
            [p.mX for p in with_limits],
            [p.BR_95 for p in with_limits],
            {k: [p.BR_95_expected.get(k) for p in with_limits] for k in BANDS},
            out,
        )
    return paths
