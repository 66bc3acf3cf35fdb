"""Move a whole project between a GeoPackage file and a PostgreSQL + PostGIS database, losing nothing.

Every table goes across row by row with its ids, including the edit history, the assessments and
``project_meta``; id counters go along too, so ids are never reused. ``push`` is one database
transaction (PostgreSQL DDL is transactional): a failure leaves the database as it was. ``pull`` writes
the GeoPackage under a temporary name and renames it at the end (``Project.create``'s build hook).

>>> # push("huining.gpkg", "postgresql+psycopg://ann@db/county")
>>> # pull("postgresql+psycopg://ann@db/county", "copy.gpkg")
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import Column, LargeBinary, MetaData, Table, Text, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from riskmap.errors import RiskmapError
from riskmap.model import COUNTY_TABLES, SRID, Base, JSONText
from riskmap.model.geometry import Geometry, from_gpkg_blobs, to_gpkg_blobs
from riskmap.progress import SYNC_CANCELLED, Cancel, Progress, check_cancel
from riskmap.store.migrations import SCHEMA_VERSION as SCHEMA_VERSION_



@dataclass(frozen=True)
class SyncResult:
    rows: dict[str, int]  # rows copied per table
    source: str
    target: str


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)  # parents before children


def _transport(table: Table) -> Table:
    """The table with JSON as plain text and geometry as raw bytes: values cross unchanged."""
    cols = []
    for c in table.columns:
        if isinstance(c.type, Geometry):
            type_ = LargeBinary()
        elif isinstance(c.type, JSONText):
            type_ = Text()
        else:
            type_ = c.type
        cols.append(Column(c.name, type_, primary_key=c.primary_key))
    return Table(table.name, MetaData(), *cols)


def _order(table: Table):
    return [c for c in table.primary_key.columns]


# ---- GeoPackage → PostgreSQL ----------------------------------------------------------------------
def _gpkg_rows(conn: Connection, table: Table) -> tuple[list[str], list[tuple]]:
    t = _transport(table)
    rows = conn.execute(select(t).order_by(*_order(t))).all()
    names = [c.name for c in t.columns]
    if "geom" in names and rows:
        gi = names.index("geom")
        geoms = from_gpkg_blobs([r[gi] for r in rows])
        geoms = shapely.set_srid(geoms, SRID)
        hexes = shapely.to_wkb(geoms, hex=True, include_srid=True, flavor="extended")
        rows = [r[:gi] + (h,) + r[gi + 1:] for r, h in zip(rows, hexes)]
    return names, [tuple(r) for r in rows]


def _sqlite_sequences(conn: Connection) -> dict[str, int]:
    try:
        return {n: int(s) for n, s in conn.exec_driver_sql("SELECT name, seq FROM sqlite_sequence")}
    except DBAPIError:
        return {}


def push(source, url: str, *, replace: bool = False, progress: Progress | None = None,
         cancel: Cancel | None = None) -> SyncResult:
    """Copy the project file ``source`` into the database ``url`` (creating the schema when needed).

    Into a database without riskmap data the file goes across as it is (ids kept). Into a database holding
    other counties (schema 5) a county file is added beside them: each row keyed by the file's county, ids
    offset by each table's highest id (foreign keys, the ids inside assessments and the edit history
    alike); the database's ``project_meta`` becomes the city's (:func:`city_meta`). A county the database
    holds already is refused unless ``replace`` (then only its rows are replaced); so is a file whose place
    is not a county. A database holding one project without counties (schema 4 data) is replaced only with
    ``replace``. One transaction: a failure leaves the database as it was.
    """
    from riskmap.store import Project
    from riskmap.store.counties import list_counties
    from riskmap.store.postgis import create_schema, has_schema, make_engine, mask_url, parse_url
    from riskmap.store.project import pg_copy_rows

    progress = progress or (lambda f, m: None)
    u = parse_url(url)
    where = mask_url(u)
    src = Project.open(source, readonly=True)
    if src.dialect != "sqlite":
        src.close()
        raise RiskmapError(f"push 的来源应为 GeoPackage 项目文件: {source}", f"push reads a GeoPackage project file: {source}")
    engine = make_engine(u)
    counts: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            older = has_schema(conn) and int(conn.execute(text(
                "SELECT value FROM project_meta WHERE key = 'schema_version'")).scalar() or 0) < SCHEMA_VERSION_
        if older:  # the owner's push brings the database to this schema first (its own transaction)
            Project.open(url).close()
        county = _file_county(src)
        tables = _tables()
        with engine.begin() as dst:
            if not has_schema(dst):
                progress(0.0, "创建数据库结构")
                create_schema(dst, where)
                mode = "plain"
            else:
                held = list_counties(dst)
                data = any(dst.execute(text(f"SELECT EXISTS (SELECT 1 FROM {t})")).scalar()
                           for t in COUNTY_TABLES)
                if not data:
                    mode = "plain"  # a freshly initialised project (db init: project_meta only)
                elif not held:  # one project without counties (schema 4 data, or a city/none place)
                    if not replace:
                        raise RiskmapError(f"数据库中已有项目数据（用 --replace 替换）: {where}",
                                           f"the database holds project data already (use --replace to replace it): {where}")
                    mode = "plain"
                else:
                    if county is None:
                        raise _not_a_county(src, source)
                    names = dict(held)
                    if county["adcode"] in names:
                        if not replace:
                            raise RiskmapError(
                                f"数据库中已有区县 {names[county['adcode']]}（{county['adcode']}）（用 --replace 替换它）: {where}",
                                f"the database holds county {county['adcode']} ({names[county['adcode']]}) already "
                                f"(use --replace to replace it): {where}")
                        progress(0.02, f"删除 {names[county['adcode']]}")
                        delete_county(dst, county["adcode"])
                    others = [a for a, _ in held if a != county["adcode"]]
                    mode = "add" if others else "plain"
            if mode == "plain":
                dst.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in tables)}")  # counters: set below
            # the recorded history keeps its names and times (the trigger stamps new rows otherwise)
            dst.exec_driver_sql("SET LOCAL riskmap.copy_history = 'on'")
            offsets = _offsets(dst, tables) if mode == "add" else {}
            code = county["adcode"] if county else None
            with src.engine.connect() as sconn:
                seqs = _sqlite_sequences(sconn)
                for i, table in enumerate(tables):
                    check_cancel(cancel, SYNC_CANCELLED)
                    progress(0.05 + 0.9 * i / len(tables), table.name)
                    if mode == "add" and table.name in ("project_meta", "counties"):
                        continue  # the city's meta is made below; the county's row too
                    names, rows = _gpkg_rows(sconn, table)
                    if table.name == "counties" and code:
                        rows = [r for r in rows if r[names.index("adcode")] == code]
                    counts[table.name] = len(rows)
                    if rows and "county" in names and code:
                        ci = names.index("county")
                        rows = [r[:ci] + (code,) + r[ci + 1:] for r in rows]
                    if rows and offsets:
                        rows = _remap(table, names, rows, offsets)
                    if rows:  # COPY; rows checked by the row-level security policies for an admin
                        pg_copy_rows(dst, table.name, names, rows)
                    if "id" in table.c:
                        _set_pg_sequence(dst, table.name, 0 if offsets else seqs.get(table.name, 0))
            check_cancel(cancel, SYNC_CANCELLED)
            dst.execute(text("UPDATE project_meta SET value = :v WHERE key = 'schema_version'"),
                        {"v": str(SCHEMA_VERSION_)})  # an older file read as this schema is stored as this schema
            if county is not None:
                _stamp_county(dst, county, os.path.basename(os.fspath(source)))
            if mode == "add" or (county is not None and len(list_counties(dst)) > 1):
                city_meta(dst, demo=src.is_demo)
            owner = dst.execute(text("SELECT pg_has_role(tableowner, 'USAGE') FROM pg_tables "
                                     "WHERE tablename = 'project_meta'")).scalar()
            if owner:  # planner statistics for the new rows (only the owner may ANALYZE)
                for table in tables:
                    dst.exec_driver_sql(f"ANALYZE {table.name}")
        progress(1.0, "完成")
    except Exception as exc:
        refusal = _privilege_refusal(exc, u.username, where)
        if refusal is None:
            raise
        raise refusal from None
    finally:
        src.close()
        engine.dispose()
    return SyncResult(counts, str(source), where)


# ---- counties in one database -------------------------------------------------------------------
def _file_county(src) -> dict | None:
    """The ``counties`` row of a county file (its own row, else one made from its place), or None."""
    from riskmap.store.counties import file_county

    with src.engine.connect() as conn:
        from riskmap.store.counties import list_counties

        held = list_counties(conn)
    if len(held) == 1:
        row = file_county(held[0][0], src.metric_epsg)
        if row is not None:
            return row
    return file_county(src.place, src.metric_epsg)


def _not_a_county(src, source) -> RiskmapError:
    from riskmap.gazetteer import division

    place = src.place
    try:
        d = division(place) if place else None
    except Exception:
        d = None
    what_zh = f"{d.name}（{d.level_zh}，{place}）" if d else (f"“{place}”" if place else "未设地点")
    what_en = f"{place} ({d.level})" if d else (place or "no place")
    return RiskmapError(
        f"只能把区县项目加入多区县数据库：{source} 的地点是 {what_zh}，不是区县",
        f"only a county project can join a database of counties: the place of {source} is {what_en}, not a county",
        where=str(source))


def delete_county(conn: Connection, adcode: str) -> dict[str, int]:
    """Delete every row of county ``adcode`` (children first) and its ``counties`` row; other counties'
    rows are untouched. Returns rows deleted per table."""
    out = {}
    for table in reversed(_tables()):
        if table.name in COUNTY_TABLES:
            out[table.name] = conn.execute(text(f"DELETE FROM {table.name} WHERE county = :c"), {"c": adcode}).rowcount
    conn.execute(text("DELETE FROM counties WHERE adcode = :c"), {"c": adcode})
    return out


def _offsets(conn: Connection, tables: list[Table]) -> dict[str, int]:
    """Per table with ids: the number added to the pushed file's ids (its highest id so far, or the sequence's
    when higher: ids are never reused)."""
    out = {}
    for t in tables:
        if "id" not in t.c:
            continue
        top = int(conn.execute(text(f"SELECT COALESCE(max(id), 0) FROM {t.name}")).scalar())
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": t.name}).scalar()
        if seq:
            last, called = conn.execute(text(f"SELECT last_value, is_called FROM {seq}")).one()
            top = max(top, int(last) if called else int(last) - 1)
        out[t.name] = top
    return out


# ids stored outside declared foreign keys: column -> the table its ids point into
_ID_COLUMNS = {("enterprises", "level_assessment_id"): "assessments",
               ("risk_points", "level_assessment_id"): "assessments"}


def _fk_targets(table: Table) -> dict[str, str]:
    out = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}
    out.update({c: t for (tb, c), t in _ID_COLUMNS.items() if tb == table.name})
    return out


def _remap(table: Table, names: list[str], rows: list[tuple], offsets: dict[str, int]) -> list[tuple]:
    """Rows of ``table`` with their ids, the ids they point at (foreign keys, zone decisions' objects, the
    history's rows and changed foreign keys, a derived assessment's risk points) moved by ``offsets``."""
    import json

    shift: list[tuple[int, str]] = []  # (column index, target table)
    if "id" in names:
        shift.append((names.index("id"), table.name))
    for col, target in _fk_targets(table).items():
        if col in names:
            shift.append((names.index(col), target))
    fks = {t.name: _fk_targets(t) for t in _tables()}
    obj = names.index("object_id") if table.name == "zone_decisions" else None
    ot = names.index("object_table") if obj is not None else None
    hist = table.name == "edit_history"
    hi = (names.index("row_id"), names.index("table_name"), names.index("changes")) if hist else None
    inp = names.index("inputs") if table.name == "assessments" else None
    out = []
    for r in rows:
        r = list(r)
        for i, target in shift:
            if r[i] is not None:
                r[i] = r[i] + offsets.get(target, 0)
        if obj is not None and r[obj] is not None:
            r[obj] = r[obj] + offsets.get(r[ot], 0)
        if hist:
            ri, ti, chi = hi
            if r[ri] is not None:
                r[ri] = r[ri] + offsets.get(r[ti], 0)
            ref = fks.get(r[ti], {})
            if r[chi] and ref and any(k in r[chi] for k in ref):
                changes = json.loads(r[chi])
                if isinstance(changes, dict):
                    for key, target in ref.items():
                        v = changes.get(key)
                        if isinstance(v, list):
                            changes[key] = [x + offsets.get(target, 0) if isinstance(x, int) else x for x in v]
                    r[chi] = json.dumps(changes, ensure_ascii=False, sort_keys=True)
        if inp is not None and r[inp] and '"risk_points"' in r[inp]:
            inputs = json.loads(r[inp])
            points = inputs.get("risk_points") if isinstance(inputs, dict) else None
            if isinstance(points, dict):
                off = offsets.get("risk_points", 0)
                inputs["risk_points"] = {str(int(k) + off) if str(k).isdigit() else k: v for k, v in points.items()}
                r[inp] = json.dumps(inputs, ensure_ascii=False, sort_keys=True)
        out.append(tuple(r))
    return out


def _stamp_county(conn: Connection, county: dict, source: str) -> None:
    """The pushed county's row in ``counties``: when, by whom, from which file (its name only)."""
    from riskmap.store.counties import utc_now

    conn.execute(text("DELETE FROM counties WHERE adcode = :a"), {"a": county["adcode"]})
    conn.execute(text("INSERT INTO counties (adcode, name, metric_epsg, pushed_at, pushed_by, source) "
                      "VALUES (:a, :n, :e, :t, session_user, :s)"),
                 {"a": county["adcode"], "n": county["name"], "e": county["metric_epsg"], "t": utc_now(),
                  "s": source})


