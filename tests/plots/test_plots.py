"""The plotting package: style names, saving, no backend chosen on import, corner and Fig. 2 drawing."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xfit.plots import MODEL_COLOURS, SIGMA_COLOURS, SIGMA_LINESTYLES, save_figure, setup_style

PACKAGE = Path(__file__).resolve().parents[2] / "xfit" / "plots"


def test_style_names():
    assert set(SIGMA_COLOURS) == set(SIGMA_LINESTYLES) == {1, 2, 3}
    assert {"tau-flavor", "L-only", "L=-4R"} <= set(MODEL_COLOURS)
    setup_style()
    import matplotlib.pyplot as plt

    assert plt.rcParams["savefig.dpi"] == 150


def test_save_figure_writes_png_and_pdf_or_the_formats_asked(tmp_path):
    import matplotlib.pyplot as plt

    paths = save_figure(plt.subplots()[0], tmp_path / "new", "f")
    assert [p.name for p in paths] == ["f.png", "f.pdf"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
    paths = save_figure(plt.subplots()[0], tmp_path, "g", formats=["SVG"])
    assert [p.name for p in paths] == ["g.svg"] and b"<svg" in paths[0].read_bytes()[:400]


def _labelled_figure():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    ax.plot([0, 1], [0, 1], label=r"$\mathcal{A}_{WW}=-1$")
    ax.set_xlabel(r"$g_X\,\mathcal{A}^{\rm SM}_{XWW}$")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))  # outside the axes: the tight box grows
    return fig


def test_save_figure_crops_as_savefig_tight(tmp_path):
    """One tight box for every format: the PNG is byte for byte savefig(bbox_inches="tight")'s,
    the PDF page that box (within a point of the PDF's own tight box)."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    setup_style()
    reference = _labelled_figure()
    reference.savefig(tmp_path / "ref.png", bbox_inches="tight")
    reference.savefig(tmp_path / "ref.pdf", bbox_inches="tight")
    plt.close(reference)
    png, pdf = save_figure(_labelled_figure(), tmp_path, "f")
    assert png.read_bytes() == (tmp_path / "ref.png").read_bytes()

    def page(path):
        box = next(ln for ln in path.read_bytes().split(b"\n") if b"/MediaBox" in ln)
        return np.array(box.split(b"[")[1].split(b"]")[0].split(), dtype=float)[2:]

    assert np.allclose(page(pdf), page(tmp_path / "ref.pdf"), atol=1.0)  # points
    width_px = page(pdf)[0] / 72 * mpl.rcParams["savefig.dpi"]
    assert abs(int.from_bytes(png.read_bytes()[16:20], "big") - width_px) < 2


def _small_figure(kind: str):
    """A figure that a draw changes before it is measured: a legend stretched over 1.5 axes
    widths ("expand"), a constrained layout; or one laid out by tight_layout() beforehand."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.0, 2.0), layout="constrained" if kind == "constrained" else None)
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_xlabel("x label")
    ax.set_ylabel("a long y label")
    if kind == "expand":
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.02, 1.5, 0.2), mode="expand", ncol=2)
    if kind == "tight_layout":
        fig.tight_layout()
    return fig


@pytest.mark.parametrize("kind", ["expand", "constrained", "tight_layout"])
def test_save_figure_crops_as_savefig_tight_when_drawing_moves_artists(tmp_path, kind):
    """The tight box is measured without drawing the figure first, except where a draw moves
    artists (an "expand" legend, a layout engine): the PNG is savefig(bbox_inches="tight")'s."""
    import matplotlib.pyplot as plt

    setup_style()
    reference = _small_figure(kind)
    reference.savefig(tmp_path / "ref.png", bbox_inches="tight")
    plt.close(reference)
    fig = _small_figure(kind)
    engine = fig.get_layout_engine()
    (png,) = save_figure(fig, tmp_path, kind, formats=["png", "pdf"])[:1]
    assert png.read_bytes() == (tmp_path / "ref.png").read_bytes()
    assert fig.get_layout_engine() is engine  # put back


def test_save_figure_draws_and_measures_once_per_format(tmp_path, monkeypatch):
    """After tight_layout() each format is drawn once (no layout draws before each savefig,
    no draw for the tight box), and the PNG measures no text the tight box measured."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure

    setup_style()
    fig = _small_figure("tight_layout")
    draws, measured = [], []
    draw, measure = Figure.draw, RendererAgg.get_text_width_height_descent
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(type(renderer).__name__)
                        or draw(self, renderer))
    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent", lambda self, s, prop, ismath: measured.append(
        (s, prop.get_size_in_points(), ismath, self.dpi)) or measure(self, s, prop, ismath))
    save_figure(fig, tmp_path, "once")
    assert len(draws) == 2 and draws[0] == "RendererAgg"
    assert "x label" in {m[0] for m in measured} and len(measured) == len(set(measured))


def test_save_figure_parses_each_label_once_per_resolution(tmp_path):
    """The layout pass and the PNG share the mathtext parses (same dpi); the PDF (72 dpi)
    parses once more: 2 parses per label, not 3.  The next figure with the same labels
    parses none (the parses of both resolutions are kept).  The canvas and the draw method of
    the figure are put back."""
    import matplotlib.mathtext as mathtext

    from xfit.plots.style import new_figure

    setup_style()
    labels = [rf"$\alpha_{{{i}}}^{{\rm once{tmp_path.name[-6:]}}}$" for i in range(4)]  # never parsed before

    def labelled():
        fig, ax = new_figure((4.0, 3.0))
        for i, label in enumerate(labels):
            ax.plot([0, 1], [i, i + 1], label=label)
        ax.legend()
        return fig

    def parses(fig, stem):
        before = mathtext.MathTextParser._parse_cached.cache_info().misses
        save_figure(fig, tmp_path, stem)
        return mathtext.MathTextParser._parse_cached.cache_info().misses - before

    fig = labelled()
    canvas = fig.canvas
    assert parses(fig, "once") == 2 * len(labels)
    assert fig.canvas is canvas and "draw" not in vars(fig)
    assert parses(labelled(), "again") == 0


def test_kept_mathtext_parses_are_keyed_by_the_settings(monkeypatch):
    """The parses that save_figure keeps are looked up again only under the same settings."""
    import matplotlib as mpl
    from matplotlib.mathtext import MathTextParser

    from xfit.plots.save import _shared_mathtext_canvas_class

    parser = _shared_mathtext_canvas_class().mathtext_parser
    parsed = []
    parse = MathTextParser.parse
    monkeypatch.setattr(MathTextParser, "parse", lambda self, s, *a, **k: parsed.append(s) or parse(self, s, *a, **k))
    label = r"$\beta_{\rm kept}$"
    first = parser.parse(label, 150)
    assert parser.parse(label, 150) is first and parsed == [label]
    with mpl.rc_context({"mathtext.default": "regular"}):
        parser.parse(label, 150)
    assert parsed == [label, label]


def test_save_figure_closes_pyplots_figures_and_leaves_other_canvases(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import FigureCanvasPdf

    fig, _ = plt.subplots()
    assert plt.fignum_exists(fig.number)
    save_figure(fig, tmp_path, "p")
    assert not plt.fignum_exists(fig.number)  # closed, as before
    from matplotlib.figure import Figure

    other = Figure()
    other.subplots()
    canvas = FigureCanvasPdf(other)  # not Agg: written as it is
    paths = save_figure(other, tmp_path, "q")
    assert other.canvas is canvas and paths[0].read_bytes()[:4] == b"\x89PNG"


@pytest.fixture(scope="module")
def fresh_interpreter():
    """What a new Python process prints (one line each) after importing xfit.plots, .corner and
    .fig2, then after ``new_figure``: whether pyplot is imported, and the figure made.  One
    process for the two tests below (a process costs ~0.5 s): pyplot imported by the imports
    shows on the first line, by ``new_figure`` on the second."""
    code = ("import sys, xfit.plots, xfit.plots.corner, xfit.plots.fig2; print('matplotlib.pyplot' in sys.modules)\n"
            "from xfit.plots.style import new_figure; fig, ax = new_figure((3.0, 2.0))\n"
            "print('matplotlib.pyplot' in sys.modules, fig.get_size_inches().tolist(), len(fig.axes))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_new_figure_is_not_pyplots(fresh_interpreter):
    assert fresh_interpreter[1].split() == ["False", "[3.0,", "2.0]", "1"]


def test_no_backend_is_chosen_and_pyplot_not_imported_on_import(fresh_interpreter):
    for f in PACKAGE.glob("*.py"):
        assert "matplotlib.use(" not in f.read_text(), f.name
    assert fresh_interpreter[0].strip() == "False"


def test_corner_plot_of_samples(tmp_path):
    from xfit.plots.corner import corner_plot

    s = np.random.default_rng(1).normal(size=(500, 2))
    paths = corner_plot(s, ["$a$", "$b$"], tmp_path, "c", title="t")
    assert [p.name for p in paths] == ["c.png", "c.pdf"] and all(p.stat().st_size > 0 for p in paths)
    fig = corner_plot(s[:, :1], ["$a$"])
    assert len(fig.axes) == 1


def test_fig2_panels_from_arrays(tmp_path):
    from xfit.plots.fig2 import ModelLine, draw_improvement, draw_plane

    x, y = np.linspace(-1, 1, 30), np.linspace(-2, 2, 40)
    X, Y = np.meshgrid(x, y)
    d = X**2 + Y**2
    left = draw_plane(tmp_path, X, Y, d, 2 * d, [2.3, 6.18, 11.83], [ModelLine("tau-flavor", -1.0, 1.0, 0.5)],
                      np.linspace(-1, 1, 5), 2.1, "derived")
    g = np.linspace(0, 1, 20)
    right = draw_improvement(tmp_path, g, 10 * g, 5 * g, 2.7, 2.1, "derived")
    assert [p.name for p in left + right] == ["fig2_left.png", "fig2_left.pdf", "fig2_right.png", "fig2_right.pdf"]


def test_a_legend_whose_mode_cannot_be_read_is_drawn_before_it_is_measured():
    """save.py reads matplotlib's private Legend._mode: a matplotlib that renames it takes the
    slower path that is always right (draw, then measure), not a box measured too early."""
    from xfit.plots.save import _drawing_moves_artists
    from xfit.plots.style import new_figure

    fig, ax = new_figure((3.0, 2.0))
    ax.plot([0, 1], [0, 1], label="a line")
    legend = ax.legend()
    assert legend._mode is None  # the attribute save.py reads (fails if matplotlib renames it)
    assert not _drawing_moves_artists(fig)
    del legend._mode
    assert _drawing_moves_artists(fig)


@pytest.mark.parametrize("formats", [(), ["png", "jpeg2000"], [None]])
def test_save_figure_refuses_no_format_or_one_it_cannot_write(tmp_path, formats):
    """Was: nothing written and no word for (), matplotlib's traceback for an unknown format."""
    from xfit.errors import InputError
    from xfit.plots.style import new_figure

    fig, _ = new_figure((2.0, 2.0))
    with pytest.raises(InputError, match=r"figure 'f': formats .* cannot be written;\naccepted: .*pdf.*png"):
        save_figure(fig, tmp_path / "out", "f", formats)
    assert not (tmp_path / "out").exists()
