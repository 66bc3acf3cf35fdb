"""A plain data table as XLSX (the attribute table's export): header row, then one row per feature.

Write-only and streamed, so 100k rows take seconds; written atomically beside the target. Demo projects get
a first line saying 示例数据, so a demo table is never taken for real data. Text is always a string cell.

>>> # write_rows("企业.xlsx", "企业", ["名称", "人数"], [["甲", "乙"], [3, 5]])  # returns 2
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from riskmap.export.base import DEMO_NOTE, atomic_path, export_steps
from riskmap.export.sheet import streaming_workbook, text_cell
from riskmap.progress import Cancel, Progress


def sheet_name(name: str) -> str:
    """A worksheet name Excel accepts: no []:*?/\\, at most 31 characters."""
    bad = '[]:*?/\\'
    clean = "".join("_" if ch in bad else ch for ch in name).strip() or "Sheet1"
    return clean[:31]


def write_rows(path: str | os.PathLike, sheet: str, headers: Sequence[str], columns: Sequence[Sequence],
               *, demo: bool = False, progress: Progress | None = None, cancelled: Cancel | None = None) -> int:
    """Write column-wise data (``columns[j][i]`` is row i of column j) under ``headers``; returns rows written.

    A path without ``.xlsx`` gets it. A failure or a cancel (Cancelled) leaves no file behind.
    """
    from openpyxl.styles import Font

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    n = len(columns[0]) if columns else 0
    steps = export_steps(progress, cancelled)
    every = max(1, n // 50)
    with streaming_workbook() as wb, atomic_path(path) as tmp:
        ws = wb.create_sheet(sheet_name(sheet))
        if demo:
            note = text_cell(ws, None)
            note.font = Font(bold=True, color="C00000")
            ws.append([text_cell(ws, DEMO_NOTE, note)])
        bold = text_cell(ws, None)
        bold.font = Font(bold=True)
        ws.append([text_cell(ws, h, bold) for h in headers])
        for i, row in enumerate(zip(*columns)):
            if i % every == 0:
                steps.report(i / max(n, 1))
            ws.append([text_cell(ws, v) for v in row])
        wb.save(tmp)
    steps.report(1.0)
    return n