def city_meta(conn: Connection, *, demo: bool = False) -> dict[str, str]:
    """Make the database's ``project_meta`` the city's: place = the common parent of its counties (the
    province when only that is common; none otherwise), name e.g. 六安市（8 个县区）, metric_epsg = the
    Gauss–Krüger zone of the counties' union, demo when any county is demo data. Returns what it set."""
    from riskmap.crs import gk_zone_epsg
    from riskmap.gazetteer import division
    from riskmap.store.counties import list_counties

    held = list_counties(conn)
    divs = [division(a) for a, _ in held]
    parents = {d.parent for d in divs}
    provinces = {d.adcode[:2] + "0000" for d in divs}
    place, title = "", ""
    if len(parents) == 1 and None not in parents:
        parent = division(next(iter(parents)))
        place, title = parent.adcode, parent.name
    elif len(provinces) == 1:
        try:
            prov = division(next(iter(provinces)))
            place, title = prov.adcode, prov.name
        except Exception:
            pass
    minx = min(d.bbox[0] for d in divs)
    maxx = max(d.bbox[2] for d in divs)
    values = {"place": place, "name": f"{title}（{len(held)} 个县区）" if title else f"{len(held)} 个县区",
              "metric_epsg": str(gk_zone_epsg((minx + maxx) / 2))}
    was_demo = conn.execute(text("SELECT value FROM project_meta WHERE key = 'demo'")).scalar() == "1"
    values["demo"] = "1" if (demo or was_demo) else "0"
    for k, v in values.items():
        conn.execute(text("DELETE FROM project_meta WHERE key = :k"), {"k": k})
        conn.execute(text("INSERT INTO project_meta (key, value) VALUES (:k, :v)"), {"k": k, "v": v})
    return values


