"""Whole zone units written at once: generated grids and approximate (示意) towns, and real town boundaries
replacing approximate ones. Everything goes through the caller's session, in its one transaction: the new
zones (with parent links and areas), enterprises re-assigned to the towns (``zone_id`` and ``town``), the
children of replaced zones linked to the new ones, the old zones removed, every unit already zoned levelled
again under its own settings, and ``project_meta`` ``approximate.<kind>`` set or cleared.

:mod:`riskmap.edit.zones` (grids, towns from seats) and the importer (:func:`zones_imported`, after a zone
import) call it.

>>> # with project.session(history=False) as s:
>>> #     ids = put_zones(s, "grid", geoms, names, codes=codes, replace=True, metric_epsg=4548)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from sqlalchemy import delete, select, text

from riskmap.crs import to_metric
from riskmap.errors import RiskmapError
from riskmap.grading.zoning import UNIT_KINDS, UNIT_ZH, assign_xy, level_unit, zoned_units
from riskmap.layers import APPROXIMATE_MARK, APPROXIMATE_PREFIX
from riskmap.model import EditRecord, ProjectMeta, Zone
from riskmap.store import zoning as zstore
from riskmap.store.history import current_user
from riskmap.store.project import bulk_update, read_arrays

KIND_ZH = {"town": "镇街", "grid": "网格", "village": "村/社区", "county": "县"}
PARENT_KINDS = {"town": ("county",), "village": ("town", "county"), "grid": ("town", "county")}
APPROXIMATE_NOTE = f"{APPROXIMATE_MARK}：由镇街驻地生成的泰森多边形，不是正式边界"
DELETE_CHUNK = 500


def _kind_zh(kind: str) -> str:
    return KIND_ZH.get(kind, kind)


def zone_count(conn, kind: str) -> int:
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM zones WHERE kind = '{kind}'").scalar() or 0)


def read_meta(conn, key: str) -> str | None:
    mt = ProjectMeta.__table__
    return conn.execute(select(mt.c.value).where(mt.c.key == key)).scalar()


def write_meta(conn, key: str, value: str | None) -> None:
    """Set (or with None, remove) one ``project_meta`` key inside the transaction."""
    mt = ProjectMeta.__table__
    conn.execute(delete(mt).where(mt.c.key == key))
    if value is not None:
        conn.execute(mt.insert().values(key=key, value=value))


def parents_for(conn, geoms, kind: str, *, exclude: Iterable[int] = ()) -> list[int | None]:
    """For each geometry (EPSG:4490): the zone of the next level up holding most of it (a grid cell's town,
    else the county), or None."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[int | None] = [None] * len(geoms)
    skip = set(int(i) for i in exclude)
    for pk in PARENT_KINDS.get(kind, ("county",)):
        todo = np.array([i for i in range(len(geoms)) if out[i] is None], dtype=np.int64)
        if not len(todo):
            break
        rows, pgeoms = zstore.read_zones(conn, (pk,))
        keep = [k for k, r in enumerate(rows) if int(r[0]) not in skip]
        if not keep:
            continue
        pids = np.array([rows[k][0] for k in keep], dtype=np.int64)
        pgeoms = np.asarray(pgeoms, dtype=object)[keep]
        a, b = shapely.STRtree(pgeoms).query(geoms[todo], predicate="intersects")
        if not len(a):
            continue
        shapely.prepare(pgeoms)
        child = geoms[todo][a]
        whole = shapely.contains(pgeoms[b], child)  # most cells: no intersection to compute
        shared = shapely.area(child)  # degrees²: for ranking only
        part = np.flatnonzero(~whole)
        if len(part):
            shared[part] = shapely.area(shapely.intersection(child[part], pgeoms[b][part]))
        best: dict[int, tuple[int, float]] = {}
        for ai, bi, s in zip(a.tolist(), b.tolist(), shared.tolist()):
            if s > 0 and s > best.get(ai, (0, 0.0))[1]:
                best[ai] = (int(pids[bi]), s)
        for ai, (pid, _s) in best.items():
            out[int(todo[ai])] = pid
    return out


