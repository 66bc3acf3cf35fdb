"""Editing on the canvas with real mouse and key events: draw a polygon snapped to a vertex, undo, redo,
save, reopen and find it; undo across saves; vertex drag; repair or refusal of invalid geometry."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
import shapely
from PySide6.QtCore import QPoint, Qt

for _k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
    os.environ.setdefault(_k, os.path.join(tempfile.mkdtemp(prefix="riskmap-planning-tests-"), _k.lower()))

from riskmap.store import Project  # noqa: E402
from tests.ui.conftest import SHOTS

NAME = "测试绘制控制线"


@pytest.fixture
def pwin(window):
    """The main window (with the planning extension) on a private demo copy, zoomed to the chemical park."""
    w = window
    park = w.workspace.layer("parks")
    chem = int(np.flatnonzero(park.gdf["kind"].to_numpy() == "chemical_park")[0])
    w.canvas.set_extent(park.projected[chem].buffer(1500).bounds, margin=0.0)
    w.canvas.render_now()
    w.extension("planning").controller.ask_unsaved = lambda: "discard"
    return w


def _park_vertex(w):
    park = w.workspace.layer("parks")
    chem = int(np.flatnonzero(park.gdf["kind"].to_numpy() == "chemical_park")[0])
    x, y = np.asarray(park.projected[chem].geoms[0].exterior.coords)[0]
    lon, lat = np.asarray(park.gdf.geometry.iloc[chem].geoms[0].exterior.coords)[0]
    return (float(x), float(y)), (float(lon), float(lat))


def _click(qtbot, canvas, x: float, y: float, button=Qt.MouseButton.LeftButton) -> None:
    pos = QPoint(int(round(x)), int(round(y)))
    qtbot.mouseMove(canvas, pos)
    qtbot.mouseClick(canvas, button, pos=pos)


def _draw_polygon(qtbot, w, name: str = NAME):
    """Start editing control lines and draw a quadrilateral whose first click lands 3 px off a park vertex."""
    pl, canvas = w.extension("planning"), w.canvas
    pl.start_editing("control_lines")
    pl.act_draw.trigger()
    assert canvas.map_tool is pl.draw_tool
    (vx, vy), _ = _park_vertex(w)
    p0 = canvas.pixel_point(vx, vy)
    pts = [(p0.x() + 3, p0.y() - 2), (p0.x() + 160, p0.y() + 20), (p0.x() + 140, p0.y() + 170),
           (p0.x() - 30, p0.y() + 120)]
    forms = []
    pl.controller.formOpened.connect(forms.append)
    for x, y in pts:
        _click(qtbot, canvas, x, y)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert len(forms) == 1
    form = forms[0]
    assert form.isVisible()
    form.set_value("name", name)
    form.set_value("source_doc", "《测试依据》")
    form.accept()
    return pts


def test_draw_snap_undo_redo_save_reopen(pwin, qtbot, demo_copy, qapp):
    w = pwin
    ctrl = w.extension("planning").controller
    layer_before = len(w.workspace.layer("control_lines").gdf)
    _draw_polygon(qtbot, w)
    layer = w.workspace.layer("control_lines")
    assert len(layer.gdf) == layer_before + 1
    drawn = layer.projected[list(layer.gdf["name"]).index(NAME)]
    (vx, vy), (vlon, vlat) = _park_vertex(w)
    first = np.asarray(drawn.geoms[0].exterior.coords)[0] if drawn.geom_type == "MultiPolygon" else \
        np.asarray(drawn.exterior.coords)[0]
    # the click 3.6 px away from the park corner snapped onto it
    assert np.hypot(first[0] - vx, first[1] - vy) < 1e-6
    w.canvas.render_now()
    w.canvas.to_image().save(f"{SHOTS}/ui_planning_drawn.png")

    # undo and redo through the menu actions
    w.extension("planning").act_undo.trigger()
    assert NAME not in list(w.workspace.layer("control_lines").gdf["name"])
    w.extension("planning").act_redo.trigger()
    assert NAME in list(w.workspace.layer("control_lines").gdf["name"])
    assert ctrl.current.is_dirty()

    w.extension("planning").act_save.trigger()
    assert not ctrl.current.is_dirty()
    with Project.open(demo_copy, readonly=True) as p:
        lines = p.read_table("control_lines")
        hist = p.read_table("edit_history")
    row = lines[lines["name"] == NAME]
    assert len(row) == 1 and row["status"].iloc[0] == "draft" and row["source_doc"].iloc[0] == "《测试依据》"
    rec = hist[(hist["table_name"] == "control_lines") & (hist["action"] == "insert")]
    assert int(rec["row_id"].iloc[-1]) == int(row["id"].iloc[0]) and rec["user"].iloc[-1]
    w.close()

    # reopen in a fresh window: the line is there, its corner on the park's corner (EPSG:4490)
    from PySide6.QtCore import QSettings

    from riskmap.ui.main_window import MainWindow
    from riskmap.ui.prefs import Prefs

    w2 = MainWindow(Prefs(QSettings(str(demo_copy.parent / "p2.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(w2)
    w2.open_project(demo_copy)
    qtbot.waitUntil(lambda: w2.project is not None, timeout=30000)
    gdf = w2.workspace.layer("control_lines").gdf
    found = gdf[gdf["name"] == NAME]
    assert len(found) == 1
    lon, lat = np.asarray(found.geometry.iloc[0].geoms[0].exterior.coords)[0]
    assert abs(lon - vlon) < 1e-9 and abs(lat - vlat) < 1e-9
    w2.close()


def test_undo_across_saves(pwin, qtbot, demo_copy):
    w = pwin
    ctrl = w.extension("planning").controller
    _draw_polygon(qtbot, w)
    ctrl.save()

    def stored():
        with Project.open(demo_copy, readonly=True) as p:
            return list(p.read_table("control_lines")["name"])

    assert NAME in stored()
    w.extension("planning").act_undo.trigger()  # the add, already saved: now a pending delete
    assert ctrl.current.is_dirty()
    ctrl.save()
    assert NAME not in stored()
    w.extension("planning").act_redo.trigger()
    ctrl.save()
    assert stored().count(NAME) == 1
    with Project.open(demo_copy, readonly=True) as p:
        hist = p.read_table("edit_history")
    acts = list(hist[hist["table_name"] == "control_lines"]["action"])
    assert acts == ["insert", "delete", "insert"]


def test_vertex_drag_delete_and_attributes(pwin, qtbot, demo_copy):
    w = pwin
    pl, ctrl, canvas = w.extension("planning"), w.extension("planning").controller, w.canvas
    pts = _draw_polygon(qtbot, w)
    pl.act_vertex.trigger()
    # select the new line by clicking inside it, then drag its second vertex 40 px to the right
    cx = sum(p[0] for p in pts) / 4
    cy = sum(p[1] for p in pts) / 4
    _click(qtbot, canvas, cx, cy)
    fid = int(w.workspace.selected_ids("control_lines")[0])
    assert w.workspace.record("control_lines", fid)["name"] == NAME
    g0 = ctrl.current.display_geometry(fid)
    x1, y1 = canvas.pixel_point(*np.asarray(shapely.get_parts(g0)[0].exterior.coords)[1]).toTuple()
    pl.act_snap.setChecked(False)  # the drag's end lands on open ground, exactly where released
    start, end = QPoint(int(x1), int(y1)), QPoint(int(x1) + 40, int(y1))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    g = ctrl.current.display_geometry(fid)
    ring = np.asarray(shapely.get_parts(g)[0].exterior.coords)
    want = canvas.map_point(int(x1) + 40, int(y1))
    assert np.hypot(*(ring[1] - want)) < canvas.pixel_tolerance(1.0)
    # Delete removes the chosen (dragged) vertex: 4 corners → 3
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    g = ctrl.current.display_geometry(fid)
    assert len(shapely.get_parts(g)[0].exterior.coords) == 4
    # a triangle cannot lose another vertex: refused with a message, geometry unchanged
    pl.vertex_tool.vertex = (0, 0, 0)
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert len(shapely.get_parts(ctrl.current.display_geometry(fid))[0].exterior.coords) == 4
    # two undos (delete, move) bring back the drawn quadrilateral's corner
    ctrl.current.stack.undo()
    ctrl.current.stack.undo()
    assert shapely.equals_exact(ctrl.current.display_geometry(fid), g0, 1e-6)
    # attributes: a required field left empty keeps the form open
    form = ctrl.edit_attributes(fid)
    form.set_value("name", "")
    form.accept()
    assert form.isVisible() and "名称" in form.message.text()
    form.set_value("name", "改名后的控制线")
    form.accept()
    assert not form.isVisible()
    assert w.workspace.record("control_lines", fid)["name"] == "改名后的控制线"


def test_self_intersecting_polygon_repaired_or_refused(pwin, qtbot):
    w = pwin
    ctrl, canvas = w.extension("planning").controller, w.canvas
    w.extension("planning").start_editing("control_lines")
    w.extension("planning").act_draw.trigger()
    cx, cy = canvas.view.width_px / 2, canvas.view.height_px / 2
    bow = [(cx - 100, cy - 100), (cx + 100, cy + 100), (cx + 100, cy - 100), (cx - 100, cy + 100)]
    n0 = len(w.workspace.layer("control_lines").gdf)
    ctrl.confirm = lambda text: False
    forms = []
    ctrl.formOpened.connect(forms.append)
    for x, y in bow:
        _click(qtbot, canvas, x, y)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert forms == [] and len(w.workspace.layer("control_lines").gdf) == n0  # refused
    asked = []
    ctrl.confirm = lambda text: asked.append(text) or True
    for x, y in bow:
        _click(qtbot, canvas, x, y)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert "自相交" in asked[0]
    forms[0].set_value("name", "修复后的控制线")
    forms[0].accept()
    layer = w.workspace.layer("control_lines")
    g = layer.gdf.geometry[layer.gdf["name"] == "修复后的控制线"].iloc[0]
    assert g.is_valid and len(g.geoms) == 2  # the bow tie became its two triangles
    # two clicks are too few for a polygon: nothing is added, the vertices stay for more clicks
    _click(qtbot, canvas, cx, cy)
    _click(qtbot, canvas, cx + 50, cy)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert len(w.extension("planning").draw_tool.points) == 2
