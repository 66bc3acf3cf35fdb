"""Zoning: the level of every zone of a unit (town, village, grid, park, custom) from the enterprises inside.

Rules (``max`` 就高, ``weighted`` density, count rules) and their numbers are in ``zoning.toml``; see
:mod:`riskmap.grading.zoning_rules`. Per zone the project keeps the level, the rule and a readable reason
(``zones.level``, ``level_rule``, ``level_reason``) and the objects that decided the level
(``zone_decisions``, one row per enterprise with its level, the rule and a note):

* 就高 (``max``): the enterprises of the highest level inside; they alone set the level (note 区内最高等级).
* 加权密度 (``weighted``): every graded enterprise inside, each with the weight it added (note ``权重 w``):
  the score is the sum over all of them, so all of them decided it, and the reason says so ("得分计入区内全部
  n 家已定级企业，均保存为定级依据"). Ungraded enterprises add nothing to the score: the reason counts them
  (未定级n), no row is kept for them.
* a count rule that fired (``count:<id>``): the enterprises it counted.

An enterprise without a location (未定位, geometry NULL) counts in the zone it is assigned to, not by its
point: its ``zone_id`` when that zone is of the unit, else the nearest ancestor of that zone (``parent_id``)
that is; for the town unit, else the one town whose name is its ``town`` (城关镇 = 城关); for the county unit
of a one-county project, that county, and in a city's store of several counties the county its row belongs to
(``enterprises.county``, schema 5). Grids can never hold one: grid zoning (and any unit it cannot be
placed in) skips it, and :attr:`ZoningResult.unlocated_skipped` says how many. An enterprise without a level
(未评估) adds to no level: a zone whose enterprises are all 未评估 is levelled as a zone with no graded
enterprise, i.e. ``empty_level`` of ``zoning.toml`` (低 by default, 0 there leaves it ungraded) — the reason
counts them (未定级n) and says the zone holds no graded enterprise, and none of them is kept as a decision.

The settings of each run are kept in ``project_meta`` (``zoning.<unit>``) so that when enterprises change
(added, moved, deleted, given another level) :func:`enterprises_changed`, the one hook every writer calls,
recomputes only the zones containing them (old and new location) under exactly the same settings, in the
writer's own transaction. This module computes; :mod:`riskmap.store.zoning` reads and writes.

Speed (``bench/bench_zoning.py``: 100k enterprises into 5k grid cells from scratch ≤ 1 s, incremental
≤ 20 ms): enterprises are read as id, level and x/y arrays only, aggregated in the database into one value
(:func:`riskmap.store.zoning.read_enterprise_xy`; names afterwards, for the enterprises a reason names);
polygons are listed in the buckets of a grid and each point tested against those of its bucket with
``shapely.intersects_xy`` on prepared polygons, without a shapely object per enterprise; levels and decisions
are written in bulk (multi-row ``INSERT`` on GeoPackage; on PostgreSQL ``COPY`` in text blocks and one
``UPDATE … FROM unnest`` binding each column as one array literal, into a zones table with room for the rows'
new versions on their pages), and a run from scratch writes only the zones whose level, rule or reason
changed and the decisions of the zones whose decisions changed. The database works while this process
formats: the decisions (which need no reason) are written on a thread of their own through the run's
connection while the reasons are made, then the levels; on PostgreSQL, in a transaction that has written
nothing yet, the points are read in two id halves at once and the deciding enterprises' names while the
decisions are written, each on a second connection under the run's exported snapshot, and with nothing kept
for the store the stamp is counted by the points' own read (one scan of the enterprises less) and the zones
are read once, with their geometries. That shortens a run where a core is idle more than it saves CPU (client
1.5 s, server 1.6–1.8 s for the city grid's first run). City grid, first run in a new process, alternated with
the code before (median of 4, load 0.9–1.1): PostGIS 2.34 s instead of 3.02 s (reading 0.93–1.08 s instead of
1.16–1.35, writing 0.68–0.71 s instead of 1.04–1.07), 2.97 instead of 3.41 s at load 2.2–2.6; a GeoPackage
2.27 s either way (SQLite steps on two threads contend for its allocator: no second reader there). Which zone
holds which enterprise is kept while the store is unchanged, in the process and in the user's cache folder
between processes (:func:`located_pairs`, :mod:`riskmap.store.zoning`), shared with
:func:`riskmap.stats.city_stats`: the next run, in this process or a new one, reads only the levels. A city
(1M enterprises, 50k grid cells, bench/bench_city.py, 2 cores under load 2.0–2.8) zones its grid in a new
process on an unchanged store in 2.2 s (GeoPackage) / 2.5–2.9 s (PostGIS), its towns in 0.7 / 0.9 s, and
city_stats by town or grid takes 0.3–0.9 / 0.55–0.8 s; after a change of enterprises' points or of the unit's
zones the first run reads and assigns again: grid 2.9–3.0 s on both stores at load 1.9–2.3 (4.6–4.9 s before
the bulk read and bucketing, in the same minutes; PostGIS since the bulk write above: 2.66 s at load 1.6,
its write 1.4 s instead of 2.3–3.3 s), and another unit's first run in the same process takes the
points the first one read: towns 0.74–0.97 s, counties 0.75–0.97 s (2.4–2.8 s and 2.0–2.1 s before).

>>> # from riskmap.store import Project; p = Project.open("demo.gpkg")
>>> # result = zone_project(p, unit="town", rule="max"); result.zones[0].reason
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy.orm import Session

from riskmap.crs import to_metric
from riskmap.errors import RiskmapError
from riskmap.grading import zoning_rules
from riskmap.grading.zoning_rules import RuleSettings, counts_by_level, evaluate, reason_texts
from riskmap.levels import level_info
from riskmap.model import Enterprise
from riskmap.progress import Cancel, Progress, check_cancel, gc_paused
from riskmap.store import zoning as zstore

UNIT_KINDS = {
    "county": ("county",), "town": ("town",), "village": ("village",), "grid": ("grid",),
    "park": ("chemical_park", "industrial_park"), "custom": ("custom", "functional"),
}
UNIT_ZH = {"county": "县", "town": "镇/街道", "village": "村/社区", "grid": "网格", "park": "园区",
           "custom": "自定义区域"}
MAX_NAMED = 3  # deciding enterprises named in a reason
MAX_LISTED = 50  # deciding enterprises listed in a ZoneResult
NAMES_BESIDE = 1000  # more deciding enterprises than this: their names read beside the write (PostgreSQL)


def check_unit(unit: str) -> tuple[str, ...]:
    """The zone kinds of ``unit``, or an error listing the units."""
    if unit not in UNIT_KINDS:
        raise RiskmapError(f"未知的分区单元 {unit!r}，可选：{', '.join(UNIT_KINDS)}",
                           f"unknown zoning unit {unit!r}; use one of {', '.join(UNIT_KINDS)}", where="unit")
    return UNIT_KINDS[unit]


# ---------------------------------------------------------------- pure computation

def points_xy(points) -> np.ndarray:
    """(n, 2) coordinates of shapely points; NaN for a missing or empty point or another geometry."""
    g = np.asarray(points, dtype=object)
    out = np.full((len(g), 2), np.nan)
    ok = shapely.get_type_id(g) == 0
    ok[ok] = ~shapely.is_empty(g[ok])
    out[ok, 0], out[ok, 1] = shapely.get_x(g[ok]), shapely.get_y(g[ok])
    return out


def _assign_tree(points: np.ndarray, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok_pt = ~(shapely.is_missing(points) | shapely.is_empty(points))
    ok_pg = ~(shapely.is_missing(polygons) | shapely.is_empty(polygons))
    pt_i, pg_i = np.flatnonzero(ok_pt), np.flatnonzero(ok_pg)
    if not len(pt_i) or not len(pg_i):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    tree = STRtree(points[pt_i])
    q_pg, q_pt = tree.query(polygons[pg_i], predicate="intersects")
    return pt_i[q_pt], pg_i[q_pg]


def _expand(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [start, start + length): (range index, position) of every element, in order."""
    which = np.repeat(np.arange(len(lengths)), lengths)
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return which, np.repeat(starts, lengths) + offset


