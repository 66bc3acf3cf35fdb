"""Zones when the bureau has no file: a generated grid (square or hexagonal cells clipped to the county), and
approximate (示意) towns from town seats (Voronoi cells clipped to the county) until real town boundaries are
imported.

Reading a seats file is the importer's business (:func:`riskmap.io.seats.read_seats`, the CLI and the
desktop call it first): :func:`towns_from_seats` takes the rows it gives, ``(name, lon, lat)`` in EPSG:4490.

>>> # make_grid(project, 2, "hex")                          # → number of cells
>>> # towns_from_seats(project, [("城关镇", 116.45, 36.29), ("孝直镇", 116.38, 36.21)])
>>> # approximate_kinds(project)                              # → {"town"}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from riskmap.analysis.tessellate import grid_cells, seat_cells
from riskmap.crs import gk_zone_epsg_for, to_geographic, to_metric
from riskmap.errors import RiskmapError
from riskmap.grading.zone_units import APPROXIMATE_NOTE, put_zones
from riskmap.layers import approximate_kinds as _approximate_kinds


def approximate_kinds(project) -> set[str]:
    """Zone kinds whose boundaries are 示意 (``project_meta`` ``approximate.<kind>``)."""
    return _approximate_kinds(project.meta())


def _boundary(project) -> tuple[object, int]:
    """The county (all zones of kind county, else city / province) in the metric CRS, and that CRS."""
    zones = project.read_table("zones", where="kind IN ('county', 'city', 'province')", columns=["id", "kind"])
    for kind in ("county", "city", "province"):
        part = zones[zones["kind"] == kind]
        if len(part):
            geom = shapely.union_all(part.geometry.to_numpy())
            break
    else:
        raise RiskmapError("项目没有县界（分区类型 county），无法生成网格或镇街；请先导入县界或新建项目",
                           "the project has no county boundary (zone kind county): import one or make a new project",
                           where="zones.kind=county")
    epsg = project.metric_epsg or gk_zone_epsg_for(geom)
    return to_metric(geom, epsg), epsg


def _done(project) -> None:
    if hasattr(project, "_meta_cache"):
        project._meta_cache = None  # project_meta was written in the same transaction


def make_grid(project, size_km: float, shape: str = "square", *, replace: bool = False) -> int:
    """Square or hexagonal (side ``size_km``) grid cells over the county, clipped to it, as zones of kind
    ``grid`` named 网格001 … with row-column codes, each linked to the town holding most of it (else the
    county); zoned units are levelled again. Returns the number of cells."""
    try:
        size = float(size_km)
    except (TypeError, ValueError):
        raise RiskmapError(f"网格边长应为数字（公里），而不是 {size_km!r}", f"the cell size is a number of km, not "
                           f"{size_km!r}", where="size_km") from None
    boundary, epsg = _boundary(project)
    cells = grid_cells(boundary, size * 1000.0, shape)
    geoms = np.asarray(to_geographic(cells.geoms, epsg), dtype=object)
    with project.session(history=False) as s:
        put_zones(s, "grid", geoms, cells.names, codes=cells.codes, replace=replace, metric_epsg=epsg)
    _done(project)
    return len(cells)


def towns_from_seats(project, seats: Sequence, *, replace: bool = False, source: str | None = None) -> int:
    """Approximate towns from seats: rows ``(name, lon, lat)`` (EPSG:4490; a fourth item is the row label
    used in errors). Each seat's Voronoi cell clipped to the county becomes a zone of kind ``town`` marked 示意
    (``project_meta`` ``approximate.town``: source, date, method) until real boundaries are imported;
    enterprises are re-assigned to the towns and zoned units levelled again. Returns the number of towns."""
    if isinstance(seats, (str, bytes)) or hasattr(seats, "__fspath__"):
        raise RiskmapError("请先用 riskmap.io.seats.read_seats 读取驻地文件", "read the seats file with "
                           "riskmap.io.seats.read_seats first", where="seats")
    rows = [tuple(r) for r in seats]
    if any(len(r) < 3 for r in rows):
        raise RiskmapError("每个驻地应为（名称, 经度, 纬度）", "each seat is (name, lon, lat)", where="seats")
    names = [str(r[0]).strip() if r[0] is not None else "" for r in rows]
    labels = [r[3] if len(r) > 3 else i for i, r in enumerate(rows, start=1)]
    try:
        lonlat = np.array([[float(r[1]), float(r[2])] for r in rows], dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        raise RiskmapError("驻地坐标应为数字（经度、纬度）", "seat coordinates must be numbers (lon, lat)",
                           where="seats") from None
    boundary, epsg = _boundary(project)
    xy = shapely.get_coordinates(to_metric(shapely.points(lonlat), epsg)) if len(rows) else np.empty((0, 2))
    cells = seat_cells(boundary, xy, names, labels)
    geoms = np.asarray(to_geographic(cells, epsg), dtype=object)
    with project.session(history=False) as s:
        put_zones(s, "town", geoms, names, replace=replace, metric_epsg=epsg, note=APPROXIMATE_NOTE,
                  approximate={"source": source or "", "method": "voronoi", "seats": len(rows)})
    _done(project)
    return len(cells)
