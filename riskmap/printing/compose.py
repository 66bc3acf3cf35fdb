"""Paint one layout page with the shared renderer: map, grid, watermark, decorations, tables and texts.

The painter's unit is one pixel of ``dpi`` with the page's top-left at (0, 0), on any device: a PDF
page, an SVG, a whole-page image, or a horizontal strip of one (``rows``), so that a PNG of an A0 sheet
at 300 dpi is painted strip by strip in bounded memory and still looks the same as the PDF.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF

from riskmap.export.stats import NONE_COLUMN, TOTAL
from riskmap.levels import load_levels
from riskmap.marks import DEMO_MARK
from riskmap.printing.content import PageContent, Texts
from riskmap.printing.grid import draw_grid
from riskmap.printing.template import MIN_TEXT_PT, Item, Page, Template, fill_placeholders
from riskmap.render.decorations import draw_legend, draw_north_arrow, draw_scale_bar, legend_entries, measure_legend
from riskmap.render.fonts import ensure_fonts, map_font
from riskmap.render.labels import draw_labels, place_labels
from riskmap.render.painter import render
from riskmap.render.settings import MapSettings

INK = QColor("#000000")
WATERMARK = QColor(200, 0, 0, 30)
HIGHLIGHT = "#C00000"
MAX_LABELS = 800


class PagePainter:
    """Paints ``content`` laid out by ``page`` at ``dpi``; reusable for every strip of the same page."""

    def __init__(self, page: Page, content: PageContent, texts: Texts, template: Template, dpi: float,
                 grid: bool | None = None):
        ensure_fonts()
        self.page, self.content, self.template, self.dpi = page, content, template, float(dpi)
        self.values = texts.values(content, template.defaults)
        self.note_text = texts.note
        self.grid = grid
        self.width_px = round(self.px(page.size_mm[0]))
        self.height_px = round(self.px(page.size_mm[1]))
        item = page.first("map")
        self.map_item = item
        self.map_rect = self._pixel_rect(item) if item else None
        self.settings = None
        if item is not None:
            r = self.map_rect
            self.settings = MapSettings(content.extent, int(r.width()), int(r.height()), dpi=self.dpi,
                                        crs_epsg=content.epsg)
        self._labels = None

    # ------------------------------------------------------------------ geometry
    def px(self, mm: float) -> float:
        return mm * self.dpi / 25.4

    def rect(self, item: Item) -> QRectF:
        x, y, w, h = item.rect
        return QRectF(self.px(x), self.px(y), self.px(w), self.px(h))

    def _pixel_rect(self, item: Item) -> QRectF:
        r = self.rect(item)
        return QRectF(round(r.x()), round(r.y()), max(1, round(r.width())), max(1, round(r.height())))

    def placed_labels(self):
        """Labels placed once for the whole map (strips share them, so they match at the seams)."""
        if self._labels is None and self.settings is not None:
            self._labels = place_labels(self.settings, self.content.layers, max_labels=MAX_LABELS)
        return self._labels or []

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, *, rows: tuple[int, int] | None = None, cancel=None, progress=None) -> None:
        """Paint the page (or only page pixel rows ``rows`` = (y0, y1) when the painter is a strip)."""
        y0, y1 = rows if rows is not None else (0, self.height_px)
        band = QRectF(0, y0, self.width_px, y1 - y0)
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            painter.fillRect(band, QColor("#FFFFFF"))
            painter.setClipRect(band)
            if self.map_item is not None and self.map_rect.intersects(band):
                self._paint_map(painter, rows, cancel, progress)
            for item in self.page.items:
                if item.type == "map" or not self.rect(item).adjusted(-5, -5, 5, 5).intersects(band):
                    continue
                self.paint_item(painter, item)
        finally:
            painter.restore()

    def paint_item(self, painter: QPainter, item: Item) -> None:
        """One layout item other than the map (title, legend, scale bar, note …)."""
        getattr(self, f"_item_{item.type}")(painter, item)

    # ------------------------------------------------------------------ the map
    def _paint_map(self, painter: QPainter, rows, cancel, progress) -> None:
        r, s, c = self.map_rect, self.settings, self.content
        painter.save()
        painter.setClipRect(r, Qt.ClipOperation.IntersectClip)
        if rows is None:
            painter.save()
            painter.translate(r.x(), r.y())
            render(painter, s, c.layers, labels=True, cancel=cancel, progress=progress, max_labels=MAX_LABELS)
            painter.restore()
        else:
            a = max(0, rows[0] - int(r.y()))
            b = min(s.height_px, rows[1] - int(r.y()))
            if b > a:
                xmin, _, xmax, ymax = s.extent
                res = s.resolution
                sub = MapSettings((xmin, ymax - b * res, xmax, ymax - a * res), s.width_px, b - a, dpi=s.dpi,
                                  crs_epsg=s.crs_epsg)
                painter.save()
                painter.translate(r.x(), r.y() + a)
                render(painter, sub, c.layers, labels=False, cancel=cancel, progress=progress)
                painter.restore()
                pad = self.px(3)
                labs = [lab for lab in self.placed_labels() if lab.rect[3] >= a - pad and lab.rect[1] <= b + pad]
                painter.save()
                painter.translate(r.x(), r.y())
                draw_labels(painter, s, labs, raster=True)
                painter.restore()
        painter.translate(r.x(), r.y())
        self.paint_highlight(painter)
        self.paint_grid(painter)
        self.paint_watermark(painter)
        painter.restore()
        self.paint_frame(painter)

    # The map's overlays, each on its own (a GeoPDF puts some of them in optional content groups). The
    # painter of highlight, grid and watermark is clipped to the map frame and translated to its corner.
    def has_grid(self) -> bool:
        return bool(self.grid if self.grid is not None else self.map_item.get("grid", False))

    def paint_highlight(self, painter: QPainter) -> None:
        if self.content.highlight is not None:
            self._highlight(painter, self.content.highlight)

    def paint_grid(self, painter: QPainter) -> None:
        if self.has_grid():
            draw_grid(painter, self.settings, size_pt=6.5 * self.page.scale)

    def paint_watermark(self, painter: QPainter) -> None:
        if self.content.is_demo:
            self._watermark(painter, QRectF(0, 0, self.map_rect.width(), self.map_rect.height()))

    def paint_frame(self, painter: QPainter) -> None:
        """The map frame's outline (page coordinates)."""
        pen = QPen(INK, max(self.px(self.map_item.get("frame_mm", 0.4)), 0.8))
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.map_rect)

    def _rings_path(self, geom, settings: MapSettings) -> QPainterPath:
        path = QPainterPath()
        for part in shapely.get_parts(geom):
            rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else []
            for ring in rings:
                px = settings.map_to_pixel(np.asarray(ring.coords)[:, :2])
                path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in px]))
                path.closeSubpath()
        return path

    def _highlight(self, painter: QPainter, geom) -> None:
        """Dim everything outside the atlas unit and outline it."""
        s = self.settings
        unit = self._rings_path(geom, s)
        outside = QPainterPath()
        outside.addRect(QRectF(-10, -10, s.width_px + 20, s.height_px + 20))
        outside.addPath(unit)
        outside.setFillRule(Qt.FillRule.OddEvenFill)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(255, 255, 255, 150)))
        painter.drawPath(outside)
        pen = QPen(QColor(HIGHLIGHT), self.px(0.9))
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(unit)
        painter.restore()

    def _watermark(self, painter: QPainter, rect: QRectF) -> None:
        """示例数据 across the map, so a printed demo is never taken for an assessment."""
        painter.save()
        painter.setClipRect(rect, Qt.ClipOperation.IntersectClip)
        font = map_font(12, bold=True)
        font.setPixelSize(max(8, int(min(rect.width(), rect.height()) / 7)))
        painter.setFont(font)
        painter.setPen(WATERMARK)
        fm = QFontMetricsF(font, painter.device())
        tw = fm.horizontalAdvance(DEMO_MARK)
        for fx, fy in ((0.22, 0.28), (0.5, 0.5), (0.78, 0.72)):
            painter.save()
            painter.translate(rect.x() + rect.width() * fx, rect.y() + rect.height() * fy)
            painter.rotate(-30)
            painter.drawText(QPointF(-tw / 2, fm.ascent() / 2 - fm.descent() / 2), DEMO_MARK)
            painter.restore()
        painter.restore()

    # ------------------------------------------------------------------ items
    def _text(self, painter: QPainter, rect: QRectF, text: str, size_pt: float, *, bold: bool = False,
              align: str = "left", colour: QColor = INK) -> None:
        """One line of text in ``rect``, shrunk to fit its width, vertically centred."""
        if not text:
            return
        font = map_font(size_pt, bold)
        fm = QFontMetricsF(font, painter.device())
        width = fm.horizontalAdvance(text)
        if width > rect.width() > 0:
            font = map_font(max(MIN_TEXT_PT, size_pt * rect.width() / width * 0.98), bold)
        flags = {"left": Qt.AlignmentFlag.AlignLeft, "center": Qt.AlignmentFlag.AlignHCenter,
                 "right": Qt.AlignmentFlag.AlignRight}.get(align, Qt.AlignmentFlag.AlignLeft)
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(rect, int(flags | Qt.AlignmentFlag.AlignVCenter), text)

    def _fill(self, template: str) -> str:
        return fill_placeholders(template, self.values)

    def _item_frame(self, painter: QPainter, item: Item) -> None:
        pen = QPen(INK, max(self.px(item.get("width_mm", 0.6)), 0.8))
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self.rect(item))

    def _item_title(self, painter: QPainter, item: Item) -> None:
        self._text(painter, self.rect(item), self.values["title"], item.get("size_pt", 24),
                   bold=item.get("bold", True), align=item.get("align", "center"))

    def _item_subtitle(self, painter: QPainter, item: Item) -> None:
        self._text(painter, self.rect(item), self.values["subtitle"], item.get("size_pt", 11),
                   align=item.get("align", "center"), colour=QColor("#303030"))

    def _item_text(self, painter: QPainter, item: Item) -> None:
        when = item.get("when")
        if when and not self.values.get(when):
            return
        self._text(painter, self.rect(item), self._fill(item.get("text", "")), item.get("size_pt", 9),
                   bold=item.get("bold", False), align=item.get("align", "left"))

    def _item_north_arrow(self, painter: QPainter, item: Item) -> None:
        r = self.rect(item)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(255, 255, 255, 200)))
        painter.drawRect(r.adjusted(-self.px(1), -self.px(1), self.px(1), self.px(1)))
        painter.restore()
        draw_north_arrow(painter, r, letter="N", font=map_font(10, True))

    def _item_scalebar(self, painter: QPainter, item: Item) -> None:
        if self.settings is None:
            return
        r = self.rect(item)
        fraction = min(0.25, r.width() / max(self.map_rect.width(), 1) * 0.8)
        draw_scale_bar(painter, self.settings, r, fraction=fraction, font_pt=item.get("size_pt", 7), show_ratio=True)

    def _item_inset(self, painter: QPainter, item: Item) -> None:
        c = self.content
        if not c.overview or c.overview_extent is None:
            return
        ox0, oy0, ox1, oy1 = c.overview_extent
        ex0, ey0, ex1, ey1 = self.settings.extent if self.settings else c.extent
        if c.highlight is None and (ex1 - ex0) * (ey1 - ey0) >= 0.8 * (ox1 - ox0) * (oy1 - oy0):
            return  # the map already shows everything the overview would
        r = self._pixel_rect(item)
        s = MapSettings(c.overview_extent, int(r.width()), int(r.height()), dpi=self.dpi, crs_epsg=c.epsg)
        painter.save()
        painter.setClipRect(r, Qt.ClipOperation.IntersectClip)
        painter.fillRect(r, QColor("#FFFFFF"))
        painter.translate(r.x(), r.y())
        render(painter, s, c.overview, labels=False)
        if c.highlight is not None:
            path = self._rings_path(c.highlight, s)
            painter.setPen(QPen(QColor(HIGHLIGHT), self.px(0.3)))
            painter.setBrush(QBrush(QColor(192, 0, 0, 110)))
            painter.drawPath(path)
        (x0, y0), (x1, y1) = s.map_to_pixel(np.array([[ex0, ey1], [ex1, ey0]]))
        painter.setPen(QPen(QColor(HIGHLIGHT), self.px(0.4)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(QPointF(x0, y0), QPointF(x1, y1)))
        painter.restore()
        painter.setPen(QPen(INK, self.px(0.3)))
        painter.drawRect(r)

    def _item_legend(self, painter: QPainter, item: Item) -> None:
        if self.settings is None:
            return
        r = self.rect(item)
        entries = legend_entries(self.content.layers, item.get("lang", "zh"), settings=self.settings)
        title = item.get("title", "图例")
        size = float(item.get("size_pt", 8))
        while size > MIN_TEXT_PT:
            if _legend_width(painter, entries, map_font(size), title, r.height()) <= r.width():
                break
            size -= 0.25
        draw_legend(painter, r, entries, map_font(size), title=title)

    def _item_note(self, painter: QPainter, item: Item) -> None:
        text = self.note_text if self.note_text is not None else self._fill(item.get("text", self.template.note))
        if self.content.is_demo:
            text = f"{DEMO_MARK}：图中企业、分区与数据均为虚构，仅供演示。\n" + text
        r = self.rect(item)
        size = float(item.get("size_pt", 6.5))
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)
        while True:
            font = map_font(size)
            fm = QFontMetricsF(font, painter.device())
            need = fm.boundingRect(r, flags, text)
            if need.height() <= r.height() or size <= MIN_TEXT_PT:
                break
            size -= 0.25
        painter.setFont(font)
        painter.setPen(INK)
        painter.drawText(r, flags, text)

    def _item_stats(self, painter: QPainter, item: Item) -> None:
        df = self.content.stats
        if df is None or not len(df):
            return
        draw_stats_table(painter, self.rect(item), df, self.content.stats_title or item.get("title", ""),
                         float(item.get("size_pt", 6.5)), self.px(1), first_header=item.get("unit_header", "单位"))


