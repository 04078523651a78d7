"""The catalogue of broken inputs (``cases.yaml``), run by one parametrised test.

Each case is a command line (run in-process through :func:`xfit.cli.main`, or with
``subprocess: true`` as ``python -m xfit``) or a Python snippet.  Every case must fail
cleanly: non-zero exit (or the named exception), no traceback, a message of at most three
lines that matches the case's regex, and nothing written into the working folder (the test
runs in a temporary folder and compares its tree before and after).

The ``subprocess: true`` cases share one fresh interpreter (:func:`entry_point_runs`), which
runs ``xfit/__main__.py`` for each of them in turn as ``python -m xfit`` does (``runpy``, its
``sys.exit`` code), each in its own folder with its own environment and its own stderr (file
descriptor 2), the case with an environment first (its imports and caches are fresh: nothing
may be written there either).  One interpreter start-up and one import of numpy/scipy instead
of six (~1 s CPU less); a warning or traceback printed at import, during the run or at exit
still reaches a case's stderr, or the interpreter's, which must stay empty.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import xfit.errors
from xfit.cli import main
from xfit.yamlio import safe_load

HERE = Path(__file__).parent
FILES = HERE / "files"
CASES = safe_load((HERE / "cases.yaml").read_text())  # libyaml: ~7x faster to collect than yaml.safe_load
MAX_LINES = 3


def _fill(value: str, tmp: Path) -> str:
    return value.replace("{files}", str(FILES)).replace("{tmp}", str(tmp))


def _tree(root: Path) -> dict:
    """Every path under ``root`` with, for files, size and modification time."""
    return {str(p.relative_to(root)): None if p.is_dir() else (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*")}


def _prepare(case: dict, tmp: Path) -> None:
    for rel, kind in (case.get("make") or {}).items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "dir":
            path.mkdir()
        elif kind == "readonly-dir":
            path.mkdir()
            path.chmod(0o555)
        elif kind.startswith("copy:"):
            path.write_bytes((FILES / kind[5:]).read_bytes())
        else:
            path.write_text(kind)


def _check_message(message: str, case: dict) -> None:
    assert "Traceback" not in message, message
    lines = [ln for ln in message.strip().splitlines() if ln.strip()]
    assert lines, "no message at all"
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines:\n{message}"
    assert re.search(case["match"], message, re.S), f"/{case['match']}/ not in:\n{message}"
    for word in case.get("not_match", []):
        assert not re.search(word, message), f"/{word}/ in:\n{message}"


def test_catalogue_is_large_and_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 80
    used = {f for c in CASES for f in re.findall(r"\{files\}/([\w.\-]+)", str(c))}
    missing_on_purpose = {u for u in used if u.startswith("no_such")}
    assert used - missing_on_purpose <= {p.name for p in FILES.iterdir()}


#: Runs ``xfit/__main__.py`` (as ``python -m xfit``) for each case given in argv[1] (JSON: argv,
#: folder, environment, stderr file); writes the exit codes to argv[2].
_RUNNER = textwrap.dedent("""
    import json, os, runpy, sys, traceback
    cases, codes_file, codes = json.loads(sys.argv[1]), sys.argv[2], []
    for case in cases:
        os.chdir(case["cwd"])
        saved_env = dict(os.environ)
        os.environ.update(case["env"])
        sys.stderr.flush()
        fd = os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        saved_fd = os.dup(2)
        os.dup2(fd, 2)
        os.close(fd)
        sys.argv = ["xfit", *case["argv"]]
        try:
            runpy.run_module("xfit", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:  # as the interpreter reads it
            code = exc.code
            if code is None:
                code = 0
            elif not isinstance(code, int):
                print(code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        os.environ.clear()
        os.environ.update(saved_env)
        codes.append(code)
    with open(codes_file, "w") as f:
        json.dump(codes, f)
""")


@pytest.fixture(scope="module")
def entry_point_runs(tmp_path_factory):
    """Every ``subprocess: true`` case run by one fresh interpreter (see the module docstring):
    {"cases": {id: (exit code, stderr, tree before, tree after)}, "interpreter_stderr": ...}."""
    cases = sorted((c for c in CASES if c.get("subprocess")), key=lambda c: not c.get("env"))
    base = tmp_path_factory.mktemp("entry_point")
    runs, before = [], {}
    for case in cases:
        work = base / case["id"] / "work"
        work.mkdir(parents=True)
        _prepare(case, work)
        before[case["id"]] = _tree(work)
        runs.append({"argv": [_fill(str(a), work) for a in case["argv"]], "cwd": str(work),
                     "env": {k: _fill(str(v), work) for k, v in (case.get("env") or {}).items()},
                     "stderr": str(base / case["id"] / "stderr")})
    root = str(HERE.parent.parent)
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    codes_file = base / "codes.json"
    proc = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps(runs), str(codes_file)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and codes_file.exists(), f"the runner failed:\n{proc.stderr}"
    codes = json.loads(codes_file.read_text())
    return {"interpreter_stderr": proc.stderr,
            "cases": {c["id"]: (code, Path(r["stderr"]).read_text(), before[c["id"]], _tree(Path(r["cwd"])))
                      for c, r, code in zip(cases, runs, codes)}}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(case, tmp_path, capsys, monkeypatch, request):
    if case.get("subprocess"):  # run with the others, in one fresh interpreter (its own folder there)
        run = request.getfixturevalue("entry_point_runs")
        code, err, before, after = run["cases"][case["id"]]
        assert code not in (0, None), f"exit code {code}; stderr:\n{err}"
        _check_message(err, case)
        assert after == before, "the command left files behind or changed them"
        assert run["interpreter_stderr"] == "", f"the interpreter printed:\n{run['interpreter_stderr']}"
        return
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    _prepare(case, work)
    before = _tree(work)
    if "python" in case:
        exc_type = getattr(xfit.errors, case.get("raises", "InputError"))
        namespace = {"FILES": FILES, "TMP": work}
        with pytest.raises(exc_type) as info:
            exec(compile(_fill(case["python"], work), case["id"], "exec"), namespace)  # noqa: S102
        _check_message(str(info.value), case)
    else:
        argv = [_fill(str(a), work) for a in case["argv"]]
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
        err = capsys.readouterr().err
        assert code not in (0, None), f"exit code {code}; stderr:\n{err}"
        _check_message(err, case)
    assert _tree(work) == before, "the command left files behind or changed them"
