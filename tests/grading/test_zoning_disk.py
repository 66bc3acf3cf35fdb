"""Which zone holds which enterprise kept on disk between processes (riskmap.store.zoning: the user's cache
folder, numbers only): a new process (or a cleared in-memory cache) takes them and gives the same numbers
without assigning a point; an edit of an enterprise's point or of a zone's geometry makes them stale (the
numbers then match the hand recount); a truncated, garbage or foreign file is ignored."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from riskmap.grading import zoning
from riskmap.grading.zoning import relocate_enterprise, zone_project
from riskmap.model import Enterprise, Zone
from riskmap.stats import city_stats
from riskmap.store import zoning as zstore

from test_zoning_kept import HAND_LEVELS, HAND_TOWNS, brute_first, by_name, table_counts


def pair_files() -> list[Path]:
    return sorted((zstore.user_cache_dir() / "lod").glob("pairs-*.npz"))


def files_of(project, kind) -> list[Path]:
    """The pair files of this project's ``kind`` (other tests' files live in the same folder)."""
    with project.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1 FROM zones LIMIT 1").fetchall()
        key = (zstore._target(conn), (kind,))
    folder, stem = zstore._pair_files(key)
    return sorted(folder.glob(f"{stem}-*.npz"))


def test_the_cache_folder_is_the_tests_own():
    assert str(zstore.user_cache_dir()).startswith(os.environ["XDG_CACHE_HOME"])
    assert not str(zstore.user_cache_dir()).startswith(str(Path.home() / ".cache"))


CHILD = r"""
import json, sys
from riskmap.grading import zoning
def refuse(*a, **k):
    raise AssertionError("enterprises assigned again")
zoning.assign_xy = refuse
from riskmap.store import Project
from riskmap.stats import city_stats
p = Project.open(sys.argv[1])
df = city_stats(p, by="town")
towns = {r["name"]: {k: int(r[k]) for k in ("1", "2", "3", "4", "none", "total") if int(r[k])}
         for _, r in df.iterrows()}
