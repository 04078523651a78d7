"""Writing figures: one file per format, PNG and PDF by default."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError

#: The formats every figure is written in unless asked otherwise.
DEFAULT_FORMATS = ("png", "pdf")


def tight_bbox(fig):
    """The padded tight bounding box (inches) of ``fig`` that ``savefig(bbox_inches="tight")``
    computes for a raster file at ``savefig.dpi``.

    Computed once and passed to every format: each "tight" save lays the figure out once more
    (every mathtext label parsed again) before drawing it.  PNGs are unchanged; a PDF page
    may differ from its own "tight" box by a fraction of a point.

    ``savefig`` draws the figure (without output) before it measures it; here it is measured
    without that draw unless :func:`_drawing_moves_artists`: ``Figure.get_tightbbox`` places
    whatever it measures itself (ticks and their labels, axis labels and offset texts, titles,
    legends, aspect ratios and axes locators such as a colorbar's), so the box is the same."""
    import matplotlib as mpl

    dpi = mpl.rcParams["savefig.dpi"]
    original = fig.dpi
    if dpi != "figure":
        fig.set_dpi(dpi)
    try:
        if _drawing_moves_artists(fig):
            fig.draw_without_rendering()
        bbox = fig.get_tightbbox()
    finally:
        fig.set_dpi(original)
    return bbox.padded(mpl.rcParams["savefig.pad_inches"])


def _drawing_moves_artists(fig) -> bool:
    """Whether drawing ``fig`` moves or resizes artists that ``get_tightbbox`` does not place
    itself: a layout engine (it runs when the figure is drawn; not the do-nothing placeholder
    that ``fig.tight_layout()`` leaves) or a legend in "expand" mode (stretched to its anchor
    box when drawn, or a legend whose mode cannot be read)."""
    from matplotlib.layout_engine import PlaceHolderLayoutEngine
    from matplotlib.legend import Legend

    if not isinstance(fig.get_layout_engine(), (type(None), PlaceHolderLayoutEngine)):
        return True
    # Legend keeps its mode in a private attribute: were it renamed, assume the draw (slower,
    # never a wrong box) rather than a box measured before an "expand" legend is stretched.
    return any(getattr(leg, "_mode", "expand") == "expand" for leg in _legends(fig, Legend))


def _legends(fig, legend_class) -> list:
    """The legends of ``fig``, of its axes and of its subfigures (also those added with
    ``add_artist``), without walking every artist (``fig.findobj`` costs ~10 ms a figure)."""
    out = [*fig.legends, *(a for a in fig.artists if isinstance(a, legend_class))]
    for ax in fig.axes:
        out += [ax.get_legend(), *(a for a in ax.artists if isinstance(a, legend_class))]
    for sub in fig.subfigs:
        out += _legends(sub, legend_class)
    return [leg for leg in out if leg is not None]


_SHARED_CANVAS_CLASS = None
#: How many mathtext parses the shared canvas keeps (all of them are dropped when it is full).
_PARSES_KEPT = 2000
#: The settings a mathtext parse may depend on (fonts, mathtext fonts, hinting, antialiasing).
_PARSE_SETTINGS = ("font.", "mathtext.", "text.")


def _shared_mathtext_canvas_class():
    """An Agg canvas whose renderers share one mathtext parser (for the whole process: it
    keeps its parses, see ``RememberingMathTextParser``) and, for as long as the canvas lives,
    the text metrics they measure.

    matplotlib gives each Agg renderer its own parser and its own cache of text metrics, and
    the layout pass of :func:`tight_bbox` and the PNG (drawn on the cropped, differently sized
    canvas) use two renderers at the same dpi: each label was parsed and measured twice.  A
    parse or a measurement depends on the text, its font properties, the dpi and the hinting
    settings only, not on the renderer's size, so the pixels are the same.  A canvas (and
    its metrics) lives for one :func:`save_figure` (the settings cannot change in between)."""
    global _SHARED_CANVAS_CLASS
    if _SHARED_CANVAS_CLASS is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.mathtext import MathTextParser

        class RememberingMathTextParser(MathTextParser):
            """The parser RendererAgg makes for itself ("path"), keeping up to
            :data:`_PARSES_KEPT` parses (matplotlib's cache keeps 50, for every parser of the
            process): the labels of xfit's figures (log-axis tick labels, axis labels,
            legends) recur from figure to figure, and are parsed once per resolution.  A
            parse is keyed as matplotlib's is (text, dpi, font properties, antialiasing) and
            by the font, mathtext and text settings it may read."""

            def __init__(self):
                import matplotlib as mpl

                super().__init__("path")
                self._parses = {}
                self._settings = tuple(k for k in mpl.rcParams if k.startswith(_PARSE_SETTINGS))

            def parse(self, s, dpi=72, prop=None, *, antialiased=None):
                import matplotlib as mpl

                rc = mpl.rcParams
                key = (s, dpi, None if prop is None else prop.copy(),
                       rc["text.antialiased"] if antialiased is None else antialiased,
                       repr([rc[k] for k in self._settings]))
                if key not in self._parses:
                    if len(self._parses) >= _PARSES_KEPT:
                        self._parses.clear()
                    self._parses[key] = super().parse(s, dpi, prop, antialiased=antialiased)
                return self._parses[key]

        class SharedMathtextCanvasAgg(FigureCanvasAgg):
            mathtext_parser = RememberingMathTextParser()

            def get_renderer(self):
                renderer = super().get_renderer()
                if renderer.mathtext_parser is not self.mathtext_parser:  # a new renderer
                    renderer.mathtext_parser = self.mathtext_parser
                    renderer.get_text_width_height_descent = _shared_metrics(
                        renderer, self.__dict__.setdefault("_text_metrics", {}))
                return renderer

        _SHARED_CANVAS_CLASS = SharedMathtextCanvasAgg
    return _SHARED_CANVAS_CLASS


def _shared_metrics(renderer, cache: dict):
    """``renderer.get_text_width_height_descent`` looked up in ``cache`` first (keyed as
    matplotlib's own per-renderer cache is, by text, font properties, math or not, and dpi).
    It holds the renderer weakly, as matplotlib's cache does (no reference cycle)."""
    import weakref

    measure = type(renderer).get_text_width_height_descent
    ref = weakref.ref(renderer)

    def get_text_width_height_descent(s, prop, ismath):
        r = ref()
        key = (s, prop.copy(), ismath, r.dpi)
        if key not in cache:
            cache[key] = measure(r, s, prop, ismath)
        return cache[key]

    return get_text_width_height_descent


@contextmanager
def _shared_mathtext_canvas(fig):
    """``fig`` on a new :func:`_shared_mathtext_canvas_class` canvas, its own canvas put back
    after (as ``savefig`` does when it switches canvases for a format).  Only a figure that
    would be written with Agg anyway (a plain :class:`~matplotlib.figure.Figure`, or pyplot's
    with an Agg-based backend) is switched; others (e.g. a cairo backend) are left as they are."""
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    original = fig.canvas
    if not (type(original) is FigureCanvasBase or isinstance(original, FigureCanvasAgg)):
        yield fig
        return
    canvas_class = _shared_mathtext_canvas_class()
    canvas_class(fig)  # sets fig.canvas
    own_draw = fig.__dict__.get("draw")
    fig.draw = _drawing_with_vector_parser(fig, canvas_class.mathtext_parser)
    try:
        yield fig
    finally:
        if own_draw is None:
            del fig.draw  # Figure.draw again
        else:
            fig.draw = own_draw
        fig.set_canvas(original)


def _drawing_with_vector_parser(fig, parser):
    """``fig.draw`` that, before drawing on a vector renderer (PDF, SVG, PS: each makes its own
    "path" mathtext parser, its parses lost with it), hands the renderer ``parser`` (a "path"
    parser too, so the parses are the same) and its kept parses: a label drawn in the PDF of
    an earlier figure is not parsed again."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.mathtext import MathTextParser

    draw = fig.draw

    def draw_sharing_parses(renderer):
        vector = getattr(renderer, "_vector_renderer", renderer)  # a MixedModeRenderer's
        text2path = getattr(vector, "_text2path", None)
        if (not isinstance(vector, RendererAgg) and text2path is not None
                and type(text2path.mathtext_parser) is MathTextParser
                and getattr(text2path.mathtext_parser, "_output_type", None) == "vector"):
            text2path.mathtext_parser = parser
        return draw(renderer)

    return draw_sharing_parses


@contextmanager
def _laid_out(fig):
    """``fig`` without its layout engine, put back after: for the formats drawn once the
    figure is laid out (by :func:`tight_bbox`), as ``savefig`` itself does after the draw it
    makes first.  With one, each ``savefig`` would draw the figure once more before drawing
    it, to run the engine again (or, after ``fig.tight_layout()``, the placeholder engine
    that does nothing); a constrained layout run twice moves the axes a little."""
    import matplotlib as mpl

    engine = fig.get_layout_engine()
    if engine is None:
        yield fig
        return
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)  # None, not "none" (which makes a placeholder)
    try:
        yield fig
    finally:
        fig.set_layout_engine(engine)


def tight_layout(fig) -> None:
    """``fig.tight_layout()``, measured on the canvas :func:`save_figure` uses (its mathtext
    parses are kept for the next figures)."""
    with _shared_mathtext_canvas(fig):
        fig.tight_layout()


def save_figure(fig, out_dir: str | Path, stem: str, formats: Sequence[str] = DEFAULT_FORMATS) -> list[Path]:
    """Write ``stem.<format>`` for each of ``formats`` in ``out_dir`` (created if needed),
    cropped to the figure's tight bounding box; close the figure and return the paths.  An empty
    ``formats`` or one matplotlib cannot write is refused before anything is written."""
    formats = [formats] if isinstance(formats, str) else list(formats)
    from matplotlib.backend_bases import FigureCanvasBase

    supported = FigureCanvasBase.get_supported_filetypes()  # every format savefig can switch to
    unknown = [f for f in formats if not isinstance(f, str) or f.lower() not in supported]
    if not formats or unknown:
        raise InputError(f"figure {stem!r}: formats {str(unknown or formats)[:80]} cannot be written;\n"
                         f"accepted: a non-empty list of {', '.join(sorted(supported))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.{f.lower()}" for f in formats]
    with _shared_mathtext_canvas(fig):
        if len(paths) == 1:
            fig.savefig(paths[0], bbox_inches="tight")
        else:
            bbox = tight_bbox(fig)
            with _laid_out(fig):
                for p in paths:
                    fig.savefig(p, bbox_inches=bbox)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # a figure of pyplot's (one made without pyplot needs no closing)
        pyplot.close(fig)
    return paths
