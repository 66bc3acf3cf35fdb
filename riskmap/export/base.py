"""What every export shares: the layers to write, the demo mark, progress/cancel and atomic output.

>>> # src = collect_layers(project, ["enterprises", "towns"])
>>> # [x.layer.id for x in src.layers]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from riskmap.errors import RiskmapError
from riskmap.fields import derive_columns, field_title
from riskmap.layers import APPROXIMATE_MARK, LayerDef, load_catalogue, raster_catalogue
from riskmap.marks import DEMO_MARK
from riskmap.progress import EXPORT_CANCELLED, Cancel, Progress, Steps
from riskmap.scalars import plain_scalar

INTERNAL_COLUMNS = ("version",)  # columns of the store that mean nothing outside it

@dataclass
class ExportLayer:
    """One catalogue layer with its features (EPSG:4490) and derived display columns."""

    layer: LayerDef
    gdf: gpd.GeoDataFrame

    @property
    def id(self) -> str:
        return self.layer.id

    def field_title(self, name: str, lang: str = "zh") -> str:
        """The catalogue's title of a column (or a derived column), else the name itself."""
        return field_title(self.layer, name, lang)


@dataclass
class ExportSource:
    """Everything an export writes: project facts and the chosen layers in drawing order."""

    name: str
    is_demo: bool
    metric_epsg: int
    layers: list[ExportLayer]
    place: str | None = None
    project: object | None = None  # the open Project, for the non-spatial tables (lists, indicators)
    created: dt.date = field(default_factory=dt.date.today)
    # enterprises without a location (未定位, riskmap.stats.unlocated): on no map layer, counted by their town
    unlocated: pd.DataFrame | None = None
    at: dt.date | None = None  # the project as of this date (riskmap.asof), None: as it is now

    def get(self, layer_id: str) -> ExportLayer | None:
        for x in self.layers:
            if x.id == layer_id:
                return x
        return None

    @property
    def demo_mark(self) -> str:
        return DEMO_MARK if self.is_demo else ""

    @property
    def approximate_notes(self) -> list[str]:
        """One sentence per layer of approximate (示意) zones, for readme tables and sheets."""
        return [f"{x.layer.name_zh}：范围为示意，由镇街驻地生成（泰森多边形），不是正式边界，仅供参考"
                for x in self.layers if is_approximate(x.layer)]


def is_approximate(layer: LayerDef) -> bool:
    """A layer titled as approximate (示意) by the project's catalogue."""
    return layer.name_zh.endswith(f"（{APPROXIMATE_MARK}）")


def export_steps(progress: Progress | None, cancel: Cancel | None, total: int = 1) -> Steps:
    """Steps of an export: a cancel says that nothing was written."""
    return Steps(progress, cancel, total, message=EXPORT_CANCELLED)


def export_columns(x: ExportLayer) -> list[str]:
    """Attribute columns to write, catalogue fields first (and their readable twins), geometry excluded."""
    gdf = x.gdf
    order = ["id"]
    for f in x.layer.fields:
        if f.name in gdf and f.name not in order:
            order.append(f.name)
        for twin in (f"{f.name}_name",) if f.name != "level" else ("level_name",):
            if twin in gdf and twin not in order:
                order.append(twin)
    for c in gdf.columns:
        if c not in order and c != gdf.geometry.name and c not in INTERNAL_COLUMNS:
            order.append(c)
    return [c for c in order if c in gdf]


def collect_layers(project, layer_ids: Sequence[str] | None = None, *, visible_only: bool = False,
                   skip_empty: bool = False, progress: Progress | None = None,
                   cancel: Cancel | None = None, at: dt.date | None = None,
                   columns: Callable | None = None) -> ExportSource:
    """Read the chosen catalogue layers of an open project (all by default, in drawing order).

    ``layer_ids`` unknown to the catalogue raise RiskmapError naming them. ``at``: the project as of the end
    of that date (:mod:`riskmap.asof`): enterprises created by then with their levels then, zones levelled
    from those levels, hidden dangers found by then with their status then. ``columns(layer def)``: the
    columns to read of each layer (a print's: riskmap.printing.content.print_columns), else all; with ``at``
    all are read.
    """
    cat = project.catalogue() if hasattr(project, "catalogue") else load_catalogue()  # 示意 titles
    if layer_ids:
        unknown = [i for i in layer_ids if i not in cat and i not in raster_catalogue()]  # plans: no features
        if unknown:
            raise RiskmapError(f"未知图层: {', '.join(unknown)}（可用: {', '.join(cat)}）",
                               f"unknown layers: {', '.join(unknown)} (known: {', '.join(cat)})")
        chosen = [cat[i] for i in cat if i in set(layer_ids)]
    else:
        chosen = [d for d in cat.values() if d.visible or not visible_only]
    steps = export_steps(progress, cancel, len(chosen))
    snap = None
    if at is not None:
        from riskmap.asof import snapshot

        snap = snapshot(project, at)
    layers = []
    for d in chosen:
        if snap is not None:  # every hidden danger: one closed now may have been open then
            gdf = as_of(snap, d, project.read_table(d.table) if d.table == "hidden_dangers" else project.read_layer(d))
        else:
            gdf = project.read_layer(d, columns=columns(d) if columns is not None else None)
        gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
        if skip_empty and not len(gdf):
            steps.step(d.name_zh)
            continue
        layers.append(ExportLayer(d, derive_columns(d, gdf)))
        steps.step(d.name_zh)
    unlocated = None
    if any(d.table == "enterprises" for d in chosen):
        from riskmap.stats import unlocated as unlocated_table

        unlocated = unlocated_table(project)
        if snap is not None and len(unlocated):
            lv = snap.enterprises.set_index("id")
            ids = unlocated["id"].astype("int64")
            unlocated = unlocated[lv["exists"].reindex(ids).fillna(False).to_numpy(dtype=bool)].copy()
            unlocated["level"] = lv["level"].reindex(unlocated["id"].astype("int64")).to_numpy()
    return ExportSource(name=project.name, is_demo=project.is_demo, metric_epsg=project.metric_epsg or 4544,
                        layers=layers, place=project.place, project=project, unlocated=unlocated, at=at)


