"""City zoning and statistics from the kept enterprise ↔ zone pairs (riskmap.grading.zoning.located_pairs):
the same levels, reasons, decisions and counts as the straightforward computation, before and after edits, on
both stores; a unit's zones and decisions written only where they differ end up as a full rewrite leaves them."""

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from riskmap.grading.zoning import relocate_enterprise, zone_project, zone_table
from riskmap.model import Enterprise
from riskmap.stats import city_stats, project_stats
from riskmap.store import zoning as zstore


def by_name(df) -> dict:
    return {r["name"]: {k: int(r[k]) for k in ("1", "2", "3", "4", "none", "total") if int(r[k])}
            for _, r in df.iterrows()}


def kept(project, kind) -> zstore.Pairs | None:
    with project.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1 FROM zones LIMIT 1").fetchall()
        return zstore.cached_pairs(conn, (kind,), zstore.store_stamp(conn, (kind,)))


# the small project's towns (tests/conftest.py build_small_project), counted by hand: the A|B enterprise is in
# A (the first town by id) for the statistics and in both for zoning; F|G likewise in F / in both
HAND_TOWNS = {"测试A镇": {"2": 1, "3": 2, "4": 4, "total": 7}, "测试B镇": {"1": 1, "4": 2, "total": 3},
              "测试C镇": {"none": 1, "total": 1}, "测试D镇": {"1": 3, "4": 1, "total": 4},
              "测试E镇": {"4": 7, "total": 7}, "测试F镇": {"2": 1, "total": 1}, "测试G镇": {"4": 1, "total": 1}}
HAND_LEVELS = {"测试A镇": 2, "测试B镇": 1, "测试C镇": 4, "测试D镇": 1, "测试E镇": 4, "测试F镇": 2, "测试G镇": 2}


def test_kept_pairs_give_the_hand_counts_and_follow_a_move(small_project):
    p, ids = small_project
    zstore.forget_pairs()
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS  # computed, then kept
    assert kept(p, "town") is not None
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS  # from the kept pairs
    first = zone_project(p, "town", "max")
    assert {z.name: z.level for z in first.zones} == HAND_LEVELS
    table = zone_table(p, "town")
    again = zone_project(p, "town", "max")  # kept pairs (restamped after the first run's commit)
    assert [(z.id, z.level, z.reason, z.counts, z.deciders) for z in again.zones] == \
           [(z.id, z.level, z.reason, z.counts, z.deciders) for z in first.zones]
    assert zone_table(p, "town") == table
    # B1 (重大) moves into C: the file changed, nothing kept may be used
    with p.session() as s:
        ent = s.get(Enterprise, ids["ents"]["B1"])
        relocate_enterprise(s, ent, shapely.Point(105.024, 35.504))
    moved = dict(HAND_TOWNS, 测试B镇={"4": 2, "total": 2}, 测试C镇={"1": 1, "none": 1, "total": 2})
    assert by_name(city_stats(p, by="town")) == moved
    after = zone_project(p, "town", "max")
    assert {z.name: z.level for z in after.zones} == dict(HAND_LEVELS, 测试B镇=2, 测试C镇=1)
    c = next(z for z in after.zones if z.name == "测试C镇")
    assert c.counts == [1, 0, 0, 0, 1] and c.deciders[0]["name"] == "测试企业B1"


def brute_first(project, kind) -> dict:
    """Zone id → [levels 1–4, none] counts, each located enterprise in the first zone (by id) whose polygon
    holds its point, tested point by point with shapely."""
    zones = project.read_table("zones", where=f"kind = '{kind}'", columns=["id"]).sort_values("id")
    ents = project.read_table("enterprises", columns=["id", "level"])
    out = {}
    tree = shapely.STRtree(zones.geometry.values)
    for geom, lv in zip(ents.geometry.values, ents["level"].tolist()):
        if geom is None or geom.is_empty:
            continue
        hits = sorted(int(zones["id"].iloc[j]) for j in tree.query(geom, predicate="intersects"))
        if hits:
            col = int(lv) - 1 if lv == lv and lv is not None and 1 <= int(lv) <= 4 else 4
            out.setdefault(hits[0], [0] * 5)[col] += 1
    return out


def table_counts(df) -> dict:
    return {int(r["id"]): [int(r[k]) for k in ("1", "2", "3", "4", "none")] for _, r in df.iterrows()
            if int(r["id"]) >= 0 and int(r["total"])}


def wipe_levels(project, kind):
    with project.session(history=False) as s:
        s.execute(text(f"DELETE FROM zone_decisions WHERE zone_id IN (SELECT id FROM zones WHERE kind = '{kind}')"))
        s.execute(text(f"UPDATE zones SET level = NULL, level_rule = NULL, level_reason = NULL WHERE kind = '{kind}'"))


