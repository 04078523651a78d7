"""Writing figures: one file per format, PNG and PDF by default."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: The formats every figure is written in unless asked otherwise.
DEFAULT_FORMATS = ("png", "pdf")


def tight_bbox(fig):
    """The padded tight bounding box (inches) of ``fig`` that ``savefig(bbox_inches="tight")``
    computes for a raster file at ``savefig.dpi``.

    Computed once and passed to every format: each "tight" save lays the figure out once more
    (every mathtext label parsed again) before drawing it.  PNGs are unchanged; a PDF page
    may differ from its own "tight" box by a fraction of a point."""
    import matplotlib as mpl

    dpi = mpl.rcParams["savefig.dpi"]
    original = fig.dpi
    if dpi != "figure":
        fig.set_dpi(dpi)
    try:
        fig.draw_without_rendering()
        bbox = fig.get_tightbbox()
    finally:
        fig.set_dpi(original)
    return bbox.padded(mpl.rcParams["savefig.pad_inches"])


def save_figure(fig, out_dir: str | Path, stem: str, formats: Sequence[str] = DEFAULT_FORMATS) -> list[Path]:
    """Write ``stem.<format>`` for each of ``formats`` in ``out_dir`` (created if needed),
    cropped to the figure's tight bounding box; close the figure and return the paths."""
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.{f.lower()}" for f in formats]
    bbox = tight_bbox(fig) if len(paths) > 1 else "tight"
    for p in paths:
        fig.savefig(p, bbox_inches=bbox)
    plt.close(fig)
    return paths
