"""The plant view (厂区图) on the demo: opened from identify, plan and risk-point areas on screen, a risk point
drawn and graded red turns the enterprise red on the county map, the plan georeferenced by clicks."""

from __future__ import annotations

import os

import numpy as np
import pytest
import shapely
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import SHOTS, pixel, wait_render

pytestmark = pytest.mark.usefixtures("app")


def plant_id(project) -> int:
    from riskmap.plant import plants

    table = plants(project)
    assert len(table), "the demo has a plant"
    return int(table["id"].iloc[0])


def to_map(window, lon, lat):
    from riskmap.crs import transformer

    x, y = transformer(4490, window.workspace.map_epsg).transform(lon, lat)
    return float(x), float(y)


def click(widget, p: QPointF, button=Qt.MouseButton.LeftButton):
    QTest.mouseClick(widget, button, Qt.KeyboardModifier.NoModifier, QPoint(round(p.x()), round(p.y())))


def open_view(window, qtbot):
    """Identify the demo's plant enterprise on the county map, then press 厂区图 in the identify panel."""
    from riskmap.ui.map_tools import IdentifyTool

    eid = plant_id(window.project)
    row = window.workspace.record("enterprises", eid)
    x, y = to_map(window, row.geometry.x, row.geometry.y)
    c = window.canvas
    c.centre_on(x, y, 20_000)
    wait_render(qtbot, c)
    c.set_map_tool(IdentifyTool(c))
    click(c, c.pixel_point(x, y))
    panel = window.identify_panel
    qtbot.waitUntil(lambda: panel.current is not None)
    assert panel.current == ("enterprises", eid), panel.current
    assert panel.plant_button.isVisible()
    panel.plant_button.click()
    views = window.extension("plant_views").views
    qtbot.waitUntil(lambda: eid in views and views[eid].isVisible())
    view = views[eid]
    qtbot.addWidget(view)
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view._zoomed and view.canvas.view.width_px == view.canvas.width())
    QApplication.processEvents()
    view.zoom_to_plant()
    wait_render(qtbot, view.canvas)
    return view, eid


def inside_pixels(window, canvas, geom_4490, inset_px: float = 6.0, step_px: float = 2.0):
    """Canvas pixels on a grid inside an area (map CRS), ``inset_px`` away from its outline."""
    from riskmap.crs import reproject

    g = reproject(geom_4490, 4490, window.workspace.map_epsg).buffer(-inset_px * canvas.view.resolution)
    x0, y0, x1, y1 = g.bounds
    step = step_px * canvas.view.resolution
    xs, ys = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    pts = shapely.points(xs.ravel(), ys.ravel())
    keep = shapely.contains(g, pts)
    return [(float(p.x()), float(p.y())) for p in (canvas.pixel_point(x, y) for x, y in
                                                   zip(xs.ravel()[keep], ys.ravel()[keep]))]


def area_colour_share(window, qtbot, canvas, geom_4490, level: int) -> tuple[float, int]:
    """Share of the pixels inside an area whose colour is the level's colour at the layer's fill opacity over
    what the map shows there without the risk-point areas (rendered again with the layer hidden)."""
    from riskmap.layers import load_catalogue
    from riskmap.levels import colour

    alpha = load_catalogue()["risk_points"].style.fill_opacity
    pts = inside_pixels(window, canvas, geom_4490)
    window.workspace.set_labels(False)  # the area's name would cover some of it
    wait_render(qtbot, canvas)
    with_areas = canvas.to_image()
    window.workspace.set_visible("risk_points", False)
    wait_render(qtbot, canvas)
    under = canvas.to_image()
    window.workspace.set_visible("risk_points", True)
    window.workspace.set_labels(True)
    wait_render(qtbot, canvas)
    top = QColor(colour(level)).getRgb()[:3]
    ok = 0
    for x, y in pts:
        want = [alpha * t + (1 - alpha) * u for t, u in zip(top, pixel(under, x, y))]
        ok += all(abs(g - w) <= 12 for g, w in zip(pixel(with_areas, x, y), want))
    return ok / max(1, len(pts)), len(pts)


