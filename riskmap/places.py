"""The five seed places and their district boundaries (data/boundaries, EPSG:4490).

>>> boundary("会宁").geom_type
'MultiPolygon'
>>> find_place("620422").epsg
4544
"""

from __future__ import annotations

import functools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import shape

from riskmap.errors import RiskmapError
from riskmap.paths import DATA_DIR

__all__ = ["Place", "BOUNDARIES_DIR", "load_places", "find_place", "boundary"]

BOUNDARIES_DIR = DATA_DIR / "boundaries"
_SUFFIXES = ("自治县", "县", "区", "市", "旗")
_EN_SUFFIXES = (" county", " district", " city")


@dataclass(frozen=True)
class Place:
    """A seed place: a county-level division with its boundary file and metric CRS."""

    adcode: str
    name: str  # 会宁县
    name_en: str  # Huining County
    key: str  # huining
    province: str
    city: str
    province_en: str
    city_en: str
    epsg: int  # CGCS2000 3-degree Gauss–Krüger zone for metric work
    boundary_path: Path

    @property
    def short_name(self) -> str:
        """Name without the trailing 县/区/市 (会宁县 -> 会宁)."""
        for suffix in _SUFFIXES:
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name[: -len(suffix)]
        return self.name

    def boundary(self) -> shapely.MultiPolygon:
        """The district boundary in EPSG:4490."""
        return _read_boundary(self.boundary_path)


@functools.lru_cache(maxsize=4)
def _load(directory: str) -> tuple[Place, ...]:
    path = Path(directory) / "places.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskmapError("找不到地点列表文件", "places list not found", where=str(path.name)) from None
    except tomllib.TOMLDecodeError as exc:
        raise RiskmapError(f"地点列表格式错误：{exc}", f"bad places list: {exc}", where=path.name) from None
    places = []
    for i, row in enumerate(data.get("place", []), start=1):
        try:
            places.append(
                Place(
                    adcode=str(row["adcode"]),
                    name=row["name"],
                    name_en=row.get("name_en", ""),
                    key=row.get("key", "").lower(),
                    province=row.get("province", ""),
                    city=row.get("city", ""),
                    province_en=row.get("province_en", ""),
                    city_en=row.get("city_en", ""),
                    epsg=int(row["epsg"]),
                    boundary_path=Path(directory) / row.get("boundary", f"{row['adcode']}.geojson"),
                )
            )
        except (KeyError, ValueError) as exc:
            raise RiskmapError(
                f"地点列表第 {i} 项缺少或有错误的字段：{exc}",
                f"place {i} has a missing or bad field: {exc}",
                where=f"{path.name}:{i}",
            ) from None
    return tuple(places)


def load_places(directory: Path | None = None) -> list[Place]:
    """All seed places listed in data/boundaries/places.toml."""
    return list(_load(str(directory or BOUNDARIES_DIR)))


def find_place(key: str | int, directory: Path | None = None) -> Place:
    """Find a place by adcode (620422), name (会宁县), short name (会宁) or English name (huining)."""
    text = str(key).strip()
    low = text.lower()
    for suffix in _EN_SUFFIXES:
        if low.endswith(suffix):
            low = low[: -len(suffix)].strip()
    places = load_places(directory)
    for p in places:
        if text in (p.adcode, p.name, p.short_name) or low in (p.key, p.name_en.lower()):
            return p
    names = "、".join(p.name for p in places)
    raise RiskmapError(
        f"未知地点“{text}”（可选：{names}）",
        f"unknown place {text!r} (known: {', '.join(p.key for p in places)})",
    )


@functools.lru_cache(maxsize=16)
def _read_boundary(path: Path) -> shapely.MultiPolygon:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskmapError("找不到边界文件", "boundary file not found", where=path.name) from None
    except json.JSONDecodeError as exc:
        raise RiskmapError(f"边界文件不是有效的 GeoJSON：{exc}", f"bad GeoJSON: {exc}", where=path.name) from None
    if data.get("type") == "FeatureCollection":
        geoms = [shape(f["geometry"]) for f in data.get("features", [])]
    elif data.get("type") == "Feature":
        geoms = [shape(data["geometry"])]
    else:
        geoms = [shape(data)]
    polys = [g for g in shapely.get_parts(geoms) if isinstance(g, shapely.Polygon)]
    if not polys:
        raise RiskmapError("边界文件中没有多边形", "no polygon in the boundary file", where=path.name)
    return shapely.MultiPolygon(polys)


def boundary(place: str | int, directory: Path | None = None) -> shapely.MultiPolygon:
    """The boundary of a seed place (name, short name, adcode or English key) in EPSG:4490."""
    return find_place(place, directory).boundary()
