"""Analyses as files: one YAML file per figure or study, run by ``xfit run FILE``.

The schema (every key, its type, default and meaning) is :data:`SCHEMA`; docs/inference.md
documents it and :func:`schema_markdown` prints it.  :func:`load_analysis` reads and
validates a file; an invalid file raises :class:`xfit.errors.InputError` with a one-line
message naming the file, the bad key and the accepted keys or values.
:func:`run_analysis` runs a validated analysis and writes its outputs (data as .npz/.json,
figures, summary.json) to the output directory.

Three kinds of analysis:

* ``scan`` — a 1D or 2D profile-likelihood scan (:func:`xfit.inference.scan.profile_scan`);
* ``limits`` — upper limits on a coupling versus m_X, search by search and combined
  (:func:`xfit.inference.limits.limits_by_search`);
* ``reproduce`` — a figure of the papers (``xfit reproduce`` as a file).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .errors import InputError, XfitError

KINDS = ("scan", "limits", "reproduce")
SPACINGS = ("linear", "log")
PLANES = ("eft", "chiral")
EXECUTORS = ("process", "serial", "dask")
FIGURE_FORMATS = ("png", "pdf", "svg")
REPRODUCIBLE = ("fig2", "fig3")


@dataclass(frozen=True)
class Key:
    """One key of the schema."""

    name: str
    type: str
    default: Any = None
    required: bool = False
    doc: str = ""


_SQRT4PI = math.sqrt(4 * math.pi)

#: section -> keys.  "" is the top level; "scan.axes.NAME" and "limits.masses" are ranges.
SCHEMA: dict[str, tuple[Key, ...]] = {
    "": (
        Key("kind", "string: scan | limits | reproduce", required=True, doc="what the analysis does"),
        Key("name", "string", "the file name without .yaml", doc="name of the analysis; stem of the output files"),
        Key("description", "string", "", doc="free text, copied to the metadata"),
        Key("model", "string or mapping", required=True,
            doc="the model (not for kind reproduce): a benchmark name, or a mapping, see `model`"),
        Key("terms", "list of term names or {name, options}", required=True,
            doc="likelihood terms summed into the likelihood (kind scan)"),
        Key("fixed", "mapping name -> number", {}, doc="fixed values: `mX` [GeV] and/or model parameters"),
        Key("scan", "mapping", required=True, doc="scan settings (kind scan), see `scan`"),
        Key("limits", "mapping", required=True, doc="limit settings (kind limits), see `limits`"),
        Key("figure", "string: fig2 | fig3", required=True, doc="the figure to reproduce (kind reproduce)"),
        Key("output", "mapping", {}, doc="where and how results are written, see `output`"),
        Key("seed", "integer", 0, doc="seed of every random choice (stored in the metadata)"),
        Key("executor", "string or mapping", "process",
            doc="where chunks run: process | serial | dask | dask://HOST:PORT, or {type, workers, address}"),
        Key("progress", "boolean", True, doc="progress bars (shown only on a terminal)"),
        Key("resume", "boolean", True,
            doc="resume from the chunk files in the output directory when they match; false: start afresh"),
    ),
    "model": (
        Key("name", "string", doc="a benchmark: tau-flavor, L-only, L=-4R, baryon, electron, muon"),
        Key("charges", "mapping alpha_B/alpha_e/alpha_mu/alpha_tau -> number", doc="vector U(1)_X charges (Eq. 1.1)"),
        Key("chiral", "mapping alpha_L, alpha_R -> number", doc="chiral tau charges"),
        Key("wess_zumino", "mapping A_WW, A_YY -> number", doc="Wess-Zumino coefficients; parameter gX"),
        Key("plane", "string: eft | chiral",
            doc="a two-parameter plane: eft (gX_AWW, gX_AYY) or chiral (gX_alphaL, gX_alphaR)"),
        Key("br_invisible", "number in [0, 1]", None, doc="B(X -> invisible) instead of the model's (eft plane: default 1)"),
        Key("XS", "number", 1.0, doc="U(1)_X charge of the breaking scalar (for v_X)"),
        Key("loop_normalisation", "string: derived | paper", "derived",
            doc="normalisation of the W-loop coupling g_xi: derived (half of Eq. 3.6, docs/physics.md) "
                "or paper (Eq. 3.6 as printed)"),
        Key("goldstone", "boolean", False,
            doc="meson-decay rates in the Goldstone limit (Eqs. 3.9/3.10); false: a massive vector X "
                "(docs/physics.md, Beyond the Goldstone limit)"),
    ),
    "terms[]": (
        Key("name", "string", required=True, doc="a registered likelihood term"),
        Key("options", "mapping", {}, doc="keyword options of the term (e.g. allow_unverified: true)"),
        Key("label", "string", None, doc="legend label (kind limits)"),
    ),
    "scan": (
        Key("axes", "mapping axis -> range", required=True,
            doc="1 or 2 axes: model parameters, mX, or one prediction key (derived quantity)"),
        Key("start", "mapping or list of mappings", None, doc="starting point(s) of the profiled parameters"),
        Key("limits", "mapping parameter -> [low, high]", None, doc="bounds of parameters (null: open)"),
        Key("chunk_size", "integer >= 1", None, doc="grid points per chunk (default: 25 or one row; vectorised: all)"),
        Key("penalty_width", "number > 0", 1e-4, doc="relative width of the derived-quantity penalty"),
        Key("derived_scale", "number > 0", None, doc="absolute scale of a derived axis that contains 0"),
    ),
    "range": (
        Key("min", "number", required=True, doc="first value"),
        Key("max", "number", required=True, doc="last value (> min)"),
        Key("n", "integer >= 2", required=True, doc="number of values"),
        Key("spacing", "string: linear | log", "linear", doc="linear or logarithmic (log: min > 0)"),
        Key("values", "list of numbers", None, doc="explicit values instead of min/max/n"),
    ),
    "limits": (
        Key("masses", "range", required=True, doc="the m_X grid [GeV] (a range, see `range`)"),
        Key("searches", "list of term names or {name, options, label}", required=True,
            doc="each search gets its own limit curve"),
        Key("combined", "boolean", True, doc="also the limit from the sum of all searches"),
        Key("projections", "list of term names or {name, options, label}", [],
            doc="future projections, drawn dashed in a lower panel"),
        Key("parameter", "string", None, doc="the parameter bounded (default: the model's only free one)"),
        Key("cl", "number in (0.5, 1)", 0.90, doc="confidence level (one-sided half-Gaussian convention)"),
        Key("g_min", "number > 0", 1e-10, doc="lower end of the coupling grid (root finding)"),
        Key("g_max", "number > g_min", 4 * math.pi, doc="larger limits count as no sensitivity"),
        Key("points_per_decade", "integer >= 1", 2, doc="coupling grid density (root finding)"),
        Key("chunk_size", "integer >= 1", 16, doc="masses per chunk"),
        Key("xscale", "string: linear | log", "log", doc="m_X axis of the plot"),
        Key("ylim", "[low, high]", None, doc="coupling axis of the plot"),
        Key("bands", "mapping", {}, doc="IR-UV overlays, see `limits.bands`"),
    ),
    "limits.bands": (
        Key("direct_y", "list of numbers > 0", [], doc="direct anomalon searches m_Psi > 100 GeV for these y_Psi"),
        Key("naturalness_delta", "list of numbers > 0", [], doc="finite naturalness m_Psi <~ sqrt(Delta) TeV"),
        Key("naturalness_y", "number > 0", _SQRT4PI, doc="y_Psi of the naturalness bands"),
    ),
    "output": (
        Key("dir", "string", "xfit-output/NAME", doc="output directory (relative to the working directory)"),
        Key("formats", "list: png, pdf, svg", ["png", "pdf"], doc="figure formats"),
        Key("stem", "string", "NAME", doc="stem of the output file names"),
    ),
    "executor": (
        Key("type", "string: process | serial | dask", "process", doc="kind of executor"),
        Key("workers", "integer >= 1", 2, doc="local worker processes (type process)"),
        Key("address", "string", None, doc="Dask scheduler address (type dask; default: a local cluster)"),
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


def _names(section: str) -> list[str]:
    return [k.name for k in SCHEMA[section]]


# --- validation helpers (each raises a one-line InputError) --------------------------------

class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, msg: str):
        raise InputError(f"{self.source}: {msg}")

    def keys(self, d: Mapping, allowed, where: str, required=()) -> None:
        for k in d:
            if k not in allowed:
                loc = f"'{where}.{k}'" if where else f"'{k}'"
                self.fail(f"unknown key {loc}; accepted keys{' in ' + repr(where) if where else ''}: {', '.join(allowed)}")
        for k in required:
            if k not in d:
                loc = f"'{where}.{k}'" if where else f"'{k}'"
                self.fail(f"missing required key {loc}; required{' in ' + repr(where) if where else ''}: {', '.join(required)}")

    def mapping(self, v, where: str) -> dict:
        if not isinstance(v, Mapping):
            self.fail(f"'{where}' must be a mapping (key: value), got {_show(v)}")
        return dict(v)

    def number(self, v, where: str, lo=None, hi=None, lo_open=False, hi_open=False) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            self.fail(f"'{where}' must be a finite number, got {_show(v)}")
        v = float(v)
        if lo is not None and (v < lo or (lo_open and v == lo)):
            self.fail(f"'{where}' must be {'>' if lo_open else '>='} {lo:g}, got {v:g}")
        if hi is not None and (v > hi or (hi_open and v == hi)):
            self.fail(f"'{where}' must be {'<' if hi_open else '<='} {hi:g}, got {v:g}")
        return v

    def integer(self, v, where: str, lo=None) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(f"'{where}' must be an integer, got {_show(v)}")
        if lo is not None and v < lo:
            self.fail(f"'{where}' must be an integer >= {lo}, got {v}")
        return int(v)

    def boolean(self, v, where: str) -> bool:
        if not isinstance(v, bool):
            self.fail(f"'{where}' must be true or false, got {_show(v)}")
        return v

    def string(self, v, where: str, choices=None) -> str:
        if not isinstance(v, str):
            self.fail(f"'{where}' must be a string, got {_show(v)}")
        if choices is not None and v not in choices:
            self.fail(f"'{where}' must be one of: {', '.join(choices)}; got {v!r}")
        return v

    def number_list(self, v, where: str, min_len=0, positive: bool = False) -> list[float]:
        if not isinstance(v, list):
            self.fail(f"'{where}' must be a list of {'positive ' if positive else ''}numbers, got {_show(v)}")
        if len(v) < min_len:
            self.fail(f"'{where}' needs at least {min_len} values, got {len(v)}")
        bounds = (0.0, None, True) if positive else ()
        return [self.number(x, f"{where}[{i}]", *bounds) for i, x in enumerate(v)]


def _show(v) -> str:
    s = repr(v)
    if len(s) > 40:
        s = s[:37] + "..."
    return f"{s} ({type(v).__name__})"


# --- the validated analysis ----------------------------------------------------------------

@dataclass
class Analysis:
    """A validated analysis file (plain data; the model and terms are built at run time)."""

    kind: str
    name: str
    source: str
    description: str = ""
    model: dict | None = None
    terms: list[dict] = field(default_factory=list)
    fixed: dict[str, float] = field(default_factory=dict)
    scan: dict = field(default_factory=dict)
    limits: dict = field(default_factory=dict)
    figure: str | None = None
    output: dict = field(default_factory=dict)
    seed: int = 0
    executor: dict = field(default_factory=lambda: {"type": "process", "workers": 2, "address": None})
    progress: bool = True
    resume: bool = True
    raw: dict = field(default_factory=dict)

    # building ---------------------------------------------------------------------------
    def build_model(self):
        return build_model(self.model, self.source)

    def executor_spec(self) -> dict:
        """What :func:`xfit.inference.executors.get_executor` accepts (a mapping)."""
        return dict(self.executor)

    def out_dir(self, override: str | Path | None = None) -> Path:
        return Path(override) if override else Path(self.output["dir"])


def _range(ck: _Checker, v, where: str, positive: bool = False) -> dict:
    d = ck.mapping(v, where)
    if "values" in d:
        ck.keys(d, ["values", "spacing"], where)
        vals = ck.number_list(d["values"], f"{where}.values", min_len=2)
        if any(b <= a for a, b in zip(vals, vals[1:])):
            ck.fail(f"bad range '{where}.values': values must increase strictly")
        spacing = ck.string(d.get("spacing", "linear"), f"{where}.spacing", SPACINGS)
        if positive and vals[0] <= 0:
            ck.fail(f"bad range '{where}': values must be > 0, got {vals[0]:g}")
        return {"values": vals, "spacing": spacing}
    ck.keys(d, _names("range"), where, required=("min", "max", "n"))
    lo, hi = ck.number(d["min"], f"{where}.min"), ck.number(d["max"], f"{where}.max")
    n = ck.integer(d["n"], f"{where}.n", lo=2)
    spacing = ck.string(d.get("spacing", "linear"), f"{where}.spacing", SPACINGS)
    if not lo < hi:
        ck.fail(f"bad range '{where}': min ({lo:g}) must be < max ({hi:g})")
    if (spacing == "log" or positive) and lo <= 0:
        ck.fail(f"bad range '{where}': min must be > 0{' for log spacing' if spacing == 'log' else ''}, got {lo:g}")
    return {"min": lo, "max": hi, "n": n, "spacing": spacing}


def range_values(r: Mapping) -> np.ndarray:
    """The grid values of a validated range."""
    if "values" in r:
        return np.asarray(r["values"], dtype=float)
    f = np.geomspace if r["spacing"] == "log" else np.linspace
    return f(r["min"], r["max"], r["n"])


def _terms(ck: _Checker, v, where: str, known: list[str]) -> list[dict]:
    if not isinstance(v, list) or not v:
        ck.fail(f"'{where}' must be a non-empty list of term names or {{name, options, label}}, got {_show(v)}")
    out = []
    for i, t in enumerate(v):
        w = f"{where}[{i}]"
        if isinstance(t, str):
            t = {"name": t}
        t = ck.mapping(t, w)
        ck.keys(t, _names("terms[]"), w, required=("name",))
        name = ck.string(t["name"], f"{w}.name")
        if name not in known:
            ck.fail(f"unknown likelihood term {name!r} in '{w}'; known terms: {', '.join(known)}")
        options = ck.mapping(t.get("options", {}) or {}, f"{w}.options")
        label = t.get("label")
        if label is not None:
            ck.string(label, f"{w}.label")
        out.append({"name": name, "options": options, "label": label})
    names = [t["name"] for t in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        ck.fail(f"term(s) {dup} listed twice in '{where}'")
    return out


def _model(ck: _Checker, v) -> dict:
    from .models import available_models

    if isinstance(v, str):
        v = {"name": v}
    d = ck.mapping(v, "model")
    ck.keys(d, _names("model"), "model")
    kinds = [k for k in ("name", "charges", "chiral", "wess_zumino", "plane") if k in d]
    if len(kinds) != 1:
        ck.fail(f"'model' needs exactly one of: name, charges, chiral, wess_zumino, plane; got {kinds or 'none'}")
    kind = kinds[0]
    out = {"kind": kind}
    if kind == "name":
        name = ck.string(d["name"], "model.name")
        if name not in available_models():
            ck.fail(f"unknown model {name!r} in 'model.name'; known models: {', '.join(available_models())}")
        out["name"] = name
    elif kind == "plane":
        out["plane"] = ck.string(d["plane"], "model.plane", PLANES)
    else:
        accepted = {"charges": ("alpha_B", "alpha_e", "alpha_mu", "alpha_tau"), "chiral": ("alpha_L", "alpha_R"),
                    "wess_zumino": ("A_WW", "A_YY")}[kind]
        sub = ck.mapping(d[kind], f"model.{kind}")
        ck.keys(sub, accepted, f"model.{kind}", required=() if kind == "charges" else accepted)
        out[kind] = {k: ck.number(x, f"model.{kind}.{k}") for k, x in sub.items()}
    if d.get("br_invisible") is not None:
        out["br_invisible"] = ck.number(d["br_invisible"], "model.br_invisible", 0.0, 1.0)
    if "XS" in d:
        out["XS"] = ck.number(d["XS"], "model.XS")
        if out["XS"] == 0:
            ck.fail("'model.XS' must be non-zero")
    if kind == "plane" and out["plane"] == "chiral" and "br_invisible" in out:
        ck.fail("'model.br_invisible' is not an option of the chiral plane (B(X->inv) follows from the charges)")
    if "loop_normalisation" in d:
        from .physics.constants import LOOP_NORMALISATIONS

        out["loop_normalisation"] = ck.string(d["loop_normalisation"], "model.loop_normalisation",
                                              tuple(LOOP_NORMALISATIONS))
    if "goldstone" in d:
        out["goldstone"] = ck.boolean(d["goldstone"], "model.goldstone")
    return out


def build_model(spec: Mapping, source: str = "analysis"):
    """The :class:`~xfit.models.base.Model` of a validated model mapping."""
    from .models import ChargeModel, ChiralPlane, EFTPlane, WessZuminoModel, get_model

    kw = {k: spec[k] for k in ("br_invisible", "XS") if k in spec}
    loop = {k: spec[k] for k in ("loop_normalisation", "goldstone") if k in spec}
    try:
        if spec["kind"] == "name":
            return get_model(spec["name"], **kw, **loop)
        if spec["kind"] == "plane":
            if spec["plane"] == "eft":
                return EFTPlane(br_invisible=kw.get("br_invisible", 1.0), **loop)
            return ChiralPlane(**loop)
        if spec["kind"] == "charges":
            return ChargeModel.vector(**spec["charges"], name="vector-charges", **kw, **loop)
        if spec["kind"] == "chiral":
            c = spec["chiral"]
            return ChargeModel.chiral_tau(c["alpha_L"], c["alpha_R"], name="chiral-tau", **kw, **loop)
        w = spec["wess_zumino"]
        return WessZuminoModel(w["A_WW"], w["A_YY"], br_invisible=kw.get("br_invisible", 1.0), XS=kw.get("XS", 1.0),
                               **loop)
    except XfitError as exc:
        raise InputError(f"{source}: model: {exc}") from None


def validate_analysis(raw: Any, source: str = "analysis", stem: str | None = None) -> Analysis:
    """Check a parsed analysis mapping against :data:`SCHEMA`; return an :class:`Analysis`."""
    from .likelihood import available_terms

    ck = _Checker(source)
    d = ck.mapping(raw, "(top level)") if raw is not None else ck.fail("the file is empty; it needs at least 'kind'")
    top = _names("")
    ck.keys(d, top, "")
    if "kind" not in d:
        ck.fail("missing required key 'kind'; accepted values: " + ", ".join(KINDS))
    kind = ck.string(d["kind"], "kind", KINDS)
    allowed = ALLOWED_BY_KIND[kind]
    for k in d:
        if k not in allowed:
            ck.fail(f"key '{k}' is not used by kind {kind!r}; accepted keys for {kind}: {', '.join(sorted(allowed))}")
    for k in REQUIRED_BY_KIND[kind]:
        if k not in d:
            ck.fail(f"missing required key '{k}' for kind {kind!r}; required: {', '.join(REQUIRED_BY_KIND[kind])}")
    name = ck.string(d.get("name", stem or "analysis"), "name")
    if not name or any(c in name for c in "/\\"):
        ck.fail(f"'name' must be a non-empty string without slashes, got {name!r}")
    a = Analysis(kind=kind, name=name, source=source, raw=dict(d))
    a.description = ck.string(d.get("description", ""), "description")
    a.seed = ck.integer(d.get("seed", 0), "seed", lo=0)
    a.progress = ck.boolean(d.get("progress", True), "progress")
    a.resume = ck.boolean(d.get("resume", True), "resume")

    # output
    o = ck.mapping(d.get("output", {}) or {}, "output")
    ck.keys(o, _names("output"), "output")
    fmts = o.get("formats", ["png", "pdf"])
    if not isinstance(fmts, list) or not fmts:
        ck.fail(f"'output.formats' must be a non-empty list of: {', '.join(FIGURE_FORMATS)}; got {_show(fmts)}")
    for i, f in enumerate(fmts):
        ck.string(f, f"output.formats[{i}]", FIGURE_FORMATS)
    a.output = {"dir": ck.string(o.get("dir", f"xfit-output/{name}"), "output.dir"),
                "formats": list(fmts), "stem": ck.string(o.get("stem", name), "output.stem")}

    # executor
    e = d.get("executor", "process")
    if isinstance(e, str):
        if e.startswith(("dask://", "tcp://", "tls://")):
            e = {"type": "dask", "address": e[len("dask://"):] if e.startswith("dask://") else e}
        else:
            e = {"type": ck.string(e, "executor", EXECUTORS)}
    e = ck.mapping(e, "executor")
    ck.keys(e, _names("executor"), "executor")
    a.executor = {"type": ck.string(e.get("type", "process"), "executor.type", EXECUTORS),
                  "workers": ck.integer(e.get("workers", 2), "executor.workers", lo=1),
                  "address": None if e.get("address") is None else ck.string(e["address"], "executor.address")}

    if kind == "reproduce":
        a.figure = ck.string(d["figure"], "figure", REPRODUCIBLE)
        accepted = REPRODUCE_KEYS[a.figure]
        unused = [f"output.{k}" for k in o if f"output.{k}" not in accepted]
        unused += [k for k in ("executor", "progress") if k in d and k not in accepted]
        if unused:
            ck.fail(f"key(s) {', '.join(repr(k) for k in unused)} not used by kind 'reproduce' with figure "
                    f"{a.figure!r}; accepted keys: {', '.join(accepted)}")
        return a

    a.model = _model(ck, d["model"])
    fixed = ck.mapping(d.get("fixed", {}) or {}, "fixed")
    model = build_model(a.model, source)
    accepted_fixed = ["mX", *model.parameters]
    for k, v in fixed.items():
        if k not in accepted_fixed:
            ck.fail(f"unknown key 'fixed.{k}'; accepted keys in 'fixed': {', '.join(accepted_fixed)}")
        a.fixed[k] = ck.number(v, f"fixed.{k}", *((0.0, None, True) if k == "mX" else ()))
    known_terms = available_terms()

    if kind == "scan":
        a.terms = _terms(ck, d["terms"], "terms", known_terms)
        s = ck.mapping(d["scan"], "scan")
        ck.keys(s, _names("scan"), "scan", required=("axes",))
        axes = ck.mapping(s["axes"], "scan.axes")
        if not 1 <= len(axes) <= 2:
            ck.fail(f"'scan.axes' needs 1 or 2 axes, got {len(axes)}")
        keys = set(model.predict(a.fixed.get("mX", 1.0), **model.sm_point()))
        accepted_axes = ["mX", *model.parameters, *sorted(keys - {"mX"})]
        scan = {"axes": {}}
        for ax, r in axes.items():
            if ax not in accepted_axes:
                ck.fail(f"unknown scan axis 'scan.axes.{ax}'; accepted: {', '.join(accepted_axes)}")
            if ax in a.fixed:
                ck.fail(f"'scan.axes.{ax}' is also in 'fixed'; scan it or fix it")
            scan["axes"][ax] = _range(ck, r, f"scan.axes.{ax}", positive=ax == "mX")
        if "mX" not in scan["axes"] and "mX" not in a.fixed:
            ck.fail("missing 'fixed.mX' (m_X in GeV): needed unless 'mX' is a scan axis")
        if s.get("start") is not None:
            starts = s["start"] if isinstance(s["start"], list) else [s["start"]]
            scan["start"] = []
            for i, st in enumerate(starts):
                st = ck.mapping(st, f"scan.start[{i}]")
                for p, v in st.items():
                    if p not in model.parameters:
                        ck.fail(f"unknown parameter 'scan.start[{i}].{p}'; accepted: {', '.join(model.parameters)}")
                    ck.number(v, f"scan.start[{i}].{p}")
                scan["start"].append({p: float(v) for p, v in st.items()})
        if s.get("limits") is not None:
            lim = ck.mapping(s["limits"], "scan.limits")
            scan["limits"] = {}
            for p, b in lim.items():
                if p not in model.parameters:
                    ck.fail(f"unknown parameter 'scan.limits.{p}'; accepted: {', '.join(model.parameters)}")
                if not isinstance(b, list) or len(b) != 2:
                    ck.fail(f"'scan.limits.{p}' must be [low, high] (null for open), got {_show(b)}")
                lo, hi = (None if x is None else ck.number(x, f"scan.limits.{p}") for x in b)
                if lo is not None and hi is not None and not lo < hi:
                    ck.fail(f"bad range 'scan.limits.{p}': low ({lo:g}) must be < high ({hi:g})")
                scan["limits"][p] = (lo, hi)
        if s.get("chunk_size") is not None:
            scan["chunk_size"] = ck.integer(s["chunk_size"], "scan.chunk_size", lo=1)
        scan["penalty_width"] = ck.number(s.get("penalty_width", 1e-4), "scan.penalty_width", 0.0, None, True)
        if s.get("derived_scale") is not None:
            scan["derived_scale"] = ck.number(s["derived_scale"], "scan.derived_scale", 0.0, None, True)
        a.scan = scan
        return a

    # limits
    lm = ck.mapping(d["limits"], "limits")
    ck.keys(lm, _names("limits"), "limits", required=("masses", "searches"))
    out = {"masses": _range(ck, lm["masses"], "limits.masses", positive=True),
           "searches": _terms(ck, lm["searches"], "limits.searches", known_terms),
           "combined": ck.boolean(lm.get("combined", True), "limits.combined"),
           "projections": (_terms(ck, lm["projections"], "limits.projections", known_terms)
                           if lm.get("projections") else []),
           "cl": _cl(ck, lm.get("cl", 0.90)),
           "g_min": ck.number(lm.get("g_min", 1e-10), "limits.g_min", 0.0, None, True),
           "g_max": ck.number(lm.get("g_max", 4 * math.pi), "limits.g_max", 0.0, None, True),
           "points_per_decade": ck.integer(lm.get("points_per_decade", 2), "limits.points_per_decade", lo=1),
           "chunk_size": ck.integer(lm.get("chunk_size", 16), "limits.chunk_size", lo=1),
           "xscale": ck.string(lm.get("xscale", "log"), "limits.xscale", SPACINGS)}
    if out["g_min"] >= out["g_max"]:
        ck.fail(f"bad range 'limits.g_min'/'limits.g_max': {out['g_min']:g} must be < {out['g_max']:g}")
    if "combined" in [t["name"] for t in out["searches"]]:
        ck.fail("'combined' is reserved for the combination; rename the search")
    par = lm.get("parameter")
    free = [p for p in model.parameters if p not in a.fixed]
    if par is None:
        if len(free) != 1:
            ck.fail(f"'limits.parameter' is needed: model parameters {', '.join(model.parameters)} "
                    "(fix all but one in 'fixed')")
        par = free[0]
    par = ck.string(par, "limits.parameter", list(model.parameters))
    others = [p for p in free if p != par]
    if others:
        ck.fail(f"fix the other parameter(s) {others} in 'fixed' (limits bound one parameter)")
    out["parameter"] = par
    if "mX" in a.fixed:
        ck.fail("'fixed.mX' is not allowed for kind limits: m_X is the 'limits.masses' grid")
    if lm.get("ylim") is not None:
        yl = ck.number_list(lm["ylim"], "limits.ylim", min_len=2)
        if len(yl) != 2 or not 0 < yl[0] < yl[1]:
            ck.fail(f"bad range 'limits.ylim': need [low, high] with 0 < low < high, got {lm['ylim']}")
        out["ylim"] = tuple(yl)
    b = ck.mapping(lm.get("bands", {}) or {}, "limits.bands")
    ck.keys(b, _names("limits.bands"), "limits.bands")
    out["bands"] = {"direct_y": ck.number_list(b.get("direct_y", []), "limits.bands.direct_y", positive=True),
                    "naturalness_delta": ck.number_list(b.get("naturalness_delta", []), "limits.bands.naturalness_delta",
                                                        positive=True),
                    "naturalness_y": ck.number(b.get("naturalness_y", _SQRT4PI), "limits.bands.naturalness_y", 0.0, None, True)}
    a.limits = out
    return a


def _cl(ck: _Checker, v) -> float:
    x = ck.number(v, "limits.cl")
    if not 0.5 < x < 1.0:
        ck.fail(f"'limits.cl' must be a probability in (0.5, 1), e.g. 0.90; got {x:g}")
    return x


def load_analysis(path: str | Path) -> Analysis:
    """Read and validate an analysis file (InputError with a one-line message if invalid)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputError(f"analysis file {str(p)!r} not found")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{p}: not valid YAML ({problem}{where})") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not valid YAML (not UTF-8 text)") from None
    return validate_analysis(raw, str(p), stem=p.stem)


