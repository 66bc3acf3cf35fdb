"""GB 36894 encroachment on hand-built contours and control lines; the demo's seeded encroachments; XLSX."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from riskmap.analysis.encroachment import (
    check_encroachments, find_encroachments, format_risk, parse_applies_to,
)
from riskmap.analysis.standards import load_gb36894
from riskmap.export.check_xlsx import export_encroachments_xlsx
from riskmap.errors import RiskmapError
from riskmap.store import Project
from tests.analysis.conftest import EPSG, at, circle, multi

# nested contours around one installation: radius (m) of each individual-risk value
RADII = {3e-5: 100.0, 1e-5: 200.0, 3e-6: 400.0, 3e-7: 800.0}


def _contours(status: str, values=tuple(RADII)) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": range(1, len(values) + 1), "enterprise_id": [7] * len(values), "facility": ["罐区"] * len(values),
         "individual_risk": list(values), "installation_status": [status] * len(values),
         "source_doc": ["《QRA 报告》"] * len(values)},
        geometry=[multi(circle(RADII[v])) for v in values], crs="EPSG:4490")


def _targets(rows) -> gpd.GeoDataFrame:
    """rows: (id, kind, people, class or None, metres east of the installation)"""
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "name": [f"目标{r[0]}" for r in rows], "kind": [r[1] for r in rows],
         "people": [r[2] for r in rows], "gb36894_class": [r[3] for r in rows]},
        geometry=[at(r[4], 0) for r in rows], crs="EPSG:4490")


NO_LINES = gpd.GeoDataFrame({"id": [], "name": [], "applies_to": [], "source_doc": []}, geometry=[], crs="EPSG:4490")

# (id, kind, people, class, distance east) — each class once just inside and once just outside its limit line
CASES = [
    (1, "school", 500, "high_sensitive", 350), (2, "school", 500, "high_sensitive", 450),
    (3, "cultural_relic", 0, "important", 390), (4, "military", 10, "important", 700),
    (5, "residential", 300, "general_1", 300), (6, "residential", 300, "general_1", 600),
    (7, "residential", 50, "general_2", 150), (8, "residential", 50, "general_2", 300),
    (9, "office", 10, "general_3", 50), (10, "office", 10, "general_3", 150),
]


def test_in_service_limits_per_class():
    # in service: 高敏感/重要/一类 3×10⁻⁶ (400 m), 二类 1×10⁻⁵ (200 m), 三类 3×10⁻⁵ (100 m)
    df = find_encroachments(_targets(CASES), _contours("in_service"), NO_LINES, EPSG)
    assert sorted(df["target_id"]) == [1, 3, 5, 7, 9]
    row = df.set_index("target_id")
    assert row.at[1, "threshold"] == 3e-6 and row.at[1, "line_risk"] == 3e-6
    assert row.at[7, "threshold"] == 1e-5 and row.at[7, "line_risk"] == 1e-5
    assert row.at[9, "threshold"] == 3e-5 and row.at[9, "line_risk"] == 3e-5
    # risk at the target: the most severe contour it lies in (50 m is inside the 100 m 3×10⁻⁵ line)
    assert row.at[9, "risk_at_target"] == 3e-5 and row.at[1, "risk_at_target"] == 3e-6
    # signed distance to the limit line: 350 m out from the centre, the 400 m line is 50 m away (inside → −50)
    expected = {1: 350 - 400, 3: 390 - 400, 5: 300 - 400, 7: 150 - 200, 9: 50 - 100}
    for tid, d in expected.items():
        assert row.at[tid, "distance_m"] == pytest.approx(d, abs=0.5)
    assert set(row["installation_status"]) == {"in_service"}
    assert row.at[1, "source_doc"] == "《QRA 报告》" and row.at[1, "enterprise_id"] == 7


def test_new_installation_limits_per_class():
    # new: 高敏感/重要/一类 3×10⁻⁷ (800 m), 二类 3×10⁻⁶ (400 m), 三类 1×10⁻⁵ (200 m)
    df = find_encroachments(_targets(CASES), _contours("new"), NO_LINES, EPSG)
    assert sorted(df["target_id"]) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    row = df.set_index("target_id")
    assert row.at[2, "threshold"] == 3e-7 and row.at[2, "distance_m"] == pytest.approx(450 - 800, abs=0.5)
    assert row.at[8, "threshold"] == 3e-6 and row.at[8, "distance_m"] == pytest.approx(300 - 400, abs=0.5)
    assert row.at[10, "threshold"] == 1e-5 and row.at[10, "distance_m"] == pytest.approx(150 - 200, abs=0.5)
    far = find_encroachments(_targets([(11, "office", 10, "general_3", 250),
                                       (12, "school", 900, "high_sensitive", 820)]), _contours("new"), NO_LINES, EPSG)
    assert far.empty


def test_only_a_more_severe_contour_imported():
    # only the 1×10⁻⁵ contour is known: a school inside it exceeds the 3×10⁻⁶ in-service limit too
    df = find_encroachments(_targets([(1, "school", 500, "high_sensitive", 150)]),
                            _contours("in_service", values=(1e-5,)), NO_LINES, EPSG)
    assert len(df) == 1 and df.iloc[0]["line_risk"] == 1e-5 and df.iloc[0]["threshold"] == 3e-6


def test_class_derived_from_kind_and_people():
    rows = [(1, "residential", 45, None, 150), (2, "residential", 20, None, 150), (3, "kindergarten", 15, None, 350),
            (4, "residential", None, None, 350)]
    df = find_encroachments(_targets(rows), _contours("in_service"), NO_LINES, EPSG).set_index("target_id")
    # 45 people → 二类 (1×10⁻⁵, 200 m: 150 m is inside); 20 people → 三类 (3×10⁻⁵, 100 m: outside)
    assert list(df.index.sort_values()) == [1, 3, 4]
    assert df.at[1, "target_class"] == "general_2" and df.at[1, "class_derived"]
    assert df.at[3, "target_class"] == "high_sensitive"
    assert df.at[4, "target_class"] == "general_1"  # people unknown: the strictest general class


def test_control_lines_apply_to_their_classes():
    lines = gpd.GeoDataFrame(
        {"id": [1, 2], "name": ["全类控制线", "敏感目标控制线"], "applies_to": [None, "高敏感、一类"],
         "source_doc": ["《园区评估》", "《规划》"], "enterprise_id": [None, None], "park_zone_id": [None, None]},
        geometry=[multi(circle(300)), multi(circle(1000))], crs="EPSG:4490")
    rows = [(1, "school", 500, "high_sensitive", 200), (2, "office", 10, "general_3", 200),
            (3, "office", 10, "general_3", 600), (4, "residential", 200, "general_1", 600)]
    df = find_encroachments(_targets(rows), None, lines, EPSG)
    got = sorted(zip(df["target_id"], df["object_id"]))
    assert got == [(1, 1), (1, 2), (2, 1), (4, 2)]
    d = df.set_index(["target_id", "object_id"])["distance_m"]
    assert d[(1, 1)] == pytest.approx(-100, abs=0.5) and d[(4, 2)] == pytest.approx(-400, abs=0.5)
    assert set(df["object_type"]) == {"control_line"}


def test_applies_to_parsing():
    gb = load_gb36894()
    assert parse_applies_to(None, gb) is None
    assert parse_applies_to("全部", gb) is None
    assert parse_applies_to("high_sensitive, general_2", gb) == {"high_sensitive", "general_2"}
    assert parse_applies_to("重要；三类", gb) == {"important", "general_3"}
    with pytest.raises(RiskmapError):
        parse_applies_to("四类", gb)


def test_format_risk():
    assert [format_risk(v) for v in (3e-5, 1e-5, 3e-6, 3e-7)] == ["3×10⁻⁵", "1×10⁻⁵", "3×10⁻⁶", "3×10⁻⁷"]


def test_demo_encroachments_match_point_in_polygon(demo_path, tmp_path):
    with Project.open(demo_path, readonly=True) as project:
        df = check_encroachments(project)
        targets = project.read_table("protected_targets")
        lines = project.read_table("control_lines")
        name, demo = project.name, project.is_demo
    # the same answer from a plain point-in-polygon test on the raw tables
    inside = {int(t) for t, g in zip(targets["id"], targets.geometry) if any(g.within(l) for l in lines.geometry)}
    assert inside, "the demo seeds protected targets inside its control line"
    assert set(df["target_id"]) == inside
    assert (df["distance_m"] < 0).all()
    # depth inside: the ground distance to the line's boundary; check one against the geodesic to the
    # nearest point of the boundary (found on a densified boundary)
    row = df.iloc[0]
    p = targets.geometry[row["target_id"]]
    boundary = shapely.segmentize(lines.geometry[row["object_id"]].boundary, 0.00002)
    coords = np.vstack([np.asarray(g.coords) for g in shapely.get_parts(boundary)])
    from tests.analysis.conftest import GEOD

    _, _, d = GEOD.inv(np.full(len(coords), p.x), np.full(len(coords), p.y), coords[:, 0], coords[:, 1])
    assert -row["distance_m"] == pytest.approx(d.min(), abs=1.0)

    out = export_encroachments_xlsx(df, tmp_path / "enc.xlsx", project_name=name, demo=demo)
    ws = openpyxl.load_workbook(out).active
    assert "示例数据" in ws["A1"].value
    assert ws["A3"].value == "序号" and ws["A3"].font.b
    assert ws.freeze_panes == "A4"
    assert ws.page_setup.orientation == "landscape"
    names = [ws.cell(row=r, column=2).value for r in range(4, 4 + len(df))]
    assert sorted(names) == sorted(df["target_name"])
    assert ws.cell(row=4, column=11).value == pytest.approx(-df.iloc[0]["distance_m"])
