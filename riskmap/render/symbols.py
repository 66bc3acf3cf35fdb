"""Point symbols (circle, square, triangle, diamond, star, cross) as vector templates and raster stamps.

The same template draws the vector symbol (PDF/SVG) and the cached stamp image used on raster
devices, so the two look the same. Sizes are the nominal diameter in pixels.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap

from riskmap.render._bulk import CURVE, CURVE_DATA, LINE, MOVE, make_path

SYMBOLS = ("circle", "square", "triangle", "diamond", "star", "cross", "arrow_up", "arrow_down", "plus", "x_mark",
           "check")
_K = 0.5522847498  # cubic Bézier circle constant


def _polygon(points) -> tuple[np.ndarray, np.ndarray]:
    xy = np.asarray(points + [points[0]], dtype=np.float64)
    t = np.full(len(xy), LINE, dtype=np.int32)
    t[0] = MOVE
    return t, xy


def _circle(r: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    k = _K * r
    xy = [(r, 0), (r, k), (k, r), (0, r), (-k, r), (-r, k), (-r, 0), (-r, -k), (-k, -r), (0, -r), (k, -r),
          (r, -k), (r, 0)]
    t = [MOVE] + [CURVE, CURVE_DATA, CURVE_DATA] * 4
    return np.asarray(t, dtype=np.int32), np.asarray(xy, dtype=np.float64)


def _star(outer: float = 0.66, inner: float = 0.27) -> tuple[np.ndarray, np.ndarray]:
    pts = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        r = outer if i % 2 == 0 else inner
        pts.append((r * math.cos(a), r * math.sin(a)))
    return _polygon(pts)


def _triangle(r: float = 0.62) -> tuple[np.ndarray, np.ndarray]:
    s = math.sin(math.pi / 3) * r
    return _polygon([(0, -r), (s, r / 2), (-s, r / 2)])


def _cross(a: float = 0.5, t: float = 0.17) -> tuple[np.ndarray, np.ndarray]:
    return _polygon([(-t, -a), (t, -a), (t, -t), (a, -t), (a, t), (t, t), (t, a), (-t, a), (-t, t), (-a, t),
                     (-a, -t), (-t, -t)])


def _rotated(t_xy: tuple[np.ndarray, np.ndarray], degrees: float) -> tuple[np.ndarray, np.ndarray]:
    t, xy = t_xy
    a = math.radians(degrees)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return t, xy @ rot.T


# Change marks (up / down arrows, plus, ×, check): filled outlines, y down as on screen and on paper.
_ARROW = [(0, -0.62), (0.52, -0.02), (0.2, -0.02), (0.2, 0.6), (-0.2, 0.6), (-0.2, -0.02), (-0.52, -0.02)]
_CHECK = [(-0.58, 0.02), (-0.36, -0.2), (-0.14, 0.04), (0.36, -0.5), (0.58, -0.28), (-0.14, 0.46)]

TEMPLATES = {
    "circle": _circle(),
    "square": _polygon([(-0.45, -0.45), (0.45, -0.45), (0.45, 0.45), (-0.45, 0.45)]),
    "triangle": _triangle(),
    "diamond": _polygon([(0, -0.6), (0.6, 0), (0, 0.6), (-0.6, 0)]),
    "star": _star(),
    "cross": _cross(),
    "arrow_up": _polygon(_ARROW),
    "arrow_down": _polygon([(x, -y) for x, y in _ARROW]),
    "plus": _cross(0.55, 0.16),
    "x_mark": _rotated(_cross(0.62, 0.15), 45),
    "check": _polygon(_CHECK),
}


def template(symbol: str) -> tuple[np.ndarray, np.ndarray]:
    """(element types, unit coordinates) of a symbol; unknown names draw as circles."""
    return TEMPLATES.get(symbol, TEMPLATES["circle"])


def extent_factor(symbol: str) -> float:
    """Half the symbol's bounding box in units of its nominal size."""
    _, xy = template(symbol)
    return float(np.abs(xy).max())


def symbols_path(symbol: str, centres: np.ndarray, size_px: float):
    """One QPainterPath holding the symbol at every centre (vector output)."""
    types, xy = template(symbol)
    n = len(centres)
    allxy = (centres[:, None, :] + xy[None, :, :] * size_px).reshape(-1, 2)
    return make_path(allxy, np.tile(types, n))


def symbol_path(symbol: str, size_px: float, centre=(0.0, 0.0)):
    return symbols_path(symbol, np.asarray([centre], dtype=np.float64), size_px)


def make_pen(colour, width_px: float, *, cap=Qt.PenCapStyle.RoundCap, join=Qt.PenJoinStyle.RoundJoin) -> QPen:
    pen = QPen(QColor(colour), max(width_px, 0.0))
    pen.setCapStyle(cap)
    pen.setJoinStyle(join)
    return pen


class StampCache:
    """Symbol images keyed by (symbol, size, fill, stroke, stroke width, halo); safe to share between threads."""

    def __init__(self, max_items: int = 512):
        self._items: dict = {}
        self._lock = threading.Lock()
        self._max = max_items

    def get(self, symbol: str, size_px: float, fill: str | None, stroke: str | None, stroke_px: float,
            halo: str | None = None, halo_px: float = 0.0) -> tuple[QPixmap, int]:
        key = (symbol, round(size_px, 2), fill, stroke, round(stroke_px, 2), halo, round(halo_px, 2))
        with self._lock:
            hit = self._items.get(key)
        if hit is not None:
            return hit
        value = _make_stamp(symbol, size_px, fill, stroke, stroke_px, halo, halo_px)
        with self._lock:
            if len(self._items) >= self._max:
                self._items.clear()
            self._items[key] = value
        return value


def _make_stamp(symbol, size_px, fill, stroke, stroke_px, halo, halo_px) -> tuple[QPixmap, int]:
    half = extent_factor(symbol) * size_px + stroke_px / 2 + halo_px + 1.0
    d = int(math.ceil(2 * half))
    if d % 2 == 0:
        d += 1  # odd: a centre at a pixel centre lands exactly
    img = QImage(d, d, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    c = d / 2.0
    path = symbol_path(symbol, size_px, (c, c))
    if halo:
        p.setPen(make_pen(halo, 2 * halo_px + stroke_px))
        p.setBrush(QBrush(QColor(halo)))
        p.drawPath(path)
    p.setPen(make_pen(stroke, stroke_px) if stroke and stroke_px > 0 else Qt.PenStyle.NoPen)
    p.setBrush(QBrush(QColor(fill)) if fill else Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    p.end()
    return QPixmap.fromImage(img), d


STAMPS = StampCache()


def draw_symbol(painter: QPainter, symbol: str, centre: QPointF, size_px: float, fill, stroke, stroke_px: float):
    """Draw one vector symbol (legends, single features)."""
    path = symbol_path(symbol, size_px, (centre.x(), centre.y()))
    painter.setPen(make_pen(stroke, stroke_px) if stroke and stroke_px > 0 else Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(fill)) if fill else Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
