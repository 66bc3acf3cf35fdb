"""Layers too large to read whole (a city's million enterprises), drawn by view.

A :class:`LazyPrepared` stands in the renderer's layer list for such a layer. :func:`resolve_layers`, called
by :func:`riskmap.render.painter.render` and :func:`~riskmap.render.painter.render_labels` on the thread that
paints (the canvas's render worker, never the GUI thread), asks it for the :class:`PreparedLayer` of the view:

- **points**: the layer is held as compact arrays (id, x, y in the map CRS, style class: about 25 bytes a
  feature, read once through :func:`riskmap.store.viewport.read_points`, and kept on disk in the map's CRS
  between sessions while the project is unchanged: :func:`~riskmap.store.viewport.read_points_cached`; a
  city's 1M in 0.06–0.11 s). When more than :data:`POINT_BUDGET` points lie in the view, the view shows the
  level of detail: the points binned into cells of :data:`CELL_MM` on a grid fixed to the map (so a pan does
  not move them), each cell drawn as one symbol at the mean of its points in the colour of its highest class
  (the highest risk level: a red enterprise is never hidden) and labelled with its count; the layer's title
  then says so (:func:`aggregated_title`). When most of the layer is in view the whole layer is binned and
  its cells kept per cell size, in memory and on disk (:func:`riskmap.store.viewport.kept_arrays`): a pan at
  that scale and the next session's first frame take them as they are. Closer in, the exact points of the
  view (found through the layer's :class:`BinIndex`, which the canvas builds in idle time after a frame: the
  ×10 city's 37k points of a 10× view in 0.5 ms of CPU instead of a 2 ms pass over the 1M); their names (the
  label pass, after the frame is shown) are read by id for the points no earlier view
  read (:func:`riskmap.store.viewport.read_values`), the last :data:`NAME_ROWS` kept (panning back is free):
  the ×10 city at 1:40 000 (1920×1080, 10–17k points; load 2.7): 42–133 ms, median 63, where spatial-index
  tiles read 1.2–2 times the rows in 118–241 ms, median 161; after a pan by a third of the view 17–58 ms
  (tiles 15–116 ms).
- **lines and polygons**: held as compact arrays too (coordinates in the map CRS, part offsets, the feature of
  each part, ids, style class, per-part and per-feature bounds: about 16 bytes a vertex), read once through
  :func:`riskmap.store.viewport.read_shapes` and kept on disk between sessions
  (:func:`~riskmap.store.viewport.read_shapes_cached`); a view takes the features whose bounds meet it (through
  the :class:`BinIndex` of their boxes, 0.2 ms instead of 1.1 ms for the city's 200k lifelines at 10×), drawn
  through :func:`decimate` of the whole layer per resolution band (:data:`LOD_BANDS` kept, and on disk with
  the painter's vertex normals: the ×10 city's lifelines band in 0.03–0.06 s instead of 0.6–1.7 s) at small
  scales, the exact vertices closer in. Whether a band is drawn decimated is decided once per layer and band
  from the whole layer (:func:`band_of`, the same rule as an eager layer's), and a view of part of the layer
  draws its features with exactly the whole band's vertices (decimate works part by part; the parts decimated
  for earlier views of the band are kept): the ×10 city's lifelines at 5× (1:136 000, 0.27M of a view's 0.39M
  vertices kept) 0.14–0.18 s of CPU instead of 0.33–0.44 s for their exact lines (load 3.1–3.6), pixel for
  pixel what the whole band draws there. Where their labels show (grid names at 1:25 000 and closer) the label
  pass takes the same features with their names read by id and their anchors computed from the arrays
  (:meth:`LazyPrepared._labelled_arrays_view`); a lazy layer without compact arrays is read by tile through
  the spatial index (:func:`riskmap.store.viewport.query_simplified`), the last :data:`SHAPE_TILES` kept.

Every number is exact: counts (:meth:`LazyPrepared.counts`) come from all rows, not from what is drawn.

>>> from riskmap.layers import load_catalogue
>>> aggregated_title(load_catalogue()["enterprises"])
'企业（已聚合：每个符号为一片区域内最高等级）'
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from dataclasses import replace

import numpy as np
import pandas as pd

from riskmap.render.prepared import PreparedLayer, classify
from riskmap.render.settings import MapSettings

POINT_BUDGET = 50_000  # exact points per view; more draw as aggregates
CELL_MM = 3.2  # aggregate cell side on screen or paper (a 2.4 mm symbol and a gap)
TILE_PX = 512  # shape tiles (read where labels show): about this many pixels of the view across
NAME_ROWS = 150_000  # label texts of points kept (read for earlier views)
SHAPE_TILES = 48
VIEWS = 4  # resolved views kept (the frame and its label pass share one)
AGGREGATES_FORMAT = 1  # raise when the aggregation changes: cells kept on disk by an older version are not used
AGG_ZH = "（已聚合：每个符号为一片区域内最高等级）"
AGG_EN = " (aggregated: each symbol shows the highest level in its area)"


def aggregated_title(layer_def, lang: str = "zh") -> str:
    """A layer's title while its symbols are aggregates."""
    return layer_def.title(lang) + (AGG_EN if lang == "en" else AGG_ZH)


def resolve_layers(layers, settings: MapSettings, *, labels: bool = True, cancel=None) -> list:
    """The layers to paint for ``settings``: lazy ones replaced by their :class:`PreparedLayer` of that view
    (None results dropped), large lines and polygons by their simplified version (:func:`simplified_for_view`),
    the others as they are."""
    out = []
    for layer in layers:
        if getattr(layer, "lazy", False):
            layer = layer.for_view(settings, labels=labels, cancel=cancel)
            if layer is None:
                continue
        else:
            layer = simplified_for_view(layer, settings)
        out.append(layer)
    return out


def points_prepared(layer_def, crs_epsg: int, xy: np.ndarray, cls: np.ndarray, ids: np.ndarray,
                    label_text=None) -> PreparedLayer:
    """A point :class:`PreparedLayer` straight from arrays (map-CRS coordinates, class indices, ids and
    optional label texts), without a GeoDataFrame or shapely objects."""
    prep = PreparedLayer(layer_def, crs_epsg)
    n = len(xy)
    prep.n = n
    prep.geoms = None
    prep.skipped_parts = 0
    prep.coords = np.ascontiguousarray(np.asarray(xy, dtype=np.float64).reshape(n, 2))
    prep.offsets = np.arange(n + 1, dtype=np.int64)
    prep.part_feature = np.arange(n, dtype=np.int64)
    prep.feature_parts = np.arange(n + 1, dtype=np.int64)
    prep.part_bounds = np.empty((n, 4))
    prep.part_bounds[:, :2] = prep.part_bounds[:, 2:] = prep.coords
    prep.bounds = prep.part_bounds  # (a point's bounds are its part's)
    prep.ids = np.asarray(ids)
    _take_classes(prep, n)
    prep.cls = np.asarray(cls, dtype=np.int32)
    prep._counts = np.bincount(prep.cls, minlength=len(prep.classes))
    label = layer_def.label
    if label is not None and label_text is not None:
        prep._prepare_labels(pd.DataFrame({label.field: pd.Series(label_text, dtype=object)}), None)
    else:
        prep._label_em = {}
        prep.label_text = None
        prep.label_xy = None
        prep.label_order = np.zeros(0, dtype=np.int64)
    prep.source = pd.DataFrame({"id": prep.ids})
    return prep


_CLASSES: OrderedDict = OrderedDict()  # a layer definition's classes, colours and drawing order (_take_classes)
_CLASSES_LOCK = threading.Lock()


def _take_classes(prep: PreparedLayer, n: int) -> None:
    """The layer's classes, their colours and drawing order on ``prep`` of ``n`` features, whose class indices
    the caller sets (not classified from n missing values first); worked out once per layer definition (a
    view of a large layer took 0.3–0.5 ms for them)."""
    try:
        key = (prep.layer_def, prep.kind)
        with _CLASSES_LOCK:
            hit = _CLASSES.get(key)
    except TypeError:  # an unhashable definition
        key = hit = None
    if hit is None:
        prep.n = 0
        prep._classify(pd.DataFrame())
        hit = (prep.classes, prep.fill_colours, prep.stroke_colours, prep.class_order)
        if key is not None:
            with _CLASSES_LOCK:
                _CLASSES[key] = hit
                while len(_CLASSES) > 64:
                    _CLASSES.popitem(last=False)
    classes, fills, strokes, order = hit
    prep.classes, prep.fill_colours, prep.stroke_colours, prep.class_order = \
        list(classes), list(fills), list(strokes), list(order)
    prep.n = n


