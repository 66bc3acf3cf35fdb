"""db push / db pull: the demo goes to PostGIS and back, every table equal row by row."""

from __future__ import annotations

import shutil
import sqlite3

import pyogrio
import pytest
import shapely
from sqlalchemy import select

from riskmap.errors import RiskmapError
from riskmap.grading.enterprise import override_level
from riskmap.model import MODEL_CLASSES, Base, Enterprise, ProtectedTarget
from riskmap.model.geometry import Geometry, from_gpkg_blob
from riskmap.store import Project
from riskmap.store.sync import pull, push

pytestmark = pytest.mark.postgis


def _edited_demo(demo_path, tmp_path):
    """The demo with some history: edits, an override, and the newest protected target deleted."""
    path = tmp_path / "edited.gpkg"
    shutil.copy(demo_path, path)
    with Project.open(path) as p:
        with p.session() as s:
            s.get(Enterprise, 1).name = "示例改名后化工有限公司"
            override_level(s, s.get(Enterprise, 2), 1, reason="示例：专家论证", assessor="示例专家")
            last = s.scalars(select(ProtectedTarget).order_by(ProtectedTarget.id.desc()).limit(1)).one()
            s.delete(last)
    return path


def _rows(path, table):
    conn = sqlite3.connect(path)
    try:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        return cols, conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        conn.close()


def _same(a, b, col) -> bool:
    if col == "geom" and a is not None and b is not None:
        return shapely.equals_exact(from_gpkg_blob(a), from_gpkg_blob(b), 1e-9)
    return a == b


