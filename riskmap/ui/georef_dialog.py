"""Georeferencing a plant layout (配准平面图): an image or a PDF page beside the map.

Control points: click a point on the plan, then the same point on the map (or the other way round, or type
its longitude and latitude in the table), as often as wanted; the transform is fitted live
(:func:`riskmap.georef.fit`: two points a similarity, three or more an affine fit) and every point shows its
residual in metres, with the RMS. The 四角 mode pairs the plan's four corners with the plant's four corners
clicked on the map. 预览 draws the warped plan on the map. 确定 stores it with :func:`riskmap.plant.set_plan` in
the background; the canvases redraw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QTransform
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QCheckBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton,
    QRadioButton, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from riskmap.errors import RiskmapError
from riskmap.ui import errors as ui_errors
from riskmap.ui.canvas import MapCanvas
from riskmap.ui.i18n import current_language, joined, tr
from riskmap.ui.map_tools import CLICK_SLOP_PX, MapTool

MARK = QColor("#D50000")
COLS = ("no", "col", "row", "lon", "lat", "residual")


def _corner_names() -> list[str]:
    return [tr("左上"), tr("右上"), tr("右下"), tr("左下")]


def _mark(painter: QPainter, p: QPointF, label: str, colour: QColor = MARK, active: bool = False) -> None:
    painter.save()
    painter.setPen(QPen(colour, 3 if active else 2))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    r = 9 if active else 7
    painter.drawEllipse(p, r, r)
    painter.drawLine(QPointF(p.x() - r - 4, p.y()), QPointF(p.x() + r + 4, p.y()))
    painter.drawLine(QPointF(p.x(), p.y() - r - 4), QPointF(p.x(), p.y() + r + 4))
    f = QFont(painter.font())
    f.setBold(True)
    painter.setFont(f)
    painter.setPen(QColor("#FFFFFF"))
    box = QRectF(p.x() + r + 2, p.y() - r - 18, 40, 18)
    painter.drawText(box.translated(1, 1), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
    painter.setPen(colour)
    painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
    painter.restore()


class PlanImageView(QWidget):
    """The plan image, fitted to the widget; wheel zooms about the cursor, a drag pans, a click gives
    ``clicked(col, row)`` in the image's pixels (corners convention: the top-left corner is (0, 0))."""

    clicked = Signal(float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image: QImage | None = None
        self.scale = 1.0
        self.offset = QPointF(0, 0)
        self.marks: list[tuple[float, float, str]] = []
        self.active = -1
        self._press = None
        self._offset0 = None
        self.setMinimumSize(320, 240)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.fit()

    def fit(self) -> None:
        if self.image is None or self.image.isNull():
            self.update()
            return
        w, h = max(self.width(), 1), max(self.height(), 1)
        self.scale = min(w / self.image.width(), h / self.image.height()) * 0.96
        self.offset = QPointF((w - self.image.width() * self.scale) / 2, (h - self.image.height() * self.scale) / 2)
        self.update()

    def to_widget(self, col: float, row: float) -> QPointF:
        return QPointF(self.offset.x() + col * self.scale, self.offset.y() + row * self.scale)

    def to_image(self, p: QPointF) -> tuple[float, float]:
        return (p.x() - self.offset.x()) / self.scale, (p.y() - self.offset.y()) / self.scale

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(ev)
        self.fit()

    def wheelEvent(self, ev) -> None:  # noqa: N802
        if self.image is None:
            return
        steps = ev.angleDelta().y() / 120.0
        f = 1.25 ** steps
        pos = ev.position()
        col, row = self.to_image(pos)
        self.scale = max(0.01, min(self.scale * f, 40.0))
        self.offset = QPointF(pos.x() - col * self.scale, pos.y() - row * self.scale)
        self.update()

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        self._press = ev.position()
        self._offset0 = QPointF(self.offset)

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        if self._press is not None and ev.buttons() & Qt.MouseButton.LeftButton:
            d = ev.position() - self._press
            if abs(d.x()) + abs(d.y()) > CLICK_SLOP_PX:
                self.offset = self._offset0 + d
                self.update()

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        start, self._press = self._press, None
        if start is None or self.image is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        d = ev.position() - start
        if abs(d.x()) + abs(d.y()) <= CLICK_SLOP_PX:
            col, row = self.to_image(ev.position())
            if 0 <= col <= self.image.width() and 0 <= row <= self.image.height():
                self.clicked.emit(col, row)

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor("#606060"))
            if self.image is None or self.image.isNull():
                p.setPen(QColor("#FFFFFF"))
                p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), tr("打开厂区平面图（图像或 PDF）"))
                return
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(QRectF(self.offset.x(), self.offset.y(), self.image.width() * self.scale,
                               self.image.height() * self.scale), self.image)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            for i, (col, row, label) in enumerate(self.marks):
                _mark(p, self.to_widget(col, row), label, active=i == self.active)
        finally:
            p.end()


