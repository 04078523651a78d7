"""``xfit data``: download and check external data sets.

    xfit data fetch belle2-knunu [--dest DIR] [--force] [--url BASE] [--timeout S] [--deadline S]
    xfit data status [belle2-knunu]

Data sets (:mod:`xfit.datasets`) are looked for in ``$XFIT_DATA_DIR/<directory>/`` and then in
the user cache (``$XDG_CACHE_HOME/xfit`` or ``~/.cache/xfit``); ``fetch`` writes to the cache (or
``--dest``) only files whose sha256 matches the pinned one.
"""
from __future__ import annotations

import importlib
import sys

from ..errors import InputError, require_finite_number
from ..outputs import check_output_dir
from . import COMMANDS

#: Modules that register data sets with :mod:`xfit.datasets` when imported.
DATASET_MODULES = ("xfit.belle2.files",)
#: Data set name -> module with ``fetch(...)`` and ``status()`` (the per-data-set front ends).
FRONT_ENDS = {"belle2-knunu": "xfit.belle2.files"}


def _datasets():
    from .. import datasets

    for m in DATASET_MODULES:
        importlib.import_module(m)
    return datasets


def _front_end(name: str):
    ds = _datasets().get(name)  # InputError listing the known names
    return ds, importlib.import_module(FRONT_ENDS[ds.name])


def _positive(value, flag: str) -> float:
    x = require_finite_number(value, flag)
    if x <= 0:
        raise InputError(f"{flag} must be > 0 seconds, got {value}")
    return x


def cmd_fetch(args) -> int:
    from ..datasets.download import Limits

    _, mod = _front_end(args.dataset)
    limits = Limits(timeout=_positive(args.timeout, "--timeout"), deadline=_positive(args.deadline, "--deadline"))
    dest = None if args.dest is None else check_output_dir(args.dest, "--dest")
    kwargs = {"dest": dest, "force": args.force, "limits": limits, "log": lambda s: print(s, file=sys.stderr)}
    if args.url:
        kwargs["base_url"] = args.url
    for name, path in mod.fetch(**kwargs).items():
        print(f"{name}: {path}")
    return 0


def cmd_status(args) -> int:
    names = [args.dataset] if args.dataset else _datasets().available()
    ok = True
    for n in names:
        ds, mod = _front_end(n)
        print(f"[{ds.name}] {ds.description}")
        for row in mod.status():
            ok &= row["ok"]
            message = "\n     ".join(row["message"].splitlines())
            print(f"{'ok  ' if row['ok'] else 'FAIL'} {row['file']}: {row['path'] or '-'}\n     {message}")
    return 0 if ok else 3


def register(subparsers) -> None:
    """Add ``xfit data fetch`` and ``xfit data status``."""
    p = subparsers.add_parser("data", help=COMMANDS["data"])
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    sub.required = True
    known = ", ".join(FRONT_ENDS)
    f = sub.add_parser("fetch", help="download a data set into the user cache and verify it")
    f.add_argument("dataset", help=f"one of: {known}")
    f.add_argument("--dest", default=None, help="directory to write to (default: the user cache)")
    f.add_argument("--force", action="store_true", help="download even if valid files are present")
    f.add_argument("--url", default=None, help="server base URL (default https://www.hepdata.net)")
    f.add_argument("--timeout", default="60", help="seconds per connect/read (default 60)")
    f.add_argument("--deadline", default="900", help="seconds for the whole download (default 900)")
    f.set_defaults(func=cmd_fetch)
    s = sub.add_parser("status", help="where the data files are found and whether they verify")
    s.add_argument("dataset", nargs="?", default=None, help=f"one of: {known} (default: all)")
    s.set_defaults(func=cmd_status)
