"""``riskmap controlline``: draw safety control lines from external safety distances."""

from __future__ import annotations

import json

from riskmap.cli.progress import ProgressBar
from riskmap.errors import RiskmapError


def register(sub) -> None:
    p = sub.add_parser("controlline", help="按外部安全距离生成安全控制线 / control lines from safety distances",
                       description="按各设施的外部安全防护距离做缓冲区（高斯-克吕格投影），按园区或企业合并，保存为可编辑的"
                                   "草稿安全控制线；再次运行时更新同名草稿，不改动已批准的控制线 / buffer each facility by "
                                   "its external safety distance in the Gauss-Krueger CRS, union per park or enterprise, "
                                   "save as editable draft control lines (re-running updates the same drafts)")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--from-distances", action="store_true", required=True,
                   help="由外部安全距离生成 / build from the safety distances")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--enterprise", type=int, metavar="ID", help="只生成该企业的控制线 / one enterprise only")
    g.add_argument("--park", type=int, metavar="ZONE_ID", help="只生成该园区的控制线 / one park zone only")
    p.add_argument("--segments", type=int, default=32, help="每四分之一圆的线段数 / segments per quarter circle (32)")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.analysis.controlline import control_lines_from_distances
    from riskmap.analysis.measure import format_area
    from riskmap.store import Project

    if not 1 <= args.segments <= 256:
        raise RiskmapError("--segments 应在 1–256 之间", "--segments must be 1-256")
    with Project.open(args.project) as project:
        bar = ProgressBar("安全控制线 / control lines")
        plans = control_lines_from_distances(project, enterprise_id=args.enterprise, park_zone_id=args.park,
                                             quad_segs=args.segments, progress=bar)
        bar.done()
    if args.json:
        print(json.dumps([p.to_json() for p in plans], ensure_ascii=False, indent=2))
        return 0
    if not plans:
        print("没有可生成的控制线 / nothing to build")
    for p in plans:
        verb = "新建 created" if p.action == "insert" else "更新 updated"
        dist = f"{p.distance_m:g} m" if p.distance_m else "多个距离 several distances"
        print(f"{verb} #{p.id} {p.name}: {p.n_facilities} 个设施 facilities, {dist}, {format_area(p.area_m2)}")
        print(f"    依据 source: {p.source_doc}")
    return 0