res = zoning.zone_project(p, "town", "max")
print("OUT " + json.dumps({"towns": towns, "levels": {z.name: z.level for z in res.zones}}, ensure_ascii=False))
p.close()
"""


def test_a_new_process_takes_the_pairs_from_disk(small_project, monkeypatch):
    p, ids = small_project
    zstore.forget_pairs()
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS  # computed, kept in memory and on disk
    assert len(files_of(p, "town")) == 1
    target = str(p.target)
    p.engine.dispose()
    proc = subprocess.run([sys.executable, "-c", CHILD, target], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(next(line[4:] for line in proc.stdout.splitlines() if line.startswith("OUT ")))
    assert out["towns"] == HAND_TOWNS
    assert out["levels"] == HAND_LEVELS
    # the child's zoning restamped the file on disk: still one file for the towns, and it serves this process
    assert len(files_of(p, "town")) == 1
    zstore.forget_pairs()
    monkeypatch.setattr(zoning, "assign_xy", _refuse)
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS


def test_a_cleared_memory_takes_the_disk_and_an_edit_makes_it_stale(small_project, monkeypatch):
    p, ids = small_project
    zstore.forget_pairs()
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS
    first = zone_project(p, "town", "max")
    monkeypatch.setattr(zoning, "assign_xy", _refuse)
    zstore.forget_pairs()
    again = zone_project(p, "town", "max")  # from the disk, restamped after the first run's commit
    assert [(z.id, z.level, z.reason, z.counts, z.deciders) for z in again.zones] == \
           [(z.id, z.level, z.reason, z.counts, z.deciders) for z in first.zones]
    zstore.forget_pairs()
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS
    # B1 (重大) moves into C: the file on disk is stale; assigning is needed again and gives the moved counts
    monkeypatch.setattr(zoning, "assign_xy", _real_assign)  # the move itself recolours around the points
    with p.session() as s:
        relocate_enterprise(s, s.get(Enterprise, ids["ents"]["B1"]), shapely.Point(105.024, 35.504))
    monkeypatch.setattr(zoning, "assign_xy", _refuse)
    zstore.forget_pairs()
    with pytest.raises(AssertionError, match="assigned again"):
        city_stats(p, by="town")
    monkeypatch.setattr(zoning, "assign_xy", _real_assign)
    moved = dict(HAND_TOWNS, 测试B镇={"4": 2, "total": 2}, 测试C镇={"1": 1, "none": 1, "total": 2})
    assert by_name(city_stats(p, by="town")) == moved
    zstore.forget_pairs()
    after = zone_project(p, "town", "max")
    assert {z.name: z.level for z in after.zones} == dict(HAND_LEVELS, 测试B镇=2, 测试C镇=1)


_real_assign = zoning.assign_xy


def _refuse(*a, **k):
    raise AssertionError("enterprises assigned again")


def test_a_zone_geometry_edit_makes_the_disk_stale_on_both_stores(any_store, monkeypatch):
    p = any_store
    zstore.forget_pairs()
    grid = brute_first(p, "grid")
    assert table_counts(city_stats(p, by="grid")) == grid
    assert len(files_of(p, "grid")) == 1
    zstore.forget_pairs()
    monkeypatch.setattr(zoning, "assign_xy", _refuse)
    assert table_counts(city_stats(p, by="grid")) == grid  # from the disk
    monkeypatch.setattr(zoning, "assign_xy", _real_assign)
    # the busiest cell moves far away (edited as the editor does: the row's version goes up)
    busiest = max(grid, key=lambda z: sum(grid[z]))
    with p.session() as s:
        z = s.get(Zone, busiest)
        z.geom = shapely.box(0.0, 0.0, 0.001, 0.001)
        z.version = (z.version or 0) + 1
    zstore.forget_pairs()
    recount = brute_first(p, "grid")
    assert busiest not in recount and sum(map(sum, recount.values())) < sum(map(sum, grid.values()))
    assert table_counts(city_stats(p, by="grid")) == recount
    assert len(files_of(p, "grid")) == 1  # the stale file replaced


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "other stamp", "bad index"])
def test_a_damaged_file_is_ignored(small_project, damage):
    p, _ = small_project
    zstore.forget_pairs()
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS
    (path,) = files_of(p, "town")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if damage == "other stamp":
            arrays["stamp"] = np.frombuffer(b"gpkg-other", dtype=np.uint8)
        else:
            arrays["pt"] = arrays["pt"] + len(arrays["ids"])  # points past the end
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
    zstore.forget_pairs()
    with p.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1 FROM zones LIMIT 1").fetchall()
        assert zstore.cached_pairs(conn, ("town",), zstore.store_stamp(conn, ("town",))) is None
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS  # assigned again, and kept again
    zstore.forget_pairs()
    with p.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1 FROM zones LIMIT 1").fetchall()
        assert zstore.cached_pairs(conn, ("town",), zstore.store_stamp(conn, ("town",))) is not None


def test_another_database_never_takes_the_file(small_project, tmp_path):
    """A copy of the project at another path is another store: its own file, not the first one's."""
    import shutil

    from riskmap.store import Project

    p, _ = small_project
    zstore.forget_pairs()
    city_stats(p, by="town")
    p.engine.dispose()
    copy = tmp_path / "copy.gpkg"
    shutil.copy(p.target, copy)
    q = Project.open(copy)
    try:
        zstore.forget_pairs()
        with q.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1 FROM zones LIMIT 1").fetchall()
            assert zstore.cached_pairs(conn, ("town",), zstore.store_stamp(conn, ("town",))) is None
        assert by_name(city_stats(q, by="town")) == HAND_TOWNS
        assert files_of(q, "town") != files_of(p, "town")
    finally:
        q.close()


