"""The first-steps panel: what a project has and what it still lacks (:func:`riskmap.readiness.first_steps`),
each row with the buttons that fill it; shown when a project that is not complete opens, refreshed when the
project changes. Also the small dialogs that make towns without a town file: a grid, or approximate (示意)
towns from town seats (工具 menu).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TR_NOOP, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QGridLayout, QLabel, QPushButton, QScrollArea,
    QVBoxLayout, QWidget,
)

from riskmap.ui.forms import ok_cancel, path_row
from riskmap.ui.i18n import current_language, tr

REFRESH_MS = 300
BUTTONS = {  # step action id → button text
    "new_project": QT_TR_NOOP("新建项目…"),
    "import_towns": QT_TR_NOOP("导入镇街边界…"),
    "towns_from_seats": QT_TR_NOOP("由驻地生成示意镇街…"),
    "make_grid": QT_TR_NOOP("生成网格…"),
    "import_enterprises": QT_TR_NOOP("导入企业名单…"),
    "locate_tool": QT_TR_NOOP("在地图上定位…"),
    "locate_file": QT_TR_NOOP("导入坐标文件…"),
    "unassessed_table": QT_TR_NOOP("查看未评估企业"),
    "zoning_panel": QT_TR_NOOP("风险分区…"),
    "control_lines": QT_TR_NOOP("生成控制线"),
    "import_lifelines": QT_TR_NOOP("导入生命线…"),
}
REGISTERED = {  # step action id → id of the window's registered action
    "new_project": "action_new_project", "control_lines": "planning_control_lines", "locate_tool": "locate_tool",
    "locate_file": "locate_file", "make_grid": "make_grid", "towns_from_seats": "towns_from_seats",
}
IMPORTS = {"import_towns": "towns", "import_enterprises": "enterprises", "import_lifelines": "lifelines"}
SHAPES = {"square": QT_TR_NOOP("正方形"), "hex": QT_TR_NOOP("六边形")}


def zones_module():
    """riskmap.edit.zones (grids and approximate towns), or None when this installation has none."""
    try:
        from riskmap.edit import zones
    except ImportError:
        return None
    return zones


def seats_reader() -> bool:
    """Whether this installation reads town-seat tables (riskmap.io.seats)."""
    import importlib.util

    return importlib.util.find_spec("riskmap.io.seats") is not None


# ---------------------------------------------------------------------------------------------- actions
def run_step_action(window, action_id: str) -> bool:
    """Do what a step's action id says in ``window``; False when the window cannot do it."""
    from riskmap.ui.import_wizard import open_import_wizard

    if action_id in IMPORTS:
        return open_import_wizard(window, IMPORTS[action_id]) is not None
    if action_id in REGISTERED:
        if REGISTERED[action_id] not in window.registry:
            return False
        action = window.action(REGISTERED[action_id])
        if not action.isEnabled():
            return False
        action.trigger()
        return True
    if action_id == "unassessed_table":
        from riskmap.ui.workspace import LayerFilter

        window.open_table("enterprises")
        window.workspace.set_filter("enterprises", LayerFilter({"level": frozenset({None})}))
        return True
    if action_id == "zoning_panel":
        window.docks["zoning"].show()
        window.docks["zoning"].raise_()
        return True
    return False


def action_available(window, action_id: str) -> bool:
    if action_id in REGISTERED:
        return REGISTERED[action_id] in window.registry
    return action_id in BUTTONS


