"""``riskmap grid``: square or hexagonal grid cells over the county as the grid zoning unit."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("grid", help="生成网格分区 / generate grid cells",
                       description="在县界内生成正方形或六边形网格（按边长，公里），裁剪到县界，作为“网格”分区单元；"
                                   "小于整格 10% 的边角并入相邻网格 / square or hexagonal cells of the given side (km) "
                                   "clipped to the county as the grid zoning unit; pieces under 10% of a cell join "
                                   "a neighbour")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--size-km", type=float, required=True, metavar="KM",
                   help="网格边长（公里），如 1、2、5 / cell side in km, e.g. 1, 2, 5")
    p.add_argument("--shape", choices=("square", "hex"), default="square",
                   help="形状：正方形或六边形 / cell shape (default square)")
    p.add_argument("--replace", action="store_true", help="替换已有网格 / replace the existing grid")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.edit.zones import make_grid
    from riskmap.store import Project

    with Project.open(args.project) as project:
        n = make_grid(project, args.size_km, args.shape, replace=args.replace)
    shape_zh = "正方形" if args.shape == "square" else "六边形"
    if args.json:
        print(json.dumps({"cells": n, "size_km": args.size_km, "shape": args.shape}, ensure_ascii=False))
        return 0
    print(f"已生成 {n} 个{args.size_km:g} 公里{shape_zh}网格 / {n} {args.shape} cells of {args.size_km:g} km")
    return 0
