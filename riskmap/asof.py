"""The project as of a date, and what changed between two dates — from the dated records, no copies of tables.

- An enterprise exists on a date when it was created by the end of that date (``created_at``); an enterprise
  deleted since is no longer in the table, so it is not counted then (its deletion is listed by
  :func:`changes` from the edit history).
- Its level on a date is the level of its newest enterprise-level assessment (``max``, ``override``,
  ``override_rules``: the record :func:`~riskmap.grading.enterprise.current_record` reads) stamped by the end
  of that date; none: 未评估.
- Each zoned unit is levelled again in memory with the settings it was last levelled with, from those levels
  (:func:`~riskmap.grading.zoning.level_unit` with ``write=False``): nothing is written.
- A hidden danger's status on a date is the last lifecycle event by then; overdue: its deadline passed and it
  is neither 整改完成 nor 销号 (:func:`~riskmap.dangers.danger_table` with ``at``).
- Encroachments (GB 36894) on a date: the check run on the protected targets, risk contours and control lines
  created by then, at their present places. A target or line deleted since is gone from the table, and a
  moved one is checked where it is now, so an encroachment ended by deleting or moving the object is not seen.

Dates are whole days in UTC, as the records are stamped.

>>> # from riskmap.store import Project; p = Project.open("demo.gpkg")
>>> # levels_at(p, dt.date(2026, 1, 1))[1], changes(p, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).raised[:1]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, text

from riskmap.dangers import GRADE_ZH, danger_table
from riskmap.grading.enterprise import ENTERPRISE_METHODS, day_end
from riskmap.grading.enterprise import project_levels_at
from riskmap.grading.zoning import UNIT_ZH, level_unit, zoned_units
from riskmap.levels import level_info
from riskmap.model.base import Timestamp
from riskmap.stats import created_by, enterprise_frame
from riskmap.store.zoning import enterprise_names

__all__ = ["Snapshot", "Changes", "snapshot", "levels_at", "changes", "date_zh"]


def date_zh(at: dt.date) -> str:
    """``2026年3月5日``.

    >>> date_zh(dt.date(2026, 3, 5))
    '2026年3月5日'
    """
    return f"{at.year}年{at.month}月{at.day}日"


def _level_zh(level) -> str:
    return "未评估" if level is None else level_info(int(level)).name_zh


def _existing_ids(conn, at: dt.date) -> np.ndarray:
    q = text("SELECT id FROM enterprises WHERE created_at IS NULL OR created_at < :end ORDER BY id"
             ).bindparams(bindparam("end", type_=Timestamp()))
    return np.array([r[0] for r in conn.execute(q, {"end": day_end(at)})], dtype=np.int64)


def levels_at(project, at: dt.date) -> dict[int, int | None]:
    """{enterprise id: level as of the end of ``at`` (None: 未评估)} for the enterprises that existed then.
    Two queries (one window over the assessments), no loop over enterprises."""
    with project.engine.connect() as conn:
        ids = _existing_ids(conn, at)
    eids, lv = project_levels_at(project, at)
    out = dict.fromkeys(ids.tolist())
    keep = np.isin(eids, ids)
    out.update(zip(eids[keep].tolist(), lv[keep].tolist()))
    return out


@dataclass
class Snapshot:
    """The project as of the end of the date ``at`` (see the module's text)."""

    at: dt.date
    enterprises: pd.DataFrame  # id, name, town, zone_id, industry, level (None: 未评估), exists, geometry
    zone_levels: dict[str, pd.DataFrame]  # unit -> id, name, level (None: ungraded)
    dangers: pd.DataFrame  # id, title, grade, status, deadline, overdue, enterprise_id, enterprise, supervised


def _zone_levels(project, levels: dict, at: dt.date, units=None) -> dict[str, pd.DataFrame]:
    """Every zoned unit (or ``units``) levelled in memory from ``levels`` (those of the date ``at``; made once
    per date inside ``project.shared_reads()``)."""
    key = ("zone_levels", at, None if units is None else tuple(sorted(units)))
    return {u: f.copy() for u, f in project.memo(key, lambda: _level_units(project, levels, units)).items()}


def _level_units(project, levels: dict, units=None) -> dict[str, pd.DataFrame]:
    out = {}
    epsg = project.metric_epsg
    with project.engine.connect() as conn:
        for unit, cfg in zoned_units(conn).items():
            if units is not None and unit not in units:
                continue
            res = level_unit(conn, unit, cfg, metric_epsg=epsg, required=False, levels=levels, write=False)
            out[unit] = pd.DataFrame({"id": pd.Series([z.id for z in res.zones], dtype="int64"),
                                      "name": pd.Series([z.name for z in res.zones], dtype=object),
                                      "level": pd.Series([z.level for z in res.zones], dtype=object)})
    return out


def snapshot(project, at: dt.date, *, units=None) -> Snapshot:
    """The enterprises (every row of the table, ``exists`` False for those created later), the zone levels of
    every zoned unit (or of ``units``) and the hidden dangers found by then, as of the end of ``at``."""
    levels = levels_at(project, at)
    ents = project.read_table("enterprises", columns=["id", "name", "town", "zone_id", "industry"])
    ids = ents["id"].astype("int64").tolist()
    ents["exists"] = np.array([i in levels for i in ids], dtype=bool)
    ents["level"] = pd.Series([levels.get(i) for i in ids], dtype=object, index=ents.index)
    d = danger_table(project, at=at)
    dangers = d[["id", "title", "grade", "status", "deadline", "overdue", "enterprise_id", "enterprise",
                 "supervised"]].reset_index(drop=True)
    return Snapshot(at, ents, _zone_levels(project, levels, at, units), dangers)


# ---------------------------------------------------------------- changes between two dates

@dataclass
class Changes:
    """What changed from the end of ``start`` to the end of ``end`` (see :func:`changes`)."""

    start: dt.date
    end: dt.date
    raised: list[dict] = field(default_factory=list)
    lowered: list[dict] = field(default_factory=list)
    first_graded: list[dict] = field(default_factory=list)  # 未评估 at start, graded at end
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    zones: list[dict] = field(default_factory=list)
    dangers_opened: list[dict] = field(default_factory=list)
    dangers_closed: list[dict] = field(default_factory=list)
    dangers_overdue: list[dict] = field(default_factory=list)
    encroachments_new: list[dict] = field(default_factory=list)
    encroachments_resolved: list[dict] = field(default_factory=list)

    KEYS = ("raised", "lowered", "first_graded", "added", "removed", "zones", "dangers_opened", "dangers_closed",
            "dangers_overdue", "encroachments_new", "encroachments_resolved")

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in self.KEYS}

    def to_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "counts": self.counts(),
                **{k: getattr(self, k) for k in self.KEYS}}


