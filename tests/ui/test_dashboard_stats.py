"""The dashboard shows the numbers of ``riskmap stats``: total, by level, by industry, by town (by location,
not the record's town), the overdue 重大隐患; its drill-downs count and filter the same enterprises."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys

from PySide6.QtCore import QPoint, Qt

from riskmap.store import Project

TODAY = dt.date(2030, 1, 1)  # late enough for several deadlines to have passed


def _graded(rows: dict) -> dict:
    """{key: [n1, n2, n3, n4]} of keys with a graded enterprise, as the charts draw them."""
    return {k: [r[str(n)] for n in (1, 2, 3, 4)] for k, r in rows.items() if sum(r[str(n)] for n in (1, 2, 3, 4))}


def _chart(keys, values) -> dict:
    return {k: [int(v) for v in row] for k, row in zip(keys, values)}


def test_dashboard_equals_riskmap_stats(app, qtbot, demo_copy, prefs):
    # two enterprises whose record names a town they do not lie in: counted where they are
    with sqlite3.connect(demo_copy) as c:
        towns = [n for (n,) in c.execute("SELECT name FROM zones WHERE kind = 'town' ORDER BY id")]
        moved = [i for (i,) in c.execute("SELECT id FROM enterprises WHERE town = ? ORDER BY id LIMIT 2", (towns[0],))]
    with Project.open(demo_copy) as project:
        project.execute(f"UPDATE enterprises SET town = :t WHERE id IN ({moved[0]}, {moved[1]})", t=towns[1])
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "stats", str(demo_copy), "--json",
                        "--today", TODAY.isoformat()], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)

    from riskmap.ui.main_window import MainWindow

    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.open_project(demo_copy)
    qtbot.waitUntil(lambda: w.project is not None and not w.loading, timeout=30000)
    try:
        dash = w.dashboard
        dash.today = TODAY
        dash.refresh()
        # total and by level
        assert dash.total_label.text() == (f"企业共 {st['enterprises']:,} 家，未评估 {st['by_level']['none']:,} 家，"
                                      f"未定位 {st['unlocated']:,} 家")
        for n, box in dash.level_boxes.items():
            assert box.text().split("\n")[1] == f"{st['by_level'][str(n)]:,}"
        assert sum(st["by_level"].values()) == st["enterprises"] == 239
        # by industry and by town, level by level
        assert _chart(dash.industry_keys, dash.by_industry.values) == _graded(st["by_industry"])
        assert _chart(dash.town_keys, dash.by_town.values) == _graded(st["by_town"])
        # the record's town is not what counts: the first town keeps the two enterprises moved away on paper
        on_paper = w.workspace.layer("enterprises").gdf["town"]
        assert st["by_town"][towns[0]]["total"] == int((on_paper == towns[0]).sum()) + 2
        # the overdue 重大隐患 list
        want = sorted((d for d in st["hidden_dangers"]["overdue_list"] if d["grade"] == "major"),
                      key=lambda d: d["deadline"])
        got = [(dash.overdue.item(i, 0).text(), dash.overdue.item(i, 2).text(),
                int(dash.overdue.item(i, 0).data(Qt.ItemDataRole.UserRole))) for i in range(dash.overdue.rowCount())]
        assert got == [(d["title"], d["deadline"], d["id"]) for d in want] and len(got) > 0
        days = [int(dash.overdue.item(i, 3).text()) for i in range(len(got))]
        assert days[0] == (TODAY - dt.date.fromisoformat(want[0]["deadline"])).days
        # a town click: the map shows that town's enterprises by location, the industry chart counts them
        i = dash.town_keys.index(towns[0])
        x, y = dash.by_town.click_point(i, -1)
        qtbot.mouseClick(dash.by_town, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
        layer = w.workspace.layer("enterprises")
        assert layer.shown_count() == st["by_town"][towns[0]]["total"]
        assert set(moved) <= set(int(v) for v in layer.gdf[layer.mask]["id"])
        in_town = {}
        for row in st["level_industry_town"]:
            if row["town"] == towns[0] and row["level"] != "none":
                in_town.setdefault(row["industry"], [0, 0, 0, 0])[int(row["level"]) - 1] += row["count"]
        assert _chart(dash.industry_keys, dash.by_industry.values) == in_town
        # and an industry bar within it filters town, industry and level together
        ind = dash.industry_keys[0]
        level = next(n for n in (1, 2, 3, 4) if in_town[ind][n - 1])
        x, y = dash.by_industry.click_point(0, level - 1)
        qtbot.mouseClick(dash.by_industry, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
        assert layer.shown_count() == in_town[ind][level - 1]
    finally:
        w.close()
        w.deleteLater()
