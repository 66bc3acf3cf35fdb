"""The briefing as a Word document (python-docx), for staff to edit in WPS or Word.

The template's Word file gives the styles, page setup, header and footer; its body is replaced. Styles carry
the usual fonts of Chinese government documents (GB/T 9704 practice): title 方正小标宋简体 二号, level-1
headings 黑体 三号, level-2 楷体_GB2312 三号, body 仿宋_GB2312 三号, tables 仿宋_GB2312 小四; the East-Asian
font is named in ``w:eastAsia`` so Word and WPS use it (and substitute where it is not installed). Tables have
borders, grey header rows repeated on each page, and levels written out (重大风险（红）…) so they read in black and
white. Every value goes in as run text: python-docx writes it as XML text, nothing is compiled.

The bundled ``resources/templates/briefing.docx`` is made by :func:`make_template`
(``python -m riskmap.printing.briefing_docx OUT.docx``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from riskmap.errors import RiskmapError
from riskmap.marks import DEMO_MARK, DEMO_NOTE
from riskmap.printing import briefing_rows as rows

TITLE_FONT = "方正小标宋简体"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
NUMBER_FONT = "宋体"  # 页码: 4号半角宋体阿拉伯数字 (GB/T 9704)
TABLE_STYLE = "简报表格文字"
NOTE_STYLE = "简报说明"
ISSUE_STYLE = "简报期号"
HEADER_GREY = "D9D9D9"
TOTAL_GREY = "EFEFEF"
# (style, font, size pt, bold, alignment, first-line indent pt, line spacing pt or None, space before/after pt)
STYLES = {
    "Normal": (BODY_FONT, 16, False, WD_ALIGN_PARAGRAPH.JUSTIFY, 32, 28, (0, 0)),
    "Title": (TITLE_FONT, 22, False, WD_ALIGN_PARAGRAPH.CENTER, 0, 36, (0, 6)),
    "Heading 1": (H1_FONT, 16, False, WD_ALIGN_PARAGRAPH.LEFT, 32, 28, (6, 0)),
    "Heading 2": (H2_FONT, 16, False, WD_ALIGN_PARAGRAPH.LEFT, 32, 28, (0, 0)),
    "Caption": (H1_FONT, 12, False, WD_ALIGN_PARAGRAPH.CENTER, 0, None, (3, 9)),
    ISSUE_STYLE: (BODY_FONT, 16, False, WD_ALIGN_PARAGRAPH.CENTER, 0, 28, (0, 0)),
    TABLE_STYLE: (BODY_FONT, 12, False, WD_ALIGN_PARAGRAPH.CENTER, 0, None, (0, 0)),
    NOTE_STYLE: (BODY_FONT, 12, False, WD_ALIGN_PARAGRAPH.LEFT, 0, None, (3, 3)),
}
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value) -> str:
    """Text as XML allows it: control characters dropped (a name is data, shown as written otherwise).

    >>> clean("{{7*7}}\\x00公司")
    '{{7*7}}公司'
    """
    return _XML_BAD.sub("", "" if value is None else str(value))


# ----------------------------------------------------------------------------------------------- styles
def _fonts(rpr, name: str) -> None:
    """Name ``name`` for every script of a run or style (East Asian included), dropping theme fonts."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)


def _set_style(doc, name: str, spec, *, force: bool) -> None:
    font, size, bold, align, indent, line, (before, after) = spec
    styles = doc.styles
    try:
        style = styles[name]
        if not force:
            return
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"] if name != "Normal" else None
        style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    _fonts(style.element.get_or_add_rPr(), font)
    pf = style.paragraph_format
    pf.alignment = align
    pf.first_line_indent = Pt(indent) if indent else Pt(0)
    if line:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(line)
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if name.startswith("Heading"):
        pf.keep_with_next = True
    ppr, rpr = style.element.get_or_add_pPr(), style.element.get_or_add_rPr()
    for el in ppr.findall(qn("w:pBdr")) + rpr.findall(qn("w:spacing")) + rpr.findall(qn("w:kern")):
        el.getparent().remove(el)  # the default Title's blue rule and letter spacing
    szcs = rpr.find(qn("w:szCs"))
    if szcs is None:
        szcs = OxmlElement("w:szCs")
        rpr.append(szcs)
    szcs.set(qn("w:val"), str(int(size * 2)))


def ensure_styles(doc, *, force: bool = False) -> None:
    """The styles the briefing uses; a user's template keeps its own unless ``force``."""
    for name, spec in STYLES.items():
        _set_style(doc, name, spec, force=force)