def _records_at(conn, ids: list[int], at: dt.date) -> dict[int, tuple]:
    """{enterprise id: (assessed_at, explanation)} of the record each level of ``ids`` came from at ``at`` (one
    window query, as :func:`riskmap.grading.enterprise.levels_at` reads the levels)."""
    if not ids:
        return {}
    methods = ", ".join(f"'{m}'" for m in ENTERPRISE_METHODS)
    q = text(f"SELECT enterprise_id, assessed_at, explanation FROM (SELECT enterprise_id, assessed_at, explanation, "
             f"ROW_NUMBER() OVER (PARTITION BY enterprise_id ORDER BY assessed_at DESC, id DESC) AS rn "
             f"FROM assessments WHERE risk_point_id IS NULL AND enterprise_id IS NOT NULL AND method IN ({methods}) "
             f"AND assessed_at < :end) AS ranked WHERE rn = 1").bindparams(bindparam("end", type_=Timestamp()))
    wanted = set(int(i) for i in ids)
    return {int(eid): (when, why) for eid, when, why in conn.execute(q, {"end": day_end(at)}) if int(eid) in wanted}


def _when(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value[:10]
    return value.date().isoformat() if isinstance(value, dt.datetime) else str(value)


def _danger_dict(r) -> dict:
    deadline = r.deadline
    return {"id": int(r.id), "title": r.title, "grade": r.grade, "grade_zh": GRADE_ZH.get(r.grade, r.grade),
            "status": r.status, "deadline": None if deadline is None or deadline != deadline else str(deadline),
            "enterprise": r.enterprise, "enterprise_id": None if r.enterprise_id != r.enterprise_id
            or r.enterprise_id is None else int(r.enterprise_id), "supervised": bool(r.supervised)}


def _removed(project, start: dt.date, end: dt.date) -> list[dict]:
    q = text("SELECT row_id, at, changes FROM edit_history WHERE table_name = 'enterprises' AND action = 'delete' "
             "AND at >= :a AND at < :b ORDER BY at, id").bindparams(bindparam("a", type_=Timestamp()),
                                                                    bindparam("b", type_=Timestamp()))
    import json

    out = []
    with project.engine.connect() as conn:
        for rid, when, ch in conn.execute(q, {"a": day_end(start), "b": day_end(end)}):
            ch = json.loads(ch) if isinstance(ch, str) else (ch or {})
            out.append({"id": None if rid is None else int(rid), "name": ch.get("name"), "at": _when(when),
                        "reason": ch.get("reason")})
    return out


def _encroachment_check(project):
    """``check(at)`` → the GB 36894 encroachments among the targets, contours and lines created by ``at``
    (the tables and owner names read once for both dates)."""
    from riskmap.analysis.encroachment import find_encroachments, owner_names
    from riskmap.analysis.geodesy import project_epsg

    tables = [project.read_table(t) for t in ("protected_targets", "risk_contours", "control_lines")]
    owners, epsg = owner_names(project), project_epsg(project)

    def check(at: dt.date) -> pd.DataFrame:
        frames = [df[created_by(df["created_at"], day_end(at))] if "created_at" in df else df for df in tables]
        return find_encroachments(*frames, epsg, owner_names=owners)

    return check


def _encroachment_dicts(df: pd.DataFrame, keys: set) -> list[dict]:
    out = []
    for r in df.itertuples():
        if (int(r.target_id), r.object_type, int(r.object_id)) in keys:
            out.append({"target_id": int(r.target_id), "target": r.target_name, "target_kind": r.target_kind,
                        "object_type": r.object_type, "object_id": int(r.object_id), "object": r.object_name,
                        "distance_m": None if r.distance_m != r.distance_m else round(float(r.distance_m), 1)})
    return out


def changes(project, start: dt.date, end: dt.date, *, encroachments: bool = True) -> Changes:
    """What changed from the end of ``start`` to the end of ``end``: enterprises raised and lowered (from →
    to, when and why: the record in force at ``end``), graded for the first time, added (created in between,
    with their level at ``end``) and removed (deleted in between, from the edit history); zones whose level
    differs (every zoned unit, levelled in memory for both dates); hidden dangers found (opened) and closed
    (销号) in between and those overdue at ``end``; GB 36894 encroachments new and resolved."""
    if end < start:
        from riskmap.errors import RiskmapError

        raise RiskmapError(f"结束日期 {end} 早于开始日期 {start}", f"the end date {end} is before the start {start}",
                           where="--to")
    a, b = levels_at(project, start), levels_at(project, end)
    frame = enterprise_frame(project)  # town by location, as the map and the statistics count them
    town = dict(zip(frame["id"].tolist(), frame["town"].tolist()))
    industry = dict(zip(frame["id"].tolist(), frame["industry"].tolist()))
    out = Changes(start, end)
    moved = [i for i, lv in b.items() if i in a and a[i] != lv and lv is not None]
    with project.engine.connect() as conn:
        name = enterprise_names(conn, set(moved) | (set(b) - set(a)))  # the enterprises reported only
        rec = _records_at(conn, moved, end)
    for i in sorted(moved):
        frm, to = a[i], b[i]
        row = {"id": i, "name": name.get(i), "town": town.get(i), "industry": industry.get(i), "from": frm,
               "to": to, "from_zh": _level_zh(frm), "to_zh": _level_zh(to), "at": _when(rec.get(i, (None,))[0]),
               "reason": rec.get(i, (None, None))[1]}
        (out.first_graded if frm is None else out.raised if to < frm else out.lowered).append(row)
    for i in sorted(set(b) - set(a)):
        out.added.append({"id": i, "name": name.get(i), "town": town.get(i), "industry": industry.get(i),
                          "level": b[i], "level_zh": _level_zh(b[i])})
    out.removed = _removed(project, start, end)
    za, zb = _zone_levels(project, a, start), _zone_levels(project, b, end)
    for unit, fb in zb.items():
        fa = za.get(unit)
        before = dict(zip(fa["id"].tolist(), fa["level"].tolist())) if fa is not None else {}
        for zid, zname, lv in zip(fb["id"].tolist(), fb["name"].tolist(), fb["level"].tolist()):
            if before.get(zid) != lv:
                out.zones.append({"unit": unit, "unit_zh": UNIT_ZH.get(unit, unit), "id": int(zid), "name": zname,
                                  "from": before.get(zid), "to": lv, "from_zh": _level_zh(before.get(zid)),
                                  "to_zh": _level_zh(lv)})
    da, db = danger_table(project, at=start), danger_table(project, at=end)
    open_a, closed_a = set(da["id"].tolist()), set(da.loc[da["status"] == "closed", "id"].tolist())
    for r in db.itertuples():
        if r.id not in open_a:
            out.dangers_opened.append(_danger_dict(r))
        if r.status == "closed" and r.id not in closed_a:
            out.dangers_closed.append(_danger_dict(r))
        if r.overdue:
            out.dangers_overdue.append(_danger_dict(r))
    if encroachments:
        check = _encroachment_check(project)
        ea, eb = check(start), check(end)

        def keys(df):
            return {(int(t), o, int(i)) for t, o, i in zip(df["target_id"], df["object_type"], df["object_id"])}

        ka, kb = keys(ea), keys(eb)
        out.encroachments_new = _encroachment_dicts(eb, kb - ka)
        out.encroachments_resolved = _encroachment_dicts(ea, ka - kb)
    return out


def _utc_naive(values) -> np.ndarray:
    """Timestamps (GeoPackage strings ``…Z`` or datetimes) as naive UTC datetime64 (NaT for missing)."""
    t = pd.to_datetime(pd.Series(list(values), dtype=object), utc=True, errors="coerce", format="mixed")
    return t.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")


class LevelHistory:
    """Every enterprise-level record and every enterprise's creation time, read once and held in memory, so a
    date step takes milliseconds at 100k enterprises. The rules are those of :func:`riskmap.asof.levels_at`
    (the newest record of :data:`~riskmap.grading.enterprise.ENTERPRISE_METHODS` stamped before the end of the
    day; an enterprise exists once created), and the tests check both give the same levels."""

    def __init__(self, project):
        methods = ", ".join(f"'{m}'" for m in ENTERPRISE_METHODS)  # constants of the code, not user text
        with project.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT enterprise_id, level, assessed_at, id FROM assessments WHERE risk_point_id IS NULL "
                f"AND enterprise_id IS NOT NULL AND method IN ({methods})").fetchall()
            ents = conn.exec_driver_sql("SELECT id, created_at FROM enterprises ORDER BY id").fetchall()
        rec = pd.DataFrame(rows, columns=["eid", "level", "at", "id"])
        rec["at"] = _utc_naive(rec["at"])
        rec = rec.sort_values(["eid", "at", "id"], kind="stable")
        self.eid = rec["eid"].to_numpy(dtype=np.int64)
        self.level = rec["level"].to_numpy(dtype=np.int64)
        self.at = rec["at"].to_numpy()
        ent = pd.DataFrame(ents, columns=["id", "created_at"])
        self.ids = ent["id"].to_numpy(dtype=np.int64)
        self.created = _utc_naive(ent["created_at"])

    def _state(self, at: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """(exists, level as float with NaN for 未评估) per enterprise of ``self.ids`` as of the end of ``at``."""
        end = np.datetime64(day_end(at), "us")
        exists = np.isnat(self.created) | (self.created < end)
        idx = np.flatnonzero(self.at < end)  # records by then; each enterprise's newest is its last row
        e = self.eid[idx]
        last = idx[np.r_[e[1:] != e[:-1], True]] if len(idx) else idx
        level = np.full(len(self.ids), np.nan)
        pos = np.searchsorted(self.ids, self.eid[last])
        ok = pos < len(self.ids)
        ok[ok] = self.ids[pos[ok]] == self.eid[last][ok]  # records of enterprises deleted since are left out
        level[pos[ok]] = self.level[last][ok]
        level[~exists] = np.nan
        return exists, level

    def levels_at(self, at: dt.date) -> dict[int, int | None]:
        """{enterprise id: level as of the end of ``at`` (None: 未评估)} of the enterprises existing then."""
        exists, level = self._state(at)
        return {int(i): (None if np.isnan(v) else int(v)) for i, v in zip(self.ids[exists], level[exists])}

    def arrays_at(self, at: dt.date, ids) -> tuple[np.ndarray, np.ndarray]:
        """(exists, level: float, NaN = 未评估 or not existing) for the enterprise ``ids``, as of ``at``: what
        :meth:`levels_at` says, aligned to the rows of a layer without a dictionary (a step at 100k in ms)."""
        exists, level = self._state(at)
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.ids, ids)
        found = pos < len(self.ids)
        found[found] = self.ids[pos[found]] == ids[found]
        pos = np.where(found, pos, 0)
        ex = found & exists[pos] if len(self.ids) else np.zeros(len(ids), dtype=bool)
        lv = np.where(ex, level[pos] if len(self.ids) else np.nan, np.nan)
        return ex, lv
