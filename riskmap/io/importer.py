"""Import a file into a project: read → map fields → convert coordinates → validate → commit.

>>> # plan = plan_import(project, "企业清单.xlsx", "enterprises", crs="gcj02")
>>> # print("\\n".join(plan.report.lines())); commit_import(project, plan, skip_bad_rows=True)

The commit is one transaction: every good row, or nothing; new enterprises and the levels of the zones
they fall in (every zoned unit, :func:`riskmap.grading.zoning.enterprises_changed`) commit together. Rows go in with Core ``insert()`` in
batches (executemany), not as ORM objects one by one; ids are reserved first (sqlite_sequence, or the
PostgreSQL sequence) so that enterprises, their assessments and events go in without a second pass. The edit history gets ONE record per import
(action ``import``: file, sheet, row count and the new ids); imported enterprise levels become
immutable Assessment records (method ``import``, inputs = the source row) so the history stays evidence.

An enterprise list naming enterprises the project has (统一社会信用代码, else name + town:
:mod:`riskmap.io.matching`) updates them in the same transaction (:mod:`riskmap.io.update`): changed
fields only, version + 1, a new level through an import Assessment, one history record each; with
``delete_missing`` the enterprises the list no longer names are deleted (and listed) too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlalchemy import Column, MetaData, Table, Text, insert, text
from sqlalchemy.types import NullType
from sqlalchemy.exc import DatabaseError, IntegrityError

from riskmap.errors import RiskmapError
from riskmap.grading.zoning import enterprises_changed
from riskmap.grading.zone_units import zones_imported
from riskmap.io.cad import name_polygons
from riskmap.io.fieldmap import Mapping, TargetSpec, auto_mapping, header_score, resolve_layer
from riskmap.io.issues import Report
from riskmap.io.readers import Source, read_source
from riskmap.io.validate import Prepared, ProjectContext, prepare
from riskmap.io.values import plain, text_of
from riskmap.levels import level_info
from riskmap.model import EditRecord, Geometry, JSONText, class_for_table, utcnow
from riskmap.model.geometry import to_gpkg_blobs
from riskmap.progress import IMPORT_CANCELLED, Cancel, Progress, check_cancel, scaled

BATCH = 5000
CACHE_KIB = 256 * 1024  # SQLite page cache during a commit


@dataclass
class ImportResult:
    plan: Prepared
    ids: list[int] = field(default_factory=list)  # the records added
    committed: bool = False
    updated: dict[int, list[str]] = field(default_factory=dict)  # enterprise id → fields changed
    unchanged: int = 0  # rows naming an enterprise the list does not change
    missing: list[tuple[int, str]] = field(default_factory=list)  # (id, name) of enterprises not in the list
    deleted: list[tuple[int, str]] = field(default_factory=list)  # those of them deleted (--delete-missing)

    @property
    def report(self) -> Report:
        return self.plan.report


def read_for(path, spec: TargetSpec, *, sheet: str | None = None, header_row: int | None = None) -> Source:
    """Read ``path`` for the target ``spec`` (the header row is found by ``spec``'s synonyms)."""
    path = Path(path)
    source = read_source(path, sheet=sheet, header_row=header_row,
                         scorer=lambda cells: header_score(cells, spec), report=Report(path.name))
    if spec.table == "zones" and source.format == "DXF":  # CAD drawings: each zone named by the text inside
        source = name_polygons(source)
    source.read_issues = list(source.report.issues)
    return source


def plan_from_source(project, source: Source, spec: TargetSpec, mapping: Mapping, *, crs=None,
                     repair: bool = True, progress: Progress | None = None, cancel: Cancel | None = None) -> Prepared:
    """Validate an already read ``source`` under ``mapping`` (a fresh report each time: the wizard may
    go back, change the mapping and validate again)."""
    report = Report(source.path.name, list(getattr(source, "read_issues", [])))
    src = replace(source, report=report)
    m = replace(mapping, fields=dict(mapping.fields), constants=dict(mapping.constants))
    if source.layers and len(source.layers) > 1 and source.layer:
        m.sheet = source.layer
    if source.is_table:
        m.header_row = source.header_row
    if crs is not None:
        m.crs = str(crs)
    tag = {"given": "（指定）", "detected": "（识别）"} if m.origin else {}
    pairs = [f"{f}←{c}{tag.get(m.origin.get(f), '')}" for f, c in m.fields.items()]
    if m.x:
        pairs.append(f"x←{m.x}, y←{m.y}{tag.get(m.origin.get('@x'), '')}")
    elif m.xy:
        pairs.append(f"x,y←{m.xy}{tag.get(m.origin.get('@xy'), '')}")
    pairs += [f"{k}={v}{tag.get(m.origin.get(k), '')}" for k, v in m.constants.items()]
    head = f"表头在第{source.header_row}行；" if source.is_table and source.header_row else ""
    report.note(f"{head}字段对应：{'；'.join(pairs) or '无'}", f"field mapping: {'; '.join(pairs) or 'none'}")
    ctx = ProjectContext.of(project, spec, m.constants)
    return prepare(src, spec, m, ctx, crs=crs, repair=repair, progress=progress, cancel=cancel)


def plan_import(project, path, layer: str, *, crs=None, mapping: Mapping | str | Path | dict | None = None,
                sheet: str | None = None, kind: str | None = None, header_row: int | None = None,
                repair: bool = True, progress: Progress | None = None, cancel: Cancel | None = None) -> Prepared:
    """Read, map and validate ``path`` for ``layer`` (a catalogue layer id or a table); write nothing."""
    path = Path(path)
    spec, constants = resolve_layer(layer, kind)
    given = None
    if isinstance(mapping, Mapping):
        given = mapping
    elif isinstance(mapping, dict):
        given = Mapping.from_dict(mapping)
    elif mapping is not None:
        given = Mapping.load(mapping)
    if given is not None:
        if given.table and given.table != spec.table:
            raise RiskmapError(f"映射文件是为 {given.table} 写的，不能用于 {spec.table}",
                               f"the mapping is for {given.table}, not {spec.table}")
        given.table = spec.table
        given.constants = {**given.constants, **constants}
        sheet = sheet if sheet is not None else given.sheet
        header_row = header_row if header_row is not None else given.header_row
        crs = crs if crs is not None else given.crs
    prog = scaled(progress, 0.0, 1.0)
    prog(0.0, "读取文件")
    source = read_for(path, spec, sheet=sheet, header_row=header_row)
    check_cancel(cancel, IMPORT_CANCELLED)
    prog(0.4, "字段对应")
    m = auto_mapping(source.columns, spec, constants)
    if given is not None:  # a given mapping, maybe partial, over the detected one
        m = given.merged_with(auto_mapping(source.columns, spec, {**constants, **given.constants}))
    return plan_from_source(project, source, spec, m, crs=crs, repair=repair,
                            progress=scaled(progress, 0.4, 1.0), cancel=cancel)


# ------------------------------------------------------------------------------------ commit


@lru_cache(maxsize=32)
def _bulk_table(name: str, dialect: str) -> Table:
    """The model table as Core sees it for bulk inserts: JSON columns take ready JSON text, and on
    SQLite the geometry column takes ready GeoPackage blobs (encoded in bulk, not row by row)."""
    src = class_for_table(name).__table__
    cols = []
    for c in src.columns:
        t = c.type
        if isinstance(t, JSONText):
            t = Text()
        elif isinstance(t, Geometry) and dialect == "sqlite":
            t = NullType()  # ready blobs go to sqlite3 as they are
        cols.append(Column(c.name, t, primary_key=c.primary_key, autoincrement=False))
    return Table(name, MetaData(), *cols)


def _reserve_ids(conn, table: str, n: int) -> list[int]:
    """``n`` new ids for ``table``, taken inside the open transaction.

    SQLite: after the largest id ever given (sqlite_sequence) — no other writer can commit while this
    transaction reads. PostgreSQL: ``nextval`` of the table's sequence, safe with concurrent users.
    """
    if n == 0:
        return []
    if conn.dialect.name == "sqlite":
        seq = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar() or 0
        top = conn.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0
        base = max(int(seq), int(top))
        return list(range(base + 1, base + n + 1))
    seq_name = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
    rows = conn.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq_name, "n": n})
    return [int(r[0]) for r in rows]


