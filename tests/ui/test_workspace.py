"""The workspace model: filters, identify, selection, order, and re-reading one layer after an edit."""

from __future__ import annotations

import pytest
import shapely

from riskmap.ui.workspace import LayerFilter, Workspace, load_layers


@pytest.fixture
def ws(app, demo_project):
    w = Workspace()
    w.set_project(demo_project, demo_project.metric_epsg, load_layers(demo_project, demo_project.metric_epsg))
    return w


def test_filters_by_values_missing_and_text(ws):
    ents = ws.layer("enterprises")
    gdf = ents.gdf
    flt = LayerFilter({"level": frozenset({1, 2})})
    assert flt.mask(ents).sum() == int(gdf["level"].isin([1, 2]).sum())
    town = gdf["town"].iloc[0]
    flt = LayerFilter({"level": frozenset({4}), "town": frozenset({town})})
    assert flt.mask(ents).sum() == int(((gdf["level"] == 4) & (gdf["town"] == town)).sum())
    # free text matches the words shown (industry names), not only stored codes
    flt = LayerFilter({}, "加油站")
    gas = (gdf["industry"] == "gas_station").to_numpy()
    expected = gas | gdf["name"].str.contains("加油站").to_numpy() | gdf["address"].fillna("").str.contains("加油站").to_numpy()
    assert gas.sum() > 0 and (flt.mask(ents) == expected).all()
    # the prepared layer holds only the shown features
    ws.set_filter("enterprises", LayerFilter({"level": frozenset({1})}))
    assert ents.prepared.n == int((gdf["level"] == 1).sum())
    assert ents.prepared.counts()[1] == ents.prepared.n
    ws.set_filter("enterprises", None)
    assert ents.prepared.n == len(gdf)


def test_features_at_points_first_then_polygons(ws):
    ents = ws.layer("enterprises")
    fid = int(ents.gdf["id"].iloc[5])
    pt = ws.geometry_of("enterprises", fid)
    hits = ws.features_at(pt.x + 3.0, pt.y, tolerance=5.0)
    assert hits[0][0] in ("enterprises", "hidden_dangers", "protected_targets", "emergency_resources")
    assert ("enterprises", fid) in hits
    kinds = [ws.layer(lid).geometry for lid, _ in hits]
    assert kinds == sorted(kinds, key=["point", "line", "polygon"].index)
    towns = ws.layer("towns")
    inside = int(towns.gdf["id"].to_numpy()[shapely.contains(towns.projected, pt)][0])
    assert ("towns", inside) in hits
    assert ("enterprises", fid) not in ws.features_at(pt.x + 50.0, pt.y, tolerance=5.0)
    ws.set_visible("enterprises", False)
    assert ("enterprises", fid) not in ws.features_at(pt.x, pt.y, tolerance=5.0)


def test_selection_modes_and_signals(ws):
    seen = []
    ws.selectionChanged.connect(seen.append)
    ws.select("enterprises", [3, 1, 2])
    assert list(ws.selected_ids("enterprises")) == [1, 2, 3]
    ws.select("enterprises", [4], "add")
    ws.select("enterprises", [1], "remove")
    ws.select("enterprises", [2, 9], "toggle")
    assert list(ws.selected_ids("enterprises")) == [3, 4, 9]
    ws.select("enterprises", [3, 4, 9])  # no change, no signal
    assert len(seen) == 4
    ext = ws.selection_extent()
    b = ws.layer("enterprises").bounds()[ws.layer("enterprises").row_of([3, 4, 9])]
    assert ext == pytest.approx((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()))
    ws.clear_selection()
    assert not ws.selection


def test_order_and_reload_only_the_changed_layer(ws, demo_project):
    ids = ws.layer_ids()
    ws.set_order(["enterprises"])  # to the top
    assert ws.layer_ids()[-1] == "enterprises" and sorted(ws.layer_ids()) == sorted(ids)
    before = {layer.id: layer.prepared for layer in ws.layers}
    # an edit in the project: one enterprise becomes 重大
    eid = int(ws.layer("enterprises").gdf.query("level == 4")["id"].iloc[0])
    demo_project.execute("UPDATE enterprises SET level = 1 WHERE id = :i", i=eid)
    changed = []
    ws.layerChanged.connect(lambda lid, what: changed.append((lid, what)))
    n1 = ws.layer("enterprises").prepared.counts()[1]
    ws.reload_table("enterprises")
    assert changed == [("enterprises", "data")]
    assert ws.layer("enterprises").prepared.counts()[1] == n1 + 1
    for lid, prep in before.items():
        if lid != "enterprises":
            assert ws.layer(lid).prepared is prep  # untouched layers are not prepared again
    assert ws.layer_ids()[-1] == "enterprises"


def test_large_layer_filter_is_prepared_off_the_gui_thread(ws, qtbot, monkeypatch):
    import threading

    import riskmap.ui.workspace as workspace_mod

    monkeypatch.setattr(workspace_mod, "SMALL_LAYER", 10)  # the demo's 239 enterprises count as large here
    ents = ws.layer("enterprises")
    threads = []
    original = ents.make_prepared
    monkeypatch.setattr(ents, "make_prepared", lambda mask=None: threads.append(threading.current_thread())
                        or original(mask))
    old = ents.prepared
    with qtbot.waitSignal(ws.layerChanged, timeout=10000) as sig:
        ws.set_filter("enterprises", LayerFilter({"level": frozenset({3})}))
        assert ents.prepared is old and ws.busy()  # the map keeps its old drawing until the new one is ready
    assert sig.args == ["enterprises", "filter"]
    assert not ws.busy()
    assert ents.prepared.n == int((ents.gdf["level"] == 3).sum())
    assert threads and threads[0] is not threading.main_thread()
