"""GDAL formats as they arrive: a GBK shapefile without .cpg, a shapefile without .shx, a bow-tie
polygon, a truncated GeoJSON, KML/KMZ placemarks, a DXF drawing in Gauss–Krüger metres."""

from __future__ import annotations

import json
import zipfile

import ezdxf
import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely

from riskmap.crs import to_geographic, to_metric
from riskmap.errors import RiskmapError
from riskmap.io.encoding import shapefile_encoding
from riskmap.io.importer import commit_import, plan_import
from riskmap.store import Project


def _square(cx, cy, half):
    return shapely.box(cx - half, cy - half, cx + half, cy + half)


def test_gbk_shapefile_without_cpg(project_path, inside_points, tmp_path, county_facts):
    pts = inside_points(3)
    names = ["会宁县第一中学", "示例镇中心幼儿园", "示例镇卫生院"]
    gdf = gpd.GeoDataFrame({"名称": names, "人数": [1800, 240, 60], "地址": ["城关镇北街1号", "示例路2号", "示例路3号"]},
                           geometry=shapely.points(pts), crs=4490)
    shp = tmp_path / "防护目标.shp"
    pyogrio.write_dataframe(gdf, shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    raw = shp.with_suffix(".dbf").read_bytes()
    assert "会宁县第一中学".encode("gbk") in raw and "会宁县第一中学".encode("utf-8") not in raw
    assert shapefile_encoding(shp) == ("GB18030", "detected")
    with Project.open(project_path) as p:
        plan = plan_import(p, shp, "protected_targets")
        assert plan.mapping.fields == {"name": "名称", "people": "人数", "address": "地址"}
        # no type column: the kind is required, and "会宁县第一中学" does not say it by itself
        assert [e.field for e in plan.report.file_errors()] == ["kind"]
    # the type comes from the name with a mapping (kind ← 名称: 中学 → school, 幼儿园, 卫生院 → hospital)
    with Project.open(project_path) as p:
        plan = plan_import(p, shp, "protected_targets",
                           mapping={"fields": {"name": "名称", "kind": "名称", "people": "人数", "address": "地址"}})
        assert plan.report.errors == []
        assert any("GB18030" in i.zh for i in plan.report.issues)
        res = commit_import(p, plan)
        got = p.read_table("protected_targets", where=f"id >= {min(res.ids)}").sort_values("id")
    assert got["name"].tolist() == names
    assert got["kind"].tolist() == ["school", "kindergarten", "hospital"]
    assert got["people"].tolist() == [1800, 240, 60]


def test_utf8_shapefile_without_cpg(tmp_path):
    gdf = gpd.GeoDataFrame({"名称": ["统一编码"]}, geometry=[shapely.Point(105, 35.6)], crs=4490)
    shp = tmp_path / "u.shp"
    pyogrio.write_dataframe(gdf, shp, encoding="UTF-8")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    assert shapefile_encoding(shp) == ("UTF-8", "detected")


def test_shapefile_without_shx(project_path, inside_points, tmp_path):
    pts = inside_points(2)
    gdf = gpd.GeoDataFrame({"name": ["无索引甲", "无索引乙"], "kind": ["医院", "学校"]},
                           geometry=shapely.points(pts), crs=4490)
    shp = tmp_path / "noshx.shp"
    pyogrio.write_dataframe(gdf, shp)
    shp.with_suffix(".shx").unlink()
    with Project.open(project_path) as p:
        plan = plan_import(p, shp, "protected_targets")
        assert [i.severity for i in plan.report.issues if ".shx" in i.zh] == ["repaired"]
        res = commit_import(p, plan)
        got = p.read_table("protected_targets", where=f"id >= {min(res.ids)}").sort_values("id")
    assert got["kind"].tolist() == ["hospital", "school"]
    assert [(g.x, g.y) for g in got.geometry] == pts
    assert not shp.with_suffix(".shx").exists()  # the user's folder is left as it was


def _bowtie(cx, cy, s):
    """A square's corners joined across: (0,0) (s,s) (s,0) (0,s) — two triangles of s²/4 each."""
    return shapely.Polygon([(cx, cy), (cx + s, cy + s), (cx + s, cy), (cx, cy + s), (cx, cy)])


def test_bowtie_polygon_repaired_or_rejected(project_path, county_facts, inside_points, tmp_path, cli, unchanged):
    (x, y), = inside_points(1)
    epsg = county_facts["epsg"]
    centre = to_metric(shapely.Point(x, y), epsg)
    s = 400.0  # metres
    bow = to_geographic(_bowtie(centre.x - s / 2, centre.y - s / 2, s), epsg)
    good = to_geographic(_square(centre.x + 2000, centre.y, 150), epsg)
    assert not bow.is_valid
    gdf = gpd.GeoDataFrame({"名称": ["蝴蝶网格", "方形网格"]}, geometry=[bow, good], crs=4490)
    path = tmp_path / "网格.geojson"
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON")
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "grids")
        assert plan.report.errors == []
        [rep] = plan.report.of("repaired")
        assert rep.row == 1 and "make_valid" in rep.zh and "Self-intersection" in str(rep.value)
        res = commit_import(p, plan)
        got = p.read_table("zones", where=f"id >= {min(res.ids)}").sort_values("id")
    fixed = got.geometry.iat[0]
    assert fixed.geom_type == "MultiPolygon" and len(fixed.geoms) == 2 and fixed.is_valid
    # two triangles of s²/4 each: s²/2 = 80 000 m² (0.08 km²), computed by hand
    assert to_metric(fixed, epsg).area == pytest.approx(s * s / 2, rel=1e-6)
    assert got["area_km2"].iat[0] == pytest.approx(0.08, abs=1e-3)
    assert got["area_km2"].iat[1] == pytest.approx(0.09, abs=1e-3)  # 300 m × 300 m
    assert got["kind"].tolist() == ["grid", "grid"]
    with unchanged(project_path):
        code, out, _ = cli("import", project_path, path, "--layer", "grids", "--no-repair")
    assert code == 2 and "网格.geojson 第1行 几何" in out and "Self-intersection" in out