def test_identify_opens_the_plant_view_with_plan_and_areas(window, qtbot):
    from riskmap.levels import colour
    from riskmap.render.plans import decode

    view, eid = open_view(window, qtbot)
    data = view.data
    assert data.plan is not None and data.extent_4490 is not None
    c = view.canvas
    # zoomed on the plant: its whole extent in view, at a plant scale
    x0, y0, x1, y1 = view.plant_extent()
    vx0, vy0, vx1, vy1 = c.view.extent
    assert vx0 <= x0 and vy0 <= y0 and vx1 >= x1 and vy1 >= y1
    assert c.scale() < 25_000
    img = c.to_image()
    img.save(os.path.join(SHOTS, "riskmap_plant_view.png"))
    view.grab().save(os.path.join(SHOTS, "riskmap_plant_view_window.png"))
    # the plan: a pixel of the drawing where no risk point lies (the demo 加油站's front 绿化) shows its colour
    from riskmap.georef import apply

    plan_img = decode(data.plan.image)
    col, row = 470, 950  # inside the 绿化 strip (380–740, 910–990) between two trees
    px_colour = QColor(plan_img.pixel(col, row))
    xm, ym = apply(data.plan.transform, col + 0.5, row + 0.5)
    from riskmap.crs import transformer

    mx, my = transformer(data.plan.crs, window.workspace.map_epsg).transform(xm, ym)
    p = c.pixel_point(mx, my)
    got = pixel(img, p.x(), p.y())
    want = (px_colour.red(), px_colour.green(), px_colour.blue())
    assert all(abs(a - b) <= 45 for a, b in zip(got, want)), (got, want)  # the plan at its opacity over the map
    window.workspace.set_visible("plant_plans", False)
    wait_render(qtbot, c)
    without = pixel(c.to_image(), p.x(), p.y())
    window.workspace.set_visible("plant_plans", True)
    assert sum(abs(a - b) for a, b in zip(got, without)) > 40, (got, without)  # hidden: the map under it
    wait_render(qtbot, c)
    # every risk-point area: its level's colour over the plan
    areas = data.points[data.points.geom_type.isin(["Polygon", "MultiPolygon"])]
    assert len(areas) >= 3
    for _, r in areas.iterrows():
        share, n = area_colour_share(window, qtbot, c, r.geometry, int(r["level"]))
        assert n >= 20 and share >= 0.9, (r["name"], share, n)
    # the tables: every risk point and hazard source listed, the level cell in its colour
    rows = view.points.rowCount() + view.hazards.rowCount()
    assert rows == len(data.points)
    k = 0
    cell = view.points.item(k, 2)
    assert cell.background().color().name().upper() == QColor(colour(int(data.points[
        data.points["kind"] != "hazard_source"].iloc[0]["level"]))).name().upper()
    # selecting a row selects the area on the map
    view.points.selectRow(0)
    lid, fid = view.points.item(0, 0).data(Qt.ItemDataRole.UserRole)
    assert list(window.workspace.selected_ids(lid)) == [fid]


def finish_dialog(qtbot, fill):
    """Fill the modal dialog that the next action opens, then press 确定."""
    done = []

    def step():
        dlg = QApplication.activeModalWidget()
        if dlg is None:
            QTimer.singleShot(50, step)
            return
        fill(dlg)
        done.append(dlg)
        dlg._accept()

    QTimer.singleShot(0, step)
    return done


