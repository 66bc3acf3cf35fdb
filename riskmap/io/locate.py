"""Locating enterprises from a coordinates file: a table with 统一社会信用代码 or 企业名称 (and optionally the
town) and coordinates in any form the importer reads (lon/lat columns, one ``x,y`` column, 度分秒 text,
Gauss–Krüger with or without the zone prefix, GCJ-02/BD-09 with ``crs``).

Each row is matched to the project's enterprises by :func:`riskmap.io.matching.match_enterprises` (credit
code, else name within the town) and sorted into: matched (the point is set), not found, ambiguous (one name,
several enterprises), outside the project's boundary, without coordinates, or a repeat of an enterprise an
earlier row placed. The matched rows are written in one transaction with their towns, the zones around them
recoloured and the edit history kept (see :func:`riskmap.grading.zoning.locate_enterprises`); ``dry_run``
reports the same and writes nothing.

>>> # r = locate_from_file(project, "坐标.xlsx"); r.counts()
>>> # {'matched': 12, 'not_found': 1, 'ambiguous': 0, 'outside': 1, 'no_coordinates': 0, 'duplicate': 0}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from riskmap.errors import RiskmapError
from riskmap.grading.zoning import locate_enterprises, place_points
from riskmap.io.importer import plan_import
from riskmap.io.matching import EnterpriseIndex, match_rows, name_key, normalise_credit_code
from riskmap.model import Enterprise
from riskmap.progress import Cancel, Progress, check_cancel

OUTCOMES = ("matched", "not_found", "ambiguous", "outside", "no_coordinates", "duplicate")
OUTCOME_ZH = {"matched": "已定位", "not_found": "未找到", "ambiguous": "名称不唯一", "outside": "在边界之外",
              "no_coordinates": "无坐标", "duplicate": "重复"}


@dataclass
class LocateResult:
    """Per outcome (see :data:`OUTCOMES`) the rows of the file: ``row`` (its line in the file), ``name``,
    ``credit_code``, ``id`` (the enterprise, None when not found), ``by`` (credit_code / name), ``lon``,
    ``lat``, ``town`` and ``note``."""

    file: str
    dry_run: bool
    crs: str
    rows: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in OUTCOMES})
    recoloured: dict = field(default_factory=dict)  # {unit: zone ids recomputed}

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.rows.items()}

    def to_json(self) -> dict:
        return {"file": self.file, "dry_run": self.dry_run, "crs": self.crs, "counts": self.counts(),
                **self.rows, "recoloured": self.recoloured}


def _plain(v):
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    return v.item() if hasattr(v, "item") else v


def locate_from_file(project, path, *, dry_run: bool = False, crs=None, sheet: str | None = None,
                     progress: Progress | None = None, cancel: Cancel | None = None) -> LocateResult:
    """Set the points of the enterprises a coordinates file names; see the module's text."""
    path = Path(path)
    progress = progress or (lambda f, m: None)
    progress(0.0, "读取文件")
    plan = plan_import(project, path, "enterprises", crs=crs, sheet=sheet)
    m = plan.mapping
    if not (m.x and m.y) and not m.xy:
        raise RiskmapError(f"{path.name} 中找不到坐标列（经度/纬度、X/Y 或“坐标”）",
                           f"{path.name} has no coordinate columns (lon/lat, X/Y or one 'x,y' column)", where=path.name)
    if "name" not in m.fields and "credit_code" not in m.fields:
        raise RiskmapError(f"{path.name} 中找不到“统一社会信用代码”或“企业名称”列",
                           f"{path.name} has neither a credit code nor a name column", where=path.name)
    check_cancel(cancel)
    progress(0.4, "匹配企业")
    keep = np.ones(len(plan.values), dtype=bool) if plan.skipped is None else ~plan.skipped
    values = plan.values.reset_index(drop=True)
    first = (plan.source.header_row or 0) + 1 if plan.source.is_table else 1
    # only the file's own columns: the importer fills a missing town from the point, not what the row says
    rows = pd.DataFrame({c: values[c] if c in values and c in m.fields else None
                         for c in ("name", "credit_code", "town")}, index=values.index)
    table = project.read_table("enterprises", columns=["id", "name", "credit_code", "town"])
    existing = pd.DataFrame({c: table[c].to_numpy() for c in ("id", "name", "credit_code", "town")})
    index = EnterpriseIndex(existing)
    ids = match_rows(index, rows)
    geoms = np.asarray(plan.geoms, dtype=object)
    for i, g in plan.outside.items():  # the importer keeps such rows unlocated; here they are reported outside
        geoms[i] = g
    lon = np.array([g.x if g is not None and not g.is_empty else np.nan for g in geoms], dtype=float)
    lat = np.array([g.y if g is not None and not g.is_empty else np.nan for g in geoms], dtype=float)
    with project.engine.connect() as conn:
        places = place_points(conn, np.nan_to_num(lon, nan=1e9), np.nan_to_num(lat, nan=1e9))
    names = dict(zip(existing["id"].tolist(), existing["name"].tolist()))
    result = LocateResult(path.name, dry_run, plan.crs.label if plan.crs is not None else "")
    chosen: dict[int, int] = {}
    for i in np.flatnonzero(keep).tolist():
        code = normalise_credit_code(rows["credit_code"].iloc[i])
        name = _plain(rows["name"].iloc[i])
        rec = {"row": first + i, "name": name, "credit_code": code, "id": None, "by": None,
               "lon": None if lon[i] != lon[i] else round(float(lon[i]), 7),
               "lat": None if lat[i] != lat[i] else round(float(lat[i]), 7), "town": None, "note": ""}
        eid = int(ids[i])
        if eid < 0:
            n = len(index.by_name.get(name_key(name), [])) if name else 0
            if n > 1:
                rec["note"] = f"项目中有 {n} 家企业名为“{name}”，请填写统一社会信用代码或镇街"
                result.rows["ambiguous"].append(rec)
            else:
                result.rows["not_found"].append(rec)
            continue
        rec.update(id=eid, by="credit_code" if code and index.by_code.get(code) == eid else "name",
                   name=names.get(eid, name))
        if rec["lon"] is None:
            result.rows["no_coordinates"].append(rec)
        elif places.inside is not None and not places.inside[i]:
            rec["note"] = "点位在项目边界之外，未定位"
            result.rows["outside"].append(rec)
        elif eid in chosen:
            rec["note"] = f"与第 {chosen[eid]} 行是同一企业，以第 {chosen[eid]} 行为准"
            result.rows["duplicate"].append(rec)
        else:
            chosen[eid] = rec["row"]
            rec["town"] = _plain(places.town_name[i])
            result.rows["matched"].append(rec)
    check_cancel(cancel)
    matched = result.rows["matched"]
    if dry_run or not matched:
        progress(1.0, "完成")
        return result
    progress(0.7, "写入")
    with project.session() as s:
        by_id = {e.id: e for e in s.scalars(select(Enterprise).where(Enterprise.id.in_([r["id"] for r in matched])))}
        ents = [by_id[r["id"]] for r in matched]
        placed, done = locate_enterprises(s, ents, [r["lon"] for r in matched], [r["lat"] for r in matched])
        for r, p in zip(matched, placed):
            r["town"], r["note"] = p.town, p.mismatch
        result.recoloured = done
    if hasattr(project, "_meta_cache"):
        project._meta_cache = None
    progress(1.0, "完成")
    return result
