"""Exact answers on a lazy layer (LAZY_ROWS lowered so a 6,000-enterprise project is read by view): the
legend and layers panel count the whole layer though only the view is drawn, the attribute table pages every
row in the database's order, identify finds a feature outside the view, search finds one far away, the
filter dialog lists the whole layer's values. Every figure is counted by hand with pandas on the rows the
project was built from."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import shapely
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from tests.ui.conftest import SHOTS, open_window, wait_render

N = 6000
INDUSTRIES = np.array(["gas_station", "fireworks_retail", "hazchem_trade", "metallurgy", "commerce"], dtype=object)


def make_project(path, n: int = N, seed: int = 5) -> pd.DataFrame:
    """A county (105.0–105.2°E, 35.5–35.65°N) with ``n`` enterprises of known level (some ungraded),
    industry, town and address; returns their rows (ids 1..n in insertion order)."""
    from riskmap.model import Enterprise, Zone
    from riskmap.store import Project

    rng = np.random.default_rng(seed)
    lon = rng.uniform(105.0, 105.2, n)
    lat = rng.uniform(35.5, 35.65, n)
    level = rng.choice(np.array([1, 2, 3, 4, None], dtype=object), n, p=[0.02, 0.08, 0.2, 0.6, 0.1])
    industry = rng.choice(INDUSTRIES, n)
    town = np.where(lon < 105.1, "西镇", "东镇").astype(object)
    names = np.array([f"示例企业{i:05d}{'加油站' if ind == 'gas_station' else '有限公司'}"
                      for i, ind in enumerate(industry, 1)], dtype=object)
    address = np.array([f"{t}示例路{k}号" for t, k in zip(town, rng.integers(1, 500, n))], dtype=object)
    rows = pd.DataFrame({"id": np.arange(1, n + 1), "name": names, "industry": industry, "town": town,
                         "address": address, "level": level, "lon": lon, "lat": lat})

    def build(project):
        with project.session(history=False) as s:
            s.add(Zone(name="示例县", kind="county", geom=shapely.box(104.99, 35.49, 105.21, 35.66)))
            s.flush()
            s.execute(Enterprise.__table__.insert(), [
                {"name": r.name, "industry": r.industry, "town": r.town, "address": r.address, "level": r.level,
                 "geom": shapely.Point(r.lon, r.lat), "version": 1} for r in rows.itertuples()])

    Project.create(path, name="按视图读取的大项目", metric_epsg=4544, build=build, overwrite=True).close()
    return rows


def hand_levels(rows: pd.DataFrame) -> dict:
    out = {k: int((rows["level"] == k).sum()) for k in (1, 2, 3, 4)}
    out[None] = int(rows["level"].isna().sum())
    return out


def map_xy(rows: pd.DataFrame, epsg: int) -> np.ndarray:
    from riskmap.crs import transformer

    x, y = transformer(4490, epsg).transform(rows["lon"].to_numpy(float), rows["lat"].to_numpy(float))
    return np.column_stack([x, y])


@pytest.fixture
def lazy_window(app, qtbot, prefs, tmp_path, monkeypatch):
    import riskmap.store.viewport as viewport

    monkeypatch.setattr(viewport, "LAZY_ROWS", 5000)
    rows = make_project(tmp_path / "big.gpkg")
    w = open_window(qtbot, prefs, tmp_path / "big.gpkg")
    qtbot.waitUntil(lambda: w.workspace.layer("enterprises").lazy, timeout=30000)
    yield w, rows
    w.close()
    w.deleteLater()


def zoom_to_box(qtbot, w, lon0, lat0, lon1, lat1):
    from riskmap.ui.lazy_query import transform_box

    w.canvas.set_extent(transform_box((lon0, lat0, lon1, lat1), 4490, w.workspace.map_epsg), margin=0)
    wait_render(qtbot, w.canvas)


def in_view(w, rows) -> np.ndarray:
    xy = map_xy(rows, w.workspace.map_epsg)
    x0, y0, x1, y1 = w.canvas.view.extent
    return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def legend_counts(w) -> dict:
    """The legend's counts of the enterprise layer, by label."""
    out, inside = {}, False
    for e in w.legend_panel.entries:
        if e.kind == "header":
            inside = e.label == "企业"
        elif inside:
            out[e.label] = e.count
    return out


