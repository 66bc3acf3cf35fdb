"""Lifelines (城市生命线): segment grading by a rule table, GB 32167 high-consequence segments of gas
pipelines, and segments crossing red/orange zones or control lines.

- ``grade_segments``: every rule of ``lifeline_rules.toml`` whose conditions all hold fires; the segment's
  level is the most severe fired level (``default_level`` when none fires). Missing data fires nothing.
- ``pir_m``: GB 32167-2015 potential impact radius r = 0.099·√(d²·p) (d outside diameter mm, p MPa, r m).
- ``high_consequence_segments``: gas-pipeline segments with a specific site (school, hospital …) within the
  radius that ``gb32167.toml``'s identification rows give (formula (1) or 200 m).

>>> round(float(pir_m(610, 6.3)), 1)
151.6
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from riskmap.analysis.geodesy import ground_distance, project_epsg, to_metric
from riskmap.analysis.measure import geodesic_length
from riskmap.analysis.sitecheck import level_name
from riskmap.analysis.standards import GB32167, LifelineRules, load_gb32167, load_lifeline_rules
from riskmap.model import LifelineSegment


def pir_m(diameter_mm, pressure_mpa, coefficient: float | None = None):
    """Potential impact radius in metres (NaN where diameter or pressure is missing or not positive)."""
    c = load_gb32167().pir_coefficient if coefficient is None else coefficient
    d = np.asarray(diameter_mm, dtype=float)
    p = np.asarray(pressure_mpa, dtype=float)
    with np.errstate(invalid="ignore"):
        r = c * np.sqrt(d * d * p)
    return np.where((d > 0) & (p > 0), r, np.nan)


# ------------------------------------------------------------------------------------------ grading

def grade_segments(segments: pd.DataFrame, rules: LifelineRules | None = None,
                   as_of_year: int | None = None) -> pd.DataFrame:
    """Level 1–4 of each segment and the rules that fired (ids and Chinese text), indexed like ``segments``."""
    rules = rules or load_lifeline_rules()
    year = as_of_year or dt.date.today().year
    n = len(segments)
    cat = segments["category"].astype(object).to_numpy()
    material = segments["material"].astype(object).where(segments["material"].notna(), None).to_numpy()
    mat_text = np.array(["" if m is None else str(m).strip() for m in material], dtype=object)
    age = year - pd.to_numeric(segments["year_built"], errors="coerce").to_numpy(dtype=float)
    pressure = pd.to_numeric(segments["pressure_mpa"], errors="coerce").to_numpy(dtype=float)
    diameter = pd.to_numeric(segments["diameter_mm"], errors="coerce").to_numpy(dtype=float)
    level = np.full(n, rules.default_level)
    fired: list[list[str]] = [[] for _ in range(n)]
    with np.errstate(invalid="ignore"):
        for rule in rules.rules:
            m = np.ones(n, dtype=bool)
            if rule.categories:
                m &= np.isin(cat, rule.categories)
            if rule.material_any or rule.material_exact:
                any_hit = np.array([any(k in t for k in rule.material_any) for t in mat_text], dtype=bool)
                exact_hit = np.isin(mat_text, rule.material_exact)
                m &= any_hit | exact_hit
            if rule.min_age_years is not None:
                m &= age >= rule.min_age_years
            if rule.pressure_gt is not None:
                m &= pressure > rule.pressure_gt
            if rule.pressure_ge is not None:
                m &= pressure >= rule.pressure_ge
            if rule.diameter_ge is not None:
                m &= diameter >= rule.diameter_ge
            level = np.where(m, np.minimum(level, rule.level), level)
            for i in np.flatnonzero(m):
                fired[i].append(rule.id)
    text = {r.id: f"{r.zh}【依据：{r.source}】" if r.source else r.zh for r in rules.rules}
    return pd.DataFrame({"level": level, "level_name": [level_name(v) for v in level],
                         "rules": fired, "reasons": ["；".join(text[f] for f in fs) for fs in fired]},
                        index=segments.index)


def apply_lifeline_levels(project, as_of_year: int | None = None) -> int:
    """Grade every lifeline segment and store the levels (one transaction); returns how many changed."""
    segs = project.read_table("lifelines", columns=["id", "category", "material", "year_built", "pressure_mpa",
                                                   "diameter_mm", "level"])
    graded = grade_segments(segs, as_of_year=as_of_year)
    old = pd.to_numeric(segs["level"], errors="coerce")
    changed = graded.index[(old != graded["level"]) | old.isna()]
    if len(changed) == 0:
        return 0
    with project.session() as s:
        for sid in changed:
            obj = s.get(LifelineSegment, int(sid))
            obj.level = int(graded.at[sid, "level"])
    return len(changed)


# ------------------------------------------------------------------------------------------ GB 32167

HCA_COLUMNS = ["segment_id", "segment_name", "category", "diameter_mm", "pressure_mpa", "pir_m", "rule", "rule_zh",
               "radius_m", "target_id", "target_name", "target_kind", "people", "distance_m"]


def find_high_consequence(segments, targets, epsg: int, gb: GB32167 | None = None) -> pd.DataFrame:
    """Pairs (segment, specific site) with the site within the segment's identification radius."""
    gb = gb or load_gb32167()
    segs = segments[segments["category"].isin(gb.categories)]
    sites = targets[targets["kind"].isin(gb.specific_site_kinds)]
    if segs.empty or sites.empty:
        return pd.DataFrame(columns=HCA_COLUMNS)
    d = segs["diameter_mm"].astype(float).to_numpy()
    p = segs["pressure_mpa"].astype(float).to_numpy()
    pir = pir_m(d, p, gb.pir_coefficient)
    rules = [gb.rule_for(None if np.isnan(a) else a, None if np.isnan(b) else b) for a, b in zip(d, p)]
    radius = np.array([np.nan if r is None else (pir[i] if r.radius == "pir" else float(r.radius))
                       for i, r in enumerate(rules)])
    ok = np.isfinite(radius)
    segs, pir, radius, rules = segs[ok], pir[ok], radius[ok], [r for r, k in zip(rules, ok) if k]
    if segs.empty:
        return pd.DataFrame(columns=HCA_COLUMNS)
    seg_m = to_metric(segs.geometry.to_numpy(), epsg)
    site_m = to_metric(sites.geometry.to_numpy(), epsg)
    # candidates within the largest radius (+0.1 % for grid scale), then each pair against its own radius
    si, gi = STRtree(seg_m).query(site_m, predicate="dwithin", distance=float(radius.max()) * 1.001 + 1.0)
    dist = ground_distance(site_m[si], seg_m[gi], epsg)
    keep = dist <= radius[gi]
    rows = []
    for s, g, dd in zip(si[keep], gi[keep], dist[keep]):
        seg, site, rule = segs.iloc[g], sites.iloc[s], rules[g]
        rows.append({"segment_id": int(seg["id"]), "segment_name": seg["name"], "category": seg["category"],
                     "diameter_mm": float(seg["diameter_mm"]), "pressure_mpa": float(seg["pressure_mpa"]),
                     "pir_m": None if np.isnan(pir[g]) else float(pir[g]), "rule": rule.id, "rule_zh": rule.zh,
                     "radius_m": float(radius[g]), "target_id": int(site["id"]), "target_name": site["name"],
                     "target_kind": site["kind"],
                     "people": None if pd.isna(site.get("people")) else int(site["people"]), "distance_m": float(dd)})
    df = pd.DataFrame(rows, columns=HCA_COLUMNS)
    return df.sort_values(["segment_id", "distance_m"], ignore_index=True) if len(df) else df


