"""Zoning: the level of every zone of a unit (town, village, grid, park, custom) from the enterprises inside.

Rules (``max`` 就高, ``weighted`` density, count rules) and their numbers are in ``zoning.toml``; see
:mod:`riskmap.grading.zoning_rules`. Per zone the project keeps the level, the rule, a readable reason and
the objects that decided it (``zone_decisions``). The settings of each run are kept in ``project_meta``
(``zoning.<unit>``) so that an incremental update — one enterprise changed its level or moved — recomputes
only the zones containing it (old and new location) under exactly the same settings.

>>> # from riskmap.store import Project; p = Project.open("demo.gpkg")
>>> # result = zone_project(p, unit="town", rule="max"); result.zones[0].reason
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from riskmap.crs import to_metric
from riskmap.errors import RiskmapError
from riskmap.grading import zoning_rules
from riskmap.grading.zoning_rules import RuleSettings, counts_by_level, evaluate, reason_text
from riskmap.levels import level_info
from riskmap.model import Enterprise, ProjectMeta, Zone, ZoneDecision, utcnow
from riskmap.model.geometry import from_gpkg_blobs

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]

UNIT_KINDS = {
    "county": ("county",), "town": ("town",), "village": ("village",), "grid": ("grid",),
    "park": ("chemical_park", "industrial_park"), "custom": ("custom", "functional"),
}
UNIT_ZH = {"county": "县", "town": "镇/街道", "village": "村/社区", "grid": "网格", "park": "园区",
           "custom": "自定义区域"}
META_PREFIX = "zoning."
MAX_NAMED = 3  # deciding enterprises named in a reason


class Cancelled(RiskmapError):
    """The user cancelled; nothing was written."""

    def __init__(self):
        super().__init__("已取消", "cancelled")


def check_unit(unit: str) -> tuple[str, ...]:
    """The zone kinds of ``unit``, or an error listing the units."""
    if unit not in UNIT_KINDS:
        raise RiskmapError(f"未知的分区单元 {unit!r}，可选：{', '.join(UNIT_KINDS)}",
                           f"unknown zoning unit {unit!r}; use one of {', '.join(UNIT_KINDS)}", where="unit")
    return UNIT_KINDS[unit]


def _kinds_sql(kinds: Iterable[str]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


# ---------------------------------------------------------------- pure computation

def assign(points: np.ndarray, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which polygon holds which point: arrays (point index, polygon index); a point on a border shared
    by two polygons is in both. Polygons are prepared and queried against a tree of the points."""
    points = np.asarray(points, dtype=object)
    polygons = np.asarray(polygons, dtype=object)
    ok_pt = ~(shapely.is_missing(points) | shapely.is_empty(points))
    ok_pg = ~(shapely.is_missing(polygons) | shapely.is_empty(polygons))
    pt_i, pg_i = np.flatnonzero(ok_pt), np.flatnonzero(ok_pg)
    if not len(pt_i) or not len(pg_i):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    tree = STRtree(points[pt_i])
    q_pg, q_pt = tree.query(polygons[pg_i], predicate="intersects")
    return pt_i[q_pt], pg_i[q_pg]


@dataclass
class ZoneResult:
    """One zone's level under a rule, with its reason and the enterprises that decided it."""

    id: int
    name: str
    kind: str
    level: int | None
    rule: str
    reason: str
    counts: list[int]  # levels 1..4, then ungraded
    score: float | None = None
    deciders: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        info = level_info(self.level) if self.level else None
        return {"id": self.id, "name": self.name, "kind": self.kind, "level": self.level,
                "level_name": info.name_zh if info else None, "colour": info.colour if info else None,
                "rule": self.rule, "reason": self.reason, "score": self.score,
                "counts": {"1": self.counts[0], "2": self.counts[1], "3": self.counts[2], "4": self.counts[3],
                           "ungraded": self.counts[4]},
                "decided_by": self.deciders}


@dataclass
class ZoningResult:
    unit: str
    settings: RuleSettings
    zones: list[ZoneResult]
    timings: dict = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        """Number of zones per level (``"none"``: ungraded)."""
        out = {str(n): 0 for n in (1, 2, 3, 4)}
        out["none"] = 0
        for z in self.zones:
            out[str(z.level) if z.level else "none"] += 1
        return out

    def to_json(self) -> dict:
        return {"unit": self.unit, "rule": self.settings.rule, "rule_zh": self.settings.zh,
                "rule_label": self.settings.label_zh(), "settings": self.settings.as_dict(),
                "summary": self.summary(), "zones": [z.to_json() for z in self.zones]}


