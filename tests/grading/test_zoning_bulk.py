"""The bulk paths zoning uses: point-in-polygon on coordinate arrays, reading columns as arrays, writing many
rows at once (both stores), and what the weighted rule keeps per zone."""

import numpy as np
import pytest
import shapely
from sqlalchemy.exc import IntegrityError

from riskmap.grading.zoning import assign, assign_xy, zone_project, zone_table
from riskmap.store.project import bulk_insert, bulk_update


def brute_force(xy, polygons):
    pairs = set()
    for j, poly in enumerate(polygons):
        if poly is None or poly.is_empty:
            continue
        for i, (x, y) in enumerate(xy):
            if np.isfinite(x) and poly.intersects(shapely.Point(x, y)):
                pairs.add((i, j))
    return pairs


def test_assign_xy_equals_point_by_point_intersects():
    rng = np.random.default_rng(7)
    cells = [shapely.box(x, y, x + 1, y + 1) for x in range(8) for y in range(6)]
    cells[5] = cells[5].difference(shapely.box(0.3, 5.3, 0.7, 5.7))  # a hole
    cells[9] = shapely.MultiPolygon([shapely.box(1, 3, 1.4, 3.4), shapely.box(1.6, 3.6, 2, 4)])
    polygons = cells + [None, shapely.Polygon(), shapely.Polygon([(2, 2), (5, 2), (2, 5)])]
    xy = np.vstack([rng.uniform(-0.5, 8.5, (400, 2)),
                    [[1.0, 1.0], [3.0, 2.5], [0.5, 5.5], [0.3, 5.5], [1.5, 3.5], [2.0, 4.0]],  # corner, edges, hole
                    [[np.nan, np.nan], [np.nan, 1.0]]])
    pt, pg = assign_xy(xy, np.asarray(polygons, dtype=object))
    got = set(zip(pt.tolist(), pg.tolist()))
    assert len(got) == len(pt)  # no pair twice
    assert got == brute_force(xy, polygons)
    assert {(400, 0), (400, 1), (400, 6), (400, 7)} <= got  # the shared corner (1, 1) is in all four cells
    assert not any(i == 402 and j == 5 for i, j in got)  # inside the hole
    assert (403, 5) in got  # on the hole's edge


def test_assign_xy_with_a_few_huge_polygons_among_small_ones(monkeypatch):
    from riskmap.grading import zoning

    used_tree = []
    tree = zoning._assign_tree
    monkeypatch.setattr(zoning, "_assign_tree", lambda *a: used_tree.append(1) or tree(*a))
    rng = np.random.default_rng(3)
    small = [shapely.box(x / 10, y / 10, x / 10 + 0.1, y / 10 + 0.1) for x in range(20) for y in range(20)]
    huge = [shapely.box(-1, -1, 3, 3).buffer(-k * 0.02) for k in range(40)]  # enough to leave the buckets
    polygons = np.asarray(small + huge, dtype=object)
    xy = rng.uniform(-0.2, 2.2, (300, 2))
    pt, pg = assign_xy(xy, polygons)
    assert used_tree  # too many buckets under the huge ones: the tree of points takes over
    assert set(zip(pt.tolist(), pg.tolist())) == brute_force(xy, polygons)


def test_assign_takes_shapely_points_and_other_geometries():
    polys = shapely.box(np.array([0, 1]), 0, np.array([1, 2]), 1)
    pts = np.array([shapely.Point(0.5, 0.5), None, shapely.Point(), shapely.Point(1.5, 1.0)], dtype=object)
    assert sorted(zip(*(a.tolist() for a in assign(pts, polys)))) == [(0, 0), (3, 1)]
    lines = np.array([shapely.LineString([(0.5, 0.5), (1.5, 0.5)])], dtype=object)
    assert sorted(zip(*(a.tolist() for a in assign(lines, polys)))) == [(0, 0), (0, 1)]


def test_read_arrays_equals_read_table(any_store):
    project = any_store
    table = project.read_table("enterprises", columns=["id", "name", "level"])
    arrays = project.read_arrays("enterprises", ["id", "name", "level"], xy=True)
    assert arrays["id"].tolist() == sorted(table["id"].tolist())
    by_id = table.set_index("id")
    assert arrays["name"].tolist() == by_id.loc[arrays["id"], "name"].tolist()
    want_levels = [None if v != v else int(v) for v in by_id.loc[arrays["id"], "level"]]
    assert [None if v is None else int(v) for v in arrays["level"]] == want_levels
    geoms = by_id.loc[arrays["id"]].geometry.values
    assert np.allclose(arrays["x"], shapely.get_x(geoms)) and np.allclose(arrays["y"], shapely.get_y(geoms))
    pick = arrays["id"][[5, 1, 9]].tolist()
    some = project.read_arrays("enterprises", ["id", "name"], ids=pick)
    assert some["id"].tolist() == sorted(pick)
    assert some["name"].tolist() == by_id.loc[sorted(pick), "name"].tolist()
    assert len(project.read_arrays("enterprises", ["id"], ids=[])["id"]) == 0
    like = project.read_arrays("zones", ["id", "name"], where="name LIKE '%镇'")
    assert like["name"].tolist() and all(n.endswith("镇") for n in like["name"])


