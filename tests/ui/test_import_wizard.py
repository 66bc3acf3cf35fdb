"""The import wizard on the demo: 文件 → 导入数据…, every step, the report, the commit and the map."""

from __future__ import annotations

import numpy as np
import openpyxl
import shapely

from tests.ui.conftest import SHOTS


def _image_array(img):
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * img.height())
    return a.reshape(img.height(), -1)[:, : img.width() * 4].reshape(img.height(), img.width(), 4)[..., [2, 1, 0]]


def _count(arr, hex_colour, tol=30) -> int:
    want = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(arr.astype(int) - want).max(axis=2) <= tol).sum())


def _sheet(window, path):
    towns = window.project.read_table("zones", where="kind = 'town'")
    pts = [shapely.point_on_surface(g) for g in towns.geometry.iloc[:4]]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append(["向导测试企业清单"])
    ws.merge_cells("A1:F1")
    ws.append(["企业名称", "行业类别", "风险等级", "所属乡镇", "经度", "纬度"])
    ws.append(["向导甲公司", "加油站", "重大", towns["name"].iat[0], round(pts[0].x, 6), round(pts[0].y, 6)])
    ws.append(["向导乙公司", "冶金", "紫色", towns["name"].iat[1], round(pts[1].x, 6), round(pts[1].y, 6)])
    ws.append(["向导丙公司", "粉尘涉爆", "蓝", towns["name"].iat[2], round(pts[2].y, 6), round(pts[2].x, 6)])
    ws.append(["向导丁公司", "建筑施工", "Ⅱ", towns["name"].iat[3], round(pts[3].x, 6), round(pts[3].y, 6)])
    wb.save(path)
    return path


def test_import_wizard_end_to_end(window, qtbot, tmp_path):
    from riskmap.ui.import_wizard import ImportWizard

    assert window.action("action_import_data").text() == "导入数据…"
    assert window.action("action_import_data") in window.menus["file"].actions()
    before = window.project.counts()["enterprises"]
    shown_before = len(window.workspace.layer("enterprises").gdf)
    path = _sheet(window, tmp_path / "向导.xlsx")
    window.action("action_import_data").trigger()
    wiz = window.dialogs["import_wizard"]
    assert isinstance(wiz, ImportWizard)
    fp = wiz.file_page
    fp.path_edit.setText(str(path))
    fp.layer_combo.setCurrentIndex(fp.layer_combo.findData("enterprises"))
    wiz.grab().save(f"{SHOTS}/ui_import_file.png")
    wiz.next()  # reads the file in the background, then moves on
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.mapping_page, timeout=30000)
    combos = wiz.mapping_page.combos
    assert combos["name"].currentData() == "企业名称"
    assert combos["level"].currentData() == "风险等级"
    assert combos["@x"].currentData() == "经度" and combos["@y"].currentData() == "纬度"
    wiz.grab().save(f"{SHOTS}/ui_import_mapping.png")
    wiz.next()
    assert wiz.currentPage() is wiz.crs_page
    assert wiz.crs_page.crs() is None  # detect
    wiz.grab().save(f"{SHOTS}/ui_import_crs.png")
    wiz.next()
    assert wiz.currentPage() is wiz.preview_page
    qtbot.waitUntil(lambda: wiz.plan is not None and wiz.preview_page.view.model() is not None, timeout=30000)
    model = wiz.preview_page.view.model()
    assert model.rowCount() == 4
    assert [model.data(model.index(r, 1)) for r in range(4)] == ["可导入", "错误", "已修复", "可导入"]
    assert "可导入 3 行，有错误 1 行" in wiz.preview_page.summary.text()
    col = {t: i for i, t in enumerate(model.titles)}
    assert model.data(model.index(0, col["企业名称"])) == "向导甲公司"
    assert model.data(model.index(0, col["行业"])) == "加油站"  # shown by name, stored as gas_station
    assert model.data(model.index(0, col["风险等级"])) == "重大风险"
    assert model.data(model.index(1, col["风险等级"])) == ""  # 紫色 is no level
    # 在主窗口地图上显示: the main canvas zooms to the rows and flashes them
    wiz.preview_page.show_button.click()
    assert len(window.canvas.flash_geoms) == 4
    wiz.grab().save(f"{SHOTS}/ui_import_preview.png")
    arr = _image_array(wiz.preview_page.map.grab().toImage())
    assert _count(arr, "#D32F2F") > 5 and _count(arr, "#F57C00") > 5 and _count(arr, "#202020", 20) > 5
    wiz.next()
    assert wiz.currentPage() is wiz.report_page
    rt = wiz.report_page.table
    rows = [[rt.item(r, c).text() for c in range(5)] for r in range(rt.rowCount())]
    assert ["4", "level（风险等级）", "紫色", "错误"] in [r[:4] for r in rows]
    assert any(r[0] == "5" and r[3] == "已修复" for r in rows)
    finish = wiz.button(wiz.WizardButton.FinishButton)
    assert finish.text() == "导入" and not finish.isEnabled()  # errors and no "skip"
    wiz.report_page.skip_box.setChecked(True)
    assert finish.isEnabled()
    wiz.grab().save(f"{SHOTS}/ui_import_report.png")
    finish.click()
    qtbot.waitUntil(lambda: wiz.result is not None, timeout=30000)
    assert len(wiz.result.ids) == 3
    assert window.project.counts()["enterprises"] == before + 3
    qtbot.waitUntil(lambda: len(window.workspace.layer("enterprises").gdf) == shown_before + 3, timeout=10000)
    names = set(window.workspace.layer("enterprises").gdf["name"])
    assert {"向导甲公司", "向导丙公司", "向导丁公司"} <= names and "向导乙公司" not in names
    window.grab().save(f"{SHOTS}/ui_import_after.png")


def test_wizard_refuses_a_broken_file_without_writing(window, qtbot, tmp_path, monkeypatch):
    import hashlib

    shown = []
    monkeypatch.setattr("riskmap.ui.tasks.show_error", lambda parent, exc: shown.append(str(exc)))
    bad = tmp_path / "坏.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geom', encoding="utf-8")
    target = window.project.target
    digest = hashlib.sha256(open(target, "rb").read()).hexdigest()
    window.action("action_import_data").trigger()
    wiz = window.dialogs["import_wizard"]
    wiz.file_page.path_edit.setText(str(bad))
    wiz.next()
    qtbot.waitUntil(lambda: bool(shown), timeout=30000)
    assert "不完整或已损坏" in shown[0] and "坏.geojson" in shown[0]
    assert wiz.currentPage() is wiz.file_page
    assert hashlib.sha256(open(target, "rb").read()).hexdigest() == digest
