"""``riskmap nearby``: “一点即现” — everything within R metres of a point."""

from __future__ import annotations

import json
from pathlib import Path

from riskmap.errors import RiskmapError


def register(sub) -> None:
    p = sub.add_parser("nearby", help="一点即现：查询某点周边 / what lies around a point",
                       description="列出某点 R 米内的企业、危险源、隐患、防护目标（及人数）、生命线、控制线，以及最近的应急资源 / "
                                   "objects within R metres of a point, people affected, nearest emergency resources")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--lon", type=float, required=True, help="经度 / longitude")
    p.add_argument("--lat", type=float, required=True, help="纬度 / latitude")
    p.add_argument("--radius", type=float, default=1000.0, help="半径 m / radius in metres (1000)")
    p.add_argument("--coords", default="cgcs2000",
                   help="坐标来源 cgcs2000 | wgs84 | gcj02（高德/腾讯）| bd09（百度）/ coordinate system of --lon/--lat")
    p.add_argument("--top", type=int, default=3, help="每类最近应急资源数 / nearest resources per kind (3)")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.add_argument("--html", metavar="FILE", help="另存为可打印的 HTML / also write a printable HTML page")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.analysis.nearby import nearby
    from riskmap.crs import convert_coords
    from riskmap.store import Project

    if args.top < 1:
        raise RiskmapError("--top 应至少为 1", "--top must be at least 1")
    lon, lat = args.lon, args.lat
    if args.coords.lower() not in ("cgcs2000", "4490", "epsg:4490"):
        lon, lat = convert_coords(lon, lat, args.coords.lower())
    with Project.open(args.project, readonly=True) as project:
        result = nearby(project, lon, lat, args.radius, top_n=args.top)
    if args.html:
        path = Path(args.html)
        try:
            path.write_text(result.to_html(), encoding="utf-8")
        except OSError as exc:
            raise RiskmapError(f"无法写入: {path} ({exc.strerror})", f"cannot write {path}") from None
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2) if args.json else result.to_text())
    return 0