def _legend_width(painter, entries, font: QFont, title: str, height: float) -> float:
    """Width draw_legend needs in ``height`` (it adds columns when the rows do not fit)."""
    if not entries:
        return 0.0
    one = measure_legend(painter, entries, font, title)
    fm = QFontMetricsF(font, painter.device())
    row, gap = fm.height() * 1.45, fm.height() * 0.5
    rows = max(1, int((height - 2 * gap - row * 1.2) // row))
    cols = math.ceil(len(entries) / rows)
    return one.width() * cols + gap


def draw_stats_table(painter: QPainter, rect: QRectF, df, title: str, size_pt: float, pad: float, *,
                     first_header: str = "单位") -> None:
    """Counts by unit × level, header cells in the level colours, a 合计 row; long tables keep the units
    with the most high-risk enterprises and fold the rest into one row. ``first_header``: the heading of the
    rows' names (a template's ``unit_header``: 单位, 类别 …)."""
    levels = load_levels().levels
    level_cols = [levels[n].name_zh for n in (1, 2, 3, 4)]
    cols = level_cols + ([NONE_COLUMN] if NONE_COLUMN in df and df[NONE_COLUMN].sum() > 0 else []) + [TOTAL]
    body = df.drop(index=TOTAL, errors="ignore")
    total = df.loc[TOTAL] if TOTAL in df.index else body.sum(axis=0)
    font = map_font(size_pt)
    fm = QFontMetricsF(font, painter.device())
    title_h = fm.height() * 1.6 if title else 0.0
    row_h = fm.height() * 1.25
    fit = int((rect.height() - title_h) // row_h) - 2  # minus header and total
    smallest = max(MIN_TEXT_PT, size_pt * 0.8)
    while fit < len(body) and size_pt > smallest:  # shrink a little before folding rows
        size_pt = max(smallest, size_pt - 0.25)
        font = map_font(size_pt)
        fm = QFontMetricsF(font, painter.device())
        title_h = fm.height() * 1.6 if title else 0.0
        row_h = fm.height() * 1.25
        fit = int((rect.height() - title_h) // row_h) - 2
    ranked = body.sort_values(level_cols + [TOTAL], ascending=False, kind="stable")  # highest risk first
    rows = list(ranked.iterrows())
    if len(rows) > max(fit, 1):
        keep = ranked.iloc[: max(fit - 1, 0)]
        rest = ranked.iloc[max(fit - 1, 0):]
        rows = list(keep.iterrows()) + [(f"其他{len(rest)}个", rest.sum(axis=0))]
    painter.save()
    painter.setClipRect(rect, Qt.ClipOperation.IntersectClip)
    y = rect.top()
    if title:
        bold = map_font(size_pt * 1.15, True)
        painter.setFont(bold)
        painter.setPen(INK)
        painter.drawText(QRectF(rect.left(), y, rect.width(), title_h), int(Qt.AlignmentFlag.AlignVCenter), title)
        y += title_h
    header = [first_header] + [c.replace("风险", "") for c in cols]
    name_w = max([fm.horizontalAdvance(str(n)) for n, _ in rows] + [fm.horizontalAdvance("合计")]) + 2 * pad
    name_w = min(name_w, rect.width() * 0.42)
    num_w = (rect.width() - name_w) / len(cols)
    xs = [rect.left(), rect.left() + name_w] + [rect.left() + name_w + num_w * (i + 1) for i in range(len(cols))]
    colours = {levels[n].name_zh: levels[n].colour for n in (1, 2, 3, 4)}
    grid_pen = QPen(QColor("#808080"), max(pad * 0.12, 0.5))

    def cell(i, text, yy, fill=None, fg=INK, bold=False, left=False):
        r = QRectF(xs[i], yy, xs[i + 1] - xs[i], row_h)
        if fill is not None:
            painter.fillRect(r, fill)
        painter.setPen(grid_pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(r)
        f = map_font(size_pt, bold)
        painter.setFont(f)
        painter.setPen(fg)
        align = Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignHCenter
        painter.drawText(r.adjusted(pad * 0.6, 0, -pad * 0.6, 0), int(align | Qt.AlignmentFlag.AlignVCenter),
                         fm.elidedText(str(text), Qt.TextElideMode.ElideRight, r.width() - pad * 1.2))

    cell(0, header[0], y, QColor("#E0E0E0"), bold=True, left=True)
    for i, c in enumerate(cols, start=1):
        colour = colours.get(c)
        fill = QColor(colour) if colour else QColor("#E0E0E0")
        r, g, b = fill.red(), fill.green(), fill.blue()
        fg = QColor("#000000") if 0.299 * r + 0.587 * g + 0.114 * b > 150 else QColor("#FFFFFF")
        cell(i, header[i], y, fill, fg, bold=True)
    y += row_h
    for k, (name, values) in enumerate(rows):
        shade = QColor("#F4F4F4") if k % 2 else None
        cell(0, name, y, shade, left=True)
        for i, c in enumerate(cols, start=1):
            v = int(values.get(c, 0))
            cell(i, f"{v:,}" if v else "", y, shade, bold=(c == TOTAL))
        y += row_h
    cell(0, TOTAL, y, QColor("#E8E8E8"), bold=True, left=True)
    for i, c in enumerate(cols, start=1):
        cell(i, f"{int(total.get(c, 0)):,}", y, QColor("#E8E8E8"), bold=True)
    painter.restore()
