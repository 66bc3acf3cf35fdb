"""The plant 安全风险四色分布图 of one enterprise, through the same print composition as the county map.

The page is a layout template (``resources/templates/plant.json``) painted by
:class:`riskmap.printing.compose.PagePainter` with the one renderer: the georeferenced 厂区平面图 (the
``plant_plans`` image layer, riskmap.render.plans) under the enterprise's risk-point areas, risk points and
hazard sources in the four colours and its open hidden dangers; legend with counts, a table of points by
category and level, north arrow, scale bar, title 「<企业名>安全风险四色分布图」, 编制单位 and date; 示例数据
across the map of a demo project. The 公告栏 poster (riskmap.printing.cards) draws the same map through
:func:`plant_map_painter`.

>>> # print_plant(project, 12, "厂区四色图.pdf", paper="A3", orientation="landscape")
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap.atomic import atomic_path
from riskmap.crs import transformer
from riskmap.errors import RiskmapError
from riskmap.export.base import ExportLayer, ExportSource
from riskmap.export.stats import NONE_COLUMN, TOTAL
from riskmap.fields import derive_columns
from riskmap.layers import load_catalogue
from riskmap.levels import load_levels
from riskmap.marks import DEMO_NOTE, demo_title
from riskmap.plant import metric_epsg, plant_data
from riskmap.printing.compose import PagePainter
from riskmap.printing.content import PageContent, Texts, build_content
from riskmap.printing.export import ensure_app
from riskmap.printing.output import write_pdf
from riskmap.printing.template import Item, Page, Template, load_template
from riskmap.render.plans import plan_layer

PLANT_TEMPLATE = "plant"
AREA_LAYER, POINT_LAYER, HAZARD_LAYER, DANGER_LAYER = "risk_points", "risk_point_points", "hazard_sources", "hidden_dangers"
CATEGORY_ZH = {"area": "区域", "device": "装置", "facility": "设施", "place": "场所", "post": "岗位"}
CATEGORY_EN = {"area": "Areas", "device": "Devices", "facility": "Facilities", "place": "Places", "post": "Posts"}
POLYGON_TYPES = ("Polygon", "MultiPolygon")


def _split_points(points: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The plant's points by the layer that draws them: areas (risk points and hazard sources drawn as
    polygons), risk points placed as points, hazard sources placed as points."""
    located = points[points.geometry.notna() & ~points.geometry.is_empty]
    kinds = located.geometry.geom_type.to_numpy()
    area = np.isin(kinds, POLYGON_TYPES)
    point = kinds == "Point"
    hazard = (located["kind"] == "hazard_source").to_numpy()
    return {AREA_LAYER: located[area], POINT_LAYER: located[point & ~hazard], HAZARD_LAYER: located[point & hazard]}


