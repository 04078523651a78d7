"""mkdocs hook: fill the generated tables of docs/generated.md from the code at build time."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])


def _source_checkout_on_path() -> None:
    """Build from a source checkout too (mkdocs resets sys.path after loading hooks)."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)


def _prediction_keys() -> str:
    from xfit.predictions import PREDICTION_KEYS

    rows = [f"| `{k}` | {v} |" for k, v in PREDICTION_KEYS.items()]
    return "\n".join(["| key | meaning |", "|---|---|", *rows])


def _terms() -> str:
    from xfit.likelihood import available_terms, get_term

    rows = []
    for name in available_terms():
        try:
            term = get_term(name, allow_unverified=True) if "cleo" in name else get_term(name)
        except Exception as exc:  # a term that cannot be built here still gets its row
            rows.append(f"| `{name}` | (not built: {str(exc)[:60]}) | | |")
            continue
        lo, hi = getattr(term, "mass_range", (None, None))
        rows.append(f"| `{name}` | {', '.join(term.observables)} | {lo}–{hi} | {term.citation} |")
    return "\n".join(["| term | observables | m_X range [GeV] | citation |", "|---|---|---|---|", *rows])


def _analysis_schema() -> str:
    from xfit.analysis import schema_markdown

    return schema_markdown()


GENERATORS = {"prediction-keys": _prediction_keys, "terms": _terms, "analysis-schema": _analysis_schema}


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001  (mkdocs hook API)
    _source_checkout_on_path()
    for key, make in GENERATORS.items():
        marker = f"<!-- xfit:{key} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
