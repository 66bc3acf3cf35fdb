"""One printable worksheet layout shared by every XLSX riskmap writes (openpyxl).

Title row (示例数据 added on demo projects), subtitle, bold grey header, column widths, thin borders,
notes under the table, frozen header, print titles, landscape fitted to the page width, page numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

DEMO_MARK = "示例数据"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    number_format: str | None = None


def fill_printable_sheet(ws, *, title: str, subtitle: str, columns: Sequence[Column], rows: Iterable[dict],
                         value: Callable[[dict, Column], object], notes: Sequence[str] = (), demo: bool = False,
                         paper: str = "A4", footer_left: str = "", empty_text: str | None = None,
                         style_row: Callable[[object, int, dict], None] | None = None) -> None:
    """Write ``rows`` (dicts) into ``ws`` under the shared print layout; ``value`` gives each cell."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    if demo and DEMO_MARK not in title:
        title = f"{title}（{DEMO_MARK}）"
    last = get_column_letter(max(1, len(columns)))
    ws.append([title])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    ws.append([subtitle])
    ws.merge_cells(f"A2:{last}2")
    ws.append([c.header for c in columns])
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for i, c in enumerate(columns, start=1):
        cell = ws.cell(row=3, column=i)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
        ws.column_dimensions[get_column_letter(i)].width = c.width
    written = 0
    for r in rows:
        ws.append([value(r, c) for c in columns])
        row = ws.max_row
        written += 1
        for i, c in enumerate(columns, start=1):
            cell = ws.cell(row=row, column=i)
            cell.border = border
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if c.number_format:
                cell.number_format = c.number_format
        if style_row is not None:
            style_row(ws, row, r)
    if not written and empty_text:
        ws.append([empty_text])
    for note in notes or ():
        ws.append([note])
        ws.merge_cells(f"A{ws.max_row}:{last}{ws.max_row}")
        ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[ws.max_row].height = 32
    ws.freeze_panes = "A4"
    ws.print_title_rows = "1:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if paper == "A3" else ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if footer_left:
        ws.oddFooter.left.text = footer_left[:60]
    if demo:
        ws.oddHeader.right.text = DEMO_MARK
