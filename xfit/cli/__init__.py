"""The ``xfit`` command line.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; :func:`main` collects them.  Any :class:`xfit.errors.XfitError`
becomes a one-line message on stderr and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..errors import XfitError

#: Modules of this package that add sub-commands (each has ``register(subparsers)``).
COMMAND_MODULES = ("predict", "reproduce", "fit", "belle2", "workspace", "data", "mcmc", "run", "anomalons", "project",
                   "terms", "cite", "scan", "limits")


class _Parser(argparse.ArgumentParser):
    """argparse with short errors: the problem and where help is, not the whole usage block."""

    def error(self, message):  # noqa: D401  (argparse API)
        self.exit(2, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
        prog="xfit",
        description="Inference on light vectors X coupled to electroweak-anomalous currents "
        "(missing-energy signatures: B->K(*)X, K->piX, B->pi/rhoX, D->piX, Z->gammaX).",
    )
    parser.add_argument("--version", action="version", version=f"xfit {__version__}")
    parser.add_argument("--allow-modified-data", action="store_true",
                        help="accept external data files whose sha256 differs from the pinned one (warns; "
                        "same as XFIT_ALLOW_MODIFIED_DATA=1; see docs/data.md)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.allow_modified_data:  # for this process and the workers it starts
        from ..datasets import ALLOW_ENV
        os.environ[ALLOW_ENV] = "1"
    try:
        return int(args.func(args) or 0)
    except XfitError as exc:
        print(f"xfit {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into e.g. `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"xfit {args.command}: interrupted (partial results, if any, are saved)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