def assign_enterprises(conn, *, only_unassigned: bool = False) -> int:
    """Enterprises to the town zones: a located enterprise gets the town its point falls in (``zone_id`` and
    ``town``; outside every town, ``zone_id`` none and its town text kept); one without a location, the town
    its ``town`` text names. ``only_unassigned``: touch only enterprises without a ``zone_id``. Returns the
    number of enterprises changed (each gets a new version)."""
    zrows, zgeoms = zstore.read_zones(conn, ("town",))
    ents = read_arrays(conn, "enterprises", ["id", "town", "zone_id", "version"], xy=True)
    n = len(ents["id"])
    if not n:
        return 0
    zone_ids = np.array([r[0] for r in zrows], dtype=np.int64)
    zone_names = [str(r[1]) for r in zrows]
    new_zone = np.full(n, None, dtype=object)
    new_town = np.array(ents["town"], dtype=object).copy()
    xy = np.column_stack([ents["x"], ents["y"]])
    located = np.isfinite(xy).all(axis=1)
    if len(zrows):
        pt, zn = assign_xy(xy, zgeoms)
        order = np.lexsort((zn, pt))  # a point on a shared border: the first town
        pt, zn = pt[order], zn[order]
        first = np.unique(pt, return_index=True)[1]
        pt, zn = pt[first], zn[first]
        new_zone[pt] = zone_ids[zn]
        new_town[pt] = np.array(zone_names, dtype=object)[zn]
        by_name = {"".join(nm.split()): int(z) for nm, z in zip(zone_names, zone_ids.tolist())}
        for i in np.flatnonzero(~located).tolist():
            t = ents["town"][i]
            new_zone[i] = by_name.get("".join(str(t).split())) if t else None
    old_zone = [None if z is None or z != z else int(z) for z in np.asarray(ents["zone_id"], dtype=object)]
    todo = np.ones(n, dtype=bool) if not only_unassigned else np.array([z is None for z in old_zone], dtype=bool)
    changed = [i for i in np.flatnonzero(todo).tolist()
               if new_zone[i] != old_zone[i] or new_town[i] != ents["town"][i]]
    if not changed:
        return 0
    ids = ents["id"][changed].astype(np.int64)
    versions = [int(v or 0) + 1 for v in np.asarray(ents["version"], dtype=object)[changed]]
    return bulk_update(conn, "enterprises", {"id": ids.tolist(), "zone_id": [new_zone[i] for i in changed],
                                             "town": [new_town[i] for i in changed], "version": versions})


def _relink_children(conn, old_ids: list[int]) -> None:
    """Zones whose parent is about to be removed: linked to the new zone of that level holding most of them."""
    if not old_ids:
        return
    zt = Zone.__table__
    rows = []
    for k in range(0, len(old_ids), DELETE_CHUNK):
        rows += conn.execute(select(zt.c.id, zt.c.kind).where(zt.c.parent_id.in_(old_ids[k:k + DELETE_CHUNK]))).all()
    if not rows:
        return
    by_kind: dict[str, list[int]] = {}
    for zid, kind in rows:
        by_kind.setdefault(kind, []).append(int(zid))
    for kind, ids in by_kind.items():
        zrows, geoms = zstore.read_zones(conn, (kind,))
        at = {int(r[0]): g for r, g in zip(zrows, geoms)}
        parents = parents_for(conn, [at[i] for i in ids], kind, exclude=old_ids)
        bulk_update(conn, "zones", {"id": ids, "parent_id": parents})


def _link_orphans(conn, kind: str) -> None:
    """Zones that may sit under ``kind`` but hang from the county or nothing (a grid made before the towns):
    linked to the zone of ``kind`` holding most of them."""
    below = [k for k, parents in PARENT_KINDS.items() if kind in parents and parents.index(kind) == 0]
    for k in below:
        zt = Zone.__table__
        county = select(zt.c.id).where(zt.c.kind.in_(("county", "city", "province")))
        rows = conn.execute(select(zt.c.id).where(zt.c.kind == k)
                            .where(zt.c.parent_id.is_(None) | zt.c.parent_id.in_(county))).all()
        if not rows:
            continue
        ids = {int(r[0]) for r in rows}
        zrows, geoms = zstore.read_zones(conn, (k,))
        pick = [(int(r[0]), g) for r, g in zip(zrows, geoms) if int(r[0]) in ids]
        parents = parents_for(conn, [g for _, g in pick], k)
        bulk_update(conn, "zones", {"id": [i for i, _ in pick], "parent_id": parents})


def _remove_zones(conn, ids: list[int]) -> None:
    """Delete zones and what points at them (decisions, enterprise links, children's parent links)."""
    if not ids:
        return
    _relink_children(conn, ids)
    for k in range(0, len(ids), DELETE_CHUNK):
        part = ",".join(str(int(i)) for i in ids[k:k + DELETE_CHUNK])
        conn.exec_driver_sql(f"UPDATE enterprises SET zone_id = NULL WHERE zone_id IN ({part})")
        conn.exec_driver_sql(f"UPDATE zones SET parent_id = NULL WHERE parent_id IN ({part})")
        conn.exec_driver_sql(f"DELETE FROM zone_decisions WHERE zone_id IN ({part})")
        conn.exec_driver_sql(f"DELETE FROM zones WHERE id IN ({part})")


def relevel(conn, kinds: Iterable[str]) -> dict[str, int]:
    """Level again, under their stored settings, the zoned units holding one of ``kinds`` (and the town unit
    when enterprises moved between towns). Returns {unit: zones levelled}."""
    kinds = set(kinds)
    epsg = zstore.read_metric_epsg(conn)
    out = {}
    for unit, cfg in zoned_units(conn).items():
        if kinds & set(UNIT_KINDS[unit]):
            out[unit] = len(level_unit(conn, unit, cfg, metric_epsg=epsg, required=False).zones)
    return out


