"""References of likelihood terms read from their data files equal those of the built terms."""
from __future__ import annotations

import pytest

from xfit.bibliography import Reference, term_reference
from xfit.errors import DataError
from xfit.likelihood import available_terms, get_term
from xfit.likelihood.registry import measurement_files
from xfit.yamlio import SAFE_LOADER, safe_load


def test_every_term_with_a_data_file_is_cited_as_its_built_term():
    names = [n for n in available_terms() if n in measurement_files()]
    assert names
    for name in names:
        try:
            term = get_term(name)
        except DataError:
            term = get_term(name, allow_unverified=True)
        c = term.citation
        note = f"input of the xfit likelihood term {name}" + (f"; HEPData {c.hepdata}" if c.hepdata else "")
        built = Reference(c.bibtex_key, arxiv=c.arxiv, journal=c.journal, note=note,
                          key_verified=bool(c.bibtex_key_verified))
        assert term_reference(name).bibtex() == built.bibtex(), name


@pytest.mark.parametrize("text", ["a: 1\nb: [1.5e-5, .inf, null, yes]\nc: {d: '2026-01-01'}\n",
                                  "x: &A {y: 1}\nz: *A\n"])
def test_trusted_loader_reads_what_safe_load_reads(text):
    import yaml

    assert safe_load(text) == yaml.safe_load(text)
    assert issubclass(SAFE_LOADER, yaml.SafeLoader) or SAFE_LOADER.__name__ == "CSafeLoader"