def _column_defaults(table) -> dict:
    out = {}
    for c in table.columns:
        d = c.default
        if c.name not in ("id", "geom") and d is not None and getattr(d, "is_scalar", False):
            out[c.name] = d.arg
    return out


def _columns(plan: Prepared, keep: np.ndarray, ids: list[int], geoms: list) -> dict[str, list]:
    """The kept records column by column (name → values), with ids and defaults filled."""
    table = class_for_table(plan.spec.table).__table__
    n = len(ids)
    cols: dict[str, list] = {"id": list(ids)}
    for c in table.columns:
        if c.name in plan.values.columns and c.name != "id":
            cols[c.name] = plan.values[c.name].to_numpy(dtype=object)[keep].tolist()
    for name, value in _column_defaults(table).items():
        cols[name] = [value if v is None else v for v in cols.get(name, [None] * n)]
    if "version" in table.c:
        now = utcnow()
        cols.update(version=[1] * n, created_at=[now] * n, updated_at=[now] * n)
    if "qr_id" in table.c:  # 128 random bits each, as uuid4().hex gives, in one call
        raw = os.urandom(16 * n).hex()
        cols["qr_id"] = [raw[i:i + 32] for i in range(0, 32 * n, 32)]
    cols["geom"] = list(geoms)
    return cols