def test_legend_and_layers_panel_count_the_whole_layer(lazy_window, qtbot):
    w, rows = lazy_window
    ws = w.workspace
    layer = ws.layer("enterprises")
    assert len(layer.gdf) == 0  # nothing read whole
    zoom_to_box(qtbot, w, 105.02, 35.52, 105.05, 35.55)  # about 3 % of the county
    shown = in_view(w, rows)
    hand = hand_levels(rows)
    assert 0 < int((rows[shown]["level"] == 1).sum()) < hand[1]  # only part of the layer is drawn
    want = {"重大风险": hand[1], "较大风险": hand[2], "一般风险": hand[3], "低风险": hand[4], "未评估": hand[None]}
    qtbot.waitUntil(lambda: legend_counts(w) == want, timeout=10000)
    assert w.legend_panel.counts("重大风险")[0] == hand[1]  # the top layer first
    item = w.layers_panel.item_for("enterprises")
    qtbot.waitUntil(lambda: item.text(0).endswith(f"({N})"), timeout=10000)

    # a filter: counted in the project with it
    from riskmap.ui.workspace import LayerFilter

    ws.set_filter("enterprises", LayerFilter({"level": frozenset({1, 2}), "industry": frozenset({"gas_station"})}))
    sub = rows[rows["level"].isin([1, 2]) & (rows["industry"] == "gas_station")]
    want_f = {"重大风险": int((sub["level"] == 1).sum()), "较大风险": int((sub["level"] == 2).sum()),
              "一般风险": 0, "低风险": 0}
    qtbot.waitUntil(lambda: legend_counts(w) == want_f, timeout=10000)
    qtbot.waitUntil(lambda: item.text(0).endswith(f"({len(sub)}/{N})"), timeout=10000)

    # 当前视图: the features of the view's box only
    ws.set_filter("enterprises", None)
    from riskmap.ui.lazy_query import view_box_4490

    w.legend_panel.in_view.setChecked(True)
    x0, y0, x1, y1 = view_box_4490(w.canvas.view)
    box = rows[(rows["lon"] >= x0) & (rows["lon"] <= x1) & (rows["lat"] >= y0) & (rows["lat"] <= y1)]
    hb = hand_levels(box)
    qtbot.waitUntil(lambda: legend_counts(w).get("低风险") == hb[4], timeout=10000)
    assert legend_counts(w)["重大风险"] == hb[1] and len(box) < N
    w.legend_panel.in_view.setChecked(False)
    qtbot.waitUntil(lambda: legend_counts(w) == want, timeout=10000)
    w.legend_panel.grab().save(os.path.join(SHOTS, "lazy_legend.png"))


def _hand_order(rows, field, desc):
    has = rows[rows[field].notna()].sort_values([field, "id"], ascending=not desc)
    return has["id"].tolist() + rows[rows[field].isna()].sort_values("id")["id"].tolist()


