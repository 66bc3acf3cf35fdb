"""The layer catalogue: one declarative TOML file per layer in ``layers/``.

Core, renderer, UI and exporters all read the same definitions.

>>> cat = load_catalogue()
>>> cat["enterprises"].style.type
'level'
>>> marked_catalogue({"town"})["towns"].name_zh
'镇街（示意）'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from riskmap.errors import RiskmapError
from riskmap.paths import LAYERS_DIR

GEOMETRIES = ("point", "line", "polygon")
RASTER = "raster"  # an image layer (the plant plans, riskmap.render.plans): not in load_catalogue()
STYLE_TYPES = ("single", "level", "category")
GROUPS = {
    "basemap": ("底图", "Base map"),
    "zones": ("分区", "Zones"),
    "enterprise": ("企业", "Enterprises"),
    "control": ("控制线", "Control lines"),
    "lifeline": ("生命线", "Lifelines"),
    "resource": ("应急资源", "Emergency resources"),
    "danger": ("隐患", "Hidden dangers"),
    "plant": ("厂区", "Plant"),
}


@dataclass(frozen=True)
class Category:
    value: str
    colour: str
    zh: str
    en: str


@dataclass(frozen=True)
class Style:
    type: str
    field: str | None = None
    symbol: str = "circle"
    size_mm: float = 2.0
    fill: str | None = None
    fill_opacity: float = 1.0
    stroke: str | None = None
    stroke_width_mm: float = 0.2
    dash: str = "solid"
    none_colour: str = "#9E9E9E"
    other_colour: str = "#9E9E9E"
    categories: tuple[Category, ...] = ()
    stroke_by_class: bool = False  # polygons: outline in each class's colour too (fill and outline)

    def category(self, value) -> Category | None:
        key = _category_key(value)
        for c in self.categories:
            if c.value == key:
                return c
        return None


@dataclass(frozen=True)
class Label:
    field: str
    size_pt: float = 8.0
    bold: bool = False
    priority: int = 5
    show_below_scale: float = 0.0  # 0 = at every scale
    show_above_scale: float = 0.0  # drawn only at 1:N with N ≥ this (an area's name would sit on a plant); 0 = none

    def visible_at(self, scale_denominator: float) -> bool:
        """Whether the label is drawn at 1:``scale_denominator`` (QGIS's scale-based label visibility).

        >>> Label("name", show_above_scale=5000).visible_at(1000), Label("name").visible_at(1000)
        (False, True)
        """
        return (self.show_below_scale <= 0 or scale_denominator <= self.show_below_scale) \
            and scale_denominator >= self.show_above_scale


@dataclass(frozen=True)
class FieldDef:
    name: str
    zh: str
    en: str


@dataclass(frozen=True)
class LayerDef:
    id: str
    table: str
    geometry: str
    group: str
    z: int
    visible: bool
    name_zh: str
    name_en: str
    style: Style
    where: str | None = None
    label: Label | None = None
    fields: tuple[FieldDef, ...] = field(default_factory=tuple)
    path: Path | None = None
    show_below_scale: float = 0.0  # drawn only at scales 1:N with N ≤ this (0 = at every scale)

    def title(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh

    def visible_at(self, scale_denominator: float) -> bool:
        """Whether the layer draws at the scale 1:``scale_denominator`` (its ``show_below_scale``)."""
        return self.show_below_scale <= 0 or scale_denominator <= self.show_below_scale


def _category_key(value) -> str:
    """Category values compare as text; floats in their shortest form (3e-07)."""
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    return str(value)


def _norm_float_key(key: str) -> str:
    try:
        f = float(key)
    except ValueError:
        return key
    return _category_key(f) if any(ch in key for ch in ".eE") else key


def parse_layer(data: dict, path: Path | None = None) -> LayerDef:
    """Build a LayerDef from a parsed TOML table; errors name the file and key."""
    where = str(path) if path else "layer"

    def need(key):
        if key not in data:
            raise RiskmapError(f"图层定义缺少字段 {key}", f"layer definition lacks '{key}'", where=where)
        return data[key]

    geometry = need("geometry")
    if geometry not in (*GEOMETRIES, RASTER):
        raise RiskmapError(f"几何类型无效: {geometry}", f"bad geometry '{geometry}'", where=where)
    st = dict(need("style"))
    if st.get("type") not in STYLE_TYPES:
        raise RiskmapError(f"样式类型无效: {st.get('type')}", f"bad style type {st.get('type')!r}", where=where)
    cats = tuple(
        Category(_norm_float_key(str(k)), v["colour"], v.get("zh", str(k)), v.get("en", str(k)))
        for k, v in st.pop("categories", {}).items()
    )
    fill = st.pop("fill", None)
    style = Style(fill=None if fill in (None, "none") else fill, categories=cats, **st)
    lab = data.get("label")
    group = need("group")
    if group not in GROUPS:
        raise RiskmapError(f"图层分组无效: {group}", f"bad group '{group}'", where=where)
    name = need("name")
    return LayerDef(
        id=need("id"),
        table=need("table"),
        geometry=geometry,
        group=group,
        z=int(data.get("z", 0)),
        visible=bool(data.get("visible", True)),
        name_zh=name["zh"],
        name_en=name["en"],
        style=style,
        where=data.get("where"),
        label=Label(**lab) if lab else None,
        fields=tuple(FieldDef(f["name"], f["zh"], f["en"]) for f in data.get("fields", [])),
        path=path,
        show_below_scale=float(data.get("show_below_scale", 0.0)),
    )


@lru_cache(maxsize=4)
def load_catalogue(directory: Path = LAYERS_DIR) -> dict[str, LayerDef]:
    """All vector layer definitions, keyed by id, in drawing order (lowest z first).

    Image layers (``geometry = "raster"``: the plant plans) are in :func:`raster_catalogue`: they have no
    features to export, style in QGIS or import into."""
    return {k: d for k, d in _all_layers(directory).items() if d.geometry != RASTER}


def raster_catalogue(directory: Path = LAYERS_DIR) -> dict[str, LayerDef]:
    """The image layers of ``layers/`` (the plant plans), keyed by id.

    >>> raster_catalogue()["plant_plans"].group
    'plant'
    """
    return {k: d for k, d in _all_layers(directory).items() if d.geometry == RASTER}


@lru_cache(maxsize=4)
def _all_layers(directory: Path = LAYERS_DIR) -> dict[str, LayerDef]:
    layers = []
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise RiskmapError(f"图层定义文件无法解析: {exc}", f"cannot parse layer file: {exc}", where=str(path)) from exc
        layers.append(parse_layer(data, path))
    layers.sort(key=lambda layer: layer.z)
    return {layer.id: layer for layer in layers}


# ---- approximate (示意) zones ----------------------------------------------------------------------
# Zones generated from town seats are 示意 until real boundaries replace them: project_meta keeps
# ``approximate.<kind>`` and every layer drawing that kind carries the mark in its title, on screen (layers
# panel, legend), on paper and in every export, which all take their titles from :func:`marked_catalogue`.
APPROXIMATE_PREFIX = "approximate."
APPROXIMATE_MARK = "示意"
_KIND_WHERE = re.compile(r"^\s*kind\s*=\s*'(\w+)'\s*$")


def approximate_kinds(meta: Mapping[str, str | None]) -> set[str]:
    """Zone kinds marked approximate in a project's metadata (``approximate.<kind>`` set)."""
    return {k[len(APPROXIMATE_PREFIX):] for k, v in meta.items() if k.startswith(APPROXIMATE_PREFIX) and v}


def layer_kind(layer: LayerDef) -> str | None:
    """The one zone kind a layer draws (``where = "kind = 'town'"``), else None."""
    m = _KIND_WHERE.match(layer.where or "") if layer.table == "zones" else None
    return m.group(1) if m else None


def marked_catalogue(kinds: Iterable[str] = ()) -> dict[str, LayerDef]:
    """The catalogue with the layers of approximate zone ``kinds`` titled 镇街（示意） / Towns (approximate)."""
    cat = load_catalogue()
    kinds = set(kinds)
    if not kinds:
        return cat
    return {k: replace(d, name_zh=f"{d.name_zh}（{APPROXIMATE_MARK}）", name_en=f"{d.name_en} (approximate)")
            if layer_kind(d) in kinds else d for k, d in cat.items()}