def _processed(proc, values: list) -> list:
    """``proc`` over a column; columns with few distinct values are converted once per value."""
    if proc is None:
        return values
    try:
        distinct = set(values)
    except TypeError:  # unhashable values
        return [proc(v) for v in values]
    if len(distinct) * 4 < len(values):
        table = {v: proc(v) for v in distinct}
        return [table[v] for v in values]
    return [proc(v) for v in values]


def bulk_insert(conn, table: str, cols: dict[str, list], *, batch: int = 0, progress=None, cancel=None) -> None:
    """Core ``insert()`` compiled once and run through the driver's executemany; values are converted
    column by column with the column types' own bind processors (not row by row through the ORM).

    On a GeoPackage the R-tree is filled in one pass after the rows (from bounds computed in bulk, in
    Hilbert order) instead of by the per-row trigger; the trigger is back before the transaction ends.
    """
    from riskmap.store.counties import with_county

    dialect = conn.dialect
    t = _bulk_table(table, dialect.name)
    if "county" in t.c and "county" not in cols and cols:  # schema 5: the file's county (PostgreSQL: a trigger)
        own = with_county(conn, table, {}).get("county")
        if own is not None:
            cols = {**cols, "county": [own] * len(next(iter(cols.values())))}
    names = list(cols)
    compiled = insert(t).compile(dialect=dialect, column_keys=names)
    data = [_processed(t.c[name].type.dialect_impl(dialect).bind_processor(dialect), cols[name]) for name in names]
    order = [names.index(k) for k in compiled.positiontup] if compiled.positional else None
    n = len(data[0]) if data else 0
    step = batch or n or 1
    sql = str(compiled)
    rtree = _suspend_rtree_trigger(conn, table) if dialect.name == "sqlite" and "geom" in cols else None
    for start in range(0, n, step):
        check_cancel(cancel, IMPORT_CANCELLED)
        part = [d[start:start + step] for d in data]
        if order is not None:
            params = list(zip(*(part[i] for i in order)))
        else:
            params = [dict(zip(names, row)) for row in zip(*part)]
        conn.exec_driver_sql(sql, params)
        if progress:
            progress(min(start + step, n) / n, f"写入 {min(start + step, n)}/{n}")
    if rtree is not None:
        _fill_rtree(conn, table, cols["id"], rtree)


def _suspend_rtree_trigger(conn, table: str) -> str | None:
    """Drop the R-tree insert trigger of ``table`` for a bulk insert; returns its SQL to restore it."""
    name = f"rtree_{table}_geom_insert"
    row = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).fetchone()
    if row is None:
        return None
    conn.exec_driver_sql(f"DROP TRIGGER {name}")
    return row[0]


def _fill_rtree(conn, table: str, ids: list[int], trigger_sql: str) -> None:
    """Index the new rows in the GeoPackage R-tree, then put the insert trigger back."""
    import geopandas as gpd
    import shapely

    from riskmap.model.geometry import from_gpkg_blobs

    lo, hi = min(ids), max(ids)
    rows = conn.exec_driver_sql(f"SELECT id, geom FROM {table} WHERE id BETWEEN ? AND ? AND geom IS NOT NULL",
                                (lo, hi)).fetchall()
    if rows:
        rid = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        geoms = from_gpkg_blobs([r[1] for r in rows])
        live = ~shapely.is_empty(geoms)
        rid, geoms = rid[live], geoms[live]
        b = shapely.bounds(geoms)
        order = np.argsort(gpd.GeoSeries(geoms).hilbert_distance().to_numpy(), kind="stable")
        conn.exec_driver_sql(f"INSERT INTO rtree_{table}_geom VALUES (?, ?, ?, ?, ?)",
                             [(int(rid[i]), b[i, 0], b[i, 2], b[i, 1], b[i, 3]) for i in order])
    conn.exec_driver_sql(trigger_sql)


