"""Map tools: what a mouse gesture on the canvas means (pan, zoom box, identify, select …).

A tool receives the canvas's mouse and key events with the map point under the cursor and may paint an
overlay. Other modules (editing, measuring, site checks) subclass :class:`MapTool` and call
``canvas.set_map_tool(tool)``; ``canvas.set_map_tool(None)`` returns to panning.

>>> # canvas.set_map_tool(IdentifyTool(canvas))   (a MapCanvas of a main window)
"""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

CLICK_SLOP_PX = 4


class MapTool(QObject):
    """Base class: override the event methods you need; ``map_pt`` is (x, y) in the map CRS."""

    cursor = Qt.CursorShape.ArrowCursor
    name = "tool"

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas

    def activate(self) -> None: ...

    def deactivate(self) -> None: ...

    def press(self, ev, map_pt) -> None: ...

    def move(self, ev, map_pt) -> None: ...

    def release(self, ev, map_pt) -> None: ...

    def double_click(self, ev, map_pt) -> None: ...

    def key_press(self, ev) -> bool:
        """Return True when the key was handled."""
        return False

    def leave(self) -> None: ...

    def paint(self, painter: QPainter) -> None:
        """Paint the tool's overlay (widget pixels)."""


class PanTool(MapTool):
    """Drag to pan (the cached map image follows; the map re-renders when the drag ends)."""

    cursor = Qt.CursorShape.OpenHandCursor
    name = "pan"

    def __init__(self, canvas):
        super().__init__(canvas)
        self._start = None
        self._view = None

    def press(self, ev, map_pt) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self._start = ev.position()
            self._view = self.canvas.view
            self.canvas.setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, ev, map_pt) -> None:
        if self._start is not None:
            d = ev.position() - self._start
            self.canvas.set_view(self._view.panned(d.x(), d.y()), settle=False)

    def release(self, ev, map_pt) -> None:
        if self._start is None:
            return
        d = ev.position() - self._start
        self._start = None
        self.canvas.setCursor(self.cursor)
        if abs(d.x()) + abs(d.y()) > 0:
            self.canvas.set_view(self._view.panned(d.x(), d.y()))


class _RubberBandTool(MapTool):
    """Shared by zoom box and select: a click, or a dragged rectangle."""

    def __init__(self, canvas):
        super().__init__(canvas)
        self._start: QPointF | None = None
        self._end: QPointF | None = None

    def press(self, ev, map_pt) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self._start = ev.position()
            self._end = ev.position()

    def move(self, ev, map_pt) -> None:
        if self._start is not None:
            self._end = ev.position()
            self.canvas.update()

    def release(self, ev, map_pt) -> None:
        if self._start is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        start, end = self._start, ev.position()
        self._start = self._end = None
        self.canvas.update()
        if abs(end.x() - start.x()) <= CLICK_SLOP_PX and abs(end.y() - start.y()) <= CLICK_SLOP_PX:
            self.clicked(ev, map_pt)
        else:
            x0, y0 = self.canvas.map_point(start.x(), start.y())
            x1, y1 = self.canvas.map_point(end.x(), end.y())
            self.boxed(ev, (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))

    def key_press(self, ev) -> bool:
        if ev.key() == Qt.Key.Key_Escape and self._start is not None:
            self._start = self._end = None
            self.canvas.update()
            return True
        return False

    def clicked(self, ev, map_pt) -> None: ...

    def boxed(self, ev, box) -> None: ...

    def paint(self, painter: QPainter) -> None:
        if self._start is None or self._end is None:
            return
        painter.save()
        painter.setPen(QPen(QColor("#1565C0"), 1, Qt.PenStyle.DashLine))
        painter.setBrush(QColor(21, 101, 192, 40))
        painter.drawRect(QRectF(self._start, self._end).normalized())
        painter.restore()


class ZoomBoxTool(_RubberBandTool):
    """Drag a rectangle to zoom into it; click to zoom in ×2 (or out with ``zoom_out=True``)."""

    cursor = Qt.CursorShape.CrossCursor
    name = "zoom"

    def __init__(self, canvas, zoom_out: bool = False):
        super().__init__(canvas)
        self.zoom_out = zoom_out

    def clicked(self, ev, map_pt) -> None:
        pos = ev.position()
        self.canvas.zoom_by(0.5 if self.zoom_out else 2.0, (pos.x(), pos.y()))

    def boxed(self, ev, box) -> None:
        if self.zoom_out:
            v = self.canvas.view
            f = min((box[2] - box[0]) / (v.extent[2] - v.extent[0]), (box[3] - box[1]) / (v.extent[3] - v.extent[1]))
            self.canvas.zoom_by(max(f, 0.05))
        else:
            self.canvas.set_extent(box, margin=0.0)


class IdentifyTool(MapTool):
    """Click: list the features under the cursor (all visible layers) through ``canvas.featuresIdentified``."""

    cursor = Qt.CursorShape.WhatsThisCursor
    name = "identify"

    def release(self, ev, map_pt) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        identify_at(self.canvas, *map_pt)


def identify_at(canvas, x: float, y: float) -> list:
    hits = canvas.workspace.features_at(x, y, canvas.pixel_tolerance(5))
    canvas.featuresIdentified.emit(hits, x, y)
    if hits:
        lid, fid = hits[0]
        canvas.flash([canvas.workspace.geometry_of(lid, fid)])
    return hits


class SelectTool(_RubberBandTool):
    """Click or drag a box to select features of the current layer (Shift adds, Ctrl toggles)."""

    cursor = Qt.CursorShape.CrossCursor
    name = "select"

    def __init__(self, canvas, current_layer=lambda: None):
        super().__init__(canvas)
        self.current_layer = current_layer

    def _mode(self, ev) -> str:
        mods = ev.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier:
            return "toggle"
        if mods & Qt.KeyboardModifier.ShiftModifier:
            return "add"
        return "replace"

    def _layers(self) -> list[str]:
        cur = self.current_layer()
        ws = self.canvas.workspace
        if cur and ws.has_layer(cur):
            return [cur]
        return [layer.id for layer in ws.layers if layer.visible and layer.geometry == "point"]

    def clicked(self, ev, map_pt) -> None:
        ws = self.canvas.workspace
        hits = ws.features_at(*map_pt, self.canvas.pixel_tolerance(5), layers=self._layers())
        mode = self._mode(ev)
        if not hits:
            if mode == "replace":
                ws.clear_selection()
            return
        lid, fid = hits[0]
        if mode == "replace":
            for other in list(ws.selection):
                if other != lid:
                    ws.select(other, [], "replace")
        ws.select(lid, [fid], mode)

    def boxed(self, ev, box) -> None:
        ws = self.canvas.workspace
        mode = self._mode(ev)
        rect = shapely.box(*box)
        for lid in self._layers():
            layer = ws.layer(lid)
            if not layer.visible:
                continue
            if getattr(layer, "lazy", False):  # too large to hold: asked of the project
                from riskmap.ui.lazy_query import features_in_box

                ws.select(lid, features_in_box(ws, layer, box), mode)
                continue
            b = layer.bounds()
            cand = np.flatnonzero(layer.mask & (b[:, 2] >= box[0]) & (b[:, 0] <= box[2]) & (b[:, 3] >= box[1])
                                  & (b[:, 1] <= box[3]))
            ok = cand[shapely.intersects(layer.projected[cand], rect)] if len(cand) else cand
            ws.select(lid, layer.ids[ok], mode)