def _page_number_field(paragraph) -> None:
    """— PAGE — in the footer (a field: Word and WPS fill in each page's number)."""
    def run(text=None, fld=None, instr=None):
        r = paragraph.add_run(text or "")
        r.font.size = Pt(14)
        _fonts(r._element.get_or_add_rPr(), NUMBER_FONT)
        if fld:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), fld)
            r._element.append(el)
        if instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = instr
            r._element.append(el)
    run("— ")
    run(fld="begin")
    run(instr=" PAGE ")
    run(fld="separate")
    run("1")
    run(fld="end")
    run(" —")


def make_template(path: str | Path) -> Path:
    """Write the default briefing template: A4, GB/T 9704 margins, the styles, page numbers in the footer."""
    doc = Document()
    ensure_styles(doc, force=True)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(20)
    footer = sec.footer.paragraphs[0]
    footer.style = doc.styles["Normal"]
    footer.paragraph_format.first_line_indent = Pt(0)
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number_field(footer)
    header = sec.header.paragraphs[0]
    header.style = doc.styles["Normal"]
    header.paragraph_format.first_line_indent = Pt(0)
    for p in list(doc.paragraphs):
        p._element.getparent().remove(p._element)
    pkg = doc.part.package
    for key, rel in list(pkg.rels.items()):
        if rel.reltype.endswith("/thumbnail"):  # python-docx's sample preview picture
            del pkg.rels[key]
    core = doc.core_properties
    core.title, core.author, core.comments = "研判简报模板", "riskmap", "研判简报模板：样式、页面设置、页眉页脚"
    doc.save(str(path))
    return Path(path)


# ----------------------------------------------------------------------------------------------- body
def _clear_body(doc) -> None:
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def _style_id(doc, name: str) -> str:
    """A paragraph style's id, looked up once per document (python-docx looks it up on every assignment)."""
    cache = doc.__dict__.setdefault("_riskmap_style_ids", {})
    if name not in cache:
        cache[name] = doc.styles[name].style_id
    return cache[name]


def _para(doc, text: str = "", style: str | None = None, *, align=None, indent: bool | None = None):
    p = doc.add_paragraph()
    if style is not None:
        p._p.style = _style_id(doc, style)
    if text:
        p.add_run(clean(text))
    if align is not None:
        p.alignment = align
    if indent is False:
        p.paragraph_format.first_line_indent = Pt(0)
    return p


def _sub(doc, text: str) -> None:
    """A level-2 heading (楷体_GB2312), when the template gives one."""
    if text:
        _para(doc, text, "Heading 2")


def _shade(cell, fill: str) -> None:
    tcpr = cell._element.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _borders(table) -> None:
    tblpr = table._element.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "6")  # eighths of a point: 0.75 pt
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tblpr.append(borders)


def _table(doc, table, width_mm: float):
    """A bordered table (a :class:`~riskmap.printing.briefing_rows.Table`): grey header row repeated on every
    page, text columns left-aligned, a shaded bold 合计 row."""
    header, rows, left, total = table.header, table.body, table.left, table.total
    t = doc.add_table(rows=1 + len(rows), cols=len(header))
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    _borders(t)
    style = _style_id(doc, TABLE_STYLE)
    total_w = sum(table.widths)
    widths = [Mm(width_mm * w / total_w) for w in table.widths]
    for j, col in enumerate(t.columns):
        col.width = widths[j]
    grid = [r.cells for r in t.rows]  # python-docx rebuilds a row's cells on each access
    for j, text in enumerate(header):
        cell = grid[0][j]
        cell.width = widths[j]
        _shade(cell, HEADER_GREY)
        p = cell.paragraphs[0]
        p._p.style = style
        run = p.add_run(clean(text))
        run.bold = True
    trpr = t.rows[0]._tr.get_or_add_trPr()
    head = OxmlElement("w:tblHeader")
    head.set(qn("w:val"), "true")
    trpr.append(head)
    for i, row in enumerate(rows, start=1):
        last = total and i == len(rows)
        for j, value in enumerate(row):
            cell = grid[i][j]
            cell.width = widths[j]
            p = cell.paragraphs[0]
            p._p.style = style
            if j in left:
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            run = p.add_run(clean(value))
            if last:
                run.bold = True
                _shade(cell, TOTAL_GREY)
    _para(doc, table.note, style=NOTE_STYLE)  # space (or the note) after the table
    return t


