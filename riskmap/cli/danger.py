"""``riskmap danger``: list hidden dangers, show one with its history, advance its lifecycle."""

from __future__ import annotations

import json

from riskmap.errors import RiskmapError


def register(sub) -> None:
    from riskmap.dangers import EDITABLE, STATUSES

    p = sub.add_parser("danger", help="隐患台账与闭环 / hidden dangers",
                       description="列出隐患、查看处置记录、推进状态（登记→整改中→挂牌督办(重大)→整改完成→销号）/ "
                                   "list hidden dangers, show one, advance its status")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    sp = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sp.add_parser("list", help="列出隐患 / list")
    ls.add_argument("--open", action="store_true", help="只列未销号 / open only")
    ls.add_argument("--overdue", action="store_true", help="只列逾期 / overdue only")
    ls.add_argument("--today", metavar="YYYY-MM-DD", help="判断逾期的日期（默认今天）/ date for overdue")
    ls.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    show = sp.add_parser("show", help="查看一条隐患及处置记录 / show one with its events")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    adv = sp.add_parser("advance", help="推进状态 / change status",
                        description=f"STATUS: {', '.join(STATUSES)}; --set 字段 field: {', '.join(EDITABLE)}")
    adv.add_argument("id", type=int, help="隐患编号 / danger id")
    adv.add_argument("status", help=f"新状态 / new status: {'|'.join(STATUSES)}")
    adv.add_argument("--by", required=True, help="操作人 / who")
    adv.add_argument("--note", help="说明 / note")
    adv.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                     help="同时填写字段，可重复 / set a field first (repeatable), e.g. effect_evaluation=合格")
    p.set_defaults(func=run)


def _fields(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise RiskmapError(f"--set 应写成 字段=值，收到 {pair!r}", f"--set takes FIELD=VALUE, got {pair!r}", where="--set")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _row(r) -> dict:
    return {"id": int(r["id"]), "title": r["title"], "grade": r["grade"], "status": r["status"],
            "status_zh": r["status_zh"], "enterprise_id": None if r["enterprise_id"] != r["enterprise_id"] or r["enterprise_id"] is None else int(r["enterprise_id"]),
            "enterprise": r["enterprise"], "deadline": None if r["deadline"] is None else str(r["deadline"]),
            "overdue": bool(r["overdue"])}


def run(args) -> int:
    from riskmap.cli.stats import parse_date
    from riskmap.dangers import advance, danger_table
    from riskmap.model import HiddenDanger
    from riskmap.store import Project

    if args.action == "list":
        with Project.open(args.project, readonly=True) as project:
            d = danger_table(project, parse_date(args.today), only_open=args.open, only_overdue=args.overdue)
        rows = [_row(r) for _, r in d.iterrows()]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return 0
        print(f"{'编号':>4} {'等级':<4} {'状态':<5} {'期限':<10} {'逾期':<3} 隐患 / 企业")
        for r in rows:
            print(f"{r['id']:>4} {'重大' if r['grade'] == 'major' else '一般':<4} {r['status_zh']:<5} "
                  f"{r['deadline'] or '-':<10} {'是' if r['overdue'] else '':<3} {r['title']} / {r['enterprise'] or '-'}")
        return 0
    if args.action == "show":
        with Project.open(args.project, readonly=True) as project:
            s = project.reader()
            try:
                d = s.get(HiddenDanger, args.id)
                if d is None:
                    raise RiskmapError(f"隐患不存在: {args.id}", f"no such hidden danger: {args.id}", where="id")
                info = {c: getattr(d, c) for c in ("id", "title", "grade", "status", "enterprise_id", "found_date",
                                                   "deadline", "responsible_person", "measures", "funds_wan", "plan",
                                                   "supervising_department", "effect_evaluation", "closed_date")}
                info = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in info.items()}
                info["events"] = [{"from": e.from_status, "to": e.to_status, "at": e.at.isoformat() if e.at else None,
                                   "by": e.by, "note": e.note} for e in sorted(d.events, key=lambda e: e.id)]
            finally:
                s.close()
        print(json.dumps(info, ensure_ascii=False, indent=2 if args.json else None))
        return 0
    with Project.open(args.project) as project:
        with project.session() as s:
            ev = advance(s, args.id, args.status.strip(), by=args.by, note=args.note, **_fields(args.set))
            d = s.get(HiddenDanger, args.id)
            msg = f"隐患 #{d.id}“{d.title}”: {ev.from_status} → {ev.to_status}"
    print(msg)
    return 0
