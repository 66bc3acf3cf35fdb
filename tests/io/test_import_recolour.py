"""Importing enterprises into a zoned project recolours the zones they fall in, in the import's transaction."""

from __future__ import annotations

import numpy as np
import openpyxl
import shapely

from riskmap.grading.zoning import zoned_units
from riskmap.io.importer import commit_import, plan_import
from riskmap.store import Project


def test_one_red_enterprise_makes_a_blue_town_red(demo_copy, tmp_path):
    with Project.open(demo_copy) as p:
        assert "town" in zoned_units(p)
        towns = p.read_table("zones", where="kind = 'town'").set_index("id")
        n_ents = len(p.read_table("enterprises", columns=["id"]))
    blue = towns[towns["level"] == 4]
    assert len(blue)
    tid = int(blue.index[0])
    pt = shapely.point_on_surface(blue.geometry.iloc[0])
    wb = openpyxl.Workbook()
    wb.active.append(["企业名称", "行业", "风险等级", "经度", "纬度"])
    wb.active.append(["导入红色企业", "加油站", 1, round(pt.x, 6), round(pt.y, 6)])
    path = tmp_path / "一家.xlsx"
    wb.save(path)

    with Project.open(demo_copy) as p:
        result = commit_import(p, plan_import(p, path, "enterprises"))
        assert len(result.ids) == 1

    with Project.open(demo_copy) as p:
        after = p.read_table("zones", where="kind = 'town'").set_index("id")
        ents = p.read_table("enterprises", columns=["id", "level"])
    assert len(ents) == n_ents + 1
    assert int(ents.set_index("id").loc[result.ids[0], "level"]) == 1
    assert int(after.loc[tid, "level"]) == 1
    others = [i for i in towns.index if i != tid]
    assert np.array_equal(after.loc[others, "level"].to_numpy(), towns.loc[others, "level"].to_numpy())


def test_a_large_import_levels_the_zoned_units_again(demo_copy, tmp_path, monkeypatch):
    """Above RELEVEL_ABOVE new enterprises the zoned units are levelled again from scratch, with the
    settings they were zoned with; the result is the same as recolouring around each one."""
    from riskmap.grading import zoning

    monkeypatch.setattr(zoning, "RELEVEL_ABOVE", 0)
    with Project.open(demo_copy) as p:
        before_units = zoned_units(p)
        towns = p.read_table("zones", where="kind = 'town'").set_index("id")
    tid = int(towns[towns["level"] == 4].index[0])
    pt = shapely.point_on_surface(towns.loc[tid].geometry)
    wb = openpyxl.Workbook()
    wb.active.append(["企业名称", "行业", "风险等级", "经度", "纬度"])
    wb.active.append(["导入红色企业乙", "加油站", "重大", round(pt.x, 6), round(pt.y, 6)])
    path = tmp_path / "乙.xlsx"
    wb.save(path)
    with Project.open(demo_copy) as p:
        commit_import(p, plan_import(p, path, "enterprises"))
    with Project.open(demo_copy) as p:
        after = p.read_table("zones", where="kind = 'town'").set_index("id")
        assert zoned_units(p).keys() == before_units.keys()
        assert {u: c.rule for u, c in zoned_units(p).items()} == {u: c.rule for u, c in before_units.items()}
    assert int(after.loc[tid, "level"]) == 1
    others = [i for i in towns.index if i != tid]
    assert np.array_equal(after.loc[others, "level"].to_numpy(), towns.loc[others, "level"].to_numpy())