def _picture(doc, image_png: bytes, width_mm: float, caption: str) -> None:
    p = _para(doc, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    p.paragraph_format.keep_with_next = True
    p.add_run().add_picture(io.BytesIO(image_png), width=Mm(width_mm))
    if caption:
        _para(doc, caption, "Caption")


def _text_width_mm(doc) -> float:
    sec = doc.sections[-1]
    return max(60.0, (sec.page_width - sec.left_margin - sec.right_margin) / 36000.0)


def _header_mark(doc) -> None:
    """示例数据 in every section's header and footer, so every page of a demo says it."""
    for sec in doc.sections:
        for part in (sec.header, sec.first_page_header, sec.even_page_header):
            p = part.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.paragraph_format.first_line_indent = Pt(0)
            r = p.add_run(f"{DEMO_MARK}（虚构，仅供演示）")
            r.font.size = Pt(10.5)
            r.bold = True
        for part in (sec.footer, sec.first_page_footer, sec.even_page_footer):
            p = part.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.first_line_indent = Pt(0)
            r = p.add_run(DEMO_NOTE)
            r.font.size = Pt(9)


def png_bytes(image) -> bytes:
    """A QImage as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise RiskmapError("图片无法编码为 PNG", "cannot encode the picture as PNG")
    buf.close()
    return bytes(data.data())


def write_docx(data, template, images: dict, path: str | Path) -> None:
    """Write the briefing ``data`` (a :class:`~riskmap.printing.briefing.BriefingData`) to ``path``."""
    try:
        doc = Document(str(template.docx))
    except Exception as exc:  # python-docx raises several kinds for a file that is not a Word document
        raise RiskmapError(f"简报模板不是有效的 Word 文件: {exc}", f"the briefing template is not a Word file: {exc}",
                           where=str(template.docx)) from None
    _clear_body(doc)
    ensure_styles(doc)
    width = _text_width_mm(doc)
    _para(doc, data.title, "Title")
    _para(doc, data.issue_line, ISSUE_STYLE)
    line = _para(doc, indent=False)
    line.paragraph_format.tab_stops.add_tab_stop(Mm(width), WD_TAB_ALIGNMENT.RIGHT)
    line.add_run(clean(f"编制单位：{data.org}" if data.org else "编制单位："))
    line.add_run("\t" + clean(data.date_text))
    _rule(line)
    if data.is_demo:
        _para(doc, DEMO_NOTE, NOTE_STYLE)
    _para(doc, f"研判时段：{rows.period_text(data)}", indent=None)
    for sec in template.sections:
        if sec.heading:
            _para(doc, data.fill(sec.heading), "Heading 1")
        subs = [data.fill(x) for x in sec.subheadings] + ["", ""]
        if sec.kind == "summary":
            _sub(doc, subs[0])
            for text in data.summary:
                _para(doc, text)
            _sub(doc, subs[1])
            _table(doc, rows.figures_table(data), width)
        elif sec.kind == "map":
            if "map" in images:
                _picture(doc, png_bytes(images["map"]), width, data.fill(sec.caption))
        elif sec.kind == "towns":
            _table(doc, rows.towns_table(data), width)
        elif sec.kind == "raised":
            _para(doc, rows.raised_text(data))
            if data.raised:
                _table(doc, rows.raised_table(data), width)
        elif sec.kind == "dangers":
            _para(doc, rows.dangers_text(data))
            if data.overdue:
                _table(doc, rows.dangers_table(data), width)
        elif sec.kind == "indicators":
            if not data.indicators:
                _para(doc, "项目中没有规划指标。")
                continue
            _sub(doc, subs[0])
            _para(doc, rows.indicators_text(data))
            _table(doc, rows.indicators_table(data), width)
            if "indicators" in images:
                _sub(doc, subs[1])
                _picture(doc, png_bytes(images["indicators"]), width, data.fill(sec.caption))
        elif sec.kind == "encroachments":
            _para(doc, rows.encroachments_text(data))
            if data.encroachments:
                _table(doc, rows.encroachments_table(data), width)
        elif sec.kind == "text":
            for text in data.fill(sec.text).splitlines():
                if text.strip():
                    _para(doc, text)
    if data.is_demo:
        _header_mark(doc)
    core = doc.core_properties
    core.title = clean(data.title)
    core.author = clean(data.org) or "riskmap"
    core.comments = DEMO_NOTE if data.is_demo else ""
    core.created = dt.datetime.now()
    try:
        doc.save(str(path))
    except OSError as exc:
        raise RiskmapError(f"无法写入 Word 文件: {exc}", f"cannot write the Word file: {exc}") from None


def _rule(paragraph) -> None:
    """A rule under the 编制单位 line (the 简报 header's separator)."""
    ppr = paragraph._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "12")
    bottom.set(qn("w:space"), "4")
    bottom.set(qn("w:color"), "000000")
    bdr.append(bottom)
    ppr.append(bdr)


if __name__ == "__main__":  # pragma: no cover - makes the bundled template
    out = make_template(sys.argv[1] if len(sys.argv) > 1 else "briefing.docx")
    print(out)
