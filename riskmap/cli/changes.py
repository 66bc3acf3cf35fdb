"""``riskmap changes``: what changed between two dates — levels raised and lowered, enterprises added and
removed, zones that changed colour, hidden dangers opened, closed and overdue, encroachments new and resolved."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("changes", help="两个日期之间的变化 / what changed between two dates",
                       description="列出两个日期之间：企业风险等级升高/降低（原等级 → 新等级）、新增和删除的企业、分区变色、"
                                   "隐患新增/销号/逾期、侵占新增/消除 / between two dates: enterprises raised or lowered "
                                   "(from → to), added and removed, zones that changed colour, hidden dangers opened, "
                                   "closed and overdue, encroachments new and resolved")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="起始日期 / start date")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="截止日期（默认今天）/ end date (default today)")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def _d(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def run(args) -> int:
    import datetime as dt

    from riskmap.asof import changes
    from riskmap.cli.stats import parse_date
    from riskmap.store import Project

    start = parse_date(args.start, "--from")
    end = parse_date(args.end, "--to") or dt.date.today()
    with Project.open(args.project, readonly=True) as project:
        ch = changes(project, start, end)
        demo = project.is_demo
    if args.json:
        print(json.dumps({**ch.to_dict(), "demo": demo}, ensure_ascii=False, indent=2))
        return 0
    n = ch.counts()
    print(f"{_d(start)}至{_d(end)}变化情况 / changes {start} → {end}" + ("  [示例数据 demo data]" if demo else ""))
    print(f"风险等级升高 raised {n['raised']} 家，降低 lowered {n['lowered']} 家，首次定级 first graded "
          f"{n['first_graded']} 家；新增企业 added {n['added']} 家，删除 removed {n['removed']} 家")
    for title, rows in (("升高 raised", ch.raised), ("降低 lowered", ch.lowered), ("首次定级 first graded", ch.first_graded)):
        if rows:
            print(f"\n{title}:")
        for r in rows:
            print(f"  #{r['id']} {r['name']}（{r['town'] or '-'}）{r['from_zh']} → {r['to_zh']}"
                  f"  {r['at'] or ''}  {r['reason'] or ''}")
    if ch.added:
        print("\n新增企业 added:")
        for r in ch.added:
            print(f"  #{r['id']} {r['name']}（{r['town'] or '-'}）{r['level_zh']}")
    if ch.removed:
        print("\n删除企业 removed:")
        for r in ch.removed:
            print(f"  #{r['id']} {r['name'] or '-'}  {r['at'] or ''}  {r['reason'] or ''}")
    print(f"\n分区变色 zones changed colour: {n['zones']}")
    for r in ch.zones:
        print(f"  [{r['unit_zh']}] {r['name']} {r['from_zh']} → {r['to_zh']}")
    print(f"\n隐患 hidden dangers: 新增 opened {n['dangers_opened']}，销号 closed {n['dangers_closed']}，"
          f"截至{_d(end)}逾期 overdue {n['dangers_overdue']}")
    for title, rows in (("新增 opened", ch.dangers_opened), ("销号 closed", ch.dangers_closed),
                        ("逾期 overdue", ch.dangers_overdue)):
        for r in rows:
            print(f"  {title} #{r['id']} {r['grade_zh']} {r['title']}（{r['enterprise'] or '-'}，期限 {r['deadline'] or '-'}"
                  f"{'，挂牌督办' if r['supervised'] else ''}）")
    print(f"\n侵占（GB 36894）encroachments: 新增 new {n['encroachments_new']}，消除 resolved "
          f"{n['encroachments_resolved']}")
    for title, rows in (("新增 new", ch.encroachments_new), ("消除 resolved", ch.encroachments_resolved)):
        for r in rows:
            print(f"  {title} {r['target']} 在 {r['object']} 内")
    return 0