def test_attribute_table_pages_every_row(lazy_window, qtbot):
    w, rows = lazy_window
    ws = w.workspace
    zoom_to_box(qtbot, w, 105.02, 35.52, 105.05, 35.55)
    table = w.open_table("enterprises")
    model = table.model
    assert table.lazy and model.fields[0] == "id"
    qtbot.waitUntil(lambda: not model.loading and model.rowCount() == N, timeout=15000)
    qtbot.waitUntil(lambda: table.count_label.text() == f"显示 {N} / {N} 条", timeout=5000)
    name_col = model.fields.index("name")
    for r in (0, 1234, N - 1):  # row r is the (r+1)-th id, with its own name
        assert model.data(model.index(r, 0)) == str(r + 1)
        assert model.data(model.index(r, name_col)) == rows["name"].iloc[r]
    assert model.data(model.index(5, model.fields.index("major_hazard"))) == "否"  # words, as the in-memory table
    table.view.scrollToBottom()
    qtbot.wait(50)

    # sorting is ORDER BY in the database
    level_col = model.fields.index("level")
    table.view.sortByColumn(level_col, Qt.SortOrder.DescendingOrder)
    want = _hand_order(rows, "level", True)
    qtbot.waitUntil(lambda: not model.loading and model.ids().tolist() == want, timeout=15000)
    r = 4000
    assert model.data(model.index(r, 0)) == str(want[r])
    assert model.data(model.index(r, name_col)) == rows.set_index("id").loc[want[r], "name"]
    lv = rows.set_index("id").loc[want[r], "level"]
    assert model.data(model.index(r, level_col)) == ("" if lv is None else
                                                     {1: "重大风险", 2: "较大风险", 3: "一般风险", 4: "低风险"}[lv])

    # the filter combos hold the whole layer's values (SELECT DISTINCT), the filter is SQL
    qtbot.waitUntil(lambda: getattr(table, "combos_loaded", False), timeout=10000)
    combo = table.combos["industry"]
    assert sorted(combo.itemData(i) for i in range(1, combo.count())) == sorted(INDUSTRIES.tolist())
    table.set_combo("industry", "metallurgy")
    sub = rows[rows["industry"] == "metallurgy"]
    qtbot.waitUntil(lambda: table.count_label.text() == f"显示 {len(sub)} / {N} 条", timeout=15000)
    assert sorted(model.ids().tolist()) == sorted(sub["id"].tolist())
    table.text.setText("东镇示例路1")
    sub2 = sub[sub["address"].str.contains("东镇示例路1")]
    qtbot.waitUntil(lambda: table.count_label.text() == f"显示 {len(sub2)} / {N} 条", timeout=15000)
    table.text.setText("")
    qtbot.waitUntil(lambda: table.count_label.text() == f"显示 {len(sub)} / {N} 条", timeout=15000)

    # selecting rows selects features; zoom to the selection asks the project for their extent
    sel = QItemSelection(model.index(10, 0), model.index(19, model.columnCount() - 1))
    table.view.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                       | QItemSelectionModel.SelectionFlag.Rows)
    chosen = model.ids(range(10, 20))
    assert sorted(ws.selected_ids("enterprises").tolist()) == sorted(chosen.tolist())
    table.zoomRequested.emit()
    wait_render(qtbot, w.canvas)
    xy = map_xy(rows.set_index("id").loc[chosen].reset_index(), ws.map_epsg)
    x0, y0, x1, y1 = w.canvas.view.extent
    assert ((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)).all()
    # and selecting on the map selects the row, wherever it is in the table
    far = int(model.ids()[len(sub) - 3])
    ws.select("enterprises", [far])
    selected_rows = [i.row() for i in table.view.selectionModel().selectedRows()]
    assert selected_rows == [len(sub) - 3]
    table.window().grab().save(os.path.join(SHOTS, "lazy_table_window.png"))
    table.grab().save(os.path.join(SHOTS, "lazy_table.png"))