def test_fast_paths_equal_the_straightforward_computation_on_both_stores(any_store):
    p = any_store
    zstore.forget_pairs()
    grid = brute_first(p, "grid")
    assert sum(sum(v) for v in grid.values()) > 100  # the demo's grid holds its enterprises
    for _ in range(2):  # computed, then from the kept pairs
        assert table_counts(city_stats(p, by="grid")) == grid
    # by town, against the dashboard's statistics (their own point-in-polygon, unlocated by record)
    by_town = project_stats(p)["by_town"]
    for _ in range(2):
        df = city_stats(p, by="town")
        got = {r["name"]: int(r["total"]) for _, r in df.iterrows()}
        assert got == {t: v["total"] for t, v in by_town.items()}
    first = zone_project(p, "grid", "max")
    table = zone_table(p, "grid")
    second = zone_project(p, "grid", "max")
    assert [(z.level, z.reason, z.deciders) for z in second.zones] == [(z.level, z.reason, z.deciders)
                                                                       for z in first.zones]
    assert zone_table(p, "grid") == table
    # an enterprise moves from its cell into another: levels, reasons and decisions written where they differ
    # end up as a full rewrite of every zone and decision leaves them
    ents = p.read_table("enterprises", columns=["id", "level"])
    src = next(i for i, g, lv in zip(ents["id"], ents.geometry.values, ents["level"])
               if g is not None and not g.is_empty and lv == 1)
    cells = p.read_table("zones", where="kind = 'grid'", columns=["id"])
    far = cells.geometry.values[-1].representative_point()
    with p.session() as s:
        relocate_enterprise(s, s.get(Enterprise, int(src)), far)
    zone_project(p, "grid", "max")
    diffed = zone_table(p, "grid")
    assert diffed != table
    assert table_counts(city_stats(p, by="grid")) == brute_first(p, "grid")
    wipe_levels(p, "grid")
    zstore.forget_pairs()
    zone_project(p, "grid", "max")
    assert zone_table(p, "grid") == diffed


@pytest.mark.parametrize("rule", ["max", "weighted"])
def test_only_changed_zones_are_written(small_project, rule):
    p, ids = small_project
    zone_project(p, "grid", rule)
    assert kept(p, "grid") is not None  # stamped again after zoning's own commit
    with p.session(history=False) as s:  # E40 (低) becomes 重大 behind zoning's back (no recolouring hook)
        s.execute(text("UPDATE enterprises SET level = 1, version = version + 1 WHERE id = :i"),
                  {"i": ids["ents"]["E40"]})
        s.execute(text("UPDATE zones SET level_updated_at = '2001-01-01 00:00:00.000000' WHERE kind = 'grid'"))
    with p.engine.connect() as conn:
        before = dict(conn.execute(text("SELECT id, level_updated_at FROM zones WHERE kind = 'grid'")).all())
    zone_project(p, "grid", rule)
    with p.engine.connect() as conn:
        after = dict(conn.execute(text("SELECT id, level_updated_at FROM zones WHERE kind = 'grid'")).all())
        n_dec = conn.execute(text("SELECT count(*) FROM zone_decisions WHERE zone_id = :z"),
                             {"z": ids["zones"]["E西"]}).scalar()
    assert {z for z in after if after[z] != before[z]} == {ids["zones"]["E西"]}  # E40 is in E's west cell
    # 就高: E40 alone; weighted: E40–E44 by their weights and E40 again by red_at_least_orange (zoning.toml)
    assert n_dec == (1 if rule == "max" else 6)
    table = zone_table(p, "grid")
    wipe_levels(p, "grid")
    zone_project(p, "grid", rule)
    assert zone_table(p, "grid") == table


def test_an_unlocated_enterprise_counts_by_its_town_with_kept_pairs(small_project):
    p, ids = small_project
    zstore.forget_pairs()
    zone_project(p, "town", "max")
    with p.session(history=False) as s:  # B1 (重大) loses its point; its record names town C
        s.execute(text("UPDATE enterprises SET geom = NULL, zone_id = NULL, town = '测试C镇', version = version + 1 "
                       "WHERE id = :i"), {"i": ids["ents"]["B1"]})
    moved = dict(HAND_TOWNS, 测试B镇={"4": 2, "total": 2}, 测试C镇={"1": 1, "none": 1, "total": 2})
    runs = [zone_project(p, "town", "max") for _ in range(2)]  # computed, then from the kept pairs
    assert kept(p, "town") is not None
    for r in runs:
        assert {z.name: z.level for z in r.zones} == dict(HAND_LEVELS, 测试B镇=2, 测试C镇=1)
        assert r.unlocated_counted == 1
    assert [(z.reason, z.deciders) for z in runs[0].zones] == [(z.reason, z.deciders) for z in runs[1].zones]
    for _ in range(2):
        assert by_name(city_stats(p, by="town")) == moved
    grid = [zone_project(p, "grid", "max") for _ in range(2)]
    assert grid[0].unlocated_skipped == grid[1].unlocated_skipped == 1
    assert [(z.level, z.reason) for z in grid[0].zones] == [(z.level, z.reason) for z in grid[1].zones]