def test_truncated_geojson(project_path, tmp_path, cli, unchanged):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"名称": f"点{i}", "类型": "学校"},
         "geometry": {"type": "Point", "coordinates": [105.0 + i / 100, 35.7]}} for i in range(5)]}
    text = json.dumps(fc, ensure_ascii=False, indent=1)
    path = tmp_path / "截断.geojson"
    path.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    with Project.open(project_path) as p, pytest.raises(RiskmapError) as exc:
        plan_import(p, path, "protected_targets")
    assert "截断.geojson" in str(exc.value)
    assert f"第{len(lines)}行" in exc.value.zh and "不完整或已损坏" in exc.value.zh
    with unchanged(project_path):
        code, _out, err = cli("import", project_path, path, "--layer", "protected_targets")
    assert code == 2 and "不完整或已损坏" in err and err.count("\n") == 1


def _kml(placemarks):
    marks = "\n".join(
        f"<Placemark><name>{n}</name><description>{d}</description>"
        f"<Point><coordinates>{x},{y},0</coordinates></Point></Placemark>" for n, d, x, y in placemarks)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<Folder><name>学校</name>{marks}</Folder></Document></kml>")


def test_kml_and_kmz_from_ovi(project_path, inside_points, tmp_path):
    pts = inside_points(4)
    kml = tmp_path / "奥维.kml"
    kml.write_text(_kml([("会宁县第二中学", "1500人", *pts[0]), ("示例镇敬老院", "", *pts[1])]), encoding="utf-8")
    kmz = tmp_path / "奥维.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", _kml([("示例小区", "", *pts[2]), ("示例村小学", "", *pts[3])]))
    with Project.open(project_path) as p:
        for path, kinds, at in ((kml, ["school", "elderly_home"], pts[:2]), (kmz, ["residential", "school"], pts[2:])):
            plan = plan_import(p, path, "protected_targets",
                               mapping={"fields": {"name": "Name", "kind": "Name"}})
            assert plan.report.errors == [], plan.report.lines()
            assert plan.values["kind"].tolist() == kinds
            assert [(g.x, g.y) for g in plan.geoms] == at
            commit_import(p, plan)
        assert len(p.read_table("protected_targets", where="name LIKE '示例村小学'")) == 1


def test_dxf_control_lines_in_gauss_kruger(project_path, county_facts, inside_points, tmp_path):
    (x, y), = inside_points(1)
    fwd = pyproj.Transformer.from_crs(4490, 4544, always_xy=True)
    e, n = fwd.transform(x, y)
    doc = ezdxf.new()
    msp = doc.modelspace()
    ring = [(e - 300, n - 200), (e + 300, n - 200), (e + 300, n + 200), (e - 300, n + 200)]
    msp.add_lwpolyline(ring, close=True, dxfattribs={"layer": "示例化工园区控制线"})
    msp.add_text("控制线", dxfattribs={"layer": "标注"}).set_placement((e, n))
    path = tmp_path / "控制线.dxf"
    doc.saveas(path)
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "control_lines", crs="4544", mapping={"fields": {"name": "Layer"}})
        assert plan.report.errors == [], plan.report.lines()
        assert any("1 个其他类型的图元被忽略" in i.zh for i in plan.report.issues)
        assert [i.row for i in plan.report.of("repaired")] == [1]  # closed polyline → polygon
        res = commit_import(p, plan)
        got = p.read_table("control_lines", where=f"id >= {min(res.ids)}")
    assert got["name"].tolist() == ["示例化工园区控制线"]
    g = got.geometry.iat[0]
    assert g.geom_type == "MultiPolygon"
    assert to_metric(g, 4544).area == pytest.approx(600 * 400, rel=1e-6)
    assert g.centroid.x == pytest.approx(x, abs=1e-7) and g.centroid.y == pytest.approx(y, abs=1e-7)