def test_read_arrays_by_chunks_equals_whole(any_store, monkeypatch):
    """Rows turned into arrays a few at a time give what the whole conversion gives: the same values, numbers
    promoted together, Python values in an object array where a chunk holds NULLs beside a chunk of numbers."""
    from sqlalchemy import text

    import riskmap.store.project as store_project
    from riskmap.store.project import read_arrays

    project = any_store
    cols = ["id", "name", "level", "industry"]
    with project.engine.connect() as conn, conn.begin() as tx:  # rolled back: the store is left as it was
        last = conn.execute(text("SELECT max(id) FROM enterprises")).scalar()
        conn.execute(text("UPDATE enterprises SET level = NULL WHERE id > :n"), {"n": last - 3})  # the last chunk
        whole = read_arrays(conn, "enterprises", cols, xy=True)
        assert whole["level"].dtype == object and whole["level"][-1] is None
        monkeypatch.setattr(store_project, "ARRAY_CHUNK_ROWS", 7)
        chunked = read_arrays(conn, "enterprises", cols, xy=True)
        assert len(whole["id"]) > 3 * 7 and whole["id"].dtype == np.int64
        for k in [*cols, "x", "y"]:
            assert chunked[k].dtype == whole[k].dtype, k
            assert [type(v) for v in chunked[k].tolist()] == [type(v) for v in whole[k].tolist()], k
            assert np.array_equal(chunked[k], whole[k], equal_nan=k in ("x", "y")), k
        none = read_arrays(conn, "enterprises", ["id"], ids=[])
        assert none["id"].dtype == np.float64 and len(none["id"]) == 0
        tx.rollback()


def test_bulk_insert_and_update_on_each_store(any_store):
    project = any_store
    zones = project.read_table("zones", where="kind = 'town'", columns=["id", "level"])
    zid = zones["id"].astype(int).tolist()
    n = 401  # more than one multi-row statement on SQLite, and a remainder
    rows = {"zone_id": np.array([zid[i % len(zid)] for i in range(n)]), "rule": "test",
            "object_table": "enterprises", "object_id": np.arange(n) + 10_000,
            "object_level": [None if i % 7 == 0 else 1 + i % 4 for i in range(n)],
            "note": [f"备注\t{i}\\" for i in range(n)]}  # a tab and a backslash survive COPY
    import datetime as dt
    at = dt.datetime(2024, 5, 6, 7, 8, 9)
    with project.session(history=False) as s:
        conn = s.connection()
        assert bulk_insert(conn, "zone_decisions", rows) == n
        bulk_update(conn, "zones", {"id": zid, "level": [None] * len(zid), "level_rule": "测试",
                                    "level_reason": [f"理由{i}" for i in zid], "level_updated_at": at})
    dec = project.read_table("zone_decisions", where="rule = 'test'").sort_values("object_id")
    assert dec["object_id"].tolist() == list(range(10_000, 10_000 + n))
    assert dec["zone_id"].tolist() == rows["zone_id"].tolist()
    assert [None if v != v else int(v) for v in dec["object_level"]] == rows["object_level"]
    assert dec["note"].tolist() == rows["note"]
    after = project.read_table("zones", where="kind = 'town'",
                               columns=["id", "level", "level_rule", "level_reason", "level_updated_at"])
    assert after["level"].isna().all() and set(after["level_rule"]) == {"测试"}
    assert after["level_reason"].tolist() == [f"理由{i}" for i in after["id"]]
    assert set(after["level_updated_at"]) == {"2024-05-06T07:08:09.000Z"}  # as the ORM writes it

    # a refused row (no such zone) fails the whole transaction with the usual SQLAlchemy error
    with pytest.raises(IntegrityError):
        with project.session(history=False) as s:
            conn = s.connection()
            bulk_update(conn, "zones", {"id": zid, "level_rule": "改过"})
            bulk_insert(conn, "zone_decisions", {"zone_id": [zid[0], 999_999], "rule": "bad",
                                                 "object_table": "enterprises", "object_id": [1, 2]})
    assert len(project.read_table("zone_decisions", where="rule = 'bad'")) == 0
    assert set(project.read_table("zones", where="kind = 'town'", columns=["level_rule"])["level_rule"]) == {"测试"}


