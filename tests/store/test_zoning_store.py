"""riskmap.store.zoning on both stores: zone levels, decisions and unit settings written through the caller's
transaction, and the reads zoning makes (zones and enterprise points, all or within bounding boxes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from riskmap.store import zoning as zstore


def town_ids(project) -> list[int]:
    return sorted(int(i) for i in project.read_table("zones", where="kind = 'town'", columns=["id"])["id"])


def test_levels_decisions_and_settings_in_one_transaction(any_store):
    project = any_store
    t1, t2 = town_ids(project)[:2]
    ents = sorted(int(i) for i in project.read_table("enterprises", columns=["id"])["id"])[:3]
    other_kind = project.read_table("zone_decisions", columns=["zone_id"])
    grid_zone = int(project.read_table("zones", where="kind = 'grid'", columns=["id"])["id"].iloc[0])
    with project.session(history=False) as s:
        conn = s.connection()
        zstore.write_levels(conn, [t1, t2], [1, None], ["max", "max"], ["就高：测试", "无已定级企业"])
        n = zstore.replace_decisions(conn, {"zone_id": [t1, t1, grid_zone], "rule": ["max", "max", "max"],
                                            "object_id": ents[:2] + ents[2:], "object_level": [1, 1, 2],
                                            "note": ["区内最高等级"] * 3}, zone_ids=[t1, t2, grid_zone])
        assert n == 3
        zstore.save_settings(conn, "town", {"unit": "town", "rule": "max", "测试": "是"})
        assert zstore.read_settings(conn)["town"] == {"unit": "town", "rule": "max", "测试": "是"}
    zones = project.read_table("zones", columns=["id", "level", "level_rule", "level_reason", "level_updated_at"])
    zones = zones.set_index("id")
    assert int(zones.loc[t1, "level"]) == 1 and zones.loc[t1, "level_reason"] == "就高：测试"
    assert pd.isna(zones.loc[t2, "level"])  # NULL: no level
    assert zones.loc[t2, "level_rule"] == "max" and zones.loc[t2, "level_updated_at"]
    dec = project.read_table("zone_decisions", columns=["zone_id", "object_table", "object_id", "object_level"])
    mine = dec[dec["zone_id"].isin([t1, t2])]
    assert sorted(zip(mine["zone_id"], mine["object_id"], mine["object_level"], mine["object_table"])) == [
        (t1, ents[0], 1, "enterprises"), (t1, ents[1], 1, "enterprises")]
    assert len(dec) == len(other_kind[~other_kind["zone_id"].isin([t1, t2, grid_zone])]) + 3

    # a whole unit: every decision of its zones goes, the other units' stay
    with project.session(history=False) as s:
        zstore.replace_decisions(s.connection(), {"zone_id": [t2], "rule": ["max"], "object_id": [ents[0]],
                                                  "object_level": [4], "note": ["区内最高等级"]}, kinds=("town",))
    dec = project.read_table("zone_decisions", columns=["zone_id", "object_id"])
    towns = set(town_ids(project))
    assert sorted((int(z), int(o)) for z, o in zip(dec["zone_id"], dec["object_id"]) if z in towns) == [(t2, ents[0])]
    assert grid_zone in set(dec["zone_id"].astype(int))
    assert zstore.read_settings(project)["town"]["测试"] == "是"


def test_a_failed_transaction_writes_no_levels(any_store):
    project = any_store
    t1 = town_ids(project)[0]
    before = project.read_table("zones", columns=["id", "level_reason"]).set_index("id").loc[t1, "level_reason"]
    with pytest.raises(RuntimeError):
        with project.session(history=False) as s:
            zstore.write_levels(s.connection(), [t1], [1], ["max"], ["应回滚"])
            raise RuntimeError("stop")
    assert project.read_table("zones", columns=["id", "level_reason"]).set_index("id").loc[t1, "level_reason"] == before


def test_reads_within_boxes_equal_a_filter_by_hand(any_store, monkeypatch):
    """Zones and enterprise points meeting bounding boxes, in queries of at most BOXES_PER_QUERY boxes, are the
    rows whose own bounding box meets one of them."""
    project = any_store
    ents = project.read_table("enterprises", columns=["id", "level"])
    pick = ents.iloc[:: max(1, len(ents) // 7)]
    boxes = [(p.x - 0.01, p.y - 0.01, p.x + 0.01, p.y + 0.01) for p in pick.geometry]
    zones = project.read_table("zones", where="kind = 'town'", columns=["id"])

    def meets(bounds):
        return np.array([any(b[2] >= x0 and b[0] <= x1 and b[3] >= y0 and b[1] <= y1 for x0, y0, x1, y1 in boxes)
                         for b in bounds])

    want_zones = sorted(zones["id"][meets(shapely.bounds(zones.geometry.values))].astype(int))
    xy = shapely.get_coordinates(ents.geometry.values)
    want_ents = sorted(ents["id"][meets(np.column_stack([xy, xy]))].astype(int))
    assert len(want_zones) >= 2 and len(want_ents) >= len(pick)
    for per_query in (400, 2):
        monkeypatch.setattr(zstore, "BOXES_PER_QUERY", per_query)
        with project.engine.connect() as conn:
            rows, geoms = zstore.read_zones(conn, ("town",), boxes)
            pts = zstore.read_enterprise_points(conn, boxes=boxes)
            everything = zstore.read_enterprise_points(conn)
        assert [r[0] for r in rows] == want_zones and len(geoms) == len(rows)
        assert all(g.geom_type in ("Polygon", "MultiPolygon") for g in geoms)
        assert pts["id"].tolist() == want_ents
        at = {int(i): k for k, i in enumerate(everything["id"])}
        k = np.array([at[int(i)] for i in pts["id"]])
        assert np.allclose(pts["x"], everything["x"][k]) and np.allclose(pts["y"], everything["y"][k])
    assert len(everything["id"]) == len(ents)


def _points_as_before(conn) -> dict:
    """What zoning read before :func:`zstore.read_enterprise_xy`: rows, levels made numbers one by one."""
    from riskmap.grading.zoning import _levels_array

    old = zstore.read_enterprise_points(conn)
    return {"id": np.asarray(old["id"], dtype=np.int64), "level": _levels_array(old["level"]),
            "x": old["x"], "y": old["y"]}


@pytest.mark.parametrize("span", [zstore.GPKG_ID_SPAN, 7])
def test_read_enterprise_xy_equals_the_rows_read_one_by_one(any_store, span, monkeypatch):
    """The bulk read (GeoPackage: aggregates of blob bytes by id range — 7: many ranges; PostGIS: one bytea
    of binary rows) gives exactly the arrays of the row-by-row read, with holes in the ids, no point, an
    empty point, a blob another program wrote, and levels missing or out of range."""
    from sqlalchemy import text

    monkeypatch.setattr(zstore, "GPKG_ID_SPAN", span)

    from riskmap.model import Enterprise
    from riskmap.model.geometry import to_gpkg_blob

    project = any_store
    ids = sorted(int(i) for i in project.read_table("enterprises", columns=["id"])["id"])
    assert len(ids) > 20
    gpkg = project.engine.dialect.name != "postgresql"
    with project.engine.begin() as conn:
        names = [c.name for c in Enterprise.__table__.columns if c.name != "id"]
        unique = ("qr_id", "credit_code")
        values = ", ".join(f"{c} || :s" if c in unique else c for c in names)
        for new_id in (ids[-1] + 5, ids[-1] + 9):  # holes in the ids
            conn.execute(text(f"INSERT INTO enterprises (id, {', '.join(names)}) SELECT :n, {values} "
                              "FROM enterprises WHERE id = :i"), {"n": new_id, "s": f"-{new_id}", "i": ids[4]})
        conn.execute(text("UPDATE enterprises SET geom = NULL, level = NULL WHERE id = :i"), {"i": ids[5]})
        conn.execute(text("UPDATE enterprises SET level = 5 WHERE id = :i"), {"i": ids[6]})
        conn.execute(text("UPDATE enterprises SET level = 0 WHERE id = :i"), {"i": ids[7]})
        if gpkg:
            little = to_gpkg_blob(shapely.Point(116.25, 31.5))
            big = little[:40] + shapely.to_wkb(shapely.Point(116.5, 31.75), byte_order=0)  # 61 bytes, big-endian
            bare = b"GP\x00\x01" + little[4:8] + shapely.to_wkb(shapely.Point(116.75, 31.25), byte_order=1)
            for k, blob in ((8, big), (9, bare), (10, to_gpkg_blob(shapely.Point()))):
                conn.execute(text("UPDATE enterprises SET geom = :g WHERE id = :i"), {"g": blob, "i": ids[k]})
        else:
            conn.execute(text("UPDATE enterprises SET geom = ST_GeomFromText('POINT EMPTY', 4490) WHERE id = :i"),
                         {"i": ids[10]})
    with project.engine.connect() as conn:
        got, want = zstore.read_enterprise_xy(conn), _points_as_before(conn)
    assert got["id"].dtype == np.int64 and got["level"].dtype == np.int64
    for k in ("id", "level", "x", "y"):
        assert np.array_equal(got[k], want[k], equal_nan=True), k
    at = {i: k for k, i in enumerate(got["id"].tolist())}
    assert got["id"][-2:].tolist() == [ids[-1] + 5, ids[-1] + 9]
    assert np.isnan(got["x"][at[ids[5]]]) and got["level"][at[ids[5]]] == 0
    assert got["level"][at[ids[6]]] == 0 and got["level"][at[ids[7]]] == 0
    assert np.isnan(got["x"][at[ids[10]]])
    if gpkg:
        assert (got["x"][at[ids[8]]], got["y"][at[ids[8]]]) == (116.5, 31.75)
        assert (got["x"][at[ids[9]]], got["y"][at[ids[9]]]) == (116.75, 31.25)
    assert set(np.unique(got["level"]).tolist()) <= {0, 1, 2, 3, 4} and (got["level"] > 0).any()


def test_read_enterprise_xy_over_sqlites_longest_value_reads_rows(demo_copy):
    """A GeoPackage whose aggregate would exceed SQLite's longest value (1e9 bytes, 16M enterprises; here
    the limit is lowered) is read row by row, with the same arrays."""
    import sqlite3

    from riskmap.store import Project

    with Project.open(demo_copy) as project, project.engine.connect() as conn:
        want = _points_as_before(conn)
        raw = conn.connection.driver_connection
        before = raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)
        try:
            got = zstore.read_enterprise_xy(conn)
        finally:
            raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, before)
    assert len(want["id"]) * 62 > 1000
    for k in ("id", "level", "x", "y"):
        assert np.array_equal(got[k], want[k], equal_nan=True), k


@pytest.mark.postgis
def test_read_enterprise_xy_in_two_halves_on_postgis(pg_demo_url, monkeypatch):
    """``split``: the ids above the middle read on a second connection under the transaction's exported
    snapshot, the rest on the transaction's own: the same arrays as one statement. A transaction that has
    written reads in one statement on its own connection, and sees its own rows."""
    from sqlalchemy import text

    from riskmap.store import Project

    monkeypatch.setattr(zstore, "PG_SPLIT_IDS", 2)
    used = []
    bytes_of = zstore._pg_xy_bytes
    monkeypatch.setattr(zstore, "_pg_xy_bytes", lambda c, sql: used.append((c, sql[-14:])) or bytes_of(c, sql))
    with Project.open(pg_demo_url) as project:
        with project.engine.connect() as conn:
            whole, counted = zstore.read_enterprise_xy_counted(conn)
            assert len(used) == 1 and used[0][0] is conn
            used.clear()
            halves, counted_halves = zstore.read_enterprise_xy_counted(conn, split=True)
            want = _points_as_before(conn)
            stamp = zstore.store_stamp(conn, ("town",))  # the rows' count, largest id and versions as counted
            assert zstore.store_stamp(conn, ("town",), enterprises=counted) == stamp
            assert zstore.store_stamp(conn, ("town",), enterprises=counted_halves) == stamp
            assert counted[0] == len(whole["id"]) and counted[1] == whole["id"].max()
        assert len(used) == 2 and used[0][0] is not used[1][0]
        assert {sql.split("id ")[-1][:2] for _, sql in used} == {"<=", "> "}
        assert len(whole["id"]) > 20
        for k in ("id", "level", "x", "y"):
            assert np.array_equal(halves[k], whole[k], equal_nan=True), k
            assert np.array_equal(halves[k], want[k], equal_nan=True), k
        used.clear()
        with project.engine.begin() as conn:
            moved = int(whole["id"][3])
            conn.execute(text("UPDATE enterprises SET geom = ST_SetSRID(ST_MakePoint(116.5, 31.25), 4490) "
                              "WHERE id = :i"), {"i": moved})
            mine = zstore.read_enterprise_xy(conn, split=True)
            assert [c is conn for c, _ in used] == [True]
            conn.rollback()
    k = int(np.searchsorted(mine["id"], moved))
    assert (mine["x"][k], mine["y"][k]) == (116.5, 31.25)
