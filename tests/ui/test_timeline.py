"""The desktop date control and the change layer (riskmap.ui.timeline) on a project with a hand-built history.

Two towns side by side at 105°E 35.5°N (甲镇 west, 乙镇 east), seven enterprises, every record dated by hand
(assessments are immutable, so each is written with its date):

    甲镇: E1 低 (2025-01-10) → 重大 (2025-06-15)   E2 一般 → 低 (2025-08-01)   E5 低   E6 未评估
    乙镇: E3 重大   E4 较大   E7 created and graded 低 on 2025-09-01

Towns levelled by the highest level in them (max): 甲镇 一般 before 2025-06-15, 重大 since; 乙镇 重大 always.
One 重大隐患 in 乙镇 (D1): found and registered 2025-02-01, 销号 (closed) 2025-07-10.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.ui.conftest import SHOTS, close_to, open_window, pixel, wait_render

CREATED = dt.datetime(2025, 1, 10, 2, 0)
RAISED_AT = dt.datetime(2025, 6, 15, 3, 0)
LOWERED_AT = dt.datetime(2025, 8, 1, 3, 0)
ADDED_AT = dt.datetime(2025, 9, 1, 3, 0)
BEFORE = dt.date(2025, 3, 1)
RED, BLUE, YELLOW = "#FF0000", "#0070FF", "#FFE600"
ARROW_RED, ARROW_GREEN, PLUS, CHECK = "#D32F2F", "#2E7D32", "#6A1B9A", "#00838F"
MAJOR_DANGER = "#B71C1C"
DANGER_XY = (105.034, 35.506)
ENTS = {  # name -> (x, y, [(date, level)], created)
    "E1": (105.006, 35.506, [(CREATED, 4), (RAISED_AT, 1)], CREATED),
    "E2": (105.014, 35.514, [(CREATED, 3), (LOWERED_AT, 4)], CREATED),
    "E5": (105.006, 35.514, [(CREATED, 4)], CREATED),
    "E6": (105.014, 35.506, [], CREATED),
    "E3": (105.026, 35.506, [(CREATED, 1)], CREATED),
    "E4": (105.034, 35.514, [(CREATED, 2)], CREATED),
    "E7": (105.026, 35.514, [(ADDED_AT, 4)], ADDED_AT),
}


def _history_project(tmp_path):
    """The project of the module's text; returns (path, {name: enterprise id})."""
    import shapely

    from riskmap.grading.zoning import zone_project
    from riskmap.model import Assessment, Enterprise, HiddenDanger, HiddenDangerEvent, Zone
    from riskmap.store import Project

    path = tmp_path / "history.gpkg"
    ids = {}

    def build(project):
        with project.session(history=False) as s:
            for name, (a, c) in (("甲镇", (105.0, 105.02)), ("乙镇", (105.02, 105.04))):
                s.add(Zone(name=name, kind="town", population=10_000, created_at=CREATED,
                           geom=shapely.MultiPolygon([shapely.box(a, 35.5, c, 35.52)])))
            for name, (x, y, levels, created) in ENTS.items():
                e = Enterprise(name=f"测试企业{name}", industry="gas_station", geom=shapely.Point(x, y),
                               created_at=created, level=levels[-1][1] if levels else None)
                s.add(e)
                s.flush()
                ids[name] = e.id
                for when, level in levels:
                    s.add(Assessment(enterprise_id=e.id, method="override", level=level, assessor="测试",
                                     explanation=f"测试定级 {level}", inputs={"level": level}, assessed_at=when))
            d = HiddenDanger(enterprise_id=ids["E4"], title="测试重大隐患D1", grade="major", status="closed",
                             found_date=dt.date(2025, 2, 1), deadline=dt.date(2025, 6, 30),
                             closed_date=dt.date(2025, 7, 10), geom=shapely.Point(*DANGER_XY), created_at=CREATED)
            s.add(d)
            s.flush()
            s.add(HiddenDangerEvent(danger_id=d.id, from_status=None, to_status="registered",
                                    at=dt.datetime(2025, 2, 1, 3, 0)))
            s.add(HiddenDangerEvent(danger_id=d.id, from_status="registered", to_status="closed",
                                    at=dt.datetime(2025, 7, 10, 3, 0)))

    Project.create(path, name="时间测试项目", place="620422", metric_epsg=4544, build=build).close()
    with Project.open(path) as p:
        zone_project(p, "town", "max")
    return path, ids


