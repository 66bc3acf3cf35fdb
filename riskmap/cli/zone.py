"""``riskmap zone``: level every zone of a unit from the enterprises inside, and print the zone table."""

from __future__ import annotations

import json

from riskmap.cli.progress import ProgressBar


def register(sub) -> None:
    from riskmap.grading.zoning import UNIT_KINDS
    from riskmap.grading.zoning_rules import PER, RULES

    p = sub.add_parser("zone", help="区域风险定级 / level the zones of a unit",
                       description="按规则（就高 max / 加权密度 weighted + 计数规则）重新计算某类分区的风险等级，写入项目并列出 / "
                                   "recompute the levels of every zone of a unit, store them and print the table")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--unit", default="town", choices=list(UNIT_KINDS),
                   help="分区单元（county：市级项目的各县区） / zone unit (default town; county: the counties of a city project)")
    p.add_argument("--rule", default="max", choices=RULES, help="定级规则 / rule (default max)")
    p.add_argument("--per", choices=PER, help="加权密度口径 / weighted divisor (default from zoning.toml)")
    p.add_argument("--standard", metavar="FILE", help="另一个 zoning.toml / another zoning rules file")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.grading.zoning import zone_project
    from riskmap.levels import level_info
    from riskmap.store import Project

    with Project.open(args.project) as project:
        bar = ProgressBar("分区定级 / zoning")
        result = zone_project(project, args.unit, args.rule, per=args.per, standard=args.standard, progress=bar)
        bar.done()
        demo = project.is_demo
    if args.json:
        print(json.dumps({**result.to_json(), "demo": demo}, ensure_ascii=False, indent=2))
        return 0
    cfg = result.settings
    print(f"分区定级 Zoning: {args.unit}，规则 rule: {cfg.label_zh()}（{cfg.rule}）" + ("  [示例数据 demo data]" if demo else ""))
    counts = [f"{level_info(n).name_zh} {result.summary()[str(n)]}" for n in (1, 2, 3, 4)]
    print("分区数 zones: " + "，".join(counts) + (f"，未定级 {result.summary()['none']}" if result.summary()["none"] else ""))
    if result.unlocated_counted:
        print(f"未定位企业 {result.unlocated_counted} 家按所属分区计入 / {result.unlocated_counted} enterprises without "
              f"coordinates counted in their assigned zones")
    if result.unlocated_skipped:
        print(f"未定位企业 {result.unlocated_skipped} 家无法落入本单元，未计入 / {result.unlocated_skipped} enterprises "
              f"without coordinates cannot be placed in this unit and were skipped")
    print(f"{'名称 name':<16} {'等级':>4} {'等级名称':<6} {'规则':<8} {'红':>4} {'橙':>4} {'黄':>4} {'蓝':>4} {'未定级':>5}  依据 reason")
    for z in result.zones:
        name = level_info(z.level).name_zh if z.level else "未定级"
        c = z.counts
        print(f"{z.name:<16} {z.level or '-':>4} {name:<6} {z.rule:<8} {c[0]:>4} {c[1]:>4} {c[2]:>4} {c[3]:>4} {c[4]:>5}  "
              f"{z.reason}")
    return 0