# --- running -------------------------------------------------------------------------------

def _likelihood(terms: list[dict], source: str):
    from .likelihood import CombinedLikelihood, get_term

    built = []
    for t in terms:
        try:
            built.append(get_term(t["name"], **t["options"]))
        except TypeError as exc:
            raise InputError(f"{source}: bad options for term {t['name']!r}: {exc}") from None
        except XfitError as exc:
            raise InputError(f"{source}: term {t['name']!r}: {exc}") from None
    return CombinedLikelihood(built)


def _check_evaluates(lik, model, masses, fixed: Mapping[str, float], source: str) -> None:
    """Evaluate each term once on a throwaway copy (terms may load data lazily), so that a
    missing data file is reported before the run, naming the term."""
    import pickle

    masses = np.asarray(masses, dtype=float)
    params = {p: np.full(masses.shape, fixed.get(p, 1e-3)) for p in model.parameters}
    pred = model.predict(masses, **params)
    for term in lik.terms:
        try:
            try:
                copy = pickle.loads(pickle.dumps(term))
            except Exception:  # noqa: BLE001 - unpicklable: evaluate the object itself
                copy = term
            copy.chi2(pred)
        except XfitError as exc:
            raise InputError(f"{source}: term {term.name!r} cannot be evaluated: {exc}") from None


