"""Map decorations shared by the canvas and print layouts: scale bar, north arrow, legend.

Sizes are millimetres converted through the settings' dpi (scale bar) or derived from the given font
(legend), so they look the same on screen and on paper.

>>> nice_scale_length(18_000)
20000.0
>>> scale_text(MapSettings((0, 0, 10_000, 10_000), 1000, 1000, dpi=96))
'1:37,795'
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF

from riskmap.render.fonts import device_font
from riskmap.render.prepared import OTHER, PreparedLayer
from riskmap.render.settings import MapSettings
from riskmap.render.symbols import draw_symbol

INK = "#000000"


# ------------------------------------------------------------------------------------------ scale bar


def nice_scale_length(target_m: float) -> float:
    """The round length (1, 2 or 5 × 10ⁿ metres) nearest to ``target_m`` on a log scale."""
    if not target_m or target_m <= 0 or not math.isfinite(target_m):
        return 1.0
    exp = math.floor(math.log10(target_m))
    best, best_d = 1.0, float("inf")
    for e in (exp - 1, exp, exp + 1):
        for m in (1, 2, 5):
            cand = m * 10.0 ** e
            d = abs(math.log(cand / target_m))
            if d < best_d:
                best, best_d = cand, d
    return float(f"{best:.12g}")


def _step_down(length: float) -> float:
    """The next smaller round length: 5 → 2 → 1 → 0.5 …"""
    exp = math.floor(math.log10(length) + 1e-9)
    m = round(length / 10.0 ** exp)
    return float(f"{(2 if m == 5 else 1 if m == 2 else 0.5) * 10.0 ** exp:.12g}")


def format_length(metres: float, unit: str) -> str:
    """Format a length in 'm' or 'km' without trailing zeros."""
    v = metres / 1000.0 if unit == "km" else metres
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def scale_text(settings: MapSettings) -> str:
    """The numeric scale, e.g. '1:50,000'."""
    return f"1:{round(settings.scale_denominator()):,}"


def draw_scale_bar(painter: QPainter, settings: MapSettings, anchor_rect: QRectF, *, fraction: float = 0.2,
                   segments: int = 4, font_pt: float = 7.0, show_ratio: bool = False) -> tuple[float, QRectF]:
    """A segmented black/white scale bar of a round length about ``fraction`` of the map width,
    bottom-left in ``anchor_rect`` (painter pixels of ``settings.dpi``). Returns (length in m, bar rect)."""
    ppmm = settings.px_per_mm()
    res = settings.resolution
    pad = 1.0 * ppmm
    length = nice_scale_length(settings.width_px * res * fraction)
    max_px = max(anchor_rect.width() - 2 * pad - 8 * ppmm, 1.0)
    while length / res > max_px and length > 1e-3:
        length = _step_down(length)
    bar_px = length / res
    unit = "km" if length >= 1000 else "m"
    device = painter.device()
    font = device_font(font_pt, False, settings.dpi, device.logicalDpiY() if device else settings.dpi)
    fm = QFontMetricsF(font, device) if device else QFontMetricsF(font)
    bar_h = 1.5 * ppmm
    ratio_h = fm.height() if show_ratio else 0.0
    x0 = anchor_rect.left() + pad
    y1 = anchor_rect.bottom() - pad - ratio_h
    bar = QRectF(x0, y1 - bar_h, bar_px, bar_h)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(INK), max(0.2 * ppmm, 0.8))
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    seg_w = bar_px / segments
    for i in range(segments):
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(INK if i % 2 == 0 else "#FFFFFF")))
        painter.drawRect(QRectF(x0 + i * seg_w, bar.top(), seg_w, bar_h))
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(bar)
    # labels above the bar at 0, half and full length; the unit follows the last number
    painter.setFont(font)
    base_y = bar.top() - 0.6 * ppmm - fm.descent()
    marks = [(0.0, "0"), (0.5, format_length(length / 2, unit)), (1.0, f"{format_length(length, unit)} {unit}")]
    for f, text in marks:  # each number centred on its tick
        num_w = fm.horizontalAdvance(text.split(" ")[0])
        _halo_text(painter, QPointF(x0 + f * bar_px - num_w / 2, base_y), text, font, ppmm)
    if show_ratio:
        _halo_text(painter, QPointF(x0, anchor_rect.bottom() - pad - fm.descent()), scale_text(settings), font, ppmm)
    painter.restore()
    return length, bar


def _halo_text(painter: QPainter, pos: QPointF, text: str, font: QFont, ppmm: float) -> None:
    path = QPainterPath()
    path.addText(pos, font, text)
    halo = QPen(QColor("#FFFFFF"), 0.6 * ppmm)
    halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.strokePath(path, halo)
    painter.setPen(QColor(INK))
    painter.drawText(pos, text)


# ------------------------------------------------------------------------------------------ north arrow


def draw_north_arrow(painter: QPainter, rect: QRectF, *, letter: str = "N", font: QFont | None = None) -> None:
    """A north arrow filling ``rect``: a two-tone arrowhead (black left, white right) under the letter."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    w, h = rect.width(), rect.height()
    letter_h = h * 0.3 if letter else 0.0
    cx = rect.center().x()
    top = rect.top() + letter_h
    bottom = rect.bottom()
    half = min(w / 2, (bottom - top) * 0.36)
    notch = bottom - (bottom - top) * 0.22
    tip = QPointF(cx, top)
    left = QPolygonF([tip, QPointF(cx - half, bottom), QPointF(cx, notch)])
    right = QPolygonF([tip, QPointF(cx + half, bottom), QPointF(cx, notch)])
    pen = QPen(QColor(INK), max(h * 0.02, 0.8))
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    painter.setPen(pen)
    painter.setBrush(QBrush(QColor(INK)))
    painter.drawPolygon(left)
    painter.setBrush(QBrush(QColor("#FFFFFF")))
    painter.drawPolygon(right)
    if letter:
        f = QFont(font) if font is not None else QFont()
        if font is None:
            from riskmap.render.fonts import map_font

            f = map_font(10, bold=True)
        f.setPixelSize(max(1, int(letter_h * 0.9)))
        f.setBold(True)
        painter.setFont(f)
        painter.setPen(QColor(INK))
        painter.drawText(QRectF(rect.left(), rect.top(), w, letter_h), Qt.AlignmentFlag.AlignCenter, letter)
    painter.restore()


