"""Start-up of the ``xfit`` command line: every command and sub-command keeps its help, and
only the named command's module is loaded (``xfit --help`` loads none, nor numpy/scipy/matplotlib)."""
import argparse
import json
import os
import subprocess
import sys
from types import SimpleNamespace

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
        "    print('MODULES', json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'scipy', 'matplotlib', 'emcee', 'pyhf', 'h5py', 'numba') or m.startswith('xfit.cli.') "
        "or m == 'xfit.belle2.posterior')), "
        "file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "XFIT_KERNEL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    loaded = [set(json.loads(line[len("MODULES "):])) for line in done.stderr.splitlines()
              if line.startswith("MODULES ")]
    assert len(loaded) == len(argvs), done.stderr
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


@pytest.fixture(scope="module")
def predict_fig2_fit(tmp_path_factory):
    """``xfit predict``, then ``xfit reproduce fig2``, then ``xfit belle2 fit-sm``, in one fresh
    interpreter (two start-ups and two imports of numpy fewer than one each): for each,
    ``.loaded`` (all the modules loaded so far) and ``.new`` (those its command loaded).
    predict runs first, in a fresh interpreter as before.  For the later ones a module that
    must not load is looked for in ``.loaded`` (a superset of what the command alone would load:
    imports do not depend on what is loaded already, only skip it), and a module that must load
    in ``.new`` (loaded by this command, not an earlier one)."""
    fig2_out = tmp_path_factory.mktemp("fig2")
    runs = _modules_loaded(["predict", "--model", "tau-flavor", "--mX", "2.1", "--gX", "0.018", "--json"],
                           ["reproduce", "fig2", "--out", str(fig2_out), "--json"],
                           ["belle2", "fit-sm", "--json", "--no-impacts"])
    before, out = set(), {}
    for name, loaded in zip(("predict", "fig2", "fit-sm"), runs):
        out[name] = SimpleNamespace(loaded=loaded, new=loaded - before)
        before = loaded
    out["fig2_out"] = fig2_out
    return out


def test_predict_loads_no_scipy_emcee_or_matplotlib(predict_fig2_fit):
    loaded = predict_fig2_fit["predict"].loaded  # the interpreter's first command
    assert "numpy" in loaded and "xfit.cli.predict" in loaded  # the command did run
    assert not {m for m in loaded if m.split(".")[0] in ("scipy", "emcee", "matplotlib", "pyhf", "h5py", "numba")}
    assert {m for m in loaded if m.startswith("xfit.cli.")} == {"xfit.cli.predict", "xfit.cli.common"}


def test_reproduce_fig2_loads_no_scipy_pyplot_nor_numba(predict_fig2_fit):
    """The main job's start-up: the fits' statistics need no scipy.special, the figures no
    pyplot, and numba's import (~0.25 s CPU) is paid only by many-fit runs (xfit.histfactory.kernel)."""
    run, out = predict_fig2_fit["fig2"], predict_fig2_fit["fig2_out"]
    assert "xfit.cli.reproduce" in run.new and "matplotlib.figure" in run.new  # the command did run
    assert (out / "fig2_left.png").is_file() and (out / "summary.json").is_file()
    assert not {m for m in run.loaded if m.split(".")[0] == "scipy"}
    assert "matplotlib.pyplot" not in run.loaded
    assert not {m for m in run.loaded if m.split(".")[0] == "numba"}


def test_a_single_fit_does_not_import_numba(predict_fig2_fit):
    run = predict_fig2_fit["fit-sm"]
    assert "xfit.cli.belle2" in run.new and "scipy" in run.new  # the fit did run
    assert not {m for m in run.loaded if m.split(".")[0] == "numba"}


def test_a_belle2_subcommand_loads_only_its_module():
    # one interpreter, fit-sm's help first: what posterior's help adds is on top of a set checked exactly
    after_fit, loaded = _modules_loaded(["belle2", "fit-sm", "--help"], ["belle2", "posterior", "--help"])
    assert {m for m in after_fit if m.startswith("xfit.")} == {"xfit.cli.belle2", "xfit.cli.common"}
    assert {"xfit.cli.belle2_posterior", "xfit.belle2.posterior"} <= loaded
    assert not {"xfit.cli.belle2_toys", "xfit.cli.belle2_scan", "xfit.belle2.scan"} & loaded


@pytest.mark.parametrize("name", list(SUBCOMMAND_MODULES))
def test_each_belle2_subcommand_module_uses_the_table_help(name):
    belle2 = _subparsers(build_parser(["belle2", name]))["belle2"]
    sub = next(a for a in belle2._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert {k: helps[k] for k in SUBCOMMAND_MODULES} == {k: h for k, (_, h) in SUBCOMMAND_MODULES.items()}
    assert list(helps)[:2] == ["fit-sm", "scan"] and list(helps)[-1] == "export-pyhf"
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
