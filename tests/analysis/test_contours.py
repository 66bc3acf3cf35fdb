"""Importing individual-risk contours from DXF (ezdxf-written), GPKG and SHP (GDAL-written)."""

from __future__ import annotations

import math

import ezdxf
import geopandas as gpd
import pytest
import shapely

from riskmap.analysis.contours import import_contours, parse_risk, parse_value_map, read_contours
from riskmap.analysis.geodesy import to_metric
from riskmap.analysis.measure import geodesic_area
from riskmap.cli import main
from riskmap.errors import RiskmapError
from riskmap.model import Enterprise
from tests.analysis.conftest import EPSG, ORIGIN, at, circle


def _square(cx, cy, half):
    return [(cx - half, cy - half), (cx + half, cy - half), (cx + half, cy + half), (cx - half, cy + half)]


@pytest.fixture
def origin_xy():
    p = to_metric(shapely.Point(ORIGIN), EPSG)
    return p.x, p.y


def _dxf(path, cx, cy, prefix: float = 0.0):
    doc = ezdxf.new()
    msp = doc.modelspace()
    x = cx + prefix
    msp.add_lwpolyline(_square(x, cy, 400), close=True, dxfattribs={"layer": "IR_3E-07"})
    # a ring of the same value nested inside: a hole (a low-risk pocket)
    msp.add_lwpolyline(_square(x, cy, 100), close=True, dxfattribs={"layer": "IR_3E-07"})
    msp.add_lwpolyline(_square(x, cy, 200), close=True, dxfattribs={"layer": "个人风险3×10⁻⁶"})
    msp.add_circle((x + 600, cy), 50, dxfattribs={"layer": "IR_3E-07"})  # a separate island
    msp.add_lwpolyline(_square(x, cy, 50), close=False, dxfattribs={"layer": "IR_1E-05"})  # open: skipped
    msp.add_lwpolyline(_square(x, cy, 60), close=True, dxfattribs={"layer": "RISK-5"})
    doc.saveas(path)


def test_parse_risk_texts():
    assert parse_risk("3E-07") == pytest.approx(3e-7)
    assert parse_risk("3.0e-7/a") == pytest.approx(3e-7)
    assert parse_risk("3×10⁻⁶") == pytest.approx(3e-6)
    assert parse_risk("1x10-5") == pytest.approx(1e-5)
    assert parse_risk("IR_3E-05") == pytest.approx(3e-5)
    assert parse_risk(0.000003) == pytest.approx(3e-6)
    for bad in ("RISK-5", "abc", "0.5", -1e-6):
        with pytest.raises(RiskmapError):
            parse_risk(bad)
    assert parse_value_map("RISK-5=3e-5, A=1x10-5") == {"RISK-5": pytest.approx(3e-5), "A": pytest.approx(1e-5)}


def test_dxf_layers_holes_islands(blank, origin_xy, tmp_path):
    path = tmp_path / "qra.dxf"
    _dxf(path, *origin_xy)
    with blank.session() as s:
        e = Enterprise(name="甲化工", industry="hazchem_production", geom=shapely.Point(ORIGIN))
        s.add(e)
        s.flush()
        eid = e.id
    rows, report = import_contours(blank, path, status="新建", enterprise_id=eid, facility="罐区",
                                   value_map={"RISK-5": 3e-5}, source_doc="《甲化工 QRA》")
    assert report["skipped"] == 1 and report["crs"] == str(EPSG)
    by_value = {r["individual_risk"]: r for r in rows}
    assert set(by_value) == {3e-7, 3e-6, 3e-5}
    ir7 = by_value[3e-7]["geom"]
    assert ir7.geom_type == "MultiPolygon" and len(ir7.geoms) == 2  # the square with a hole + the circle
    assert ir7.contains(at(300, 0)) and not ir7.contains(at(50, 0)) and ir7.contains(at(600, 0))
    # area: 800² − 200² m² + the 50 m circle (a 64·4-gon), within the grid-scale error (≪ 0.1 %)
    circle_area = 0.5 * 256 * 50 ** 2 * math.sin(2 * math.pi / 256)
    assert geodesic_area(ir7) == pytest.approx(800 ** 2 - 200 ** 2 + circle_area, rel=1e-3)
    stored = blank.read_table("risk_contours").set_index("individual_risk")
    assert set(stored["installation_status"]) == {"new"}
    assert set(stored["enterprise_id"]) == {eid} and set(stored["facility"]) == {"罐区"}
    assert set(stored["source_doc"]) == {"《甲化工 QRA》"}
    # replace: the same import again leaves three contours, not six
    import_contours(blank, path, status="new", enterprise_id=eid, facility="罐区", value_map={"RISK-5": 3e-5},
                    replace=True)
    assert len(blank.read_table("risk_contours")) == 3