ASSIGN_CHUNK = 1 << 17  # points tested at a time by assign_xy


def assign_xy(xy, polygons) -> tuple[np.ndarray, np.ndarray]:
    """:func:`assign` for points given as an (n, 2) array of x, y (NaN: no location).

    Polygons' bounding boxes are listed in the buckets of a regular grid (a bucket (m/n)^(1/3) of a typical
    polygon's size for n points and m polygons: few polygons per bucket, few buckets per polygon); each point
    meets the boxes of its bucket, then ``intersects_xy`` (prepared) decides, the points taken bucket by
    bucket (a polygon's tests come together). No shapely point is made. City (1M points, 50k grid cells):
    0.49 s instead of 0.75–1.6 s by listing points under each polygon; towns 0.26 s instead of 0.66 s (load 1.7,
    warm). Points are tested :data:`ASSIGN_CHUNK` at a time: a new process's first call faulted 0.3–0.45 s of
    system time in for 1M points' temporaries at once (first call 1.07–1.44 s instead of 1.43–2.14, load 3.7)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    polygons = np.asarray(polygons, dtype=object)
    none = np.empty(0, np.int64), np.empty(0, np.int64)
    b = shapely.bounds(polygons)
    pg_i = np.flatnonzero(np.isfinite(b).all(axis=1))
    if not len(pg_i) or not len(xy):
        return none
    b = b[pg_i]
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    x, y = xy[:, 0], xy[:, 1]
    pt_i = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))  # NaN compares False
    if not len(pt_i):
        return none
    x, y = x[pt_i], y[pt_i]
    ratio = (len(pg_i) / len(pt_i)) ** (1 / 3)
    w = max(float(np.median(b[:, 2] - b[:, 0])) * ratio, (x1 - x0) / 8192) or 1.0
    h = max(float(np.median(b[:, 3] - b[:, 1])) * ratio, (y1 - y0) / 8192) or 1.0
    budget = 4 * (len(pt_i) + len(pg_i))  # buckets
    nx, ny = int((x1 - x0) / w) + 1, int((y1 - y0) / h) + 1
    if nx * ny > budget:
        grow = (nx * ny / budget) ** 0.5
        w, h = w * grow, h * grow
        nx, ny = int((x1 - x0) / w) + 1, int((y1 - y0) / h) + 1

    def col(v):
        return np.clip(((v - x0) / w).astype(np.int64), 0, nx - 1)

    def row(v):
        return np.clip(((v - y0) / h).astype(np.int64), 0, ny - 1)

    c0, c1, r0, r1 = col(b[:, 0]), col(b[:, 2]), row(b[:, 1]), row(b[:, 3])
    n_rows = r1 - r0 + 1
    n_buckets = (c1 - c0 + 1) * n_rows
    if n_buckets.sum() > 8 * budget:  # a few polygons far larger than the rest: a tree of points does better
        pts = shapely.points(x, y)
        q_pt, q_pg = _assign_tree(pts, polygons[pg_i])
        return pt_i[q_pt], pg_i[q_pg]
    pg, k = _expand(np.zeros(len(b), np.int64), n_buckets)
    bucket = (c0[pg] + k // n_rows[pg]) * ny + r0[pg] + k % n_rows[pg]  # the same monotone formula as the
    listed = pg[np.argsort(bucket)]  # points' below: no pair is missed; polygons by bucket (any order within)
    size = np.bincount(bucket, minlength=nx * ny)
    first = np.cumsum(size) - size
    key = col(x) * ny + row(y)
    by_bucket = np.argsort(key)  # not stable: 0.03 s instead of 0.11 s for 1M (SIMD sort); pairs come unordered
    key, x, y, pt_i = key[by_bucket], x[by_bucket], y[by_bucket], pt_i[by_bucket]
    geoms = polygons[pg_i]
    shapely.prepare(geoms)
    bx0, by0, bx1, by1 = (np.ascontiguousarray(b[:, j]) for j in range(4))
    out_pt, out_pg = [], []
    for s in range(0, len(key), ASSIGN_CHUNK):  # small temporaries, reused: a new process's first run
        k = key[s:s + ASSIGN_CHUNK]  # page-faults far less (city grid: 0.04-0.13 s system time, not 0.3-0.45)
        pt, pos = _expand(first[k], size[k])
        pg = listed[pos]
        xj, yj = x[s:s + ASSIGN_CHUNK][pt], y[s:s + ASSIGN_CHUNK][pt]
        near = (xj >= bx0[pg]) & (xj <= bx1[pg]) & (yj >= by0[pg]) & (yj <= by1[pg])
        pg, pt, xj, yj = pg[near], pt[near], xj[near], yj[near]
        hit = shapely.intersects_xy(geoms[pg], xj, yj)
        out_pt.append(pt_i[s + pt[hit]]), out_pg.append(pg_i[pg[hit]])
    return np.concatenate(out_pt), np.concatenate(out_pg)


def assign(points, polygons) -> tuple[np.ndarray, np.ndarray]:
    """Which polygon holds which point: arrays (point index, polygon index); a point on a border shared
    by two polygons is in both."""
    points = np.asarray(points, dtype=object)
    polygons = np.asarray(polygons, dtype=object)
    kinds = shapely.get_type_id(points)
    if ((kinds == 0) | (kinds == -1)).all():
        return assign_xy(points_xy(points), polygons)
    return _assign_tree(points, polygons)


@dataclass
class ZoneResult:
    """One zone's level under a rule, with its reason and the enterprises of the highest level inside."""

    id: int
    name: str
    kind: str
    level: int | None
    rule: str
    reason: str
    counts: list[int]  # levels 1..4, then ungraded
    score: float | None = None
    deciders: list[dict] = field(default_factory=list)  # the first MAX_LISTED of the highest level

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
    unlocated_counted: int = 0  # enterprises without a location counted by their assigned zone
    unlocated_skipped: int = 0  # and those this unit could not place (every one, for grids)
    stamp: str | None = field(default=None, repr=False)  # the store's stamp the run read under (cache)

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
                "summary": self.summary(), "unlocated_counted": self.unlocated_counted,
                "unlocated_skipped": self.unlocated_skipped, "zones": [z.to_json() for z in self.zones]}


