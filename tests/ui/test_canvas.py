"""The map canvas on the demo: colours at known enterprises, Chinese labels, pan/zoom, cache and history."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter

from tests.ui.conftest import SHOTS, close_to, isolated_feature, pixel, wait_render


def test_red_and_blue_enterprises_drawn_in_their_colours(window, qtbot):
    ws, canvas = window.workspace, window.canvas
    ws.set_labels(False)
    for lid in ("hidden_dangers", "emergency_resources", "protected_targets"):
        ws.set_visible(lid, False)  # their symbols sit on or near enterprises
    wait_render(qtbot, canvas)
    red_id, rx, ry = isolated_feature(ws, canvas, "enterprises", 1)
    blue_id, bx, by = isolated_feature(ws, canvas, "enterprises", 4)
    img = canvas.to_image()
    img.save(f"{SHOTS}/ui_canvas_colours.png")
    assert close_to(pixel(img, rx, ry), "#FF0000"), pixel(img, rx, ry)
    assert close_to(pixel(img, bx, by), "#0070FF"), pixel(img, bx, by)
    # the level in the record is what decided the colour
    gdf = ws.layer("enterprises").gdf.set_index("id")
    assert int(gdf.loc[red_id, "level"]) == 1 and int(gdf.loc[blue_id, "level"]) == 4
    # hiding the layer removes the colour (the next render, off the GUI thread)
    ws.set_visible("enterprises", False)
    wait_render(qtbot, canvas)
    assert not close_to(pixel(canvas.to_image(), rx, ry), "#FF0000")


def test_chinese_labels_are_glyphs_not_boxes(window, qtbot):
    from riskmap.render.fonts import device_font

    canvas = window.canvas
    wait_render(qtbot, canvas)
    job = canvas.render_job()
    job.run()
    towns = [lab for lab in job.stats.labels if lab.layer_id == "towns"]
    assert len(towns) >= 10  # town names are shown at every scale
    img = canvas.to_image()
    img.save(f"{SHOTS}/ui_canvas_labels.png")
    lab = towns[0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in lab.text)
    font = device_font(lab.size_pt, lab.bold, canvas.view.dpi, img.logicalDpiY())
    fm = QFontMetricsF(font, img)
    assert all(fm.inFontUcs4(ord(ch)) for ch in lab.text)  # the bundled font has every glyph
    # draw the same text alone and check the canvas is dark exactly where its glyphs are
    ref = QImage(img.size(), QImage.Format.Format_ARGB32_Premultiplied)
    ref.fill(Qt.GlobalColor.transparent)
    p = QPainter(ref)
    p.setFont(font)
    p.setPen(QColor("#000000"))
    p.drawText(QPointF(lab.x, lab.y), lab.text)
    p.end()
    x0, y0, x1, y1 = (int(v) for v in lab.rect)
    ys = range(max(y0, 1), min(y1 + 1, img.height() - 1))
    xs = range(max(x0, 1), min(x1 + 1, img.width() - 1))
    canvas_px = np.array([[pixel(img, x, y) for x in xs] for y in ys], dtype=int)
    glyph = np.array([[ref.pixelColor(x, y).alpha() for x in xs] for y in ys]) > 160
    near = glyph.copy()  # the glyph grown by one pixel (anti-aliased edges)
    near[1:, :] |= glyph[:-1, :]
    near[:-1, :] |= glyph[1:, :]
    near[:, 1:] |= glyph[:, :-1]
    near[:, :-1] |= glyph[:, 1:]
    text_like = (canvas_px.max(axis=2) < 120) & (np.ptp(canvas_px, axis=2) < 40)  # dark grey: label ink
    assert glyph.sum() > 40
    # the canvas has label ink where the glyphs are, and label ink only there (white halo elsewhere)
    assert text_like[glyph].mean() > 0.8, text_like[glyph].mean()
    assert near[text_like].mean() > 0.95, near[text_like].mean()
    # a box ("tofu") glyph would be a hollow rectangle: its ink would fill the glyph cell's border only.
    # CJK glyphs have ink inside the cell, away from the border.
    w = fm.horizontalAdvance(lab.text[0])
    inner = 0
    for y in range(int(lab.y - fm.ascent() * 0.6), int(lab.y - fm.ascent() * 0.3)):
        for x in range(int(lab.x + w * 0.3), int(lab.x + w * 0.7)):
            inner += ref.pixelColor(x, y).alpha() > 200
    assert inner > 0


def test_wheel_zooms_about_the_cursor_and_pan_moves_the_cached_image(window, qtbot):
    canvas = window.canvas
    wait_render(qtbot, canvas)
    pos = QPointF(300, 250)
    before = canvas.map_point(pos.x(), pos.y())
    scale0 = canvas.scale()
    from PySide6.QtGui import QWheelEvent

    ev = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 240), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(ev)
    after = canvas.map_point(pos.x(), pos.y())
    assert canvas.scale() == pytest.approx(scale0 / 1.25 ** 2, rel=1e-6)
    assert after == pytest.approx(before, abs=1e-6 * abs(before[0]))
    wait_render(qtbot, canvas)
    # drag-pan: while dragging no render is started; the cached image is drawn shifted
    renders = canvas.render_count
    image_before = canvas.to_image()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(400, 400))
    from PySide6.QtGui import QMouseEvent

    move = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(460, 430), canvas.mapToGlobal(QPointF(460, 430)),
                       Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    canvas.mouseMoveEvent(move)
    assert not canvas.is_rendering()
    shifted = canvas.to_image()
    assert canvas.render_count == renders
    # a pixel of the old image appears 60 px right and 30 px down
    same = sum(shifted.pixelColor(x + 60, y + 30) == image_before.pixelColor(x, y)
               for x in range(420, 700, 7) for y in range(300, 500, 7))
    assert same > 0.9 * len(range(420, 700, 7)) * len(range(300, 500, 7))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(460, 430))
    assert canvas.is_rendering()
    wait_render(qtbot, canvas)
    assert canvas.render_count == renders + 1


def test_keys_history_and_full_extent(window, qtbot):
    canvas = window.canvas
    canvas.setFocus()
    e0 = canvas.view.extent
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    e1 = canvas.view.extent
    width = e0[2] - e0[0]
    assert e1[0] == pytest.approx(e0[0] - 0.25 * width)  # the view moved west by a quarter
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.view.extent[2] - canvas.view.extent[0] == pytest.approx(width / 2)
    canvas.zoom_previous()
    assert canvas.view.extent == pytest.approx(e1)
    canvas.zoom_previous()
    assert canvas.view.extent == pytest.approx(e0)
    canvas.zoom_next()
    assert canvas.view.extent == pytest.approx(e1)
    canvas.zoom_full()
    county = window.workspace.layer_extent("county")
    v = canvas.view.extent
    assert v[0] <= county[0] and v[1] <= county[1] and v[2] >= county[2] and v[3] >= county[3]


def test_box_zoom_and_status_bar(window, qtbot):
    canvas = window.canvas
    window.act_zoom_box.trigger()
    x0, y0 = canvas.map_point(200, 200)
    x1, y1 = canvas.map_point(400, 300)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
    from PySide6.QtGui import QMouseEvent

    canvas.mouseMoveEvent(QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(400, 300), canvas.mapToGlobal(QPointF(400, 300)),
                                      Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(400, 300))
    v = canvas.view.extent
    assert v[0] <= x0 + 1 and v[2] >= x1 - 1 and v[1] <= y1 + 1 and v[3] >= y0 - 1
    assert (v[2] - v[0]) < (x1 - x0) * 1.8  # zoomed in to the box, not beyond
    # status bar: coordinates of the cursor in lon/lat and metres, the scale and the CRS
    from riskmap.crs import transformer

    qtbot.mouseMove(canvas, QPoint(300, 250))
    mx, my = canvas.map_point(300, 250)
    canvas.cursorMoved.emit(mx, my)
    lon, lat = transformer(window.workspace.map_epsg, 4490).transform(mx, my)
    text = window.coord_label.text()
    assert f"{lon:.6f}" in text and f"{lat:.6f}" in text and f"{mx:.1f}" in text
    assert window.scale_combo.currentText() == f"1:{round(canvas.scale()):,}"
    assert "EPSG:4544" in window.crs_label.text()
    window.scale_combo.setEditText("1:25000")
    window._scale_entered()
    assert canvas.scale() == pytest.approx(25000, rel=1e-6)


def test_render_runs_off_the_gui_thread(window, qtbot, monkeypatch):
    """Renders run on a worker thread, and a newer view cancels the older render."""
    from riskmap.render.image import RenderJob

    threads = []
    original = RenderJob.run

    def run(self):
        threads.append(threading.current_thread())
        return original(self)

    monkeypatch.setattr(RenderJob, "run", run)
    canvas = window.canvas
    canvas.refresh()
    qtbot.waitUntil(lambda: len(threads) >= 1, timeout=5000)
    canvas.zoom_by(2.0)
    wait_render(qtbot, canvas)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert canvas.has_current_image()
