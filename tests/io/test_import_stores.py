"""The same import on both stores: the GeoPackage file and PostgreSQL + PostGIS."""

from __future__ import annotations

import json

import openpyxl
import pytest

from riskmap.io.importer import commit_import, plan_import


def test_import_on_each_store(any_store, inside_points, tmp_path):
    pts = inside_points(3)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["企业名称", "行业", "风险等级", "经度", "纬度"])
    for i, (x, y) in enumerate(pts):
        ws.append([f"两库公司{i}", "加油站", ["红", "橙", "黄"][i], x, y])
    path = tmp_path / "两库.xlsx"
    wb.save(path)
    p = any_store
    before = p.counts()
    plan = plan_import(p, path, "enterprises")
    res = commit_import(p, plan)
    after = p.counts()
    assert after["enterprises"] == before["enterprises"] + 3
    assert after["assessments"] == before["assessments"] + 3
    got = p.read_table("enterprises", where="name LIKE '两库公司%'").sort_values("name")
    assert got["id"].tolist() == res.ids
    assert got["level"].tolist() == [1, 2, 3]
    assert [c for g in got.geometry for c in (g.x, g.y)] == pytest.approx([c for pt in pts for c in pt])
    recs = p.read_table("assessments", where=f"enterprise_id IN ({', '.join(map(str, res.ids))})")
    assert sorted(recs["id"]) == sorted(got["level_assessment_id"].astype(int))
    inputs = [json.loads(v) if isinstance(v, str) else v for v in recs.sort_values("enterprise_id")["inputs"]]
    assert [i["cells"]["风险等级"] for i in inputs] == ["红", "橙", "黄"]
    # the ids continue after the import: an ordinary insert still gets a fresh id
    from riskmap.model import Enterprise

    with p.session() as s:
        e = Enterprise(name="之后新增", industry="gas_station")
        s.add(e)
        s.flush()
        assert e.id > max(res.ids)


def test_list_update_on_each_store(any_store, inside_points, tmp_path):
    """A newer list on both stores: one level changed (version + 1, a new import Assessment), one row
    moved, one unchanged, one enterprise no longer listed and deleted with --delete-missing."""
    pts = inside_points(3)

    def sheet(name, rows):
        wb = openpyxl.Workbook()
        wb.active.append(["企业名称", "统一社会信用代码", "行业", "风险等级", "经度", "纬度"])
        for r in rows:
            wb.active.append(r)
        wb.save(tmp_path / name)
        return tmp_path / name

    p = any_store
    first = sheet("一.xlsx", [[f"更新公司{i}", f"91000000MA000000{i}X", "机械", "黄", x, y] for i, (x, y) in enumerate(pts)])
    res = commit_import(p, plan_import(p, first, "enterprises"))
    before = p.read_table("enterprises", where="name LIKE '更新公司%'").set_index("name")
    n_assess = p.counts()["assessments"]
    (x0, y0), (x1, y1) = pts[0], pts[1]
    others = p.read_table("enterprises", where="name NOT LIKE '更新公司%'", columns=["name"])["name"].tolist()
    newer = sheet("二.xlsx", [["更新公司0", "91000000MA0000000X", "机械", "红", x0, y0],
                              ["更新公司1", "91000000ma0000001x", "工贸（机械）", "黄", x1 + 0.001, y1]]
                  + [[n, None, None, None, None, None] for n in others])  # only names: blank cells change nothing
    plan = plan_import(p, newer, "enterprises")
    out = commit_import(p, plan, delete_missing=True)
    assert out.ids == [] and sorted(out.updated.values()) == [["geom"], ["level"]]
    assert out.unchanged == len(others) and [n for _, n in out.deleted] == ["更新公司2"]
    after = p.read_table("enterprises", where="name LIKE '更新公司%'").set_index("name")
    assert sorted(after.index) == ["更新公司0", "更新公司1"]
    assert after.loc["更新公司0", "level"] == 1 and after.loc["更新公司1", "level"] == 3
    assert after.loc["更新公司0", "version"] == before.loc["更新公司0", "version"] + 1
    assert after.loc["更新公司0", "id"] == before.loc["更新公司0", "id"] and res.ids[0] == before.loc["更新公司0", "id"]
    assert after.loc["更新公司1"].geometry.x == pytest.approx(x1 + 0.001)
    # one new assessment (更新公司0's 红); 更新公司2's went with it
    assert p.counts()["assessments"] == n_assess + 1 - 1
