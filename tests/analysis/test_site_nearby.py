"""Site check (选址) and “一点即现” on a hand-built place, distances worked out by hand."""

from __future__ import annotations

import json

import pytest
import shapely

from riskmap.analysis.measure import geodesic_area
from riskmap.analysis.nearby import nearby
from riskmap.analysis.sitecheck import site_check
from riskmap.cli import main
from riskmap.errors import RiskmapError
from riskmap.model import (
    ControlLine, EmergencyResource, Enterprise, HiddenDanger, LifelineSegment, ProtectedTarget, RiskContour, RiskPoint,
    Zone,
)
from riskmap.store import Project
from tests.analysis.conftest import at, circle, geodesic, multi, square


@pytest.fixture
def place(blank):
    """A major-hazard enterprise at the origin with a 500 m control line (for 高敏感/重要/一类 only), an in-service
    3×10⁻⁶ contour of 300 m, an orange town around it, targets, a pipe, a danger and resources."""
    with blank.session() as s:
        s.add(Zone(name="橙镇", kind="town", level=2, geom=multi(square(2000))))
        s.add(Zone(name="蓝镇", kind="town", level=4, geom=multi(square(2000, cx=4000))))
        e = Enterprise(name="甲化工", industry="hazchem_production", level=1, major_hazard=True, geom=at(0, 0))
        far = Enterprise(name="远方公司", industry="metallurgy", level=3, geom=at(0, 1500))
        s.add_all([e, far])
        s.flush()
        s.add(RiskPoint(enterprise_id=e.id, name="液氨罐区", kind="hazard_source", major_hazard_grade=2, level=1,
                        geom=at(50, 0)))
        s.add(ControlLine(name="甲化工控制线", enterprise_id=e.id, applies_to="high_sensitive,important,general_1",
                          source_doc="《甲化工安全评价报告》", geom=multi(circle(500))))
        s.add(RiskContour(enterprise_id=e.id, facility="液氨罐区", individual_risk=3e-6,
                          installation_status="in_service", source_doc="《QRA》", geom=multi(circle(300))))
        s.add_all([
            ProtectedTarget(name="近小区", kind="residential", people=50, gb36894_class="general_2", geom=at(200, 100)),
            ProtectedTarget(name="南学校", kind="school", people=120, gb36894_class="high_sensitive", geom=at(200, -300)),
            ProtectedTarget(name="无人数", kind="office", people=None, geom=at(100, 0)),
            ProtectedTarget(name="远小区", kind="residential", people=999, geom=at(200, 500)),
        ])
        s.add(LifelineSegment(name="燃气管", category="gas", material="PE", geom=shapely.MultiLineString(
            [[(at(-1000, 250).x, at(-1000, 250).y), (at(1000, 250).x, at(1000, 250).y)]])))
        s.add(HiddenDanger(title="报警器失效", grade="major", status="rectifying", geom=at(0, 10)))
        s.add(HiddenDanger(title="已销号", grade="general", status="closed", geom=at(0, 20)))
        for name, kind, x in [("一站", "fire_station", 1000), ("二站", "fire_station", -3000),
                              ("三站", "fire_station", 5000), ("人民医院", "hospital", 2000)]:
            s.add(EmergencyResource(name=name, kind=kind, phone="0000-1", geom=at(x + 200, 0)))
    return blank


def test_point_site(place):
    site = at(200, 0)
    r = site_check(place, site, radius_m=300)
    [line] = r.control_lines
    # 200 m from the centre of a 500 m circle: 300 m inside its boundary
    assert line["inside"] and line["distance_m"] == pytest.approx(-300, abs=0.5)
    [contour] = r.contours
    assert contour["inside"] and contour["distance_m"] == pytest.approx(-100, abs=0.5)
    assert contour["risk_text"] == "3×10⁻⁶" and contour["owner_name"] == "甲化工"
    # 高敏感/重要/一类 are barred by both (in-service limit 3×10⁻⁶ = the contour); 二类 (1×10⁻⁵) and 三类
    # (3×10⁻⁵) by neither: the line does not apply to them and the contour is below their limits
    assert [c["class"] for c in r.restricted_classes] == ["high_sensitive", "important", "general_1"]
    assert [z["name"] for z in r.zones] == ["橙镇"] and r.zones[0]["level_name"] == "较大风险"
    assert [e["name"] for e in r.enterprises] == ["甲化工"]
    assert r.enterprises[0]["distance_m"] == pytest.approx(geodesic(site, at(0, 0)), abs=0.5)
    [hs] = r.hazard_sources
    assert hs["major_hazard_grade"] == 2 and hs["distance_m"] == pytest.approx(150, abs=0.5)
    text = r.to_text()
    assert "甲化工控制线" in text and "重大危险源二级" in text and "示例数据" not in text
    json.dumps(r.to_json(), ensure_ascii=False)


