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
