"""文件 → 新建项目…: search a place, tell same-named places apart, browse the tree, preview the boundary, create
the project off the GUI thread and see the county drawn in the window."""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtWidgets import QMessageBox

from tests.ui.conftest import SHOTS, pixel, wait_render


def _empty_window(qtbot, prefs):
    from riskmap.ui.main_window import MainWindow

    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def _results(dlg) -> list[list[str]]:
    return [[dlg.results.topLevelItem(i).text(c) for c in range(5)] for i in range(dlg.results.topLevelItemCount())]


def test_menu_item_opens_the_dialog_first_in_file(app, qtbot, prefs):
    w = _empty_window(qtbot, prefs)
    action = w.action("action_new_project")
    assert w.menus["file"].actions()[0] is action and action.text() == "新建项目…"
    action.trigger()
    dlg = w.dialogs["new_project"]
    assert dlg.isVisible() and not dlg.create_button.isEnabled()  # nothing to create before a place is picked
    dlg.reject()


def test_search_pick_create_and_open(app, qtbot, prefs, tmp_path):
    from riskmap import gazetteer
    from riskmap.crs import transformer
    from riskmap.ui.new_project_dialog import open_new_project

    w = _empty_window(qtbot, prefs)
    dlg = open_new_project(w)
    dlg.search_edit.insert("平阴")  # as typed (QTest cannot type Chinese)
    qtbot.waitUntil(lambda: dlg.results.topLevelItemCount() > 0, timeout=3000)  # after the typing pause
    rows = _results(dlg)
    assert rows[0] == ["平阴县", "山东省", "济南市", "县级", "370124"]
    dlg.results.setCurrentItem(dlg.results.topLevelItem(0))
    assert dlg.division.adcode == "370124"
    assert dlg.title_edit.text() == "平阴县安全风险一张图"
    assert dlg.path_edit.text().endswith("平阴县.gpkg")
    assert "EPSG:4548" in dlg.place_label.text() or f"EPSG:{dlg.division.epsg}" in dlg.place_label.text()
    # the preview paints the boundary: inside it is tinted red, a corner of the widget is not
    img = dlg.preview.grab().toImage()
    inside = gazetteer.boundary("370124").representative_point()
    p = dlg.preview.to_pixel(inside.x, inside.y)
    r, g, b = pixel(img, p.x(), p.y())
    assert r > g + 10 and r > b + 10, (r, g, b)
    assert pixel(img, 2, 2)[0] - pixel(img, 2, 2)[1] < 5
    dlg.grab().save(f"{SHOTS}/ui_new_project_dialog.png")

    out = tmp_path / "平阴县.gpkg"
    dlg.path_edit.setText(str(out))
    dlg.org_edit.setText("平阴县应急管理局")
    dlg.create_button.click()
    qtbot.waitUntil(lambda: w.project is not None and not w.loading, timeout=30000)
    assert not dlg.isVisible()
    wait_render(qtbot, w.canvas)
    meta = w.project.meta()
    assert (meta["place"], meta["name"], meta.get("org"), w.project.is_demo) == (
        "370124", "平阴县安全风险一张图", "平阴县应急管理局", False)
    assert out.exists() and w.windowTitle().startswith("平阴县安全风险一张图")
    assert w.workspace.map_epsg == int(meta["metric_epsg"])
    # the county is drawn: its outline is dark where a boundary vertex falls, its inside is not
    img = w.canvas.grab().toImage()
    county = w.project.read_table("zones", where="kind = 'county'").geometry.iloc[0]
    t = transformer(4490, w.workspace.map_epsg)
    ring = max(shapely.get_parts(county), key=lambda g: g.area).exterior
    dark = 0
    for x, y in np.asarray(ring.coords)[:: max(1, len(ring.coords) // 20)]:
        px, py = w.canvas.view.map_to_pixel(np.array([t.transform(x, y)]))[0]
        near = [pixel(img, px + dx, py + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        dark += any(max(c) < 90 for c in near)
    assert dark >= 15, dark  # most sampled vertices lie on the black outline
    # nothing is invented inside: away from the outline and from the name label, the county is blank
    label = w.canvas.view.map_to_pixel(np.array([t.transform(*county.representative_point().coords[0])]))[0]
    inner = county.buffer(-0.02)
    x0, y0, x1, y1 = inner.bounds
    grid = [shapely.Point(x0 + (x1 - x0) * i / 8, y0 + (y1 - y0) * j / 8) for i in range(1, 8) for j in range(1, 8)]
    inside = [w.canvas.view.map_to_pixel(np.array([t.transform(p.x, p.y)]))[0] for p in grid if inner.contains(p)]
    inside = [p for p in inside if np.hypot(*(p - label)) > 60]
    assert len(inside) >= 10
    assert all(min(pixel(img, *p)) > 200 for p in inside), [pixel(img, *p) for p in inside]
    w.grab().save(f"{SHOTS}/ui_new_project_window.png")


def test_ambiguous_name_lists_candidates_with_province(app, qtbot, prefs, tmp_path, monkeypatch):
    from riskmap.ui.new_project_dialog import open_new_project

    w = _empty_window(qtbot, prefs)
    dlg = open_new_project(w)
    dlg.search_edit.setText("城关区")
    found = dlg.run_search()
    rows = _results(dlg)
    exact = [r for r in rows if r[0] == "城关区"]
    assert len(exact) >= 2 and len(found) == len(rows)
    assert {r[1] for r in exact} >= {"甘肃省", "西藏自治区"}  # 兰州市城关区, 拉萨市城关区
    assert all(r[2] and r[4] for r in exact)  # each with its city and code
    assert "请按省份和地市选择" in dlg.results_note.text()
    assert dlg.division is None  # nothing chosen for the user
    dlg.grab().save(f"{SHOTS}/ui_new_project_ambiguous.png")
    lanzhou = next(i for i in range(len(rows)) if rows[i][0] == "城关区" and rows[i][1] == "甘肃省")
    dlg.results.setCurrentItem(dlg.results.topLevelItem(lanzhou))
    assert dlg.division.adcode == "620102" and dlg.title_edit.text() == "城关区安全风险一张图"
    # an existing file is only replaced on the user's word
    taken = tmp_path / "taken.gpkg"
    taken.write_bytes(b"keep me")
    dlg.path_edit.setText(str(taken))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    assert dlg.create() is None and taken.read_bytes() == b"keep me" and dlg.isVisible()


def test_english_interface(app, qtbot, prefs):
    from riskmap.ui.i18n import install_language
    from riskmap.ui.new_project_dialog import NewProjectDialog

    install_language("en")
    dlg = NewProjectDialog()
    qtbot.addWidget(dlg)
    header = dlg.results.headerItem()
    assert [header.text(c) for c in range(5)] == ["Name", "Province", "City", "Level", "Code"]
    dlg.search_edit.setText("370124")
    dlg.run_search()
    assert dlg.results.topLevelItem(0).text(3) == "County"
    dlg.results.setCurrentItem(dlg.results.topLevelItem(0))
    assert dlg.title_edit.text() == "平阴县 safety risk map" and dlg.create_button.text() == "Create"
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.grab().save(f"{SHOTS}/en_new_project_dialog.png")


def test_tree_loads_children_when_opened(app, qtbot, prefs):
    from riskmap.ui.new_project_dialog import open_new_project

    w = _empty_window(qtbot, prefs)
    dlg = open_new_project(w)
    tops = [dlg.tree.topLevelItem(i) for i in range(dlg.tree.topLevelItemCount())]
    assert len(tops) >= 31 and all(t.childCount() == 0 for t in tops)  # lazy: nothing read below provinces
    shandong = next(t for t in tops if t.text(0) == "山东省")
    shandong.setExpanded(True)
    jinan = next(shandong.child(i) for i in range(shandong.childCount()) if shandong.child(i).text(0) == "济南市")
    jinan.setExpanded(True)
    names = {jinan.child(i).text(0): jinan.child(i) for i in range(jinan.childCount())}
    assert {"平阴县", "商河县", "历城区"} <= set(names)
    dlg.tree.setCurrentItem(names["平阴县"])
    assert dlg.division.adcode == "370124" and dlg.create_button.isEnabled()
    dlg.tree.setCurrentItem(jinan)  # a city can be a project too
    assert dlg.division.level == "city" and dlg.title_edit.text() == "济南市安全风险一张图"


def test_a_place_across_two_zones_says_so(app, qtbot, prefs):
    from riskmap.ui.new_project_dialog import open_new_project

    w = _empty_window(qtbot, prefs)
    dlg = open_new_project(w)
    dlg.search_edit.setText("341500")
    dlg.run_search()
    assert _results(dlg)[0][:4] == ["六安市", "安徽省", "", "地级"]
    assert dlg.division.level == "city"  # a single hit is picked
    assert not dlg.note_label.isHidden()
    assert "EPSG:4548" in dlg.note_label.text() and "EPSG:4547" in dlg.note_label.text()
    dlg.search_edit.setText("平阴县")
    dlg.run_search()
    assert dlg.division.adcode == "370124" and dlg.note_label.isHidden()  # inside one zone: no note
