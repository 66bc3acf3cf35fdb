"""The layer painter: prepared layers → any QPaintDevice (QImage for the canvas, PDF/SVG/PNG for print).

One renderer for screen and paper (DESIGN rule 2). Sizes come in millimetres and points and are
converted through ``settings.dpi``, so a map at 96 dpi and the same map at 300 dpi look alike.
The painter's coordinates must be pixels of ``settings.dpi`` with the map frame at (0, 0); a print
layout translates (or scales) the painter to its map frame first.

Speed (100k points + 5k polygons + 20k lines at 1920×1080): features are culled with numpy bounding
box tests and grouped by colour, so each colour is one or a few Qt calls:
- points: a cached symbol image stamped at every position by one ``drawPixmapFragments`` call;
- polygon fills: one path per colour (in chunks), painted opaque into a layer image that is then
  drawn with the fill opacity (no seams between neighbours, no double blending); on a layer's own image with
  nothing drawn yet, an outlined layer's aliased fills go straight into it in Source mode with the colour that
  leaves the same pixel (:func:`_fills`: ×10 city's grids at 10× 10.6–11.0 ms instead of 13.0–13.3);
- strokes up to 1 px: one path per colour (Qt's fast cosmetic stroker, which writes the pixels itself only
  under a rectangular clip: every painter here has one, :func:`image_painter`); a polygon layer's thin outlines of
  one colour on images are stroked with the fill's own paths (building a QPainterPath costs about as much as
  stroking it: ×10 city's 50k grid cells at a new scale 0.16 s instead of 0.22 s);
- solid strokes up to 2 px, and wider ones of large layers at screen resolution: the line drawn as a
  few 1-px passes offset along the vertex normals, spaced so that the ink matches the real width at
  every angle (many times faster than Qt's antialiased wide pen); dashes and the rest use a real pen, on
  screen images a solid one stroking a long part in pieces (:func:`_draw_wide_pieces`: the ×10 city's county
  outline at 10× up to 17 ms a view before);
- on images, solid strokes of many vertices mostly outside the view are first cut to it (long lines
  after a zoom);
- generalised line width of large layers (a product decision): a LARGE line layer (:func:`_large`: a level of
  detail, a lazy layer's view, or LAYER_IMAGE_VERTICES vertices and more, the layers kept as images) on an
  image, with a solid stroke up to HAIRLINE_MAX_PX, is stroked as ONE antialiased 1-px cosmetic line (0.35 mm
  at 96 dpi: 1 px instead of 1.32) AT EVERY SCALE, so its width never flips between scales, as map-unit widths
  thin lines in other GIS. A cosmetic pen ignores the painter's transform, so a decimated band's paths are
  built once in map units (per class, in chunks, relative to a local origin) and stroked at every scale and pan
  of the band through the view's transform: no numpy and no path building per frame (×10 city's lifelines at a
  new scale 0.11 s instead of 0.48 s, load 1.4). At exact scales (every vertex) the whole layer's parts are kept
  the same way per spatial tile (:class:`_MapTiles`: per class, binned by the centre of their bounds on a grid
  of about TILE_VERTICES vertices a tile, a tile's box the union of its parts'), built on first touch, and a
  view strokes only the tiles meeting it (:func:`_paint_tiled_hairlines`). Qt's cosmetic stroker inks segments
  shorter than a pixel lighter (0.65–0.87 px): exact scales are where a layer's segments are long
  (:func:`riskmap.render.lazy.band_of`). Print, PDF and SVG, export images at print dpi (no fast strokes), the
  legend and small layers (a county's lifelines) keep the real width (offset passes on images). Large polygon
  layers are filled and outlined from paths built once in map units too, per band of scales (fill rasterisation
  under a transform is exact; outlines up to 1 px are a cosmetic pen anyway): the whole layer's when mostly in
  view (×10 city's 50k grid cells 0.07 s instead of 0.11 s), else at exact scales the tiles meeting the view
  (:func:`_fill_tiles`; at 10× the fills' rasterising and the translucent layer's composite dominate: grids
  15–18 ms);
- on the canvas, layers of LAYER_IMAGE_VERTICES or more are kept as images for the next frame: at small scales
  an image of the whole layer on the view's pixel grid, which also serves a pan by whole pixels, pixel for pixel
  (×10 city's whole view panned: lifelines and grids 0.01 s instead of 0.5–0.8 s; a new scale paints them
  afresh: 0.53–0.56 s and 0.19–0.21 s at load 2.5, Qt stroking about 0.9M decimated vertices twice).
  Where the lifelines' 0.6–0.7 s go (load 0.8): stroking 0.37 s, building the paths 0.2 s (about 110 ns an
  element, inside Qt's QDataStream), numpy 0.1 s.
- layers in parallel (as QGIS's parallel renderer): on a raster frame the layers that paint into their own image
  (large layers' kept images; translucent layers and those of OWN_IMAGE_VERTICES or more: :func:`_own_image`) and
  the layers read by view are painted on RENDER_THREADS workers, the longest job first (its time at this scale
  last time, else the largest layer; read by view, it finds its view before the others start), then the others
  in drawing order, while the frame's thread paints the rest and draws each image in drawing order
  (:func:`_start_layer_jobs`: the same frame, pixel for pixel, as one thread).
  PySide6 6.11 holds the GIL through every Qt call (another Python thread waits 0.36 s through a 1M-vertex
  drawPath), so the heavy calls go through :mod:`riskmap.render.native`, which releases it; each return from such
  a call waits for the GIL, so a layer's strokes are merged into a few calls (:func:`_stroke_paths`). Two threads
  stroking the ×10 city's 10× lifelines each take 40 ms instead of 31 alone (the cores share caches): a cold 10×
  frame of the centre redrawn with its layer images dropped 36–46 ms on two threads against 60–62 on one (load
  0.6–0.9, tile paths built); views not drawn before also find their rows (lazy layers' ``for_view``, 7–13 ms)
  on their workers: the city bench's 10× onto new ground 44–77 ms (load 0.4–0.7). With the clip's fast strokes
  a new 10× view of the city costs 63 ms of CPU on one thread instead of 78–80, and the bench's 10× zoom after
  the idle work 44–61 ms (load 0.5–1.0); before the idle work has built the tile paths, 72–91 ms.
- a 10× zoom onto new ground (×10 city's centre at 1:68 000: 10k lifelines of 120k exact vertices, 2.4k grid
  cells, 37k enterprises): exact lines are not decimated there (a pixel of 18 m against 255 m median segments:
  decimating at 16 m keeps 82 % of the vertices). The lifelines used to cost 0.13 s of CPU (two offset passes of
  1.32 px: Qt stroking 80–100 ms, building the paths 20 ms, normals, steps and culling 15 ms). Now one 1-px pass
  from the tiles meeting the view (about 1.6 times the view's vertices), their paths built on first visit
  (20–30 ms), then Qt stroking about 1.2M px of line length in view in 18 ms (30 without a clip); the tiles are
  laid out (about 30 ms once a session) and their paths built ahead, nearest the view's centre first, up to
  AHEAD_VERTICES a layer (:func:`tile_paths_ahead`: the lifelines' and grid cells' 2.7M vertices, 0.3 s of CPU
  and 65 MB once a session), by the window's loading before it shows such a layer (:func:`prepare_exact_views`),
  else by the canvas in idle time after a frame (a layer shown later, or read again); cold 10× frames then build
  no path: right after the complete map 34–49 ms (the bench's medians of three places, both stores, load 0.6–1.2;
  the first of a session 39–57 ms, once 74) instead of 64–76 ms.
  Render CPU of the lifelines alone at 10× (GeoPackage, load 6): new ground 54–86 ms instead of 130–159, a redraw
  50–56 ms instead of 131–141. The whole frame in the application's second session (7 views about the centre, load
  5): 0.1–0.14 s at the centre the first time (lifelines 52–86 ms, grids 15–18, enterprises 8–20, towns 5–8), 27
  ms redrawn from the layer images. (Those figures predate the clip: Qt stroked about 20 ns a pixel of line
  through its span functions, about 12 with the clip.)
- images: a frame of a screen's size, the layers' kept images and the images layers are drawn from and dropped all
  come from one pool (:func:`_reused_image`), and the free ones are cleared in idle time after a canvas frame
  (:func:`clear_spare_images`): the six images a ×10 city 10× frame takes cost 5.9–8.3 ms of CPU in clears and
  fresh pages, 3.1–5.1 ms with the spares cleared ahead. What such a frame waits on after a pause is memory: Qt
  stroking the city's 10× lifelines into a warm image takes 16 ms, and 23–27 ms after 0.2–0.3 s of idleness on
  the benchmarks' shared two-core machine. Two clears of that image just before bring it back to 17–20 ms (one
  clear, reading the image or copying other memory do not; clears of another image half do), so a large line
  layer's image is cleared twice when taken (:func:`_warms`: in the city bench's first 10× zoom the stroke 22–27 ms
  instead of 28–33, in alternated runs); stroking the tiles' own paths unmerged (their converted form kept) or the
  image in 2–8 bands changed it by at most 2 ms, the bands for the worse.
Labels come last; :func:`render_labels` paints them alone, for the canvas's second pass.
On vector devices (PDF, SVG) everything is drawn as vector paths with real pens, text stays text.

>>> import geopandas as gpd, shapely
>>> from riskmap.layers import load_catalogue
>>> gdf = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["甲化工", "乙加油站", "丙"], "level": [1, 2, 4]},
...                        geometry=shapely.points([[105.0, 35.0], [105.01, 35.0], [105.0, 35.01]]), crs=4490)
>>> from riskmap.render import MapSettings, PreparedLayer
>>> prepared_layers = [PreparedLayer.from_gdf(load_catalogue()["enterprises"], gdf, 4544)]
>>> settings = MapSettings(prepared_layers[0].total_bounds(), 400, 300, crs_epsg=4544)
>>> from PySide6.QtGui import QImage, QPainter
>>> img = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)
>>> painter = QPainter(img)
>>> stats = render(painter, settings, prepared_layers)
>>> painter.end(), stats.features
(True, {'enterprises': 3})
"""

from __future__ import annotations

import math
import os
import sys
import threading
from contextlib import contextmanager
import time
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPaintEngine, QPainter, QPainterPath, QPen

from riskmap.render._bulk import (
    FAR_PX, cull_segments, draw_fragments, fragments, make_path, polyline_types, thin_vertices,
)
from riskmap.render.labels import PlacedLabel, draw_labels, place_labels
from riskmap.render.lazy import resolve_layers
from riskmap.render.native import draw_image, draw_path
from riskmap.render.prepared import PreparedLayer
from riskmap.render.settings import MapSettings
from riskmap.render.symbols import STAMPS, extent_factor, make_pen, symbols_path

SELECTION_COLOUR = "#00FFFF"  # cyan halo around selected features
SELECTION_FILL = QColor(0, 255, 255, 70)
SELECTION_HALO_MM = 0.6
MAX_LABELS = 300  # labels per view: more is unreadable on a screen and costs time
MIN_FEATURE_PX = 1.0  # polygons smaller than this draw as a dot, so they never vanish
OFFSET_PASS_MAX_PX = 2.0  # solid strokes up to this width draw as 1-px offset passes (fast, same ink)
OFFSET_PASS_MIN_VERTICES = 6000  # wider solid strokes too, with fast_strokes and this many vertices
PATH_CHUNK_VERTICES = 60_000
AA_FILL_CHUNK_RINGS = 64
FILL_CHUNK_RINGS = 4000
VECTOR_SYMBOL_CHUNK = 2000
DASHES_MM = {"dash": (3.0, 1.5, 1.8, 0.9), "dot": (1.0, 2.0, 0.0, 0.6)}  # on×w, off×w, min on, min off


@dataclass
class RenderStats:
    """What a render did: seconds per layer, visible features per layer, labels placed, cancelled."""

    elapsed_s: float = 0.0
    layer_seconds: dict[str, float] = field(default_factory=dict)
    features: dict[str, int] = field(default_factory=dict)
    labels: list[PlacedLabel] = field(default_factory=list)
    label_seconds: float = 0.0
    cancelled: bool = False
    aggregated: list[str] = field(default_factory=list)  # layers drawn as aggregates (riskmap.render.lazy)


def cancel_function(cancel):
    """Normalise a cancel flag: None, a callable returning bool, or an object with ``is_set()``."""
    if cancel is None:
        return lambda: False
    if hasattr(cancel, "is_set"):
        return cancel.is_set
    if callable(cancel):
        return cancel
    return lambda: bool(cancel)


class _Ctx:
    def __init__(self, painter: QPainter, settings: MapSettings, raster: bool | None = None,
                 fast_strokes: bool | None = None):
        self.painter = painter
        self.settings = settings
        self.fast_strokes = settings.dpi <= 150 if fast_strokes is None else fast_strokes
        if raster is None:
            dev = painter.device()
            engine = painter.paintEngine()
            raster = (isinstance(dev, QImage) and engine is not None
                      and engine.type() == QPaintEngine.Type.Raster
                      and not painter.worldTransform().isScaling()
                      and not painter.worldTransform().isRotating())
        self.raster = raster
        self.ppmm = settings.px_per_mm()
        self.res = settings.resolution
        self.w, self.h = settings.width_px, settings.height_px
        self._plain = None

    def plain_frame(self) -> bool:
        """A raster device of the view's own size with no transform (what a kept layer image needs), asked of the
        painter once, on the thread that made the context (workers read the answer, never the frame's painter)."""
        if self._plain is None:
            dev = self.painter.device()
            self._plain = bool(self.raster and self.painter.worldTransform().isIdentity() and dev.width() == self.w
                               and dev.height() == self.h and self.w * self.h <= LAYER_IMAGE_MAX_PX)
        return self._plain

    def sub(self, painter: QPainter) -> "_Ctx":
        return _Ctx(painter, self.settings, self.raster, self.fast_strokes)

    def layer_image(self, layer=None) -> QImage:
        """A transparent image of the view's size for ``layer`` to paint into, kept for later frames or dropped
        once drawn (:func:`_reused_image`: a new one, or one handed out so before that nothing refers to any more;
        never one still kept), warmed for a large line layer's strokes (:func:`_warms`)."""
        return _reused_image(self.w, self.h, warm=layer is not None and _warms(self, layer))


