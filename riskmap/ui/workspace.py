"""The open project as the map sees it: layers in drawing order, their state, selection and extents.

No widgets here (napari-style): the layers panel, legend, table and canvas listen to the signals of
:class:`Workspace` and call its methods. Heavy work (reading and preparing layers) happens in
:func:`load_layers`, which the UI runs off the GUI thread.

Drawing order: ``workspace.layers[0]`` is drawn first (bottom), the last one on top.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from PySide6.QtCore import QObject, QTimer, Signal

from riskmap.errors import RiskmapError
from riskmap.layers import GROUPS, RASTER, LayerDef, load_catalogue, raster_catalogue
from riskmap.fields import display_column
from riskmap.ui import lazy_query
from riskmap.ui.i18n import current_language
from riskmap.ui.map_wait import MAP_WAIT_S, map_drawing, wait_for_map  # noqa: F401 (also imported from here)

log = logging.getLogger("riskmap.ui")
WEB_MERCATOR = 3857
CHANGE_POLL_MS = 3000  # how often a shared database is asked for other users' changes
_VERSIONS = itertools.count(1)
SMALL_LAYER = 20_000  # layers up to this size are re-prepared on the GUI thread (a few ms)


@dataclass(frozen=True)
class LayerFilter:
    """Which features of a layer are shown: allowed values per field (None = missing) and free text.

    >>> LayerFilter({"level": frozenset({1, 2})}).is_empty()
    False
    """

    values: dict = field(default_factory=dict)
    text: str = ""

    def is_empty(self) -> bool:
        return not self.text.strip() and not any(v is not None for v in self.values.values())

    def mask(self, layer: "MapLayer") -> np.ndarray:
        gdf = layer.gdf
        m = np.ones(len(gdf), dtype=bool)
        for name, allowed in self.values.items():
            if allowed is None or name not in gdf.columns:
                continue
            col = gdf[name]
            real = [v for v in allowed if v is not None]
            if col.dtype.kind in "iuf" or str(col.dtype) in ("Int64", "Int32"):
                nums = []
                for v in real:
                    try:
                        nums.append(float(v))
                    except (TypeError, ValueError):
                        pass
                hit = col.astype("Float64").isin(nums).fillna(False).to_numpy(dtype=bool)
            else:
                hit = col.astype(object).isin(real).to_numpy(dtype=bool)
            if None in allowed:
                hit |= col.isna().to_numpy()
            m &= hit
        text = self.text.strip().lower()
        if text:
            m &= layer.search_text().str.contains(text, regex=False).to_numpy(dtype=bool)
        return m


class MapLayer:
    """A catalogue layer with its data (EPSG:4490), projected geometry, state and prepared drawing."""

    lazy = False  # read whole (see LazyMapLayer)

    def __init__(self, layer_def: LayerDef, gdf, projected: np.ndarray, map_epsg: int):
        self.layer_def = layer_def
        self.id = layer_def.id
        self.gdf = gdf
        self.projected = projected  # shapely geometries in the map CRS, aligned with gdf rows
        self.map_epsg = map_epsg
        self.visible = layer_def.visible
        self.opacity = 1.0
        self.filter = LayerFilter()
        self.mask = np.ones(len(gdf), dtype=bool)
        self.prepared = None
        self.version = 0
        self._search = None
        self._bounds = None

    @property
    def group(self) -> str:
        return self.layer_def.group

    @property
    def geometry(self) -> str:
        return self.layer_def.geometry

    def title(self, lang: str = "zh") -> str:
        return self.layer_def.title(lang)

    @property
    def ids(self) -> np.ndarray:
        return self.gdf["id"].to_numpy() if "id" in self.gdf.columns else np.asarray(self.gdf.index)

    def shown_count(self) -> int:
        return int(self.mask.sum())

    def bounds(self) -> np.ndarray:
        """(n, 4) map-CRS bounds of every feature (cached)."""
        if self._bounds is None:
            self._bounds = shapely.bounds(self.projected)
        return self._bounds

    def search_text(self) -> pd.Series:
        """One lower-case string per feature joining its catalogue fields in words (cached)."""
        if self._search is None:
            parts = []
            for f in self.layer_def.fields:
                if f.name in self.gdf.columns:
                    parts.append(pd.Series(display_column(self.layer_def, f.name, self.gdf[f.name]), dtype=object))
            if not parts:
                self._search = pd.Series([""] * len(self.gdf), dtype=object)
            else:
                s = parts[0].astype(str)
                for p in parts[1:]:
                    s = s + "\u0001" + p.astype(str)
                self._search = s.str.lower()
        return self._search

    def make_prepared(self, mask: np.ndarray | None = None):
        """Drawing arrays of the features ``mask`` (default: the filter's) lets through; thread-safe."""
        from riskmap.render.prepared import PreparedLayer

        mask = self.mask if mask is None else mask
        sub = self.gdf if mask.all() else self.gdf[mask]
        geoms = self.projected if mask.all() else self.projected[mask]
        return PreparedLayer.from_gdf(self.layer_def, _with_geometry(sub, geoms), self.map_epsg, projected=True)

    def prepare(self) -> None:
        """(Re)build the drawing arrays from the features the filter lets through."""
        self.prepared = self.make_prepared()
        self.version = next(_VERSIONS)  # unique across layers and re-reads

    def row_of(self, ids) -> np.ndarray:
        """Row positions (in gdf) of feature ids; unknown ids dropped."""
        idx = pd.Index(self.ids).get_indexer(np.asarray(list(ids)))
        return idx[idx >= 0]


def _with_geometry(sub, geoms):
    import geopandas as gpd

    return gpd.GeoDataFrame(sub.drop(columns=sub.geometry.name), geometry=gpd.GeoSeries(geoms, index=sub.index),
                            crs=None)


def project_geoms(geoms, epsg: int) -> np.ndarray:
    """EPSG:4490 geometries → map CRS, vectorised."""
    from riskmap.crs import reproject

    return reproject(np.asarray(geoms, dtype=object), 4490, epsg)


def map_epsg_for(project, crs_choice: str = "gk") -> int:
    """The map CRS: the project's Gauss–Krüger zone, or Web Mercator."""
    if crs_choice == "webmercator":
        return WEB_MERCATOR
    if project.metric_epsg:
        return int(project.metric_epsg)
    from riskmap.crs import gk_zone_epsg_for

    county = project.read_table("zones", where="kind = 'county'")
    if len(county):
        return gk_zone_epsg_for(county.geometry)
    return WEB_MERCATOR


def project_catalogue(project) -> dict[str, LayerDef]:
    """The layer catalogue as the project titles it (镇街（示意） while its towns are approximate), with the
    image layers (the plant plans) of a project that has their table, in drawing order."""
    cat = project.catalogue() if hasattr(project, "catalogue") else load_catalogue()
    rasters = {k: d for k, d in raster_catalogue().items() if _has_table(project, d.table)}
    if not rasters:
        return cat
    return dict(sorted({**cat, **rasters}.items(), key=lambda kv: kv[1].z))


def _has_table(project, table: str) -> bool:
    from sqlalchemy import inspect

    try:
        return inspect(project.engine).has_table(table)
    except Exception:  # no engine (a stand-in project in tests)
        return False


class RasterMapLayer(MapLayer):
    """An image layer (the plant plans): its rows are the images' outlines (EPSG:4490, no image bytes), its
    prepared drawing a :class:`riskmap.render.plans.PlanLayer` reading each image when first in view."""

    def __init__(self, layer_def: LayerDef, gdf, projected: np.ndarray, map_epsg: int, fetch):
        super().__init__(layer_def, gdf, projected, map_epsg)
        self.fetch = fetch

    def make_prepared(self, mask: np.ndarray | None = None):
        from riskmap.render.plans import PlanLayer

        mask = self.mask if mask is None else mask
        return PlanLayer.from_gdf(self.layer_def, self.gdf if mask.all() else self.gdf[mask], self.map_epsg,
                                  fetch=self.fetch)


class LazyMapLayer(MapLayer):
    """A layer too large to read whole (more than ``riskmap.store.viewport.LAZY_ROWS`` rows): its
    ``prepared`` is a :class:`riskmap.render.lazy.LazyPrepared` that the renderer asks, on the render worker,
    for each view's features (aggregates at small scales, the exact features of the view closer in). ``gdf``
    holds no rows (never the whole table): exact answers are asked of the project (riskmap.store.layer_query).
    """

    lazy = True

    def __init__(self, project, layer_def: LayerDef, map_epsg: int, row_count: int, gdf=None):
        from riskmap.render.lazy import LazyPrepared

        if gdf is None:
            where = f"({layer_def.where}) AND 1 = 0" if layer_def.where else "1 = 0"  # no rows (SQLite and PostgreSQL)
            gdf = project.read_table(layer_def.table, where=where)
        super().__init__(layer_def, gdf, np.empty(0, dtype=object), map_epsg)
        self.project = project
        self.row_count = int(row_count)
        self.prepared = LazyPrepared(project, layer_def, map_epsg, row_count, cache_dir=lod_cache())
        self.version = next(_VERSIONS)

    def shown_count(self) -> int:
        return self.row_count

    def make_prepared(self, mask: np.ndarray | None = None):
        return self.prepared

    def prepare(self) -> None:
        self.version = next(_VERSIONS)

    def set_where(self, where) -> None:
        """Draw only the rows ``where`` (``(sql, params)``, e.g. a filter; None: all) lets through."""
        from riskmap.render.lazy import LazyPrepared

        old = self.prepared
        self.prepared = LazyPrepared(self.project, self.layer_def, self.map_epsg, self.row_count, where=where,
                                     cache_dir=lod_cache())
        self.prepared.z = old.z
        self.version = next(_VERSIONS)

    def drop_cache(self) -> None:
        """Forget what was read (after an edit or another user's change): the next frame reads again."""
        self.prepared.drop()
        self.version = next(_VERSIONS)

    def extent(self) -> tuple[float, float, float, float] | None:
        return self.prepared.total_bounds()


def lod_cache():
    """The folder keeping large layers' compact point arrays between sessions (the user's cache)."""
    from riskmap.ui.prefs import cache_dir

    return cache_dir() / "lod"


def _filter_where(layer_def: LayerDef, flt: LayerFilter):
    """A filter as ``(sql, params)`` for a lazy layer (values bound, never spliced), None when empty."""
    if flt is None or flt.is_empty():
        return None
    from riskmap.store.layer_query import filter_sql

    return filter_sql(layer_def, flt)


def reads_by_view(layer_def: LayerDef, rows: int) -> bool:
    """Whether a layer of ``rows`` rows is read by view (a LazyMapLayer): points above LAZY_ROWS, lines and
    polygons above LAZY_SHAPE_ROWS (held as compact arrays kept in the user's cache, never as a GeoDataFrame:
    riskmap.render.lazy)."""
    from riskmap.store.viewport import LAZY_ROWS, LAZY_SHAPE_ROWS

    if layer_def.geometry == RASTER:
        return False
    return rows > (LAZY_ROWS if layer_def.geometry == "point" else LAZY_SHAPE_ROWS)


def lazy_rows(project, layer_def: LayerDef) -> int | None:
    """The layer's row count when it is to be read by view (:func:`reads_by_view`), else None."""
    from riskmap.store.viewport import layer_rows

    if layer_def.geometry == RASTER or not hasattr(project, "engine"):
        return None
    try:
        n = layer_rows(project, layer_def)
    except RiskmapError:
        return None
    return n if reads_by_view(layer_def, n) else None


def load_layer(project, layer_def: LayerDef, epsg: int, rows: int | None = None, *, quick: bool = False,
               stamp=None, first=None, quick_reads=None) -> MapLayer:
    """Read, project and prepare one layer; off the GUI thread it first lets a map frame finish. A layer of
    more than LAZY_ROWS rows becomes a :class:`LazyMapLayer` (off the GUI thread its compact arrays are read
    here, so that its first frame does not wait for them). ``rows``: its row count when the caller has just
    counted it (:func:`layer_sizes`; a city's 1M enterprises are not counted twice: 0.3 s on a GeoPackage).
    ``quick``: a large point layer whose exact arrays the user's cache does not hold is placed from the spatial
    index (LazyPrepared.load_quick: within a metre, for a first frame; its ``prepared.approximate`` is True and
    the caller loads it again exactly). ``stamp``: a future of the layer's points_stamp asked before (see
    LazyPrepared.stamp_hint). ``first``: a future of the layer's read_points_first started before (see
    LazyPrepared.first_hint; ``rows`` may then be the planner's estimate: the layer's row count is the arrays'
    once they are read). ``quick_reads``: the layer's R-tree reads started before (riskmap.store.viewport.
    start_points_quick; see LazyPrepared.quick_hint)."""
    wait_for_map()
    if rows is None or layer_def.geometry == RASTER or not hasattr(project, "engine"):
        rows = lazy_rows(project, layer_def)
    elif not reads_by_view(layer_def, int(rows)):
        rows = None
    if rows is not None:
        layer = LazyMapLayer(project, layer_def, epsg, rows)
        layer.prepared.stamp_hint = stamp
        layer.prepared.first_hint = first
        layer.prepared.quick_hint = quick_reads
        if threading.current_thread() is not threading.main_thread() and not (quick and layer.prepared.load_quick()):
            layer.prepared.load()
            layer.row_count = int(layer.prepared.row_count)  # the rows read (exact)
        return layer
    if layer_def.geometry == RASTER:
        from riskmap.render.plans import project_fetch, read_plans

        gdf = read_plans(project)
        layer = RasterMapLayer(layer_def, gdf, project_geoms(gdf.geometry.array, epsg), epsg, project_fetch(project))
        layer.prepare()
        return layer
    gdf = project.read_layer(layer_def)
    layer = MapLayer(layer_def, gdf, project_geoms(gdf.geometry.array, epsg), epsg)
    layer.prepare()
    return layer


def empty_layer(project, layer_def: LayerDef, epsg: int) -> MapLayer:
    """A layer with the table's columns and no rows: shown while the real one loads."""
    if layer_def.geometry == RASTER:
        return load_layer(project, layer_def, epsg)  # a few outlines: read at once
    where = f"({layer_def.where}) AND 1 = 0" if layer_def.where else "1 = 0"  # no rows (SQLite and PostgreSQL)
    gdf = project.read_table(layer_def.table, where=where)
    layer = MapLayer(layer_def, gdf, np.empty(0, dtype=object), epsg)
    layer.prepare()
    return layer


def layer_sizes(project, defs) -> dict[str, int]:
    """Rows of each layer (its table filtered by its ``where``)."""
    out = {}
    with project.engine.connect() as conn:
        for d in defs:
            sql = f"SELECT count(*) FROM {d.table}" + (f" WHERE {d.where}" if d.where else "")
            out[d.id] = int(conn.exec_driver_sql(sql).scalar() or 0)
    return out


def load_layers(project, epsg: int, progress: Callable | None = None, cancelled: Callable | None = None,
                catalogue: dict | None = None, sizes: dict | None = None, *, quick: bool = False,
                stamps: dict | None = None, quick_reads: dict | None = None) -> list[MapLayer]:
    """Read, project and prepare every catalogue layer (in drawing order). Runs off the GUI thread.
    ``sizes``: :func:`layer_sizes` just taken (not counted again); ``quick``, ``stamps``, ``quick_reads`` (by
    layer id): see :func:`load_layer`.

    One thread on purpose: reading layers on several threads gained nothing (pandas holds the GIL), and
    the SQLite store keeps one connection per thread in a pool of five, closing one when a sixth thread
    comes, so the UI touches the project from few, long-lived threads only (GUI + riskmap.ui.tasks).
    """
    catalogue = catalogue or project_catalogue(project)
    defs = list(catalogue.values())
    out = []
    for i, layer_def in enumerate(defs):
        if cancelled is not None and cancelled():
            from riskmap.progress import Cancelled

            raise Cancelled()
        if progress is not None:
            progress(i / len(defs), layer_def.title(current_language()))
        out.append(load_layer(project, layer_def, epsg, (sizes or {}).get(layer_def.id), quick=quick,
                              stamp=(stamps or {}).get(layer_def.id),
                              quick_reads=(quick_reads or {}).get(layer_def.id)))
    if progress is not None:
        progress(1.0, "")
    return out


class Workspace(QObject):
    """The project, its map layers and the selection; every change is announced by a signal."""

    layersReset = Signal()
    orderChanged = Signal()
    layerChanged = Signal(str, str)  # layer id, what: visible | opacity | filter | data
    selectionChanged = Signal(str)  # layer id ('' = all cleared)
    labelsChanged = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.project = None
        self.map_epsg = WEB_MERCATOR
        self.layers: list[MapLayer] = []
        self.selection: dict[str, np.ndarray] = {}
        self.labels = True
        self.lang = "zh"
        self.zoning_rule: str | None = None
        self._pending_filters: dict = {}

    # ---- project and layers
    def set_project(self, project, map_epsg: int, layers: list[MapLayer]) -> None:
        old_state = {layer.id: (layer.visible, layer.opacity) for layer in self.layers}
        self.project = project
        self.map_epsg = map_epsg
        for layer in layers:  # keep the user's visibility/opacity when only the CRS changed
            if layer.id in old_state and project is not None:
                layer.visible, layer.opacity = old_state[layer.id]
        self.layers = layers
        self.selection = {}
        self.sync_z()
        self.layersReset.emit()

    def sync_z(self) -> None:
        """Give every prepared layer its place in the user's order as ``z`` (the renderer draws by z)."""
        for i, layer in enumerate(self.layers):
            if layer.prepared is not None:
                layer.prepared.z = i

    def layer(self, layer_id: str) -> MapLayer:
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        raise RiskmapError(f"没有图层 {layer_id}", f"no layer {layer_id}")

    def has_layer(self, layer_id: str) -> bool:
        return any(layer.id == layer_id for layer in self.layers)

    def layer_ids(self) -> list[str]:
        return [layer.id for layer in self.layers]

    def visible_layers(self) -> list[MapLayer]:
        return [layer for layer in self.layers if layer.visible and layer.prepared is not None]

    # ---- state changes
    def set_visible(self, layer_id: str, visible: bool) -> None:
        layer = self.layer(layer_id)
        if layer.visible != bool(visible):
            layer.visible = bool(visible)
            self.layerChanged.emit(layer_id, "visible")

    def set_opacity(self, layer_id: str, opacity: float) -> None:
        layer = self.layer(layer_id)
        opacity = max(0.0, min(1.0, float(opacity)))
        if abs(layer.opacity - opacity) > 1e-6:
            layer.opacity = opacity
            self.layerChanged.emit(layer_id, "opacity")

    def set_order(self, ids_bottom_first: list[str]) -> None:
        """Reorder the layers; ids not given keep their relative order below the given ones."""
        by_id = {layer.id: layer for layer in self.layers}
        given = [by_id[i] for i in ids_bottom_first if i in by_id]
        rest = [layer for layer in self.layers if layer.id not in set(ids_bottom_first)]
        new = rest + given
        if [layer.id for layer in new] != self.layer_ids():
            self.layers = new
            self.sync_z()
            self.orderChanged.emit()

    def set_filter(self, layer_id: str, flt: LayerFilter | None) -> None:
        """Show only the features ``flt`` lets through (None: all). Large layers are prepared on a worker
        thread; the map changes when that is done (``layerChanged(id, "filter")``)."""
        layer = self.layer(layer_id)
        flt = flt or LayerFilter()
        if layer.lazy:  # drawn through a parameterised WHERE, never a mask over cached rows
            layer.filter = flt
            layer.set_where(_filter_where(layer.layer_def, flt))
            self.sync_z()
            self.layerChanged.emit(layer.id, "filter")
            return
        mask = flt.mask(layer) if not flt.is_empty() else np.ones(len(layer.gdf), dtype=bool)
        layer.filter = flt
        layer.mask = mask
        if len(layer.gdf) <= SMALL_LAYER:
            layer.prepare()
            self._filtered(layer, layer.prepared)
            return
        from riskmap.ui import tasks

        task = tasks.Task(lambda progress, cancelled: layer.make_prepared(mask))
        self._pending_filters[layer_id] = task
        task.succeeded.connect(lambda prep: self._pending_filters.get(layer_id) is task and self._filtered(layer, prep))
        tasks.start(task)

    def _filtered(self, layer: MapLayer, prepared) -> None:
        self._pending_filters.pop(layer.id, None)
        if layer not in self.layers:
            return
        layer.prepared = prepared
        layer.version = next(_VERSIONS)
        self.sync_z()
        self.layerChanged.emit(layer.id, "filter")

    def show_prepared(self, layer_id: str, prepared, mask: np.ndarray | None = None, what: str = "filter") -> None:
        """Draw ``prepared`` for a layer (made from the rows ``mask`` lets through) without re-reading it: the
        as-of-date view (riskmap.ui.timeline) substitutes the level column this way."""
        layer = self.layer(layer_id)
        if mask is not None:
            layer.mask = mask
        layer.prepared = prepared
        layer.version = next(_VERSIONS)
        self.sync_z()
        self.layerChanged.emit(layer_id, what)

    def busy(self) -> bool:
        """True while a filter is being applied in the background."""
        return bool(self._pending_filters)

    def set_labels(self, on: bool) -> None:
        if self.labels != bool(on):
            self.labels = bool(on)
            self.labelsChanged.emit()

    def replace_layer(self, new: MapLayer) -> None:
        """Swap in a re-read layer, keeping its visibility, opacity, filter and place in the order."""
        for i, old in enumerate(self.layers):
            if old.id == new.id:
                new.visible, new.opacity = old.visible, old.opacity
                new.filter = old.filter
                if new.lazy and not old.filter.is_empty():
                    new.set_where(_filter_where(new.layer_def, old.filter))
                elif not old.filter.is_empty():
                    new.mask = old.filter.mask(new)
                    new.prepare()
                self.layers[i] = new
                sel = self.selection.get(new.id)
                if sel is not None and not lazy_query.is_lazy(new):  # a lazy layer holds only the view's rows
                    self.selection[new.id] = np.intersect1d(sel, new.ids)
                self.sync_z()
                self.layerChanged.emit(new.id, "data")
                return
        self.layers.append(new)
        self.sync_z()
        self.layerChanged.emit(new.id, "data")

    def reload_layer(self, layer_id: str) -> MapLayer:
        """Read one layer again from the project (after an edit) and re-prepare only that layer."""
        layer_def = project_catalogue(self.project).get(layer_id, self.layer(layer_id).layer_def)
        new = load_layer(self.project, layer_def, self.map_epsg)
        self.replace_layer(new)
        return new

    def reload_table(self, table: str) -> None:
        """Re-read every layer drawn from ``table``."""
        for layer in list(self.layers):
            if layer.layer_def.table == table:
                self.reload_layer(layer.id)

    # ---- selection
    def select(self, layer_id: str, ids, mode: str = "replace") -> None:
        """Select features by id: mode replace | add | remove | toggle."""
        ids = np.unique(np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids))
        old = self.selection.get(layer_id, np.zeros(0, dtype=ids.dtype if len(ids) else np.int64))
        if mode == "add":
            new = np.union1d(old, ids)
        elif mode == "remove":
            new = np.setdiff1d(old, ids)
        elif mode == "toggle":
            new = np.setxor1d(old, ids)
        else:
            new = ids
        if len(new) == len(old) and np.array_equal(new, old):
            return
        if len(new):
            self.selection[layer_id] = new
        else:
            self.selection.pop(layer_id, None)
        self.selectionChanged.emit(layer_id)

    def clear_selection(self) -> None:
        if self.selection:
            ids = list(self.selection)
            self.selection = {}
            for layer_id in ids:
                self.selectionChanged.emit(layer_id)

    def selected_ids(self, layer_id: str) -> np.ndarray:
        return self.selection.get(layer_id, np.zeros(0, dtype=np.int64))

    # ---- extents (map CRS)
    def full_extent(self) -> tuple[float, float, float, float] | None:
        """The county boundary's extent, else the union of all layers."""
        for key in ("county", "towns"):
            if self.has_layer(key):
                ext = self.layer_extent(key)
                if ext is not None:
                    return ext
        boxes = [self.layer_extent(layer.id) for layer in self.layers]
        boxes = [b for b in boxes if b is not None]
        if not boxes:
            return None
        b = np.array(boxes)
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())

    def layer_extent(self, layer_id: str, ids=None) -> tuple[float, float, float, float] | None:
        layer = self.layer(layer_id)
        if lazy_query.is_lazy(layer):  # asked of the project's spatial index, not of the cached rows
            return lazy_query.extent(self, layer, ids)
        b = layer.bounds()
        if ids is not None:
            b = b[layer.row_of(ids)]
        b = b[np.isfinite(b[:, 0])] if len(b) else b
        if not len(b):
            return None
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())

    def selection_extent(self) -> tuple[float, float, float, float] | None:
        boxes = [self.layer_extent(lid, ids) for lid, ids in self.selection.items() if self.has_layer(lid)]
        boxes = [b for b in boxes if b is not None]
        if not boxes:
            return None
        b = np.array(boxes)
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())

    # ---- identify
    def features_at(self, x: float, y: float, tolerance: float, layers: list[str] | None = None) -> list[tuple[str, int]]:
        """(layer id, feature id) of the visible, shown features at map point (x, y): points, then lines,
        then polygons, each kind top layer first.

        Points and lines within ``tolerance`` map units; polygons containing the point (or within
        tolerance of their outline).
        """
        hits = {"point": [], "line": [], "polygon": []}
        pt = shapely.Point(x, y)
        for layer in reversed(self.layers):
            if not layer.visible or (layers is not None and layer.id not in layers):
                continue
            if layer.geometry not in hits:  # an image layer: nothing to identify
                continue
            if lazy_query.is_lazy(layer):  # too large to hold: asked of the project, not of the cached rows
                hits[layer.geometry].extend((layer.id, i) for i in lazy_query.features_at(self, layer, x, y, tolerance))
                continue
            if not len(layer.gdf):
                continue
            b = layer.bounds()
            cand = np.flatnonzero(layer.mask & (b[:, 0] - tolerance <= x) & (b[:, 2] + tolerance >= x)
                                  & (b[:, 1] - tolerance <= y) & (b[:, 3] + tolerance >= y))
            if not len(cand):
                continue
            geoms = layer.projected[cand]
            d = shapely.distance(geoms, pt)
            if layer.geometry == "polygon":
                ok = (d <= 0) | (shapely.distance(shapely.boundary(geoms), pt) <= tolerance)
            else:
                ok = d <= tolerance
            order = np.argsort(d[ok], kind="stable")
            ids = layer.ids[cand[ok][order]]
            hits[layer.geometry].extend((layer.id, int(i)) for i in ids)
        return hits["point"] + hits["line"] + hits["polygon"]

    def record(self, layer_id: str, feature_id: int) -> pd.Series | None:
        layer = self.layer(layer_id)
        if lazy_query.is_lazy(layer):
            return lazy_query.record(self, layer, feature_id)
        rows = layer.row_of([feature_id])
        return layer.gdf.iloc[int(rows[0])] if len(rows) else None

    def geometry_of(self, layer_id: str, feature_id: int):
        """The feature's geometry in the map CRS, or None."""
        layer = self.layer(layer_id)
        if lazy_query.is_lazy(layer):
            return lazy_query.geometry_of(self, layer, feature_id)
        rows = layer.row_of([feature_id])
        return layer.projected[int(rows[0])] if len(rows) else None

    def groups(self) -> dict[str, tuple[str, str]]:
        return dict(GROUPS)