# ------------------------------------------------------------------------------------------ legend


class LegendEntry(NamedTuple):
    """One legend row. kind: 'point' | 'line' | 'polygon' | 'header' (a layer title)."""

    kind: str
    colour: str | None
    stroke: str | None
    label: str
    count: int | None = None
    symbol: str = "circle"
    fill_opacity: float = 1.0
    dash: str = "solid"
    stroke_width_mm: float = 0.3


def _display(label: str, lang: str) -> str:
    return label[:1].upper() + label[1:] if lang == "en" and label else label


def legend_entries(layers: list[PreparedLayer], lang: str = "zh", *, settings: MapSettings | None = None,
                   headers: bool = True) -> list[LegendEntry]:
    """Legend rows of the given (visible) layers, top layer first, with feature counts per level/category.

    Level layers always list the four levels (重大风险, 较大风险, 一般风险, 低风险) even at zero; categories are
    listed when present. With ``settings`` the counts cover only features within its extent.
    """
    out: list[LegendEntry] = []
    scale = settings.scale_denominator() if settings is not None else None
    for layer in sorted(layers, key=lambda lay: -lay.z):
        if scale is not None and not layer.layer_def.visible_at(scale):
            continue  # not drawn at this scale (the plant's layers on a county map)
        style = layer.layer_def.style
        mask = layer.visible_mask(settings.extent) if settings is not None else None
        counts = layer.counts(mask)
        rows = []
        for ci, cls in enumerate(layer.classes):
            n = counts.get(cls.key, 0)
            if style.type == "level" and cls.key is None and n == 0:
                continue
            if style.type == "category" and n == 0:
                continue
            fill = layer.fill_colours[ci] if ci < len(layer.fill_colours) else None
            stroke = layer.stroke_colours[ci] if ci < len(layer.stroke_colours) else None
            if style.type == "single":
                label = layer.title(lang)
            elif cls.key == OTHER:
                label = "其他" if lang != "en" else "Other"
            else:
                label = _display(cls.label(lang), lang)
            rows.append(LegendEntry(layer.kind, fill, stroke, label, n, style.symbol, float(style.fill_opacity),
                                    style.dash, float(style.stroke_width_mm)))
        if not rows:
            continue
        if headers and style.type != "single":
            out.append(LegendEntry("header", None, None, layer.title(lang)))
        out.extend(rows)
    return out


def _legend_metrics(painter: QPainter, font: QFont):
    device = painter.device()
    fm = QFontMetricsF(font, device) if device is not None else QFontMetricsF(font)
    line = fm.height()
    return fm, line * 1.45, line * 1.6, line * 0.5  # metrics, row height, swatch width, gap


def measure_legend(painter: QPainter, entries, font: QFont, title: str | None = None) -> QSizeF:
    """The size :func:`draw_legend` needs for ``entries`` in one column."""
    entries = [LegendEntry(*e) for e in entries]
    fm, row, sw, gap = _legend_metrics(painter, font)
    text_w = max([fm.horizontalAdvance(e.label) for e in entries] + [fm.horizontalAdvance(title or "")])
    count_w = max([fm.horizontalAdvance(f"{e.count:,}") for e in entries if e.count is not None] + [0])
    width = gap + sw + gap + text_w + (2 * gap + count_w if count_w else 0) + gap
    height = gap + (row * 1.2 if title else 0) + row * len(entries) + gap
    return QSizeF(width, height)


