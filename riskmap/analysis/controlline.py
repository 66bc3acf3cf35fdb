"""Control lines from external safety distances (外部安全防护距离 → 安全控制线).

Each SafetyDistance row buffers its facility (the risk point it names, else the enterprise) by its distance,
in the project's metric Gauss–Krüger CRS with the radius corrected for the grid scale. Buffers are unioned per
park (every facility inside a chemical or industrial park, plus the park itself) or per enterprise (those
outside parks) — never county-wide — and saved, in one transaction, as editable draft control lines in
EPSG:4490 with their sources. Running again updates the same draft lines; approved lines are never touched.

>>> # lines = control_lines_from_distances(project, park_zone_id=3)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from riskmap.analysis.geodesy import ground_buffer, project_epsg, to_geographic, to_metric
from riskmap.analysis.measure import geodesic_area
from riskmap.errors import RiskmapError
from riskmap.model import ControlLine
from riskmap.progress import Cancel, Progress, check_cancel

SOURCE_KIND_ZH = {"safety_report": "安全评价报告", "standard": "标准规范", "consequence": "事故后果计算"}
PARK_KINDS = ("chemical_park", "industrial_park")
GENERATED_SUFFIX = "安全控制线（按外部安全距离）"


@dataclass
class LinePlan:
    """One control line to write: the facilities it encloses and where their distances come from."""

    name: str
    enterprise_id: int | None
    park_zone_id: int | None
    geom: shapely.Geometry  # EPSG:4490 MultiPolygon
    distance_m: float | None
    source_doc: str
    n_facilities: int
    area_m2: float
    id: int | None = None
    action: str = ""

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "enterprise_id": self.enterprise_id,
                "park_zone_id": self.park_zone_id, "distance_m": self.distance_m, "source_doc": self.source_doc,
                "facilities": self.n_facilities, "area_m2": round(self.area_m2, 1), "action": self.action}


def _multi(geom) -> shapely.MultiPolygon:
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    return shapely.MultiPolygon(polys)


def _sources_text(rows: pd.DataFrame) -> str:
    """``安全评价报告：《A》、《B》；标准规范：GB …`` — each kind once, each document once."""
    by_kind: dict[str, list[str]] = {}
    for kind, doc in zip(rows["source_kind"], rows["source_doc"]):
        docs = by_kind.setdefault(SOURCE_KIND_ZH.get(kind or "", kind or "未注明来源"), [])
        if isinstance(doc, str) and doc.strip() and doc.strip() not in docs:
            docs.append(doc.strip())
    return "；".join(f"{k}：{'、'.join(v)}" if v else k for k, v in by_kind.items())


def _facility_points(project, dist: pd.DataFrame) -> np.ndarray:
    """The EPSG:4490 point of each distance row: its risk point if given and located, else its enterprise."""
    ents = project.read_table("enterprises", columns=["id", "name"])
    rps = project.read_table("risk_points", columns=["id", "enterprise_id"])
    ent_geom = ents.geometry.reindex(dist["enterprise_id"].to_numpy()).to_numpy()
    pts = ent_geom.copy()
    if dist["risk_point_id"].notna().any():
        rp_ids = dist["risk_point_id"].to_numpy()
        has = pd.notna(rp_ids)
        rp_geom = rps.geometry.reindex(rp_ids[has].astype(int)).to_numpy()
        sub = pts[has]
        pick = ~shapely.is_missing(rp_geom)
        sub[pick] = rp_geom[pick]
        pts[has] = sub
    missing = shapely.is_missing(pts) | shapely.is_empty(pts)
    if missing.any():
        row = dist.iloc[int(np.flatnonzero(missing)[0])]
        raise RiskmapError(f"外部安全距离第 {int(row['id'])} 条对应的企业或设施没有位置",
                           f"safety distance {int(row['id'])}: its enterprise or facility has no location",
                           where="safety_distances")
    return pts


def plan_control_lines(project, *, enterprise_id: int | None = None, park_zone_id: int | None = None,
                       quad_segs: int = 32, progress: Progress | None = None,
                       cancel: Cancel | None = None) -> list[LinePlan]:
    """Compute (without saving) the control lines that the safety distances give."""
    progress = progress or (lambda f, m: None)
    if enterprise_id is not None and park_zone_id is not None:
        raise RiskmapError("只能按企业或按园区之一生成控制线", "give either an enterprise or a park, not both")
    epsg = project_epsg(project)
    dist = project.read_table("safety_distances")
    ents = project.read_table("enterprises", columns=["id", "name"])
    if enterprise_id is not None:
        if int(enterprise_id) not in ents.index:
            raise RiskmapError(f"企业不存在: {enterprise_id}", f"no such enterprise: {enterprise_id}")
        dist = dist[dist["enterprise_id"] == int(enterprise_id)]
        if dist.empty:
            raise RiskmapError(f"企业“{ents.at[int(enterprise_id), 'name']}”没有外部安全距离记录",
                               f"enterprise {enterprise_id} has no safety distance")
    bad = ~(dist["distance_m"].astype(float) > 0)
    if bad.any():
        row = dist[bad].iloc[0]
        raise RiskmapError(f"外部安全距离第 {int(row['id'])} 条的距离应为正数: {row['distance_m']}",
                           f"safety distance {int(row['id'])}: distance must be positive", where="safety_distances")
    parks = project.read_table("zones", where="kind IN ('chemical_park', 'industrial_park')",
                               columns=["id", "name", "kind"])
    if park_zone_id is not None:
        zone = project.read_table("zones", where=f"id = {int(park_zone_id)}", columns=["id", "name", "kind"])
        if zone.empty:
            raise RiskmapError(f"园区（分区）不存在: {park_zone_id}", f"no such park zone: {park_zone_id}")
        parks = zone
    if dist.empty:
        if park_zone_id is not None or enterprise_id is not None:
            return []
        raise RiskmapError("项目中没有外部安全距离记录", "the project has no safety distances")

    pts = _facility_points(project, dist)
    pts_m = to_metric(pts, epsg)
    # which park each facility lies in (first match)
    park_of = np.full(len(dist), -1)
    if len(parks) and enterprise_id is None:
        parks_m = to_metric(parks.geometry.to_numpy(), epsg)
        src, dst = STRtree(parks_m).query(pts_m, predicate="intersects")
        first = pd.Series(dst).groupby(src).first()
        park_of[first.index.to_numpy()] = first.to_numpy()
    groups: list[tuple[str, int, np.ndarray]] = []
    if park_zone_id is not None:
        inside = np.flatnonzero(park_of == 0)
        if inside.size == 0:
            raise RiskmapError(f"园区“{parks.iloc[0]['name']}”内没有带外部安全距离的设施",
                               f"park {park_zone_id} has no facility with a safety distance")
        groups.append(("park", 0, inside))
    else:
        for p in np.unique(park_of[park_of >= 0]):
            groups.append(("park", int(p), np.flatnonzero(park_of == p)))
        outside = dist["enterprise_id"].to_numpy()[park_of < 0]
        for eid in pd.unique(outside):
            groups.append(("enterprise", int(eid), np.flatnonzero((park_of < 0) & (dist["enterprise_id"].to_numpy() == eid))))

    plans = []
    buffers = ground_buffer(pts_m, dist["distance_m"].astype(float).to_numpy(), epsg, quad_segs=quad_segs)
    for i, (kind, key, idx) in enumerate(groups):
        check_cancel(cancel)
        progress(i / max(len(groups), 1), "安全控制线")
        parts = list(buffers[idx])
        rows = dist.iloc[idx]
        if kind == "park":
            park = parks.iloc[key]
            parts.append(to_metric(park.geometry, epsg))
            name = f"{park['name']}{GENERATED_SUFFIX}"
            owner = (None, int(park["id"]))
        else:
            name = f"{ents.at[key, 'name']}{GENERATED_SUFFIX}"
            owner = (key, None)
        region = shapely.union_all(parts)
        geom = _multi(to_geographic(shapely.make_valid(region), epsg))
        d = rows["distance_m"].astype(float).unique()
        plans.append(LinePlan(name=name, enterprise_id=owner[0], park_zone_id=owner[1], geom=geom,
                              distance_m=float(d[0]) if len(d) == 1 else None, source_doc=_sources_text(rows),
                              n_facilities=len(idx), area_m2=geodesic_area(geom)))
    progress(1.0, "安全控制线")
    return plans


def save_control_lines(project, plans: list[LinePlan]) -> list[LinePlan]:
    """Write planned lines in one transaction: update the same-named draft line of the owner, else insert."""
    if not plans:
        return plans
    with project.session() as s:
        for plan in plans:
            existing = (s.query(ControlLine)
                        .filter(ControlLine.name == plan.name, ControlLine.status == "draft",
                                ControlLine.enterprise_id.is_(plan.enterprise_id) if plan.enterprise_id is None
                                else ControlLine.enterprise_id == plan.enterprise_id,
                                ControlLine.park_zone_id.is_(plan.park_zone_id) if plan.park_zone_id is None
                                else ControlLine.park_zone_id == plan.park_zone_id)
                        .order_by(ControlLine.id).first())
            if existing is None:
                line = ControlLine(name=plan.name, enterprise_id=plan.enterprise_id, park_zone_id=plan.park_zone_id,
                                   status="draft")
                s.add(line)
                plan.action = "insert"
            else:
                line = existing
                plan.action = "update"
            line.geom = plan.geom
            line.distance_m = plan.distance_m
            line.source_doc = plan.source_doc
            s.flush()
            plan.id = line.id
    project.refresh_extents()
    return plans


def control_lines_from_distances(project, *, enterprise_id: int | None = None, park_zone_id: int | None = None,
                                 quad_segs: int = 32, progress: Progress | None = None,
                                 cancel: Cancel | None = None) -> list[LinePlan]:
    """Plan and save control lines from the project's safety distances; returns what was written."""
    plans = plan_control_lines(project, enterprise_id=enterprise_id, park_zone_id=park_zone_id,
                               quad_segs=quad_segs, progress=progress, cancel=cancel)
    return save_control_lines(project, plans)
