"""Check results as a printable XLSX sheet (XlsxWriter): title, bold header, widths, frozen header, A4 landscape.

Demo projects get 示例数据 in the title. The file is written under a temporary name and renamed, so a
failure leaves no half-written file.

>>> # write_table_xlsx("out.xlsx", "侵占检查", [("name", "名称", 20, None)], [{"name": "x"}], demo=True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from riskmap.analysis.check import crossing_rows, encroachment_rows, hca_rows
from riskmap.atomic import atomic_path
from riskmap.errors import RiskmapError
from riskmap.export.sheet import Column, StreamingBook, fill_printable_sheet, streaming_workbook



@dataclass
class Sheet:
    """One printable table: title (示例数据 added for demos), columns, rows, optional subtitle and notes."""

    title: str
    columns: list[Column]
    rows: list[dict]
    name: str = "检查结果"
    subtitle: str = ""
    notes: list[str] | None = None


def _cell_value(row: dict, c: Column):
    v = row.get(c.key)
    if v is not None and not isinstance(v, (str, list, dict)) and pd.isna(v):
        return None
    return "；".join(map(str, v)) if isinstance(v, list) else v


def _fill_sheet(book: StreamingBook, sheet: Sheet, demo: bool) -> None:
    fill_printable_sheet(book, book.sheet(sheet.name[:31]), title=sheet.title,
                         subtitle=sheet.subtitle or f"生成日期：{dt.date.today().isoformat()}",
                         columns=sheet.columns, rows=sheet.rows, value=_cell_value, notes=sheet.notes or (),
                         demo=demo, empty_text="（无）")


def write_sheets_xlsx(path, sheets: list[Sheet], *, demo: bool = False) -> Path:
    """Write one workbook with one printable sheet per table (atomically)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise RiskmapError(f"文件应以 .xlsx 结尾: {path}", f"the file must end in .xlsx: {path}")
    with atomic_path(path) as tmp, streaming_workbook(tmp) as book:
        for sheet in sheets:
            _fill_sheet(book, sheet, demo)
    return path


def write_table_xlsx(path, title: str, columns: list[Column], rows: list[dict], *, demo: bool = False,
                     subtitle: str = "", sheet: str = "检查结果", notes: list[str] | None = None) -> Path:
    return write_sheets_xlsx(path, [Sheet(title, columns, rows, sheet, subtitle, notes)], demo=demo)


ENCROACHMENT_COLUMNS = [
    Column("n", "序号", 6),
    Column("target_name", "防护目标", 20),
    Column("class_zh", "防护目标类别", 18),
    Column("people", "人数", 8, "0"),
    Column("object_zh", "对象类型", 12),
    Column("object_name", "侵入的控制线/等值线", 30),
    Column("owner_name", "企业/园区", 20),
    Column("status_zh", "装置状态", 9),
    Column("threshold_text", "风险基准(/年)", 12),
    Column("risk_text", "所在最高风险(/年)", 14),
    Column("depth_m", "线内深度(m)", 11, "0.0"),
    Column("source_doc", "依据", 36),
]


def _subtitle(project_name: str, n: int, unit: str) -> str:
    return f"项目：{project_name}    生成日期：{dt.date.today().isoformat()}    共 {n} {unit}"


def encroachment_sheet(df: pd.DataFrame, project_name: str = "") -> Sheet:
    notes = ["风险基准依据 GB 36894-2018《危险化学品生产装置和储存设施风险基准》；线内深度为防护目标到控制线或等值线"
             "边界的地面距离（米），在 CGCS2000 高斯-克吕格投影中量算并按投影比例改正。"]
    return Sheet("防护目标侵占安全控制线及个人风险等值线检查表", ENCROACHMENT_COLUMNS, encroachment_rows(df), "侵占检查",
                 _subtitle(project_name, len(df), "处"), notes)


def export_encroachments_xlsx(df: pd.DataFrame, path, *, project_name: str = "", demo: bool = False) -> Path:
    """The encroachment table as a printable sheet."""
    return write_sheets_xlsx(path, [encroachment_sheet(df, project_name)], demo=demo)


HCA_SHEET_COLUMNS = [
    Column("n", "序号", 6), Column("segment_name", "管段", 22), Column("diameter_mm", "管径(mm)", 9, "0"),
    Column("pressure_mpa", "压力(MPa)", 9, "0.00"), Column("pir_m", "潜在影响半径(m)", 12, "0.0"),
    Column("rule_zh", "识别准则 (GB 32167)", 34), Column("radius_m", "识别半径(m)", 10, "0.0"),
    Column("target_name", "特定场所", 20), Column("people", "人数", 8, "0"), Column("distance_m", "距管道(m)", 10, "0.0"),
]
CROSSING_SHEET_COLUMNS = [
    Column("n", "序号", 6), Column("segment_name", "管段", 22), Column("category_zh", "类别", 10),
    Column("object_zh", "穿越对象类型", 14), Column("object_name", "穿越对象", 28), Column("level_name", "风险等级", 10),
    Column("length_m", "穿越长度(m)", 12, "0.0"),
]


def hca_sheet(df: pd.DataFrame, project_name: str = "") -> Sheet:
    rows = hca_rows(df)
    notes = ["潜在影响半径 r = 0.099·√(d²·p)（GB 32167-2015 式 1，d 管道外径 mm，p 最大允许操作压力 MPa）。"]
    return Sheet("输气管道高后果区管段（特定场所）", HCA_SHEET_COLUMNS, rows, "高后果区",
                 _subtitle(project_name, len(df), "对"), notes)


def crossing_sheet(df: pd.DataFrame, project_name: str = "") -> Sheet:
    return Sheet("生命线穿越红橙风险区及安全控制线", CROSSING_SHEET_COLUMNS, crossing_rows(df), "穿越",
                 _subtitle(project_name, len(df), "处"))


def write_check_xlsx(report, path) -> Path:
    """A :class:`~riskmap.analysis.check.CheckReport` as one workbook: encroachments, HCA segments, crossings."""
    return write_sheets_xlsx(path, [encroachment_sheet(report.encroachments, report.project_name),
                                    hca_sheet(report.high_consequence, report.project_name),
                                    crossing_sheet(report.crossings, report.project_name)], demo=report.demo)
