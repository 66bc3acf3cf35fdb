"""Validation of an import before anything is written: values, geometry, place and duplicates.

:func:`prepare` turns a :class:`~riskmap.io.readers.Source` and a :class:`~riskmap.io.fieldmap.Mapping` into
a :class:`Prepared` import: typed values per field, geometry in EPSG:4490, a mask of bad rows and the
report (file, row, field, value, reason). All checks work on whole columns (numpy/shapely), so a
100k-row sheet validates in about a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.crs import gk_zone_epsg_for, to_geographic, to_metric
from riskmap.errors import RiskmapError
from riskmap.io import coords
from riskmap.io.fieldmap import Mapping, TargetSpec, load_synonyms
from riskmap.io.issues import Report
from riskmap.io.matching import EnterpriseIndex, credit_code_ok, match_rows, name_key, normalise_credit_code, town_key
from riskmap.io.readers import Source
from riskmap.io.update import UpdatePlan, current_enterprises, describe_change, plan_updates
from riskmap.io.values import _blank_mask, convert, describe, normalise_name, text_of
from riskmap.progress import IMPORT_CANCELLED, Cancelled
from riskmap.scalars import plain_scalar

POINT, LINE, POLYGON = "point", "line", "polygon"
_MULTI = {POINT: None, LINE: shapely.MultiLineString, POLYGON: shapely.MultiPolygon}


@dataclass
class ProjectContext:
    """What validation needs to know of the project (read once)."""

    county: object | None = None  # union of zones kind='county', EPSG:4490
    county_name: str = ""
    metric_epsg: int | None = None
    enterprises: dict[str, int] = field(default_factory=dict)  # name -> id
    enterprise_geoms: dict[int, object] = field(default_factory=dict)
    existing: pd.DataFrame | None = None  # id, name, geometry of the target table (duplicates)
    towns: pd.DataFrame | None = None  # id, name, geometry of town zones
    zones: pd.DataFrame | None = None  # id, kind, geometry of all zones (parents)
    current: pd.DataFrame | None = None  # enterprises: the compared columns of those in the project (updates)

    @classmethod
    def of(cls, project, spec: TargetSpec, constants: dict) -> ProjectContext:
        ctx = cls(metric_epsg=project.metric_epsg)
        zones = project.read_table("zones", columns=["id", "name", "kind"])
        county = zones[zones["kind"] == "county"]
        if len(county):
            ctx.county = shapely.union_all(county.geometry.to_numpy())
            ctx.county_name = "、".join(county["name"].astype(str))
        ctx.towns = zones[zones["kind"] == "town"]
        ctx.zones = zones
        if any(f.type == "enterprise" for f in spec.fields.values()):
            ents = project.read_table("enterprises", columns=["id", "name"])
            ctx.enterprises = {str(n): int(i) for i, n in zip(ents["id"], ents["name"])}
            ctx.enterprise_geoms = dict(zip(ents["id"].astype(int), ents.geometry.to_numpy()))
        if spec.table == "enterprises":
            ctx.current = current_enterprises(project)
            ctx.existing = gpd.GeoDataFrame({"id": ctx.current["id"], "name": ctx.current["name"]},
                                            geometry=list(ctx.current["geometry"]), crs=4490)
        elif spec.name_field:
            existing = project.read_table(spec.table, columns=["id", spec.name_field] +
                                          (["kind"] if "kind" in spec.fields else []))
            if "kind" in existing and constants.get("kind"):
                existing = existing[existing["kind"] == constants["kind"]]
                if project.meta().get(f"approximate.{constants['kind']}"):  # 示意 zones get replaced: no duplicates
                    existing = existing.iloc[:0]
            ctx.existing = existing
        return ctx


@dataclass
class Prepared:
    """An import checked and ready to commit (nothing written yet)."""

    spec: TargetSpec
    mapping: Mapping
    source: Source
    report: Report
    values: pd.DataFrame  # one column per model field (typed Python values or None)
    geoms: np.ndarray  # EPSG:4490, of the table's geometry type; None where missing
    bad: np.ndarray  # rows that must not be written
    crs: coords.CrsChoice | None = None
    skipped: np.ndarray | None = None  # summary rows left out entirely
    update: UpdatePlan | None = None  # enterprises: the list compared with the project's
    counts: dict = field(default_factory=dict)  # enterprises: unlocated, unassessed, industry_other …
    outside: dict = field(default_factory=dict)  # row index -> a point outside the county, kept as 未定位

    @property
    def good_new(self) -> np.ndarray:
        """Good rows that add a record (for enterprises: those naming no enterprise of the project)."""
        keep = self.good
        if self.update is not None:
            keep = keep & (self.update.match < 0)
        return keep

    @property
    def n_rows(self) -> int:
        return int((~self.skipped).sum()) if self.skipped is not None else len(self.bad)

    @property
    def good(self) -> np.ndarray:
        keep = ~self.bad
        if self.skipped is not None:
            keep &= ~self.skipped
        return keep

    @property
    def n_good(self) -> int:
        return int(self.good.sum())

    @property
    def n_bad(self) -> int:
        bad = self.bad if self.skipped is None else self.bad & ~self.skipped
        return int(bad.sum())


def _row(source: Source, mask: np.ndarray) -> np.ndarray:
    return source.rows[mask]


def prepare(source: Source, spec: TargetSpec, mapping: Mapping, ctx: ProjectContext, *, crs=None,
            repair: bool = True, progress=None, cancel=None) -> Prepared:
    """Check every row of ``source`` for ``spec`` under ``mapping``; nothing is written."""
    progress = progress or (lambda f, m: None)
    report = source.report if source.report is not None else Report(source.path.name)
    checks = load_synonyms().checks
    n = len(source)
    frame = source.frame
    mapping.check(spec, source.columns, where=source.path.name)
    bad = np.zeros(n, dtype=bool)
    values = pd.DataFrame(index=pd.RangeIndex(n))
    counts: dict = {}
    keep_industry = np.zeros(n, dtype=bool)

    # ---- summary rows (合计) -----------------------------------------------------------------
    skipped = np.zeros(n, dtype=bool)
    if spec.name_field and spec.name_field in mapping.fields:
        skipped = _summary_rows(source, frame[mapping.fields[spec.name_field]], checks, report, spec.name_field)

    # ---- fields -------------------------------------------------------------------------------
    for fname, fspec in spec.fields.items():
        if cancel and cancel():
            raise_cancelled()
        if fname in mapping.constants:
            values[fname] = np.full(n, _constant(mapping.constants[fname], fspec), dtype=object)
            continue
        col = mapping.fields.get(fname)
        if fspec.type == "industry" and spec.table == "enterprises":
            values[fname], keep_industry = _industries(frame, col, source, report, skipped, counts)
            continue
        if col is None:
            values[fname] = np.full(n, None, dtype=object)
            if fspec.required:
                report.add(None, fname, None,
                           f"找不到必填字段“{fname}”对应的列（可用 --mapping 指定）",
                           f"no column for the required field {fname!r} (give one with --mapping)")
                bad[:] = True
            continue
        raw = frame[col]
        vals, wrong = convert(raw, fspec, ctx.enterprises)
        if wrong.any():
            zh, en = describe(fspec)
            report.add_rows(source.rows[wrong & ~skipped], f"{fname}（{col}）", raw.to_numpy(dtype=object)[wrong & ~skipped],
                            zh, en)
            bad |= wrong
        if fspec.type == "enterprise":
            unknown = np.fromiter((v is None for v in vals), dtype=bool, count=n) & ~_blank(raw)
            if unknown.any():
                report.add_rows(source.rows[unknown & ~skipped], f"{fname}（{col}）", raw.to_numpy(dtype=object)[unknown & ~skipped],
                                "项目中没有该企业，未关联", "no enterprise of this name in the project: not linked",
                                "warning")
        if fspec.required:
            missing = np.fromiter((v is None for v in vals), dtype=bool, count=n) & ~wrong
            if missing.any():
                report.add_rows(source.rows[missing & ~skipped], f"{fname}（{col}）", [None] * int((missing & ~skipped).sum()),
                                "缺少必填字段", "required field is empty")
                bad |= missing
        values[fname] = vals
    progress(0.3, "字段")

    # ---- geometry -----------------------------------------------------------------------------
    if source.is_table:
        geoms, choice, gbad = _table_points(source, spec, mapping, ctx, report, crs, repair, skipped)
    else:
        geoms, choice, gbad = _vector_geoms(source, spec, ctx, report, crs, repair, skipped)
    bad |= gbad
    if spec.geometry_from_enterprise and "enterprise_id" in values:
        fill = np.fromiter((g is None for g in geoms), dtype=bool, count=n) & values["enterprise_id"].notna().to_numpy()
        for i in np.flatnonzero(fill):
            geoms[i] = ctx.enterprise_geoms.get(int(values["enterprise_id"].iat[i]))
        no_geom = np.fromiter((g is None for g in geoms), dtype=bool, count=n)
        newly = fill & ~no_geom
        if newly.any():
            report.note(f"{int(newly.sum())} 行没有坐标，使用所属企业的位置",
                        f"{int(newly.sum())} rows without coordinates take their enterprise's position")
    missing_geom = np.fromiter((g is None for g in geoms), dtype=bool, count=n) & ~gbad
    if spec.geometry_optional:
        unlocated = missing_geom & ~skipped
        counts["unlocated"] = int(unlocated.sum())
        if unlocated.any():
            report.note(f"{int(unlocated.sum())} 行没有可用的坐标，作为未定位企业导入（之后可在地图上定位或用 riskmap locate 补坐标）",
                        f"{int(unlocated.sum())} rows without usable coordinates are imported as unlocated "
                        "(locate them on the map or with riskmap locate later)", "warning")
        missing_geom = np.zeros(n, dtype=bool)
    if missing_geom.any():
        report.add_rows(source.rows[missing_geom & ~skipped], "坐标", [None] * int((missing_geom & ~skipped).sum()),
                        "缺少坐标或几何", "no coordinates or geometry")
        bad |= missing_geom
    progress(0.5, "坐标")
    if cancel and cancel():
        raise_cancelled()

    # ---- place and duplicates -----------------------------------------------------------------
    has = np.fromiter((g is not None for g in geoms), dtype=bool, count=n)
    metric_epsg = ctx.metric_epsg or _metric_for(ctx, geoms[has])
    dropped: dict = {}  # points outside the county of rows kept as 未定位
    if ctx.county is not None and mapping.constants.get("kind") != "county" and has.any():
        tol = float(checks.get("county_tolerance_m", 0.0))
        area = ctx.county
        if tol > 0 and metric_epsg:
            area = to_geographic(to_metric(ctx.county, metric_epsg).buffer(tol), metric_epsg)
        shapely.prepare(area)
        idx = np.flatnonzero(has)
        outside = np.zeros(n, dtype=bool)
        outside[idx] = ~shapely.intersects(area, np.asarray(geoms[idx], dtype=object))
        if outside.any():
            where = ctx.county_name or "县域"
            rep = outside & ~skipped
            if spec.geometry_optional:  # taken for a wrong point: the row is kept as 未定位, the value reported
                report.add_rows(source.rows[rep], "坐标", [_centre_text(g) for g in geoms[rep]],
                                f"不在项目范围（{where}）内，作为未定位导入（之后可在地图上定位或用 riskmap locate 补坐标）",
                                "outside the project's county: imported as unlocated (locate it on the map or with "
                                "riskmap locate later)", "warning")
                dropped = {int(i): geoms[i] for i in np.flatnonzero(outside)}
                geoms[outside] = None
                counts["unlocated"] = counts.get("unlocated", 0) + int(rep.sum())
            else:
                report.add_rows(source.rows[rep], "坐标", [_centre_text(g) for g in geoms[rep]],
                                f"不在项目范围（{where}）内", "outside the project's county")
                bad |= outside
    elif ctx.county is None and has.any():
        report.note("项目没有县界（分区类型 county），未检查是否在县域内",
                    "the project has no county boundary: the place of the features was not checked", "warning")
    update = None
    matched = np.zeros(n, dtype=bool)
    if spec.table == "enterprises":
        _fill_towns(values, geoms, ctx, report, source)
        _credit_codes(values, source, mapping, report, bad, skipped)
        update = _match_list(values, geoms, ctx, source, report, bad, skipped, keep_industry)
        matched = update.match >= 0
        _levels_note(values, source, mapping, report, bad, skipped, counts)
    if spec.name_field and metric_epsg:
        _duplicates(source, spec, mapping, values, geoms, ctx, metric_epsg,
                    float(checks.get("duplicate_distance_m", 50.0)), report, bad, skipped, matched)
    progress(0.7, "检查")

    # ---- derived fields -----------------------------------------------------------------------
    if update is not None:  # rows found bad after the comparison change nothing
        ok = ~bad & ~skipped
        update.changes = {i: d for i, d in update.changes.items() if ok[i]}
        update.unchanged = [i for i in update.unchanged if ok[i]]
        _update_notes(update, ok, source, report)
    if spec.table == "zones":
        _zone_extras(values, geoms, ctx, metric_epsg)
    return Prepared(spec, mapping, source, report, values, geoms, bad, choice, skipped, update, counts,
                    dropped)


_OFF_EARTH = ("坐标超出地球范围（纬度应在 ±90° 之内，经度在 ±180° 之内）",
              "coordinates off the earth (latitude within ±90°, longitude within ±180°)")


def _blank(raw: pd.Series) -> np.ndarray:
    from riskmap.io.values import _blank_mask

    return _blank_mask(raw)


def _centre_text(g) -> str:
    if g is None:
        return ""
    c = g if g.geom_type == "Point" else g.centroid
    return f"{c.x:.6f},{c.y:.6f}"


def _metric_for(ctx: ProjectContext, geoms) -> int | None:
    try:
        if ctx.county is not None:
            return gk_zone_epsg_for(ctx.county)
        return gk_zone_epsg_for(np.asarray(geoms, dtype=object)) if len(geoms) else None
    except RiskmapError:
        return None


def raise_cancelled():
    raise Cancelled(IMPORT_CANCELLED)


# --------------------------------------------------------------------------------- tables (XY)


def _table_points(source: Source, spec: TargetSpec, mapping: Mapping, ctx: ProjectContext, report: Report,
                  crs, repair: bool, skipped) -> tuple[np.ndarray, coords.CrsChoice | None, np.ndarray]:
    n = len(source)
    geoms = np.full(n, None, dtype=object)
    bad = np.zeros(n, dtype=bool)
    if spec.geometry != POINT:
        report.add(None, "坐标", None, "表格只能导入点；线和面请用 SHP、GPKG、GeoJSON、KML 或 DXF",
                   "a table gives points only; use SHP, GPKG, GeoJSON, KML or DXF for lines and polygons")
        return geoms, None, np.ones(n, dtype=bool)
    frame = source.frame
    if mapping.x and mapping.y:
        x, bx = coords.parse_coordinates(frame[mapping.x])
        y, by = coords.parse_coordinates(frame[mapping.y])
        for col, b in ((mapping.x, bx), (mapping.y, by)):
            if b.any():
                report.add_rows(source.rows[b & ~skipped], col, frame[col].to_numpy(dtype=object)[b & ~skipped],
                                "坐标无法识别（应为数字或度分秒，如 105°12′30″）" + ("，作为未定位导入" if spec.geometry_optional else ""),
                                "unreadable coordinate (a number or degrees-minutes-seconds such as 105°12′30″)"
                                + ("; imported as unlocated" if spec.geometry_optional else ""),
                                "warning" if spec.geometry_optional else "error")
        if spec.geometry_optional:
            x[bx | by] = np.nan
            y[bx | by] = np.nan
        else:
            bad |= bx | by
    elif mapping.xy:
        x, y, bxy = coords.split_pairs(frame[mapping.xy])
        if bxy.any():
            opt = spec.geometry_optional
            report.add_rows(source.rows[bxy & ~skipped], mapping.xy, frame[mapping.xy].to_numpy(dtype=object)[bxy & ~skipped],
                            "坐标无法识别（应为“经度,纬度”）" + ("，作为未定位导入" if opt else ""),
                            "unreadable coordinates (expected 'lon,lat')" + ("; imported as unlocated" if opt else ""),
                            "warning" if opt else "error")
        if spec.geometry_optional:
            x[bxy] = np.nan
            y[bxy] = np.nan
        else:
            bad |= bxy
    else:
        if spec.geometry_from_enterprise:
            return geoms, None, bad
        if spec.geometry_optional:
            report.note("找不到坐标列（经度/纬度、X/Y）：全部作为未定位导入；可用 --mapping 指定 x 和 y",
                        "no coordinate columns (lon/lat, X/Y): every row is imported as unlocated; give x and y "
                        "with --mapping", "warning")
            return geoms, None, bad
        report.add(None, "坐标", None, "找不到坐标列（经度/纬度、X/Y）；可用 --mapping 指定 x 和 y",
                   "no coordinate columns (lon/lat, X/Y); give x and y with --mapping")
        return geoms, None, np.ones(n, dtype=bool)
    inside = coords.inside_function(ctx.county)
    choice = _choose_crs(x, y, crs or mapping.crs, ctx, report, inside)
    if choice is None:
        return geoms, None, np.ones(n, dtype=bool)
    res = coords.points_to_4490(x, y, choice, inside)
    cols = f"{mapping.x or mapping.xy}/{mapping.y or mapping.xy}"
    if res.metres_as_degrees.any():
        m = res.metres_as_degrees & ~skipped
        report.add_rows(source.rows[m], cols, [f"{a:g},{b:g}" for a, b in zip(x[m], y[m])],
                        f"数值像投影坐标（米），但坐标系是经纬度 {choice.label}；请用 --crs 指定投影坐标系",
                        f"the numbers look like projected metres but the CRS is geographic ({choice.label}); "
                        "give the projected CRS with --crs")
        bad |= res.metres_as_degrees
    if res.degrees_as_metres.any():
        m = res.degrees_as_metres & ~skipped
        report.add_rows(source.rows[m], cols, [f"{a:g},{b:g}" for a, b in zip(x[m], y[m])],
                        f"数值像经纬度（度），但坐标系是投影坐标 {choice.label}",
                        f"the numbers look like degrees but the CRS is projected ({choice.label})")
        bad |= res.degrees_as_metres
    if res.swapped.any():
        m = res.swapped & ~skipped
        sev = "repaired" if repair else "error"
        report.add_rows(source.rows[m], cols, [f"{a:g},{b:g}" for a, b in zip(x[m], y[m])],
                        "经纬度（X/Y）颠倒" + ("，已交换" if repair else ""),
                        "longitude and latitude (X/Y) swapped" + ("; exchanged" if repair else ""), sev)
        if not repair:
            bad |= res.swapped
    ok = np.isfinite(res.lon) & np.isfinite(res.lat)
    off = ok & ((np.abs(res.lat) > 90) | (np.abs(res.lon) > 180))
    if off.any():  # a latitude of 91° is no place on earth (a county boundary would not catch it)
        m = off & ~skipped
        report.add_rows(source.rows[m], cols, [f"{a:g},{b:g}" for a, b in zip(x[m], y[m])], _OFF_EARTH[0],
                        _OFF_EARTH[1])
        bad |= off
        ok &= ~off
    pts = shapely.points(res.lon[ok], res.lat[ok])
    geoms[np.flatnonzero(ok)] = pts
    return geoms, choice, bad


def _choose_crs(x, y, given, ctx: ProjectContext, report: Report, inside) -> coords.CrsChoice | None:
    if given is not None:
        choice = coords.parse_crs(given)
        report.note(f"坐标系：{choice.label}", f"coordinate system: {choice.label}")
        return choice
    choice, share = coords.detect_crs(x, y, inside, ctx.metric_epsg)
    finite = np.isfinite(x) & np.isfinite(y)
    if choice is None or share == 0:
        if finite.any() and coords.looks_geographic(x[finite], y[finite]).mean() > 0.5:
            choice = coords.parse_crs(4490)
        else:
            if finite.any():
                report.add(None, "坐标", None, "无法识别坐标系，请用 --crs 指定（如 --crs 4544 或 gcj02）",
                           "cannot tell the coordinate system: give it with --crs (such as 4544 or gcj02)")
            return None if finite.any() else coords.parse_crs(4490)
    if choice.is_4490:
        report.note("坐标按 CGCS2000/WGS84 经纬度读取；取自高德/腾讯地图的坐标应选 GCJ-02（--crs gcj02），"
                    "取自百度地图的选 BD-09（--crs bd09）",
                    "coordinates read as CGCS2000/WGS84 degrees; coordinates from Amap/Tencent are GCJ-02 "
                    "(--crs gcj02), from Baidu BD-09 (--crs bd09)")
    else:
        report.note(f"自动识别坐标系为 {choice.label}（{share:.0%} 的点落在县域内）",
                    f"coordinate system detected as {choice.label} ({share:.0%} of points inside the county)", "warning")
    return choice


# --------------------------------------------------------------------------------- vector formats


def _vector_geoms(source: Source, spec: TargetSpec, ctx: ProjectContext, report: Report, crs, repair: bool,
                  skipped) -> tuple[np.ndarray, coords.CrsChoice | None, np.ndarray]:
    n = len(source)
    geoms = np.asarray(source.geometry, dtype=object).copy()
    bad = np.zeros(n, dtype=bool)
    has = np.fromiter((g is not None and not g.is_empty for g in geoms), dtype=bool, count=n)
    geoms[~has] = None
    if has.any():
        geoms[has] = shapely.force_2d(np.asarray(geoms[has], dtype=object))
        xy, owner = shapely.get_coordinates(np.asarray(geoms[has], dtype=object), return_index=True)
        nonfinite = np.zeros(n, dtype=bool)
        nonfinite[np.flatnonzero(has)[np.unique(owner[~np.isfinite(xy).all(axis=1)])]] = True
        if nonfinite.any():  # NaN or infinite coordinates break every GEOS operation after this
            m = nonfinite & ~skipped
            report.add_rows(source.rows[m], "几何", [g.wkt[:60] for g in geoms[m]],
                            "坐标不是有效数值（NaN 或无穷大）", "a coordinate is not a number (NaN or infinite)")
            bad |= nonfinite
            geoms[nonfinite] = None
    geoms, wrong, converted = coerce_geometry(geoms, spec.geometry)
    dxf = source.format == "DXF"
    if wrong.any():
        if dxf:  # drawings hold labels, blocks and lines of every kind: keep only what fits
            report.note(f"DXF 中 {int(wrong.sum())} 个其他类型的图元被忽略", f"{int(wrong.sum())} DXF entities of other types ignored")
            skipped |= wrong
        else:
            types = [g.geom_type for g in np.asarray(source.geometry, dtype=object)[wrong & ~skipped]]
            report.add_rows(source.rows[wrong & ~skipped], "几何", types,
                            f"几何类型不符：{spec.table} 需要{_GEOM_ZH[spec.geometry]}",
                            f"wrong geometry type: {spec.table} takes {spec.geometry}s")
        bad |= wrong
        geoms[wrong] = None
    if converted.any():
        report.add_rows(source.rows[converted & ~skipped], "几何", ["LineString"] * int((converted & ~skipped).sum()),
                        "闭合线已转为面", "closed line turned into a polygon", "repaired")
    # the CRS
    declared = coords.crs_from_pyproj(source.crs) if source.crs is not None else None
    if crs is not None:
        choice = coords.parse_crs(crs)
        if declared is not None and declared.key != choice.key:
            report.note(f"按 --crs 读作 {choice.label}（文件声明为 {declared.label}）",
                        f"read as {choice.label} (--crs); the file declares {declared.label}", "warning")
        else:
            report.note(f"坐标系：{choice.label}", f"coordinate system: {choice.label}")
    elif declared is not None:
        choice = declared
        report.note(f"坐标系（文件声明）：{choice.label}", f"coordinate system (declared by the file): {choice.label}")
    else:
        cx, cy = _centres(geoms)
        inside = coords.inside_function(ctx.county)
        choice = _choose_crs(cx, cy, None, ctx, report, inside)
        if choice is None:
            return np.full(n, None, dtype=object), None, np.ones(n, dtype=bool)
    # unit plausibility per feature, then conversion
    cx, cy = _centres(geoms)
    fin = np.isfinite(cx) & np.isfinite(cy)
    geo_like = coords.looks_geographic(cx, cy)
    wrong_unit = fin & (~geo_like if choice.geographic else geo_like)
    if wrong_unit.any():
        m = wrong_unit & ~skipped
        if choice.geographic:
            zh = f"数值像投影坐标（米），但坐标系是经纬度 {choice.label}；请用 --crs 指定投影坐标系"
            en = f"coordinates look like projected metres but the CRS is geographic ({choice.label}); use --crs"
        else:
            zh = f"数值像经纬度（度），但坐标系是投影坐标 {choice.label}"
            en = f"coordinates look like degrees but the CRS is projected ({choice.label})"
        report.add_rows(source.rows[m], "几何", [f"{a:g},{b:g}" for a, b in zip(cx[m], cy[m])], zh, en)
        bad |= wrong_unit
        geoms[wrong_unit] = None
    live = np.fromiter((g is not None for g in geoms), dtype=bool, count=n)
    if live.any():
        geoms[live] = coords.geoms_to_4490(geoms[live], choice)
        b = shapely.bounds(np.asarray(geoms, dtype=object))
        with np.errstate(invalid="ignore"):
            off = live & ((b[:, 1] < -90) | (b[:, 3] > 90) | (b[:, 0] < -180) | (b[:, 2] > 180))
        if off.any():
            m = off & ~skipped
            report.add_rows(source.rows[m], "几何", [_centre_text(g) for g in geoms[m]], *_OFF_EARTH)
            bad |= off
            geoms[off] = None
            live &= ~off
    # validity
    if spec.geometry in (LINE, POLYGON) and live.any():
        idx = np.flatnonzero(live)
        valid = shapely.is_valid(np.asarray(geoms[idx], dtype=object))
        for i in idx[~valid]:
            reason = shapely.is_valid_reason(geoms[i])
            if repair:
                fixed = _only_type(shapely.make_valid(geoms[i]), spec.geometry)
                if fixed is None or fixed.is_empty:
                    report.add(plain_scalar(source.rows[i]), "几何", reason, "几何无效且无法修复", "invalid geometry that cannot be repaired")
                    bad[i] = True
                    geoms[i] = None
                else:
                    geoms[i] = fixed
                    report.add(plain_scalar(source.rows[i]), "几何", reason, "几何无效（如自相交），已用 make_valid 修复",
                               "invalid geometry (such as a self-intersection): repaired with make_valid", "repaired")
            else:
                report.add(plain_scalar(source.rows[i]), "几何", reason, "几何无效（如自相交）；--no-repair 时不导入",
                           "invalid geometry (such as a self-intersection); not imported with --no-repair")
                bad[i] = True
                geoms[i] = None
    multi = _MULTI[spec.geometry]
    if multi is not None:
        single = np.fromiter((g is not None and not g.geom_type.startswith("Multi") for g in geoms), dtype=bool, count=n)
        geoms[single] = [multi([g]) for g in geoms[single]]
    return geoms, choice, bad


_GEOM_ZH = {POINT: "点", LINE: "线", POLYGON: "面"}


def _centres(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds centres (NaN for missing)."""
    b = shapely.bounds(np.asarray(geoms, dtype=object))
    with np.errstate(invalid="ignore"):
        return (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2


def _only_type(g, kind: str):
    """The parts of ``g`` of the wanted kind (after make_valid, which may return a collection)."""
    parts = shapely.get_parts(g)
    want = {POLYGON: ("Polygon",), LINE: ("LineString",), POINT: ("Point",)}[kind]
    keep = [p for p in parts if p.geom_type in want]
    if not keep:
        return None
    if kind == POLYGON:
        return shapely.MultiPolygon(keep)
    if kind == LINE:
        return shapely.MultiLineString(keep)
    return keep[0]


def coerce_geometry(geoms: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geometries made to fit a table's kind: (geoms, wrong type mask, converted mask).

    Single-part multipoints become points; closed lines become polygons for polygon tables.
    """
    n = len(geoms)
    out = np.asarray(geoms, dtype=object).copy()
    wrong = np.zeros(n, dtype=bool)
    converted = np.zeros(n, dtype=bool)
    for i, g in enumerate(out):
        if g is None:
            continue
        t = g.geom_type
        if kind == POINT:
            if t == "Point":
                continue
            if t == "MultiPoint" and len(g.geoms) == 1:
                out[i] = g.geoms[0]
                continue
        elif kind == LINE:
            if t in ("LineString", "MultiLineString"):
                continue
            if t == "LinearRing":
                out[i] = shapely.LineString(g.coords)
                continue
        else:
            if t in ("Polygon", "MultiPolygon"):
                continue
            if t in ("LineString", "LinearRing") and g.is_closed and len(g.coords) >= 4:
                out[i] = shapely.Polygon(g.coords)
                converted[i] = True
                continue
            if t == "MultiLineString" and all(p.is_closed and len(p.coords) >= 4 for p in g.geoms):
                out[i] = shapely.MultiPolygon([shapely.Polygon(p.coords) for p in g.geoms])
                converted[i] = True
                continue
            if t == "GeometryCollection":
                got = _only_type(g, POLYGON)
                if got is not None:
                    out[i] = got
                    continue
        wrong[i] = True
    return out, wrong, converted


# --------------------------------------------------------------------------------- duplicates


def _duplicates(source: Source, spec: TargetSpec, mapping: Mapping, values: pd.DataFrame, geoms: np.ndarray,
                ctx: ProjectContext, epsg: int, distance: float, report: Report, bad: np.ndarray,
                skipped: np.ndarray, matched: np.ndarray | None = None) -> None:
    """Same name within ``distance`` metres: a later row of the file, or any row already in the project."""
    name_f = spec.name_field
    names = np.array([normalise_name(v) for v in values[name_f].to_numpy(dtype=object)], dtype=object)
    live = np.fromiter((g is not None for g in geoms), dtype=bool, count=len(geoms)) & (names != "") & ~skipped
    idx = np.flatnonzero(live)
    if not len(idx):
        return
    metric = np.asarray(to_metric(np.asarray(geoms[idx], dtype=object), epsg), dtype=object)
    col = f"{name_f}（{mapping.fields[name_f]}）" if name_f in mapping.fields else name_f
    # within the file
    tree = shapely.STRtree(metric)
    a, b = tree.query(metric, predicate="dwithin", distance=distance)
    pair = (a < b) & (names[idx[a]] == names[idx[b]])
    first_of: dict[int, int] = {}
    for i, j in zip(a[pair], b[pair]):
        first_of.setdefault(int(j), int(i))
    for j, i in sorted(first_of.items()):
        rj, ri = idx[j], idx[i]
        report.add(plain_scalar(source.rows[rj]), col, values[name_f].iat[rj],
                   f"与第{plain_scalar(source.rows[ri])}行同名且相距不到 {distance:g} 米，疑似重复",
                   f"same name as row {plain_scalar(source.rows[ri])} within {distance:g} m: a duplicate?")
        bad[rj] = True
    # against the project
    ex = ctx.existing
    if ex is not None and len(ex):
        ex_names = np.array([normalise_name(v) for v in ex[name_f].to_numpy(dtype=object)], dtype=object)
        ex_geoms = ex.geometry.to_numpy()
        ok = np.fromiter((g is not None for g in ex_geoms), dtype=bool, count=len(ex_geoms)) & (ex_names != "")
        if ok.any():
            ex_metric = np.asarray(to_metric(np.asarray(ex_geoms[ok], dtype=object), epsg), dtype=object)
            ex_ids = ex["id"].to_numpy()[ok]
            ex_names = ex_names[ok]
            tree = shapely.STRtree(ex_metric)
            a, b = tree.query(metric, predicate="dwithin", distance=distance)
            same = names[idx[a]] == ex_names[b]
            seen = set()
            for i, j in zip(a[same], b[same]):
                if i in seen or (matched is not None and matched[idx[i]]):  # an update of that enterprise
                    continue
                seen.add(i)
                ri = idx[i]
                report.add(plain_scalar(source.rows[ri]), col, values[name_f].iat[ri],
                           f"项目中已有同名要素（id={int(ex_ids[j])}）且相距不到 {distance:g} 米，疑似重复",
                           f"the project already has this name (id={int(ex_ids[j])}) within {distance:g} m: a duplicate?")
                bad[ri] = True


# --------------------------------------------------------------------------------- derived fields


def _fill_towns(values: pd.DataFrame, geoms: np.ndarray, ctx: ProjectContext, report: Report,
                source: Source | None = None) -> None:
    """Enterprises: zone_id from the town name (城关 finds 城关镇), else town and zone_id from the town
    polygon around the point, else from a town name inside the address (the longest one found)."""
    towns = ctx.towns
    n = len(values)
    values["zone_id"] = np.full(n, None, dtype=object)
    if towns is None or not len(towns):
        return
    tids = [int(i) for i in towns["id"]]
    tnames = [str(nm) for nm in towns["name"]]
    by_name = {normalise_name(nm): (i, nm) for i, nm in zip(tids, tnames)}
    by_short: dict[str, list] = {}
    for i, nm in zip(tids, tnames):
        by_short.setdefault(town_key(nm), []).append((i, nm))
    names = np.array(values["town"].to_numpy(dtype=object)) if "town" in values else np.full(n, None, dtype=object)
    names[_blank_mask(names)] = None

    def find(t):
        if not t:
            return None
        hit = by_name.get(normalise_name(t))
        if hit is None:
            short = by_short.get(town_key(t), [])
            hit = short[0] if len(short) == 1 else None
        return hit

    lookup = {t: find(t) for t in set(names)}
    zone_ids = np.full(n, None, dtype=object)
    for i, t in enumerate(names):
        hit = lookup[t]
        if hit is not None:
            zone_ids[i], names[i] = hit  # the zone's own spelling: 城关 → 城关镇
    need = np.fromiter((z is None and g is not None for z, g in zip(zone_ids, geoms)), dtype=bool, count=n)
    if need.any():
        tpolys = towns.geometry.to_numpy()
        tree = shapely.STRtree(tpolys)
        idx = np.flatnonzero(need)
        p, t = tree.query(np.asarray(geoms[idx], dtype=object), predicate="within")
        found = {}
        for pi, ti in zip(p, t):
            found.setdefault(int(pi), int(ti))
        filled = 0
        for pi, ti in found.items():
            i = idx[pi]
            zone_ids[i] = int(towns["id"].iat[ti])
            if not names[i]:
                names[i] = str(towns["name"].iat[ti])
                filled += 1
        if filled:
            report.note(f"{filled} 行没有填写乡镇，按所在位置补为所在乡镇", f"{filled} rows had no town: taken from the town polygon")
    if "address" in values:
        addresses = values["address"].to_numpy(dtype=object).copy()
        addresses[_blank_mask(addresses)] = None
        _towns_from_address(addresses, names, zone_ids, geoms, tids, tnames,
                            report, source)
    values["zone_id"] = zone_ids
    values["town"] = names


def _towns_from_address(addresses, names, zone_ids, geoms, tids, tnames, report: Report, source) -> None:
    """Rows without a town or a point: the town whose name (城关镇) or short form (城关) the address
    holds; the longest name found wins; two towns found as long: left blank with a warning."""
    keys: list[tuple[str, int]] = []  # (spelling, town index)
    for k, nm in enumerate(tnames):
        full, short = name_key(nm), town_key(nm)
        keys.append((full, k))
        if short != full and len(short) >= 2:
            keys.append((short, k))
    keys.sort(key=lambda kv: -len(kv[0]))
    todo = [i for i in range(len(names)) if zone_ids[i] is None and not names[i] and geoms[i] is None
            and addresses[i]]
    cache: dict[str, object] = {}
    filled, ambiguous = 0, []
    for i in todo:
        a = name_key(addresses[i])
        if a not in cache:
            best_len, hits = 0, set()
            for key, k in keys:
                if len(key) < best_len:
                    break
                if key and key in a:
                    best_len = len(key)
                    hits.add(k)
            cache[a] = hits
        hits = cache[a]
        if len(hits) == 1:
            k = next(iter(hits))
            zone_ids[i], names[i] = tids[k], tnames[k]
            filled += 1
        elif len(hits) > 1:
            ambiguous.append((i, "、".join(tnames[k] for k in sorted(hits))))
    if filled:
        report.note(f"{filled} 行没有乡镇和坐标，按地址中的乡镇名补为所在乡镇",
                    f"{filled} rows without a town or a point: town found in the address")
    for i, which in ambiguous:
        row = plain_scalar(source.rows[i]) if source is not None else None
        report.add(row, "address", addresses[i], f"地址中有多个乡镇名（{which}），乡镇留空",
                   f"the address names several towns ({which}): town left blank", "warning")


_COUNT = re.compile(r"^(?:共|合计|总计)?[:：]?\d+(?:家|个|户|处|条)$")


def _summary_rows(source: Source, names: pd.Series, checks: dict, report: Report, name_field: str) -> np.ndarray:
    """Rows that are not objects: 合计/小计 (name cell, or any cell when the name is blank) and notes
    under the list (备注, 填表人 …): left out with a note each."""
    words = tuple(checks.get("summary_words", []))
    notes = tuple(checks.get("note_words", []))
    n = len(names)
    arr = names.to_numpy(dtype=object)
    frame = source.frame
    skipped = np.zeros(n, dtype=bool)
    kinds = [None] * n

    def kind_of(v):
        if not isinstance(v, str):
            return None
        t = "".join(v.split())
        if t in words or (t.startswith(words) and not t.endswith(("公司", "厂", "站", "店"))):
            return "summary"
        if t.startswith(notes):
            return "note"
        return None

    blank = _blank_mask(names)
    before = list(frame.columns).index(names.name) if names.name in frame.columns else 0
    lead = [frame.iloc[:, j].to_numpy(dtype=object) for j in range(before)]  # 序号 … before the name
    firsts = tuple({w[0] for w in words + notes if w} | set("共0123456789"))
    maybe = blank.copy()  # only names that can begin a summary or a note, or lead cells that are text
    maybe |= np.fromiter((v.__class__ is str and v.lstrip().startswith(firsts) for v in arr), dtype=bool, count=n)
    for c in lead:
        maybe |= np.fromiter((v.__class__ is str for v in c), dtype=bool, count=n)
    for i in np.flatnonzero(maybe):
        k = kind_of(arr[i])
        if k is None and isinstance(arr[i], str) and _COUNT.match("".join(arr[i].split())):
            k = "summary"  # 共14家
        if k is None:  # blank name: any cell; else the cells before it (序号 合计)
            cells = frame.iloc[i].to_numpy(dtype=object) if blank[i] else [c[i] for c in lead]
            for v in cells:
                k = kind_of(v)
                if k is not None:
                    break
        if k is not None:
            skipped[i] = True
            kinds[i] = k
    for i in np.flatnonzero(skipped):
        zh, en = ("合计行，已跳过", "summary row, left out") if kinds[i] == "summary" else ("备注行（非企业），已跳过", "note row (not an object), left out")
        report.add(plain_scalar(source.rows[i]), name_field, arr[i] if not blank[i] else None, zh, en, "info")
    return skipped


def _constant(value, fspec):
    """A --mapping constant as the field stores it (其他 → other, 重大 → 1)."""
    if value is None or fspec.type in ("text", "enterprise"):
        return value
    vals, wrong = convert(pd.Series([value], dtype=object), fspec)
    if wrong.any():
        zh, en = describe(fspec)
        raise RiskmapError(f"映射中的固定值 {fspec.name}=“{value}”：{zh}", f"mapping constant {fspec.name}={value!r}: {en}")
    return vals[0]


def _industries(frame: pd.DataFrame, col: str | None, source: Source, report: Report, skipped: np.ndarray,
                counts: dict) -> tuple[np.ndarray, np.ndarray]:
    """Industry codes of a list's free text; what names no industry (or a blank cell, or no column) is
    其他 with a warning, never a refused row. Returns (codes, not named by the list)."""
    from riskmap.industries import OTHER, industry_name, match_industry

    n = len(frame)
    if col is None:
        report.note("找不到行业列：全部记为“其他”（可用 --mapping 指定行业列，或 {\"constants\": {\"industry\": \"…\"}}）",
                    "no industry column: every row is recorded as 其他 (Other); give one with --mapping", "warning")
        counts["industry_other"] = int((~skipped).sum())
        return np.full(n, OTHER, dtype=object), np.ones(n, dtype=bool)
    raw = frame[col].to_numpy(dtype=object)
    blank = _blank_mask(frame[col])
    out = np.full(n, OTHER, dtype=object)
    unnamed = np.ones(n, dtype=bool)
    table: dict = {}
    used: dict = {}
    for i in np.flatnonzero(~blank):
        v = raw[i]
        if v not in table:
            table[v] = match_industry(text_of(v))
        code, how = table[v]
        if code is not None:
            out[i], unnamed[i] = code, False
            if how in ("spelling", "keyword"):
                used.setdefault((text_of(v), code), 0)
                used[(text_of(v), code)] += 1
    unknown = ~blank & unnamed & ~skipped
    if unknown.any():
        report.add_rows(source.rows[unknown], f"industry（{col}）", raw[unknown],
                        "无法识别的行业，记为“其他”", "unknown industry: recorded as 其他 (Other)", "warning")
    empty = blank & ~skipped
    if empty.any():
        report.add_rows(source.rows[empty], f"industry（{col}）", [None] * int(empty.sum()),
                        "行业为空，记为“其他”", "no industry: recorded as 其他 (Other)", "warning")
    for (text, code), k in sorted(used.items()):
        report.note(f"行业“{text}”按“{industry_name(code)}”读取（{k} 行）",
                    f"industry {text!r} read as {industry_name(code, 'en')} ({k} rows)")
    counts["industry_other"] = int(((unnamed | (out == OTHER)) & ~skipped).sum())
    return out, unnamed


def _credit_codes(values: pd.DataFrame, source: Source, mapping: Mapping, report: Report, bad: np.ndarray,
                  skipped: np.ndarray) -> None:
    """统一社会信用代码 stored upper case without spaces; a malformed one is a warning; two rows with one
    code are an error (the later row)."""
    if "credit_code" not in values:
        return
    codes = np.array([normalise_credit_code(v) for v in values["credit_code"].to_numpy(dtype=object)] + [None],
                     dtype=object)[:-1]
    values["credit_code"] = codes
    col = f"credit_code（{mapping.fields.get('credit_code', '')}）"
    first: dict[str, int] = {}
    for i in np.flatnonzero(~skipped):
        c = codes[i]
        if not c:
            continue
        if not credit_code_ok(c):
            report.add(plain_scalar(source.rows[i]), col, c, "统一社会信用代码不是有效的18位代码（GB 32100），照原样保存",
                       "not a valid 18-character unified social credit code (GB 32100): kept as written", "warning")
        if c in first:
            report.add(plain_scalar(source.rows[i]), col, c,
                       f"与第{plain_scalar(source.rows[first[c]])}行的统一社会信用代码相同",
                       f"same credit code as row {plain_scalar(source.rows[first[c]])}")
            bad[i] = True
        else:
            first[c] = i


def _match_list(values: pd.DataFrame, geoms: np.ndarray, ctx: ProjectContext, source: Source, report: Report,
                bad: np.ndarray, skipped: np.ndarray, keep_industry: np.ndarray) -> UpdatePlan:
    """Each row against the project's enterprises: a row naming one updates it; two rows naming the same
    enterprise are an error (the later row)."""
    current = ctx.current if ctx.current is not None else pd.DataFrame(columns=["id", "version", "name",
                                                                               "credit_code", "town", "geometry"])
    match = match_rows(EnterpriseIndex(current), values) if len(current) else np.full(len(values), -1, dtype=np.int64)
    match[skipped] = -1
    first: dict[int, int] = {}
    for i in np.flatnonzero(match >= 0):
        m = int(match[i])
        if m in first:
            report.add(plain_scalar(source.rows[i]), "name", values["name"].iat[i],
                       f"与第{plain_scalar(source.rows[first[m]])}行指向项目中同一家企业（id={m}）",
                       f"names the same enterprise of the project (id={m}) as row {plain_scalar(source.rows[first[m]])}")
            bad[i] = True
        else:
            first[m] = i
    seen: dict[tuple, int] = {}  # rows without a point cannot be compared by distance: same name + town
    names, towns = values["name"].to_numpy(dtype=object), values["town"].to_numpy(dtype=object)
    for i in np.flatnonzero((match < 0) & ~skipped & ~bad):
        if geoms[i] is not None or not name_key(names[i]):
            continue
        key = (name_key(names[i]), town_key(towns[i]))
        if key in seen:
            report.add(plain_scalar(source.rows[i]), "name", names[i],
                       f"与第{plain_scalar(source.rows[seen[key]])}行同名、同乡镇且都没有坐标，疑似重复",
                       f"same name and town as row {plain_scalar(source.rows[seen[key]])}, both without "
                       "coordinates: a duplicate?")
            bad[i] = True
        else:
            seen[key] = i
    if not len(current):
        return UpdatePlan(match=match, missing=pd.DataFrame({"id": [], "name": [], "town": []}))
    return plan_updates(current, values, geoms, ~bad & ~skipped, keep_industry, match=match)


def _levels_note(values: pd.DataFrame, source: Source, mapping: Mapping, report: Report, bad, skipped,
                 counts: dict) -> None:
    """Rows without a level are 未评估 (stored without one, never as 低)."""
    levels = values["level"].to_numpy(dtype=object) if "level" in values else np.full(len(values), None)
    none = np.fromiter((v is None for v in levels), dtype=bool, count=len(levels)) & ~skipped
    counts["unassessed"] = int((none & ~bad).sum())
    if none.any():
        report.note(f"{int(none.sum())} 行没有风险等级，记为未评估（不按低风险计）",
                    f"{int(none.sum())} rows without a risk level are recorded as not assessed (not as low)", "info")


def _update_notes(update: UpdatePlan, ok: np.ndarray, source: Source, report: Report) -> None:
    """What the list changes in the project: one line per changed enterprise and a summary."""
    match = update.match
    for i, diff in sorted(update.changes.items()):
        report.add(plain_scalar(source.rows[i]), "更新", int(match[i]),
                   f"项目中已有该企业（id={int(match[i])}），将更新：{describe_change(diff)}",
                   f"the project has this enterprise (id={int(match[i])}): updates {', '.join(diff)}", "info")
    added = int((ok & (match < 0)).sum())
    changed, same = len(update.changes), len(update.unchanged)
    missing = update.missing if update.missing is not None else pd.DataFrame({"id": [], "name": []})
    if changed or same or len(missing):
        report.note(f"与项目比对：新增 {added} 家，更新 {changed} 家，无变化 {same} 家，名单中没有的 {len(missing)} 家",
                    f"against the project: {added} new, {changed} changed, {same} unchanged, "
                    f"{len(missing)} not in the list")
    if len(missing):
        shown = "、".join(str(v) for v in missing["name"].head(20))
        more = f" 等 {len(missing)} 家" if len(missing) > 20 else ""
        report.note(f"项目中有、新名单中没有的企业：{shown}{more}（未删除，除非确认删除：命令行加 --delete-missing，"
                    "导入向导勾选“删除新名单中没有的企业”）",
                    f"enterprises of the project not in the list: {len(missing)} (kept unless deletion is confirmed: "
                    "--delete-missing on the command line, the import wizard's check box)",
                    "warning")


_PARENT_KINDS = {"town": ("county",), "village": ("town",), "grid": ("village", "town"),
                 "chemical_park": ("town", "county"), "industrial_park": ("town", "county"),
                 "functional": ("town", "county"), "custom": ("town", "county")}


def _zone_extras(values: pd.DataFrame, geoms: np.ndarray, ctx: ProjectContext, epsg: int | None) -> None:
    """Zones: area from the geometry when not given; parent from the zone of the next level around."""
    n = len(values)
    live = np.fromiter((g is not None for g in geoms), dtype=bool, count=n)
    if epsg and live.any():
        areas = shapely.area(np.asarray(to_metric(np.asarray(geoms[live], dtype=object), epsg), dtype=object)) / 1e6
        cur = values["area_km2"].to_numpy(dtype=object).copy()
        li = np.flatnonzero(live)
        for k, i in enumerate(li):
            if cur[i] is None:
                cur[i] = round(float(areas[k]), 3)
        values["area_km2"] = cur
    parent = np.full(n, None, dtype=object)
    zones = ctx.zones
    if zones is not None and len(zones) and live.any():
        kinds = values["kind"].to_numpy(dtype=object)
        for kind in set(k for k in kinds if k):
            rows = np.flatnonzero((kinds == kind) & live & np.fromiter((p is None for p in parent), dtype=bool, count=n))
            for pk in _PARENT_KINDS.get(kind, ()):
                cand = zones[zones["kind"] == pk]
                if not len(cand) or not len(rows):
                    continue
                pts = shapely.point_on_surface(np.asarray(geoms[rows], dtype=object))
                tree = shapely.STRtree(cand.geometry.to_numpy())
                a, b = tree.query(pts, predicate="within")
                got = {}
                for ai, bi in zip(a, b):
                    got.setdefault(int(ai), int(cand["id"].iat[bi]))
                for ai, zid in got.items():
                    parent[rows[ai]] = zid
                rows = rows[[i not in got for i in range(len(rows))]]
    values["parent_id"] = parent


__all__ = ["Prepared", "ProjectContext", "prepare", "coerce_geometry", "text_of"]
