"""Settings (tile sources, labels, map CRS) and the per-layer filter dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import wait_render


def test_settings_dialog_adds_a_tile_url_and_turns_labels_off(window, qtbot, prefs):
    from riskmap.ui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(prefs, window)
    qtbot.addWidget(dlg)
    dlg.url_name.setText("我的底图")
    dlg.url.setText("http://127.0.0.1:9/{z}/{x}/{y}.png")
    dlg._add_url()
    dlg.tdt_key.setText("mykey")
    dlg._add_tianditu()
    dlg.labels.setChecked(False)
    changed = dlg.save()
    assert set(changed) == {"tiles", "labels"}
    names = [d["name"] for d in prefs.tile_sources()]
    assert names == ["我的底图", "天地图矢量", "天地图矢量注记"]
    assert all(d["enabled"] for d in prefs.tile_sources())
    assert prefs.tianditu_key() == "mykey" and prefs.labels_on() is False
    # a bad URL is refused with a message, not added
    from riskmap.ui import errors

    dlg.url.setText("not a url")
    n = dlg.sources.count()
    dlg._add_url()
    assert dlg.sources.count() == n and "http" in errors.shown_errors()[-1]
    errors.close_error_dialogs()
    window.apply_settings(changed)
    assert window.workspace.labels is False
    assert [t.source.name for t in window.canvas.tile_layers] == names
    assert window.layers_panel.item_for(window.canvas.tile_layers[0].id) is not None
    window.canvas.set_tile_layers([])  # no requests to the unreachable addresses after the test


def test_map_crs_switch_to_web_mercator_and_back(window, qtbot):
    ws, canvas = window.workspace, window.canvas
    centre_geo = _geo_centre(window)
    window.set_map_crs("webmercator")
    qtbot.waitUntil(lambda: ws.map_epsg == 3857, timeout=30000)
    wait_render(qtbot, canvas)
    assert "EPSG:3857" in window.crs_label.text()
    x, y = ws.geometry_of("enterprises", int(ws.layer("enterprises").gdf["id"].iloc[0])).coords[0]
    lon, lat = ws.layer("enterprises").gdf.geometry.iloc[0].coords[0]
    from riskmap.crs import transformer

    ex, ey = transformer(4490, 3857).transform(lon, lat)
    assert (x, y) == pytest.approx((ex, ey), abs=0.01)
    assert window.prefs.map_crs() == "webmercator"
    window.set_map_crs("gk")
    qtbot.waitUntil(lambda: ws.map_epsg == 4544, timeout=30000)
    wait_render(qtbot, canvas)
    assert _geo_centre(window) == pytest.approx(centre_geo, abs=0.02)  # full extent again: same place


def _geo_centre(window):
    from riskmap.crs import transformer

    cx, cy = window.canvas.view.centre
    return transformer(window.workspace.map_epsg, 4490).transform(cx, cy)


def test_filter_dialog_ticks_values(window, qtbot):
    from riskmap.ui.filter_dialog import FilterDialog

    layer = window.workspace.layer("enterprises")
    dlg = FilterDialog(layer, window)
    qtbot.addWidget(dlg)
    dlg.field.setCurrentIndex(dlg.field.findData("level"))
    labels = [dlg.values.item(i).text() for i in range(dlg.values.count())]
    gdf = layer.gdf
    assert labels[0] == f"重大风险  ({int((gdf['level'] == 1).sum())})"
    for i in range(dlg.values.count()):  # keep 重大 and 较大 only
        keep = dlg.values.item(i).data(Qt.ItemDataRole.UserRole) in (1, 2)
        dlg.values.item(i).setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
    flt = dlg.result_filter()
    n = int(gdf["level"].isin([1, 2]).sum())
    assert dlg.count.text() == f"将显示 {n} / {len(gdf)} 个要素"
    window.workspace.set_filter("enterprises", flt)
    assert layer.shown_count() == n
    assert window.layers_panel.item_for("enterprises").text(0) == f"企业 ({n}/{len(gdf)})"
    window.layers_panel.set_current_layer("enterprises")
    assert window.layers_panel.filter_label.text() == f"筛选：显示 {n} / {len(gdf)}"
    window._clear_filters()
    assert layer.shown_count() == len(gdf)
