"""A plain data table as XLSX (the attribute table's export): header row, then one row per feature.

Streamed (XlsxWriter, constant memory), so 100k rows take seconds; written atomically beside the target.
Demo projects get a first line saying 示例数据, so a demo table is never taken for real data. Text is always
a string cell.

>>> # write_rows("企业.xlsx", "企业", ["名称", "人数"], [["甲", "乙"], [3, 5]])  # returns 2
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from riskmap.atomic import atomic_path
from riskmap.export.base import export_steps
from riskmap.export.sheet import cell_value, streaming_workbook
from riskmap.marks import DEMO_NOTE
from riskmap.progress import Cancel, Progress


def sheet_name(name: str) -> str:
    """A worksheet name Excel accepts: no []:*?/\\, no ' at either end, at most 31 characters."""
    bad = '[]:*?/\\'
    clean = "".join("_" if ch in bad else ch for ch in name).strip().strip("'").strip()[:31]
    while len(clean.encode("utf-16-le")) > 62:  # 31 UTF-16 units: a character outside the BMP counts twice
        clean = clean[:-1]
    return clean.rstrip().rstrip("'") or "Sheet1"


def write_rows(path: str | os.PathLike, sheet: str, headers: Sequence[str], columns: Sequence[Sequence],
               *, demo: bool = False, progress: Progress | None = None, cancelled: Cancel | None = None) -> int:
    """Write column-wise data (``columns[j][i]`` is row i of column j) under ``headers``; returns rows written.

    A path without ``.xlsx`` gets it. A failure or a cancel (Cancelled) leaves no file behind.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    n = len(columns[0]) if columns else 0
    steps = export_steps(progress, cancelled)
    every = max(1, n // 50)
    with atomic_path(path) as tmp, streaming_workbook(tmp) as book:
        ws = book.sheet(sheet_name(sheet))
        write = book.write
        r = 0
        if demo:
            write(ws, 0, 0, cell_value(DEMO_NOTE), book.fmt(bold=True, font_color="#C00000"))
            r = 1
        bold = book.fmt(bold=True)
        for j, h in enumerate(headers):
            write(ws, r, j, cell_value(h), bold)
        for i, row in enumerate(zip(*columns)):
            if i % every == 0:
                steps.report(i / max(n, 1))
            r += 1
            for j, v in enumerate(row):
                write(ws, r, j, cell_value(v))
    steps.report(1.0)
    return n
