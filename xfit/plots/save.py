"""Writing figures: one file per format, PNG and PDF by default."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: The formats every figure is written in unless asked otherwise.
DEFAULT_FORMATS = ("png", "pdf")


def save_figure(fig, out_dir: str | Path, stem: str, formats: Sequence[str] = DEFAULT_FORMATS) -> list[Path]:
    """Write ``stem.<format>`` for each of ``formats`` in ``out_dir`` (created if needed),
    close the figure and return the paths."""
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.{f.lower()}" for f in formats]
    for p in paths:
        fig.savefig(p, bbox_inches="tight")
    plt.close(fig)
    return paths
