"""Capturing points, lines and polygons on the canvas with snapping to vertices and edges.

:class:`Snapper` finds, within a pixel tolerance, the nearest vertex (else the nearest edge point) of the
visible layers' features; :class:`CaptureTool` collects clicked vertices (snapped), draws the rubber band
and hands the finished coordinates (map CRS) to :meth:`CaptureTool.finished`.

Keys: Enter or a right click finishes (a double click too), Backspace removes the last vertex, Esc cancels.
"""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPen, QPixmap, QPolygonF

from riskmap.analysis.editing import snap_point
from riskmap.ui.map_tools import MapTool

SNAP_PX = 10.0
VERTEX_PX = 4.0


class Snapper:
    """Snapping to the vertices and edges of the visible layers, within ``tolerance_px`` screen pixels."""

    def __init__(self, canvas, tolerance_px: float = SNAP_PX, enabled: bool = True):
        self.canvas = canvas
        self.tolerance_px = tolerance_px
        self.enabled = enabled
        self.extra: list = []  # more geometries to snap to (e.g. the ring being drawn)

    def candidates(self, xy, tol: float) -> list:
        out = list(self.extra)
        for layer in self.canvas.workspace.layers:
            if not layer.visible or not len(layer.gdf):
                continue
            b = layer.bounds()
            near = layer.mask & (b[:, 0] - tol <= xy[0]) & (b[:, 2] + tol >= xy[0]) & \
                (b[:, 1] - tol <= xy[1]) & (b[:, 3] + tol >= xy[1])
            if near.any():
                out.extend(layer.projected[near])
        return out

    def snap(self, xy) -> tuple[tuple[float, float], str | None]:
        if not self.enabled:
            return (float(xy[0]), float(xy[1])), None
        tol = self.canvas.pixel_tolerance(self.tolerance_px)
        return snap_point(xy, self.candidates(xy, tol), tol)


def paint_snap_marker(painter: QPainter, pos: QPointF, kind: str | None) -> None:
    if kind is None:
        return
    painter.save()
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor("#D81B60"), 2))
    if kind == "vertex":
        painter.drawRect(QRectF(pos.x() - 6, pos.y() - 6, 12, 12))
    else:
        painter.drawLine(QPointF(pos.x() - 6, pos.y() - 6), QPointF(pos.x() + 6, pos.y() + 6))
        painter.drawLine(QPointF(pos.x() - 6, pos.y() + 6), QPointF(pos.x() + 6, pos.y() - 6))
    painter.restore()