def test_dxf_zone_prefixed_eastings(tmp_path, origin_xy):
    # CGCS2000 3-degree zone 35 (CM 105°E) with the zone number before the easting: EPSG:4523
    path = tmp_path / "prefixed.dxf"
    _dxf(path, *origin_xy, prefix=35_000_000)
    rows, report = read_contours(path, value_map={"RISK-5": 3e-5})
    assert report["crs"] == "4523"
    ir6 = [r for r in rows if r["individual_risk"] == 3e-6][0]["geom"]
    assert ir6.contains(at(190, 190)) and not ir6.contains(at(210, 0))


def test_dxf_unreadable_layer_name_says_how_to_map(tmp_path, origin_xy):
    path = tmp_path / "qra.dxf"
    _dxf(path, *origin_xy)
    with pytest.raises(RiskmapError, match="--map"):
        read_contours(path)


def test_gpkg_and_shp(blank, tmp_path):
    gdf = gpd.GeoDataFrame({"IR": ["3×10⁻⁷", "1E-05"], "FAC": ["装置A", "装置A"]},
                           geometry=[circle(500), circle(150)], crs="EPSG:4490")
    gdf.to_file(tmp_path / "c.gpkg", layer="contours", driver="GPKG")
    rows, _ = import_contours(blank, tmp_path / "c.gpkg", risk_field="IR", facility_field="FAC")
    assert sorted(r["individual_risk"] for r in rows) == [3e-7, 1e-5]
    assert {r["facility"] for r in rows} == {"装置A"}
    # a shapefile in the metric CRS with numeric risk and closed lines instead of polygons
    lines = gpd.GeoDataFrame({"risk": [3.0e-6]}, geometry=[shapely.LineString(circle(300).exterior.coords)], crs="EPSG:4490").to_crs(EPSG)
    lines.to_file(tmp_path / "c.shp")
    rows, report = import_contours(blank, tmp_path / "c.shp", risk_field="risk", status="in_service")
    assert rows[0]["individual_risk"] == 3e-6 and rows[0]["geom"].contains(at(290, 0))
    assert not rows[0]["geom"].contains(at(310, 0))
    assert len(blank.read_table("risk_contours")) == 3
    with pytest.raises(RiskmapError, match="没有字段"):
        import_contours(blank, tmp_path / "c.gpkg", risk_field="NOPE")
    with pytest.raises(RiskmapError, match="--risk-field"):
        import_contours(blank, tmp_path / "c.gpkg")


def test_failed_import_leaves_project_unchanged(blank, tmp_path, origin_xy):
    path = tmp_path / "qra.dxf"
    _dxf(path, *origin_xy)
    before = (tmp_path / "blank.gpkg").read_bytes()
    with pytest.raises(RiskmapError):
        import_contours(blank, path)  # RISK-5 cannot be read
    with pytest.raises(RiskmapError, match="新建"):
        import_contours(blank, path, status="planned-ish")
    assert (tmp_path / "blank.gpkg").read_bytes() == before


def test_cli(blank, tmp_path, origin_xy, capsys):
    path = tmp_path / "qra.dxf"
    _dxf(path, *origin_xy)
    target = blank.target
    blank.close()
    assert main(["contours", target, str(path), "--map", "RISK-5=3e-5", "--status", "in_service",
                 "--source", "《报告》"]) == 0
    out = capsys.readouterr().out
    assert "导入 imported 3" in out and "3×10⁻⁷" in out
    assert main(["contours", target, str(tmp_path / "missing.dxf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "文件不存在" in err
