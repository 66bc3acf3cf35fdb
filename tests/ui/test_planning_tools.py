"""The planning tools in the window: split, merge and holes; measuring; “一点即现”; site check; the
planning check with its XLSX; control lines from distances."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unicodedata

import numpy as np
import openpyxl
import pytest
import shapely
from PySide6.QtCore import QPoint, Qt

for _k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
    os.environ.setdefault(_k, os.path.join(tempfile.mkdtemp(prefix="riskmap-planning-tests-"), _k.lower()))

from riskmap.analysis.measure import format_area, format_distance  # noqa: E402
from riskmap.crs import transformer  # noqa: E402
from riskmap.store import Project  # noqa: E402
from tests.analysis.conftest import GEOD  # noqa: E402
from tests.ui.test_planning_edit import _click, pwin  # noqa: E402,F401  (fixture)
from tests.ui.conftest import SHOTS


def _geo(w, x, y):
    return transformer(w.workspace.map_epsg, 4490).transform(x, y)


def _seeded_school(w):
    """The demo's school of 900 inside the park's control line: (id, map x, map y)."""
    t = w.workspace.layer("protected_targets")
    lines = w.workspace.layer("control_lines").projected
    for i, (fid, kind, people) in enumerate(zip(t.gdf["id"], t.gdf["kind"], t.gdf["people"])):
        g = t.projected[i]
        if kind == "school" and people == 900 and any(g.within(l) for l in lines):
            return int(fid), g.x, g.y
    raise AssertionError("the demo's seeded school is missing")


def test_split_merge_hole(pwin, qtbot):
    w = pwin
    pl, ctrl, canvas = w.extension("planning"), w.extension("planning").controller, w.canvas
    pl.start_editing("control_lines")
    cx, cy = canvas.view.width_px / 2, canvas.view.height_px / 2
    square = shapely.Polygon([canvas.map_point(cx + dx, cy + dy) for dx, dy in
                              ((-150, -100), (150, -100), (150, 100), (-150, 100))])
    ctrl.add_feature(square, {"name": "待分割"}, ask_attributes=False)
    pl.act_snap.setChecked(False)
    # split with a vertical line drawn by mouse across the square
    pl.act_split.trigger()
    _click(qtbot, canvas, cx, cy - 160)
    _click(qtbot, canvas, cx, cy + 160)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    layer = w.workspace.layer("control_lines")
    parts = layer.gdf[layer.gdf["name"] == "待分割"]
    assert len(parts) == 2
    areas = sorted(layer.projected[layer.row_of(parts["id"])][i].area for i in range(2))
    assert areas[0] == pytest.approx(square.area / 2, rel=1e-3)
    # select both halves (click, shift-click) and merge them back into one
    pl.act_vertex.trigger()
    _click(qtbot, canvas, cx - 75, cy)
    pos = QPoint(int(cx + 75), int(cy))
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, pos)
    assert len(w.workspace.selected_ids("control_lines")) == 2
    pl.act_merge.trigger()
    layer = w.workspace.layer("control_lines")
    merged = layer.gdf[layer.gdf["name"] == "待分割"]
    assert len(merged) == 1
    assert layer.projected[layer.row_of(merged["id"])[0]].area == pytest.approx(square.area, rel=1e-6)
    # a hole drawn inside it
    pl.act_hole.trigger()
    for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30)):
        _click(qtbot, canvas, cx + dx, cy + dy)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    layer = w.workspace.layer("control_lines")
    g = layer.projected[layer.row_of(layer.gdf[layer.gdf["name"] == "待分割"]["id"])[0]]
    hole = shapely.Polygon([canvas.map_point(cx + dx, cy + dy) for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30))])
    assert g.area == pytest.approx(square.area - hole.area, rel=1e-3)
    assert not g.contains(shapely.Point(canvas.map_point(cx, cy)))
    # three undos: hole, merge, split
    for _ in range(3):
        pl.act_undo.trigger()
    layer = w.workspace.layer("control_lines")
    assert len(layer.gdf[layer.gdf["name"] == "待分割"]) == 1
    assert layer.projected[layer.row_of(layer.gdf[layer.gdf["name"] == "待分割"]["id"])[0]].area == \
        pytest.approx(square.area, rel=1e-9)


def test_measure_distance_and_area(pwin, qtbot):
    w = pwin
    canvas = w.canvas
    w.extension("planning").act_snap.setChecked(False)
    w.extension("planning").act_measure.trigger()
    cx, cy = canvas.view.width_px / 2, canvas.view.height_px / 2
    pts = [(cx - 200, cy), (cx + 100, cy - 150)]
    for x, y in pts:
        _click(qtbot, canvas, x, y)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    (x0, y0), (x1, y1) = [canvas.map_point(int(round(x)), int(round(y))) for x, y in pts]
    lon0, lat0 = _geo(w, x0, y0)
    lon1, lat1 = _geo(w, x1, y1)
    expected = GEOD.inv(lon0, lat0, lon1, lat1)[2]
    assert format_distance(expected) in w.extension("planning").measure_line.result[1]
    canvas.render_now()
    canvas.to_image().save(f"{SHOTS}/ui_planning_measure.png")
    w.extension("planning").act_area.trigger()
    tri = [(cx - 100, cy - 100), (cx + 150, cy - 80), (cx, cy + 120)]
    for x, y in tri:
        _click(qtbot, canvas, x, y)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    ll = [_geo(w, *canvas.map_point(int(round(x)), int(round(y)))) for x, y in tri]
    area = abs(GEOD.polygon_area_perimeter([p[0] for p in ll], [p[1] for p in ll])[0])
    assert format_area(area) in w.extension("planning").measure_area.result[1]


def test_nearby_click_panel_and_printable_summary(pwin, qtbot, tmp_path):
    w = pwin
    pl, canvas = w.extension("planning"), w.canvas
    fid, x, y = _seeded_school(w)
    pl.panel.radius.setValue(800)
    pl.act_nearby.trigger()
    p = canvas.pixel_point(x, y)
    _click(qtbot, canvas, p.x(), p.y())
    r = pl.last_nearby
    assert r.radius_m == 800
    assert fid in [t["id"] for t in r.protected_targets]
    assert r.people_affected >= 900 and "涉及人数" in pl.panel.title.text()
    assert any(c["inside"] for c in r.control_lines)
    assert fid in set(int(i) for i in w.workspace.selected_ids("protected_targets"))
    assert "示例数据" in pl.panel.page
    canvas.render_now()
    w.grab().save(f"{SHOTS}/ui_planning_nearby.png")
    html = pl.panel.save_html(str(tmp_path / "n.html"))
    assert "一点即现" in open(html, encoding="utf-8").read()
    pdf = pl.panel.save_pdf(str(tmp_path / "n.pdf"))
    assert open(pdf, "rb").read(4) == b"%PDF"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True).stdout
        # CJK fonts map some ideographs to Kangxi radicals in the PDF's text layer: compare NFKC forms
        text = unicodedata.normalize("NFKC", text)
        assert "示例数据" in text and "一点即现" in text


def test_site_check_polygon(pwin, qtbot):
    w = pwin
    pl, canvas = w.extension("planning"), w.canvas
    pl.act_snap.setChecked(False)
    fid, x, y = _seeded_school(w)
    p = canvas.pixel_point(x, y)
    pl.act_site_area.trigger()
    for dx, dy in ((-30, -30), (30, -30), (30, 30), (-30, 30)):
        _click(qtbot, canvas, p.x() + dx, p.y() + dy)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    r = pl.last_site
    assert r.site_type == "Polygon"
    assert any(c["inside"] and c["overlap_m2"] > 0 for c in r.control_lines)
    assert {c["class"] for c in r.restricted_classes} >= {"high_sensitive", "general_1"}
    assert "选址检查" in pl.panel.page and "示例数据" in pl.panel.page


def test_check_action_and_xlsx(pwin, qtbot, tmp_path, demo_copy):
    w = pwin
    pl = w.extension("planning")
    pl.act_check.trigger()
    qtbot.waitUntil(lambda: pl.panel.kind == "check", timeout=30000)
    enc = pl.last_report.encroachments
    with Project.open(demo_copy, readonly=True) as p:
        targets = p.read_table("protected_targets")
        lines = p.read_table("control_lines")
    inside = {int(i) for i, g in zip(targets["id"], targets.geometry) if any(g.within(l) for l in lines.geometry)}
    assert set(enc["target_id"]) == inside
    assert set(int(i) for i in w.workspace.selected_ids("protected_targets")) == inside
    out = pl.panel.save_xlsx(str(tmp_path / "check.xlsx"))
    ws = openpyxl.load_workbook(out)["侵占检查"]
    assert "示例数据" in ws["A1"].value
    assert {ws.cell(row=r, column=2).value for r in range(4, 4 + len(inside))} == set(enc["target_name"])
    # a link in the panel leads to the feature: zoomed to, selected and shown in the identify panel
    first = int(enc["target_id"].iloc[0])
    pl.panel.featureRequested.emit("protected_targets", first)
    assert tuple(w.identify_panel.current) == ("protected_targets", first)


def test_control_lines_from_distances_action(pwin, qtbot):
    w = pwin
    n0 = len(w.workspace.layer("control_lines").gdf)
    w.extension("planning").act_lines.trigger()
    qtbot.waitUntil(lambda: len(w.workspace.layer("control_lines").gdf) == n0 + 1, timeout=30000)
    gdf = w.workspace.layer("control_lines").gdf
    assert gdf["name"].str.contains("按外部安全距离").any()
    assert "draft" in set(gdf["status"])


def test_import_contours_and_grade_lifelines_actions(pwin, qtbot, tmp_path, demo_copy):
    import geopandas as gpd

    w = pwin
    school_id, x, y = _seeded_school(w)
    lon, lat = _geo(w, x, y)
    from tests.analysis.conftest import circle

    gpd.GeoDataFrame({"IR": ["3E-07", "3E-06"]}, geometry=[circle(600, (lon, lat)), circle(200, (lon, lat))],
                     crs="EPSG:4490").to_file(tmp_path / "qra.gpkg", driver="GPKG")
    w.extension("planning").import_contours({"path": str(tmp_path / "qra.gpkg"), "risk_field": "IR", "risk": None,
                                "value_map": None, "status": "new", "enterprise_id": None, "facility": "罐区",
                                "source_doc": "《测试 QRA》"})
    qtbot.waitUntil(lambda: len(w.workspace.layer("risk_contours").gdf) == 2, timeout=30000)
    w.extension("planning").act_check.trigger()
    qtbot.waitUntil(lambda: w.extension("planning").panel.kind == "check", timeout=30000)
    enc = w.extension("planning").last_report.encroachments
    hit = enc[(enc["target_id"] == school_id) & (enc["object_type"] == "contour")]
    # a school (高敏感) near a new installation: its limit is 3×10⁻⁷, the 600 m circle around it
    assert list(hit["threshold"]) == [3e-7] and hit["distance_m"].iloc[0] == pytest.approx(-600, abs=1.0)
    assert "个人风险" in w.extension("planning").panel.page
    w.extension("planning").act_grade.trigger()
    qtbot.waitUntil(lambda: w.workspace.layer("lifelines").gdf["level"].notna().all(), timeout=30000)
    with Project.open(demo_copy, readonly=True) as p:
        assert p.read_table("lifelines")["level"].notna().all()