# ---------------------------------------------------------------------------------------------- panel
class FirstStepsPanel(QWidget):
    """One row per first step: ✓ or ○, the title, what is there, and (while it is not done) the buttons that
    fill it."""

    def __init__(self, window):
        super().__init__()
        self.setObjectName("first_steps")
        self.window_ = window
        self.steps = []
        self.buttons: dict[str, QPushButton] = {}
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setStyleSheet("font-weight:bold")
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setColumnStretch(2, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.body)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.header)
        lay.addWidget(scroll, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        ws = window.workspace
        ws.layersReset.connect(self.timer.start)
        ws.layerChanged.connect(lambda _lid, what: what == "data" and self.timer.start())

    def refresh(self) -> list:
        """Ask the project again and rebuild the rows; returns the steps."""
        from riskmap.readiness import first_steps

        self.timer.stop()
        project = self.window_.project
        self.steps = first_steps(project) if project is not None else []
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.buttons = {}
        lang = current_language()
        missing = sum(not s.done for s in self.steps)
        if project is None:
            self.header.setText(tr("请先打开或新建项目"))
        elif missing:
            self.header.setText(tr("{name}：还有 {n} 项待完善").format(name=project.name, n=missing))
        else:
            self.header.setText(tr("{name}：各项均已具备").format(name=project.name))
        for row, step in enumerate(self.steps):
            mark = QLabel("✓" if step.done else "○")
            mark.setStyleSheet("color:#2E7D32; font-weight:bold" if step.done else "color:#C62828; font-weight:bold")
            title = QLabel(step.title(lang))
            title.setStyleSheet("font-weight:bold")
            detail = QLabel(step.detail(lang))
            detail.setWordWrap(True)
            buttons = QWidget()
            bl = QGridLayout(buttons)  # two buttons a row, so the panel stays narrow
            bl.setContentsMargins(0, 0, 0, 0)
            for action_id in () if step.done else (step.action, *step.more):
                if not action_id or not action_available(self.window_, action_id):
                    continue
                b = QPushButton(tr(BUTTONS[action_id]))
                b.setObjectName(f"step_{step.key}_{action_id}")
                b.clicked.connect(lambda _=False, a=action_id: run_step_action(self.window_, a))
                bl.addWidget(b, bl.count() // 2, bl.count() % 2)
                self.buttons[f"{step.key}:{action_id}"] = b
            bl.setColumnStretch(2, 1)
            for col, w in enumerate((mark, title, detail)):
                self.grid.addWidget(w, 2 * row, col, Qt.AlignmentFlag.AlignTop)
            if self.buttons and any(k.startswith(f"{step.key}:") for k in self.buttons):
                self.grid.addWidget(buttons, 2 * row + 1, 2)
            else:
                buttons.deleteLater()
        self.grid.setRowStretch(2 * len(self.steps), 1)
        return self.steps

    def complete(self) -> bool:
        return bool(self.steps) and all(s.done for s in self.steps)


# ---------------------------------------------------------------------------------------------- dialogs
class GridDialog(QDialog):
    """Generate square or hexagonal grid cells of a size in km over the boundary (zone unit 网格)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("grid_dialog")
        self.setWindowTitle(tr("生成网格"))
        self.size_combo = QComboBox()
        self.size_combo.setEditable(True)
        for km in ("1", "2", "5"):
            self.size_combo.addItem(km)
        self.size_combo.setCurrentText("2")
        self.shape_combo = QComboBox()
        for key, zh in SHAPES.items():
            self.shape_combo.addItem(tr(zh), key)
        self.replace_box = QCheckBox(tr("替换已有网格"))
        form = QFormLayout()
        form.addRow(tr("网格边长（千米）"), self.size_combo)
        form.addRow(tr("形状"), self.shape_combo)
        form.addRow("", self.replace_box)
        buttons = ok_cancel(self, tr("生成"))
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def values(self) -> tuple[float, str, bool]:
        from riskmap.errors import RiskmapError

        text = self.size_combo.currentText().strip().replace("，", ".")
        try:
            size = float(text)
        except ValueError:
            raise RiskmapError(f"网格边长应为数字（千米）：{text}", f"the cell size must be a number of km: {text}",
                               where="size_km") from None
        return size, self.shape_combo.currentData(), self.replace_box.isChecked()


class SeatsDialog(QDialog):
    """Approximate (示意) towns from a table of town seats (名称 and coordinates)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("seats_dialog")
        self.setWindowTitle(tr("由镇街驻地生成示意镇街"))
        note = QLabel(tr("表格中每行一个镇街：名称和驻地坐标（经纬度或高斯-克吕格）。生成的镇街范围为示意，"
                         "在地图和所有导出中标注“示意”，导入正式镇街边界后替换。"))
        note.setWordWrap(True)
        self.path_edit, row = path_row(self.browse)
        self.replace_box = QCheckBox(tr("替换已有镇街"))
        form = QFormLayout()
        form.addRow(tr("驻地表格"), row)
        form.addRow("", self.replace_box)
        buttons = ok_cancel(self, tr("生成"))
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("驻地表格"), self.path_edit.text() or str(Path.home()),
                                              tr("表格 (*.xlsx *.xls *.csv);;所有文件 (*)"))
        if path:
            self.path_edit.setText(path)


def make_grid(window, size_km: float, shape: str, replace: bool):
    """Generate the grid in the background; the map and the panel follow."""
    from riskmap.edit.zones import make_grid as core_make_grid

    project = window.project

    def done(n):
        window.workspace.reload_table("zones")
        window.show_message(tr("已生成 {n} 个网格").format(n=n))

    return window.run_task(tr("正在生成网格"), lambda progress, cancelled: core_make_grid(
        project, size_km, shape, replace=replace), done)


def towns_from_seats(window, path: str, replace: bool):
    """Make approximate towns from a seats table in the background; the map and the panel follow."""
    from riskmap.edit.zones import towns_from_seats as core_towns
    from riskmap.io.seats import read_seats

    project = window.project

    def work(progress, cancelled):
        return core_towns(project, read_seats(path, project), replace=replace, source=Path(path).name)

    def done(n):
        window.workspace.reload_table("zones")
        window.workspace.reload_table("enterprises")
        window.show_message(tr("已由驻地生成 {n} 个示意镇街").format(n=n))

    return window.run_task(tr("正在生成示意镇街"), work, done)


def _ask_grid(window) -> None:
    from riskmap.ui.errors import show_error

    if window.project is None:
        window.show_message(tr("请先打开项目"))
        return
    dlg = window.dialogs["grid"] = GridDialog(window)
    if dlg.exec():
        try:
            size, shape, replace = dlg.values()
        except Exception as exc:  # a bad size is shown, not raised
            show_error(window, exc)
            return
        make_grid(window, size, shape, replace)


def _ask_seats(window) -> None:
    if window.project is None:
        window.show_message(tr("请先打开项目"))
        return
    dlg = window.dialogs["seats"] = SeatsDialog(window)
    if dlg.exec() and dlg.path_edit.text().strip():
        towns_from_seats(window, dlg.path_edit.text().strip(), dlg.replace_box.isChecked())


def install(window) -> None:
    """视图 → 面板 → 第一步 (shown for a project that is not complete); 工具 → 生成网格… / 由驻地生成示意镇街…"""
    panel = FirstStepsPanel(window)
    dock = window.add_dock(panel, tr("第一步"), Qt.DockWidgetArea.RightDockWidgetArea, "first_steps",
                           tabify_with="identify")
    dock.hide()
    window.register_extension("first_steps", panel)

    def opened():  # shown for a project with steps to take, put away for a complete one
        panel.refresh()
        if window.project is not None and not panel.complete():
            dock.show()
            dock.raise_()
        else:
            dock.hide()

    window.projectOpened.connect(opened)
    if zones_module() is not None and hasattr(zones_module(), "make_grid"):
        a = QAction(tr("生成网格…"), window)
        a.setObjectName("make_grid")
        a.triggered.connect(lambda: _ask_grid(window))
        window.register_action("tools", a, permission="edit_features")
    if zones_module() is not None and hasattr(zones_module(), "towns_from_seats") and seats_reader():
        a = QAction(tr("由驻地生成示意镇街…"), window)
        a.setObjectName("towns_from_seats")
        a.triggered.connect(lambda: _ask_seats(window))
        window.register_action("tools", a, permission="edit_features")
