"""Measurements as data: a likelihood term built from one data file (flavio style).

Every file ``data/limits/*.yaml`` (and ``data/fits/*.yaml``) that has a ``name`` and a
``likelihood`` key describes one term: its citation, description, plot label and colour,
whether it is a projection, the options it accepts and the numbers it needs
(docs/data.md gives the format).  :func:`build_measurement` turns such a file into a term;
the registry (:mod:`xfit.likelihood.registry`) does so for every file it finds.  A term whose
likelihood needs code names it with ``implementation:`` (a module of
:mod:`xfit.likelihoods` that registers the term); its file still supplies the citation and
the plot metadata.

Likelihood types built from data alone (``likelihood:``):

* ``half-gaussian`` -- the limit convention of :class:`~xfit.likelihood.conventions.UpperLimitTerm`,
  for limits where nothing better is public (an approximation; the file says so);
* ``shifted-gaussian`` -- an observed limit (``limits``) and the expected one (``expected``, a
  curve of the same form): :class:`~xfit.likelihood.conventions.ShiftedGaussianLimit`;
* ``poisson`` -- a counting experiment (:class:`~xfit.likelihood.counting.CountingTerm`):
  ``counts`` (observed events, expected background and its uncertainty, marginalised) and the
  single-event sensitivity versus m_X, from the published limit curve (``limits``) or from one
  published point and the m_X dependence of another file's curve (``sensitivity.shape_from``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import DataError, InputError
from .conventions import ChannelSum, MissingEnergyLimit, channel_mass_range
from .core import Citation, LikelihoodTerm

#: Likelihood types a data file can name, and what each needs.
LIKELIHOOD_TYPES: dict[str, str] = {
    "half-gaussian": "a published upper limit (number or curve) as a zero-centred half-Gaussian",
    "poisson": "a counting experiment: observed events, background, single-event sensitivity versus m_X",
    "shifted-gaussian": "an observed and an expected limit curve: a Gaussian in the rate reproducing both",
}
#: Types whose term is code (the file names it with ``implementation:``).
CODE_TYPES = ("gaussian", "published", "poisson")


def citation_of(d: Mapping, source: str) -> Citation:
    """The :class:`Citation` of a data file's ``citation`` mapping."""
    c = d.get("citation")
    if not isinstance(c, Mapping) or not isinstance(c.get("bibtex_key"), str) or not c["bibtex_key"]:
        raise DataError(f"data file {source!r}: 'citation' needs a 'bibtex_key' (INSPIRE key, or an id and "
                        "bibtex_key_verified: false)")
    return Citation(c["bibtex_key"], arxiv=c.get("arxiv"), journal=c.get("journal"), hepdata=c.get("hepdata"),
                    note=c.get("note", "") or "", bibtex_key_verified=bool(c.get("bibtex_key_verified", True)))


def apply_metadata(term: LikelihoodTerm, d: Mapping, source: str) -> LikelihoodTerm:
    """Give ``term`` the citation, likelihood type, label, colour and projection flag of its file."""
    term.name = d["name"]
    term.citation = citation_of(d, source)
    term.likelihood = d["likelihood"]
    term.projection = bool(d.get("projection", False))
    term.label = d.get("label") or d["name"]
    term.colour = d.get("colour") or ""
    if d.get("shares_data_with"):
        term.shares_data_with = tuple(d["shares_data_with"])
    if d.get("description") and not getattr(term, "description", ""):
        term.description = d["description"]
    term.data_file = source
    return term


