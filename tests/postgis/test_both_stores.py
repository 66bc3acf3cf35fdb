"""Backend-independent store tests: each runs on the GeoPackage file and on PostgreSQL + PostGIS."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd
import pytest
import shapely
from sqlalchemy import inspect, select, text

from riskmap.errors import RiskmapError
from riskmap.layers import load_catalogue
from riskmap.model import MODEL_CLASSES, Assessment, EditRecord, Enterprise, ProjectMeta
from riskmap.model.base import JSONText, Timestamp
from riskmap.model import class_for_table
from riskmap.model.geometry import Geometry, from_gpkg_blobs

GEOMS = {
    "POINT": shapely.Point(105.123456789012, 35.987654321098),
    "MULTIPOLYGON": shapely.MultiPolygon([shapely.Polygon([(105.1, 35.1), (105.2, 35.1), (105.2, 35.2), (105.1, 35.1)]),
                                          shapely.Polygon([(105.3, 35.3), (105.31, 35.3), (105.3, 35.31)])]),
    "MULTILINESTRING": shapely.MultiLineString([[(105.0, 35.0), (105.01, 35.02), (105.03, 35.02)]]),
    # any type (risk points: a point or an area): a polygon stays a polygon
    "GEOMETRY": shapely.Polygon([(105.1, 35.1), (105.2, 35.1), (105.2, 35.2), (105.1, 35.1)]),
}


def _value(col, i: int, parents: dict):
    """A non-trivial value for ``col`` (the i-th column of its table)."""
    fk = next(iter(col.foreign_keys), None)
    if fk is not None:
        return parents[fk.column.table.name]
    t = col.type
    if isinstance(t, Geometry):
        return GEOMS[t.geometry_type]
    if isinstance(t, JSONText):
        return {"名称": "液氨", "q": [1.5, None, True], "n": i}
    if isinstance(t, Timestamp):
        return dt.datetime(2025, 3, 4, 5, 6, i % 60)
    py = t.python_type
    if py is bool:
        return True
    if py is int:
        return 3 if col.name in ("level", "object_level") else 1000 + i
    if py is float:
        return 0.1 + i / 3
    if py is dt.date:
        return dt.date(2024, 2, 29)
    if py is bytes:
        return bytes(range(256)) + "图像✓".encode()
    return f"示例 {col.table.name}.{col.name} ✓ '%"


def _insert_all(project) -> dict[str, int]:
    """One new row in every table of the model, children after parents; returns table -> id."""
    from riskmap.model import Base

    by_table = {c.__tablename__: c for c in MODEL_CLASSES}
    ids: dict[str, int] = {}
    with project.session(history=False) as s:
        for table in Base.metadata.sorted_tables:
            cls = by_table[table.name]
            values = {}
            for i, col in enumerate(table.columns):
                if col.name in ("id", "version") or col.name == "parent_id" and table.name == "zones":
                    continue
                values[col.key] = _value(col, i, ids)
            if cls is ProjectMeta:
                values = {"key": "roundtrip_test", "value": "值 ✓ %"}
            obj = cls(**values)
            s.add(obj)
            s.flush()
            ids[table.name] = getattr(obj, "id", None) if "id" in table.c else inspect(obj).identity[0]
    return ids


def test_every_model_class_round_trips(any_store):
    ids = _insert_all(any_store)
    by_table = {c.__tablename__: c for c in MODEL_CLASSES}
    with any_store.reader() as s:
        for table, row_id in ids.items():
            cls = by_table[table]
            obj = s.get(cls, "roundtrip_test" if cls is ProjectMeta else row_id)
            assert obj is not None, table
            got = obj.as_dict()
            for col in cls.__table__.columns:
                if col.name in ("id", "version", "created_at", "updated_at", "parent_id", "key"):
                    continue
                if table == "edit_history" and col.name in ("user", "at") and any_store.dialect == "postgresql":
                    continue  # the server names who and when (test_history_stamp)
                want = _value(col, list(cls.__table__.columns).index(col), ids)
                if cls is ProjectMeta:
                    want = "值 ✓ %"
                have = got[col.key]
                if isinstance(col.type, Geometry):
                    assert have.geom_type.upper() == want.geom_type.upper(), table
                    assert shapely.equals_exact(have, want, 1e-12), table
                else:
                    assert have == want, (table, col.name, have, want)
            if "version" in got:
                assert got["version"] == 1


def test_read_table_same_text_on_both_stores(any_store):
    """Dates and times read back as the GeoPackage text form, whatever the store."""
    ids = _insert_all(any_store)
    dangers = any_store.read_table("hidden_dangers", where=f"id = {ids['hidden_dangers']}")
    row = dangers.iloc[0]
    assert row["found_date"] == "2024-02-29"
    assert row["updated_at"].endswith("Z") and len(row["updated_at"]) == 24
    assert row["title"] == "示例 hidden_dangers.title ✓ '%"
    assert shapely.equals_exact(row.geometry, GEOMS["POINT"], 1e-12)
    assert dangers.crs.to_epsg() == 4490
    ents = any_store.read_table("enterprises", where=f"id = {ids['enterprises']}")
    assert ents["major_hazard"].dtype == "boolean" and bool(ents["major_hazard"].iloc[0]) is True
    assert ents.index.tolist() == [ids["enterprises"]]


def test_read_table_where_with_percent_and_reserved_column(any_store):
    towns = any_store.read_table("zones", where="kind = 'town' AND name LIKE '%镇'")
    assert len(towns) == 28  # 会宁县 demo: 28 towns, all named …镇
    assert set(towns["kind"]) == {"town"}
    with any_store.session() as s:
        ent = s.scalars(select(Enterprise).order_by(Enterprise.id).limit(1)).one()
        ent.phone = "0943-1234567"
    hist = any_store.read_table("edit_history")
    assert len(hist) == 1
    assert hist["user"].iloc[0] == any_store.user  # "user" is a reserved word in PostgreSQL
    assert hist["action"].iloc[0] == "update" and hist["table_name"].iloc[0] == "enterprises"


def test_counts_and_layers_match_the_demo_file(any_store, demo_path):
    raw = sqlite3.connect(demo_path)
    try:
        for table, n in any_store.counts().items():
            assert n == raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table
        for layer in load_catalogue().values():
            gdf = any_store.read_layer(layer)
            where = f" WHERE {layer.where}" if layer.where else ""
            want = raw.execute(f"SELECT count(*) FROM {layer.table}{where}").fetchone()[0]
            if class_for_table(layer.table).__geometry__ == "GEOMETRY":  # risk points: each layer its kind
                geoms = from_gpkg_blobs([r[0] for r in raw.execute(f"SELECT geom FROM {layer.table}{where}")])
                names = {"point": ("Point", "MultiPoint", None), "polygon": ("Polygon", "MultiPolygon")}
                want = sum(1 for g in geoms if (None if g is None else g.geom_type) in names[layer.geometry])
            assert len(gdf) == want, layer.id
            if "geometry" in gdf and len(gdf):
                assert gdf.geometry.notna().all() and gdf.crs.to_epsg() == 4490, layer.id
    finally:
        raw.close()


def test_read_table_geometry_equals_demo_file(any_store, demo_path):
    from riskmap.store import Project

    with Project.open(demo_path, readonly=True) as ref:
        for table in ("zones", "enterprises", "lifelines"):
            a = ref.read_table(table).sort_index()
            b = any_store.read_table(table).sort_index()
            assert a.index.tolist() == b.index.tolist()
            assert shapely.equals_exact(a.geometry.values, b.geometry.values, 1e-9).all(), table
            pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"), check_dtype=False)


def test_edit_history_and_optimistic_version(any_store):
    with any_store.session() as s:
        ent = s.get(Enterprise, 1)
        before = ent.version
        ent.name = "示例改名有限公司"
    with any_store.reader() as s:
        ent = s.get(Enterprise, 1)
        assert ent.name == "示例改名有限公司" and ent.version == before + 1
        rec = s.scalars(select(EditRecord)).one()
        assert rec.table_name == "enterprises" and rec.row_id == 1 and rec.action == "update"
        assert rec.changes["name"][1] == "示例改名有限公司"


def test_conflict_names_the_feature(any_store):
    """Two users read the same enterprise; the second save is refused, never a silent overwrite."""
    with any_store.session() as s:  # user A reads (and keeps the object while editing)
        mine = s.get(Enterprise, 2)
    name = mine.name
    with any_store.session() as s:  # user B saves first
        s.get(Enterprise, 2).address = "示例路 B 号"
    with pytest.raises(RiskmapError) as err, any_store.session() as s:
        s.add(mine)
        mine.address = "示例路 A 号"
    assert "冲突" in err.value.zh and f"企业“{name}”（id 2）" in err.value.zh
    assert "conflict" in err.value.en and name in err.value.en
    with any_store.reader() as s:
        assert s.get(Enterprise, 2).address == "示例路 B 号"


def test_assessments_are_immutable(any_store):
    with pytest.raises(RiskmapError) as err, any_store.session(history=False) as s:
        rec = s.scalars(select(Assessment).order_by(Assessment.id).limit(1)).one()
        rec.level = 1 if rec.level != 1 else 2
    assert "不可修改" in err.value.zh and "immutable" in err.value.en
    with pytest.raises(RiskmapError):
        any_store.execute("UPDATE assessments SET note = 'x' WHERE id = 1")


def test_derive_level_records_an_assessment(any_store):
    from riskmap.grading.enterprise import derive_level

    n0 = any_store.counts()["assessments"]
    with any_store.session() as s:
        ent = s.scalars(select(Enterprise).where(Enterprise.risk_points.any()).order_by(Enterprise.id).limit(1)).one()
        rec = derive_level(s, ent, assessor="示例评估人", keep_override=False)
        worst = min(rp.level for rp in ent.risk_points if rp.level is not None)
        eid = ent.id
    assert any_store.counts()["assessments"] == n0 + 1
    with any_store.reader() as s:
        ent = s.get(Enterprise, eid)
        assert ent.level_assessment_id == rec.id
        assert ent.level <= worst  # 就高, possibly raised by a direct rule


def test_permissions_and_changes_of_the_owner(any_store):
    perms = any_store.permissions()
    assert perms.read and perms.edit_features and perms.edit_hidden_dangers and perms.assess and perms.admin
    assert perms.can_write("enterprises")
    any_store.listen(lambda change: None)
    with any_store.session() as s:
        s.get(Enterprise, 3).phone = "0943-7654321"
    changes = any_store.poll_changes(timeout=2.0)
    if any_store.dialect == "sqlite":
        assert changes == []  # no notices from a file
    else:
        assert ("enterprises", "update", (3,)) in [(c.table, c.op, c.ids) for c in changes]


def test_readonly_project_refuses_writes(any_store):
    from riskmap.store import Project

    target = any_store.target
    if any_store.dialect == "postgresql":
        target = any_store.engine.url  # the superuser URL of the throwaway server
    with Project.open(target if isinstance(target, str) else target.render_as_string(hide_password=False),
                      readonly=True) as ro:
        perms = ro.permissions()
        assert perms.read and not perms.edit_features and not perms.admin
        with pytest.raises(RiskmapError):
            with ro.session() as s:
                s.get(Enterprise, 1).name = "x"
        with pytest.raises(RiskmapError) as err:
            ro.execute("UPDATE enterprises SET name = 'x' WHERE id = 1")
        assert "只读" in err.value.zh
    with any_store.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM enterprises WHERE id = 1")).scalar() != "x"


def test_zoning_on_both_stores(any_store):
    """就高 zoning of the towns: each town's level is the highest level of the enterprises inside it."""
    zoning = pytest.importorskip("riskmap.grading.zoning")
    result = zoning.zone_project(any_store, "town", "max")
    towns = any_store.read_table("zones", where="kind = 'town'", columns=["id", "name", "level", "level_rule"])
    ents = any_store.read_table("enterprises", columns=["id", "level"])
    graded = ents[ents["level"].notna()]
    by_hand = {}
    for zid, poly in zip(towns["id"], towns.geometry.values):
        inside = graded[shapely.intersects(poly, graded.geometry.values)]
        if len(inside):
            by_hand[int(zid)] = int(inside["level"].min())  # level 1 is the highest (重大)
    assert len(by_hand) >= 10
    stored = {int(i): (None if pd.isna(lv) else int(lv)) for i, lv in zip(towns["id"], towns["level"])}
    for zid, level in by_hand.items():
        assert stored[zid] == level, zid
    assert {z.id: z.level for z in result.zones if z.id in by_hand} == by_hand
    dec = any_store.read_table("zone_decisions")
    assert set(by_hand) <= set(dec["zone_id"])  # each levelled town keeps the enterprises that decided it


def test_planning_check_same_on_both_stores(any_store, demo_path):
    """The encroachment check gives the same rows from the file and from PostGIS."""
    enc = pytest.importorskip("riskmap.analysis.encroachment")
    from riskmap.store import Project

    got = enc.check_encroachments(any_store)
    with Project.open(demo_path, readonly=True) as ref:
        want = enc.check_encroachments(ref)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    # by hand: every target inside the control line (that applies to all classes) is reported
    lines = any_store.read_table("control_lines")
    targets = any_store.read_table("protected_targets")
    inside = set()
    for geom, applies in zip(lines.geometry.values, lines["applies_to"]):
        if applies is None:
            inside |= set(targets.loc[shapely.within(targets.geometry.values, geom), "id"].tolist())
    reported = set(got.loc[got["object_type"] == "control_line", "target_id"].tolist())
    assert inside <= reported
