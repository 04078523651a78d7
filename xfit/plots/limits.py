"""Limit plots: 90 % CL upper limits on a coupling versus m_X, search by search
(:class:`xfit.inference.limits.CouplingLimit` curves; Fig. 3 of arXiv:2603.04394 and the
``limits`` analyses), with the bands of the IR-UV interplay (direct anomalon searches,
finite naturalness) and, in a lower panel, projections."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..inference.limits import CouplingLimit, direct_search_bound, naturalness_bound
from .save import save_figure, tight_layout
from .style import SEARCH_COLOURS, setup_style


def _pastel(colour: str, amount: float = 0.72):
    """``colour`` mixed with white (opaque fills that do not turn muddy when stacked)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def draw_limit(
    ax,
    curve: CouplingLimit,
    colour: str,
    label: str,
    top: float,
    fill: bool = True,
    ls: str = "-",
    lw: float = 1.6,
    alpha: float = 1.0,
    z: float = 1.0,
) -> None:
    """One limit curve on log axes, the excluded region above it shaded (opaque pastel of
    the curve's colour, at z-order ``z``; lines are drawn above every fill)."""
    m, g = curve.mX, curve.limit
    ok = np.isfinite(g)
    if not ok.any():
        ax.plot([], [], color=colour, ls=ls, lw=lw, label=f"{label} (no limit)")
        return
    marker = "o" if m.size == 1 else None  # a one-point line without a marker draws nothing
    ax.plot(m, np.where(ok, g, np.nan), color=colour, ls=ls, lw=lw, marker=marker, label=label, zorder=10)
    if fill:
        ax.fill_between(m, np.where(ok, g, top), top, where=ok, color=_pastel(colour), alpha=alpha, lw=0, zorder=z)


def _cl_text(curves: Mapping[str, CouplingLimit]) -> str:
    """"90% CL" for curves at 90 % CL (the curves' own level; "CL" alone if they differ)."""
    levels = {c.cl for c in curves.values()}
    return f"{100 * levels.pop():g}% CL" if len(levels) == 1 else "CL"


def _y_label(y: float) -> str:
    return r"\sqrt{4\pi}" if abs(y - math.sqrt(4 * math.pi)) < 1e-9 else f"{y:g}"


def plot_limits(
    curves: Mapping[str, CouplingLimit],
    out_dir: str | Path,
    stem: str = "limits",
    formats: Sequence[str] = ("png", "pdf"),
    labels: Mapping[str, str] | None = None,
    colours: Mapping[str, str] | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
    direct_y: Sequence[float] = (),
    naturalness_delta: Sequence[float] = (),
    naturalness_y: float = math.sqrt(4 * math.pi),
    projections: Mapping[str, CouplingLimit] | None = None,
    xscale: str = "log",
) -> list[Path]:
    """Limit curves versus m_X on log-log axes (upper panel); with ``projections`` a lower
    panel repeats the combined limit and adds the projections as dashed lines."""
    import matplotlib.pyplot as plt

    allm = np.concatenate([np.asarray(c.mX, float).ravel() for c in curves.values()] + [np.empty(0)])
    if not np.isfinite(allm).any():
        raise InputError(f"limit plot {stem!r}: no curve with a mass to draw (curves: {str(list(curves))[:80]});\n"
                         "it needs at least one search with m_X values")
    setup_style()
    labels = dict(labels or {})
    colours = {**SEARCH_COLOURS, **(colours or {})}
    mlo, mhi = float(np.nanmin(allm)), float(np.nanmax(allm))
    if mhi == mlo:  # one mass: half a percent either side (0.01 GeV at 0)
        pad = 0.005 * abs(mlo) or 0.01
        mlo, mhi = mlo - pad, mhi + pad
    finite = np.concatenate([c.limit[np.isfinite(c.limit)] for c in curves.values()] + [np.array([1e-3])])
    lo, hi = ylim or (10 ** math.floor(math.log10(finite.min()) - 0.5), 10.0)
    panels = 2 if projections else 1
    fig, axes = plt.subplots(panels, 1, figsize=(10.5, 4.8 * panels), squeeze=False)
    mm = np.geomspace(mlo, mhi, 200) if mlo > 0 else np.linspace(mlo, mhi, 200)

    def _bands(ax):
        for y, ls in zip(direct_y, (":", "-", "--")):
            g = direct_search_bound(mm, y)
            ax.plot(
                mm,
                g,
                color="goldenrod",
                ls=ls,
                lw=1.4,
                zorder=11,
                label=r"direct: $m_\Psi > 100$ GeV, $y_\Psi = " + _y_label(y) + "$",
            )
            ax.fill_between(mm, g, hi, color="gold", alpha=0.15, lw=0, zorder=5)
        for d, a in zip(naturalness_delta, (0.18, 0.12, 0.08)):
            g = naturalness_bound(mm, d, naturalness_y)
            ax.fill_between(
                mm,
                lo,
                g,
                color="grey",
                alpha=a,
                lw=0,
                zorder=5,
                label=rf"natural.: $m_\Psi \gtrsim \sqrt{{{d:g}}}$ TeV (tuning $<1/{d:g}$), $y_\Psi="
                + _y_label(naturalness_y)
                + "$",
            )

    ax = axes[0, 0]
    # fills: strongest search first, weaker ones over it, so that just above each curve the
    # colour is that of the search that excludes there first
    strength = {k: (np.nanmedian(c.limit) if np.isfinite(c.limit).any() else np.inf) for k, c in curves.items()}
    for z, name in enumerate(sorted((k for k in curves if k != "combined"), key=lambda k: strength[k])):
        draw_limit(ax, curves[name], colours.get(name, "k"), labels.get(name, name), hi, z=1 + 0.01 * z)
    if "combined" in curves:
        draw_limit(
            ax,
            curves["combined"],
            colours.get("combined", "k"),
            labels.get("combined", "combined"),
            hi,
            fill=False,
            lw=2.4,
        )
    _bands(ax)
    ax.set_title(title or "", fontsize=10)
    if projections:
        axp = axes[1, 0]
        if "combined" in curves:
            draw_limit(axp, curves["combined"], "dimgrey", "current limit (combined)", hi)
        for name, c in projections.items():
            draw_limit(axp, c, colours.get(name, "k"), labels.get(name, name), hi, fill=False, ls="--", lw=2)
        _bands(axp)
        axp.set_title("future projections (dashed)", fontsize=10)
    for a in axes[:, 0]:
        a.set_xscale(xscale)
        a.set_yscale("log")
        a.set_xlim(mlo, mhi)
        a.set_ylim(lo, hi)
        a.set_ylabel(ylabel or rf"$g_X$ ({_cl_text(curves)} upper limit, dimensionless)")
        a.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        a.tick_params(labelbottom=True)
    for a in axes[:, 0]:
        a.set_xlabel(r"$m_X$ [GeV]")
    tight_layout(fig)
    return save_figure(fig, out_dir, stem, formats)