IMAGE_POOL_MAX = 6  # free images held for reuse (1920×1080: 8 MB each; a 10× city frame takes six)
_IMAGE_POOL_LOCK = threading.Lock()
_HANDED: list = []  # images handed out by _reused_image, reused once nothing but this list refers to them
_FREE_REFS = 3  # sys.getrefcount of such an image in a loop over _HANDED: the list, the loop variable, the call
_CLEAN: set = set()  # ids of the free images cleared in idle time (:func:`clear_spare_images`), while in _HANDED
# (ids, not the images: a reference would make a free image look used)


def _took_clean(img: QImage) -> bool:
    """Whether ``img``, handed out or let go, was cleared in idle time (then no longer marked so). Under the
    lock."""
    if id(img) in _CLEAN:
        _CLEAN.discard(id(img))
        return True
    return False


def _drop(img: QImage) -> None:
    """Take ``img`` out of _HANDED, by identity (a QImage equals another of the same pixels). Under the lock."""
    for i, held in enumerate(_HANDED):
        if held is img:
            del _HANDED[i]
            return


def _reused_image(w: int, h: int, warm: bool = False) -> QImage:
    """A transparent ARGB32 premultiplied image of ``w`` × ``h`` for a layer (kept for later frames,
    :data:`_LAYER_IMAGES`, or drawn into the frame and dropped) or a frame (riskmap.render.image.new_image): one
    handed out so before that nothing else refers to any more (no longer kept, no frame drawing it: its
    reference count says so), cleared (unless :func:`clear_spare_images` cleared it since), else a new one. The
    images are tracked here; at most IMAGE_POOL_MAX free ones are held. Thread-safe: each image is handed to one
    taker at a time. A cold 10× city frame takes six (the frame, the towns' and county's own images, the
    lifelines', grids' and enterprises' kept ones), each 1–2 ms new (fresh pages) against 0.35 ms cleared; the
    layers each new view's images evict are the ones reused. ``warm``: cleared WARM_CLEARS times now, cleared
    ahead or not (:func:`_warms`)."""
    img = None
    with _IMAGE_POOL_LOCK:
        free = []
        for held in _HANDED:
            if sys.getrefcount(held) <= _FREE_REFS:
                if img is None and held.width() == w and held.height() == h:
                    img = held
                else:
                    free.append(held)
        for held in free[:max(len(free) - IMAGE_POOL_MAX, 0)]:  # (the oldest free ones let go)
            _drop(held)
            _took_clean(held)
        clean = img is not None and _took_clean(img)
        if img is None:
            img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            _HANDED.append(img)
        else:
            _plain_metrics(img)
    for _ in range(WARM_CLEARS if warm else 0 if clean else 1):
        img.fill(Qt.GlobalColor.transparent)
    return img


WARM_CLEARS = 2  # clears of a large line layer's image just before its strokes (:func:`_warms`)


def _warms(ctx: _Ctx, layer) -> bool:
    """Whether ``layer``'s image is cleared WARM_CLEARS times just before it is painted: a large line layer
    (:func:`_large`) on a raster frame, whose 1-px strokes read and write pixels all over the image. After the
    map has been idle for a moment, Qt stroked the ×10 city's 10× lifelines in 24–26 ms into an image cleared
    once (or ahead, in idle time), 17–20 ms after two clears of that image (1.8 ms; on the benchmarks' shared
    two-core machine): one clear, reading the image, or copying other memory did not help; clears of another
    image half did."""
    return ctx.raster and getattr(layer, "kind", None) == "line" and _large(layer)


_PLAIN: list = []  # a new QImage's dots per metre (x, y) and device pixel ratio


def _plain_metrics(img: QImage) -> None:
    """Give a reused image a new one's resolution and device pixel ratio (a frame's were set for its dpi and
    screen: a layer image painted with them would scale its text and coordinates)."""
    if not _PLAIN:
        fresh = QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
        _PLAIN.append((fresh.dotsPerMeterX(), fresh.dotsPerMeterY(), fresh.devicePixelRatio()))
    x, y, dpr = _PLAIN[0]
    if img.dotsPerMeterX() != x or img.dotsPerMeterY() != y:
        img.setDotsPerMeterX(x)
        img.setDotsPerMeterY(y)
    if img.devicePixelRatio() != dpr:
        img.setDevicePixelRatio(dpr)


def screen_image(w: int, h: int) -> QImage | None:
    """A transparent image of ``w`` × ``h`` for a frame (:func:`_reused_image`) when it is of a screen's size (up to
    LAYER_IMAGE_MAX_PX), else None (a poster's own new image)."""
    return _reused_image(w, h) if 0 < w * h <= LAYER_IMAGE_MAX_PX else None


def clear_spare_images() -> int:
    """Clear the free images (:func:`_reused_image`) that are not clear yet, so that the next frame takes them
    without clearing: idle work after a frame (riskmap.ui.canvas), about 0.35 ms each at 1920×1080. Each is
    taken out of _HANDED while it is cleared (no taker can get it meanwhile) and put back marked clean. Returns
    how many were cleared."""
    n = 0
    with _IMAGE_POOL_LOCK:  # (only the images still held: an id outlives its image)
        _CLEAN.intersection_update(id(held) for held in _HANDED)
    while True:
        with _IMAGE_POOL_LOCK:
            img = None
            for held in _HANDED:
                if sys.getrefcount(held) <= _FREE_REFS and id(held) not in _CLEAN:
                    img = held
                    break
            if img is None:
                return n
            _drop(img)
        img.fill(Qt.GlobalColor.transparent)
        n += 1
        with _IMAGE_POOL_LOCK:
            _HANDED.append(img)
            _CLEAN.add(id(img))


def render(painter: QPainter, settings: MapSettings, layers: list[PreparedLayer], *, labels: bool = True,
           opacity: dict | None = None, selection: dict | None = None, cancel=None, progress=None,
           max_labels: int = MAX_LABELS, fast_strokes: bool | None = None) -> RenderStats:
    """Paint ``layers`` (drawn by z) into the painter's device; return :class:`RenderStats`.

    opacity: {layer_id: 0..1} layer opacity; selection: {layer_id: set of feature ids} highlighted;
    cancel: callable/Event checked between layers and chunks; progress: callable(fraction 0..1).
    fast_strokes: draw wide strokes of large layers as offset 1-px passes (default: at screen dpi ≤ 150).
    """
    t0 = time.perf_counter()
    stats = RenderStats()
    is_cancelled = cancel_function(cancel)
    ctx = _Ctx(painter, settings, fast_strokes=fast_strokes)
    drawn = drawn_layers(layers, opacity, settings)
    if _parallel(ctx):  # layers read by view find their rows on their workers (a few ms each at a new view)
        ordered = [got for lay in drawn for got in ([lay] if getattr(lay, "lazy", False) else
                                                      resolve_layers([lay], settings, labels=labels,
                                                                     cancel=is_cancelled))]
        ctx.plain_frame()
    else:
        ordered = drawn_layers(resolve_layers(drawn, settings, labels=labels, cancel=is_cancelled), opacity,
                               settings)
    steps = len(ordered) + (1 if labels else 0) + (1 if selection else 0)
    done = 0
    jobs: dict = {}
    painter.save()
    painter.setClipRect(QRectF(0, 0, settings.width_px, settings.height_px))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    try:
        jobs = _start_layer_jobs(ctx, ordered, opacity, is_cancelled, labels)
        for i, layer in enumerate(ordered):
            if is_cancelled():
                stats.cancelled = True
                break
            t = time.perf_counter()
            op = min(float((opacity or {}).get(layer.id, 1.0)), 1.0)
            if i in jobs:  # painted into its own image on a worker: drawn here, in order
                layer, img, at, n, seconds = jobs.pop(i).result()
                ordered[i] = layer  # (a lazy layer's view, or None: nothing to draw in this view)
                t = time.perf_counter()
                if img is not None:
                    _draw_layer_image(ctx, img, at, op)
                elif layer is not None:  # a view too small for a worker's image: drawn on the frame, in turn
                    n = _paint_layer(ctx, layer, op, is_cancelled)
                if layer is not None:
                    stats.features[layer.id] = n
                    stats.layer_seconds[layer.id] = seconds + time.perf_counter() - t  # (its work, not the wait)
                    _LAST_SECONDS[layer.id, _octave(ctx)] = seconds
            else:
                key = _image_key(ctx, layer, op)  # (key, box) or None
                if key is not None:
                    stats.features[layer.id] = _paint_from_image(ctx, layer, op, key, is_cancelled)
                else:
                    stats.features[layer.id] = _paint_layer(ctx, layer, op, is_cancelled)
                stats.layer_seconds[layer.id] = time.perf_counter() - t
            done += 1
            if progress:
                progress(done / steps)
        _finish(jobs)
        ordered = [lay for lay in ordered if lay is not None and not getattr(lay, "lazy", False)]
        stats.aggregated = [lay.id for lay in ordered if getattr(lay, "aggregated", False)]
        if selection and not stats.cancelled and not is_cancelled():
            for layer in ordered:
                ids = selection.get(layer.id)
                if ids:
                    _paint_selection(ctx, layer, layer.indices_of(ids))
            done += 1
            if progress:
                progress(done / steps)
        if labels and not stats.cancelled and not is_cancelled():
            t = time.perf_counter()
            stats.labels = _place_and_draw_labels(painter, settings, ordered, max_labels, is_cancelled, ctx.raster)
            stats.label_seconds = time.perf_counter() - t
            if progress:
                progress(1.0)
        if is_cancelled():
            stats.cancelled = True
    finally:
        _finish(jobs)
        painter.restore()
    stats.elapsed_s = time.perf_counter() - t0
    return stats


def drawn_layers(layers: list[PreparedLayer], opacity: dict | None = None,
                 settings: MapSettings | None = None) -> list[PreparedLayer]:
    """The layers a render draws (opacity above zero and, with ``settings``, shown at its scale: a layer's
    ``show_below_scale``), in drawing order (by z)."""
    scale = settings.scale_denominator() if settings is not None else None
    return [lay for lay in sorted(layers, key=lambda lay: lay.z) if (opacity or {}).get(lay.id, 1.0) > 0
            and (scale is None or lay.layer_def.visible_at(scale))]


def render_labels(painter: QPainter, settings: MapSettings, layers: list[PreparedLayer], *,
                  opacity: dict | None = None, cancel=None, max_labels: int = MAX_LABELS) -> RenderStats:
    """Place and paint only the labels of ``layers``: the last step of :func:`render` on its own.

    The canvas draws the map without labels first and this into a transparent image of the same view,
    shown over the map when ready (QGIS's label pass); composited, the two equal one :func:`render`.
    """
    t0 = time.perf_counter()
    stats = RenderStats()
    is_cancelled = cancel_function(cancel)
    raster = _Ctx(painter, settings).raster
    painter.save()
    try:
        painter.setClipRect(QRectF(0, 0, settings.width_px, settings.height_px))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if not is_cancelled():
            ordered = resolve_layers(drawn_layers(layers, opacity, settings), settings, labels=True, cancel=is_cancelled)
            stats.aggregated = [lay.id for lay in ordered if getattr(lay, "aggregated", False)]
            stats.labels = _place_and_draw_labels(painter, settings, ordered, max_labels, is_cancelled, raster)
        stats.cancelled = is_cancelled()
    finally:
        painter.restore()
    stats.label_seconds = stats.elapsed_s = time.perf_counter() - t0
    return stats


def _place_and_draw_labels(painter, settings, ordered, max_labels, is_cancelled, raster) -> list[PlacedLabel]:
    placed = place_labels(settings, ordered, max_labels=max_labels, cancel=is_cancelled)
    if not is_cancelled():
        draw_labels(painter, settings, placed, raster=raster)
    return placed


LAYER_IMAGE_VERTICES = 100_000  # layers with this many vertices are kept as images for the next frame of a view
LAYER_IMAGE_BYTES = 64 * 2 ** 20  # layer images kept up to this size in all (1920×1080: 8 MB each)
LAYER_IMAGE_MAX_PX = 3840 * 2160  # larger frames (a poster exported at 300 dpi) are not kept
_LAYER_IMAGES: "OrderedDict" = OrderedDict()
_LAYER_IMAGES_LOCK = threading.Lock()


def _image_key(ctx: _Ctx, layer, op: float):
    """What a large layer's image depends on (None: the layer is drawn straight onto the device), and the box
    it covers: ``(key, box)``.

    Only on a raster image of the view's own size with no transform (the canvas's frames), for layers of
    LAYER_IMAGE_VERTICES vertices or more. The key holds the layer object (by identity, checked through a weak
    reference) and its version, drawing order, definition (style) and the view (the image is painted opaque and
    drawn with the layer's opacity, so a new opacity needs no new image): an edit, a filter,
    a restyle or a reload makes a new PreparedLayer or version, so a stale image is never drawn.

    At small scales, where the whole layer fits in an image of at most WHOLE_LAYER_AREA times the view's pixels
    (:func:`_whole_layer_box`), the image covers the whole layer on the view's pixel grid and the key holds the
    resolution and the grid's phase instead of the view: a pan by whole pixels at that scale is served from it,
    pixel for pixel (``box``: the image's left and top pixel in the view; None for an image of the view)."""
    if not ctx.raster or len(getattr(layer, "coords", ())) < LAYER_IMAGE_VERTICES or not ctx.plain_frame():
        return None
    try:
        base = (id(layer), getattr(layer, "version", 0), layer.z, hash(layer.layer_def), ctx.fast_strokes)
    except TypeError:  # an unhashable definition: not kept
        return None
    box = _whole_layer_box(ctx, layer)
    if box is None:
        return base + (ctx.settings,), None
    s = ctx.settings
    res = s.resolution
    phase = tuple(int(round((v / res) % 1.0 * PHASE_STEPS)) % PHASE_STEPS for v in (s.extent[0], s.extent[3]))
    return base + ("whole", float(f"{res:.10g}"), phase, s.dpi, s.crs_epsg, box[2], box[3]), box