def run_analysis(a: Analysis, out_dir: str | Path | None = None, executor: Any = None,
                 progress: bool | None = None, fresh: bool = False) -> dict:
    """Run a validated analysis; write its outputs; return its summary (also summary.json).

    ``out_dir``, ``executor``, ``progress`` override the file; ``fresh`` ignores
    stored chunks (as ``resume: false``).
    """
    from .inference.store import write_json

    t0 = time.perf_counter()
    from .reproduce import ensure_output_dir

    out = ensure_output_dir(a.out_dir(out_dir))
    ex = executor if executor is not None else a.executor_spec()
    prog = a.progress if progress is None else progress
    overwrite = fresh or not a.resume
    if a.kind == "reproduce":
        import importlib

        kw = {"executor": ex, "progress": prog} if "executor" in REPRODUCE_KEYS[a.figure] else {}
        summary = importlib.import_module(f"xfit.reproduce.{a.figure}").reproduce(out, **kw)
        summary = {"analysis": a.name, "kind": a.kind, "figure": a.figure, **summary}
    elif a.kind == "scan":
        summary = _run_scan(a, out, ex, prog, overwrite)
    else:
        summary = _run_limits(a, out, ex, prog, overwrite)
    summary["elapsed_s"] = round(time.perf_counter() - t0, 3)
    summary["source"] = a.source
    files = summary.pop("files", [])
    write_json(out / "summary.json", summary)
    paths = [str(f) for f in files] + [str(out / "summary.json")]
    summary["files"] = list(dict.fromkeys(paths))  # the figure's own list may name summary.json too
    return summary