class PointTool(MapTool):
    """Clicks on the georeferencing map (``picked(x, y)`` map CRS; a drag pans); paints the control points."""

    cursor = Qt.CursorShape.CrossCursor
    name = "georef_point"

    def __init__(self, canvas, picked, marks):
        super().__init__(canvas)
        self.picked = picked
        self.marks = marks  # callable: [(x, y, label)] in the map CRS
        self._start = None
        self._view = None

    def press(self, ev, map_pt) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self._start = ev.position()
            self._view = self.canvas.view

    def move(self, ev, map_pt) -> None:
        if self._start is not None:
            d = ev.position() - self._start
            if abs(d.x()) + abs(d.y()) > CLICK_SLOP_PX:
                self.canvas.set_view(self._view.panned(d.x(), d.y()), settle=False)

    def release(self, ev, map_pt) -> None:
        if self._start is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        d = ev.position() - self._start
        self._start = None
        if abs(d.x()) + abs(d.y()) <= CLICK_SLOP_PX:
            self.canvas.set_view(self._view, settle=False)
            self.picked(*map_pt)
        else:
            self.canvas.set_view(self._view.panned(d.x(), d.y()))

    def paint(self, painter: QPainter) -> None:
        for x, y, label in self.marks():
            _mark(painter, self.canvas.pixel_point(x, y), label)


