"""文件 → 导入厂区包…: the package is checked first (nothing written), the changes shown, and imported on OK; the
county map then shows the enterprise at the package's level."""

from __future__ import annotations

import hashlib

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from riskmap.io.plant_package import export_package
from riskmap.plant import plants
from riskmap.store import Project
from tests.io.test_plant_package import _strip_plant
from tests.ui.conftest import open_window, wait_render


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_import_plant_package_from_the_file_menu(app, qtbot, prefs, demo_path, demo_copy, tmp_path, monkeypatch):
    with Project.open(demo_path, readonly=True) as p:
        table = plants(p)
        row = table[table["has_plan"]].iloc[0]
        eid, level = int(row["id"]), int(row["level"])
        n_points = int(row["n_points"])
        export_package(p, eid, tmp_path / "厂区包.gpkg")
    _strip_plant(demo_copy, eid)
    w = open_window(qtbot, prefs, demo_copy)
    action = w.findChild(QAction, "file_import_plant_package")
    assert action is not None and action.isEnabled()
    views = w.extension("plant_views")

    # first the user cancels: the check wrote nothing
    before = _sha(demo_copy)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Cancel)
    views.import_package(str(tmp_path / "厂区包.gpkg"))
    qtbot.waitUntil(lambda: getattr(views, "confirm_box", None) is not None, timeout=30000)
    text = views.confirm_box.detailedText()
    assert f"新增 {n_points}" in text and "示例数据" in text
    qtbot.wait(300)
    assert _sha(demo_copy) == before

    # then OK: the points, the plan and the level come in, and the map's enterprise layer follows
    views.confirm_box = None
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Ok)
    views.import_package(str(tmp_path / "厂区包.gpkg"))
    qtbot.waitUntil(lambda: not views.last_report.dry_run, timeout=30000)
    with Project.open(demo_copy, readonly=True) as p:
        after = plants(p)
        got = after[after["id"] == eid].iloc[0]
        assert int(got["n_points"]) == n_points and bool(got["has_plan"])
        assert int(p.read_table("enterprises", where=f"id = {eid}")["level"].iloc[0]) == level
    layer = w.workspace.layer("enterprises")
    qtbot.waitUntil(lambda: int(layer.gdf.loc[layer.gdf["id"] == eid, "level"].iloc[0]) == level, timeout=30000)
    wait_render(qtbot, w.canvas)