@dataclass
class _Computed:
    outcome: zoning_rules.Outcome
    counts: np.ndarray
    divisor: np.ndarray | None
    pair_zone: np.ndarray  # sorted by zone, then level, then enterprise
    pair_ent: np.ndarray
    pair_level: np.ndarray


def _divisor(cfg: RuleSettings, zone_geoms, populations, names, metric_epsg: int | None) -> np.ndarray | None:
    if cfg.rule != "weighted" or cfg.per == "zone":
        return None
    if cfg.per == "km2":
        if not metric_epsg:
            raise RiskmapError("项目未设置量算坐标系，无法计算面积", "the project has no metric CRS to measure areas",
                               where="project_meta.metric_epsg")
        return shapely.area(to_metric(np.asarray(zone_geoms, dtype=object), metric_epsg)) / 1e6
    pop = np.array([np.nan if p is None else float(p) for p in populations], dtype=float)
    bad = ~(pop > 0)
    if bad.any():
        which = [str(n) for n in np.asarray(names, dtype=object)[bad][:5]]
        more_zh = f" 等{int(bad.sum())}个" if bad.sum() > 5 else ""
        more_en = f" ({int(bad.sum())} in all)" if bad.sum() > 5 else ""
        raise RiskmapError(f"按人口密度定级需要各分区的人口数，以下分区缺少人口：{'、'.join(which)}{more_zh}",
                           f"weighting per population needs every zone's population; missing for: "
                           f"{', '.join(which)}{more_en}", where="zones.population")
    return pop / 1e4


def compute(zone_geoms, ent_geoms, ent_levels, cfg: RuleSettings, divisor=None) -> _Computed:
    """Assign enterprises to zones and apply ``cfg``; everything on arrays, nothing written."""
    pt, zn = assign(ent_geoms, zone_geoms)
    lv = np.asarray(ent_levels, dtype=np.int64)[pt] if len(pt) else np.empty(0, np.int64)
    n = len(zone_geoms)
    counts = counts_by_level(zn, lv, n)
    out = evaluate(counts, cfg, divisor)
    sort_lv = np.where(lv >= 1, lv, 9)
    order = np.lexsort((pt, sort_lv, zn))
    return _Computed(out, counts, divisor, zn[order], pt[order], lv[order])


def _decisions(c: _Computed, cfg: RuleSettings):
    """(zone index, enterprise index, rule, note) rows of the objects that decided each zone."""
    z, e, lv = c.pair_zone, c.pair_ent, c.pair_level
    graded = lv >= 1
    rows_z, rows_e, rows_rule, rows_note = [], [], [], []
    if cfg.rule == "max":
        m = graded & (lv == c.outcome.base_level[z])
        rows_z.append(z[m]), rows_e.append(e[m]), rows_rule.append(np.full(m.sum(), "max", dtype=object))
        rows_note.append(np.full(m.sum(), "区内最高等级", dtype=object))
    else:
        w = np.asarray(cfg.weights, dtype=float)
        m = graded
        rows_z.append(z[m]), rows_e.append(e[m]), rows_rule.append(np.full(m.sum(), "weighted", dtype=object))
        notes = np.array([f"权重 {zoning_rules.fmt(x)}" for x in w], dtype=object)
        rows_note.append(notes[lv[m] - 1])
    for j, cr in enumerate(cfg.count_rules):
        m = graded & (lv <= cr.level) & c.outcome.fired[z, j]
        rows_z.append(z[m]), rows_e.append(e[m])
        rows_rule.append(np.full(m.sum(), f"count:{cr.id}", dtype=object))
        rows_note.append(np.full(m.sum(), cr.zh, dtype=object))
    return (np.concatenate(rows_z), np.concatenate(rows_e), np.concatenate(rows_rule), np.concatenate(rows_note))


