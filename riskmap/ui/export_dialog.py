"""The data export dialog (文件 → 导出数据…): format, layers and file; runs :func:`riskmap.printing.dispatch.export_project`
in the background with a cancellable progress dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TR_NOOP, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QListWidget, QListWidgetItem, QPushButton,
    QVBoxLayout,
)

from riskmap.export.options import ExportOptions
from riskmap.printing.dispatch import export_project
from riskmap.layers import load_catalogue
from riskmap.ui import tasks
from riskmap.ui.forms import path_row
from riskmap.ui.i18n import current_language, tr

FORMATS = (  # (format, suffix, title to translate)
    ("gpkg", ".gpkg", QT_TR_NOOP("GeoPackage（含 QGIS 样式）")),
    ("shp", ".zip", QT_TR_NOOP("Shapefile（压缩包）")),
    ("geojson", ".geojson", "GeoJSON"),
    ("kml", ".kmz", QT_TR_NOOP("KMZ（奥维、Google Earth）")),
    ("dxf", ".dxf", QT_TR_NOOP("DXF（CAD）")),
    ("xlsx", ".xlsx", QT_TR_NOOP("Excel 工作簿")),
    ("html", ".html", QT_TR_NOOP("离线网页地图")),
)


class ExportDialog(QDialog):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.setObjectName("export_dialog")
        self.setWindowTitle(tr("导出数据"))
        self.resize(560, 520)
        self.format_combo = QComboBox()
        for fmt, suffix, title in FORMATS:
            self.format_combo.addItem(tr(title), (fmt, suffix))
        self.encoding_combo = QComboBox()
        self.encoding_combo.addItem("UTF-8", "utf-8")
        self.encoding_combo.addItem(tr("GBK（旧版软件）"), "gbk")
        self.layer_list = QListWidget()
        ws = window.workspace
        for d in load_catalogue().values():
            layer = ws.layer(d.id) if ws.has_layer(d.id) else None
            n = 0 if layer is None else (layer.row_count if layer.lazy else len(layer.gdf))  # lazy: all its rows
            item = QListWidgetItem(tr("{name}（{n}）").format(name=d.title(current_language()), n=n))
            item.setData(Qt.ItemDataRole.UserRole, d.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if n else Qt.CheckState.Unchecked)
            self.layer_list.addItem(item)
        self.path_edit, row = path_row(self.browse)
        form = QFormLayout()
        form.addRow(tr("格式"), self.format_combo)
        form.addRow(tr("Shapefile 编码"), self.encoding_combo)
        form.addRow(tr("图层"), self.layer_list)
        form.addRow(tr("保存到"), row)
        buttons = QDialogButtonBox()
        self.export_button = buttons.addButton(tr("导出"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QPushButton(tr("取消")), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(lambda: self.export())
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    def _format_changed(self) -> None:
        fmt, suffix = self.format_combo.currentData()
        self.encoding_combo.setEnabled(fmt == "shp")
        text = self.path_edit.text().strip()
        base = Path(text) if text else Path.home() / (self.window.project.name if self.window.project else "riskmap")
        self.path_edit.setText(str(base.with_suffix(suffix)))

    def browse(self) -> None:
        fmt, suffix = self.format_combo.currentData()
        path, _ = QFileDialog.getSaveFileName(self, tr("导出数据"), self.path_edit.text(), f"*{suffix}")
        if path:
            self.path_edit.setText(path)

    def layer_ids(self) -> list[str]:
        out = []
        for i in range(self.layer_list.count()):
            item = self.layer_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def export(self, on_done=None) -> tasks.Task | None:
        fmt, _ = self.format_combo.currentData()
        layers = self.layer_ids()
        if not layers:
            self.window.show_message(tr("请至少选择一个图层"))
            return None
        opts = ExportOptions(out=self.path_edit.text().strip(), format=fmt, layers=layers,
                             encoding=self.encoding_combo.currentData())
        project = self.window.project

        def work(progress, cancelled):
            return export_project(project, opts, progress=progress, cancel=cancelled)

        def done(out):
            self.window.show_message(tr("已导出：{path}").format(path=out))
            if on_done is not None:
                on_done(out)
            self.accept()

        return self.window.run_task(tr("正在导出数据"), work, done)


def open_export_dialog(window) -> ExportDialog | None:
    if window.project is None:
        window.show_message(tr("请先打开项目"))
        return None
    return window.show_dialog("export_dialog", ExportDialog(window))


def install(window) -> None:
    """文件 → 导出数据…"""
    action = QAction(tr("导出数据…"), window)
    action.setObjectName("action_export_data")
    action.triggered.connect(lambda: open_export_dialog(window))
    window.register_action("file", action)
