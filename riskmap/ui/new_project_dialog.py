"""文件 → 新建项目…: a project for any county, city or province of China.

The dialog finds the place by name, part of a name or adcode (candidates show province, city and level, so
the many 城关区 can be told apart) or in a tree province → city → county, previews its boundary, and takes the
title, the 编制单位 and the file. The project is made off the GUI thread (:func:`riskmap.newproject.new_project`)
and opened in the window.
"""

from __future__ import annotations

from pathlib import Path

import shapely
from PySide6.QtCore import QT_TR_NOOP, QPointF, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel, QLineEdit, QMessageBox, QSplitter, QTabWidget,
    QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from riskmap.errors import RiskmapError
from riskmap.ui import tasks
from riskmap.ui.errors import show_error
from riskmap.ui.forms import path_row
from riskmap.ui.i18n import tr

LEVELS = {"province": QT_TR_NOOP("省级"), "city": QT_TR_NOOP("地级"), "county": QT_TR_NOOP("县级")}
SEARCH_DELAY_MS = 250
SEARCH_LIMIT = 50
ROLE = Qt.ItemDataRole.UserRole


def level_text(level: str) -> str:
    return tr(LEVELS[level]) if level in LEVELS else level


def documents_dir() -> Path:
    """The user's documents folder (home when the system names none)."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(loc) if loc else Path.home()


class BoundaryPreview(QWidget):
    """A small map of one boundary (EPSG:4490), drawn with longitudes shrunk by cos(latitude)."""

    FILL = QColor(198, 40, 40, 40)
    LINE = QColor("#B71C1C")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.geometry_4490 = None
        self.setMinimumSize(260, 220)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QColor("#FAFAFA"))
        self.setPalette(pal)

    def set_boundary(self, geom) -> None:
        self.geometry_4490 = geom
        self.update()

    def transform(self):
        """(x0, y0, k, kx, margin_x, margin_y): lon/lat → widget pixels, or None without a boundary."""
        g = self.geometry_4490
        if g is None or g.is_empty:
            return None
        x0, y0, x1, y1 = g.bounds
        import math

        kx = math.cos(math.radians((y0 + y1) / 2))
        w, h = max(self.width() - 16, 10), max(self.height() - 16, 10)
        k = min(w / max((x1 - x0) * kx, 1e-9), h / max(y1 - y0, 1e-9))
        mx = 8 + (w - (x1 - x0) * kx * k) / 2
        my = 8 + (h - (y1 - y0) * k) / 2
        return x0, y1, k, kx, mx, my

    def to_pixel(self, lon: float, lat: float) -> QPointF:
        x0, y1, k, kx, mx, my = self.transform()
        return QPointF(mx + (lon - x0) * kx * k, my + (y1 - lat) * k)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.transform() is None:
            p.setPen(QColor("#757575"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, tr("选择地区后在此预览边界"))
            return
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)
        for poly in shapely.get_parts(self.geometry_4490):
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                pts = [self.to_pixel(x, y) for x, y in ring.coords]
                path.moveTo(pts[0])
                for q in pts[1:]:
                    path.lineTo(q)
                path.closeSubpath()
        p.fillPath(path, self.FILL)
        p.setPen(QPen(self.LINE, 2))
        p.drawPath(path)


class NewProjectDialog(QDialog):
    """Pick a place, preview it, name the project and its file; 创建 makes it and opens it in ``window``."""

    created = Signal(str)  # the new project's path

    def __init__(self, window=None, parent=None):
        super().__init__(parent or window)
        self.setObjectName("new_project_dialog")
        self.setWindowTitle(tr("新建项目"))
        self.window_ = window
        self.division = None
        self.task = None
        self._auto_title = True
        self._auto_path = True
        self.resize(980, 600)

        # --- left: search and tree
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText(tr("输入地名、地名的一部分或行政区划代码，如 平阴、370124"))
        self.search_edit.setClearButtonEnabled(True)
        self.results = QTreeWidget()
        self.results.setObjectName("place_results")
        self.results.setHeaderLabels([tr("名称"), tr("省份"), tr("地市"), tr("行政级别"), tr("代码")])
        self.results.setRootIsDecorated(False)
        self.results.setColumnWidth(0, 150)
        self.results_note = QLabel()
        search_tab = QWidget()
        sl = QVBoxLayout(search_tab)
        sl.addWidget(self.search_edit)
        sl.addWidget(self.results, 1)
        sl.addWidget(self.results_note)
        self.tree = QTreeWidget()
        self.tree.setObjectName("place_tree")
        self.tree.setHeaderLabels([tr("行政区"), tr("代码")])
        self.tree.setColumnWidth(0, 220)
        self.tabs = QTabWidget()
        self.tabs.addTab(search_tab, tr("搜索"))
        self.tabs.addTab(self.tree, tr("按行政区划浏览"))

        # --- right: preview and the project's details
        self.preview = BoundaryPreview()
        self.place_label = QLabel(tr("尚未选择地区"))
        self.place_label.setWordWrap(True)
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color:#8A5A00")
        self.note_label.hide()
        self.title_edit = QLineEdit()
        self.org_edit = QLineEdit()
        self.org_edit.setPlaceholderText(tr("如 某某县应急管理局"))
        self.path_edit, file_row = path_row(self.browse)
        form = QFormLayout()
        form.addRow(tr("项目标题"), self.title_edit)
        form.addRow(tr("编制单位"), self.org_edit)
        form.addRow(tr("项目文件"), file_row)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.preview, 1)
        rl.addWidget(self.place_label)
        rl.addWidget(self.note_label)
        rl.addLayout(form)

        split = QSplitter()
        split.addWidget(self.tabs)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.buttons = QDialogButtonBox()
        self.create_button = self.buttons.addButton(tr("创建"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(tr("取消"), QDialogButtonBox.ButtonRole.RejectRole)
        self.create_button.setEnabled(False)
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(self.buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.run_search)
        self.search_edit.textChanged.connect(lambda _t: self._timer.start())
        self.search_edit.returnPressed.connect(self.run_search)
        self.results.currentItemChanged.connect(lambda item, _old: item is not None and self.choose(item.data(0, ROLE)))
        self.tree.itemExpanded.connect(self._expand)
        self.tree.currentItemChanged.connect(lambda item, _old: item is not None and self.choose(item.data(0, ROLE)))
        self.title_edit.textEdited.connect(lambda _t: setattr(self, "_auto_title", False))
        self.path_edit.textEdited.connect(lambda _t: setattr(self, "_auto_path", False))
        self._fill_tree()

    # ---- finding the place
    def run_search(self) -> list:
        """Search the gazetteer for the box's text and list the candidates; returns them."""
        from riskmap import gazetteer

        self._timer.stop()
        text = self.search_edit.text().strip()
        self.results.clear()
        if not text:
            self.results_note.setText("")
            return []
        found = gazetteer.search(text, limit=SEARCH_LIMIT)
        for d in found:
            item = QTreeWidgetItem([d.name, d.province, d.city or "", level_text(d.level), d.adcode])
            item.setData(0, ROLE, d)
            self.results.addTopLevelItem(item)
        for c in range(1, 5):
            self.results.resizeColumnToContents(c)
        if not found:
            self.results_note.setText(tr("没有找到“{text}”").format(text=text))
        elif len(found) == 1:
            self.results_note.setText(tr("找到 1 个地区"))
            self.results.setCurrentItem(self.results.topLevelItem(0))
        else:
            more = tr("（只列出前 {n} 个）").format(n=SEARCH_LIMIT) if len(found) >= SEARCH_LIMIT else ""
            self.results_note.setText(tr("找到 {n} 个同名或相近的地区，请按省份和地市选择{more}").format(
                n=len(found), more=more))
        return found

    def _tree_item(self, d) -> QTreeWidgetItem:
        item = QTreeWidgetItem([d.name, d.adcode])
        item.setData(0, ROLE, d)
        if d.level != "county":
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        return item

    def _fill_tree(self) -> None:
        from riskmap import gazetteer

        try:
            provinces = gazetteer.children(None)
        except RiskmapError as exc:
            self.tree.addTopLevelItem(QTreeWidgetItem([str(exc)]))
            return
        self.tree.addTopLevelItems([self._tree_item(d) for d in provinces])

    def _expand(self, item: QTreeWidgetItem) -> None:
        """Children are read when a branch is first opened."""
        from riskmap import gazetteer

        if item.childCount() or item.data(1, ROLE):
            return
        item.setData(1, ROLE, True)
        kids = gazetteer.children(item.data(0, ROLE).adcode)
        item.addChildren([self._tree_item(d) for d in kids])
        if not kids:
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicator)

    def choose(self, division) -> None:
        """Make ``division`` the place of the new project: preview, details, default title and file."""
        from riskmap import gazetteer

        if division is None:
            return
        self.division = division
        try:
            self.preview.set_boundary(gazetteer.boundary(division.adcode))
        except RiskmapError as exc:
            self.preview.set_boundary(None)
            show_error(self, exc)
        where = " ".join(x for x in (division.province, division.city) if x and x != division.name)
        self.place_label.setText(tr("{name}（{where}，{level}，代码 {adcode}）\n面积 {area} 平方千米；"
                                    "量算坐标系 EPSG:{epsg}（CGCS2000 3 度带高斯-克吕格）").format(
            name=division.name, where=where or "-", level=level_text(division.level), adcode=division.adcode,
            area=f"{division.area_km2:,.0f}", epsg=division.epsg))
        self.note_label.setText(division.zone_note or "")
        self.note_label.setVisible(bool(division.zone_note))
        if self._auto_title:
            self.title_edit.setText(tr("{name}安全风险一张图").format(name=division.name))
        if self._auto_path:
            self.path_edit.setText(str(documents_dir() / f"{division.name}.gpkg"))
        self.create_button.setEnabled(True)

    def browse(self) -> None:
        start = self.path_edit.text() or str(documents_dir())
        path, _ = QFileDialog.getSaveFileName(self, tr("项目文件"), start, tr("riskmap 项目 (*.gpkg)"))
        if path:
            self.path_edit.setText(path if path.lower().endswith(".gpkg") else path + ".gpkg")
            self._auto_path = False

    # ---- making it
    def out_path(self) -> Path:
        text = self.path_edit.text().strip()
        if not text:
            raise RiskmapError("请选择项目文件", "choose the project file", where="path")
        path = Path(text).expanduser()
        return path if path.suffix.lower() == ".gpkg" else path.with_name(path.name + ".gpkg")

    def create(self):
        """创建: make the project in the background, then open it in the window and close the dialog."""
        from riskmap.newproject import new_project

        if self.division is None:
            return None
        try:
            out = self.out_path()
        except RiskmapError as exc:
            show_error(self, exc)
            return None
        overwrite = False
        if out.exists():
            answer = QMessageBox.question(self, tr("新建项目"), tr("文件已存在：{path}\n要覆盖它吗？").format(path=out))
            if answer != QMessageBox.StandardButton.Yes:
                return None
            overwrite = True
        division, name, org = self.division, self.title_edit.text().strip() or None, self.org_edit.text().strip() or None
        self.create_button.setEnabled(False)

        def work(progress, cancelled):
            out.parent.mkdir(parents=True, exist_ok=True)
            new_project(out, division, name=name, org=org, overwrite=overwrite, progress=progress).close()
            return str(out)

        def done(path):
            self.created.emit(path)
            if self.window_ is not None:
                self.window_.open_project(path)
            self.accept()

        def failed(exc):
            self.create_button.setEnabled(True)
            show_error(self, exc)

        self.task = tasks.run_task(self, tr("正在新建项目：{name}").format(name=division.name), work,
                                   on_done=done, on_error=failed)
        return self.task


def open_new_project(window) -> NewProjectDialog:
    dialog = NewProjectDialog(window)
    return window.show_dialog("new_project", dialog)


def install(window) -> None:
    """文件 → 新建项目… (first in the menu)."""
    action = QAction(tr("新建项目…"), window)
    action.setObjectName("action_new_project")
    action.setShortcut("Ctrl+N")
    action.triggered.connect(lambda: open_new_project(window))
    file_menu = window.menu("file")
    first = file_menu.actions()[0] if file_menu.actions() else None
    window.register_action("file", action, before=first)
