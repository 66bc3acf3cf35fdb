"""未定位 enterprises on the desktop: a table of them (:func:`riskmap.stats.unlocated`) and the 定位 map tool.

Pick an enterprise in the table, press 在地图上定位 (or double-click the row), click its place on the map and
confirm: :func:`riskmap.edit.locate.set_location` stores the point (EPSG:4490; it also sets the town and
re-levels the zones concerned), the map redraws, the row leaves the table and the next one is picked. A table
of coordinates keyed by 统一社会信用代码 or name locates many at once (:func:`riskmap.io.locate.locate_from_file`,
checked first, then confirmed).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from riskmap.ui.i18n import current_language, tr
from riskmap.ui.map_tools import MapTool

COLUMNS = ("name", "credit_code", "town", "address", "industry", "level")


def column_titles() -> list[str]:
    return [tr("名称"), tr("统一社会信用代码"), tr("镇街"), tr("地址"), tr("行业"), tr("风险等级")]


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA else str(value)


class LocateTool(MapTool):
    """Click the map to place the enterprise picked in the 未定位 table."""

    cursor = Qt.CursorShape.CrossCursor
    name = "locate"

    def __init__(self, canvas, panel: "UnlocatedPanel"):
        super().__init__(canvas)
        self.panel = panel
        self._hover = None

    def move(self, ev, map_pt) -> None:
        self._hover = ev.position()
        self.canvas.update()

    def leave(self) -> None:
        self._hover = None
        self.canvas.update()

    def release(self, ev, map_pt) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        self.panel.place_at_map_point(*map_pt)

    def key_press(self, ev) -> bool:
        if ev.key() == Qt.Key.Key_Escape:
            self.canvas.set_map_tool(None)
            return True
        return False

    def paint(self, painter: QPainter) -> None:
        current = self.panel.current()
        if self._hover is None or current is None:
            return
        painter.save()
        painter.setPen(QPen(QColor("#1565C0"), 1))
        p = self._hover
        painter.drawLine(QPointF(p.x() - 10, p.y()), QPointF(p.x() + 10, p.y()))
        painter.drawLine(QPointF(p.x(), p.y() - 10), QPointF(p.x(), p.y() + 10))
        painter.drawText(QPointF(p.x() + 12, p.y() - 8), current[1])
        painter.restore()


class UnlocatedPanel(QWidget):
    """The 未定位 table with 在地图上定位, 导入坐标文件… and 刷新."""

    located = Signal(int, float, float)  # enterprise id, lon, lat

    def __init__(self, window):
        super().__init__()
        self.setObjectName("unlocated")
        self.window_ = window
        self.frame = pd.DataFrame(columns=["id", *COLUMNS])
        self.task = None
        self.tool = LocateTool(window.canvas, self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("unlocated_table")
        self.table.setHorizontalHeaderLabels(column_titles())
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.start_tool())
        self.locate_button = QPushButton(tr("在地图上定位"))
        self.locate_button.setToolTip(tr("选中一家企业，再在地图上单击它的位置"))
        self.locate_button.clicked.connect(self.start_tool)
        self.file_button = QPushButton(tr("导入坐标文件…"))
        self.file_button.clicked.connect(self.choose_file)
        refresh = QPushButton(tr("刷新"))
        refresh.clicked.connect(self.refresh)
        row = QHBoxLayout()
        for b in (self.locate_button, self.file_button, refresh):
            row.addWidget(b)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.note)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        window.workspace.layersReset.connect(self.refresh)
        window.workspace.layerChanged.connect(
            lambda lid, what: lid == "enterprises" and what == "data" and self.isVisible() and self.refresh())

    # ---- the table
    def refresh(self) -> pd.DataFrame:
        """Read the unlocated enterprises again; keeps the picked one when it is still there."""
        from riskmap.stats import unlocated

        project = self.window_.project
        keep = self.current()
        self.frame = unlocated(project).reset_index(drop=True) if project is not None else self.frame.iloc[0:0]
        lang = current_language()
        self.table.setRowCount(len(self.frame))
        from riskmap.fields import level_title
        from riskmap.industries import industry_name

        for r, rec in enumerate(self.frame.itertuples(index=False)):
            level = getattr(rec, "level")
            values = [_text(rec.name), _text(rec.credit_code), _text(rec.town), _text(rec.address),
                      industry_name(rec.industry, lang) if _text(rec.industry) else "",
                      level_title(int(level), lang) if _text(level) else tr("未评估")]
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                item.setData(Qt.ItemDataRole.UserRole, int(rec.id))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        n = len(self.frame)
        self.note.setText(tr("未定位企业 {n} 家：选中一家，点“在地图上定位”后在地图上单击其位置").format(n=n) if n
                          else tr("没有未定位的企业"))
        self.locate_button.setEnabled(n > 0 and self._writable())
        self.file_button.setEnabled(project is not None and self._writable() and available()[1])
        if n:
            ids = self.frame["id"].astype(int).tolist()
            self.select(keep[0] if keep is not None and keep[0] in ids else ids[0])
        elif self.window_.canvas.map_tool is self.tool:
            self.window_.canvas.set_map_tool(None)
        return self.frame

    def _writable(self) -> bool:
        return self.window_.may("edit_features")

    def select(self, enterprise_id: int) -> None:
        ids = self.frame["id"].astype(int).tolist()
        if enterprise_id in ids:
            self.table.selectRow(ids.index(enterprise_id))

    def current(self) -> tuple[int, str] | None:
        """(id, name) of the picked enterprise, or None."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.frame):
            return None
        rec = self.frame.iloc[rows[0].row()]
        return int(rec["id"]), _text(rec["name"])

    # ---- locating by a click
    def start_tool(self) -> None:
        """Make the 定位 tool the canvas's tool (for the picked enterprise)."""
        if self.current() is None:
            self.window_.show_message(tr("请先在未定位表中选中一家企业"))
            return
        self.window_.canvas.set_map_tool(self.tool)
        self.window_.show_message(tr("在地图上单击“{name}”的位置（Esc 退出）").format(name=self.current()[1]))

    def place_at_map_point(self, x: float, y: float):
        """The click of the tool: map CRS → EPSG:4490, confirm, then store the point."""
        from riskmap.crs import transformer

        current = self.current()
        if current is None:
            return None
        lon, lat = transformer(self.window_.workspace.map_epsg, 4490).transform(x, y)
        answer = QMessageBox.question(
            self, tr("定位企业"), tr("将“{name}”定位到\n经度 {lon:.6f}°，纬度 {lat:.6f}°？").format(
                name=current[1], lon=lon, lat=lat))
        if answer != QMessageBox.StandardButton.Yes:
            return None
        return self.set_location(current[0], float(lon), float(lat))

    def set_location(self, enterprise_id: int, lon: float, lat: float):
        """Store the point in the background; the layers, the table and the panel follow."""
        from riskmap.edit.locate import set_location

        w = self.window_
        project = w.project
        name = self.current()[1] if self.current() else str(enterprise_id)

        def done(result):
            w.workspace.reload_table("enterprises")
            w.workspace.reload_table("zones")
            self.refresh()
            self.located.emit(enterprise_id, lon, lat)
            text = tr("已将“{name}”定位到 经度 {lon:.6f}°，纬度 {lat:.6f}°").format(name=name, lon=lon, lat=lat)
            if getattr(result, "mismatch", ""):
                text = tr("{text}（{note}）").format(text=text, note=result.mismatch)
            w.show_message(text, 15000)

        self.task = w.run_task(tr("正在定位"), lambda progress, cancelled: set_location(
            project, enterprise_id, lon, lat), done)
        return self.task

    # ---- locating from a file
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("导入坐标文件"), str(Path.home()),
                                              tr("表格 (*.xlsx *.xls *.csv);;所有文件 (*)"))
        if path:
            self.locate_file(path)

    def locate_file(self, path: str, *, confirm: bool = True):
        """Check the file (dry run), show what it would do, then locate on the user's word."""
        from riskmap.io.locate import locate_from_file

        w = self.window_
        project = w.project

        def checked(result):
            if confirm:
                answer = QMessageBox.question(self, tr("导入坐标文件"), tr("{summary}\n\n确定定位这些企业吗？").format(
                    summary=result_summary(result)))
                if answer != QMessageBox.StandardButton.Yes:
                    return
            self.task = w.run_task(tr("正在定位"), lambda progress, cancelled: locate_from_file(project, path), written)

        def written(result):
            w.workspace.reload_table("enterprises")
            w.workspace.reload_table("zones")
            self.refresh()
            w.show_message(result_summary(result))

        self.task = w.run_task(tr("正在检查坐标文件"), lambda progress, cancelled: locate_from_file(
            project, path, dry_run=True), checked)
        return self.task