def test_draw_a_red_area_turns_the_enterprise_red(window, qtbot):
    from riskmap.levels import colour

    view, eid = open_view(window, qtbot)
    before_level = window.workspace.record("enterprises", eid)["level"]
    assert before_level != 1
    n_before = len(view.data.points)
    c = view.canvas
    # a strip of the 加油站's forecourt in front of the 罩棚 (30 m × 4.5 m), drawn with four clicks and Enter
    from riskmap.georef import apply

    plan = view.data.plan
    from riskmap.crs import transformer

    to_map_crs = transformer(plan.crs, window.workspace.map_epsg)
    corners = [(300, 810), (900, 810), (900, 900), (300, 900)]
    view.act_area.trigger()
    assert c.map_tool is view.area_tool
    for col, row in corners:
        mx, my = to_map_crs.transform(*apply(plan.transform, col, row))
        click(c, c.pixel_point(mx, my))
    assert len(view.area_tool.points) == 4
    shown = []

    def fill(dlg):
        dlg.name.setText("洗车区域")
        dlg.set_inputs("lec", {"L": 6, "E": 6, "C": 15})  # D = 540 ≥ 320: 重大风险
        shown.append((dlg.level.text(), dlg.level.property("level")))
        dlg.texts["hazard_factors"].setPlainText("车辆伤害")
        dlg.person.setText("张三")
        dlg.signs.item(0).setCheckState(Qt.CheckState.Checked)
        dlg.grab().save(os.path.join(SHOTS, "riskmap_risk_point_dialog.png"))

    done = finish_dialog(qtbot, fill)
    QTest.keyClick(c, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: done and view.busy is None and len(view.data.points) == n_before + 1, timeout=30000)
    assert shown[0][1] == 1 and "重大风险" in shown[0][0] and "540" in shown[0][0]
    new = view.data.points[view.data.points["name"] == "洗车区域"].iloc[0]
    assert int(new["level"]) == 1 and new["method"] == "lec" and new.geometry.geom_type == "Polygon"
    assert new["responsible_person"] == "张三" and len(new["signs"]) == 1
    # the enterprise follows its highest risk point (就高): red in the workspace and on the county canvas
    assert int(window.workspace.record("enterprises", eid)["level"]) == 1
    ent = window.workspace.record("enterprises", eid)
    x, y = to_map(window, ent.geometry.x, ent.geometry.y)
    main = window.canvas
    main.centre_on(x, y, 60_000)  # above the plant scales: the enterprise's symbol, not its areas
    wait_render(qtbot, main)
    img = main.to_image()
    p = main.pixel_point(x, y)
    got = pixel(img, p.x(), p.y())
    red = QColor(colour(1))
    assert all(abs(a - b) <= 30 for a, b in zip(got, (red.red(), red.green(), red.blue()))), got
    img.save(os.path.join(SHOTS, "riskmap_plant_enterprise_red.png"))
    # on the plant view the new area is red over the plan
    wait_render(qtbot, c)
    share, n = area_colour_share(window, qtbot, c, new.geometry, 1)
    assert n >= 20 and share >= 0.9, (share, n)
    c.to_image().save(os.path.join(SHOTS, "riskmap_plant_view_red_area.png"))
    # deleting it gives the enterprise its level back
    view.remove_point(int(new["id"]))
    qtbot.waitUntil(lambda: view.busy is None and len(view.data.points) == n_before, timeout=30000)
    assert window.workspace.record("enterprises", eid)["level"] == before_level


def test_reassess_appends_to_the_history(window, qtbot):
    from riskmap.records import assessment_history

    view, eid = open_view(window, qtbot)
    view.points.selectRow(0)
    rp_id = view.selected()[1]
    n = len(assessment_history(window.project, eid))

    def fill(dlg):
        assert dlg.name.text()  # the point's values are filled in
        dlg.set_inputs("ls", {"L": 3, "S": 4})  # R = 12: 较大风险

    done = finish_dialog(qtbot, fill)
    view.act_assess.trigger()
    qtbot.waitUntil(lambda: done and view.busy is None, timeout=30000)
    qtbot.waitUntil(lambda: int(view.point_row(rp_id)["level"]) == 2, timeout=30000)
    assert view.point_row(rp_id)["method"] == "ls"
    assert len(assessment_history(window.project, eid)) > n
    # its area redrawn: a new outline clicked around the old one's centre
    from riskmap.crs import reproject

    old = view.point_row(rp_id).geometry
    cen = reproject(old, 4490, window.workspace.map_epsg).centroid
    view.select_point(rp_id)
    view.act_reshape.trigger()
    c = view.canvas
    c.set_extent((cen.x - 15, cen.y - 15, cen.x + 15, cen.y + 15))  # the clicks off the neighbours' snapping
    wait_render(qtbot, c)
    for dx, dy in ((-8, -6), (8, -6), (8, 6), (-8, 6)):
        click(c, c.pixel_point(cen.x + dx, cen.y + dy))
    QTest.keyClick(c, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.busy is None and not view.point_row(rp_id).geometry.equals(old), timeout=30000)
    new = reproject(view.point_row(rp_id).geometry, 4490, window.workspace.map_epsg)
    assert abs(new.area - 16 * 12) < 4 and new.centroid.distance(cen) < 0.5


