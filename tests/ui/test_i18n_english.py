"""The desktop in English: after switching the main window to English, its menus, toolbars, docks, the
planning tools, the import wizard and the print and export dialogs show no Chinese characters in their
titles, labels, buttons, choices and tips. Data values (the project's place, enterprise and zone names, file
names) may stay Chinese: they are removed from a text before it is checked."""

from __future__ import annotations

import re

import pytest

from riskmap.ui.i18n import LANGUAGES
from tests.ui.conftest import SHOTS, wait_render

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
TAG = re.compile(r"<[^>]+>")
EXACT = "\x00"  # marks a data value that only a whole text may equal
DATA_COLUMNS = ("name", "town", "village", "county", "park", "unit", "address")


def data_values(window) -> list[str]:
    """Chinese strings that are data, longest first: names in the project's layers (taken out of any text),
    every other text value of the layers (a whole text equal to one is data: the value lists of the attribute
    table's filters), the project's title and plan indicators."""
    out = set()
    for layer in window.workspace.layers:
        gdf = layer.gdf
        for col in gdf.columns:
            if col == gdf.geometry.name or gdf[col].dtype.kind in "biufcmM":
                continue
            values = [v for v in map(str, gdf[col].dropna().unique()) if CJK.search(v)]
            out.update(values if col in DATA_COLUMNS else (EXACT + v for v in values))
    p = window.project
    if p is not None:
        for attr in ("name", "title", "place"):
            v = getattr(p, attr, None)
            if isinstance(v, str) and CJK.search(v):
                out.add(v)
        # the plan indicators are the county plan's own wording, with progress notes made by riskmap.indicators
        from riskmap.indicators import project_progress

        for prog in project_progress(p):
            out.update(t for t in (prog.name, prog.explanation, prog.target_text) if t)
    out.update(LANGUAGES.values())  # the language menu names each language in its own language
    return sorted(out, key=len, reverse=True)


def action_texts(action, where: str) -> list[tuple[str, str]]:
    out = [(where, action.text()), (where + " tip", action.toolTip()), (where + " status", action.statusTip())]
    menu = action.menu()
    if menu is not None:
        out += menu_texts(menu, where + " › " + action.text())
    return out


def menu_texts(menu, where: str) -> list[tuple[str, str]]:
    menu.aboutToShow.emit()  # menus filled on demand (recent files, start editing)
    out = [(where, menu.title())]
    for a in menu.actions():
        out += action_texts(a, where)
    return out