def _zone_results(c: _Computed, cfg: RuleSettings, zone_ids, zone_names, zone_kinds, ent_ids, ent_names,
                  ent_levels) -> list[ZoneResult]:
    """Per-zone results with readable reasons (one short Python step per zone, not per enterprise)."""
    z, e, lv = c.pair_zone, c.pair_ent, c.pair_level
    n = len(zone_ids)
    starts = np.searchsorted(z, np.arange(n), side="left")
    ends = np.searchsorted(z, np.arange(n), side="right")
    out = []
    label = cfg.rule
    names_ = zoning_rules.Names.load()
    levels_at = c.outcome.level.tolist()
    score_at = c.outcome.score.tolist()
    counts_at = c.counts.tolist()
    starts, ends = starts.tolist(), ends.tolist()
    for i in range(n):
        level = levels_at[i] or None
        s, t = starts[i], ends[i]
        seg_e, seg_lv = e[s:t], lv[s:t]
        if t > s and seg_lv[0] >= 1:  # graded pairs come first, highest level first
            sel = seg_e[:counts_at[i][int(seg_lv[0]) - 1]]
        else:
            sel = seg_e[:0]
        named = [str(ent_names[k]) for k in sel[:MAX_NAMED]]
        reason = reason_text(i, c.outcome, c.counts, cfg, c.divisor, named, len(sel), names_)
        score = None if score_at[i] != score_at[i] else round(score_at[i], 6)
        deciders = [{"id": int(ent_ids[k]), "name": str(ent_names[k]), "level": int(ent_levels[k])}
                    for k in sel[:50]]
        out.append(ZoneResult(id=int(zone_ids[i]), name=str(zone_names[i]), kind=str(zone_kinds[i]), level=level,
                              rule=label, reason=reason, counts=counts_at[i], score=score, deciders=deciders))
    return out


# ---------------------------------------------------------------- writing

def _write(conn, results: list[ZoneResult], dec, zone_ids, ent_ids, ent_levels, rule_meta: dict | None,
           unit: str | None) -> None:
    """Write zone levels and decisions (and, for a whole unit, the run's settings) through ``conn``,
    inside its transaction. With ``unit``, every decision of that unit's zones is replaced."""
    now = utcnow()
    zt, dt_ = Zone.__table__, ZoneDecision.__table__
    ids = [r.id for r in results]
    if ids:
        conn.execute(update(zt).where(zt.c.id == bindparam("zid")).values(
            level=bindparam("lv"), level_rule=bindparam("rule"), level_reason=bindparam("reason"),
            level_updated_at=bindparam("at")),
            [{"zid": r.id, "lv": r.level, "rule": r.rule, "reason": r.reason, "at": now} for r in results])
    if unit is not None:
        conn.execute(delete(dt_).where(dt_.c.zone_id.in_(
            select(zt.c.id).where(zt.c.kind.in_(UNIT_KINDS[unit])).scalar_subquery())))
    else:
        for k in range(0, len(ids), 500):
            conn.execute(delete(dt_).where(dt_.c.zone_id.in_(ids[k:k + 500])))
    dz, de, drule, dnote = dec
    if len(dz):
        zid = np.asarray(zone_ids, dtype=np.int64)[dz].tolist()
        eid = np.asarray(ent_ids, dtype=np.int64)[de].tolist()
        elv = np.asarray(ent_levels, dtype=np.int64)[de].tolist()
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        # plain executemany: SQLAlchemy's per-row processing costs ~5 µs a row, too slow for 100k rows
        conn.exec_driver_sql(
            f"INSERT INTO zone_decisions (zone_id, rule, object_table, object_id, object_level, note) "
            f"VALUES ({', '.join([mark] * 6)})",
            list(zip(zid, drule.tolist(), ["enterprises"] * len(zid), eid, elv, dnote.tolist())))
    if rule_meta is not None and unit is not None:
        mt = ProjectMeta.__table__
        key = META_PREFIX + unit
        conn.execute(delete(mt).where(mt.c.key == key))
        conn.execute(mt.insert().values(key=key, value=json.dumps(rule_meta, ensure_ascii=False)))


def _levels_array(series) -> np.ndarray:
    return np.array([0 if v is None or v != v else int(v) for v in series], dtype=np.int64)


def zone_project(project, unit: str = "town", rule: str = "max", *, per: str | None = None, standard=None,
                 progress: Progress | None = None, cancel: Cancel | None = None) -> ZoningResult:
    """Level every zone of ``unit`` under ``rule`` from scratch and write the result in one transaction."""
    kinds = check_unit(unit)
    cfg = zoning_rules.settings(rule, per=per, standard=standard)
    progress = progress or (lambda f, m: None)
    t0 = time.perf_counter()
    progress(0.0, "读取分区")
    zones = project.read_table("zones", where=_kinds_sql(kinds), columns=["id", "name", "kind", "population"])
    if not len(zones):
        raise RiskmapError(f"项目中没有“{UNIT_ZH[unit]}”分区", f"the project has no zones of unit {unit!r}",
                           where=f"zones.kind={unit}")
    ents = project.read_table("enterprises", columns=["id", "name", "level"])
    t1 = time.perf_counter()
    _check_cancel(cancel)
    progress(0.3, "计算")
    divisor = _divisor(cfg, zones.geometry.values, zones["population"].tolist(), zones["name"].to_numpy(),
                       project.metric_epsg)
    ent_levels = _levels_array(ents["level"])
    c = compute(zones.geometry.values, ents.geometry.values, ent_levels, cfg, divisor)
    t2 = time.perf_counter()
    results = _zone_results(c, cfg, zones["id"].to_numpy(), zones["name"].to_numpy(), zones["kind"].to_numpy(),
                            ents["id"].to_numpy(), ents["name"].to_numpy(), ent_levels)
    dec = _decisions(c, cfg)
    t3 = time.perf_counter()
    _check_cancel(cancel)
    progress(0.7, "写入")
    with project.session(history=False) as s:
        conn = s.connection()
        _write(conn, results, dec, zones["id"].to_numpy(), ents["id"].to_numpy(), ent_levels,
               {"unit": unit, **cfg.as_dict()}, unit)
    if hasattr(project, "_meta_cache"):
        project._meta_cache = None  # project_meta was written in the same transaction as the zones
    t4 = time.perf_counter()
    progress(1.0, "完成")
    return ZoningResult(unit, cfg, results, timings={"read": t1 - t0, "assign_and_rules": t2 - t1,
                                                     "reasons": t3 - t2, "write": t4 - t3, "total": t4 - t0})


