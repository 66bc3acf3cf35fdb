"""Geometry editing without a screen: vertices, snapping, split and merge, validity, and saving a batch of
edits as one transaction (every insert, update and delete lands in the edit history).

The map tools of ``riskmap.ui.tools`` call these functions; they work in any planar CRS (the map's), and
:func:`save_edits` takes EPSG:4490 geometries.

A vertex address is ``(part, ring, index)``: ``part`` of a multi-geometry, ``ring`` 0 for a line or a
polygon's shell and 1… for its holes, ``index`` of the coordinate (a closed ring's repeated last point
is not counted).

>>> import shapely
>>> sq = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
>>> move_vertex(sq, (0, 0, 2), (12, 12)).wkt
'POLYGON ((0 0, 10 0, 12 12, 0 10, 0 0))'
>>> snap_point((9.6, 0.3), [sq], 1.0)
((10.0, 0.0), 'vertex')
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.ops import linemerge, split

from riskmap.errors import RiskmapError

EDITABLE_TABLES = ("control_lines", "zones", "protected_targets", "enterprises", "lifelines", "lifeline_points",
                   "emergency_resources", "risk_contours")
SYSTEM_COLUMNS = ("id", "geom", "version", "created_at", "updated_at", "county")  # county: set by the store

Address = tuple[int, int, int]


# ------------------------------------------------------------------------------------------ rings

def _parts(geom) -> list:
    if geom is None or geom.is_empty:
        return []
    return list(shapely.get_parts(geom))


def rings_of(geom) -> list[list[np.ndarray]]:
    """Per part, its rings as (n, 2) coordinate arrays (closed rings without the repeated last point)."""
    out = []
    for part in _parts(geom):
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
            out.append([np.asarray(r.coords)[:-1, :2] for r in rings])
        elif part.geom_type == "LineString":
            out.append([np.asarray(part.coords)[:, :2]])
        elif part.geom_type == "Point":
            out.append([np.asarray(part.coords)[:, :2]])
    return out


def build_like(geom, parts: list[list[np.ndarray]]):
    """A geometry of the same family as ``geom`` from part/ring coordinate arrays (no validity repair)."""
    t = geom.geom_type
    if t in ("Polygon", "MultiPolygon"):
        polys = [shapely.Polygon(rings[0], rings[1:]) for rings in parts if len(rings) and len(rings[0])]
        return polys[0] if t == "Polygon" and len(polys) == 1 else shapely.MultiPolygon(polys)
    if t in ("LineString", "MultiLineString"):
        lines = [shapely.LineString(rings[0]) for rings in parts if len(rings[0])]
        return lines[0] if t == "LineString" and len(lines) == 1 else shapely.MultiLineString(lines)
    if t in ("Point", "MultiPoint"):
        pts = [shapely.Point(rings[0][0]) for rings in parts if len(rings[0])]
        return pts[0] if t == "Point" and len(pts) == 1 else shapely.MultiPoint(pts)
    raise RiskmapError(f"不支持编辑的几何类型: {t}", f"cannot edit geometry type {t}")


def move_vertex(geom, addr: Address, xy) -> shapely.Geometry:
    parts = [[r.copy() for r in rings] for rings in rings_of(geom)]
    p, r, i = addr
    parts[p][r][i] = xy
    return build_like(geom, parts)


def insert_vertex(geom, addr: Address, xy) -> shapely.Geometry:
    """Insert ``xy`` before ``addr``'s index (index = len(ring) appends, also after a closed ring's last)."""
    parts = [[r.copy() for r in rings] for rings in rings_of(geom)]
    p, r, i = addr
    parts[p][r] = np.insert(parts[p][r], i, xy, axis=0)
    return build_like(geom, parts)


def delete_vertex(geom, addr: Address) -> shapely.Geometry:
    """Remove a vertex; the result may have too few points (see :func:`check_geometry`)."""
    parts = [[r.copy() for r in rings] for rings in rings_of(geom)]
    p, r, i = addr
    parts[p][r] = np.delete(parts[p][r], i, axis=0)
    ring = parts[p][r]
    closed = geom.geom_type in ("Polygon", "MultiPolygon")
    if closed and len(ring) < 3:
        if r > 0:  # a hole shrinking away disappears
            del parts[p][r]
        else:
            raise RiskmapError("删除后面少于三个点", "a polygon needs at least three points")
    if not closed and len(ring) < 2:
        raise RiskmapError("删除后线少于两个点", "a line needs at least two points")
    return build_like(geom, parts)


def nearest_vertex(geom, xy, tolerance: float) -> Address | None:
    best, best_d = None, tolerance
    for p, rings in enumerate(rings_of(geom)):
        for r, ring in enumerate(rings):
            if not len(ring):
                continue
            d = np.hypot(ring[:, 0] - xy[0], ring[:, 1] - xy[1])
            i = int(np.argmin(d))
            if d[i] <= best_d:
                best, best_d = (p, r, i), float(d[i])
    return best


def nearest_edge(geom, xy, tolerance: float) -> tuple[Address, tuple[float, float]] | None:
    """(address to insert at, the point on the edge) of the edge nearest ``xy`` within ``tolerance``."""
    closed = geom.geom_type in ("Polygon", "MultiPolygon")
    best, best_d = None, tolerance
    px, py = xy
    for p, rings in enumerate(rings_of(geom)):
        for r, ring in enumerate(rings):
            pts = np.vstack([ring, ring[:1]]) if closed else ring
            if len(pts) < 2:
                continue
            a, b = pts[:-1], pts[1:]
            ab = b - a
            ll = (ab ** 2).sum(axis=1)
            t = np.where(ll > 0, ((px - a[:, 0]) * ab[:, 0] + (py - a[:, 1]) * ab[:, 1]) / np.where(ll > 0, ll, 1), 0)
            t = np.clip(t, 0, 1)
            q = a + ab * t[:, None]
            d = np.hypot(q[:, 0] - px, q[:, 1] - py)
            i = int(np.argmin(d))
            if d[i] <= best_d:
                best, best_d = ((p, r, i + 1), (float(q[i, 0]), float(q[i, 1]))), float(d[i])
    return best


# ------------------------------------------------------------------------------------------ snapping

def snap_point(xy, geoms, tolerance: float, vertices: bool = True, edges: bool = True):
    """Snap ``xy`` to the nearest vertex of ``geoms`` within ``tolerance``, else to the nearest edge point.

    Returns ``((x, y), "vertex" | "edge")`` or ``(xy, None)`` when nothing is close enough.
    """
    arr = np.asarray([g for g in geoms if g is not None and not g.is_empty], dtype=object)
    if not len(arr) or tolerance <= 0:
        return (float(xy[0]), float(xy[1])), None
    pt = shapely.Point(xy)
    b = shapely.bounds(arr)
    near = (b[:, 0] - tolerance <= xy[0]) & (b[:, 2] + tolerance >= xy[0]) & \
           (b[:, 1] - tolerance <= xy[1]) & (b[:, 3] + tolerance >= xy[1])
    cand = arr[near]
    if not len(cand):
        return (float(xy[0]), float(xy[1])), None
    if vertices:
        c = shapely.get_coordinates(cand)
        d = np.hypot(c[:, 0] - xy[0], c[:, 1] - xy[1])
        i = int(np.argmin(d))
        if d[i] <= tolerance:
            return (float(c[i, 0]), float(c[i, 1])), "vertex"
    if edges:
        lines = shapely.boundary(cand)
        lines = np.where(shapely.get_type_id(cand) == 1, cand, lines)  # lines are their own edges
        lines = np.where(shapely.get_type_id(cand) == 5, cand, lines)
        lines = lines[~shapely.is_empty(lines) & (shapely.get_dimensions(lines) == 1)]
        if len(lines):
            d = shapely.distance(lines, pt)
            i = int(np.argmin(d))
            if d[i] <= tolerance:
                q = lines[i].interpolate(lines[i].project(pt))
                return (float(q.x), float(q.y)), "edge"
    return (float(xy[0]), float(xy[1])), None


# ------------------------------------------------------------------------------------------ validity

@dataclass(frozen=True)
class GeometryCheck:
    """``ok``: usable as it is. Otherwise ``repaired`` is the fixed geometry (None: cannot be fixed)."""

    ok: bool
    problem_zh: str = ""
    problem_en: str = ""
    repaired: shapely.Geometry | None = None


def _distinct(coords: np.ndarray) -> int:
    return len(np.unique(np.round(coords, 9), axis=0)) if len(coords) else 0


def check_geometry(geom, kind: str) -> GeometryCheck:
    """Check a drawn or edited geometry of layer geometry ``kind`` (point, line, polygon)."""
    if geom is None or geom.is_empty:
        return GeometryCheck(False, "几何图形为空", "empty geometry")
    if kind == "point":
        if geom.geom_type != "Point":
            return GeometryCheck(False, "应为一个点", "must be a point")
        return GeometryCheck(True)
    if kind == "line":
        if geom.geom_type not in ("LineString", "MultiLineString"):
            return GeometryCheck(False, "应为线", "must be a line")
        for part in shapely.get_parts(geom):
            if _distinct(np.asarray(part.coords)) < 2:
                return GeometryCheck(False, "线至少需要两个不同的点", "a line needs at least two distinct points")
        return GeometryCheck(True)
    if kind == "polygon":
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            return GeometryCheck(False, "应为面", "must be a polygon")
        for part in shapely.get_parts(geom):
            if _distinct(np.asarray(part.exterior.coords)) < 3:
                return GeometryCheck(False, "面至少需要三个不同的点", "a polygon needs at least three distinct points")
        if geom.is_valid and geom.area > 0:
            return GeometryCheck(True)
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        polys = [p for p in shapely.get_parts(fixed) if p.geom_type == "Polygon" and p.area > 0]
        if not polys:
            return GeometryCheck(False, f"面无效且无法修复（{reason}）", f"invalid polygon that cannot be repaired ({reason})")
        repaired = polys[0] if len(polys) == 1 and geom.geom_type == "Polygon" else shapely.MultiPolygon(polys)
        zh = "面的边界自相交" if "Self-intersection" in reason or "Ring" in reason else "面无效"
        return GeometryCheck(False, f"{zh}（{reason}）", f"invalid polygon ({reason})", repaired)
    raise RiskmapError(f"未知的几何类型: {kind}", f"unknown geometry kind {kind}")


# ------------------------------------------------------------------------------------------ split, merge

def split_geometry(geom, blade) -> list:
    """Split a (multi)polygon or (multi)line by a line; returns the pieces (≥ 2) or raises RiskmapError."""
    pieces = []
    for part in _parts(geom):
        pieces.extend(shapely.get_parts(split(part, blade)))
    pieces = [p for p in pieces if not p.is_empty and (p.area > 0 if p.geom_type == "Polygon" else p.length > 0)]
    if len(pieces) < 2:
        raise RiskmapError("分割线没有完整穿过要素", "the split line does not cross the feature")
    return pieces


def merge_geometries(geoms) -> shapely.Geometry:
    """Union of polygons (a MultiPolygon when apart) or lines (merged where they touch)."""
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if len(geoms) < 2:
        raise RiskmapError("请至少选择两个要素进行合并", "select at least two features to merge")
    kinds = {g.geom_type.replace("Multi", "") for g in geoms}
    if kinds == {"Polygon"}:
        u = shapely.union_all(geoms)
        polys = [p for p in shapely.get_parts(u) if p.geom_type == "Polygon"]
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    if kinds == {"LineString"}:
        lines = [p for g in geoms for p in shapely.get_parts(g)]
        m = linemerge(lines)
        return m
    raise RiskmapError("只能合并同为面或同为线的要素", "only polygons with polygons or lines with lines can be merged")


# ------------------------------------------------------------------------------------------ storage

def storage_geometry(geom, table: str):
    """Coerce a geometry to its table's column type (POINT, MULTILINESTRING, MULTIPOLYGON)."""
    from riskmap.model import class_for_table

    target = class_for_table(table).__geometry__
    if target == "MULTIPOLYGON" and geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if target == "MULTILINESTRING" and geom.geom_type == "LineString":
        return shapely.MultiLineString([geom])
    expected = {"MULTIPOLYGON": ("MultiPolygon",), "MULTILINESTRING": ("MultiLineString",), "POINT": ("Point",)}
    if geom.geom_type not in expected.get(target, (geom.geom_type,)):
        raise RiskmapError(f"几何类型 {geom.geom_type} 与图层不符（应为 {target}）",
                           f"geometry {geom.geom_type} does not fit the layer ({target})")
    return geom