def _runs(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The integers of the runs ``starts[i]`` … ``starts[i] + lengths[i] - 1``, one after another.

    >>> _runs(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) - np.repeat(ends - lengths - starts, lengths)


INDEX_MIN_ROWS = 50_000  # layers with more rows find a view's rows through a BinIndex
INDEX_ROWS_PER_BIN = 8  # about this many rows a bin (the grid's side between 16 and 1024 bins)
INDEX_WIDE_BINS = 4  # boxes wider or taller than this many bins are kept apart and tested in every view
INDEX_MAX_SHARE = 0.25  # a view whose bins hold more than this share of the rows is a plain pass over them


class BinIndex:
    """The rows of a large layer (points, or the boxes of lines and polygons) sorted into a fixed grid of bins
    over their extent, built once per layer: a view takes the rows of the bins it meets (a box by the bin of
    its lower-left corner, widened by INDEX_WIDE_BINS bins; wider boxes always) and tests those alone exactly as
    a pass over every row does (:meth:`rows`): the same rows, in ascending order. ×10 city's 1M enterprises at
    10× (37k in view): 0.3–0.5 ms instead of 2.5–3 ms for a pass; its 200k lifelines' boxes 0.2–0.3 ms instead
    of 1.4 ms.

    >>> x = np.arange(1000.0)[::-1]
    >>> BinIndex(x, x).rows((10, 10, 12, 12.5)).tolist()  # points on a diagonal, from 999 down
    [987, 988, 989]
    >>> BinIndex(x, x).rows((0, 0, 900, 900)) is None  # most of the layer: a pass over its rows is cheaper
    True
    """

    def __init__(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray | None = None, y1: np.ndarray | None = None,
                 *, bins: int | None = None):
        self.points = x1 is None
        self.x0, self.y0 = x0, y0
        self.x1, self.y1 = (x0, y0) if self.points else (x1, y1)
        self.n = n = len(x0)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(x0) & np.isfinite(y0)
            if not self.points:
                ok &= np.isfinite(self.x1) & np.isfinite(self.y1)
        rows = np.flatnonzero(ok)
        g = int(bins or min(max(round(math.sqrt(max(len(rows), 1) / INDEX_ROWS_PER_BIN)), 16), 1024))
        self.g = g
        if not len(rows):
            self.gx0 = self.gy0 = 0.0
            self.cw = self.ch = 1.0
            self.starts = np.zeros(g * g + 1, dtype=np.int64)
            self.perm = np.zeros(0, dtype=np.int64)
            self.wide = np.zeros(0, dtype=np.int64)
            return
        xs, ys = (x0, y0) if len(rows) == n else (x0[rows], y0[rows])
        self.gx0, self.gy0 = float(xs.min()), float(ys.min())
        self.cw = (float(xs.max()) - self.gx0) / g or 1.0
        self.ch = (float(ys.max()) - self.gy0) / g or 1.0
        if not self.points:  # boxes larger than INDEX_WIDE_BINS bins: tested in every view
            wide = ((self.x1[rows] - xs) > INDEX_WIDE_BINS * self.cw) | ((self.y1[rows] - ys) > INDEX_WIDE_BINS * self.ch)
            self.wide = rows[wide]
            rows, xs, ys = rows[~wide], xs[~wide], ys[~wide]
        else:
            self.wide = np.zeros(0, dtype=np.int64)
        b = self._bins(ys, self.gy0, self.ch) * g
        b += self._bins(xs, self.gx0, self.cw)
        self.starts = np.zeros(g * g + 1, dtype=np.int64)
        np.cumsum(np.bincount(b, minlength=g * g), out=self.starts[1:])
        b <<= 32  # one sort of (bin, row) keys: the rows by bin, ascending within one (an argsort took twice as long)
        b |= rows
        b.sort()
        b &= 0xFFFFFFFF
        self.perm = b.astype(np.int32 if n < 2 ** 31 else np.int64)  # (1M points: 4 MB kept instead of 8)

    def _bins(self, v: np.ndarray, origin: float, size: float) -> np.ndarray:
        """The bin (0 … g - 1) of each value on one axis, as int64."""
        f = v - origin
        f *= 1.0 / size
        np.clip(f, 0, self.g - 1, out=f)
        return f.astype(np.int64)  # (truncation: the floor of a value clipped at 0)

    def _span(self, lo: float, hi: float, origin: float, size: float, reach: int):
        """The bins whose rows may meet [lo, hi] on one axis: one bin more on each side (rounding), and
        ``reach`` more below (a box's lower corner that far from its upper one)."""
        a = math.floor((lo - origin) / size) - reach - 1 if math.isfinite(lo) else 0
        b = math.floor((hi - origin) / size) + 1 if math.isfinite(hi) else self.g - 1
        return max(a, 0), min(b, self.g - 1)

    def rows(self, extent, margin: float = 0.0) -> np.ndarray | None:
        """Ascending indices of the rows within ``extent`` widened by ``margin`` (boxes: that meet it), the same
        comparisons as a pass over every row; None when the view's bins hold more than INDEX_MAX_SHARE of
        the rows (a pass over them is cheaper)."""
        xmin, ymin, xmax, ymax = extent
        lo_x, lo_y, hi_x, hi_y = xmin - margin, ymin - margin, xmax + margin, ymax + margin
        reach = 0 if self.points else INDEX_WIDE_BINS
        i0, i1 = self._span(lo_x, hi_x, self.gx0, self.cw, reach)
        j0, j1 = self._span(lo_y, hi_y, self.gy0, self.ch, reach)
        if i0 <= i1 and j0 <= j1:
            first = np.arange(j0, j1 + 1, dtype=np.int64) * self.g
            a, b = self.starts[first + i0], self.starts[first + i1 + 1]
            lengths = b - a
            if int(lengths.sum()) > INDEX_MAX_SHARE * self.n:
                return None
            cand = self.perm[_runs(a, lengths)]
        else:
            cand = np.zeros(0, dtype=np.int64)
        if len(self.wide):
            cand = np.concatenate([cand, self.wide])
        if self.points:
            x, y = self.x0[cand], self.y0[cand]
            ok = (x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y)
        else:
            ok = (self.x1[cand] >= lo_x) & (self.x0[cand] <= hi_x) & (self.y1[cand] >= lo_y) & (self.y0[cand] <= hi_y)
        return np.sort(cand[ok]).astype(np.int64, copy=False)


class LazyPrepared:
    """A large layer in the renderer's list: exact counts for the legend, and :meth:`for_view` for drawing.

    ``project``: the open store; ``where``: an extra condition ``(sql, params)`` (a layer filter) or None.
    Thread-safe: the render worker resolves views while the GUI thread asks for counts.
    """

    lazy = True
    approximate = False  # points placed from the R-tree for a first frame (load_quick), replaced by exact ones
    stamp_hint = None  # a future of the layer's points_stamp asked before the arrays are read (taken once)
    first_hint = None  # a future of read_points_first started before the layer was made (taken once)
    quick_hint = None  # read_points_quick's reads started before the layer was made (start_points_quick; taken once)

    def __init__(self, project, layer_def, crs_epsg: int, row_count: int, *, where=None, cache_dir=None):
        self.project = project
        self.cache_dir = cache_dir  # where the compact arrays are kept between sessions (None: not kept)
        self.layer_def = layer_def
        self.id = layer_def.id
        self.z = layer_def.z
        self.kind = layer_def.geometry
        self.crs_epsg = int(crs_epsg)
        self.row_count = int(row_count)
        self.where = where
        self.version = 0
        self.aggregated = False  # the canvas's last frame showed aggregates (the legend's title follows it)
        template = PreparedLayer(layer_def, crs_epsg)
        template.n = 0
        template._classify(pd.DataFrame())
        self.classes = template.classes
        self.fill_colours = template.fill_colours
        self.stroke_colours = template.stroke_colours
        self.class_order = template.class_order
        self._rank_of = np.empty(len(self.classes), dtype=np.int64)
        self._rank_of[self.class_order] = np.arange(len(self.class_order))
        self._lock = threading.RLock()
        self._sql_lock = threading.Lock()
        self._points: dict | None = None
        self._shapes: dict | None = None
        self._bands: OrderedDict = OrderedDict()  # the whole layer decimated per band, or aggregated per cell size
        self._part_bands: OrderedDict = OrderedDict()  # parts decimated for partial views, per band (_band_parts)
        self._exact = None  # (shapes, the whole layer exact): exact_layer
        self._counts: np.ndarray | None = None
        self._sql: np.ndarray | None = None  # counts by one GROUP BY, before the arrays are read
        self._views: OrderedDict = OrderedDict()
        self._tiles: OrderedDict = OrderedDict()
        self._names_kept: deque = deque()  # (ids, texts) read for earlier views, in id order, the newest last

    # ------------------------------------------------------------------ state
    @property
    def n(self) -> int:
        return self.row_count

    @property
    def point_arrays(self) -> bool:
        """Points held as compact arrays (a point table); other layers are read by tile."""
        if self.kind != "point":
            return False
        from riskmap.model import class_for_table

        try:
            return class_for_table(self.layer_def.table).__geometry__ == "POINT"
        except KeyError:
            return False

    @property
    def shape_arrays(self) -> bool:
        """Lines or polygons held as compact arrays (drawn from them except where labels show)."""
        return self.kind in ("line", "polygon")

    def title(self, lang: str = "zh") -> str:
        return aggregated_title(self.layer_def, lang) if self.aggregated else self.layer_def.title(lang)

    def drop(self) -> None:
        """Forget everything read (after an edit or another user's change)."""
        with self._lock:
            self._points = None
            self._shapes = None
            self._bands.clear()
            self._part_bands.clear()
            self._exact = None
            self._counts = None
            self._sql = None
            self._views.clear()
            self._tiles.clear()
            self._names_kept.clear()
            self.approximate = False  # read again exactly
            self.version += 1

    def load(self) -> None:
        """Read what every view needs (the compact point arrays); call it off the GUI thread."""
        if self.point_arrays:
            self._arrays()
        elif self.shape_arrays:
            self._shape_data()

    def load_quick(self) -> bool:
        """For a first frame: the point arrays read without the table when the user's cache does not hold the
        exact ones (GeoPackage: positions from the R-tree, within a float32 step — under a metre — of the
        points, :func:`riskmap.store.viewport.read_points_quick`); True when taken so. Such a layer is
        :attr:`approximate` and keeps nothing (no stamp: no aggregate kept on disk); the caller replaces it by a
        layer whose exact arrays are read (:meth:`load`) right after the first frame. False: nothing read
        (PostGIS, a filter, the exact arrays in the cache, or a layer this does not apply to). The reads of
        :attr:`quick_hint`, when the opening started them, are taken (and waited for) in any case."""
        from concurrent import futures

        from riskmap.store.viewport import points_kept, read_points_quick

        hint, self.quick_hint = self.quick_hint, None
        if not self.point_arrays or self.where is not None:
            if hint is not None:
                futures.wait(hint[1:])
            return False
        with self._lock:
            if self._points is not None or points_kept(self.project, self.layer_def, self.cache_dir,
                                                       epsg=self.crs_epsg):
                if hint is not None:
                    futures.wait(hint[1:])
                return False
            pts = read_points_quick(self.project, self.layer_def, epsg=self.crs_epsg, started=hint)
            if pts is None:
                return False
            self._set_points(pts, None)
            self.approximate = True
            return True

    def size(self) -> int:
        """Vertices held (lines and polygons read), else rows: what orders the painter's layer jobs at a scale
        it has not drawn yet."""
        sh = self._shapes
        return len(sh["coords"]) if sh is not None and "coords" in sh else self.row_count

    def loaded(self) -> bool:
        if self.shape_arrays:
            return self._shapes is not None
        return self._points is not None or not self.point_arrays

    def _shape_data(self) -> dict:
        """The compact arrays of a line or polygon layer in the map CRS (read, or taken from the cache, once)."""
        with self._lock:
            if self._shapes is None:
                from riskmap.crs import transformer
                from riskmap.store.viewport import read_shapes, read_shapes_cached

                stamp = None
                if self.where is None and self.cache_dir is not None:  # kept in the map's CRS
                    from riskmap.store.viewport import points_stamp

                    stamp = points_stamp(self.project, self.layer_def)  # before reading: what the bands are kept under
                    sh = read_shapes_cached(self.project, self.layer_def, self.cache_dir, epsg=self.crs_epsg,
                                            stamp=stamp)
                    coords = sh.pop("coords")
                else:
                    sh = read_shapes(self.project, self.layer_def, where=self.where)
                    coords = sh.pop("coords")
                    if len(coords):
                        x, y = transformer(4490, self.crs_epsg).transform(coords[:, 0], coords[:, 1])
                        coords = np.column_stack([x, y])
                n = len(sh["id"])
                values = sh.get("value")
                if self.layer_def.style.type == "single":
                    cls = np.zeros(n, dtype=np.int32)
                elif values is None:
                    cls = np.full(n, len(self.classes) - 1, dtype=np.int32)
                else:
                    cls = classify(self.layer_def, values) if n else np.zeros(0, dtype=np.int32)
                offsets, pf = sh["offsets"], sh["part_feature"]
                starts = offsets[:-1]
                if len(starts):
                    x, y = coords[:, 0], coords[:, 1]
                    pb = np.column_stack([np.minimum.reduceat(x, starts), np.minimum.reduceat(y, starts),
                                          np.maximum.reduceat(x, starts), np.maximum.reduceat(y, starts)])
                else:
                    pb = np.empty((0, 4))
                fp = np.searchsorted(pf, np.arange(n + 1)).astype(np.int64)
                bounds = np.full((n, 4), np.nan)
                has = np.flatnonzero(fp[1:] > fp[:-1])
                if len(has):
                    first = fp[has]
                    bounds[has, 0] = np.minimum.reduceat(pb[:, 0], first)
                    bounds[has, 1] = np.minimum.reduceat(pb[:, 1], first)
                    bounds[has, 2] = np.maximum.reduceat(pb[:, 2], first)
                    bounds[has, 3] = np.maximum.reduceat(pb[:, 3], first)
                d = np.hypot(*np.diff(coords, axis=0).T) if len(coords) > 1 else np.zeros(0)
                self._shapes = {"id": sh["id"], "coords": np.ascontiguousarray(coords), "offsets": offsets,
                                "part_feature": pf, "feature_parts": fp, "part_bounds": pb, "bounds": bounds,
                                "cls": cls.astype(np.int32), "segment": float(np.median(d)) if len(d) else 0.0,
                                "stamp": stamp}
                self._counts = np.bincount(cls, minlength=len(self.classes))
                self.row_count = n
            return self._shapes

    def _arrays(self) -> dict:
        with self._lock:
            if self._points is None:
                from riskmap.crs import transformer
                from riskmap.store.viewport import read_points, read_points_cached, read_points_first

                stamp = None
                first = None
                hint, self.first_hint = self.first_hint, None
                if hint is not None and self.where is None:  # read_points_first of this layer, started earlier
                    try:
                        first = hint.result()
                    except Exception:  # noqa: BLE001 (read again below, and reported from there)
                        first = None
                if first is None and self.where is None and self.cache_dir is not None:  # kept in the map's CRS
                    # PostGIS, nothing of the layer kept yet: the stamp comes with the arrays (one statement)
                    first = read_points_first(self.project, self.layer_def, self.cache_dir, epsg=self.crs_epsg)
                if first is not None:
                    pts, stamp = first
                    self.stamp_hint = None
                    mx, my = pts["x"], pts["y"]
                elif self.where is None and self.cache_dir is not None:
                    stamp = self._stamp()  # before reading: what aggregates are kept under
                    pts = read_points_cached(self.project, self.layer_def, self.cache_dir, epsg=self.crs_epsg,
                                             stamp=stamp)
                    mx, my = pts["x"], pts["y"]
                else:
                    pts = read_points(self.project, self.layer_def, where=self.where)
                    x, y = pts["x"], pts["y"]
                    ok = np.isfinite(x) & np.isfinite(y)
                    mx = np.full(len(x), np.nan)
                    my = np.full(len(y), np.nan)
                    if ok.any():
                        mx[ok], my[ok] = transformer(4490, self.crs_epsg).transform(x[ok], y[ok])
                pts["x"], pts["y"] = mx, my
                self._set_points(pts, stamp)
            return self._points

    def _stamp(self) -> str | None:
        """The layer's points_stamp: the one asked earlier (:attr:`stamp_hint`, still before this read: an
        older stamp only makes the cache miss more often) when there is one, else asked now."""
        from riskmap.store.viewport import points_stamp

        hint, self.stamp_hint = self.stamp_hint, None
        if hint is not None:
            try:
                return hint.result()
            except Exception:  # noqa: BLE001 (asked again below, and reported from there)
                pass
        return points_stamp(self.project, self.layer_def)

    def _set_points(self, pts: dict, stamp) -> None:
        """The compact arrays ``pts`` (x, y in the map's CRS) classified and held."""
        mx, my = pts["x"], pts["y"]
        values = pts.get("value")
        cls = classify(self.layer_def, values if values is not None else None) if len(mx) else \
            np.zeros(0, dtype=np.int32)
        if values is None and self.layer_def.style.type != "single":
            cls = np.full(len(mx), len(self.classes) - 1, dtype=np.int32)
        self._points = {"id": pts["id"], "x": mx, "y": my, "cls": cls.astype(np.int8),
                        "located": np.isfinite(mx) & np.isfinite(my), "stamp": stamp}
        self._counts = np.bincount(cls, minlength=len(self.classes))
        self.row_count = len(pts["id"])

    @property
    def ids(self) -> np.ndarray:
        """Ids of every row (the compact arrays, read here when not yet read)."""
        return self._arrays()["id"] if self.point_arrays else np.zeros(0, dtype=np.int64)

    def with_levels(self, exists: np.ndarray, values) -> "LazyPrepared":
        """A copy drawing the rows ``exists`` lets through with the style values ``values`` (aligned with
        :attr:`ids`): the map as of a past date (riskmap.ui.timeline). Point layers only."""
        pts = self._arrays()
        exists = np.asarray(exists, dtype=bool)
        if len(exists) != len(pts["id"]):
            raise ValueError("exists does not match the layer's rows")
        new = object.__new__(LazyPrepared)
        new.__dict__.update(self.__dict__)
        cls = classify(self.layer_def, pd.Series(values)).astype(np.int8) if len(exists) else pts["cls"]
        x = np.where(exists, pts["x"], np.nan)
        y = np.where(exists, pts["y"], np.nan)
        new._points = {"id": pts["id"], "x": x, "y": y, "cls": cls, "located": np.isfinite(x) & np.isfinite(y),
                       "index": None}
        new._counts = np.bincount(cls[exists], minlength=len(self.classes))
        new._lock = threading.RLock()
        new._views = OrderedDict()
        new._bands = OrderedDict()  # aggregates of other levels
        new._tiles = self._tiles  # names do not change with the date
        new.version = self.version + 1
        return new

    # ------------------------------------------------------------------ legend and extents
    def counts(self, mask: np.ndarray | None = None) -> dict:
        """Features per class key over every row of the layer (``mask``: over :meth:`visible_mask`'s rows)."""
        if self.shape_arrays and (mask is not None or self._shapes is not None):
            sh = self._shape_data()
            counts = self._counts if mask is None else np.bincount(sh["cls"][mask], minlength=len(self.classes))
        elif self.point_arrays and (mask is not None or self._points is not None):
            pts = self._arrays()
            counts = self._counts if mask is None else np.bincount(pts["cls"][mask], minlength=len(self.classes))
        elif self.point_arrays:  # not read yet (the render worker reads the arrays): one GROUP BY, exact
            counts = self._sql_counts()
        else:
            counts = self._sql_counts() if mask is None else np.zeros(len(self.classes), dtype=np.int64)
        return {c.key: int(k) for c, k in zip(self.classes, counts)}

    def _sql_counts(self) -> np.ndarray:
        if (self._points is not None or self._shapes is not None) and self._counts is not None:
            return self._counts
        with self._sql_lock:  # not the arrays' lock: the legend does not wait while a worker reads them
            if self._sql is None:
                from riskmap.store.viewport import class_values

                values, n = class_values(self.project, self.layer_def, where=self.where)
                cls = classify(self.layer_def, values) if len(values) else np.zeros(0, dtype=np.int32)
                self._sql = np.bincount(cls, weights=n, minlength=len(self.classes)).astype(np.int64)
            return self._sql

    def visible_mask(self, extent, margin: float = 0.0) -> np.ndarray:
        """Rows (of the compact arrays) located within ``extent`` widened by ``margin`` (lines and polygons:
        whose bounds meet it)."""
        data = self._data()
        if data is None:
            return np.zeros(0, dtype=bool)
        rows = self._indexed_rows(data, extent, margin)
        if rows is None:
            return _rows_mask(data, extent, margin)
        mask = np.zeros(len(data["id"]), dtype=bool)
        mask[rows] = True
        return mask

    def visible_rows(self, extent, margin: float = 0.0) -> np.ndarray:
        """The rows of :meth:`visible_mask`, ascending: through the layer's :class:`BinIndex` where it has one
        (:meth:`build_index`) and the view is a small part of the layer."""
        data = self._data()
        if data is None:
            return np.zeros(0, dtype=np.int64)
        rows = self._indexed_rows(data, extent, margin)
        return np.flatnonzero(_rows_mask(data, extent, margin)) if rows is None else rows

    def _data(self) -> dict | None:
        """The compact arrays (shapes or points; read here when not yet read), None for a layer read by tile."""
        if self.shape_arrays:
            return self._shape_data()
        return self._arrays() if self.point_arrays else None

    def _indexed_rows(self, data: dict, extent, margin: float) -> np.ndarray | None:
        idx = data.get("index")
        return None if idx is None else idx.rows(extent, margin)

    def needs_index(self) -> bool:
        """Whether :meth:`build_index` would build something: the exact compact arrays of INDEX_MIN_ROWS rows or
        more are read and have no index yet."""
        data = self._shapes if self.shape_arrays else self._points if self.point_arrays else None
        return (data is not None and not self.approximate and "index" not in data
                and len(data["id"]) >= INDEX_MIN_ROWS)

    def build_index(self) -> "BinIndex | None":
        """The :class:`BinIndex` of the layer's compact arrays (read here when not yet read), built once; None for
        a layer of fewer than INDEX_MIN_ROWS rows and for a copy of other dates (:meth:`with_levels`: a pass over
        its rows each view). Views use it once built and never build it: the canvas builds it in idle time after
        a frame (×10 city: 1M enterprises 24 ms, 200k lifelines 7 ms), which a first view of part of the layer
        would otherwise wait for."""
        data = self._data()
        if data is None:
            return None
        idx = data.get("index", False)
        if idx is not False:
            return idx
        if len(data["id"]) < INDEX_MIN_ROWS:
            idx = None
        elif "bounds" in data:
            b = data["bounds"]
            idx = BinIndex(b[:, 0], b[:, 1], b[:, 2], b[:, 3])
        else:
            idx = BinIndex(data["x"], data["y"])
        with self._lock:  # (built outside the lock: the legend's counts do not wait for it)
            return data.setdefault("index", idx)

    def total_bounds(self) -> tuple[float, float, float, float] | None:
        if self.point_arrays:
            pts = self._arrays()
            if not pts["located"].any():
                return None
            x, y = pts["x"][pts["located"]], pts["y"][pts["located"]]
            return float(x.min()), float(y.min()), float(x.max()), float(y.max())
        if self.shape_arrays and self._shapes is not None:
            b = self._shapes["bounds"]
            if not np.isfinite(b[:, 0]).any():
                return None
            return (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])), float(np.nanmax(b[:, 2])),
                    float(np.nanmax(b[:, 3])))
        from riskmap.crs import transformer
        from riskmap.store.viewport import layer_extent

        ext = layer_extent(self.project, self.layer_def)
        if ext is None:
            return None
        return tuple(float(v) for v in transformer(4490, self.crs_epsg).transform_bounds(*ext))

    def is_aggregated(self, settings: MapSettings) -> bool:
        """Whether the view ``settings`` shows aggregates (more than POINT_BUDGET points in it)."""
        if not self.point_arrays:
            return False
        return len(self.visible_rows(settings.extent, self._margin(settings))) > POINT_BUDGET

    def _margin(self, settings: MapSettings) -> float:
        return (self.layer_def.style.size_mm * settings.px_per_mm() + 2) * settings.resolution

    # ------------------------------------------------------------------ views
    def for_view(self, settings: MapSettings, *, labels: bool = True, cancel=None) -> PreparedLayer | None:
        """The PreparedLayer of this view: aggregates or exact points, or the shapes of its tiles."""
        with_labels = bool(labels) and self._labelled_at(settings)
        key = (settings.extent, settings.width_px, settings.height_px, settings.dpi, with_labels, self.version)
        with self._lock:
            hit = self._views.get(key)
            if hit is not None:
                self._views.move_to_end(key)
                hit.z = self.z  # the layer may have moved in the drawing order since (Workspace.sync_z)
                return hit
        if self.point_arrays:
            prep = self._points_view(settings, with_labels)
        elif self.shape_arrays and not with_labels:
            prep = self._arrays_view(settings)
        elif self.shape_arrays:
            prep = self._labelled_arrays_view(settings)
        else:
            prep = self._shapes_view(settings, with_labels, cancel)
        if prep is None:
            return None
        prep.z = self.z
        prep.version = self.version
        with self._lock:
            self._views[key] = prep
            while len(self._views) > VIEWS:
                self._views.popitem(last=False)
        return prep

    def _labelled_at(self, settings: MapSettings) -> bool:
        label = self.layer_def.label
        return label is not None and label.visible_at(settings.scale_denominator())

    def _points_view(self, settings: MapSettings, with_labels: bool) -> PreparedLayer:
        pts = self._arrays()
        inside = self.visible_rows(settings.extent, self._margin(settings))
        if len(inside) > POINT_BUDGET:
            return self._aggregates(settings, pts, inside)
        ids = pts["id"][inside]
        xy = np.column_stack([pts["x"][inside], pts["y"][inside]])
        names = self._names(settings, ids) if with_labels else None
        prep = points_prepared(self.layer_def, self.crs_epsg, xy, pts["cls"][inside], ids, names)
        prep.aggregated = False
        return prep

    def _aggregates(self, settings: MapSettings, pts: dict, inside: np.ndarray) -> PreparedLayer:
        """The points ``inside`` the view binned into cells of CELL_MM on a grid fixed to the map. When most of
        the layer's located points are in view, the whole layer is binned instead (each cell counts all its
        points, in view or not) and kept per cell size (LOD_BANDS): a pan at that scale, or a return to it,
        takes the same cells without binning a million points again; and in the user's cache under the stamp
        taken before the points were read (:func:`riskmap.store.viewport.kept_arrays`), so the next session's
        first frame takes them from disk (×10 city: about 0.1–0.2 s of binning)."""
        from riskmap.store.viewport import bin_points

        cell = CELL_MM * settings.px_per_mm() * settings.resolution
        n_located = pts.get("n_located")
        if n_located is None:
            n_located = pts["n_located"] = int(np.count_nonzero(pts["located"]))
        whole = 2 * len(inside) >= n_located
        key = ("aggregates", float(f"{cell:.10g}"))
        if whole:
            with self._lock:
                hit = self._bands.get(key)
                if hit is not None:
                    self._bands.move_to_end(key)
                    return hit
        pad = cell

        def bin_xy(xs, ys, cls, xmin, ymin, xmax, ymax, inside=False):
            box = (math.floor((xmin - pad) / cell) * cell, math.floor((ymin - pad) / cell) * cell, xmax + pad,
                   ymax + pad)
            return bin_points(xs, ys, self._rank_of[cls], box, cell, inside=inside)

        def binned(inside, xmin, ymin, xmax, ymax):
            return bin_xy(pts["x"][inside], pts["y"][inside], pts["cls"][inside], xmin, ymin, xmax, ymax)

        if whole:  # the whole layer's cells, kept between sessions too (the first frame of a city's 1M points)
            from riskmap.store.viewport import kept_arrays

            def compute():
                if n_located == len(pts["located"]):  # every point placed: the arrays as they are, no copies
                    xs, ys, cls = pts["x"], pts["y"], pts["cls"]
                else:
                    inside = np.flatnonzero(pts["located"])
                    xs, ys, cls = pts["x"][inside], pts["y"][inside], pts["cls"][inside]
                b = bin_xy(xs, ys, cls, float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()),
                           inside=True)  # the box made around them
                return dict(zip(("x", "y", "count", "top"), b))

            def check(a):
                return all(k in a and a[k].ndim == 1 and len(a[k]) == len(a["x"]) for k in ("x", "y", "count", "top")) \
                    and int(a["count"].sum()) == n_located

            name = f"aggregates@{self.crs_epsg}:{key[1]!r}:{AGGREGATES_FORMAT}"
            kept = kept_arrays(self.project, self.layer_def, self.cache_dir, name, pts.get("stamp"), compute, check,
                               family=f"aggregates@{self.crs_epsg}")
            x, y, count, top = (kept[k] for k in ("x", "y", "count", "top"))
            count, top = count.astype(np.int64), top.astype(np.int64)
        else:
            xmin, ymin, xmax, ymax = settings.extent
            x, y, count, top = binned(inside, xmin, ymin, xmax, ymax)
        cls = np.asarray(self.class_order, dtype=np.int64)[top]
        label = self.layer_def.label or _count_label()
        agg_def = replace(self.layer_def, name_zh=aggregated_title(self.layer_def, "zh"),
                          name_en=aggregated_title(self.layer_def, "en"),
                          label=replace(label, show_below_scale=0.0, show_above_scale=0.0))
        text = np.array([str(c) if c > 1 else None for c in count.tolist()], dtype=object)
        order = np.argsort(-count, kind="stable")  # busiest cells first: their labels are placed first
        prep = points_prepared(agg_def, self.crs_epsg, np.column_stack([x, y])[order], cls[order],
                               -1 - np.arange(len(x), dtype=np.int64), text[order])
        prep.aggregated = True
        prep.counts_drawn = count[order]
        if whole:
            with self._lock:
                if self._points is pts:
                    self._bands[key] = prep
                    while len(self._bands) > LOD_BANDS:
                        self._bands.popitem(last=False)
        return prep

    def _tile_keys(self, settings: MapSettings):
        size = 2.0 ** round(math.log2(max(TILE_PX * settings.resolution, 1e-6)))
        xmin, ymin, xmax, ymax = settings.extent
        for i in range(math.floor(xmin / size), math.floor(xmax / size) + 1):
            for j in range(math.floor(ymin / size), math.floor(ymax / size) + 1):
                yield size, i, j

    def _tile_box_4490(self, size: float, i: int, j: int):
        from riskmap.crs import transformer

        # riskmap.crs.transformer gives each thread its own (pyproj Transformers are not to be shared between
        # threads, and the render and label workers both ask for tiles)
        return transformer(self.crs_epsg, 4490).transform_bounds(i * size, j * size, (i + 1) * size, (j + 1) * size)

    def _tile(self, key, read):
        with self._lock:
            hit = self._tiles.get(key)
            if hit is not None:
                self._tiles.move_to_end(key)
                return hit
        value = read()
        with self._lock:
            self._tiles[key] = value
            while len(self._tiles) > SHAPE_TILES:
                self._tiles.popitem(last=False)
        return value

    def _names(self, settings: MapSettings, ids: np.ndarray) -> np.ndarray:
        """Label texts of the points ``ids`` (in view): those read for earlier views (the last :data:`NAME_ROWS`
        kept), the others read by id (:func:`riskmap.store.viewport.read_values`: only what the view lacks)."""
        from riskmap.store.viewport import read_values

        ids = np.asarray(ids, dtype=np.int64)
        out = np.full(len(ids), None, dtype=object)
        found = np.zeros(len(ids), dtype=bool)
        with self._lock:
            kept = list(self._names_kept)
        for got, text in reversed(kept):  # the newest first
            rest = np.flatnonzero(~found)
            if not len(rest):
                break
            if len(got):
                pos = np.minimum(np.searchsorted(got, ids[rest]), len(got) - 1)
                hit = got[pos] == ids[rest]
                out[rest[hit]] = text[pos[hit]]
                found[rest[hit]] = True
        rest = np.flatnonzero(~found)
        if len(rest):
            got, text = read_values(self.project, self.layer_def, ids[rest], self.layer_def.label.field,
                                    where=self.where)
            if len(got):
                pos = np.minimum(np.searchsorted(got, ids[rest]), len(got) - 1)
                hit = got[pos] == ids[rest]
                out[rest[hit]] = text[pos[hit]]
            with self._lock:
                self._names_kept.append((got, text))
                total = sum(len(k[0]) for k in self._names_kept)
                while total > NAME_ROWS and len(self._names_kept) > 1:
                    total -= len(self._names_kept.popleft()[0])
        return out
        all_ids = np.concatenate(got_ids)
        all_text = np.concatenate([np.asarray(t, dtype=object) for t in got_text])
        uniq, first = np.unique(all_ids, return_index=True)
        pos = np.searchsorted(uniq, ids)
        pos = np.clip(pos, 0, max(len(uniq) - 1, 0))
        found = (len(uniq) > 0) & (uniq[pos] == ids) if len(uniq) else np.zeros(len(ids), dtype=bool)
        out[found] = all_text[first[pos[found]]]
        return out

    def _tolerance(self, settings: MapSettings) -> float | None:
        """The level of detail of ``settings`` (:func:`band_of`), decided from the whole layer: the same for every
        view of it, and the same as an eager layer of the same rows (:func:`simplified_for_view`)."""
        return self._band(settings.resolution)

    def decide_levels(self, resolution: float, cancelled=None) -> None:
        """The level of detail of every band from ``resolution`` inwards (each power of two, down to the scales
        drawn exactly: :func:`band_of`) decided now, and remembered in the user's cache, so that the first view
        at a scale does not decide it (×10 city's lifelines: 4 ms a band, on a 10× zoom's longest layer). The
        window's loading calls it (riskmap.render.painter.prepare_exact_views)."""
        if not self.shape_arrays:
            return
        segment = self._shape_data()["segment"]
        tol = 2.0 ** math.floor(math.log2(max(resolution, 1e-9)))
        while tol * LOD_SEGMENTS >= segment > 0 and not (cancelled and cancelled()):
            self._band(tol)
            tol /= 2

    def _band(self, resolution: float) -> float | None:
        sh = self._shape_data()
        closed = self.kind == "polygon"

        def remember(tol: float, measure) -> bool:  # in the user's cache: no sample decimated in the next session
            from riskmap.store.viewport import kept_arrays

            name = f"lodworth@{self.crs_epsg}:{tol!r}:{int(closed)}:{LOD_KEEP!r}:{LOD_SAMPLE_VERTICES}:{BAND_FORMAT}"
            kept = kept_arrays(self.project, self.layer_def, self.cache_dir, name, sh.get("stamp"),
                               lambda: {"worth": np.array([measure()])},
                               lambda a: a.get("worth") is not None and a["worth"].shape == (1,),
                               family=f"lodworth@{self.crs_epsg}")
            return bool(kept["worth"][0])

        return band_of(sh["coords"], sh["offsets"], sh["segment"], resolution, closed=closed,
                       kept=sh.setdefault("lod_worth", {}), remember=remember)

    def _arrays_view(self, settings: MapSettings) -> PreparedLayer:
        """The features whose bounds meet the view, from the compact arrays, at the layer's level of detail for
        the view (:meth:`_tolerance`). When most of the layer is in view, the whole layer (decimated for the band:
        :func:`decimate`; :data:`LOD_BANDS` kept, each with what the painter caches on it); else the view's
        features alone, decimated to exactly the vertices the whole band has for them (decimate works part by
        part), taken from the whole band when it is kept."""
        sh = self._shape_data()
        feats = self.visible_rows(settings.extent, self._margin(settings))
        n_all = len(sh["id"])
        tol = self._tolerance(settings)
        if tol is None and 2 * len(feats) >= n_all:
            return self.exact_layer()
        if 2 * len(feats) >= n_all:
            with self._lock:
                hit = self._bands.get(tol)
                if hit is not None:
                    self._bands.move_to_end(tol)
                    return hit
            prep = self._arrays_prepared(np.arange(n_all), tol)
            with self._lock:
                if self._shapes is sh:
                    self._bands[tol] = prep
                    while len(self._bands) > LOD_BANDS:
                        self._bands.popitem(last=False)
            return prep
        return self._arrays_prepared(feats, tol)

    def _arrays_prepared(self, feats: np.ndarray, tol) -> PreparedLayer:
        """The features ``feats`` (ascending) from the compact arrays: exact (``tol`` None) or decimated at
        ``tol`` (the whole layer's band kept between sessions; a subset's parts as in that band)."""
        sh = self._shape_data()
        coords, offsets = sh["coords"], sh["offsets"]
        whole = len(feats) == len(sh["id"])
        if whole:
            pf, pb = sh["part_feature"], sh["part_bounds"]
        else:  # the view's features (ascending): their parts, found through feature_parts (no pass over all rows)
            fp = sh["feature_parts"]
            first, n_parts = fp[feats], fp[feats + 1] - fp[feats]
            parts = _runs(first, n_parts)
            pf = np.repeat(np.arange(len(feats), dtype=np.int64), n_parts)
            pb = sh["part_bounds"][parts]
            with self._lock:
                band = self._bands.get(tol) if tol is not None else None
            if band is not None and band.lod_tolerance == tol:  # the band is kept: its parts, in the arrays' order
                coords, offsets = _parts_of(band.coords, band.offsets, parts)
            elif tol is not None:
                coords, offsets = self._band_parts(sh, tol, parts)
            else:
                coords, offsets = _parts_of(coords, offsets, parts)
        normals = None
        if tol is not None and whole:  # the whole layer's band: kept between sessions
            coords, offsets, normals = self._kept_band(sh, tol)
        n = len(feats)
        prep = PreparedLayer(self.layer_def, self.crs_epsg)
        prep.n = n
        prep.geoms = None
        prep.skipped_parts = 0
        prep.coords = np.ascontiguousarray(coords)
        prep.offsets = offsets
        prep._normals = normals  # (PreparedLayer.normals() computes them when None)
        prep.lod_tolerance = tol  # drawn decimated: the painter's level-of-detail strokes
        prep.large = True  # drawn as a large layer at every scale (the painter's generalised strokes)
        if tol is None and not whole:  # the painter draws it from the whole layer's kept tiles
            prep.exact_whole = self.exact_layer()
        prep.part_feature = pf
        prep.feature_parts = np.searchsorted(pf, np.arange(n + 1)).astype(np.int64)
        prep.part_bounds = pb
        prep.bounds = sh["bounds"][feats]
        prep.ids = sh["id"][feats]
        _take_classes(prep, n)
        prep.cls = sh["cls"][feats]
        prep._counts = np.bincount(prep.cls, minlength=len(prep.classes))
        prep._label_em = {}
        prep.label_text = None
        prep.label_xy = None
        prep.label_order = np.zeros(0, dtype=np.int64)
        prep.source = pd.DataFrame({"id": prep.ids})
        prep.aggregated = False
        prep.z = self.z
        prep.version = self.version
        return prep

    def exact_layer(self) -> PreparedLayer:
        """The whole layer, exact (every vertex), kept until :meth:`drop`: the view drawn at an exact scale, and
        what a partial one is drawn from (``exact_whole``: the painter keeps map-space tiles of it)."""
        sh = self._shape_data()
        with self._lock:
            kept = self._exact
            if kept is not None and kept[0] is sh:
                return kept[1]
        prep = self._arrays_prepared(np.arange(len(sh["id"])), None)
        with self._lock:
            if self._shapes is sh:
                if self._exact is not None and self._exact[0] is sh:  # another thread made it first
                    return self._exact[1]
                self._exact = (sh, prep)
        return prep

    def _band_parts(self, sh: dict, tol: float, parts: np.ndarray):
        """The parts ``parts`` (ascending) decimated at ``tol`` for a partial view: those no earlier view of the
        band decimated are decimated now (:func:`decimate` works part by part: the whole band's vertices), the
        others taken from the parts kept for the band (the last :data:`PART_BANDS` bands; at most the band's own
        size each), so that a pan or another view at that scale decimates only the parts new to it."""
        with self._lock:
            kept = self._part_bands.get(tol)
            if kept is not None and kept[0] is sh:
                self._part_bands.move_to_end(tol)
            else:
                kept = None
        if kept is None:
            have, hc, ho = np.zeros(0, dtype=np.int64), np.zeros((0, 2)), np.zeros(1, dtype=np.int64)
        else:
            have, hc, ho = kept[1:]
        pos = np.minimum(np.searchsorted(have, parts), max(len(have) - 1, 0))
        found = have[pos] == parts if len(have) else np.zeros(len(parts), dtype=bool)
        missing = parts[~found]
        if len(missing):
            mc, mo = decimate(*_parts_of(sh["coords"], sh["offsets"], missing), tol, closed=self.kind == "polygon")
            ids = np.concatenate([have, missing])
            order = np.argsort(ids, kind="stable")
            starts = np.concatenate([ho[:-1], mo[:-1] + len(hc)])[order]
            lengths = np.concatenate([np.diff(ho), np.diff(mo)])[order]
            have, ho = ids[order], np.zeros(len(ids) + 1, dtype=np.int64)
            np.cumsum(lengths, out=ho[1:])
            hc = np.concatenate([hc, mc])[_runs(starts, lengths)]
            with self._lock:
                if self._shapes is sh:
                    self._part_bands[tol] = (sh, have, hc, ho)
                    self._part_bands.move_to_end(tol)
                    while len(self._part_bands) > PART_BANDS:
                        self._part_bands.popitem(last=False)
            pos = np.searchsorted(have, parts)
        return _parts_of(hc, ho, pos)

    def _kept_band(self, sh: dict, tol: float):
        """:func:`decimate` of the whole layer at ``tol``, kept in the user's cache beside the compact arrays
        (:func:`riskmap.store.viewport.kept_arrays`, under the stamp taken before they were read) with the painter's
        vertex normals of it: a new session takes the full view's band from disk (×10 city's lifelines: 0.03 s
        instead of 0.6–1.7 s of decimation and 0.1–0.2 s of normals)."""
        from riskmap.render.prepared import _vertex_normals
        from riskmap.store.viewport import kept_arrays

        closed = self.kind == "polygon"
        n_parts = len(sh["offsets"])

        def compute():
            c, o = decimate(sh["coords"], sh["offsets"], tol, closed=closed)
            return {"coords": c, "offsets": o, "normals": _vertex_normals(c, o, closed)}

        def check(a):
            c, o, nrm = a.get("coords"), a.get("offsets"), a.get("normals")
            return (c is not None and o is not None and nrm is not None and c.ndim == 2 and c.shape[1] == 2
                    and nrm.shape == c.shape and len(o) == n_parts and int(o[0]) == 0 and int(o[-1]) == len(c)
                    and bool(np.all(np.diff(o) >= 0)))

        name = f"band@{self.crs_epsg}:{float(tol)!r}:{int(closed)}:{LOD_PASSES}:{BAND_FORMAT}"
        kept = kept_arrays(self.project, self.layer_def, self.cache_dir, name, sh.get("stamp"), compute, check,
                           family=f"band@{self.crs_epsg}")
        return (np.ascontiguousarray(kept["coords"], dtype=np.float64), np.asarray(kept["offsets"], dtype=np.int64),
                np.ascontiguousarray(kept["normals"], dtype=np.float64))

    def _labelled_arrays_view(self, settings: MapSettings) -> PreparedLayer:
        """A line or polygon layer's view with its labels: the features the frame draws (:meth:`_arrays_view`:
        the exact geometry), their label texts read by id (:meth:`_names`: only those no earlier view read) and
        their anchors from the arrays: the middle of a line's longest part, a point on a polygon's surface
        (shapely, on the view's labelled features alone). Where a spatial-index tile read took the features
        again with their geometry (the ×10 city's grid names at 1:20 000: 0.2–0.38 s), this takes a few ms
        more than the frame."""
        import copy

        from riskmap.render.prepared import _line_midpoints

        prep = copy.copy(self._arrays_view(settings))  # that may be a kept band: its arrays are shared, not changed
        n = prep.n
        raw = self._names(settings, prep.ids) if n else np.zeros(0, dtype=object)
        text = np.empty(n, dtype=object)
        text[:] = [None if v is None or (isinstance(v, float) and v != v) or str(v) == "" else str(v) for v in raw]
        has = np.not_equal(text, None)
        xy = np.full((n, 2), np.nan)
        sel = np.flatnonzero(has)
        if len(sel) and self.kind == "line":
            xy[sel] = _line_midpoints(prep.coords, prep.offsets, prep.part_feature, n)[sel]
        elif len(sel):
            import shapely

            geoms = polygons_of(prep.coords, prep.offsets, prep.part_feature, sel)
            ok = ~shapely.is_empty(geoms)
            anchors = shapely.point_on_surface(geoms[ok])
            xy[sel[ok], 0] = shapely.get_x(anchors)
            xy[sel[ok], 1] = shapely.get_y(anchors)
        prep._label_em = {}
        prep.label_text = text
        prep.label_xy = xy
        prep._order_labels(has)
        return prep

    def _shapes_view(self, settings: MapSettings, with_labels: bool, cancel) -> PreparedLayer | None:
        import geopandas as gpd

        from riskmap.crs import reproject
        from riskmap.store.viewport import query_simplified

        cols = [c for c in {self.layer_def.style.field if self.layer_def.style.type != "single" else None,
                            self.layer_def.label.field if self.layer_def.label is not None else None} if c]
        parts = []
        for key in self._tile_keys(settings):
            if cancel is not None and cancel():
                return None
            size = key[0]

            def read(key=key, size=size):
                box = self._tile_box_4490(*key)
                px_deg = (box[2] - box[0]) / TILE_PX  # about a pixel of this tile's zoom, in degrees
                gdf = query_simplified(self.project, self.layer_def, box, px_deg, cols, min_size_deg=px_deg,
                                       where=self.where)
                geoms = reproject(np.asarray(gdf.geometry.array, dtype=object), 4490, self.crs_epsg)
                return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=gpd.GeoSeries(geoms, index=gdf.index))
            parts.append(self._tile(("shapes", *key), read))
        parts = [p for p in parts if len(p)]
        if not parts:
            frame = gpd.GeoDataFrame({"id": pd.Series([], dtype=np.int64)}, geometry=gpd.GeoSeries([]))
        else:
            frame = pd.concat(parts)
            frame = frame[~frame.index.duplicated()]
        prep = PreparedLayer.from_gdf(self.layer_def, frame, self.crs_epsg, projected=True)
        prep.aggregated = False
        return prep

    def __repr__(self) -> str:
        return f"<LazyPrepared {self.id} {self.kind} rows={self.row_count}>"


