"""Reproductions of the papers' figures (``xfit reproduce NAME``)."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError


def ensure_output_dir(path: str | Path) -> Path:
    """Create the output directory ``path`` (and its parents) if needed; return it as a Path.

    Raises :class:`InputError` with a one-line message if it cannot be created (a file of
    that name exists, no permission, read-only file system, ...).
    """
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"cannot create output directory {str(p)!r}: a file of that name exists; "
                         "give a directory path") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot create output directory {str(p)!r}: {reason}; "
                         "give a writable directory path") from None
    if not p.is_dir():
        raise InputError(f"cannot create output directory {str(p)!r}: not a directory; give a directory path")
    return p


def reproduce_terms(figure: str) -> list[str]:
    """The likelihood terms a reproduced figure uses (fig1, fig2, fig3), for its refs.bib."""
    import importlib

    from ..errors import InputError

    if figure not in ("fig1", "fig2", "fig3"):
        raise InputError(f"figure {figure!r:.80} is not reproduced by xfit; accepted: fig1, fig2, fig3")
    mod = importlib.import_module(f"xfit.reproduce.{'fig3' if figure == 'fig1' else figure}")
    if figure == "fig2":
        return list(mod.TERMS_FULL)
    if figure == "fig1":
        return list(mod.FIG1_TERMS)
    return [*mod.SEARCHES, *mod.PROJECTIONS]


__all__ = ["ensure_output_dir", "reproduce_terms"]
