"""``riskmap contours``: import individual-risk contours (GPKG, SHP, DXF) from a QRA report."""

from __future__ import annotations

import json

from riskmap.cli.progress import ProgressBar


def register(sub) -> None:
    p = sub.add_parser("contours", help="导入个人风险等值线 / import individual-risk contours",
                       description="从 GPKG、SHP 或 DXF（闭合多段线）导入 3×10⁻⁵、1×10⁻⁵、3×10⁻⁶、3×10⁻⁷ 等个人风险等值线 / "
                                   "import individual-risk contours from GPKG, SHP or DXF (closed polylines)")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("file", help="等值线文件 / contour file (.gpkg .shp .dxf)")
    v = p.add_mutually_exclusive_group()
    v.add_argument("--risk-field", help="风险值字段；DXF 用 layer（图层名）/ field with the risk value; DXF: layer")
    v.add_argument("--risk", help="所有等值线的风险值，如 3e-7 / one risk value for every contour, e.g. 3e-7")
    p.add_argument("--map", dest="value_map", help="名称=风险值 对应关系，如 \"IR7=3e-7,IR6=3e-6\" / value map")
    p.add_argument("--status", default="in_service", help="装置状态 new(新建) | in_service(在役)，默认在役")
    p.add_argument("--enterprise", type=int, metavar="ID", help="所属企业 / enterprise id")
    p.add_argument("--facility", help="装置/设施名称 / facility name")
    p.add_argument("--facility-field", help="设施名称字段 / field with the facility name")
    p.add_argument("--layer", help="读取的图层（GPKG 图层或 DXF 图层）/ layer to read")
    p.add_argument("--crs", help="文件坐标系（无坐标系时），如 4544 / the file's CRS when it has none")
    p.add_argument("--source", help="来源文件，如《某公司安全评价报告》/ source document")
    p.add_argument("--replace", action="store_true", help="替换该企业、设施、状态已有的等值线 / replace existing ones")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    from riskmap.analysis.contours import import_contours, parse_value_map
    from riskmap.analysis.encroachment import format_risk
    from riskmap.analysis.measure import format_area
    from riskmap.store import Project

    crs = int(args.crs) if args.crs and args.crs.isdigit() else args.crs
    with Project.open(args.project) as project:
        bar = ProgressBar("等值线 / contours")
        rows, report = import_contours(
            project, args.file, status=args.status, enterprise_id=args.enterprise, facility=args.facility,
            source_doc=args.source, layer=args.layer, risk_field=args.risk_field, risk=args.risk,
            value_map=parse_value_map(args.value_map) if args.value_map else None,
            facility_field=args.facility_field, crs=crs, replace=args.replace, progress=bar)
        bar.done()
    if args.json:
        out = [{k: v for k, v in r.items() if k != "geom"} for r in rows]
        print(json.dumps({"contours": out, "report": report}, ensure_ascii=False, indent=2))
        return 0
    print(f"导入 imported {len(rows)} 条等值线 contours（{report['rings']} 个闭合环 rings，跳过 skipped "
          f"{report['skipped']}，坐标系 CRS {report['crs']}）")
    for r in rows:
        print(f"  #{r['id']} {format_risk(r['individual_risk'])}/年 {r['facility'] or ''} {format_area(r['area_m2'])}")
    if report["nonstandard_values"]:
        print("注意：以下风险值不是 GB 36894 的等值线取值 / note: non-standard values: "
              + ", ".join(format_risk(v) for v in report["nonstandard_values"]))
    return 0