def draw_legend(painter: QPainter, rect: QRectF, entries, font: QFont, *, title: str | None = None,
                frame: bool = True) -> QRectF:
    """Draw legend rows (swatch, label, right-aligned count) into ``rect``, in as many columns as needed.

    ``entries``: :class:`LegendEntry` or tuples (kind, colour, stroke, label, count). Returns the rect used.
    """
    entries = [LegendEntry(*e) for e in entries]
    fm, row, sw, gap = _legend_metrics(painter, font)
    unit = fm.height() / 4.0  # a quarter line: stroke widths and paddings scale with the font
    title_h = row * 1.2 if title else 0.0
    rows_per_col = max(1, int((rect.height() - 2 * gap - title_h) / row + 1e-6))
    n_cols = max(1, math.ceil(len(entries) / rows_per_col)) if entries else 1
    rows_per_col = math.ceil(len(entries) / n_cols) if entries else 0
    count_w = max([fm.horizontalAdvance(f"{e.count:,}") for e in entries if e.count is not None] + [0])
    text_w = max([fm.horizontalAdvance(e.label) for e in entries] + [0])
    col_w = gap + sw + gap + text_w + (2 * gap + count_w if count_w else 0) + gap
    used = QRectF(rect.left(), rect.top(), min(rect.width(), col_w * n_cols + gap),
                  min(rect.height(), 2 * gap + title_h + rows_per_col * row))
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setClipRect(rect)
    if frame:
        painter.setPen(QPen(QColor("#808080"), max(unit * 0.25, 0.5)))
        painter.setBrush(QBrush(QColor(255, 255, 255, 235)))
        painter.drawRect(used)
    painter.setFont(font)
    y = used.top() + gap
    if title:
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor(INK))
        painter.drawText(QRectF(used.left() + gap, y, used.width() - 2 * gap, row), Qt.AlignmentFlag.AlignVCenter, title)
        painter.setFont(font)
        y += title_h
    for i, e in enumerate(entries):
        col, r = divmod(i, rows_per_col) if rows_per_col else (0, 0)
        x = used.left() + gap + col * col_w
        top = y + r * row
        if e.kind == "header":
            hf = QFont(font)
            hf.setBold(True)
            painter.setFont(hf)
            painter.setPen(QColor(INK))
            painter.drawText(QRectF(x, top, col_w, row), Qt.AlignmentFlag.AlignVCenter, e.label)
            painter.setFont(font)
            continue
        sw_rect = QRectF(x, top + row * 0.18, sw, row * 0.64)
        _swatch(painter, e, sw_rect, unit)
        painter.setPen(QColor(INK))
        tx = x + sw + gap
        painter.drawText(QRectF(tx, top, text_w + gap, row), Qt.AlignmentFlag.AlignVCenter, e.label)
        if e.count is not None:
            painter.drawText(QRectF(tx + text_w + 2 * gap, top, count_w, row),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, f"{e.count:,}")
    painter.restore()
    return used


def _swatch(painter: QPainter, e: LegendEntry, r: QRectF, unit: float) -> None:
    if e.kind == "point":
        size = r.height() * 0.95
        draw_symbol(painter, e.symbol, r.center(), size, e.colour, e.stroke, unit * 0.35 if e.stroke else 0.0)
    elif e.kind == "line":
        pen = QPen(QColor(e.stroke or e.colour or INK), max(unit * 0.3, min(unit * 1.6, unit * e.stroke_width_mm * 2)))
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        if e.dash == "dash":
            pen.setDashPattern([3.0, 1.5])
        elif e.dash == "dot":
            pen.setDashPattern([1.0, 1.5])
        painter.setPen(pen)
        y = r.center().y()
        painter.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
    else:
        fill = QColor(e.colour) if e.colour else None
        if fill is not None:
            fill.setAlphaF(float(np.clip(e.fill_opacity, 0.0, 1.0)))
        painter.setBrush(QBrush(fill) if fill is not None else Qt.BrushStyle.NoBrush)
        pen = QPen(QColor(e.stroke or e.colour or INK), max(unit * 0.3, unit * e.stroke_width_mm * 1.5))
        if e.dash == "dash":
            pen.setDashPattern([3.0, 1.5])
        elif e.dash == "dot":
            pen.setDashPattern([1.0, 1.5])
        painter.setPen(pen if (e.stroke or e.colour) else Qt.PenStyle.NoPen)
        painter.drawRect(r.adjusted(unit * 0.2, unit * 0.2, -unit * 0.2, -unit * 0.2))
