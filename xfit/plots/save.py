"""Writing figures: one file per format, PNG and PDF by default."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import contextmanager
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


_SHARED_CANVAS_CLASS = None


def _shared_mathtext_canvas_class():
    """An Agg canvas whose renderers share one mathtext parser, hence its cache of parsed labels.

    matplotlib gives each Agg renderer its own parser, and the layout pass of :func:`tight_bbox`
    and the PNG (drawn on the cropped, differently sized canvas) use two renderers at the same
    dpi: each label was parsed twice.  A parse depends on the label, font, dpi and hinting only,
    not on the renderer, so the pixels are the same."""
    global _SHARED_CANVAS_CLASS
    if _SHARED_CANVAS_CLASS is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.mathtext import MathTextParser

        class SharedMathtextCanvasAgg(FigureCanvasAgg):
            mathtext_parser = MathTextParser("path")  # what RendererAgg makes for itself

            def get_renderer(self):
                renderer = super().get_renderer()
                renderer.mathtext_parser = self.mathtext_parser
                return renderer

        _SHARED_CANVAS_CLASS = SharedMathtextCanvasAgg
    return _SHARED_CANVAS_CLASS


@contextmanager
def _shared_mathtext_canvas(fig):
    """``fig`` on a :func:`_shared_mathtext_canvas_class` canvas, its own canvas put back after
    (as ``savefig`` does when it switches canvases for a format).  Only a figure that would
    be written with Agg anyway (a plain :class:`~matplotlib.figure.Figure`, or pyplot's with
    an Agg-based backend) is switched; others (e.g. a cairo backend) are left as they are."""
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    original = fig.canvas
    if not (type(original) is FigureCanvasBase or isinstance(original, FigureCanvasAgg)):
        yield fig
        return
    _shared_mathtext_canvas_class()(fig)  # sets fig.canvas
    try:
        yield fig
    finally:
        fig.set_canvas(original)


def save_figure(fig, out_dir: str | Path, stem: str, formats: Sequence[str] = DEFAULT_FORMATS) -> list[Path]:
    """Write ``stem.<format>`` for each of ``formats`` in ``out_dir`` (created if needed),
    cropped to the figure's tight bounding box; close the figure and return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.{f.lower()}" for f in formats]
    with _shared_mathtext_canvas(fig):
        bbox = tight_bbox(fig) if len(paths) > 1 else "tight"
        for p in paths:
            fig.savefig(p, bbox_inches=bbox)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # a figure of pyplot's (one made without pyplot needs no closing)
        pyplot.close(fig)
    return paths
