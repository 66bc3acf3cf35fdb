"""Coordinates of imported rows: reading cell values (decimal or 度分秒), choosing the source CRS,
and bringing points to EPSG:4490 with the usual mistakes caught per row (swapped lon/lat or X/Y,
metres given as degrees, degrees in a projected CRS).

Source CRSs: EPSG codes (4490, 4326, CGCS2000 Gauss–Krüger zones 4491–4554 with or without zone
prefix, 3857 …) and "gcj02" (高德/腾讯) or "bd09" (百度), converted by :mod:`riskmap.crs`.

>>> parse_crs("gcj02").label, parse_crs("4544").label
('GCJ-02（高德/腾讯）', 'EPSG:4544 CGCS2000 / 3-degree Gauss-Kruger CM 105E')
>>> x, bad = parse_coordinates(["105°12′30″", "35.5", None, "东经", "东经：105.5", "35度54分12.3秒北"])
>>> x.round(6).tolist()[:2] + x.round(6).tolist()[4:], bad.tolist()
([105.208333, 35.5, 105.5, 35.903417], [False, False, False, True, False, False])
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj
import shapely

from riskmap import crs as rcrs
from riskmap.errors import RiskmapError

CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
_SPECIAL = {"gcj02": "GCJ-02（高德/腾讯）", "bd09": "BD-09（百度）"}


@dataclass(frozen=True)
class CrsChoice:
    """A source CRS: ``key`` is "gcj02", "bd09" or an EPSG code / WKT that pyproj reads."""

    key: object
    label: str
    geographic: bool

    @property
    def is_4490(self) -> bool:
        return self.key in (4490, 4326)


def parse_crs(value) -> CrsChoice:
    """Read a --crs value: an EPSG code (``4544``, ``EPSG:4544``), gcj02 / bd09 (or 高德 / 百度 …), wgs84."""
    if isinstance(value, CrsChoice):
        return value
    if isinstance(value, pyproj.CRS):
        return crs_from_pyproj(value)
    text = str(value).strip()
    alias = rcrs._ALIASES.get(text.lower().replace("_", ""))
    if alias in _SPECIAL:
        return CrsChoice(alias, _SPECIAL[alias], True)
    if alias == "wgs84":
        return CrsChoice(4326, "EPSG:4326 WGS 84", True)
    if alias == "cgcs2000":
        text = "4490"
    try:
        crs = pyproj.CRS.from_user_input(int(text) if text.isdigit() else text)
    except pyproj.exceptions.CRSError:
        raise RiskmapError(f"无法识别的坐标系：{value}（可用 EPSG 代码如 4490、4544，或 gcj02、bd09）",
                           f"unknown coordinate system {value!r} (use an EPSG code such as 4490 or 4544, "
                           "or gcj02, bd09)") from None
    return crs_from_pyproj(crs)


def crs_from_pyproj(crs: pyproj.CRS) -> CrsChoice:
    code = crs.to_epsg(min_confidence=70)
    if code is not None:
        return CrsChoice(int(code), f"EPSG:{code} {crs.name}", bool(crs.is_geographic))
    return CrsChoice(crs.to_wkt(), crs.name, bool(crs.is_geographic))


def to_4490(x: np.ndarray, y: np.ndarray, choice: CrsChoice) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``choice`` to EPSG:4490 (NaN stays NaN)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if choice.is_4490:
        return x.copy(), y.copy()
    with np.errstate(invalid="ignore"):
        lon, lat = rcrs.convert_coords(x, y, choice.key)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    lon[bad] = np.nan
    lat[bad] = np.nan
    return lon, lat


def geoms_to_4490(geoms: np.ndarray, choice: CrsChoice) -> np.ndarray:
    """Shapely geometries in ``choice`` to EPSG:4490."""
    if choice.is_4490:
        return np.asarray(geoms, dtype=object)
    return np.asarray(rcrs.convert_geometry(np.asarray(geoms, dtype=object), choice.key), dtype=object)


# ------------------------------------------------------------------------------------ cell values

_SEPARATORS = re.compile(r"\s*[,，;；/|]\s*")
_LABEL = re.compile(r"^\s*(?:经度|纬度)|[:：=]")  # "东经：116.425", "经度=116.425"


def parse_coordinates(values) -> tuple[np.ndarray, np.ndarray]:
    """Numbers from cells: numbers, numeric text, or 度分秒 text (:func:`riskmap.crs.parse_dms`).

    Returns (values, bad) where ``bad`` marks cells that had text but no readable number.
    """
    s = pd.Series(values, dtype=object)
    out = np.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    missing = s.isna().to_numpy() | s.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    todo = ~missing & np.isnan(out)
    bad = np.zeros(len(s), dtype=bool)
    if todo.any():
        parsed = {}
        for v in pd.unique(s[todo]):
            try:
                parsed[v] = rcrs.parse_dms(_LABEL.sub("", v if isinstance(v, str) else str(v)))
            except Exception:
                parsed[v] = np.nan
        fixed = s[todo].map(parsed).to_numpy(dtype=float)
        out[todo] = fixed
        bad[todo] = np.isnan(fixed)
    return out, bad


def split_pairs(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """"105.12,35.68" cells → (x values, y values, bad); the longitude is expected first."""
    s = pd.Series(values, dtype=object)
    xs = np.full(len(s), None, dtype=object)
    ys = np.full(len(s), None, dtype=object)
    bad = np.zeros(len(s), dtype=bool)
    for i, v in enumerate(s.to_numpy()):
        if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
            continue
        parts = [p for p in _SEPARATORS.split(str(v).strip()) if p]
        if len(parts) != 2:
            parts = str(v).split()
        if len(parts) != 2:
            bad[i] = True
            continue
        xs[i], ys[i] = parts
    x, bx = parse_coordinates(xs)
    y, by = parse_coordinates(ys)
    return x, y, bad | bx | by


# ------------------------------------------------------------------------------------ checks


def looks_geographic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Values that can be degrees (|x| ≤ 180 and |y| ≤ 180: either order)."""
    with np.errstate(invalid="ignore"):
        return (np.abs(x) <= 180) & (np.abs(y) <= 180)


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])