@dataclass
class _Computed:
    outcome: zoning_rules.Outcome
    counts: np.ndarray
    divisor: np.ndarray | None
    pair_zone: np.ndarray  # sorted by zone, then level (ungraded last), then enterprise
    pair_ent: np.ndarray
    pair_level: np.ndarray
    top_start: np.ndarray  # per zone: where its enterprises of the highest level start in the pairs
    top_count: np.ndarray  # and how many there are (0: nothing graded inside)


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


def compute(zone_geoms, ent_points, ent_levels, cfg: RuleSettings, divisor=None, ent_zone=None,
            pairs=None) -> _Computed:
    """Assign enterprises to zones and apply ``cfg``; everything on arrays, nothing written.
    ``ent_points``: shapely points, or an (n, 2) array of x, y. ``ent_zone``: for enterprises without a
    location, the index of the zone they count in (-1: none, or located). ``pairs``: (enterprise index, zone
    index) of the located enterprises as :func:`assign_xy` gives them, when known already."""
    pts = np.asarray(ent_points)
    xy = points_xy(pts) if pts.dtype == object else pts
    pt, zn = assign_xy(xy, zone_geoms) if pairs is None else pairs
    if ent_zone is not None:
        ent_zone = np.asarray(ent_zone, dtype=np.int64)
        k = np.flatnonzero((ent_zone >= 0) & ~np.isfinite(xy).all(axis=1))
        if len(k):
            pt, zn = np.concatenate([pt, k]), np.concatenate([zn, ent_zone[k]])
    lv = np.asarray(ent_levels, dtype=np.int64)[pt] if len(pt) else np.empty(0, np.int64)
    n = len(zone_geoms)
    counts = counts_by_level(zn, lv, n)
    out = evaluate(counts, cfg, divisor)
    sort_lv = np.where((lv >= 1) & (lv <= 4), lv, 9)
    n_pt = int(pt.max()) + 1 if len(pt) else 1
    if n * 10 * n_pt < 2 ** 62:  # one int64 key (1M pairs: 0.06 s instead of 0.3 s for lexsort); equal keys
        order = np.argsort((zn.astype(np.int64) * 10 + sort_lv) * n_pt + pt)  # are equal pairs: any sort will do
    else:
        order = np.lexsort((pt, sort_lv, zn))
    zn, pt, lv = zn[order], pt[order], lv[order]
    graded = counts[:, :4]
    top = (graded > 0).argmax(axis=1)  # column of the highest level inside
    top_count = np.where(graded.sum(axis=1) > 0, graded[np.arange(n), top], 0)
    top_start = np.searchsorted(zn, np.arange(n), side="left")  # graded pairs come first, highest level first
    return _Computed(out, counts, divisor, zn, pt, lv, top_start, top_count)


def _decisions(c: _Computed, cfg: RuleSettings):
    """(zone index, enterprise index, rule, note) rows of the objects that decided each zone."""
    z, e, lv = c.pair_zone, c.pair_ent, c.pair_level
    graded = (lv >= 1) & (lv <= 4)
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


