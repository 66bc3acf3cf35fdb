"""One planning-check report: the text, the XLSX and the window's HTML give the same rows and counts."""

from __future__ import annotations

import openpyxl

from riskmap.analysis.check import crossing_rows, encroachment_rows, run_check
from riskmap.export.check_xlsx import write_check_xlsx
from riskmap.store import Project


def test_text_and_xlsx_share_rows_and_counts(demo_path, tmp_path):
    with Project.open(demo_path, readonly=True) as project:
        report = run_check(project)
    sm = report.summary()
    # the demo seeds four protected targets inside its control line: 900 + 1 200 + 60 + 120 people
    assert sm["encroachments"] == sm["targets"] == 4 and sm["people"] == 2280
    rows = encroachment_rows(report.encroachments)
    assert [r["n"] for r in rows] == [1, 2, 3, 4]
    assert sorted(r["people"] for r in rows) == [60, 120, 900, 1200]
    for r, raw in zip(rows, report.encroachments.to_dict("records")):
        assert r["depth_m"] == -raw["distance_m"] > 0 and r["object_layer"] == "control_lines"
    text = report.to_text()
    assert f"Encroachments: 4 处，涉及防护目标 4 个、2280 人" in text
    for r in rows:
        assert f"  {r['n']}. {r['target_name']}（{r['class_zh']}，{r['people']}人）" in text
    cr = crossing_rows(report.crossings)
    assert f"Crossings: {sm['crossing_segments']} 段，{sm['crossings']} 处" in text and sm["crossings"] == len(cr) > 0
    path = write_check_xlsx(report, tmp_path / "check.xlsx")
    wb = openpyxl.load_workbook(path)
    names = [wb["侵占检查"].cell(row=4 + i, column=2).value for i in range(4)]
    assert names == [r["target_name"] for r in rows]
    assert [wb["侵占检查"].cell(row=4 + i, column=4).value for i in range(4)] == [r["people"] for r in rows]
    assert wb["穿越"].cell(row=4 + len(cr) - 1, column=1).value == len(cr)