class GeorefDialog(QDialog):
    """Georeference the plan of one enterprise (see the module docstring). ``stored(PlanResult)`` after 确定."""

    stored = Signal(object)

    def __init__(self, window, enterprise_id: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(tr("配准厂区平面图"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.main = window
        self.project = window.project
        self.workspace = window.workspace
        self.eid = int(enterprise_id)
        self.path: str | None = None
        self.page: int | None = None
        self.image: QImage | None = None
        self.gcps: list[dict] = []  # {col, row, lon, lat} (None where not given yet)
        self.fit = None
        self.task = None
        from riskmap.plant import metric_epsg, plant_data

        data = plant_data(self.project, self.eid)
        self.enterprise = data.enterprise
        self.metric_epsg = metric_epsg(self.project, self.enterprise.get("lon"))
        # widgets
        self.open_button = QPushButton(tr("打开平面图…"))
        self.open_button.clicked.connect(self.choose_file)
        self.file_label = QLabel(tr("（未打开）"))
        self.page_spin = QSpinBox()
        self.page_label = QLabel(tr("页码"))
        self.page_spin.hide()  # shown for a PDF
        self.page_label.hide()
        self.page_spin.valueChanged.connect(self._page_changed)
        self.mode_points = QRadioButton(tr("控制点"))
        self.mode_corners = QRadioButton(tr("四角"))
        self.mode_points.setChecked(True)
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.mode_points)
        self.modes.addButton(self.mode_corners)
        self.mode_corners.toggled.connect(self._mode_changed)
        self.preview = QCheckBox(tr("预览"))
        self.preview.setChecked(True)
        self.preview.toggled.connect(lambda *_: self.canvas.update())
        self.view = PlanImageView()
        self.view.clicked.connect(self.image_clicked)
        self.canvas = MapCanvas(self.workspace, self)
        self.canvas.decorations = True
        self.point_tool = PointTool(self.canvas, self.map_clicked, self._map_marks)
        self.canvas.pan_tool = self.point_tool
        self.canvas.set_map_tool(self.point_tool)
        self.canvas.overlays.append(self._paint_preview)
        self.table = QTableWidget(0, len(COLS))
        self.table.setHorizontalHeaderLabels([tr("点"), tr("列"), tr("行"), tr("经度"), tr("纬度"), tr("残差(m)")])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemChanged.connect(self._edited)
        self.delete_button = QPushButton(tr("删除点"))
        self.delete_button.clicked.connect(self.delete_selected)
        self.rms = QLabel()
        self.rms.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:#555")
        self.ok_button = QPushButton(tr("确定"))
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.store)
        cancel = QPushButton(tr("取消"))
        cancel.clicked.connect(self.reject)
        # layout
        top = QHBoxLayout()
        for w in (self.open_button, self.file_label, self.page_label, self.page_spin):
            top.addWidget(w)
        top.addStretch(1)
        for w in (self.mode_points, self.mode_corners, self.preview):
            top.addWidget(w)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.canvas)
        split.setSizes([600, 600])
        bottom = QHBoxLayout()
        bottom.addWidget(self.table, 3)
        side = QVBoxLayout()
        side.addWidget(self.rms)
        side.addWidget(self.hint)
        side.addStretch(1)
        side.addWidget(self.delete_button)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ok_button)
        buttons.addWidget(cancel)
        side.addLayout(buttons)
        bottom.addLayout(side, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 3)
        lay.addLayout(bottom, 1)
        self.resize(1300, 860)
        self._zoom_extent = data.extent_4490
        self._refresh()

    # ------------------------------------------------------------------ the image
    def choose_file(self) -> None:
        filt = tr("平面图 (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.pdf);;PDF (*.pdf);;图像 (*.png *.jpg *.jpeg *.tif *.tiff *.bmp)")
        path, _ = QFileDialog.getOpenFileName(self, tr("打开厂区平面图"), str(Path.home()), filt)
        if path:
            self.open_file(path)

    def open_file(self, path: str, page: int | None = None) -> None:
        """Read a plan image or a PDF page as it will be stored (the pixels the control points refer to)."""
        from riskmap.plant import read_plan_image

        pages = _pdf_pages(path)
        self.page_spin.blockSignals(True)
        if pages:
            self.page_spin.setRange(1, pages)
            self.page_spin.setValue(page or 1)
            self.page_spin.setEnabled(pages > 1)
            self.page_spin.show()
            self.page_label.show()
            page = page or 1
        else:
            self.page_spin.setRange(0, 0)
            self.page_spin.hide()
            self.page_label.hide()
            page = None
        self.page_spin.blockSignals(False)

        def done(img):
            qimg = QImage.fromData(img.data)
            if qimg.isNull():
                ui_errors.show_error(self, tr("无法显示该平面图"))
                return
            self.path, self.page = path, page
            self.image = qimg.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
            self.file_label.setText(f"{Path(path).name}  {qimg.width()}×{qimg.height()}"
                                    + (tr("（共 {n} 页）").format(n=pages) if pages else ""))
            self.view.set_image(self.image)
            self.gcps = []
            if self.mode_corners.isChecked():
                self._corner_rows()
            self._refresh()

        self.main.run_task(tr("正在读取平面图"), lambda progress, cancelled: read_plan_image(path, page=page), done)

    def _page_changed(self, page: int) -> None:
        if self.path and page >= 1:
            self.open_file(self.path, page)

    # ------------------------------------------------------------------ points
    def _mode_changed(self, corners: bool) -> None:
        self.gcps = []
        if corners:
            self._corner_rows()
        self._refresh()

    def _corner_rows(self) -> None:
        if self.image is None:
            return
        w, h = self.image.width(), self.image.height()
        self.gcps = [{"col": c, "row": r, "lon": None, "lat": None} for c, r in ((0, 0), (w, 0), (w, h), (0, h))]

    def image_clicked(self, col: float, row: float) -> None:
        if self.mode_corners.isChecked():
            return
        for g in self.gcps:
            if g["col"] is None:
                g["col"], g["row"] = col, row
                break
        else:
            self.gcps.append({"col": col, "row": row, "lon": None, "lat": None})
        self._refresh()

    def map_clicked(self, x: float, y: float) -> None:
        from riskmap.crs import transformer

        lon, lat = transformer(self.workspace.map_epsg, 4490).transform(x, y)
        self.set_lonlat(float(lon), float(lat))

    def set_lonlat(self, lon: float, lat: float) -> None:
        """The map position of the first point without one (a new point when all have one)."""
        for g in self.gcps:
            if g["lon"] is None:
                g["lon"], g["lat"] = lon, lat
                break
        else:
            if self.mode_corners.isChecked():
                return
            self.gcps.append({"col": None, "row": None, "lon": lon, "lat": lat})
        self._refresh()

    def delete_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            if self.mode_corners.isChecked():
                self.gcps[r]["lon"] = self.gcps[r]["lat"] = None
            elif r < len(self.gcps):
                del self.gcps[r]
        self._refresh()

    def complete(self) -> list[dict]:
        return [g for g in self.gcps if None not in (g["col"], g["row"], g["lon"], g["lat"])]

    def gcp_tuples(self) -> list[tuple[float, float, float, float]]:
        """The complete control points as (col, row, lon, lat) for :func:`riskmap.plant.set_plan`."""
        return [(g["col"], g["row"], g["lon"], g["lat"]) for g in self.complete()]

    def _edited(self, item: QTableWidgetItem) -> None:
        r, c = item.row(), item.column()
        if r >= len(self.gcps) or COLS[c] not in ("lon", "lat"):
            return
        text = item.text().strip()
        try:
            value = float(text) if text else None
        except ValueError:
            self.hint.setText(tr("经纬度应为十进制度数，如 105.3771"))
            self._refresh()
            return
        self.gcps[r][COLS[c]] = value
        self._refresh()

    # ------------------------------------------------------------------ fit and display
    def _world(self, pts) -> np.ndarray:
        from riskmap.crs import transformer

        x, y = transformer(4490, self.metric_epsg).transform([g["lon"] for g in pts], [g["lat"] for g in pts])
        return np.column_stack([x, y])

    def _refresh(self) -> None:
        from riskmap.georef import fit

        done = self.complete()
        self.fit = None
        error = ""
        if len(done) >= 2:
            try:
                self.fit = fit([(g["col"], g["row"]) for g in done], self._world(done))
            except RiskmapError as exc:
                error = exc.en if current_language() == "en" else exc.zh
        residual = {}
        if self.fit is not None:
            residual = {id(g): float(r) for g, r in zip(done, self.fit.residuals_m)}
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.gcps))
        names = _corner_names()
        for i, g in enumerate(self.gcps):
            label = names[i] if self.mode_corners.isChecked() and i < 4 else str(i + 1)
            cells = [label, _num(g["col"], 1), _num(g["row"], 1), _num(g["lon"], 7), _num(g["lat"], 7),
                     _num(residual.get(id(g)), 2)]
            for j, v in enumerate(cells):
                item = QTableWidgetItem(v)
                if COLS[j] not in ("lon", "lat"):
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if COLS[j] == "residual" and id(g) in residual and residual[id(g)] > 1.0:
                    item.setForeground(QColor("#B71C1C"))
                self.table.setItem(i, j, item)
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        if self.fit is not None:
            method = tr("相似变换") if self.fit.method == "similarity" else tr("仿射变换")
            self.rms.setText(tr("{method}，{n} 个控制点：中误差 RMS {rms:.2f} m，最大残差 {max:.2f} m，比例 {scale:.3f} m/像素")
                             .format(method=method, n=len(done), rms=self.fit.rms_m, max=self.fit.max_m,
                                     scale=self.fit.scale))
            self.rms.setStyleSheet("color:#1B5E20;font-weight:bold" if self.fit.max_m <= 1.0
                                   else "color:#B71C1C;font-weight:bold")
        else:
            self.rms.setText(error)
            self.rms.setStyleSheet("color:#B71C1C")
        if self.image is None:
            hint = tr("先打开厂区平面图（PNG、JPEG、TIFF、BMP 或 PDF）。")
        elif self.mode_corners.isChecked():
            left = [names[i] for i, g in enumerate(self.gcps) if g["lon"] is None]
            hint = tr("在右侧地图上依次单击厂区的{corners}角。").format(corners=joined(left)) if left else \
                tr("四角已定：检查预览后单击“确定”。")
        else:
            hint = tr("在左侧平面图上单击一个明显的点（墙角、路口），再在右侧地图上单击同一点；至少 2 个点，"
                      "3 个以上可看残差。也可在表中输入经纬度。")
        self.hint.setText(hint)
        self.ok_button.setEnabled(self.fit is not None and self.image is not None)
        self.view.marks = [(g["col"], g["row"], names[i] if self.mode_corners.isChecked() and i < 4 else str(i + 1))
                           for i, g in enumerate(self.gcps) if g["col"] is not None]
        self.view.update()
        self.canvas.update()

    def _map_marks(self) -> list[tuple[float, float, str]]:
        from riskmap.crs import transformer

        pts = [(i, g) for i, g in enumerate(self.gcps) if g["lon"] is not None]
        if not pts:
            return []
        x, y = transformer(4490, self.workspace.map_epsg).transform([g["lon"] for _, g in pts],
                                                                     [g["lat"] for _, g in pts])
        names = _corner_names()
        return [(float(a), float(b), names[i] if self.mode_corners.isChecked() and i < 4 else str(i + 1))
                for (i, _), a, b in zip(pts, np.atleast_1d(x), np.atleast_1d(y))]

    def _paint_preview(self, painter: QPainter, view) -> None:
        """The plan warped by the current fit, over the map (half transparent)."""
        if not self.preview.isChecked() or self.fit is None or self.image is None:
            return
        from riskmap.render.plans import map_transform

        a, b, c, d, e, f = map_transform(self.fit.transform, self.metric_epsg, self.workspace.map_epsg,
                                         self.image.width(), self.image.height())
        xmin, _, _, ymax = view.extent
        r = view.resolution
        t = QTransform(b / r, -e / r, c / r, -f / r, (a - xmin) / r, (ymax - d) / r)
        painter.save()
        painter.setOpacity(0.55)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setTransform(t, True)
        painter.drawImage(QPointF(0, 0), self.image)
        painter.restore()

    def zoom_to_plant(self) -> None:
        if self._zoom_extent is None:
            return
        from riskmap.render.plans import extent_in

        self.canvas.set_extent(extent_in(self.workspace.map_epsg, self._zoom_extent), margin=0.3)

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self.zoom_to_plant)

    # ------------------------------------------------------------------ store
    def store(self) -> None:
        """Keep the plan and its transform in the project (background), then close."""
        if self.fit is None or self.path is None:
            return
        from riskmap.plant import set_plan

        gcps = self.gcp_tuples()
        path, page = self.path, self.page

        def done(result):
            self.task = None
            self.stored.emit(result)
            self.accept()

        def failed(exc):
            self.task = None
            ui_errors.show_error(self, exc)

        self.ok_button.setEnabled(False)
        self.task = self.main.run_task(tr("正在保存平面图"),
                                         lambda progress, cancelled: set_plan(self.project, self.eid, path, gcps,
                                                                              page=page),
                                         done, failed)

    def done(self, r) -> None:  # noqa: D102 (QDialog.done: the canvas stops rendering first)
        self.canvas.shutdown()
        super().done(r)


def _num(v, digits: int) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def _pdf_pages(path: str) -> int:
    """Pages of a PDF file (0 for anything else)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError:
        return 0
    if b"%PDF-" not in head:
        return 0
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError:
        return 0
    try:
        return len(pdf)
    finally:
        pdf.close()
