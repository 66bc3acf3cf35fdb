"""The 未定位 table and the 定位 map tool: a click on the map places the picked enterprise there (after the user
confirms), the project stores the point, the map draws it there and the row leaves the table."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from tests.ui.conftest import SHOTS, close_to, open_window, pixel, wait_render


@pytest.fixture
def unlocated_window(app, qtbot, demo_copy, prefs):
    """The demo with two enterprises stripped of their point (the first also of its town), opened."""
    from riskmap.model import Enterprise
    from riskmap.store import Project

    with Project.open(demo_copy) as project:
        ids = project.read_table("enterprises", where="level = 1", columns=["id"])["id"].tolist()[:2]
        with project.session() as s:
            for i, eid in enumerate(ids):
                ent = s.get(Enterprise, eid)
                ent.geom = None
                if i == 0:  # as from a list without a town column
                    ent.town = ent.zone_id = None
    w = open_window(qtbot, prefs, demo_copy)
    yield w, ids
    w.close()


def _free_pixel(w, min_px=30.0):
    """A canvas pixel inside a town with no enterprise symbol within ``min_px``; (px, py, town name)."""
    from riskmap.crs import transformer

    canvas, ws = w.canvas, w.workspace
    ents = ws.layer("enterprises")
    xy = np.array([[g.x, g.y] for g in ents.projected if g is not None and not g.is_empty])
    sym = canvas.view.map_to_pixel(xy)
    towns = w.project.read_table("zones", where="kind = 'town'", columns=["id", "name"])
    to_geo = transformer(ws.map_epsg, 4490)
    W, H = canvas.width(), canvas.height()
    for py in range(H // 3, 2 * H // 3, 9):
        for px in range(W // 3, 2 * W // 3, 9):
            if np.min(np.hypot(sym[:, 0] - px, sym[:, 1] - py)) < min_px:
                continue
            lon, lat = to_geo.transform(*canvas.map_point(px, py))
            hit = towns[towns.geometry.contains(shapely.Point(lon, lat))]
            if len(hit) == 1:
                return px, py, hit["name"].iloc[0]
    raise AssertionError("no free pixel inside a town")


def test_click_places_the_enterprise(unlocated_window, qtbot, monkeypatch):
    from riskmap.crs import transformer
    from riskmap.levels import colour

    w, ids = unlocated_window
    panel = w.extension("locate")
    dock = w.docks["unlocated"]
    assert dock.isVisible()  # shown because the project has unlocated enterprises
    assert panel.frame["id"].tolist() == ids and panel.table.rowCount() == 2
    assert panel.table.item(0, 0).text() == w.project.read_table("enterprises", where=f"id = {ids[0]}")["name"].iloc[0]
    assert panel.current()[0] == ids[0]

    w.action("locate_tool").trigger()
    assert w.canvas.map_tool is panel.tool
    px, py, town = _free_pixel(w)
    lon, lat = transformer(w.workspace.map_epsg, 4490).transform(*w.canvas.map_point(px, py))

    # the user says no: nothing changes
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=QPoint(px, py))
    assert panel.task is None and panel.table.rowCount() == 2

    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=QPoint(px, py))
    assert asked and f"{lon:.6f}" in asked[0] and f"{lat:.6f}" in asked[0]
    qtbot.waitUntil(lambda: panel.task is not None and panel.task.finished, timeout=20000)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=5000)

    # read back from the project: the point where the user clicked, the town that holds it
    back = w.project.read_table("enterprises", where=f"id = {ids[0]}")
    pt = back.geometry.iloc[0]
    assert pt.x == pytest.approx(lon, abs=1e-7) and pt.y == pytest.approx(lat, abs=1e-7)
    assert back["town"].iloc[0] == town
    assert panel.frame["id"].tolist() == [ids[1]] and panel.current()[0] == ids[1]  # the next one is picked
    assert w.canvas.map_tool is panel.tool  # ready for the next click
    # the map draws it there, in its level's colour
    layer = w.workspace.layer("enterprises")
    g = layer.projected[layer.row_of([ids[0]])[0]]
    assert (g.x, g.y) == pytest.approx(w.canvas.map_point(px, py), abs=1e-3)
    w.canvas.refresh()
    wait_render(qtbot, w.canvas)
    img = w.canvas.grab().toImage()
    assert close_to(pixel(img, px, py), colour(1), tol=40), pixel(img, px, py)
    steps = w.extension("first_steps")  # the first-steps panel follows
    n = len(w.workspace.layer("enterprises").gdf)
    qtbot.waitUntil(lambda: {s.key: s for s in steps.steps}["located"].detail_zh.startswith(f"已定位 {n - 1} / {n} 家"),
                    timeout=5000)
    w.grab().save(f"{SHOTS}/ui_locate_tool.png")


def test_nothing_to_locate_hides_the_dock(window):
    panel = window.extension("locate")
    assert panel.table.rowCount() == 0 and not panel.locate_button.isEnabled()
    assert not window.docks["unlocated"].isVisible()


def test_coordinates_file_locates_after_the_check(unlocated_window, qtbot, monkeypatch, tmp_path):
    w, ids = unlocated_window
    panel = w.extension("locate")
    ents = w.project.read_table("enterprises", where=f"id IN ({ids[0]}, {ids[1]})").sort_values("id")
    towns = w.project.read_table("zones", where="kind = 'town'").geometry
    p0, p1 = towns.iloc[0].representative_point(), towns.iloc[1].representative_point()
    csv = tmp_path / "coords.csv"
    csv.write_text("企业名称,经度,纬度\n"
                   f"{ents['name'].iloc[0]},{p0.x:.6f},{p0.y:.6f}\n"
                   f"{ents['name'].iloc[1]},{p1.x:.6f},{p1.y:.6f}\n"
                   "不存在的企业,105.0,35.7\n", encoding="utf-8")
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes))
    panel.locate_file(str(csv))
    qtbot.waitUntil(lambda: panel.table.rowCount() == 0, timeout=20000)
    assert asked and asked[0].startswith("匹配 2 家；未找到 1 家")  # the dry run's report, asked before writing
    back = w.project.read_table("enterprises", where=f"id IN ({ids[0]}, {ids[1]})").sort_values("id")
    got = [(round(g.x, 6), round(g.y, 6)) for g in back.geometry]
    assert got == [(round(p0.x, 6), round(p0.y, 6)), (round(p1.x, 6), round(p1.y, 6))]
    assert w.workspace.layer("enterprises").row_of(ids).size == 2  # drawn again with their points
    assert "没有未定位的企业" in panel.note.text() and not panel.locate_button.isEnabled()
