"""The project file is a valid OGC GeoPackage that GDAL reads: contents, geometry columns, R-tree."""

from __future__ import annotations

import sqlite3

import pyogrio
import pytest

from riskmap.model import FEATURE_CLASSES, MODEL_CLASSES
from riskmap.store import Project
from riskmap.store.gpkg import APPLICATION_ID


def test_header_ids(demo_path):
    conn = sqlite3.connect(demo_path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] in (10200, 10300, 10400)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_contents_and_geometry_columns(demo_path):
    conn = sqlite3.connect(demo_path)
    contents = {r[0]: r for r in conn.execute(
        "SELECT table_name, data_type, srs_id, min_x, min_y, max_x, max_y FROM gpkg_contents")}
    for cls in MODEL_CLASSES:
        row = contents[cls.__tablename__]
        assert row[1] == ("features" if cls.__geometry__ else "attributes")
    geomcols = {r[0]: r for r in conn.execute("SELECT * FROM gpkg_geometry_columns")}
    assert set(geomcols) == {c.__tablename__ for c in FEATURE_CLASSES}
    for cls in FEATURE_CLASSES:
        t, col, gtype, srs, z, m = geomcols[cls.__tablename__]
        assert (col, gtype, srs, z, m) == ("geom", cls.__geometry__, 4490, 0, 0)
    srs = dict(conn.execute("SELECT srs_id, organization_coordsys_id FROM gpkg_spatial_ref_sys"))
    assert srs[4490] == 4490 and {-1, 0, 4326} <= set(srs)
    # the county's extent is recorded and plausible for 会宁县
    minx, miny, maxx, maxy = contents["zones"][3:]
    assert 104 < minx < maxx < 106 and 35 < miny < maxy < 37


def test_rtree_matches_features(demo_path):
    conn = sqlite3.connect(demo_path)
    for cls in FEATURE_CLASSES:
        t = cls.__tablename__
        n_features = conn.execute(f"SELECT count(*) FROM {t} WHERE geom IS NOT NULL").fetchone()[0]
        n_rtree = conn.execute(f"SELECT count(*) FROM rtree_{t}_geom").fetchone()[0]
        assert n_rtree == n_features, t
        ext = conn.execute("SELECT extension_name FROM gpkg_extensions WHERE table_name=?", (t,)).fetchone()
        assert ext == ("gpkg_rtree_index",)
    # a point's R-tree box is the point itself (float32 rounding aside)
    fid, minx, maxx, miny, maxy = conn.execute("SELECT * FROM rtree_enterprises_geom LIMIT 1").fetchone()
    with Project.open(demo_path, readonly=True) as p:
        pt = p.read_table("enterprises").geometry.loc[fid]
    assert minx == pytest.approx(pt.x, abs=1e-4) and maxy == pytest.approx(pt.y, abs=1e-4)


def test_rtree_follows_edits(demo_copy):
    import shapely
    from riskmap.model import Enterprise

    with Project.open(demo_copy) as p:
        with p.session() as s:
            e = s.get(Enterprise, 5)
            e.geom = shapely.Point(105.5, 36.0)
    conn = sqlite3.connect(demo_copy)
    row = conn.execute("SELECT minx, maxy FROM rtree_enterprises_geom WHERE id=5").fetchone()
    assert row[0] == pytest.approx(105.5, abs=1e-4) and row[1] == pytest.approx(36.0, abs=1e-4)


def test_gdal_reads_every_layer(demo_path):
    layers = dict(pyogrio.list_layers(demo_path))
    with Project.open(demo_path, readonly=True) as p:
        counts = p.counts()
    for cls in MODEL_CLASSES:
        t = cls.__tablename__
        assert t in layers
        info = pyogrio.read_info(demo_path, layer=t)
        assert info["features"] == counts[t]
        if cls.__geometry__:
            assert info["crs"] == "EPSG:4490"
            gdf = pyogrio.read_dataframe(demo_path, layer=t)
            assert len(gdf) == counts[t]
            assert gdf.geometry.is_valid.all() or t == "lifelines"
    ents = pyogrio.read_dataframe(demo_path, layer="enterprises")
    assert ents["name"].str.startswith("示例").all()


def test_assessments_are_immutable(demo_copy):
    conn = sqlite3.connect(demo_copy)
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        conn.execute("UPDATE assessments SET level = 1 WHERE id = 1")


def test_older_schema_is_migrated(demo_copy, monkeypatch):
    """A project of an older schema version is upgraded on open, step by step, in one transaction."""
    from sqlalchemy import text

    from riskmap.store import migrations, project as project_mod

    def add_column(conn):
        conn.execute(text("ALTER TABLE enterprises ADD COLUMN migrated_note TEXT DEFAULT '已迁移'"))

    now = migrations.SCHEMA_VERSION
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", now + 1)
    monkeypatch.setattr(project_mod, "SCHEMA_VERSION", now + 1)
    monkeypatch.setitem(migrations.MIGRATIONS, now, add_column)
    with Project.open(demo_copy) as p:
        assert p.schema_version == now + 1
    conn = sqlite3.connect(demo_copy)
    assert conn.execute("SELECT migrated_note FROM enterprises LIMIT 1").fetchone() == ("已迁移",)


def test_failed_migration_changes_nothing(demo_copy, monkeypatch):
    from riskmap.errors import RiskmapError
    from riskmap.store import migrations, project as project_mod

    def broken(conn):
        conn.exec_driver_sql("ALTER TABLE enterprises ADD COLUMN half TEXT")
        raise RiskmapError("迁移失败", "migration failed")

    before = demo_copy.read_bytes()
    now = migrations.SCHEMA_VERSION
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", now + 1)
    monkeypatch.setattr(project_mod, "SCHEMA_VERSION", now + 1)
    monkeypatch.setitem(migrations.MIGRATIONS, now, broken)
    with pytest.raises(RiskmapError):
        Project.open(demo_copy)
    assert demo_copy.read_bytes() == before


def test_version_1_file_exports_read_only(demo_copy, tmp_path):
    """A GeoPackage made before the PostgreSQL-only history step (schema 1) still opens read-only and exports
    (the step changes nothing in a GeoPackage); opened for writing, it is brought up to the current version."""
    import subprocess
    import sys

    from riskmap.store import migrations

    conn = sqlite3.connect(demo_copy)
    with conn:
        conn.execute("UPDATE project_meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    out = tmp_path / "old.geojson"
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "export", str(demo_copy), "--format", "geojson",
                        "--out", str(out), "--layers", "towns"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(pyogrio.read_dataframe(out)) > 0
    with Project.open(demo_copy, readonly=True) as p:
        assert p.schema_version == 1
    with Project.open(demo_copy) as p:
        assert p.schema_version == migrations.SCHEMA_VERSION