def _px(window, eid):
    ws, canvas = window.workspace, window.canvas
    g = ws.geometry_of("enterprises", eid)
    x, y = canvas.view.map_to_pixel(g.x, g.y)
    return float(x), float(y)


def _lonlat_px(window, lon, lat):
    from riskmap.crs import transformer

    x, y = transformer(4490, window.workspace.map_epsg).transform(lon, lat)
    px, py = window.canvas.view.map_to_pixel(x, y)
    return float(px), float(py)


def _washed(hex_colour: str, opacity: float = 0.35) -> str:
    """A zone fill of ``opacity`` over the white map."""
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c * opacity + 255 * (1 - opacity)):02X}" for c in rgb)


def _counts(window) -> dict:
    return window.workspace.layer("enterprises").prepared.counts()


def _shot(window, name):
    window.grab().save(os.path.join(SHOTS, name))


def _open(qtbot, prefs, path):
    w = open_window(qtbot, prefs, path)
    w.canvas.set_extent(w.workspace.layer_extent("towns"), margin=0.05)
    wait_render(qtbot, w.canvas)
    return w, w.extension("timeline").panel


def _show(qtbot, w, panel, at):
    panel.set_date(at)
    panel.asof.wait()  # zones and hidden dangers of the date come from a background snapshot
    wait_render(qtbot, w.canvas)
    return w.canvas.to_image()


def test_date_control_redraws_levels_zones_and_counts(app, qtbot, prefs, tmp_path):
    path, ids = _history_project(tmp_path)
    w, panel = _open(qtbot, prefs, path)
    assert panel.start == CREATED.date()  # the slider begins at the first assessment
    assert panel.slider.maximum() == (dt.date.today() - CREATED.date()).days
    x, y = _px(w, ids["E1"])
    x2, y2 = _px(w, ids["E2"])
    tx, ty = _lonlat_px(w, 105.003, 35.518)  # inside 甲镇, away from its label and enterprises
    dx, dy = _lonlat_px(w, *DANGER_XY)
    img = w.canvas.to_image()
    assert close_to(pixel(img, dx, dy), _washed(RED), 12)  # the hidden danger is closed (销号): not drawn
    assert close_to(pixel(img, x, y), RED) and close_to(pixel(img, x2, y2), BLUE)
    assert close_to(pixel(img, tx, ty), _washed(RED), 12), pixel(img, tx, ty)
    # today, by hand: 重大 E1 E3, 较大 E4, 一般 none, 低 E2 E5 E7, 未评估 E6
    assert _counts(w) == {1: 2, 2: 1, 3: 0, 4: 3, None: 1}
    assert w.legend_panel.counts("重大风险")[0] == 2

    img = _show(qtbot, w, panel, BEFORE)
    assert close_to(pixel(img, x, y), BLUE), pixel(img, x, y)  # 低 before the raise
    assert close_to(pixel(img, x2, y2), YELLOW), pixel(img, x2, y2)  # 一般 before the lowering
    assert close_to(pixel(img, tx, ty), _washed(YELLOW), 12), pixel(img, tx, ty)  # 甲镇 by its highest then: E2
    assert close_to(pixel(img, dx, dy), MAJOR_DANGER, 40), pixel(img, dx, dy)  # D1 was open then: a dark red star
    # 2025-03-01: 重大 E3, 较大 E4, 一般 E2, 低 E1 E5, 未评估 E6; E7 did not exist yet
    assert _counts(w) == {1: 1, 2: 1, 3: 1, 4: 2, None: 1}
    assert w.legend_panel.counts("重大风险")[0] == 1
    assert ids["E7"] not in set(w.workspace.layer("enterprises").prepared.ids.tolist())
    assert w.canvas.asof_mark == "截至 2025-03-01"
    ext = w.extension("timeline")
    assert ext.status_label.isVisible() and ext.status_label.text() == "截至 2025-03-01"
    assert panel.date_edit.date().toString("yyyy-MM-dd") == "2025-03-01"
    edits = [e.target for e in w.registry.gated() if e.permission in ("edit_features", "assess")]
    assert edits and not any(t.isEnabled() for t in edits)  # editing is off while a past date is shown
    assert w.dashboard.at == BEFORE
    _shot(w, "timeline_past.png")

    img = _show(qtbot, w, panel, dt.date(2025, 7, 1))  # after the raise, before the lowering
    assert close_to(pixel(img, x, y), RED) and close_to(pixel(img, x2, y2), YELLOW)
    assert _counts(w) == {1: 2, 2: 1, 3: 1, 4: 1, None: 1}

    panel.slider.setValue(panel.slider.maximum())  # the slider's end is today
    qtbot.waitUntil(lambda: panel.asof.at is None, timeout=5000)
    wait_render(qtbot, w.canvas)
    img = w.canvas.to_image()
    assert close_to(pixel(img, x, y), RED) and close_to(pixel(img, x2, y2), BLUE)
    assert close_to(pixel(img, tx, ty), _washed(RED), 12)
    assert close_to(pixel(img, dx, dy), _washed(RED), 12)  # closed again
    assert len(w.workspace.layer("hidden_dangers").gdf) == 0  # the layer as loaded (open dangers only)
    assert _counts(w) == {1: 2, 2: 1, 3: 0, 4: 3, None: 1}
    assert w.canvas.asof_mark == "" and not ext.status_label.isVisible()
    assert all(t.isEnabled() for t in edits if w.registry.entry_of(t) and not w.registry.entry_of(t).managed)
    w.close()