_ZONE_UNITS = {"towns": "town", "villages": "village", "grids": "grid", "parks": "park", "counties": "county"}


def as_of(snap, d: LayerDef, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A layer's rows as of ``snap`` (a :class:`riskmap.asof.Snapshot`): the enterprises that existed, with
    their levels then; zones with the levels their unit had then; hidden dangers found by then, with their
    status then (the 未销号 layer: those not closed then). Other layers are as they are."""
    gdf = gdf.copy()
    if d.table == "enterprises":
        e = snap.enterprises.set_index("id")
        ids = gdf["id"].astype("int64")
        gdf = gdf[e["exists"].reindex(ids).fillna(False).to_numpy(dtype=bool)].copy()
        gdf["level"] = e["level"].reindex(gdf["id"].astype("int64")).to_numpy()
    elif d.table == "zones" and "level" in gdf and _ZONE_UNITS.get(d.id) in snap.zone_levels:
        z = snap.zone_levels[_ZONE_UNITS[d.id]].set_index("id")
        gdf["level"] = z["level"].reindex(gdf["id"].astype("int64")).to_numpy()
        if d.id == "counties":
            gdf = gdf[gdf["level"].notna()].copy()
    elif d.table == "hidden_dangers":
        h = snap.dangers.set_index("id")
        ids = gdf["id"].astype("int64")
        gdf = gdf[ids.isin(h.index).to_numpy()].copy()
        gdf["status"] = h["status"].reindex(gdf["id"].astype("int64")).to_numpy()
        gdf = gdf[gdf["status"] != "closed"].copy()
    return gdf


def source_from_frames(name: str, frames: dict[str, gpd.GeoDataFrame], *, is_demo: bool = False,
                       metric_epsg: int = 4544) -> ExportSource:
    """An export source from GeoDataFrames keyed by catalogue layer id (e.g. benchmark data)."""
    cat = load_catalogue()
    layers = [ExportLayer(cat[k], derive_columns(cat[k], frames[k].to_crs(4490)))
              for k in cat if k in frames]
    return ExportSource(name=name, is_demo=is_demo, metric_epsg=metric_epsg, layers=layers)


def plain_value(v):
    """A cell value as plain Python (None for missing; dates as ISO text; numpy scalars unwrapped)."""
    v = plain_scalar(v)
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def text_value(v) -> str:
    """A cell value as display text ('' for missing; 是/否 for booleans)."""
    v = plain_value(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def typed_frame(x: ExportLayer, columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """The layer's columns cast to the types of the store's columns (nullable ints stay integers).

    A column that is empty in every row otherwise arrives as untyped objects and would be written as text.
    """
    from riskmap.model import class_for_table

    cols = list(columns) if columns is not None else export_columns(x)
    try:
        table_cols = {c.name: c for c in class_for_table(x.layer.table).__table__.columns}
    except KeyError:
        table_cols = {}
    out = gpd.GeoDataFrame(index=x.gdf.index, geometry=x.gdf.geometry.values, crs=x.gdf.crs)
    for name in cols:
        s = x.gdf[name]
        col = table_cols.get(name)
        try:
            py = col.type.python_type if col is not None else None
        except NotImplementedError:
            py = None
        if py is bool:
            s = s.astype("boolean")
        elif py is int:
            s = pd.to_numeric(s, errors="coerce").astype("Int64")
        elif py is float:
            s = pd.to_numeric(s, errors="coerce").astype("float64")
        elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            s = s.map(lambda v: None if plain_value(v) is None else text_value(v)).astype(object)
        out[name] = s.values
    return out[[*cols, out.geometry.name]]
