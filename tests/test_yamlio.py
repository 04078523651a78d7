"""The safe YAML loader: every bad file is a one-line InputError naming the file and the
problem, within a second (generated files: billion laughs, 5000-deep nesting, duplicate keys,
non-UTF-8 bytes, empty, a 5000-character value, too large, two documents, Python tags)."""
from __future__ import annotations

import time

import pytest

from xfit.errors import DataError, InputError
from xfit.yamlio import MAX_BYTES, load_yaml, loads_yaml


def billion_laughs() -> str:
    text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    prev = "a"
    for name in "bcdefghij":
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text


BAD = {
    "billion_laughs": (billion_laughs(), "more than 100000 values after expanding aliases"),
    # where the depth is caught depends on the PyYAML version (>= 6.0.4 stops deep flow collections
    # while scanning ahead), so only the problem is pinned here
    "deep_flow": ("[" * 5000 + "]" * 5000, "nested more than 50 levels deep (line 1, column "),
    "deep_block": ("- " * 5000 + "1\n", "nested more than 50 levels deep (line 1, column 101)"),
    "deep_mapping": ("".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "v: 1\n",
                     "nested more than 50 levels deep (line 51"),
    "duplicate_key": ("fields: []\nname: a\nfields: [1]\n",
                      "duplicate key 'fields' (line 3, column 1), first at line 1"),
    "duplicate_nested": ("a:\n  x: 1\n  y: 2\n  x: 3\n", "duplicate key 'x' (line 4, column 3)"),
    "not_utf8": (b"fields:\n  - name: \xe9t\xe9\n", "not UTF-8 text (byte 18 is b'\\xe9')"),
    "empty": ("", "empty file"),
    "only_comments": ("# a comment\n\n", "empty file"),
    "long_value": ("description: " + "x" * 5000 + "\n", "a value of 5000 characters, more than the limit of 4096"),
    "long_key": ("y" * 5000 + ": 1\n", "a value of 5000 characters"),
    "two_documents": ("a: 1\n---\nb: 2\n", "more than one YAML document (line 2"),
    "python_tag": ("!!python/object/apply:os.system ['true']\n", "could not determine a constructor"),
    "syntax": ("fields: [1, 2\nname: x\n", "invalid YAML (line 2"),
    "tab_indent": ("a:\n\t- 1\n", "invalid YAML (line 2, column 1)"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_files_are_one_line_input_errors_within_a_second(tmp_path, name):
    content, problem = BAD[name]
    p = tmp_path / f"{name}.yaml"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    t0 = time.perf_counter()
    with pytest.raises(InputError) as e:
        load_yaml(p)
    assert time.perf_counter() - t0 < 1.0
    msg = str(e.value)
    assert msg.startswith(f"{p}: ") and problem in msg and "\n" not in msg and len(msg) < 300


def test_too_large_file_is_refused_before_reading(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_bytes(b"a: 1\n" + b"#" * MAX_BYTES)
    limit = rf"big.yaml: file of {MAX_BYTES + 5} bytes, more than the limit of {MAX_BYTES}"
    with pytest.raises(InputError, match=limit):
        load_yaml(p)
    with pytest.raises(InputError, match="more than the limit of 10"):
        loads_yaml("a: 12345678\n", "s", max_bytes=10)


def test_missing_file_is_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read .*nope.yaml"):
        load_yaml(tmp_path / "nope.yaml")
    with pytest.raises(DataError, match="cannot read"):
        load_yaml(tmp_path)


def test_good_files_load_as_plain_yaml():
    assert loads_yaml("fields:\n  - {name: q, X: '1/3', Y: 0.5}\n") == {"fields": [{"name": "q", "X": "1/3", "Y": 0.5}]}
    assert loads_yaml("\ufeffa: 1\n") == {"a": 1}  # a UTF-8 byte-order mark is fine
    # moderate aliases are fine: they count once per use
    assert loads_yaml("base: &b {x: 1}\nc: *b\nd: *b\n") == {"base": {"x": 1}, "c": {"x": 1}, "d": {"x": 1}}
    deep = loads_yaml("[" * 50 + "]" * 50)
    depth = 0
    while isinstance(deep, list) and deep:
        deep, depth = deep[0], depth + 1
    assert depth == 49


def test_alias_expansion_is_counted_not_only_the_text():
    # 4 levels of 10 aliases: a short text that expands to 10^4 = 10000 values
    text, prev = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", "a"
    for name in "bcd":
        text += f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
        prev = name
    assert len(loads_yaml(text)["d"]) == 10
    with pytest.raises(InputError, match="more than 5000 values after expanding aliases"):
        loads_yaml(text, "s", max_nodes=5000)


def test_anomalon_loader_uses_it(tmp_path):
    from xfit.anomalons.field_content import load_field_content

    p = tmp_path / "lol.yaml"
    p.write_text(billion_laughs())
    with pytest.raises(InputError, match="lol.yaml: more than 100000 values"):
        load_field_content(p)
    p.write_text("fields:\n  - {chirality: L, n: 2, Y: 1/2, X: 1, X: 2}\n")
    with pytest.raises(InputError, match="duplicate key 'X'"):
        load_field_content(p)


def test_field_table_loader_uses_it(tmp_path):
    from xfit.models.field_table import read_field_table

    p = tmp_path / "deep.yaml"
    p.write_text("fields: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError, match="deep.yaml: nested more than 50 levels"):
        read_field_table(p)