def test_push_pull_round_trips_every_row(pg_server, pg_empty_url, demo_path, tmp_path):
    src = _edited_demo(demo_path, tmp_path)
    result = push(src, pg_empty_url)
    assert result.rows["edit_history"] >= 3 and result.rows["assessments"] > 0
    deleted_target_id = max(r[0] for r in _rows(demo_path, "protected_targets")[1])

    # the database holds exactly the file's rows (compared through the ORM: types and geometry)
    with Project.open(src, readonly=True) as a, Project.open(pg_empty_url, readonly=True) as b:
        assert a.counts() == b.counts()
        with a.reader() as sa, b.reader() as sb:
            for cls in MODEL_CLASSES:
                pk = list(cls.__table__.primary_key.columns)
                ra = [o.as_dict() for o in sa.scalars(select(cls).order_by(*pk))]
                rb = [o.as_dict() for o in sb.scalars(select(cls).order_by(*pk))]
                assert len(ra) == len(rb), cls.__tablename__
                for x, y in zip(ra, rb):
                    for key in x:
                        if cls.__tablename__ == "counties" and key in ("pushed_at", "pushed_by", "source"):
                            assert y[key] is not None  # the database says when, by whom and from which file
                            continue
                        if isinstance(x[key], shapely.Geometry):
                            assert shapely.equals_exact(x[key], y[key], 1e-9), (cls.__tablename__, key)
                        else:
                            assert x[key] == y[key], (cls.__tablename__, key, x[key], y[key])
        assert b.meta() == a.meta() and b.is_demo

    # ids are never reused: the deleted target's id stays taken on the server
    with Project.open(pg_empty_url) as b:
        with b.session() as s:
            t = ProtectedTarget(name="示例新学校", kind="school", geom=shapely.Point(105, 35.9))
            s.add(t)
        assert t.id == deleted_target_id + 1

    # and back into a file: byte-for-byte the same rows, counters and all (except the new target)
    out = tmp_path / "pulled.gpkg"
    pull(pg_empty_url, out)
    for table in [t.name for t in Base.metadata.sorted_tables]:
        cols, ra = _rows(src, table)
        cols_b, rb = _rows(out, table)
        assert cols == cols_b
        if table == "protected_targets":
            assert rb[-1][cols.index("name")] == "示例新学校"
            rb = rb[:-1]
        if table == "edit_history":
            rb = [r for r in rb if r[cols.index("table_name")] != "protected_targets" or r[cols.index("action")] != "insert"]
        assert len(ra) == len(rb), table
        if table == "counties":  # the pull keeps the push's stamp (when, by whom, from which file)
            ra, rb = [r[:3] for r in ra], [r[:3] for r in rb]
        for x, y in zip(ra, rb):
            assert all(_same(p, q, c) for p, q, c in zip(x, y, cols)), (table, x, y)
    seq_a = dict(sqlite3.connect(src).execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    seq_b = dict(sqlite3.connect(out).execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    seq_a["protected_targets"] = deleted_target_id + 1
    assert {k: v for k, v in seq_b.items() if k != "edit_history"} == \
        {k: v for k, v in seq_a.items() if k != "edit_history"}

    # GDAL reads the pulled file as it is
    layers = dict(pyogrio.list_layers(out))
    assert layers["enterprises"] == "Point" and layers["zones"] == "MultiPolygon"
    ents = pyogrio.read_dataframe(out, layer="enterprises")
    assert len(ents) == _rows(src, "enterprises")[1].__len__() and ents.crs.to_epsg() == 4490
    assert ents.loc[ents["name"] == "示例改名后化工有限公司"].shape[0] == 1
    with Project.open(out) as p:
        assert p.is_demo and p.read_table("edit_history")["user"].notna().all()


def test_push_refuses_a_database_that_holds_a_project(pg_demo_url, demo_path, tmp_path):
    before = Project.open(pg_demo_url, readonly=True)
    n = before.counts()
    before.close()
    with pytest.raises(RiskmapError) as err:
        push(demo_path, pg_demo_url)
    assert "--replace" in err.value.zh
    src = _edited_demo(demo_path, tmp_path)
    push(src, pg_demo_url, replace=True)
    with Project.open(pg_demo_url, readonly=True) as p:
        assert p.counts()["protected_targets"] == n["protected_targets"] - 1
        assert p.counts()["edit_history"] >= 3


def test_failed_push_and_pull_change_nothing(pg_empty_url, pg_demo_url, demo_path, tmp_path):
    calls = []

    def cancel_late():
        calls.append(1)
        return len(calls) > 8

    with pytest.raises(RiskmapError) as err:
        push(demo_path, pg_empty_url, cancel=cancel_late)
    assert "已取消" in err.value.zh
    with pytest.raises(RiskmapError) as err:  # the schema was rolled back with the data
        Project.open(pg_empty_url)
    assert "没有 riskmap 项目" in err.value.zh

    out = tmp_path / "existing.gpkg"
    shutil.copy(demo_path, out)
    before = out.read_bytes()
    calls.clear()
    with pytest.raises(RiskmapError):
        pull(pg_demo_url, out, overwrite=True, cancel=cancel_late)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.gpkg"]  # no temporary file left


def test_pulled_file_holds_no_credentials(pg_server, pg_demo_url, pg_users, tmp_path):
    from sqlalchemy.engine import make_url

    db = make_url(pg_demo_url).database
    out = tmp_path / "copy.gpkg"
    pull(pg_server.url(db, "ann_viewer", pg_users["ann_viewer"]), out)  # a viewer may copy the project
    data = out.read_bytes()
    assert pg_users["ann_viewer"].encode() not in data
    assert str(pg_server.socket_dir).encode() not in data
    with Project.open(out) as p:
        assert p.counts()["enterprises"] > 0


def test_geometry_columns_are_typed_and_indexed(pg_demo_url, pg_server):
    from sqlalchemy.engine import make_url

    db = make_url(pg_demo_url).database
    cols = {t: (g, srid) for t, g, srid in pg_server.sql(
        "SELECT f_table_name, type, srid FROM geometry_columns", database=db)}
    gist = {t for (t,) in pg_server.sql(
        "SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist (geom)%'", database=db)}
    for cls in MODEL_CLASSES:
        geom = [c for c in cls.__table__.columns if isinstance(c.type, Geometry)]
        if geom:
            assert cols[cls.__tablename__] == (cls.__geometry__, 4490)
            assert cls.__tablename__ in gist
    assert len(cols) == len(gist) == sum(1 for c in MODEL_CLASSES if c.__geometry__)
