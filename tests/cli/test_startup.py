"""Start-up of the ``xfit`` command line: every command and sub-command keeps its help, and
only the named command's module is loaded (``xfit --help`` loads none, nor numpy/scipy/matplotlib)."""
import argparse
import json
import os
import subprocess
import sys

import pytest

from xfit.cli import COMMANDS, build_parser, main
from xfit.cli.belle2 import SUBCOMMAND_MODULES


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})


def _command_lines(parser: argparse.ArgumentParser, prefix: tuple[str, ...]):
    """Every (sub-)command line below ``parser``, e.g. ("belle2", "scan")."""
    for name, sub in _subparsers(parser).items():
        yield (*prefix, name)
        yield from _command_lines(sub, (*prefix, name))


def _modules_loaded(*argvs: list[str]) -> list[set] | set:
    """Run ``main(argv)`` for each command line in turn, in one fresh interpreter (default
    kernel policy, ``XFIT_KERNEL`` unset); which of numpy, scipy, numba, ... and the command
    modules were loaded after each (cumulative: a set checked empty after the second command
    line is empty after the first too).  One command line: its set; several: the list."""
    code = (
        "import json, sys\n"
        "from xfit.cli import main\n"
        f"for argv in {list(argvs)!r}:\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'scipy', 'matplotlib', 'emcee', 'pyhf', 'h5py', 'numba') or m.startswith('xfit.cli.') "
        "or m == 'xfit.belle2.posterior')), "
        "file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "XFIT_KERNEL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    loaded = [set(json.loads(line)) for line in done.stderr.strip().splitlines()[-len(argvs):]]
    return loaded[0] if len(argvs) == 1 else loaded


def test_top_level_help_lists_every_command_and_loads_none(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name, helptext in COMMANDS.items():
        assert name in out and helptext[:30] in out
    # one interpreter for both (the second set is cumulative: empty means both loaded none)
    after_help, after_version = _modules_loaded(["--help"], ["--version"])
    assert after_help == set()
    assert after_version == set()


def test_predict_loads_no_scipy_emcee_or_matplotlib():
    loaded = _modules_loaded(["predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.018", "--json"])
    assert "numpy" in loaded and "xfit.cli.predict" in loaded  # the command did run
    assert not {m for m in loaded if m.split(".")[0] in ("scipy", "emcee", "matplotlib", "pyhf", "h5py", "numba")}
    assert {m for m in loaded if m.startswith("xfit.cli.")} == {"xfit.cli.predict", "xfit.cli.common"}


def test_reproduce_fig2_loads_no_scipy_pyplot_nor_numba(tmp_path):
    """The main job's start-up: the fits' statistics need no scipy.special, the figures no
    pyplot, and numba's import (~0.25 s CPU) is paid only by many-fit runs (xfit.histfactory.kernel)."""
    loaded = _modules_loaded(["reproduce", "fig2", "--out", str(tmp_path), "--json"])
    assert "xfit.cli.reproduce" in loaded and "matplotlib.figure" in loaded  # the command did run
    assert (tmp_path / "fig2_left.png").is_file() and (tmp_path / "summary.json").is_file()
    assert not {m for m in loaded if m.split(".")[0] == "scipy"}
    assert "matplotlib.pyplot" not in loaded
    assert not {m for m in loaded if m.split(".")[0] == "numba"}


def test_a_single_fit_does_not_import_numba():
    loaded = _modules_loaded(["belle2", "fit-sm", "--json", "--no-impacts"])
    assert "xfit.cli.belle2" in loaded and "scipy" in loaded  # the fit did run
    assert not {m for m in loaded if m.split(".")[0] == "numba"}


def test_a_belle2_subcommand_loads_only_its_module():
    # one interpreter, scan's help first: what posterior's help adds is on top of a set checked exactly
    after_scan, loaded = _modules_loaded(["belle2", "scan", "--help"], ["belle2", "posterior", "--help"])
    assert {m for m in after_scan if m.startswith("xfit.")} == {"xfit.cli.belle2", "xfit.cli.common"}
    assert {"xfit.cli.belle2_posterior", "xfit.belle2.posterior"} <= loaded and "xfit.cli.belle2_toys" not in loaded


@pytest.mark.parametrize("name", list(SUBCOMMAND_MODULES))
def test_each_belle2_subcommand_module_uses_the_table_help(name):
    belle2 = _subparsers(build_parser(["belle2", name]))["belle2"]
    sub = next(a for a in belle2._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert {k: helps[k] for k in SUBCOMMAND_MODULES} == {k: h for k, (_, h) in SUBCOMMAND_MODULES.items()}
    assert list(helps)[:3] == ["fit-sm", "scan", "export-pyhf"]
    assert _subparsers(belle2)[name]._actions[1:], f"belle2 {name}: no options registered"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_module_uses_the_table_help(name):
    sub = next(a for a in build_parser([name])._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert helps == COMMANDS  # the registered command and the placeholders of the others
    assert _subparsers(build_parser([name]))[name]._actions[1:], f"{name}: no options registered"


def test_every_command_and_subcommand_has_help(capsys):
    lines = [line for name in COMMANDS for line in _command_lines(build_parser([name]), ()) if line[0] == name]
    assert len(lines) > len(COMMANDS)  # the sub-commands are there too (belle2 scan, workspace fit, ...)
    for line in lines:
        with pytest.raises(SystemExit) as exc:
            main([*line, "--help"])
        assert exc.value.code == 0, line
        assert capsys.readouterr().out.startswith(f"usage: xfit {' '.join(line)}"), line


def test_unknown_command_is_a_two_line_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "invalid choice: 'no-such-command'" in err[0] and "--help" in err[1]
