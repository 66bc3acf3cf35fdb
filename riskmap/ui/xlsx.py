"""Write table rows to an XLSX workbook (openpyxl, write-only: fast for 100k rows).

Demo projects get a first line saying 示例数据, so a demo table is never taken for real data.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from riskmap.errors import RiskmapError

DEMO_NOTE = "示例数据：本表内容为虚构示例，不代表真实企业或地区。"


def write_rows(path: str | os.PathLike, sheet: str, headers: Sequence[str], columns: Sequence[Sequence],
               *, demo: bool = False, progress: Callable | None = None, cancelled: Callable | None = None) -> int:
    """Write column-wise data (``columns[j][i]`` is row i of column j) under ``headers``; returns rows written.

    The file is written under a temporary name and renamed at the end: a failure leaves no partial file.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx")
    n = len(columns[0]) if columns else 0
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_name(sheet))
    if demo:
        c = WriteOnlyCell(ws, value=DEMO_NOTE)
        c.font = Font(bold=True, color="C00000")
        ws.append([c])
    bold = Font(bold=True)
    head = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        head.append(c)
    ws.append(head)
    step = max(1, n // 50)
    for i, row in enumerate(zip(*columns)):
        ws.append([_cell(v) for v in row])
        if i % step == 0:
            if cancelled is not None and cancelled():
                from riskmap.progress import Cancelled

                raise Cancelled()
            if progress is not None:
                progress(i / max(n, 1), "")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise RiskmapError(f"无法写入该位置: {folder}（{exc.strerror}）", f"cannot write to {folder} ({exc.strerror})") from exc
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise RiskmapError(f"无法保存文件: {path}（{exc.strerror}）", f"cannot save file: {path} ({exc.strerror})") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(1.0, "")
    return n


def _sheet_name(name: str) -> str:
    bad = '[]:*?/\\'
    clean = "".join("_" if ch in bad else ch for ch in name).strip() or "Sheet1"
    return clean[:31]


def _cell(v):
    if v is None:
        return None
    try:
        import numpy as np

        if isinstance(v, np.generic):
            v = v.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, float) and v != v:
        return None
    return v