def _top_enterprises(c: _Computed, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(zone index, enterprise index) of the first ``limit`` enterprises of the highest level in each zone."""
    zone, pos = _expand(c.top_start, np.minimum(c.top_count, limit))
    return zone, c.pair_ent[pos]


def _zone_results(c: _Computed, cfg: RuleSettings, zone_ids, zone_names, zone_kinds, ent_ids, ent_levels,
                  name_of: dict) -> list[ZoneResult]:
    """Per-zone results with readable reasons; ``name_of``: enterprise id → name, for the enterprises of the
    highest level (see :func:`_top_enterprises`)."""
    n = len(zone_ids)
    _, ent = _top_enterprises(c, MAX_LISTED)  # zone by zone, min(top_count, MAX_LISTED) each
    ids = np.asarray(ent_ids, dtype=np.int64)[ent].tolist()
    lvs = np.asarray(ent_levels, dtype=np.int64)[ent].tolist()
    names = list(map(name_of.get, ids))
    items = [{"id": eid, "name": nm, "level": lv} for eid, nm, lv in zip(ids, names, lvs)]
    ends = np.cumsum(np.minimum(c.top_count, MAX_LISTED))
    bounds = list(zip((ends - np.minimum(c.top_count, MAX_LISTED)).tolist(), ends.tolist()))
    listed = [items[a:b] for a, b in bounds]
    named = [[str(nm) for nm in names[a:min(b, a + MAX_NAMED)]] for a, b in bounds]
    reasons = reason_texts(c.outcome, c.counts, cfg, c.divisor, named, c.top_count.tolist(),
                           zoning_rules.Names.load())
    levels_at = c.outcome.level.tolist()
    scores = [None if s != s else round(s, 6) for s in np.asarray(c.outcome.score, dtype=float).tolist()]
    counts_at = c.counts.tolist()
    zone_ids = np.asarray(zone_ids).tolist()
    return [ZoneResult(id=int(zone_ids[i]), name=str(zone_names[i]), kind=str(zone_kinds[i]),
                       level=levels_at[i] or None, rule=cfg.rule, reason=reasons[i], counts=counts_at[i],
                       score=scores[i], deciders=listed[i]) for i in range(n)]


# ---------------------------------------------------------------- enterprises without a location

_TOWN_SUFFIXES = ("街道办事处", "办事处", "街道", "民族乡", "镇", "乡")


def town_key(name) -> str:
    """A town name as compared: no spaces, without the 镇/乡/街道 suffix.

    >>> town_key(" 城关镇"), town_key("城关"), town_key("明辉路街道")
    ('城关', '城关', '明辉路')
    """
    if not isinstance(name, str):
        return ""
    key = "".join(name.split())
    for suffix in _TOWN_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def unlocated_zones(conn, unit: str, unl: dict) -> dict:
    """``unl`` (arrays id, level, zone_id, town of enterprises without a location) with ``zone``: the id of
    the zone of ``unit`` each counts in, -1 where it has none (always for grids). See the module's text."""
    n = len(unl["id"])
    out = {**unl, "zone": np.full(n, -1, dtype=np.int64)}
    if not n or unit == "grid":
        return out
    rows = zstore.read_zone_rows(conn, UNIT_KINDS[unit])
    ids = {r[0] for r in rows}
    parent: dict[int, int | None] = {}
    wanted = {int(z) for z in unl["zone_id"].tolist() if z is not None}
    for _ in range(4):  # the zone itself, then up to three ancestors
        ask = [z for z in wanted if z not in parent]
        if not ask:
            break
        got = zstore.read_zone_rows(conn, None, ids=ask)
        parent.update({int(r[0]): (None if r[3] is None else int(r[3])) for r in got})
        parent.update({z: None for z in ask if z not in parent})
        wanted = {p for p in parent.values() if p is not None}
    by_name: dict[str, list[int]] = {}
    if unit == "town":
        for r in rows:
            by_name.setdefault(town_key(r[1]), []).append(r[0])
    only = rows[0][0] if unit == "county" and len(rows) == 1 else -1
    of_county: dict[int, int] = {}  # a city's counties in one store: an enterprise counts in its own county
    if unit == "county" and len(rows) > 1:
        from sqlalchemy import text

        from riskmap.store.project import read_arrays

        zone_of = {c: z for z, c in conn.execute(text(
            "SELECT id, county FROM zones WHERE kind = 'county' AND county IS NOT NULL ORDER BY id DESC"))}
        ec = read_arrays(conn, "enterprises", ["id", "county"], ids=unl["id"])
        of_county = {int(e): zone_of[c] for e, c in zip(ec["id"].tolist(), ec["county"].tolist()) if c in zone_of}
    zone = out["zone"]
    for k, (zid, town) in enumerate(zip(unl["zone_id"].tolist(), unl["town"].tolist())):
        z = None if zid is None else int(zid)
        for _ in range(4):
            if z is None or z in ids:
                break
            z = parent.get(z)
        if z is not None and z in ids:
            zone[k] = z
            continue
        cands = by_name.get(town_key(town), []) if town_key(town) else []
        zone[k] = cands[0] if len(cands) == 1 else of_county.get(int(unl["id"][k]), only)
    return out


BOUNDARY_KINDS = ("province", "city", "county")  # zones whose union is the project's area


@dataclass
class PointPlaces:
    """Where points fall: inside the project's boundary (None: the project has no boundary zone) and the
    id and name of the town zone holding each (-1 / None: no town)."""

    inside: np.ndarray | None
    town_id: np.ndarray
    town_name: np.ndarray


def place_points(conn, lon, lat) -> PointPlaces:
    """The boundary test and town zone of points in EPSG:4490 (the first town when on a shared border)."""
    xy = np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])
    n = len(xy)
    _, bgeoms = zstore.read_zones(conn, BOUNDARY_KINDS)
    bgeoms = bgeoms[~(shapely.is_missing(bgeoms) | shapely.is_empty(bgeoms))] if len(bgeoms) else bgeoms
    inside = None
    if len(bgeoms):
        pt, _ = assign_xy(xy, bgeoms)
        inside = np.zeros(n, dtype=bool)
        inside[pt] = True
    trows, tgeoms = zstore.read_zones(conn, ("town",))
    town_id = np.full(n, -1, dtype=np.int64)
    town_name = np.full(n, None, dtype=object)
    if trows:
        pt, zn = assign_xy(xy, tgeoms)
        order = np.lexsort((zn, pt))
        pt, zn = pt[order], zn[order]
        first = np.r_[True, pt[1:] != pt[:-1]] if len(pt) else np.zeros(0, dtype=bool)
        town_id[pt[first]] = np.array([trows[i][0] for i in zn[first].tolist()], dtype=np.int64)
        town_name[pt[first]] = np.array([trows[i][1] for i in zn[first].tolist()], dtype=object)
    return PointPlaces(inside, town_id, town_name)


# ---------------------------------------------------------------- levelling, through the caller's transaction

def _decision_rows(dec, zone_ids, ent_ids, ent_levels) -> dict:
    """The zone_decisions columns of :func:`_decisions`' rows (indices made ids)."""
    dz, de, drule, dnote = dec
    return {"zone_id": np.asarray(zone_ids, dtype=np.int64)[dz], "rule": drule,
            "object_id": np.asarray(ent_ids, dtype=np.int64)[de],
            "object_level": np.asarray(ent_levels, dtype=np.int64)[de], "note": dnote}


def _write_decisions(conn, rows: dict, zone_ids, unit: str | None) -> dict | None:
    """The first half of the write, which needs no reason: with ``unit`` (a run from scratch) the unit's
    decisions made those of ``rows`` (only zones whose decisions differ rewritten) and the unit's stored
    levels read and returned (:func:`zstore.read_levels`, for :func:`_write_levels`); else the decisions of
    ``zone_ids`` replaced by ``rows``."""
    if unit is None:
        zstore.replace_decisions(conn, rows, zone_ids=zone_ids)
        return None
    old = zstore.read_levels(conn, UNIT_KINDS[unit])
    zstore.update_decisions(conn, rows, UNIT_KINDS[unit])
    return old


def _write_levels(conn, results: list[ZoneResult], *, unit: str | None, cfg: RuleSettings, old: dict | None) -> None:
    """The second half: the zones' levels, rules and reasons — with ``unit``, only those that differ from
    ``old`` — and the unit's settings kept."""
    ids, levels = [r.id for r in results], [r.level for r in results]
    rules, reasons = [r.rule for r in results], [r.reason for r in results]
    if unit is None:
        zstore.write_levels(conn, ids, levels, rules, reasons)
        return
    zstore.write_changed_levels(conn, UNIT_KINDS[unit], ids, levels, rules, reasons, old=old)
    zstore.save_settings(conn, unit, {"unit": unit, **cfg.as_dict()})


