"""Import a file into a project: read → map fields → convert coordinates → validate → commit.

>>> # plan = plan_import(project, "企业清单.xlsx", "enterprises", crs="gcj02")
>>> # print("\\n".join(plan.report.lines())); commit_import(project, plan, skip_bad_rows=True)

The commit is one transaction: every good row, or nothing. Rows go in with Core ``insert()`` in
batches (executemany), not as ORM objects one by one. The edit history gets ONE record per import
(action ``import``: file, sheet, row count and the new ids); imported enterprise levels become
immutable Assessment records (method ``import``, inputs = the source row) so the history stays evidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import DatabaseError, IntegrityError

from riskmap.errors import RiskmapError
from riskmap.io.fieldmap import Mapping, auto_mapping, header_score, resolve_layer
from riskmap.io.issues import Report
from riskmap.io.readers import read_source
from riskmap.io.validate import Prepared, ProjectContext, prepare
from riskmap.io.values import plain
from riskmap.levels import level_info
from riskmap.model import Assessment, EditRecord, HiddenDangerEvent, class_for_table, utcnow

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]
BATCH = 5000


class ImportCancelled(RiskmapError):
    def __init__(self):
        super().__init__("导入已取消，项目未改动", "import cancelled; the project is unchanged")


@dataclass
class ImportResult:
    plan: Prepared
    ids: list[int] = field(default_factory=list)
    committed: bool = False

    @property
    def report(self) -> Report:
        return self.plan.report


def _scaled(progress: Progress | None, lo: float, hi: float) -> Progress:
    if progress is None:
        return lambda f, m: None
    return lambda f, m: progress(lo + (hi - lo) * min(max(f, 0.0), 1.0), m)


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
    prog = _scaled(progress, 0.0, 1.0)
    prog(0.0, "读取文件")
    report = Report(path.name)
    source = read_source(path, sheet=sheet, header_row=header_row,
                         scorer=lambda cells: header_score(cells, spec), report=report)
    if cancel and cancel():
        raise ImportCancelled()
    prog(0.4, "字段对应")
    m = given or auto_mapping(source.columns, spec, constants)
    if source.layers and len(source.layers) > 1 and source.layer:
        m.sheet = source.layer
    if source.is_table:
        m.header_row = source.header_row
    if crs is not None:
        m.crs = str(crs)
    pairs = [f"{f}←{c}" for f, c in m.fields.items()]
    if m.x:
        pairs.append(f"x←{m.x}, y←{m.y}")
    elif m.xy:
        pairs.append(f"x,y←{m.xy}")
    pairs += [f"{k}={v}" for k, v in m.constants.items()]
    head = f"表头在第{source.header_row}行；" if source.is_table and source.header_row else ""
    report.note(f"{head}字段对应：{'；'.join(pairs) or '无'}", f"field mapping: {'; '.join(pairs) or 'none'}")
    ctx = ProjectContext.of(project, spec, m.constants)
    return prepare(source, spec, m, ctx, crs=crs, repair=repair, progress=_scaled(progress, 0.4, 1.0), cancel=cancel)


# ------------------------------------------------------------------------------------ commit


def _rows_for(plan: Prepared, keep: np.ndarray, user: str) -> list[dict]:
    """Model rows (dicts of column values) of the kept records, defaults filled."""
    table = class_for_table(plan.spec.table).__table__
    cols = [c.name for c in table.columns if c.name in plan.values.columns]
    now = utcnow()
    data = {c: plan.values[c].to_numpy(dtype=object)[keep] for c in cols}
    geoms = plan.geoms[keep]
    n = int(keep.sum())
    defaults = {}
    for c in table.columns:
        d = c.default
        if c.name in ("id", "geom") or d is None or not getattr(d, "is_scalar", False):
            continue
        defaults[c.name] = d.arg
    rows = []
    for i in range(n):
        row = {c: data[c][i] for c in cols}
        for c, v in defaults.items():
            if row.get(c) is None:
                row[c] = v
        row["geom"] = geoms[i]
        rows.append(row)
    extra = {}
    if "version" in table.c:
        extra.update(version=1, created_at=now, updated_at=now)
    if "qr_id" in table.c:
        for row in rows:
            row["qr_id"] = uuid.uuid4().hex
    if extra:
        for row in rows:
            row.update(extra)
    return rows


def _source_cells(plan: Prepared, keep: np.ndarray) -> list[dict]:
    frame = plan.source.frame.iloc[np.flatnonzero(keep)]
    cols = list(frame.columns)
    return [{c: plain(v) for c, v in zip(cols, rec)} for rec in frame.itertuples(index=False, name=None)]


def commit_import(project, plan: Prepared, *, skip_bad_rows: bool = False, progress: Progress | None = None,
                  cancel: Cancel | None = None) -> ImportResult:
    """Write the good rows in one transaction (all of them, or nothing)."""
    prog = _scaled(progress, 0.0, 1.0)
    n_good, n_bad = plan.n_good, plan.n_bad
    if n_good == 0:
        raise RiskmapError(f"没有可导入的行（{n_bad} 行有错误），项目未改动",
                           f"nothing can be imported ({n_bad} rows with errors); the project is unchanged",
                           where=plan.source.path.name)
    if n_bad and not skip_bad_rows:
        raise RiskmapError(f"{n_bad} 行有错误，未导入任何数据；改正后重试，或用 --skip-bad-rows 只导入正确的 {n_good} 行",
                           f"{n_bad} rows have errors: nothing imported; fix them, or use --skip-bad-rows to import "
                           f"the {n_good} good rows", where=plan.source.path.name)
    keep = plan.good
    spec = plan.spec
    cls = class_for_table(spec.table)
    table = cls.__table__
    rows = _rows_for(plan, keep, project.user)
    src_rows = [plain(r) for r in plan.source.rows[keep]]
    fname = plan.source.path.name
    levels = plan.values["level"].to_numpy(dtype=object)[keep] if "level" in plan.values else None
    ids: list[int] = []
    try:
        with project.session() as s:
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            for start in range(0, len(rows), BATCH):
                if cancel and cancel():
                    raise ImportCancelled()
                ids.extend(s.execute(stmt, rows[start:start + BATCH]).scalars().all())
                prog(0.8 * min(start + BATCH, len(rows)) / len(rows), f"写入 {min(start + BATCH, len(rows))}/{len(rows)}")
            if spec.table == "enterprises" and levels is not None:
                _enterprise_assessments(s, plan, keep, ids, levels, src_rows, project.user)
            if spec.table == "zones" and levels is not None:
                has = [i for i, lv in enumerate(levels) if lv is not None]
                if has:
                    s.execute(update(table).where(table.c.id == bindparam("b_id")).values(
                        level_rule="import", level_reason=bindparam("b_reason"), level_updated_at=utcnow()),
                        [{"b_id": ids[i], "b_reason": f"导入：{fname} 第{src_rows[i]}行"} for i in has])
            if spec.table == "hidden_dangers":
                statuses = [r["status"] for r in rows]
                s.execute(insert(HiddenDangerEvent.__table__), [
                    {"danger_id": i, "from_status": None, "to_status": st, "at": utcnow(), "by": project.user,
                     "note": f"导入：{fname} 第{r}行"} for i, st, r in zip(ids, statuses, src_rows)])
            if cancel and cancel():
                raise ImportCancelled()
            s.add(EditRecord(user=project.user, table_name=spec.table, row_id=None, action="import", changes={
                "file": fname, "sheet": plan.mapping.sheet, "layer": spec.table, "rows": len(ids),
                "skipped_bad_rows": n_bad, "ids": _ranges(ids), "crs": plan.crs.label if plan.crs else None,
                "mapping": plan.mapping.fields}))
            s.flush()
            if project.dialect == "sqlite":
                from riskmap.store import gpkg

                gpkg.refresh_contents(s.connection().connection.driver_connection, tables=[spec.table])
            prog(1.0, "提交")
    except IntegrityError as exc:
        raise RiskmapError(f"写入被数据库拒绝，项目未改动：{exc.orig}", f"the database refused the rows; "
                           f"the project is unchanged: {exc.orig}", where=fname) from None
    except DatabaseError as exc:
        if "locked" in str(exc).lower():
            raise RiskmapError("项目文件正被其他程序使用（已锁定），项目未改动", "the project file is locked by another "
                               "program; the project is unchanged", where=str(project.target)) from None
        raise
    return ImportResult(plan, ids, True)


def _enterprise_assessments(s, plan: Prepared, keep, ids, levels, src_rows, user) -> None:
    """An Assessment (method 'import', inputs = the source row) for each imported enterprise level."""
    has = [i for i, lv in enumerate(levels) if lv is not None]
    if not has:
        return
    cells = _source_cells(plan, keep)
    fname = plan.source.path.name
    col = plan.mapping.fields.get("level", "level")
    now = utcnow()
    recs = []
    for i in has:
        raw = cells[i].get(col)
        recs.append({"enterprise_id": ids[i], "risk_point_id": None, "method": "import",
                     "inputs": {"file": fname, "sheet": plan.mapping.sheet, "row": src_rows[i], "cells": cells[i]},
                     "score": None, "level": int(levels[i]),
                     "explanation": f"导入：{fname} 第{src_rows[i]}行 {col}=“{raw}” → {level_info(int(levels[i])).name_zh}",
                     "assessor": user, "note": None, "assessed_at": now})
    at = Assessment.__table__
    aids = s.execute(insert(at).returning(at.c.id, sort_by_parameter_order=True), recs).scalars().all()
    et = class_for_table("enterprises").__table__
    s.execute(update(et).where(et.c.id == bindparam("b_id")).values(
        level_assessment_id=bindparam("b_aid"), level_basis=bindparam("b_basis")),
        [{"b_id": ids[i], "b_aid": aid, "b_basis": rec["explanation"]} for i, aid, rec in zip(has, aids, recs)])


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
                progress: Progress | None = None, cancel: Cancel | None = None, **options) -> ImportResult:
    """Plan and, unless ``dry_run``, commit. Raises RiskmapError when nothing may be written."""
    plan = plan_import(project, path, layer, progress=_scaled(progress, 0.0, 0.6), cancel=cancel, **options)
    if dry_run:
        return ImportResult(plan, [], False)
    return commit_import(project, plan, skip_bad_rows=skip_bad_rows, progress=_scaled(progress, 0.6, 1.0),
                         cancel=cancel)
