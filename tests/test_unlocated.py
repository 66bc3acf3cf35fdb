"""未定位 (enterprise without a point) and 未评估 (enterprise without a level): statistics, town and grid zoning,
the 未定位 table, placing one enterprise (set_location) and a coordinates file (locate_from_file).

A hand-built county of three towns side by side, 0.1° wide each (甲镇, 乙镇, 丙镇), a grid of three cells equal to
the towns, and six enterprises whose numbers below are counted by hand:

    e1  甲镇  located   低 (4)
    e2  乙镇  located   一般 (3)
    e3  乙镇  未定位     重大 (1)   zone_id = 乙镇
    e4  甲镇  located   未评估
    e5  "甲"  未定位     较大 (2)   no zone_id, town text only (甲 = 甲镇)
    e6  丙镇  located   未评估
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pyproj
import pytest
import shapely
from sqlalchemy import select

from riskmap.errors import RiskmapError
from riskmap.grading import zoning_rules
from riskmap.grading.zoning import enterprises_changed, zone_project, zone_table
from riskmap.model import EditRecord, Enterprise, Zone
from riskmap.store import Project

METRIC = 4543  # CGCS2000 3-degree Gauss–Krüger CM 105E (no zone prefix)
PREFIXED = 4523  # the same zone with the zone number 35 before the easting


def town_box(i: int):
    return shapely.box(105.0 + 0.1 * i, 35.0, 105.1 + 0.1 * i, 35.1)


def _build(project):
    with project.session(history=False) as s:
        county = Zone(name="测试县", kind="county", geom=shapely.MultiPolygon([shapely.box(105.0, 35.0, 105.3, 35.1)]))
        s.add(county)
        s.flush()
        towns = [Zone(name=n, kind="town", parent_id=county.id, geom=shapely.MultiPolygon([town_box(i)]))
                 for i, n in enumerate(("甲镇", "乙镇", "丙镇"))]
        grids = [Zone(name=f"网格{i + 1}", kind="grid", geom=shapely.MultiPolygon([town_box(i)])) for i in range(3)]
        s.add_all(towns + grids)
        s.flush()
        a, b, c = (t.id for t in towns)

        def ent(n, level, *, at=None, zone_id=None, town=None, code=None):
            return Enterprise(name=f"测试企业{n}", industry="gas_station", level=level, zone_id=zone_id, town=town,
                              credit_code=code, geom=None if at is None else shapely.Point(*at))

        s.add_all([ent(1, 4, at=(105.05, 35.05), zone_id=a, town="甲镇"),
                   ent(2, 3, at=(105.15, 35.05), zone_id=b, town="乙镇"),
                   ent(3, 1, zone_id=b, town="乙镇", code="91620422MA7XYZ0003"),
                   ent(4, None, at=(105.02, 35.02), zone_id=a, town="甲镇"),
                   ent(5, 2, town="甲"),
                   ent(6, None, at=(105.25, 35.05), zone_id=c, town="丙镇")])


@pytest.fixture(scope="module")
def county_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("unlocated") / "county.gpkg"
    Project.create(path, name="测试县安全风险一张图", place="", metric_epsg=METRIC, build=_build).close()
    return path


@pytest.fixture
def county(county_path, tmp_path):
    path = tmp_path / "county.gpkg"
    shutil.copy(county_path, path)
    with Project.open(path) as project:
        yield project


def ids_by_name(project) -> dict[str, int]:
    df = project.read_table("enterprises", columns=["id", "name"])
    return {n: int(i) for i, n in zip(df["id"], df["name"])}


def zone_levels(project, kind: str) -> dict[str, int | None]:
    df = project.read_table("zones", where=f"kind = '{kind}'", columns=["id", "name", "level"])
    return {n: (None if lv is None or lv != lv else int(lv)) for n, lv in zip(df["name"], df["level"])}


# ---------------------------------------------------------------- statistics

def test_stats_count_unlocated_by_town_and_unassessed_on_their_own(county):
    from riskmap.stats import project_stats

    st = project_stats(county)
    assert st["enterprises"] == 6
    assert st["unlocated"] == 2 and st["unassessed"] == 2
    assert st["by_level"] == {"1": 1, "2": 1, "3": 1, "4": 1, "none": 2}
    assert sum(st["by_level"].values()) == st["enterprises"]
    assert st["by_town"]["甲镇"] == {"1": 0, "2": 1, "3": 0, "4": 1, "none": 1, "total": 3}  # e1, e4, e5 (by text)
    assert st["by_town"]["乙镇"] == {"1": 1, "2": 0, "3": 1, "4": 0, "none": 0, "total": 2}  # e2, e3 (by zone_id)
    assert st["by_town"]["丙镇"] == {"1": 0, "2": 0, "3": 0, "4": 0, "none": 1, "total": 1}  # 未评估 is not 低
    assert "甲" not in st["by_town"]


def test_unlocated_table(county):
    from riskmap.stats import unlocated

    df = unlocated(county)
    ids = ids_by_name(county)
    assert list(df.columns) == ["id", "name", "credit_code", "town", "address", "industry", "level"]
    assert df["id"].tolist() == sorted([ids["测试企业3"], ids["测试企业5"]])
    by_name = {r["name"]: r for r in df.to_dict("records")}
    assert by_name["测试企业3"]["town"] == "乙镇" and by_name["测试企业3"]["level"] == 1
    assert by_name["测试企业3"]["credit_code"] == "91620422MA7XYZ0003"
    assert by_name["测试企业5"]["town"] == "甲镇" and by_name["测试企业5"]["level"] == 2  # 甲 → 甲镇


def test_cli_stats_json_and_text(county_path, capsys):
    import json

    from riskmap.cli import main

    assert main(["stats", str(county_path), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["unlocated"], st["unassessed"], st["enterprises"]) == (2, 2, 6)
    assert main(["stats", str(county_path)]) == 0
    out = capsys.readouterr().out
    assert "未定位 unlocated 2" in out and "未评估 unassessed 2" in out


# ---------------------------------------------------------------- zoning

def test_town_zoning_counts_unlocated_in_their_town(county):
    r = zone_project(county, "town", "max")
    got = {z.name: z for z in r.zones}
    # 甲镇: e1 低, e4 未评估, e5 较大 (unlocated, by its town text) → 较大
    # 乙镇: e2 一般, e3 重大 (unlocated, zone_id) → 重大
    # 丙镇: only e6 未评估 → no graded enterprise → empty_level of zoning.toml (低), not because of e6
    empty = zoning_rules.settings("max").empty_level
    assert (got["甲镇"].level, got["乙镇"].level, got["丙镇"].level) == (2, 1, empty)
    assert got["乙镇"].counts == [1, 0, 1, 0, 0] and got["甲镇"].counts == [0, 1, 0, 1, 1]
    assert got["丙镇"].counts == [0, 0, 0, 0, 1] and "无已定级企业" in got["丙镇"].reason
    assert (r.unlocated_counted, r.unlocated_skipped) == (2, 0)
    ids = ids_by_name(county)
    assert [d["id"] for d in got["乙镇"].deciders] == [ids["测试企业3"]]
    assert zone_levels(county, "town") == {"甲镇": 2, "乙镇": 1, "丙镇": empty}
    table = {z["name"]: z for z in zone_table(county, "town")}
    assert table["丙镇"]["decisions"] == []  # a 未评估 enterprise never decides a level


def test_all_unassessed_zone_is_ungraded_when_empty_level_is_off(county):
    cfg = dataclasses.replace(zoning_rules.settings("max"), empty_level=None)
    r = zone_project(county, "town", settings=cfg)
    assert {z.name: z.level for z in r.zones}["丙镇"] is None


def test_grid_zoning_skips_unlocated(county):
    r = zone_project(county, "grid", "max")
    got = {z.name: z for z in r.zones}
    # 网格1 = 甲镇's area: e1 低 + e4 未评估 → 低; 网格2: e2 一般 only (e3 has no point) → 一般
    assert (got["网格1"].level, got["网格2"].level) == (4, 3)
    assert sum(sum(z.counts) for z in r.zones) == 4  # e1, e2, e4, e6: the located ones
    assert (r.unlocated_counted, r.unlocated_skipped) == (0, 2)
    assert r.to_json()["unlocated_skipped"] == 2


def test_level_change_of_an_unlocated_enterprise_recolours_its_town(county):
    zone_project(county, "town", "max")
    zone_project(county, "grid", "max")
    ids = ids_by_name(county)
    with county.session() as s:
        e5 = s.get(Enterprise, ids["测试企业5"])
        e5.level = 1
        done = enterprises_changed(s, [e5.id], old_levels={e5.id: 2})
    town_ids = dict(zip(*(county.read_table("zones", where="kind = 'town'")[c].tolist() for c in ("name", "id"))))
    assert done["town"] == [town_ids["甲镇"]] and done["grid"] == []
    assert zone_levels(county, "town")["甲镇"] == 1  # e5 is now 重大, counted by its town text
    assert zone_levels(county, "grid") == {"网格1": 4, "网格2": 3, "网格3": 4}


# ---------------------------------------------------------------- set_location

def test_set_location_places_an_unlocated_enterprise_and_recolours(county):
    from riskmap.edit.locate import set_location

    zone_project(county, "town", "max")
    zone_project(county, "grid", "max")
    ids = ids_by_name(county)
    e3 = ids["测试企业3"]
    version = int(county.read_table("enterprises", where=f"id = {e3}", columns=["version"])["version"].iloc[0])
    with pytest.raises(RiskmapError, match="保存冲突"):
        set_location(county, e3, 105.15, 35.05, version=version - 1)
    with pytest.raises(RiskmapError, match="边界之外"):
        set_location(county, e3, 106.5, 35.05, version=version)
    out = set_location(county, e3, 105.15, 35.05, version=version)  # inside 乙镇, the town of its record
    assert (out.town, out.mismatch, out.version) == ("乙镇", "", version + 1)
    row = county.read_table("enterprises", where=f"id = {e3}")
    assert row.geometry.iloc[0].equals(shapely.Point(105.15, 35.05))
    # grid: 网格2 now holds e2 一般 and e3 重大 → 重大; the town keeps 重大 (e3 counted by its point now)
    assert zone_levels(county, "grid")["网格2"] == 1 and zone_levels(county, "town")["乙镇"] == 1
    with county.reader() as s:
        rec = s.scalars(select(EditRecord).where(EditRecord.table_name == "enterprises",
                                                 EditRecord.row_id == e3)).all()
    assert len(rec) == 1 and "POINT (105.15 35.05)" in str(rec[0].changes)
    from riskmap.stats import project_stats

    assert project_stats(county)["unlocated"] == 1


def test_set_location_in_another_town_keeps_the_record_and_moves_the_colour(county):
    from riskmap.edit.locate import set_location

    zone_project(county, "town", "max")
    ids = ids_by_name(county)
    out = set_location(county, ids["测试企业3"], 105.05, 35.05)  # a point in 甲镇; the record says 乙镇
    assert out.town == "乙镇" and "甲镇" in out.mismatch
    # 甲镇: e1 低, e4 未评估, e5 较大, e3 重大 (by its point) → 重大; 乙镇: e2 一般 only → 一般
    assert zone_levels(county, "town") == {"甲镇": 1, "乙镇": 3, "丙镇": 4}
    # an enterprise with no town at all takes the town of its point
    with county.session() as s:
        s.add(Enterprise(name="测试企业7", industry="gas_station", level=3))
    e7 = ids_by_name(county)["测试企业7"]
    out = set_location(county, e7, 105.25, 35.05)
    row = county.read_table("enterprises", where=f"id = {e7}", columns=["town", "zone_id"])
    town_ids = dict(zip(*(county.read_table("zones", where="kind = 'town'")[c].tolist() for c in ("name", "id"))))
    assert (out.town, row["town"].iloc[0], int(row["zone_id"].iloc[0])) == ("丙镇", "丙镇", town_ids["丙镇"])
    assert zone_levels(county, "town")["丙镇"] == 3  # e6 未评估 + e7 一般


# ---------------------------------------------------------------- locate_from_file

def test_locate_from_file_by_credit_code_and_name_with_gk_coordinates(county, tmp_path):
    from riskmap.io.locate import locate_from_file

    zone_project(county, "town", "max")
    with county.session(history=False) as s:  # two enterprises of one name in two towns: a name alone is ambiguous
        s.add_all([Enterprise(name="同名厂", industry="gas_station", level=4, town="甲镇"),
                   Enterprise(name="同名厂", industry="gas_station", level=4, town="乙镇")])
    to_gk = pyproj.Transformer.from_crs(4490, PREFIXED, always_xy=True)
    e3_xy = to_gk.transform(105.15, 35.05)  # 乙镇
    e5_xy = to_gk.transform(105.04, 35.06)  # 甲镇
    far_xy = to_gk.transform(105.15, 35.5)  # north of the county
    assert 35_000_000 < e3_xy[0] < 36_000_000  # the easting carries the zone number
    lines = ["统一社会信用代码,企业名称,X,Y",
             f"91620422MA7XYZ0003,,{e3_xy[0]:.3f},{e3_xy[1]:.3f}",
             f",测试企业5,{e5_xy[0]:.3f},{e5_xy[1]:.3f}",
             f",没有这家企业,{e5_xy[0]:.3f},{e5_xy[1]:.3f}",
             f",同名厂,{e5_xy[0]:.3f},{e5_xy[1]:.3f}",
             f",测试企业1,{far_xy[0]:.3f},{far_xy[1]:.3f}"]
    path = tmp_path / "坐标.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = county.read_table("enterprises", columns=["id"]).geometry
    dry = locate_from_file(county, path, dry_run=True)
    assert dry.counts() == {"matched": 2, "not_found": 1, "ambiguous": 1, "outside": 1, "no_coordinates": 0,
                            "duplicate": 0}
    assert county.read_table("enterprises", columns=["id"]).geometry.isna().sum() == before.isna().sum()  # nothing
    r = locate_from_file(county, path)
    ids = ids_by_name(county)
    matched = {m["id"]: m for m in r.rows["matched"]}
    assert set(matched) == {ids["测试企业3"], ids["测试企业5"]}
    assert matched[ids["测试企业3"]]["by"] == "credit_code" and matched[ids["测试企业5"]]["by"] == "name"
    assert [m["row"] for m in r.rows["not_found"]] == [4] and [m["row"] for m in r.rows["outside"]] == [6]
    assert r.rows["ambiguous"][0]["name"] == "同名厂"
    ents = county.read_table("enterprises", where=f"id IN ({ids['测试企业3']}, {ids['测试企业5']})")
    pts = dict(zip(ents["id"].tolist(), ents.geometry.values))
    assert abs(pts[ids["测试企业3"]].x - 105.15) < 1e-7 and abs(pts[ids["测试企业3"]].y - 35.05) < 1e-7
    assert abs(pts[ids["测试企业5"]].x - 105.04) < 1e-7 and abs(pts[ids["测试企业5"]].y - 35.06) < 1e-7
    from riskmap.stats import unlocated

    assert unlocated(county)["name"].tolist() == ["同名厂", "同名厂"]  # the ambiguous pair stays 未定位
    # the towns: 甲镇 e1 低 + e4 未评估 + e5 较大 + two 同名厂 低 (unlocated, 甲镇 by text) → 较大; 乙镇 e2 + e3 → 重大
    assert zone_levels(county, "town") == {"甲镇": 2, "乙镇": 1, "丙镇": 4}


def test_cli_locate_dry_run_and_json(county_path, tmp_path, capsys):
    import json

    from riskmap.cli import main

    path = tmp_path / "c.csv"
    path.write_text("企业名称,经度,纬度\n测试企业5,105°2′24″,35°3′36″\n", encoding="utf-8")  # 105.04, 35.06
    target = tmp_path / "p.gpkg"
    shutil.copy(county_path, target)
    assert main(["locate", str(target), str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "已定位 1" in out and "dry run" in out
    assert main(["locate", str(target), str(path), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["counts"]["matched"] == 1 and res["matched"][0]["lon"] == pytest.approx(105.04, abs=1e-7)
    assert main(["locate", str(target), str(tmp_path / "missing.csv")]) == 2


def test_placed_enterprises_are_zoned_by_point_afterwards(county):
    """After locating, a from-scratch run agrees with the incremental one."""
    from riskmap.edit.locate import set_location

    zone_project(county, "town", "max")
    ids = ids_by_name(county)
    set_location(county, ids["测试企业5"], 105.25, 35.05)  # 丙镇; the record says 甲 → kept, colour moves
    inc = zone_levels(county, "town")
    zone_project(county, "town", "max")
    assert zone_levels(county, "town") == inc == {"甲镇": 4, "乙镇": 1, "丙镇": 2}
    assert np.isfinite(county.read_table("enterprises", where=f"id = {ids['测试企业5']}").geometry.x).all()


def test_postgis_counts_unlocated_and_places_them(county_path, pg_server):
    """The same county pushed to PostGIS: town zoning by zone_id / town text, grid skipping, set_location."""
    from riskmap.edit.locate import set_location
    from riskmap.stats import project_stats
    from riskmap.store.sync import push

    url = pg_server.create_database("unlocated_county")
    push(county_path, url)
    with Project.open(url) as project:
        assert {z.name: z.level for z in zone_project(project, "town", "max").zones} == {"甲镇": 2, "乙镇": 1,
                                                                                       "丙镇": 4}
        assert zone_project(project, "grid", "max").unlocated_skipped == 2
        st = project_stats(project)
        assert (st["unlocated"], st["unassessed"]) == (2, 2)
        out = set_location(project, ids_by_name(project)["测试企业3"], 105.05, 35.05)  # 甲镇; record says 乙镇
        assert "甲镇" in out.mismatch
        assert zone_levels(project, "town") == {"甲镇": 1, "乙镇": 3, "丙镇": 4}
        assert zone_levels(project, "grid")["网格1"] == 1