def test_change_layer_and_table(app, qtbot, prefs, tmp_path):
    path, ids = _history_project(tmp_path)
    w, panel = _open(qtbot, prefs, path)
    canvas = w.canvas
    panel.from_edit.setDate(panel.from_edit.date().fromString(BEFORE.isoformat(), "yyyy-MM-dd"))
    panel.change_box.setChecked(True)
    panel.wait_changes()
    ch = panel.changes
    assert [r["id"] for r in ch.raised] == [ids["E1"]] and [r["id"] for r in ch.lowered] == [ids["E2"]]
    assert [r["id"] for r in ch.added] == [ids["E7"]]
    qtbot.wait(50)  # the dock grew by the change table: the canvas settles at its new size
    wait_render(qtbot, canvas)
    x, y = _px(w, ids["E1"])
    x2, y2 = _px(w, ids["E2"])
    x7, y7 = _px(w, ids["E7"])
    # a mark (16 px) is centred 0.55 of its size up and left of its enterprise, whose colour stays visible
    off = 0.55 * 16
    mx, my = x - off, y - off
    panel.change_layer.set_visible(False)
    img = canvas.to_image()
    assert not close_to(pixel(img, mx, my - 4), ARROW_RED, 40)  # the town's wash of red, not the arrow's red
    panel.change_layer.set_visible(True)
    img = canvas.to_image()
    img.copy(int(x) - 24, int(y) - 24, 40, 40).scaled(400, 400).save(os.path.join(SHOTS, "timeline_arrow.png"))
    assert close_to(pixel(img, x, y), RED)  # the enterprise, 重大 now
    # the up arrow: its head (16 px wide) above the mark's centre, its shaft (6 px wide) below; a down arrow is
    # the mirror image
    assert close_to(pixel(img, mx, my - 4), ARROW_RED, 40), pixel(img, mx, my - 4)
    assert close_to(pixel(img, mx, my + 5), ARROW_RED, 40), pixel(img, mx, my + 5)
    assert not close_to(pixel(img, mx + 5, my + 3), ARROW_RED, 40)  # beside the shaft
    m2x, m2y = x2 - off, y2 - off
    assert close_to(pixel(img, m2x, m2y + 4), ARROW_GREEN, 40), pixel(img, m2x, m2y + 4)
    assert close_to(pixel(img, m2x, m2y - 5), ARROW_GREEN, 40), pixel(img, m2x, m2y - 5)
    assert not close_to(pixel(img, m2x + 5, m2y - 3), ARROW_GREEN, 40)
    assert close_to(pixel(img, x7 - off + 6, y7 - off), PLUS, 40), pixel(img, x7 - off + 6, y7 - off)  # plus arm
    ddx, ddy = _lonlat_px(w, *DANGER_XY)
    # the check of the closed danger: inside its lower stroke, (-0.14, 0.25) mark sizes from the mark's centre
    ck = pixel(img, ddx - off - 2.2, ddy - off + 4)
    assert close_to(ck, CHECK, 40), ck
    assert panel.change_layer.counts() == {"raised": 1, "lowered": 1, "added": 1, "removed": 0, "danger_closed": 1}
    rows = panel.table_rows()
    up = [r for r in rows if r[0] == "等级上升"]
    assert len(up) == 1 and up[0][1] == "测试企业E1" and up[0][2] == "甲镇"
    assert (up[0][3], up[0][4], up[0][5]) == ("低风险", "重大风险", "2025-06-15")
    down = [r for r in rows if r[0] == "等级下降"]
    assert len(down) == 1 and down[0][1] == "测试企业E2" and (down[0][3], down[0][4]) == ("一般风险", "低风险")
    new = [r for r in rows if r[0] == "新增企业"]
    assert len(new) == 1 and new[0][1] == "测试企业E7" and new[0][4] == "低风险"
    zones = [r for r in rows if r[0] == "分区变色"]
    assert [(r[1], r[3], r[4]) for r in zones] == [("甲镇", "一般风险", "重大风险")]
    legend = {panel.legend.topLevelItem(i).text(0): panel.legend.topLevelItem(i).text(1)
              for i in range(panel.legend.topLevelItemCount())}
    assert legend["等级上升"] == "1" and legend["等级下降"] == "1" and legend["新增企业"] == "1"
    assert legend["减少企业"] == "0" and legend["隐患销号"] == "1"
    closed = [r for r in rows if r[0] == "隐患销号"]
    assert [(r[1], r[2], r[4]) for r in closed] == [("测试重大隐患D1", "测试企业E4", "销号")]
    _shot(w, "timeline_changes.png")
    # a row selects its enterprise and centres the map on it
    panel.table.selectRow(rows.index(up[0]))
    assert w.workspace.selected_ids("enterprises").tolist() == [ids["E1"]]
    cx, cy = canvas.view.centre
    g = w.workspace.geometry_of("enterprises", ids["E1"])
    assert abs(cx - g.x) < 1 and abs(cy - g.y) < 1
    panel.change_box.setChecked(False)
    assert panel.change_layer.paint not in canvas.overlays
    w.close()