def _rows_mask(data: dict, extent, margin: float) -> np.ndarray:
    """A pass over every row of the compact arrays ``data``: the points within ``extent`` widened by ``margin``,
    or the boxes (lines, polygons) that meet it."""
    if "bounds" in data:
        from riskmap.render.prepared import bounds_touch

        return bounds_touch(data["bounds"], extent, margin)
    xmin, ymin, xmax, ymax = extent
    x, y = data["x"], data["y"]
    with np.errstate(invalid="ignore"):
        return (x >= xmin - margin) & (x <= xmax + margin) & (y >= ymin - margin) & (y <= ymax + margin)


def _parts_of(coords: np.ndarray, offsets: np.ndarray, parts: np.ndarray):
    """``(coords, offsets)`` of the parts ``parts`` of ``(coords, offsets)``, in that order.

    >>> c, o = _parts_of(np.arange(10.0).reshape(5, 2), np.array([0, 2, 3, 5]), np.array([2, 0]))
    >>> c[:, 0].tolist(), o.tolist()
    ([6.0, 8.0, 0.0, 2.0], [0, 2, 4])
    """
    lengths = offsets[parts + 1] - offsets[parts]
    new = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new[1:])
    # np.take along the rows: a quarter of the time of indexing them (a 10× view's 115k lifeline vertices 0.3 ms
    # instead of 1.3 ms)
    return np.take(coords, _runs(offsets[parts], lengths), axis=0), new