class _Beside:
    """``fn()`` run on a thread of its own while the caller goes on (:meth:`result` waits and returns or
    raises what it did); ``run=False``: nothing run, result None. The caller must not use the connection
    ``fn`` uses until :meth:`result` returned; leaving the ``with`` block waits in any case."""

    def __init__(self, fn, run: bool = True):
        self._fn, self._out, self._exc = fn, None, None
        self._thread = threading.Thread(target=self._run, name="riskmap-zoning-write", daemon=True) if run else None

    def _run(self):
        try:
            self._out = self._fn()
        except BaseException as exc:  # handed to the caller
            self._exc = exc

    def __enter__(self):
        if self._thread is not None:
            self._thread.start()
        return self

    def result(self):
        if self._thread is not None:
            self._thread.join()
        if self._exc is not None:
            exc, self._exc = self._exc, None
            raise exc
        return self._out

    def __exit__(self, *exc):
        if self._thread is not None:
            self._thread.join()
        return False


def _levels_array(values) -> np.ndarray:
    """Enterprise levels as int64, 0 for missing or out of 1..4."""
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.where(arr == None, np.nan, arr)  # noqa: E711 - elementwise
    out = np.nan_to_num(arr.astype(float), nan=0.0).astype(np.int64)
    out[(out < 1) | (out > 4)] = 0
    return out


def _columns(rows: list[tuple], k: int) -> np.ndarray:
    return np.array([r[k] for r in rows], dtype=object)


def _with_unlocated(ents: dict, unl: dict | None, zone_ids: np.ndarray) -> tuple[dict, np.ndarray | None]:
    """``ents`` with the unlocated enterprises ``unl`` (arrays id, level, zone: the id of the zone each
    counts in, -1 none) that count in one of ``zone_ids`` put in place of their rows, and for every row the
    index of that zone (-1: located or not counted)."""
    if unl is None or not len(unl["id"]):
        return ents, None
    pos = {int(z): k for k, z in enumerate(zone_ids.tolist())}
    where = np.array([pos.get(int(z), -1) for z in unl["zone"].tolist()], dtype=np.int64)
    keep = where >= 0
    rest = ~np.isin(ents["id"], unl["id"])
    n_rest = int(rest.sum())
    nan = np.full(int(keep.sum()), np.nan)
    out = {"id": np.concatenate([ents["id"][rest].astype(np.int64), unl["id"][keep].astype(np.int64)]),
           "level": np.concatenate([np.asarray(ents["level"], dtype=object)[rest],
                                    np.asarray(unl["level"], dtype=object)[keep]]),
           "x": np.concatenate([np.asarray(ents["x"], dtype=float)[rest], nan]),
           "y": np.concatenate([np.asarray(ents["y"], dtype=float)[rest], nan])}
    return out, np.concatenate([np.full(n_rest, -1, dtype=np.int64), where[keep]])


def _level_zones(conn, zrows: list[tuple], zone_geoms, ents: dict, cfg: RuleSettings, *, metric_epsg: int | None,
                 unit: str | None = None, progress: Progress | None = None, cancel: Cancel | None = None,
                 times: list | None = None, unlocated: dict | None = None, write: bool = True,
                 pairs: zstore.Pairs | None = None) -> list[ZoneResult]:
    """Level the zones ``zrows`` (id, name, kind, population) from the enterprise arrays ``ents`` (id, level,
    x, y) under ``cfg`` and write them through ``conn``: a whole ``unit`` (its decisions replaced, its settings
    kept), or just these zones. ``unlocated`` (id, level, zone): enterprises without a location and the zone
    id each counts in. ``times`` gets the clock after the rules, the reasons and the write. ``write=False``:
    compute only (e.g. the levels as of a past date), nothing is written. ``pairs``: which located
    enterprise of ``ents`` (read in id order, before the unlocated are put in) each zone holds, when known
    (:func:`located_pairs`)."""
    mark = times.append if times is not None else (lambda t: None)
    zone_ids, zone_names = np.array([r[0] for r in zrows], dtype=np.int64), _columns(zrows, 1)
    if metric_epsg is None and cfg.rule == "weighted" and cfg.per == "km2":
        metric_epsg = zstore.read_metric_epsg(conn)
    divisor = _divisor(cfg, zone_geoms, [r[3] for r in zrows], zone_names, metric_epsg)
    n_read = len(ents["id"])
    ents, ent_zone = _with_unlocated(ents, unlocated, zone_ids)
    ent_ids, ent_levels = ents["id"].astype(np.int64), _levels_array(ents["level"])
    given = None
    if pairs is not None:  # (index into the enterprises as read, zone index) → indices into the arrays above
        rest = np.ones(n_read, dtype=bool) if ent_zone is None else ~np.isin(pairs.ids, unlocated["id"])
        pos = np.cumsum(rest) - 1
        given = (pos[pairs.pt], pairs.zi.astype(np.int64))
    c = compute(zone_geoms, np.column_stack([ents["x"], ents["y"]]), ent_levels, cfg, divisor, ent_zone, given)
    mark(time.perf_counter())
    top = np.unique(ent_ids[_top_enterprises(c, MAX_LISTED)[1]]).tolist()
    # PostgreSQL, nothing written yet: the names read on another connection under this transaction's snapshot
    # while the decisions are written, else here before
    snapshot = zstore.pg_snapshot(conn) if write and len(top) > NAMES_BESIDE else None
    name_of = zstore.enterprise_names(conn, top) if snapshot is None else None
    rows = _decision_rows(_decisions(c, cfg), zone_ids, ent_ids, ent_levels) if write else None
    # the decisions (which need no reason) written on a thread through ``conn`` while the reasons are made
    # here: the database works (PostgreSQL's COPY, SQLite's steps) while this thread formats text
    with _Beside(lambda: _write_decisions(conn, rows, zone_ids.tolist(), unit), run=write) as side:
        if name_of is None:
            name_of = zstore.enterprise_names_at(conn.engine, snapshot, top)
        if name_of is None:  # no second connection: after the decisions, on this one
            old = side.result()
            name_of = zstore.enterprise_names(conn, top)
        results = _zone_results(c, cfg, zone_ids, zone_names, _columns(zrows, 2), ent_ids, ent_levels, name_of)
        mark(time.perf_counter())
        if progress is not None:
            progress(0.7, "写入")
        old = side.result()
    check_cancel(cancel)
    if write:
        _write_levels(conn, results, unit=unit, cfg=cfg, old=old)
    mark(time.perf_counter())
    return results