def test_identify_outside_the_cached_view(lazy_window, qtbot):
    w, rows = lazy_window
    ws = w.workspace
    zoom_to_box(qtbot, w, 105.0, 35.5, 105.03, 35.53)  # the south-west corner
    xy = map_xy(rows, ws.map_epsg)
    shown = in_view(w, rows)
    # a feature far outside the view, with no other within 30 m
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    alone = np.flatnonzero((d.min(axis=1) > 30) & ~shown & (rows["lon"] > 105.15).to_numpy())
    i = int(alone[0])
    fid = int(rows["id"].iloc[i])
    layer = ws.layer("enterprises")
    assert fid not in set(layer.gdf["id"]) if "id" in layer.gdf else True
    hits = ws.features_at(xy[i, 0], xy[i, 1], 10.0)
    assert hits[0] == ("enterprises", fid)
    assert [h for h in hits if h[0] == "enterprises"] == [("enterprises", fid)]
    rec = ws.record("enterprises", fid)
    assert rec["name"] == rows["name"].iloc[i] and rec["address"] == rows["address"].iloc[i]
    g = ws.geometry_of("enterprises", fid)
    assert g.distance(shapely.Point(xy[i])) < 1e-6
    w.identify_panel.show_hits(hits)
    assert w.identify_panel.results.topLevelItem(0).text(0).startswith(rows["name"].iloc[i])
    # the select tool's box selects in the project too: every enterprise in the box, counted by hand
    from riskmap.ui.map_tools import SelectTool

    box = (xy[i, 0] - 800, xy[i, 1] - 600, xy[i, 0] + 800, xy[i, 1] + 600)
    inside = rows["id"].to_numpy()[(xy[:, 0] >= box[0]) & (xy[:, 0] <= box[2]) & (xy[:, 1] >= box[1])
                                   & (xy[:, 1] <= box[3])]
    tool = SelectTool(w.canvas, current_layer=lambda: "enterprises")

    class Ev:
        def modifiers(self):
            return Qt.KeyboardModifier.NoModifier

    tool.boxed(Ev(), box)
    assert fid in inside and sorted(ws.selected_ids("enterprises").tolist()) == sorted(inside.tolist())
    # with a filter that leaves it out, it is not found
    from riskmap.ui.workspace import LayerFilter

    other = [v for v in INDUSTRIES if v != rows["industry"].iloc[i]]
    ws.set_filter("enterprises", LayerFilter({"industry": frozenset(other)}))
    assert ("enterprises", fid) not in ws.features_at(xy[i, 0], xy[i, 1], 10.0)


def test_search_finds_a_feature_far_outside_the_view(lazy_window, qtbot):
    w, rows = lazy_window
    ws = w.workspace
    zoom_to_box(qtbot, w, 105.0, 35.5, 105.03, 35.53)
    xy = map_xy(rows, ws.map_epsg)
    far = np.flatnonzero(~in_view(w, rows) & (rows["lon"] > 105.17).to_numpy() & (rows["lat"] > 35.62).to_numpy())
    i = int(far[0])
    name, fid = rows["name"].iloc[i], int(rows["id"].iloc[i])
    with qtbot.waitSignal(w.search_box.found, timeout=5000) as sig:
        hits = w.search_box.search(name)
    assert sig.args == ["enterprises", fid] and len(hits) == 1
    assert hits[0].label == f"{name} — {rows['address'].iloc[i]}"
    wait_render(qtbot, w.canvas)
    x0, y0, x1, y1 = w.canvas.view.extent
    assert x0 <= xy[i, 0] <= x1 and y0 <= xy[i, 1] <= y1  # the map went there
    assert ws.selected_ids("enterprises").tolist() == [fid]
    # part of a name: every enterprise whose name or address holds it, counted by hand
    from riskmap.ui.search import find

    part = "0012"
    hand = rows[rows["name"].str.contains(part) | rows["address"].str.contains(part)]
    assert sorted(h.feature_id for h in find(ws, part)) == sorted(hand["id"].tolist())
    assert find(ws, "%'; DROP TABLE enterprises;--") == []
    # as the user types, the far enterprise is suggested (asked of the project after a pause)
    box = w.search_box
    box.setFocus()
    box.clear()
    box.setText(name[:-2])
    box.textEdited.emit(name[:-2])  # as typing does (QTest cannot type Chinese)
    qtbot.waitUntil(lambda: name in getattr(box, "lazy_suggestions", []), timeout=5000)
    assert name in box.model.stringList()


def test_filter_dialog_lists_the_whole_layer(lazy_window, qtbot):
    from riskmap.ui.filter_dialog import FilterDialog

    w, rows = lazy_window
    layer = w.workspace.layer("enterprises")
    dlg = FilterDialog(layer, w)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.field.count() > 0, timeout=10000)
    fields = [dlg.field.itemData(i) for i in range(dlg.field.count())]
    assert "industry" in fields and "level" in fields and "name" not in fields  # 6,000 names: too many
    dlg.field.setCurrentIndex(fields.index("industry"))
    counts = rows["industry"].value_counts()
    items = {dlg.values.item(i).data(Qt.ItemDataRole.UserRole): dlg.values.item(i).text()
             for i in range(dlg.values.count())}
    assert set(items) == set(INDUSTRIES)
    for code, text in items.items():
        assert text.endswith(f"({counts[code]})")
    dlg._tick_all(False)
    it = next(dlg.values.item(i) for i in range(dlg.values.count())
              if dlg.values.item(i).data(Qt.ItemDataRole.UserRole) == "commerce")
    it.setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: dlg.count.text() == f"将显示 {counts['commerce']} / {N} 个要素", timeout=10000)
    flt = dlg.result_filter()
    assert flt.values == {"industry": frozenset({"commerce"})}


