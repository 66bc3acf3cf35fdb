"""Exact answers for lazy map layers (``layer.lazy``: a layer too large to read whole, whose ``gdf`` holds
only the rows cached for the current view): identify, records, extents, counts and filter values are asked
of the project through :mod:`riskmap.store.layer_query`, never counted from what is cached or drawn.

Counts run off the GUI thread (:mod:`riskmap.ui.tasks` tasks on query workers of their own, :func:`start`) and are kept until the layer's data or filter
changes; :class:`ExactCounts` (one per workspace, :func:`exact_counts`) says when they are ready.
"""

from __future__ import annotations

import logging

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, Signal

from riskmap.store import layer_query

log = logging.getLogger("riskmap.ui")
_EDGE_POINTS = 16  # points per edge when a box changes CRS (its edges bend)
BOXES_KEPT = 16  # counts of view boxes kept (当前视图)
IDENTIFY_MAX = 500  # the nearest features a click on a lazy layer lists (a click on a city at 1:500 000 …)


_executor = None
_running: set = set()


def start(task):
    """Run a query ``task`` (riskmap.ui.tasks.Task) on the query workers: two threads of their own, so that
    an answer the user waits for (the table's rows, a count) never queues behind long work on the task
    workers (a layer loading, a city's statistics)."""
    global _executor
    if _executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="riskmap-query")
    _running.add(task)
    task.done.connect(lambda: (_running.discard(task), setattr(task, "finished", True)))
    _executor.submit(task._run)
    return task


def is_lazy(layer) -> bool:
    return bool(getattr(layer, "lazy", False))


def project_of(layer, workspace=None):
    """The project a lazy layer queries (its own, else the workspace's)."""
    project = getattr(layer, "project", None)
    return project if project is not None else getattr(workspace, "project", None)


def filter_where(layer, flt=None):
    """The layer's filter (or ``flt``) as ``(sql, params)``, or None when it lets everything through."""
    flt = layer.filter if flt is None else flt
    if flt is None or flt.is_empty():
        return None
    return layer_query.filter_sql(layer.layer_def, flt)


def transform_box(box, src: int, dst: int) -> tuple[float, float, float, float] | None:
    """The box covering ``box`` (minx, miny, maxx, maxy in ``src``) in ``dst``, edges densified."""
    if box is None:
        return None
    if int(src) == int(dst):
        return tuple(float(v) for v in box)
    from riskmap.crs import transformer

    x0, y0, x1, y1 = (float(v) for v in box)
    t = np.linspace(0.0, 1.0, _EDGE_POINTS)
    xs = np.concatenate([x0 + (x1 - x0) * t, np.full_like(t, x1), x1 - (x1 - x0) * t, np.full_like(t, x0)])
    ys = np.concatenate([np.full_like(t, y0), y0 + (y1 - y0) * t, np.full_like(t, y1), y1 - (y1 - y0) * t])
    x, y = transformer(int(src), int(dst)).transform(xs, ys)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    return float(x[ok].min()), float(y[ok].min()), float(x[ok].max()), float(y[ok].max())


# ---- identify, records, geometry, extents --------------------------------------------------------------------
def features_at(workspace, layer, x: float, y: float, tolerance: float) -> list[int]:
    """Ids of a lazy layer's features (its filter applied) at map point (x, y), nearest first (at most
    :data:`IDENTIFY_MAX`): the R-tree / GiST box covering ±``tolerance`` map units, then the exact test in
    the map CRS."""
    box = transform_box((x - tolerance, y - tolerance, x + tolerance, y + tolerance), workspace.map_epsg, 4490)
    if box is None:
        return []
    lon, lat = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    tol_deg = max(box[2] - box[0], box[3] - box[1]) / 2
    ids = layer_query.features_at(project_of(layer, workspace), layer.layer_def, lon, lat, tol_deg,
                                  where=filter_where(layer), map_epsg=workspace.map_epsg, map_xy=(x, y),
                                  tolerance=tolerance)
    return ids[:IDENTIFY_MAX]


def features_in_box(workspace, layer, box) -> list[int]:
    """Ids of a lazy layer's features (its filter applied) meeting a map-CRS box (the select tool's)."""
    bbox = transform_box(box, workspace.map_epsg, 4490)
    if bbox is None:
        return []
    return layer_query.features_in_box(project_of(layer, workspace), layer.layer_def, bbox,
                                       where=filter_where(layer), map_epsg=workspace.map_epsg, map_box=box)


def record(workspace, layer, feature_id: int):
    """The feature's row (every column, geometry in EPSG:4490), or None."""
    return layer_query.record(project_of(layer, workspace), layer.layer_def, int(feature_id))


def geometry_of(workspace, layer, feature_id: int):
    """The feature's geometry in the map CRS, or None."""
    row = record(workspace, layer, feature_id)
    geom = None if row is None else row.get("geometry")
    if geom is None:
        return None
    from riskmap.crs import reproject

    return reproject(np.array([geom], dtype=object), 4490, workspace.map_epsg)[0]


def extent(workspace, layer, ids=None) -> tuple[float, float, float, float] | None:
    """Map-CRS extent of a lazy layer's features (those of ``ids``), from the project's spatial index."""
    box = layer_query.extent(project_of(layer, workspace), layer.layer_def, ids)
    return transform_box(box, 4490, workspace.map_epsg)


def view_box_4490(settings) -> tuple[float, float, float, float] | None:
    """The box (EPSG:4490) covering a view (riskmap.render MapSettings: ``extent``, ``crs_epsg``)."""
    epsg = getattr(settings, "crs_epsg", None) or getattr(settings, "epsg", None)
    if epsg is None:
        return None
    return transform_box(settings.extent, int(epsg), 4490)


