"""Coordinate grid (经纬网) for print layouts: longitude/latitude lines of a round interval, drawn in the
map's Gauss–Krüger projection (so meridians converge slightly) with degree–minute labels at the frame.

>>> choose_interval(0.9), choose_interval(0.12)
(0.25, 0.03333333333333333)
>>> dm_label(105.5, "E"), dm_label(36.0, "N")
('105°30′E', '36°00′N')
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF

from riskmap.crs import transformer
from riskmap.render.fonts import map_font
from riskmap.render.settings import MapSettings

INTERVALS_DEG = (1 / 60, 2 / 60, 5 / 60, 10 / 60, 15 / 60, 20 / 60, 30 / 60, 1.0, 2.0, 5.0)
GRID_COLOUR = QColor(60, 60, 60, 150)


def choose_interval(span_deg: float, lines: float = 4.0) -> float:
    """The round interval (1′ … 5°) giving about ``lines`` lines across ``span_deg``."""
    target = span_deg / lines
    return min(INTERVALS_DEG, key=lambda v: abs(math.log(v / target)))


def dm_label(value: float, hemi: str) -> str:
    total = round(abs(value) * 60)
    d, m = divmod(total, 60)
    return f"{d}°{m:02d}′{hemi}"


def graticule(settings: MapSettings, n_dense: int = 64):
    """Meridians and parallels crossing the view: [(kind, value, pixel polyline (k, 2))]."""
    to_geo = transformer(settings.crs_epsg, 4490)
    to_map = transformer(4490, settings.crs_epsg)
    xmin, ymin, xmax, ymax = settings.extent
    t = np.linspace(0, 1, 33)
    ex = np.concatenate([xmin + (xmax - xmin) * t, np.full_like(t, xmax), xmax - (xmax - xmin) * t, np.full_like(t, xmin)])
    ey = np.concatenate([np.full_like(t, ymin), ymin + (ymax - ymin) * t, np.full_like(t, ymax), ymax - (ymax - ymin) * t])
    lon, lat = to_geo.transform(ex, ey)
    lon0, lon1, lat0, lat1 = float(np.min(lon)), float(np.max(lon)), float(np.min(lat)), float(np.max(lat))
    step = choose_interval(max(lon1 - lon0, lat1 - lat0))
    out = []
    for kind, lo, hi, a0, a1 in (("lon", lon0, lon1, lat0, lat1), ("lat", lat0, lat1, lon0, lon1)):
        first = math.ceil(lo / step - 1e-9)
        last = math.floor(hi / step + 1e-9)
        for k in range(first, last + 1):
            v = k * step
            s = np.linspace(a0 - (a1 - a0) * 0.05, a1 + (a1 - a0) * 0.05, n_dense)
            x, y = to_map.transform(np.full_like(s, v), s) if kind == "lon" else to_map.transform(s, np.full_like(s, v))
            px = settings.map_to_pixel(np.column_stack([x, y]))
            out.append((kind, v, px))
    return out


def _crossing(px: np.ndarray, axis: int, value: float) -> float | None:
    """Where a polyline crosses the line ``coord[axis] == value`` (the other coordinate), if it does."""
    a = px[:, axis] - value
    idx = np.flatnonzero(np.sign(a[:-1]) != np.sign(a[1:]))
    if not len(idx):
        return None
    i = int(idx[0])
    f = a[i] / (a[i] - a[i + 1])
    return float(px[i, 1 - axis] + f * (px[i + 1, 1 - axis] - px[i, 1 - axis]))


def draw_grid(painter: QPainter, settings: MapSettings, *, size_pt: float = 6.5, line_mm: float = 0.15) -> int:
    """Draw the graticule and its labels in the map frame (painter at the frame's top-left); returns lines drawn."""
    ppmm = settings.px_per_mm()
    w, h = settings.width_px, settings.height_px
    lines = graticule(settings)
    painter.save()
    painter.setClipRect(QRectF(0, 0, w, h))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(GRID_COLOUR, max(line_mm * ppmm, 0.5))
    pen.setDashPattern([6.0, 3.0])
    painter.setPen(pen)
    for _, _, px in lines:
        painter.drawPolyline(QPolygonF([QPointF(float(x), float(y)) for x, y in px]))
    font = map_font(size_pt)
    fm = QFontMetricsF(font, painter.device())
    halo = QPen(QColor("#FFFFFF"), 0.6 * ppmm)
    halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    pad = 0.8 * ppmm
    for kind, value, px in lines:
        text = dm_label(value, "E" if kind == "lon" else "N")
        tw = fm.horizontalAdvance(text)
        spots = []
        if kind == "lon":
            for edge_y, base in ((h, h - pad - fm.descent()), (0.0, pad + fm.ascent())):
                x = _crossing(px, 1, edge_y)
                if x is not None and tw / 2 + pad < x < w - tw / 2 - pad:
                    spots.append(QPointF(x - tw / 2, base))
        else:
            for edge_x, left in ((0.0, True), (w, False)):
                y = _crossing(px, 0, edge_x)
                if y is not None and fm.height() + pad < y < h - fm.height() - pad:
                    spots.append(QPointF(pad if left else w - pad - tw, y + fm.ascent() / 2 - fm.descent() / 2))
        for pos in spots:
            path = QPainterPath()
            path.addText(pos, font, text)
            painter.strokePath(path, halo)
            painter.setPen(QColor("#303030"))
            painter.setFont(font)
            painter.drawText(pos, text)
    painter.restore()
    return len(lines)
