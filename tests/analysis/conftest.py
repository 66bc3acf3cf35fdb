"""Hand-built places for the analysis tests: objects put at exact geodesic distances from an origin."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
import shapely

from riskmap.store import Project

GEOD = pyproj.Geod(ellps="GRS80")  # CGCS2000's ellipsoid (its flattening differs from GRS80's by 1e-14)
ORIGIN = (105.2, 35.9)  # inside 会宁县, Gauss–Krüger zone CM 105°E (EPSG:4544)
EPSG = 4544


def at(dx: float, dy: float, origin=ORIGIN) -> shapely.Point:
    """The point ``hypot(dx, dy)`` metres from ``origin`` along the geodesic of azimuth atan2(dx, dy)."""
    if dx == 0 and dy == 0:
        return shapely.Point(origin)
    az = math.degrees(math.atan2(dx, dy))
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], az, math.hypot(dx, dy))
    return shapely.Point(lon, lat)


def circle(radius: float, centre=ORIGIN, n: int = 720) -> shapely.Polygon:
    """A polygon whose vertices lie exactly ``radius`` geodesic metres from ``centre``."""
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lon, lat, _ = GEOD.fwd(np.full(n, centre[0]), np.full(n, centre[1]), az, np.full(n, radius))
    return shapely.Polygon(np.column_stack([lon, lat]))


def square(half: float, cx: float = 0.0, cy: float = 0.0) -> shapely.Polygon:
    """A square of ``2·half`` metres around the point (cx, cy) metres from the origin (corners by geodesics)."""
    corners = [at(cx - half, cy - half), at(cx + half, cy - half), at(cx + half, cy + half), at(cx - half, cy + half)]
    return shapely.Polygon([(p.x, p.y) for p in corners])


def multi(poly) -> shapely.MultiPolygon:
    return poly if poly.geom_type == "MultiPolygon" else shapely.MultiPolygon([poly])


def geodesic(a: shapely.Point, b: shapely.Point) -> float:
    return GEOD.inv(a.x, a.y, b.x, b.y)[2]


@pytest.fixture
def blank(tmp_path):
    """An empty project in the CM 105°E zone (no demo flag), open for writing."""
    project = Project.create(tmp_path / "blank.gpkg", name="测试项目", metric_epsg=EPSG)
    yield project
    project.close()
