"""Options shared by several commands are written once (xfit/cli/common.py): ``--executor`` of the
local-only commands and ``--theory-nuisances`` of ``xfit fit`` and ``xfit scan``."""
import argparse

import pytest

from xfit.cli import build_parser, main
from xfit.cli.common import LOCAL_EXECUTORS, check_local_executor


def _option_help(argv: list[str], flag: str) -> str:
    parser = build_parser(argv)
    for word in argv:
        parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
    return next(a.help for a in parser._actions if flag in a.option_strings)


@pytest.mark.parametrize("argv", [["belle2", "scan"], ["belle2", "toys", "--n-toys", "1"]])
def test_local_executor_refusal_is_the_shared_one(argv, tmp_path, capsys):
    assert main([*argv, "--executor", "dask", "--out", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip()
    with pytest.raises(Exception) as exc:
        check_local_executor("dask")
    assert str(exc.value) in err and all(e in err for e in LOCAL_EXECUTORS) and len(err.splitlines()) == 1


def test_theory_nuisances_help_is_one_text():
    assert _option_help(["fit"], "--theory-nuisances") == _option_help(["scan"], "--theory-nuisances")


def test_belle2_toys_mass_range_defaults_are_the_scans(monkeypatch):
    from xfit.belle2 import scan

    monkeypatch.setattr(scan, "DEFAULT_MX_MIN", 0.5)
    monkeypatch.setattr(scan, "DEFAULT_MX_MAX", 4.0)
    toys = argparse.ArgumentParser()
    from xfit.cli import belle2_toys

    belle2_toys.register(toys.add_subparsers())
    args = toys.parse_args(["toys", "--n-toys", "1"])
    assert (args.mX_min, args.mX_max) == (0.5, 4.0)
