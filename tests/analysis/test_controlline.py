"""Control lines from external safety distances: buffers, union per enterprise and per park, saving."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from riskmap.analysis.controlline import control_lines_from_distances, plan_control_lines
from riskmap.analysis.measure import geodesic_area
from riskmap.errors import RiskmapError
from riskmap.model import ControlLine, EditRecord, Enterprise, RiskPoint, SafetyDistance, Zone
from tests.analysis.conftest import GEOD, at, multi, square


def _lens_union_area(r: float, d: float) -> float:
    """Area of the union of two circles of radius r whose centres are d apart (by hand)."""
    lens = 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)
    return 2 * math.pi * r * r - lens


@pytest.fixture
def sites(blank):
    """Two enterprises 600 m apart outside any park (400 m each, one from a risk point), and a park with
    two facilities inside it."""
    with blank.session() as s:
        park = Zone(name="测试化工园区", kind="chemical_park", geom=multi(square(300, cx=3000, cy=0)))
        s.add(park)
        a = Enterprise(name="甲公司", industry="hazchem_storage", geom=at(-300, 0))
        b = Enterprise(name="乙公司", industry="hazchem_storage", geom=at(5000, 5000))
        c = Enterprise(name="丙公司", industry="hazchem_production", geom=at(2900, 0))
        d = Enterprise(name="丁公司", industry="hazchem_production", geom=at(3100, 100))
        s.add_all([a, b, c, d])
        s.flush()
        rp = RiskPoint(enterprise_id=b.id, name="储罐区", kind="hazard_source", geom=at(300, 0))
        s.add(rp)
        s.flush()
        s.add_all([
            SafetyDistance(enterprise_id=a.id, distance_m=400, source_kind="safety_report", source_doc="《甲公司安全评价报告》"),
            SafetyDistance(enterprise_id=b.id, risk_point_id=rp.id, distance_m=400, source_kind="standard",
                           source_doc="GB 50160"),
            SafetyDistance(enterprise_id=c.id, distance_m=500, source_kind="consequence", source_doc="《后果计算》"),
            SafetyDistance(enterprise_id=d.id, distance_m=200, source_kind="safety_report", source_doc="《丁公司报告》"),
        ])
        ids = {"a": a.id, "b": b.id, "c": c.id, "d": d.id, "park": park.id, "rp": rp.id}
    return blank, ids


def test_enterprise_buffer_is_a_geodesic_circle(sites):
    project, ids = sites
    [plan] = plan_control_lines(project, enterprise_id=ids["a"])
    assert plan.enterprise_id == ids["a"] and plan.park_zone_id is None
    assert plan.distance_m == 400 and plan.source_doc == "安全评价报告：《甲公司安全评价报告》"
    centre = at(-300, 0)
    ring = np.asarray(plan.geom.geoms[0].exterior.coords)
    _, _, dist = GEOD.inv(np.full(len(ring), centre.x), np.full(len(ring), centre.y), ring[:, 0], ring[:, 1])
    assert np.abs(dist - 400).max() < 0.5
    # 32 segments per quarter circle: the polygon area is that of a 128-gon inscribed in r = 400 m
    inscribed = 0.5 * 128 * 400 ** 2 * math.sin(2 * math.pi / 128)
    assert plan.area_m2 == pytest.approx(inscribed, rel=1e-4)


def test_union_of_two_enterprises_is_not_merged_but_risk_point_is_used(sites):
    project, ids = sites
    plans = {p.enterprise_id: p for p in plan_control_lines(project) if p.enterprise_id}
    # the 乙 distance is measured from its risk point at (300, 0), not from the enterprise at (5000, 5000)
    ring = np.asarray(plans[ids["b"]].geom.geoms[0].exterior.coords)
    rp = at(300, 0)
    _, _, dist = GEOD.inv(np.full(len(ring), rp.x), np.full(len(ring), rp.y), ring[:, 0], ring[:, 1])
    assert np.abs(dist - 400).max() < 0.5
    assert plans[ids["b"]].source_doc == "标准规范：GB 50160"
    # per enterprise: two separate lines even though the circles overlap
    assert set(plans) == {ids["a"], ids["b"]}
    union = shapely.union(plans[ids["a"]].geom, plans[ids["b"]].geom)
    assert geodesic_area(union) == pytest.approx(_lens_union_area(400, 600), rel=2e-3)


def test_park_union_includes_the_park_and_its_facilities(sites):
    project, ids = sites
    [plan] = plan_control_lines(project, park_zone_id=ids["park"])
    assert plan.park_zone_id == ids["park"] and plan.enterprise_id is None
    assert plan.n_facilities == 2 and plan.distance_m is None
    assert plan.source_doc == "事故后果计算：《后果计算》；安全评价报告：《丁公司报告》"
    assert len(plan.geom.geoms) == 1
    geom = plan.geom
    # inside: 499 m west of 丙 (2900, 0); outside: 501 m west of it; the park corner is inside
    assert geom.contains(at(2900 - 499, 0)) and not geom.contains(at(2900 - 501, 0))
    assert geom.contains(at(3299, 299))
    # the union of 丙's 500 m circle and 丁's 200 m circle (inside it) plus the park square
    c_circle = 0.5 * 128 * 500 ** 2 * math.sin(2 * math.pi / 128)
    assert plan.area_m2 > c_circle


def test_save_inserts_then_updates_drafts_and_records_history(sites):
    project, ids = sites
    first = control_lines_from_distances(project)
    assert sorted(p.action for p in first) == ["insert", "insert", "insert"]
    lines = project.read_table("control_lines")
    assert len(lines) == 3 and set(lines["status"]) == {"draft"}
    assert set(lines["park_zone_id"].dropna().astype(int)) == {ids["park"]}
    # approve the park line: a second run updates only the drafts and adds a new draft for the park
    with project.session() as s:
        s.get(ControlLine, [p.id for p in first if p.park_zone_id][0]).status = "approved"
    with project.session() as s:
        s.query(SafetyDistance).filter(SafetyDistance.enterprise_id == ids["a"]).one().distance_m = 450
    second = control_lines_from_distances(project)
    by_owner = {(p.enterprise_id, p.park_zone_id): p for p in second}
    assert by_owner[(ids["a"], None)].action == "update"
    assert by_owner[(ids["a"], None)].id == [p.id for p in first if p.enterprise_id == ids["a"]][0]
    assert by_owner[(None, ids["park"])].action == "insert"
    assert len(project.read_table("control_lines")) == 4
    with project.reader() as s:
        actions = [(r.table_name, r.action) for r in s.query(EditRecord).all()]
    assert actions.count(("control_lines", "insert")) == 4
    assert ("control_lines", "update") in actions


def test_errors(sites, blank):
    project, ids = sites
    with pytest.raises(RiskmapError, match="企业不存在"):
        plan_control_lines(project, enterprise_id=9999)
    with pytest.raises(RiskmapError, match="园区"):
        plan_control_lines(project, park_zone_id=9999)
    with pytest.raises(RiskmapError, match="只能按企业或按园区"):
        plan_control_lines(project, enterprise_id=ids["a"], park_zone_id=ids["park"])
    with project.session() as s:
        s.query(SafetyDistance).filter(SafetyDistance.enterprise_id == ids["a"]).one().distance_m = -5
    before = project.read_table("control_lines")
    with pytest.raises(RiskmapError, match="正数"):
        control_lines_from_distances(project)
    assert len(project.read_table("control_lines")) == len(before)


def test_no_distances(blank):
    with pytest.raises(RiskmapError, match="没有外部安全距离"):
        plan_control_lines(blank)