def widget_texts(root) -> list[tuple[str, str]]:
    """(where, text) for every visible text of ``root`` and its children: window and dock titles, labels,
    buttons, group boxes, tabs, choices of combo boxes, list items, header labels, placeholders, spin box
    affixes, wizard page titles, tool tips, the actions of menus and tool bars. Not checked: what a user
    typed (line edit text) and the contents of tables, trees and text browsers (data)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import (
        QAbstractButton, QAbstractSpinBox, QComboBox, QDateTimeEdit, QDockWidget, QGroupBox,
        QLabel, QLineEdit, QListWidget, QMenu, QMenuBar, QSpinBox, QTabBar, QTableView, QTextEdit, QToolBar, QTreeView, QWidget,
        QWizard, QWizardPage,
    )

    out: list[tuple[str, str]] = []
    widgets = [root, *root.findChildren(QWidget)]
    for w in widgets:
        name = f"{type(w).__name__}#{w.objectName()}"
        if w.isWindow() or isinstance(w, QDockWidget):
            out.append((name + " title", w.windowTitle()))
        out.append((name + " tip", w.toolTip()))
        if isinstance(w, QLabel):
            out.append((name, TAG.sub("", w.text())))
        elif isinstance(w, QAbstractButton):
            out.append((name, w.text()))
        elif isinstance(w, QGroupBox):
            out.append((name, w.title()))
        elif isinstance(w, QTabBar):
            out += [(name, w.tabText(i)) for i in range(w.count())]
        elif isinstance(w, QComboBox):
            out += [(name, w.itemText(i)) for i in range(w.count())]
            if w.isEditable():
                out.append((name + " placeholder", w.lineEdit().placeholderText()))
        elif isinstance(w, QLineEdit):
            out.append((name + " placeholder", w.placeholderText()))
        elif isinstance(w, QTextEdit):
            out.append((name + " placeholder", w.placeholderText()))
        elif isinstance(w, QDateTimeEdit):
            out.append((name, w.text()))
        elif isinstance(w, QSpinBox):
            out += [(name, w.prefix()), (name, w.suffix()), (name, w.specialValueText())]
        elif isinstance(w, QAbstractSpinBox):
            out.append((name, w.specialValueText()))
        elif isinstance(w, QMenuBar):
            out += [t for a in w.actions() for t in action_texts(a, "menu")]
        elif isinstance(w, QToolBar):
            out.append((name + " title", w.windowTitle()))
            out += [t for a in w.actions() for t in action_texts(a, name)]
        elif isinstance(w, QMenu):
            out += menu_texts(w, name)
        elif isinstance(w, QWizard):
            for pid in w.pageIds():
                page = w.page(pid)
                out += [(f"page {pid}", page.title()), (f"page {pid}", page.subTitle())]
            for b in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                      QWizard.WizardButton.FinishButton, QWizard.WizardButton.CancelButton):
                out.append(("wizard button", w.buttonText(b)))
        elif isinstance(w, QWizardPage):
            out += [(name, w.title()), (name, w.subTitle())]
        if isinstance(w, QListWidget):
            out += [(name, w.item(i).text()) for i in range(w.count())]
        header = w.horizontalHeader() if isinstance(w, QTableView) else w.header() \
            if isinstance(w, QTreeView) else None
        if header is not None and header.model() is not None:
            m = header.model()
            out += [(name + " header", str(m.headerData(i, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
                                           or "")) for i in range(header.count())]
    return out


def chinese_left(texts, data: list[str]) -> list[tuple[str, str]]:
    """The (where, text) whose text still has Chinese characters once the data values are taken out."""
    exact = {v[len(EXACT):] for v in data if v.startswith(EXACT)}
    data = [v for v in data if not v.startswith(EXACT)]
    bad = []
    for where, text in texts:
        rest = text or ""
        if rest in exact:
            continue
        for v in data:
            if v in rest:
                rest = rest.replace(v, "")
        if CJK.search(rest):
            bad.append((where, text))
    return sorted(set(bad))


@pytest.fixture
def en_window(window, qtbot):
    new = window.set_language("en")
    qtbot.addWidget(new)
    new.resize(1600, 1000)
    qtbot.waitUntil(lambda: new.project is not None and not new.loading, timeout=30000)
    wait_render(qtbot, new.canvas)
    yield new
    import shiboken6

    if shiboken6.isValid(new):
        new.close()


def test_main_window_menus_toolbars_and_docks_are_english(en_window):
    w = en_window
    titles = [a.text() for a in w.menuBar().actions()]
    assert titles[:4] == ["File", "View", "Map", "Layers"] and "Analysis" in titles and "Edit" in titles
    assert w.docks["planning"].windowTitle() == "Planning analysis"
    bad = chinese_left(widget_texts(w), data_values(w))
    assert not bad, "\n".join(f"{w}: {t!r}" for w, t in bad)
    w.grab().save(f"{SHOTS}/en_main.png")


def _shown(texts) -> set[str]:
    return {t for _, t in texts}


def test_main_window_collects_the_english_it_shows(en_window):
    """The walk over the window sees docks, tabs, tool bars and the planning tools (so a pass means something)."""
    shown = _shown(widget_texts(en_window))
    assert {"Layers", "Legend", "Identify", "Dashboard", "Risk zoning", "Planning analysis", "What's here",
            "Site check (point)", "Measure distance", "Start editing", "Print layout…", "Import data…",
            "Export data…", "Search radius", "Zoning unit", "Enterprise risk levels"} <= shown, shown
    assert any(t.startswith("Towns") or t == "Towns" for t in shown)  # layer names come from the catalogue


def test_planning_tools_speak_english(en_window, qtbot):
    from riskmap.ui.planning import ContourImportDialog

    w = en_window
    pl = w.extension("planning")
    data = data_values(w)
    dlg = ContourImportDialog([(1, "某化工企业")], w)
    qtbot.addWidget(dlg)
    assert dlg.windowTitle() == "Import individual-risk contours"
    bad = chinese_left(widget_texts(dlg), data + ["某化工企业"])
    assert not bad, bad
    # the planning check: its title and headings in English, data (names, documents) as they are
    pl.act_check.trigger()
    qtbot.waitUntil(lambda: pl.panel.kind == "check", timeout=30000)
    n = len(pl.last_report.encroachments)
    assert pl.panel.title.text().startswith(f"Planning check: {n} encroachments")
    headings = re.findall(r"<h[23]>(.*?)</h[23]>", pl.panel.page)
    assert headings[1] == f"1. Protected targets encroached on (GB 36894): {n}"
    assert "Demo data" not in headings[0] and "示例数据" in headings[0]  # the demo mark stays Chinese
    assert not [h for h in headings[1:] if CJK.search(h)], headings
    assert " is inside " in pl.panel.page and "m from its boundary" in pl.panel.page
    bad = chinese_left(widget_texts(pl.panel), data)
    assert not bad, bad
    # editing: the attribute form labels fields and choices in English and asks in English
    pl.controller.ask_unsaved = lambda: "discard"
    pl.start_editing("control_lines")
    fid = int(w.workspace.layer("control_lines").gdf["id"].iloc[0])
    form = pl.controller.edit_attributes(fid)
    qtbot.addWidget(form)
    texts = widget_texts(form)
    assert {"Name *", "Draft (draft)", "Approved (approved)"} <= _shown(texts), _shown(texts)
    bad = chinese_left(texts, data)
    assert not bad, bad
    form.set_value("name", "")
    form.accept()
    assert form.message.text() == "Please fill in: Name"
    form.reject()
    pl.controller.stop()


def test_import_wizard_speaks_english(en_window, qtbot, tmp_path):
    import openpyxl
    import shapely

    w = en_window
    towns = w.project.read_table("zones", where="kind = 'town'")
    pts = [shapely.point_on_surface(g) for g in towns.geometry.iloc[:2]]
    wb = openpyxl.Workbook()
    ws = wb.active
    headers = ["企业名称", "行业类别", "风险等级", "所属乡镇", "经度", "纬度"]
    ws.append(headers)
    ws.append(["英文界面甲公司", "加油站", "重大", towns["name"].iat[0], round(pts[0].x, 6), round(pts[0].y, 6)])
    ws.append(["英文界面乙公司", "冶金", "紫色", towns["name"].iat[1], round(pts[1].x, 6), round(pts[1].y, 6)])
    path = tmp_path / "english_ui.xlsx"
    wb.save(path)
    data = data_values(w) + headers + ["英文界面甲公司", "英文界面乙公司", "Sheet"]

    w.action("action_import_data").trigger()
    wiz = w.dialogs["import_wizard"]
    qtbot.addWidget(wiz)
    assert wiz.windowTitle() == "Import data"
    fp = wiz.file_page
    layers = [fp.layer_combo.itemText(i) for i in range(fp.layer_combo.count())]
    assert "Enterprises" in layers
    bad = chinese_left(widget_texts(wiz), data)
    assert not bad, bad
    fp.path_edit.setText(str(path))
    fp.layer_combo.setCurrentIndex(fp.layer_combo.findData("enterprises"))
    wiz.grab().save(f"{SHOTS}/en_import_file.png")
    wiz.next()
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.mapping_page, timeout=30000)
    table = wiz.mapping_page.table
    fields = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert "Longitude / X" in fields and any(f.startswith("Name") for f in fields), fields
    bad = chinese_left(widget_texts(wiz) + [("mapping field", f) for f in fields], data)
    assert not bad, bad
    wiz.next()
    assert wiz.currentPage() is wiz.crs_page
    bad = chinese_left(widget_texts(wiz), data)
    assert not bad, bad
    wiz.next()
    qtbot.waitUntil(lambda: wiz.plan is not None and wiz.preview_page.view.model() is not None, timeout=30000)
    model = wiz.preview_page.view.model()
    assert [model.data(model.index(r, 1)) for r in range(2)] == ["Importable", "Error"]
    col = {t: i for i, t in enumerate(model.titles)}
    assert model.data(model.index(0, col["Risk level"])) == "Major risk"
    assert wiz.preview_page.summary.text().startswith("2 rows: 1 importable, 1 with errors")
    bad = chinese_left(widget_texts(wiz), data)
    assert not bad, bad
    wiz.grab().save(f"{SHOTS}/en_import_preview.png")
    wiz.next()
    assert wiz.currentPage() is wiz.report_page
    rt = wiz.report_page.table
    severities = {rt.item(r, 3).text() for r in range(rt.rowCount())}
    reasons = " | ".join(rt.item(r, 4).text() for r in range(rt.rowCount()))
    assert "Error" in severities <= {"Error", "Repaired", "Warning", "Explanation"}, severities
    assert "unrecognised risk level" in reasons, reasons  # the core's English (it quotes the Chinese spellings)
    bad = chinese_left(widget_texts(wiz), data)
    assert not bad, bad
    wiz.reject()


def test_print_and_export_dialogs_speak_english(en_window, qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QPainter

    w = en_window
    data = data_values(w)
    w.action("action_print").trigger()
    dlg = w.dialogs["print_dialog"]
    qtbot.addWidget(dlg)
    qtbot.waitUntil(dlg.preview_ready, timeout=30000)
    assert dlg.windowTitle() == "Print layout"
    templates = [dlg.template_combo.itemText(i) for i in range(dlg.template_combo.count())]
    assert "Standard four-colour map" in templates
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", dlg.date_edit.text())
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", dlg.texts().date)  # the printed sheet stays Chinese
    bad = chinese_left(widget_texts(dlg), data)
    assert not bad, bad
    # a picture of the English window with the print dialog open over it (scaled to fit inside)
    shot = w.grab().toImage()
    d = dlg.grab()
    d = d.scaled(int(shot.width() * 0.8), int(shot.height() * 0.8), Qt.AspectRatioMode.KeepAspectRatio,
                 Qt.TransformationMode.SmoothTransformation)
    painter = QPainter(shot)
    painter.drawPixmap(QPoint((shot.width() - d.width()) // 2, (shot.height() - d.height()) // 2), d)
    painter.end()
    shot.save(f"{SHOTS}/en_main_print.png")
    dlg.reject()

    w.action("action_export_data").trigger()
    ex = w.dialogs["export_dialog"]
    qtbot.addWidget(ex)
    assert ex.windowTitle() == "Export data"
    items = [ex.layer_list.item(i).text() for i in range(ex.layer_list.count())]
    n = len(w.workspace.layer("enterprises").gdf)
    assert f"Enterprises ({n})" in items, items
    formats = [ex.format_combo.itemText(i) for i in range(ex.format_combo.count())]
    assert "GeoPackage (with QGIS styles)" in formats and "Offline web map" in formats
    bad = chinese_left(widget_texts(ex), data)
    assert not bad, bad
    ex.grab().save(f"{SHOTS}/en_export_dialog.png")
    ex.reject()


def test_settings_filter_and_table_speak_english(en_window, qtbot, prefs):
    from riskmap.ui.filter_dialog import FilterDialog
    from riskmap.ui.settings_dialog import SettingsDialog

    w = en_window
    data = data_values(w)
    dlg = SettingsDialog(prefs, w)
    qtbot.addWidget(dlg)
    bad = chinese_left(widget_texts(dlg), data)
    assert not bad, bad
    flt = FilterDialog(w.workspace.layer("enterprises"), w)
    qtbot.addWidget(flt)
    assert flt.windowTitle() == "Filter layer: Enterprises"
    bad = chinese_left(widget_texts(flt), data)
    assert not bad, bad
    w.open_table("enterprises")
    dock = w.tables["enterprises"]
    assert dock.windowTitle() == "Attribute table: Enterprises"
    bad = chinese_left(widget_texts(dock), data)
    assert not bad, bad
