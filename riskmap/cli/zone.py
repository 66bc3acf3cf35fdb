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
    p.add_argument("--rule", choices=RULES, help="定级规则 / rule (default max)")
    p.add_argument("--per", choices=PER, help="加权密度口径 / weighted divisor (default from zoning.toml)")
    p.add_argument("--standard", metavar="FILE", help="另一个 zoning.toml / another zoning rules file")
    p.add_argument("--at", metavar="YYYY-MM-DD",
                   help="只显示某日的分区等级（按该单元保存的定级设置，由当日企业等级计算），不写入 / "
                        "print the levels as of that date (the unit's stored settings), writing nothing")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.grading.zoning import zone_project
    from riskmap.store import Project

    if args.at is not None:
        return _run_at(args)
    with Project.open(args.project) as project:
        bar = ProgressBar("分区定级 / zoning")
        result = zone_project(project, args.unit, args.rule or "max", per=args.per, standard=args.standard,
                              progress=bar)
        bar.done()
        demo = project.is_demo
    _print(args, result, demo)
    return 0


def _run_at(args) -> int:
    """The levels of the unit's zones as of a date, computed in memory; nothing is written."""
    from riskmap.asof import levels_at
    from riskmap.cli.stats import parse_date
    from riskmap.errors import RiskmapError
    from riskmap.grading import zoning_rules
    from riskmap.grading.zoning import level_unit, zoned_units
    from riskmap.store import Project

    at = parse_date(args.at, "--at")
    given = [f"--{k}" for k in ("rule", "per", "standard") if getattr(args, k) is not None]
    if given:
        raise RiskmapError(f"--at 只显示某日的分区等级，不写入项目，按该单元保存的定级设置计算；不能与 {'、'.join(given)} "
                           f"同用（重新定级请去掉 --at）",
                           f"--at prints the levels as of a date under the unit's stored settings and writes nothing; "
                           f"it cannot be combined with {', '.join(given)} (drop --at to level the zones again)",
                           where="--at")
    with Project.open(args.project, readonly=True) as project:
        with project.engine.connect() as conn:
            cfg = zoned_units(conn).get(args.unit) or zoning_rules.settings("max")
        levels = levels_at(project, at)
        with project.engine.connect() as conn:
            result = level_unit(conn, args.unit, cfg, metric_epsg=project.metric_epsg, levels=levels, write=False)
        demo = project.is_demo
    _print(args, result, demo, at=at)
    return 0


def _print(args, result, demo, at=None) -> None:
    from riskmap.levels import level_info

    if args.json:
        print(json.dumps({**result.to_json(), "demo": demo, **({"at": at.isoformat()} if at else {})},
                         ensure_ascii=False, indent=2))
        return
    cfg = result.settings
    print(f"分区定级 Zoning: {args.unit}，规则 rule: {cfg.label_zh()}（{cfg.rule}）" + ("  [示例数据 demo data]" if demo else "")
          + (f"\n截至 as of {at.year}年{at.month}月{at.day}日（按当日企业等级计算，未写入项目 / computed, nothing written）"
             if at else ""))
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
