"""xfit/outputs.py: the shared --out validator and the output-folder lock."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from xfit.cli import main
from xfit.errors import InputError
from xfit.outputs import LOCK_NAME, check_output_dir, output_lock

ANALYSIS = "kind: scan\nmodel: tau-flavor\nterms: [b_to_s_emiss]\nfixed: {mX: 2.1}\n" \
           "scan:\n  axes:\n    gX: {min: 0.001, max: 0.05, n: 5}\nexecutor: serial\n"


@pytest.mark.parametrize("path", ["/", "/usr", "/usr/local/xfit", "/etc/xfit", "/proc/self/x", "/sys/x"])
def test_system_folders_refused(path):
    with pytest.raises(InputError, match="--out .* system folder"):
        check_output_dir(path)


def test_file_refused_and_folder_accepted(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="existing file"):
        check_output_dir(tmp_path / "f", "--out")
    with pytest.raises(InputError, match="cannot be written"):
        check_output_dir(tmp_path / "f" / "sub")
    assert check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # the validator creates nothing


def test_lock_refuses_a_second_writer(tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from filelock import FileLock; import pathlib; "
        f"p = pathlib.Path({str(out)!r}); p.mkdir(); l = FileLock(str(p / {LOCK_NAME!r})); l.acquire(); "
        "print('held', flush=True); time.sleep(30)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        (tmp_path / "a.yaml").write_text(ANALYSIS)
        code = main(["run", str(tmp_path / "a.yaml"), "--out", str(out), "--no-progress"])
        err = capsys.readouterr().err
        assert code != 0 and "being written by another xfit process" in err, err
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing written
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert main(["run", str(tmp_path / "a.yaml"), "--out", str(out), "--no-progress"]) == 0
    assert (out / "summary.json").exists()


def test_refused_input_leaves_no_folder(tmp_path):
    with pytest.raises(InputError), output_lock(tmp_path / "new"):
        raise InputError("bad")
    assert not (tmp_path / "new").exists()