def test_geojson_lifelines_with_values(project_path, county_facts, inside_points, tmp_path):
    (x, y), (x2, y2) = inside_points(2)
    gdf = gpd.GeoDataFrame({"管线名称": ["示例燃气干管", "示例给水管"], "管线类别": ["燃气", "给水管线"],
                            "管径(mm)": ["DN300", 200], "压力(MPa)": [0.4, None], "建设年代": ["1998年", 2010]},
                           geometry=[shapely.LineString([(x, y), (x2, y2)]),
                                     shapely.LineString([(x, y), (x + 0.001, y + 0.001)])], crs=4490)
    path = tmp_path / "管线.geojson"
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON")
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "lifelines")
    assert plan.values["category"].tolist() == ["gas", "water"]
    assert plan.values["year_built"].tolist() == [1998, 2010]
    # "DN300" is not a number: reported on its row and field, the rest is fine
    [err] = plan.report.errors
    assert (err.row, err.field, err.value) == (1, "diameter_mm（管径(mm)）", "DN300")
    assert plan.geoms[1].geom_type == "MultiLineString"


def test_multi_layer_gpkg_needs_a_layer(project_path, tmp_path, inside_points):
    (x, y), = inside_points(1)
    path = tmp_path / "多图层.gpkg"
    for layer in ("学校", "医院"):
        pyogrio.write_dataframe(gpd.GeoDataFrame({"名称": [layer + "甲"], "类型": [layer]},
                                                 geometry=[shapely.Point(x, y)], crs=4490), path, layer=layer)
    with Project.open(project_path) as p:
        with pytest.raises(RiskmapError, match="多个图层"):
            plan_import(p, path, "protected_targets")
        plan = plan_import(p, path, "protected_targets", sheet="医院")
    assert plan.values["kind"].tolist() == ["hospital"]


def test_point_layer_refuses_polygons(project_path, county_facts, tmp_path, unchanged, cli):
    poly = shapely.point_on_surface(county_facts["towns"].geometry.iat[0]).buffer(0.001)
    path = tmp_path / "面.geojson"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"名称": ["面企业"], "行业": ["加油站"]}, geometry=[poly], crs=4490),
                            path, driver="GeoJSON")
    with unchanged(project_path):
        code, out, _ = cli("import", project_path, path, "--layer", "enterprises")
    assert code == 2 and "面.geojson 第1行 几何=\"Polygon\"" in out and "需要点" in out


def test_hidden_dangers_take_enterprise_position(project_path, county_facts, tmp_path):
    ents = county_facts["enterprises"]
    name = ents["name"].iat[3]
    rows = [["隐患名称", "企业名称", "隐患等级", "整改状态", "整改期限", "发现日期"],
            ["消防通道堵塞", name, "一般隐患", "整改中", "2024年6月30日", "2024/5/6"],
            ["无此企业的隐患", "不存在的公司", "重大", "挂牌督办", "2024-07-01", 45000]]
    text = "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    path = tmp_path / "隐患.csv"
    path.write_text(text, encoding="utf-8")
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "hidden_dangers")
        warn = plan.report.of("warning")
        assert [(w.row, w.value) for w in warn] == [(3, "不存在的公司")]
        errs = plan.report.errors
        # no enterprise, no coordinates: nowhere to put it; and 45000 in a CSV is text, not an Excel date
        assert sorted((e.row, e.field) for e in errs) == [(3, "found_date（发现日期）"), (3, "坐标")]
        res = commit_import(p, plan, skip_bad_rows=True)
        got = p.read_table("hidden_dangers", where=f"id = {res.ids[0]}")
        ent = p.read_table("enterprises", where=f"name = '{name}'")
        events = p.read_table("hidden_danger_events", where=f"danger_id = {res.ids[0]}")
    assert got["grade"].iat[0] == "general" and got["status"].iat[0] == "rectifying"
    assert str(got["deadline"].iat[0]) == "2024-06-30" and str(got["found_date"].iat[0]) == "2024-05-06"
    assert int(got["enterprise_id"].iat[0]) == int(ent["id"].iat[0])
    assert got.geometry.iat[0].equals(ent.geometry.iat[0])
    assert events["to_status"].tolist() == ["rectifying"]


def test_excel_serial_dates():
    from riskmap.io.values import parse_date

    # Excel day 1 is 1900-01-01 with the 1900 leap-year bug: serial 45000 is 2023-03-15
    assert parse_date(45000.0).isoformat() == "2023-03-15"
    assert parse_date("2024年6月30日").isoformat() == "2024-06-30"
    assert parse_date("20240506").isoformat() == "2024-05-06"


def test_riskmap_gpkg_layer_as_source(project_path, demo_path, tmp_path):
    """A county's own GeoPackage (here another project) read layer by layer."""
    with Project.open(project_path) as p:
        plan = plan_import(p, demo_path, "protected_targets", sheet="protected_targets")
    # every row is already in the project: all duplicates
    assert plan.n_good == 0 and plan.n_bad == len(plan.source)
    assert all("疑似重复" in e.zh for e in plan.report.errors)
    assert np.all(plan.bad)