def editable_columns(table: str) -> list:
    """The SQLAlchemy columns a user may edit (not id, geometry, version, timestamps)."""
    from riskmap.model import class_for_table

    return [c for c in class_for_table(table).__table__.columns if c.name not in SYSTEM_COLUMNS]


def required_columns(table: str) -> list[str]:
    return [c.name for c in editable_columns(table)
            if not c.nullable and c.default is None and c.server_default is None]


def coerce_value(column, value, label: str = ""):
    """A form value (text or number) in the column's Python type; '' and None become None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        pytype = column.type.python_type
    except NotImplementedError:
        return value
    where = label or column.name
    try:
        if pytype is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "是", "y")
            return bool(value)
        if pytype is int:
            f = float(value)
            if not f.is_integer():
                raise ValueError
            return int(f)
        if pytype is float:
            return float(value)
        if pytype is dt.date:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
        if pytype is str:
            return str(value).strip()
    except (TypeError, ValueError):
        raise RiskmapError(f"“{where}”的值无效: {value!r}", f"invalid value for {column.name}: {value!r}",
                           where=where) from None
    return value


@dataclass
class Change:
    """One feature's edit to save: ``fid`` None = insert; ``geom`` None = delete (EPSG:4490 otherwise)."""

    fid: int | None
    geom: shapely.Geometry | None
    attrs: dict


