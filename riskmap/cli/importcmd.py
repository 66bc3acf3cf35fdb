"""``riskmap import``: bring a bureau's file into a project, validated before anything is written."""

from __future__ import annotations

import sys

from riskmap.cli.progress import ProgressBar
from riskmap.errors import RiskmapError

REPORT_LINES = 200


def register(sub) -> None:
    p = sub.add_parser(
        "import", help="导入数据文件 / import a data file",
        description="导入 XLSX、CSV、SHP、GPKG、GeoJSON、KML/KMZ、DXF 到项目的一个图层：先校验（文件、行号、字段、值、原因），"
                    "再一次性写入（全部写入或全部不写） / import a file into one layer of a project: validated first "
                    "(file, row, field, value, reason), then written in one transaction (all or nothing)")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("file", help="要导入的文件 / the file to import")
    p.add_argument("--layer", required=True,
                   help="目标图层或数据表 / target layer or table: enterprises, protected_targets, emergency_resources, "
                        "hidden_dangers, lifelines, lifeline_points, zones (--kind), towns, villages, grids, parks, "
                        "county, control_lines, risk_contours, plant（企业厂区风险包 / an enterprise's plant package, riskmap plant "
                        "--pack）")
    p.add_argument("--crs", help="源坐标系 / source CRS: EPSG 代码 (4490, 4326, 4544, 4523, 3857 …) 或 gcj02（高德/腾讯）、"
                                 "bd09（百度）；默认按文件声明或自动识别 / default: declared by the file or detected")
    p.add_argument("--mapping", help="字段对应 JSON 文件 / field mapping JSON {\"fields\": {字段: 列名}, \"x\": …, \"y\": …}")
    p.add_argument("--save-mapping", metavar="OUT.json", help="保存本次使用的字段对应 / write the mapping used to a JSON file")
    p.add_argument("--sheet", help="工作表或源图层名 / sheet or source layer name")
    p.add_argument("--kind", help="分区类型 / zone kind: county, town, village, grid, chemical_park, industrial_park …")
    p.add_argument("--header-row", type=int, metavar="N", help="表头所在行（默认自动识别） / header row (default: detected)")
    p.add_argument("--dry-run", action="store_true", help="只校验，不写入 / validate only, write nothing")
    p.add_argument("--skip-bad-rows", action="store_true", help="跳过有错误的行，只导入正确的行 / import the good rows only")
    p.add_argument("--no-repair", action="store_true",
                   help="不自动修复无效几何和颠倒的坐标，视为错误 / treat invalid geometry and swapped coordinates as errors")
    p.add_argument("--delete-missing", action="store_true",
                   help="企业清单：删除项目中有、新名单中没有的企业（同一事务，逐家列出） / enterprise lists: delete the "
                        "enterprises of the project the new list no longer names (same transaction, each listed)")
    p.add_argument("--report", metavar="OUT.csv", help="把完整的校验报告写成 CSV / write the full report as CSV")
    p.add_argument("--create", action="store_true",
                   help="厂区风险包：项目中没有该统一社会信用代码的企业时新建它 / plant package: add the enterprise when "
                        "the project has none with its credit code")
    p.add_argument("--assessor", help="厂区风险包：重新定级记录的评估人（默认当前用户） / plant package: the assessor named "
                                      "on the re-derived level (default: the current user)")
    p.add_argument("--json", action="store_true", help="厂区风险包：报告输出为 JSON / plant package: print the report as JSON")
    p.set_defaults(func=run)


def run_plant(args) -> int:
    """``--layer plant``: a plant package (riskmap plant --pack) into the project, with its report."""
    import json

    from riskmap.io.plant_package import import_package
    from riskmap.store import Project

    with Project.open(args.project) as project:
        report = import_package(project, args.file, dry_run=args.dry_run, assessor=args.assessor, create=args.create,
                                delete_missing=args.delete_missing)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(report.lines(limit=REPORT_LINES)))
    return 0


