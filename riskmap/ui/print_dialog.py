"""The print layout dialog (文件 → 打印出图…): template, paper, texts and options on the left, a live
preview of the page on the right; exports PDF, PNG or SVG (or a town/grid/park atlas) in the background.

What the canvas shows is what prints: the visible layers in the user's order, with their filters, and
(by default) the canvas's current view as the map extent. The dialog holds no layout logic: it calls
:mod:`riskmap.printing`.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QAction, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
    QInputDialog, QLabel, QLineEdit, QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget,
)

from riskmap.errors import RiskmapError
from riskmap.export.options import ExportOptions
from riskmap.export.base import ExportLayer, ExportSource
from riskmap.fields import derive_columns
from riskmap.printing.compose import PagePainter
from riskmap.printing.content import Texts, atlas_pages, build_content, print_columns
from riskmap.printing.template import PAPER_MM, Template, load_template, save_user_template, template_files
from riskmap.ui import tasks
from riskmap.ui.errors import show_error
from riskmap.ui.i18n import current_language, tr

PREVIEW_PX = 760  # the preview's long side
SHEET_DATE = "yyyy年M月d日"  # the date as printed on the sheet (the print templates are Chinese)
_GENERATIONS = itertools.count(1)


def workspace_source(workspace, project) -> ExportSource:
    """The canvas's layers (with their filters) as an export source in EPSG:4490: :func:`source_plan`, then
    :func:`read_source` (the print dialog reads on a worker)."""
    return read_source(source_plan(workspace), project)


def source_plan(workspace) -> list[tuple]:
    """What the print takes of each layer, gathered on the GUI thread: ``(layer def, rows, filter, map EPSG)``,
    ``rows`` the shown rows of a layer held in memory, or None for a lazy one (too large to hold: its whole
    layer is read by :func:`read_source`, its filter applied there)."""
    plan = []
    for layer in workspace.layers:
        if layer.layer_def.geometry == "raster":  # the plant plans: build_content reads them from the project
            continue
        if layer.lazy:
            plan.append((layer.layer_def, None, layer.filter, workspace.map_epsg))
        else:
            plan.append((layer.layer_def, layer.gdf if layer.mask.all() else layer.gdf[layer.mask], None, None))
    return plan


def read_source(plan: list[tuple], project, progress=None, cancelled=None) -> ExportSource:
    """The export source of :func:`source_plan`'s layers; a lazy layer's rows read whole from the project (every
    feature is printed; none is dropped because only part of the layer was read for the screen: the ×10
    city's layers take about 7 s, hence off the GUI thread). ``progress(fraction, layer id)``; ``cancelled()``
    is checked between layers."""
    layers = []
    for i, (layer_def, gdf, flt, map_epsg) in enumerate(plan):
        if cancelled is not None and cancelled():
            raise tasks.Cancelled()
        if gdf is None:
            if progress is not None:
                progress(i / max(len(plan), 1), layer_def.id)
            gdf = _whole_layer(project, layer_def, flt, map_epsg)
        layers.append(ExportLayer(layer_def, derive_columns(layer_def, gdf)))
    return ExportSource(name=project.name, is_demo=project.is_demo, metric_epsg=project.metric_epsg or 4544,
                        layers=layers, place=project.place, project=project)


def _whole_layer(project, layer_def, flt, map_epsg: int):
    """All rows of a lazy layer that its filter ``flt`` lets through, with the columns the print takes
    (:func:`riskmap.printing.content.print_columns`; every column under a free-text filter, which searches
    them)."""
    from riskmap.ui.workspace import MapLayer

    columns = None if flt.text.strip() else print_columns(layer_def, flt.values)
    gdf = project.read_layer(layer_def, columns=columns)
    if flt.is_empty():
        return gdf
    whole = MapLayer(layer_def, gdf, np.empty(0, dtype=object), map_epsg)
    return gdf[flt.mask(whole)]


def template_title(template: Template) -> str:
    """A template's name in the UI language (template files may carry an English ``name_en``)."""
    if current_language() == "en" and template.path is not None:
        try:
            en = json.loads(Path(template.path).read_text(encoding="utf-8")).get("name_en")
        except (OSError, ValueError):
            en = None
        if en:
            return str(en)
    return template.title


def canvas_extent(canvas, workspace, metric_epsg: int):
    """The canvas's current view as an extent in the project's metric CRS."""
    from riskmap.crs import transformer

    xmin, ymin, xmax, ymax = canvas.view.extent
    if workspace.map_epsg == metric_epsg:
        return (xmin, ymin, xmax, ymax)
    return tuple(transformer(workspace.map_epsg, metric_epsg).transform_bounds(xmin, ymin, xmax, ymax))


class PrintDialog(QDialog):
    """Layout options with a live preview; ``export(fmt, path)`` writes the file in the background."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.setWindowTitle(tr("打印出图"))
        self.setObjectName("print_dialog")
        self.resize(1280, 760)
        self.source: ExportSource | None = None
        self._content = None
        self._content_key = None
        self._generation = 0
        self.preview_image: QImage | None = None
        self.last_export: Path | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._start_preview)
        self._source_task: tasks.Task | None = None
        self._build()
        self._load_source()

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        form_box = QWidget(self)
        form = QFormLayout(form_box)
        self.template_combo = QComboBox()
        self._fill_templates()
        self.paper_combo = QComboBox()
        self.paper_combo.addItems(list(PAPER_MM))
        self.paper_combo.setCurrentText("A3")
        self.orientation_combo = QComboBox()
        self.orientation_combo.addItem(tr("横向"), "landscape")
        self.orientation_combo.addItem(tr("纵向"), "portrait")
        self.dpi_spin = QSpinBox()
        self.dpi_spin.setRange(72, 600)
        self.dpi_spin.setValue(300)
        self.dpi_spin.setSuffix(" dpi")
        self.title_edit = QLineEdit()
        self.subtitle_edit = QLineEdit()
        self.unit_edit = QLineEdit()
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat(tr("yyyy年M月d日"))
        self.approval_edit = QLineEdit()
        self.approval_edit.setPlaceholderText(tr("使用标准底图时填写"))
        self.grid_check = QCheckBox(tr("经纬网"))
        self.view_check = QCheckBox(tr("按当前地图视图出图"))
        self.view_check.setChecked(True)
        self.geopdf_check = QCheckBox(tr("GeoPDF：图层可开关，带坐标"))
        self.geopdf_check.setToolTip(tr("导出的 PDF 中各图层可在阅读器里打开或关闭，地图带经纬度坐标（仅 PDF）"))
        self.atlas_combo = QComboBox()
        self.atlas_combo.addItem(tr("单页"), None)
        self.atlas_combo.addItem(tr("分幅图集：每个镇街一页"), "town")
        self.atlas_combo.addItem(tr("分幅图集：每个网格一页"), "grid")
        self.atlas_combo.addItem(tr("分幅图集：每个园区一页"), "park")
        form.addRow(tr("模板"), self.template_combo)
        form.addRow(tr("纸张"), self.paper_combo)
        form.addRow(tr("方向"), self.orientation_combo)
        form.addRow(tr("分辨率"), self.dpi_spin)
        form.addRow(tr("图名"), self.title_edit)
        form.addRow(tr("副标题"), self.subtitle_edit)
        form.addRow(tr("编制单位"), self.unit_edit)
        form.addRow(tr("编制日期"), self.date_edit)
        form.addRow(tr("审图号"), self.approval_edit)
        form.addRow("", self.grid_check)
        form.addRow("", self.view_check)
        form.addRow("", self.geopdf_check)
        form.addRow(tr("出图方式"), self.atlas_combo)
        self.save_template_button = QPushButton(tr("保存为我的模板…"))
        form.addRow("", self.save_template_button)
        form_box.setMinimumWidth(360)

        self.preview = QLabel(tr("正在生成预览…"))
        self.preview.setObjectName("print_preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(PREVIEW_PX, int(PREVIEW_PX / 1.414))
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.preview.setStyleSheet("QLabel#print_preview { background: #808080; }")
        self.status = QLabel("")
        preview_box = QGroupBox(tr("预览"))
        pv = QVBoxLayout(preview_box)
        pv.addWidget(self.preview, 1)
        pv.addWidget(self.status)

        self.pdf_button = QPushButton(tr("导出 PDF…"))
        self.png_button = QPushButton(tr("导出 PNG…"))
        self.svg_button = QPushButton(tr("导出 SVG…"))
        buttons = QDialogButtonBox()
        for b in (self.pdf_button, self.png_button, self.svg_button):
            buttons.addButton(b, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QPushButton(tr("关闭")), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(form_box)
        top.addWidget(preview_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(buttons)

        for w in (self.template_combo, self.paper_combo, self.orientation_combo, self.atlas_combo):
            w.currentIndexChanged.connect(self.request_preview)
        for w in (self.title_edit, self.subtitle_edit, self.unit_edit, self.approval_edit):
            w.textChanged.connect(self.request_preview)
        self.date_edit.dateChanged.connect(self.request_preview)
        self.grid_check.toggled.connect(self.request_preview)
        self.view_check.toggled.connect(self._view_toggled)
        self.template_combo.currentIndexChanged.connect(self._template_defaults)
        self.pdf_button.clicked.connect(lambda: self.choose_and_export("pdf"))
        self.png_button.clicked.connect(lambda: self.choose_and_export("png"))
        self.svg_button.clicked.connect(lambda: self.choose_and_export("svg"))
        self.save_template_button.clicked.connect(self.save_template)
        self.atlas_combo.currentIndexChanged.connect(self._atlas_changed)
        self._template_defaults()

    def _fill_templates(self, select: str | None = None) -> None:
        self.template_combo.blockSignals(True)
        self.template_combo.clear()
        for name in template_files():
            try:
                title = template_title(load_template(name))
            except RiskmapError:
                continue  # a broken user template is skipped, not fatal
            self.template_combo.addItem(title, name)
        idx = self.template_combo.findData(select or "standard")
        self.template_combo.setCurrentIndex(max(idx, 0))
        self.template_combo.blockSignals(False)

    def _template_defaults(self) -> None:
        t = self.template()
        if t is None:
            return
        if t.defaults.get("unit") and not self.unit_edit.text():
            self.unit_edit.setText(t.defaults["unit"])

    def _atlas_changed(self) -> None:
        atlas = self.atlas_combo.currentData() is not None
        ready = self.source is not None
        self.png_button.setEnabled(ready and not atlas)
        self.svg_button.setEnabled(ready and not atlas)
        self.view_check.setEnabled(not atlas)

    def _view_toggled(self) -> None:
        self._content_key = None
        self.request_preview()

    # ------------------------------------------------------------------ state
    def template(self) -> Template | None:
        name = self.template_combo.currentData()
        try:
            return load_template(name)
        except RiskmapError as exc:
            self.status.setText(exc.message())
            return None

    def texts(self) -> Texts:
        d = self.date_edit.date()
        return Texts(title=self.title_edit.text().strip() or None,
                     subtitle=self.subtitle_edit.text().strip() or None,
                     unit=self.unit_edit.text().strip() or None,
                     date=d.toString(SHEET_DATE),
                     approval_no=self.approval_edit.text().strip() or None)

    def options(self, out="") -> ExportOptions:
        t = self.texts()
        return ExportOptions(out=out, template=self.template_combo.currentData(), paper=self.paper_combo.currentText(),
                             orientation=self.orientation_combo.currentData(), dpi=self.dpi_spin.value(),
                             title=t.title, subtitle=t.subtitle, unit=t.unit, date=t.date, approval_no=t.approval_no,
                             atlas=self.atlas_combo.currentData(), grid=self.grid_check.isChecked(),
                             geopdf=self.geopdf_check.isChecked())

    def _load_source(self) -> None:
        """The layers to print, read on a worker (a lazy layer's whole table: seconds for a city); the export
        buttons wait for them and the preview follows."""
        ws = self.window.workspace
        project = self.window.project
        if project is None:
            raise RiskmapError("请先打开项目", "open a project first")
        self.visible = [layer.id for layer in ws.visible_layers()]
        self.order = ws.layer_ids()
        plan = source_plan(ws)
        for b in (self.pdf_button, self.png_button, self.svg_button):
            b.setEnabled(False)
        self.status.setText(tr("正在读取图层…"))
        task = self._source_task = tasks.Task(lambda progress, cancelled: read_source(plan, project, progress,
                                                                                      cancelled))
        task.progressed.connect(self._source_progress)
        task.succeeded.connect(self._source_ready)
        task.failed.connect(self._source_failed)
        tasks.start(task)

    def _source_progress(self, fraction: float, layer_id: str) -> None:
        ws = self.window.workspace
        if not self._gone() and self.source is None and ws.has_layer(layer_id):
            self.status.setText(tr("正在读取图层：{name}").format(name=ws.layer(layer_id).title(ws.lang)))

    def _source_ready(self, source: ExportSource) -> None:
        if self._gone() or self._source_task.cancelled():  # (closed meanwhile)
            return
        self.source = source
        self.pdf_button.setEnabled(True)
        self._atlas_changed()
        self.request_preview()

    def _source_failed(self, exc) -> None:
        if self._gone() or isinstance(exc, tasks.Cancelled):
            return
        self.status.setText(exc.message() if isinstance(exc, RiskmapError) else str(exc))

    def done(self, result: int) -> None:
        """Closing the dialog stops reading the layers (between layers) if it still is."""
        if self._source_task is not None and self.source is None:
            self._source_task.cancel()
        super().done(result)

    def extent(self):
        if not self.view_check.isChecked() or self.atlas_combo.currentData() is not None:
            return None
        return canvas_extent(self.window.canvas, self.window.workspace, self.source.metric_epsg)

    # ------------------------------------------------------------------ preview
    def request_preview(self) -> None:
        self._timer.start()

    def _start_preview(self) -> None:
        template = self.template()
        if template is None or self.source is None:
            return
        opts = self.options()
        extent = self.extent()
        key = (tuple(self.visible), extent)
        content = self._content if key == self._content_key else None
        texts = self.texts()
        source, visible, order = self.source, self.visible, self.order
        gen = self._generation = next(_GENERATIONS)
        self.status.setText(tr("正在生成预览…"))

        def work(progress, cancelled):
            c = content or build_content(source, visible, extent=extent, order=order)
            page = template.page(opts.paper, opts.orientation)
            shown = atlas_pages(c, opts.atlas)[0] if opts.atlas else c
            dpi = PREVIEW_PX / (max(page.size_mm) / 25.4)
            pp = PagePainter(page, shown, texts, template, dpi, grid=opts.grid)
            img = QImage(pp.width_px, pp.height_px, QImage.Format.Format_RGB32)
            img.setDotsPerMeterX(round(dpi / 0.0254))
            img.setDotsPerMeterY(round(dpi / 0.0254))
            p = QPainter(img)
            try:
                pp.paint(p)
            finally:
                p.end()
            return c, key, img

        task = tasks.Task(work)
        task.succeeded.connect(lambda result, g=gen: self._preview_done(g, result))
        task.failed.connect(lambda exc, g=gen: self._preview_failed(g, exc))
        tasks.start(task)

    def _gone(self) -> bool:
        """The dialog was deleted while a preview was being drawn (its task still reports)."""
        import shiboken6

        return not (shiboken6.isValid(self) and shiboken6.isValid(self.preview))

    def _preview_done(self, gen: int, result) -> None:
        if self._gone():
            return
        content, key, img = result
        self._content, self._content_key = content, key
        if gen != self._generation:
            return
        self.preview_image = img
        pix = QPixmap.fromImage(img).scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation)
        self.preview.setPixmap(pix)
        atlas = self.atlas_combo.currentData()
        self.status.setText(tr("预览：分幅图集第 1 页") if atlas else tr("预览"))

    def _preview_failed(self, gen: int, exc) -> None:
        if self._gone():
            return
        if gen == self._generation:
            self.status.setText(exc.message() if isinstance(exc, RiskmapError) else str(exc))

    def preview_ready(self) -> bool:
        return self.preview_image is not None and not self._timer.isActive() and self.status.text() != tr("正在生成预览…")

    # ------------------------------------------------------------------ actions
    def choose_and_export(self, fmt: str) -> None:
        name = self.title_edit.text().strip() or self.source.name
        start = str(Path.home() / f"{name}.{fmt}")
        filters = {"pdf": tr("PDF 文件 (*.pdf)"), "png": tr("PNG 图片 (*.png)"), "svg": tr("SVG 矢量图 (*.svg)")}
        path, _ = QFileDialog.getSaveFileName(self, tr("导出图件"), start, filters[fmt])
        if path:
            if not path.lower().endswith(f".{fmt}"):
                path += f".{fmt}"
            self.export(fmt, path)

    def export(self, fmt: str, path, on_done=None) -> tasks.Task:
        """Write the layout (or the atlas) to ``path`` in the background; a progress dialog can cancel it."""
        from riskmap.printing.export import export_print

        opts = self.options(out=path)
        source, extent, project = self.source, self.extent(), self.window.project
        visible, order = self.visible, self.order

        def work(progress, cancelled):
            return export_print(project, fmt, opts, progress=progress, cancel=cancelled, source=source,
                                extent=extent, visible=visible, order=order)

        def done(out):
            self.last_export = Path(out)
            self.window.show_message(tr("已导出：{path}").format(path=out))
            self.status.setText(tr("已导出：{path}").format(path=out))
            if on_done is not None:
                on_done(out)

        return self.window.run_task(tr("正在导出图件"), work, done)

    def save_template(self) -> None:
        name, ok = QInputDialog.getText(self, tr("保存为我的模板"), tr("模板名称"))
        if not ok or not name.strip():
            return
        self.save_template_as(name.strip())

    def save_template_as(self, name: str) -> Path | None:
        """Save the current template with the entered unit/subtitle/审图号 as a user template."""
        t = self.template()
        if t is None:
            return None
        defaults = dict(t.defaults)
        for key, edit in (("unit", self.unit_edit), ("subtitle", self.subtitle_edit),
                          ("approval_no", self.approval_edit)):
            if edit.text().strip():
                defaults[key] = edit.text().strip()
        try:
            path = save_user_template(t, name, defaults)
        except (RiskmapError, OSError) as exc:
            show_error(self, exc)
            return None
        self._fill_templates(select=name)
        self.status.setText(tr("模板已保存：{path}").format(path=path))
        return path


def open_print_dialog(window) -> PrintDialog | None:
    if window.project is None:
        window.show_message(tr("请先打开项目"))
        return None
    return window.show_dialog("print_dialog", PrintDialog(window))


def install(window) -> None:
    """文件 → 打印出图… (Ctrl+P)."""
    action = QAction(tr("打印出图…"), window)
    action.setObjectName("action_print")
    action.setShortcut(QKeySequence(QKeySequence.StandardKey.Print))
    action.triggered.connect(lambda: open_print_dialog(window))
    window.register_action("file", action)