def _privilege_refusal(exc: BaseException, user: str | None, where: str) -> RiskmapError | None:
    """A RiskmapError naming the right ``user`` lacks, when the server refused for want of a privilege."""
    import re

    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) != "42501":
        return None
    m = re.search(r"permission denied for (?:table|relation|sequence|schema|database) (\w+)", str(orig))
    what = m.group(1) if m else "?"
    return RiskmapError(f"用户 {user} 没有写入 {what} 的权限：上传项目需要管理员角色（admin）或数据库所有者: {where}",
                        f"user {user} lacks the right to write {what}: pushing a project takes the admin role or "
                        f"the database owner: {where}")


def _set_pg_sequence(conn: Connection, table: str, high_water: int) -> None:
    seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
    if not seq:
        return
    top = max(int(conn.execute(text(f"SELECT COALESCE(max(id), 0) FROM {table}")).scalar()), int(high_water))
    if top > 0:
        conn.execute(text("SELECT setval(:s, :v, true)"), {"s": seq, "v": top})
    else:
        conn.execute(text("SELECT setval(:s, 1, false)"), {"s": seq})


# ---- PostgreSQL → GeoPackage ----------------------------------------------------------------------
def _pg_rows(conn: Connection, table: Table, where: tuple[str, str] | None = None) -> tuple[list[str], list[tuple]]:
    t = _transport(table)
    names = [c.name for c in t.columns]
    cols = [text("ST_AsBinary(geom) AS geom") if c.name == "geom" else c for c in t.columns]
    q = select(*cols).select_from(t)
    if where is not None:
        q = q.where(t.c[where[0]] == where[1])
    rows = conn.execute(q.order_by(*_order(t))).all()
    if "geom" in names and rows:
        gi = names.index("geom")
        geoms = shapely.from_wkb(np.array([None if r[gi] is None else bytes(r[gi]) for r in rows], dtype=object))
        blobs = to_gpkg_blobs(geoms)
        rows = [r[:gi] + (b,) + r[gi + 1:] for r, b in zip(rows, blobs)]
    return names, [tuple(r) for r in rows]


