"""Tests for riskmap.crs: Gauss–Krüger zones, GCJ-02/BD-09 and DMS parsing."""

import numpy as np
import pyproj
import pytest
import shapely
from shapely import LineString, Point, Polygon

from riskmap import crs
from riskmap.crs import (
    CGCS2000,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_coords,
    convert_geometry,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    gk_zone_epsg,
    gk_zone_epsg_for,
    out_of_china,
    parse_dms,
    to_geographic,
    to_metric,
    transformer,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from riskmap.errors import RiskmapError

GEOD = pyproj.Geod(ellps="GRS80")


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# --------------------------------------------------------------------------- Gauss–Krüger


@pytest.mark.parametrize(
    "place, lon, epsg, cm",
    [
        ("嘉善", 120.9, 4549, 120),
        ("历城", 117.1, 4548, 117),
        ("叶集", 115.9, 4548, 117),  # round(115.9 / 3) = 39 -> CM 117E
        ("会宁", 105.05, 4544, 105),
        ("商河", 117.2, 4548, 117),
    ],
)
def test_gk_zone_seed_places(place, lon, epsg, cm):
    assert gk_zone_epsg(lon) == epsg
    name = pyproj.CRS.from_epsg(epsg).name
    assert "CGCS2000" in name and f"CM {cm}E" in name, (place, name)


def test_gk_zone_all_codes_match_pyproj_names():
    for cm in range(75, 136, 3):
        epsg = gk_zone_epsg(cm + 1.2)
        assert pyproj.CRS.from_epsg(epsg).name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
    assert gk_zone_epsg(73.6) == 4534  # westernmost China (Pamir) still in CM 75E
    assert gk_zone_epsg(135.0) == 4554  # Fuyuan, Heilongjiang
    assert gk_zone_epsg(118.5) == 4549  # halves round up


@pytest.mark.parametrize("lon", [10.0, 60.0, 72.0, 137.0, 200.0, float("nan"), "abc"])
def test_gk_zone_outside_china(lon):
    with pytest.raises(RiskmapError):
        gk_zone_epsg(lon)


def test_gk_zone_for_geometries():
    assert gk_zone_epsg_for([Point(105.0, 35.0), Point(105.4, 35.9)]) == 4544
    with pytest.raises(RiskmapError):
        gk_zone_epsg_for([])


# --------------------------------------------------------------------------- pyproj helpers


def test_transformer_cached_and_always_xy():
    t1 = transformer(4490, "EPSG:4544")
    t2 = transformer("EPSG:4490", 4544)
    assert t1 is t2
    x, y = t1.transform(105.0, 35.0)
    assert x == pytest.approx(500000.0, abs=1e-6)
    assert 3_800_000 < y < 3_900_000
    with pytest.raises(RiskmapError):
        transformer("EPSG:4490", "EPSG:999999")


def test_to_metric_and_back():
    geoms = np.array([Point(105.05, 35.69), LineString([(105, 35), (105.1, 35.1)]), None], dtype=object)
    metric = to_metric(geoms, 4544)
    assert metric.shape == (3,) and metric[2] is None
    assert metric[0].x == pytest.approx(500000 + 0.05 * 111_320 * np.cos(np.radians(35.69)), rel=2e-3)
    back = to_geographic(metric, 4544)
    assert shapely.equals_exact(back[0], geoms[0], tolerance=1e-9)
    assert shapely.equals_exact(back[1], geoms[1], tolerance=1e-9)
    # the zone is chosen automatically
    assert to_metric(Point(105.05, 35.69)).equals_exact(metric[0], 1e-6)


def test_to_metric_geoseries():
    gpd = pytest.importorskip("geopandas")
    s = gpd.GeoSeries([Point(120.92, 30.84)], crs=CGCS2000)
    m = to_metric(s, 4549)
    assert m.crs.to_epsg() == 4549
    assert to_geographic(m, 4549).crs.to_epsg() == 4490


# --------------------------------------------------------------------------- GCJ-02 / BD-09 vectors

# wgs84 -> gcj02 published pairs (lon, lat):
# - googollee/eviltransform go/transform_test.go and python/test.py (shanghai, shenzhen, beijing)
# - wandergis/coordtransform test/app.js (wgs84togcj02 116.404, 39.915)
# - hujiulong/gcoord test/unit/crs/WGS84.spec.ts (123, 45)
WGS_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ((123.0, 45.0), (123.00607541, 45.00197815)),
]