def _new_ids(conn, n: int) -> list[int]:
    """``n`` new zone ids inside the open transaction (after the largest ever given; the sequence on PostgreSQL)."""
    if n == 0:
        return []
    if conn.dialect.name == "sqlite":
        seq = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'zones'").scalar() or 0
        top = conn.exec_driver_sql("SELECT max(id) FROM zones").scalar() or 0
        base = max(int(seq), int(top))
        return list(range(base + 1, base + n + 1))
    seq_name = conn.execute(text("SELECT pg_get_serial_sequence('zones', 'id')")).scalar()
    rows = conn.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq_name, "n": n})
    return [int(r[0]) for r in rows]


def put_zones(session, kind: str, geoms, names: Sequence[str], *, codes: Sequence[str | None] | None = None,
              replace: bool = False, approximate: dict | None = None, metric_epsg: int | None = None,
              note: str | None = None, action: str = "generate") -> list[int]:
    """Write ``geoms`` (EPSG:4490 polygons) as zones of ``kind`` through ``session``: existing zones of that
    kind are an error unless ``replace``; ``approximate`` (source, method …) marks them 示意 in
    ``project_meta`` ``approximate.<kind>`` (else the mark is cleared). Enterprises are re-assigned (towns)
    and zoned units levelled again, all in the session's transaction. Returns the new zone ids."""
    conn = session.connection()
    existing = [int(r[0]) for r in conn.exec_driver_sql(f"SELECT id FROM zones WHERE kind = '{kind}' ORDER BY id")]
    if existing and not replace:
        raise RiskmapError(f"项目中已有 {len(existing)} 个{_kind_zh(kind)}分区；要替换请加 --replace",
                           f"the project already has {len(existing)} zones of kind {kind!r}; use --replace to "
                           "replace them", where=f"zones.kind={kind}")
    geoms = np.asarray([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms],
                       dtype=object)
    epsg = metric_epsg or zstore.read_metric_epsg(conn)
    areas = (shapely.area(np.asarray(to_metric(geoms, epsg), dtype=object)) / 1e6).round(4).tolist() if epsg \
        else [None] * len(geoms)
    parents = parents_for(conn, geoms, kind, exclude=existing)
    codes = list(codes) if codes is not None else [None] * len(geoms)
    session.flush()
    ids = _new_ids(conn, len(geoms))
    conn.execute(Zone.__table__.insert(), [  # Core executemany: 15k cells in a second or two, not the ORM's ten
        {"id": i, "name": str(nm), "kind": kind, "code": c, "parent_id": p, "area_km2": a, "note": note, "geom": g}
        for i, nm, c, p, a, g in zip(ids, names, codes, parents, areas, geoms.tolist())])
    finish_replacement(session, kind, existing, approximate=approximate)
    session.add(EditRecord(user=current_user(), table_name="zones", row_id=None, action=action, changes={
        "kind": kind, "zones": len(ids), "replaced": len(existing), "approximate": bool(approximate),
        **({"method": approximate.get("method")} if approximate else {})}))
    return ids


def finish_replacement(session, kind: str, old_ids: list[int], *, approximate: dict | None = None) -> None:
    """After new zones of ``kind`` are in: remove ``old_ids``, re-assign enterprises (towns), set or clear the
    示意 mark, level the zoned units again."""
    conn = session.connection()
    _remove_zones(conn, old_ids)
    if kind == "town":
        assign_enterprises(conn)
    _link_orphans(conn, kind)
    if approximate is not None:
        value = {"date": dt.date.today().isoformat(), **approximate}
        write_meta(conn, APPROXIMATE_PREFIX + kind, json.dumps(value, ensure_ascii=False))
    else:
        write_meta(conn, APPROXIMATE_PREFIX + kind, None)
    relevel(conn, {kind})


def zones_imported(session, ids: Sequence[int]) -> dict[str, int]:
    """The importer's hook after zones were inserted (same transaction): imported zones of a kind marked 示意
    replace the approximate ones (removed, enterprises re-assigned, children re-linked, mark cleared, zoned
    units levelled again); imported towns otherwise get the enterprises that had no town zone yet.
    Returns {kind: approximate zones replaced}."""
    ids = [int(i) for i in ids]
    if not ids:
        return {}
    session.flush()
    conn = session.connection()
    zt = Zone.__table__
    kinds = {str(k) for (k,) in conn.execute(select(zt.c.kind).where(zt.c.id.between(min(ids), max(ids))).distinct())}
    new = set(ids)
    out = {}
    for kind in sorted(kinds):
        if read_meta(conn, APPROXIMATE_PREFIX + kind):
            old = [int(r[0]) for r in conn.exec_driver_sql(f"SELECT id FROM zones WHERE kind = '{kind}' ORDER BY id")
                   if int(r[0]) not in new]
            finish_replacement(session, kind, old)
            out[kind] = len(old)
        elif kind == "town":
            assign_enterprises(conn, only_unassigned=True)
            _link_orphans(conn, kind)
            relevel(conn, {"town"})
    return out


def unit_name(kind: str) -> str:
    """A zone kind in Chinese (镇街, 网格 …) for messages."""
    for unit, kinds in UNIT_KINDS.items():
        if kind in kinds:
            return UNIT_ZH[unit]
    return kind