class CaptureTool(MapTool):
    """Collect vertices; subclasses implement :meth:`finished` (and may read ``self.points``)."""

    cursor = Qt.CursorShape.CrossCursor
    name = "capture"
    kind = "line"  # point | line | polygon
    colour = QColor("#D50000")
    captured = Signal(list)  # the finished vertices (map CRS)

    def __init__(self, canvas, snapper: Snapper | None = None, kind: str | None = None):
        super().__init__(canvas)
        self.snapper = snapper or Snapper(canvas)
        if kind:
            self.kind = kind
        self.points: list[tuple[float, float]] = []
        self.hover: tuple[float, float] | None = None
        self.hover_kind: str | None = None
        self._ignore_release = False

    # ---- state
    def reset(self) -> None:
        self.points = []
        self.hover = None
        self.hover_kind = None
        self.canvas.update()

    def deactivate(self) -> None:
        self.reset()

    def min_points(self) -> int:
        return {"point": 1, "line": 2, "polygon": 3}[self.kind]

    # ---- events
    def move(self, ev, map_pt) -> None:
        self.hover, self.hover_kind = self.snapper.snap(map_pt)
        self.canvas.update()

    def release(self, ev, map_pt) -> None:
        if self._ignore_release:
            self._ignore_release = False
            return
        if ev.button() == Qt.MouseButton.RightButton:
            self.finish()
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        xy, kind = self.snapper.snap(map_pt)
        self.hover, self.hover_kind = xy, kind
        self.add_point(xy)

    def double_click(self, ev, map_pt) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self._ignore_release = True
            self.finish()

    def key_press(self, ev) -> bool:
        k = ev.key()
        if k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish()
            return True
        if k == Qt.Key.Key_Escape:
            self.reset()
            return True
        if k == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self.canvas.update()
            return True
        return False

    def add_point(self, xy) -> None:
        xy = (float(xy[0]), float(xy[1]))
        if self.points and np.hypot(self.points[-1][0] - xy[0], self.points[-1][1] - xy[1]) <= \
                self.canvas.pixel_tolerance(0.5):
            return  # the same spot twice (a double click's first half)
        self.points.append(xy)
        self.canvas.update()
        if self.kind == "point":
            self.finish()

    def finish(self) -> None:
        pts = list(self.points)
        if len(pts) < self.min_points():
            if pts:
                self.too_few(pts)
            return
        self.points = []
        self.canvas.update()
        self.captured.emit(pts)
        self.finished(pts)

    def geometry(self, pts=None):
        """The captured vertices as a shapely geometry of ``kind`` (map CRS)."""
        pts = self.points if pts is None else pts
        if self.kind == "point":
            return shapely.Point(pts[0])
        if self.kind == "line":
            return shapely.LineString(pts)
        return shapely.Polygon(pts)

    def finished(self, pts: list[tuple[float, float]]) -> None: ...

    def too_few(self, pts) -> None:
        """A finish with too few vertices: keep them so the user can go on."""

    # ---- painting
    def preview_points(self) -> list[tuple[float, float]]:
        pts = list(self.points)
        if self.hover is not None and pts:
            pts.append(self.hover)
        return pts

    def paint(self, painter: QPainter) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pts = self.preview_points()
        if len(pts) >= 2:
            px = self.canvas.view.map_to_pixel(np.asarray(pts))
            poly = QPolygonF([QPointF(float(x), float(y)) for x, y in px])
            painter.setPen(QPen(self.colour, 2, Qt.PenStyle.SolidLine))
            if self.kind == "polygon" and len(pts) >= 3:
                fill = QColor(self.colour)
                fill.setAlpha(40)
                painter.setBrush(fill)
                painter.drawPolygon(poly)
            else:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawPolyline(poly)
        painter.setPen(QPen(QColor("#202020"), 1))
        painter.setBrush(QColor("#FFFFFF"))
        for x, y in self.points:
            p = self.canvas.pixel_point(x, y)
            painter.drawRect(QRectF(p.x() - VERTEX_PX, p.y() - VERTEX_PX, 2 * VERTEX_PX, 2 * VERTEX_PX))
        if self.hover is not None:
            paint_snap_marker(painter, self.canvas.pixel_point(*self.hover), self.hover_kind)
        self.paint_extra(painter)
        painter.restore()

    def paint_extra(self, painter: QPainter) -> None: ...


def paint_label(painter: QPainter, pos: QPointF, text: str) -> None:
    """A small boxed label next to the cursor (measurements)."""
    from riskmap.render.fonts import map_font

    painter.save()
    font = map_font(9)
    font.setWeight(QFont.Weight.Bold)
    painter.setFont(font)
    fm = painter.fontMetrics()
    lines = text.split("\n")
    w = max(fm.horizontalAdvance(s) for s in lines) + 10
    h = fm.height() * len(lines) + 6
    rect = QRectF(pos.x() + 14, pos.y() + 10, w, h)
    painter.setPen(QPen(QColor("#424242"), 1))
    painter.setBrush(QColor(255, 255, 255, 230))
    painter.drawRect(rect)
    painter.setPen(QColor("#101010"))
    painter.drawText(rect.adjusted(5, 3, -5, -3), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), text)
    painter.restore()


def svg_icon(svg: str) -> QIcon:
    """An icon from inline SVG text (24×24)."""
    img = QImage.fromData(svg.encode("utf-8"), "SVG")
    return QIcon(QPixmap.fromImage(img)) if not img.isNull() else QIcon()
