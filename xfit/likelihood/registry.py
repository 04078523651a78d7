"""The registry of likelihood terms: every measurement data file, and terms that are code.

Terms come from two places: each data file under ``data/limits/`` and ``data/fits/`` with a
``name`` and a ``likelihood`` (:mod:`xfit.likelihood.measurements`), and the modules of
:mod:`xfit.likelihoods`, which register the terms that need code with :func:`register_term`.
A data file naming an ``implementation`` gives such a code term its citation, label, colour
and projection flag.  :func:`get_term` builds one term, :func:`build_likelihood` a sum.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from functools import lru_cache, partial

import yaml

from ..errors import DataError, InputError
from ..yamlio import safe_load
from .core import CombinedLikelihood, LikelihoodTerm

#: Factories of the terms that are code, by name (filled by :func:`register_term`).
_REGISTRY: dict[str, Callable[..., LikelihoodTerm]] = {}
#: Folders of the data directory that hold measurement files.
MEASUREMENT_FOLDERS = ("limits", "fits")


def register_term(name: str):
    """Decorator: register a factory (class or function returning a term) under ``name``."""

    def deco(factory):
        _REGISTRY[name] = factory
        return factory

    return deco


def _load_likelihood_modules() -> None:
    from .. import likelihoods as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")


@lru_cache(maxsize=1)
def measurement_files() -> dict[str, str]:
    """{term name: data file (relative to the data directory)} of every measurement file."""
    from ..datafiles import data_root

    root = data_root()
    found: dict[str, str] = {}
    for folder in MEASUREMENT_FOLDERS:
        node = root.joinpath(folder)
        if not node.is_dir():
            continue
        for f in sorted(node.iterdir(), key=lambda p: p.name):
            if not f.name.endswith(".yaml"):
                continue
            rel = f"{folder}/{f.name}"
            try:
                head = safe_load(f.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise DataError(f"data file {rel!r}: not valid YAML: {exc}") from None
            if not isinstance(head, dict) or "name" not in head or "likelihood" not in head:
                continue
            name = head["name"]
            if name in found:
                raise DataError(f"data files {found[name]!r} and {rel!r} both define term {name!r}")
            found[name] = rel
    return found


def _measurement_factory(rel: str, **options) -> LikelihoodTerm:
    from ..datafiles import load_data_file
    from .measurements import apply_metadata, build_measurement

    d = load_data_file(rel)
    if d.get("implementation"):
        factory = _REGISTRY.get(d["name"])
        if factory is None:
            raise DataError(f"data file {rel!r}: implementation {d['implementation']!r} registers no term "
                            f"{d['name']!r}")
        return apply_metadata(factory(**options), d, rel)
    return build_measurement(d, rel, **options)


def _factories() -> dict[str, Callable[..., LikelihoodTerm]]:
    _load_likelihood_modules()
    out = dict(_REGISTRY)
    for name, rel in measurement_files().items():
        out[name] = partial(_measurement_factory, rel)
    return out


def available_terms() -> list[str]:
    """Names of every registered term (data files and code)."""
    return sorted(_factories())


def get_term(name: str, **options) -> LikelihoodTerm:
    """Build the registered term ``name`` (e.g. ``"l3_z_gamma"``) with its options."""
    factories = _factories()
    try:
        factory = factories[name]
    except KeyError:
        raise InputError(f"unknown likelihood term {name!r}; known: {', '.join(sorted(factories))}") from None
    try:
        return factory(**options)
    except TypeError as exc:
        if "argument" not in str(exc):
            raise
        raise InputError(f"likelihood term {name!r}: {exc}") from None


def build_likelihood(names: Iterable[str] | str, allow_overlap: bool = False, projections: bool = False,
                     **options) -> CombinedLikelihood:
    """``build_likelihood("b_to_s_emiss,l3_z_gamma")`` -> the sum of those terms.

    ``options`` maps a term name to the keyword arguments of its factory.  Projections
    (terms of future experiments, e.g. ``fcc_ee_z_gamma``) are refused unless
    ``projections=True``.
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(names)
    if not names:
        raise InputError("no likelihood terms given; known: " + ", ".join(available_terms()))
    stray = sorted(set(options) - set(names))
    if stray:
        raise InputError(f"options given for term(s) {stray} that are not being built; building: {', '.join(names)}")
    terms = [get_term(n, **options.get(n, {})) for n in names]
    if not projections:
        proj = [t.name for t in terms if t.projection]
        if proj:
            raise InputError(f"likelihood term {proj[0]!r} is a projection, not a measurement: "
                             "include projections explicitly (build_likelihood(..., projections=True))")
    return CombinedLikelihood(terms, allow_overlap=allow_overlap)


def describe_terms() -> list[dict]:
    """One record per registered term: name, likelihood, observables, mass_range, citation,
    projection (what ``xfit terms`` prints).  Terms refusing to build with their defaults
    (e.g. an unverified value) are described from a build with ``allow_unverified=True``."""
    out = []
    for name in available_terms():
        try:
            t = get_term(name)
        except DataError:
            t = get_term(name, allow_unverified=True)
        lo, hi = t.mass_range
        out.append({"name": name, "likelihood": t.likelihood, "observables": list(t.observables),
                    "mass_range": [float(lo), float(hi)], "citation": str(t.citation),
                    "projection": bool(t.projection)})
    return out