def test_point_outside_everything_nearby(place):
    r = site_check(place, at(700, 0), radius_m=250)
    assert [c["inside"] for c in r.control_lines] == [False]
    assert r.control_lines[0]["distance_m"] == pytest.approx(200, abs=0.5)
    assert r.contours == [] and r.restricted_classes == [] and r.enterprises == []


def test_polygon_site(place):
    plot = square(50, cx=450)  # 400…500 m east: inside the control line, outside the contour
    r = site_check(place, plot, radius_m=100)
    [line] = r.control_lines
    assert line["inside"] and line["distance_m"] == 0
    # the circle's edge crosses the plot: the overlap is the plot minus the part beyond 500 m
    expected = geodesic_area(plot.intersection(circle(500)))
    assert line["overlap_m2"] == pytest.approx(expected, rel=1e-6)
    assert 0.85 * 100 * 100 < line["overlap_m2"] < 100 * 100
    assert r.area_m2 == pytest.approx(100 * 100, rel=1e-3)
    # the 300 m contour is 100 m west of the plot's western edge (400 m east)
    assert [c["inside"] for c in r.contours] == [False]
    assert r.contours[0]["distance_m"] == pytest.approx(100, abs=0.5)


def test_site_errors(place):
    with pytest.raises(RiskmapError):
        site_check(place, shapely.LineString([(105, 35), (105.1, 35)]))
    bow = shapely.Polygon([(105, 35), (105.01, 35.01), (105.01, 35), (105, 35.01)])
    with pytest.raises(RiskmapError, match="自相交"):
        site_check(place, bow)


def test_nearby(place):
    centre = at(200, 0)
    r = nearby(place, centre.x, centre.y, 400, top_n=2)
    # targets within 400 m of (200, 0): 近小区 (100 m), 南学校 (300 m), 无人数 (100 m); 远小区 is 500 m away
    assert sorted(t["name"] for t in r.protected_targets) == ["南学校", "无人数", "近小区"]
    assert r.people_affected == 50 + 120 and r.targets_without_people == 1
    by_name = {t["name"]: t for t in r.protected_targets}
    assert by_name["南学校"]["distance_m"] == pytest.approx(geodesic(centre, at(200, -300)), abs=0.5)
    assert by_name["无人数"]["class_zh"] == "一般防护目标中的一类防护目标"  # people unknown: strictest
    assert [e["name"] for e in r.enterprises] == ["甲化工"] and r.enterprises[0]["level_name"] == "重大风险"
    assert [h["title"] for h in r.hidden_dangers] == ["报警器失效"]  # the closed one is not listed
    assert [l["name"] for l in r.lifelines] == ["燃气管"]
    assert r.lifelines[0]["distance_m"] == pytest.approx(250, abs=0.5)
    assert [z["name"] for z in r.zones] == ["橙镇"]
    assert r.control_lines[0]["inside"] and r.contours[0]["inside"]
    # resources: the two nearest fire stations (1 000 m and 3 000 m from the click … i.e. at 1 200 and
    # −2 800 m east) and the hospital, whatever the radius
    fire = [x for x in r.resources if x["kind"] == "fire_station"]
    assert [x["name"] for x in fire] == ["一站", "二站"]
    assert fire[0]["distance_m"] == pytest.approx(1000, abs=0.5) and fire[1]["distance_m"] == pytest.approx(3000, abs=0.5)
    assert [x["name"] for x in r.resources if x["kind"] == "hospital"] == ["人民医院"]
    text = r.to_text()
    assert "涉及人数 170 人" in text and "另有 1 处人数不详" in text
    html = r.to_html()
    assert "<table>" in html and "一站" in html and "示例数据" not in html


def test_nearby_errors(place):
    with pytest.raises(RiskmapError):
        nearby(place, 200, 35, 100)
    with pytest.raises(RiskmapError):
        nearby(place, 105, 35, -1)


def test_nearby_cli_on_demo(demo_path, capsys, tmp_path):
    with Project.open(demo_path, readonly=True) as p:
        line = p.read_table("control_lines").geometry.iloc[0]
    c = line.representative_point()
    html = tmp_path / "n.html"
    assert main(["nearby", str(demo_path), "--lon", str(c.x), "--lat", str(c.y), "--radius", "800", "--json",
                 "--html", str(html)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["demo"] and data["control_lines"][0]["inside"]
    assert "示例数据" in html.read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["nearby", str(demo_path), "--lon", "x", "--lat", "1"])
    assert exc.value.code == 2
    assert main(["nearby", str(demo_path), "--lon", "1", "--lat", "1", "--radius", "-5"]) == 2
    assert "半径" in capsys.readouterr().err


def test_site_cli(place, capsys):
    target = place.target
    c = at(200, 0)
    place.close()
    assert main(["check", target, "--site", f"{c.x},{c.y}", "--radius", "300"]) == 0
    out = capsys.readouterr().out
    assert "安全控制线：位于 1 条之内" in out and "甲化工" in out
    assert main(["check", target, "--site", "not a site"]) == 2
