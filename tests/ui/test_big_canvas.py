"""A project too large to read whole (LAZY_ROWS lowered so the test stays quick): the full view draws
aggregates (a lone red enterprise's cell is red, its count as counted by hand), the legend and the canvas say
so; zoomed in 10× and panned, the exact enterprises of the box appear in their level colours and the count
labels are gone."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.store.test_viewport import RED, make_points_project
from tests.ui.conftest import SHOTS, close_to, open_window, pixel, wait_render

BUDGET = 5000  # exact points per view in this test (the full view holds about 22,000)


@pytest.fixture
def big_window(app, qtbot, prefs, tmp_path, monkeypatch):
    import riskmap.render.lazy as lazy
    import riskmap.store.viewport as viewport

    monkeypatch.setattr(viewport, "LAZY_ROWS", 5000)
    monkeypatch.setattr(lazy, "POINT_BUDGET", BUDGET)
    data = make_points_project(tmp_path / "big.gpkg", n=20_000, seed=3, edge=False)
    w = open_window(qtbot, prefs, tmp_path / "big.gpkg")
    qtbot.waitUntil(lambda: w.workspace.layer("enterprises").lazy, timeout=30000)
    ws = w.workspace
    for layer in ws.layers:  # the enterprises alone, so pixels are theirs
        if layer.id != "enterprises":
            ws.set_visible(layer.id, False)
    ws.set_labels(False)
    wait_render(qtbot, w.canvas)
    yield w, data
    w.close()
    w.deleteLater()


def _map_xy(data, epsg):
    from riskmap.crs import transformer

    x, y = transformer(4490, epsg).transform(data["lon"], data["lat"])
    return np.column_stack([x, y])


def _level_colour(level) -> str:
    from riskmap.levels import colour

    return "#9E9E9E" if level is None else colour(int(level))


def _check_exact(canvas, data, xy, name):
    """Every enterprise of the view with no other symbol within 12 px shows its level's colour; returns how
    many were checked (the hand-computed set of the box)."""
    view = canvas.view
    inside = np.flatnonzero(view.contains_xy(xy[:, 0], xy[:, 1]))
    assert 0 < len(inside) < BUDGET
    px = view.map_to_pixel(xy[inside])
    img = canvas.to_image()
    img.save(f"{SHOTS}/{name}.png")
    w, h = view.width_px, view.height_px
    checked = 0
    for k, (x, y) in enumerate(px):
        if not (8 < x < w - 8 and 8 < y < h - 8) or (x < 420 and y < 40) or (x < 372 and y > h - 66) \
                or (x > w - 52 and y < 62):  # frame edge, the note, the scale bar, the north arrow
            continue
        d = np.hypot(px[:, 0] - x, px[:, 1] - y)
        if np.sort(d)[1] < 12:
            continue
        level = data["level"][inside[k]]
        assert close_to(pixel(img, x, y), _level_colour(level), tol=40), (inside[k], level, pixel(img, x, y))
        checked += 1
    return checked


def test_big_project_aggregates_then_exact_features(big_window, qtbot):
    from riskmap.render.lazy import CELL_MM

    window, data = big_window
    ws, canvas = window.workspace, window.canvas
    layer = ws.layer("enterprises")
    assert layer.lazy and layer.row_count == len(data["id"]) and len(layer.gdf) == 0  # nothing read whole
    # full view: aggregates, said by the canvas and the legend
    canvas.zoom_full()
    wait_render(qtbot, canvas)
    assert canvas.aggregated == ("enterprises",)
    assert "已聚合" in canvas.aggregated_note()
    qtbot.waitUntil(lambda: any(e.kind == "header" and "已聚合" in e.label for e in window.legend_panel.entries),
                    timeout=10000)
    # the red enterprise's cell, by hand: the cells are CELL_MM on screen, on a grid fixed to the map
    view = canvas.view
    xy = _map_xy(data, ws.map_epsg)
    cell = CELL_MM * view.px_per_mm() * view.resolution
    margin = (2.4 * view.px_per_mm() + 2) * view.resolution
    x0 = math.floor((view.extent[0] - margin - cell) / cell) * cell
    y0 = math.floor((view.extent[1] - margin - cell) / cell) * cell
    shown = view.contains_xy(xy[:, 0], xy[:, 1], margin=margin)
    ix = np.floor((xy[:, 0] - x0) / cell).astype(int)
    iy = np.floor((xy[:, 1] - y0) / cell).astype(int)
    red = int(np.flatnonzero(data["level"] == 1)[0])
    assert np.allclose(data["lon"][red], RED[0])
    same = shown & (ix == ix[red]) & (iy == iy[red])
    n_cell = int(same.sum())
    levels = data["level"][same]
    assert n_cell > 50 and int((levels == 1).sum()) == 1  # one red among many others
    mx, my = xy[same].mean(axis=0)
    rx, ry = view.map_to_pixel(mx, my)
    img = canvas.to_image()
    img.save(f"{SHOTS}/ui_big_canvas_aggregated.png")
    assert close_to(pixel(img, rx, ry), "#FF0000"), pixel(img, rx, ry)
    prep = layer.prepared.for_view(view, labels=True)  # the aggregate drawn there carries the hand count
    k = int(np.argmin(np.hypot(prep.coords[:, 0] - mx, prep.coords[:, 1] - my)))
    assert np.hypot(*(prep.coords[k] - (mx, my))) < 1e-6 * cell
    assert prep.label_text[k] == str(n_cell)
    assert prep.classes[prep.cls[k]].key == 1
    assert (np.array([prep.classes[c].key for c in prep.cls]) == 1).sum() == 1  # no other cell is red

    # 10× zoom about the red enterprise: the exact features of the box, no count labels; the frame is taken
    # (and painted) before the legend rebuilds its titles
    order = []
    canvas.renderFinished.connect(lambda s: order.append("frame"))
    canvas.lodChanged.connect(lambda: order.append("legend"))
    canvas.zoom_by(10, (float(rx), float(ry)))
    wait_render(qtbot, canvas)
    assert canvas.aggregated == ()
    qtbot.waitUntil(lambda: "legend" in order, timeout=10000)
    assert order.index("frame") < order.index("legend")
    qtbot.waitUntil(lambda: not any("已聚合" in e.label for e in window.legend_panel.entries), timeout=10000)
    checked = _check_exact(canvas, data, xy, "ui_big_canvas_zoomed")
    assert checked >= 20
    ws.set_labels(True)
    wait_render(qtbot, canvas)
    canvas.to_image().save(f"{SHOTS}/ui_big_canvas_zoomed_labels.png")
    job = canvas.label_job()
    job.run()
    texts = [lab.text for lab in job.stats.labels if lab.layer_id == "enterprises"]
    assert texts and not any(re.fullmatch(r"\d+", t) for t in texts)  # names, no aggregate counts
    assert any(t.startswith("示例企业") for t in texts)

    # pan: the features of the new box come in (read by view)
    ws.set_labels(False)
    canvas.pan_by(-canvas.view.width_px * 0.6, 0)
    wait_render(qtbot, canvas)
    assert canvas.aggregated == ()
    assert _check_exact(canvas, data, xy, "ui_big_canvas_panned") >= 20


def test_print_and_export_of_a_lazy_layer_take_every_row(big_window, qtbot):
    from riskmap.ui.export_dialog import ExportDialog
    from riskmap.ui.print_dialog import workspace_source
    from riskmap.ui.workspace import LayerFilter

    window, data = big_window
    ws = window.workspace
    src = workspace_source(ws, window.project)
    ents = src.get("enterprises")
    assert len(ents.gdf) == len(data["id"])  # all of them, not the rows read for the screen
    assert sorted(ents.gdf["id"].tolist()) == data["id"].tolist()
    ws.set_filter("enterprises", LayerFilter({"level": frozenset({1, 2})}))
    want = sorted(int(i) for i, lv in zip(data["id"], data["level"]) if lv in (1, 2))
    assert sorted(workspace_source(ws, window.project).get("enterprises").gdf["id"].tolist()) == want
    dlg = ExportDialog(window)  # the layer list counts every row of the lazy layer, and checks it
    item = next(dlg.layer_list.item(i) for i in range(dlg.layer_list.count())
                if dlg.layer_list.item(i).data(Qt.ItemDataRole.UserRole) == "enterprises")
    assert f"{len(data['id'])}" in item.text() and item.checkState() == Qt.CheckState.Checked
    dlg.close()


def test_dashboard_of_a_lazy_project_counts_in_the_background(big_window, qtbot):
    window, data = big_window
    dash = window.dashboard
    # opened with its tab behind 识别结果 (Qt calls it visible): nothing counted, no whole table read
    assert dash.isVisible() and not dash.on_screen()
    dash.mark_stale()
    assert dash.stats is None and not dash.busy()
    window.docks["dashboard"].raise_()  # its tab brought forward: counted on a worker, never on the GUI thread
    qtbot.waitUntil(lambda: not dash.busy() and dash.stats is not None, timeout=30000)
    assert dash.on_screen()
    assert dash.stats["enterprises"] == len(data["id"])
    assert dash.stats["by_level"]["1"] == int((data["level"] == 1).sum()) == 1


def test_kept_layer_images_and_decimated_grids_follow_an_edit(app, qtbot, prefs, demo_copy, monkeypatch):
    """Every layer kept as an image and drawn decimated (thresholds lowered): a redraw of the same view paints
    no layer again, and a grid cell whose level another user changed (a reload, as the change poller does) shows
    its new colour, not the kept image's."""
    import shapely

    import riskmap.render.lazy as lazy
    import riskmap.render.painter as painter
    from riskmap.levels import colour

    monkeypatch.setattr(painter, "LAYER_IMAGE_VERTICES", 1)
    monkeypatch.setattr(lazy, "LOD_VERTICES", 1)
    painter.clear_layer_images()
    w = open_window(qtbot, prefs, demo_copy)
    try:
        ws, canvas = w.workspace, w.canvas
        for layer in ws.layers:
            ws.set_visible(layer.id, layer.id == "grids")
        ws.set_labels(False)
        wait_render(qtbot, canvas)
        grids = ws.layer("grids").gdf
        # the largest level-4 cell, zoomed so that it fills a good part of the canvas
        big = grids[grids["level"] == 4].to_crs(ws.map_epsg).geometry.area.idxmax()
        gid = int(grids.loc[big, "id"])
        cell = grids.loc[big].geometry
        from riskmap.crs import transformer

        inner = shapely.get_coordinates(cell.representative_point())[0]
        cx, cy = transformer(4490, ws.map_epsg).transform(inner[0], inner[1])
        about = canvas.view.map_to_pixel(np.array([[cx, cy]]))[0]
        canvas.zoom_by(4.0, about=(float(about[0]), float(about[1])))  # the point stays under that pixel
        wait_render(qtbot, canvas)
        px, py = canvas.view.map_to_pixel(np.array([[cx, cy]]))[0]
        assert np.allclose((px, py), about, atol=1)
        before = pixel(canvas.to_image(), px, py)
        calls = []
        real = painter._paint_body
        monkeypatch.setattr(painter, "_paint_body", lambda *a: calls.append(a[1].id) or real(*a))
        with qtbot.waitSignal(canvas.renderFinished, timeout=20000):
            canvas.refresh()
        wait_render(qtbot, canvas)
        assert "grids" not in calls  # the unchanged grids came from their kept image
        assert pixel(canvas.to_image(), px, py) == before
        w.project.execute("UPDATE zones SET level = 1 WHERE id = :i", i=gid)
        ws.reload_table("zones")
        opacity = ws.layer("grids").layer_def.style.fill_opacity

        def over_white(hex_colour):  # a level's fill at the grids' opacity over the white map, by hand
            rgb = [int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)]
            return "#" + "".join(f"{round(opacity * v + (1 - opacity) * 255):02X}" for v in rgb)

        assert close_to(before, over_white(colour(4)), tol=6), before
        qtbot.waitUntil(lambda: close_to(pixel(canvas.to_image(), px, py), over_white(colour(1)), tol=6),
                        timeout=20000)
        assert "grids" in calls  # drawn afresh, not from the kept image
        canvas.to_image().save(f"{SHOTS}/big_canvas_grid_edit.png")
    finally:
        w.close()
        w.deleteLater()


