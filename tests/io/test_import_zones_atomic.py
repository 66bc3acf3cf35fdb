"""An import commits its enterprises and the levels of the zones they fall in together (issue 11 item 3):
a failure between the rows and the zones, or another program holding the file, leaves the project as it was;
a finished import leaves every zone at the level of the enterprises inside it.

The small project (tests/conftest.py ``build_small_project``): towns A–G, 0.01° wide (D 0.02°) from 105.00°E,
35.50–35.51°N, each split into a west and an east grid. Both units are levelled under 就高 before the import.
"""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import openpyxl
import pytest
import shapely

from riskmap.errors import RiskmapError
from riskmap.grading import zoning
from riskmap.grading.zoning import zone_project, zoned_units
from riskmap.io.importer import commit_import, plan_import
from riskmap.store import Project
from riskmap.store import zoning as zstore

# three new enterprises: a red in town C's west grid, an orange in E's east grid, a blue in G's west grid
NEW = [("新企业红", 1, 105.022, 35.505), ("新企业橙", 2, 105.056, 35.505), ("新企业蓝", 4, 105.072, 35.502)]


def write_xlsx(path, rows=NEW):
    wb = openpyxl.Workbook()
    wb.active.append(["企业名称", "行业", "风险等级", "经度", "纬度"])
    for name, level, x, y in rows:
        wb.active.append([name, "加油站", level, x, y])
    wb.save(path)
    return path


def state(project) -> dict:
    """What an import may change: the enterprises, every zone's level and reason, and the decisions."""
    ents = project.read_table("enterprises", columns=["id", "level"])
    zones = project.read_table("zones", columns=["id", "kind", "level", "level_reason"])
    dec = project.read_table("zone_decisions", columns=["zone_id", "object_id", "object_level", "rule"])
    return {"ents": sorted((int(i), None if lv != lv else int(lv)) for i, lv in zip(ents["id"], ents["level"])),
            "zones": sorted((int(i), k, None if lv != lv else int(lv), r)
                            for i, k, lv, r in zip(zones["id"], zones["kind"], zones["level"], zones["level_reason"])),
            "decisions": sorted(map(tuple, dec[["zone_id", "object_id", "object_level", "rule"]].to_numpy().tolist()))}


def levels_by_hand(project, kind) -> tuple[dict, dict]:
    """(stored level, 就高 level) per zone of ``kind``: the highest level (smallest number) among the graded
    enterprises the zone covers (a point on a shared border is in both), 低风险 (4) when none is graded."""
    zones = project.read_table("zones", where=f"kind = '{kind}'", columns=["id", "level"])
    ents = project.read_table("enterprises", columns=["id", "level"])
    stored, expected = {}, {}
    for zid, lv, poly in zip(zones["id"], zones["level"], zones.geometry):
        inside = ents[shapely.covers(poly, ents.geometry.values)]
        graded = [int(v) for v in inside["level"] if v == v and v is not None]
        stored[int(zid)] = int(lv)
        expected[int(zid)] = min(graded) if graded else 4
    return stored, expected


@pytest.fixture
def zoned_small(small_project):
    project, ids = small_project
    zone_project(project, "town", "max")
    zone_project(project, "grid", "max")
    return project, ids


@pytest.fixture(params=["incremental", "from scratch"])
def relevel(request, monkeypatch):
    """Both ways the hook levels zones after an import: around the new enterprises, or every unit again."""
    if request.param == "from scratch":
        monkeypatch.setattr(zoning, "RELEVEL_ABOVE", 0)
    return request.param


def test_an_import_leaves_every_zone_at_the_level_of_its_enterprises(zoned_small, relevel, tmp_path):
    project, ids = zoned_small
    z = ids["zones"]
    result = commit_import(project, plan_import(project, write_xlsx(tmp_path / "新.xlsx"), "enterprises"))
    assert len(result.ids) == 3
    towns, by_hand = levels_by_hand(project, "town")
    assert towns == by_hand
    # worked by hand: C had only an ungraded enterprise (4) → the new red; E had 4 × 7 → the new orange;
    # G keeps the orange on its border with F (the new blue adds nothing)
    assert (towns[z["C"]], towns[z["E"]], towns[z["G"]], towns[z["A"]]) == (1, 2, 2, 2)
    grids, by_hand = levels_by_hand(project, "grid")
    assert grids == by_hand
    assert (grids[z["C西"]], grids[z["C东"]], grids[z["E东"]], grids[z["E西"]], grids[z["G西"]]) == (1, 4, 2, 4, 2)
    assert set(zoned_units(project)) == {"town", "grid"}