def _check_cancel(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


# ---------------------------------------------------------------- reading back

def zoned_units(conn_or_project) -> dict[str, RuleSettings]:
    """The units levelled so far in a project, with the settings used (from ``project_meta``)."""
    if hasattr(conn_or_project, "meta"):
        items = conn_or_project.meta().items()
    else:
        mt = ProjectMeta.__table__
        items = conn_or_project.execute(select(mt.c.key, mt.c.value).where(mt.c.key.like(META_PREFIX + "%")))
    out = {}
    for key, value in items:
        if key.startswith(META_PREFIX) and value:
            out[key[len(META_PREFIX):]] = RuleSettings.from_dict(json.loads(value))
    return out


def zone_table(project, unit: str) -> list[dict]:
    """The stored levels of the zones of ``unit``: id, name, level, rule, reason, decisions."""
    kinds = check_unit(unit)
    zones = project.read_table("zones", where=_kinds_sql(kinds),
                               columns=["id", "name", "kind", "level", "level_rule", "level_reason",
                                        "level_updated_at"])
    dec = project.read_table("zone_decisions")
    ents = project.read_table("enterprises", columns=["id", "name"])
    names = dict(zip(ents["id"].tolist(), ents["name"].tolist()))
    by_zone: dict[int, list] = {}
    for zid, rule, oid, olv, note in zip(dec["zone_id"].tolist(), dec["rule"].tolist(), dec["object_id"].tolist(),
                                         dec["object_level"].tolist(), dec["note"].tolist()):
        by_zone.setdefault(zid, []).append({"rule": rule, "object_id": oid, "name": names.get(oid),
                                            "level": olv, "note": note})
    out = []
    for row in zones.itertuples():
        lv = None if row.level is None or row.level != row.level else int(row.level)
        out.append({"id": int(row.id), "name": row.name, "kind": row.kind, "level": lv,
                    "level_name": level_info(lv).name_zh if lv else None, "rule": row.level_rule,
                    "reason": row.level_reason, "decisions": by_zone.get(int(row.id), [])})
    return out


# ---------------------------------------------------------------- incremental update

def _bbox_sql(conn, table: str, cols: list[str], where: str, boxes: list[tuple], extra: str = ""):
    """Rows of ``table`` whose bounding box meets any of ``boxes`` (minx, miny, maxx, maxy), through ``conn``."""
    dialect = conn.dialect.name
    params = {}
    clauses = []
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        params.update({f"x0_{k}": x0, f"y0_{k}": y0, f"x1_{k}": x1, f"y1_{k}": y1})
        if dialect == "sqlite":
            clauses.append(f"(maxx >= :x0_{k} AND minx <= :x1_{k} AND maxy >= :y0_{k} AND miny <= :y1_{k})")
        else:
            clauses.append(f"geom && ST_MakeEnvelope(:x0_{k}, :y0_{k}, :x1_{k}, :y1_{k}, 4490)")
    geom_col = "ST_AsBinary(geom) AS geom" if dialect == "postgresql" else "geom"
    if dialect == "sqlite":
        cond = f"id IN (SELECT id FROM rtree_{table}_geom WHERE {' OR '.join(clauses)})"
    else:
        cond = "(" + " OR ".join(clauses) + ")"
    sql = f"SELECT {', '.join(cols)}, {geom_col} FROM {table} WHERE {cond}" + (f" AND {where}" if where else "") + extra
    rows = conn.execute(text(sql), params).fetchall()
    blobs = [r[-1] for r in rows]
    if dialect == "postgresql":
        geoms = shapely.from_wkb(np.array([None if b is None else bytes(b) for b in blobs], dtype=object))
    else:
        geoms = from_gpkg_blobs(blobs)
    return [r[:-1] for r in rows], np.asarray(geoms, dtype=object)


def recolour_for_enterprises(session: Session, enterprise_ids: Iterable[int], old_geoms: dict | None = None,
                             *, units: Iterable[str] | None = None) -> dict[str, list[int]]:
    """After enterprises changed level or location, recompute only the zones that contain them (at the
    old location too, given in ``old_geoms`` {id: geometry}) in every unit levelled so far, through
    ``session`` (same transaction as the change). Returns {unit: [zone ids recomputed]}."""
    session.flush()
    conn = session.connection()
    ids = [int(i) for i in enterprise_ids]
    if not ids:
        return {}
    zoned = zoned_units(conn)
    if units is not None:
        zoned = {u: s for u, s in zoned.items() if u in set(units)}
    if not zoned:
        return {}
    et = Enterprise.__table__
    rows = conn.execute(select(et.c.id, et.c.geom).where(et.c.id.in_(ids))).fetchall()
    pts = [g for _, g in rows if g is not None and not g.is_empty]
    pts += [g for g in (old_geoms or {}).values() if g is not None and not g.is_empty]
    if not pts:
        return {}
    pts_arr = np.asarray(pts, dtype=object)
    boxes = [tuple(b) for b in shapely.bounds(pts_arr)]
    done: dict[str, list[int]] = {}
    meta_epsg = conn.execute(select(ProjectMeta.__table__.c.value)
                             .where(ProjectMeta.__table__.c.key == "metric_epsg")).scalar()
    metric_epsg = int(meta_epsg) if meta_epsg else None
    for unit, cfg in zoned.items():
        zrows, zgeoms = _bbox_sql(conn, "zones", ["id", "name", "kind", "population"],
                                  _kinds_sql(UNIT_KINDS[unit]), boxes)
        if not zrows:
            done[unit] = []
            continue
        hit = np.zeros(len(zrows), dtype=bool)
        _, zi = assign(pts_arr, zgeoms)
        hit[zi] = True
        zrows = [r for r, h in zip(zrows, hit) if h]
        zgeoms = zgeoms[hit]
        if not zrows:
            done[unit] = []
            continue
        erows, egeoms = _bbox_sql(conn, "enterprises", ["id", "name", "level"], "",
                                  [tuple(b) for b in shapely.bounds(zgeoms)])
        ent_ids = np.array([r[0] for r in erows], dtype=np.int64)
        ent_names = np.array([r[1] for r in erows], dtype=object)
        ent_levels = _levels_array([r[2] for r in erows])
        zone_ids = np.array([r[0] for r in zrows], dtype=np.int64)
        divisor = _divisor(cfg, zgeoms, [r[3] for r in zrows], np.array([r[1] for r in zrows], dtype=object),
                           metric_epsg)
        c = compute(zgeoms, egeoms, ent_levels, cfg, divisor)
        results = _zone_results(c, cfg, zone_ids, [r[1] for r in zrows], [r[2] for r in zrows], ent_ids,
                                ent_names, ent_levels)
        _write(conn, results, _decisions(c, cfg), zone_ids, ent_ids, ent_levels, None, None)
        done[unit] = zone_ids.tolist()
    return done


def relocate_enterprise(session: Session, ent: Enterprise, geom) -> dict[str, list[int]]:
    """Move ``ent`` to ``geom`` (a point in EPSG:4490) and recolour the zones at its old and new places."""
    if geom is None or geom.geom_type != "Point" or geom.is_empty:
        raise RiskmapError("企业位置应为一个点", "an enterprise location must be a point", where="enterprises.geom")
    old = ent.geom
    ent.geom = geom
    return recolour_for_enterprises(session, [ent.id], {ent.id: old} if old is not None else None)


def recolour_project(project, enterprise_ids: Iterable[int], old_geoms: dict | None = None) -> dict[str, list[int]]:
    """:func:`recolour_for_enterprises` in its own transaction."""
    with project.session(history=False) as s:
        return recolour_for_enterprises(s, enterprise_ids, old_geoms)


def demo_zoning(project) -> None:
    """Level every unit the project has (town, village, grid, park, custom) under 就高."""
    kinds = set(project.read_table("zones", columns=["kind"])["kind"])
    for unit, unit_kinds in UNIT_KINDS.items():
        if unit != "county" and kinds & set(unit_kinds):
            zone_project(project, unit, "max")
