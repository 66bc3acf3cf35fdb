"""One printable worksheet layout shared by every XLSX riskmap writes (openpyxl, write-only: linear and fast).

Title row (示例数据 added on demo projects), subtitle, bold grey header, column widths, thin borders,
notes under the table, frozen header, print titles, landscape fitted to the page width, page numbers.

Every text cell is a string cell, never a formula: a name such as ``=HYPERLINK(...)`` is shown as written.

>>> # wb = Workbook(write_only=True); ws = wb.create_sheet("企业")
>>> # fill_printable_sheet(ws, title="企业", subtitle="", columns=[Column("name", "名称", 20)],
>>> #                      rows=[{"name": "甲"}], value=lambda r, c: r.get(c.key))
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass

import numpy as np

from riskmap.marks import DEMO_MARK, demo_title
_PLAIN = (bool, int, float, decimal.Decimal, dt.date, dt.datetime, dt.time, dt.timedelta)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    number_format: str | None = None


@contextlib.contextmanager
def streaming_workbook() -> Iterator:
    """A write-only openpyxl workbook (rows stream to temporary files: linear, little memory).

    If the block fails (or is cancelled) before the workbook is saved, its sheets' streams are closed and their
    temporary files removed.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    try:
        yield wb
    except BaseException:
        for ws in wb.worksheets:
            with contextlib.suppress(Exception):
                ws.close()
            with contextlib.suppress(Exception):
                ws._writer.cleanup()
        raise


def text_cell(ws, value, style=None):
    """A write-only cell holding ``value``: numbers, booleans and dates as they are, anything else as text.

    Text is always a string cell (openpyxl would store text starting with ``=`` as a formula); characters
    a workbook cannot hold (control characters) are dropped. ``style`` is a cell whose style is copied.
    """
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        value = None
    elif value is not None and not isinstance(value, _PLAIN):
        value = _clean(value if isinstance(value, str) else str(value))
    cell = WriteOnlyCell(ws, value=None if isinstance(value, str) else value)
    if isinstance(value, str):
        cell._value = value
        cell.data_type = "s"
    if style is not None:
        cell._style = copy(style._style)  # one style lookup per column, not per cell (as openpyxl's own copies)
    return cell


def _clean(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text) if ILLEGAL_CHARACTERS_RE.search(text) else text


def body_style(ws, column: Column, *, fill=None, font=None):
    """A style prototype for the table cells of ``column`` (thin border, top-aligned, wrapped, its number format).

    Give it to :func:`text_cell`, or copy it onto a cell with :func:`restyle`: styles are looked up once, not per cell.
    """
    from openpyxl.styles import Alignment, Border, Side

    thin = Side(style="thin", color="808080")
    proto = text_cell(ws, None)
    proto.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    proto.alignment = Alignment(vertical="top", wrap_text=True)
    if column.number_format:
        proto.number_format = column.number_format
    if fill is not None:
        proto.fill = fill
    if font is not None:
        proto.font = font
    return proto


def restyle(cell, proto) -> None:
    """Give ``cell`` the style of the prototype ``proto``."""
    cell._style = copy(proto._style)


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while rows stream out: its full passes over the many live row objects
    made 100k rows take twice as long. Cells and rows form no cycles, so nothing piles up."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def footer_text(text: str) -> str:
    """Text for a page header/footer: ``&`` doubled so that user text is never a formatting code."""
    return text.replace("&", "&&")


def fill_printable_sheet(ws, *, title: str, subtitle: str, columns: Sequence[Column], rows: Iterable[dict],
                         value: Callable[[dict, Column], object], notes: Sequence[str] = (), demo: bool = False,
                         paper: str = "A4", footer_left: str = "", empty_text: str | None = None,
                         style_row: Callable[[list, dict], None] | None = None) -> int:
    """Write ``rows`` (dicts) into the write-only sheet ``ws`` under the shared print layout; returns rows written.

    ``value`` gives each cell; ``style_row(cells, row)`` may restyle a row's cells before it is written.
    """
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    title = demo_title(title, demo)
    ncols = max(1, len(columns))
    last = get_column_letter(ncols)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    # a write-only sheet writes its head (properties, views, columns) with the first row: set them first
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A4"
    ws.print_title_rows = "1:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A3 if paper == "A3" else Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if footer_left:
        ws.oddFooter.left.text = footer_text(footer_left[:60])
    if demo:
        ws.oddHeader.right.text = DEMO_MARK
    ws.row_dimensions[1].height = 28
    head = text_cell(ws, None)
    head.font = Font(bold=True, size=14)
    head.alignment = Alignment(horizontal="center", vertical="center")
    ws.append([text_cell(ws, title, head)])
    ws.merged_cells.add(f"A1:{last}1")
    ws.append([text_cell(ws, subtitle)])
    ws.merged_cells.add(f"A2:{last}2")
    hdr = text_cell(ws, None)
    hdr.font = Font(bold=True)
    hdr.fill = PatternFill("solid", fgColor="D9D9D9")
    hdr.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    hdr.border = border
    ws.append([text_cell(ws, c.header, hdr) for c in columns])
    body = [body_style(ws, c) for c in columns]
    row_no, written = 3, 0
    with _gc_paused():
        for r in rows:
            cells = [text_cell(ws, value(r, c), proto) for c, proto in zip(columns, body)]
            if style_row is not None:
                style_row(cells, r)
            ws.append(cells)
            row_no += 1
            written += 1
    if not written and empty_text:
        ws.append([text_cell(ws, empty_text)])
        row_no += 1
    note_style = text_cell(ws, None)
    note_style.alignment = Alignment(wrap_text=True, vertical="top")
    for note in notes or ():
        row_no += 1
        ws.row_dimensions[row_no].height = 32
        ws.append([text_cell(ws, note, note_style)])
        ws.merged_cells.add(f"A{row_no}:{last}{row_no}")
    return written