def _run_scan(a: Analysis, out: Path, ex, prog: bool, overwrite: bool) -> dict:
    from .inference.scan import Axis, profile_scan

    model = a.build_model()
    lik = _likelihood(a.terms, a.source)
    axes = [Axis(n, range_values(r), r["spacing"]) for n, r in a.scan["axes"].items()]
    probe_m = range_values(a.scan["axes"]["mX"])[[0, -1]] if "mX" in a.scan["axes"] else [a.fixed["mX"]]
    _check_evaluates(lik, model, probe_m, a.fixed, a.source)
    fixed = {k: v for k, v in a.fixed.items() if k != "mX"}
    stem = a.output["stem"]
    res = profile_scan(model, lik, axes, mX=a.fixed.get("mX"), fixed=fixed, start=a.scan.get("start"),
                       limits=a.scan.get("limits"), executor=ex, chunk_size=a.scan.get("chunk_size"),
                       store=out / f"{stem}.chunks.jsonl", overwrite=overwrite, on_mismatch="restart",
                       progress=prog, seed=a.seed, penalty_width=a.scan["penalty_width"],
                       derived_scale=a.scan.get("derived_scale"))
    res.metadata.update(analysis=a.name, description=a.description, source=a.source)
    files = res.save(out, stem) + res.plot(out, stem, a.output["formats"])
    return {"analysis": a.name, "kind": "scan", "terms": list(lik.names), "model": model.name,
            "scan": res.summary(), "metadata": res.metadata, "files": files}


