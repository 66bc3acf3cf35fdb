"""The planners' half of the window: an 编辑 menu and toolbar for drawing and editing features, and in 分析
the planning checks (GB 36894 encroachment, GB 32167 high-consequence segments, lifeline crossings), control
lines from safety distances, risk-contour import, lifeline grading, site check (选址), “一点即现” and measuring.

Installed by the main window (``install(window)``); results appear in the 规划分析 dock, which saves them as
HTML, PDF or (the check) XLSX. The work itself is done by ``riskmap.analysis``.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QKeySequence, QTextDocument
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMenu,
    QPushButton, QSpinBox, QTextBrowser, QVBoxLayout, QWidget,
)

from riskmap.errors import RiskmapError
from riskmap.marks import DEMO_MARK
from riskmap.export.check_xlsx import write_check_xlsx
from riskmap.ui.errors import show_error
from riskmap.ui.forms import path_row
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.tools.capture import svg_icon
from riskmap.ui.tools.editing import EDITABLE_LAYERS, DrawTool, EditController, SplitTool, VertexTool
from riskmap.ui.tools.measure import MeasureTool
from riskmap.ui.tools.query import NearbyTool, SiteCheckTool


_ICON = ('<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" '
         'stroke="#37474F" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">{}</svg>')
ICONS = {
    "draw": '<path d="M4 18l5-12 8 4-3 9z" fill="#FFCDD2" stroke="#C62828"/><circle cx="4" cy="18" r="1.6" fill="#fff"/>'
            '<circle cx="9" cy="6" r="1.6" fill="#fff"/><circle cx="17" cy="10" r="1.6" fill="#fff"/>',
    "hole": '<rect x="3" y="4" width="18" height="16" fill="#FFCDD2" stroke="#C62828"/>'
            '<rect x="9" y="9" width="6" height="6" fill="#fff"/>',
    "vertex": '<path d="M5 17L10 6l9 6" /><rect x="3" y="15" width="4" height="4" fill="#fff"/>'
              '<rect x="8" y="4" width="4" height="4" fill="#E53935"/><rect x="17" y="10" width="4" height="4" fill="#fff"/>',
    "split": '<rect x="3" y="5" width="18" height="14" fill="#E1F5FE"/><path d="M14 2l-4 20" stroke="#6A1B9A" '
             'stroke-dasharray="2 2"/>',
    "merge": '<rect x="3" y="6" width="9" height="12" fill="#E1F5FE"/><rect x="12" y="6" width="9" height="12" '
             'fill="#E1F5FE"/><path d="M9 12h6M13 10l2 2-2 2" stroke="#2E7D32"/>',
    "save": '<path d="M5 4h11l3 3v13H5z" fill="#E3F2FD"/><path d="M8 4v5h7V4M8 20v-6h8v6"/>',
    "measure": '<path d="M3 17l14-14 4 4-14 14z" fill="#FFF9C4"/><path d="M7 13l2 2M10 10l2 2M13 7l2 2"/>',
    "area": '<path d="M4 19l3-14 13 3-4 11z" fill="#B2EBF2" stroke="#00838F"/>',
    "site": '<path d="M12 21s-6-6.5-6-11a6 6 0 0 1 12 0c0 4.5-6 11-6 11z" fill="#C8E6C9" stroke="#2E7D32"/>'
            '<circle cx="12" cy="10" r="2.2" fill="#fff"/>',
    "site_area": '<path d="M4 18l4-13 12 4-5 10z" fill="#C8E6C9" stroke="#2E7D32" stroke-dasharray="3 2"/>',
    "nearby": '<circle cx="12" cy="12" r="8" fill="#FFE0B2" stroke="#EF6C00"/><circle cx="12" cy="12" r="2" '
              'fill="#EF6C00"/>',
    "check": '<path d="M4 4h16v16H4z" fill="#FFEBEE"/><path d="M7 12l3 3 7-7" stroke="#C62828"/>',
}


def icon_for(name: str):
    return svg_icon(_ICON.format(ICONS[name]))


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def html_page(title: str, body: str, demo: bool) -> str:
    mark = ""
    if demo:  # the Chinese mark stays in every language (demo exports carry 示例数据)
        mark = tr("{mark}：本页内容为虚构演示数据。").format(mark=DEMO_MARK)
        mark = f"<p style='color:#C00000;font-weight:bold'>{_e(mark)}</p>"
    suffix = tr("（{mark}）").format(mark=DEMO_MARK) if demo and DEMO_MARK not in title else ""
    return (f"<html><head><meta charset='utf-8'><title>{_e(title)}</title></head><body>"
            f"<h2>{_e(title + suffix)}</h2>{mark}{body}</body></html>")


def html_table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>" + _e(tr("无")) + "</p>"
    head = "".join(f"<th style='background:#E6E6E6;padding:2px 6px'>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td style='padding:2px 6px'>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table border='1' cellspacing='0' cellpadding='2' width='100%'><tr>{head}</tr>{body}</table>"


def link(layer: str, fid, text) -> str:
    return f"<a href='feature:{layer}:{int(fid)}'>{_e(text)}</a>"


def check_html(report) -> str:
    """The planning check as HTML (numbered items, links to the features) in the UI language, from the rows
    and counts the text and XLSX forms use (riskmap.analysis.check)."""
    from riskmap.analysis.check import crossing_rows, encroachment_rows, hca_rows
    from riskmap.analysis.measure import format_distance
    from riskmap.fields import level_title, word

    lang = current_language()

    def level_name(level) -> str:
        try:
            return level_title(int(level), lang)
        except (TypeError, ValueError):
            return tr("未定级")

    def items(rows: list[str]) -> str:
        return "<ol>" + "".join(f"<li style='margin-bottom:4px'>{r}</li>" for r in rows) + "</ol>" if rows else \
            "<p>" + _e(tr("无")) + "</p>"

    sm = report.summary()
    rows = []
    for r in encroachment_rows(report.encroachments):
        people = "" if r["people"] is None else tr("，{n} 人").format(n=r["people"])
        cls = (word("protected_targets", "gb36894_class", r["target_class"], lang)
               + (tr("（按类型/人数推定）") if r["class_derived"] else "")) if lang == "en" else r["class_zh"]
        obj = link(r["object_layer"], r["object_id"], r["object_name"])
        target = link("protected_targets", r["target_id"], r["target_name"])
        text = (tr("{target}（{cls}{people}）").format(target=target, cls=_e(cls), people=_e(people))
                + _e(tr("位于")) + obj + _e(tr("内，距边界 {d:.1f} m").format(d=r["depth_m"])))
        if r["object_type"] == "contour":
            status = {"new": tr("新建"), "in_service": tr("在役")}.get(r["installation_status"], "")
            text += _e(tr("；{s}装置风险基准 {t}/年").format(s=status, t=r["threshold_text"]))
        if r["source_doc"]:
            text += "<br><span style='color:#555'>" + _e(tr("依据：")) + _e(r["source_doc"]) + "</span>"
        rows.append(text)
    body = "<h3>" + _e(tr("一、防护目标侵占（GB 36894）：{n}").format(n=sm["encroachments"])) + "</h3>" + items(rows)
    rows = []
    for r in hca_rows(report.high_consequence):
        pir = "" if r["pir_m"] is None else tr("潜在影响半径 {p:.1f} m，").format(p=r["pir_m"])
        rows.append(link("lifelines", r["segment_id"], r["segment_name"]) + _e(
            tr("（Φ{d:g} mm，{p:g} MPa，{pir}准则 {rule}，识别半径 {rad:.1f} m）：").format(
                d=r["diameter_mm"], p=r["pressure_mpa"], pir=pir, rule=r["rule"], rad=r["radius_m"]))
            + link("protected_targets", r["target_id"], r["target_name"]) + _e(" " + format_distance(r["distance_m"])))
    body += "<h3>" + _e(tr("二、输气管道高后果区（GB 32167）：{n}").format(n=sm["hca_segments"])) + "</h3>" + items(rows)
    rows = []
    for r in crossing_rows(report.crossings):
        what = tr("安全控制线") if r["object_type"] == "control_line" else level_name(r["object_level"])
        rows.append(link("lifelines", r["segment_id"], r["segment_name"] or r["segment_id"]) + _e(tr(" 穿越 "))
                    + link(r["object_layer"], r["object_id"], r["object_name"]) + _e(tr("（{what}）{length}").format(
                        what=what, length=format_distance(r["length_m"]))))
    body += "<h3>" + _e(tr("三、生命线穿越红橙风险区及安全控制线：{n}").format(n=sm["crossings"])) + "</h3>" + items(rows)
    return html_page(tr("规划检查：{project}").format(project=report.project_name), body, report.demo)


def text_html(title: str, text: str, demo: bool) -> str:
    body = "".join(f"<p style='margin:1px'>{_e(line).replace('  ', '&nbsp;&nbsp;')}</p>" for line in text.split("\n"))
    return html_page(title, body, demo)


class PlanningPanel(QWidget):
    """Results of the planning tools, with save/print/export buttons and the query radius."""

    featureRequested = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel(tr("使用“分析”菜单中的规划工具，结果显示在这里"))
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight:bold")
        self.radius = QSpinBox()
        self.radius.setRange(10, 50_000)
        self.radius.setSingleStep(100)
        self.radius.setValue(1000)
        self.radius.setSuffix(" m")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._anchor)
        self.btn_html = QPushButton(tr("保存 HTML…"))
        self.btn_pdf = QPushButton(tr("导出 PDF…"))
        self.btn_xlsx = QPushButton(tr("导出 Excel…"))
        for b in (self.btn_html, self.btn_pdf, self.btn_xlsx):
            b.setEnabled(False)
        self.btn_html.clicked.connect(lambda: self.save_html())
        self.btn_pdf.clicked.connect(lambda: self.save_pdf())
        self.btn_xlsx.clicked.connect(lambda: self.save_xlsx())
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("查询半径")))
        top.addWidget(self.radius)
        top.addStretch(1)
        buttons = QHBoxLayout()
        for b in (self.btn_html, self.btn_pdf, self.btn_xlsx):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.title)
        lay.addWidget(self.browser, 1)
        lay.addLayout(buttons)
        self.page = ""
        self.xlsx_writer = None
        self.kind = ""

    def show_result(self, kind: str, title: str, page: str, xlsx_writer=None) -> None:
        self.kind = kind
        self.title.setText(title)
        self.page = page
        self.browser.setHtml(page)
        self.xlsx_writer = xlsx_writer
        self.btn_html.setEnabled(True)
        self.btn_pdf.setEnabled(True)
        self.btn_xlsx.setEnabled(xlsx_writer is not None)

    def _anchor(self, url: QUrl) -> None:
        parts = url.toString().split(":")
        if len(parts) == 3 and parts[0] == "feature":
            self.featureRequested.emit(parts[1], int(parts[2]))

    def _ask(self, caption: str, filt: str, suffix: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, caption, str(Path.home() / f"{self.kind or 'result'}{suffix}"), filt)
        return path

    def save_html(self, path: str | None = None) -> str | None:
        path = path or self._ask(tr("保存 HTML"), tr("网页 (*.html)"), ".html")
        if not path:
            return None
        try:
            Path(path).write_text(self.page, encoding="utf-8")
        except OSError as exc:
            show_error(self, RiskmapError(f"无法写入: {path} ({exc.strerror})", f"cannot write {path}"))
            return None
        return path

    def save_pdf(self, path: str | None = None) -> str | None:
        """Print the result to an A4 PDF (the bundled CJK font is embedded)."""
        from PySide6.QtPrintSupport import QPrinter

        path = path or self._ask(tr("导出 PDF"), tr("PDF 文件 (*.pdf)"), ".pdf")
        if not path:
            return None
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(path)
        doc = QTextDocument()
        doc.setDefaultFont(self.browser.font())
        doc.setHtml(self.page)
        doc.print_(printer)
        return path

    def save_xlsx(self, path: str | None = None) -> str | None:
        if self.xlsx_writer is None:
            return None
        path = path or self._ask(tr("导出 Excel"), tr("Excel 工作簿 (*.xlsx)"), ".xlsx")
        if not path:
            return None
        try:
            self.xlsx_writer(path)
        except RiskmapError as exc:
            show_error(self, exc)
            return None
        return path


class ContourImportDialog(QDialog):
    """File, risk value source, installation status, enterprise, facility and source document."""

    def __init__(self, enterprises: list[tuple[int, str]], parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("导入个人风险等值线"))
        self.path, row = path_row(self._browse)
        self.risk_field = QLineEdit()
        self.risk_field.setPlaceholderText(tr("如 IR；DXF 文件留空则用图层名"))
        self.risk = QLineEdit()
        self.risk.setPlaceholderText(tr("全部等值线同一风险值，如 3e-7"))
        self.value_map = QLineEdit()
        self.value_map.setPlaceholderText(tr("名称=风险值，如 IR7=3e-7, IR6=3e-6"))
        self.status = QComboBox()
        self.status.addItem(tr("在役装置"), "in_service")
        self.status.addItem(tr("新建装置"), "new")
        self.enterprise = QComboBox()
        self.enterprise.addItem(tr("（不指定）"), None)
        for eid, name in enterprises:
            self.enterprise.addItem(name, eid)
        self.facility = QLineEdit()
        self.source = QLineEdit()
        self.source.setPlaceholderText(tr("如《某公司安全评价报告》"))
        form = QFormLayout()
        form.addRow(tr("文件（GPKG/SHP/DXF）"), row)
        form.addRow(tr("风险值字段"), self.risk_field)
        form.addRow(tr("或统一风险值"), self.risk)
        form.addRow(tr("名称对应"), self.value_map)
        form.addRow(tr("装置状态"), self.status)
        form.addRow(tr("所属企业"), self.enterprise)
        form.addRow(tr("装置/设施"), self.facility)
        form.addRow(tr("来源文件"), self.source)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择等值线文件"), str(Path.home()),
                                              tr("等值线 (*.gpkg *.shp *.dxf *.geojson)"))
        if path:
            self.path.setText(path)

    def options(self) -> dict:
        from riskmap.analysis.contours import parse_value_map

        return {"path": self.path.text().strip(), "risk_field": self.risk_field.text().strip() or None,
                "risk": self.risk.text().strip() or None,
                "value_map": parse_value_map(self.value_map.text()) if self.value_map.text().strip() else None,
                "status": self.status.currentData(), "enterprise_id": self.enterprise.currentData(),
                "facility": self.facility.text().strip() or None, "source_doc": self.source.text().strip() or None}


class Planning(QObject):
    """The planning tools of one main window."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.workspace = window.workspace
        self.controller = EditController(window)
        self.panel = PlanningPanel()
        self.panel.featureRequested.connect(self._go_to)
        self.dock = window.add_dock(self.panel, tr("规划分析"), Qt.DockWidgetArea.RightDockWidgetArea, "planning",
                                    tabify_with="identify")
        self.data = None  # riskmap.analysis.proximity.ProjectData of the open project
        c = self.controller
        self.draw_tool = DrawTool(c)
        self.hole_tool = DrawTool(c, hole=True)
        self.vertex_tool = VertexTool(c)
        self.split_tool = SplitTool(c)
        self.measure_line = MeasureTool(self.canvas, c.snapper, "line")
        self.measure_area = MeasureTool(self.canvas, c.snapper, "polygon")
        self.site_point = SiteCheckTool(self.canvas, c.snapper, "point")
        self.site_area = SiteCheckTool(self.canvas, c.snapper, "polygon")
        self.nearby_tool = NearbyTool(self.canvas, radius_m=self.panel.radius.value())
        for t in (self.measure_line, self.measure_area):
            t.measured.connect(lambda text: window.show_message(text, 20000))
        self.site_point.picked.connect(self.run_site_check)
        self.site_area.picked.connect(self.run_site_check)
        self.nearby_tool.picked.connect(self.run_nearby)
        self.panel.radius.valueChanged.connect(lambda v: setattr(self.nearby_tool, "radius_m", float(v)))
        self.workspace.layersReset.connect(self._project_changed)
        c.edited.connect(lambda *_: self._forget_data())
        c.editingChanged.connect(self._editing_changed)
        c.saved.connect(lambda lid, n: window.show_message(tr("已保存 {n} 处修改").format(n=n)))
        self._build_actions()
        self._editing_changed("")
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        """Closing the window with unsaved edits asks to save them first."""
        from PySide6.QtCore import QEvent

        if obj is self.window and event.type() == QEvent.Type.Close and not getattr(obj, "_handing_off", False):
            c = self.controller
            if c.current is not None and c.current.is_dirty():
                answer = c.ask_unsaved()
                if answer == "cancel" or (answer == "save" and not c.save()):
                    event.ignore()
                    return True
        return False

    # ---------------------------------------------------------------- actions
    def _tool_action(self, text, tool, icon_name, shortcut=None, tip=None) -> QAction:
        a = QAction(icon_for(icon_name), text, self.window)
        a.setCheckable(True)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(lambda: self.use_tool(tool))
        group = self.window.act_pan.actionGroup() if hasattr(self.window, "act_pan") else None
        if group is not None:
            group.addAction(a)
        return a

    def _build_actions(self) -> None:
        w, c = self.window, self.controller
        self.start_menu = QMenu(tr("开始编辑"), w)
        self.start_menu.aboutToShow.connect(self._fill_start_menu)
        self.act_save = QAction(icon_for("save"), tr("保存编辑"), w)
        self.act_save.setShortcut(QKeySequence.StandardKey.Save)
        self.act_save.triggered.connect(c.save)
        self.act_stop = QAction(tr("停止编辑"), w)
        self.act_stop.triggered.connect(lambda: c.stop())
        self.act_undo = c.group.createUndoAction(w, tr("撤销"))
        self.act_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.act_redo = c.group.createRedoAction(w, tr("重做"))
        self.act_redo.setShortcut(QKeySequence.StandardKey.Redo)
        self.act_draw = self._tool_action(tr("绘制要素"), self.draw_tool, "draw", "D",
                                          tr("单击添加节点，回车或右键结束；Backspace 删除上一个节点；Esc 取消"))
        self.act_hole = self._tool_action(tr("绘制洞"), self.hole_tool, "hole", None, tr("在面要素内画出洞的边界"))
        self.act_vertex = self._tool_action(tr("选择与编辑节点"), self.vertex_tool, "vertex", "V",
                                            tr("单击选择要素；拖动节点移动；双击边添加节点；Delete 删除选中节点"))
        self.act_split = self._tool_action(tr("分割要素"), self.split_tool, "split", None,
                                           tr("画一条穿过要素的线将其分割"))
        self.act_merge = QAction(icon_for("merge"), tr("合并选中要素"), w)
        self.act_merge.triggered.connect(self.merge_selected)
        self.act_delete = QAction(tr("删除选中要素"), w)
        self.act_delete.setShortcut(QKeySequence("Ctrl+Delete"))
        self.act_delete.triggered.connect(self.delete_selected)
        self.act_attrs = QAction(tr("编辑属性…"), w)
        self.act_attrs.triggered.connect(self.edit_selected_attributes)
        self.act_snap = QAction(tr("吸附到节点和边"), w)
        self.act_snap.setCheckable(True)
        self.act_snap.setChecked(True)
        self.act_snap.toggled.connect(lambda on: setattr(c.snapper, "enabled", on))
        self.edit_actions = [self.act_save, self.act_stop, self.act_draw, self.act_hole, self.act_vertex,
                             self.act_split, self.act_merge, self.act_delete, self.act_attrs]
        # the edit actions are managed: the controller enables them while a layer is being edited
        w.register_action("edit", self.start_menu.menuAction(), id="edit_start", permission="edit_features")
        for item in (("save", self.act_save), ("stop", self.act_stop), None, ("undo", self.act_undo),
                     ("redo", self.act_redo), None, ("draw", self.act_draw), ("hole", self.act_hole),
                     ("vertex", self.act_vertex), ("split", self.act_split), ("merge", self.act_merge),
                     ("delete", self.act_delete), ("attributes", self.act_attrs), None, ("snap", self.act_snap)):
            if item is None:
                w.menu("edit").addSeparator()
                continue
            name, a = item
            managed = a in self.edit_actions
            w.register_action("edit", a, id=f"edit_{name}", permission="edit_features" if managed else None,
                              managed=managed)

        self.act_check = QAction(icon_for("check"), tr("规划检查（侵占、高后果区、穿越）"), w)
        self.act_check.triggered.connect(self.run_check)
        self.act_lines = QAction(tr("按外部安全距离生成控制线"), w)
        self.act_lines.triggered.connect(self.make_control_lines)
        self.act_contours = QAction(tr("导入个人风险等值线…"), w)
        self.act_contours.triggered.connect(self.import_contours)
        self.act_grade = QAction(tr("生命线管段分级"), w)
        self.act_grade.triggered.connect(self.grade_lifelines)
        self.act_site = self._tool_action(tr("选址检查（点）"), self.site_point, "site")
        self.act_site_area = self._tool_action(tr("选址检查（地块）"), self.site_area, "site_area")
        self.act_nearby = self._tool_action(tr("一点即现"), self.nearby_tool, "nearby", "N",
                                            tr("单击地图，查看周边对象、人员和最近的应急资源"))
        self.act_measure = self._tool_action(tr("量算距离"), self.measure_line, "measure", "M")
        self.act_area = self._tool_action(tr("量算面积"), self.measure_area, "area")
        for item in (("check", self.act_check, None), ("control_lines", self.act_lines, "edit_features"),
                     ("contours", self.act_contours, "edit_features"), ("grade_lifelines", self.act_grade, "assess"),
                     None, ("site_point", self.act_site, None), ("site_area", self.act_site_area, None),
                     ("nearby", self.act_nearby, None), None, ("measure_distance", self.act_measure, None),
                     ("measure_area", self.act_area, None)):
            if item is None:
                w.menu("analysis").addSeparator()
                continue
            name, a, perm = item
            w.register_action("analysis", a, id=f"planning_{name}", permission=perm)

        bar = w.add_toolbar("planning", tr("规划工具"))
        for a in (self.act_draw, self.act_hole, self.act_vertex, self.act_split, self.act_merge, self.act_save, None,
                  self.act_measure, self.act_area, self.act_site, self.act_nearby, self.act_check):
            bar.addSeparator() if a is None else w.add_toolbar_action(a, "planning")
        self.toolbar = bar

    def unsaved_layers(self) -> set[str]:
        """Layers with unsaved edits (the window's EditSession question)."""
        return {lid for lid, e in self.controller.edits.items() if e.is_dirty()}

    def _fill_start_menu(self) -> None:
        self.start_menu.clear()
        for lid in EDITABLE_LAYERS:
            if not self.workspace.has_layer(lid):
                continue
            a = self.start_menu.addAction(self.workspace.layer(lid).title(self.workspace.lang))
            a.setCheckable(True)
            a.setChecked(self.controller.layer_id == lid)
            a.triggered.connect(lambda _=False, lid=lid: self.start_editing(lid))

    def start_editing(self, layer_id: str) -> None:
        try:
            self.controller.start(layer_id)
        except RiskmapError as exc:
            show_error(self.window, exc)

    def _editing_changed(self, layer_id: str) -> None:
        for a in self.edit_actions:
            a.setEnabled(bool(layer_id))
        if layer_id:
            self.window.show_message(tr("正在编辑：{name}").format(name=self.workspace.layer(layer_id).title()), 0)

    def use_tool(self, tool) -> None:
        if tool in (self.draw_tool, self.hole_tool, self.vertex_tool, self.split_tool) and \
                self.controller.current is None:
            show_error(self.window, RiskmapError("请先选择要编辑的图层（编辑 → 开始编辑）", "start editing a layer first"))
            self.window.act_pan.trigger()
            return
        self.canvas.set_map_tool(tool)

    def _selected(self) -> list[int]:
        lid = self.controller.layer_id
        return [int(i) for i in self.workspace.selected_ids(lid)] if lid else []

    def merge_selected(self) -> None:
        ids = self._selected()
        if len(ids) < 2:
            show_error(self.window, RiskmapError("请先用“选择与编辑节点”工具选择至少两个要素（Shift 多选）",
                                                 "select at least two features first"))
            return
        self.controller.merge(ids)

    def delete_selected(self) -> None:
        ids = self._selected()
        if ids:
            self.controller.delete_features(ids)

    def edit_selected_attributes(self) -> None:
        ids = self._selected()
        if not ids:
            show_error(self.window, RiskmapError("请先选择一个要素", "select a feature first"))
            return
        self.controller.edit_attributes(ids[0])

    # ---------------------------------------------------------------- analysis
    def _project(self):
        p = self.workspace.project
        if p is None:
            raise RiskmapError("请先打开项目", "open a project first")
        return p

    def _project_or_warn(self):
        """The open project, or None after telling the user to open one."""
        try:
            return self._project()
        except RiskmapError as exc:
            show_error(self.window, exc)
            return None

    def _project_changed(self) -> None:
        self.data = None

    def _forget_data(self) -> None:
        if self.data is not None:
            self.data.clear()

    def _data(self):
        from riskmap.analysis.proximity import ProjectData

        if self.data is None or self.data.project is not self.workspace.project:
            self.data = ProjectData(self._project())
        return self.data

    def _show(self, kind: str, title: str, page: str, xlsx=None) -> None:
        self.panel.show_result(kind, title, page, xlsx)
        self.dock.show()
        self.dock.raise_()

    def _go_to(self, layer: str, fid: int) -> None:
        if layer == "zones":
            for lid in ("grids", "villages", "towns", "parks", "county"):
                if self.workspace.has_layer(lid) and len(self.workspace.layer(lid).row_of([fid])):
                    layer = lid
                    break
        self.window.go_to_feature(layer, fid)

    def run_check(self) -> None:
        project = self._project_or_warn()
        if project is None:
            return
        from riskmap.analysis.check import run_check

        def work(progress, cancelled):
            return run_check(project, progress=progress, cancel=cancelled)

        self.window.run_task(tr("正在进行规划检查"), work, self.show_check)

    def show_check(self, report) -> None:
        enc, sm = report.encroachments, report.summary()
        self._show("check", tr("规划检查：侵占 {a} 处，高后果区 {b} 处，穿越 {c} 处").format(
            a=sm["encroachments"], b=sm["hca_pairs"], c=sm["crossings"]),
            check_html(report), lambda path: write_check_xlsx(report, path))
        if self.workspace.has_layer("protected_targets"):
            self.workspace.select("protected_targets", sorted(set(int(i) for i in enc["target_id"])), "replace")
        self.last_report = report

    def make_control_lines(self) -> None:
        project = self._project_or_warn()
        if project is None:
            return
        from riskmap.analysis.controlline import control_lines_from_distances

        def work(progress, cancelled):
            return control_lines_from_distances(project, progress=progress, cancel=cancelled)

        def done(plans):
            self.workspace.reload_table("control_lines")
            rows = [[link("control_lines", p.id, p.name), _e(tr("新建") if p.action == "insert" else tr("更新")),
                     _e(p.n_facilities), _e(p.source_doc)] for p in plans]
            page = html_page(tr("按外部安全距离生成的控制线"),
                             html_table([tr("控制线"), tr("操作"), tr("设施数"), tr("依据")], rows), project.is_demo)
            self._show("control_lines", tr("已生成 {n} 条草稿控制线").format(n=len(plans)), page)

        self.window.run_task(tr("正在生成安全控制线"), work, done)

    def import_contours(self, options: dict | None = None) -> None:
        project = self._project_or_warn()
        if project is None:
            return
        if options is None:
            ents = self.workspace.layer("enterprises").gdf if self.workspace.has_layer("enterprises") else None
            pairs = [] if ents is None else [(int(i), str(n)) for i, n in zip(ents["id"], ents["name"])]
            dlg = ContourImportDialog(pairs, self.window)
            if not dlg.exec():
                return
            try:
                options = dlg.options()
            except RiskmapError as exc:
                show_error(self.window, exc)
                return
        from riskmap.analysis.contours import import_contours

        opts = dict(options)
        path = opts.pop("path")

        def work(progress, cancelled):
            return import_contours(project, path, progress=progress, cancel=cancelled, **opts)

        def done(result):
            rows, report = result
            self.workspace.reload_table("risk_contours")
            self.workspace.set_visible("risk_contours", True)
            self.window.show_message(tr("已导入 {n} 条等值线").format(n=len(rows)))

        self.window.run_task(tr("正在导入等值线"), work, done)

    def grade_lifelines(self) -> None:
        project = self._project_or_warn()
        if project is None:
            return
        from riskmap.analysis.lifelines import apply_lifeline_levels

        def done(n):
            self.workspace.reload_table("lifelines")
            self.window.show_message(tr("生命线分级完成，{n} 段等级有变化").format(n=n))

        self.window.run_task(tr("正在进行生命线分级"), lambda progress, cancelled: apply_lifeline_levels(project), done)

    def run_site_check(self, geom) -> None:
        from riskmap.analysis.sitecheck import site_check

        try:
            result = site_check(self._project(), geom, float(self.panel.radius.value()), data=self._data())
        except RiskmapError as exc:
            show_error(self.window, exc)
            return
        title = tr("选址检查：位于 {n} 条控制线内").format(n=sum(c["inside"] for c in result.control_lines))
        self._show("site_check", title, text_html(tr("选址检查"), result.to_text(), result.demo))
        self.last_site = result

    def run_nearby(self, geom) -> None:
        from riskmap.analysis.nearby import nearby

        try:
            result = nearby(self._project(), geom.x, geom.y, float(self.panel.radius.value()), data=self._data())
        except RiskmapError as exc:
            show_error(self.window, exc)
            return
        self._show("nearby", result.headline(), result.to_html())
        if self.workspace.has_layer("protected_targets"):
            self.workspace.select("protected_targets", [t["id"] for t in result.protected_targets], "replace")
        self.last_nearby = result


def install(window) -> None:
    """Add the planning tools to a main window (called by the window's extension loader)."""
    window.register_extension("planning", Planning(window))