@pytest.mark.parametrize("wgs, gcj", WGS_GCJ)
def test_wgs84_to_gcj02_published(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert isinstance(lon, float) and isinstance(lat, float)
    assert lon == pytest.approx(gcj[0], abs=1e-8)
    assert lat == pytest.approx(gcj[1], abs=1e-8)


@pytest.mark.parametrize("wgs, gcj", WGS_GCJ)
def test_gcj02_to_wgs84_published(wgs, gcj):
    lon, lat = gcj02_to_wgs84(*gcj)
    assert metres(lon, lat, *wgs) < 0.01


def test_gcj_vectorised_matches_scalar():
    wgs = np.array([w for w, _ in WGS_GCJ])
    gcj = np.array([g for _, g in WGS_GCJ])
    lon, lat = wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    np.testing.assert_allclose(lon, gcj[:, 0], atol=1e-8)
    np.testing.assert_allclose(lat, gcj[:, 1], atol=1e-8)
    lon2d, lat2d = wgs84_to_gcj02(wgs[:, 0].reshape(5, 1), wgs[:, 1].reshape(5, 1))
    assert lon2d.shape == (5, 1)


# BD-09 published values. Exact forward: coordtransform gcj02tobd09(116.404, 39.915).
# Through the usual closed-form inverse (which riskmap refines, moving results by < 1e-6 degree,
# about 0.1 m): coordtransform bd09togcj02(116.404, 39.915); gcoord BD09.spec.ts (123, 45).
def test_gcj02_to_bd09_published():
    lon, lat = gcj02_to_bd09(116.404, 39.915)
    assert (lon, lat) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-10)
    lon, lat = gcj02_to_bd09(123.0, 45.0)  # gcoord GCJ02.spec.ts
    assert (lon, lat) == pytest.approx((123.00636499, 45.00636899), abs=1e-8)
    lon, lat = wgs84_to_bd09(123.0, 45.0)  # gcoord WGS84.spec.ts
    assert (lon, lat) == pytest.approx((123.0124491, 45.0083293), abs=1e-7)


def test_bd09_inverse_published():
    assert bd09_to_gcj02(116.404, 39.915) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-6)
    assert bd09_to_gcj02(123.0, 45.0) == pytest.approx((122.99363304, 44.99365430), abs=1e-6)
    assert bd09_to_wgs84(123.0, 45.0) == pytest.approx((122.98762210, 44.99171540), abs=1e-6)


def china_grid():
    lon, lat = np.meshgrid(np.arange(73.7, 135.05, 0.37), np.arange(18.1, 53.5, 0.29))
    return lon.ravel(), lat.ravel()


def test_gcj_round_trip_grid_under_half_metre():
    lon, lat = china_grid()
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = metres(lon, lat, glon, glat)
    assert shift.min() > 1.0 and shift.max() < 1000.0  # the offset is real, and hundreds of metres at most
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    err = metres(lon, lat, wlon, wlat)
    assert err.max() < 0.5
    assert np.abs(wlon - lon).max() < 1e-7 and np.abs(wlat - lat).max() < 1e-7
    # and gcj -> wgs -> gcj
    g2lon, g2lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, g2lon, g2lat).max() < 0.5


def test_bd09_round_trip_grid():
    lon, lat = china_grid()
    blon, blat = wgs84_to_bd09(lon, lat)
    assert metres(lon, lat, blon, blat).max() < 2000.0
    wlon, wlat = bd09_to_wgs84(blon, blat)
    assert metres(lon, lat, wlon, wlat).max() < 0.5
    glon, glat = gcj02_to_bd09(*bd09_to_gcj02(lon, lat))
    assert np.abs(glon - lon).max() < 1e-9 and np.abs(glat - lat).max() < 1e-9


