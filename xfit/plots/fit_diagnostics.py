"""Figures of the first checks of a HistFactory fit (PNG + PDF, numbers as CSV beside each).

Generic for any :class:`xfit.histfactory.HistFactoryModel` (used for the Belle II workspace by
``xfit belle2 plots``).

* ``yields_prefit`` / ``yields_postfit``: per channel, the samples stacked at the pre-fit
  (suggested initial values) or best-fit parameters, the data with Poisson 68.3 % central
  (Garwood) intervals, and a ratio panel data / model;
* ``pulls`` (normsys, histosys, lumi) and ``pulls_gammas`` (staterror, shapesys): pull
  (theta-hat - theta_0) / sigma_pre with error bar sigma_post / sigma_pre, bands at 1 and 2;
* ``impacts``: the ``n`` largest post-fit impacts on the POI (filled bars: theta-hat +-
  sigma_post; open bars: theta_0 +- sigma_pre), see :func:`xfit.inference.diagnostics.impacts`;
* ``correlations``: the correlation matrix of the ``n`` parameters with the largest
  off-diagonal correlations.

Legends are placed outside the axes so that they cover nothing.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy import special

from ..inference import diagnostics as diag
from ..inference.calculators import normal_sf
from .save import save_figure
from .style import SIGMA_COLOURS, setup_style

#: Coverage of the data error bars (central interval of a Poisson count): that of +-1 sigma
#: of a normal distribution, 1 - 2 (1 - Phi(1)) = 0.6827.
POISSON_CL = 1.0 - 2.0 * normal_sf(1.0)


def poisson_interval(n, cl: float = POISSON_CL) -> tuple[np.ndarray, np.ndarray]:
    """Garwood central interval (lo, hi) of the mean of a Poisson count n (lo = 0 for n = 0)."""
    n = np.asarray(n, float)
    a = 0.5 * (1.0 - cl)
    # chi2.ppf(p, 2k) / 2 = gammaincinv(k, p), what scipy.stats computes it with (without
    # importing scipy.stats, ~0.6 s)
    lo = np.where(n > 0, special.gammaincinv(np.maximum(n, 1e-300), a), 0.0)
    hi = special.gammaincinv(n + 1, 1.0 - a)
    return lo, hi


def _write_csv(path: Path, header: list[str], rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([f"{v:.10g}" if isinstance(v, (float, np.floating)) else v for v in r])
    return path


def _channel_slices(model) -> dict[str, slice]:
    out, o = {}, 0
    for c in model.channels:
        n = model.channel_nbins[c]
        out[c] = slice(o, o + n)
        o += n
    return out


def _short(name: str, n: int = 28) -> str:
    """``name`` cut in the middle to at most ``n`` characters (start and end are what differ)."""
    if len(name) <= n:
        return name
    head = (n - 1) // 2
    return name[:head] + "~" + name[len(name) - (n - 1 - head):]


def plot_yields(model, theta, out_dir, stem: str, title: str) -> list[Path]:
    """Stacked expected yields per channel at ``theta`` with the data and a data/model panel."""
    import matplotlib.pyplot as plt

    setup_style()
    theta = np.asarray(theta, float)
    by_sample = model.expected_by_sample(theta)
    observed = np.asarray(model.observed, float)
    sl = _channel_slices(model)
    samples = []
    for (_c, s) in by_sample:
        if s not in samples:
            samples.append(s)
    cmap = plt.get_cmap("tab20")
    colours = {s: cmap(i % 20) for i, s in enumerate(samples)}
    nch = len(model.channels)
    fig, axes = plt.subplots(2, nch, figsize=(2.9 * nch + 0.6, 5.2), sharex="col",
                             gridspec_kw={"height_ratios": [3, 1], "hspace": 0.06, "wspace": 0.38},
                             squeeze=False)
    rows = []
    for k, c in enumerate(model.channels):
        ax, rax = axes[0, k], axes[1, k]
        nb = model.channel_nbins[c]
        x = np.arange(nb)
        bottom = np.zeros(nb)
        for s in samples:
            if (c, s) not in by_sample:
                continue
            y = np.asarray(by_sample[(c, s)], float)
            ax.bar(x, y, bottom=bottom, width=1.0, color=colours[s], edgecolor="none", label=s)
            bottom = bottom + y
        n = observed[sl[c]]
        lo, hi = poisson_interval(n)
        ax.errorbar(x, n, yerr=[n - lo, hi - n], fmt="o", color="black", ms=3.5, lw=1, label="data")
        ax.set_title(_short(c, 32), fontsize=9)
        ax.set_ylim(0, 1.3 * max(np.max(hi), np.max(bottom)))
        if k == 0:
            ax.set_ylabel("Events / bin")
            rax.set_ylabel("Data / model")
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(bottom > 0, n / bottom, np.nan)
            rlo, rhi = np.where(bottom > 0, lo / bottom, np.nan), np.where(bottom > 0, hi / bottom, np.nan)
        rax.errorbar(x, r, yerr=[r - rlo, rhi - r], fmt="o", color="black", ms=3.5, lw=1)
        rax.axhline(1.0, color="grey", lw=0.8)
        rax.set_ylim(0.0, 2.0)
        rax.set_xlabel("bin number")
        rax.set_xticks(x)
        for j in range(nb):
            rows.append([c, j] + [float(by_sample.get((c, s), np.zeros(nb))[j]) for s in samples]
                        + [float(bottom[j]), float(n[j]), float(lo[j]), float(hi[j])])
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[s]) for s in samples]
    handles.append(axes[0, 0].lines[0] if axes[0, 0].lines else plt.Line2D([], [], marker="o", color="black"))
    fig.subplots_adjust(left=0.06, right=0.98)
    fig.legend(handles, samples + ["data"], loc="center left", bbox_to_anchor=(0.985, 0.55), fontsize=8)
    fig.suptitle(title, y=1.0)
    out = Path(out_dir)
    paths = save_figure(fig, out, stem)
    paths.append(_write_csv(out / f"{stem}.csv", ["channel", "bin"] + samples
                            + ["total_expected", "data", "data_lo68", "data_hi68"], rows))
    return paths


def plot_pulls(pulls: dict, out_dir, stem: str = "pulls", gammas: bool = False) -> list[Path]:
    """Pulls of the non-gamma (``gammas`` False) or the gamma parameters."""
    import matplotlib.pyplot as plt

    setup_style()
    names = [n for n, v in pulls.items() if (v.get("modifier") in diag.GAMMA_MODIFIERS) == gammas]
    out = Path(out_dir)
    if not names:
        return []
    val = np.array([pulls[n]["value"] for n in names])
    err = np.array([pulls[n]["error"] for n in names])
    h = max(3.0, 0.16 * len(names) + 1.0)
    fig, ax = plt.subplots(figsize=(6.0, h))
    y = np.arange(len(names))[::-1]
    ax.axvspan(-2, 2, color=SIGMA_COLOURS[2], alpha=0.5, lw=0, label=r"$\pm 2$")
    ax.axvspan(-1, 1, color=SIGMA_COLOURS[1], alpha=0.5, lw=0, label=r"$\pm 1$")
    ax.errorbar(val, y, xerr=err, fmt="o", color="black", ms=3, lw=1, label="post-fit")
    ax.set_yticks(y)
    ax.set_yticklabels([_short(n, 40) for n in names], fontsize=6 if len(names) > 60 else 8)
    ax.set_ylim(-1, len(names))
    lim = max(3.0, float(np.max(np.abs(val) + err)) * 1.1)
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(r"$(\hat\theta - \theta_0)/\sigma_{\rm pre}$  (error bar: $\sigma_{\rm post}/\sigma_{\rm pre}$)")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=3, fontsize=8)
    paths = save_figure(fig, out, stem)
    paths.append(_write_csv(out / f"{stem}.csv", ["parameter", "modifier", "pull", "pull_error", "theta",
                                                  "theta_error", "theta0", "sigma_prefit"],
                            [[n, pulls[n]["modifier"], pulls[n]["value"], pulls[n]["error"], pulls[n]["theta"],
                              pulls[n]["theta_error"], pulls[n]["theta0"], pulls[n]["sigma_prefit"]] for n in names]))
    return paths


def plot_impacts(impacts: list[dict], out_dir, n: int = 20, poi_label: str = r"\mu",
                 stem: str = "impacts") -> list[Path]:
    """Ranking of the ``n`` largest impacts on the POI (already sorted by size)."""
    import matplotlib.pyplot as plt

    setup_style()
    top = impacts[:n]
    out = Path(out_dir)
    if not top:
        return []
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(top) + 1.4))
    y = np.arange(len(top))[::-1]
    hh = 0.38
    for key, off, style in (("prefit_up", hh / 2, dict(facecolor="none", edgecolor="tab:blue", lw=1)),
                            ("prefit_down", -hh / 2, dict(facecolor="none", edgecolor="tab:orange", lw=1)),
                            ("delta_mu_up", hh / 2, dict(color="tab:blue", alpha=0.8)),
                            ("delta_mu_down", -hh / 2, dict(color="tab:orange", alpha=0.8))):
        ax.barh(y + off, [d[key] for d in top], height=hh, **style)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([_short(d["name"], 36) for d in top], fontsize=8)
    ax.set_xlabel(rf"$\Delta {poi_label}$ (refit with the parameter fixed)")
    handles = [plt.Rectangle((0, 0), 1, 1, color="tab:blue", alpha=0.8),
               plt.Rectangle((0, 0), 1, 1, color="tab:orange", alpha=0.8),
               plt.Rectangle((0, 0), 1, 1, facecolor="none", edgecolor="tab:blue"),
               plt.Rectangle((0, 0), 1, 1, facecolor="none", edgecolor="tab:orange")]
    ax.legend(handles, [r"post-fit $\hat\theta+\sigma$", r"post-fit $\hat\theta-\sigma$",
                        r"pre-fit $\theta_0+\sigma$", r"pre-fit $\theta_0-\sigma$"],
              loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8)
    paths = save_figure(fig, out, stem)
    keys = ["delta_mu_up", "delta_mu_down", "prefit_up", "prefit_down"]
    paths.append(_write_csv(out / f"{stem}.csv", ["rank", "parameter"] + keys,
                            [[i + 1, d["name"]] + [d[k] for k in keys] for i, d in enumerate(top)]))
    return paths


def largest_correlations(rho: np.ndarray, names, n: int = 20) -> list[int]:
    """Indices of the ``n`` parameters with the largest |off-diagonal correlation|, in model order."""
    a = np.abs(np.asarray(rho, float)).copy()
    np.fill_diagonal(a, 0.0)
    score = a.max(axis=1)
    keep = np.argsort(-score, kind="stable")[:n]
    return sorted(int(i) for i in keep if score[i] > 0)


def plot_correlations(model, fit, out_dir, n: int = 20, stem: str = "correlations",
                      cov: np.ndarray | None = None) -> list[Path]:
    """Correlation matrix of the ``n`` parameters most correlated with another one (``cov``:
    the post-fit covariance, :func:`xfit.inference.diagnostics.postfit_covariance`, if known);
    nothing is written when no two parameters are correlated."""
    import matplotlib.pyplot as plt

    setup_style()
    rho = diag.correlation(model, fit, cov)
    idx = largest_correlations(rho, model.par_names, n)
    if not idx:  # one parameter, or none correlated: no matrix to draw (as no pulls, no impacts)
        return []
    names = [model.par_names[i] for i in idx]
    sub = rho[np.ix_(idx, idx)]
    k = len(idx)
    fig, ax = plt.subplots(figsize=(0.42 * k + 3.0, 0.42 * k + 2.2))
    im = ax.imshow(sub, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels([_short(s, 24) for s in names], rotation=90, fontsize=7)
    ax.set_yticklabels([_short(s, 24) for s in names], fontsize=7)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{sub[i, j]:.2f}", ha="center", va="center", fontsize=5,
                    color="white" if abs(sub[i, j]) > 0.6 else "black")
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cb.set_label("correlation coefficient (dimensionless)")
    ax.set_title(f"{k} parameters with the largest correlations", fontsize=9)
    out = Path(out_dir)
    paths = save_figure(fig, out, stem)
    paths.append(_write_csv(out / f"{stem}.csv", ["parameter"] + names,
                            [[names[i]] + [float(v) for v in sub[i]] for i in range(k)]))
    return paths


def draw_all(model, fit, out_dir, poi=None, n_impacts: int = 20, n_correlations: int = 20,
             pulls: dict | None = None, impacts: list | None = None, poi_label: str = r"\mu") -> list[Path]:
    """Every figure of this module for ``model`` and its best fit ``fit``; returns the files written."""
    cov = diag.postfit_covariance(model, fit)  # once, for the errors and the correlations
    err = diag.postfit_errors(model, fit, cov)
    pulls = diag.pulls(model, fit, errors=err) if pulls is None else pulls
    impacts = diag.impacts(model, fit, poi, errors=err) if impacts is None else impacts
    paths = []
    paths += plot_yields(model, model.init, out_dir, "yields_prefit", "pre-fit (suggested initial values)")
    paths += plot_yields(model, fit.x, out_dir, "yields_postfit", "post-fit (best fit)")
    paths += plot_pulls(pulls, out_dir, "pulls", gammas=False)
    paths += plot_pulls(pulls, out_dir, "pulls_gammas", gammas=True)
    paths += plot_impacts(impacts, out_dir, n=n_impacts, poi_label=poi_label)
    paths += plot_correlations(model, fit, out_dir, n=n_correlations, cov=cov)
    return paths
