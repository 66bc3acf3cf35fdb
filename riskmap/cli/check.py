"""``riskmap check``: encroachments, high-consequence segments and crossings; or a site check (选址)."""

from __future__ import annotations

import json
import re

from riskmap.cli.progress import ProgressBar
from riskmap.errors import RiskmapError


def register(sub) -> None:
    p = sub.add_parser("check", help="规划检查：侵占、高后果区、穿越；选址检查 / planning checks and site check",
                       description="列出侵入安全控制线或个人风险等值线的防护目标（GB 36894）、输气管道高后果区管段（GB 32167）"
                                   "和穿越红橙风险区或控制线的生命线；给出 --site 时做选址检查 / list encroachments, "
                                   "high-consequence segments and crossings; with --site, check a proposed site")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.add_argument("--xlsx", metavar="FILE", help="另存为 Excel 表 / also write an XLSX workbook")
    p.add_argument("--site", help="选址：经度,纬度 或 WKT 面（CGCS2000）/ site: LON,LAT or a WKT polygon")
    p.add_argument("--radius", type=float, default=1000.0, help="选址时危险源搜索半径 m / hazard radius (1000)")
    p.set_defaults(func=run)


def parse_site(text: str):
    """``"105.1,35.9"`` → Point; ``"POLYGON ((…))"`` → Polygon (EPSG:4490)."""
    import shapely

    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*", text)
    if m:
        return shapely.Point(float(m.group(1)), float(m.group(2)))
    try:
        return shapely.from_wkt(text)
    except shapely.errors.GEOSException:
        raise RiskmapError(f"无法识别的选址: {text!r}（应为 经度,纬度 或 WKT）",
                           f"cannot read the site {text!r} (LON,LAT or WKT)") from None


def run(args) -> int:
    from riskmap.store import Project

    with Project.open(args.project, readonly=True) as project:
        if args.site:
            from riskmap.analysis.sitecheck import site_check

            result = site_check(project, parse_site(args.site), args.radius)
            print(json.dumps(result.to_json(), ensure_ascii=False, indent=2) if args.json else result.to_text())
            return 0
        from riskmap.analysis.check import run_check

        bar = ProgressBar("规划检查 / check")
        report = run_check(project, progress=bar)
        bar.done()
    if args.xlsx:
        from riskmap.export.check_xlsx import write_check_xlsx

        write_check_xlsx(report, args.xlsx)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(report.to_text())
        if args.xlsx:
            print(f"\n已保存 written: {args.xlsx}")
    return 0
