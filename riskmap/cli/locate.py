"""``riskmap locate``: set the points of enterprises without coordinates (未定位) from a coordinates file."""

from __future__ import annotations

import json

from riskmap.cli.progress import ProgressBar

LISTED = 50  # rows listed per outcome in the text report


def register(sub) -> None:
    p = sub.add_parser(
        "locate", help="按坐标文件为企业定位 / set enterprise points from a coordinates file",
        description="读取含统一社会信用代码或企业名称及坐标的表格（经纬度、度分秒、高斯-克吕格、GCJ-02 等），按信用代码、"
                    "否则按名称（及镇街）匹配项目中的企业并设置其点位，一次性写入；报告已定位、未找到、名称不唯一、"
                    "在边界之外 / read a table of credit codes or names with coordinates (lon/lat, DMS, Gauss-Kruger, "
                    "GCJ-02 …), match the project's enterprises by credit code, else by name (and town), set their "
                    "points in one transaction; report matched, not found, ambiguous, outside the boundary")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("file", help="坐标文件 XLSX/CSV / coordinates file")
    p.add_argument("--crs", help="源坐标系 / source CRS: EPSG 代码或 gcj02、bd09；默认自动识别 / default: detected")
    p.add_argument("--sheet", help="工作表名 / sheet name")
    p.add_argument("--dry-run", action="store_true", help="只匹配和报告，不写入 / match and report, write nothing")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.io.locate import OUTCOME_ZH, OUTCOMES, locate_from_file
    from riskmap.store import Project

    with Project.open(args.project, readonly=args.dry_run) as project:
        bar = None if args.json else ProgressBar("定位 / locate")
        result = locate_from_file(project, args.file, dry_run=args.dry_run, crs=args.crs, sheet=args.sheet,
                                  progress=bar)
        if bar is not None:
            bar.done()
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return 0
    c = result.counts()
    print(f"文件 File: {result.file}（坐标系 {result.crs}）")
    print("，".join(f"{OUTCOME_ZH[k]} {c[k]}" for k in OUTCOMES) + " / " +
          ", ".join(f"{k} {c[k]}" for k in OUTCOMES))
    for k in OUTCOMES:
        for r in result.rows[k][:LISTED]:
            what = r["name"] or r["credit_code"] or "-"
            where = f" ({r['lon']}, {r['lat']})" if r["lon"] is not None else ""
            town = f" {r['town']}" if r.get("town") else ""
            print(f"  {OUTCOME_ZH[k]} 第{r['row']}行 {what}{where}{town}" + (f"：{r['note']}" if r["note"] else ""))
        if len(result.rows[k]) > LISTED:
            print(f"  … 另有 {len(result.rows[k]) - LISTED} 行{OUTCOME_ZH[k]}")
    print("试运行，未写入 / dry run: nothing written" if args.dry_run else
          f"已定位 {c['matched']} 家企业 / {c['matched']} enterprises placed")
    return 0