def save_edits(project, table: str, changes: list[Change], labels: dict[str, str] | None = None) -> list[int | None]:
    """Write the changes in one transaction; returns the id of each change's feature (None when deleted).

    A failure (a missing required value, a bad number) rolls everything back and raises RiskmapError.
    Enterprises added, moved, deleted or given another level recolour the zones that contain them (old
    and new place) in the same transaction.
    """
    from riskmap.model import class_for_table

    if table not in EDITABLE_TABLES:
        raise RiskmapError(f"该表不能在地图上编辑: {table}", f"table {table} is not editable on the map")
    cls = class_for_table(table)
    cols = {c.name: c for c in editable_columns(table)}
    labels = labels or {}
    required = required_columns(table)
    out: list[int | None] = []
    moved: list[int] = []  # enterprises whose zones need recolouring
    old_geoms: dict[int, shapely.Geometry] = {}
    with project.session() as s:
        for ch in changes:
            values = {}
            for k, v in ch.attrs.items():
                if k in cols:
                    values[k] = coerce_value(cols[k], v, labels.get(k, k))
            if ch.geom is None:
                if ch.fid is not None:
                    obj = s.get(cls, int(ch.fid))
                    if obj is not None:
                        if table == "enterprises":
                            moved.append(int(obj.id))
                            old_geoms[int(obj.id)] = obj.geom
                        s.delete(obj)
                out.append(None)
                continue
            geom = storage_geometry(ch.geom, table)
            if ch.fid is None:
                missing = [k for k in required if values.get(k) is None]
                if missing:
                    names = "、".join(labels.get(k, k) for k in missing)
                    raise RiskmapError(f"缺少必填项: {names}", f"required value(s) missing: {', '.join(missing)}",
                                       where=table)
                obj = cls(**values, geom=geom)
                s.add(obj)
                new_obj = True
            else:
                new_obj = False
                obj = s.get(cls, int(ch.fid))
                if obj is None:
                    raise RiskmapError(f"要素已被删除或不存在: {table} #{ch.fid}",
                                       f"feature {table} #{ch.fid} no longer exists")
                old_geom, old_level = obj.geom, getattr(obj, "level", None)
                for k, v in values.items():
                    if k in required and v is None:
                        raise RiskmapError(f"缺少必填项: {labels.get(k, k)}", f"required value missing: {k}",
                                           where=table)
                    if getattr(obj, k) != v:
                        setattr(obj, k, v)
                if not shapely.equals_exact(obj.geom, geom, 0.0) if obj.geom is not None else True:
                    obj.geom = geom
            s.flush()
            out.append(int(obj.id))
            if table == "enterprises":
                if new_obj:
                    moved.append(int(obj.id))
                elif obj.geom is not old_geom or obj.level != old_level:
                    moved.append(int(obj.id))
                    if obj.geom is not old_geom and old_geom is not None:
                        old_geoms[int(obj.id)] = old_geom
        if moved:
            from riskmap.grading.zoning import enterprises_changed

            enterprises_changed(s, moved, old_geoms)
    project.refresh_extents()
    return out