def test_out_of_china_identity():
    pts = [(0.0, 0.0), (-0.1276, 51.5072), (139.69, 35.69), (151.2, -33.9), (183.0, 45.0), (100.0, 60.0)]
    for lon, lat in pts:
        assert out_of_china(lon, lat)
        assert wgs84_to_gcj02(lon, lat) == (lon, lat)
        assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert not out_of_china(105.0, 35.0)
    mask = out_of_china(np.array([0.0, 105.0]), np.array([0.0, 35.0]))
    assert mask.tolist() == [True, False]


def test_nan_and_empty_arrays():
    lon, lat = gcj02_to_wgs84(np.array([np.nan, 116.404]), np.array([39.9, 39.915]))
    assert np.isnan(lon[0]) and np.isfinite(lon[1])
    lon, lat = gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.shape == (0,)


# --------------------------------------------------------------------------- geometries


def test_convert_geometry_gcj02_and_bd09():
    wgs = Polygon([(105.0, 35.6), (105.1, 35.6), (105.1, 35.7), (105.0, 35.7)])
    gcj = shapely.transform(wgs, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1])))
    bd = shapely.transform(wgs, lambda c: np.column_stack(wgs84_to_bd09(c[:, 0], c[:, 1])))
    out = convert_geometry(np.array([gcj, None]), "gcj02")
    assert out.shape == (2,) and out[1] is None
    assert shapely.equals_exact(out[0], wgs, tolerance=1e-8)
    assert shapely.equals_exact(convert_geometry(bd, "BD-09"), wgs, tolerance=1e-8)
    assert convert_geometry(wgs, "wgs84").equals(wgs)
    assert convert_geometry([wgs], 4490)[0].equals(wgs)


def test_convert_geometry_epsg():
    p = Point(500000.0, 3950000.0)
    out = convert_geometry(p, 4544)
    assert out.x == pytest.approx(105.0, abs=1e-9)
    assert 35.0 < out.y < 36.0
    assert convert_geometry([p], "EPSG:4544")[0].equals_exact(out, 1e-12)
    with pytest.raises(RiskmapError):
        convert_geometry(p, "mars2")


def test_convert_coords():
    lon, lat = convert_coords(116.41024449916938, 39.91640428150164, "gcj02")
    assert (lon, lat) == pytest.approx((116.404, 39.915), abs=1e-8)
    assert convert_coords(105.0, 35.0, "cgcs2000") == (105.0, 35.0)


# --------------------------------------------------------------------------- DMS


@pytest.mark.parametrize(
    "text, value",
    [
        ("105°12′30″", 105 + 12 / 60 + 30 / 3600),
        ("105°12'30\"E", 105 + 12 / 60 + 30 / 3600),
        ("东经105度12分30秒", 105 + 12 / 60 + 30 / 3600),
        ("北纬35度30分", 35.5),
        ("N35.5", 35.5),
        ("35.5N", 35.5),
        ("S35.5", -35.5),
        ("西经 73°", -73.0),
        ("35°30.5′", 35 + 30.5 / 60),
        ("35°30′15.5″N", 35 + 30 / 60 + 15.5 / 3600),
        ("105° 12′ 30″ E", 105 + 12 / 60 + 30 / 3600),
        ("105 12 30", 105 + 12 / 60 + 30 / 3600),
        ("105:12:30", 105 + 12 / 60 + 30 / 3600),
        ("105°12’30”", 105 + 12 / 60 + 30 / 3600),
        ("105°12′30''", 105 + 12 / 60 + 30 / 3600),
        ("１０５．５°", 105.5),
        ("-105.25", -105.25),
        ("  117.07 ", 117.07),
        (117.07, 117.07),
    ],
)
def test_parse_dms(text, value):
    assert parse_dms(text) == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "E", "N35N", "105°70′", "105°12′60″", "12.5°30′", "95N", "200",
     "30′10°", "E-5", "105°12′30″x", "1.2.3", None, [105], float("nan"), "105,5"],
)  # fmt: skip
def test_parse_dms_errors(text):
    with pytest.raises(RiskmapError) as info:
        parse_dms(text)
    assert "经纬度" in info.value.zh or "度数" in info.value.zh


