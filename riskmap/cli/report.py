"""``riskmap report``: the briefing (研判简报) of a period as DOCX or PDF."""

from __future__ import annotations

from pathlib import Path

from riskmap.errors import RiskmapError


def register(sub) -> None:
    p = sub.add_parser(
        "report", help="生成研判简报 DOCX/PDF / write the risk briefing (DOCX or PDF)",
        description="生成两个日期之间的安全风险研判简报：一张图、关键数字及与上期比较、各镇街情况、风险上升企业、"
                    "逾期重大隐患及挂牌督办、规划指标与目标、新增侵占问题 / the risk briefing between two dates: the "
                    "map, key figures against the previous period, towns, enterprises raised, overdue major hidden "
                    "dangers, plan indicators against their targets, new encroachments")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD",
                   help="上期日期（比较的起点）/ the previous date (start of the period)")
    p.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD",
                   help="本期日期（简报截至的日期）/ the date the briefing stands at (end of the period)")
    p.add_argument("--format", choices=("docx", "pdf"), help="输出格式（缺省按文件扩展名）/ format (default: from --out)")
    p.add_argument("--out", required=True, help="输出文件 .docx 或 .pdf / output file")
    p.add_argument("--template", help="简报模板：章节表 .toml 或 Word 文件 .docx / template: a .toml section list or a .docx")
    p.add_argument("--issue", help="期号，如 3 / issue number")
    p.add_argument("--org", help="编制单位（缺省取项目的编制单位）/ producing organisation (default: the project's)")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.cli.progress import ProgressBar
    from riskmap.cli.stats import parse_date
    from riskmap.printing.briefing import FORMATS, make_briefing
    from riskmap.store import Project

    start = parse_date(args.start, "--from")
    end = parse_date(args.end, "--to")
    if start > end:
        raise RiskmapError(f"--from {start} 晚于 --to {end}", f"--from {start} is after --to {end}", where="--from")
    fmt = (args.format or Path(args.out).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise RiskmapError(f"无法从文件名判断简报格式: {args.out}（用 --format docx|pdf）",
                           f"cannot tell the briefing format from {args.out}; give --format docx|pdf", where="--out")
    bar = ProgressBar(f"研判简报 {fmt.upper()}")
    with Project.open(args.project, readonly=True) as project:
        path = make_briefing(project, args.out, start=start, end=end, fmt=fmt, template=args.template,
                             issue=args.issue, org=args.org, progress=bar)
    bar.done()
    print(f"已生成 written: {path}")
    return 0
