"""Every model class round-trips through the GeoPackage: write, close, reopen, equal."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from sqlalchemy import Boolean, Date, Float, Integer, LargeBinary, Text, select

from riskmap.model import MODEL_CLASSES, Base, Enterprise, HiddenDanger, Indicator, RiskPoint, Zone
from riskmap.model.base import JSONText, Timestamp
from riskmap.model.geometry import Geometry
from riskmap.store import Project

GEOMS = {
    "POINT": shapely.Point(105.123456789, 35.654321987),
    "MULTIPOLYGON": shapely.MultiPolygon([shapely.Polygon(
        [(105.0, 35.0), (105.2, 35.0), (105.2, 35.2), (105.0, 35.2)],
        holes=[[(105.05, 35.05), (105.1, 35.05), (105.1, 35.1), (105.05, 35.1)]])]),
    "MULTILINESTRING": shapely.MultiLineString([[(105.0, 35.0), (105.1, 35.05), (105.3, 35.1)]]),
    # any type (risk points: a point or an area): a polygon stays a polygon
    "GEOMETRY": shapely.Polygon([(105.0, 35.0), (105.01, 35.0), (105.01, 35.01), (105.0, 35.0)]),
}


def sample_value(col, i: int):
    """A distinctive value for a column, by its type (foreign keys point at row 1 of the parent)."""
    t = col.type
    if col.foreign_keys:
        return 1
    if isinstance(t, Geometry):
        return GEOMS[t.geometry_type]
    if isinstance(t, JSONText):
        return {"键": f"值{i}", "n": i, "list": [1, 2.5, None]}
    if isinstance(t, Timestamp):
        return dt.datetime(2025, 3, 4, 5, 6, 7)
    if isinstance(t, Boolean):
        return True
    if isinstance(t, Date):
        return dt.date(2025, 12, 31)
    if isinstance(t, Integer):
        return 7 + i
    if isinstance(t, Float):
        return 3.25 + i
    if isinstance(t, Text):
        return f"测试值-{col.name}-{i}"
    if isinstance(t, LargeBinary):
        return bytes(range(256)) + "图像✓".encode()
    raise AssertionError(f"no sample for {col}")


def build_rows():
    rows = {}
    for cls in MODEL_CLASSES:
        values = {}
        for i, col in enumerate(cls.__table__.columns):
            if col.primary_key and isinstance(col.type, Integer):
                values[col.key] = 1
            elif col.name == "version":
                values[col.key] = 1
            else:
                values[col.key] = sample_value(col, i)
        rows[cls] = values
    return rows


def test_every_model_class_round_trips(tmp_path):
    rows = build_rows()

    def fill(project):
        with project.session(history=False) as s:
            # parents first: a zone, an enterprise, a risk point, a danger, an indicator
            for cls in [Zone, Enterprise, RiskPoint, HiddenDanger, Indicator] + [
                    c for c in MODEL_CLASSES if c not in (Zone, Enterprise, RiskPoint, HiddenDanger, Indicator)]:
                s.add(cls(**rows[cls]))
                s.flush()

    path = tmp_path / "rt.gpkg"
    Project.create(path, name="往返测试", build=fill).close()
    with Project.open(path) as project:
        s = project.reader()
        for cls, values in rows.items():
            pk = [c.key for c in cls.__table__.primary_key.columns]
            obj = s.execute(select(cls)).scalars().all()
            obj = [o for o in obj if all(getattr(o, k) == values[k] for k in pk)]
            assert len(obj) == 1, cls
            got = obj[0].as_dict()
            for key, want in values.items():
                if isinstance(want, shapely.Geometry):
                    assert shapely.equals_exact(got[key], want, tolerance=0), (cls, key)
                elif isinstance(want, float):
                    assert got[key] == pytest.approx(want), (cls, key)
                else:
                    assert got[key] == want, (cls, key)
        s.close()


def test_polygon_promoted_to_multipolygon(tmp_path):
    path = tmp_path / "p.gpkg"

    def fill(project):
        with project.session() as s:
            s.add(Zone(name="单面", kind="custom", geom=shapely.box(105, 35, 105.1, 35.1)))

    Project.create(path, name="t", build=fill).close()
    with Project.open(path) as project:
        gdf = project.read_table("zones")
    assert gdf.geometry.iloc[0].geom_type == "MultiPolygon"
    assert gdf.crs.to_epsg() == 4490


def test_read_table_matches_orm(demo_path):
    with Project.open(demo_path, readonly=True) as project:
        gdf = project.read_table("enterprises")
        s = project.reader()
        ents = s.execute(select(Enterprise).order_by(Enterprise.id)).scalars().all()
        assert list(gdf.index) == [e.id for e in ents]
        for e in ents[:50]:
            row = gdf.loc[e.id]
            assert row["name"] == e.name and row["level"] == e.level
            assert row.geometry.equals(e.geom)
        s.close()


def test_metadata_table_has_no_geometry_registered():
    assert Base.metadata.tables["project_meta"] is not None
