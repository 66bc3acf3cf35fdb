"""Small legend swatches (icons) for layers and legend rows, painted with the renderer's symbols."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPainter, QPen, QPixmap

from riskmap.render.symbols import draw_symbol

SIZE = 18


def swatch_pixmap(kind: str, fill: str | None, stroke: str | None, symbol: str = "circle", fill_opacity: float = 1.0,
                  dash: str = "solid", size: int = SIZE) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    r = QRectF(2, 3, size - 4, size - 6)
    if kind == "point":
        draw_symbol(p, symbol, r.center(), size * 0.62, fill, stroke, 1.0 if stroke else 0.0)
    elif kind == "line":
        pen = QPen(QColor(stroke or fill or "#000000"), 2.4)
        if dash == "dash":
            pen.setDashPattern([3.0, 1.5])
        elif dash == "dot":
            pen.setDashPattern([1.0, 1.5])
        p.setPen(pen)
        p.drawLine(QPointF(r.left(), r.center().y()), QPointF(r.right(), r.center().y()))
    else:
        if fill:
            c = QColor(fill)
            c.setAlphaF(max(0.25, min(1.0, fill_opacity)))
            p.setBrush(QBrush(c))
        else:
            p.setBrush(Qt.BrushStyle.NoBrush)
        pen = QPen(QColor(stroke or fill or "#000000"), 1.4)
        if dash == "dash":
            pen.setDashPattern([3.0, 1.5])
        elif dash == "dot":
            pen.setDashPattern([1.0, 1.5])
        p.setPen(pen)
        p.drawRect(r)
    p.end()
    return pm


def entry_icon(entry) -> QIcon:
    """Icon of a ``riskmap.render.decorations.LegendEntry`` (kept per look: the legend is rebuilt on every
    layer change, four times before a city's first frame, 17 ms of swatches painted again each time)."""
    key = (entry.kind, entry.colour, entry.stroke, entry.symbol, entry.fill_opacity, entry.dash)
    try:
        image = _swatch_image(*key)
    except TypeError:  # an unhashable value
        return QIcon(swatch_pixmap(*key))
    return QIcon(QPixmap.fromImage(image))


@lru_cache(maxsize=1024)
def _swatch_image(*key) -> QImage:
    """The swatch as an image (kept safely past the application, unlike a pixmap)."""
    return swatch_pixmap(*key).toImage()


def layer_icon(prepared) -> QIcon:
    """Icon of a layer: its single style, or four small level colours / the first categories."""
    if prepared is None:
        return QIcon()
    style = prepared.layer_def.style
    if style.type == "single":
        return QIcon(swatch_pixmap(prepared.kind, prepared.fill_colours[0], prepared.stroke_colours[0], style.symbol,
                                   style.fill_opacity, style.dash))
    colours = [c.colour for c in prepared.classes[:4]]
    pm = QPixmap(SIZE, SIZE)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    half = SIZE / 2
    for i, col in enumerate(colours):
        p.fillRect(QRectF((i % 2) * half + 1, (i // 2) * half + 1, half - 2, half - 2), QColor(col))
    p.end()
    return QIcon(pm)