def _show(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def resolve_options(d: Mapping, source: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``options`` against what the file accepts; return the changes they make.

    Accepted: the file's declared ``options`` (each with a ``default`` and ``choices``,
    value -> changes, and optionally ``refused``, value -> reason); ``mass_range`` for a term
    of one limit; ``allow_unverified`` for a file marked ``verified: false``.  Changes:
    ``exclude_segments`` (curve segments to drop), ``upper_limit`` (an alternative number),
    ``mass_range``.
    """
    name = d["name"]
    declared = d.get("options") or {}
    single = len(d.get("limits") or ()) == 1
    accepted = list(declared) + (["mass_range"] if single else []) + \
        (["allow_unverified"] if d.get("verified") is False else [])
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise InputError(f"likelihood term {name!r}: unknown option {unknown[0]!r}; "
                         f"accepted: {', '.join(accepted) or 'none'}")
    changes: dict[str, Any] = {"chosen": {}}
    for opt, spec in declared.items():
        value = options.get(opt, spec.get("default"))
        refused = spec.get("refused") or {}
        if value in refused:
            raise InputError(f"{name}: {opt}={_show(value)}: {refused[value]}")
        choices = spec.get("choices") or {}
        if value not in choices:
            raise InputError(f"likelihood term {name!r}: option {opt} = {_show(value)} is not accepted; "
                             f"accepted: {', '.join(repr(c) for c in choices)}")
        changes["chosen"][opt] = value
        for k, v in (choices[value] or {}).items():
            changes[k] = v
    if "mass_range" in options and options["mass_range"] is not None:
        changes["mass_range"] = options["mass_range"]
    if d.get("verified") is False and not options.get("allow_unverified", False):
        (entry,) = d["limits"]
        number = entry.get("upper_limit", "curve")
        raise DataError(f"{name}: the limit {number:g} in data file {source!r} is not verified (see its notes); "
                        "check it and set 'verified: true', or build the term with allow_unverified=True")
    return changes


def build_measurement(d: Mapping, source: str, **options) -> LikelihoodTerm:
    """The term described by the validated data file ``d`` (loaded from ``source``)."""
    from ..datafiles import LimitCurve, limit_of, mass_range_option

    kind = d["likelihood"]
    if kind not in LIKELIHOOD_TYPES:
        raise DataError(f"data file {source!r}: likelihood {kind!r} is not built from data alone; "
                        f"accepted: {', '.join(LIKELIHOOD_TYPES)} (or name an 'implementation')")
    changes = resolve_options(d, source, options)
    name, cl = d["name"], d["confidence_level"]
    citation = citation_of(d, source)
    description = d.get("description", "")
    if d.get("verified") is False:
        description += " [UNVERIFIED VALUE]"
    entries = d["limits"]
    if kind == "poisson":
        term = _counting_term(d, source, citation, description, changes)
    elif kind == "shifted-gaussian":
        term = _shifted_term(d, source, citation, description, changes)
    elif len(entries) == 1 and "endpoint" not in entries[0]:
        (entry,) = entries
        if "curve" in entry:
            ul = LimitCurve.from_entry(entry, name=name, exclude_segments=changes.get("exclude_segments", ()))
            default_range = ul.mass_range
        else:
            ul, default_range = limit_of(entry), d["mass_range_GeV"]
        if "upper_limit" in changes:  # an alternative number documented in the same file
            ul = float(changes["upper_limit"])
        term = MissingEnergyLimit(name, citation, entry["observable"], upper_limit=ul, cl=cl,
                                  mass_range=mass_range_option(changes.get("mass_range"), default_range, name),
                                  description=description)
        if isinstance(ul, LimitCurve):
            term.curve = ul
    else:
        channels = []
        for entry in entries:
            key, mass_range = channel_mass_range(name, entry)
            channels.append(MissingEnergyLimit(
                f"{name}[{key}]", citation, key, upper_limit=limit_of(entry), cl=cl, mass_range=mass_range,
                description=f"{key} x BR(X->invisible) < {entry['upper_limit']:.3g} (m_X < {mass_range[1]:.4f} GeV)"))
        term = ChannelSum(name, citation, channels, description=description)
    term.data = d
    term.options = dict(changes["chosen"])
    for opt, value in changes["chosen"].items():
        setattr(term, opt, value)
    term.verified = d.get("verified", True) is not False
    return apply_metadata(term, d, source)


def _sensitivity_curve(d: Mapping, source: str, changes: Mapping):
    """The published limit versus m_X of a counting term: its own curve or number, or one
    published point times the m_X dependence of another file's curve (``sensitivity.shape_from``)."""
    from ..datafiles import LimitCurve, load_data_file

    name = d["name"]
    (entry,) = d["limits"]
    shape = (d.get("sensitivity") or {}).get("shape_from")
    if "curve" in entry:
        return LimitCurve.from_entry(entry, name=name, exclude_segments=changes.get("exclude_segments", ()))
    if shape is None:
        return float(entry["upper_limit"])
    other = load_data_file(shape)
    (oentry,) = other["limits"]
    base = LimitCurve.from_entry(oentry, name=name)
    at = entry.get("at_mass_GeV")
    if at is None or not np.isfinite(base(at)):
        raise DataError(f"data file {source!r}: limits[0].at_mass_GeV must be a mass covered by {shape!r}, got {at!r}")
    k = float(entry["upper_limit"]) / float(base(at))
    return LimitCurve(base.mass_GeV, base.upper_limit * k, base.segment, name=name)


class SensitivityFromLimit:
    """SES(m_X) = UL(m_X) / s_UL: the single-event sensitivity implied by a published limit."""

    def __init__(self, upper_limit, signal_at_limit: float):
        self.upper_limit, self.signal_at_limit = upper_limit, float(signal_at_limit)

    def __call__(self, mX) -> np.ndarray:
        m = np.asarray(mX, dtype=float)
        ul = self.upper_limit(m) if callable(self.upper_limit) else np.full(m.shape, float(self.upper_limit))
        return np.asarray(ul, dtype=float) / self.signal_at_limit


def _counting_term(d: Mapping, source: str, citation: Citation, description: str, changes: Mapping):
    from ..datafiles import mass_range_option
    from .counting import CountingTerm, signal_at_limit

    name, cl = d["name"], float(d["confidence_level"])
    c = d.get("counts")
    need = ("observed", "background", "background_uncertainty")
    if not isinstance(c, Mapping) or any(k not in c for k in need):
        raise DataError(f"data file {source!r}: likelihood poisson needs 'counts' with {', '.join(need)}")
    if c.get("background_treatment", "marginalised") != "marginalised":
        raise DataError(f"data file {source!r}: counts.background_treatment must be 'marginalised', "
                        f"got {c['background_treatment']!r}")
    (entry,) = d["limits"]
    ul = _sensitivity_curve(d, source, changes)
    s_ul = signal_at_limit(cl, int(c["observed"]), float(c["background"]), float(c["background_uncertainty"]))
    default_range = ul.mass_range if hasattr(ul, "mass_range") else d["mass_range_GeV"]
    term = CountingTerm(name, citation, entry["observable"], int(c["observed"]), float(c["background"]),
                        float(c["background_uncertainty"]), SensitivityFromLimit(ul, s_ul), cl,
                        mass_range=mass_range_option(changes.get("mass_range"), default_range, name),
                        description=description)
    if hasattr(ul, "mass_range"):
        term.curve = ul
    return term


def _shifted_term(d: Mapping, source: str, citation: Citation, description: str, changes: Mapping):
    from ..datafiles import LimitCurve, mass_range_option
    from .conventions import ShiftedGaussianLimit

    name = d["name"]
    (entry,) = d["limits"]
    exp = d.get("expected")
    if "curve" not in entry or not isinstance(exp, Mapping) or "curve" not in exp:
        raise DataError(f"data file {source!r}: likelihood shifted-gaussian needs a limits[0].curve (observed) "
                        "and an 'expected' mapping with a curve (mass_GeV, upper_limit)")
    observed = LimitCurve.from_entry(entry, name=name, exclude_segments=changes.get("exclude_segments", ()))
    c = exp["curve"]
    expected = LimitCurve(c["mass_GeV"], c["upper_limit"], c.get("segment"), name=f"{name} (expected)")
    term = ShiftedGaussianLimit(name, citation, entry["observable"], observed, expected, d["confidence_level"],
                                mass_range=mass_range_option(changes.get("mass_range"), observed.mass_range, name),
                                description=description)
    term.curve = observed
    return term
