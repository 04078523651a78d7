"""``xfit cite`` and :mod:`xfit.bibliography`: keys, the unverified-key rule, refs.bib."""
import re

from xfit.bibliography import UNVERIFIED_NOTE, references, write_refs_bib
from xfit.cli import main


def _entries(text: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r"@\w+\{([^,]+),\n(?:.*\n)*?\}", text)}


def test_cite_bibtex_has_every_input(capsys):
    assert main(["cite", "--terms", "na62_k_pi,koto_kl_pi0,belle2_knunu", "--bibtex"]) == 0
    out = capsys.readouterr().out
    entries = _entries(out)
    # verified INSPIRE keys are used as is
    assert "NA62:2025upx" in entries and "ParticleDataGroup:2024cfk" in entries and "Belle-II:2023esi" in entries
    assert UNVERIFIED_NOTE not in entries["NA62:2025upx"]
    # unverified: the key derives from the arXiv id and the entry says so
    assert UNVERIFIED_NOTE in entries["arXiv:2411.11237"]
    assert UNVERIFIED_NOTE in entries["arXiv:2603.04394"]
    # form factors and the Belle II likelihood material
    for arxiv in ("2207.12468", "1503.05534", "2507.12393"):
        assert f"arXiv:{arxiv}" in entries
    assert "HEPData:ins2947386" in entries and "hepdata.net/record/ins2947386" in entries["HEPData:ins2947386"]
    assert out.count("@") == len(entries)  # no duplicate keys


def test_every_unverified_term_key_is_marked():
    for r in references(["l3_z_gamma", "cleo_d_to_pi", "b_to_s_emiss", "e949_k_pi"]):
        if not r.key_verified:
            assert UNVERIFIED_NOTE in r.bibtex()
            assert r.arxiv is None or r.bibtex_key == f"arXiv:{r.arxiv}"
        else:
            assert UNVERIFIED_NOTE not in r.bibtex()
    keys = {r.bibtex_key for r in references(["l3_z_gamma", "e949_k_pi"])}
    assert "L3:1997exg" in keys and "BNL-E949:2009dza" in keys


def test_refs_bib_written(tmp_path):
    path = write_refs_bib(tmp_path, ["l3_z_gamma"])
    text = path.read_text()
    assert path.name == "refs.bib" and "L3:1997exg" in text and "Belle-II:2023esi" not in text


def test_cite_bad_term_is_a_short_error(capsys):
    assert main(["cite", "--terms", "nope"]) != 0
    err = capsys.readouterr().err
    assert "--terms" in err and "nope" in err and len(err.strip().splitlines()) <= 3
