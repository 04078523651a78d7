"""BibTeX of every input of a result: the paper, the likelihood terms' publications, PDG 2024,
the form-factor papers and the Belle II likelihood (no network).

A :class:`Reference` carries its INSPIRE key only where that key was verified (the
``bibtex_key_verified`` flag of the data files); otherwise its key is derived from the arXiv
identifier (``arXiv:NNNN.NNNNN``) and the entry says ``note = {INSPIRE key not verified}``.

* :func:`references` — the references of a set of likelihood terms (plus the fixed inputs);
* :func:`bibtex` — their BibTeX text;
* :func:`write_refs_bib` — ``refs.bib`` in an output folder (what every command that writes
  results calls once).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError

UNVERIFIED_NOTE = "INSPIRE key not verified"
_ARXIV_ID = re.compile(r"\b(\d{4}\.\d{4,5})\b")


@dataclass(frozen=True)
class Reference:
    """One publication (or data record) used by a result."""

    key: str                    # INSPIRE key (verified or not), or an arXiv-derived id
    title: str = ""
    authors: str = ""
    arxiv: str | None = None
    journal: str | None = None
    doi: str | None = None
    url: str | None = None
    note: str = ""
    key_verified: bool = False
    entry_type: str = "article"

    @property
    def bibtex_key(self) -> str:
        """The key written: the INSPIRE key where verified, else one derived from the arXiv id."""
        if self.key_verified or not self.arxiv:
            return self.key
        return f"arXiv:{self.arxiv}"

    def bibtex(self) -> str:
        fields = []
        if self.authors:
            fields.append(("author", self.authors))
        if self.title:
            fields.append(("title", "{" + self.title + "}"))
        if self.journal:
            fields.append(("journal", self.journal))
        if self.arxiv:
            fields += [("eprint", self.arxiv), ("archivePrefix", "arXiv")]
        if self.doi:
            fields.append(("doi", self.doi))
        if self.url:
            fields.append(("url", self.url))
        notes = [n for n in (self.note, "" if self.key_verified else UNVERIFIED_NOTE) if n]
        if notes:
            fields.append(("note", "; ".join(notes)))
        body = ",\n".join(f"    {name} = {{{value}}}" for name, value in fields)
        return f"@{self.entry_type}{{{self.bibtex_key},\n{body}\n}}\n"


#: arXiv:2603.04394, the paper xfit implements.
MAIN_PAPER = Reference(
    "DiLuzio:2026", title="A framework for missing-energy searches with anomalous light vectors",
    authors="Di Luzio, Luca and Nardecchia, Marco and Scacco, Stefano and Toni, Claudio",
    arxiv="2603.04394", key_verified=False)
#: PDG 2024 (masses, lifetimes, widths of xfit/physics/constants.py).
PDG_2024 = Reference(
    "ParticleDataGroup:2024cfk", title="Review of Particle Physics", authors="Navas, S. and others",
    journal="Phys. Rev. D 110 (2024) 030001", doi="10.1103/PhysRevD.110.030001", key_verified=True)
#: The Belle II B+ -> K+ nu nubar likelihood: the measurement, the reinterpretation paper, the record.
BELLE2_MEASUREMENT = Reference(
    "Belle-II:2023esi", title="Evidence for B+ -> K+ nu nubar decays", authors="Adachi, I. and others",
    arxiv="2311.14647", journal="Phys. Rev. D 109 (2024) 112006", key_verified=True)
BELLE2_REINTERPRETATION = Reference(
    "Belle-II:2025reint", title="Reinterpretation material of the Belle II B+ -> K+ nu nubar likelihood",
    arxiv="2507.12393", key_verified=False)
BELLE2_HEPDATA = Reference(
    "HEPData:ins2947386", title="Belle II B+ -> K+ nu nubar: published likelihood (pyhf workspace) and "
    "signal number densities", doi="10.17182/hepdata.166082",
    url="https://www.hepdata.net/record/ins2947386", entry_type="misc", key_verified=False,
    note="HEPData record ins2947386")
BELLE2_LIKELIHOOD = (BELLE2_MEASUREMENT, BELLE2_REINTERPRETATION, BELLE2_HEPDATA)
#: Terms whose input is the Belle II likelihood.
BELLE2_TERMS = ("belle2_knunu",)


def term_reference(name: str) -> Reference:
    """The publication of a registered likelihood term (its data file's ``citation``; a term
    without a data file is built for its citation)."""
    from .likelihood.registry import measurement_files

    rel = measurement_files().get(name)
    if rel is not None:  # the citation straight from the file: no term is built
        from .datafiles import load_data_file
        from .likelihood.measurements import citation_of

        c = citation_of(load_data_file(rel), rel)
    else:
        from .likelihood import get_term

        try:
            term = get_term(name)
        except DataError:  # a term refusing to build with its defaults (unverified value)
            term = get_term(name, allow_unverified=True)
        c = term.citation
    note = f"input of the xfit likelihood term {name}" + (f"; HEPData {c.hepdata}" if c.hepdata else "")
    return Reference(c.bibtex_key, arxiv=c.arxiv, journal=c.journal, note=note,
                     key_verified=bool(c.bibtex_key_verified))


def form_factor_references() -> list[Reference]:
    """The papers of ``data/form_factors.yaml`` (one entry per arXiv identifier)."""
    from .physics.form_factors import _data_file_text
    from .yamlio import safe_load

    data = safe_load(_data_file_text())
    out: dict[str, Reference] = {}
    for entry in data.get("form_factors", {}).values():
        paper = entry.get("paper") or {}
        ids = _ARXIV_ID.findall(str(paper.get("arxiv", "")))
        for arxiv in ids:
            if arxiv in out:
                continue
            single = len(ids) == 1
            out[arxiv] = Reference(
                f"arXiv:{arxiv}", title=" ".join(str(paper.get("title", "")).split()) if single else "",
                authors=" ".join(str(paper.get("authors", "")).split()) if single else "",
                arxiv=arxiv, journal=paper.get("journal") if single else None,
                note="" if single else "form-factor input (data/form_factors.yaml)")
    return list(out.values())


def references(terms: Iterable[str] = (), belle2: bool = False, form_factors: bool = True) -> list[Reference]:
    """The references of a result that used ``terms`` (plus the paper, PDG 2024, the
    form-factor papers and, with ``belle2`` or a Belle II term, the Belle II likelihood)."""
    terms = list(dict.fromkeys(terms))
    refs = [MAIN_PAPER, PDG_2024]
    refs += [term_reference(t) for t in terms]
    if form_factors:
        refs += form_factor_references()
    if belle2 or any(t in BELLE2_TERMS for t in terms):
        refs += list(BELLE2_LIKELIHOOD)
    seen: dict[str, Reference] = {}
    for r in refs:
        seen.setdefault(r.bibtex_key, r)
    return list(seen.values())


def bibtex(refs: Sequence[Reference]) -> str:
    """The BibTeX text of ``refs``."""
    return "\n".join(r.bibtex() for r in refs)


def arxiv_ids(refs: Sequence[Reference]) -> list[str]:
    """The arXiv identifiers of ``refs`` (for HEPData submissions)."""
    return [r.arxiv for r in refs if r.arxiv]


def write_refs_bib(out_dir: str | Path, terms: Iterable[str] = (), belle2: bool = False) -> Path:
    """Write ``out_dir/refs.bib`` covering the inputs of a result; return its path."""
    path = Path(out_dir) / "refs.bib"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("% Inputs of the results in this folder (written by xfit).\n\n"
                    + bibtex(references(terms, belle2=belle2)), encoding="utf-8")
    return path