def polygons_of(coords: np.ndarray, offsets: np.ndarray, part_feature: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """Shapely multipolygons of the features ``feats`` from their rings as
    :func:`riskmap.store.viewport.read_shapes` gives them (exteriors counter-clockwise, holes clockwise; y up):
    a feature's exteriors less its holes; an empty polygon for a feature without an exterior.

    >>> sq = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    >>> hole = [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]]
    >>> far = [[10, 0], [12, 0], [12, 2], [10, 2], [10, 0]]
    >>> g = polygons_of(np.array(sq + hole + sq + far, dtype=float), np.array([0, 5, 10, 15, 20]),
    ...                 np.array([0, 0, 2, 2]), np.array([2, 0, 1]))
    >>> import shapely
    >>> [round(x.area, 1) for x in g], g[1].contains(shapely.Point(1.5, 1.5)), g[1].contains(shapely.Point(3, 3))
    ([20.0, 15.0, 0.0], False, True)
    """
    import shapely

    feats = np.asarray(feats, dtype=np.int64)
    out = np.empty(len(feats), dtype=object)
    out[:] = [shapely.Polygon()] * len(feats)
    if not len(feats) or not len(part_feature):
        return out
    slot = np.full(int(max(part_feature.max(), feats.max())) + 1, -1, dtype=np.int64)
    slot[feats] = np.arange(len(feats))
    parts = np.flatnonzero(slot[part_feature] >= 0)
    lengths = offsets[parts + 1] - offsets[parts]
    parts, lengths = parts[lengths >= 4], lengths[lengths >= 4]  # a ring needs 4 vertices
    if not len(parts):
        return out
    order = np.argsort(slot[part_feature[parts]], kind="stable")  # shapely wants its indices in order
    parts, lengths = parts[order], lengths[order]
    owner = slot[part_feature[parts]]
    start = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=start[1:])
    xy = coords[np.repeat(offsets[parts] - start[:-1], lengths) + np.arange(start[-1], dtype=np.int64)]
    rings = shapely.linearrings(xy, indices=np.repeat(np.arange(len(parts)), lengths))
    nxt = np.roll(xy, -1, axis=0)
    cross = xy[:, 0] * nxt[:, 1] - nxt[:, 0] * xy[:, 1]
    cross[start[1:] - 1] = 0.0  # the last vertex repeats the first: no term towards the next ring
    outer = np.add.reduceat(cross, start[:-1]) > 0  # counter-clockwise: an exterior
    ext = np.full(len(feats), None, dtype=object)
    hol = np.full(len(feats), None, dtype=object)
    if outer.any():
        shapely.multipolygons(shapely.polygons(rings[outer]), indices=owner[outer], out=ext)
    if (~outer).any():
        shapely.multipolygons(shapely.polygons(rings[~outer]), indices=owner[~outer], out=hol)
    has = np.not_equal(ext, None)
    both = has & np.not_equal(hol, None)
    if both.any():
        ext[both] = shapely.difference(ext[both], hol[both])
    out[has] = ext[has]
    return out


