"""Zoning rules on hand-built towns and grids (tests/conftest.py ``build_small_project``), worked by hand.

Enterprise levels per town (weights 10/5/2/1 for levels 1–4, zone bands 60/25/8, km² bands 8/3/0.5):
A: 2 (A|B border), 3, 3, 4, 4, 4, 4    B: 2 (border), 1, 4, 4    C: ungraded    D: 1, 1, 1, 4
E: 4 × 7    F: 2 (F|G border)    G: 2 (border), 4
"""

import numpy as np
import pyproj
import pytest
import shapely
from sqlalchemy import select

from riskmap.errors import RiskmapError
from riskmap.grading import zoning_rules
from riskmap.grading.zoning import assign, enterprises_changed, relocate_enterprise, zone_project, zone_table
from riskmap.model import Enterprise, ZoneDecision
from riskmap.paths import STANDARDS_DIR


def levels(result):
    return {z.name: z.level for z in result.zones}


def stored_zones(project):
    z = project.read_table("zones", columns=["id", "name", "kind", "level", "level_rule", "level_reason",
                                             "level_updated_at"])
    def plain(v):
        return None if v is None or v != v else v
    return {int(r.id): tuple(plain(v) for v in (r.level, r.level_rule, r.level_reason, r.level_updated_at))
            for r in z.itertuples()}


def test_max_rule_by_hand(small_project):
    project, ids = small_project
    r = zone_project(project, "town", "max")
    assert levels(r) == {"测试A镇": 2, "测试B镇": 1, "测试C镇": 4, "测试D镇": 1, "测试E镇": 4, "测试F镇": 2, "测试G镇": 2}
    by = {z.name: z for z in r.zones}
    # counts by level 1..4 and ungraded; the border enterprise counts in A and in B (and in F and in G)
    assert by["测试A镇"].counts == [0, 1, 2, 4, 0]
    assert by["测试B镇"].counts == [1, 1, 0, 2, 0]
    assert by["测试C镇"].counts == [0, 0, 0, 0, 1]
    assert by["测试G镇"].counts == [0, 1, 0, 1, 0]
    assert "就高" in by["测试A镇"].reason and "测试企业A|B" in by["测试A镇"].reason
    assert "无已定级企业" in by["测试C镇"].reason
    assert r.summary() == {"1": 2, "2": 3, "3": 0, "4": 2, "none": 0}


def test_max_rule_stores_level_reason_and_decisions(small_project):
    project, ids = small_project
    zone_project(project, "town", "max")
    rows = {z["name"]: z for z in zone_table(project, "town")}
    a = rows["测试A镇"]
    assert (a["level"], a["level_name"], a["rule"]) == (2, "较大风险", "max")
    # only the enterprise of the highest level decided A; D was decided by its three reds
    assert [(d["object_id"], d["level"], d["rule"]) for d in a["decisions"]] == [(ids["ents"]["A|B"], 2, "max")]
    assert sorted(d["object_id"] for d in rows["测试D镇"]["decisions"]) == sorted(
        ids["ents"][k] for k in ("D1a", "D1b", "D1c"))
    assert rows["测试C镇"]["decisions"] == []
    # the settings of the run are kept for incremental updates
    assert '"rule": "max"' in project.meta()["zoning.town"]


def test_weighted_per_zone_with_count_rules(small_project):
    project, ids = small_project
    r = zone_project(project, "town", "weighted", per="zone")
    by = {z.name: z for z in r.zones}
    # A: 5·1 + 2·2 + 1·4 = 13 ≥ 8 → 一般 (3)
    assert by["测试A镇"].score == 13 and by["测试A镇"].level == 3
    # B: 10 + 5 + 1·2 = 17 → 3, but one red → at least 较大 (2)
    assert by["测试B镇"].score == 17 and by["测试B镇"].level == 2
    assert "计数规则" in by["测试B镇"].reason and "至少定为较大风险" in by["测试B镇"].reason
    # D: 10·3 + 1 = 31 ≥ 25 → 2, three reds → 重大 (1)
    assert by["测试D镇"].score == 31 and by["测试D镇"].level == 1
    # E: 1·7 = 7 < 8 → 4; F: 5 → 4; G: 5 + 1 = 6 → 4; C: nothing graded → empty_level 4
    assert (by["测试E镇"].score, by["测试E镇"].level) == (7, 4)
    assert (by["测试F镇"].score, by["测试F镇"].level) == (5, 4)
    assert (by["测试G镇"].score, by["测试G镇"].level) == (6, 4)
    assert by["测试C镇"].level == 4 and by["测试C镇"].score == 0
    rows = {z["name"]: z for z in zone_table(project, "town")}
    rules = sorted((d["rule"], d["object_id"]) for d in rows["测试B镇"]["decisions"])
    e = ids["ents"]
    assert rules == sorted([("count:red_at_least_orange", e["B1"])] + [
        ("weighted", e[k]) for k in ("A|B", "B1", "B4a", "B4b")])


