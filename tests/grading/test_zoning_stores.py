"""Zoning and the hidden-danger recolouring on both stores: the GeoPackage file and PostgreSQL + PostGIS."""

import shapely
from sqlalchemy import select

from riskmap.dangers import register
from riskmap.grading.zoning import enterprises_changed, relocate_enterprise, zone_project, zone_table
from riskmap.model import Enterprise, Zone


def zone_levels(project, kind):
    z = project.read_table("zones", where=f"kind = '{kind}'", columns=["id", "level", "level_reason"])
    return {int(i): (int(lv), r) for i, lv, r in zip(z["id"], z["level"], z["level_reason"])}


def test_zone_and_recolour_on_each_store(any_store):
    project = any_store
    res = zone_project(project, "town", "max")
    zone_project(project, "grid", "weighted")
    assert res.summary()["none"] == 0
    stored = zone_levels(project, "town")
    assert {z.id: (z.level, z.reason) for z in res.zones} == stored
    table = {r["id"]: r for r in zone_table(project, "town")}
    some = next(z for z in res.zones if z.level == 1)
    assert table[some.id]["decisions"] and all(d["level"] == 1 for d in table[some.id]["decisions"])

    # pick a blue enterprise inside a blue town, give it a 重大隐患: only its town and grid change
    towns = project.read_table("zones", where="kind = 'town'", columns=["id", "level"])
    ents = project.read_table("enterprises", columns=["id", "level"])
    blue_towns = towns[towns["level"] == 4]
    pick = None
    for tid, poly in zip(blue_towns["id"], blue_towns.geometry):
        inside = ents[shapely.covers(poly, ents.geometry.values) & (ents["level"] == 4).to_numpy()]
        if len(inside):
            pick, town_id = int(inside["id"].iloc[0]), int(tid)
            break
    assert pick is not None
    before_towns, before_grids = zone_levels(project, "town"), zone_levels(project, "grid")
    with project.session() as s:
        register(s, title="重大事故隐患：测试", grade="major", enterprise_id=pick, by="检查员")
        assert s.get(Enterprise, pick).level == 1
    after_towns, after_grids = zone_levels(project, "town"), zone_levels(project, "grid")
    assert {k for k in after_towns if after_towns[k] != before_towns[k]} == {town_id}
    assert after_towns[town_id][0] == 1
    changed_grids = {k for k in after_grids if after_grids[k] != before_grids[k]}
    assert len(changed_grids) == 1  # its one grid (weighted: raised by the red-count rule at least)
    assert after_grids[changed_grids.pop()][0] <= 2

    # a move recomputes the old and the new town
    with project.session() as s:
        e = s.get(Enterprise, pick)
        other = s.scalars(select(Zone).where(Zone.kind == "town", Zone.id != town_id)).first()
        target = other.geom.representative_point()
        done = relocate_enterprise(s, e, shapely.Point(target.x, target.y))
        assert sorted(done["town"]) == sorted([town_id, other.id])
    with project.session() as s:
        assert enterprises_changed(s, []) == {}