def _count_label():
    from riskmap.layers import Label

    return Label("count", size_pt=7.0, priority=5)


# ------------------------------------------------------------------ lines and polygons held whole, drawn decimated
LOD_VERTICES = 500_000  # line and polygon layers with more vertices draw decimated at small scales
LOD_BANDS = 3  # decimated versions kept per layer (one per resolution band, powers of two)
PART_BANDS = 2  # bands whose parts decimated for partial views are kept (a lazy layer's pans at one scale)
LOD_SEGMENTS = 20  # not decimated while a pixel is shorter than 1/20 of the median segment
LOD_PASSES = 8  # decimation passes at most (each drops at most every other vertex)
DECIMATE_CHUNK = 131_072  # decimate() works on blocks of parts of about this many vertices
LOD_KEEP = 0.8  # drawn decimated only where the band keeps at most this share of the vertices
LOD_SAMPLE_VERTICES = 25_000  # that share measured on every k-th part of the layer, about this many vertices
BAND_FORMAT = 2  # raise when decimate() changes: bands kept on disk by an older version are not used
_LOD_LOCK = threading.Lock()


def band_of(coords: np.ndarray, offsets: np.ndarray, segment: float, resolution: float, *, closed: bool,
            kept: dict, remember=None) -> float | None:
    """The level of detail of a whole line or polygon layer (``coords``, part ``offsets``, median ``segment``)
    at ``resolution``: the tolerance of its band (the resolution rounded down to a power of two: one version
    serves a band of scales), or None where it is drawn exactly: fewer than LOD_VERTICES vertices, a pixel
    shorter than 1/LOD_SEGMENTS of the median segment, or a band keeping more than LOD_KEEP of the vertices,
    measured by :func:`decimate` of every k-th part (about LOD_SAMPLE_VERTICES vertices; all of a smaller
    layer) and remembered per tolerance in ``kept`` (and through ``remember(tol, measure) -> bool``, which calls
    ``measure()`` when it does not know, if given: a lazy layer's user cache). One rule for eager and lazy layers
    and every view of them, so that a view draws its features as the whole layer's band does.

    >>> xy = np.column_stack([np.arange(600.0), np.tile([0.0, 0.3], 300)])  # a zigzag 0.3 high
    >>> band_of(xy, np.array([0, 600]), 1.0, 1.5, closed=False, kept={}) is None  # fewer than LOD_VERTICES
    True
    """
    if len(coords) < LOD_VERTICES:
        return None
    tol = 2.0 ** math.floor(math.log2(max(resolution, 1e-9)))
    if tol * LOD_SEGMENTS < segment:  # zoomed in: a pixel is far shorter than the segments, little to remove
        return None
    worth = kept.get(tol)
    if worth is None:
        def measure() -> bool:
            step = max(1, math.ceil(len(coords) / LOD_SAMPLE_VERTICES))
            sample, sample_offsets = _parts_of(coords, offsets, np.arange(0, len(offsets) - 1, step))
            c, _ = decimate(sample, sample_offsets, tol, closed=closed)
            return len(c) <= LOD_KEEP * len(sample)

        worth = kept[tol] = bool(measure() if remember is None else remember(tol, measure))
    return tol if worth else None


