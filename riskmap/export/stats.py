"""Counts for legends, statistics tables and atlas pages: enterprises by level and by unit.

>>> import geopandas as gpd, shapely
>>> units = gpd.GeoDataFrame({"name": ["甲镇", "乙镇"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
>>> pts = gpd.GeoDataFrame({"level": [1, 4, 4, None]},
...                        geometry=gpd.points_from_xy([0.5, 0.5, 1.5, 1.2], [0.5, 0.2, 0.5, 0.5]))
>>> t = level_table(pts, units)
>>> t.loc["甲镇"].tolist(), t.loc["合计"].tolist()
([1, 0, 0, 1, 0, 2], [1, 0, 0, 2, 1, 4])
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from shapely import STRtree

from riskmap.levels import load_levels

NONE_COLUMN = "未评估"  # enterprises without a level: counted on their own, never as 低
TOTAL = "合计"


def level_numbers(values) -> np.ndarray:
    """Levels as an int array, 0 where missing or not 1–4."""
    s = pd.to_numeric(pd.Series(values), errors="coerce").fillna(0).to_numpy()
    s = s.astype(np.int64)
    s[(s < 1) | (s > 4)] = 0
    return s


def level_counts(values) -> dict[int, int]:
    """{1: n, 2: n, 3: n, 4: n, 0: n without level}."""
    lv = level_numbers(values)
    return {n: int((lv == n).sum()) for n in (1, 2, 3, 4, 0)}


def unit_of_points(points, units) -> np.ndarray:
    """For each point geometry, the positional index of the first unit polygon containing it (−1: none)."""
    pts = np.asarray(points, dtype=object)
    polys = np.asarray(units, dtype=object)
    out = np.full(len(pts), -1, dtype=np.int64)
    if not len(pts) or not len(polys):
        return out
    tree = STRtree(polys)
    p_idx, u_idx = tree.query(pts, predicate="intersects")
    order = np.lexsort((u_idx, p_idx))  # first (lowest) unit per point
    p_idx, u_idx = p_idx[order], u_idx[order]
    first = np.r_[True, p_idx[1:] != p_idx[:-1]] if len(p_idx) else np.array([], dtype=bool)
    out[p_idx[first]] = u_idx[first]
    return out


def level_table(points, units, *, name_field: str = "name", level_field: str = "level",
                total: bool = True) -> pd.DataFrame:
    """Enterprises by unit × level: columns 重大风险 … 低风险, 未评估, 合计; a 合计 row at the end.

    ``points`` and ``units`` are GeoDataFrames in the same CRS. Points outside every unit are
    counted only in the 合计 row.
    """
    levels = load_levels().levels
    cols = [levels[n].name_zh for n in (1, 2, 3, 4)] + [NONE_COLUMN]
    which = unit_of_points(points.geometry.values, units.geometry.values)
    lv = level_numbers(points[level_field]) if level_field in points else np.zeros(len(points), dtype=np.int64)
    counts = np.zeros((len(units), 5), dtype=np.int64)
    inside = which >= 0
    col_of = np.where(lv == 0, 4, lv - 1)
    np.add.at(counts, (which[inside], col_of[inside]), 1)
    names = [str(v) for v in units[name_field]] if name_field in units else [str(i) for i in range(len(units))]
    df = pd.DataFrame(counts, index=names, columns=cols)
    df = df.groupby(level=0, sort=False).sum()  # a unit drawn as several rows counts once
    df[TOTAL] = df.sum(axis=1)
    if total:
        all_counts = np.bincount(col_of, minlength=5)
        df.loc[TOTAL] = [*all_counts.tolist(), int(all_counts.sum())]
    return df.astype(np.int64)


def add_unlocated(table: pd.DataFrame, unlocated: pd.DataFrame | None, *, total: bool = True) -> pd.DataFrame:
    """A :func:`level_table` with the enterprises without a location (未定位; columns ``town`` and
    ``level``) added to the row of their town, and to the 合计 row when ``total``.

    >>> t = pd.DataFrame([[0, 0, 0, 1, 0, 1], [0, 0, 0, 1, 0, 1]], index=["甲镇", TOTAL],
    ...                  columns=["重大风险", "较大风险", "一般风险", "低风险", NONE_COLUMN, TOTAL])
    >>> u = pd.DataFrame({"town": ["甲镇", "乙镇"], "level": [1, None]})
    >>> add_unlocated(t, u).loc[["甲镇", TOTAL]].values.tolist()
    [[1, 0, 0, 1, 0, 2], [1, 0, 0, 1, 1, 3]]
    """
    if unlocated is None or not len(unlocated):
        return table
    out = table.copy()
    cols = list(out.columns[:5])
    lv = level_numbers(unlocated["level"])
    for town, n in zip(unlocated["town"].tolist(), lv.tolist()):
        col = cols[n - 1] if n else cols[4]
        rows = [TOTAL] if total and TOTAL in out.index else []
        if isinstance(town, str) and town in out.index and town != TOTAL:
            rows.append(town)
        for r in rows:
            out.loc[r, col] += 1
            out.loc[r, TOTAL] += 1
    return out.astype(np.int64)