def high_consequence_segments(project) -> pd.DataFrame:
    return find_high_consequence(project.read_table("lifelines"), project.read_table("protected_targets"),
                                 project_epsg(project))


# ------------------------------------------------------------------------------------------ crossings

CROSSING_COLUMNS = ["segment_id", "segment_name", "category", "object_type", "object_id", "object_name",
                    "object_kind", "object_level", "length_m"]


def find_crossings(segments, zones, lines, epsg: int) -> pd.DataFrame:
    """Segments crossing the given (red/orange) zones or control lines, with the length inside (ground m)."""
    rows = []
    if segments.empty:
        return pd.DataFrame(columns=CROSSING_COLUMNS)
    seg_g = segments.geometry.to_numpy()
    seg_m = to_metric(seg_g, epsg)
    for kind, polys in (("zone", zones), ("control_line", lines)):
        if polys is None or polys.empty:
            continue
        poly_g = polys.geometry.to_numpy()
        si, pi = STRtree(to_metric(poly_g, epsg)).query(seg_m, predicate="intersects")
        if len(si) == 0:
            continue
        parts = shapely.intersection(seg_g[si], poly_g[pi])
        for s, p, part in zip(si, pi, parts):
            length = geodesic_length(part) if part is not None and not part.is_empty else 0.0
            seg, poly = segments.iloc[s], polys.iloc[p]
            level = poly.get("level") if kind == "zone" else None
            rows.append({"segment_id": int(seg["id"]), "segment_name": seg["name"], "category": seg["category"],
                         "object_type": kind, "object_id": int(poly["id"]), "object_name": poly["name"],
                         "object_kind": poly.get("kind") if kind == "zone" else "control_line",
                         "object_level": None if level is None or pd.isna(level) else int(level),
                         "length_m": float(length)})
    df = pd.DataFrame(rows, columns=CROSSING_COLUMNS)
    return df.sort_values(["object_type", "object_id", "segment_id"], ignore_index=True) if len(df) else df


ADMIN_KINDS = ("grid", "village", "town")  # finest first


def crossing_zone_kinds(project) -> list[str]:
    """The zone kinds checked for crossings: the finest graded administrative kind (grid, else village,
    else town) — the coarser ones repeat it — plus parks, functional and custom zones."""
    zones = project.read_table("zones", where="level IS NOT NULL AND kind != 'county'", columns=["id", "kind"])
    graded = set(zones["kind"])
    admin = next((k for k in ADMIN_KINDS if k in graded), None)
    return ([admin] if admin else []) + [k for k in sorted(graded) if k not in ADMIN_KINDS]


def lifeline_crossings(project, levels: tuple[int, ...] = (1, 2), zone_kinds: list[str] | None = None) -> pd.DataFrame:
    """Lifeline segments crossing zones of the given levels (default red and orange) or any control line.

    ``zone_kinds`` defaults to :func:`crossing_zone_kinds`.
    """
    lv = ", ".join(str(int(v)) for v in levels)
    kinds = crossing_zone_kinds(project) if zone_kinds is None else list(zone_kinds)
    if kinds:
        kinds_sql = ", ".join("'" + k.replace("'", "''") + "'" for k in kinds)
        zones = project.read_table("zones", where=f"level IN ({lv}) AND kind IN ({kinds_sql})")
    else:
        zones = None
    return find_crossings(project.read_table("lifelines"), zones, project.read_table("control_lines"),
                          project_epsg(project))