def decimate(coords: np.ndarray, offsets: np.ndarray, tol: float, *, closed: bool = False,
             passes: int = LOD_PASSES):
    """Vertices of parts (polylines, or closed rings with ``closed``) dropped while the drawing moves by at most
    ``tol`` (map units): ``(coords, offsets)`` of the kept vertices, every part kept (its ends always; a ring
    keeps at least 4 vertices, its closing one included), vectorised in numpy.

    Each pass looks at every other interior vertex (odd positions, then even ones, so no two neighbours go in
    one pass). Every kept segment carries a bound of how far the original vertices it stands for lie from it
    (0 at first); a vertex goes when the bound of its two segments plus its own distance from the segment
    joining its neighbours stays within ``tol``, and that sum becomes the new segment's bound. So the result is
    within ``tol`` of the original, however many passes run (at most ``passes``). Each part's result depends on
    that part alone (a subset of parts decimates to the same vertices as in the whole layer): the passes stop
    early only at a fixed point (both parities drop nothing), and parts that dropped nothing in the last two
    passes (at their fixed point) are left out of the next ones. So a large layer is decimated in blocks of
    parts of about DECIMATE_CHUNK vertices, column by column: the city's 2.3M lifeline vertices in 0.25–0.27 s
    with 35–58 MB at most allocated, where one block of (n, 2) arrays with a global early stop (a part's result
    depending on the others) took 0.62–0.76 s and 234–249 MB (load 1.9).

    >>> xy = np.array([[0, 0], [1, 0.01], [2, 0], [3, 0.02], [4, 0], [4, 5.0]])
    >>> c, o = decimate(xy, np.array([0, 6]), 0.1)
    >>> c.tolist(), o.tolist()
    ([[0.0, 0.0], [4.0, 0.0], [4.0, 5.0]], [0, 3])
    """
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    offsets = np.asarray(offsets, dtype=np.int64)
    if len(coords) > 2 * DECIMATE_CHUNK and len(offsets) > 2:  # parts in blocks: the temporaries stay small
        cuts = np.unique(np.searchsorted(offsets, np.arange(DECIMATE_CHUNK, len(coords), DECIMATE_CHUNK)))
        cuts = np.concatenate([[0], cuts[(cuts > 0) & (cuts < len(offsets) - 1)], [len(offsets) - 1]])
        if len(cuts) > 2:
            blocks = [decimate(coords[offsets[a]:offsets[b]], offsets[a:b + 1] - offsets[a], tol, closed=closed,
                               passes=passes) for a, b in zip(cuts[:-1], cuts[1:])]
            out = np.concatenate([c for c, _ in blocks])
            new = np.zeros(len(offsets), dtype=np.int64)
            np.cumsum(np.concatenate([np.diff(o) for _, o in blocks]), out=new[1:])
            return out, new
    x, y = coords[:, 0].copy(), coords[:, 1].copy()  # column by column: no (n, 2) temporaries
    err = np.zeros(len(x))  # err[i]: bound for the segment from vertex i to i + 1
    tol = float(tol)
    min_keep = 4 if closed else 2
    lengths = np.diff(offsets)
    quiet = np.zeros(len(lengths), dtype=np.int8)  # passes in a row in which a part dropped nothing
    changed = False
    for k in range(max(int(passes), 1)):
        active = quiet < 2  # the others are at their fixed point: another pass would change nothing
        if not active.any():
            break
        quiet[active] += 1
        first = 1 + (k & 1)  # odd positions, then even ones: no two neighbours in one pass
        live = np.flatnonzero(active & (lengths >= first + 2))  # parts with a candidate: first <= pos <= len - 2
        if not len(live):
            continue
        cnt = (lengths[live] - 2 - first) // 2 + 1
        total = int(cnt.sum())
        start = np.cumsum(cnt) - cnt
        owner = np.repeat(np.arange(len(live), dtype=np.int64), cnt)
        i = np.repeat(offsets[live] + first - 2 * start, cnt) + 2 * np.arange(total, dtype=np.int64)
        im, ip = i - 1, i + 1
        ax, ay = x[im], y[im]
        acx, acy = x[ip] - ax, y[ip] - ay
        abx, aby = x[i] - ax, y[i] - ay
        l2 = acx * acx + acy * acy
        t = (abx * acx + aby * acy) / np.where(l2 > 0, l2, 1.0)
        np.clip(t, 0.0, 1.0, out=t)
        abx -= t * acx
        aby -= t * acy
        new_err = np.maximum(err[im], err[i]) + np.sqrt(abx * abx + aby * aby)
        ok = new_err <= tol
        ndrop = np.bincount(owner[ok], minlength=len(live))
        short = (lengths[live] - ndrop < min_keep) & (ndrop > 0)
        if short.any():  # a ring or line that would collapse keeps its vertices
            ok &= ~short[owner]
            ndrop[short] = 0
        dropped = ndrop > 0
        if not dropped.any():
            continue
        changed = True
        quiet[live[dropped]] = 0
        drop = i[ok]
        err[drop - 1] = new_err[ok]
        keep = np.ones(len(x), dtype=bool)
        keep[drop] = False
        x, y, err = x[keep], y[keep], err[keep]
        lengths[live] -= ndrop
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
    if not changed:
        return np.ascontiguousarray(coords), offsets
    out = np.empty((len(x), 2))
    out[:, 0] = x
    out[:, 1] = y
    return out, offsets


