"""The Belle II mass scan's resume file is an xfit.inference.store.ResultStore: corrupt files
are one-line DataErrors naming the file, the problem and --no-resume; a truncated last line
is dropped; another configuration starts afresh."""
import json

import pytest

from xfit.belle2.scan import MassPoint, open_scan_store
from xfit.errors import DataError

CONFIG = {"kind": "belle2_mass_scan", "version": 2, "masses": [1.0, 2.0]}


def _point(**over):
    d = {"mX": 1.0, "BR_hat": 1e-6, "q0": 0.5, "nll": 10.0, "efficiency_events": 3.0, "BR_95": 2e-5,
         "BR_95_expected": {"0": 1e-5}, "note": ""}
    d.update(over)
    return d


def _header(path):
    open_scan_store(path, CONFIG)  # writes the header
    return path.read_text().splitlines()[0]


def _chunk(result, index=0):
    return json.dumps({"type": "chunk", "index": index, "result": result})


@pytest.mark.parametrize("lines, message", [
    (["[1]"], "header"),
    (["null"], "header"),
    (["{broken"], "header"),
    ([None, _chunk(_point(BR_95="big"))], "BR_95"),
    ([None, _chunk(_point(BR_95_expected=[1e-5]))], "BR_95_expected"),
    ([None, _chunk(_point(mX=None))], "mX"),
    ([None, _chunk([1, 2])], "result mapping"),
    ([None, json.dumps([1, 2])], "not a mapping"),
    ([None, _chunk(_point(), index=7)], "index 7"),
    ([None, "{broken", _chunk(_point())], "line 2 is not valid JSON"),
])
def test_corrupt_resume_file_is_one_line_data_error(tmp_path, lines, message):
    path = tmp_path / "scan.jsonl"
    head = _header(path)
    path.write_text("\n".join(head if x is None else x for x in lines) + "\n")
    with pytest.raises(DataError, match=rf"{path.name}.*{message}.*--no-resume") as exc:
        open_scan_store(path, CONFIG)
    assert len(str(exc.value).splitlines()) == 1


def test_resume_file_good_truncated_and_other_configuration(tmp_path):
    path = tmp_path / "scan.jsonl"
    head = _header(path)
    path.write_text(head + "\n" + _chunk(_point()) + "\n" + '{"type": "chunk", "index": 1, "resu')
    done = open_scan_store(path, CONFIG).completed()
    assert list(done) == [0]
    p = MassPoint.from_dict(done[0])
    assert isinstance(p, MassPoint) and p.BR_95 == 2e-5 and p.to_dict() == _point()
    assert len(path.read_text().splitlines()) == 2  # the truncated tail is dropped
    assert open_scan_store(path, {**CONFIG, "version": 3}).completed() == {}  # afresh
    assert len(path.read_text().splitlines()) == 1
    # an old-format file (header {"config": ...}) is another configuration, not an error
    path.write_text(json.dumps({"config": {"version": 1}}) + "\n" + json.dumps(_point()) + "\n")
    assert open_scan_store(path, CONFIG).completed() == {}
    path.write_bytes(head.encode() + b"\n\xff\xfe\n")
    with pytest.raises(DataError, match="not UTF-8"):
        open_scan_store(path, CONFIG)


def test_no_resume_starts_afresh(tmp_path):
    path = tmp_path / "scan.jsonl"
    store = open_scan_store(path, CONFIG)
    store.append(0, _point())
    assert list(open_scan_store(path, CONFIG).completed()) == [0]
    assert open_scan_store(path, CONFIG, resume=False).completed() == {}


def test_mass_point_json_is_strict():
    p = MassPoint(1.0, float("nan"), float("inf"), 1.0, 2.0, None, {"0": float("nan")}, "x")
    d = p.to_dict()
    assert d["BR_hat"] is None and d["q0"] is None and d["BR_95_expected"] == {"0": None}
    back = MassPoint.from_dict(d)
    assert back.BR_95 is None and back.nll == 1.0
    assert "MassPoint" in repr(p) and "mX=1" in repr(p)
