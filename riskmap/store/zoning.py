"""Zone levels in the store: reading zones and enterprise points for zoning, writing zone levels, the
objects that decided them (``zone_decisions``) and each unit's settings (``project_meta`` ``zoning.<unit>``).

Plain arrays and rows in, nothing about the rules: :mod:`riskmap.grading.zoning` computes, this module
reads and writes, always through a SQLAlchemy Connection inside the caller's transaction, so that rows
and the zones they colour are committed together; on PostgreSQL a transaction that has written nothing yet
may also be read through a second connection under its exported snapshot (:func:`read_enterprise_xy`'s
``split``, :func:`enterprise_names_at`): the rows committed when it was exported, and none of its own.

>>> # with project.session(history=False) as s:
>>> #     write_levels(s.connection(), [3, 4], [1, None], ["max", "max"], ["就高：…", "无已定级企业"])
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import delete, exists, or_, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from riskmap.model import ProjectMeta, Zone, ZoneDecision, utcnow
from riskmap.model.geometry import from_gpkg_blobs
from riskmap.store.project import _raw_error, bulk_insert, bulk_update, pg_array_literal, read_arrays

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


def read_zone_attrs(conn, kinds: Iterable[str]) -> list[tuple]:
    """:func:`read_zones`' rows (id, name, kind, population) without the geometries."""
    sql = f"SELECT id, name, kind, population FROM zones WHERE {kinds_where(kinds)} ORDER BY id"
    return [tuple(r) for r in conn.execute(text(sql)).fetchall()]


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


_LEVEL_DIGIT = "CASE WHEN CAST(level AS INTEGER) BETWEEN 1 AND 4 THEN CAST(level AS INTEGER) ELSE 0 END"
_GPKG_POINT = 61  # riskmap's own GeoPackage point blob: header, xy envelope, 2-D WKB point (gpkg_points_xy)
_XY_ROW = np.dtype([("id", ">i8"), ("level", ">i2"), ("x", ">f8"), ("y", ">f8")])  # int8send || int2send || …


def read_enterprise_xy(conn, *, split: bool = False) -> dict[str, np.ndarray]:
    """See :func:`read_enterprise_xy_counted`, without the count."""
    return read_enterprise_xy_counted(conn, split=split)[0]


def read_enterprise_xy_counted(conn, *, split: bool = False) -> tuple[dict[str, np.ndarray], tuple | None]:
    """Every enterprise as arrays ``id`` (int64), ``level`` (int64 1–4, 0: none or another value), ``x``,
    ``y`` (NaN without a location), in id order: :func:`read_enterprise_points` with the levels as
    :func:`riskmap.grading.zoning._levels_array` makes them, without a Python object per row. GeoPackage: each
    row's point blob and level digit aggregated into one value per :data:`GPKG_ID_SPAN` ids, split by numpy
    (ids from min/max when they have no gap; blobs not riskmap's own read one by one; by id range rather
    than one value: a new process's first read 0.61–0.65 s instead of 0.66–0.87 s, fewer page faults);
    PostgreSQL: one ``bytea`` of fixed-width binary rows (``int8send`` …) aggregated on the server, decoded by
    a numpy view, sorted here (binary COPY sends a message per row, read one by one). City (1M enterprises,
    load 1.2–2.3): GeoPackage 0.6–0.95 s instead of 1.15–1.5 s, PostgreSQL 0.45–0.9 s instead of 1.1–1.55 s.
    ``split`` (PostgreSQL, a transaction that has written nothing: see :func:`_pg_split`): the ids above the
    middle read at once on a second connection taking this transaction's exported snapshot (the server
    aggregates on two cores). Falls back to :func:`read_enterprise_points`. Also returns, on PostgreSQL,
    (count, largest id, sum of versions) of exactly the rows read, by the same statements: the enterprises'
    part of :func:`store_stamp` (None: not known)."""
    counted = None
    if conn.dialect.name == "postgresql":
        out, counted = _pg_aggregate_xy(conn, split)
    else:
        out = _gpkg_aggregate_xy(conn)
    if out is None:
        counted = None
        out = read_enterprise_points(conn)
        out = {"id": np.asarray(out["id"], dtype=np.int64), "level": _level_numbers(out["level"]),
               "x": np.asarray(out["x"], dtype=float), "y": np.asarray(out["y"], dtype=float)}
    return out, counted