def test_weighted_threshold_is_inclusive(small_project, tmp_path):
    project, _ = small_project
    text = (STANDARDS_DIR / "zoning.toml").read_text(encoding="utf-8")
    old = "[rule.weighted.bands.zone]\n1 = 60.0\n2 = 25.0\n3 = 8.0"
    assert old in text
    path = tmp_path / "zoning.toml"
    path.write_text(text.replace(old, "[rule.weighted.bands.zone]\n1 = 60.0\n2 = 25.0\n3 = 7.0"), encoding="utf-8")
    r = zone_project(project, "town", "weighted", per="zone", standard=path)
    by = {z.name: z for z in r.zones}
    assert by["测试E镇"].level == 3  # score 7 equals the threshold 7 → 一般
    assert by["测试G镇"].level == 4  # score 6 below it
    assert "≥ 7" in by["测试E镇"].reason


def test_weighted_per_km2_uses_geodesic_area(small_project):
    project, _ = small_project
    r = zone_project(project, "town", "weighted", per="km2")
    by = {z.name: z for z in r.zones}
    geod = pyproj.Geod(ellps="GRS80")  # CGCS2000's ellipsoid agrees with GRS80 to 0.1 mm
    area_a = abs(geod.geometry_area_perimeter(shapely.box(105.0, 35.5, 105.01, 35.51))[0]) / 1e6
    area_d = abs(geod.geometry_area_perimeter(shapely.box(105.03, 35.5, 105.05, 35.51))[0]) / 1e6
    assert area_a == pytest.approx(1.0074, abs=1e-3)
    # A: 13 / 1.0074 = 12.9 ≥ 8 → 1;  E: 7 / 1.0074 = 6.95 in [3, 8) → 2;  D: 31 / 2.015 = 15.4 → 1
    assert by["测试A镇"].score == pytest.approx(13 / area_a, rel=1e-3) and by["测试A镇"].level == 1
    assert by["测试E镇"].score == pytest.approx(7 / area_a, rel=1e-3) and by["测试E镇"].level == 2
    assert by["测试D镇"].score == pytest.approx(31 / area_d, rel=1e-3) and by["测试D镇"].level == 1
    assert "km²" in by["测试E镇"].reason


def test_weighted_per_population_and_missing_population(small_project):
    project, _ = small_project
    r = zone_project(project, "town", "weighted", per="10k_people")  # every town has 10 000 people
    by = {z.name: z for z in r.zones}
    # D: 31 per 1 (ten thousand) ≥ 30 → 1; A: 13 ≥ 10 → 2; E: 7 ≥ 3 → 3; F: 5 → 3
    assert [by[f"测试{k}镇"].level for k in "ADEF"] == [2, 1, 3, 3]
    with pytest.raises(RiskmapError) as exc:  # grids have no population
        zone_project(project, "grid", "weighted", per="10k_people")
    assert exc.value.where == "zones.population" and "测试A西网格" in exc.value.zh


def test_grid_unit(small_project):
    project, _ = small_project
    r = zone_project(project, "grid", "max")
    lv = levels(r)
    # A西 (x < 105.005) holds 3, 3, 4 → 3; A东 holds 4, 4, 4 and the A|B border point (x = 105.01, on the border
    # of A东 and B西) → 2; B西 holds that point and B1 → 1; B东 holds 4, 4 → 4
    assert lv["测试A西网格"] == 3 and lv["测试A东网格"] == 2 and lv["测试B西网格"] == 1
    assert lv["测试B东网格"] == 4 and lv["测试D东网格"] == 1


def test_bad_unit_and_rule(small_project):
    project, _ = small_project
    with pytest.raises(RiskmapError) as exc:
        zone_project(project, "province", "max")
    assert exc.value.where == "unit"
    with pytest.raises(RiskmapError) as exc:
        zone_project(project, "town", "mean")
    assert exc.value.where == "rule"
    with pytest.raises(RiskmapError) as exc:
        zone_project(project, "park", "max")  # the small project has no park
    assert "park" in exc.value.en


