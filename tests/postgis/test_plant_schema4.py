"""Schema 4 (plant layouts) in a shared PostgreSQL + PostGIS database: a database as riskmap 3 left it is
upgraded by its owner (risk points geometry(GEOMETRY, 4490) with the new columns, plant_plans with its grants
and change notices), an editor cannot do it and is told so, and the upgraded database takes areas and plans."""

from __future__ import annotations

import io

import numpy as np
import pytest
import shapely
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import make_url

from riskmap import plant
from riskmap.crs import transformer
from riskmap.errors import RiskmapError
from riskmap.store import Project
from riskmap.store.migrations import RISK_POINT_COLUMNS_4, SCHEMA_VERSION

pytestmark = pytest.mark.postgis

DOWNGRADE = f"""
DROP TABLE plant_plans;
ALTER TABLE risk_points {', '.join(f'DROP COLUMN {c}' for c in RISK_POINT_COLUMNS_4)};
UPDATE risk_points SET geom = ST_PointOnSurface(geom) WHERE GeometryType(geom) <> 'POINT';
ALTER TABLE risk_points ALTER COLUMN geom TYPE geometry(POINT, 4490);
UPDATE project_meta SET value = '3' WHERE key = 'schema_version';
"""


@pytest.fixture
def v3_url(pg_server, pg_demo_url):
    pg_server.sql(DOWNGRADE, database=make_url(pg_demo_url).database)
    return pg_demo_url


def q(url, sql):
    with Project.open(url, readonly=True) as p, p.engine.connect() as conn:
        return conn.execute(text(sql)).all()


def test_editor_cannot_upgrade_and_is_told_who_can(v3_url, url_as):
    with pytest.raises(RiskmapError, match="所有者"):
        Project.open(url_as("bo_editor"))


def test_owner_upgrades_to_4(pg_server, v3_url, url_as):
    db = make_url(v3_url).database
    assert pg_server.sql("SELECT type FROM geometry_columns WHERE f_table_name = 'risk_points'",
                         database=db) == [("POINT",)]
    with Project.open(v3_url) as p:
        assert p.schema_version == SCHEMA_VERSION >= 4
    sql = lambda s: pg_server.sql(s, database=db)  # noqa: E731
    assert sql("SELECT type FROM geometry_columns WHERE f_table_name = 'risk_points'") == [("GEOMETRY",)]
    cols = {r[0] for r in sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'risk_points'")}
    assert set(RISK_POINT_COLUMNS_4) <= cols
    # the roles' privileges reach the new table and columns; its changes are announced like the others'
    assert sql("SELECT has_table_privilege('riskmap_editor', 'plant_plans', 'INSERT'), "
               "has_table_privilege('riskmap_viewer', 'plant_plans', 'SELECT'), "
               "has_table_privilege('riskmap_viewer', 'plant_plans', 'INSERT'), "
               "has_column_privilege('riskmap_editor', 'risk_points', 'category', 'UPDATE'), "
               "has_column_privilege('riskmap_editor', 'risk_points', 'level', 'UPDATE')") == \
        [(True, True, False, True, False)]
    triggers = {r[0] for r in sql("SELECT tgname FROM pg_trigger WHERE tgrelid = 'plant_plans'::regclass")}
    assert {"riskmap_notify_insert", "riskmap_notify_update", "riskmap_notify_delete"} <= triggers
    # now an editor opens it, and may draw a plan
    with Project.open(url_as("bo_editor")) as p:
        assert p.schema_version == SCHEMA_VERSION and len(p.read_table("risk_points"))


def test_upgraded_database_takes_areas_and_plans(v3_url):
    with Project.open(v3_url) as p:
        e = p.read_table("enterprises").iloc[5]
        eid = int(e["id"])
        to_m, back = transformer(4490, p.metric_epsg), transformer(p.metric_epsg, 4490)
        x, y = to_m.transform(e.geometry.x, e.geometry.y)
        lon, lat = back.transform(np.array([x - 30, x + 30, x + 30, x - 30]), np.array([y - 20, y - 20, y + 20, y + 20]))
        area = shapely.Polygon(np.column_stack([lon, lat]))
        rp_id, rec, ent_rec = plant.add_risk_point(p, eid, name="罐区", category="area", geom=area, method="lec",
                                                   inputs={"L": 6, "E": 6, "C": 15}, assessor="测试",
                                                   signs=["W002", "P002"])
        assert rec.level == 1 and ent_rec.level == 1  # D = 540 ≥ 320: 重大
        buf = io.BytesIO()
        Image.new("RGB", (60, 40), (10, 20, 30)).save(buf, format="PNG")
        res = plant.set_plan(p, eid, buf.getvalue(), [(0, 0, lon[3], lat[3]), (60, 40, lon[1], lat[1])])
        assert res.fit.max_m < 1e-6
        data = plant.plant_data(p, eid)
        assert data.points.loc[rp_id].geometry.equals_exact(area, 1e-9)
        assert data.points.loc[rp_id, "signs"] == ["W002", "P002"]
        assert Image.open(io.BytesIO(data.plan.image)).getpixel((5, 5)) == (10, 20, 30)
        assert data.plan.corners() == pytest.approx(np.array([[x - 30, y + 20], [x + 30, y + 20],
                                                             [x + 30, y - 20], [x - 30, y - 20]]), abs=0.01)
        listed = plant.plants(p)
        assert listed.set_index("id").loc[eid, ["has_plan", "n_areas"]].tolist() == [True, 1]
        assert p.read_table("enterprises").loc[eid, "level"] == 1