def test_weighted_keeps_every_graded_enterprise(small_project):
    project, ids = small_project
    zone_project(project, "town", "weighted", per="zone")
    rows = {z["name"]: z for z in zone_table(project, "town")}
    e = ids["ents"]
    a = rows["测试A镇"]  # levels 2 (border), 3, 3, 4, 4, 4, 4: all seven add to the score, all seven kept
    weighted = [d for d in a["decisions"] if d["rule"] == "weighted"]
    assert len(weighted) == 7 and len({d["object_id"] for d in weighted}) == 7
    assert sorted(d["level"] for d in weighted) == [2, 3, 3, 4, 4, 4, 4]
    assert {d["note"] for d in weighted if d["level"] == 2} == {"权重 5"}
    assert [d["name"] for d in weighted if d["object_id"] == e["A|B"]] == ["测试企业A|B"]
    assert "全部 7 家已定级企业" in a["reason"] and "均保存为定级依据" in a["reason"]
    c = rows["测试C镇"]  # one ungraded enterprise: nothing added, nothing kept, counted in the reason
    assert c["decisions"] == [] and "未定级1" in c["reason"]
    # 就高 keeps only the highest level: D's three reds, not its blue
    zone_project(project, "town", "max")
    d = {z["name"]: z for z in zone_table(project, "town")}["测试D镇"]
    assert sorted(x["object_id"] for x in d["decisions"]) == sorted(e[k] for k in ("D1a", "D1b", "D1c"))


HOSTILE = ['他说"好"', "C:\\temp\\", "a,b", "{x}", "NULL", "null", "", " ", "\\N", "\t\n\r", '\\"', "{\"}", "镇,\"村\"\\",
           None, "NaN", "1", "-2", "(1,2)", "'"]


def test_bulk_writes_keep_hostile_text_exactly(any_store):
    """Quotes, backslashes, commas, braces, NULL-like text, empty strings, control characters and None go
    through bulk_update (array literals on PostgreSQL) and bulk_insert (COPY text) unchanged."""
    project = any_store
    zid = sorted(project.read_table("zones", columns=["id"])["id"].astype(int).tolist())
    texts = [HOSTILE[i % len(HOSTILE)] for i in range(len(zid))]
    levels = [None if i % 3 == 0 else 1 + i % 4 for i in range(len(zid))]
    rules = ["无" if t is None else t for t in texts]  # rule is NOT NULL
    with project.session(history=False) as s:
        conn = s.connection()
        bulk_update(conn, "zones", {"id": zid, "level": levels, "level_reason": texts, "level_rule": "规则\"1\""})
        bulk_insert(conn, "zone_decisions", {"zone_id": zid, "rule": rules, "object_table": "enterprises",
                                             "object_id": list(range(900_000, 900_000 + len(zid))), "object_level": levels,
                                             "note": texts[::-1]})
    got = project.read_table("zones", columns=["id", "level", "level_rule", "level_reason"]).sort_values("id")
    assert got["id"].tolist() == zid
    assert [None if v is None or v != v else v for v in got["level_reason"]] == texts
    assert [None if v != v else int(v) for v in got["level"]] == levels
    assert set(got["level_rule"]) == {"规则\"1\""}
    dec = project.read_table("zone_decisions", where="object_table = 'enterprises'").sort_values("object_id")
    dec = dec[dec["object_id"] >= 900_000]
    assert dec["object_id"].tolist() == list(range(900_000, 900_000 + len(zid)))
    assert dec["zone_id"].tolist() == zid
    assert [None if v is None or v != v else v for v in dec["rule"]] == rules
    assert [None if v is None or v != v else v for v in dec["note"]] == texts[::-1]
    assert [None if v != v else int(v) for v in dec["object_level"]] == levels


def test_zone_levels_rewritten_in_place_on_postgis(pg_demo_url):
    """zones is made with room for a second version of each row: rewriting every zone's level, rule and reason
    (what a run of zoning does) adds almost no index entry (the updates are HOT but where a row grew too much
    for its page; at fillfactor 100 only 25 of the demo's 491 were)."""
    from sqlalchemy import text

    from riskmap.store import Project
    from riskmap.store.postgis import ZONES_FILLFACTOR

    project = Project.open(pg_demo_url)
    try:
        with project.session(history=False) as s:
            conn = s.connection()
            assert f"fillfactor={ZONES_FILLFACTOR}" in conn.execute(
                text("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'zones'")).scalar()
            zid = conn.execute(text("SELECT id FROM zones ORDER BY id")).scalars().all()
            bulk_update(conn, "zones", {"id": zid, "level": [1 + i % 4 for i in range(len(zid))],
                                        "level_rule": "原地", "level_reason": [f"理由 {i} " * 9 for i in zid]})
            upd, hot = conn.execute(text("SELECT pg_stat_get_xact_tuples_updated('zones'::regclass), "
                                         "pg_stat_get_xact_tuples_hot_updated('zones'::regclass)")).one()
            assert upd == len(zid) > 100 and hot >= 0.95 * upd
    finally:
        project.close()