def _run_limits(a: Analysis, out: Path, ex, prog: bool, overwrite: bool) -> dict:
    from .inference.limits import limits_by_search, plot_limits
    from .inference.store import write_json

    model = a.build_model()
    L = a.limits
    masses = range_values(L["masses"])
    searches = {t["name"]: _likelihood([t], a.source) for t in L["searches"]}
    probe_m = masses[np.linspace(0, masses.size - 1, 3).astype(int)]
    for lik in searches.values():
        _check_evaluates(lik, model, probe_m, a.fixed, a.source)
    kw = dict(cl=L["cl"], parameter=L["parameter"], fixed=a.fixed, g_min=L["g_min"], g_max=L["g_max"],
              points_per_decade=L["points_per_decade"], chunk_size=L["chunk_size"], executor=ex,
              progress=prog, overwrite=overwrite, on_mismatch="restart", seed=a.seed)
    current = limits_by_search(model, searches, masses, combined="combined" if L["combined"] else None,
                               store_dir=out / "chunks", **kw)
    projections = {}
    if L["projections"]:
        proj = {t["name"]: _likelihood([t], a.source) for t in L["projections"]}
        projections = limits_by_search(model, proj, masses, combined=None, store_dir=out / "chunks", **kw)
    labels = {t["name"]: t["label"] or t["name"] for t in L["searches"] + L["projections"]}
    labels["combined"] = "combined"
    stem = a.output["stem"]
    ylabel = {"gX": r"$g_X$"}.get(L["parameter"], model.label(L["parameter"]))
    files = plot_limits(current, out, stem, a.output["formats"], labels=labels, projections=projections or None,
                        ylabel=f"{ylabel} ({100 * L['cl']:g}% CL upper limit, dimensionless)",
                        title=a.description or a.name, ylim=L.get("ylim"), xscale=L["xscale"],
                        direct_y=L["bands"]["direct_y"], naturalness_delta=L["bands"]["naturalness_delta"],
                        naturalness_y=L["bands"]["naturalness_y"])
    key = f"{L['parameter']}_{round(100 * L['cl'])}"
    detail = out / f"{stem}.limits.json"
    write_json(detail, {k: c.to_dict() for k, c in {**current, **projections}.items()})
    return {"analysis": a.name, "kind": "limits", "model": model.name, "parameter": L["parameter"],
            "cl": L["cl"], "mass_unit": "GeV", "limits": {k: c.to_json(key) for k, c in current.items()},
            "projections": {k: c.to_json(key) for k, c in projections.items()},
            "methods": {k: sorted({m if not m.startswith("failed") else "failed" for m in c.method})
                        for k, c in {**current, **projections}.items()},
            "failed_masses": {k: c.failures() for k, c in {**current, **projections}.items() if c.failures()},
            "files": files + [detail]}


# --- documentation -------------------------------------------------------------------------

def schema_markdown() -> str:
    """The schema as Markdown tables (the source of docs/inference.md's schema section)."""
    lines = []
    for section, keys in SCHEMA.items():
        title = "top level" if section == "" else f"`{section}`"
        lines += [f"#### {title}", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for k in keys:
            default = "**required**" if k.required else ("—" if k.default is None else f"`{k.default!r}`")
            lines.append(f"| `{k.name}` | {k.type} | {default} | {k.doc} |")
        lines.append("")
    return "\n".join(lines)


__all__ = ["SCHEMA", "Key", "Analysis", "load_analysis", "validate_analysis", "run_analysis",
           "build_model", "range_values", "schema_markdown", "KINDS"]