def run(args) -> int:
    from riskmap.io.importer import commit_import, plan_import
    from riskmap.store import Project

    plant_only = [o for o, v in (("--create", args.create), ("--assessor", args.assessor), ("--json", args.json)) if v]
    if args.layer == "plant":
        other = [o for o, v in (("--crs", args.crs), ("--mapping", args.mapping), ("--save-mapping", args.save_mapping),
                                ("--sheet", args.sheet), ("--kind", args.kind), ("--header-row", args.header_row),
                                ("--skip-bad-rows", args.skip_bad_rows), ("--no-repair", args.no_repair),
                                ("--report", args.report)) if v]
        if other:
            raise RiskmapError(f"{other[0]} 不用于厂区风险包（--layer plant）", f"{other[0]} does not apply to a plant "
                               "package (--layer plant)", where=other[0])
        return run_plant(args)
    if plant_only:
        raise RiskmapError(f"{plant_only[0]} 只用于厂区风险包（--layer plant）", f"{plant_only[0]} applies to a plant "
                           "package only (--layer plant)", where=plant_only[0])
    bar = ProgressBar("导入 / import")
    with Project.open(args.project) as project:
        plan = plan_import(project, args.file, args.layer, crs=args.crs, mapping=args.mapping, sheet=args.sheet,
                           kind=args.kind, header_row=args.header_row, repair=not args.no_repair,
                           progress=lambda f, m: bar(0.6 * f, m))
        bar.done()
        _print_report(plan)
        if args.save_mapping:
            plan.mapping.save(args.save_mapping)
            print(f"字段对应已保存 / mapping saved: {args.save_mapping}")
        if args.report:
            plan.report.write_csv(args.report)
            print(f"校验报告 / report: {args.report}")
        if args.dry_run:
            print("试运行，未写入 / dry run: nothing written")
            if plan.n_good == 0:
                raise RiskmapError("没有可导入的行", "nothing could be imported", where=plan.source.path.name)
            if plan.n_bad and not args.skip_bad_rows:
                raise RiskmapError(f"{plan.n_bad} 行有错误", f"{plan.n_bad} rows have errors", where=plan.source.path.name)
            return 0
        bar = ProgressBar("写入 / write")
        result = commit_import(project, plan, skip_bad_rows=args.skip_bad_rows, delete_missing=args.delete_missing,
                               progress=bar)
        bar.done()
        skipped = f"，跳过 {plan.n_bad} 行有错误的行" if plan.n_bad else ""
        if plan.update is not None:
            _print_update(plan, result)
        print(f"已导入 {len(result.ids)} 行到 {plan.spec.table}{skipped} / imported {len(result.ids)} rows into "
              f"{plan.spec.table}" + (f", {plan.n_bad} bad rows skipped" if plan.n_bad else ""))
    return 0


def _print_update(plan, result) -> None:
    """Added / changed (with the fields) / unchanged / missing from the new list / deleted."""
    from riskmap.io.update import FIELD_ZH

    print(f"新增 {len(result.ids)} 家，更新 {len(result.updated)} 家，无变化 {result.unchanged} 家，"
          f"新名单中没有 {len(result.missing)} 家 / {len(result.ids)} added, {len(result.updated)} changed, "
          f"{result.unchanged} unchanged, {len(result.missing)} not in the new list")
    for eid, fields in list(result.updated.items())[:REPORT_LINES]:
        print(f"  更新 changed id={eid}: {'、'.join(FIELD_ZH.get(f, f) for f in fields)}")
    deleted = {i for i, _ in result.deleted}
    for eid, name in result.missing[:REPORT_LINES]:
        what = "已删除 deleted" if eid in deleted else "保留 kept"
        print(f"  新名单中没有 not in the list id={eid} {name}: {what}")
    if result.missing and not deleted:
        print("  （未删除；要删除请加 --delete-missing / kept; add --delete-missing to delete them）")


def _print_report(plan) -> None:
    src = plan.source
    where = f"工作表 sheet “{src.layer}”, " if src.layer and src.is_table else ""
    print(f"文件 File: {src.path.name} ({src.format}, {where}{len(src)} 行 rows)")
    print(f"图层 Layer: {plan.spec.table}" + (f" kind={plan.mapping.constants['kind']}" if "kind" in plan.mapping.constants
                                            else ""))
    lines = plan.report.lines(limit=REPORT_LINES)
    for line in lines:
        print("  " + line)
    c = plan.report.counts()
    print(f"共 {plan.n_rows} 行：可导入 {plan.n_good}，有错误 {plan.n_bad}；已修复 {c['repaired']} 处，警告 {c['warning']} 处 / "
          f"{plan.n_rows} rows: {plan.n_good} good, {plan.n_bad} with errors; {c['repaired']} repaired, "
          f"{c['warning']} warnings")
    sys.stdout.flush()
