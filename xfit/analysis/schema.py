"""The schema of analysis files: every key, its type, default and meaning.

:data:`SCHEMA` is the one source: the validator (:mod:`xfit.analysis.validation`) takes
every default from it (:func:`default`), and docs/inference.md's schema tables are
generated from it (``python -m xfit.analysis`` prints them; a test checks the page).
A default that depends on other keys is a template: ``"xfit-output/{name}"`` is filled in
with the analysis name.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..models.builder import PLANES
from ..physics.constants import DEFAULT_LOOP_NORMALISATION, LOOP_NORMALISATIONS

KINDS = ("scan", "limits", "reproduce")
SPACINGS = ("linear", "log")
EXECUTORS = ("process", "serial", "dask")
FIGURE_FORMATS = ("png", "pdf", "svg")
REPRODUCIBLE = ("fig2", "fig3")


@dataclass(frozen=True)
class Key:
    """One key of the schema.  ``default`` is the value used when the key is absent (None:
    the key is optional and absent means "not given"); ``template``: the default is a
    ``str.format`` pattern of other values (``{stem}``: the file name, ``{name}``: the analysis)."""

    name: str
    type: str
    default: Any = None
    required: bool = False
    doc: str = ""
    template: bool = False


def _choices(values) -> str:
    return " | ".join(values)


#: section -> keys.  "" is the top level; "scan.axes.NAME" and "limits.masses" are ranges.
SCHEMA: dict[str, tuple[Key, ...]] = {
    "": (
        Key("kind", f"string: {_choices(KINDS)}", required=True, doc="what the analysis does"),
        Key("name", "string", "{stem}", template=True,
            doc="name of the analysis (default: the file name without .yaml); stem of the output files"),
        Key("description", "string", "", doc="free text, copied to the metadata"),
        Key("model", "string or mapping", required=True,
            doc="the model (not for kind reproduce): a benchmark name, or a mapping, see `model`"),
        Key("terms", "list of term names or {name, options}", required=True,
            doc="likelihood terms summed into the likelihood (kind scan)"),
        Key("fixed", "mapping name -> number", {}, doc="fixed values: `mX` [GeV] and/or model parameters"),
        Key("scan", "mapping", required=True, doc="scan settings (kind scan), see `scan`"),
        Key("limits", "mapping", required=True, doc="limit settings (kind limits), see `limits`"),
        Key("figure", f"string: {_choices(REPRODUCIBLE)}", required=True,
            doc="the figure to reproduce (kind reproduce)"),
        Key("output", "mapping", {}, doc="where and how results are written, see `output`"),
        Key("seed", "integer >= 0", 0, doc="seed of every random choice (stored in the metadata)"),
        Key("executor", "string or mapping", "process",
            doc="where chunks run: process, serial, dask, dask://HOST:PORT, or {type, workers, address}"),
        Key("progress", "boolean", True, doc="progress bars (shown only on a terminal)"),
        Key("resume", "boolean", True,
            doc="resume from the chunk files in the output directory when they match; false: start afresh"),
    ),
    "model": (
        Key("name", "string", doc="a benchmark: tau-flavor, L-only, L=-4R, baryon, electron, muon"),
        Key("charges", "mapping alpha_B/alpha_e/alpha_mu/alpha_tau -> number",
            doc="vector U(1)_X charges (Eq. 1.1); missing ones are 0"),
        Key("chiral", "mapping alpha_L, alpha_R -> number", doc="chiral tau charges"),
        Key("wess_zumino", "mapping A_WW, A_YY -> number", doc="Wess-Zumino coefficients; parameter gX"),
        Key("plane", f"string: {_choices(PLANES)}",
            doc="a two-parameter plane: eft (gX_AWW, gX_AYY) or chiral (gX_alphaL, gX_alphaR)"),
        Key("br_invisible", "number in [0, 1]",
            doc="B(X -> invisible) instead of the model's rule (wess_zumino and the eft plane: 1)"),
        Key("XS", "number != 0", 1.0, doc="U(1)_X charge of the breaking scalar, for v_X (not for planes)"),
        Key("loop_normalisation", f"string: {_choices(LOOP_NORMALISATIONS)}", DEFAULT_LOOP_NORMALISATION,
            doc="normalisation of the W-loop coupling g_xi: derived (half of Eq. 3.6, docs/physics.md) "
                "or paper (Eq. 3.6 as printed)"),
        Key("ew_scheme", "string: mz | alpha0", "mz",
            doc="g and g' of the W loop from the MS-bar alpha(m_Z) (mz) or from alpha(0) (alpha0, the paper's)"),
        Key("goldstone", "boolean", False,
            doc="meson-decay rates in the Goldstone limit (Eqs. 3.9/3.10); false: a massive vector X "
                "(docs/physics.md, Beyond the Goldstone limit)"),
    ),
    "terms[]": (
        Key("name", "string", required=True, doc="a registered likelihood term"),
        Key("options", "mapping", {}, doc="keyword options of the term (e.g. allow_unverified: true)"),
        Key("label", "string", doc="legend label (kind limits; default: the term name)"),
    ),
    "scan": (
        Key("axes", "mapping axis -> range", required=True,
            doc="1 or 2 axes: model parameters, mX, or one prediction key (derived quantity)"),
        Key("start", "mapping or list of mappings", doc="starting point(s) of the profiled parameters"),
        Key("limits", "mapping parameter -> [low, high]", doc="bounds of parameters (null: open)"),
        Key("chunk_size", "integer >= 1",
            doc="grid points per chunk (not given: 25, or one row of a 2D grid; all when nothing is profiled)"),
        Key("penalty_width", "number > 0", 1e-4, doc="relative width of the derived-quantity penalty"),
        Key("derived_scale", "number > 0", doc="absolute scale of a derived axis that contains 0"),
        Key("theory_nuisances", "boolean", False,
            doc="profile the theory inputs as correlated Gaussian nuisances at every point "
                "(data/theory_uncertainties.yaml; docs/physics.md, Theory uncertainties)"),
    ),
    "range": (
        Key("min", "number", required=True, doc="first value"),
        Key("max", "number", required=True, doc="last value (> min)"),
        Key("n", "integer >= 2", required=True, doc="number of values"),
        Key("spacing", f"string: {_choices(SPACINGS)}", "linear", doc="linear or logarithmic (log: min > 0)"),
        Key("values", "list of numbers", doc="explicit values instead of min/max/n"),
    ),
    "limits": (
        Key("masses", "range", required=True, doc="the m_X grid [GeV] (a range, see `range`)"),
        Key("searches", "list of term names or {name, options, label}", required=True,
            doc="each search gets its own limit curve"),
        Key("combined", "boolean", True, doc="also the limit from the sum of all searches"),
        Key("projections", "list of term names or {name, options, label}", [],
            doc="future projections, drawn dashed in a lower panel"),
        Key("parameter", "string", doc="the parameter bounded (not given: the model's only free one)"),
        Key("cl", "number in (0.5, 1)", 0.90, doc="confidence level (one-sided half-Gaussian convention)"),
        Key("g_min", "number > 0", 1e-10, doc="lower end of the coupling grid (root finding)"),
        Key("g_max", "number > g_min", 4 * math.pi, doc="larger limits count as no sensitivity (4 pi)"),
        Key("points_per_decade", "integer >= 1", 2, doc="coupling grid density (root finding)"),
        Key("chunk_size", "integer >= 1", 16, doc="masses per chunk"),
        Key("xscale", f"string: {_choices(SPACINGS)}", "log", doc="m_X axis of the plot"),
        Key("ylim", "[low, high]", doc="coupling axis of the plot (not given: matplotlib's)"),
        Key("bands", "mapping", {}, doc="IR-UV overlays, see `limits.bands`"),
    ),
    "limits.bands": (
        Key("direct_y", "list of numbers > 0", [], doc="direct anomalon searches m_Psi > 100 GeV for these y_Psi"),
        Key("naturalness_delta", "list of numbers > 0", [], doc="finite naturalness m_Psi <~ sqrt(Delta) TeV"),
        Key("naturalness_y", "number > 0", math.sqrt(4 * math.pi), doc="y_Psi of the naturalness bands (sqrt(4 pi))"),
    ),
    "output": (
        Key("dir", "string", "xfit-output/{name}", template=True,
            doc="output directory (relative to the working directory)"),
        Key("formats", f"list of: {', '.join(FIGURE_FORMATS)}", ["png", "pdf"], doc="figure formats"),
        Key("stem", "string", "{name}", template=True, doc="stem of the output file names"),
    ),
    "executor": (
        Key("type", f"string: {_choices(EXECUTORS)}", "process", doc="kind of executor"),
        Key("workers", "integer >= 1", 2, doc="local worker processes (type process)"),
        Key("address", "string", doc="Dask scheduler address (type dask; not given: a local cluster)"),
    ),
}
#: Keys required per kind (top level).
REQUIRED_BY_KIND = {"scan": ("kind", "model", "terms", "scan"), "limits": ("kind", "model", "limits"),
                    "reproduce": ("kind", "figure")}
#: Top-level keys allowed per kind.
ALLOWED_BY_KIND = {
    "scan": {"kind", "name", "description", "model", "terms", "fixed", "scan", "output", "seed", "executor",
             "progress", "resume"},
    "limits": {"kind", "name", "description", "model", "fixed", "limits", "output", "seed", "executor",
               "progress", "resume"},
    "reproduce": {"kind", "name", "description", "figure", "output", "executor", "progress"},
}
#: kind reproduce: the keys each figure honours (``output`` only with ``dir``; executor and
#: progress are passed to the figure's ``reproduce`` function, which must accept them).
REPRODUCE_KEYS = {
    "fig2": ("kind", "name", "description", "figure", "output.dir"),
    "fig3": ("kind", "name", "description", "figure", "output.dir", "executor", "progress"),
}


def names(section: str) -> list[str]:
    """The key names of a section."""
    return [k.name for k in SCHEMA[section]]


def key(section: str, name: str) -> Key:
    return next(k for k in SCHEMA[section] if k.name == name)


def default(section: str, name: str, /, **context) -> Any:
    """The default of a key (a fresh copy of lists and mappings; templates filled from ``context``)."""
    k = key(section, name)
    if k.template:
        return k.default.format(**context)
    return type(k.default)(k.default) if isinstance(k.default, (list, dict)) else k.default


def _yaml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def schema_markdown() -> str:
    """The schema as Markdown tables (docs/inference.md's schema section is this text)."""
    lines = []
    for section, keys in SCHEMA.items():
        title = "top level" if section == "" else f"`{section}`"
        lines += [f"#### {title}", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for k in keys:
            default_ = "**required**" if k.required else ("—" if k.default is None else f"`{_yaml(k.default)}`")
            lines.append(f"| `{k.name}` | {_cell(k.type)} | {_cell(default_)} | {_cell(k.doc)} |")
        lines.append("")
    return "\n".join(lines)
