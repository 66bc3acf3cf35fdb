"""Bundled fonts and seed-place boundaries are present and plausible (no Qt, no fontTools)."""

import pyproj
import pytest
import shapely
from shapely import Point

from riskmap import places
from riskmap.crs import gk_zone_epsg, to_metric
from riskmap.errors import RiskmapError
from riskmap.paths import FONTS_DIR

GEOD = pyproj.Geod(ellps="GRS80")


@pytest.mark.parametrize("name", ["NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf"])
def test_cjk_font_files(name):
    path = FONTS_DIR / name
    assert path.is_file(), path
    assert path.stat().st_size > 1_000_000
    assert path.read_bytes()[:4] == b"OTTO"  # CFF-flavoured OpenType


@pytest.mark.parametrize("name", ["NotoSans-Regular-supplement.ttf", "NotoSans-Bold-supplement.ttf"])
def test_supplement_font_files(name):
    data = (FONTS_DIR / name).read_bytes()
    assert 10_000 < len(data) < 1_000_000
    assert data[:4] == b"\x00\x01\x00\x00"  # TrueType-flavoured OpenType


def test_font_licence_and_readme():
    ofl = (FONTS_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in ofl and "Adobe" in ofl
    assert "Noto Sans CJK SC" in (FONTS_DIR / "README.md").read_text(encoding="utf-8")


# (lon, lat) of the county seat (government seat), official area in km² and its source,
# and the area measured on the bundled boundary (regression guard for regeneration).
SEEDS = {
    # 会宁县: 会师镇. Official 6439 km² (county government / Baidu Baike); the Amap boundary measures
    # ~5664 km² (-12%), yet fits its eight neighbours without gaps and they match their own
    # official areas within ~3%: the official figure follows an older survey.
    "620422": ("会宁县", 105.05, 35.69, 6439, 5664),
    # 嘉善县: 罗星街道. 507 km² (506.6).
    "330421": ("嘉善县", 120.92, 30.84, 507, 506),
    # 历城区: a point in the 洪家楼 area of the old town. 1298.57 km² (the Amap boundary gives ~1303).
    "370112": ("历城区", 117.07, 36.68, 1298, 1303),
    # 叶集区: 史河街道 (叶集 town, on the Henan border). Not 559 km²: since 洪集镇 and 姚李镇 joined in
    # 2016 the district profile gives "区域面积568平方公里" (zh.wikipedia: 562.45 km²).
    "341504": ("叶集区", 115.91, 31.85, 568, 567),
    # 商河县: 许商街道. 1163 km².
    "370126": ("商河县", 117.16, 37.31, 1163, 1162),
}


def test_places_list():
    ps = places.load_places()
    assert sorted(p.adcode for p in ps) == sorted(SEEDS)
    for p in ps:
        assert p.name == SEEDS[p.adcode][0]
        assert p.province and p.city and p.name_en
        assert p.boundary_path.is_file()


@pytest.mark.parametrize("adcode", sorted(SEEDS))
def test_boundary_plausible(adcode):
    name, seat_lon, seat_lat, official_km2, measured_km2 = SEEDS[adcode]
    place = places.find_place(adcode)
    geom = places.boundary(adcode)
    assert isinstance(geom, shapely.MultiPolygon)
    assert geom.is_valid and not geom.is_empty
    c = geom.centroid
    assert abs(c.x - seat_lon) < 0.5 and abs(c.y - seat_lat) < 0.5
    assert geom.contains(Point(seat_lon, seat_lat)), f"{name}: county seat outside the boundary"
    epsg = gk_zone_epsg(c.x)
    assert place.epsg == epsg
    km2 = to_metric(geom, epsg).area / 1e6
    geodesic_km2 = abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6
    print(f"{adcode} {name}: {km2:.1f} km² (GK EPSG:{epsg}), {geodesic_km2:.1f} km² geodesic, official {official_km2}")
    assert km2 == pytest.approx(official_km2, rel=0.15)
    assert km2 == pytest.approx(measured_km2, rel=0.01)
    assert km2 == pytest.approx(geodesic_km2, rel=0.002)


@pytest.mark.parametrize("key", ["会宁县", "会宁", "620422", 620422, "huining", "Huining", "Huining County"])
def test_boundary_lookup_aliases(key):
    assert places.find_place(key).adcode == "620422"
    assert places.boundary(key).equals(places.boundary("620422"))


def test_unknown_place():
    with pytest.raises(RiskmapError) as info:
        places.boundary("北京")
    assert "会宁县" in info.value.zh


def test_coordinates_rounded_to_micro_degrees():
    coords = shapely.get_coordinates(places.boundary("嘉善"))
    assert (abs(coords * 1e6 - (coords * 1e6).round()) < 1e-3).all()
