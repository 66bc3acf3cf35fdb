"""A newer enterprise list through the import wizard (商河县, a new project): the preview and the report say what
it does to the project (新增 / 更新 with the fields / 无变化 / 新名单中没有, 未定位, 未评估, 行业按“其他”), each row is
marked, nothing is deleted unless the box is ticked and the deletion confirmed, and the status bar says what
was added, updated, unchanged and deleted."""

from __future__ import annotations

import openpyxl
import shapely
from PySide6.QtWidgets import QMessageBox

from tests.ui.conftest import SHOTS, open_window

HEADER = ["企业名称", "统一社会信用代码", "行业类别", "风险等级", "经度", "纬度"]


def _inside_points(project, n):
    """n points well inside the county (EPSG:4490), spread over it."""
    county = shapely.union_all(project.read_table("zones", where="kind = 'county'").geometry.to_numpy())
    inner = county.buffer(-0.02)
    x0, y0, x1, y1 = inner.bounds
    pts = [p for i in range(1, 20) for j in range(1, 20)
           if inner.contains(p := shapely.Point(x0 + (x1 - x0) * i / 20, y0 + (y1 - y0) * j / 20))]
    step = max(1, len(pts) // n)
    return pts[::step][:n]


def _sheet(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _open(qtbot, prefs, path):
    return open_window(qtbot, prefs, path)


def _to_report(window, qtbot, path):
    """文件 → 导入数据…, the file as enterprises, through mapping and CRS to the preview; returns the wizard on
    the preview page, validated."""
    window.action("action_import_data").trigger()
    wiz = window.dialogs["import_wizard"]
    wiz.file_page.path_edit.setText(str(path))
    wiz.file_page.layer_combo.setCurrentIndex(wiz.file_page.layer_combo.findData("enterprises"))
    wiz.next()
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.mapping_page, timeout=30000)
    wiz.next()
    wiz.next()
    assert wiz.currentPage() is wiz.preview_page
    qtbot.waitUntil(lambda: wiz.plan is not None and wiz.preview_page.view.model() is not None, timeout=30000)
    return wiz


def _commit(wiz, qtbot):
    wiz.button(wiz.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: wiz.result is not None, timeout=30000)
    return wiz.result


def _levels(project):
    df = project.read_table("enterprises", columns=["name", "level"])
    return {n: (None if lv != lv or lv is None else int(lv)) for n, lv in zip(df["name"], df["level"])}


def test_a_newer_enterprise_list_in_the_wizard(app, qtbot, prefs, tmp_path, monkeypatch):
    from riskmap.io.matching import with_check_char
    from riskmap.newproject import new_project

    path = tmp_path / "商河.gpkg"
    with new_project(path, "商河县") as project:
        pts = _inside_points(project, 5)
    xy = [(round(p.x, 6), round(p.y, 6)) for p in pts]
    codes = [with_check_char(f"91371426MA3C0000{i}") for i in range(5)]
    first = _sheet(tmp_path / "名单一.xlsx", [
        ["商河甲化工有限公司", codes[0], "化工", "较大", *xy[0]],
        ["商河乙加油站", codes[1], "加油站", "一般", *xy[1]],
        ["商河丙机械厂", codes[2], "机械", "低", *xy[2]],
        ["商河丁建材公司", codes[3], "建材", "一般", *xy[3]],
    ])
    # the next quarter: 甲 raised to 重大, 丙 gone, 戊 new (no point, no level, an industry no one knows)
    newer = _sheet(tmp_path / "名单二.xlsx", [
        ["商河甲化工有限公司", codes[0], "化工", "重大", *xy[0]],
        ["商河乙加油站", codes[1], "加油站", "一般", *xy[1]],
        ["商河丁建材公司", codes[3], "建材", "一般", *xy[3]],
        ["商河戊新开业公司", codes[4], "", "", None, None],
    ])
    w = _open(qtbot, prefs, path)
    asked = []

    def answer(reply):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return reply
        return staticmethod(question)

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))

    # the first list: every row is new, nothing is missing
    wiz = _to_report(w, qtbot, first)
    model = wiz.preview_page.view.model()
    col = {t: i for i, t in enumerate(model.titles)}
    assert [model.data(model.index(r, col["与项目比对"])) for r in range(4)] == ["新增"] * 4
    assert "新增 4 家，更新 0 家，无变化 0 家，新名单中没有 0 家；未定位 0 家，未评估 0 家" in \
        wiz.preview_page.summary.text()
    wiz.next()
    assert wiz.report_page.missing_box.isHidden()
    res = _commit(wiz, qtbot)
    assert len(res.ids) == 4 and not asked
    assert w.project.counts()["enterprises"] == 4
    assert w.statusBar().currentMessage() == "已导入“企业”：新增 4 家，更新 0 家，无变化 0 家，删除 0 家"

    # the newer list: the preview says and marks what it does
    wiz = _to_report(w, qtbot, newer)
    model = wiz.preview_page.view.model()
    col = {t: i for i, t in enumerate(model.titles)}
    change = col["与项目比对"]
    assert [model.data(model.index(r, change)) for r in range(4)] == ["更新", "无变化", "无变化", "新增"]
    assert [model.data(model.index(r, 1)) for r in range(4)] == ["可导入"] * 3 + ["警告"]  # 戊: 未定位, 行业为空
    tip = model.data(model.index(0, change), 3)  # Qt.ToolTipRole
    assert "风险等级：较大风险 → 重大风险" in tip, tip
    assert model.data(model.index(1, change), 3) is None or "风险等级" not in model.data(model.index(1, change), 3)
    colour = model.data(model.index(0, change), 9)  # Qt.ForegroundRole
    assert colour.color().name().upper() == "#1565C0"
    summary = ("新增 1 家，更新 1 家（风险等级 1 家），无变化 2 家，新名单中没有 1 家；"
               "未定位 1 家，未评估 1 家，行业按“其他” 1 家")
    assert summary in wiz.preview_page.summary.text()
    wiz.grab().save(f"{SHOTS}/ui_import_update_preview.png")

    # the report: the same line, the missing one listed on demand, the delete box unticked
    wiz.next()
    page = wiz.report_page
    assert page.compare.text() == summary
    assert not page.missing_box.isHidden()
    assert page.missing_button.text() == "查看新名单中没有的 1 家企业"
    assert page.delete_box.text() == "删除新名单中没有的 1 家企业" and not page.delete_box.isChecked()
    assert page.missing_table.isHidden()
    page.missing_button.click()
    assert not page.missing_table.isHidden()
    assert page.missing_table.rowCount() == 1 and page.missing_table.item(0, 1).text() == "商河丙机械厂"
    finish = wiz.button(wiz.WizardButton.FinishButton)
    assert finish.isEnabled()
    wiz.grab().save(f"{SHOTS}/ui_import_update_report.png")
    res = _commit(wiz, qtbot)
    assert not asked  # unticked: no question, nothing deleted
    assert len(res.ids) == 1 and list(res.updated.values()) == [["level"]] and res.unchanged == 2
    assert [n for _, n in res.missing] == ["商河丙机械厂"] and res.deleted == []
    with type(w.project).open(path) as again:  # read back from the file
        levels = _levels(again)
    assert len(levels) == 5 and "商河丙机械厂" in levels
    assert levels["商河甲化工有限公司"] == 1 and levels["商河戊新开业公司"] is None
    assert w.statusBar().currentMessage() == ("已导入“企业”：新增 1 家，更新 1 家，无变化 2 家，删除 0 家；"
                                              "新名单中没有的 1 家未删除")

    # the same list again, the box ticked: asked first; No leaves the project as it is, Yes deletes 丙
    wiz = _to_report(w, qtbot, newer)
    assert "新增 0 家，更新 0 家，无变化 4 家，新名单中没有 1 家" in wiz.preview_page.summary.text()
    wiz.next()
    wiz.report_page.delete_box.setChecked(True)
    finish = wiz.button(wiz.WizardButton.FinishButton)
    finish.click()
    assert asked and "1 家企业" in asked[-1]
    assert wiz.result is None and wiz.isVisible() and wiz.currentPage() is wiz.report_page
    assert w.project.counts()["enterprises"] == 5
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    res = _commit(wiz, qtbot)
    assert res.deleted == res.missing and [n for _, n in res.deleted] == ["商河丙机械厂"]
    with type(w.project).open(path) as again:
        levels = _levels(again)
    assert len(levels) == 4 and "商河丙机械厂" not in levels
    assert w.statusBar().currentMessage() == "已导入“企业”：新增 0 家，更新 0 家，无变化 4 家，删除 1 家"