def _given_levels(ents: dict, levels: dict) -> dict:
    """The enterprise arrays ``ents`` (id, level, …) restricted to the ids of ``levels`` (id → level or None),
    with those levels in place of the stored ones."""
    keep = np.isin(ents["id"], np.fromiter(levels, dtype=np.int64, count=len(levels)))
    out = {k: np.asarray(v)[keep] for k, v in ents.items()}
    out["level"] = np.array([levels[int(i)] for i in out["id"].tolist()], dtype=object)
    return out


def _by_point(pt: np.ndarray, zn: np.ndarray, n: int) -> np.ndarray:
    """The order of the pairs (``pt`` < ``n``, ``zn``) by point, then zone: placed by point in one pass when no
    point is in two zones (0.01 s for 1M pairs instead of 0.1–0.2 s sorting), else sorted."""
    slot = np.full(n, -1, dtype=np.int64)
    slot[pt] = np.arange(len(pt))
    order = slot[slot >= 0]
    return order if len(order) == len(pt) else np.lexsort((zn, pt))


def located_pairs(conn, kinds: tuple[str, ...], zone_ids: np.ndarray, zone_geoms, *,
                  cache: bool = False) -> tuple[dict, zstore.Pairs, str | None]:
    """The enterprises as arrays ``id``, ``level``, ``x``, ``y`` (in id order) and which zones of ``kinds``
    (``zone_ids`` and ``zone_geoms`` — or a function reading them, called only when the pairs are not kept —,
    in id order) hold which located enterprise (:class:`zstore.Pairs`),
    and the store's stamp. ``cache``: take the pairs kept under the same stamp, in this process or on disk
    (then only ids and levels are read, and ``x``/``y`` only say located: 0, or not: NaN) and keep the pairs
    computed, in the process and on disk — only through a transaction that has written nothing yet (a
    GeoPackage's stamp cannot see its own uncommitted rows). The points read for new pairs are kept in the
    process too (:func:`zstore.cached_points`): another unit's first run on the same store reads levels only."""
    zone_ids = np.asarray(zone_ids, dtype=np.int64)
    # PostgreSQL with nothing kept for this store: no stamp can match, it is taken from the points' own read
    # (one scan of the enterprises less, 0.1 s for the city)
    late = cache and conn.dialect.name == "postgresql" and not zstore.anything_kept(conn, kinds)
    stamp = zstore.store_stamp(conn, kinds) if cache and not late else None
    hit = zstore.cached_pairs(conn, kinds, stamp)
    if hit is not None and np.array_equal(hit.zone_ids, zone_ids):
        level = zstore.read_level_digits(conn)  # the same rows as kept (the stamp), their levels now
        if len(level) == len(hit.ids):
            x = np.where(hit.located, 0.0, np.nan)
            return {"id": hit.ids, "level": level.astype(np.int64), "x": x, "y": x.copy()}, hit, stamp
    ents = None
    kept = zstore.cached_points(conn, stamp)
    if kept is not None:  # another unit's first run on the same store: the points are known, the levels read
        level = zstore.read_level_digits(conn)
        if len(level) == len(kept[0]):
            ents = {"id": kept[0], "level": level.astype(np.int64), "x": kept[1], "y": kept[2]}
    if ents is None:
        ents, counted = zstore.read_enterprise_xy_counted(conn, split=cache)  # cache: nothing written yet
        if late:
            stamp = zstore.store_stamp(conn, kinds, enterprises=counted)
        zstore.keep_points(conn, stamp, ents["id"], ents["x"], ents["y"])
    xy = np.column_stack([ents["x"], ents["y"]])
    if callable(zone_geoms):
        zone_geoms = zone_geoms()
    pt, zn = assign_xy(xy, zone_geoms) if len(zone_ids) else (np.empty(0, np.int64), np.empty(0, np.int64))
    order = _by_point(pt, zn, len(xy))  # by enterprise, then zone id (zones are in id order)
    small = np.int32 if max(len(xy), len(zone_ids)) < 2 ** 31 else np.int64
    pairs = zstore.Pairs(ents["id"], np.isfinite(xy).all(axis=1), pt[order].astype(small), zn[order].astype(small),
                         zone_ids)
    zstore.keep_pairs(conn, kinds, stamp, pairs)
    return ents, pairs, stamp


def level_unit(conn, unit: str, cfg: RuleSettings, *, metric_epsg: int | None = None, required: bool = True,
               progress: Progress | None = None, cancel: Cancel | None = None, levels: dict | None = None,
               write: bool = True, cache: bool = False) -> ZoningResult:
    """Level every zone of ``unit`` under ``cfg`` from scratch through ``conn``, inside its transaction (the
    reads see that transaction's own rows, e.g. an import's new enterprises), and keep ``cfg`` for the unit.
    ``required``: a unit without zones is an error (else an empty result, nothing written).

    ``levels`` {enterprise id: level or None}: count only these enterprises, with these levels, instead of the
    stored ones (e.g. the levels as of a date, :mod:`riskmap.asof`); ``write=False``: compute, write nothing.
    ``cache``: which zone holds which enterprise may come from the previous run (see :func:`located_pairs`;
    only when ``conn``'s transaction has written nothing before)."""
    kinds = check_unit(unit)
    progress = progress or (lambda f, m: None)
    with gc_paused():
        t0 = time.perf_counter()
        progress(0.0, "读取分区")
        read: list = []

        def geoms():  # the zones' geometries, read once and only when needed
            if not read:
                read.append(zstore.read_zones(conn, kinds)[1])
            return read[0]

        if cache and levels is None and zstore.anything_kept(conn, kinds):  # the pairs may be kept: no geometry
            zrows = zstore.read_zone_attrs(conn, kinds)
        else:  # nothing kept (a first run): the geometries are needed, read with the rest at once
            zrows, zone_geoms = zstore.read_zones(conn, kinds)
            read.append(zone_geoms)
        if not zrows:
            if not required:
                return ZoningResult(unit, cfg, [])
            raise RiskmapError(f"项目中没有“{UNIT_ZH[unit]}”分区", f"the project has no zones of unit {unit!r}",
                               where=f"zones.kind={unit}")
        pairs = stamp = None
        if levels is None:
            ents, pairs, stamp = located_pairs(conn, kinds, [r[0] for r in zrows], geoms, cache=cache)
        else:
            ents = zstore.read_enterprise_points(conn)
        # only rows read without a point can be without a location: no scan of the table for them
        maybe = ents["id"][~(np.isfinite(ents["x"]) & np.isfinite(ents["y"]))]
        unl = unlocated_zones(conn, unit, zstore.read_unlocated(conn, ids=maybe.tolist()))
        if levels is not None:
            ents, unl = _given_levels(ents, levels), _given_levels(unl, levels)
        if read or (cfg.rule == "weighted" and cfg.per == "km2"):
            zone_geoms = geoms()
        else:  # kept pairs and no areas: the geometries are not needed
            zone_geoms = np.full(len(zrows), None, dtype=object)
        t1 = time.perf_counter()
        check_cancel(cancel)
        progress(0.3, "计算")
        times: list[float] = []
        results = _level_zones(conn, zrows, zone_geoms, ents, cfg, metric_epsg=metric_epsg, unit=unit,
                               progress=progress, cancel=cancel, times=times, unlocated=unl, write=write,
                               pairs=pairs)
        t2, t3, t4 = times
    progress(1.0, "完成")
    counted = int((unl["zone"] >= 0).sum())
    return ZoningResult(unit, cfg, results, timings={"read": t1 - t0, "assign_and_rules": t2 - t1,
                                                     "reasons": t3 - t2, "write": t4 - t3, "total": t4 - t0},
                        unlocated_counted=counted, unlocated_skipped=len(unl["id"]) - counted, stamp=stamp)


