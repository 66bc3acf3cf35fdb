"""Geodesic measurement on the CGCS2000 ellipsoid: lengths, areas, and their text in m / km / ha.

>>> import shapely
>>> round(geodesic_length(shapely.LineString([(105, 35), (105, 35.01)])), 1)
1109.4
>>> format_distance(1109.4), format_distance(85.26)
('1.109 km', '85.3 m')
>>> format_area(12_345.0), format_area(850.0), format_area(2_500_000.0)
('1.23 ha', '850 m²', '250.00 ha (2.50 km²)')
"""

from __future__ import annotations

import math

import shapely

from riskmap.analysis.geodesy import geod


def geodesic_length(geom) -> float:
    """Length in metres of a (multi)line or polygon outline in EPSG:4490, along geodesics."""
    if geom is None or geom.is_empty:
        return 0.0
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return abs(geod().geometry_area_perimeter(geom)[1])
    return float(geod().geometry_length(geom))


def geodesic_area(geom) -> float:
    """Area in square metres of a (multi)polygon in EPSG:4490 (holes subtracted); 0 for other types."""
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return 0.0
    total = 0.0
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            # pyproj signs the area by ring orientation; orient so the shell counts positive, holes negative
            total += abs(geod().geometry_area_perimeter(shapely.geometry.polygon.orient(part, 1.0))[0])
    return total


def geodesic_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance in metres between two points in EPSG:4490."""
    return float(geod().inv(lon1, lat1, lon2, lat2)[2])


def format_distance(metres: float) -> str:
    """``m`` below 1 km (one decimal), ``km`` above (three decimals)."""
    if metres is None or not math.isfinite(metres):
        return "-"
    if abs(metres) < 1000:
        return f"{metres:.1f} m"
    return f"{metres / 1000:.3f} km"


def format_area(square_metres: float) -> str:
    """``m²`` below 1 ha, ``ha`` above, with ``km²`` added from 1 km² up."""
    a = square_metres
    if a is None or not math.isfinite(a):
        return "-"
    if abs(a) < 10_000:
        return f"{a:.0f} m²"
    if abs(a) < 1_000_000:
        return f"{a / 10_000:.2f} ha"
    return f"{a / 10_000:.2f} ha ({a / 1e6:.2f} km²)"
