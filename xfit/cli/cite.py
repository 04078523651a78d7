"""``xfit cite``: the BibTeX of every input (the paper, the likelihood terms' publications,
PDG 2024, the form-factor papers, the Belle II likelihood); :mod:`xfit.bibliography`.

    xfit cite                         # every registered term
    xfit cite --terms l3_z_gamma,na62_k_pi --bibtex > refs.bib
"""
from __future__ import annotations

from ..errors import InputError
from . import COMMANDS


def register(sub) -> None:
    p = sub.add_parser("cite", help=COMMANDS["cite"],
                       description="Print the references of xfit's inputs: arXiv:2603.04394, the "
                       "publications of the likelihood terms, PDG 2024, the form-factor papers and the "
                       "Belle II likelihood. INSPIRE keys where verified; otherwise the key is the arXiv id "
                       "and the entry says 'INSPIRE key not verified'.")
    p.add_argument("--terms", default=None, metavar="A,B",
                   help="comma-separated likelihood terms (default: every registered term)")
    p.add_argument("--bibtex", action="store_true", help="print BibTeX only (default: a key list, then BibTeX)")
    p.set_defaults(func=run)


def parse_terms(text: str | None, flag: str = "--terms") -> list[str]:
    """Term names of a comma-separated flag value, checked against the registry."""
    from ..likelihood import available_terms

    known = available_terms()
    if text is None:
        return known
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise InputError(f"{flag} is empty; accepted: comma-separated names of {', '.join(known)}")
    bad = [t for t in names if t not in known]
    if bad:
        raise InputError(f"{flag}: unknown term {bad[0][:80]!r}\naccepted: {', '.join(known)}")
    return names


def run(args) -> int:
    from ..bibliography import bibtex, references

    refs = references(parse_terms(args.terms), belle2=True)
    if not args.bibtex:
        for r in refs:
            where = f"arXiv:{r.arxiv}" if r.arxiv else (r.journal or r.url or "")
            flag = "" if r.key_verified else "  (INSPIRE key not verified)"
            print(f"% {r.bibtex_key:<28} {where}{flag}")
        print()
    print(bibtex(refs), end="")
    return 0
