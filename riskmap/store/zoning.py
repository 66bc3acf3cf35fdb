"""Zone levels in the store: reading zones and enterprise points for zoning, writing zone levels, the
objects that decided them (``zone_decisions``) and each unit's settings (``project_meta`` ``zoning.<unit>``).

Plain arrays and rows in, nothing about the rules: :mod:`riskmap.grading.zoning` computes, this module
reads and writes, always through a SQLAlchemy Connection inside the caller's transaction, so that rows
and the zones they colour are committed together.

>>> # with project.session(history=False) as s:
>>> #     write_levels(s.connection(), [3, 4], [1, None], ["max", "max"], ["就高：…", "无已定级企业"])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from sqlalchemy import delete, exists, or_, select, text
from sqlalchemy.exc import OperationalError

from riskmap.model import ProjectMeta, Zone, ZoneDecision, utcnow
from riskmap.model.geometry import from_gpkg_blobs
from riskmap.store.project import bulk_insert, bulk_update, read_arrays

SETTINGS_PREFIX = "zoning."  # project_meta key of a unit's settings: zoning.<unit>
DELETE_CHUNK = 500  # zone ids per DELETE … IN (…)
BOXES_PER_QUERY = 400  # bounding boxes OR-ed in one query (SQLite caps an expression's depth at 1000)


def kinds_where(kinds: Iterable[str]) -> str:
    """SQL condition on ``zones.kind`` for the given kinds (fixed names from the unit table, not user text)."""
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


# ---------------------------------------------------------------- reading

def _decode(conn, blobs) -> np.ndarray:
    if conn.dialect.name == "postgresql":
        return np.asarray(shapely.from_wkb(np.array([None if b is None else bytes(b) for b in blobs], dtype=object)),
                          dtype=object)
    return np.asarray(from_gpkg_blobs(blobs), dtype=object)


def _rows_in_boxes(conn, table: str, cols: Sequence[str], where: str, boxes: list[tuple] | None):
    """Rows (``cols``, the first being ``id``; then the geometry) of ``table`` in id order, only those whose
    bounding box meets one of ``boxes`` (minx, miny, maxx, maxy) when given: the GeoPackage R-tree, or
    ``&&`` on PostGIS, :data:`BOXES_PER_QUERY` boxes per query."""
    if boxes is None:
        return _query_boxes(conn, table, cols, where, None)
    if len(boxes) <= BOXES_PER_QUERY:
        return _query_boxes(conn, table, cols, where, boxes)
    found: dict[int, tuple] = {}
    for k in range(0, len(boxes), BOXES_PER_QUERY):
        rows, geoms = _query_boxes(conn, table, cols, where, boxes[k:k + BOXES_PER_QUERY])
        found.update((r[0], (r, g)) for r, g in zip(rows, geoms))
    ordered = [found[i] for i in sorted(found)]
    return [r for r, _ in ordered], np.array([g for _, g in ordered], dtype=object)


def _query_boxes(conn, table: str, cols: Sequence[str], where: str, boxes: list[tuple] | None):
    pg = conn.dialect.name == "postgresql"
    params, conds = {}, [where] if where else []
    if boxes is not None:
        clauses = []
        for k, (x0, y0, x1, y1) in enumerate(boxes):
            params.update({f"x0_{k}": x0, f"y0_{k}": y0, f"x1_{k}": x1, f"y1_{k}": y1})
            if pg:
                clauses.append(f"geom && ST_MakeEnvelope(:x0_{k}, :y0_{k}, :x1_{k}, :y1_{k}, 4490)")
            else:
                clauses.append(f"(maxx >= :x0_{k} AND minx <= :x1_{k} AND maxy >= :y0_{k} AND miny <= :y1_{k})")
        if not clauses:
            return [], np.empty(0, dtype=object)
        if pg:
            conds.append("(" + " OR ".join(clauses) + ")")
        else:
            conds.append(f"id IN (SELECT id FROM rtree_{table}_geom WHERE {' OR '.join(clauses)})")
    geom_col = "ST_AsBinary(geom) AS geom" if pg else "geom"
    sql = f"SELECT {', '.join(cols)}, {geom_col} FROM {table}" + (f" WHERE {' AND '.join(conds)}" if conds else "")
    rows = conn.execute(text(sql + " ORDER BY id"), params).fetchall()
    return [tuple(r[:-1]) for r in rows], _decode(conn, [r[-1] for r in rows])


def read_zones(conn, kinds: Iterable[str], boxes: list[tuple] | None = None):
    """Zones of ``kinds`` (only those meeting ``boxes`` when given), in id order: (rows of id, name, kind,
    population; their geometries)."""
    return _rows_in_boxes(conn, "zones", ("id", "name", "kind", "population"), kinds_where(kinds), boxes)


def read_enterprise_points(conn, *, ids=None, boxes: list[tuple] | None = None) -> dict[str, np.ndarray]:
    """Enterprises as arrays ``id``, ``level`` (object, None where ungraded), ``x``, ``y`` (NaN without a
    location): all of them, those of ``ids``, or those meeting ``boxes``."""
    if boxes is None:
        return read_arrays(conn, "enterprises", ["id", "level"], ids=ids, xy=True)
    rows, geoms = _rows_in_boxes(conn, "enterprises", ("id", "level"), "", boxes)
    xy = np.full((len(rows), 2), np.nan)
    ok = np.array([g is not None and g.geom_type == "Point" and not g.is_empty for g in geoms], dtype=bool)
    if ok.any():
        xy[ok] = shapely.get_coordinates(geoms[ok])[:, :2]
    return {"id": np.array([r[0] for r in rows], dtype=np.int64), "level": np.array([r[1] for r in rows], dtype=object),
            "x": xy[:, 0], "y": xy[:, 1]}


def read_unlocated(conn, *, ids=None) -> dict[str, np.ndarray]:
    """Enterprises without a location (未定位: geometry NULL or empty) as arrays ``id``, ``level``,
    ``zone_id``, ``town``: all of them, or those of ``ids``. On a GeoPackage a project whose enterprises all
    have a point answers from two counts (the R-tree holds one row per located enterprise), without a scan."""
    cols = ["id", "level", "zone_id", "town"]
    empty = {c: np.empty(0, dtype=np.int64 if c == "id" else object) for c in cols}
    if conn.dialect.name != "postgresql" and ids is None:
        try:
            n = conn.execute(text("SELECT (SELECT count(*) FROM enterprises) - "
                                  "(SELECT count(*) FROM rtree_enterprises_geom_rowid)")).scalar()
        except OperationalError:  # no R-tree: ask the table itself
            n = 1
        if not n:
            return empty
    out = read_arrays(conn, "enterprises", cols, where="geom IS NULL OR ST_IsEmpty(geom)", ids=ids)
    if not len(out["id"]):
        return empty
    out["id"] = out["id"].astype(np.int64)
    return {c: (out[c] if c == "id" else np.asarray(out[c], dtype=object)) for c in cols}


def read_zone_rows(conn, kinds: Iterable[str], *, ids=None) -> list[tuple]:
    """Zones of ``kinds`` (or of any kind when ``kinds`` is None) without their geometry: rows of id, name,
    kind, parent_id, in id order; only those of ``ids`` when given."""
    conds = [kinds_where(kinds)] if kinds is not None else []
    params = {}
    if ids is not None:
        id_list = sorted({int(i) for i in ids})
        if not id_list:
            return []
        conds.append("id IN (" + ", ".join(str(i) for i in id_list) + ")")
    sql = "SELECT id, name, kind, parent_id FROM zones" + (f" WHERE {' AND '.join(conds)}" if conds else "")
    return [tuple(r) for r in conn.execute(text(sql + " ORDER BY id"), params).fetchall()]


def read_zones_by_id(conn, kinds: Iterable[str], ids) -> tuple[list[tuple], np.ndarray]:
    """:func:`read_zones` for the zones of ``ids`` (and of ``kinds``)."""
    id_list = sorted({int(i) for i in ids})
    if not id_list:
        return [], np.empty(0, dtype=object)
    where = kinds_where(kinds) + " AND id IN (" + ", ".join(str(i) for i in id_list) + ")"
    return _query_boxes(conn, "zones", ("id", "name", "kind", "population"), where, None)


def enterprise_names(conn, ids) -> dict[int, str]:
    """id → name of the given enterprises (one query)."""
    arr = read_arrays(conn, "enterprises", ["id", "name"], ids=ids)
    return dict(zip(arr["id"].tolist(), arr["name"].tolist()))


def read_decisions(conn, kinds: Iterable[str]) -> dict[str, np.ndarray]:
    """The zone_decisions rows of the zones of ``kinds``, as arrays."""
    return read_arrays(conn, "zone_decisions", ["zone_id", "rule", "object_table", "object_id", "object_level", "note"],
                       where=f"zone_id IN (SELECT id FROM zones WHERE {kinds_where(kinds)})")


def read_metric_epsg(conn) -> int | None:
    mt = ProjectMeta.__table__
    value = conn.execute(select(mt.c.value).where(mt.c.key == "metric_epsg")).scalar()
    return int(value) if value else None


def read_settings(conn_or_project) -> dict[str, dict]:
    """The stored settings of each zoned unit: {unit: settings as saved} (a Project's cached meta, or a
    Connection inside a transaction)."""
    if hasattr(conn_or_project, "meta"):
        items = conn_or_project.meta().items()
    else:
        mt = ProjectMeta.__table__
        items = conn_or_project.execute(select(mt.c.key, mt.c.value).where(mt.c.key.like(SETTINGS_PREFIX + "%")))
    return {k[len(SETTINGS_PREFIX):]: json.loads(v) for k, v in items if k.startswith(SETTINGS_PREFIX) and v}


# ---------------------------------------------------------------- writing

def write_levels(conn, zone_ids, levels, rules, reasons) -> int:
    """Set level, rule, reason and the time of many zones (levels: int, or None for no level)."""
    return bulk_update(conn, "zones", {"id": list(zone_ids), "level": list(levels), "level_rule": list(rules),
                                       "level_reason": list(reasons), "level_updated_at": utcnow()})


def replace_decisions(conn, decisions: dict, *, zone_ids=None, kinds: Iterable[str] | None = None) -> int:
    """Delete the decisions of ``zone_ids`` (or of every zone of ``kinds``: a whole unit), then insert
    ``decisions`` (columns zone_id, rule, object_id, object_level, note; object_table is enterprises)."""
    dt_ = ZoneDecision.__table__
    if kinds is not None:
        zt = Zone.__table__
        kinds = tuple(kinds)
        others = conn.execute(select(zt.c.id).where(or_(zt.c.kind.not_in(kinds), zt.c.kind.is_(None)))
                              .where(exists().where(dt_.c.zone_id == zt.c.id)).limit(1)).first()
        if others is None:  # every decision is of this unit: SQLite empties the whole table at once
            conn.execute(delete(dt_))
        else:
            conn.execute(delete(dt_).where(dt_.c.zone_id.in_(select(zt.c.id).where(zt.c.kind.in_(kinds)))))
    else:
        ids = [int(i) for i in zone_ids]
        for k in range(0, len(ids), DELETE_CHUNK):
            conn.execute(delete(dt_).where(dt_.c.zone_id.in_(ids[k:k + DELETE_CHUNK])))
    if not len(decisions["zone_id"]):
        return 0
    if conn.dialect.name == "postgresql" and "county" not in decisions:
        # each decision belongs to its zone's county (schema 5), given here: the row trigger need not look it up
        zids = np.asarray(decisions["zone_id"], dtype=np.int64)
        uniq = np.unique(zids)
        county_of = dict(conn.execute(text("SELECT id, county FROM zones WHERE id = ANY(:ids)"),
                                      {"ids": uniq.tolist()}).all())
        counties = np.array([county_of.get(int(z)) for z in uniq.tolist()], dtype=object)
        decisions = {**decisions, "county": counties[np.searchsorted(uniq, zids)]}
    return bulk_insert(conn, "zone_decisions", {"object_table": "enterprises", **decisions})


def save_settings(conn, unit: str, settings: dict) -> None:
    """Keep the settings ``unit`` was levelled with (``project_meta`` ``zoning.<unit>``)."""
    mt = ProjectMeta.__table__
    key = SETTINGS_PREFIX + unit
    conn.execute(delete(mt).where(mt.c.key == key))
    conn.execute(mt.insert().values(key=key, value=json.dumps(settings, ensure_ascii=False)))