def test_zoning_one_unit_keeps_the_other_units_files_valid(small_project, monkeypatch):
    """Zoning writes no geometry: after its commit the towns' file on disk (not read by this process) is
    stamped again, so statistics by town in the next process still take it."""
    p, _ = small_project
    zstore.forget_pairs()
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS
    town_file = files_of(p, "town")
    zstore.forget_pairs()  # as a new process: the towns' pairs only on disk
    zone_project(p, "grid", "max")  # assigns the grid, commits: the file changes
    assert files_of(p, "town") != town_file and len(files_of(p, "town")) == 1
    zstore.forget_pairs()
    monkeypatch.setattr(zoning, "assign_xy", _refuse)
    assert by_name(city_stats(p, by="town")) == HAND_TOWNS
    assert {z.name: z.level for z in zone_project(p, "town", "max").zones} == HAND_LEVELS


def test_level_digits_come_in_id_order_after_updates(any_store):
    """The levels read for the kept pairs are in id order even when updates moved rows on disk (PostgreSQL
    writes an updated row elsewhere): compared with the levels read row by row."""
    p = any_store
    with p.session(history=False) as s:
        s.execute(text("UPDATE enterprises SET level = 5 - level WHERE id % 3 = 0 AND level BETWEEN 1 AND 4"))
        s.execute(text("UPDATE enterprises SET level = NULL WHERE id % 7 = 0"))
        s.execute(text("UPDATE enterprises SET level = 1 WHERE id % 11 = 0"))
    with p.engine.connect() as conn:
        got = zstore.read_level_digits(conn)
        rows = conn.execute(text("SELECT level FROM enterprises ORDER BY id")).fetchall()
    want = np.array([r[0] if r[0] in (1, 2, 3, 4) else 0 for r in rows], dtype=np.uint8)
    assert len(want) > 100 and (want == 0).any() and (want == 1).any() and (want == 4).any()
    assert np.array_equal(got, want)


@pytest.mark.postgis
def test_a_first_run_with_nothing_kept_takes_its_stamp_from_its_read(pg_demo_url, monkeypatch):
    """PostgreSQL, nothing kept for the store: the first run's stamp is made from the count, largest id and
    versions its own read of the points gave (no scan of the enterprises before it); that stamp is the one a
    later run takes, which then reads no point."""
    from riskmap.store import Project

    calls = []
    stamp_of = zstore.store_stamp
    monkeypatch.setattr(zstore, "store_stamp", lambda conn, kinds, **k: calls.append(k) or stamp_of(conn, kinds, **k))
    with Project.open(pg_demo_url) as p:
        zstore.forget_pairs()
        assert not files_of(p, "town")
        first = zone_project(p, "town", "max")
        assert len(calls) == 1 and calls[0]["enterprises"][0] > 0  # counted by the read, not asked before it
        with p.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1").all()
            assert first.stamp == stamp_of(conn, ("town",))
        zstore.forget_pairs()
        calls.clear()
        monkeypatch.setattr(zoning, "assign_xy", _refuse)
        monkeypatch.setattr(zstore, "read_enterprise_xy_counted", _refuse)
        again = zone_project(p, "town", "max")  # from the disk
        assert calls == [{}]
    assert [z.to_json() for z in again.zones] == [z.to_json() for z in first.zones]


def test_a_first_run_with_nothing_kept_reads_the_zones_once(small_project, monkeypatch):
    """Nothing kept for the store: the first run reads the zones with their geometries at once (not their
    attributes, then again with the geometries); a later run in a new process (the pairs on disk) reads no
    geometry."""
    p, _ = small_project
    zstore.forget_pairs()
    reads = []
    attrs, zones = zstore.read_zone_attrs, zstore.read_zones
    monkeypatch.setattr(zstore, "read_zone_attrs", lambda *a, **k: reads.append("attrs") or attrs(*a, **k))
    monkeypatch.setattr(zstore, "read_zones", lambda *a, **k: reads.append("zones") or zones(*a, **k))
    first = zone_project(p, "town", "max")
    assert reads == ["zones"]
    reads.clear()
    zstore.forget_pairs()
    again = zone_project(p, "town", "max")
    assert reads == ["attrs"]
    assert [z.to_json() for z in again.zones] == [z.to_json() for z in first.zones]