def test_briefing_menu_writes_docx(app, qtbot, prefs, tmp_path):
    pytest.importorskip("riskmap.printing.briefing")
    docx = pytest.importorskip("docx")
    path, ids = _history_project(tmp_path)
    w = open_window(qtbot, prefs, path)
    ext = w.extension("briefing")
    assert ext is not None and w.action("file_briefing") in w.menus["file"].actions()
    dlg = ext.dialog()
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.grab().save(os.path.join(SHOTS, "briefing_dialog.png"))
    v = dlg.values()
    assert v["fmt"] == "docx" and v["end"] == dt.date.today() and v["out"].suffix == ".docx"
    dlg.format_combo.setCurrentIndex(1)
    assert dlg.values()["out"].suffix == ".pdf"
    dlg.close()
    out = tmp_path / "简报.docx"
    ext.run(out=out, start=BEFORE, end=dt.date.today(), fmt="docx", issue="7", org="测试县应急管理局")
    qtbot.waitUntil(lambda: ext.last is not None or ext.error is not None, timeout=120000)
    assert ext.error is None, ext.error
    assert ext.last == out and out.exists()
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert f"{dt.date.today().year}年第7期" in text and "测试县应急管理局" in text
    assert not list(tmp_path.glob("*.tmp*"))  # nothing half-written beside it
    w.close()