def zone_project(project, unit: str = "town", rule: str = "max", *, per: str | None = None, standard=None,
                 settings: RuleSettings | None = None, progress: Progress | None = None,
                 cancel: Cancel | None = None) -> ZoningResult:
    """Level every zone of ``unit`` under ``rule`` from scratch, read and written in one transaction.

    ``settings`` (e.g. from :func:`zoned_units`) replaces ``rule``/``per``/``standard`` to redo a unit exactly
    as it was levelled before."""
    check_unit(unit)
    cfg = settings if settings is not None else zoning_rules.settings(rule, per=per, standard=standard)
    t0 = time.perf_counter()
    with gc_paused():
        with project.session(history=False) as s:
            result = level_unit(s.connection(), unit, cfg, metric_epsg=project.metric_epsg, progress=progress,
                                cancel=cancel, cache=True)
            t1 = time.perf_counter()
        zstore.restamp(project.engine, result.stamp)  # zoning wrote no geometry: the kept pairs still hold
        if hasattr(project, "_meta_cache"):
            project._meta_cache = None  # project_meta was written in the same transaction as the zones
    t2 = time.perf_counter()
    result.timings.update(commit=t2 - t1, total=t2 - t0)
    return result


# ---------------------------------------------------------------- reading back

def zoned_units(conn_or_project) -> dict[str, RuleSettings]:
    """The units levelled so far in a project (a Project or a Connection), with the settings used."""
    return {unit: RuleSettings.from_dict(d) for unit, d in zstore.read_settings(conn_or_project).items()}


def zone_table(project, unit: str) -> list[dict]:
    """The stored levels of the zones of ``unit``: id, name, level, rule, reason, decisions."""
    kinds = check_unit(unit)
    zones = project.read_table("zones", where=zstore.kinds_where(kinds),
                               columns=["id", "name", "kind", "level", "level_rule", "level_reason",
                                        "level_updated_at"])
    with project.engine.connect() as conn:
        dec = zstore.read_decisions(conn, kinds)
        ent_ids = {int(i) for t, i in zip(dec["object_table"].tolist(), dec["object_id"].tolist())
                   if t == "enterprises"}
        names = zstore.enterprise_names(conn, sorted(ent_ids))
    by_zone: dict[int, list] = {}
    for zid, rule, table, oid, olv, note in zip(*(dec[c].tolist() for c in ("zone_id", "rule", "object_table",
                                                                          "object_id", "object_level", "note"))):
        by_zone.setdefault(zid, []).append({"rule": rule, "object_id": oid,
                                            "name": names.get(oid) if table == "enterprises" else None,
                                            "level": olv, "note": note})
    out = []
    for row in zones.itertuples():
        lv = None if row.level is None or row.level != row.level else int(row.level)
        out.append({"id": int(row.id), "name": row.name, "kind": row.kind, "level": lv,
                    "level_name": level_info(lv).name_zh if lv else None, "rule": row.level_rule,
                    "reason": row.level_reason, "decisions": by_zone.get(int(row.id), [])})
    return out


# ---------------------------------------------------------------- enterprises changed

# More changed enterprises than this (an import): every zoned unit is levelled again from scratch (under 1 s
# for 100k enterprises), faster than recolouring around each one (about 0.45 ms per enterprise).
RELEVEL_ABOVE = 2000


def _recolour_around(conn, xy: np.ndarray, zoned: dict[str, RuleSettings], unl_changed: dict | None = None,
                     zone_ids: Iterable[int] = ()) -> dict[str, list[int]]:
    """Recompute, in each unit of ``zoned`` under its settings, only the zones holding one of the points
    ``xy`` (n, 2), those the unlocated enterprises ``unl_changed`` count in, and those of ``zone_ids``;
    returns {unit: zone ids recomputed}."""
    boxes = [(x, y, x, y) for x, y in xy.tolist()]
    extra_ids = {int(z) for z in zone_ids}
    unl_all = None
    done: dict[str, list[int]] = {}
    for unit, cfg in zoned.items():
        kinds = UNIT_KINDS[unit]
        zrows, zgeoms = zstore.read_zones(conn, kinds, boxes) if boxes else ([], np.empty(0, dtype=object))
        hit = np.unique(assign_xy(xy, zgeoms)[1]) if zrows else np.empty(0, np.int64)
        zrows, zgeoms = [zrows[i] for i in hit.tolist()], zgeoms[hit]
        more = set(extra_ids)
        if unl_changed is not None and len(unl_changed["id"]):
            more.update(z for z in unlocated_zones(conn, unit, unl_changed)["zone"].tolist() if z >= 0)
        more -= {r[0] for r in zrows}
        if more:
            mrows, mgeoms = zstore.read_zones_by_id(conn, kinds, more)
            if mrows:
                order = np.argsort([r[0] for r in zrows] + [r[0] for r in mrows], kind="stable")
                allrows = zrows + mrows
                zrows = [allrows[i] for i in order.tolist()]
                zgeoms = np.concatenate([zgeoms, mgeoms])[order]
        if not zrows:
            done[unit] = []
            continue
        ents = zstore.read_enterprise_points(conn, boxes=[tuple(b) for b in shapely.bounds(zgeoms).tolist()])
        unl = None
        if unit != "grid":
            if unl_all is None:
                unl_all = zstore.read_unlocated(conn)
            unl = unlocated_zones(conn, unit, unl_all)
        results = _level_zones(conn, zrows, zgeoms, ents, cfg, metric_epsg=None, unlocated=unl)
        done[unit] = [r.id for r in results]
    return done


