"""Town seats (镇街驻地) from a table a bureau has: one row per town with its name and the seat's coordinates
(decimal degrees, 度分秒 text, one "经度,纬度" column, or Gauss–Krüger metres with or without the zone
prefix, detected as for any import). The rows feed :func:`riskmap.edit.zones.towns_from_seats`.

>>> # rows = read_seats("镇街驻地.xlsx", project)   # [("城关镇", 116.45, 36.29, 2), …]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from riskmap.errors import RiskmapError
from riskmap.io import coords
from riskmap.io.fieldmap import auto_mapping, header_score, normalise, target_spec
from riskmap.io.issues import Report
from riskmap.io.readers import read_source

NAME_HEADERS = ("镇街名称", "乡镇名称", "乡镇街道", "镇街", "乡镇", "街道", "名称", "驻地", "name", "town")


def _name_column(columns: list[str], taken: set[str]) -> str | None:
    norm = {c: normalise(c) for c in columns if c not in taken}
    for key in NAME_HEADERS:
        for c, h in norm.items():
            if h == key:
                return c
    for key in NAME_HEADERS:
        for c, h in norm.items():
            if key in h and not any(w in h for w in ("经度", "纬度", "坐标", "代码", "编码")):
                return c
    return None


def read_seats(path, project=None, *, crs=None) -> list[tuple[str, float, float, object]]:
    """Rows ``(name, lon, lat, row)`` in EPSG:4490 from a seats table (XLSX/XLS/ODS/CSV). The coordinate
    system is ``crs`` when given, else detected (the one putting most seats inside the project's county, the
    project's Gauss–Krüger zone for metres without a zone prefix). A row without readable coordinates is an
    error naming it."""
    path = Path(path)
    spec = target_spec("enterprises")  # for the coordinate header synonyms
    source = read_source(path, scorer=lambda cells: header_score(cells, spec) + (1 if _name_column(
        [c for c in cells if isinstance(c, str)], set()) else 0), report=Report(path.name))
    if not source.is_table:
        raise RiskmapError("驻地文件应为表格（XLSX 或 CSV），每行一个镇街：名称、经度、纬度",
                           "a seats file is a table (XLSX or CSV): one town a row with name, longitude, latitude",
                           where=path.name)
    m = auto_mapping(source.columns, spec)
    taken = {c for c in (m.x, m.y, m.xy) if c}
    name_col = _name_column(source.columns, taken)
    if name_col is None:
        raise RiskmapError(f"找不到镇街名称列（表头应为“名称”或“镇街”等；现有：{'、'.join(source.columns)}）",
                           f"no town name column (a header such as 名称 or 镇街; found: {', '.join(source.columns)})",
                           where=path.name)
    frame = source.frame
    if m.x and m.y:
        x, bx = coords.parse_coordinates(frame[m.x])
        y, by = coords.parse_coordinates(frame[m.y])
        bad = bx | by
    elif m.xy:
        x, y, bad = coords.split_pairs(frame[m.xy])
    else:
        raise RiskmapError("找不到坐标列（经度/纬度、X/Y 或“坐标”）", "no coordinate columns (lon/lat, X/Y or 坐标)",
                       where=path.name)
    names = frame[name_col].to_numpy(dtype=object)
    keep = np.array([n is not None and str(n).strip() != "" for n in names], dtype=bool)
    bad &= keep
    missing = keep & ~(np.isfinite(x) & np.isfinite(y))
    if bad.any() or missing.any():
        k = int(np.flatnonzero(bad | missing)[0])
        raise RiskmapError(f"第 {source.rows[k]} 行（{names[k]}）的坐标无法识别",
                           f"row {source.rows[k]} ({names[k]}): unreadable coordinates", where=f"{path.name}:{source.rows[k]}")
    county = None
    epsg = None
    if project is not None:
        zones = project.read_table("zones", where="kind IN ('county', 'city', 'province')", columns=["id"])
        if len(zones):
            county = shapely.union_all(zones.geometry.to_numpy())
        epsg = project.metric_epsg
    inside = coords.inside_function(county)
    xs, ys = x[keep], y[keep]
    if crs is not None:
        choice = coords.parse_crs(crs)
    else:
        choice, _share = coords.detect_crs(xs, ys, inside, epsg)
        if choice is None:
            choice = coords.parse_crs(4490)
    res = coords.points_to_4490(xs, ys, choice, inside)
    labels = source.rows[keep]
    out = []
    for name, lon, lat, row in zip(names[keep], res.lon, res.lat, labels):
        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise RiskmapError(f"第 {row} 行（{name}）的坐标无法按 {choice.label} 转换",
                               f"row {row} ({name}): coordinates cannot be read as {choice.label}",
                               where=f"{path.name}:{row}")
        out.append((str(name).strip(), float(lon), float(lat), int(row) if isinstance(row, (int, np.integer)) else row))
    if not out:
        raise RiskmapError("驻地文件中没有镇街", "the seats file holds no towns", where=path.name)
    return out