def test_level_history_in_memory_equals_asof_levels_at(tmp_path, demo_path):
    """The date control's in-memory levels are riskmap.asof.levels_at's, on the hand-built history and on the
    demo's two years, every 10 days (and the day before and of each record)."""
    from riskmap.asof import LevelHistory, levels_at
    from riskmap.store import Project
    from riskmap.ui.timeline import history_start

    path, ids = _history_project(tmp_path)
    with Project.open(path, readonly=True) as p:
        hist = LevelHistory(p)
        days = [CREATED.date() - dt.timedelta(days=1)] + [w.date() + dt.timedelta(days=k) for w in
                                                          (CREATED, RAISED_AT, LOWERED_AT, ADDED_AT) for k in (-1, 0)]
        for d in days + [dt.date.today()]:
            assert hist.levels_at(d) == levels_at(p, d), d
        assert hist.levels_at(BEFORE)[ids["E1"]] == 4 and ids["E7"] not in hist.levels_at(BEFORE)
    with Project.open(demo_path, readonly=True) as p:
        hist = LevelHistory(p)
        start = history_start(p)
        assert start is not None and start < dt.date.today() - dt.timedelta(days=300)  # the demo has a history
        n_changed = 0
        previous = None
        for k in range(0, (dt.date.today() - start).days + 10, 10):
            d = start + dt.timedelta(days=k)
            mine = hist.levels_at(d)
            assert mine == levels_at(p, d), d
            n_changed += previous is not None and mine != previous
            previous = mine
        assert n_changed > 3  # the levels do move over the demo's history
        # the zones and dangers drawn for a date from the levels in memory are riskmap.asof.snapshot's
        from riskmap.asof import snapshot
        from riskmap.ui.timeline import _snapshot

        for d in (start + dt.timedelta(days=100), start + dt.timedelta(days=400), dt.date.today()):
            a, b = snapshot(p, d), _snapshot(p, d, hist)
            assert set(a.zone_levels) == set(b.zone_levels) and a.zone_levels
            for unit in a.zone_levels:
                za, zb = a.zone_levels[unit], b.zone_levels[unit]
                assert dict(zip(za["id"], za["level"])) == dict(zip(zb["id"], zb["level"])), (d, unit)
            assert dict(zip(a.dangers["id"], a.dangers["status"])) == dict(zip(b.dangers["id"], b.dangers["status"]))