def _cells_json(plan: Prepared, idx: np.ndarray) -> list[str]:
    """Each source row as JSON text {header: cell}, in bulk (pandas' JSON writer)."""
    frame = plan.source.frame.iloc[idx]
    if not len(frame):
        return []
    text_ = frame.to_json(orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str)
    return text_.rstrip("\n").split("\n")


def commit_import(project, plan: Prepared, *, skip_bad_rows: bool = False, delete_missing: bool = False,
                  progress: Progress | None = None, cancel: Cancel | None = None) -> ImportResult:
    """Write the good rows in one transaction (all of them, or nothing). Enterprises a row names
    (:mod:`riskmap.io.update`) are updated in the same transaction; with ``delete_missing`` those the
    list no longer names are deleted too. Nothing to add, change or delete writes nothing."""
    prog = scaled(progress, 0.0, 1.0)
    n_good, n_bad = plan.n_good, plan.n_bad
    if n_good == 0:
        raise RiskmapError(f"没有可导入的行（{n_bad} 行有错误），项目未改动",
                           f"nothing can be imported ({n_bad} rows with errors); the project is unchanged",
                           where=plan.source.path.name)
    if n_bad and not skip_bad_rows:
        raise RiskmapError(f"{n_bad} 行有错误，未导入任何数据；改正后重试，或用 --skip-bad-rows 只导入正确的 {n_good} 行",
                           f"{n_bad} rows have errors: nothing imported; fix them, or use --skip-bad-rows to import "
                           f"the {n_good} good rows", where=plan.source.path.name)
    keep = plan.good_new
    n_new = int(keep.sum())
    spec = plan.spec
    dialect = project.dialect
    fname = plan.source.path.name
    upd = plan.update
    result = ImportResult(plan)
    if upd is not None:
        result.unchanged = len(upd.unchanged)
        if upd.missing is not None:
            result.missing = [(int(i), str(nm)) for i, nm in zip(upd.missing["id"], upd.missing["name"])]
        if not n_new and not upd.changes and not (delete_missing and result.missing):
            return result  # the list changes nothing: the project stays as it is
    src_rows = [plain(r) for r in plan.source.rows[keep]]
    geoms = plan.geoms[keep]
    geoms = to_gpkg_blobs(geoms) if dialect == "sqlite" else list(geoms)
    ids: list[int] = []
    try:
        with project.session() as s:
            conn = s.connection()
            old_cache = None
            if dialect == "sqlite":  # room for the indexes of a big import, else pages spill mid-transaction
                old_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
                conn.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")
            ids = _reserve_ids(conn, spec.table, n_new)
            cols = _columns(plan, keep, ids, geoms)
            assessments = None
            if spec.table == "enterprises":
                assessments = _enterprise_levels(conn, plan, keep, cols, src_rows, project.user, cancel)
            if spec.table == "zones" and "level" in cols:
                has = [lv is not None for lv in cols["level"]]
                cols["level_rule"] = ["import" if h else None for h in has]
                cols["level_reason"] = [f"导入：{fname} 第{r}行" if h else None for h, r in zip(has, src_rows)]
                cols["level_updated_at"] = [utcnow() if h else None for h in has]
            if ids:
                bulk_insert(conn, spec.table, cols, batch=BATCH, cancel=cancel,
                            progress=lambda f, m: prog(0.8 * f, m))
            if assessments:
                _insert_assessments(conn, assessments)
            old_geoms: dict = {}
            old_levels: dict = {}
            touched: list[int] = []
            if upd is not None and (upd.changes or (delete_missing and result.missing)):
                check_cancel(cancel, IMPORT_CANCELLED)
                touched = _apply_updates(conn, plan, project.user, old_geoms, old_levels, result, delete_missing)
            if spec.table == "enterprises":  # the zones they fall in, committed with them
                prog(0.85, "分区定级")
                enterprises_changed(s, ids + touched, old_geoms=old_geoms or None,
                                    old_levels=old_levels if touched else None)
            if spec.table == "zones":  # real towns replace approximate (示意) ones; enterprises and levels follow
                zones_imported(s, ids)
            prog(0.9, "评估记录")
            if spec.table == "hidden_dangers":
                n = len(ids)
                bulk_insert(conn, "hidden_danger_events", {
                    "id": _reserve_ids(conn, "hidden_danger_events", n), "danger_id": ids, "from_status": [None] * n,
                    "to_status": cols["status"], "at": [utcnow()] * n, "by": [project.user] * n,
                    "note": [f"导入：{fname} 第{r}行" for r in src_rows]})
            check_cancel(cancel, IMPORT_CANCELLED)
            s.add(EditRecord(user=project.user, table_name=spec.table, row_id=None, action="import", changes={
                "file": fname, "sheet": plan.mapping.sheet, "layer": spec.table, "rows": len(ids),
                "skipped_bad_rows": n_bad, "ids": _ranges(ids), "crs": plan.crs.label if plan.crs else None,
                "mapping": plan.mapping.fields,
                **({"updated": _ranges(sorted(result.updated)), "unchanged": result.unchanged,
                    "deleted": _ranges(sorted(i for i, _ in result.deleted))} if upd is not None else {})}))
            s.flush()
            if dialect == "sqlite":
                from riskmap.store import gpkg

                gpkg.refresh_contents(conn.connection.driver_connection, tables=[spec.table])
                conn.exec_driver_sql(f"PRAGMA cache_size = {int(old_cache)}")  # the pooled connection lives on
            prog(1.0, "提交")
    except IntegrityError as exc:
        raise RiskmapError(f"写入被数据库拒绝，项目未改动：{exc.orig}", f"the database refused the rows; "
                           f"the project is unchanged: {exc.orig}", where=fname) from None
    except DatabaseError as exc:
        if "locked" in str(exc).lower():
            raise RiskmapError("项目文件正被其他程序使用（已锁定），项目未改动", "the project file is locked by another "
                               "program; the project is unchanged", where=str(project.target)) from None
        raise
    result.ids, result.committed = ids, True
    return result