WHOLE_LAYER_AREA = 1.5  # a layer image covers the whole layer when that is at most this many views' pixels
PHASE_STEPS = 1000  # the pixel grid's phase is compared to a thousandth of a pixel


def _whole_layer_box(ctx: _Ctx, layer):
    """The pixel box (left, top, width, height; left and top in the view's pixels, whole numbers) holding all
    the layer draws at this scale, with a margin for its strokes, symbols and dots; None when that is larger
    than WHOLE_LAYER_AREA views."""
    box = _layer_box(layer)
    if box is None:
        return None
    style = layer.layer_def.style
    size_mm = max(float(getattr(style, "size_mm", 0) or 0), float(style.stroke_width_mm or 0), 0.3)
    m = int(np.ceil(size_mm * ctx.ppmm)) + 4
    s = ctx.settings
    res = s.resolution
    xmin, _, _, ymax = s.extent
    bx0, by0, bx1, by1 = box
    left = int(np.floor((bx0 - xmin) / res)) - m
    top = int(np.floor((ymax - by1) / res)) - m
    # the size from the layer alone (not from where the view's pixels fall), so that a pan finds the same key
    w, h = int(np.ceil((bx1 - bx0) / res)) + 2 * m + 1, int(np.ceil((by1 - by0) / res)) + 2 * m + 1
    if w <= 0 or h <= 0 or w * h > WHOLE_LAYER_AREA * ctx.w * ctx.h or w * h > LAYER_IMAGE_MAX_PX:
        return None
    return left, top, w, h


def _layer_box(layer):
    """The bounds of all the layer's features (None when it has none), kept on the layer (a big layer's 200k
    feature bounds took 3 ms a frame)."""
    b = getattr(layer, "bounds", None)
    if b is None or not len(b):
        return None
    kept = layer.__dict__.get("_layer_box")
    if kept is not None and kept[0] is b:
        return kept[1]
    ok = np.isfinite(b[:, 0])
    box = None
    if ok.any():
        bb = b[ok]
        box = float(bb[:, 0].min()), float(bb[:, 1].min()), float(bb[:, 2].max()), float(bb[:, 3].max())
    layer.__dict__["_layer_box"] = (b, box)
    return box


def _paint_from_image(ctx: _Ctx, layer, op: float, keyed, cancelled) -> int:
    """Paint a large layer from its kept image when it has one (a redraw of an unchanged layer, as QGIS keeps
    layer images; at small scales also a pan by whole pixels: :func:`_image_key`); else paint it into a new
    image, keep that (unless cancelled) and draw it."""
    img, at, n = _image_of_layer(ctx, layer, keyed, cancelled)
    _draw_layer_image(ctx, img, at, op)
    return n


def _image_of_layer(ctx: _Ctx, layer, keyed, cancelled):
    """A large layer's image for this view, kept or painted now (and kept unless cancelled), and its place in
    the view: ``(image, place, features drawn)``; :func:`_paint_from_image` without the drawing."""
    key, box = keyed
    with _LAYER_IMAGES_LOCK:
        hit = _LAYER_IMAGES.get(key)
        if hit is not None and hit[0]() is layer:
            _LAYER_IMAGES.move_to_end(key)
        else:
            hit = None
    at = QPointF(0, 0)
    if hit is not None:
        img, n = hit[1], hit[2]
        if box is not None:  # the kept image's place in this view: a whole number of pixels away
            ox, oy = hit[3]
            s = ctx.settings
            dx, dy = (ox - s.extent[0]) / s.resolution, (s.extent[3] - oy) / s.resolution
            if abs(dx - round(dx)) > 1e-3 or abs(dy - round(dy)) > 1e-3:
                hit = None
            else:
                at = QPointF(round(dx), round(dy))
    if hit is None:
        if box is None:
            sub, origin = ctx, None
            img = ctx.layer_image(layer)
        else:
            left, top, w, h = box
            s = ctx.settings
            res = s.resolution
            x0, y1 = s.extent[0] + left * res, s.extent[3] - top * res
            sub = _Ctx.__new__(_Ctx)
            sub.__dict__.update(ctx.__dict__)
            sub.settings = replace(s, extent=(x0, y1 - h * res, x0 + w * res, y1), width_px=w, height_px=h)
            sub.w, sub.h = w, h
            sub.res = sub.settings.resolution
            origin = (x0, y1)
            img = sub.layer_image(layer)
            at = QPointF(left, top)
        n = _paint_into(img, sub, layer, cancelled)
        if not cancelled():
            with _LAYER_IMAGES_LOCK:
                _LAYER_IMAGES[key] = (weakref.ref(layer), img, n, origin)
                total = sum(v[1].sizeInBytes() for v in _LAYER_IMAGES.values())
                while total > LAYER_IMAGE_BYTES and len(_LAYER_IMAGES) > 1:
                    total -= _LAYER_IMAGES.popitem(last=False)[1][1].sizeInBytes()
    if box is not None and not QRectF(0, 0, ctx.w, ctx.h).contains(QRectF(at, QSizeF(img.width(), img.height()))):
        n = _distinct_in_view(ctx, layer)  # part of the layer's image is out of view: count what is in it
    return img, at, n


def _draw_layer_image(ctx: _Ctx, img: QImage, at: QPointF, op: float) -> None:
    """Draw a layer's own image into the frame with the layer's opacity."""
    ctx.painter.save()
    if op < 1.0:
        ctx.painter.setOpacity(op)
    draw_image(ctx.painter, at, img)
    ctx.painter.restore()


def _distinct_in_view(ctx: _Ctx, layer) -> int:
    style = layer.layer_def.style
    margin = (float(style.stroke_width_mm or 0) * ctx.ppmm / 2 + 1) * ctx.res
    return int(np.count_nonzero(layer.visible_mask(ctx.settings.extent, margin)))


def clear_layer_images() -> None:
    """Forget every kept layer image."""
    with _LAYER_IMAGES_LOCK:
        _LAYER_IMAGES.clear()


def image_painter(img: QImage) -> QPainter:
    """An antialiased painter on ``img`` clipped to the image. The clip is what puts Qt's cosmetic strokes on their
    fast path (QCosmeticStroker writes the pixels itself only under a rectangular clip; without one each pixel
    goes through the span functions): the ×10 city's 10× lifelines stroked in 18 ms instead of 30, the towns'
    outline passes in half the time, the same pixels (a pen thinner than a pixel within three levels: the fast
    path scales its colour rather than each pixel's coverage). The frame's painter has its clip from
    :func:`render`."""
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setClipRect(QRectF(0, 0, img.width(), img.height()))
    return p


def _paint_into(img, ctx: _Ctx, layer, cancelled) -> int:
    """Paint ``layer`` alone, antialiased, into ``img`` laid out as ``ctx``'s view; returns its features drawn."""
    p = image_painter(img)
    try:
        sub = ctx.sub(p)
        sub.blank = True  # (nothing drawn on img yet: polygon fills may go straight in, :func:`_fills`)
        return _paint_body(sub, layer, cancelled)
    finally:
        p.end()


RENDER_THREADS = min(2, os.cpu_count() or 1)  # layers painted into their own images at once (1: in turn)
_POOL = None
_POOL_LOCK = threading.Lock()


def _layer_pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="riskmap-layer")
        return _POOL


def _start_layer_jobs(ctx: _Ctx, ordered: list, opacity: dict | None, cancelled, labels: bool = False) -> dict:
    """On a raster frame, the layers that paint into their own image (a large layer's kept image:
    :func:`_image_key`; a translucent or sizeable layer's: :func:`_own_image`) and the layers read by view (their
    view found on the worker: :func:`_lazy_layer_job`) started on RENDER_THREADS workers, as QGIS's parallel
    renderer paints each layer on its own: ``{index in ordered: future of (layer, image, place, features,
    seconds)}``. The longest job starts first (its work at this scale in the last frame: :func:`_octave`; else the
    largest layer), then the others in drawing order, so that the frame's thread draws their images as they come;
    when the longest is read by view, the others start once its view is found (up to HEAD_START_S: finding rows is
    Python, which the other workers' Python would slow several times over; ×10 city's 10× lifelines 4–5 ms instead
    of 6–17). The frame's thread meanwhile paints the other layers and draws each image in drawing order. Qt's
    raster calls release the GIL (:mod:`riskmap.render.native`), so the workers' stroking and filling overlap; the
    images are the ones a turn-by-turn render paints, so the frame is the same pixel for pixel."""
    jobs = {}
    if not _parallel(ctx):
        return jobs
    todo = []
    octave = _octave(ctx)
    for i, layer in enumerate(ordered):
        op = min(float((opacity or {}).get(layer.id, 1.0)), 1.0)
        last = -_LAST_SECONDS.get((layer.id, octave), 0.0)
        if getattr(layer, "lazy", False):  # read by view: its view found on the worker too
            todo.append((last, -layer.size(), i, _lazy_layer_job, (ctx, layer, op, labels, cancelled)))
            continue
        keyed = _image_key(ctx, layer, op)
        if keyed is not None or _own_image(ctx, layer, op):
            todo.append((last, -len(getattr(layer, "coords", ())), i, _layer_job, (ctx, layer, keyed, cancelled)))
    if not todo:
        return jobs
    # the longest (last time at this scale, else the largest) first, then the others in drawing order
    first = min(todo, key=lambda t: t[:3])
    todo.remove(first)
    todo.sort(key=lambda t: t[2])
    *_, i, job, args = first
    ready = None
    if job is _lazy_layer_job:
        ready = threading.Event()
        args = args + (ready,)
    jobs[i] = _layer_pool().submit(job, *args)
    if ready is not None and len(todo):
        ready.wait(HEAD_START_S)
    for *_, i, job, args in todo:
        jobs[i] = _layer_pool().submit(job, *args)
    return jobs


HEAD_START_S = 0.02  # the longest job, read by view, finds its view before the others start (at most this long)


_LAST_SECONDS: dict = {}  # a layer's work in its last job at a scale, by (layer id, octave): the longest first


def _octave(ctx: _Ctx) -> int:
    """The view's scale to a factor of two: a layer's work at one scale says little of its work at another (×10
    city's lifelines drawn from an image of the whole city, then stroked at 10×)."""
    return int(round(math.log2(max(ctx.res, 1e-12))))


def _parallel(ctx: _Ctx) -> bool:
    return RENDER_THREADS >= 2 and ctx.raster


OWN_IMAGE_VERTICES = 10_000  # on a raster frame, layers of this many vertices paint into their own image
WIDE_PEN_WEIGHT = 2  # a vertex stroked with a real wide pen counts as this many (OFFSET_PASS_MAX_PX and wider)


def _own_image(ctx: _Ctx, layer, op: float) -> bool:
    """Whether a layer not kept as an image paints into an image of its own, drawn into the frame with its
    opacity: on a raster frame (up to LAYER_IMAGE_MAX_PX), a translucent layer, or one of OWN_IMAGE_VERTICES or
    more, a wide pen's vertices counted WIDE_PEN_WEIGHT times (the layers worth a worker of their own:
    :func:`_start_layer_jobs`; ×10 city's county outline at 10×, 9k vertices of 3 px, 3 ms on the frame's
    thread after every other layer; with one thread too, so that the frame does not depend on the number of
    threads)."""
    if not ctx.raster:
        return False
    if op < 1.0:
        return True
    if ctx.w * ctx.h > LAYER_IMAGE_MAX_PX:
        return False
    n = len(getattr(layer, "coords", ()))
    style = getattr(getattr(layer, "layer_def", None), "style", None)
    if style is not None and style.stroke and float(style.stroke_width_mm or 0) * ctx.ppmm > OFFSET_PASS_MAX_PX:
        n *= WIDE_PEN_WEIGHT
    return n >= OWN_IMAGE_VERTICES


def _layer_job(ctx: _Ctx, layer, keyed, cancelled):
    """``(layer, image, place, features, seconds)``: ``layer`` painted into its kept (``keyed``) or own image."""
    t = time.perf_counter()
    if keyed is not None:
        img, at, n = _image_of_layer(ctx, layer, keyed, cancelled)
    else:
        img, at = ctx.layer_image(layer), QPointF(0, 0)
        n = _paint_into(img, ctx, layer, cancelled)
    return layer, img, at, n, time.perf_counter() - t


def _lazy_layer_job(ctx: _Ctx, lazy, op: float, labels: bool, cancelled, ready: threading.Event | None = None):
    """A layer read by view: its view found here, then painted as :func:`_layer_job` when it is worth an image
    (else ``(view, None, None, 0, seconds)``, drawn on the frame's thread; ``(None, …)``: nothing in view).
    ``ready`` is set once the view is found."""
    t = time.perf_counter()
    try:
        layer = lazy.for_view(ctx.settings, labels=labels, cancel=cancelled)
    finally:
        if ready is not None:
            ready.set()
    if layer is None or getattr(layer, "lazy", False):
        return None, None, None, 0, time.perf_counter() - t
    keyed = _image_key(ctx, layer, op)
    if keyed is None and not _own_image(ctx, layer, op):
        return layer, None, None, 0, time.perf_counter() - t
    _, img, at, n, seconds = _layer_job(ctx, layer, keyed, cancelled)
    return layer, img, at, n, time.perf_counter() - t


def _finish(jobs: dict) -> None:
    """Wait for the layer jobs not drawn (a cancelled or failed frame): none outlives its render."""
    for f in jobs.values():
        if not f.cancel():
            try:
                f.result()
            except BaseException:  # (the frame's own error is the one reported)
                pass
    jobs.clear()


def _paint_layer(ctx: _Ctx, layer: PreparedLayer, op: float, cancelled) -> int:
    if _own_image(ctx, layer, op):
        img = ctx.layer_image(layer)
        n = _paint_into(img, ctx, layer, cancelled)
        _draw_layer_image(ctx, img, QPointF(0, 0), op)
        return n
    ctx.painter.save()
    if op < 1.0:
        ctx.painter.setOpacity(op)
    try:
        return _paint_body(ctx, layer, cancelled)
    finally:
        ctx.painter.restore()


