"""``riskmap check`` and ``riskmap controlline`` on the demo project."""

from __future__ import annotations

import json

import openpyxl

from riskmap.cli import main
from riskmap.store import Project


def _inside_any_line(project) -> dict[int, str]:
    """Protected targets inside any control line, by a plain point-in-polygon test on the raw tables."""
    targets = project.read_table("protected_targets")
    lines = project.read_table("control_lines")
    return {int(i): n for i, n, g in zip(targets["id"], targets["name"], targets.geometry)
            if any(g.within(line) for line in lines.geometry)}


def test_check_lists_the_demo_encroachments(demo_path, capsys, tmp_path):
    with Project.open(demo_path, readonly=True) as project:
        expected = _inside_any_line(project)
        people = project.read_table("protected_targets").loc[list(expected), "people"]
    # the demo seeds a school of 900, homes of 1 200 and 60, a kindergarten of 120 inside its control line
    assert sorted(people) == [60, 120, 900, 1200]
    xlsx = tmp_path / "check.xlsx"
    assert main(["check", str(demo_path), "--xlsx", str(xlsx)]) == 0
    out = capsys.readouterr().out
    assert f"Encroachments: {len(expected)} 处" in out and f"{int(people.sum())} 人" in out
    for name in expected.values():
        assert name in out
    assert "示例数据" in out
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["侵占检查", "高后果区", "穿越"]
    for ws in wb.worksheets:
        assert "示例数据" in ws["A1"].value
    listed = {wb["侵占检查"].cell(row=r, column=2).value for r in range(4, 4 + len(expected))}
    assert listed == set(expected.values())

    assert main(["check", str(demo_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {e["target_id"] for e in data["encroachments"]} == set(expected)
    assert all(e["distance_m"] < 0 and e["object_type"] == "control_line" for e in data["encroachments"])
    # the demo's long-distance gas pipeline crosses the park's control line
    assert any(c["category"] == "gas_pipeline" and c["object_type"] == "control_line" for c in data["crossings"])


def test_controlline_cli_then_check(demo_copy, capsys):
    assert main(["controlline", str(demo_copy), "--from-distances", "--json"]) == 0
    plans = json.loads(capsys.readouterr().out)
    assert len(plans) == 1 and plans[0]["park_zone_id"] and plans[0]["action"] == "insert"
    with Project.open(demo_copy, readonly=True) as project:
        lines = project.read_table("control_lines")
        expected = _inside_any_line(project)
    assert len(lines) == 2 and "draft" in set(lines["status"])
    assert main(["check", str(demo_copy), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    found = {(e["target_id"], e["object_id"]) for e in data["encroachments"]}
    assert {t for t, _ in found} == set(expected)
    with Project.open(demo_copy, readonly=True) as project:
        targets = project.read_table("protected_targets")
        by_pair = {(int(t), int(l)) for t, g in zip(targets["id"], targets.geometry)
                   for l, lg in zip(lines["id"], lines.geometry) if g.within(lg)}
    assert found == by_pair
    # errors: one line on stderr, exit 2, project unchanged
    before = demo_copy.read_bytes()
    assert main(["controlline", str(demo_copy), "--from-distances", "--enterprise", "99999"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "企业不存在" in err
    assert demo_copy.read_bytes() == before