def _level_numbers(values) -> np.ndarray:
    """Levels as int64 1–4, 0 for None or another value (truncated like ``CAST(level AS INTEGER)``)."""
    arr = np.asarray(values, dtype=object)
    num = np.array([np.nan if v is None else float(v) for v in arr.tolist()], dtype=float)
    out = np.trunc(np.nan_to_num(num, nan=0.0)).astype(np.int64)
    out[(out < 1) | (out > 4)] = 0
    return out


GPKG_ID_SPAN = 1 << 17  # ids aggregated per query (a few MB each, reused: fewer page faults than one value)


def _gpkg_aggregate_xy(conn) -> dict[str, np.ndarray] | None:
    if conn.exec_driver_sql("PRAGMA encoding").scalar() != "UTF-8":
        return None  # group_concat and || pass blob bytes through as UTF-8 text only
    size = _GPKG_POINT + 1
    null, other = "X'" + "FF" * _GPKG_POINT + "'", "X'" + "00" * _GPKG_POINT + "'"
    sql = (f"SELECT CAST(group_concat(g, '') AS BLOB) FROM (SELECT CASE WHEN length(geom) = {_GPKG_POINT} "
           f"THEN geom WHEN geom IS NULL THEN {null} ELSE {other} END || {_LEVEL_DIGIT} AS g "
           f"FROM enterprises WHERE id >= ? AND id < ? ORDER BY id)")
    lo, hi = conn.exec_driver_sql("SELECT min(id), max(id) FROM enterprises").first()
    if lo is None:
        return {"id": np.zeros(0, np.int64), "level": np.zeros(0, np.int64), "x": np.zeros(0), "y": np.zeros(0)}
    step = max(GPKG_ID_SPAN, -(-(hi - lo + 1) // 64))  # sparse ids: at most 64 queries
    xys, levels, slows, n = [], [], [], 0
    for start in range(lo, hi + 1, step):  # id ranges in order: the rows in id order
        try:
            joined = conn.exec_driver_sql(sql, (start, start + step)).scalar() or b""
        except DBAPIError:  # over SQLite's longest value: read by rows
            return None
        if not isinstance(joined, bytes) or len(joined) % size:
            return None
        raw = np.frombuffer(joined, dtype=np.uint8).reshape(-1, size)
        xy = np.full((len(raw), 2), np.nan)
        head = np.ascontiguousarray(raw[:, [0, 1, 3, 40, 41, 42, 43, 44]]).view("<u8")[:, 0]
        fast = head == np.frombuffer(b"GP\x03\x01\x01\x00\x00\x00", dtype="<u8")[0]  # as gpkg_points_xy
        xy[fast] = np.ascontiguousarray(raw[fast, 45:61]).view("<f8")
        slow = np.flatnonzero(~fast)
        slow = slow[~(raw[slow, :_GPKG_POINT] == 0xFF).all(axis=1)]  # not NULL: other blobs, read one by one
        xys.append(xy), levels.append(raw[:, -1].astype(np.int64) - 48), slows.append(n + slow)
        n += len(raw)
    xy, level, slow = np.concatenate(xys), np.concatenate(levels), np.concatenate(slows)
    if hi - lo + 1 == n:  # n distinct integers from lo to hi: every one of them
        ids = np.arange(lo, hi + 1, dtype=np.int64)
    else:
        ids = np.array((conn.exec_driver_sql("SELECT group_concat(id, ',') FROM (SELECT id FROM enterprises "
                                             "ORDER BY id)").scalar() or "").split(","), dtype=np.int64)
    if len(ids) != n or ((level < 0) | (level > 4)).any():
        return None
    if len(slow):
        some = read_arrays(conn, "enterprises", ["id"], ids=ids[slow].tolist(), xy=True)
        xy[np.searchsorted(ids, some["id"])] = np.column_stack([some["x"], some["y"]])
    return {"id": ids, "level": level, "x": xy[:, 0], "y": xy[:, 1]}


PG_SPLIT_IDS = 200_000  # read_enterprise_xy(split=True): ids spanning more than this read in two halves at once


def _pg_split(conn) -> tuple[str, int] | None:
    """(this transaction's exported snapshot, the middle id) for reading the enterprises in two id ranges at
    once, or None: ids spanning less than :data:`PG_SPLIT_IDS`, a standby (no snapshot to export), or a
    transaction that has written already (another connection would not see its rows)."""
    row = conn.exec_driver_sql("SELECT txid_current_if_assigned() IS NULL AND NOT pg_is_in_recovery(), "
                               "min(id), max(id) FROM enterprises").first()
    if not row[0] or row[1] is None or row[2] - row[1] < PG_SPLIT_IDS:
        return None
    snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    if not isinstance(snapshot, str) or not re.fullmatch(r"[0-9A-Fa-f-]+", snapshot):
        return None
    return snapshot, (int(row[1]) + int(row[2])) // 2


def pg_snapshot(conn) -> str | None:
    """This transaction's snapshot exported for another connection (PostgreSQL), or None: another store, a
    standby, or a transaction that has written already (another connection would not see its rows)."""
    if conn.dialect.name != "postgresql":
        return None
    if not conn.exec_driver_sql("SELECT txid_current_if_assigned() IS NULL AND NOT pg_is_in_recovery()").scalar():
        return None
    snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    return snapshot if isinstance(snapshot, str) and re.fullmatch(r"[0-9A-Fa-f-]+", snapshot) else None


def enterprise_names_at(engine, snapshot: str, ids) -> dict[int, str] | None:
    """:func:`enterprise_names` read on another connection of ``engine`` under ``snapshot``
    (:func:`pg_snapshot`), so that the transaction's own connection may meanwhile write; None when no
    connection can be had or the snapshot is gone."""
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as c2, c2.begin():
            c2.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            return enterprise_names(c2, ids)
    except DBAPIError:
        return None


def _pg_xy_bytes(conn, sql: str) -> tuple:
    """The row of :func:`_pg_aggregate_xy`'s statement: (rows' bytes, count, largest id, sum of versions)."""
    with conn.connection.driver_connection.cursor(binary=True) as cur:
        joined, n, top, versions = cur.execute(sql).fetchone()
    return joined or b"", n, top, versions


def _pg_aggregate_xy(conn, split: bool = False) -> tuple[dict[str, np.ndarray] | None, tuple | None]:
    # one bytea of fixed-width binary rows, aggregated unordered (0.1 s less than ORDER BY id) and sorted
    # here: one value instead of a million rows (COPY sends one message per row, read one by one)
    sql = (f"SELECT string_agg(int8send(id) || int2send(CAST({_LEVEL_DIGIT} AS int2)) || "
           f"float8send(coalesce(ST_X(geom), 'NaN')) || float8send(coalesce(ST_Y(geom), 'NaN')), ''::bytea), "
           f"count(*), max(id), sum(version) FROM enterprises")
    halves = _pg_split(conn) if split else None
    if halves is None:
        joined, n, top, versions = _pg_xy_bytes(conn, sql)
    else:
        snapshot, mid = halves
        upper: list = []

        def read_upper():
            try:
                with conn.engine.connect().execution_options(isolation_level="REPEATABLE READ") as c2, c2.begin():
                    c2.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    upper.append(_pg_xy_bytes(c2, f"{sql} WHERE id > {mid}"))
            except DBAPIError:  # no second connection (e.g. the server's limit): read below on this one
                pass

        thread = threading.Thread(target=read_upper, name="riskmap-zoning-read", daemon=True)
        thread.start()
        try:
            lower = _pg_xy_bytes(conn, f"{sql} WHERE id <= {mid}")
        finally:
            thread.join()
        high = upper[0] if upper else _pg_xy_bytes(conn, f"{sql} WHERE id > {mid}")
        joined, n = lower[0] + high[0], lower[1] + high[1]
        tops = [t for t in (lower[2], high[2]) if t is not None]
        sums = [v for v in (lower[3], high[3]) if v is not None]
        top, versions = (max(tops) if tops else None), (sum(sums) if sums else None)
        del lower, upper, high
    if len(joined) % _XY_ROW.itemsize or len(joined) // _XY_ROW.itemsize != n:
        return None, None
    rows = np.frombuffer(joined, dtype=_XY_ROW)
    out = {"id": rows["id"].astype(np.int64), "level": rows["level"].astype(np.int64),
           "x": rows["x"].astype(np.float64), "y": rows["y"].astype(np.float64)}
    del rows, joined
    if len(out["id"]) > 1 and not (out["id"][1:] > out["id"][:-1]).all():
        order = np.argsort(out["id"])  # unique ids: any sort
        out = {k: v[order] for k, v in out.items()}
    return out, (n, top, versions)


def read_unlocated(conn, *, ids=None) -> dict[str, np.ndarray]:
    """Enterprises without a location (未定位: geometry NULL or empty) as arrays ``id``, ``level``,
    ``zone_id``, ``town``: all of them, or those of ``ids``. On a GeoPackage a project whose enterprises all
    have a point answers from two counts (the R-tree holds one row per located enterprise), without a scan."""
    cols = ["id", "level", "zone_id", "town"]
    empty = {c: np.empty(0, dtype=np.int64 if c == "id" else object) for c in cols}
    if ids is not None and not len(ids):
        return empty
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
    """id → name of the given enterprises (one query): the ids and names come as two JSON arrays aggregated
    in the database, not a row each (a city's grid zoning names 100k enterprises: 0.2 s instead of 0.4 s)."""
    id_list = [int(i) for i in ids]
    if not id_list:
        return {}
    raw = conn.connection.driver_connection
    try:
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cur:  # the ids as one array literal: a list is dumped item by item
                row = cur.execute("SELECT CAST(json_agg(id) AS text), CAST(json_agg(name) AS text) FROM enterprises "
                                  "WHERE id = ANY(CAST(%s AS int8[]))",
                                  ("{" + ",".join(map(str, id_list)) + "}",)).fetchone()
        else:
            row = raw.execute("SELECT json_group_array(id), json_group_array(name) FROM enterprises "
                              "WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(id_list),)).fetchone()
    except Exception as exc:  # as SQLAlchemy would raise it, like read_arrays
        raise _raw_error(conn, "SELECT … FROM enterprises (names)", exc) from exc
    if row is None or row[0] is None:
        return {}
    return dict(zip(json.loads(row[0]), json.loads(row[1])))


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


def read_levels(conn, kinds: Iterable[str]) -> dict[int, tuple]:
    """The stored level (None: none), rule and reason of every zone of ``kinds``: {id: (level, rule, reason)}."""
    cur = read_arrays(conn, "zones", ["id", "level", "level_rule", "level_reason"], where=kinds_where(kinds))
    return {int(i): (None if lv is None or lv != lv else int(lv), r, t)
            for i, lv, r, t in zip(cur["id"].tolist(), np.asarray(cur["level"], dtype=object).tolist(),
                                   cur["level_rule"].tolist(), cur["level_reason"].tolist())}


def write_changed_levels(conn, kinds: Iterable[str], zone_ids, levels, rules, reasons, *,
                         old: dict | None = None) -> int:
    """:func:`write_levels` for the zones whose level, rule or reason differ from the stored ones (all of the
    unit ``kinds``' zones are given: a run from scratch); ``level_updated_at`` is then the time the level,
    rule or reason last changed. ``old``: the stored ones as :func:`read_levels` gave them in this transaction
    (else read here). Returns the number of zones written."""
    if old is None:
        old = read_levels(conn, kinds)
    keep = [k for k, (i, lv, r, t) in enumerate(zip(zone_ids, levels, rules, reasons))
            if old.get(int(i), ()) != (None if lv is None else int(lv), r, t)]
    if not keep:
        return 0
    return write_levels(conn, [zone_ids[k] for k in keep], [levels[k] for k in keep], [rules[k] for k in keep],
                        [reasons[k] for k in keep])


DECISION_COLUMNS = ("zone_id", "rule", "object_id", "object_level", "note")


def update_decisions(conn, decisions: dict, kinds: Iterable[str]) -> int:
    """Make the decisions of the unit ``kinds``' zones those of ``decisions`` (columns as for
    :func:`replace_decisions`): only the zones whose set of decisions differs (a row added, gone or changed)
    have theirs deleted and inserted again. Returns the number of zones rewritten."""
    import pandas as pd

    kinds = tuple(kinds)
    cur = read_decisions(conn, kinds)
    try:
        old = pd.DataFrame({c: np.asarray(cur[c], dtype=object) if c in ("rule", "note") else
                            np.asarray(cur[c], dtype=np.int64) for c in DECISION_COLUMNS})
    except (TypeError, ValueError):  # a NULL where a number belongs: replace them all
        return replace_decisions(conn, decisions, kinds=kinds)
    if len(old) and (np.asarray(cur["object_table"], dtype=object) != "enterprises").any():
        return replace_decisions(conn, decisions, kinds=kinds)  # decisions of other objects: replace all
    new = pd.DataFrame({c: np.asarray(decisions[c], dtype=object) if c in ("rule", "note") else
                        np.asarray(decisions[c], dtype=np.int64) for c in DECISION_COLUMNS})
    if not len(old):
        changed = np.unique(new["zone_id"].to_numpy())
    else:
        both = old.merge(new, how="outer", on=list(DECISION_COLUMNS), indicator=True)
        changed = set(both.loc[both["_merge"] != "both", "zone_id"].astype(np.int64).tolist())
        n_old, n_new = old.groupby("zone_id").size(), new.groupby("zone_id").size()
        diff = n_old.sub(n_new, fill_value=0)
        changed |= set(diff.index[diff != 0].astype(np.int64).tolist())  # duplicates kept before
        changed = np.array(sorted(changed), dtype=np.int64)
    if not len(changed):
        return 0
    n_zones = len(np.union1d(old["zone_id"].to_numpy(), new["zone_id"].to_numpy()))
    if len(changed) * 2 > n_zones:  # most of them: one DELETE of the unit's decisions, then all inserted
        replace_decisions(conn, decisions, kinds=kinds)
        return len(changed)
    sel = np.isin(np.asarray(decisions["zone_id"], dtype=np.int64), changed)
    replace_decisions(conn, {k: (np.asarray(v)[sel] if not np.isscalar(v) else v) for k, v in decisions.items()},
                      zone_ids=changed.tolist())
    return len(changed)


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
        county_of = dict(conn.execute(text("SELECT id, county FROM zones WHERE id = ANY(CAST(:ids AS integer[]))"),
                                      {"ids": pg_array_literal(uniq.tolist())}).all())
        counties = np.array([county_of.get(int(z)) for z in uniq.tolist()], dtype=object)
        decisions = {**decisions, "county": counties[np.searchsorted(uniq, zids)]}
    return bulk_insert(conn, "zone_decisions", {"object_table": "enterprises", **decisions})


def save_settings(conn, unit: str, settings: dict) -> None:
    """Keep the settings ``unit`` was levelled with (``project_meta`` ``zoning.<unit>``)."""
    mt = ProjectMeta.__table__
    key = SETTINGS_PREFIX + unit
    conn.execute(delete(mt).where(mt.c.key == key))
    conn.execute(mt.insert().values(key=key, value=json.dumps(settings, ensure_ascii=False)))


# ---------------------------------------------------------------- enterprises ↔ zones, kept between runs
#
# Which zone holds which located enterprise only changes when an enterprise or a zone of the unit is added,
# moved or deleted. A run of zoning or of the statistics by town/grid keeps its pairs here (per project and
# zone kinds) with a stamp of the store; the next run whose stamp is the same reads only the levels (no
# geometry) and skips the point-in-polygon work. GeoPackage stamp: the file's (and its -wal's) size, change
# time and inode — any write changes it; zoning, which writes no geometry, stamps its entries again after its
# own commit (:func:`restamp`). PostGIS stamp: count, largest id and sum of row versions of the enterprises
# and of the unit's zones (every riskmap edit raises a row's version; zoning writes no version), read inside
# the caller's transaction, with the oids of the database and of both tables (a database or table dropped and
# made again is another store).
#
# The pairs are kept on disk as well (:func:`user_cache_dir` ``/lod``, beside the compact point arrays of
# :func:`riskmap.store.viewport.read_points_cached`): numbers only (``.npz`` loaded without pickle), one file
# per store and kinds, named by a hash of the store (file path, or URL with its user and without password)
# and of the stamp, the stamp itself inside and compared; a file that does not match, is truncated or is not
# a pair file is ignored. So the first run of a new process on an unchanged store (bench_city: 1M
# enterprises, 50k grid cells) reads levels only, as a later run does.

PAIR_CACHE_ENTRIES = 4  # (project, kinds) kept in this process; about 17 bytes per enterprise each


class Pairs:
    """The enterprises of a store in id order (``ids``; ``located``: those with a point), the zones of the
    kinds in id order (``zone_ids``) and the pairs (``pt``: index into ``ids``, ``zi``: index into
    ``zone_ids``) of every zone holding a located enterprise (a point on a shared border: each zone), sorted
    by enterprise, then zone."""

    __slots__ = ("ids", "located", "pt", "zi", "zone_ids")

    def __init__(self, ids, located, pt, zi, zone_ids):
        self.ids, self.located = ids, located
        self.pt, self.zi, self.zone_ids = pt, zi, zone_ids


_PAIRS: dict = {}  # (target, kinds) -> (stamp, Pairs)


def _gpkg_path(conn) -> str | None:
    """The file of a GeoPackage connection (None: in memory)."""
    for _, name, path in conn.exec_driver_sql("PRAGMA database_list").fetchall():
        if name == "main":
            return path or None
    return None


def _target(conn) -> str:
    if conn.dialect.name == "postgresql":
        return conn.engine.url.set(password=None).render_as_string(hide_password=True)
    import os

    return os.path.realpath(_gpkg_path(conn) or "")


def _file_stamp(path: str) -> str | None:
    import os

    try:
        parts = [os.stat(path)]
        if os.path.exists(path + "-wal"):
            parts.append(os.stat(path + "-wal"))
    except OSError:
        return None
    return ":".join(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}" for st in parts)


def store_stamp(conn, kinds: Iterable[str], *, enterprises: tuple | None = None) -> str | None:
    """The stamp of the enterprises and the zones of ``kinds`` (see above), read through ``conn`` after its
    transaction has read something (a GeoPackage's snapshot is then taken: a later commit by another writer
    changes the stamp); None when there is none to trust (a file in memory). ``enterprises``: their (count,
    largest id, sum of versions) when known already (:func:`read_enterprise_xy_counted`), not counted again."""
    if conn.dialect.name != "postgresql":
        path = _gpkg_path(conn)
        return None if not path else _file_stamp(path)
    row_e = enterprises or conn.execute(text("SELECT count(*), max(id), sum(version) FROM enterprises")).first()
    row_z = conn.execute(text(f"SELECT count(*), max(id), sum(version) FROM zones WHERE {kinds_where(kinds)}")).first()
    oids = conn.execute(text("SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), "
                             "'enterprises'::regclass::oid, 'zones'::regclass::oid")).first()
    return "pg:" + ":".join(str(v) for v in (*row_e, *row_z, *oids))


def read_level_digits(conn) -> np.ndarray:
    """The level of every enterprise in id order as uint8 (1–4; 0: none or another value), from one text of
    digits aggregated in the database (a million levels in one value instead of a million rows)."""
    digit = "CASE WHEN level IN (1, 2, 3, 4) THEN level ELSE 0 END"
    if conn.dialect.name == "postgresql":
        # the aggregate over a subquery read in id order by the primary key's index (no join: PostgreSQL keeps
        # that order; string_agg(… ORDER BY id) sorts instead): 0.29 s for 1M, rows of int2 0.52–0.72 s
        sql = f"SELECT string_agg(d, '') FROM (SELECT ({digit})::int2::text AS d FROM enterprises ORDER BY id) AS s"
    else:  # a rowid table read in id order; SQLite does not flatten an ordered subquery into an aggregate
        sql = f"SELECT group_concat(d, '') FROM (SELECT {digit} AS d FROM enterprises ORDER BY id)"
    joined = conn.exec_driver_sql(sql).scalar() or ""
    return np.frombuffer(joined.encode("ascii"), dtype=np.uint8) - np.uint8(48)


def anything_kept(conn, kinds: Iterable[str]) -> bool:
    """Whether pairs of this store and ``kinds`` (in the process or on disk) or its points are kept under any
    stamp: when not, a first run need not take the stamp before reading (none can match)."""
    key = (_target(conn), tuple(kinds))
    if key in _PAIRS or key[0] in _POINTS:
        return True
    folder, stem = _pair_files(key)
    try:
        return any(folder.glob(f"{stem}-*.npz"))
    except OSError:
        return True


def cached_pairs(conn, kinds: Iterable[str], stamp: str | None) -> Pairs | None:
    """The pairs kept for this store and ``kinds`` under ``stamp``, or None."""
    if stamp is None:
        return None
    key = (_target(conn), tuple(kinds))
    hit = _PAIRS.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    pairs = _load_pairs(key, stamp)
    if pairs is not None:
        _remember(key, stamp, pairs)
    return pairs


def _remember(key, stamp: str, pairs: Pairs) -> None:
    _PAIRS.pop(key, None)
    while len(_PAIRS) >= PAIR_CACHE_ENTRIES:
        _PAIRS.pop(next(iter(_PAIRS)))
    _PAIRS[key] = (stamp, pairs)


def keep_pairs(conn, kinds: Iterable[str], stamp: str | None, pairs: Pairs) -> None:
    """Keep ``pairs`` for this store and ``kinds`` under ``stamp``, in this process and on disk."""
    if stamp is None:
        return
    key = (_target(conn), tuple(kinds))
    _remember(key, stamp, pairs)
    _save_pairs(key, stamp, pairs)


def user_cache_dir() -> Path:
    """The user's cache folder of riskmap, the one the desktop app's QStandardPaths CacheLocation names
    (``$XDG_CACHE_HOME/riskmap`` or ``~/.cache/riskmap``; ``%LOCALAPPDATA%/riskmap/cache`` on Windows,
    ``~/Library/Caches/riskmap`` on macOS), found without Qt; not created here.

    >>> user_cache_dir().name in ("riskmap", "cache")
    True
    """
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "riskmap" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "riskmap"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "riskmap"


def _hash(value: str, n: int) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:n]


def _pair_files(key) -> tuple[Path, str]:
    """The folder of the kept pairs and the name stem of this store and kinds: ``pairs-<store>-<kinds>``."""
    return user_cache_dir() / "lod", f"pairs-{_hash(key[0], 20)}-{_hash(chr(0).join(key[1]), 8)}"


def _pair_path(key, stamp: str) -> Path:
    folder, stem = _pair_files(key)
    return folder / f"{stem}-{_hash(stamp, 16)}.npz"


def _restamp_files(target: str, before: str, after: str, done: set) -> None:
    """The pair files of the store ``target`` kept under ``before`` (other kinds than those in ``done``, the
    paths already written) written again under ``after``; one that does not hold ``before`` is left alone."""
    from riskmap.atomic import atomic_path
    from riskmap.errors import RiskmapError

    folder = user_cache_dir() / "lod"
    try:
        found = list(folder.glob(f"pairs-{_hash(target, 20)}-*-{_hash(before, 16)}.npz"))
    except OSError:
        return
    for old in found:
        new = old.with_name(old.name[: -len("0123456789abcdef.npz")] + f"{_hash(after, 16)}.npz")
        if new in done:
            continue
        try:
            with np.load(old, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            if not np.array_equal(arrays.get("stamp"), _stamp_bytes(before)):
                continue
            arrays["stamp"] = _stamp_bytes(after)
            with atomic_path(new) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, **arrays)
            old.unlink(missing_ok=True)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, RiskmapError):
            continue


def _stamp_bytes(stamp: str) -> np.ndarray:
    return np.frombuffer(stamp.encode(), dtype=np.uint8)


def _load_pairs(key, stamp: str) -> Pairs | None:
    """The pairs kept on disk for ``key`` under ``stamp``, or None (none, another stamp, or not a sound pair
    file: truncated, garbage, wrong arrays)."""
    try:
        with np.load(_pair_path(key, stamp), allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("stamp", "ids", "located", "pt", "zi", "zone_ids")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    ids, located, pt, zi, zone_ids = (arrays[k] for k in ("ids", "located", "pt", "zi", "zone_ids"))
    if not np.array_equal(arrays["stamp"], _stamp_bytes(stamp)):
        return None
    if any(a.ndim != 1 for a in (ids, located, pt, zi, zone_ids)) or located.dtype != bool:
        return None
    if not all(a.dtype.kind == "i" for a in (ids, pt, zi, zone_ids)):
        return None
    if len(located) != len(ids) or len(pt) != len(zi):
        return None
    if len(pt) and (pt.min() < 0 or pt.max() >= len(ids) or zi.min() < 0 or zi.max() >= len(zone_ids)):
        return None
    return Pairs(ids.astype(np.int64, copy=False), located, pt, zi, zone_ids.astype(np.int64, copy=False))


def _save_pairs(key, stamp: str, pairs: Pairs) -> None:
    """Write the pairs to disk (atomically, the older files of this store and kinds removed); a cache that
    cannot be written is no error."""
    from riskmap.atomic import atomic_path
    from riskmap.errors import RiskmapError

    path = _pair_path(key, stamp)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"{_pair_files(key)[1]}-*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, stamp=_stamp_bytes(stamp), ids=np.asarray(pairs.ids), located=np.asarray(pairs.located),
                         pt=np.asarray(pairs.pt), zi=np.asarray(pairs.zi), zone_ids=np.asarray(pairs.zone_ids))
    except (OSError, RiskmapError):
        pass


_POINTS: dict = {}  # target -> (points stamp, ids, x, y): the enterprises' points of the last first run


def _points_stamp(stamp: str | None) -> str | None:
    """The part of a :func:`store_stamp` that the enterprises' points depend on: a GeoPackage's file stamp;
    on PostGIS the enterprises' count, largest id and sum of versions with the oids of database and table."""
    if stamp is None or not stamp.startswith("pg:"):
        return stamp
    parts = stamp.split(":")
    return "pgpoints:" + ":".join(parts[1:4] + parts[7:9])


def cached_points(conn, stamp: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(ids, x, y) of every enterprise kept by an earlier first run in this process under the same store
    state as ``stamp`` (a :func:`store_stamp` of any kinds), or None: another unit's first run reads then the
    levels only (city: 0.2 s instead of 0.6 s)."""
    key = _points_stamp(stamp)
    hit = _POINTS.get(_target(conn)) if key is not None else None
    return hit[1:] if hit is not None and hit[0] == key else None


def keep_points(conn, stamp: str | None, ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Keep the enterprises' points read under ``stamp`` for :func:`cached_points` (one store at a time)."""
    key = _points_stamp(stamp)
    if key is None:
        return
    for a in (ids, x, y):
        a.setflags(write=False)  # shared with the run that read them: never changed in place
    _POINTS.clear()
    _POINTS[_target(conn)] = (key, ids, x, y)


def restamp(engine, before: str | None) -> None:
    """After a commit that wrote no geometry (zoning) into a GeoPackage: the entries of that file that were
    valid under ``before`` (taken inside the transaction) are valid under the file's new stamp — those kept in
    this process and the other units' files on disk."""
    if before is None or engine.dialect.name == "postgresql":
        return
    import os

    with engine.connect() as conn:
        path = _gpkg_path(conn)
    after = _file_stamp(path) if path else None
    target = os.path.realpath(path or "")
    if after is None:
        return
    hit = _POINTS.get(target)
    if hit is not None and hit[0] == before:
        _POINTS[target] = (after, *hit[1:])
    done = set()
    for key, (stamp, pairs) in list(_PAIRS.items()):
        if key[0] == target and stamp == before:
            _PAIRS[key] = (after, pairs)
            _save_pairs(key, after, pairs)
            done.add(_pair_path(key, after))
    _restamp_files(target, before, after, done)  # the other units' pairs this process has not read


def forget_pairs() -> None:
    """Drop every kept pair and point (tests)."""
    _PAIRS.clear()
    _POINTS.clear()
