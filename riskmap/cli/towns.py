"""``riskmap towns``: approximate (示意) town areas from a table of town seats."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("towns", help="由镇街驻地生成示意镇街范围 / approximate towns from town seats",
                       description="读取镇街驻地表（名称 + 经纬度、度分秒或高斯-克吕格坐标），按泰森多边形划分县域，"
                                   "生成示意镇街范围；导入正式镇街边界后自动替换 / read a table of town seats (name + "
                                   "lon/lat, DMS or Gauss-Krueger) and divide the county into Voronoi cells as approximate "
                                   "(示意) towns, replaced when real town boundaries are imported")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--seats", required=True, metavar="FILE", help="镇街驻地表 XLSX/CSV / town seats table")
    p.add_argument("--crs", help="驻地坐标系（默认自动识别）/ CRS of the seats (default: detected)")
    p.add_argument("--replace", action="store_true", help="替换已有镇街 / replace the existing towns")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from riskmap.edit.zones import towns_from_seats
    from riskmap.io.seats import read_seats
    from riskmap.store import Project

    with Project.open(args.project) as project:
        rows = read_seats(args.seats, project, crs=args.crs)
        n = towns_from_seats(project, rows, replace=args.replace, source=Path(args.seats).name)
    if args.json:
        print(json.dumps({"towns": n, "approximate": True}, ensure_ascii=False))
        return 0
    print(f"已生成 {n} 个示意镇街（由驻地生成，不是正式边界；导入镇街边界文件后替换） / {n} approximate towns "
          "(示意, from seats; import the real town boundaries to replace them)")
    return 0
