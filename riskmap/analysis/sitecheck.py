"""Site check (选址): which control lines, risk contours and risk zones a proposed site falls in, which
protected-target classes GB 36894 would forbid there, and the hazards within a chosen distance.

A site is a point or a polygon in EPSG:4490. ``distance_m`` of a line or contour is the signed ground distance
from a point site to its boundary (negative inside); for a polygon site it is 0 when they overlap, and
``overlap_m2`` gives the overlapping area.

>>> # r = site_check(project, shapely.Point(105.1, 35.9), radius_m=1000); print(r.to_text())
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import shapely

from riskmap.analysis.encroachment import format_risk, owner_names, parse_applies_to
from riskmap.analysis.geodesy import ground_distance, to_metric
from riskmap.analysis.measure import format_area, format_distance, geodesic_area
from riskmap.analysis.proximity import ProjectData
from riskmap.analysis.standards import STATUS_ZH, load_gb36894, normalise_status
from riskmap.errors import RiskmapError
from riskmap.levels import level_info
from riskmap.marks import demo_title
from riskmap.scalars import plain_scalar

ZONE_KIND_ZH = {"county": "县", "town": "镇/街道", "village": "村/社区", "grid": "网格", "chemical_park": "化工园区",
                "industrial_park": "工业园区", "functional": "功能区", "custom": "自定义区域"}


def level_name(level) -> str:
    try:
        return level_info(int(level)).name_zh
    except (TypeError, ValueError):
        return "未定级"


INT_COLUMNS = ("id", "level", "major_hazard_grade", "enterprise_id", "park_zone_id", "people", "year_built")


def records(df, columns: list[str]) -> list[dict]:
    """Plain-Python dict rows (None for missing; whole numbers in id/level columns as int) of ``columns``."""
    out = []
    for row in df[[c for c in columns if c in df.columns]].to_dict("records"):
        rec = {k: plain_scalar(v) for k, v in row.items()}
        for k in INT_COLUMNS:
            if isinstance(rec.get(k), float):
                rec[k] = int(rec[k])
        out.append(rec)
    return out


@dataclass
class SiteCheck:
    site_wkt: str
    site_type: str
    radius_m: float
    area_m2: float | None
    control_lines: list[dict] = field(default_factory=list)
    contours: list[dict] = field(default_factory=list)
    zones: list[dict] = field(default_factory=list)
    restricted_classes: list[dict] = field(default_factory=list)
    enterprises: list[dict] = field(default_factory=list)
    hazard_sources: list[dict] = field(default_factory=list)
    demo: bool = False

    def to_json(self) -> dict:
        return asdict(self)

    def _where(self, c: dict) -> str:
        if self.site_type != "Point" and c["inside"]:
            return f"重叠 {format_area(c['overlap_m2'])}"
        return f"距边界 {format_distance(abs(c['distance_m']))}"

    def to_text(self) -> str:
        lines = [f"{demo_title('选址检查', self.demo)}：{'点位' if self.site_type == 'Point' else '地块'}"
                 + (f"，面积 {format_area(self.area_m2)}" if self.area_m2 else "") + f"；危险源搜索半径 {self.radius_m:g} m"]
        inside = [c for c in self.control_lines if c["inside"]]
        lines.append(f"安全控制线：位于 {len(inside)} 条之内" + ("" if inside else "（无）"))
        for c in self.control_lines:
            lines.append(f"  {'■ 线内' if c['inside'] else '□ 线外'} {c['name']}  {self._where(c)}")
        lines.append(f"个人风险等值线：位于 {sum(c['inside'] for c in self.contours)} 条之内")
        for c in self.contours:
            lines.append(f"  {'■ 线内' if c['inside'] else '□ 线外'} {c['owner_name'] or ''}{c['facility'] or ''} "
                         f"{c['risk_text']}/年（{STATUS_ZH.get(c['installation_status'], '')}）{self._where(c)}")
        if self.restricted_classes:
            lines.append("不宜设置的防护目标（GB 36894）：")
            for r in self.restricted_classes:
                lines.append(f"  {r['class_zh']}：{r['reason']}")
        lines.append("所在分区：" + ("；".join(f"{ZONE_KIND_ZH.get(z['kind'], z['kind'])} {z['name']}（{z['level_name']}）"
                                         for z in self.zones) or "无"))
        lines.append(f"{self.radius_m:g} m 内企业 {len(self.enterprises)} 家：")
        for e in self.enterprises:
            lines.append(f"  {e['name']}（{e['level_name']}{'，重大危险源' if e.get('major_hazard') else ''}）"
                         f" {format_distance(e['distance_m'])}")
        lines.append(f"{self.radius_m:g} m 内危险源 {len(self.hazard_sources)} 处：")
        for h in self.hazard_sources:
            grade = f"，重大危险源{'一二三四'[h['major_hazard_grade'] - 1]}级" if h.get("major_hazard_grade") else ""
            lines.append(f"  {h['enterprise_name']} {h['name']}（{h['level_name']}{grade}） {format_distance(h['distance_m'])}")
        return "\n".join(lines)


def _relation(site, site_m, df, epsg):
    """inside flag, signed distance (points) and overlap area (polygons) of a site against polygons."""
    geoms_m = to_metric(df.geometry.to_numpy(), epsg)
    inside = shapely.intersects(site_m, geoms_m)
    if site.geom_type == "Point":
        d = ground_distance(np.full(len(df), site_m, dtype=object), shapely.boundary(geoms_m), epsg)
        d = np.where(inside, -d, d)
        overlap = np.zeros(len(df))
    else:
        d = np.where(inside, 0.0, ground_distance(np.full(len(df), site_m, dtype=object), geoms_m, epsg))
        overlap = np.array([geodesic_area(site.intersection(g)) if i else 0.0
                            for g, i in zip(df.geometry.to_numpy(), inside)])
    return inside, d, overlap


def site_check(project, site, radius_m: float = 1000.0, *, data: ProjectData | None = None) -> SiteCheck:
    """Check a proposed site (shapely Point or Polygon in EPSG:4490) against the project."""
    if site is None or site.is_empty or site.geom_type not in ("Point", "Polygon", "MultiPolygon"):
        raise RiskmapError("选址应为一个点或一个面", "a site must be a point or a polygon")
    if not site.is_valid:
        raise RiskmapError("选址地块的边界自相交，请修正", "the site polygon is invalid (self-intersecting)")
    if not (radius_m >= 0):
        raise RiskmapError(f"搜索半径应为非负数: {radius_m}", f"radius must not be negative: {radius_m}")
    data = data or ProjectData(project)
    epsg = data.epsg
    gb = load_gb36894()
    names = owner_names(project)
    site_m = to_metric(site, epsg)
    out = SiteCheck(site_wkt=site.wkt, site_type=site.geom_type, radius_m=float(radius_m),
                    area_m2=geodesic_area(site) if site.geom_type != "Point" else None, demo=project.is_demo)

    lines = data.near("control_lines", site, radius_m)
    if len(lines):
        inside, d, overlap = _relation(site, site_m, lines, epsg)
        lines = lines.assign(inside=inside, distance_m=d, overlap_m2=overlap)
        lines["owner_name"] = [names.get(("enterprise", int(e)), "") if e == e and e is not None else
                               names.get(("park", int(p)), "") if p == p and p is not None else ""
                               for e, p in zip(lines["enterprise_id"], lines["park_zone_id"])]
        lines = lines.sort_values(["inside", "distance_m"], ascending=[False, True])
        out.control_lines = records(lines, ["id", "name", "status", "applies_to", "source_doc", "owner_name",
                                            "inside", "distance_m", "overlap_m2"])
    contours = data.near("risk_contours", site, radius_m)
    if len(contours):
        inside, d, overlap = _relation(site, site_m, contours, epsg)
        contours = contours.assign(inside=inside, distance_m=d, overlap_m2=overlap,
                                   risk_text=[format_risk(v) for v in contours["individual_risk"]],
                                   installation_status=[normalise_status(s or "in_service")
                                                        for s in contours["installation_status"]])
        contours["owner_name"] = [names.get(("enterprise", int(e)), "") if e == e and e is not None else ""
                                  for e in contours["enterprise_id"]]
        contours = contours.sort_values(["inside", "individual_risk"], ascending=[False, False])
        out.contours = records(contours, ["id", "individual_risk", "risk_text", "installation_status", "enterprise_id",
                                          "owner_name", "facility", "source_doc", "inside", "distance_m", "overlap_m2"])

    for code, cls in gb.classes.items():
        reasons = []
        for c in out.control_lines:
            applies = parse_applies_to(c.get("applies_to"), gb)
            if c["inside"] and (applies is None or code in applies):
                reasons.append(f"位于{c['name']}内")
        for c in out.contours:
            if c["inside"] and c["individual_risk"] >= gb.threshold(code, c["installation_status"]) * (1 - 1e-9):
                reasons.append(f"位于{c['owner_name']}{c['facility'] or ''} {c['risk_text']}/年等值线内"
                               f"（{STATUS_ZH[c['installation_status']]}装置基准 "
                               f"{format_risk(gb.threshold(code, c['installation_status']))}）")
        if reasons:
            out.restricted_classes.append({"class": code, "class_zh": cls.zh, "reason": "；".join(dict.fromkeys(reasons))})

    zones = data.near("zones", site, 0.0, where="kind NOT IN ('county', 'city', 'province')")
    zones = zones.assign(level_name=[level_name(v) for v in zones["level"]])
    order = {k: i for i, k in enumerate(ZONE_KIND_ZH)}
    zones = zones.assign(_o=[order.get(k, 99) for k in zones["kind"]]).sort_values(["_o", "id"])
    out.zones = records(zones, ["id", "name", "kind", "level", "level_name", "level_rule"])

    ents = data.near("enterprises", site, radius_m)
    ents = ents.assign(level_name=[level_name(v) for v in ents["level"]])
    out.enterprises = records(ents, ["id", "name", "industry", "level", "level_name", "major_hazard", "distance_m"])
    hs = data.near("risk_points", site, radius_m, where="kind = 'hazard_source' OR major_hazard_grade IS NOT NULL")
    hs = hs.assign(level_name=[level_name(v) for v in hs["level"]],
                   enterprise_name=[names.get(("enterprise", int(e)), "") for e in hs["enterprise_id"]])
    out.hazard_sources = records(hs, ["id", "name", "enterprise_id", "enterprise_name", "major_hazard_grade", "level",
                                      "level_name", "distance_m"])
    return out
