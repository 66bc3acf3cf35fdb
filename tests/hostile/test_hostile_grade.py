"""Hostile JSON for ``riskmap grade --method lec --json -`` on stdin: one line, exit 2. In-process (a
RecursionError or ValueError would escape main and fail the test), and the deepest case once more in a
child process."""

from __future__ import annotations

import io

import pytest
from hostile_cli import riskmap

from riskmap.cli import main

CASES = {
    "deep nesting": ("[" * 10_000 + "]" * 10_000, "10000 deep"),
    "deep object": ('{"L":' * 5_000 + "1" + "}" * 5_000, "5000 deep"),
    "5000-digit integer": ('{"L": 3, "E": 6, "C": ' + "9" * 5_000 + "}", "5000-digit integer"),
    "NaN": ('{"L": 3, "E": 6, "C": NaN}', "NaN is not a valid number"),
    "1e308 each": ('{"L": 1e308, "E": 1e308, "C": 1e308}', "riskmap: "),
    "garbage": ("\x00\x01\ufffd{", "stdin"),
    "empty input": ("", "JSON"),
    "an array": ("[1, 2, 3]", "one JSON object"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_grade_input_is_one_line(name, monkeypatch, capsys):
    text, says = CASES[name]
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(["grade", "--method", "lec", "--json", "-"])
    out = capsys.readouterr()
    assert code == 2 and out.err.count("\n") == 1, (code, out.err[-500:])
    assert says in out.err and out.out == ""


def test_deep_nesting_in_a_child_process():
    result = riskmap("grade", "--method", "lec", "--json", "-", stdin=b"[" * 10_000 + b"]" * 10_000)
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, err[-2000:]


def test_an_honest_case_still_grades(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO('{"L": 3, "E": 6, "C": 15}'))
    assert main(["grade", "--method", "lec", "--json", "-"]) == 0
    assert '"level": 2' in capsys.readouterr().out
