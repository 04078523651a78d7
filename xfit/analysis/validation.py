"""Reading and validating analysis files: :func:`load_analysis` (a YAML file) and
:func:`validate_analysis` (a parsed mapping) return an :class:`Analysis`, or raise
:class:`xfit.errors.InputError` with a one-line message naming the file, the bad key and what
is accepted.  Every default comes from :data:`xfit.analysis.schema.SCHEMA`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, XfitError
from ..inference.scan import check_grid_size
from ..models import available_models, build_model
from ..models.builder import PLANES
from ..physics.constants import LOOP_NORMALISATIONS
from .checks import Checker, show
from .schema import (
    ALLOWED_BY_KIND,
    EXECUTORS,
    FIGURE_FORMATS,
    KINDS,
    REPRODUCE_KEYS,
    REPRODUCIBLE,
    REQUIRED_BY_KIND,
    SPACINGS,
    default,
    names,
)


@dataclass
class Analysis:
    """A validated analysis file (plain data; the model and terms are built at run time).
    ``model`` is the mapping of :func:`xfit.models.build_model`."""

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
    executor: dict = field(default_factory=dict)
    progress: bool = True
    resume: bool = True
    raw: dict = field(default_factory=dict)

    def build_model(self):
        return model_of(self.model, self.source)

    def executor_spec(self) -> dict:
        """What :func:`xfit.inference.executors.get_executor` accepts (a mapping)."""
        return dict(self.executor)

    def out_dir(self, override: str | Path | None = None) -> Path:
        return Path(override) if override else Path(self.output["dir"])


def model_of(spec: Mapping, source: str = "analysis"):
    """The model of a validated ``model`` mapping; the builder's errors name the file."""
    try:
        return build_model(spec)
    except XfitError as exc:
        raise InputError(f"{source}: model: {exc}") from None


def range_values(r: Mapping) -> np.ndarray:
    """The grid values of a validated range."""
    if "values" in r:
        return np.asarray(r["values"], dtype=float)
    f = np.geomspace if r["spacing"] == "log" else np.linspace
    return f(r["min"], r["max"], r["n"])


def _range(ck: Checker, v, where: str, positive: bool = False) -> dict:
    d = ck.mapping(v, where)
    spacing = ck.string(value(d, "range", "spacing"), f"{where}.spacing", SPACINGS)
    if "values" in d:
        ck.keys(d, ["values", "spacing"], where)
        vals = ck.number_list(d["values"], f"{where}.values", min_len=2)
        if any(b <= a for a, b in zip(vals, vals[1:])):
            ck.fail(f"bad range '{where}.values': values must increase strictly")
        if positive and vals[0] <= 0:
            ck.fail(f"bad range '{where}': values must be > 0, got {vals[0]:g}")
        return {"values": vals, "spacing": spacing}
    ck.keys(d, names("range"), where, required=("min", "max", "n"))
    lo, hi = ck.number(d["min"], f"{where}.min"), ck.number(d["max"], f"{where}.max")
    n = ck.integer(d["n"], f"{where}.n", lo=2)
    if not lo < hi:
        ck.fail(f"bad range '{where}': min ({lo:g}) must be < max ({hi:g})")
    if (spacing == "log" or positive) and lo <= 0:
        ck.fail(f"bad range '{where}': min must be > 0{' for log spacing' if spacing == 'log' else ''}, got {lo:g}")
    return {"min": lo, "max": hi, "n": n, "spacing": spacing}


def _terms(ck: Checker, v, where: str, known: list[str]) -> list[dict]:
    if not isinstance(v, list) or not v:
        ck.fail(f"'{where}' must be a non-empty list of term names or {{name, options, label}}, got {show(v)}")
    out = []
    for i, t in enumerate(v):
        w = f"{where}[{i}]"
        t = ck.mapping({"name": t} if isinstance(t, str) else t, w)
        ck.keys(t, names("terms[]"), w, required=("name",))
        name = ck.string(t["name"], f"{w}.name")
        if name not in known:
            ck.fail(f"unknown likelihood term {name!r} in '{w}'; known terms: {', '.join(known)}")
        options = ck.mapping(t.get("options") or default("terms[]", "options"), f"{w}.options")
        label = value(t, "terms[]", "label")
        label = None if label is None else ck.string(label, f"{w}.label")
        out.append({"name": name, "options": options, "label": label})
    listed = [t["name"] for t in out]
    dup = sorted({n for n in listed if listed.count(n) > 1})
    if dup:
        ck.fail(f"term(s) {dup} listed twice in '{where}'")
    return out