def _insert_sqlite(conn: Connection, table: Table, names: list[str], rows: list[tuple]) -> None:
    """Plain executemany with each column's own SQLite bind processing (3× faster than Core's per-row work)."""
    dialect = conn.dialect
    procs = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    if any(p is not None for p in procs):
        rows = [tuple(v if p is None or v is None else p(v) for p, v in zip(procs, r)) for r in rows]
    cols = ", ".join(f'"{n}"' for n in names)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({cols}) VALUES ({', '.join('?' * len(names))})", rows)


def _pg_sequences(conn: Connection) -> dict[str, int]:
    out = {}
    for table in _tables():
        if "id" not in table.c:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if seq:
            last, called = conn.execute(text(f"SELECT last_value, is_called FROM {seq}")).one()
            out[table.name] = int(last) if called else int(last) - 1
    return out


def pull(url: str, path, *, overwrite: bool = False, county: str | None = None, progress: Progress | None = None,
         cancel: Cancel | None = None) -> SyncResult:
    """Copy the project in database ``url`` into a new GeoPackage project file ``path``: all of it, or with
    ``county`` (an adcode the database holds) that county's rows only, as a county project file (its place,
    name and metric CRS from the database's ``counties`` row; ids stay as they are)."""
    from riskmap.store import Project
    from riskmap.store.counties import list_counties

    progress = progress or (lambda f, m: None)
    src = Project.open(url, readonly=True)
    counts: dict[str, int] = {}
    try:
        meta = src.meta()
        name, place, epsg = meta.get("name") or "", meta.get("place") or None, None
        if county is not None:
            with src.engine.connect() as conn:
                held = dict(list_counties(conn))
                if county not in held:
                    raise RiskmapError(f"数据库中没有区县 {county}（已有: {', '.join(sorted(held)) or '无'}）",
                                       f"the database holds no county {county} (it holds: "
                                       f"{', '.join(sorted(held)) or 'none'})", where="--county")
                epsg = conn.execute(text("SELECT metric_epsg FROM counties WHERE adcode = :a"), {"a": county}).scalar()
            name, place = held[county], county
        own_keys = ("name", "place", "demo", "metric_epsg", "schema_version", "created_by")

        def fill(project) -> None:
            tables = _tables()
            with src.engine.connect() as sconn, project.engine.begin() as dconn:
                dconn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                kept = {k: v for k, v in dconn.exec_driver_sql("SELECT key, value FROM project_meta")}
                dconn.execute(Base.metadata.tables["project_meta"].delete())
                dconn.execute(Base.metadata.tables["counties"].delete())
                for i, table in enumerate(tables):
                    check_cancel(cancel, SYNC_CANCELLED)
                    progress(0.02 + 0.9 * i / len(tables), table.name)
                    if county is None:
                        where = None
                    elif table.name in COUNTY_TABLES:
                        where = ("county", county)
                    elif table.name == "counties":
                        where = ("adcode", county)
                    else:
                        where = None
                    names, rows = _pg_rows(sconn, table, where)
                    if county is not None and table.name == "project_meta":  # the county file's own facts
                        ki = names.index("key")
                        rows = [r for r in rows if r[ki] not in own_keys] + [(k, kept[k]) for k in own_keys if k in kept]
                    counts[table.name] = len(rows)
                    if rows:
                        _insert_sqlite(dconn, _transport(table), names, rows)
                seqs = _pg_sequences(sconn)
                raw = dconn.connection.driver_connection
                for name_, seq in seqs.items():
                    raw.execute("DELETE FROM sqlite_sequence WHERE name = ?", (name_,))
                    if seq > 0:
                        raw.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name_, seq))
            progress(0.95, "索引")

        project = Project.create(os.fspath(path), name=name, place=place, demo=meta.get("demo") == "1",
                                 metric_epsg=epsg, build=fill, overwrite=overwrite)
        project.close()
        progress(1.0, "完成")
    finally:
        src.close()
    return SyncResult(counts, src.target, os.fspath(path))
