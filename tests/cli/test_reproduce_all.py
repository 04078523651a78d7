"""``xfit reproduce all`` (Figs. 1-3, Tables 2, 3, II, index.md), refs.bib and ``--hepdata`` of
``xfit reproduce fig3`` and ``xfit belle2 scan`` (small grids, serial)."""
import contextlib
import functools
import io
import json
import shutil

import pytest
import yaml

from xfit.cli import main
from xfit.hepdata import validation_errors
from xfit.reproduce import fig2, fig3


def _small_grids(monkeypatch, small_fig3):
    """Fig. 2 and Fig. 3 (and its Fig. 1) on small grids (the commands call the module functions)."""
    monkeypatch.setattr(fig2, "reproduce", functools.partial(fig2.reproduce, n_grid=12))
    monkeypatch.setattr(fig3, "FIG1_MASSES", small_fig3.fig1_masses)
    monkeypatch.setattr(fig3, "reproduce", functools.partial(fig3.reproduce, n_masses=small_fig3.n_masses,
                                                             executor="serial",
                                                             progress=False))


def _with_fig3_limits(small_fig3, out_dir):
    """The limits of the session's small Fig. 3 (tests/conftest.py), for fig3.reproduce to resume."""
    shutil.copytree(small_fig3.out / "chunks", out_dir / "chunks")


@pytest.fixture(scope="module")
def reproduced_all(tmp_path_factory, small_fig3):
    """``xfit reproduce all`` on small grids, run once for this module: (folder, stdout)."""
    out = tmp_path_factory.mktemp("all")
    _with_fig3_limits(small_fig3, out / "fig3")
    with pytest.MonkeyPatch.context() as mp:
        _small_grids(mp, small_fig3)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            assert main(["reproduce", "all", "--out", str(out)]) == 0
    return out, stdout.getvalue()


def test_reproduce_all_writes_everything_with_an_index(reproduced_all):
    tmp_path, stdout = reproduced_all
    assert "index.md" in stdout
    for f in ("fig2/fig2_left.png", "fig3/fig3.png", "fig3/fig1.png", "table2.md", "table3.json",
              "tableII.md", "refs.bib", "fig2/refs.bib", "fig3/refs.bib"):
        assert (tmp_path / f).is_file(), f
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.name != "index.md")
    files = [f for f in files if (tmp_path / f).is_file()]
    index = (tmp_path / "index.md").read_text().splitlines()
    listed = [line.split("`")[1] for line in index if line.startswith("- `")]
    assert listed == files  # every file, one line each
    assert len(json.loads((tmp_path / "table2.json").read_text())) == 5
    assert json.loads((tmp_path / "tableII.json").read_text())
    bib = (tmp_path / "refs.bib").read_text()
    assert "NA62:2025upx" in bib and "Belle-II:2023esi" in bib and "arXiv:2603.04394" in bib


def test_reproduce_fig3_hepdata(small_fig3):
    # the session's small Fig. 3 is `xfit reproduce fig3 --out F3 --hepdata HD --json` (tests/conftest.py)
    hd, summary = small_fig3.hepdata, small_fig3.summary
    assert summary["hepdata"].endswith("submission.yaml")
    assert validation_errors(hd) == []
    assert (hd / "combined.yaml").is_file() and (hd / "fcc_ee_z_gamma.yaml").is_file()
    assert "KL --> PI0 X" in (hd / "submission.yaml").read_text()
    assert "KOTO:2018dsc" in (small_fig3.out / "refs.bib").read_text() or \
        "arXiv:2411.11237" in (small_fig3.out / "refs.bib").read_text()


def test_hepdata_refused_where_there_is_no_curve(tmp_path, capsys):
    assert main(["reproduce", "fig2", "--hepdata", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "--hepdata" in err and len(err.strip().splitlines()) <= 3
    assert main(["reproduce", "nope"]) != 0
    assert len(capsys.readouterr().err.strip().splitlines()) <= 3


def test_belle2_scan_hepdata_with_expected_bands(tmp_path, capsys):
    hd = tmp_path / "hd"
    assert main(["belle2", "scan", "--mX-min", "1.8", "--mX-max", "2.4", "--n-masses", "3", "--no-plots",
                 "--out", str(tmp_path / "scan"), "--hepdata", str(hd), "--json"]) == 0
    capsys.readouterr()
    assert validation_errors(hd) == []
    table = yaml.safe_load(next(p for p in hd.glob("*.yaml") if p.name != "submission.yaml").read_text())
    names = [v["header"]["name"] for v in table["dependent_variables"]]
    assert any(n.startswith("Expected") for n in names) and any(n.startswith("Observed") for n in names)
    exp = next(v for v in table["dependent_variables"] if v["header"]["name"].startswith("Expected"))
    assert {e["label"] for e in exp["values"][0]["errors"]} == {"1 sigma", "2 sigma"}
    assert table["dependent_variables"][0]["qualifiers"][0]["value"] == "95%"
    assert "HEPData:ins2947386" in (tmp_path / "scan" / "refs.bib").read_text()