def test_no_editing_while_a_past_date_is_shown(window, qtbot):
    import datetime as dt

    view, eid = open_view(window, qtbot)
    assert view.act_area.isEnabled() and view.act_georef.isEnabled()
    asof = window.extension("timeline").panel.asof
    asof.set_date(dt.date.today() - dt.timedelta(days=400))
    qtbot.waitUntil(lambda: asof.is_past() and not view.act_area.isEnabled(), timeout=30000)
    assert not view.act_georef.isEnabled() and not view.act_point.isEnabled()
    asof.set_date(None)
    qtbot.waitUntil(lambda: view.act_area.isEnabled(), timeout=30000)


def quadrant_png(path, w=400, h=300):
    img = QImage(w, h, QImage.Format.Format_RGB32)
    p = QPainter(img)
    for (x, y, col) in ((0, 0, "#C000C0"), (w // 2, 0, "#00A0A0"), (0, h // 2, "#009000"), (w // 2, h // 2, "#282878")):
        p.fillRect(x, y, w // 2, h // 2, QColor(col))
    p.end()
    img.save(str(path))


def test_georeference_by_the_plant_corners(window, qtbot, tmp_path):
    """A test image whose corners are known on the map: the four corners clicked on the map give
    residuals ≤ 1 m, shown; 确定 stores the plan and the plant view draws it."""
    from riskmap.crs import transformer
    from riskmap.georef import apply, corners

    view, eid = open_view(window, qtbot)
    src = tmp_path / "plan.png"
    quadrant_png(src)
    view.georeference()
    dlg = view.georef_dialog
    qtbot.waitExposed(dlg)
    dlg.open_file(str(src))
    qtbot.waitUntil(lambda: dlg.image is not None, timeout=20000)
    dlg.mode_corners.setChecked(True)
    assert [g["col"] for g in dlg.gcps] == [0, 400, 400, 0]
    # the truth: 0.2 m per pixel, turned 20°, its top-left corner 40 m west and 30 m north of the enterprise
    ent = dlg.enterprise
    x0, y0 = transformer(4490, dlg.metric_epsg).transform(ent["lon"], ent["lat"])
    a = np.radians(20)
    s = 0.2
    truth = (x0 - 40, s * np.cos(a), s * np.sin(a), y0 + 30, s * np.sin(a), -s * np.cos(a))
    qtbot.waitUntil(lambda: dlg.canvas.view.width_px == dlg.canvas.width(), timeout=10000)
    QApplication.processEvents()
    dlg.zoom_to_plant()
    wait_render(qtbot, dlg.canvas)
    to_map_crs = transformer(dlg.metric_epsg, window.workspace.map_epsg)
    for mx, my in corners(truth, 400, 300):
        click(dlg.canvas, dlg.canvas.pixel_point(*to_map_crs.transform(mx, my)))
    assert dlg.fit is not None and dlg.fit.method == "affine"
    assert dlg.fit.max_m <= 1.0, dlg.fit.max_m
    residuals = [float(dlg.table.item(i, 5).text()) for i in range(4)]
    assert max(residuals) <= 1.0 and "RMS" in dlg.rms.text()
    wait_render(qtbot, dlg.canvas)
    dlg.grab().save(os.path.join(SHOTS, "riskmap_georef_dialog.png"))
    dlg.ok_button.click()
    qtbot.waitUntil(lambda: view.data.plan is not None and view.data.plan.width == 400, timeout=30000)
    plan = view.data.plan
    # the stored transform puts the image's centre within a metre of the truth
    cx, cy = apply(plan.transform, 200, 150)
    tx, ty = apply(truth, 200, 150)
    assert np.hypot(cx - tx, cy - ty) < 1.0
    # and the plant view draws it: the quadrants' colours at their middles (the risk-point areas hidden)
    wait_render(qtbot, view.canvas)
    view.canvas.to_image().save(os.path.join(SHOTS, "riskmap_plant_view_new_plan.png"))
    for lid in ("risk_points", "risk_point_points", "hazard_sources", "enterprises", "hidden_dangers"):
        window.workspace.set_visible(lid, False)
    window.workspace.set_labels(False)
    wait_render(qtbot, view.canvas)
    img = view.canvas.to_image()
    for (col, row), want in (((100, 75), "#C000C0"), ((300, 75), "#00A0A0"), ((100, 225), "#009000"),
                             ((300, 225), "#282878")):
        p = view.canvas.pixel_point(*to_map_crs.transform(*apply(truth, col, row)))
        got = pixel(img, p.x(), p.y())
        w = QColor(want).getRgb()[:3]
        assert all(abs(a - 0.85 * b) <= 0.15 * 255 + 6 for a, b in zip(got, w)), (want, got)  # at the plan's opacity


def test_georeference_by_control_points_and_pdf_pages(window, qtbot, tmp_path):
    from PySide6.QtCore import QMarginsF, QSizeF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter

    from riskmap.crs import transformer

    view, eid = open_view(window, qtbot)
    pdf = tmp_path / "plans.pdf"
    w = QPdfWriter(str(pdf))
    w.setPageLayout(QPageLayout(QPageSize(QSizeF(100, 80), QPageSize.Unit.Millimeter),
                                QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    p = QPainter(w)
    p.fillRect(0, 0, 200, 200, QColor("#808080"))
    w.setPageSize(QPageSize(QSizeF(60, 40), QPageSize.Unit.Millimeter))
    w.newPage()
    p.end()
    view.georeference()
    dlg = view.georef_dialog
    dlg.open_file(str(pdf))
    qtbot.waitUntil(lambda: dlg.image is not None, timeout=20000)
    assert dlg.page_spin.maximum() == 2 and dlg.page_spin.isVisible()
    first = dlg.image.width()
    dlg.page_spin.setValue(2)
    qtbot.waitUntil(lambda: dlg.page == 2 and dlg.image.width() != first, timeout=20000)
    assert abs(dlg.image.width() - round(60 / 25.4 * 300)) <= 2  # page 2, 60 mm at 300 dpi
    # two points clicked on the image and typed as lon/lat: a similarity; a third: affine with residuals
    ent = dlg.enterprise
    for col, row, de, dn in ((10, 10, -20, 15), (600, 400, 30, -15), (60, 400, -14, -14)):
        click(dlg.view, dlg.view.to_widget(col, row))
        x0, y0 = transformer(4490, dlg.metric_epsg).transform(ent["lon"], ent["lat"])
        lon, lat = transformer(dlg.metric_epsg, 4490).transform(x0 + de, y0 + dn)
        dlg.set_lonlat(lon, lat)
        if len(dlg.complete()) == 2:
            assert dlg.fit.method == "similarity" and dlg.fit.rms_m < 1e-6
    assert dlg.fit.method == "affine" and len(dlg.complete()) == 3
    dlg.table.selectRow(2)
    dlg.delete_selected()
    assert len(dlg.gcps) == 2 and dlg.fit.method == "similarity"
    dlg.reject()


def test_outputs_from_the_plant_view(window, qtbot, tmp_path, monkeypatch):
    """打印厂区图…, 风险告知卡… (asking the bureau's phone once) and 导出厂区包… write their files."""
    import subprocess

    from PySide6.QtWidgets import QFileDialog, QInputDialog

    view, eid = open_view(window, qtbot)
    assert set(view.output_actions) == {"print_plant", "export_cards", "export_package"}
    outs = {"print": tmp_path / "plant.pdf", "cards": tmp_path / "cards.pdf", "pack": tmp_path / "plant.gpkg"}
    asked = []
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: (asked.append(a) or "0943-1234567", True)))
    for key, action in (("print", "print_plant"), ("cards", "export_cards"), ("pack", "export_package")):
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, _p=outs[key], **k: (str(_p), "")))
        view.output_actions[action].trigger()
        qtbot.waitUntil(lambda _p=outs[key]: _p.exists() and _p.stat().st_size > 0, timeout=60000)
    assert len(asked) == 1 and window.project.meta()["bureau_phone"] == "0943-1234567"
    listing = subprocess.run(["pdfimages", "-list", str(outs["print"])], capture_output=True, text=True,
                             check=True).stdout
    plan = view.data.plan
    assert any(line.split()[3:5] == [str(plan.width), str(plan.height)] for line in listing.splitlines()[2:]), listing
    text = subprocess.run(["pdftotext", str(outs["cards"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "0943-1234567" in text
    # asked once: the phone is kept in the project (the file dialog cancelled this time)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    view.output_actions["export_cards"].trigger()
    assert len(asked) == 1