def enterprises_changed(session: Session, enterprise_ids: Iterable[int], old_geoms: dict | None = None,
                        old_levels: dict | None = None, old_zone_ids: Iterable[int] = ()) -> dict[str, list[int]]:
    """The one hook after enterprises were added, moved, deleted or given another level: in every unit
    levelled so far, under the settings it was levelled with, recompute the zones at their new and old
    places, through ``session`` (the same transaction as the change). Returns {unit: zone ids recomputed}.

    ``old_geoms`` {id: point before the change} (a moved or deleted enterprise); ``old_levels`` {id: level
    before}: an enterprise whose level did not change and that did not move is skipped. An enterprise
    without a location counts by its assigned zone (see the module's text); ``old_zone_ids``: zones to
    recompute as well (where an enterprise counted before it was located or re-assigned). More than
    :data:`RELEVEL_ABOVE` changed enterprises level every zoned unit again from scratch."""
    ids = sorted({int(i) for i in enterprise_ids})
    old_zone_ids = sorted({int(z) for z in old_zone_ids if z is not None})
    if not ids and not old_zone_ids:
        return {}
    session.flush()
    conn = session.connection()
    zoned = zoned_units(conn)
    if not zoned:
        return {}
    old_geoms = {int(k): v for k, v in (old_geoms or {}).items() if int(k) in set(ids)}
    now = zstore.read_enterprise_points(conn, ids=ids)
    if old_levels is not None and not old_zone_ids:
        level_now = dict(zip(now["id"].tolist(), _levels_array(now["level"]).tolist()))
        before = dict(zip(old_levels, _levels_array(list(old_levels.values())).tolist()))
        ids = [i for i in ids if i in old_geoms or i not in before or level_now.get(i) != before[i]]
        if not ids:
            return {}
    if len(ids) > RELEVEL_ABOVE:
        epsg = zstore.read_metric_epsg(conn)
        return {unit: [z.id for z in level_unit(conn, unit, cfg, metric_epsg=epsg, required=False).zones]
                for unit, cfg in zoned.items()}
    keep = np.isin(now["id"], ids)
    xy_now = np.column_stack([now["x"][keep], now["y"][keep]])
    nowhere = now["id"][keep][~np.isfinite(xy_now).all(axis=1)]
    xy = np.vstack([xy_now, points_xy([old_geoms[i] for i in ids if i in old_geoms]).reshape(-1, 2)])
    xy = np.unique(xy[np.isfinite(xy).all(axis=1)], axis=0)
    unl = zstore.read_unlocated(conn, ids=nowhere.tolist()) if len(nowhere) else None
    if not len(xy) and unl is None and not old_zone_ids:
        return {}
    return _recolour_around(conn, xy, zoned, unl, old_zone_ids)


def relocate_enterprise(session: Session, ent: Enterprise, geom) -> dict[str, list[int]]:
    """Move ``ent`` to ``geom`` (a point in EPSG:4490) and recolour the zones at its old and new places
    (for an enterprise that had no location, the zone it was assigned to)."""
    if geom is None or geom.geom_type != "Point" or geom.is_empty:
        raise RiskmapError("企业位置应为一个点", "an enterprise location must be a point", where="enterprises.geom")
    old = ent.geom
    located = old is not None and not old.is_empty
    old_zone = ent.zone_id
    ent.geom = geom
    return enterprises_changed(session, [ent.id], {ent.id: old} if located else None,
                               old_zone_ids=() if located or old_zone is None else [old_zone])


@dataclass
class Placed:
    """What :func:`locate_enterprises` did to one enterprise: the town it now has, and a note when the
    point lies in another town than its record names (the record is then kept)."""

    id: int
    town: str | None
    zone_id: int | None
    mismatch: str = ""


def locate_enterprises(session: Session, ents: list[Enterprise], lon, lat) -> tuple[list[Placed], dict]:
    """Give ``ents`` the points ``lon``/``lat`` (EPSG:4490) and recolour the zones they leave and enter, in
    ``session``'s transaction. Town and ``zone_id`` follow the point when the record names no town (or one
    the project does not have) or names the town that holds the point; when the point lies in another town
    the record's town and zone are kept and :attr:`Placed.mismatch` says so. Returns (placed, {unit: zone
    ids recomputed})."""
    if not ents:
        return [], {}
    conn = session.connection()
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    places = place_points(conn, lon, lat)
    rec = unlocated_zones(conn, "town", {
        "id": np.array([e.id for e in ents], dtype=np.int64), "level": np.full(len(ents), None, dtype=object),
        "zone_id": np.array([e.zone_id for e in ents], dtype=object),
        "town": np.array([e.town for e in ents], dtype=object)})["zone"]
    names = dict((r[0], r[1]) for r in zstore.read_zone_rows(conn, ("town",)))
    old_geoms, old_zones, out = {}, set(), []
    for k, ent in enumerate(ents):
        old = ent.geom
        if old is not None and not old.is_empty:
            old_geoms[ent.id] = old
        if ent.zone_id is not None:
            old_zones.add(int(ent.zone_id))
        if rec[k] >= 0:
            old_zones.add(int(rec[k]))
        ent.geom = shapely.Point(float(lon[k]), float(lat[k]))
        new = int(places.town_id[k])
        mismatch = ""
        if new >= 0 and (rec[k] < 0 or rec[k] == new):
            if ent.zone_id is None or int(ent.zone_id) in names:  # a village or park zone_id is kept
                ent.zone_id = new
            ent.town = names[new]
        elif new >= 0:
            mismatch = f"点位在{names[new]}，记录为{names.get(int(rec[k]), ent.town)}，保留记录"
        out.append(Placed(ent.id, ent.town, ent.zone_id, mismatch))
    done = enterprises_changed(session, [e.id for e in ents], old_geoms, old_zone_ids=old_zones)
    return out, done


def demo_zoning(project) -> None:
    """Level every unit the project has (town, village, grid, park, custom) under 就高."""
    kinds = set(project.read_table("zones", columns=["kind"])["kind"])
    for unit, unit_kinds in UNIT_KINDS.items():
        if unit != "county" and kinds & set(unit_kinds):
            zone_project(project, unit, "max")
