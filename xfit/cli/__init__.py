"""The ``xfit`` command line.

Each command group lives in its own module of this package and exposes
``register(subparsers)``.  :data:`COMMANDS` lists them with their one-line help (the modules'
``add_parser`` calls read it); :func:`main` imports only the module of the command named on the
command line, so ``xfit --help`` and every command start without loading the others (nor numpy,
scipy or matplotlib when the command does not need them).  Any :class:`xfit.errors.XfitError`
becomes a one-line message on stderr and a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading

from ..errors import XfitError

#: Every command, in the order of ``xfit --help``, with its one-line help.  The command NAME is added by
#: ``xfit.cli.NAME.register(subparsers)``, which uses this help.
COMMANDS = {
    "predict": "print every prediction of a model at (m_X, g_X)",
    "reproduce": "reproduce a figure of the papers (or all of them)",
    "fit": "fit a model (or a plane) to likelihood terms at fixed m_X",
    "belle2": "Belle II B+ -> K+ nu nubar likelihood: SM fit and B+ -> K+ X scan",
    "workspace": "fit, CLs and upper limits of any pyhf workspace (fast HistFactory)",
    "data": "download and check external data sets",
    "mcmc": "posterior of a model's parameters at one m_X (emcee; resumable)",
    "run": "run analyses described by YAML files (analyses/NAME.yaml)",
    "anomalons": "anomaly cancellation and anomalon models (UV side)",
    "project": "future sensitivity: Belle II Asimov projections, counting projections",
    "terms": "list the likelihood terms (measurements) xfit knows",
    "cite": "BibTeX of the inputs (paper, terms, PDG, form factors, Belle II)",
    "scan": "1D/2D profile-likelihood scan of any parameter, m_X or prediction key",
    "limits": "upper limit on g_X (or a parameter) versus m_X, term by term and combined",
}


class _Parser(argparse.ArgumentParser):
    """argparse with short errors: the problem and where help is, not the whole usage block."""

    def error(self, message):  # noqa: D401  (argparse API)
        self.exit(2, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


#: The command line :func:`build_parser` is building for (read by :func:`selected_subcommand`).
_command_line: list[str] = []


def selected_command(argv: list[str]) -> str | None:
    """The command named on the command line ``argv``: its first word that is not an option
    (the global options take no value), or None."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def selected_subcommand(command: str) -> str | None:
    """The sub-command of ``command`` named on the command line being parsed (the first word
    after ``command`` that is not an option), or None: lets a command group import only the
    module of the sub-command that runs."""
    words = [w for w in _command_line if not w.startswith("-")]
    if command in words:
        rest = words[words.index(command) + 1:]
        return rest[0] if rest else None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``xfit`` parser for the command line ``argv`` (default ``sys.argv[1:]``).

    Every command is listed, but only the one named in ``argv`` is built in full (its module
    imported and registered); the others are bare entries with their help.  ``build_parser(["NAME"])``
    gives the full parser of command NAME.
    """
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
    _command_line[:] = sys.argv[1:] if argv is None else argv
    selected = selected_command(_command_line)
    for name, helptext in COMMANDS.items():
        if name == selected:
            importlib.import_module(f"{__name__}.{name}").register(sub)
        else:  # never parsed: the command line names another command (or none)
            sub.add_parser(name, help=helptext)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.allow_modified_data:  # for this process and the workers it starts
        from ..datasets import ALLOW_ENV
        os.environ[ALLOW_ENV] = "1"
    previous = _terminate_as_interrupt()
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
    except Exception as exc:  # an interrupt inside compiled code comes back wrapped (numba: SystemError)
        if not _caused_by_interrupt(exc):
            raise
        print(f"xfit {args.command}: interrupted (partial results, if any, are saved)", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _caused_by_interrupt(exc: BaseException) -> bool:
    """True if a KeyboardInterrupt is in the cause/context chain of ``exc``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _terminate_as_interrupt():
    """SIGTERM (``kill``) ends a command like Ctrl-C: stores flushed, worker processes
    stopped (:mod:`xfit.inference.workers`).  Returns the previous handler (None when not
    in the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_interrupt)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
