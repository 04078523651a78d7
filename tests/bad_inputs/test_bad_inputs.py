"""The catalogue of broken inputs (``cases.yaml``), run by one parametrised test.

Each case is a command line (run in-process through :func:`xfit.cli.main`, or with
``subprocess: true`` as ``python -m xfit``) or a Python snippet.  Every case must fail
cleanly: non-zero exit (or the named exception), no traceback, a message of at most three
lines that matches the case's regex, and nothing written into the working folder (the test
runs in a temporary folder and compares its tree before and after).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
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


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(case, tmp_path, capsys, monkeypatch):
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
        if case.get("subprocess"):
            root = str(HERE.parent.parent)
            env = dict(os.environ, MPLBACKEND="Agg",
                       PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
            env.update({k: _fill(str(v), work) for k, v in (case.get("env") or {}).items()})
            proc = subprocess.run([sys.executable, "-m", "xfit", *argv], capture_output=True, text=True,
                                  env=env, timeout=120)
            code, err = proc.returncode, proc.stderr
        else:
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse
                code = exc.code
            err = capsys.readouterr().err
        assert code not in (0, None), f"exit code {code}; stderr:\n{err}"
        _check_message(err, case)
    assert _tree(work) == before, "the command left files behind or changed them"