# ---- counts, off the GUI thread ------------------------------------------------------------------------------
class ExactCounts(QObject):
    """Exact class counts of lazy layers (:func:`riskmap.store.layer_query.class_counts`), computed on a
    worker and cached per layer, filter and box until the layer's data or filter changes. ``ready(layer id)``
    fires when a count arrives."""

    ready = Signal(str)

    def __init__(self, workspace):
        super().__init__(workspace)
        self.workspace = workspace
        self._cache: dict = {}
        self._pending: dict = {}
        self._failed: set = set()
        workspace.layersReset.connect(self.clear)
        workspace.layerChanged.connect(self._layer_changed)

    def clear(self) -> None:
        self._cache.clear()
        self._pending.clear()
        self._failed.clear()

    def _layer_changed(self, layer_id: str, what: str) -> None:
        if what == "data":
            self.forget(layer_id)

    def forget(self, layer_id: str) -> None:
        """Drop the counts of a layer (its rows changed)."""
        for store in (self._cache, self._pending):
            for key in [k for k in store if k[0] == layer_id]:
                del store[key]
        self._failed = {k for k in self._failed if k[0] != layer_id}

    @staticmethod
    def _key(layer, where, bbox):
        wkey = None if where is None else (where[0], tuple(sorted((k, repr(v)) for k, v in where[1].items())))
        bkey = None if bbox is None else tuple(round(float(v), 7) for v in bbox)
        return layer.id, id(layer), wkey, bkey

    def get(self, layer, *, filtered: bool = True, bbox=None) -> dict | None:
        """The counts per class key, or None while they are being computed (``ready`` follows)."""
        where = filter_where(layer) if filtered else None
        key = self._key(layer, where, bbox)
        if key in self._cache:
            return self._cache[key]
        if key in self._pending or key in self._failed:
            return None
        project = project_of(layer, self.workspace)
        if project is None:
            return None
        from riskmap.ui import tasks

        layer_def = layer.layer_def
        task = tasks.Task(lambda progress, cancelled: _counted_after_frame(project, layer_def, where, bbox))
        self._pending[key] = task
        task.succeeded.connect(lambda counts, key=key, task=task: self._done(key, task, counts))
        task.failed.connect(lambda exc, key=key, task=task: self._fail(key, task, exc))
        start(task)
        return None

    def total(self, layer, *, filtered: bool = True) -> int | None:
        counts = self.get(layer, filtered=filtered)
        return None if counts is None else int(sum(counts.values()))

    def wait(self, layer, *, filtered: bool = True, bbox=None) -> dict:
        """The counts, computed here if need be (tests, and callers already off the GUI thread)."""
        where = filter_where(layer) if filtered else None
        key = self._key(layer, where, bbox)
        if key not in self._cache:
            self._cache[key] = layer_query.class_counts(project_of(layer, self.workspace), layer.layer_def, where,
                                                        bbox=bbox)
        return self._cache[key]

    def _done(self, key, task, counts) -> None:
        if not shiboken6.isValid(self):
            return  # the window went while the count waited for its frame
        if self._pending.get(key) is not task:
            return  # forgotten meanwhile (data changed): a newer count will come
        del self._pending[key]
        self._cache[key] = counts
        boxed = [k for k in self._cache if k[3] is not None]
        for k in boxed[:-BOXES_KEPT]:  # the counts of views left behind
            del self._cache[k]
        self.ready.emit(key[0])

    def _fail(self, key, task, exc) -> None:
        if not shiboken6.isValid(self):
            return
        if self._pending.get(key) is task:
            del self._pending[key]
            self._failed.add(key)
        log.error("cannot count %s: %s", key[0], exc)


def _counted_after_frame(project, layer_def, where, bbox) -> dict:
    """:func:`riskmap.store.layer_query.class_counts` once the map frame on the way is drawn
    (riskmap.ui.map_wait.wait_for_map): the legend's and the layers panel's counts do not take the cores
    from the frame the user waits for (×10 city, a first session: the enterprises counted twice, 39 ms of CPU
    each, beside the first frame's 83 ms render)."""
    from riskmap.ui.map_wait import wait_for_map

    wait_for_map()
    return layer_query.class_counts(project, layer_def, where, bbox=bbox)


def exact_counts(workspace) -> ExactCounts:
    """The workspace's :class:`ExactCounts` (made on first use)."""
    counts = getattr(workspace, "_exact_counts", None)
    if counts is None:
        counts = ExactCounts(workspace)
        workspace._exact_counts = counts
    return counts


class ExactCountLayer:
    """A prepared layer as the legend sees it, with the exact counts of the whole lazy layer (or of the view's
    box) instead of the counts of the features drawn; everything else is the drawing's (classes, colours …).
    While the counts are computed they are None (the legend shows no number)."""

    def __init__(self, prepared, counts: dict | None):
        self._prepared = prepared
        self._counts = counts

    def __getattr__(self, name):
        return getattr(self._prepared, name)

    def counts(self, mask=None) -> dict:
        if self._counts is None:
            return {c.key: None for c in self._prepared.classes}
        return dict(self._counts)

    def visible_mask(self, extent, margin: float = 0.0):
        return None  # the counts given are already those of the view


def shown_and_total(workspace, layer) -> tuple[int | None, int | None]:
    """(features the filter lets through, all features) of a layer: exact for lazy layers (None while
    counting), from memory for the others."""
    if not is_lazy(layer):
        return layer.shown_count(), len(layer.gdf)
    counts = exact_counts(workspace)
    total = counts.total(layer, filtered=False)
    shown = total if layer.filter.is_empty() else counts.total(layer, filtered=True)
    return shown, total

