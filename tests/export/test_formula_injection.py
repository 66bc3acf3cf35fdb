"""User text never becomes a spreadsheet formula: XLSX cells are string cells, CSV cells are neutralised."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import openpyxl
import pytest

HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3"]
NAMED_TABLES = ("enterprises", "zones", "lifelines", "protected_targets", "control_lines", "indicators")


def run(*args):
    return subprocess.run([sys.executable, "-m", "riskmap.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


@pytest.fixture
def hostile_project(demo_copy):
    """The demo copy with every name of the named tables (and the project's name) set to formula-like text."""
    from riskmap.store import Project

    project = Project.open(demo_copy)
    try:
        with project.engine.begin() as conn:
            case = "CASE id % 5 " + " ".join(f"WHEN {i} THEN ?" for i in range(5)) + " END"
            for table in NAMED_TABLES:
                conn.exec_driver_sql(f"UPDATE {table} SET name = {case}", tuple(HOSTILE))
            conn.exec_driver_sql(f"UPDATE hidden_dangers SET title = {case}", tuple(HOSTILE))
            conn.exec_driver_sql("UPDATE project_meta SET value = ? WHERE key = 'name'", (HOSTILE[0],))
    finally:
        project.close()
    return demo_copy


def cells(path):
    """Every non-empty cell of every sheet: (sheet, coordinate, value, data_type)."""
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.coordinate, c.value, c.data_type) for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if c.value is not None]


def assert_no_formula(found, must_hold=HOSTILE):
    assert found
    formulas = [c for c in found if c[3] == "f"]
    assert formulas == []
    texts = {c[2] for c in found if c[3] == "s"}
    assert set(must_hold) <= texts, set(must_hold) - texts
    for sheet, coord, value, data_type in found:
        if isinstance(value, str):
            assert data_type == "s", (sheet, coord, value, data_type)


def test_workbook_export_keeps_names_as_text(hostile_project, tmp_path):
    out = tmp_path / "一张图.xlsx"
    r = run("export", str(hostile_project), "--format", "xlsx", "--out", str(out))
    assert r.returncode == 0, r.stderr
    found = cells(out)
    assert_no_formula(found)
    ents = [c for c in found if c[0] == "企业"]
    names = [c[2] for c in ents if c[1].startswith("B") and int(c[1][1:]) >= 4]
    assert len(names) == 239 and set(names) == set(HOSTILE)
    # numbers stay numbers: 序号 and 经度 of the first data row
    first = {c[1]: c for c in ents}
    assert first["A4"][2] == 1 and first["A4"][3] == "n"
    assert isinstance(first["K4"][2], float) and first["K4"][3] == "n"
    # the subtitle starts with the project's name, and the readme sheet holds it alone
    assert first["A2"][2].startswith(HOSTILE[0]) and first["A2"][3] == "s"
    assert (HOSTILE[0], "s") in {(c[2], c[3]) for c in found if c[0] == "说明"}


def test_check_workbook_keeps_names_as_text(hostile_project, tmp_path):
    out = tmp_path / "检查.xlsx"
    r = run("check", str(hostile_project), "--xlsx", str(out))
    assert r.returncode == 0, r.stderr
    found = cells(out)
    hostile_found = {c[2] for c in found} & set(HOSTILE)
    assert hostile_found, "the check found no rows naming the hostile names"
    assert_no_formula(found, hostile_found)


def test_attribute_table_export_keeps_text_and_numbers(tmp_path):
    from riskmap.export.table import write_rows

    out = tmp_path / "企业.xlsx"
    n = write_rows(out, "企业", ["名称", "人数", "比例"], [HOSTILE, [1, -2, 3, 4, 5], [0.5, None, 2.0, -1.5, 0.0]],
                   demo=True)
    assert n == 5
    ws = openpyxl.load_workbook(out).active
    rows = [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()]
    assert rows[0][0][0].startswith("示例数据")
    assert rows[1] == [("名称", "s"), ("人数", "s"), ("比例", "s")]
    assert [r[0] for r in rows[2:]] == [(h, "s") for h in HOSTILE]
    assert [r[1] for r in rows[2:]] == [(1, "n"), (-2, "n"), (3, "n"), (4, "n"), (5, "n")]
    assert [r[2][0] for r in rows[2:]] == [0.5, None, 2.0, -1.5, 0.0]


def test_text_cells_drop_characters_a_workbook_cannot_hold(tmp_path):
    from riskmap.export.table import write_rows

    out = tmp_path / "t.xlsx"
    write_rows(out, "t", ["名称"], [["甲\x00乙\x1b丙"]])
    assert openpyxl.load_workbook(out).active["A2"].value == "甲乙丙"


def test_import_report_csv_is_neutralised(tmp_path):
    from riskmap.io.issues import Report

    report = Report("企业.xlsx")
    for i, h in enumerate(HOSTILE, start=2):
        report.add(i, "name", h, "测试", "test")
    report.add(9, "employees", -5, "人数为负", "negative")
    report.add(10, "name", "\tTAB", "测试", "test")
    out = tmp_path / "report.csv"
    report.write_csv(out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    values = [r[3] for r in rows[1:]]
    assert values == ["'" + h for h in HOSTILE] + ["-5", "'\tTAB"]
    assert [r[1] for r in rows[1:]] == ["2", "3", "4", "5", "6", "9", "10"]


def test_csv_cell_leaves_plain_text_and_numbers():
    from riskmap.atomic import csv_cell

    assert [csv_cell(v) for v in ("甲", "a=b", "", "1-2", -2, 3.5, None)] == ["甲", "a=b", "", "1-2", -2, 3.5, None]
    assert [csv_cell(v) for v in ("=1", "+1", "-1", "@a", "\r1")] == ["'=1", "'+1", "'-1", "'@a", "'\r1"]


def test_footer_text_is_no_formatting_code():
    from riskmap.export.sheet import footer_text

    assert footer_text("A&B &P") == "A&&B &&P"