def _paint_body(ctx: _Ctx, layer: PreparedLayer, cancelled) -> int:
    if layer.n == 0:
        return 0
    if layer.kind == "raster":  # an image layer (riskmap.render.plans.PlanLayer) paints itself
        return layer.paint(ctx.painter, ctx.settings, cancelled)
    if layer.kind == "point":
        return _paint_points(ctx, layer, cancelled)
    if layer.kind == "line":
        return _paint_lines(ctx, layer, cancelled)
    return _paint_polygons(ctx, layer, cancelled)


# ------------------------------------------------------------------------------------------ points


def _point_geometry(ctx: _Ctx, layer: PreparedLayer):
    style = layer.layer_def.style
    size_px = style.size_mm * ctx.ppmm
    stroke_px = style.stroke_width_mm * ctx.ppmm if style.stroke else 0.0
    half_px = extent_factor(style.symbol) * size_px + stroke_px
    return size_px, stroke_px, half_px


def _rank_groups(layer: PreparedLayer, ranks: np.ndarray) -> list:
    """[(class, start, stop), ...] of positions sorted by drawing rank (``ranks``: each one's rank)."""
    counts = np.bincount(ranks, minlength=len(layer.class_order))
    groups, start = [], 0
    for r, k in enumerate(counts.tolist()):
        if k:
            groups.append((layer.class_order[r], start, start + k))
        start += k
    return groups


def _class_groups(layer: PreparedLayer, cls: np.ndarray):
    """Sort positions by the layer's class drawing order: (order, [(class, start, stop), ...])."""
    # 16-bit ranks: numpy's stable sort of them is a radix sort (37k points 0.2 ms instead of 1 ms), same order
    rank_of = np.empty(len(layer.classes), dtype=np.int16 if len(layer.classes) < 2 ** 15 else np.int64)
    rank_of[layer.class_order] = np.arange(len(layer.class_order))
    ranks = rank_of[cls]
    order = np.argsort(ranks, kind="stable")
    return order, _rank_groups(layer, ranks)


STAMP_TILE_M = 512.0  # symbols of one class are stamped tile by tile of a fixed map grid (memory locality)


def _stamp_order(layer: PreparedLayer, cls: np.ndarray, xy: np.ndarray):
    """The drawing order of point symbols at map positions ``xy``: by class in the layer's drawing order (the
    highest risk last, on top), within a class tile by tile of a grid of STAMP_TILE_M map units fixed to the map
    (its tiles' indices modulo 64: 64 × 64 tiles repeat across the map), in data order within a tile:
    ``(order, [(class, start, stop), ...])`` as :func:`_class_groups`. Symbols of one class are one picture, so
    their order only decides which of two overlapping ones lies on top; stamped tile by tile they touch the
    image's memory in a few places at a time (the ×10 city's 37k symbols at 10×, 28-px tiles: about a quarter
    faster). The order depends on the points alone, not on the view: a part of a view (a strip after a pan,
    riskmap.render.scroll) and a lazy layer's view stamp as the whole layer does. One 16-bit key, a radix
    sort (37k: 0.3 ms); a 64-bit one for more than 8 classes.

    >>> from riskmap.layers import load_catalogue
    >>> layer = PreparedLayer(load_catalogue()["enterprises"], 4544); layer.n = 0; layer._classify(None)
    >>> red, grey = layer.classes.index(next(c for c in layer.classes if c.key == 1)), layer.class_order[0]
    >>> order, groups = _stamp_order(layer, np.array([red, grey, red, grey]),
    ...                              np.array([[600.0, 5], [600, 5], [5, 5], [5, 600]]))
    >>> order.tolist(), [(c == red, a, b) for c, a, b in groups]
    ([1, 3, 2, 0], [(False, 0, 2), (True, 2, 4)])
    """
    rank_of = np.empty(len(layer.classes), dtype=np.int64)
    rank_of[layer.class_order] = np.arange(len(layer.class_order))
    ranks = rank_of[cls]
    tile = np.floor(xy * (1.0 / STAMP_TILE_M)).astype(np.int64)
    tile &= 63  # (the index modulo 64, negative ones too)
    key = (ranks << 12) | (tile[:, 1] << 6) | tile[:, 0]
    if len(layer.class_order) <= 8:  # numpy's stable sort of 16-bit keys is a radix sort
        key = key.astype(np.int16)
    order = np.argsort(key, kind="stable")
    return order, _rank_groups(layer, ranks)


def _paint_points(ctx: _Ctx, layer: PreparedLayer, cancelled, only: np.ndarray | None = None,
                  halo: str | None = None) -> int:
    style = layer.layer_def.style
    size_px, stroke_px, half_px = _point_geometry(ctx, layer)
    xy = layer.coords
    if only is not None:  # selected features only
        parts = _parts_of(layer, only)
        xy = xy[parts]
    else:
        parts = None
    mask = ctx.settings.contains_xy(xy[:, 0], xy[:, 1], margin=(half_px + 1) * ctx.res)
    vis = np.flatnonzero(mask)
    if not len(vis):
        return 0
    part_idx = vis if parts is None else parts[vis]
    feat = layer.part_feature[part_idx]
    mxy = np.take(xy, vis, axis=0)  # (along the rows, np.take: a quarter of the time of indexing)
    order, groups = _stamp_order(layer, layer.cls[feat], mxy)
    px = ctx.settings.map_to_pixel(np.take(mxy, order, axis=0))
    painter = ctx.painter
    halo_px = SELECTION_HALO_MM * ctx.ppmm if halo else 0.0
    for c, a, b in groups:
        if cancelled():
            break
        fill, stroke = layer.fill_colours[c], layer.stroke_colours[c]
        centres = px[a:b]
        pix, d = STAMPS.get(style.symbol, size_px, fill, stroke, stroke_px, halo, halo_px) if ctx.raster else (None, 0)
        if pix is not None and not pix.isNull():
            draw_fragments(painter, fragments(centres, d, d), pix)
        else:  # vector devices (and platforms without pixmaps off the GUI thread)
            if halo:
                painter.setPen(make_pen(halo, 2 * halo_px + stroke_px))
                painter.setBrush(QBrush(QColor(halo)))
                for s in range(0, len(centres), VECTOR_SYMBOL_CHUNK):
                    draw_path(painter, symbols_path(style.symbol, centres[s:s + VECTOR_SYMBOL_CHUNK], size_px))
            if style.symbol == "circle" and fill and not halo and _is_pdf(painter):
                _vector_round_dots(painter, centres, fill, stroke, size_px, stroke_px)
                continue
            painter.setPen(make_pen(stroke, stroke_px) if stroke and stroke_px > 0 else Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(QColor(fill)) if fill else Qt.BrushStyle.NoBrush)
            for s in range(0, len(centres), VECTOR_SYMBOL_CHUNK):
                draw_path(painter, symbols_path(style.symbol, centres[s:s + VECTOR_SYMBOL_CHUNK], size_px))
    return _distinct(feat, layer.n) if layer.feature_parts[-1] != layer.n else len(feat)


def _is_pdf(painter: QPainter) -> bool:
    engine = painter.paintEngine()
    return engine is not None and engine.type() == QPaintEngine.Type.Pdf


