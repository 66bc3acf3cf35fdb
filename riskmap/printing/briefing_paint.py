"""The pictures of a briefing, painted with QtGui: the 一张图 map as of a date (the print pipeline's map frame
with its legend, scale bar and north arrow) and the indicators' progress chart. Both are images at a given dpi
that the DOCX embeds and the PDF paints.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QImage, QPainter, QPen, QPolygonF

from riskmap.export.base import collect_layers
from riskmap.indicators import STATUS_ZH
from riskmap.printing.compose import PagePainter
from riskmap.printing.content import Texts, build_content
from riskmap.printing.export import SUPPORT_LAYERS, ensure_app, visible_layer_ids
from riskmap.printing.template import Item, Page, Template
from riskmap.progress import EXPORT_CANCELLED, Steps
from riskmap.render.fonts import map_font

__all__ = ["ensure_app", "map_image", "map_source", "indicator_chart", "source_at"]

INK = QColor("#000000")
CHART_DPI = 200


def _image(w_px: int, h_px: int, dpi: float) -> QImage:
    img = QImage(w_px, h_px, QImage.Format.Format_RGB32)
    dpm = int(round(dpi / 0.0254))
    img.setDotsPerMeterX(dpm)
    img.setDotsPerMeterY(dpm)
    img.fill(QColor("#FFFFFF"))
    return img


def source_at(project, at: dt.date, layer_ids: list[str]):
    """The project's layers as they stood at the end of ``at`` (levels, zone colours, enterprises that
    existed): the same frames ``riskmap export --at`` prints."""
    return collect_layers(project, layer_ids, at=at)


def map_source(project, at: dt.date):
    """The layers the briefing's map draws (the catalogue's visible ones, towns and county), as of ``at``."""
    return source_at(project, at, sorted(set(visible_layer_ids(None)) | set(SUPPORT_LAYERS)))


def map_image(project, at: dt.date, *, size_mm: tuple[float, float] = (160.0, 120.0), dpi: float = 200,
              source=None, steps: Steps | None = None) -> QImage:
    """The 一张图 as of ``at``: map frame, legend (with counts) at the right, scale bar and north arrow.
    ``source``: :func:`map_source` when the caller has read it."""
    ensure_app()
    steps = steps or Steps(None, None, message=EXPORT_CANCELLED)
    if source is None:
        source = map_source(project, at)
    steps.report(0.4, "读取图层")
    content = build_content(source, visible_layer_ids(None))
    w, h = size_mm
    legend_w = 42.0
    map_w = w - legend_w - 2.0
    items = (Item("map", (0.0, 0.0, map_w, h), {"frame_mm": 0.3, "grid": False}),
             Item("north_arrow", (map_w - 10.0, 2.0, 8.0, 12.0)),
             Item("scalebar", (1.5, h - 13.0, 60.0, 12.0), {"size_pt": 6.5}),
             Item("legend", (map_w + 2.0, 0.0, legend_w, h), {"size_pt": 7.5, "title": "图例"}))
    page = Page("A4", "portrait", (w, h), items, 1.0)
    template = Template(name="briefing-map", title="", design_paper="A4", pages={})
    pp = PagePainter(page, content, Texts(), template, dpi)
    img = _image(pp.width_px, pp.height_px, dpi)
    painter = QPainter(img)
    try:
        pp.paint(painter, cancel=steps.cancel, progress=lambda f: steps.report(0.4 + 0.6 * f, "绘制地图"))
    finally:
        painter.end()
    return img


# ------------------------------------------------------------------------------------------ indicators
STATUS_FILL = {"on_track": (QColor("#5A5A5A"), Qt.BrushStyle.SolidPattern),
               "at_risk": (QColor("#000000"), Qt.BrushStyle.BDiagPattern),
               "missed": (QColor("#000000"), Qt.BrushStyle.DiagCrossPattern)}


def indicator_chart(progress: list, *, width_mm: float = 160.0, dpi: float = CHART_DPI) -> QImage:
    """One bar per indicator: the share of its target reached (100 % = target met), a tick where the linear
    path from the base year says it should be by now, and the status written beside it. Greys and hatching,
    not colours, tell the statuses apart, so the chart reads the same in black and white."""
    ensure_app()
    px = dpi / 25.4
    row_mm, head_mm, foot_mm = 7.0, 9.0, 10.0
    h_mm = head_mm + row_mm * max(len(progress), 1) + foot_mm
    img = _image(round(width_mm * px), round(h_mm * px), dpi)
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        font = map_font(8)
        small = map_font(7)
        p.setFont(font)
        fm = QFontMetricsF(font, img)
        label_w = min(max((fm.horizontalAdvance(x.name) for x in progress), default=40.0) + 3 * px, 70 * px)
        status_w = fm.horizontalAdvance("进度正常 100%") + 4 * px
        x0 = label_w + 2 * px
        x1 = img.width() - status_w - 2 * px
        scale_max = 1.2  # bars stop at 120 % of the target

        def xat(frac: float) -> float:
            return x0 + (x1 - x0) * max(0.0, min(frac, scale_max)) / scale_max

        top = head_mm * px
        # axis: 0 %, 50 %, 100 % (target)
        p.setFont(small)
        for frac, text in ((0.0, "0"), (0.5, "50%"), (1.0, "目标 100%")):
            x = xat(frac)
            p.setPen(QPen(QColor("#909090") if frac < 1 else INK, max(px * (0.15 if frac < 1 else 0.35), 1),
                          Qt.PenStyle.DashLine if frac < 1 else Qt.PenStyle.SolidLine))
            p.drawLine(QPointF(x, top - 1.5 * px), QPointF(x, top + row_mm * px * len(progress)))
            p.setPen(INK)
            tw = QFontMetricsF(small, img).horizontalAdvance(text)
            p.drawText(QPointF(x - tw / 2, top - 2.5 * px), text)
        p.setFont(font)
        for i, x in enumerate(progress):
            y = top + i * row_mm * px
            bar = QRectF(x0, y + 1.4 * px, 0, (row_mm - 2.8) * px)
            p.setPen(INK)
            p.drawText(QRectF(0, y, label_w, row_mm * px), int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                       fm.elidedText(x.name, Qt.TextElideMode.ElideMiddle, label_w - px))
            frac = x.fraction
            if frac is not None:
                bar.setRight(xat(frac))
                colour, style = STATUS_FILL.get(x.status, (QColor("#B0B0B0"), Qt.BrushStyle.SolidPattern))
                p.setBrush(QBrush(QColor("#FFFFFF")))
                p.setPen(QPen(INK, max(px * 0.2, 1)))
                p.drawRect(bar)
                p.setBrush(QBrush(colour, style))
                p.drawRect(bar)
            expected = _expected_fraction(x)
            if expected is not None:
                ex = xat(expected)
                tri = QPolygonF([QPointF(ex, y + 1.4 * px), QPointF(ex - 1.2 * px, y), QPointF(ex + 1.2 * px, y)])
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QBrush(INK))
                p.drawPolygon(tri)
            share = "" if frac is None else f" {frac * 100:.0f}%"
            p.setPen(INK)
            p.drawText(QRectF(x1 + 2 * px, y, status_w, row_mm * px),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                       STATUS_ZH.get(x.status, x.status) + share)
        # key
        y = top + row_mm * px * len(progress) + 3 * px
        p.setFont(small)
        kx = x0
        for status, text in (("on_track", "进度正常"), ("at_risk", "滞后"), ("missed", "未完成")):
            colour, style = STATUS_FILL[status]
            r = QRectF(kx, y, 6 * px, 3.5 * px)
            p.setPen(QPen(INK, max(px * 0.2, 1)))
            p.setBrush(QBrush(QColor("#FFFFFF")))
            p.drawRect(r)
            p.setBrush(QBrush(colour, style))
            p.drawRect(r)
            p.setPen(INK)
            p.drawText(QPointF(kx + 7.5 * px, y + 3 * px), text)
            kx += 7.5 * px + QFontMetricsF(small, img).horizontalAdvance(text) + 6 * px
        tri = QPolygonF([QPointF(kx + 1.2 * px, y + 3.5 * px), QPointF(kx, y + 1 * px), QPointF(kx + 2.4 * px, y + 1 * px)])
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(INK))
        p.drawPolygon(tri)
        p.setPen(INK)
        p.drawText(QPointF(kx + 4 * px, y + 3 * px), "按进度应达到的位置")
    finally:
        p.end()
    return img


def _expected_fraction(x) -> float | None:
    """Where the linear path says the indicator should be, as a share of its target."""
    if x.expected is None or not x.target_value:
        return None
    if x.target_type == "relative_decrease":
        return x.expected / x.target_value
    if x.target_type == "coverage_rate":
        return x.expected / x.target_value
    return None