def test_exact_counts_wait_for_the_map_frame(lazy_window, qtbot, monkeypatch):
    """The legend's exact counts are asked of the project once the map frame on the way is drawn: while a
    canvas says it draws one, no count runs; right after, the count runs once and is exact."""
    from PySide6.QtCore import QObject

    from riskmap.ui import lazy_query
    from riskmap.ui.workspace import map_drawing

    w, rows = lazy_window
    wait_render(qtbot, w.canvas)
    layer = w.workspace.layer("enterprises")
    counts = lazy_query.exact_counts(w.workspace)
    ran = []
    real = lazy_query.layer_query.class_counts
    bbox = (105.0, 35.5, 105.1, 35.6)  # a box not counted before (counts the opening asked may still come)
    monkeypatch.setattr(lazy_query.layer_query, "class_counts",
                        lambda *a, **k: (k.get("bbox") == bbox and ran.append(a[1].id)) or real(*a, **k))
    busy = QObject()
    map_drawing(busy, True)
    try:
        assert counts.get(layer, bbox=bbox) is None
        qtbot.wait(400)
        assert ran == []  # held while the frame is drawn
    finally:
        map_drawing(busy, False)
    qtbot.waitUntil(lambda: counts.get(layer, bbox=bbox) is not None, timeout=10000)
    assert ran == ["enterprises"]
    inside = rows[(rows["lon"] >= 105.0) & (rows["lon"] <= 105.1) & (rows["lat"] >= 35.5) & (rows["lat"] <= 35.6)]
    got = counts.get(layer, bbox=bbox)
    assert {k: got.get(k, 0) for k in (1, 2, 3, 4, None)} == hand_levels(inside)
    assert 0 < sum(got.values()) == len(inside) < len(rows)


def test_a_count_waiting_for_its_frame_outlives_its_window(app, qtbot, prefs, tmp_path, monkeypatch):
    """A count held back by a frame, whose window is closed and deleted meanwhile, ends quietly."""
    import shiboken6
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    import riskmap.store.viewport as viewport
    from riskmap.ui import lazy_query
    from riskmap.ui.workspace import map_drawing

    monkeypatch.setattr(viewport, "LAZY_ROWS", 5000)
    make_project(tmp_path / "big.gpkg")
    from riskmap.ui.main_window import MainWindow

    w = MainWindow(prefs)  # not handed to qtbot: deleted here
    w.resize(1000, 700)
    w.show()
    w.open_project(tmp_path / "big.gpkg")
    qtbot.waitUntil(lambda: w.project is not None and not w.loading, timeout=30000)
    wait_render(qtbot, w.canvas)
    counts = lazy_query.exact_counts(w.workspace)
    ran = []
    real = lazy_query.layer_query.class_counts
    bbox = (105.0, 35.5, 105.05, 35.55)
    monkeypatch.setattr(lazy_query.layer_query, "class_counts",
                        lambda *a, **k: (k.get("bbox") == bbox and ran.append(1)) or real(*a, **k))
    busy = QObject()
    map_drawing(busy, True)
    try:
        assert counts.get(w.workspace.layer("enterprises"), bbox=bbox) is None
        w.close()
        w.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        assert not shiboken6.isValid(counts) and ran == []
    finally:
        map_drawing(busy, False)
    qtbot.waitUntil(lambda: ran == [1], timeout=10000)
    qtbot.wait(200)  # its answer comes back to the GUI thread: nothing to tell, no error