def _vector_round_dots(painter: QPainter, centres: np.ndarray, fill: str, stroke: str | None, size_px: float,
                       stroke_px: float) -> None:
    """Filled, outlined circles on PDF as zero-length round-capped strokes (PDF 32000 §8.5.3.2: a
    degenerate subpath with round caps paints a filled circle): the outline colour as a dot of the outer
    diameter, the fill colour as a dot of the inner one. Four numbers per dot instead of four Béziers:
    a 100k-point layer writes about a third of the bytes in a quarter of the time, and looks the same.
    (SVG keeps Bézier circles: Qt's own SVG renderer skips zero-length subpaths.)"""
    xy = np.repeat(np.ascontiguousarray(centres, dtype=np.float64), 2, axis=0)
    types = np.tile(np.array([0, 1], dtype=np.int32), len(centres))
    passes = [(fill, size_px)]
    if stroke and stroke_px > 0:
        passes = [(stroke, size_px + stroke_px), (fill, max(size_px - stroke_px, 0.01))]
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for colour, width in passes:
        pen = QPen(QColor(colour), width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        step = 2 * VECTOR_SYMBOL_CHUNK
        for s in range(0, len(xy), step):
            draw_path(painter, make_path(xy[s:s + step], types[s:s + step]))


# ------------------------------------------------------------------------------------------ strokes


def _parts_of(layer: PreparedLayer, feats: np.ndarray) -> np.ndarray:
    """All part indices of the given features, in feature order (vectorised)."""
    fp = layer.feature_parts
    starts = fp[feats]
    counts = fp[feats + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    csum = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(csum - starts, counts)


_C_GRID = np.linspace(0.70, 1.0, 13)  # |cos| of a segment's angle to its major axis


def _pass_ink(k: int, alpha: float, spacing, c):
    """Ink (coverage integrated across the line, in px) of k antialiased 1-px cosmetic passes
    ``spacing`` px apart, the last at opacity ``alpha``, composited 'over'. A 1-px cosmetic line at an
    angle θ to its major axis covers like a tent of half-width c = cos θ across the line (Wu lines are
    thinner on diagonals); a real pen is uniform, hence the per-vertex spacing. ``spacing`` and ``c`` may be
    arrays: one ink per element (a float for scalars)."""
    x = np.linspace(-(k + 1), k + 1, 801)
    spacing, c = np.broadcast_arrays(np.asarray(spacing, dtype=np.float64), np.asarray(c, dtype=np.float64))
    shape = spacing.shape
    spacing, c = spacing.reshape(-1, 1), c.reshape(-1, 1)
    clear = np.ones((len(spacing), len(x)))
    for i in range(k):
        o = (i - (k - 1) / 2) * spacing
        a = alpha if i == k - 1 else 1.0
        clear *= 1.0 - a * np.clip(1.0 - np.abs(x - o) / c, 0.0, 1.0)
    ink = np.trapezoid(1.0 - clear, x, axis=-1)
    return float(ink[0]) if shape == () else ink.reshape(shape)


@lru_cache(maxsize=128)
def _pass_plan_cached(width_cpx: int):
    w = width_cpx / 100.0
    plan = None
    for k in range(2, 16):
        lo, hi = 0.0, 1.0  # the last pass's opacity: a horizontal line with no spacing must not over-ink
        if _pass_ink(k, 0.0, 0.0, 1.0) > w:
            break
        if _pass_ink(k, 1.0, 0.0, 1.0) <= w:
            alpha = 1.0
        else:
            for _ in range(24):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if _pass_ink(k, mid, 0.0, 1.0) < w else (lo, mid)
            alpha = (lo + hi) / 2
        plan = (k, alpha)
        if _pass_ink(k, alpha, 1.0, _C_GRID[0]) >= w:
            break
    k, alpha = plan or (2, 1.0)
    lo, hi = np.zeros(len(_C_GRID)), np.ones(len(_C_GRID))
    for _ in range(24):  # spacing per angle so that the ink equals the width (every angle at once)
        mid = (lo + hi) / 2
        below = _pass_ink(k, alpha, mid, _C_GRID) < w
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return k, alpha, (lo + hi) / 2


def pass_plan(width_px: float):
    """(passes k, opacity of the last pass, spacing per |cos| in _C_GRID) drawing a ``width_px`` stroke."""
    return _pass_plan_cached(int(round(width_px * 100)))


def pass_steps(layer: PreparedLayer, width_px: float) -> np.ndarray:
    """Per vertex of the layer: the pixel offset between two neighbouring passes of a ``width_px`` stroke
    (normal × spacing for the segment's angle); cached on the layer per width."""
    cache = layer.__dict__.setdefault("_pass_steps", {})
    key = int(round(width_px * 100))
    steps = cache.get(key)
    if steps is None:
        normals = layer.normals()
        nx, ny = normals[:, 0], normals[:, 1]
        c = np.maximum(np.abs(nx), np.abs(ny))
        c /= np.maximum(np.hypot(nx, ny), 1e-12)
        _, _, spacing = pass_plan(width_px)
        along = np.interp(c, _C_GRID, spacing)
        steps = np.empty((len(normals), 2))  # column by column, without (n, 2) temporaries
        np.multiply(along, nx, out=steps[:, 0])
        np.multiply(along, -ny, out=steps[:, 1])  # y flips
        if len(cache) > 8:
            cache.clear()
        cache[key] = steps
    return steps


def _draw_offset_passes(painter, xy, offs, steps, colour, width_px, cancelled) -> None:
    """A wide stroke as k 1-px passes offset by ``steps`` (see :func:`pass_steps`) along the normals."""
    k, alpha, _ = pass_plan(width_px)
    types = polyline_types(offs)
    base = QColor(colour)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for i in range(k):
        col = QColor(base)
        if i == k - 1:
            col.setAlphaF(base.alphaF() * alpha)
        painter.setPen(make_pen(col, 1.0))
        f = i - (k - 1) / 2
        for s, e in _vertex_chunks(offs, PATH_CHUNK_VERTICES):
            if cancelled():
                return
            draw_path(painter, make_path(xy[s:e] + steps[s:e] * f, types[s:e]))


def _dash_pen(pen: QPen, dash: str, width_mm: float, ppmm: float, unit_px: float) -> None:
    spec = DASHES_MM.get(dash)
    if not spec:
        return
    on_k, off_k, on_min, off_min = spec
    on = max(on_k * width_mm, on_min) * ppmm / unit_px
    off = max(off_k * width_mm, off_min) * ppmm / unit_px
    pen.setDashPattern([max(on, 0.05), max(off, 0.5)])
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)


def _stroke(ctx: _Ctx, xy: np.ndarray, offs: np.ndarray, geo, colour: str,
            width_px: float, width_mm: float, dash: str, cancelled) -> None:
    """Stroke parts (pixel coordinates) in one colour, choosing the fastest way that looks the same.

    ``geo``: (layer, source vertex index of each row of xy), for the offset passes; None on vector devices.
    """
    if len(offs) < 2 or colour is None or width_px <= 0:
        return
    painter = ctx.painter
    if ctx.raster:
        steps = None
        if dash == "solid":  # dashes keep whole parts: a cut would restart their pattern
            xy, offs, steps = _cull(ctx, xy, offs, geo, width_px)
            if len(offs) < 2:
                return
        keep = None
        if width_px <= 4:
            xy, offs, keep = thin_vertices(xy, offs)
        if width_px <= 1.05:
            pen = make_pen(colour, width_px)
            _dash_pen(pen, dash, width_mm, ctx.ppmm, 1.0)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            _draw_parts_chunked(painter, xy, offs, PATH_CHUNK_VERTICES, len(offs) - 1, cancelled)
            return
        if dash == "solid" and geo is not None and (
                width_px <= OFFSET_PASS_MAX_PX or (ctx.fast_strokes and len(xy) >= OFFSET_PASS_MIN_VERTICES)):
            if steps is None:
                layer, idx = geo
                steps = pass_steps(layer, width_px)[idx]
            else:
                steps = steps(width_px)
            if keep is not None:
                steps = steps[keep]
            _draw_offset_passes(painter, xy, offs, steps, colour, width_px, cancelled)
            return
        # real wide pen: small paths keep Qt's antialiased rasteriser fast
        pen = make_pen(colour, width_px)
        _dash_pen(pen, dash, width_mm, ctx.ppmm, width_px)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if dash == "solid" and ctx.fast_strokes:
            _draw_wide_pieces(painter, xy, offs, cancelled)
        else:
            _draw_parts_chunked(painter, xy, offs, 600, 16, cancelled)
        return
    pen = make_pen(colour, width_px)
    _dash_pen(pen, dash, width_mm, ctx.ppmm, max(width_px, 1e-3))
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    _draw_parts_chunked(painter, xy, offs, PATH_CHUNK_VERTICES, 5000, cancelled)


def _cull(ctx: _Ctx, xy, offs, geo, width_px: float):
    """Solid strokes cut to what can show in the frame (:func:`cull_segments`): (xy, offsets, steps), where
    ``steps(width)`` gives the offset-pass steps of the kept vertices (None when nothing was cut)."""
    cut = cull_segments(xy, offs, ctx.w, ctx.h, width_px + 2.0)
    if cut is None:
        return xy, offs, None
    xy, offs, rows, towards, t = cut
    if geo is None:
        return xy, offs, None
    layer, idx = geo
    src, dst = idx[rows], idx[towards]
    moved = np.flatnonzero(t > 0)

    def steps(width: float) -> np.ndarray:
        all_steps = pass_steps(layer, width)
        out = all_steps[src]
        if len(moved):  # a clipped end: the step interpolates like its position
            out[moved] += t[moved, None] * (all_steps[dst[moved]] - out[moved])
        return out

    return xy, offs, steps


def _vertex_chunks(offs: np.ndarray, max_vertices: int, max_parts: int | None = None):
    """(start, stop) vertex ranges of whole parts, each ≤ max_vertices (unless one part is bigger)."""
    n_parts = len(offs) - 1
    if offs[-1] <= max_vertices and (max_parts is None or n_parts <= max_parts):
        yield int(offs[0]), int(offs[-1])
        return
    i = 0
    while i < n_parts:
        limit = offs[i] + max_vertices
        j = int(np.searchsorted(offs, limit, side="right")) - 1
        if max_parts is not None:
            j = min(j, i + max_parts)
        j = max(j, i + 1)
        j = min(j, n_parts)
        yield int(offs[i]), int(offs[j])
        i = j


WIDE_PIECE_VERTICES = 128  # on screen images a solid wide pen strokes longer parts in pieces of this many vertices


def _draw_wide_pieces(painter: QPainter, xy, offs, cancelled) -> None:
    """A solid wide pen's parts (pixel coordinates) on a screen image, in the chunks of :func:`_draw_parts_chunked`
    (600 vertices, 16 parts), except that a chunk of one part of more than WIDE_PIECE_VERTICES vertices is stroked
    in pieces of that many, each its own path, sharing its end vertex with the next. Qt's antialiased stroke of
    one long wiggly path costs more per vertex the longer it is: the ×10 city's county outline at 10×, 2,196
    vertices in view, 9.5 ms instead of 17.3 (six views 26 ms instead of 34 with the city outline). A seam joins
    two round caps where the path had a round join: the same shape, only the antialiased pixels about the seam
    composited twice (those six views: 0–68 pixels differ, by up to 52 levels, of up to 23k inked). Parts sharing
    a chunk stay one path (two counties' common boundary inked once). Screen images only: print, PDF and images
    at print dpi stroke whole parts."""
    base = int(offs[0])
    types = polyline_types(offs)
    for s, e in _vertex_chunks(offs, 600, 16):
        if cancelled():
            return
        one_part = int(offs[np.searchsorted(offs, s, side="right")]) == e  # (s < offs[-1]: an index in offs)
        s, e = s - base, e - base
        if e - s <= WIDE_PIECE_VERTICES or not one_part:
            draw_path(painter, make_path(xy[s:e], types[s:e]))
            continue
        for a in range(s, e - 1, WIDE_PIECE_VERTICES - 1):
            piece = xy[a:min(a + WIDE_PIECE_VERTICES, e)]
            draw_path(painter, make_path(piece, polyline_types(np.array([0, len(piece)]))))


def _draw_parts_chunked(painter: QPainter, xy, offs, max_vertices, max_parts, cancelled) -> None:
    types = polyline_types(offs)
    base = int(offs[0])
    for s, e in _vertex_chunks(offs, max_vertices, max_parts):
        if cancelled():
            return
        draw_path(painter, make_path(xy[s - base:e - base], types[s - base:e - base]))


# ------------------------------------------------------------------------------------------ lines


def _paint_lines(ctx: _Ctx, layer: PreparedLayer, cancelled, only: np.ndarray | None = None,
                 halo: str | None = None) -> int:
    style = layer.layer_def.style
    width_mm = style.stroke_width_mm
    width_px = width_mm * ctx.ppmm
    if only is None and not halo and _draws_hairlines(ctx, layer, width_px):
        whole = _tile_source(layer)
        if whole is None and _near_frame(ctx, layer):  # a level of detail: its band's paths
            return _paint_hairlines(ctx, layer, width_px, cancelled)
        if whole is not None:  # drawn exactly: the whole layer's tiles meeting the view
            n = _paint_tiled_hairlines(ctx, layer, whole, width_px, cancelled)
            if n is not None:
                return n
        width_px = min(width_px, 1.0)  # generalised all the same: one cosmetic pass
    parts = _visible_parts(ctx, layer, (width_px / 2 + 1) * ctx.res, only)
    if not len(parts):
        return 0
    feat = layer.part_feature[parts]
    order, groups = _class_groups(layer, layer.cls[feat])
    parts = parts[order]
    coords, offs, idx = _gather(layer, parts)
    px = ctx.settings.map_to_pixel(coords)
    for c, a, b in groups:
        if cancelled():
            break
        sub = offs[a:b + 1]
        s, e = int(sub[0]), int(sub[-1])
        nrm = (layer, idx[s:e]) if ctx.raster else None
        if halo:
            hw = width_px + 2 * SELECTION_HALO_MM * ctx.ppmm
            _stroke(ctx, px[s:e], sub - s, nrm, halo, hw, hw / ctx.ppmm, "solid", cancelled)
        _stroke(ctx, px[s:e], sub - s, nrm, layer.stroke_colours[c], width_px, width_mm, style.dash, cancelled)
    return _distinct(feat, layer.n)


def _distinct(feat: np.ndarray, n: int) -> int:
    """How many different features ``feat`` (indices below ``n``) names: a mask, not a sort (np.unique of 2M
    part features cost a quarter of a second)."""
    if len(feat) == 0:
        return 0
    seen = np.zeros(max(int(n), int(feat.max()) + 1), dtype=bool)
    seen[feat] = True
    return int(np.count_nonzero(seen))


def _visible_parts(ctx: _Ctx, layer: PreparedLayer, margin: float, only=None) -> np.ndarray:
    xmin, ymin, xmax, ymax = ctx.settings.extent
    pb = layer.part_bounds
    if only is not None:
        cand = _parts_of(layer, only)
        pb = pb[cand]
    mask = (pb[:, 2] >= xmin - margin) & (pb[:, 0] <= xmax + margin) & (pb[:, 3] >= ymin - margin) & (
        pb[:, 1] <= ymax + margin)
    vis = np.flatnonzero(mask)
    return vis if only is None else cand[vis]


def _gather(layer: PreparedLayer, parts: np.ndarray):
    """Coordinates, offsets and source vertex indices of the given parts."""
    offsets = layer.offsets
    if len(parts) == len(offsets) - 1 and (len(parts) == 0 or np.all(parts[1:] > parts[:-1])):
        return layer.coords, offsets, np.arange(len(layer.coords))
    starts = offsets[parts]
    counts = offsets[parts + 1] - starts
    new_off = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(counts, out=new_off[1:])
    idx = np.arange(int(new_off[-1]), dtype=np.int64) - np.repeat(new_off[:-1] - starts, counts)
    return np.take(layer.coords, idx, axis=0), new_off, idx  # (np.take: a quarter of the time of indexing)


# ------------------------------------------------------------------------------------------ LOD hairlines


HAIRLINE_MAX_PX = 1.5  # large layers' solid strokes up to this width draw as one 1-px cosmetic line on images


def _large(layer) -> bool:
    """Whether a layer is drawn as a large one (generalised strokes, map-space paths): a level of detail
    (``lod_tolerance`` set: drawn decimated, :mod:`riskmap.render.lazy`), a lazy layer's view (``large``), or
    LAYER_IMAGE_VERTICES vertices or more (the layers kept as images): the layers that get bands of detail."""
    return (getattr(layer, "lod_tolerance", None) is not None or getattr(layer, "large", False)
            or len(getattr(layer, "coords", ())) >= LAYER_IMAGE_VERTICES)


def _draws_hairlines(ctx: _Ctx, layer, width_px: float) -> bool:
    """Whether a layer's strokes are generalised to one pixel: a large layer (:func:`_large`) on a screen image
    (raster, at screen dpi: ``fast_strokes``), a solid stroke of at most HAIRLINE_MAX_PX, at every scale. A line
    layer is then drawn from map-space paths through the view's transform: a level of detail's whole band
    (:func:`_paint_hairlines`, when within FAR_PX of the frame: Qt's rasteriser keeps small numbers), an exact
    drawing's tiles meeting the view (:func:`_paint_tiled_hairlines`); else from the frame's own paths, cut to
    it, with the same 1-px pen."""
    if not (ctx.raster and ctx.fast_strokes) or not 0 < width_px <= HAIRLINE_MAX_PX or not _large(layer):
        return False
    return layer.layer_def.style.dash == "solid" and len(layer.coords) > 0


def _map_box(layer) -> tuple[float, float, float, float]:
    kept = layer.__dict__.get("_map_box")
    if kept is None or kept[0] is not layer.coords:
        c = layer.coords
        kept = layer.__dict__["_map_box"] = (c, (float(c[:, 0].min()), float(c[:, 1].min()),
                                                 float(c[:, 0].max()), float(c[:, 1].max())))
    return kept[1]


def hairline_pen(colour, width_px: float) -> QPen:
    """The cosmetic pen of a large layer's generalised stroke: 1 px (or thinner, as the stroke), unaffected by the
    transform."""
    pen = make_pen(colour, min(width_px, 1.0))
    pen.setCosmetic(True)
    return pen


def map_transform(settings: MapSettings, origin: tuple[float, float]):
    """The QTransform from map coordinates relative to ``origin`` to the pixels of ``settings`` (y flipped)."""
    from PySide6.QtGui import QTransform

    xmin, _, _, ymax = settings.extent
    k = 1.0 / settings.resolution
    return QTransform(k, 0.0, 0.0, -k, (origin[0] - xmin) * k, (ymax - origin[1]) * k)


def _map_paths(layer, cancelled):
    """A line layer's parts as QPainterPaths in map units relative to a local origin (float precision), per
    class in drawing order and in chunks, built once and kept on the layer: ``(origin, [(class, [paths])])``;
    None when cancelled while building. Render threads share them: Qt caches a path's converted form inside it
    on the first draw, which is safe while PySide6 holds the GIL through drawPath (see the module docstring)."""
    kept = layer.__dict__.get("_map_paths")
    if kept is not None and kept[0] is layer.coords and kept[1] is layer.cls:  # (a copy restyled: built again)
        return kept[2:]
    x0, y0, _, _ = _map_box(layer)
    origin = (float(np.floor(x0)), float(np.floor(y0)))
    parts = np.arange(len(layer.offsets) - 1)
    order, groups = _class_groups(layer, layer.cls[layer.part_feature])
    coords, offs, _ = _gather(layer, parts[order])
    rel = coords - np.array(origin)
    types = polyline_types(offs)
    out = []
    for c, a, b in groups:
        paths = []
        for s, e in _vertex_chunks(offs[a:b + 1], PATH_CHUNK_VERTICES):
            if cancelled():
                return None
            paths.append(make_path(rel[s:e], types[s:e]))
        out.append((c, paths))
    layer.__dict__["_map_paths"] = (layer.coords, layer.cls, origin, out)
    return origin, out


def _paint_hairlines(ctx: _Ctx, layer, width_px: float, cancelled) -> int:
    """A decimated line layer stroked as one antialiased 1-px cosmetic line (generalised width: a stroke of up
    to HAIRLINE_MAX_PX drawn at a level of detail), from paths built once in map units and drawn through the
    view's transform: any scale and pan of the band strokes them without numpy or path building."""
    x0, y0, x1, y1 = _map_box(layer)
    xmin, ymin, xmax, ymax = ctx.settings.extent
    if xmin <= x0 and x1 <= xmax and ymin <= y0 and y1 <= ymax:  # all in view (the whole city): no bounds test
        kept = layer.__dict__.get("_drawn_features")
        if kept is None or kept[0] is not layer.part_feature:
            kept = layer.__dict__["_drawn_features"] = (layer.part_feature, _distinct(layer.part_feature, layer.n))
        n = kept[1]
    else:
        parts = _visible_parts(ctx, layer, (width_px / 2 + 1) * ctx.res)
        n = _distinct(layer.part_feature[parts], layer.n)
    if not n:
        return 0
    kept = _map_paths(layer, cancelled)
    if kept is None:
        return 0
    origin, groups = kept
    painter = ctx.painter
    painter.save()
    try:
        painter.setTransform(map_transform(ctx.settings, origin), True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        _stroke_paths(painter, [(hairline_pen(layer.stroke_colours[c], width_px), paths)
                                for c, paths in groups if layer.stroke_colours[c]], cancelled)
    finally:
        painter.restore()
    return n


MERGE_ELEMENTS = 1 << 18  # a group's paths are stroked merged into paths of up to about this many elements


def _stroke_paths(painter: QPainter, groups: list, cancelled) -> None:
    """Stroke ``groups`` (``[(pen, [paths])]`` in drawing order) through the painter's transform, each group's
    paths merged into a few (QPainterPath.addPath: each subpath is stroked on its own, so the pixels are the
    same) so that Qt is called a few times, not once per tile. Each call releases the GIL
    (:mod:`riskmap.render.native`) and must take it back when Qt returns: while another layer's worker runs
    Python, every return waited up to the interpreter's switch interval (×10 city's 10× lifelines, 195 tile
    paths, beside a busy Python thread: 1.0–1.2 s instead of 29 ms alone; merged into 8 paths in 0.9 ms, 72–76
    ms). (Sharing a layer's strokes between two workers, the later half into an image drawn over the earlier,
    was measured no faster: 52 ms against 51 at load 0.7; and it rounds the overlaps of the halves' ink apart.)"""
    for pen, paths in groups:
        painter.setPen(pen)
        for path in _merged(paths):
            if cancelled():
                return
            draw_path(painter, path)


def _merged(paths: list) -> list:
    """``paths`` as fewer paths of up to about MERGE_ELEMENTS elements each, in order (the binding's addPath,
    which holds the GIL: a copy of the elements, about 1 ms for 120k)."""
    if len(paths) < 2:
        return paths
    out, cur, n = [], None, 0
    for path in paths:
        k = path.elementCount()
        if cur is None or n + k > MERGE_ELEMENTS:
            if cur is not None:
                out.append(cur)
            cur, n = QPainterPath(path), k
        else:
            cur.addPath(path)
            n += k
    out.append(cur)
    return out


# ------------------------------------------------------------------------------------------ map-space tiles


TILE_VERTICES = 512  # vertices a map-space tile of one class holds on average (its side set from that)
TILE_GRID_MAX = 256  # tiles across the layer's box at most, each way


class _MapTiles:
    """Items of one class (line parts, or polygon features) binned on a fixed grid over their box by the centre
    of their bounds (:func:`_class_layout`), each tile's map-space paths built on first touch
    (``build(items, cancelled)`` -> [paths], or None when cancelled) and kept. A tile's box is the union of its
    items' bounds, so every item meeting a view is in a tile whose box meets it: a view draws only those tiles
    (a 10× zoom about 1/100 of the layer)."""

    def __init__(self, members: np.ndarray, starts: np.ndarray, box: np.ndarray, build, shared=None):
        self.members, self.starts, self.box, self.build = members, starts, box, build
        self.shared = shared  # (tiles of the same layout, mask): the masked tiles' paths are theirs
        self.paths = [None] * len(box)
        self.lock = threading.Lock()

    def meeting(self, extent, margin: float) -> np.ndarray:
        """The tiles whose box meets ``extent`` widened by ``margin``."""
        from riskmap.render.prepared import bounds_touch

        return np.flatnonzero(bounds_touch(self.box, extent, margin))

    def paths_of(self, tiles: np.ndarray, cancelled) -> list | None:
        """The paths of ``tiles`` (built now where not yet), one list; None when cancelled."""
        out = []
        for t in tiles.tolist():
            got = self.paths[t]
            if got is None:
                got = self.build_tile(t, cancelled)
                if got is None:
                    return None
            out.extend(got)
        return out

    def build_tile(self, t: int, cancelled) -> list | None:
        """Tile ``t``'s paths, built and kept unless kept already; None when cancelled."""
        got = self.paths[t]
        if got is not None:
            return got
        if self.shared is not None and self.shared[1][t]:
            got = self.shared[0].build_tile(t, cancelled)
        else:
            got = self.build(self.members[self.starts[t]:self.starts[t + 1]], cancelled)
        if got is None:
            return None
        with self.lock:  # another thread may have built it too: one is kept
            if self.paths[t] is None:
                self.paths[t] = got
            return self.paths[t]

    def unbuilt(self) -> np.ndarray:
        """The tiles whose paths are not built yet."""
        return np.flatnonzero(np.fromiter((p is None for p in self.paths), dtype=bool, count=len(self.paths)))


def _class_layout(item_class: np.ndarray, bounds: np.ndarray, vertices: np.ndarray) -> dict:
    """``{class: (members, starts, box)}``: the tiles of a layer's items (``item_class``, ``bounds`` and
    ``vertices`` per item; items without finite bounds left out), tile k holding ``members[starts[k]:starts[k +
    1]]`` within ``box[k]``, for :class:`_MapTiles`. Each class's grid covers its items' box with tiles of about
    TILE_VERTICES vertices (at most TILE_GRID_MAX a side); all the items are sorted once, by class, tile and
    their own order."""
    ok = np.flatnonzero(np.isfinite(bounds[:, 0]))
    b, cls = bounds[ok], item_class[ok].astype(np.int64)
    out = {}
    if len(ok):
        n_cls = int(cls.max()) + 1
        lo_x = np.full(n_cls, np.inf)
        lo_y, hi_x, hi_y = lo_x.copy(), np.full(n_cls, -np.inf), np.full(n_cls, -np.inf)
        np.minimum.at(lo_x, cls, b[:, 0])
        np.minimum.at(lo_y, cls, b[:, 1])
        np.maximum.at(hi_x, cls, b[:, 2])
        np.maximum.at(hi_y, cls, b[:, 3])
        w, h = np.maximum(hi_x - lo_x, 1e-9), np.maximum(hi_y - lo_y, 1e-9)
        n_vertices = np.bincount(cls, weights=vertices[ok], minlength=n_cls)
        with np.errstate(invalid="ignore", divide="ignore"):
            side = np.maximum(np.sqrt(w * h * TILE_VERTICES / np.maximum(n_vertices, 1)),
                              np.maximum(w, h) / TILE_GRID_MAX)
            nx = np.where(np.isfinite(w), np.minimum(w / side, TILE_GRID_MAX - 1), 0).astype(np.int64) + 1
            ny = np.where(np.isfinite(h), np.minimum(h / side, TILE_GRID_MAX - 1), 0).astype(np.int64) + 1
        c_x, c_y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        i = np.clip(((c_x - lo_x[cls]) / w[cls] * nx[cls]).astype(np.int64), 0, nx[cls] - 1)
        j = np.clip(((c_y - lo_y[cls]) / h[cls] * ny[cls]).astype(np.int64), 0, ny[cls] - 1)
        cell = (cls * TILE_GRID_MAX + j) * TILE_GRID_MAX + i  # a class's tiles together, then row by row
        order = np.argsort(cell, kind="stable")  # the items of a tile in their own order
        cell, members, sb = cell[order], ok[order], b[order]
        first = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        box = np.column_stack([np.minimum.reduceat(sb[:, 0], first), np.minimum.reduceat(sb[:, 1], first),
                               np.maximum.reduceat(sb[:, 2], first), np.maximum.reduceat(sb[:, 3], first)])
        tile_cls = cell[first] // (TILE_GRID_MAX * TILE_GRID_MAX)
        cuts = np.flatnonzero(np.r_[True, tile_cls[1:] != tile_cls[:-1], True])
        ends = np.append(first, len(order))
        for a, z in zip(cuts[:-1].tolist(), cuts[1:].tolist()):  # one class: tiles a..z
            lo, hi = int(ends[a]), int(ends[z])
            out[int(tile_cls[a])] = (members[lo:hi], ends[a:z + 1] - lo, box[a:z])
    return out


def lay_out_tiles(layer) -> None:
    """A lazy line or polygon layer's exact whole (:meth:`riskmap.render.lazy.LazyPrepared.exact_layer`) and its
    map-space tiles laid out (their paths are built on first touch): what the first view of it at an exact scale
    would otherwise wait for. The canvas calls it in idle time, after a frame, on its render worker."""
    whole = layer.exact_layer()
    if whole.kind == "line":
        _line_tiles(whole)
    elif whole.kind == "polygon":
        _fill_layout(whole)


def _tiles_far(ctx: _Ctx, boxes: list) -> bool:
    """Whether tile boxes reach more than FAR_PX beyond the frame (Qt's rasteriser keeps small numbers)."""
    boxes = [b for b in boxes if len(b)]
    if not boxes:
        return False
    b = np.concatenate(boxes)
    (px0, py0), (px1, py1) = ctx.settings.map_to_pixel(
        np.array([[b[:, 0].min(), b[:, 3].max()], [b[:, 2].max(), b[:, 1].min()]]))
    return px0 < -FAR_PX or py0 < -FAR_PX or px1 > ctx.w + FAR_PX or py1 > ctx.h + FAR_PX


def _tile_source(layer):
    """The whole layer whose kept tiles draw ``layer`` at an exact scale: a lazy layer's view takes the lazy
    layer's exact whole (``exact_whole``, :meth:`riskmap.render.lazy.LazyPrepared.exact_layer`), an eager layer
    is its own; None for a level of detail (drawn from its band's paths)."""
    if getattr(layer, "lod_tolerance", None) is not None:
        return None
    whole = getattr(layer, "exact_whole", None)
    return layer if whole is None else whole


def _line_tiles(whole) -> tuple:
    """A whole line layer's parts as map-space paths relative to a local origin, per class in tiles
    (:class:`_MapTiles`, chunks of PATH_CHUNK_VERTICES): ``(origin, {class: tiles})``, kept on the layer."""
    kept = whole.__dict__.get("_line_tiles")
    if kept is not None and kept[0] is whole.coords and kept[1] is whole.cls:
        return kept[2]
    pb = whole.part_bounds  # (the coordinates' box: min and max of the parts', without a pass over them)
    origin = (float(np.floor(np.nanmin(pb[:, 0]))), float(np.floor(np.nanmin(pb[:, 1])))) if len(pb) else (0.0, 0.0)
    o = np.array(origin)

    def build(parts, cancelled):
        coords, offs, _ = _gather(whole, parts)
        rel = coords - o
        types = polyline_types(offs)
        paths = []
        for s, e in _vertex_chunks(offs, PATH_CHUNK_VERTICES):
            if cancelled():
                return None
            paths.append(make_path(rel[s:e], types[s:e]))
        return paths

    layout = _class_layout(whole.cls[whole.part_feature], whole.part_bounds, np.diff(whole.offsets))
    tiles = {c: _MapTiles(*lay, build) for c, lay in layout.items()}
    whole.__dict__["_line_tiles"] = (whole.coords, whole.cls, (origin, tiles))
    return origin, tiles


def _paint_tiled_hairlines(ctx: _Ctx, layer, whole, width_px: float, cancelled) -> int | None:
    """A large line layer drawn exactly (every vertex), its stroke generalised to one antialiased 1-px cosmetic
    line as at its levels of detail: the tiles of the whole layer (:func:`_line_tiles`) meeting the view, their
    paths built once in map units and stroked through the view's transform, class by class. Returns the
    features drawn (of ``layer``, as the frame's own drawing counts them), or None when the tiles reach beyond
    FAR_PX of the frame (drawn from the frame's own paths then)."""
    margin = (width_px / 2 + 1) * ctx.res
    origin, tiles = _line_tiles(whole)
    classes = [c for c in whole.class_order if c in tiles and whole.stroke_colours[c]]
    meet = {c: tiles[c].meeting(ctx.settings.extent, margin) for c in classes}
    if _tiles_far(ctx, [tiles[c].box[meet[c]] for c in classes]):
        return None
    parts = _visible_parts(ctx, layer, margin)
    n = _distinct(layer.part_feature[parts], layer.n)
    if not n:
        return 0
    painter = ctx.painter
    painter.save()
    try:
        painter.setTransform(map_transform(ctx.settings, origin), True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        groups = []
        for c in classes:
            paths = tiles[c].paths_of(meet[c], cancelled)
            if paths is None:
                break
            groups.append((hairline_pen(whole.stroke_colours[c], width_px), paths))
        _stroke_paths(painter, groups, cancelled)
    finally:
        painter.restore()
    return n


# ------------------------------------------------------------------------------------------ polygons


def _paint_polygons(ctx: _Ctx, layer: PreparedLayer, cancelled, only: np.ndarray | None = None,
                    halo: str | None = None) -> int:
    style = layer.layer_def.style
    width_mm = style.stroke_width_mm
    width_px = width_mm * ctx.ppmm
    if only is None and not halo and _draws_hairlines(ctx, layer, width_px):
        width_px = min(width_px, 1.0)  # a level of detail's outline generalised to one pixel
    if only is None and not halo and _draws_map_fills(ctx, layer, width_px):
        n = _paint_map_polygons(ctx, layer, width_px, cancelled)
        if n is not None:
            return n
    margin = (width_px / 2 + 1) * ctx.res
    if only is None:
        feats = np.flatnonzero(layer.visible_mask(ctx.settings.extent, margin))
    else:
        feats = only[layer.visible_mask(ctx.settings.extent, margin)[only]]
    if not len(feats):
        return 0
    b = layer.bounds[feats]
    tiny = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) < MIN_FEATURE_PX * ctx.res
    small, feats = feats[tiny], feats[~tiny]
    if len(feats):
        order, groups = _class_groups(layer, layer.cls[feats])
        feats = feats[order]
        parts = _parts_of(layer, feats)
        fp = layer.feature_parts
        # part ranges per class group
        part_counts = fp[feats + 1] - fp[feats]
        pcs = np.zeros(len(feats) + 1, dtype=np.int64)
        np.cumsum(part_counts, out=pcs[1:])
        coords, offs, idx = _gather(layer, parts)
        px = ctx.settings.map_to_pixel(coords)
        strokes = [layer.stroke_colours[c] for c, _, _ in groups]
        shared = [] if _shares_paths(ctx, layer, px, offs, groups, strokes, width_px, halo) else None
        if halo:
            _fill_groups(ctx, layer, px, offs, pcs, groups, cancelled, colour_override=SELECTION_FILL)
        else:
            _fill_groups(ctx, layer, px, offs, pcs, groups, cancelled, keep=shared)
        geo = (layer, idx) if ctx.raster else None
        if halo:
            hw = max(width_px, 0.5 * ctx.ppmm) + 2 * SELECTION_HALO_MM * ctx.ppmm
            _stroke(ctx, px, offs, geo, halo, hw, hw / ctx.ppmm, "solid", cancelled)
        if shared is not None:  # the outlines drawn with the fill's own paths (one pen: Qt's cosmetic stroker)
            ctx.painter.setPen(make_pen(strokes[0], width_px))
            ctx.painter.setBrush(Qt.BrushStyle.NoBrush)
            for path in shared:
                if cancelled():
                    break
                draw_path(ctx.painter, path)
        elif any(strokes):
            if len(set(strokes)) == 1:
                _stroke(ctx, px, offs, geo, strokes[0], width_px, width_mm, style.dash, cancelled)
            else:
                for c, a, bb in groups:
                    s_part, e_part = pcs[a], pcs[bb]
                    sub = offs[s_part:e_part + 1]
                    s, e = int(sub[0]), int(sub[-1])
                    _stroke(ctx, px[s:e], sub - s, None if geo is None else (layer, idx[s:e]),
                            layer.stroke_colours[c], width_px, width_mm, style.dash, cancelled)
    if len(small):  # sub-pixel polygons: a dot in the class colour so they stay visible
        _draw_dots(ctx, layer, small, halo)
    return int(len(feats) + len(small))


SHARED_PATH_MAX_STROKE_PX = 1.05  # outlines up to this width (one cosmetic pen) reuse the fill's paths


def _shares_paths(ctx: _Ctx, layer, px, offs, groups, strokes, width_px: float, halo) -> bool:
    """Whether a polygon layer's outlines can be stroked with the very paths its fill builds (building a
    QPainterPath costs about as much as stroking it: Qt reads every element through a QDataStream): on
    images, solid outlines of one colour up to SHARED_PATH_MAX_STROKE_PX, every class filled (the fill's paths
    then hold every ring, in the stroke's order), and nothing for :func:`cull_segments` to cut. The outline is
    then drawn on the rings' own vertices (:func:`thin_vertices` would drop those within half a pixel)."""
    if not ctx.raster or halo or width_px <= 0 or width_px > SHARED_PATH_MAX_STROKE_PX:
        return False
    if layer.layer_def.style.dash != "solid" or not strokes[0] or len(set(strokes)) != 1:
        return False
    if not all(layer.fill_colours[c] for c, _, _ in groups):
        return False
    return cull_segments(px, offs, ctx.w, ctx.h, width_px + 2.0) is None


def _fill_groups(ctx: _Ctx, layer, px, offs, pcs, groups, cancelled, colour_override=None,
                 keep: list | None = None) -> None:
    style = layer.layer_def.style
    fills = [(c, a, b) for c, a, b in groups if (colour_override is not None or layer.fill_colours[c])]
    if not fills:
        return
    opacity = 1.0 if colour_override is not None else float(style.fill_opacity)
    has_stroke = any(layer.stroke_colours[c] for c, _, _ in groups)
    # translucent fills go opaque into a layer image drawn once with the fill opacity: faster than blending
    # every polygon, no double blending where they overlap and no seams between neighbours. An outline
    # covers the aliased edge, so stroked layers fill without antialiasing (faster, tiles exactly).
    antialias = not has_stroke
    chunk = AA_FILL_CHUNK_RINGS if antialias else FILL_CHUNK_RINGS
    if ctx.raster and colour_override is None:
        with _fills(ctx, opacity, antialias, [layer.fill_colours[c] for c, _, _ in fills]) as (p, brush):
            for c, a, b in fills:
                p.setBrush(brush(layer.fill_colours[c]))
                _fill_rings(p, px, offs, pcs, a, b, chunk, cancelled, keep)
        return
    painter = ctx.painter
    painter.setPen(Qt.PenStyle.NoPen)
    for c, a, b in fills:
        colour = QColor(colour_override) if colour_override is not None else QColor(layer.fill_colours[c])
        if colour_override is None:
            colour.setAlphaF(opacity)
        painter.setBrush(QBrush(colour))
        _fill_rings(painter, px, offs, pcs, a, b, FILL_CHUNK_RINGS, cancelled)


def _fill_rings(painter, px, offs, pcs, a, b, chunk, cancelled, keep: list | None = None) -> None:
    """Fill features a..b (positions; their rings are parts pcs[a]..pcs[b]) with the winding rule (holes are
    oriented against their exterior), chunked at feature boundaries so a hole stays with its exterior.
    ``keep``: a list the paths are appended to (for the outlines, :func:`_shares_paths`)."""
    sub = offs[pcs[a]:pcs[b] + 1]
    base = int(sub[0])
    types = polyline_types(sub - base)
    feature_bounds = offs[pcs[a:b + 1]]  # vertex offset of each feature's first ring, and the end
    for s, e in _vertex_chunks(feature_bounds, PATH_CHUNK_VERTICES, chunk):
        if cancelled():
            return
        path = make_path(px[s:e], types[s - base:e - base], Qt.FillRule.WindingFill)
        draw_path(painter, path)
        if keep is not None:
            keep.append(path)


def _draws_map_fills(ctx: _Ctx, layer, width_px: float) -> bool:
    """Whether a polygon layer may be drawn from its map-space paths (:func:`_paint_map_polygons`): on an image,
    a large layer (:func:`_large`), every class filled, and its outlines, if any,
    solid, of one colour and at most SHARED_PATH_MAX_STROKE_PX (``width_px`` as drawn: a cosmetic pen; a level of
    detail's generalised by :func:`_draws_hairlines`)."""
    if not ctx.raster or not len(getattr(layer, "coords", ())) or not _large(layer):
        return False
    present = _present_classes(layer)
    if not all(layer.fill_colours[c] for c in present):
        return False
    strokes = {layer.stroke_colours[c] for c in present}
    return not any(strokes) or (len(strokes) == 1 and layer.layer_def.style.dash == "solid"
                                and 0 < width_px <= SHARED_PATH_MAX_STROKE_PX)


def _present_classes(layer) -> list[int]:
    return np.flatnonzero(np.bincount(layer.cls, minlength=len(layer.classes))).tolist()


def _near_frame(ctx: _Ctx, layer) -> bool:
    x0, y0, x1, y1 = _map_box(layer)
    (px0, py0), (px1, py1) = ctx.settings.map_to_pixel(np.array([[x0, y1], [x1, y0]]))
    return px0 >= -FAR_PX and py0 >= -FAR_PX and px1 <= ctx.w + FAR_PX and py1 <= ctx.h + FAR_PX


def _feature_sizes(layer) -> np.ndarray:
    kept = layer.__dict__.get("_feature_sizes")
    if kept is None or kept[0] is not layer.bounds:
        b = layer.bounds
        kept = layer.__dict__["_feature_sizes"] = (b, np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))
    return kept[1]


MAP_FILL_BANDS = 2  # polygon layers' map-space paths kept per layer (one per band of scales)
MAP_FILL_CHUNK_RINGS = 128  # rings a kept fill path holds (×10 city's grids filled in 0.021 s instead of 0.037 s
#                             with 4000: Qt's rasteriser works faster on smaller paths)


def _map_fills(layer, band: float, chunk: int, cancelled=None):
    """A polygon layer's features of at least 2 × ``band`` (never a dot at a resolution of that band: pixels of
    ``band`` up to 2 × ``band`` MIN_FEATURE_PX) as fill paths in map units relative to a local origin, per class
    in drawing order, chunked at features: ``(origin, kept mask, [(class, [paths])])``, kept on the layer
    (MAP_FILL_BANDS bands); None when not kept yet and ``cancelled`` is None, or cancelled while building."""
    kept = layer.__dict__.get("_map_fills")
    if kept is None or kept[0] is not layer.coords or kept[1] is not layer.cls:
        kept = layer.__dict__["_map_fills"] = (layer.coords, layer.cls, OrderedDict())
    bands = kept[2]
    hit = bands.get((band, chunk))
    if hit is not None or cancelled is None:
        return hit
    x0, y0, _, _ = _map_box(layer)
    origin = (float(np.floor(x0)), float(np.floor(y0)))
    big = _feature_sizes(layer) >= 2 * band
    out = _class_fill_paths(layer, np.flatnonzero(big), lambda xy: xy - np.array(origin), chunk, cancelled)
    if out is None:
        return None
    bands[(band, chunk)] = origin, big, out
    while len(bands) > MAP_FILL_BANDS:
        bands.popitem(last=False)
    return origin, big, out


@contextmanager
def _fills(ctx: _Ctx, opacity: float, antialias: bool, fills: list):
    """``(painter, brush)`` for a layer's raster fills without a pen in the fill colours ``fills``, ``brush(fill)``
    the QBrush to fill with: as :func:`_fill_painter` (translucent fills opaque into a second image drawn with the
    opacity), except on a layer's own image with nothing drawn on it yet (``ctx.blank``: :func:`_paint_into`),
    where aliased translucent fills (an outlined layer's) go straight into it in Source mode with the colours of
    :func:`_source_colour`: the same pixels (a later fill replaces an earlier one, as opaque ones do in the second
    image), without an 8 MB image to clear and draw (×10 city's grids at 10×: 2.4k cells, one image less)."""
    p = ctx.painter
    exact = None
    if getattr(ctx, "blank", False) and opacity < 1.0 and not antialias and p.opacity() == 1.0 \
            and p.worldTransform().isIdentity() \
            and p.compositionMode() == QPainter.CompositionMode.CompositionMode_SourceOver:
        exact = {}
        for fill in fills:
            exact[fill] = _source_colour(fill, float(opacity))
            if exact[fill] is None:
                exact = None
                break
    ctx.blank = False
    if exact is not None:
        p.save()
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setPen(Qt.PenStyle.NoPen)
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            yield p, lambda fill: QBrush(exact[fill])
        finally:
            p.restore()
        return
    with _fill_painter(ctx, opacity, antialias) as (fp, layered):
        yield fp, lambda fill: QBrush(_translucent(fill, 1.0 if layered else opacity))


def _translucent(fill: str, opacity: float) -> QColor:
    colour = QColor(fill)
    if opacity != 1.0:
        colour.setAlphaF(colour.alphaF() * opacity)
    return colour


@lru_cache(maxsize=256)
def _source_colour(fill: str, opacity: float) -> QColor | None:
    """The colour whose aliased fill in Source mode onto a transparent image leaves the very pixel that ``fill``
    filled opaque into an image drawn onto it with ``opacity`` leaves, found with Qt's own arithmetic (a strip
    painted both ways, read back); None when no colour does."""
    n = 64

    def strip(colour: QColor | None, source: bool = False, image: QImage | None = None) -> QImage:
        img = QImage(n, 1, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        if image is not None:
            p.setOpacity(opacity)
            p.drawImage(QPointF(0, 0), image)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QBrush(colour))
            if source:
                p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            p.drawRect(QRectF(0, 0, n, 1))
        p.end()
        return img

    def pixels(img: QImage) -> np.ndarray:
        return np.frombuffer(img.constBits(), dtype=np.uint32, count=n).copy()

    want = pixels(strip(None, image=strip(QColor(fill))))
    if (want != want[0]).any():
        return None
    v = int(want[0])
    a = v >> 24
    c = np.arange(256) * a
    premultiplied = (c + (c >> 8) + 0x80) >> 8  # (Qt's qPremultiply of a channel)
    rgb = []
    for shift in (16, 8, 0):
        hit = np.flatnonzero(premultiplied == (v >> shift) & 0xFF)
        if not len(hit):
            return None
        rgb.append(int(hit[0]))
    colour = QColor(*rgb, a)
    return colour if (pixels(strip(colour, True)) == want).all() else None


@contextmanager
def _fill_painter(ctx: _Ctx, opacity: float, antialias: bool):
    """``(painter, layered)`` for raster fills without a pen: translucent fills (``opacity`` < 1) go opaque
    into a layer image that is drawn once with the opacity when the block ends (layered), opaque ones straight
    onto the frame's painter (its state restored after). The layer image is dropped once drawn (free for the
    next taker: :func:`_reused_image`)."""
    layered = opacity < 1.0
    if layered:
        img = ctx.layer_image()
        p = QPainter(img)
    else:
        p = ctx.painter
        p.save()
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
        p.setPen(Qt.PenStyle.NoPen)
        yield p, layered
    finally:
        if layered:
            p.end()
        else:
            p.restore()
    if layered:
        ctx.painter.save()
        ctx.painter.setOpacity(ctx.painter.opacity() * opacity)
        draw_image(ctx.painter, QPointF(0, 0), img)
        ctx.painter.restore()


def _class_fill_paths(layer, feats: np.ndarray, to_xy, chunk: int, cancelled=None):
    """Fill paths of the features ``feats`` per class in drawing order, chunked at features of at most ``chunk``
    rings: ``[(class, [paths])]``, their vertices mapped by ``to_xy``; None when ``cancelled`` says so."""
    out = []
    if not len(feats):
        return out
    order, groups = _class_groups(layer, layer.cls[feats])
    feats = feats[order]
    fp = layer.feature_parts
    pcs = np.zeros(len(feats) + 1, dtype=np.int64)
    np.cumsum(fp[feats + 1] - fp[feats], out=pcs[1:])
    coords, offs, _ = _gather(layer, _parts_of(layer, feats))
    xy = to_xy(coords)
    types = polyline_types(offs)
    for c, a, b in groups:
        paths = []
        for s, e in _vertex_chunks(offs[pcs[a:b + 1]], PATH_CHUNK_VERTICES, chunk):
            if cancelled is not None and cancelled():
                return None
            paths.append(make_path(xy[s:e], types[s:e], Qt.FillRule.WindingFill))
        out.append((c, paths))
    return out


def _paint_map_polygons(ctx: _Ctx, layer, width_px: float, cancelled) -> int | None:
    """A large polygon layer (:func:`_draws_map_fills`): the features that are never a dot at this band of
    scales filled from paths built once in map units, through the view's transform (fill rasterisation under a
    transform is exact), the few smaller ones from paths of this frame (or as dots under MIN_FEATURE_PX), each
    class in drawing order; the outlines stroked on the same paths with one cosmetic pen (at most 1 px). Fills
    go as in :func:`_fill_groups`: translucent ones opaque into a layer image drawn with the fill opacity,
    aliased under an outline. The kept paths: the whole band's (:func:`_map_fills`) when kept or when most of
    the layer is in view (within FAR_PX of the frame), else at an exact scale the tiles of the whole layer
    meeting the view (:func:`_fill_tiles`); None (drawn the usual way) when neither applies."""
    style = layer.layer_def.style
    vis = layer.visible_mask(ctx.settings.extent, (width_px / 2 + 1) * ctx.res)
    tiny = _feature_sizes(layer) < MIN_FEATURE_PX * ctx.res
    stroke = next((layer.stroke_colours[c] for c in _present_classes(layer) if layer.stroke_colours[c]), None)
    antialias = stroke is None
    band = 2.0 ** math.floor(math.log2(max(MIN_FEATURE_PX * ctx.res, 1e-9)))
    chunk = AA_FILL_CHUNK_RINGS if antialias else MAP_FILL_CHUNK_RINGS
    near = _near_frame(ctx, layer) and getattr(layer, "exact_whole", None) is None  # (not part of a lazy layer)
    kept = _map_fills(layer, band, chunk) if near else None
    if kept is None and near and 2 * np.count_nonzero(vis) >= layer.n:
        kept = _map_fills(layer, band, chunk, cancelled)
        if kept is None:
            return 0
    if kept is not None:
        origin, big, groups = kept
        kept_paths = dict(groups)
    else:
        whole = _tile_source(layer)
        if whole is None:
            return None
        origin, tiles = _fill_tiles(whole, band, chunk)
        margin = (width_px / 2 + 1) * ctx.res
        meet = {c: t.meeting(ctx.settings.extent, margin) for c, t in tiles.items()}
        if _tiles_far(ctx, [tiles[c].box[m] for c, m in meet.items()]):
            return None
        kept_paths = {}
        for c, m in meet.items():
            paths = tiles[c].paths_of(m, cancelled)
            if paths is None:
                return 0
            if paths:
                kept_paths[c] = paths
        big = _feature_sizes(layer) >= 2 * band  # (the features the tiles hold: the same rule)
        groups = list(kept_paths.items())
    small = np.flatnonzero(vis & tiny)
    middle = np.flatnonzero(vis & ~tiny & ~big)  # this frame's own paths (a band holds few of them)
    own = dict(_class_fill_paths(layer, middle, ctx.settings.map_to_pixel,  # built per frame: fewer, larger
                                 AA_FILL_CHUNK_RINGS if antialias else FILL_CHUNK_RINGS))
    classes = [c for c in layer.class_order if c in own or any(c == g for g, _ in groups)]
    kept_paths = dict(groups)
    transform = map_transform(ctx.settings, origin)
    opacity = float(style.fill_opacity)
    with _fills(ctx, opacity, antialias, [layer.fill_colours[c] for c in classes]) as (p, brush):
        for c in classes:
            p.setBrush(brush(layer.fill_colours[c]))
            _draw_map_and_own(p, transform, kept_paths.get(c, ()), own.get(c, ()), cancelled)
    painter = ctx.painter
    if stroke is not None:
        painter.save()
        try:
            painter.setPen(hairline_pen(stroke, width_px))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for c in classes:
                _draw_map_and_own(painter, transform, kept_paths.get(c, ()), own.get(c, ()), cancelled)
        finally:
            painter.restore()
    if len(small):  # sub-pixel polygons: a dot in the class colour so they stay visible
        _draw_dots(ctx, layer, small, None)
    return int(np.count_nonzero(vis))


def _fill_layout(whole):
    """A whole polygon layer's features laid out in tiles per class (:func:`_class_layout`) and the local origin
    of their paths: ``(origin, {class: (members, starts, box)})``, kept on the layer."""
    kept = whole.__dict__.get("_fill_layout")
    if kept is not None and kept[0] is whole.coords and kept[1] is whole.cls:
        return kept[2]
    b = whole.bounds
    origin = (float(np.floor(np.nanmin(b[:, 0]))), float(np.floor(np.nanmin(b[:, 1])))) \
        if np.isfinite(b[:, 0]).any() else (0.0, 0.0)
    fp, offs = whole.feature_parts, whole.offsets
    layout = _class_layout(whole.cls, b, offs[fp[1:]] - offs[fp[:-1]])
    whole.__dict__["_fill_layout"] = (whole.coords, whole.cls, (origin, layout))
    return origin, layout


def _fill_tiles(whole, band: float, chunk: int):
    """A whole polygon layer's features of at least 2 × ``band`` (as :func:`_map_fills` keeps for a band) as
    fill paths in map units relative to a local origin, per class in the tiles of :func:`_fill_layout`
    (:class:`_MapTiles`, chunks of ``chunk`` rings): ``(origin, {class: tiles})``, kept on the layer
    (MAP_FILL_BANDS bands)."""
    kept = whole.__dict__.get("_fill_tiles")
    if kept is None or kept[0] is not whole.coords or kept[1] is not whole.cls:
        kept = whole.__dict__["_fill_tiles"] = (whole.coords, whole.cls, OrderedDict())
    bands = kept[2]
    hit = bands.get((band, chunk))
    if hit is not None:
        bands.move_to_end((band, chunk))
        return hit
    origin, layout = _fill_layout(whole)
    o = np.array(origin)
    big = _feature_sizes(whole) >= 2 * band
    _, every = _every_fill_tiles(whole, chunk)

    def build(feats, cancelled):
        got = _class_fill_paths(whole, feats[big[feats]], lambda xy: xy - o, chunk, cancelled)
        return None if got is None else [p for _, paths in got for p in paths]

    out = {}
    for c, (members, starts, box) in layout.items():
        # the tiles whose every feature the band keeps share the paths of every feature's tiles (the same ones)
        full = np.logical_and.reduceat(big[members], starts[:-1])
        out[c] = every[c] if full.all() else _MapTiles(members, starts, box, build, (every[c], full))
    bands[(band, chunk)] = hit = (origin, out)
    while len(bands) > MAP_FILL_BANDS:
        bands.popitem(last=False)
    return hit


def _every_fill_tiles(whole, chunk: int):
    """A whole polygon layer's features, all of them, as fill paths in the tiles of :func:`_fill_layout` (chunks
    of ``chunk`` rings): ``(origin, {class: tiles})``, kept on the layer per chunk. A band's tiles whose every
    feature it keeps (a grid's cells at every exact scale) share these tiles' paths, so they are built once, and
    can be built ahead (:func:`tile_paths_ahead`)."""
    kept = whole.__dict__.get("_every_fill_tiles")
    if kept is None or kept[0] is not whole.coords or kept[1] is not whole.cls:
        kept = whole.__dict__["_every_fill_tiles"] = (whole.coords, whole.cls, {})
    hit = kept[2].get(chunk)
    if hit is None:
        origin, layout = _fill_layout(whole)
        o = np.array(origin)

        def build(feats, cancelled):
            got = _class_fill_paths(whole, feats, lambda xy: xy - o, chunk, cancelled)
            return None if got is None else [p for _, paths in got for p in paths]

        hit = kept[2].setdefault(chunk, (origin, {c: _MapTiles(*lay, build) for c, lay in layout.items()}))
    return hit


def _box_distance(box: np.ndarray, centre, aspect: float) -> np.ndarray:
    """How far boxes lie from ``centre`` (0 for those holding it): the half height of the smallest box of width over
    height ``aspect`` about ``centre`` that meets them. The tiles within ``d`` are those meeting that box."""
    dx = np.maximum(np.maximum(box[:, 0] - centre[0], centre[0] - box[:, 2]), 0.0)
    dy = np.maximum(np.maximum(box[:, 1] - centre[1], centre[1] - box[:, 3]), 0.0)
    return np.maximum(dx / aspect, dy)


AHEAD_VERTICES = 3_000_000  # tile paths built ahead while a layer's kept tiles hold fewer (24 B a vertex)


def tile_paths_ahead(layer, centre=None, cancelled=None, budget: int | None = None, aspect: float = 1.0):
    """Build the paths of a lazy line or polygon layer's exact map-space tiles (:func:`lay_out_tiles`) not built
    yet, the tiles nearest ``centre`` (map x, y; :func:`_box_distance` with ``aspect``, a view's width over its
    height: the tiles built are those meeting a box of the view's shape about it) first, until the layer's built
    tiles hold ``budget`` vertices (default AHEAD_VERTICES): a generator building one tile a step, what the first
    views at exact scales (a 10× zoom onto new ground) would otherwise build on touching them. The canvas runs it
    in idle time, in short slices, and drops it when a render starts (``cancelled`` is also checked inside a
    tile's build). A polygon layer's tiles are those of every feature (:func:`_every_fill_tiles`) in the chunks
    its fills take (outlined or not), built only when its map-space fills apply. ×10 city: the lifelines' 2,659
    tiles (2.3M vertices) 0.26 s and 47 MB, the grid cells' 409 (0.36M vertices) 0.05 s, once a session."""
    is_cancelled = cancelled or (lambda: False)
    budget = AHEAD_VERTICES if budget is None else budget
    whole = layer.exact_layer() if hasattr(layer, "exact_layer") else layer  # (an eager layer is its own whole)
    if whole.kind == "line" and len(whole.coords):
        _, tiles = _line_tiles(whole)
        vertices = np.diff(whole.offsets)  # per part
    elif whole.kind == "polygon" and len(whole.coords):
        present = _present_classes(whole)
        strokes = {whole.stroke_colours[c] for c in present}
        if not all(whole.fill_colours[c] for c in present) or (
                any(strokes) and (len(strokes) > 1 or whole.layer_def.style.dash != "solid")):
            return
        _, tiles = _every_fill_tiles(whole, MAP_FILL_CHUNK_RINGS if any(strokes) else AA_FILL_CHUNK_RINGS)
        fp, offs = whole.feature_parts, whole.offsets
        vertices = offs[fp[1:]] - offs[fp[:-1]]  # per feature
    else:
        return
    todo, sizes, kept = [], [], 0
    for t in tiles.values():
        n = np.add.reduceat(vertices[t.members], t.starts[:-1]) if len(t.members) else np.zeros(0, dtype=np.int64)
        unbuilt = t.unbuilt()
        kept += int(n.sum() - n[unbuilt].sum())
        todo.extend((t, k) for k in unbuilt.tolist())
        sizes.extend(n[unbuilt].tolist())
    if centre is not None and todo:
        b = np.array([t.box[k] for t, k in todo])
        d = _box_distance(b, centre, aspect)
        order = np.argsort(d, kind="stable").tolist()
        todo, sizes = [todo[i] for i in order], [sizes[i] for i in order]
    for (t, k), n in zip(todo, sizes):
        if kept >= budget or is_cancelled() or t.build_tile(k, is_cancelled) is None:
            return
        kept += n
        yield


def prepare_exact_views(layer, view: MapSettings, cancelled=None) -> None:
    """A lazy line or polygon layer made ready for zooming in from ``view`` before it is shown: its level of detail
    at each scale decided (:meth:`riskmap.render.lazy.LazyPrepared.decide_levels`), its exact tiles laid out
    (:func:`lay_out_tiles`) and their paths built ahead (:func:`tile_paths_ahead`, the tiles nearest the view's
    centre first), all of it on the caller's thread. The window loads a large layer read by view so, in the
    background, before handing it to the map (where the canvas would otherwise lay out and build in idle time
    after the layer's first frame: a 10× zoom in that moment built its tiles' paths itself, ×10 city 64–76 ms
    instead of 34–49). Nothing to do for other layers or one not read yet."""
    if not getattr(layer, "shape_arrays", False) or not layer.loaded():
        return
    layer.decide_levels(view.resolution, cancelled)
    lay_out_tiles(layer)
    x0, y0, x1, y1 = view.extent
    for _ in tile_paths_ahead(layer, ((x0 + x1) / 2, (y0 + y1) / 2), cancelled,
                              aspect=(x1 - x0) / max(y1 - y0, 1e-9)):
        pass


def _draw_map_and_own(p: QPainter, transform, map_paths, own_paths, cancelled) -> None:
    if map_paths:
        p.save()
        p.setTransform(transform, True)
        for path in map_paths:
            if cancelled():
                break
            draw_path(p, path)
        p.restore()
    for path in own_paths:
        if cancelled():
            break
        draw_path(p, path)


def _draw_dots(ctx: _Ctx, layer, feats, halo) -> None:
    b = layer.bounds[feats]
    centres = ctx.settings.map_to_pixel(np.column_stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2]))
    cls = layer.cls[feats]
    painter = ctx.painter
    width = max(MIN_FEATURE_PX * 1.2, 0.3 * ctx.ppmm)
    present = set(np.unique(cls).tolist())
    for c in [c for c in layer.class_order if c in present]:  # highest risk last, on top: a red cell is never hidden
        colour = halo or layer.fill_colours[c] or layer.stroke_colours[c]
        if not colour:
            continue
        pts = np.ascontiguousarray(centres[cls == c], dtype=np.float64)
        pen = QPen(QColor(colour), width)
        pen.setCapStyle(Qt.PenCapStyle.SquareCap)
        painter.setPen(pen)
        painter.drawPoints(shiboken6.wrapInstance(pts.ctypes.data, QPointF), len(pts))


# ------------------------------------------------------------------------------------------ selection


def _paint_selection(ctx: _Ctx, layer: PreparedLayer, feats: np.ndarray) -> None:
    if not len(feats) or layer.kind == "raster":
        return
    never = lambda: False  # noqa: E731
    ctx.painter.save()
    try:
        if layer.kind == "point":
            _paint_points(ctx, layer, never, only=feats, halo=SELECTION_COLOUR)
        elif layer.kind == "line":
            _paint_lines(ctx, layer, never, only=feats, halo=SELECTION_COLOUR)
        else:
            _paint_polygons(ctx, layer, never, only=feats, halo=SELECTION_COLOUR)
    finally:
        ctx.painter.restore()