def _zone_candidates(values: np.ndarray) -> list[int]:
    """EPSG codes of Gauss–Krüger zones named by an 8-digit easting's zone prefix (3° zones 25–45,
    6° zones 13–23)."""
    v = values[np.isfinite(values)]
    v = v[(v >= 1.3e7) & (v < 4.6e7)]
    out = []
    for zone in np.unique((v // 1e6).astype(int)):
        if 25 <= zone <= 45:
            out.append(4513 + zone - 25)
        elif 13 <= zone <= 23:
            out.append(4491 + zone - 13)
    return out


def detect_crs(x: np.ndarray, y: np.ndarray, inside, project_epsg: int | None = None,
               sample: int = 2000) -> tuple[CrsChoice | None, float]:
    """The source CRS that puts most points inside (``inside(lon, lat)`` → bool array), trying
    EPSG:4490, zones named by an easting prefix, the project's zone and EPSG:3857, each in both axis
    orders. Returns (choice or None, share of points inside)."""
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None, 0.0
    idx = np.flatnonzero(ok)
    if len(idx) > sample:
        idx = idx[np.linspace(0, len(idx) - 1, sample).astype(int)]
    xs, ys = x[idx], y[idx]
    cands: list[CrsChoice] = []
    if looks_geographic(xs, ys).mean() > 0.5:
        cands.append(parse_crs(4490))
    else:
        for code in _zone_candidates(np.concatenate([xs, ys])):
            cands.append(parse_crs(code))
        if project_epsg:
            cands.append(parse_crs(project_epsg))
            # metres without a zone prefix in a neighbouring 3° zone (a county near a zone edge), which also
            # covers 6° zones: their central meridians are those of every other 3° zone
            if 4534 <= project_epsg <= 4554:
                cands += [parse_crs(c) for c in (project_epsg - 1, project_epsg + 1) if 4534 <= c <= 4554]
        cands.append(parse_crs(3857))
    best, best_share = None, 0.0
    for c in cands:
        for a, b in ((xs, ys), (ys, xs)):
            lon, lat = to_4490(a, b, c)
            share = float(np.mean(inside(lon, lat)))
            if share > best_share + 1e-9:
                best, best_share = c, share
    return best, best_share


@dataclass
class PointResult:
    """Points of a table in EPSG:4490 with per-row findings."""

    lon: np.ndarray
    lat: np.ndarray
    swapped: np.ndarray  # rows whose two coordinates were exchanged
    metres_as_degrees: np.ndarray  # projected-looking numbers under a geographic CRS
    degrees_as_metres: np.ndarray  # degree-looking numbers under a projected CRS


def points_to_4490(x: np.ndarray, y: np.ndarray, choice: CrsChoice, inside) -> PointResult:
    """Convert rows; where the given order lands outside but the exchanged order inside, exchange."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    geo_like = looks_geographic(x, y)
    if choice.geographic:
        wrong_unit = finite & ~geo_like
        deg_as_m = np.zeros(len(x), dtype=bool)
        m_as_deg = wrong_unit
    else:
        wrong_unit = finite & geo_like
        deg_as_m = wrong_unit
        m_as_deg = np.zeros(len(x), dtype=bool)
    use = finite & ~wrong_unit
    lon_a, lat_a = to_4490(np.where(use, x, np.nan), np.where(use, y, np.nan), choice)
    lon_b, lat_b = to_4490(np.where(use, y, np.nan), np.where(use, x, np.nan), choice)
    in_a = inside(lon_a, lat_a) & use
    in_b = inside(lon_b, lat_b) & use
    swap = use & ~in_a & in_b
    lon = np.where(swap, lon_b, lon_a)
    lat = np.where(swap, lat_b, lat_a)
    lon[~use] = np.nan
    lat[~use] = np.nan
    return PointResult(lon, lat, swap, m_as_deg, deg_as_m)


def inside_function(area):
    """``inside(lon, lat)`` for a polygon in EPSG:4490 (prepared); without an area, the China box."""
    if area is None:
        return in_china
    shapely.prepare(area)

    def inside(lon, lat):
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        ok = np.isfinite(lon) & np.isfinite(lat)
        out = np.zeros(len(lon), dtype=bool)
        if ok.any():
            out[ok] = shapely.intersects_xy(area, lon[ok], lat[ok])
        return out

    return inside