def _model(ck: Checker, v) -> dict:
    """The builder's mapping, with every value type-checked (the builder checks the rest)."""
    d = ck.mapping({"name": v} if isinstance(v, str) else v, "model")
    ck.keys(d, names("model"), "model")
    out = {}
    for k, x in d.items():
        where = f"model.{k}"
        if k == "name":
            out[k] = ck.string(x, where)
            if x not in available_models():
                ck.fail(f"unknown model {x!r} in 'model.name'; known models: {', '.join(available_models())}")
        elif k == "plane":
            out[k] = ck.string(x, where, tuple(PLANES))
        elif k in ("charges", "chiral", "wess_zumino"):
            out[k] = {c: ck.number(y, f"{where}.{c}") for c, y in ck.mapping(x, where).items()}
        elif k == "br_invisible":
            if x is not None:
                out[k] = ck.number(x, where, 0.0, 1.0)
        elif k == "XS":
            out[k] = ck.number(x, where)
            if out[k] == 0:
                ck.fail("'model.XS' must be non-zero")
        elif k == "loop_normalisation":
            out[k] = ck.string(x, where, tuple(LOOP_NORMALISATIONS))
        elif k == "goldstone":
            out[k] = ck.boolean(x, where)
        elif k == "ew_scheme":
            from ..physics.constants import EW_SCHEMES

            out[k] = ck.string(x, where, tuple(EW_SCHEMES))
    out.setdefault("loop_normalisation", default("model", "loop_normalisation"))
    out.setdefault("goldstone", default("model", "goldstone"))
    out.setdefault("ew_scheme", default("model", "ew_scheme"))
    return out


def value(d: Mapping, section: str, name: str, /, **context):
    """``d[name]`` if given, else the schema's default of ``section.name``."""
    return d[name] if name in d else default(section, name, **context)


def _output(ck: Checker, d: Mapping, name: str) -> dict:
    o = ck.mapping(d.get("output") or default("", "output"), "output")
    ck.keys(o, names("output"), "output")
    fmts = value(o, "output", "formats")
    if not isinstance(fmts, list) or not fmts:
        ck.fail(f"'output.formats' must be a non-empty list of: {', '.join(FIGURE_FORMATS)}; got {show(fmts)}")
    for i, f in enumerate(fmts):
        ck.string(f, f"output.formats[{i}]", FIGURE_FORMATS)
    return {"dir": ck.string(value(o, "output", "dir", name=name), "output.dir"), "formats": list(fmts),
            "stem": ck.string(value(o, "output", "stem", name=name), "output.stem")}


def _executor(ck: Checker, d: Mapping) -> dict:
    e = value(d, "", "executor")
    if isinstance(e, str):
        if e.startswith(("dask://", "tcp://", "tls://")):
            e = {"type": "dask", "address": e[len("dask://"):] if e.startswith("dask://") else e}
        else:
            e = {"type": ck.string(e, "executor", EXECUTORS)}
    e = ck.mapping(e, "executor")
    ck.keys(e, names("executor"), "executor")
    address = value(e, "executor", "address")
    return {"type": ck.string(value(e, "executor", "type"), "executor.type", EXECUTORS),
            "workers": ck.integer(value(e, "executor", "workers"), "executor.workers", lo=1),
            "address": None if address is None else ck.string(address, "executor.address")}


