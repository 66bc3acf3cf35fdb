"""“一点即现”: everything within R metres of a clicked point, the nearest emergency resources, and the
protected targets and people affected — as data, plain text and a printable HTML page.

Distances are ground distances (metres) measured in the project's Gauss–Krüger CRS with the grid-scale
correction; a feature that contains the point is at 0 m. People affected = the sum of ``people`` of the
protected targets within R (targets without a count add nothing and are counted separately).

>>> # r = nearby(project, 105.05, 35.93, 1000); print(r.to_text())
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import asdict, dataclass, field

import shapely

from riskmap.analysis.encroachment import format_risk
from riskmap.analysis.measure import format_distance
from riskmap.analysis.proximity import ProjectData
from riskmap.analysis.sitecheck import ZONE_KIND_ZH, level_name, records
from riskmap.analysis.standards import STATUS_ZH, load_gb36894
from riskmap.errors import RiskmapError
from riskmap.marks import demo_title

RESOURCE_KIND_ZH = {"rescue_team": "应急救援队伍", "fire_station": "消防救援站", "micro_fire_station": "微型消防站",
                    "shelter": "应急避难场所", "supply_depot": "应急物资储备库", "hospital": "医院", "expert": "专家"}
TARGET_KIND_ZH = {"school": "学校", "kindergarten": "幼儿园", "hospital": "医院", "elderly_home": "养老院",
                  "residential": "住宅区", "crowded_place": "人员密集场所", "office": "办公场所", "prison": "监所",
                  "cultural_relic": "文物保护单位", "military": "军事设施"}
LIFELINE_ZH = {"gas": "燃气", "water": "供水", "drainage": "排水", "heat": "热力", "power": "电力", "telecom": "通信",
               "bridge": "桥梁", "tunnel": "隧道", "utility_tunnel": "综合管廊", "oil_pipeline": "输油管道",
               "gas_pipeline": "输气管道", "elevator": "电梯"}
DANGER_STATUS_ZH = {"registered": "已登记", "rectifying": "整改中", "supervised": "挂牌督办", "rectified": "整改完成",
                    "closed": "已销号"}


@dataclass
class NearbyResult:
    lon: float
    lat: float
    radius_m: float
    project_name: str = ""
    demo: bool = False
    zones: list[dict] = field(default_factory=list)
    control_lines: list[dict] = field(default_factory=list)
    contours: list[dict] = field(default_factory=list)
    enterprises: list[dict] = field(default_factory=list)
    risk_points: list[dict] = field(default_factory=list)
    hidden_dangers: list[dict] = field(default_factory=list)
    protected_targets: list[dict] = field(default_factory=list)
    lifelines: list[dict] = field(default_factory=list)
    lifeline_points: list[dict] = field(default_factory=list)
    resources: list[dict] = field(default_factory=list)
    people_affected: int = 0
    targets_without_people: int = 0

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def title(self) -> str:
        return demo_title(f"一点即现：({self.lon:.6f}, {self.lat:.6f}) 周边 {self.radius_m:g} m", self.demo)

    def sections(self) -> list[tuple[str, list[str], list[list[str]]]]:
        """(heading, column headers, rows of text) for the text and HTML summaries."""
        d = format_distance
        out = [
            ("所在分区", ["类型", "名称", "风险等级"],
             [[ZONE_KIND_ZH.get(z["kind"], z["kind"]), z["name"], z["level_name"]] for z in self.zones]),
            ("安全控制线", ["名称", "位置", "距边界"],
             [[c["name"], "线内" if c["inside"] else "线外", d(abs(c["distance_m"]))] for c in self.control_lines]),
            ("个人风险等值线", ["企业/设施", "风险值(/年)", "装置", "位置", "距边界"],
             [[f"{c['owner_name'] or ''}{c['facility'] or ''}", c["risk_text"],
               STATUS_ZH.get(c["installation_status"], ""), "线内" if c["inside"] else "线外", d(abs(c["distance_m"]))]
              for c in self.contours]),
            ("企业", ["名称", "风险等级", "重大危险源", "距离"],
             [[e["name"], e["level_name"], "是" if e.get("major_hazard") else "", d(e["distance_m"])]
              for e in self.enterprises]),
            ("风险点与危险源", ["企业", "名称", "风险等级", "距离"],
             [[r["enterprise_name"], r["name"], r["level_name"], d(r["distance_m"])] for r in self.risk_points]),
            ("未销号隐患", ["隐患", "等级", "状态", "距离"],
             [[h["title"], "重大" if h["grade"] == "major" else "一般", DANGER_STATUS_ZH.get(h["status"], h["status"]),
               d(h["distance_m"])] for h in self.hidden_dangers]),
            ("防护目标", ["名称", "类型", "类别", "人数", "距离"],
             [[t["name"], TARGET_KIND_ZH.get(t["kind"], t["kind"]), t["class_zh"],
               "" if t.get("people") is None else str(t["people"]), d(t["distance_m"])] for t in self.protected_targets]),
            ("生命线", ["名称", "类别", "材质", "风险等级", "距离"],
             [[l.get("name") or "", LIFELINE_ZH.get(l["category"], l["category"]), l.get("material") or "",
               l["level_name"], d(l["distance_m"])] for l in self.lifelines]),
            ("生命线设施点", ["名称", "类别", "距离"],
             [[p.get("name") or "", LIFELINE_ZH.get(p["category"], p["category"]), d(p["distance_m"])]
              for p in self.lifeline_points]),
            ("最近的应急资源", ["类型", "名称", "联系电话", "距离"],
             [[RESOURCE_KIND_ZH.get(r["kind"], r["kind"]), r["name"], r.get("phone") or "", d(r["distance_m"])]
              for r in self.resources]),
        ]
        return out

    def headline(self) -> str:
        by_level = {}
        for e in self.enterprises:
            by_level[e["level_name"]] = by_level.get(e["level_name"], 0) + 1
        levels = "、".join(f"{k} {v} 家" for k, v in by_level.items()) or "无"
        text = (f"{self.radius_m:g} m 内：企业 {len(self.enterprises)} 家（{levels}）；防护目标 {len(self.protected_targets)} 处，"
                f"涉及人数 {self.people_affected} 人")
        if self.targets_without_people:
            text += f"（另有 {self.targets_without_people} 处人数不详）"
        inside = [c["name"] for c in self.control_lines if c["inside"]]
        if inside:
            text += f"；该点位于{'、'.join(inside)}内"
        return text

    def to_text(self) -> str:
        lines = [self.title, self.headline()]
        for heading, cols, rows in self.sections():
            lines.append(f"\n{heading}（{len(rows)}）")
            for r in rows:
                lines.append("  " + "  ".join(x for x in r if x != ""))
        return "\n".join(lines)

    def to_html(self) -> str:
        e = html.escape
        parts = [f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(self.title)}</title>",
                 "<style>body{font-family:'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei',sans-serif;font-size:11pt;"
                 "margin:16mm}h1{font-size:16pt}h2{font-size:12pt;margin-top:14px;border-bottom:1px solid #888}"
                 "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:2px 6px;text-align:left}"
                 "th{background:#e6e6e6}.demo{color:#c00;font-weight:bold}.meta{color:#444}"
                 "@page{size:A4;margin:12mm}@media print{body{margin:0}h2{page-break-after:avoid}}</style></head><body>",
                 f"<h1>{e(self.title)}</h1>"]
        if self.demo:
            parts.append("<p class='demo'>示例数据：本页内容为虚构演示数据，不代表任何真实地点或单位。</p>")
        parts.append(f"<p class='meta'>项目：{e(self.project_name)}　生成时间：{dt.datetime.now():%Y-%m-%d %H:%M}　"
                     f"坐标：CGCS2000 {self.lon:.6f}, {self.lat:.6f}</p><p><b>{e(self.headline())}</b></p>")
        for heading, cols, rows in self.sections():
            parts.append(f"<h2>{e(heading)}（{len(rows)}）</h2>")
            if not rows:
                parts.append("<p>无</p>")
                continue
            parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>")
            for r in rows:
                parts.append("<tr>" + "".join(f"<td>{e(str(x))}</td>" for x in r) + "</tr>")
            parts.append("</table>")
        parts.append("</body></html>")
        return "".join(parts)


def _with_owner(df, data: ProjectData, column: str = "enterprise_id", out: str = "enterprise_name"):
    ents = data.frame("enterprises")
    names = dict(zip(ents["id"], ents["name"]))
    return df.assign(**{out: [names.get(int(v), "") if v == v and v is not None else "" for v in df[column]]})


def nearby(project, lon: float, lat: float, radius_m: float = 1000.0, *, top_n: int = 3,
           data: ProjectData | None = None) -> NearbyResult:
    """All objects within ``radius_m`` of (lon, lat) in EPSG:4490, and the ``top_n`` nearest resources per kind."""
    try:
        lon, lat, radius_m = float(lon), float(lat), float(radius_m)
    except (TypeError, ValueError):
        raise RiskmapError("经纬度和半径应为数字", "longitude, latitude and radius must be numbers") from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise RiskmapError(f"经纬度无效: {lon}, {lat}", f"invalid coordinates: {lon}, {lat}")
    if not (0 <= radius_m <= 100_000):
        raise RiskmapError(f"半径应在 0–100000 m 之间: {radius_m:g}", f"radius must be 0-100000 m: {radius_m:g}")
    data = data or ProjectData(project)
    gb = load_gb36894()
    pt = shapely.Point(lon, lat)
    res = NearbyResult(lon=lon, lat=lat, radius_m=radius_m, project_name=project.name, demo=project.is_demo)

    zones = data.near("zones", pt, 0.0)
    order = {k: i for i, k in enumerate(ZONE_KIND_ZH)}
    zones = zones.assign(level_name=[level_name(v) for v in zones["level"]],
                         _o=[order.get(k, 99) for k in zones["kind"]]).sort_values(["_o", "id"])
    res.zones = records(zones, ["id", "name", "kind", "level", "level_name"])

    from riskmap.analysis.sitecheck import site_check  # the same relation logic for lines and contours

    site = site_check(project, pt, radius_m, data=data)
    res.control_lines = site.control_lines
    res.contours = site.contours

    ents = data.near("enterprises", pt, radius_m)
    res.enterprises = records(ents.assign(level_name=[level_name(v) for v in ents["level"]]),
                              ["id", "name", "industry", "level", "level_name", "major_hazard", "distance_m"])
    rps = _with_owner(data.near("risk_points", pt, radius_m), data)
    res.risk_points = records(rps.assign(level_name=[level_name(v) for v in rps["level"]]),
                              ["id", "name", "kind", "enterprise_id", "enterprise_name", "level", "level_name",
                               "major_hazard_grade", "distance_m"])
    hd = data.near("hidden_dangers", pt, radius_m, where="status != 'closed'")
    res.hidden_dangers = records(hd, ["id", "title", "grade", "status", "deadline", "enterprise_id", "distance_m"])
    for h in res.hidden_dangers:
        if h.get("deadline") is not None:
            h["deadline"] = str(h["deadline"])
    tg = data.near("protected_targets", pt, radius_m)
    from riskmap.analysis.encroachment import target_classes

    classes, _ = target_classes(tg, gb) if len(tg) else ([], [])
    tg = tg.assign(target_class=list(classes), class_zh=[gb.class_zh(c) for c in classes])
    res.protected_targets = records(tg, ["id", "name", "kind", "people", "target_class", "class_zh", "distance_m"])
    people = [t["people"] for t in res.protected_targets]
    res.people_affected = int(sum(p for p in people if p is not None))
    res.targets_without_people = sum(p is None for p in people)
    ll = data.near("lifelines", pt, radius_m)
    res.lifelines = records(ll.assign(level_name=[level_name(v) for v in ll["level"]]),
                            ["id", "name", "category", "material", "diameter_mm", "pressure_mpa", "level", "level_name",
                             "distance_m"])
    lp = data.near("lifeline_points", pt, radius_m)
    res.lifeline_points = records(lp, ["id", "name", "category", "distance_m"])
    rs = data.nearest("emergency_resources", pt, top_n, group="kind")
    kind_order = {k: i for i, k in enumerate(RESOURCE_KIND_ZH)}
    rs = rs.assign(_o=[kind_order.get(k, 99) for k in rs["kind"]]).sort_values(["_o", "distance_m"])
    res.resources = records(rs, ["id", "name", "kind", "specialty", "capacity", "contact", "phone", "distance_m"])
    return res


__all__ = ["nearby", "NearbyResult", "format_risk"]
