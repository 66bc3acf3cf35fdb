"""One printable worksheet layout shared by every XLSX riskmap writes (XlsxWriter, constant memory: rows stream
out in order, linear and fast).

Title row (示例数据 added on demo projects), subtitle, bold grey header, column widths, thin borders,
notes under the table, frozen header, print titles, landscape fitted to the page width, page numbers.

Every text cell is a string cell written with ``write_string``, never a formula: a name such as
``=HYPERLINK(...)`` is shown as written. Characters a workbook cannot hold are dropped, and text is cut to
Excel's limit of 32,767 characters a cell.

>>> # with atomic_path("企业.xlsx") as tmp, streaming_workbook(tmp) as book:
>>> #     fill_printable_sheet(book, book.sheet("企业"), title="企业", subtitle="", columns=[Column("name", "名称", 20)],
>>> #                          rows=[{"name": "甲"}], value=lambda r, c: r.get(c.key))
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from riskmap.marks import DEMO_MARK, demo_title
from riskmap.progress import gc_paused

MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
# characters an XLSX cell cannot hold (the same set openpyxl refuses)
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_DATE_FORMATS = ((dt.datetime, "yyyy-mm-dd h:mm:ss"), (dt.date, "yyyy-mm-dd"), (dt.time, "h:mm:ss"),
                 (dt.timedelta, "[hh]:mm:ss"))
_BORDER = {"border": 1, "border_color": "#808080"}
A3, A4 = 8, 9  # Excel's paper size codes
# text XlsxWriter must escape as _xHHHH_ (control characters, non-characters, and that escape itself)
_NEEDS_X_ESCAPE = re.compile("_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    number_format: str | None = None


class StreamingBook:
    """An XlsxWriter workbook in constant-memory mode with its formats looked up once, not per cell."""

    def __init__(self, wb):
        self.wb = wb
        self._formats: dict[tuple, object] = {}
        self._props: dict[int, dict] = {}

    def sheet(self, name: str):
        """A new worksheet (rows must then be written in order, top to bottom)."""
        return self.wb.add_worksheet(name, worksheet_class=_sheet_class())

    def fmt(self, **props):
        """The cell format with these XlsxWriter properties (one Format object per distinct set)."""
        key = tuple(sorted(props.items()))
        f = self._formats.get(key)
        if f is None:
            f = self._formats[key] = self.wb.add_format(props)
            self._props[id(f)] = props
        return f

    def body(self, column: Column, **extra):
        """The format of the table cells of ``column`` (thin border, top-aligned, wrapped, its number format)."""
        props = {**_BORDER, "valign": "top", "text_wrap": True}
        if column.number_format:
            props["num_format"] = column.number_format
        return self.fmt(**props, **extra)

    def dated(self, f, value):
        """``f`` (a format of this book, or None) with the number format a date/time ``value`` shows with."""
        props = dict(self._props.get(id(f), {})) if f is not None else {}
        if "num_format" not in props:
            props["num_format"] = next(nf for t, nf in _DATE_FORMATS if isinstance(value, t))
        return self.fmt(**props)

    def write(self, ws, row: int, col: int, value, f=None) -> None:
        """Write ``value`` (as given by :func:`cell_value`) into a cell: text always as a string cell."""
        # the undecorated writers (the public ones only add A1-notation parsing); text only ever as a string
        t = type(value)
        if t is str:
            ws._write_string(row, col, value, f)
        elif value is None:
            if f is not None:
                ws._write_blank(row, col, None, f)
        elif t is float or t is int:
            ws._write_number(row, col, value, f)
        elif t is bool:
            ws._write_boolean(row, col, value, f)
        elif isinstance(value, (dt.date, dt.time, dt.timedelta)):
            ws._write_datetime(row, col, value, self.dated(f, value))
        elif isinstance(value, (int, float, decimal.Decimal)):
            ws._write_number(row, col, float(value), f)
        else:
            ws._write_string(row, col, _clean(str(value)), f)


_SHEET_CLASS = None


def _sheet_class():
    """XlsxWriter's worksheet with a faster writer for the cells of a streamed row (text, number, blank).

    Its text cells are always escaped: XlsxWriter's own writer passes text of the form ``<r>…</r>`` into the
    file unescaped (as a rich string), so user text could inject XML.
    """
    global _SHEET_CLASS
    if _SHEET_CLASS is not None:
        return _SHEET_CLASS
    from xlsxwriter.utility import xl_rowcol_to_cell_fast
    from xlsxwriter.worksheet import Worksheet

    class FastSheet(Worksheet):
        def _write_cell(self, row: int, col: int, cell) -> None:
            kind = cell.__class__.__name__
            if kind not in ("String", "Number", "Blank") or not self.constant_memory:
                return super()._write_cell(row, col, cell)
            f = cell.format
            if f:
                style = f' s="{f._get_xf_index()}"'
            else:
                style = ""
                info = self.row_info.get(row)
                if info is not None and info.row_format:
                    style = f' s="{info.row_format._get_xf_index()}"'
                elif col in self.col_info and self.col_info[col].column_format is not None:
                    style = f' s="{self.col_info[col].column_format._get_xf_index()}"'
            ref = xl_rowcol_to_cell_fast(row, col)
            if kind == "Number":
                self.fh.write(f'<c r="{ref}"{style}><v>{cell.number:.16G}</v></c>')
            elif kind == "Blank":
                self.fh.write(f'<c r="{ref}"{style}/>')
            else:
                text = cell.string
                if _NEEDS_X_ESCAPE.search(text):
                    text = self._escape_control_characters(text)
                if "&" in text or "<" in text or ">" in text:
                    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                space = ' xml:space="preserve"' if text and (text[0] in " \t\n\r" or text[-1] in " \t\n\r") else ""
                self.fh.write(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            return None

    _SHEET_CLASS = FastSheet
    return FastSheet


@contextlib.contextmanager
def streaming_workbook(path: str | os.PathLike) -> Iterator[StreamingBook]:
    """A constant-memory XlsxWriter workbook written to ``path`` when the block ends without error.

    Rows stream to temporary files beside ``path`` (give it the temporary path of
    :func:`riskmap.atomic.atomic_path`). If the block fails (or is cancelled), nothing is written and the
    sheets' temporary files are closed and removed.
    """
    import xlsxwriter

    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent),
                                         "strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "nan_inf_to_errors": True,
                                         "remove_timezone": True})
    try:
        yield StreamingBook(wb)
    except BaseException:
        wb.fileclosed = True  # no write from the destructor
        for ws in wb.worksheets():
            fh = getattr(ws, "row_data_fh", None)
            if fh is not None:
                with contextlib.suppress(Exception):
                    fh.close()
            name = getattr(ws, "row_data_filename", None)
            if name:
                with contextlib.suppress(OSError):
                    os.unlink(name)
        raise
    from xlsxwriter.exceptions import FileCreateError

    try:
        wb.close()
    except FileCreateError as exc:  # the OSError (disk full, no permission) as it was, for atomic_path's message
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))
        raise cause from None


def cell_value(value):
    """``value`` as a cell holds it: numbers, booleans and dates as they are, None for missing, anything else
    as text without the characters a workbook cannot hold, cut to 32,767 characters."""
    if type(value) is str:
        return _clean(value)
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, decimal.Decimal, dt.date, dt.time, dt.timedelta)):
        return None if value != value else value  # NaN, NaT
    return _clean(value if isinstance(value, str) else str(value))


def _clean(text: str) -> str:
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS]


def footer_text(text: str) -> str:
    """Text for a page header/footer: ``&`` doubled so that user text is never a formatting code."""
    return text.replace("&", "&&")


def _merged_text(book: StreamingBook, ws, row: int, last: int, text, f) -> None:
    """``text`` as a string cell across columns 0..last of ``row`` (merge_range would write "=…" as a formula)."""
    if last > 0:
        ws.merge_range(row, 0, row, last, None, f)
    book.write(ws, row, 0, cell_value(text), f)


def fill_printable_sheet(book: StreamingBook, ws, *, title: str, subtitle: str, columns: Sequence[Column],
                         rows: Iterable[dict], value: Callable[[dict, Column], object], notes: Sequence[str] = (),
                         demo: bool = False, paper: str = "A4", footer_left: str = "", empty_text: str | None = None,
                         style_row: Callable[[dict], dict | None] | None = None) -> int:
    """Write ``rows`` (dicts) into the new, empty sheet ``ws`` under the shared print layout; returns rows written.

    ``value`` gives each cell; ``style_row(row)`` may give formats ({column index: format}) replacing the
    column formats of that row's cells.
    """
    title = demo_title(title, demo)
    ncols = max(1, len(columns))
    last = ncols - 1
    for i, c in enumerate(columns):
        ws.set_column(i, i, c.width)
    ws.freeze_panes(3, 0)
    ws.repeat_rows(0, 2)
    ws.set_landscape()
    ws.set_paper(A3 if paper == "A3" else A4)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=1, bottom=1)
    footer = "&C第 &P 页，共 &N 页"
    if footer_left:
        footer = "&L" + footer_text(footer_left[:60]) + footer
    ws.set_footer("", margin=0.5)
    ws.footer = footer  # set_footer would take user text such as "&G" for a picture placeholder and drop the footer
    if demo:
        ws.set_header("&R" + DEMO_MARK, margin=0.5)
    ws.set_row(0, 28)
    _merged_text(book, ws, 0, last, title, book.fmt(bold=True, font_size=14, align="center", valign="vcenter"))
    _merged_text(book, ws, 1, last, subtitle, None)
    hdr = book.fmt(bold=True, pattern=1, bg_color="#D9D9D9", align="center", valign="vcenter", text_wrap=True,
                   **_BORDER)
    for i, c in enumerate(columns):
        book.write(ws, 2, i, cell_value(c.header), hdr)
    body = list(enumerate(book.body(c) for c in columns))
    keyed = [(i, c, f) for (i, f), c in zip(body, columns)]
    write, clean = book.write, cell_value
    row_no = 3
    with gc_paused():
        for r in rows:
            fmts = style_row(r) if style_row is not None else None
            if fmts:
                for i, c, f in keyed:
                    write(ws, row_no, i, clean(value(r, c)), fmts.get(i, f))
            else:
                for i, c, f in keyed:
                    write(ws, row_no, i, clean(value(r, c)), f)
            row_no += 1
    written = row_no - 3
    if not written and empty_text:
        book.write(ws, row_no, 0, cell_value(empty_text))
        row_no += 1
    note_fmt = book.fmt(text_wrap=True, valign="top")
    for note in notes or ():
        ws.set_row(row_no, 32)
        _merged_text(book, ws, row_no, last, note, note_fmt)
        row_no += 1
    return written
