"""The real main window on the demo: layers, identify, table ↔ map selection, search, zoning, dashboard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from PySide6.QtCore import QPoint, Qt

from tests.ui.conftest import SHOTS, close_to, isolated_feature, pixel, wait_render

GROUP_TITLES = {"底图", "分区", "企业", "控制线", "生命线", "应急资源", "隐患"}


def _quiet_points(ws):
    ws.set_labels(False)
    for lid in ("hidden_dangers", "emergency_resources", "protected_targets"):
        ws.set_visible(lid, False)


def test_window_opens_demo_with_groups(window, qtbot):
    panel = window.layers_panel
    groups = {panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())}
    assert GROUP_TITLES <= groups
    assert window.project.is_demo and window.demo_label.isVisible()
    assert "会宁县" in window.windowTitle()
    window.grab().save(f"{SHOTS}/ui_main_zh.png")


def test_toggle_and_reorder_layers(window, qtbot):
    ws, canvas, panel = window.workspace, window.canvas, window.layers_panel
    _quiet_points(ws)
    wait_render(qtbot, canvas)
    bid, bx, by = isolated_feature(ws, canvas, "enterprises", 4)
    assert close_to(pixel(canvas.to_image(), bx, by), "#0070FF")
    # untick the layer in the panel
    item = panel.item_for("enterprises")
    item.setCheckState(0, Qt.CheckState.Unchecked)
    assert ws.layer("enterprises").visible is False
    wait_render(qtbot, canvas)
    assert not close_to(pixel(canvas.to_image(), bx, by), "#0070FF")
    item.setCheckState(0, Qt.CheckState.Checked)
    wait_render(qtbot, canvas)
    assert close_to(pixel(canvas.to_image(), bx, by), "#0070FF")
    # move the zones group to the top: the town fills (35 % opaque) now cover the enterprises
    panel.move_group("zones", +10)
    ids = ws.layer_ids()
    assert ids.index("towns") > ids.index("enterprises")
    assert panel.tree.topLevelItem(0).data(0, Qt.ItemDataRole.UserRole) == "zones"
    wait_render(qtbot, canvas)
    town_level = _town_level_at(ws, bid)
    covered = pixel(canvas.to_image(), bx, by)
    assert not close_to(covered, "#0070FF", tol=10)
    from riskmap.levels import colour

    c = colour(town_level)
    fill = (int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16))
    expected = [round(0.35 * f + 0.65 * b) for f, b in zip(fill, (0, 112, 255))]
    assert all(abs(a - b) <= 12 for a, b in zip(covered, expected)), (covered, expected)
    # a drag within a group reorders; a layer dropped into another group snaps back
    g = panel.group_item("zones")
    order_before = [g.child(i).data(0, Qt.ItemDataRole.UserRole) for i in range(g.childCount())]
    child = g.takeChild(g.childCount() - 1)
    moved = child.data(0, Qt.ItemDataRole.UserRole)
    g.insertChild(0, child)
    panel.apply_tree_order()
    assert ws.layer_ids()[-1] == moved  # top of the list = drawn last
    other = panel.group_item("enterprise")
    stray = panel.group_item("zones").takeChild(0)
    other.addChild(stray)
    panel.apply_tree_order()
    assert ws.layer("enterprises").group == "enterprise"
    zones_now = [panel.group_item("zones").child(i).data(0, Qt.ItemDataRole.UserRole)
                 for i in range(panel.group_item("zones").childCount())]
    assert sorted(zones_now) == sorted(order_before)
    # opacity of the current layer from the slider
    panel.set_current_layer("towns")
    panel.opacity.setValue(40)
    assert ws.layer("towns").opacity == pytest.approx(0.4)


def _town_level_at(ws, enterprise_id):
    pt = ws.geometry_of("enterprises", enterprise_id)
    towns = ws.layer("towns")
    inside = shapely.contains(towns.projected, pt)
    return int(towns.gdf["level"].to_numpy()[inside][0])


def test_identify_known_enterprise_with_lists_history_dangers_and_qr(window, qtbot):
    import segno

    ws, canvas = window.workspace, window.canvas
    _quiet_points(ws)
    wait_render(qtbot, canvas)
    rid, rx, ry = isolated_feature(ws, canvas, "enterprises", 1)
    window.act_identify.trigger()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(rx), round(ry)))
    panel = window.identify_panel
    results = [panel.results.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
               for i in range(panel.results.topLevelItemCount())]
    assert results[0] == ("enterprises", rid)
    assert ("towns", _town_id_at(ws, rid)) in results  # several features under the cursor are listed
    assert panel.current == ("enterprises", rid)
    tabs = [panel.tabs.tabText(i) for i in range(panel.tabs.count())]
    assert tabs == ["属性", "五个清单", "风险点", "评估记录", "隐患", "一企一码"]
    row = ws.record("enterprises", rid)
    attrs = {panel.attrs.item(i, 0).text(): panel.attrs.item(i, 1).text() for i in range(panel.attrs.rowCount())}
    assert attrs["企业名称"] == row["name"] and attrs["风险等级"] == "重大风险"
    from riskmap.industries import industry_name

    assert attrs["行业"] == industry_name(row["industry"])
    # 5个清单 as stored, assessment history newest first, hidden dangers of this enterprise
    lists = [panel.lists.topLevelItem(i).text(0) for i in range(panel.lists.topLevelItemCount())]
    assert lists == ["基础信息清单", "防控责任清单", "监测监控清单", "防范措施清单", "应急处置清单"]
    project = window.project
    n_hist = len(project.read_table("assessments", where=f"enterprise_id = {rid} OR risk_point_id IN "
                                                         f"(SELECT id FROM risk_points WHERE enterprise_id = {rid})"))
    assert panel.history.rowCount() == n_hist > 0
    import re

    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", panel.history.item(0, 0).text())
    n_dangers = len(project.read_table("hidden_dangers", where=f"enterprise_id = {rid}"))
    assert panel.dangers.rowCount() == n_dangers
    # the QR code encodes riskmap://enterprise/<qr_id>?id=<id>: compare the image with segno's modules
    assert panel.qr_content == f"riskmap://enterprise/{row['qr_id']}?id={rid}"
    matrix = segno.make(panel.qr_content, error="m", micro=False).matrix
    from riskmap.ui.qr import QR_BORDER, QR_SCALE

    img = panel.qr_image
    assert img.width() == (len(matrix) + 2 * QR_BORDER) * QR_SCALE
    wrong = 0
    for r, line in enumerate(matrix):
        for col, dark in enumerate(line):
            c = img.pixelColor((QR_BORDER + col) * QR_SCALE + QR_SCALE // 2, (QR_BORDER + r) * QR_SCALE + QR_SCALE // 2)
            wrong += bool(dark) != (c.red() < 128)
    assert wrong == 0
    panel.tabs.setCurrentIndex(5)
    window.grab().save(f"{SHOTS}/ui_identify_qr.png")
    panel.tabs.setCurrentIndex(3)
    window.grab().save(f"{SHOTS}/ui_identify_history.png")


def _town_id_at(ws, enterprise_id):
    pt = ws.geometry_of("enterprises", enterprise_id)
    towns = ws.layer("towns")
    return int(towns.gdf["id"].to_numpy()[shapely.contains(towns.projected, pt)][0])


def test_table_filter_selection_follows_both_ways_and_exports(window, qtbot, tmp_path):
    import openpyxl

    ws, canvas = window.workspace, window.canvas
    _quiet_points(ws)
    table = window.open_table("enterprises")
    gdf = ws.layer("enterprises").gdf
    assert table.model.rowCount() == len(gdf)
    # filter: level 重大 in one town (computed by hand from the data)
    reds = gdf[gdf["level"] == 1]
    town = reds["town"].value_counts().index[0]
    expected = sorted(gdf[(gdf["level"] == 1) & (gdf["town"] == town)]["id"].astype(int))
    table.set_combo("level", 1)
    table.set_combo("town", town)
    assert sorted(table.model.ids().astype(int)) == expected
    assert table.count_label.text() == f"显示 {len(expected)} / {len(gdf)} 条"
    table.select_all_rows()
    assert sorted(ws.selected_ids("enterprises").astype(int)) == expected
    assert sorted(table.selected_ids().astype(int)) == expected
    wait_render(qtbot, canvas)
    # the selection is drawn: cyan halo around the selected enterprise
    px, py = canvas.view.map_to_pixel(*_xy(ws, expected[0]))
    img = canvas.to_image()
    ring = [pixel(img, px + dx, py + dy) for dx in range(-9, 10) for dy in range(-9, 10) if 25 <= dx * dx + dy * dy <= 81]
    assert any(close_to(c, "#00FFFF", 40) for c in ring)
    window.grab().save(f"{SHOTS}/ui_table_selection.png")
    # export the filtered rows; read them back with openpyxl
    out = tmp_path / "红色企业.xlsx"
    assert table.export_xlsx(out) == len(expected)
    wb = openpyxl.load_workbook(out)
    rows = list(wb.active.iter_rows(values_only=True))
    assert "示例数据" in rows[0][0]
    assert rows[1][:3] == ("ID", "企业名称", "行业")
    assert sorted(r[0] for r in rows[2:]) == expected
    assert {r[rows[1].index("风险等级")] for r in rows[2:]} == {"重大风险"}
    # clear the filter; selecting on the map selects the row in the table
    table.set_combo("level", "__any__")
    table.set_combo("town", "__any__")
    town2 = gdf["town"].iloc[0]
    table.text.setText(town2)  # free text: any shown field contains it
    assert sorted(table.model.ids()) == sorted(gdf[gdf["town"].eq(town2) | gdf["address"].fillna("").str.contains(town2)
                                                   | gdf["name"].str.contains(town2)]["id"])
    table.text.setText("")
    bid, bx, by = isolated_feature(ws, canvas, "enterprises", 4)
    window.layers_panel.set_current_layer("enterprises")
    window.act_select.trigger()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(bx), round(by)))
    assert list(ws.selected_ids("enterprises")) == [bid]
    assert list(table.selected_ids()) == [bid]
    # sorting by employees (descending) orders the rows by the number
    col = table.model.fields.index("employees")
    table.view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    emp = gdf.set_index("id").loc[table.model.ids()[:20], "employees"].to_numpy()
    assert list(emp) == sorted(emp, reverse=True)
    assert emp[0] == gdf["employees"].max()


def _xy(ws, fid):
    g = ws.geometry_of("enterprises", fid)
    return g.x, g.y


def test_search_zooms_and_flashes(window, qtbot):
    ws, canvas = window.workspace, window.canvas
    gdf = ws.layer("enterprises").gdf
    row = gdf.iloc[17]
    box = window.search_box
    box.setText(row["name"])
    qtbot.keyClick(box, Qt.Key.Key_Return)
    x, y = _xy(ws, int(row["id"]))
    cx, cy = canvas.view.centre
    assert abs(cx - x) < 1 and abs(cy - y) < 1
    assert canvas.scale() <= 10_001
    assert canvas.flash_geoms and canvas._flash_timer.isActive()
    assert window.identify_panel.current == ("enterprises", int(row["id"]))
    assert list(ws.selected_ids("enterprises")) == [int(row["id"])]
    wait_render(qtbot, canvas)
    canvas.grab().save(f"{SHOTS}/ui_search_flash.png")
    # by address (unique) and by town name
    box.search(row["address"])
    assert window.identify_panel.current == ("enterprises", int(row["id"]))
    town = ws.layer("towns").gdf.iloc[3]
    box.search(town["name"])
    ext = ws.layer_extent("towns", [int(town["id"])])
    v = canvas.view.extent
    assert v[0] <= ext[0] and v[2] >= ext[2] and v[1] <= ext[1] and v[3] >= ext[3]
    # nothing found: a message, no exception
    assert box.search("不存在的企业名称XYZ") == []


def test_zoning_unit_and_rule_recolour_the_map(window, qtbot):
    ws, panel = window.workspace, window.zoning_panel
    window.docks["zoning"].raise_()
    version = ws.layer("grids").version
    panel.set_unit("grid")
    qtbot.waitUntil(lambda: ws.layer("grids").version != version, timeout=30000)
    assert ws.layer("grids").visible and not ws.layer("towns").visible and not ws.layer("villages").visible
    grids = ws.layer("grids").gdf
    ents = ws.layer("enterprises").gdf
    # 就高: a grid's level is the highest (smallest number) among the enterprises inside it
    inside = shapely.contains(np.asarray(grids.geometry.array)[:, None], np.asarray(ents.geometry.array)[None, :])
    checked = 0
    for gi in range(len(grids)):
        levels = pd.to_numeric(ents["level"][inside[gi]], errors="coerce").dropna()
        if len(levels):
            assert int(grids["level"].iloc[gi]) == int(levels.min())
            checked += 1
    assert checked > 20
    assert set(grids["level_rule"]) == {"max"}
    # identify on a zone shows its level and the reason
    gid = int(grids[grids["level"] == 1]["id"].iloc[0])
    window.identify_panel.show_feature("grids", gid)
    assert window.identify_panel.tabs.tabText(1) == "定级依据"
    html = window.identify_panel.reason.toPlainText()
    assert "重大风险" in html and grids.set_index("id").loc[gid, "level_reason"][:10] in html
    wait_render(qtbot, window.canvas)
    window.grab().save(f"{SHOTS}/ui_zoning_grid.png")
    # another rule: weighted density per km²
    version = ws.layer("grids").version
    panel.set_rule("weighted_km2")
    qtbot.waitUntil(lambda: ws.layer("grids").version != version, timeout=30000)
    assert set(ws.layer("grids").gdf["level_rule"]) == {"weighted"}
    attrs = window.identify_panel
    attrs.show_feature("grids", gid)
    values = {attrs.attrs.item(i, 0).text(): attrs.attrs.item(i, 1).text() for i in range(attrs.attrs.rowCount())}
    assert values["分级规则"] == "加权密度"
    assert "加权密度" in panel.summary.text()


def test_dashboard_bar_filters_the_map(window, qtbot):
    ws, dash = window.workspace, window.dashboard
    window.docks["dashboard"].raise_()
    gdf = ws.layer("enterprises").gdf
    top_industry = dash.industry_keys[0]
    assert top_industry == gdf["industry"].value_counts().index[0]
    n_blue = int(((gdf["industry"] == top_industry) & (gdf["level"] == 4)).sum())
    x, y = dash.by_industry.click_point(0, 3)
    qtbot.mouseClick(dash.by_industry, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    layer = ws.layer("enterprises")
    assert layer.shown_count() == n_blue
    assert set(layer.gdf[layer.mask]["industry"]) == {top_industry}
    assert window.legend_panel.counts("低风险")[0] == n_blue
    assert window.legend_panel.counts("重大风险")[0] == 0
    wait_render(qtbot, window.canvas)
    window.grab().save(f"{SHOTS}/ui_dashboard_filter.png")
    # a town label filters by town only
    town = dash.town_keys[0]
    x, y = dash.by_town.click_point(0, -1)
    qtbot.mouseClick(dash.by_town, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    assert layer.shown_count() == int((gdf["town"] == town).sum())
    # level × industry × town: the industry chart now counts within that town; its bars filter all three
    in_town = gdf[gdf["town"] == town]
    assert dash.industry_keys[0] == in_town["industry"].value_counts().index[0]
    assert dash.by_industry.values.sum() == int(in_town["level"].notna().sum())
    ind = dash.industry_keys[0]
    level = int(in_town[in_town["industry"] == ind]["level"].dropna().iloc[0])
    x, y = dash.by_industry.click_point(0, level - 1)
    qtbot.mouseClick(dash.by_industry, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    assert layer.shown_count() == int(((in_town["industry"] == ind) & (in_town["level"] == level)).sum())
    assert set(layer.gdf[layer.mask]["town"]) == {town}
    dash.clear_filter()
    assert dash.town_scope is None and dash.by_industry.values.sum() == int(gdf["level"].notna().sum())
    assert layer.shown_count() == len(gdf)
    # counts per level in the boxes, the overdue 重大隐患 list as in the data
    for n, box in dash.level_boxes.items():
        assert box.text().endswith(str(int((gdf["level"] == n).sum())))
    import datetime as dt

    d = window.project.read_table("hidden_dangers")
    today = dt.date.today()
    overdue = [r for r in d.itertuples() if r.grade == "major" and r.deadline is not None
               and pd.Timestamp(r.deadline).date() < today and r.status not in ("rectified", "closed")]
    assert dash.overdue.rowCount() == len(overdue)


def test_language_switch_rebuilds_in_english_and_is_remembered(window, qtbot, prefs):
    from riskmap.ui.i18n import current_language

    ws_layers = window.workspace.layer_ids()
    centre, scale = window.canvas.view.centre, window.canvas.scale()
    new = window.set_language("en")
    qtbot.addWidget(new)
    assert current_language() == "en" and prefs.language() == "en"
    titles = [a.text() for a in new.menuBar().actions()]
    assert titles[:4] == ["File", "View", "Map", "Layers"]
    groups = {new.layers_panel.tree.topLevelItem(i).text(0) for i in range(new.layers_panel.tree.topLevelItemCount())}
    assert {"Enterprises", "Zones", "Base map"} <= groups
    assert new.workspace.layer_ids() == ws_layers and new.project is not None
    assert new.canvas.view.centre == pytest.approx(centre) and new.canvas.scale() == pytest.approx(scale)
    assert new.legend_panel.counts("Major risk") or new.legend_panel.counts("Major")
    wait_render(qtbot, new.canvas)
    new.grab().save(f"{SHOTS}/ui_main_en.png")
    back = new.set_language("zh")
    qtbot.addWidget(back)
    assert [a.text() for a in back.menuBar().actions()][:2] == ["文件", "视图"]
    back.close()


def test_identify_hidden_danger_shows_its_lifecycle(window, qtbot):
    ws, panel = window.workspace, window.identify_panel
    d = ws.layer("hidden_dangers").gdf.iloc[0]
    panel.show_feature("hidden_dangers", int(d["id"]))
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == ["属性", "处置过程"]
    ev = window.project.read_table("hidden_danger_events", where=f"danger_id = {int(d['id'])}")
    assert panel.events.rowCount() == len(ev) > 0
    from riskmap.fields import word

    assert panel.events.item(len(ev) - 1, 1).text() == word("hidden_dangers", "status", d["status"])
