"""Every python code block of docs/tutorial.md runs, in order, in one namespace."""
import os
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"


def test_tutorial_code_runs(tmp_path, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for i, code in enumerate(blocks):
            exec(compile(code, f"docs/tutorial.md block {i + 1}", "exec"), namespace)  # noqa: S102
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "B(B+ -> K+ X)" in out and "chi2 is smallest" in out