def test_core_modules_do_not_import_qt():
    import ast
    from pathlib import Path

    root = Path(crs.__file__).parent
    for name in ("crs.py", "places.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            assert not any(m.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6") for m in mods), name


def test_reproject_arrays_frames_and_empties():
    import threading

    import geopandas as gpd

    pts = np.array([[Point(105.0, 35.0), Point()], [LineString([(105, 35), (105.01, 35)]), None]], dtype=object)
    out = crs.reproject(pts, 4490, 4544)
    assert out.shape == (2, 2) and out[0, 1].is_empty and out[1, 1] is None
    assert round(out[0, 0].x) == 500000 and round(out[1, 0].length) == 913  # 0.01° of longitude at 35°N (geodesic 912.9 m)
    assert crs.reproject(np.array([], dtype=object), 4490, 4544).shape == (0,)
    back = crs.reproject(out[0, 0], 4544, "EPSG:4490")
    assert abs(back.x - 105.0) < 1e-9 and abs(back.y - 35.0) < 1e-9
    gdf = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(105.0, 35.0)], crs=4490)
    m = crs.reproject(gdf, 4326, 4544)  # the frame's own CRS wins over ``src``
    assert m.crs.to_epsg() == 4544 and round(m.geometry.iloc[0].x) == 500000 and list(m["n"]) == [1]
    bare = crs.reproject(gpd.GeoSeries([Point(105.0, 35.0)]), 4490, 4544)  # no CRS: ``src`` is used
    assert round(bare.iloc[0].x) == 500000
    with pytest.raises(RiskmapError):
        crs.reproject(Point(1, 1), "EPSG:999999", 4490)
    # one Transformer per thread
    mine = crs.transformer(4490, 4544)
    other = []
    t = threading.Thread(target=lambda: other.append(crs.transformer(4490, 4544)))
    t.start()
    t.join()
    assert crs.transformer(4490, 4544) is mine and other[0] is not mine


def test_no_hand_written_reprojection_outside_crs():
    """Geometries are reprojected by crs.reproject only (one place with the empty-array guard)."""
    import re
    from pathlib import Path

    root = Path(crs.__file__).parent
    pattern = re.compile(r"Transformer\.from_crs|\.transform\(c\[:, 0\], c\[:, 1\]\)")
    found = [str(p.relative_to(root)) for p in root.rglob("*.py")
             if p.name != "crs.py" and pattern.search(p.read_text(encoding="utf-8"))]
    assert found == []


def test_series_transformer_near_the_exact_projection_and_per_thread():
    """The Gauss–Krüger series (PROJ's approx): within a micrometre of the exact projection across a 3° zone,
    drifting farther out (2 mm at 8°, metres at 20°); none for a CRS that is not a transverse Mercator."""
    import threading

    lon = np.linspace(103.5, 106.5, 301)
    lat = np.linspace(18.0, 53.0, 301)
    ex, ey = crs.transformer(4490, 4544).transform(lon, lat)
    sx, sy = crs.series_transformer(4490, 4544).transform(lon, lat)
    assert 0 < max(np.abs(sx - ex).max(), np.abs(sy - ey).max()) < 1e-6  # not the exact algorithm, and close
    far = np.array([113.0, 125.0]), np.array([35.0, 35.0])  # 8° and 20° from CM 105E
    d = np.abs(np.array(crs.series_transformer(4490, 4544).transform(*far)) -
               np.array(crs.transformer(4490, 4544).transform(*far))).max(axis=0)
    assert 1e-3 < d[0] < 1e-2 and d[1] > 1.0
    assert crs.series_transformer(4490, 3857) is None and crs.series_transformer(4544, 4490) is None
    mine = crs.series_transformer(4490, 4544)
    other = []
    t = threading.Thread(target=lambda: other.append(crs.series_transformer(4490, 4544)))
    t.start()
    t.join()
    assert crs.series_transformer(4490, 4544) is mine and other[0] is not mine
