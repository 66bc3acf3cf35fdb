"""``riskmap export``: print layouts (PDF/PNG/SVG, atlas), the offline web map and data formats."""

from __future__ import annotations

from riskmap.cli.progress import ProgressBar
from riskmap.cli.stats import parse_date
from riskmap.export.options import FORMATS, ExportOptions, resolve_format
from riskmap.printing.dispatch import export_project
from riskmap.store import Project

PAPERS = ("A4", "A3", "A2", "A1", "A0")


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="导出图件、网页地图或数据 / export maps, the web map or data",
        description="导出四色图 PDF/PNG/SVG（含分幅图集）、离线网页地图 HTML，或 GeoPackage、Shapefile、GeoJSON、"
                    "KML/KMZ、DXF、XLSX 数据 / export the map as PDF/PNG/SVG (or an atlas), an offline web map, "
                    "or data in GeoPackage, Shapefile, GeoJSON, KML/KMZ, DXF, XLSX")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--format", choices=FORMATS + ("kmz",), help="导出格式（缺省按文件扩展名）/ format (default: from --out)")
    p.add_argument("--out", required=True, help="输出文件（Shapefile 可为文件夹或 .zip）/ output file (shp: folder or .zip)")
    p.add_argument("--layers", nargs="+", metavar="LAYER", help="图层编号，如 enterprises towns / layer ids")
    p.add_argument("--template", help="版式模板名称或 .json 文件 / layout template name or .json file")
    p.add_argument("--paper", default="A3", type=str.upper, choices=PAPERS, help="纸张 / paper size (default A3)")
    p.add_argument("--orientation", default="landscape", choices=("landscape", "portrait"),
                   help="横向或纵向 / orientation (default landscape)")
    p.add_argument("--dpi", type=float, default=300, help="分辨率（PNG 及地图内栅格）/ resolution (default 300)")
    p.add_argument("--title", help="图名 / map title")
    p.add_argument("--subtitle", help="副标题 / subtitle")
    p.add_argument("--unit", help="编制单位 / producing organisation")
    p.add_argument("--date", help="编制日期 / date (default today)")
    p.add_argument("--approval-no", dest="approval_no", help="审图号 / map approval number")
    p.add_argument("--grid", action="store_true", default=None, help="加经纬网 / draw a coordinate grid")
    p.add_argument("--atlas", choices=("town", "grid", "park"), help="分幅图集：每个镇街/网格/园区一页 / one page per unit")
    p.add_argument("--at", metavar="YYYY-MM-DD",
                   help="按某日的状态导出（当日的企业等级、分区等级与隐患）/ the project as of that date")
    p.add_argument("--encoding", default="utf-8", help="Shapefile 编码 UTF-8 或 GBK / shapefile encoding")
    p.add_argument("--geopdf", action="store_true",
                   help="GeoPDF：图层可在阅读器中开关，地图带坐标（仅 PDF）/ GeoPDF: layers toggled in a PDF reader, "
                        "the map georeferenced (PDF only)")
    p.set_defaults(func=run)


def run(args) -> int:
    opts = ExportOptions(out=args.out, format=args.format, layers=args.layers, title=args.title,
                         subtitle=args.subtitle, unit=args.unit, date=args.date, approval_no=args.approval_no,
                         template=args.template, paper=args.paper, orientation=args.orientation, dpi=args.dpi,
                         atlas=args.atlas, encoding=args.encoding, grid=args.grid,
                         geopdf=args.geopdf, at=parse_date(args.at, "--at"))
    fmt = resolve_format(opts)  # check before opening the project
    bar = ProgressBar(f"导出 {fmt.upper()}")
    with Project.open(args.project, readonly=True) as project:
        path = export_project(project, opts, progress=bar)
    bar.done()
    print(f"已导出 exported: {path}")
    return 0
