"""What an export writes: the formats, the format a file name implies, and the options of one export.
:func:`riskmap.printing.dispatch.export_project` writes it.

>>> guess_format("一张图.kmz"), guess_format("out/shp.zip"), guess_format("map.PDF")
('kml', 'shp', 'pdf')
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from riskmap.errors import RiskmapError

DATA_FORMATS = ("gpkg", "shp", "geojson", "kml", "dxf", "xlsx")
PRINT_FORMATS = ("pdf", "png", "svg")
FORMATS = PRINT_FORMATS + ("html",) + DATA_FORMATS
SUFFIXES = {".pdf": "pdf", ".png": "png", ".svg": "svg", ".html": "html", ".htm": "html", ".gpkg": "gpkg",
            ".shp": "shp", ".zip": "shp", ".geojson": "geojson", ".json": "geojson", ".kml": "kml", ".kmz": "kml",
            ".dxf": "dxf", ".xlsx": "xlsx"}
FORMAT_TITLES = {"pdf": "PDF 图件", "png": "PNG 图片", "svg": "SVG 矢量图", "html": "离线网页地图", "gpkg": "GeoPackage",
                 "shp": "Shapefile", "geojson": "GeoJSON", "kml": "KML/KMZ", "dxf": "DXF (CAD)", "xlsx": "Excel 工作簿"}


@dataclass
class ExportOptions:
    """What to export and how; print options are ignored by data formats and vice versa."""

    out: str | os.PathLike
    format: str | None = None  # None: from the file suffix
    layers: list[str] | None = None  # catalogue ids; None: every layer (print/web: the visible ones first)
    title: str | None = None
    subtitle: str | None = None
    unit: str | None = None  # 编制单位
    date: str | None = None
    approval_no: str | None = None  # 审图号
    template: str | None = None
    paper: str = "A3"
    orientation: str = "landscape"
    dpi: float = 300
    atlas: str | None = None  # town | grid | park
    encoding: str = "utf-8"  # shapefile
    grid: bool | None = None  # coordinate grid on the print layout (None: the template's choice)
    at: dt.date | None = None  # the project as of this date (riskmap.asof); None: as it is now
    geopdf: bool = False  # PDF: layers as optional content groups, the map frame georeferenced
    extra: dict = field(default_factory=dict)


def guess_format(out: str | os.PathLike) -> str:
    """The export format implied by a file name's suffix."""
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise RiskmapError(f"无法从文件名判断导出格式: {out}（可用 --format {'|'.join(FORMATS)}）",
                           f"cannot tell the export format from {out}; give --format")
    return SUFFIXES[suffix]


def as_of_subtitle(opts: ExportOptions, default: str = "企业与区域安全风险等级分布") -> str | None:
    """The subtitle of an export as of a date: 截至 YYYY年M月D日 before the given one (or ``default``);
    without ``opts.at`` the given subtitle.

    >>> as_of_subtitle(ExportOptions(out="a.pdf", at=dt.date(2026, 3, 5)))
    '截至2026年3月5日 企业与区域安全风险等级分布'
    """
    if opts.at is None:
        return opts.subtitle
    return f"截至{opts.at.year}年{opts.at.month}月{opts.at.day}日 {opts.subtitle or default}"


def resolve_format(opts: ExportOptions) -> str:
    fmt = (opts.format or guess_format(opts.out)).lower()
    if fmt == "kmz":
        fmt = "kml"
    if fmt not in FORMATS:
        raise RiskmapError(f"不支持的导出格式: {fmt}（可用 {', '.join(FORMATS)}）",
                           f"unsupported export format: {fmt} (use {', '.join(FORMATS)})")
    if opts.atlas and fmt != "pdf":
        raise RiskmapError("分幅图集（--atlas）只能导出为 PDF", "an atlas (--atlas) is written as PDF only")
    if opts.geopdf and fmt != "pdf":
        raise RiskmapError("GeoPDF（--geopdf）只能导出为 PDF", "--geopdf writes a PDF only")
    return fmt