def _apply_updates(conn, plan: Prepared, user, old_geoms: dict, old_levels: dict, result: ImportResult,
                   delete_missing: bool) -> list[int]:
    """Change the enterprises the list names (only the fields that changed; version + 1) and, when asked,
    delete those it no longer names; one history record per enterprise. Returns the ids touched."""
    from riskmap.store.project import bulk_insert as insert_plain, bulk_update

    upd = plan.update
    rows = sorted(upd.changes)
    ids = [int(upd.match[i]) for i in rows]
    gone = [(i, nm) for i, nm in result.missing] if delete_missing else []
    _check_versions(conn, {i: upd.versions[i] for i in ids + [g for g, _ in gone]}, plan.source.path.name)
    now = utcnow()
    level_rows = [k for k, i in enumerate(rows) if "level" in upd.changes[i]]
    basis: dict[int, tuple] = {}
    if level_rows:  # a new level is an Assessment, as an imported one is
        keep = np.zeros(len(plan.bad), dtype=bool)
        keep[[rows[k] for k in level_rows]] = True
        order = np.flatnonzero(keep)  # row order, as _enterprise_levels reads it
        lcols = {"level": [upd.changes[int(i)]["level"][1] for i in order], "id": [int(upd.match[i]) for i in order]}
        src_rows = [plain(r) for r in plan.source.rows[keep]]
        assessments = _enterprise_levels(conn, plan, keep, lcols, src_rows, user, None)
        if assessments:
            _insert_assessments(conn, assessments)
        basis = {e: (a, b) for e, a, b in zip(lcols["id"], lcols["level_assessment_id"], lcols["level_basis"])}
    groups: dict[tuple, list[int]] = {}
    for k, i in enumerate(rows):
        groups.setdefault(tuple(sorted(f for f in upd.changes[i] if f != "geom")), []).append(k)
    for fields_, ks in groups.items():
        vals: dict[str, list] = {"id": [ids[k] for k in ks]}
        for f in fields_:
            vals[f] = [upd.changes[rows[k]][f][1] for k in ks]
        if "level" in fields_:
            vals["level_assessment_id"] = [basis[ids[k]][0] for k in ks]
            vals["level_basis"] = [basis[ids[k]][1] for k in ks]
        vals["version"] = [upd.versions[ids[k]] + 1 for k in ks]
        vals["updated_at"] = now
        bulk_update(conn, "enterprises", vals)
    moved = [k for k, i in enumerate(rows) if "geom" in upd.changes[i]]
    if moved:
        new = [upd.changes[rows[k]]["geom"][1] for k in moved]
        bulk_update(conn, "enterprises", {"id": [ids[k] for k in moved], "geom": new})
    for k, i in enumerate(rows):
        diff = upd.changes[i]
        result.updated[ids[k]] = list(diff)
        if "geom" in diff and diff["geom"][0] is not None:
            old_geoms[ids[k]] = diff["geom"][0]
        if "geom" not in diff or diff["geom"][0] is not None:  # one newly located is new to the zones
            old_levels[ids[k]] = diff["level"][0] if "level" in diff else upd.levels.get(ids[k])
    history = {"at": now, "user": user, "table_name": "enterprises", "row_id": ids, "action": "update",
               "changes": [{f: [_json_value(o), _json_value(v)] for f, (o, v) in upd.changes[i].items()} | {"version": [upd.versions[e], upd.versions[e] + 1]}
                           for i, e in zip(rows, ids)]}
    if ids:
        insert_plain(conn, "edit_history", history)
    if gone:
        gone_ids = [g for g, _ in gone]
        for g, pt in _points_of(conn, gone_ids).items():
            old_geoms[g] = pt
        assessments = _delete_enterprises(conn, gone_ids)
        insert_plain(conn, "edit_history", {"at": now, "user": user, "table_name": "enterprises", "row_id": gone_ids,
                                            "action": "delete", "changes": [
                                                {"name": nm, "reason": f"不在新名单 {plan.source.path.name} 中",
                                                 "assessments": assessments.get(g, [])} for g, nm in gone]})
        result.deleted = list(gone)
    return ids + [g for g, _ in gone]