def _cells(xy, level, cell):
    """{(i, j): (count, top level number or 9 for none)} of map positions binned by hand on the map-fixed grid."""
    out = {}
    for (x, y), lv in zip(xy.tolist(), level):
        k = (math.floor(x / cell), math.floor(y / cell))
        n, top = out.get(k, (0, 9))
        out[k] = (n + 1, min(top, 9 if lv is None or lv != lv else int(lv)))
    return out


def _drawn_cells(prep, cell):
    return {(math.floor(x / cell), math.floor(y / cell)):
            (int(n), 9 if prep.classes[c].key is None else int(prep.classes[c].key))
            for (x, y), n, c in zip(prep.coords.tolist(), prep.counts_drawn, prep.cls)}


def test_first_frame_before_the_exact_points_then_the_exact_cells(app, qtbot, prefs, tmp_path, monkeypatch):
    """A first session (the user's cache empty): the first frame shows the enterprises aggregated from the R-tree
    positions before the table's points are read (held back here), every cell as binned by hand from those
    positions, the red cell red; then the exact arrays replace them and the cells are the hand binning of the
    file's own coordinates."""
    import threading

    import riskmap.render.lazy as lazy
    import riskmap.store.viewport as viewport
    from riskmap.render.lazy import CELL_MM
    from riskmap.ui.main_window import MainWindow

    monkeypatch.setattr(viewport, "LAZY_ROWS", 5000)
    monkeypatch.setattr(lazy, "POINT_BUDGET", BUDGET)
    data = make_points_project(tmp_path / "big.gpkg", n=20_000, seed=3, edge=False)
    gate, exact_reads = threading.Event(), []
    real = viewport.read_points_cached

    def held(*a, **k):  # the exact read waits until the first frame has been checked
        exact_reads.append(threading.current_thread().name)
        gate.wait(60)
        return real(*a, **k)

    monkeypatch.setattr(viewport, "read_points_cached", held)
    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.open_project(tmp_path / "big.gpkg")
        qtbot.waitUntil(lambda: w.project is not None and w.workspace.has_layer("enterprises"), timeout=30000)
        ws, canvas = w.workspace, w.canvas
        layer = ws.layer("enterprises")
        assert layer.lazy and layer.prepared.approximate and w.loading  # placed from the R-tree, exact ones to come
        for other in ws.layers:
            if other.id != "enterprises":
                ws.set_visible(other.id, False)
        ws.set_labels(False)
        canvas.zoom_full()
        wait_render(qtbot, canvas)
        assert canvas.aggregated == ("enterprises",) and layer.prepared.approximate
        assert not gate.is_set()
        view = canvas.view
        cell = CELL_MM * view.px_per_mm() * view.resolution
        quick = viewport.read_points_quick(w.project, layer.layer_def, epsg=ws.map_epsg)
        prep = layer.prepared.for_view(view, labels=False)
        qxy = np.column_stack([quick["x"], quick["y"]])
        qlevel = [None if v != v else int(v) for v in quick["value"]]
        assert _drawn_cells(prep, cell) == _cells(qxy, qlevel, cell)
        img = canvas.to_image()
        img.save(f"{SHOTS}/ui_big_canvas_first_frame_quick.png")
        red = int(np.flatnonzero(data["level"] == 1)[0])
        k = np.flatnonzero([prep.classes[c].key == 1 for c in prep.cls])
        assert len(k) == 1  # one red cell: the lone red enterprise's
        rx, ry = view.map_to_pixel(*prep.coords[k[0]])
        assert close_to(pixel(img, rx, ry), "#FF0000"), pixel(img, rx, ry)
        # the exact arrays come in and replace the layer: the cells of the file's coordinates
        gate.set()
        qtbot.waitUntil(lambda: not w.loading and not ws.layer("enterprises").prepared.approximate, timeout=30000)
        wait_render(qtbot, canvas)
        exact = ws.layer("enterprises")
        assert exact is not layer and exact_reads
        xy = _map_xy(data, ws.map_epsg)
        assert np.abs(qxy - xy).max() > 0.01 and np.abs(qxy - xy).max() < 1.0  # metres: the R-tree's float32
        prep = exact.prepared.for_view(canvas.view, labels=False)
        assert _drawn_cells(prep, cell) == _cells(xy, data["level"].tolist(), cell)
        assert int(prep.counts_drawn.sum()) == len(data["id"])
        img = canvas.to_image()
        img.save(f"{SHOTS}/ui_big_canvas_first_frame_exact.png")
        k = np.flatnonzero([prep.classes[c].key == 1 for c in prep.cls])
        ix = math.floor(xy[red, 0] / cell), math.floor(xy[red, 1] / cell)
        assert len(k) == 1 and (math.floor(prep.coords[k[0], 0] / cell), math.floor(prep.coords[k[0], 1] / cell)) == ix
        rx, ry = canvas.view.map_to_pixel(*prep.coords[k[0]])
        assert close_to(pixel(img, rx, ry), "#FF0000"), pixel(img, rx, ry)
    finally:
        gate.set()
        qtbot.waitUntil(lambda: not w.loading, timeout=30000)
        w.close()
        w.deleteLater()


