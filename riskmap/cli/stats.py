"""``riskmap stats``: enterprises by level × industry × town; open and overdue hidden dangers."""

from __future__ import annotations

import datetime as dt
import json

from riskmap.errors import RiskmapError


def parse_date(text: str | None, where: str = "--today") -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise RiskmapError(f"日期应写成 YYYY-MM-DD，收到 {text!r}", f"a date must be YYYY-MM-DD, got {text!r}",
                           where=where) from None


def register(sub) -> None:
    p = sub.add_parser("stats", help="统计 / statistics",
                       description="企业按风险等级 × 行业 × 镇街统计；未销号与逾期隐患 / "
                                   "enterprises by level × industry × town; open and overdue hidden dangers")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="判断逾期的日期（默认今天）/ date for overdue (default today)")
    p.add_argument("--at", metavar="YYYY-MM-DD",
                   help="按某日的状态统计（当日的企业等级与隐患状态）/ statistics as of that date")
    p.add_argument("--by", choices=["county", "town", "grid"],
                   help="按区县、镇街或网格统计企业风险等级（全市数据库的各区县一起） / enterprises by level per "
                        "county, town or grid (all counties of a city's database at once)")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def _table(title: str, rows: dict) -> None:
    from riskmap.industries import industry_name, load_industries

    inds = load_industries()
    print(f"\n{title}")
    print(f"  {'':<18} {'重大':>5} {'较大':>5} {'一般':>5} {'低':>5} {'未评估':>5} {'合计':>5}")
    for key, r in rows.items():
        label = industry_name(key) if key in inds else key
        print(f"  {label:<18} {r['1']:>5} {r['2']:>5} {r['3']:>5} {r['4']:>5} {r['none']:>5} {r['total']:>5}")


def run_by(args) -> int:
    """``--by county|town|grid``: one line per unit (the numbers of riskmap.stats.city_stats)."""
    from riskmap.stats import city_stats
    from riskmap.store import Project

    if args.at:
        raise RiskmapError("--by 只统计当前状态，不能与 --at 同用", "--by counts the present state: not with --at",
                           where="--at")
    with Project.open(args.project, readonly=True) as project:
        df = city_stats(project, by=args.by)
        name, demo = project.name, project.is_demo
    keys = ["county", "name"] if args.by == "county" else ["id", "name", "county"]
    rows = [{**{k: (None if v is None else (int(v) if k == "id" else v)) for k, v in zip(keys, r[:len(keys)])},
             **{c: int(v) for c, v in zip(["1", "2", "3", "4", "none", "total"], r[len(keys):])}}
            for r in df[keys + ["1", "2", "3", "4", "none", "total"]].itertuples(index=False)]
    total = {c: sum(r[c] for r in rows) for c in ("1", "2", "3", "4", "none", "total")}
    if args.json:
        print(json.dumps({"project": name, "demo": demo, "by": args.by, "rows": rows, "total": total},
                         ensure_ascii=False, indent=2))
        return 0
    unit_zh = {"county": "区县", "town": "镇街", "grid": "网格"}[args.by]
    print(f"项目 Project: {name}" + ("  [示例数据 demo data]" if demo else ""))
    print(f"\n按{unit_zh} by {args.by}:")
    print(f"  {'':<24} {'重大':>6} {'较大':>6} {'一般':>6} {'低':>6} {'未评估':>6} {'合计':>6}")
    for r in rows + [{"name": "合计 total", **total}]:
        label = f"{r['name']} {r['county']}" if args.by == "county" and r.get("county") else r["name"]
        print(f"  {label:<24} {r['1']:>6} {r['2']:>6} {r['3']:>6} {r['4']:>6} {r['none']:>6} {r['total']:>6}")
    return 0


def run(args) -> int:
    from riskmap.stats import project_stats
    from riskmap.store import Project

    if getattr(args, "by", None):
        return run_by(args)
    today, at = parse_date(args.today), parse_date(args.at, "--at")
    with Project.open(args.project, readonly=True) as project:
        st = project_stats(project, today, at=at)
    if args.json:
        print(json.dumps(st, ensure_ascii=False, indent=2))
        return 0
    print(f"项目 Project: {st['project']}" + ("  [示例数据 demo data]" if st["demo"] else "")
          + (f"  截至 as of {at.year}年{at.month}月{at.day}日" if at else ""))
    bl = st["by_level"]
    print(f"企业 enterprises {st['enterprises']}: 重大 {bl['1']}，较大 {bl['2']}，一般 {bl['3']}，低 {bl['4']}，"
          f"未评估 unassessed {bl['none']}")
    if st["unlocated"]:
        print(f"未定位 unlocated {st['unlocated']} 家（无坐标，按所属镇街计入统计；用 riskmap locate 导入坐标 / "
              f"no coordinates, counted by their town; place them with riskmap locate）")
    _table("按行业 by industry:", st["by_industry"])
    _table("按镇街 by town:", st["by_town"])
    d = st["hidden_dangers"]
    print(f"\n隐患 hidden dangers（截至 {d['today']}）: 共 {d['total']}，未销号 open {d['open']}"
          f"（重大 {d['open_by_grade']['major']}，一般 {d['open_by_grade']['general']}），"
          f"逾期 overdue {d['overdue']}（重大 {d['overdue_by_grade']['major']}，一般 {d['overdue_by_grade']['general']}）")
    for r in d["overdue_list"]:
        print(f"  逾期 #{r['id']} {r['title']}（{r['enterprise'] or '-'}，{r['status']}，期限 {r['deadline']}）")
    return 0