def _json_value(v):
    import shapely

    if isinstance(v, shapely.Geometry):
        return v.wkt
    return v


def _check_versions(conn, versions: dict[int, int], where: str) -> None:
    """The enterprises about to change are as validation read them (else someone edited them since)."""
    if not versions:
        return
    ids = sorted(versions)
    now: dict[int, int] = {}
    for start in range(0, len(ids), 900):
        part = ids[start:start + 900]
        rows = conn.execute(text(f"SELECT id, version FROM enterprises WHERE id IN ({', '.join(map(str, part))})"))
        now.update({int(i): int(v) for i, v in rows})
    stale = [i for i in ids if now.get(i) != versions[i]]
    if stale:
        raise RiskmapError(f"校验之后，项目中有 {len(stale)} 家企业已被修改或删除（如 id={stale[0]}），未导入；请重新校验",
                           f"{len(stale)} enterprises changed or were deleted since validation (e.g. id={stale[0]}); "
                           "nothing imported: validate again", where=where)


def _points_of(conn, ids: list[int]) -> dict:
    from riskmap.store.project import read_arrays

    import shapely

    got = read_arrays(conn, "enterprises", ["id"], ids=ids, xy=True)
    ok = np.isfinite(got["x"]) & np.isfinite(got["y"])
    return {int(i): shapely.Point(x, y) for i, x, y in zip(got["id"][ok], got["x"][ok], got["y"][ok])}


def _delete_enterprises(conn, ids: list[int]) -> dict[int, list]:
    """Delete enterprises. Records that hang off them go with them (ON DELETE CASCADE); their assessments
    (immutable, so never unlinked) go too and are returned {enterprise id: [assessment …]} for the history;
    records that only name one (hidden dangers, control lines …) stay and lose the link."""
    from riskmap.model import Base

    id_list = ", ".join(str(int(i)) for i in ids)
    points = f"SELECT id FROM risk_points WHERE enterprise_id IN ({id_list})"
    where = f"enterprise_id IN ({id_list}) OR risk_point_id IN ({points})"
    kept: dict[int, list] = {}
    rows = conn.exec_driver_sql(f"SELECT id, enterprise_id, risk_point_id, method, level, explanation, assessed_at "
                                f"FROM assessments WHERE {where} ORDER BY id").fetchall()
    for aid, eid, rp, method, level, expl, at in rows:
        kept.setdefault(int(eid) if eid is not None else -1, []).append(
            {"id": int(aid), "risk_point_id": rp, "method": method, "level": level, "explanation": expl,
             "assessed_at": str(at)})
    conn.exec_driver_sql(f"DELETE FROM assessments WHERE {where}")
    for table in Base.metadata.sorted_tables:
        for c in table.columns:
            for fk in c.foreign_keys:
                if (fk.column.table.name == "enterprises" and table.name not in ("enterprises", "assessments")
                        and fk.ondelete is None):
                    conn.exec_driver_sql(f"UPDATE {table.name} SET {c.name} = NULL WHERE {c.name} IN ({id_list})")
    conn.exec_driver_sql(f"DELETE FROM enterprises WHERE id IN ({id_list})")
    return kept