def validate_analysis(raw: Any, source: str = "analysis", stem: str | None = None) -> Analysis:
    """Check a parsed analysis mapping against :data:`SCHEMA`; return an :class:`Analysis`."""
    ck = Checker(source)
    if raw is None:
        ck.fail("the file is empty; it needs at least 'kind'")
    d = ck.mapping(raw, "(top level)")
    ck.keys(d, names(""), "")
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
    name = ck.string(value(d, "", "name", stem=stem or "analysis"), "name")
    if not name or any(c in name for c in "/\\"):
        ck.fail(f"'name' must be a non-empty string without slashes, got {name!r}")
    a = Analysis(kind=kind, name=name, source=source, raw=dict(d),
                 description=ck.string(value(d, "", "description"), "description"),
                 seed=ck.integer(value(d, "", "seed"), "seed", lo=0),
                 progress=ck.boolean(value(d, "", "progress"), "progress"),
                 resume=ck.boolean(value(d, "", "resume"), "resume"),
                 output=_output(ck, d, name), executor=_executor(ck, d))
    if kind == "reproduce":
        a.figure = ck.string(d["figure"], "figure", REPRODUCIBLE)
        accepted = REPRODUCE_KEYS[a.figure]
        unused = [f"output.{k}" for k in (d.get("output") or {}) if f"output.{k}" not in accepted]
        unused += [k for k in ("executor", "progress") if k in d and k not in accepted]
        if unused:
            ck.fail(f"key(s) {', '.join(repr(k) for k in unused)} not used by kind 'reproduce' with figure "
                    f"{a.figure!r}; accepted keys: {', '.join(accepted)}")
        return a

    from ..likelihood import available_terms

    a.model = _model(ck, d["model"])
    model = model_of(a.model, source)
    fixed = ck.mapping(d.get("fixed") or default("", "fixed"), "fixed")
    accepted_fixed = ["mX", *model.parameters]
    for k, v in fixed.items():
        if k not in accepted_fixed:
            ck.fail(f"unknown key 'fixed.{k}'; accepted keys in 'fixed': {', '.join(accepted_fixed)}")
        a.fixed[k] = ck.positive(v, f"fixed.{k}") if k == "mX" else ck.number(v, f"fixed.{k}")
    known_terms = available_terms()
    if kind == "scan":
        a.terms = _terms(ck, d["terms"], "terms", known_terms)
        a.scan = _scan(ck, d["scan"], model, a.fixed)
    else:
        a.limits = _limits(ck, d["limits"], model, a.fixed, known_terms)
    return a


def _scan(ck: Checker, v, model, fixed: Mapping[str, float]) -> dict:
    s = ck.mapping(v, "scan")
    ck.keys(s, names("scan"), "scan", required=("axes",))
    axes = ck.mapping(s["axes"], "scan.axes")
    if not 1 <= len(axes) <= 2:
        ck.fail(f"'scan.axes' needs 1 or 2 axes, got {len(axes)}")
    keys = set(model.predict(fixed.get("mX", 1.0), **model.sm_point()))
    accepted_axes = ["mX", *model.parameters, *sorted(keys - {"mX", *model.parameters})]
    scan = {"axes": {}}
    for ax, r in axes.items():
        if ax not in accepted_axes:
            ck.fail(f"unknown scan axis 'scan.axes.{ax}'; accepted: {', '.join(accepted_axes)}")
        if ax in fixed:
            ck.fail(f"'scan.axes.{ax}' is also in 'fixed'; scan it or fix it")
        scan["axes"][ax] = _range(ck, r, f"scan.axes.{ax}", positive=ax == "mX")
    try:
        check_grid_size([r["n"] for r in scan["axes"].values()], "'scan.axes' grid")
    except InputError as exc:
        ck.fail(str(exc))
    if "mX" not in scan["axes"] and "mX" not in fixed:
        ck.fail("missing 'fixed.mX' (m_X in GeV): needed unless 'mX' is a scan axis")
    if s.get("start") is not None:
        starts = s["start"] if isinstance(s["start"], list) else [s["start"]]
        scan["start"] = []
        for i, st in enumerate(starts):
            st = ck.mapping(st, f"scan.start[{i}]")
            for p in st:
                if p not in model.parameters:
                    ck.fail(f"unknown parameter 'scan.start[{i}].{p}'; accepted: {', '.join(model.parameters)}")
            scan["start"].append({p: ck.number(x, f"scan.start[{i}].{p}") for p, x in st.items()})
    if s.get("limits") is not None:
        lim = ck.mapping(s["limits"], "scan.limits")
        scan["limits"] = {}
        for p, b in lim.items():
            if p not in model.parameters:
                ck.fail(f"unknown parameter 'scan.limits.{p}'; accepted: {', '.join(model.parameters)}")
            if not isinstance(b, list) or len(b) != 2:
                ck.fail(f"'scan.limits.{p}' must be [low, high] (null for open), got {show(b)}")
            lo, hi = (None if x is None else ck.number(x, f"scan.limits.{p}") for x in b)
            if lo is not None and hi is not None and not lo < hi:
                ck.fail(f"bad range 'scan.limits.{p}': low ({lo:g}) must be < high ({hi:g})")
            scan["limits"][p] = (lo, hi)
    if s.get("chunk_size") is not None:
        scan["chunk_size"] = ck.integer(s["chunk_size"], "scan.chunk_size", lo=1)
    scan["penalty_width"] = ck.positive(value(s, "scan", "penalty_width"), "scan.penalty_width")
    if s.get("derived_scale") is not None:
        scan["derived_scale"] = ck.positive(s["derived_scale"], "scan.derived_scale")
    scan["theory_nuisances"] = ck.boolean(value(s, "scan", "theory_nuisances"), "scan.theory_nuisances")
    return scan