def result_summary(result) -> str:
    """A line about a LocateResult: how many rows matched, and how many could not be used and why."""
    c = result.counts()
    return tr("匹配 {matched} 家；未找到 {missing} 家；名称不唯一 {ambiguous} 家；在边界外 {outside} 家；"
              "无坐标 {blank} 行；重复 {twice} 行").format(
        matched=c.get("matched", 0), missing=c.get("not_found", 0), ambiguous=c.get("ambiguous", 0),
        outside=c.get("outside", 0), blank=c.get("no_coordinates", 0), twice=c.get("duplicate", 0))


def available() -> tuple[bool, bool]:
    """(the table and the 定位 tool work, locating from a file works) in this installation."""
    import importlib.util

    from riskmap import stats

    tool = hasattr(stats, "unlocated") and importlib.util.find_spec("riskmap.edit.locate") is not None
    return tool, tool and importlib.util.find_spec("riskmap.io.locate") is not None


def install(window) -> None:
    """The 未定位 dock (bottom) and 编辑 → 定位企业 / 由坐标文件定位…"""
    tool_ok, file_ok = available()
    if not tool_ok:
        return
    panel = UnlocatedPanel(window)
    panel.file_button.setVisible(file_ok)
    dock = window.add_dock(panel, tr("未定位企业"), Qt.DockWidgetArea.BottomDockWidgetArea, "unlocated")
    dock.hide()
    window.register_extension("locate", panel)

    def opened():
        panel.refresh()
        dock.setVisible(bool(len(panel.frame)))

    window.projectOpened.connect(opened)

    def show_and(fn):
        dock.show()
        dock.raise_()
        panel.refresh()
        fn()

    a = QAction(tr("定位企业（单击地图）"), window)
    a.setObjectName("locate_tool")
    a.triggered.connect(lambda: show_and(panel.start_tool))
    window.register_action("edit", a, permission="edit_features")
    if not file_ok:
        return
    b = QAction(tr("由坐标文件定位企业…"), window)
    b.setObjectName("locate_file")
    b.triggered.connect(lambda: show_and(panel.choose_file))
    window.register_action("edit", b, permission="edit_features")
