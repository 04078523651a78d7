"""``xfit data``: download and check external data sets.

    xfit data fetch belle2-knunu [--dest DIR] [--force] [--url BASE] [--timeout S]
    xfit data status [belle2-knunu]

Data sets are looked for in ``$XFIT_DATA_DIR/<name>/`` and then in the user cache
(``$XDG_CACHE_HOME/xfit`` or ``~/.cache/xfit``); ``fetch`` writes to the cache (or ``--dest``).
"""
from __future__ import annotations

import sys

from ..errors import InputError


def _belle2_fetch(args) -> None:
    from ..belle2 import files

    kwargs = {"dest": args.dest, "force": args.force, "timeout": args.timeout,
              "log": lambda s: print(s, file=sys.stderr)}
    if args.url:
        kwargs["base_url"] = args.url
    got = files.fetch(**kwargs)
    for name, path in got.items():
        print(f"{name}: {path}")


def _belle2_status() -> bool:
    from ..belle2 import files

    ok = True
    for row in files.status():
        ok &= row["ok"]
        print(f"{'ok  ' if row['ok'] else 'FAIL'} {row['file']}: {row['path'] or '-'}\n     {row['message']}")
    return ok


#: Data set name -> (fetch(args), status() -> bool, description).
DATASETS = {
    "belle2-knunu": (_belle2_fetch, _belle2_status,
                     "Belle II B+ -> K+ nu nubar likelihood and number densities (HEPData ins2947386)"),
}


def cmd_fetch(args) -> int:
    if args.dataset not in DATASETS:
        raise InputError(f"unknown data set {args.dataset!r}; known: {', '.join(DATASETS)}")
    DATASETS[args.dataset][0](args)
    return 0


def cmd_status(args) -> int:
    names = [args.dataset] if args.dataset else list(DATASETS)
    ok = True
    for n in names:
        if n not in DATASETS:
            raise InputError(f"unknown data set {n!r}; known: {', '.join(DATASETS)}")
        print(f"[{n}] {DATASETS[n][2]}")
        ok &= DATASETS[n][1]()
    return 0 if ok else 3


def register(subparsers) -> None:
    """Add ``xfit data fetch`` and ``xfit data status``."""
    p = subparsers.add_parser("data", help="download and check external data sets")
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    sub.required = True
    f = sub.add_parser("fetch", help="download a data set into the user cache and verify it")
    f.add_argument("dataset", help=f"one of: {', '.join(DATASETS)}")
    f.add_argument("--dest", default=None, help="directory to write to (default: the user cache)")
    f.add_argument("--force", action="store_true", help="download even if valid files are present")
    f.add_argument("--url", default=None, help="server base URL (default https://www.hepdata.net)")
    f.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    f.set_defaults(func=cmd_fetch)
    s = sub.add_parser("status", help="where the data files are found and whether they verify")
    s.add_argument("dataset", nargs="?", default=None)
    s.set_defaults(func=cmd_status)
