"""Metric distances and buffers agree with pyproj's geodesics; geodesic measures and their text."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from riskmap.analysis.geodesy import ground_buffer, ground_distance, to_geographic, to_metric
from riskmap.analysis.measure import (
    format_area, format_distance, geodesic_area, geodesic_distance, geodesic_length,
)
from tests.analysis.conftest import GEOD

EPSG = 4544  # CM 105°E; its zone runs from 103.5°E to 106.5°E

# points across 会宁县 (104.50–105.52°E, 35.42–36.44°N) and near both edges of the zone
STARTS = [(104.55, 35.45), (105.0, 35.9), (105.5, 36.4), (103.56, 35.6), (106.44, 36.1)]
LENGTHS = [120.0, 850.0, 2_500.0, 9_000.0, 30_000.0]


@pytest.mark.parametrize("start", STARTS)
def test_ground_distance_matches_geodesic(start):
    lon0, lat0 = start
    az = np.array([0.0, 37.0, 90.0, 145.0, 260.0])
    for length in LENGTHS:
        lon, lat, _ = GEOD.fwd(np.full(5, lon0), np.full(5, lat0), az, np.full(5, length))
        a = to_metric(shapely.points(np.full(5, lon0), np.full(5, lat0)), EPSG)
        b = to_metric(shapely.points(lon, lat), EPSG)
        d = ground_distance(a, b, EPSG)
        assert np.abs(d - length).max() < 0.5, (start, length, d)


def test_grid_distance_alone_is_off_near_the_zone_edge():
    # 1.44° from the central meridian the grid scale is ~1.00021: 30 km on the grid is ~6 m too long,
    # which is why ground_distance corrects for it
    lon, lat, _ = GEOD.fwd(106.44, 36.1, 90.0, 30_000.0)
    a, b = to_metric(shapely.points([106.44, lon], [36.1, lat]), EPSG)
    assert shapely.distance(a, b) - 30_000.0 > 3.0


@pytest.mark.parametrize("lon", [105.0, 103.56, 106.44])
def test_ground_buffer_radius_is_geodesic(lon):
    centre = shapely.Point(lon, 35.8)
    buf = ground_buffer(np.array([to_metric(centre, EPSG)]), 800.0, EPSG, quad_segs=32)[0]
    ring = np.asarray(to_geographic(buf, EPSG).exterior.coords)
    _, _, dist = GEOD.inv(np.full(len(ring), lon), np.full(len(ring), 35.8), ring[:, 0], ring[:, 1])
    assert np.abs(dist - 800.0).max() < 0.5


def test_point_to_polygon_distance():
    # a point 300 m north of the southern edge of a 1 km box, measured to the box boundary: 300 m
    lon, lat, _ = GEOD.fwd(105.2, 35.9, 0.0, 300.0)
    box_sw = (105.2, 35.9)
    lon_e, _, _ = GEOD.fwd(105.2, 35.9, 90.0, 1000.0)
    _, lat_n, _ = GEOD.fwd(105.2, 35.9, 0.0, 1000.0)
    box = shapely.box(box_sw[0] - 0.01, box_sw[1], lon_e, lat_n)
    p_m, box_m = to_metric(np.array([shapely.Point(lon, lat), box], dtype=object), EPSG)
    d = ground_distance(p_m, shapely.boundary(box_m), EPSG)
    assert abs(float(d) - 300.0) < 0.5


def test_geodesic_length_and_distance():
    lon, lat, _ = GEOD.fwd(105.0, 35.0, 30.0, 1234.5)
    assert abs(geodesic_distance(105.0, 35.0, lon, lat) - 1234.5) < 1e-6
    lon2, lat2, _ = GEOD.fwd(lon, lat, 120.0, 500.0)
    assert abs(geodesic_length(shapely.LineString([(105.0, 35.0), (lon, lat), (lon2, lat2)])) - 1734.5) < 1e-6


def test_geodesic_area_of_a_small_box_by_hand():
    # a 0.01° × 0.01° box centred on 36°N: area ≈ (Δλ·N·cosφ)·(Δφ·M), with the GRS80 radii of curvature
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    phi = math.radians(36.0)
    w = 1 - e2 * math.sin(phi) ** 2
    n_radius = a / math.sqrt(w)
    m_radius = a * (1 - e2) / w ** 1.5
    d = math.radians(0.01)
    by_hand = (d * n_radius * math.cos(phi)) * (d * m_radius)  # ≈ 1 000 658 m²
    box = shapely.box(105.0, 35.995, 105.01, 36.005)
    assert geodesic_area(box) == pytest.approx(by_hand, rel=1e-5)
    # a hole of a quarter of the side takes 1/16 of the area away; orientation does not matter
    hole = shapely.box(105.00375, 35.99875, 105.00625, 36.00125)
    with_hole = shapely.Polygon(box.exterior.coords[::-1], [hole.exterior.coords])
    assert geodesic_area(with_hole) == pytest.approx(by_hand * 15 / 16, rel=1e-4)
    assert geodesic_area(shapely.LineString([(105, 36), (105.1, 36)])) == 0.0


def test_formats():
    assert format_distance(85.26) == "85.3 m"
    assert format_distance(999.94) == "999.9 m"
    assert format_distance(12_345.6) == "12.346 km"
    assert format_area(850.4) == "850 m²"
    assert format_area(12_345.0) == "1.23 ha"
    assert format_area(3_210_000.0) == "321.00 ha (3.21 km²)"
    assert format_distance(float("nan")) == "-"