def simplified_for_view(layer, settings: MapSettings):
    """A large line or polygon :class:`PreparedLayer` (LOD_VERTICES or more) as it is drawn at ``settings``:
    decimated (:func:`decimate`) to within the resolution rounded down to a power of two (at most a pixel; one
    version serves a band of scales) and kept for the next frames of that band. Only vertices go: every
    feature, part, class, id and label stays, so a sub-pixel line or grid cell is still drawn (sub-pixel
    polygons as a dot in their colour). The layer itself where :func:`band_of` says so (the layer is small, a
    pixel is shorter than 1/20 of the median segment, or decimating would remove less than a fifth of the
    vertices): the rule of a lazy layer's views too.
    Built in numpy from the layer's own arrays (no shapely geometries made): 200k lifelines (2.3M vertices)
    in about 0.3 s, where shapely.simplify took 1.5–3 s on a loaded machine."""
    if getattr(layer, "kind", None) not in ("line", "polygon") or getattr(layer, "coords", None) is None \
            or len(layer.coords) < LOD_VERTICES:
        return layer
    seg = layer.__dict__.get("_mean_segment")
    if seg is None:
        d = np.hypot(*np.diff(layer.coords, axis=0).T)
        seg = layer.__dict__["_mean_segment"] = float(np.median(d)) if len(d) else 0.0
    tol = band_of(layer.coords, layer.offsets, seg, settings.resolution, closed=layer.kind == "polygon",
                  kept=layer.__dict__.setdefault("_lod_worth", {}))
    if tol is None:  # drawn exactly at this scale (the same decision as a lazy layer's)
        return layer
    with _LOD_LOCK:
        cache = layer.__dict__.setdefault("_lod", OrderedDict())
        hit = cache.get(tol)
        if hit is not None:
            cache.move_to_end(tol)
            return hit
    coords, offsets = decimate(layer.coords, layer.offsets, tol, closed=layer.kind == "polygon")
    out = object.__new__(type(layer))
    out.__dict__.update({k: v for k, v in layer.__dict__.items()
                         if k not in ("_lod", "_lod_worth", "_pass_steps", "_normals", "_mean_segment", "_map_paths",
                                      "_map_box")})
    out.coords = coords
    out.offsets = offsets
    out._normals = None
    out.lod_tolerance = tol  # drawn decimated: the painter's level-of-detail strokes
    out.decimated_from = layer
    with _LOD_LOCK:
        cache[tol] = out
        while len(cache) > LOD_BANDS:
            cache.popitem(last=False)
    return out
