"""Placing one enterprise on the map (the desktop 定位 tool): one click sets its point.

:func:`set_location` checks the version the caller saw (optimistic: someone else's save in between is a
conflict, nothing written), refuses a point outside the project's boundary, sets the point, the town and
``zone_id`` (they follow the point when the record names no town or the town holding the point; a point in
another town keeps the record's town and says so), recolours the zoned units' zones it leaves and enters,
and records the edit in the edit history, all in one transaction.

>>> # outcome = set_location(project, 17, 105.05, 35.70, version=3); outcome.town
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from riskmap.errors import RiskmapError
from riskmap.grading.zoning import locate_enterprises, place_points
from riskmap.model import Enterprise


@dataclass
class Located:
    """The result of :func:`set_location`."""

    id: int
    lon: float
    lat: float
    town: str | None
    zone_id: int | None
    version: int  # the enterprise's version after the change
    mismatch: str = ""  # the point lies in another town than the record names (record kept)
    recoloured: dict = field(default_factory=dict)  # {unit: zone ids recomputed}


def check_lon_lat(lon, lat, where: str = "lon/lat") -> tuple[float, float]:
    """``lon``, ``lat`` as floats in range, else a RiskmapError."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        x = y = math.nan
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise RiskmapError(f"经纬度无效：{lon}, {lat}", f"invalid longitude/latitude: {lon}, {lat}", where=where)
    return x, y


def set_location(project, enterprise_id: int, lon: float, lat: float, *, version: int | None = None) -> Located:
    """Set the point (EPSG:4490) of enterprise ``enterprise_id``; ``version``: the version the caller read
    (a different stored version is an edit conflict). See the module's text."""
    x, y = check_lon_lat(lon, lat)
    with project.session() as s:
        ent = s.get(Enterprise, int(enterprise_id))
        if ent is None:
            raise RiskmapError(f"没有 id 为 {enterprise_id} 的企业", f"no enterprise with id {enterprise_id}",
                               where="enterprises.id")
        if version is not None and int(ent.version) != int(version):
            raise RiskmapError(f"保存冲突：企业“{ent.name}”（id {ent.id}）已被其他用户修改，请刷新后重新定位",
                               f"edit conflict: enterprise {ent.name!r} (id {ent.id}) was changed by someone else; "
                               f"refresh and place it again", where="enterprises.version")
        places = place_points(s.connection(), [x], [y])
        if places.inside is not None and not places.inside[0]:
            raise RiskmapError(f"点位（{x:.6f}, {y:.6f}）在项目边界之外，未定位“{ent.name}”",
                               f"the point ({x:.6f}, {y:.6f}) lies outside the project's boundary; "
                               f"{ent.name!r} not placed", where="lon/lat")
        placed, done = locate_enterprises(s, [ent], [x], [y])
        s.flush()
        out = Located(ent.id, x, y, ent.town, ent.zone_id, int(ent.version), placed[0].mismatch, done)
    if hasattr(project, "_meta_cache"):
        project._meta_cache = None
    return out