def category_stats(points: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Counts of the plant's points by category (hazard sources a row of their own) × level, with 未评估 and
    合计 columns and a 合计 row (the shape of the county map's statistics table)."""
    levels = load_levels().levels
    cols = [levels[n].name_zh for n in (1, 2, 3, 4)] + [NONE_COLUMN]
    names = CATEGORY_EN if lang == "en" else CATEGORY_ZH
    rows: dict[str, list[int]] = {}
    for _, r in points.iterrows():
        if r.get("kind") == "hazard_source":
            key = "Hazard sources" if lang == "en" else "危险源"
        else:
            cat = r.get("category")
            key = names.get(cat, str(cat)) if isinstance(cat, str) and cat else ("Other" if lang == "en" else "未分类")
        lv = r.get("level")
        try:
            n = int(lv) if lv is not None and lv == lv else None
        except (TypeError, ValueError):
            n = None
        counts = rows.setdefault(key, [0] * len(cols))
        counts[(n - 1) if n in (1, 2, 3, 4) else 4] += 1
    order = [*(names[k] for k in CATEGORY_ZH), "Hazard sources" if lang == "en" else "危险源"]
    keys = [k for k in order if k in rows] + [k for k in rows if k not in order]
    df = pd.DataFrame([rows[k] for k in keys], index=keys, columns=cols, dtype=np.int64)
    df[TOTAL] = df.sum(axis=1)
    df.loc[TOTAL] = df.sum(axis=0)
    return df


def plant_content(project, enterprise_id: int, *, plant=None, lang: str = "zh",
                  title: str | None = None) -> tuple[PageContent, Texts]:
    """The page content of an enterprise's plant map (extent: ``plant_data(...).extent_4490``) and its texts."""
    plant = plant if plant is not None else plant_data(project, enterprise_id)
    ent = plant.enterprise or {}
    name = str(ent.get("name") or enterprise_id)
    if plant.extent_4490 is None:
        raise RiskmapError(f"企业“{name}”没有位置、平面图或风险点，无法绘制厂区图",
                           f"enterprise {name!r} has no location, plan or risk points: nothing to print")
    epsg = plant.plan.crs if plant.plan is not None else metric_epsg(project, (plant.extent_4490[0] + plant.extent_4490[2]) / 2)
    cat = project.catalogue() if hasattr(project, "catalogue") else load_catalogue()
    frames = _split_points(plant.points)
    if plant.dangers is not None and len(plant.dangers):
        d = plant.dangers
        d = d[d.geometry.notna() & ~d.geometry.is_empty]
        if "status" in d:
            d = d[d["status"] != "closed"]
        frames[DANGER_LAYER] = d
    layers = [ExportLayer(cat[k], derive_columns(cat[k], gdf)) for k, gdf in frames.items() if k in cat and len(gdf)]
    src = ExportSource(name=getattr(project, "name", name), is_demo=bool(project.is_demo), metric_epsg=epsg,
                       layers=layers, place=getattr(project, "place", None), project=project)
    x0, y0, x1, y1 = plant.extent_4490
    xs, ys = transformer(4490, epsg).transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    extent = (min(xs), min(ys), max(xs), max(ys))
    plans = plan_layer(project, epsg, enterprise_ids=[int(ent.get("id", enterprise_id))])
    if layers:
        content = build_content(src, [x.id for x in layers], extent=extent)
    else:  # a plan and nothing else yet: the plan alone
        content = PageContent(project_name=src.name, is_demo=src.is_demo, epsg=epsg, layers=[], extent=extent,
                              overview=[], overview_extent=None, stats=None)
    if plans.n:
        content.layers = [lay for lay in content.layers if lay.id != plans.id] + [plans]
    elif not content.layers:
        raise RiskmapError(f"企业“{name}”没有平面图或风险点，无法绘制厂区图",
                           f"enterprise {name!r} has no plan and no risk points: nothing to print")
    content.overview, content.overview_extent = [], None
    content.stats = category_stats(plant.points, lang) if len(plant.points) else None
    content.stats_title = "Risk points by category (count)" if lang == "en" else "风险点统计（个）"
    level = ent.get("level")
    levels = load_levels().levels
    try:
        level_text = levels[int(level)].name_zh if level is not None and level == level else "未评估"
    except (KeyError, ValueError, TypeError):
        level_text = "未评估"
    basis = str(ent.get("level_basis") or "").strip()
    content.rule_text = (f"企业风险等级：{level_text}（{basis}）" if basis and "覆盖" in basis
                         else f"企业风险等级取各风险点与危险源的最高等级（就高）：{level_text}")
    default_title = f"{name} safety risk four-colour layout" if lang == "en" else f"{name}安全风险四色分布图"
    content.default_title = demo_title(default_title, content.is_demo)
    content.default_subtitle = ("Risk points, hazard sources and hidden dangers (major · significant · general · low)"
                                if lang == "en" else "风险点、危险源与隐患分布（重大·较大·一般·低）")
    sources = []
    if plant.plan is not None:
        p = plant.plan
        rms = f"，配准中误差 {p.rms_m:.2f} m" if p.rms_m is not None else ""
        sources.append(f"底图为企业厂区平面图{('（' + str(p.source_name) + '）') if p.source_name else ''}{rms}")
    sources.append("风险点、危险源与隐患来自 riskmap 项目数据库")
    if content.is_demo:
        sources = ["厂区平面图与风险点均为虚构示例数据"]
    content.default_sources = "；".join(sources)
    meta = project.meta()
    texts = Texts(title=demo_title(title, content.is_demo) if title else None, unit=meta.get("org") or None,
                  date=dt.date.today().isoformat() if lang == "en" else None)
    return content, texts


EN_TEXTS = {"编制单位：": "By: ", "编制日期：": "Date: ", "审图号：": "Map approval: "}


def _english(item: Item) -> Item:
    """A layout item speaking English: the legend's rows and title, the texts' fixed words."""
    opts = dict(item.options)
    if item.type == "legend":
        opts.update(lang="en", title="Legend" if opts.get("title", "图例") == "图例" else opts["title"])
    elif item.type == "text":
        text = str(opts.get("text", ""))
        for zh, en in EN_TEXTS.items():
            text = text.replace(zh, en)
        opts["text"] = text
    elif item.type == "stats":
        opts["unit_header"] = "Category"
    return replace(item, options=opts)


def plant_page(paper: str = "A3", orientation: str = "landscape", lang: str = "zh") -> tuple[Template, Page]:
    tpl = load_template(PLANT_TEMPLATE)
    page = tpl.page(paper, orientation)
    if lang == "en":
        page = replace(page, items=tuple(_english(i) for i in page.items))
    return tpl, page


def print_plant(project, enterprise_id: int, out_pdf, *, paper: str = "A3", orientation: str = "landscape",
                lang: str = "zh", title: str | None = None, dpi: float = 300) -> Path:
    """Write the enterprise's plant 四色分布图 as a vector PDF (A3 or A4); returns the path (whole or not at all)."""
    if str(paper).upper() not in ("A3", "A4"):
        raise RiskmapError(f"厂区图纸张应为 A3 或 A4: {paper}", f"plant map paper must be A3 or A4: {paper}")
    if lang not in ("zh", "en"):
        raise RiskmapError(f"语言应为 zh 或 en: {lang}", f"language must be zh or en: {lang}")
    ensure_app()
    content, texts = plant_content(project, enterprise_id, lang=lang, title=title)
    template, page = plant_page(str(paper).upper(), orientation, lang)
    pp = PagePainter(page, content, texts, template, dpi)
    doc_title = demo_title(pp.values["title"], content.is_demo)
    out = Path(out_pdf)
    with atomic_path(out) as tmp:
        write_pdf([pp], tmp, title=doc_title)
    return out


class _RegionPainter(PagePainter):
    """A PagePainter that paints its items onto a page that something else owns (no page background)."""

    def paint_region(self, painter) -> None:
        painter.save()
        try:
            if self.map_item is not None:
                self._paint_map(painter, None, None, None)
            for item in self.page.items:
                if item.type != "map":
                    self.paint_item(painter, item)
        finally:
            painter.restore()


def plant_map_painter(project, enterprise_id: int, *, plant=None, dpi: float = 300, lang: str = "zh",
                      scale: float = 1.0):
    """A function ``paint(painter, rect)`` drawing the plant map with legend, statistics, north arrow and scale
    bar into ``rect`` (pixels at ``dpi``, the painter's unit) — the 公告栏's map."""
    content, texts = plant_content(project, enterprise_id, plant=plant, lang=lang)
    template = Template(name="plant-region", title="", design_paper="A3", pages={}, note="{rule}")

    def paint(painter, rect) -> None:
        mm = 25.4 / dpi
        x, y, w, h = rect.x() * mm, rect.y() * mm, rect.width() * mm, rect.height() * mm
        side = min(0.3 * w, 95 * scale)
        mw = w - side - 2 * scale
        items = [Item("map", (x, y, mw, h), {"frame_mm": 0.3 * scale}),
                 Item("north_arrow", (x + mw - 13 * scale, y + 3 * scale, 10 * scale, 15 * scale)),
                 Item("scalebar", (x + 2 * scale, y + h - 16 * scale, min(90 * scale, mw * 0.5), 15 * scale),
                      {"size_pt": 7 * scale}),
                 Item("legend", (x + mw + 2 * scale, y, side, h * 0.55), {"size_pt": 8 * scale, "title": "图例"}),
                 Item("stats", (x + mw + 2 * scale, y + h * 0.57, side, h * 0.3), {"size_pt": 7 * scale, "unit_header": "类别"}),
                 Item("note", (x + mw + 2 * scale, y + h * 0.88, side, h * 0.12), {"size_pt": 6.5 * scale})]
        if lang == "en":
            items = [_english(i) for i in items]
        page = Page("A3", "portrait", (x + w, y + h), tuple(items), scale)
        _RegionPainter(page, content, texts, template, dpi).paint_region(painter)

    return paint


def write_plant_png(project, enterprise_id: int, out_png, *, paper: str = "A4", orientation: str = "landscape",
                    dpi: float = 100) -> Path:
    """The plant map as a PNG (for previews and checks)."""
    from riskmap.printing.output import write_png

    ensure_app()
    content, texts = plant_content(project, enterprise_id)
    template, page = plant_page(paper, orientation)
    pp = PagePainter(page, content, texts, template, dpi)
    out = Path(out_png)
    with atomic_path(out) as tmp:
        write_png(pp, tmp, title=pp.values["title"], description=DEMO_NOTE if content.is_demo else "")
    return out