class ChangePoller(QObject):
    """On a shared database (PostgreSQL), asks every ``interval_ms`` for other users' changes and reloads the
    layers drawn from the changed tables, except those with unsaved edits (``unsaved()``: layer ids) and
    while ``busy()`` (a project still loading). ``reloaded`` carries the reloaded layer ids."""

    reloaded = Signal(list)

    def __init__(self, workspace: Workspace, interval_ms: int = CHANGE_POLL_MS, *,
                 busy: Callable[[], bool] = lambda: False, unsaved: Callable[[], set] = set,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.busy = busy
        self.unsaved = unsaved
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)

    def watch(self, project) -> bool:
        """Start polling ``project`` when it is shared (returns whether it polls); a file project stops it."""
        self.timer.stop()
        if project is None or project.dialect != "postgresql":
            return False
        try:
            project.listen()
        except Exception:
            log.exception("cannot listen for changes")
            return False
        self.timer.start()
        return True

    def is_active(self) -> bool:
        return self.timer.isActive()

    def stop(self) -> None:
        self.timer.stop()

    def poll(self) -> list[str]:
        """Reload the layers whose tables others changed; returns the reloaded layer ids."""
        project = self.workspace.project
        if project is None or self.busy():
            return []
        try:
            changes = project.poll_changes()
        except Exception:
            log.exception("cannot poll changes")
            return []
        tables = {c.table for c in changes}
        keep = set(self.unsaved())  # unsaved edits are not overwritten
        reloaded = []
        for layer in list(self.workspace.layers):
            if layer.layer_def.table in tables and layer.id not in keep:
                self.workspace.reload_layer(layer.id)
                reloaded.append(layer.id)
        if reloaded:
            self.reloaded.emit(reloaded)
        return reloaded