def test_a_failure_between_the_rows_and_the_zones_leaves_the_old_state(zoned_small, relevel, tmp_path,
                                                                         monkeypatch):
    """The zone writing fails after the first unit's levels and decisions were written, as a kill would stop
    it: the rows, their assessments and the written zones all roll back together."""
    project, ids = zoned_small
    before = state(project)
    n_history = len(project.read_table("edit_history", columns=["id"]))
    real = zstore.replace_decisions
    calls = []

    def fail_after_writing(*args, **kwargs):
        real(*args, **kwargs)
        calls.append(1)
        raise RuntimeError("killed between the rows and the zones")

    monkeypatch.setattr(zstore, "replace_decisions", fail_after_writing)
    path = write_xlsx(tmp_path / "新.xlsx")
    with pytest.raises(RuntimeError, match="killed"):
        commit_import(project, plan_import(project, path, "enterprises"))
    assert calls == [1]  # the failure came after zones were written, inside the import's transaction
    assert state(project) == before
    assert len(project.read_table("edit_history", columns=["id"])) == n_history
    for kind in ("town", "grid"):
        stored, by_hand = levels_by_hand(project, kind)
        assert stored == by_hand

    monkeypatch.setattr(zstore, "replace_decisions", real)  # the same import again, to the end
    commit_import(project, plan_import(project, path, "enterprises"))
    after = state(project)
    assert len(after["ents"]) == len(before["ents"]) + 3
    assert levels_by_hand(project, "town")[0][ids["zones"]["C"]] == 1


def test_a_reader_holding_the_file_makes_the_import_fail_cleanly(zoned_small, tmp_path, unchanged):
    """Another program reading the project while the import commits: after the busy wait the import
    fails with one clear error, and the file is byte for byte what it was."""
    project, ids = zoned_small
    path = write_xlsx(tmp_path / "新.xlsx")
    plan = plan_import(project, path, "enterprises")
    other = sqlite3.connect(project.target, timeout=0)
    try:
        other.isolation_level = None
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM enterprises").fetchone()  # a shared lock until its transaction ends
        with unchanged(project.target), pytest.raises(RiskmapError) as err:
            commit_import(project, plan)
    finally:
        other.close()
    assert "锁定" in err.value.zh and "unchanged" in err.value.en


def test_cli_import_while_another_writer_holds_the_file(zoned_small, tmp_path, cli, unchanged):
    """riskmap import against a project another writer has locked: one line on stderr, exit 2, nothing
    committed (no traceback)."""
    project, ids = zoned_small
    target = project.target
    project.close()
    path = write_xlsx(tmp_path / "新.xlsx")
    other = sqlite3.connect(target, timeout=0)
    try:
        other.isolation_level = None
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE project_meta SET value = value WHERE key = 'name'")
        with unchanged(target):
            code, out, err = cli("import", target, path, "--layer", "enterprises")
    finally:
        other.close()
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "锁定" in err or "locked" in err
    with Project.open(target) as p:
        assert len(p.read_table("enterprises", columns=["id"])) == len(ids["ents"])


@pytest.mark.parametrize("store", ["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_both_stores_roll_back_rows_and_zones_together(store, request, tmp_path, monkeypatch, inside_points):
    """On the GeoPackage and on PostGIS: a failure after the zones were written keeps the old state; the
    import run again leaves every zone of every zoned unit (all 就高 in the demo) at its enterprises' level."""
    target = request.getfixturevalue("demo_copy" if store == "gpkg" else "pg_demo_url")
    rows = [(f"新企业{i}", 1, x, y) for i, (x, y) in enumerate(inside_points(3))]
    path = write_xlsx(tmp_path / "新.xlsx", rows)
    with Project.open(target) as project:
        units = zoned_units(project)
        assert units and {c.rule for c in units.values()} == {"max"}
        before = state(project)
        real = zstore.replace_decisions

        def fail_after_writing(*args, **kwargs):
            real(*args, **kwargs)
            raise RuntimeError("killed between the rows and the zones")

        monkeypatch.setattr(zstore, "replace_decisions", fail_after_writing)
        with pytest.raises(RuntimeError):
            commit_import(project, plan_import(project, path, "enterprises"))
        assert state(project) == before
        monkeypatch.setattr(zstore, "replace_decisions", real)
        commit_import(project, plan_import(project, path, "enterprises"))
        kinds = {k for unit in units for k in zoning.UNIT_KINDS[unit]}
        zones = project.read_table("zones", columns=["id", "kind", "level"])
        zones = zones[zones["kind"].isin(kinds)]
        ents = project.read_table("enterprises", columns=["id", "level"])
    graded = ents[ents["level"].notna()]
    pairs = gpd.sjoin(graded[["level", "geometry"]], zones[["id", "geometry"]].rename(columns={"id": "zone"}),
                      predicate="intersects")
    highest = pairs.groupby("zone")["level"].min().astype(int).to_dict()
    expected = {int(i): highest.get(int(i), 4) for i in zones["id"]}
    assert dict(zip(zones["id"].astype(int), zones["level"].astype(int))) == expected
    towns = zones[zones["kind"] == "town"]
    for _, x, y in [(r[0], r[2], r[3]) for r in rows]:  # each new red lies in its own town: that town is red
        holder = towns[shapely.covers(towns.geometry.values, shapely.Point(x, y))]
        assert len(holder) == 1 and int(holder["level"].iloc[0]) == 1