@pytest.mark.parametrize("half", ["_write_decisions", "_write_levels"])
def test_failed_write_leaves_project_unchanged(small_project, monkeypatch, half):
    """A write that fails after its half was done (the decisions, written on a thread of their own while the
    reasons are made, or the levels and settings after them): the error reaches the caller, nothing is kept."""
    project, _ = small_project
    zone_project(project, "town", "max")
    before = stored_zones(project)
    n_dec = len(project.read_table("zone_decisions"))
    from riskmap.grading import zoning

    def boom(*a, **k):
        raise RuntimeError("disk full")
    original = getattr(zoning, half)

    def half_then_fail(conn, *a, **k):
        original(conn, *a, **k)
        boom()
    monkeypatch.setattr(zoning, half, half_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        zone_project(project, "town", "weighted", per="zone")
    assert stored_zones(project) == before
    assert len(project.read_table("zone_decisions")) == n_dec
    assert '"rule": "max"' in project.meta()["zoning.town"]


# ---------------------------------------------------------------- incremental

def test_level_change_recolours_only_containing_zones(small_project):
    project, ids = small_project
    zone_project(project, "town", "max")
    zone_project(project, "grid", "max")
    before = stored_zones(project)
    z, e = ids["zones"], ids["ents"]
    with project.session() as s:
        ent = s.get(Enterprise, e["E43"])  # at (105.0535, 35.504): town E, grid E西 (x < 105.055)
        ent.level = 1
        done = enterprises_changed(s, [ent.id])
    assert done == {"town": [z["E"]], "grid": [z["E西"]]}
    after = stored_zones(project)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {z["E"], z["E西"]}
    assert after[z["E"]][0] == 1 and after[z["E西"]][0] == 1
    assert "测试企业E43" in after[z["E"]][2]
    # the result equals a recomputation from scratch
    assert levels(zone_project(project, "town", "max"))["测试E镇"] == 1


def test_relocation_recolours_old_and_new_zones(small_project):
    project, ids = small_project
    zone_project(project, "town", "max")
    before = stored_zones(project)
    z, e = ids["zones"], ids["ents"]
    with project.session() as s:
        ent = s.get(Enterprise, e["B1"])  # the red of B moves to C
        done = relocate_enterprise(s, ent, shapely.Point(105.027, 35.503))
    assert sorted(done["town"]) == sorted([z["B"], z["C"]])
    after = stored_zones(project)
    assert {k for k in after if after[k] != before[k]} == {z["B"], z["C"]}
    assert after[z["B"]][0] == 2 and after[z["C"]][0] == 1  # B falls back to its border orange
    with project.session() as s:
        dec = s.scalars(select(ZoneDecision).where(ZoneDecision.zone_id == z["C"])).all()
        assert [(d.object_id, d.object_level) for d in dec] == [(e["B1"], 1)]


def test_incremental_uses_the_stored_rule(small_project):
    project, ids = small_project
    zone_project(project, "town", "weighted", per="zone")
    z, e = ids["zones"], ids["ents"]
    with project.session() as s:
        s.get(Enterprise, e["E40"]).level = 3  # E: 2 + 6 = 8 ≥ 8 → 一般
        enterprises_changed(s, [e["E40"]])
    row = stored_zones(project)[z["E"]]
    assert row[0] == 3 and row[1] == "weighted" and "每区域" in row[2]


def test_nothing_zoned_nothing_recoloured(small_project):
    project, ids = small_project
    with project.session() as s:
        assert enterprises_changed(s, [ids["ents"]["E40"]]) == {}


# ---------------------------------------------------------------- pure functions

def test_assign_counts_border_points_in_both():
    polys = shapely.box(np.array([0, 1]), 0, np.array([1, 2]), 1)
    pts = shapely.points([[0.5, 0.5], [1.0, 0.5], [5, 5]])
    pt, pg = assign(pts, polys)
    assert sorted(zip(pt.tolist(), pg.tolist())) == [(0, 0), (1, 0), (1, 1)]


def test_counts_and_evaluate_by_hand():
    counts = zoning_rules.counts_by_level(np.array([0, 0, 0, 1, 1]), np.array([3, 1, 0, 4, 4]), 3)
    assert counts.tolist() == [[1, 0, 1, 0, 1], [0, 0, 0, 2, 0], [0, 0, 0, 0, 0]]
    out = zoning_rules.evaluate(counts, zoning_rules.settings("max"))
    assert out.level.tolist() == [1, 4, 4]


def test_zoning_standard_errors(tmp_path):
    text = (STANDARDS_DIR / "zoning.toml").read_text(encoding="utf-8")
    bad = tmp_path / "zoning.toml"
    bad.write_text(text.replace('count_rules = ["red_at_least_orange", "three_red_red"]',
                                'count_rules = ["no_such_rule"]'), encoding="utf-8")
    with pytest.raises(RiskmapError) as exc:
        zoning_rules.settings("weighted", standard=bad)
    assert "rule.weighted.count_rules" in exc.value.where
    bad.write_text(text.replace("[rule.weighted.bands.km2]\n1 = 8.0", "[rule.weighted.bands.km2]\n1 = 0.1"),
                   encoding="utf-8")
    with pytest.raises(RiskmapError) as exc:
        zoning_rules.settings("weighted", standard=bad)
    assert "bands.km2" in exc.value.where


def test_demo_has_every_zone_levelled(demo_project):
    for unit in ("town", "village", "grid", "park"):
        rows = zone_table(demo_project, unit)
        assert rows and all(r["level"] in (1, 2, 3, 4) and r["reason"] for r in rows), unit
    towns = {r["level"] for r in zone_table(demo_project, "town")}
    assert towns == {1, 2, 3, 4}  # a four-colour town map


# ---------------------------------------------------------------- the one hook: enterprises_changed

def test_hook_skips_an_enterprise_whose_level_and_place_did_not_change(small_project):
    project, ids = small_project
    zone_project(project, "town", "max")
    z, e = ids["zones"], ids["ents"]
    project.execute("UPDATE zones SET level = 3 WHERE id = :i", i=z["E"])  # a marker: recomputing would undo it
    with project.session() as s:
        assert enterprises_changed(s, [e["E43"]], old_levels={e["E43"]: 4}) == {}
    assert stored_zones(project)[z["E"]][0] == 3
    with project.session() as s:  # a level that did change (4 → 1) recomputes town E
        s.get(Enterprise, e["E43"]).level = 1
        assert enterprises_changed(s, [e["E43"]], old_levels={e["E43"]: 4}) == {"town": [z["E"]]}
    assert stored_zones(project)[z["E"]][0] == 1


def test_hook_recolours_the_old_place_of_a_deleted_enterprise(small_project):
    project, ids = small_project
    z = ids["zones"]
    with project.session() as s:  # a red in town C, whose only other enterprise is ungraded
        red = Enterprise(name="临时红色企业", industry="gas_station", level=1, geom=shapely.Point(105.022, 35.505))
        s.add(red)
        s.flush()
        red_id = red.id
    zone_project(project, "town", "max")
    assert stored_zones(project)[z["C"]][0] == 1
    with project.session() as s:
        ent = s.get(Enterprise, red_id)
        old = ent.geom
        s.delete(ent)
        done = enterprises_changed(s, [red_id], {red_id: old})
    assert done == {"town": [z["C"]]}
    assert stored_zones(project)[z["C"]][0] == 4  # nothing graded inside: 低风险


def test_hook_many_changes_level_every_unit_again(small_project, monkeypatch):
    from riskmap.grading import zoning

    project, ids = small_project
    zone_project(project, "town", "max")
    zone_project(project, "grid", "max")
    z, e = ids["zones"], ids["ents"]
    monkeypatch.setattr(zoning, "RELEVEL_ABOVE", 1)
    with project.session() as s:
        s.get(Enterprise, e["E40"]).level = 2
        s.get(Enterprise, e["G4"]).level = 1
        done = enterprises_changed(s, [e["E40"], e["G4"]])
    towns = sorted(v for k, v in z.items() if len(k) == 1)
    assert sorted(done["town"]) == towns and len(done["grid"]) == 2 * len(towns)
    after = stored_zones(project)
    assert (after[z["E"]][0], after[z["G"]][0], after[z["G东"]][0], after[z["A"]][0]) == (2, 1, 1, 2)


def test_hook_in_small_box_queries_equals_levelling_from_scratch(small_project, monkeypatch):
    """Changes spread over every town, read one bounding box per query: the same levels, reasons and
    decisions as levelling the unit again from scratch."""
    from riskmap.store import zoning as zstore

    project, ids = small_project
    zone_project(project, "grid", "max")
    e = ids["ents"]
    monkeypatch.setattr(zstore, "BOXES_PER_QUERY", 1)
    changed = {"A4a": 1, "B4b": 2, "D1c": 3, "E45": 2, "G4": 3}
    with project.session() as s:
        for k, lv in changed.items():
            s.get(Enterprise, e[k]).level = lv
        enterprises_changed(s, [e[k] for k in changed])
    incremental = {k: v[:3] for k, v in stored_zones(project).items()}
    decisions = sorted(map(tuple, project.read_table("zone_decisions", columns=["zone_id", "object_id", "rule"])
                           [["zone_id", "object_id", "rule"]].to_numpy().tolist()))
    zone_project(project, "grid", "max")
    assert {k: v[:3] for k, v in stored_zones(project).items()} == incremental
    assert sorted(map(tuple, project.read_table("zone_decisions", columns=["zone_id", "object_id", "rule"])
                      [["zone_id", "object_id", "rule"]].to_numpy().tolist())) == decisions
