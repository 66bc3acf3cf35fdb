"""The first-steps panel on a new, empty project (平阴县): it shows what is missing, its buttons open what fills
it, and it follows the project as towns are generated and enterprises imported."""

from __future__ import annotations

import shapely
from PySide6.QtCore import Qt

from tests.ui.conftest import SHOTS, open_window, wait_render


def _new_county(path):
    from riskmap.newproject import new_project

    new_project(path, "370124").close()
    return path


def _open(qtbot, prefs, path):
    return open_window(qtbot, prefs, path)


def _inside_points(project, n):
    """n points well inside the county (EPSG:4490), spread over it."""
    county = shapely.union_all(project.read_table("zones", where="kind = 'county'").geometry.to_numpy())
    inner = county.buffer(-0.02)
    x0, y0, x1, y1 = inner.bounds
    pts = []
    for i in range(1, 40):
        for j in range(1, 40):
            p = shapely.Point(x0 + (x1 - x0) * i / 40, y0 + (y1 - y0) * j / 40)
            if inner.contains(p):
                pts.append(p)
    step = max(1, len(pts) // n)
    return pts[::step][:n]


def test_readiness_of_a_new_county(tmp_path):
    from riskmap.io.importer import import_file
    from riskmap.readiness import first_steps, is_complete
    from riskmap.store import Project

    path = _new_county(tmp_path / "py.gpkg")
    with Project.open(path) as project:
        steps = {s.key: s for s in first_steps(project)}
        assert list(steps) == ["boundary", "towns", "enterprises", "located", "graded", "zoned", "control_lines",
                               "lifelines"]
        assert steps["boundary"].done and "平阴县" in steps["boundary"].detail_zh
        assert [k for k, s in steps.items() if not s.done] == list(steps)[1:]
        assert steps["towns"].action == "import_towns" and "make_grid" in steps["towns"].more
        assert not is_complete(project)
        # three enterprises, one without coordinates, one without a level
        a, b = _inside_points(project, 2)
        csv = tmp_path / "list.csv"
        csv.write_text("企业名称,行业,经度,纬度,风险等级\n"
                       f"甲加油站,加油站,{a.x:.6f},{a.y:.6f},较大\n"
                       f"乙机械厂,机械,{b.x:.6f},{b.y:.6f},\n"
                       "丙建材厂,建材,,,一般\n", encoding="utf-8")
        import_file(project, csv, "enterprises")
        steps = {s.key: s for s in first_steps(project)}
        assert steps["enterprises"].done and steps["enterprises"].detail_zh == "3 家企业"
        assert not steps["located"].done and steps["located"].detail_zh == "已定位 2 / 3 家；未定位 1 家"
        assert not steps["graded"].done and steps["graded"].detail_zh == "已评估 2 / 3 家；未评估 1 家"
        assert steps["located"].detail_en == "2 of 3 located; 1 unlocated"


def test_panel_shows_what_is_missing_and_follows_the_project(app, qtbot, prefs, tmp_path):
    from riskmap.readiness import first_steps
    from riskmap.ui import first_steps as fs

    w = _open(qtbot, prefs, _new_county(tmp_path / "py.gpkg"))
    dock = w.docks["first_steps"]
    panel = w.extension("first_steps")
    qtbot.waitUntil(lambda: dock.isVisible() and bool(panel.steps), timeout=5000)
    assert [s.key for s in panel.steps if not s.done] == ["towns", "enterprises", "located", "graded", "zoned",
                                                          "control_lines", "lifelines"]
    assert "还有 7 项待完善" in panel.header.text()
    assert {"towns:import_towns", "towns:make_grid", "towns:towns_from_seats", "enterprises:import_enterprises",
            "zoned:zoning_panel", "lifelines:import_lifelines"} <= set(panel.buttons)
    assert not any(k.startswith(("boundary:", "located:", "graded:")) for k in panel.buttons)  # done, or too early
    dock.raise_()
    qtbot.wait(100)
    w.grab().save(f"{SHOTS}/ui_first_steps_new.png")

    # a button opens what fills its step: the import wizard, already on the right layer
    qtbot.mouseClick(panel.buttons["towns:import_towns"], Qt.MouseButton.LeftButton)
    wiz = w.dialogs["import_wizard"]
    assert wiz.file_page.layer_combo.currentData() == "towns"
    wiz.reject()
    panel.buttons["enterprises:import_enterprises"].click()
    assert w.dialogs["import_wizard"].file_page.layer_combo.currentData() == "enterprises"
    w.dialogs["import_wizard"].reject()

    # a 5 km grid, generated as the 生成网格 dialog does: the panel follows
    task = fs.make_grid(w, 5.0, "square", False)
    qtbot.waitUntil(lambda: task.finished, timeout=30000)
    n_grid = len(w.project.read_table("zones", where="kind = 'grid'", columns=["id"]))
    assert n_grid > 10
    qtbot.waitUntil(lambda: f"{n_grid} 个网格" in {s.key: s for s in panel.steps}["towns"].detail_zh, timeout=5000)
    assert not {s.key: s for s in panel.steps}["towns"].done  # a grid is not towns

    # approximate towns from three seats: 示意, still to be replaced by real boundaries
    pts = _inside_points(w.project, 3)
    seats = tmp_path / "seats.csv"
    rows = "".join(f"{n},{p.x:.6f},{p.y:.6f}\n" for n, p in zip(("榆山街道", "锦水街道", "东阿镇"), pts))
    seats.write_text("名称,经度,纬度\n" + rows, encoding="utf-8")
    task = fs.towns_from_seats(w, str(seats), False)
    qtbot.waitUntil(lambda: task.finished, timeout=30000)
    qtbot.waitUntil(lambda: {s.key: s for s in panel.steps}["towns"].detail_zh.startswith("3 个镇街"), timeout=5000)
    towns = {s.key: s for s in panel.steps}["towns"]
    assert towns.detail_zh.startswith("3 个镇街为示意范围") and not towns.done
    assert w.workspace.layer("towns").title("zh") == "镇街（示意）"
    assert [s.detail_zh for s in panel.steps] == [s.detail_zh for s in first_steps(w.project)]
    wait_render(qtbot, w.canvas)
    w.grab().save(f"{SHOTS}/ui_first_steps_towns.png")

    # an enterprise list with one row without coordinates and one without a level, imported as the wizard does
    from riskmap.io.importer import import_file

    a, b = _inside_points(w.project, 2)
    csv = tmp_path / "list.csv"
    csv.write_text("企业名称,行业,经度,纬度,风险等级\n"
                   f"甲加油站,加油站,{a.x:.6f},{a.y:.6f},较大\n"
                   f"乙机械厂,机械,{b.x:.6f},{b.y:.6f},\n"
                   "丙建材厂,建材,,,一般\n", encoding="utf-8")
    import_file(w.project, csv, "enterprises")
    w.workspace.reload_table("enterprises")
    w.workspace.reload_table("zones")
    qtbot.waitUntil(lambda: {s.key: s for s in panel.steps}["enterprises"].done, timeout=5000)
    steps = {s.key: s for s in panel.steps}
    assert steps["located"].detail_zh == "已定位 2 / 3 家；未定位 1 家"
    assert {"located:locate_tool", "located:locate_file", "graded:unassessed_table"} <= set(panel.buttons)
    panel.buttons["graded:unassessed_table"].click()  # the table of the enterprises still to be graded
    layer = w.workspace.layer("enterprises")
    assert "enterprises" in w.tables and layer.shown_count() == 1
    assert layer.gdf["name"][layer.mask].tolist() == ["乙机械厂"]
    panel.buttons["located:locate_tool"].click()  # the 定位 tool on the unlocated one
    assert w.docks["unlocated"].isVisible() and w.canvas.map_tool is w.extension("locate").tool
    assert w.extension("locate").current()[1] == "丙建材厂"


def test_complete_demo_keeps_the_panel_hidden(window):
    panel = window.extension("first_steps")
    assert panel.complete()
    assert not window.docks["first_steps"].isVisible()


def test_a_city_zones_its_counties(tmp_path):
    from riskmap.newproject import new_project
    from riskmap.readiness import first_steps

    with new_project(tmp_path / "la.gpkg", "六安市") as project:
        towns = {s.key: s for s in first_steps(project)}["towns"]
    # 金安区, 裕安区, 叶集区, 霍邱县, 舒城县, 金寨县, 霍山县
    assert towns.done and towns.detail_zh == "7 个区县作为分区单元"


def test_tools_menu_grid_dialog(window):
    import pytest

    from riskmap.errors import RiskmapError
    from riskmap.ui.first_steps import GridDialog

    tools = window.menus["tools"].actions()
    assert window.action("make_grid") in tools and window.action("towns_from_seats") in tools
    dlg = GridDialog(window)
    dlg.size_combo.setCurrentText("1")
    dlg.shape_combo.setCurrentIndex(dlg.shape_combo.findData("hex"))
    assert dlg.values() == (1.0, "hex", False)
    dlg.size_combo.setCurrentText("两公里")
    with pytest.raises(RiskmapError):
        dlg.values()