def _limits(ck: Checker, v, model, fixed: Mapping[str, float], known_terms: list[str]) -> dict:
    lm = ck.mapping(v, "limits")
    ck.keys(lm, names("limits"), "limits", required=("masses", "searches"))
    cl = ck.number(value(lm, "limits", "cl"), "limits.cl")
    if not 0.5 < cl < 1.0:
        ck.fail(f"'limits.cl' must be a probability in (0.5, 1), e.g. 0.90; got {cl:g}")
    out = {"masses": _range(ck, lm["masses"], "limits.masses", positive=True),
           "searches": _terms(ck, lm["searches"], "limits.searches", known_terms),
           "combined": ck.boolean(value(lm, "limits", "combined"), "limits.combined"),
           "projections": (_terms(ck, lm["projections"], "limits.projections", known_terms)
                           if lm.get("projections") else default("limits", "projections")),
           "cl": cl,
           "g_min": ck.positive(value(lm, "limits", "g_min"), "limits.g_min"),
           "g_max": ck.positive(value(lm, "limits", "g_max"), "limits.g_max"),
           "points_per_decade": ck.integer(value(lm, "limits", "points_per_decade"), "limits.points_per_decade", lo=1),
           "chunk_size": ck.integer(value(lm, "limits", "chunk_size"), "limits.chunk_size", lo=1),
           "xscale": ck.string(value(lm, "limits", "xscale"), "limits.xscale", SPACINGS)}
    if out["g_min"] >= out["g_max"]:
        ck.fail(f"bad range 'limits.g_min'/'limits.g_max': {out['g_min']:g} must be < {out['g_max']:g}")
    if "combined" in [t["name"] for t in out["searches"]]:
        ck.fail("'combined' is reserved for the combination; rename the search")
    par = lm.get("parameter")
    free = [p for p in model.parameters if p not in fixed]
    if par is None:
        if len(free) != 1:
            ck.fail(f"'limits.parameter' is needed: model parameters {', '.join(model.parameters)} "
                    "(fix all but one in 'fixed')")
        par = free[0]
    par = ck.string(par, "limits.parameter", list(model.parameters))
    others = [p for p in free if p != par]
    if others:
        ck.fail(f"model parameter(s) {', '.join(others)} neither fixed nor 'limits.parameter' ({par}): "
                f"a limit bounds one parameter; add them to 'fixed', e.g. fixed: {{{others[0]}: 0}}")
    out["parameter"] = par
    if "mX" in fixed:
        ck.fail("'fixed.mX' is not allowed for kind limits: m_X is the 'limits.masses' grid")
    if lm.get("ylim") is not None:
        yl = ck.number_list(lm["ylim"], "limits.ylim", min_len=2)
        if len(yl) != 2 or not 0 < yl[0] < yl[1]:
            ck.fail(f"bad range 'limits.ylim': need [low, high] with 0 < low < high, got {lm['ylim']}")
        out["ylim"] = tuple(yl)
    b = ck.mapping(lm.get("bands") or default("limits", "bands"), "limits.bands")
    ck.keys(b, names("limits.bands"), "limits.bands")
    out["bands"] = {k: ck.number_list(value(b, "limits.bands", k), f"limits.bands.{k}", positive=True)
                    for k in ("direct_y", "naturalness_delta")}
    out["bands"]["naturalness_y"] = ck.positive(value(b, "limits.bands", "naturalness_y"), "limits.bands.naturalness_y")
    return out


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