def test_decisions_written_on_a_thread_while_the_reasons_are_made(any_store, monkeypatch):
    """A run from scratch writes its decisions on a thread of its own, through the run's connection, while
    the reasons are made on the caller's; what is stored is what the same run writing one step after the
    other stores."""
    import threading

    from riskmap.grading import zoning
    from riskmap.store import zoning as zstore

    project = any_store
    making, seen = threading.Event(), []
    results, update = zoning._zone_results, zstore.update_decisions

    def reasons(*a, **k):
        making.set()
        return results(*a, **k)

    def decisions(*a, **k):  # waits until the reasons are being made: sequential code would time out here
        seen.append((threading.current_thread() is threading.main_thread(), making.wait(20)))
        return update(*a, **k)

    monkeypatch.setattr(zoning, "_zone_results", reasons)
    monkeypatch.setattr(zstore, "update_decisions", decisions)
    beside = zone_project(project, "town", "max")
    assert seen == [(False, True)]
    stored_beside = zone_table(project, "town")
    monkeypatch.undo()

    class InTurn(zoning._Beside):  # the same run, the write's first half done before the reasons
        def __init__(self, fn, run=True):
            super().__init__(fn, run=False)
            self._out = fn() if run else None

    zone_project(project, "town", "weighted", per="zone")  # every zone's level and decisions rewritten
    monkeypatch.setattr(zoning, "_Beside", InTurn)
    in_turn = zone_project(project, "town", "max")
    assert [z.to_json() for z in in_turn.zones] == [z.to_json() for z in beside.zones]
    assert zone_table(project, "town") == stored_beside
    assert sum(len(z["decisions"]) for z in stored_beside) > 0


@pytest.mark.postgis
@pytest.mark.parametrize("second_connection", [True, False])
def test_names_read_on_another_connection_while_the_decisions_are_written(pg_demo_url, monkeypatch,
                                                                            second_connection):
    """PostgreSQL, a run from scratch: the deciding enterprises' names are read on another connection under
    the run's exported snapshot while the run's own connection writes the decisions; without a second
    connection they are read after the decisions on the run's own. Either way the run stores and returns what
    the same run one step after the other does."""
    import threading

    from riskmap.grading import zoning
    from riskmap.store import Project
    from riskmap.store import zoning as zstore

    monkeypatch.setattr(zoning, "NAMES_BESIDE", 0)
    named, seen = threading.Event(), []
    names, names_at, update = zstore.enterprise_names, zstore.enterprise_names_at, zstore.update_decisions

    def names_beside(engine, snapshot, ids):
        if not second_connection:
            return None
        got = names_at(engine, snapshot, ids)
        named.set()
        return got

    def names_here(conn, ids):
        seen.append("names")
        return names(conn, ids)

    def decisions(*a, **k):  # the names come while this write waits: one step after the other would time out
        seen.append(("writing", named.wait(20) if second_connection else None))
        try:
            return update(*a, **k)
        finally:
            seen.append("written")

    class InTurn(zoning._Beside):
        def __init__(self, fn, run=True):
            super().__init__(fn, run=False)
            self._out = fn() if run else None

    with Project.open(pg_demo_url) as project:
        monkeypatch.setattr(zstore, "enterprise_names_at", names_beside)
        monkeypatch.setattr(zstore, "enterprise_names", names_here)
        monkeypatch.setattr(zstore, "update_decisions", decisions)
        beside = zone_project(project, "town", "max")
        if second_connection:  # read inside the write, on another connection
            assert seen[:3] == [("writing", True), "names", "written"] or seen[:3] == ["names", ("writing", True),
                                                                                        "written"]
        else:  # read after the write, on the run's own connection
            assert seen[:3] == [("writing", None), "written", "names"]
        monkeypatch.undo()
        stored_beside = zone_table(project, "town")
        monkeypatch.undo()
        zone_project(project, "town", "weighted", per="zone")
        monkeypatch.setattr(zoning, "_Beside", InTurn)
        in_turn = zone_project(project, "town", "max")
        assert zone_table(project, "town") == stored_beside
    assert [z.to_json() for z in in_turn.zones] == [z.to_json() for z in beside.zones]
    assert any(d["name"] for z in stored_beside for d in z["decisions"])
    assert any(z.deciders and all(d["name"] for d in z.deciders) for z in beside.zones)
