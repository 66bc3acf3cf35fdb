"""Lifeline grading rules, GB 32167 potential impact radius and high-consequence segments, crossings."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from riskmap.analysis.lifelines import (
    apply_lifeline_levels, find_crossings, find_high_consequence, grade_segments, high_consequence_segments,
    lifeline_crossings, pir_m,
)
from riskmap.model import ControlLine, LifelineSegment, ProtectedTarget, Zone
from tests.analysis.conftest import EPSG, at, circle, multi, square


def test_pir_hand_worked():
    # d = 610 mm, p = 6.3 MPa: d² = 372 100; d²·p = 2 344 230; √ = 1 531.088; × 0.099 = 151.578 m
    assert float(pir_m(610, 6.3)) == pytest.approx(151.578, abs=0.001)
    # d = 1016 mm, p = 10 MPa: d²·p = 10 322 560; √ = 3 212.874; × 0.099 = 318.075 m
    assert float(pir_m(1016, 10)) == pytest.approx(318.075, abs=0.001)
    # d = 219 mm, p = 1.0 MPa: √(219²) = 219; × 0.099 = 21.681 m
    assert float(pir_m(219, 1.0)) == pytest.approx(21.681, abs=0.001)
    r = pir_m([610, None, 100], [6.3, 4.0, 0])
    assert math.isnan(r[1]) and math.isnan(r[2])


SEGMENTS = pd.DataFrame([
    # category, material, year_built, pressure, diameter → expected level, rules
    ("gas", "灰口铸铁", 1995, 0.01, 100, 2, ["gas_grey_cast_iron"]),
    ("gas", "铸铁", 1990, 0.4, 150, 1, ["gas_cast_iron_unspecified", "gas_cast_iron_pressure"]),
    ("gas", "球墨铸铁", 1990, 0.4, 150, 4, []),
    ("gas", "PE", 2000, 0.2, 160, 3, ["gas_steel_pe_20y"]),  # 26 years in 2026
    ("gas", "PE", 2010, 0.2, 160, 4, []),
    ("gas", "钢", 2000, 0.8, 200, 2, ["gas_steel_pe_20y", "gas_high_pressure_old"]),
    ("gas", "钢", None, 0.8, 200, 4, []),  # no year: age rules cannot fire
    ("water", "石棉水泥管", 2015, None, 300, 3, ["water_obsolete_material"]),
    ("water", "PE", 1990, None, 300, 3, ["water_30y"]),
    ("heat", "钢（无防腐）", 2018, None, 300, 2, ["steel_unprotected"]),
    ("power", "电缆", 1970, None, None, 4, []),
], columns=["category", "material", "year_built", "pressure_mpa", "diameter_mm", "expected", "rules_expected"])


def test_grading_rules():
    g = grade_segments(SEGMENTS, as_of_year=2026)
    assert list(g["level"]) == list(SEGMENTS["expected"])
    assert [sorted(r) for r in g["rules"]] == [sorted(r) for r in SEGMENTS["rules_expected"]]
    assert "国办发〔2022〕22号" in g.loc[0, "reasons"]
    assert g.loc[0, "level_name"] == "较大风险"


def test_apply_levels_writes_once(blank):
    with blank.session() as s:
        s.add(LifelineSegment(name="老管", category="gas", material="灰口铸铁", year_built=1980, pressure_mpa=0.01,
                              geom=shapely.MultiLineString([[(at(0, 0).x, at(0, 0).y), (at(100, 0).x, at(100, 0).y)]])))
    assert apply_lifeline_levels(blank, as_of_year=2026) == 1
    assert int(blank.read_table("lifelines")["level"].iloc[0]) == 2
    assert apply_lifeline_levels(blank, as_of_year=2026) == 0


def _line(x0, x1, y=0.0):
    a, b = at(x0, y), at(x1, y)
    return shapely.MultiLineString([[(a.x, a.y), (b.x, b.y)]])


def _segments(rows):
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "name": [r[1] for r in rows], "category": [r[2] for r in rows],
         "diameter_mm": [r[3] for r in rows], "pressure_mpa": [r[4] for r in rows]},
        geometry=[r[5] for r in rows], crs="EPSG:4490")


def _sites(rows):
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "name": [r[1] for r in rows], "kind": [r[2] for r in rows],
         "people": [r[3] for r in rows]}, geometry=[r[4] for r in rows], crs="EPSG:4490")


def test_high_consequence_rules():
    # three pipelines running east along y = 0, 5 000 and 10 000 m
    segs = _segments([
        (1, "干线A", "gas_pipeline", 610, 6.3, _line(-2000, 2000, 0)),  # rule e: 200 m
        (2, "支线B", "gas_pipeline", 219, 1.0, _line(-2000, 2000, 5000)),  # rule d: PIR 21.68 m
        (3, "干线C", "gas_pipeline", 1016, 10, _line(-2000, 2000, 10000)),  # rule c: PIR 318.07 m
        (4, "城镇燃气", "gas", 610, 6.3, _line(-2000, 2000, 0)),  # outside GB 32167's scope
    ])
    sites = _sites([
        (11, "学校190", "school", 900, at(0, 190)), (12, "学校210", "school", 900, at(0, 210)),
        (13, "小区50", "residential", 300, at(0, 50)),  # not a specific site
        (14, "医院20", "hospital", 100, at(0, 5020)), (15, "医院25", "hospital", 100, at(0, 5025)),
        (16, "养老院300", "elderly_home", 40, at(500, 10300)), (17, "养老院330", "elderly_home", 40, at(500, 10330)),
    ])
    df = find_high_consequence(segs, sites, EPSG)
    assert sorted(zip(df["segment_id"], df["target_id"])) == [(1, 11), (2, 14), (3, 16)]
    row = df.set_index("segment_id")
    assert row.at[1, "rule"] == "e" and row.at[1, "radius_m"] == 200
    assert row.at[1, "pir_m"] == pytest.approx(151.578, abs=0.001)
    assert row.at[2, "rule"] == "d" and row.at[2, "radius_m"] == pytest.approx(21.681, abs=0.001)
    assert row.at[3, "rule"] == "c" and row.at[3, "radius_m"] == pytest.approx(318.075, abs=0.001)
    assert row.at[1, "distance_m"] == pytest.approx(190, abs=0.5)
    assert row.at[2, "distance_m"] == pytest.approx(20, abs=0.5)


def test_crossings():
    segs = _segments([(1, "供水1", "water", 300, None, _line(-1500, 1500, 0)),
                      (2, "供水2", "water", 300, None, _line(-1500, 1500, 3000))])
    zones = gpd.GeoDataFrame({"id": [5], "name": ["红区"], "kind": ["grid"], "level": [1]},
                             geometry=[multi(square(500))], crs="EPSG:4490")
    lines = gpd.GeoDataFrame({"id": [9], "name": ["控制线"]}, geometry=[multi(circle(400, centre=(at(0, 3000).x,
                                                                                              at(0, 3000).y)))],
                             crs="EPSG:4490")
    df = find_crossings(segs, zones, lines, EPSG)
    assert sorted(zip(df["segment_id"], df["object_type"])) == [(1, "zone"), (2, "control_line")]
    lengths = df.set_index("segment_id")["length_m"]
    assert lengths[1] == pytest.approx(1000, abs=1.0)  # across the 1 km square
    # the pipeline passes through the centre of the 400 m circle: a diameter, 800 m
    assert lengths[2] == pytest.approx(800, abs=1.0)
    assert df.set_index("segment_id").at[1, "object_level"] == 1


def test_project_functions(blank):
    with blank.session() as s:
        s.add(LifelineSegment(name="干线", category="gas_pipeline", diameter_mm=610, pressure_mpa=6.3,
                              geom=_line(-1000, 1000)))
        s.add(ProtectedTarget(name="学校", kind="school", people=500, geom=at(0, 100)))
        s.add(Zone(name="橙区", kind="town", level=2, geom=multi(square(200, cx=800))))
        s.add(Zone(name="黄区", kind="town", level=3, geom=multi(square(200, cx=-800))))
        s.add(ControlLine(name="线", geom=multi(circle(100, centre=(at(-300, 0).x, at(-300, 0).y)))))
    hca = high_consequence_segments(blank)
    assert list(hca["target_name"]) == ["学校"] and hca.iloc[0]["distance_m"] == pytest.approx(100, abs=0.5)
    cr = lifeline_crossings(blank)
    assert sorted(cr["object_name"]) == ["橙区", "线"]
    # the 400 m wide square spans x = 600…1000 m and the pipeline ends at 1000 m: 400 m inside
    assert cr.set_index("object_name").at["橙区", "length_m"] == pytest.approx(400, abs=0.5)


def test_crossings_use_the_finest_graded_zones(blank):
    with blank.session() as s:
        s.add(LifelineSegment(name="供水", category="water", geom=_line(-1000, 1000)))
        s.add(Zone(name="红镇", kind="town", level=1, geom=multi(square(900))))
        s.add(Zone(name="红网格", kind="grid", level=1, geom=multi(square(100))))
        s.add(Zone(name="蓝网格", kind="grid", level=4, geom=multi(square(100, cx=500))))
        s.add(Zone(name="红园区", kind="chemical_park", level=1, geom=multi(square(50, cx=-500))))
    # grids are graded, so the town (which only repeats them) is not listed; parks always are
    cr = lifeline_crossings(blank)
    assert sorted(cr["object_name"]) == ["红园区", "红网格"]
    assert cr.set_index("object_name").at["红网格", "length_m"] == pytest.approx(200, abs=0.5)
    assert sorted(lifeline_crossings(blank, zone_kinds=["town"])["object_name"]) == ["红镇"]