def test_demo_as_of_a_date_counts_what_stats_at_counts(window, qtbot):
    """On the demo (a two-year dated history): the legend's enterprise counts and the dashboard for a past date
    are those of ``riskmap stats --at`` (project_stats(at=)) for that date."""
    from riskmap.stats import project_stats

    panel = window.extension("timeline").panel
    today = dt.date.today()
    at = panel.start + dt.timedelta(days=(today - panel.start).days // 3)
    want = project_stats(window.project, at=at)["by_level"]
    now = project_stats(window.project)["by_level"]
    assert want != now  # the date shows another picture
    panel.set_date(at)
    panel.asof.wait()
    wait_render(qtbot, window.canvas)
    counts = window.workspace.layer("enterprises").prepared.counts()
    assert {("none" if k is None else str(k)): v for k, v in counts.items()} == want
    assert [window.legend_panel.counts(n)[0] for n in ("重大风险", "较大风险", "一般风险", "低风险")] == [
        want[str(k)] for k in (1, 2, 3, 4)]
    window.docks["dashboard"].show()
    window.docks["dashboard"].raise_()
    window.dashboard.refresh()
    assert window.dashboard.at == at and window.dashboard.stats["by_level"] == want
    assert window.dashboard.level_boxes[1].text().endswith(f"\n{want['1']:,}")
    # while the dashboard is shown, another date's statistics come from the background
    later = at + dt.timedelta(days=200)
    panel.set_date(later)
    qtbot.waitUntil(lambda: not window.dashboard.busy(), timeout=30000)
    assert window.dashboard.at == later
    assert window.dashboard.stats["by_level"] == project_stats(window.project, at=later)["by_level"]
    panel.set_date(at)
    panel.asof.wait()
    qtbot.waitUntil(lambda: not window.dashboard.busy(), timeout=30000)
    wait_render(qtbot, window.canvas)
    _shot(window, "timeline_demo_past.png")
    panel.from_edit.setDate(panel.date_edit.date())
    panel.change_box.setChecked(True)
    panel.wait_changes()
    ch = panel.changes
    c = panel.change_layer.counts()
    assert c["raised"] == len(ch.raised) and c["lowered"] == len(ch.lowered) and c["added"] == len(ch.added)
    assert panel.table.rowCount() == sum(len(getattr(ch, k)) for k in (
        "raised", "lowered", "first_graded", "added", "removed", "zones", "dangers_closed", "dangers_opened",
        "dangers_overdue"))
    qtbot.wait(50)
    wait_render(qtbot, window.canvas)
    _shot(window, "timeline_demo_changes.png")
    panel.go_today()
    wait_render(qtbot, window.canvas)
    counts = window.workspace.layer("enterprises").prepared.counts()
    assert {("none" if k is None else str(k)): v for k, v in counts.items()} == now


def test_level_history_arrays_and_point_subset(tmp_path):
    """The arrays a date step uses equal levels_at's dictionary; a point layer's subset draws like a layer
    prepared from those rows."""
    import numpy as np
    import pandas as pd

    from riskmap.asof import levels_at
    from riskmap.render.prepared import PreparedLayer
    from riskmap.store import Project
    from riskmap.asof import LevelHistory
    from riskmap.ui.workspace import load_layer, project_catalogue

    path, ids = _history_project(tmp_path)
    with Project.open(path, readonly=True) as p:
        hist = LevelHistory(p)
        layer = load_layer(p, project_catalogue(p)["enterprises"], 4544)
        query = np.r_[layer.ids, 999_999]  # an id the project does not have
        exists, lv = hist.arrays_at(BEFORE, query)
        want = levels_at(p, BEFORE)
        assert exists.tolist() == [int(i) in want for i in query]
        assert [None if np.isnan(v) else int(v) for v in lv] == [want.get(int(i)) for i in query]
        prep = layer.prepared
        keep = exists[:-1]
        frame = pd.DataFrame({"level": pd.array(lv[:-1][keep], dtype="Int64")})
        sub = prep.subset(keep, frame)
        rows = layer.gdf[keep].assign(level=frame["level"].to_numpy())
        ref = PreparedLayer.from_gdf(layer.layer_def, rows, 4544)
        assert sub.n == ref.n == 6 and sub.ids.tolist() == ref.ids.tolist()
        assert np.allclose(sub.coords, ref.coords) and sub.cls.tolist() == ref.cls.tolist()
        assert sub.counts() == ref.counts() == {1: 1, 2: 1, 3: 1, 4: 2, None: 1}
        assert list(sub.label_text) == list(ref.label_text) and sub.label_order.tolist() == ref.label_order.tolist()


def test_language_switch_keeps_the_date(app, qtbot, prefs, tmp_path):
    path, ids = _history_project(tmp_path)
    w, panel = _open(qtbot, prefs, path)
    _show(qtbot, w, panel, BEFORE)
    assert _counts(w) == {1: 1, 2: 1, 3: 1, 4: 2, None: 1}
    new = w.set_language("en")
    qtbot.addWidget(new)
    try:
        ext = new.extension("timeline")
        assert ext.panel.asof.at == BEFORE and new.canvas.asof_mark == "As of 2025-03-01"
        assert _counts(new) == {1: 1, 2: 1, 3: 1, 4: 2, None: 1}
        ext.panel.go_today()
        assert _counts(new) == {1: 2, 2: 1, 3: 0, 4: 3, None: 1} and new.canvas.asof_mark == ""
        assert [ext.panel.legend.topLevelItem(i).text(0) for i in range(2)] == ["Raised", "Lowered"]
    finally:
        new.set_language("zh").close()