def test_print_dialog_reads_a_lazy_layer_off_the_gui_thread(big_window, qtbot, monkeypatch):
    """Opening the print dialog on a large project returns at once: the lazy layer's whole table (a city's
    million enterprises: about 10 s) is read on a worker while the dialog says so, the export buttons waiting;
    then the preview shows every enterprise of the filter. Closing the dialog meanwhile stops the reading."""
    import threading

    from riskmap.ui.print_dialog import PrintDialog
    from riskmap.ui.workspace import LayerFilter

    window, data = big_window
    ws = window.workspace
    ws.set_filter("enterprises", LayerFilter({"level": frozenset({1})}))
    project = window.project
    release, reading, threads, asked = threading.Event(), threading.Event(), [], []
    read_layer = project.read_layer

    def slow_read(layer_def, columns=None):
        threads.append(threading.current_thread())
        asked.append(columns)
        reading.set()
        assert release.wait(30)
        return read_layer(layer_def, columns=columns)

    monkeypatch.setattr(project, "read_layer", slow_read)
    dlg = PrintDialog(window)
    qtbot.addWidget(dlg)
    assert dlg.source is None  # the constructor did not wait for the rows
    assert not any(b.isEnabled() for b in (dlg.pdf_button, dlg.png_button, dlg.svg_button))
    assert reading.wait(10) and threads[0] is not threading.main_thread()
    qtbot.waitUntil(lambda: "正在读取图层：" in dlg.status.text(), timeout=5000)  # and which one
    dlg.grab().save(f"{SHOTS}/ui_print_dialog_reading.png")
    release.set()
    qtbot.waitUntil(dlg.preview_ready, timeout=60000)
    assert dlg.pdf_button.isEnabled() and dlg.png_button.isEnabled()
    want = sorted(int(i) for i, lv in zip(data["id"], data["level"]) if lv == 1)
    ents = dlg.source.get("enterprises").gdf
    assert sorted(ents["id"].tolist()) == want
    assert asked[0] == ["level", "name", "level_rule", "industry"]  # the columns the page takes, not all
    full = read_layer(ws.layer("enterprises").layer_def)
    assert "level" in ents and "name" in ents and len(ents.columns) < len(full.columns)
    dlg.close()

    release.clear()
    reading.clear()
    dlg2 = PrintDialog(window)
    qtbot.addWidget(dlg2)
    assert reading.wait(10)
    task = dlg2._source_task
    dlg2.reject()  # closed while the first lazy layer is read
    assert task.cancelled()
    release.set()
    qtbot.waitUntil(lambda: task.finished or task.error is not None, timeout=30000)
    assert dlg2.source is None
