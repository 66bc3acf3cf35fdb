"""The briefing as a PDF painted with QtGui (QTextDocument laid out on A4 pages, QPdfWriter): no office suite
needed, the bundled Noto Sans SC font embedded, page numbers (第 n 页 共 m 页) and, on a demo project,
示例数据 in every page's header and footer.

The document is built with QTextCursor calls (insertText, insertTable, insertImage), never from HTML: a name
is inserted as text and cannot become markup.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (QAbstractTextDocumentLayout, QBrush, QColor, QFont, QFontMetricsF, QPageLayout,
                           QPageSize, QPainter, QPdfWriter, QPen, QTextBlockFormat, QTextCharFormat, QTextCursor,
                           QTextDocument, QTextFrameFormat, QTextImageFormat, QTextLength,
                           QTextTableCellFormat, QTextTableFormat)

from riskmap.errors import RiskmapError
from riskmap.marks import DEMO_MARK, DEMO_NOTE
from riskmap.printing import briefing_rows as rows
from riskmap.printing.briefing_docx import clean
from riskmap.printing.pdf_fix import fix_pdf
from riskmap.render.fonts import font_families

DPI = 300
A4_MM = (210.0, 297.0)
MARGINS_MM = (25.0, 30.0, 22.0, 28.0)  # left, top, right, bottom (header and footer sit inside them)
BODY_PT, TABLE_PT, H1_PT, TITLE_PT = 11.5, 9.0, 13.5, 20.0
GREY_HEAD = QColor("#D9D9D9")
GREY_TOTAL = QColor("#EFEFEF")
INK = QColor("#000000")
QT_UNIT = 96 / DPI  # image sizes, table borders, paddings and frame sizes are in 96-dpi pixels (scaled to the device)


def _px(mm: float) -> float:
    return mm * DPI / 25.4


def _font(pt: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setFamilies(font_families())
    f.setPointSizeF(pt)
    f.setBold(bold)
    f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return f


class _Builder:
    """Appends blocks, tables and images to a QTextDocument with a cursor."""

    def __init__(self, doc: QTextDocument, width_px: float):
        self.doc = doc
        self.width = width_px
        self.cur = QTextCursor(doc)
        self.first = True
        self.images = 0

    def _block(self, align=Qt.AlignmentFlag.AlignJustify, indent_chars: float = 0.0, pt: float = BODY_PT,
               before_mm: float = 0.0, after_mm: float = 1.5, line: int = 135) -> None:
        fmt = QTextBlockFormat()
        fmt.setAlignment(align)
        fmt.setTextIndent(_px(indent_chars * pt * 25.4 / 72))
        fmt.setTopMargin(_px(before_mm))
        fmt.setBottomMargin(_px(after_mm))
        fmt.setLineHeight(line, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        if self.first:
            self.cur.setBlockFormat(fmt)
            self.first = False
        else:
            self.cur.insertBlock(fmt)

    def _char(self, pt: float, bold: bool = False) -> QTextCharFormat:
        cf = QTextCharFormat()
        cf.setFont(_font(pt, bold))
        cf.setForeground(QBrush(INK))
        return cf

    def para(self, text: str, *, pt: float = BODY_PT, bold: bool = False, align=Qt.AlignmentFlag.AlignJustify,
             indent: float = 2.0, before_mm: float = 0.0, after_mm: float = 1.5) -> None:
        self._block(align, indent, pt, before_mm, after_mm)
        self.cur.insertText(clean(text), self._char(pt, bold))

    def heading(self, text: str) -> None:
        self.para(text, pt=H1_PT, bold=True, align=Qt.AlignmentFlag.AlignLeft, indent=0, before_mm=3, after_mm=2)

    def subheading(self, text: str) -> None:
        if text:
            self.para(text, pt=BODY_PT, bold=True, align=Qt.AlignmentFlag.AlignLeft, indent=2, before_mm=1, after_mm=1)

    def table(self, t) -> None:
        """A :class:`~riskmap.printing.briefing_rows.Table`: borders, grey header row repeated on every page."""
        header, body, left, total = t.header, t.body, t.left, t.total
        self._block(after_mm=0)
        tf = QTextTableFormat()
        tf.setBorder(1.0)  # one 96-dpi pixel: 0.26 mm
        tf.setBorderBrush(QBrush(INK))
        tf.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
        tf.setBorderCollapse(True)
        tf.setCellSpacing(0)
        tf.setCellPadding(_px(0.8) * QT_UNIT)
        tf.setHeaderRowCount(1)
        tf.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
        tf.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        total_w = sum(t.widths)
        tf.setColumnWidthConstraints([QTextLength(QTextLength.Type.PercentageLength, 100 * w / total_w) for w in t.widths])
        tf.setTopMargin(_px(1) * QT_UNIT)
        tf.setBottomMargin(_px(3) * QT_UNIT)
        table = self.cur.insertTable(1 + len(body), len(header), tf)
        for r, values in enumerate([header] + body):
            head = r == 0
            last = total and r == len(body)
            for c, value in enumerate(values):
                cell = table.cellAt(r, c)
                if head or last:
                    cf = QTextTableCellFormat()
                    cf.setBackground(QBrush(GREY_HEAD if head else GREY_TOTAL))
                    cell.setFormat(cf)
                cc = cell.firstCursorPosition()
                bf = QTextBlockFormat()
                bf.setAlignment(Qt.AlignmentFlag.AlignLeft if (c in left and not head) else Qt.AlignmentFlag.AlignHCenter)
                cc.setBlockFormat(bf)
                cc.insertText(clean(value), self._char(TABLE_PT, head or last))
        self.cur.movePosition(QTextCursor.MoveOperation.End)
        if t.note:
            self.para(t.note, pt=TABLE_PT, indent=0, after_mm=2)

    def image(self, image, width_mm: float, caption: str) -> None:
        self.images += 1
        name = f"riskmap-image-{self.images}"
        self.doc.addResource(QTextDocument.ResourceType.ImageResource.value, QUrl(name), image)
        self._block(Qt.AlignmentFlag.AlignHCenter, 0, after_mm=0.5, line=100)
        fmt = QTextImageFormat()
        fmt.setName(name)
        w = min(_px(width_mm), self.width) * QT_UNIT
        fmt.setWidth(w)
        fmt.setHeight(w * image.height() / max(image.width(), 1))
        self.cur.insertImage(fmt)
        if caption:
            self.para(caption, pt=TABLE_PT + 0.5, bold=True, align=Qt.AlignmentFlag.AlignHCenter, indent=0, after_mm=3)


def build_document(data, template, images: dict, device) -> QTextDocument:
    """The briefing as a QTextDocument laid out for ``device`` (page body of A4 minus the margins)."""
    left, top, right, bottom = MARGINS_MM
    body_w, body_h = _px(A4_MM[0] - left - right), _px(A4_MM[1] - top - bottom)
    doc = QTextDocument()
    doc.setUndoRedoEnabled(False)
    doc.setDefaultFont(_font(BODY_PT))
    doc.setDocumentMargin(0)
    b = _Builder(doc, body_w)
    b.cur.beginEditBlock()  # one layout at the end, not one per cell
    b.para(data.title, pt=TITLE_PT, bold=True, align=Qt.AlignmentFlag.AlignHCenter, indent=0, after_mm=2)
    b.para(data.issue_line, align=Qt.AlignmentFlag.AlignHCenter, indent=0, after_mm=1)
    org = f"编制单位：{data.org}" if data.org else "编制单位："
    b.para(f"{org}　　　　{data.date_text}", align=Qt.AlignmentFlag.AlignHCenter, indent=0, after_mm=1)
    b._block(after_mm=2)
    rule = QTextFrameFormat()
    rule.setHeight(_px(0.6) * QT_UNIT)
    rule.setBackground(QBrush(INK))
    rule.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
    b.cur.insertFrame(rule)
    b.cur.movePosition(QTextCursor.MoveOperation.End)
    if data.is_demo:
        b.para(DEMO_NOTE, pt=TABLE_PT, indent=0, before_mm=1)
    b.para(f"研判时段：{rows.period_text(data)}", before_mm=1)
    for sec in template.sections:
        if sec.heading:
            b.heading(data.fill(sec.heading))
        subs = [data.fill(x) for x in sec.subheadings] + ["", ""]
        if sec.kind == "summary":
            b.subheading(subs[0])
            for text in data.summary:
                b.para(text)
            b.subheading(subs[1])
            b.table(rows.figures_table(data))
        elif sec.kind == "map":
            if "map" in images:
                b.image(images["map"], 160.0, data.fill(sec.caption))
        elif sec.kind == "towns":
            b.table(rows.towns_table(data))
        elif sec.kind == "raised":
            b.para(rows.raised_text(data))
            if data.raised:
                b.table(rows.raised_table(data))
        elif sec.kind == "dangers":
            b.para(rows.dangers_text(data))
            if data.overdue:
                b.table(rows.dangers_table(data))
        elif sec.kind == "indicators":
            if not data.indicators:
                b.para("项目中没有规划指标。")
                continue
            b.subheading(subs[0])
            b.para(rows.indicators_text(data))
            b.table(rows.indicators_table(data))
            if "indicators" in images:
                b.subheading(subs[1])
                b.image(images["indicators"], 160.0, data.fill(sec.caption))
        elif sec.kind == "encroachments":
            b.para(rows.encroachments_text(data))
            if data.encroachments:
                b.table(rows.encroachments_table(data))
        elif sec.kind == "text":
            for text in data.fill(sec.text).splitlines():
                if text.strip():
                    b.para(text)
    b.cur.endEditBlock()
    doc.documentLayout().setPaintDevice(device)
    doc.setPageSize(QSizeF(body_w, body_h))
    return doc


def _header_footer(painter: QPainter, data, page: int, pages: int) -> None:
    left, top, right, bottom = MARGINS_MM
    w = _px(A4_MM[0])
    font = _font(8.5)
    painter.setFont(font)
    painter.setPen(INK)
    fm = QFontMetricsF(font, painter.device())
    head = QRectF(_px(left), _px(top) - _px(10), w - _px(left + right), fm.height())
    painter.drawText(head, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                     fm.elidedText(clean(data.title), Qt.TextElideMode.ElideRight, head.width() * 0.7))
    if data.is_demo:
        bold = _font(9.5, True)
        painter.setFont(bold)
        painter.drawText(head, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"{DEMO_MARK}（虚构，仅供演示）")
        painter.setFont(font)
    painter.setPen(QPen(INK, max(_px(0.2), 1)))
    painter.drawLine(QPointF(head.left(), head.bottom() + _px(1)), QPointF(head.right(), head.bottom() + _px(1)))
    foot_y = _px(A4_MM[1] - bottom) + _px(8)
    foot = QRectF(_px(left), foot_y, w - _px(left + right), fm.height())
    painter.drawText(foot, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter), f"第 {page} 页 共 {pages} 页")
    if data.is_demo:
        small = _font(7)
        painter.setFont(small)
        painter.drawText(QRectF(foot.left(), foot.bottom() + _px(1), foot.width(), QFontMetricsF(small, painter.device()).height()),
                         int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter), DEMO_NOTE)


def write_pdf(data, template, images: dict, path: str | Path) -> None:
    """Write the briefing ``data`` to ``path`` as an A4 PDF."""
    writer = QPdfWriter(str(path))
    writer.setResolution(DPI)
    writer.setTitle(clean(data.title))
    writer.setCreator("riskmap")
    size = QPageSize(QPageSize.PageSizeId.A4)
    writer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    doc = build_document(data, template, images, writer)
    pages = doc.pageCount()
    left, top, _, _ = MARGINS_MM
    body_h = doc.pageSize().height()
    painter = QPainter()
    if not painter.begin(writer):
        raise RiskmapError(f"无法写入 PDF: {path}", f"cannot write PDF: {path}")
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        layout = doc.documentLayout()
        for i in range(pages):
            if i:
                writer.newPage()
            _header_footer(painter, data, i + 1, pages)
            painter.save()
            painter.translate(_px(left), _px(top) - i * body_h)
            clip = QRectF(0, i * body_h, doc.pageSize().width(), body_h)
            painter.setClipRect(clip)
            ctx = QAbstractTextDocumentLayout.PaintContext()
            ctx.clip = clip
            ctx.palette.setColor(ctx.palette.ColorRole.Text, INK)
            layout.draw(painter, ctx)
            painter.restore()
    finally:
        painter.end()
    fix_pdf(path, (A4_MM[0] * 72 / 25.4, A4_MM[1] * 72 / 25.4))
