"""Schema 4 (plant layouts): a schema-3 project file — made here from the current demo by undoing what schemas 5
and 4 added — is upgraded on opening: risk points become GEOMETRY with the category and card columns, plant_plans
appears as an attributes table, the category gets its domain; GDAL reads the result; a failed upgrade changes
nothing; and the upgraded file takes areas and plans."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pyogrio
import pytest
import shapely

from riskmap.errors import RiskmapError
from riskmap.model.geometry import from_gpkg_blob, to_gpkg_blob
from riskmap.store import Project
from riskmap.store.gpkg import register_functions
from riskmap.store.migrations import RISK_POINT_COLUMNS_4, SCHEMA_VERSION


def make_schema_4(path) -> None:
    """Turn a project file of the current schema into the file riskmap 4 would have written: no ``county``
    columns (nor their indexes), no ``counties`` table."""
    from riskmap.model import COUNTY_TABLES

    con = sqlite3.connect(path)
    register_functions(con)
    with con:
        con.execute("DROP INDEX IF EXISTS ix_enterprises_county_level")
        for t in COUNTY_TABLES:
            con.execute(f"DROP INDEX IF EXISTS ix_{t}_county")
            con.execute(f"ALTER TABLE {t} DROP COLUMN county")
        con.execute("DROP TABLE counties")
        con.execute("DELETE FROM gpkg_contents WHERE table_name = 'counties'")
        con.execute("DELETE FROM gpkg_data_columns WHERE table_name = 'counties' OR column_name = 'county'")
        con.execute("UPDATE project_meta SET value = '4' WHERE key = 'schema_version'")
    con.execute("VACUUM")
    con.close()


def make_schema_3(path) -> None:
    """Turn a project file of the current schema into the file riskmap 3 would have written: point risk points
    (an area becomes its representative point), no category or card columns, no plant_plans."""
    make_schema_4(path)
    con = sqlite3.connect(path)
    register_functions(con)  # the R-tree triggers call ST_MinX …
    with con:
        rows = con.execute("SELECT id, geom FROM risk_points").fetchall()
        for rid, blob in rows:
            g = from_gpkg_blob(blob)
            if g is not None and g.geom_type != "Point":
                con.execute("UPDATE risk_points SET geom = ? WHERE id = ?",
                            (to_gpkg_blob(g.representative_point()), rid))
        for col in RISK_POINT_COLUMNS_4:
            con.execute(f"ALTER TABLE risk_points DROP COLUMN {col}")
        con.execute("DROP TABLE plant_plans")
        con.execute("DELETE FROM gpkg_contents WHERE table_name = 'plant_plans'")
        con.execute("DELETE FROM gpkg_data_columns WHERE table_name = 'plant_plans' OR "
                    "(table_name = 'risk_points' AND column_name IN (%s))" % ", ".join("?" * len(RISK_POINT_COLUMNS_4)),
                    RISK_POINT_COLUMNS_4)
        con.execute("DELETE FROM gpkg_data_column_constraints WHERE constraint_name IN "
                    "('risk_points_category', 'plant_plans_method')")
        con.execute("UPDATE gpkg_geometry_columns SET geometry_type_name = 'POINT' WHERE table_name = 'risk_points'")
        con.execute("DELETE FROM layer_styles WHERE f_table_name = 'plant_plans'")
        con.execute("UPDATE project_meta SET value = '3' WHERE key = 'schema_version'")
    con.execute("VACUUM")
    con.close()


@pytest.fixture
def v3(demo_copy):
    make_schema_3(demo_copy)
    return demo_copy


def columns(path, table) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
    finally:
        con.close()


def test_the_schema_3_file_is_what_riskmap_3_wrote(v3):
    assert "category" not in columns(v3, "risk_points") and not columns(v3, "plant_plans")
    info = pyogrio.read_info(v3, layer="risk_points")
    assert info["geometry_type"] == "Point"
    assert sqlite3.connect(v3).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_opening_upgrades_to_4(v3):
    n_points = len(pyogrio.read_dataframe(v3, layer="risk_points"))
    with Project.open(v3) as p:
        assert p.schema_version == SCHEMA_VERSION >= 4
        rps = p.read_table("risk_points")
        assert len(rps) == n_points and rps["category"].isna().all()
    assert set(RISK_POINT_COLUMNS_4) <= columns(v3, "risk_points")
    assert {"image", "transform", "gcps", "crs", "enterprise_id"} <= columns(v3, "plant_plans")
    con = sqlite3.connect(v3)
    assert con.execute("SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'risk_points'"
                       ).fetchone() == ("GEOMETRY",)
    assert con.execute("SELECT data_type, identifier FROM gpkg_contents WHERE table_name = 'plant_plans'"
                       ).fetchone() == ("attributes", "厂区平面图")
    domain = dict(con.execute("SELECT value, description FROM gpkg_data_column_constraints "
                              "WHERE constraint_name = 'risk_points_category'").fetchall())
    assert domain == {"area": "区域", "device": "装置", "facility": "设施", "place": "场所", "post": "岗位"}
    assert con.execute("SELECT constraint_name FROM gpkg_data_columns WHERE table_name = 'risk_points' "
                       "AND column_name = 'category'").fetchone() == ("risk_points_category",)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    # GDAL reads the upgraded file: risk points of any geometry type, plans as a table without geometry
    assert pyogrio.read_info(v3, layer="risk_points")["geometry_type"] == "Unknown"
    layers = dict(pyogrio.list_layers(v3))
    assert "plant_plans" in layers and layers["plant_plans"] is None


def test_the_upgraded_file_takes_areas_and_plans(v3):
    import io

    from PIL import Image

    from riskmap import plant
    from riskmap.crs import transformer

    with Project.open(v3) as p:
        ents = p.read_table("enterprises")
        e = ents.iloc[3]
        to_m, back = transformer(4490, p.metric_epsg), transformer(p.metric_epsg, 4490)
        x, y = to_m.transform(e.geometry.x, e.geometry.y)
        lon, lat = back.transform(np.array([x - 20, x + 20, x + 20, x - 20]), np.array([y - 10, y - 10, y + 10, y + 10]))
        area = shapely.Polygon(np.column_stack([lon, lat]))
        rp_id, rec, _ = plant.add_risk_point(p, int(e["id"]), name="新区域", category="area", geom=area,
                                             method="lec", inputs={"L": 1, "E": 6, "C": 7}, assessor="测试")
        buf = io.BytesIO()
        Image.new("RGB", (40, 20), "white").save(buf, format="PNG")
        res = plant.set_plan(p, int(e["id"]), buf.getvalue(), [(0, 0, lon[3], lat[3]), (40, 20, lon[1], lat[1])])
        assert res.fit.max_m < 1e-6
    df = pyogrio.read_dataframe(v3, layer="risk_points", fid_as_index=True)
    assert df.loc[rp_id].geometry.geom_type == "Polygon"
    assert df.loc[rp_id].geometry.area == pytest.approx(area.area)
    plans = pyogrio.read_dataframe(v3, layer="plant_plans", read_geometry=False)
    assert len(plans) == 1 and plans["media_type"].iloc[0] == "image/png"


def test_a_schema_3_file_reads_read_only_without_being_written(v3, tmp_path, cli):
    """Read-only (a file on a read-only share, or any command that only reads: export, info, stats …) an old
    file reads as schema 4 — the new columns empty, no plans — and its bytes stay as they were."""
    from riskmap import plant

    before = v3.read_bytes()
    os.chmod(v3, 0o444)
    try:
        with Project.open(v3, readonly=True) as p:
            assert p.schema_version == 3 and p.readonly
            rps = p.read_table("risk_points")
            assert len(rps) and set(RISK_POINT_COLUMNS_4) <= set(rps.columns)
            assert rps["category"].isna().all() and (rps.geom_type == "Point").all()
            eid = int(rps["enterprise_id"].iloc[0])
            data = plant.plant_data(p, eid)
            assert data.plan is None and len(data.points) == (rps["enterprise_id"] == eid).sum()
            assert plant.plants(p).empty
        code, out, err = cli("export", str(v3), "--format", "geojson", "--out", str(tmp_path / "rp.geojson"),
                                 "--layers", "towns")
        assert code == 0, err
    finally:
        os.chmod(v3, 0o644)
    assert v3.read_bytes() == before


def test_the_upgrade_runs_twice_without_harm(demo_copy):
    """A schema-4 file marked 3 (e.g. written by a riskmap that was interrupted after the upgrade) upgrades again."""
    con = sqlite3.connect(demo_copy)
    with con:
        con.execute("UPDATE project_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    with Project.open(demo_copy) as p:
        assert p.schema_version == SCHEMA_VERSION
        assert len(p.read_table("risk_points"))


def test_failed_upgrade_to_4_changes_nothing(v3, monkeypatch):
    from riskmap.store import migrations

    real = migrations.describe

    def half_then_fail(cur):
        real(cur)  # columns added, table made, domains written …
        raise RiskmapError("迁移失败", "migration failed")  # … then the step fails

    monkeypatch.setattr(migrations, "describe", half_then_fail)
    before = v3.read_bytes()
    with pytest.raises(RiskmapError):
        Project.open(v3)
    assert v3.read_bytes() == before
    assert not os.path.exists(str(v3) + "-journal")
    monkeypatch.undo()
    with Project.open(v3) as p:
        assert p.schema_version == SCHEMA_VERSION