def _insert_assessments(conn, cols: dict[str, list]) -> None:
    bulk_insert(conn, "assessments", cols)


def _enterprise_levels(conn, plan: Prepared, keep, cols: dict[str, list], src_rows, user, cancel) -> dict | None:
    """Assessment columns (method 'import', inputs = the source row) for each imported level; the
    enterprise columns are made to point at them (level_assessment_id, level_basis). The assessments go
    in after the enterprises (their foreign key)."""
    levels = cols.get("level")
    if not levels:
        return None
    has = [i for i, lv in enumerate(levels) if lv is not None]
    if not has:
        return None
    check_cancel(cancel, IMPORT_CANCELLED)
    aids = _reserve_ids(conn, "assessments", len(has))
    keep_idx = np.flatnonzero(keep)
    cells = _cells_json(plan, keep_idx[has])
    fname = plan.source.path.name
    col = plan.mapping.fields.get("level", "level")
    raw = (plan.source.frame[col].to_numpy(dtype=object)[keep_idx[has]] if col in plan.source.frame
           else [None] * len(has))
    names = {n: level_info(n).name_zh for n in (1, 2, 3, 4)}
    raw_text = {v: text_of(v) for v in set(raw)}
    head = (f'{{"file": {json.dumps(fname, ensure_ascii=False)}, '
            f'"sheet": {json.dumps(plan.mapping.sheet, ensure_ascii=False)}')
    ent_ids = cols["id"]
    basis = [None] * len(levels)
    link = [None] * len(levels)
    inputs, explanations, out_levels, enterprise_ids = [], [], [], []
    for k, (i, aid) in enumerate(zip(has, aids)):
        lv = int(levels[i])
        explanation = f"导入：{fname} 第{src_rows[i]}行 {col}=“{raw_text[raw[k]]}” → {names[lv]}"
        row_no = src_rows[i] if isinstance(src_rows[i], int) else json.dumps(src_rows[i], ensure_ascii=False)
        inputs.append(f'{head}, "row": {row_no}, "cells": {cells[k]}}}')
        explanations.append(explanation)
        out_levels.append(lv)
        enterprise_ids.append(ent_ids[i])
        basis[i] = explanation
        link[i] = aid
    cols["level_assessment_id"] = link
    cols["level_basis"] = basis
    m = len(has)
    return {"id": aids, "enterprise_id": enterprise_ids, "risk_point_id": [None] * m, "method": ["import"] * m,
            "inputs": inputs, "score": [None] * m, "level": out_levels, "explanation": explanations,
            "assessor": [user] * m, "note": [None] * m, "assessed_at": [utcnow()] * m}


def _ranges(ids: list[int]) -> list[list[int]]:
    """[1, 2, 3, 7, 8] → [[1, 3], [7, 8]] (compact ids for the edit history)."""
    out: list[list[int]] = []
    for i in ids:
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def import_file(project, path, layer: str, *, dry_run: bool = False, skip_bad_rows: bool = False,
                delete_missing: bool = False, progress: Progress | None = None, cancel: Cancel | None = None,
                **options) -> ImportResult:
    """Plan and, unless ``dry_run``, commit. Raises RiskmapError when nothing may be written."""
    plan = plan_import(project, path, layer, progress=scaled(progress, 0.0, 0.6), cancel=cancel, **options)
    if dry_run:
        return ImportResult(plan, [], False)
    return commit_import(project, plan, skip_bad_rows=skip_bad_rows, delete_missing=delete_missing,
                         progress=scaled(progress, 0.6, 1.0), cancel=cancel)
