"""``riskmap info``: what a project holds: layers, counts, CRS, counts by level."""

from __future__ import annotations

import json

from riskmap.industries import groups, industry_name, load_industries
from riskmap.levels import level_info
from riskmap.store import Project
from riskmap.store.names import TABLE_TITLES


def register(sub) -> None:
    p = sub.add_parser("info", help="显示项目概况 / describe a project",
                       description="列出图层、要素数、坐标系和各风险等级数量 / "
                                   "list layers, feature counts, CRS and counts by level")
    p.add_argument("project", help="项目文件 .gpkg 或数据库 URL / project file or database URL")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.set_defaults(func=run)


def project_summary(project: Project) -> dict:
    """Everything ``info`` prints, as a dict."""
    counts = project.counts()
    ents = project.read_table("enterprises", columns=["level", "industry"])
    by_level = {str(n): int((ents["level"] == n).sum()) for n in (1, 2, 3, 4)}
    by_level["none"] = int(ents["level"].isna().sum())
    unlocated = int((ents.geometry.isna() | ents.geometry.is_empty).sum()) if len(ents) else 0
    by_industry = {k: int(v) for k, v in ents["industry"].value_counts().sort_index().items()}
    inds = load_industries()
    by_plan_group: dict[str, int] = {}
    for code, n in by_industry.items():
        group = inds[code].plan_group if code in inds else "other"
        by_plan_group[group] = by_plan_group.get(group, 0) + n
    zones = project.read_table("zones", columns=["kind"])
    zone_kinds = {k: int(v) for k, v in zones["kind"].value_counts().sort_index().items()}
    layers = []
    for layer in project.catalogue().values():  # 镇街（示意） while the towns are approximate
        n = len(project.read_table(layer.table, where=layer.where, columns=["id"])) if layer.where else counts[layer.table]
        layers.append({"id": layer.id, "name": layer.name_zh, "table": layer.table, "geometry": layer.geometry,
                       "count": n})
    meta = project.meta()
    return {
        "name": project.name, "target": project.target, "place": meta.get("place"),
        "place_name": meta.get("place_full_name") or meta.get("place_name"), "org": meta.get("org") or None,
        "metric_note": meta.get("metric_note") or None,
        "demo": project.is_demo, "schema_version": project.schema_version,
        "crs": "EPSG:4490 (CGCS2000)", "metric_crs": f"EPSG:{project.metric_epsg}" if project.metric_epsg else None,
        "tables": counts, "layers": layers, "enterprises_by_level": by_level,
        "enterprises_unlocated": unlocated,
        "enterprises_by_industry": by_industry, "enterprises_by_plan_group": by_plan_group, "zones_by_kind": zone_kinds,
    }


def run(args) -> int:
    with Project.open(args.project, readonly=True) as project:
        info = project_summary(project)
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    print(f"项目 Project: {info['name']}" + ("  [示例数据 demo data]" if info["demo"] else ""))
    print(f"文件 File: {info['target']}")
    if info["place_name"]:
        print(f"地方 Place: {info['place_name']}（{info['place']}）" + (f"；编制单位 {info['org']}" if info["org"] else ""))
    print(f"坐标系 CRS: {info['crs']}; 量算 metric: {info['metric_crs'] or '-'}; 结构版本 schema: {info['schema_version']}")
    if info["metric_note"]:
        print(f"  {info['metric_note']}")
    print("\n图层 Layers:")
    for layer in info["layers"]:
        print(f"  {layer['id']:<20} {layer['name']:<12} {layer['geometry']:<8} {layer['count']:>7}")
    print("\n数据表 Tables:")
    for table, n in info["tables"].items():
        print(f"  {table:<22} {TABLE_TITLES.get(table, ''):<12} {n:>7}")
    print("\n企业风险等级 Enterprises by level:")
    for n in (1, 2, 3, 4):
        li = level_info(n)
        print(f"  {li.name_zh}({li.colour_zh}) {info['enterprises_by_level'][str(n)]:>6}")
    if info["enterprises_by_level"]["none"]:
        print(f"  未评估 unassessed {info['enterprises_by_level']['none']:>6}")
    if info["enterprises_unlocated"]:
        print(f"  未定位 unlocated {info['enterprises_unlocated']:>6}（无坐标 / no coordinates）")
    print("\n企业行业（规划口径） Enterprises by plan sector:")
    for group, n in info["enterprises_by_plan_group"].items():
        print(f"  {groups()[group]['zh']:<12} {n:>6}")
    print("\n企业行业 Enterprises by industry:")
    for code, n in info["enterprises_by_industry"].items():
        print(f"  {industry_name(code):<12} {n:>6}")
    return 0
