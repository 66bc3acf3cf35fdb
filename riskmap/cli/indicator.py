"""``riskmap indicator``: plan indicators — load a plan, enter a yearly actual, show progress."""

from __future__ import annotations

import json

from riskmap.errors import RiskmapError

_YES = {"是", "yes", "true", "y", "1", "已实现", "实现"}
_NO = {"否", "no", "false", "n", "0", "未实现"}


def register(sub) -> None:
    p = sub.add_parser("indicator", help="规划指标进度 / plan indicators",
                       description="显示规划指标完成进度；--load 载入本地规划指标表；--set 录入年度实际值 / "
                                   "show progress of the plan indicators; --load a plan; --set a yearly actual")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--load", nargs="?", const="", metavar="PLAN",
                   help="载入规划（默认本项目地点的规划；可写行政区划代码、地名或文件）/ load a plan (default: the project's place)")
    p.add_argument("--set", nargs=3, metavar=("INDICATOR", "YEAR", "VALUE"),
                   help="录入实际值：指标编号或名称、年份、数值（定性指标写 是/否）/ enter an actual (qualitative: yes/no)")
    p.add_argument("--as-of", type=int, metavar="YEAR", help="按某年评估 / evaluate as of a year")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.indicators import STATUS_ZH, find_indicator, find_plan, load_plan, project_progress, set_actual
    from riskmap.store import Project

    writing = args.load is not None or args.set is not None
    with Project.open(args.project, readonly=not writing) as project:
        if args.load is not None:
            key = args.load or project.place
            if not key:
                raise RiskmapError("项目未设置地点，请指定规划", "the project has no place; name the plan", where="--load")
            plan = find_plan(key)
            with project.session() as s:
                n = len(load_plan(s, plan))
            print(f"已载入 loaded: {plan.name}（{n} 项指标 indicators）")
        if args.set is not None:
            ref, year_text, value_text = args.set
            try:
                year = int(year_text)
            except ValueError:
                raise RiskmapError(f"年份应为整数，收到 {year_text!r}", f"the year must be a whole number, got {year_text!r}",
                                   where="--set YEAR") from None
            with project.session() as s:
                ind = find_indicator(s, ref)
                if ind.target_type == "qualitative":
                    v = value_text.strip().casefold()
                    if v not in _YES | _NO:
                        raise RiskmapError(f"定性指标的值应为 是/否，收到 {value_text!r}",
                                           f"a qualitative value must be yes/no, got {value_text!r}", where="--set VALUE")
                    set_actual(s, ind, year, achieved=v in _YES)
                else:
                    try:
                        value = float(value_text)
                    except ValueError:
                        raise RiskmapError(f"实际值应为数字，收到 {value_text!r}", f"the actual must be a number, got {value_text!r}",
                                           where="--set VALUE") from None
                    set_actual(s, ind, year, value=value)
                print(f"已录入 entered: {ind.name} {year} = {value_text}")
        progress = project_progress(project, args.as_of)
        demo = project.is_demo
    if args.json:
        print(json.dumps({"demo": demo, "indicators": [p.to_json() for p in progress]}, ensure_ascii=False, indent=2))
        return 0
    if writing and not progress:
        return 0
    if not progress:
        print("项目中没有规划指标（可用 --load 载入） / no indicators in the project (use --load)")
        return 0
    plan = None
    for p in progress:
        if p.plan != plan:
            plan = p.plan
            print(f"\n{plan}" + ("  [示例数据 demo data]" if demo else ""))
            print(f"  {'编号':>4} {'状态':<5} {'指标':<28} {'目标':<12} {'属性':<4}  进度")
        print(f"  {p.id:>4} {STATUS_ZH[p.status]:<5} {p.name:<28} {p.target_text or '-':<12} {p.binding or '-':<4}  "
              f"{p.explanation}")
    return 0
