"""The map canvas: a native Qt widget showing the workspace's layers through the shared renderer.

QGIS-style: every view is rendered off the GUI thread into an image (``riskmap.render.image.RenderJob``
on a worker thread); the widget shows the latest finished image, moved and scaled to the current view while
the user pans or zooms, and asks for a new render when the movement ends. A newer render cancels the
older one. Rendering takes two passes: the map frame without labels is shown as soon as it is done, then
the labels, placed and painted off the GUI thread into a transparent image of their own
(``riskmap.render.image.LabelJob``), are drawn over it; a zoom cancels labels still being placed, and the
label image is kept while only the selection or the frame changes. Frame and labels together equal the
one-pass ``render`` that print and export use. Decorations (scale bar, north arrow), the selection flash,
rubber bands and map-tool overlays are painted on top by the widget itself.

Map tools (pan, zoom box, identify, select, and the planning tools of other modules) are
:class:`riskmap.ui.map_tools.MapTool` objects set with :meth:`MapCanvas.set_map_tool`.
"""

from __future__ import annotations

import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from riskmap.marks import DEMO_MARK
from riskmap.render.fonts import ensure_fonts, map_font
from riskmap.render.image import LabelJob, RenderJob
from riskmap.render.native import draw_image, draw_image_rect
from riskmap.render.scroll import SCROLL_MAX_SHARE, ScrollJob, scroll_shift, uncovered_share
from riskmap.render.settings import MapSettings
from riskmap.ui.i18n import joined, tr
from riskmap.ui.tiles import TileLayer, TileStore, ViewGeometry, draw_tiles, tiles_for_view

WHEEL_STEP = 1.25  # zoom factor per wheel notch
KEY_ZOOM = 2.0
KEY_PAN = 0.25  # fraction of the view per arrow key press
RENDER_DELAY_MS = 180  # after the last wheel notch / key press
PREVIEW_DELAY_MS = 60  # a view rendered at once shows the old frame moved only if its own is not there by then
HISTORY = 50
FLASH_TIMES = 6
FLASH_MS = 180
MIN_SCALE, MAX_SCALE = 200.0, 20_000_000.0


class _Relay(QObject):
    """Carries finished render jobs from the worker thread to the GUI thread."""

    finished = Signal(object)


def _render_executor() -> ThreadPoolExecutor:
    """One long-lived Python worker thread for all canvases (see riskmap.ui.tasks.executor for why not
    QThreadPool); a newer render cancels the older one, so one thread is enough."""
    global _RENDER_EXECUTOR
    if _RENDER_EXECUTOR is None:
        _RENDER_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskmap-render")
    return _RENDER_EXECUTOR


_RENDER_EXECUTOR: ThreadPoolExecutor | None = None


AHEAD_SLICE_S = 0.004  # idle work building tile paths ahead runs on the render worker in slices of about this long


class _PathsAhead:
    """The paths of lazy lines' and polygons' exact tiles built ahead on the render worker in idle time
    (riskmap.render.painter.tile_paths_ahead), layer after layer, the tiles nearest ``centre`` first, in slices of
    about AHEAD_SLICE_S: each slice queues the next behind whatever the worker was given meanwhile, so a render
    asked for waits one slice at most, and a new render cancels the build (:meth:`cancel`; the next frame starts
    another where this one stopped). Holds no widget: a canvas gone meanwhile leaves it harmless."""

    def __init__(self, layers: list, centre, aspect: float, finished: list):
        self.layers = list(layers)  # (prepared layer, version) still to build
        self.centre, self.aspect = centre, aspect
        self.finished = finished  # (prepared layer, version) appended when its build ahead is complete
        self.cancelled = threading.Event()
        self._steps = None
        self.slices = 0
        self.done = False  # every layer's tiles built

    def cancel(self) -> None:
        self.cancelled.set()

    def start(self):
        return _render_executor().submit(self.run_slice)

    def run_slice(self) -> None:
        """One slice, on the render worker: build tiles until AHEAD_SLICE_S has passed, then queue the next slice."""
        self.slices += 1
        try:
            self._run(time.perf_counter() + AHEAD_SLICE_S)
        except Exception:  # (a layer dropped or failing meanwhile: nothing to build ahead; its frames report it)
            self.done = True

    def _run(self, deadline: float) -> None:
        from riskmap.render.painter import tile_paths_ahead

        while not self.cancelled.is_set():
            if self._steps is None:
                if not self.layers:
                    self.done = True
                    return
                self._steps = tile_paths_ahead(self.layers[0][0], self.centre, self.cancelled.is_set,
                                               aspect=self.aspect)
            try:
                next(self._steps)
            except StopIteration:
                self._steps = None
                if not self.cancelled.is_set():
                    self.finished.append(self.layers.pop(0))
                continue
            if time.perf_counter() >= deadline:
                if not self.cancelled.is_set():
                    self.start()
                return


def _run_job(job: RenderJob, relay: _Relay) -> None:
    job.run()
    try:
        relay.finished.emit(job)
    except RuntimeError:  # the canvas went away meanwhile
        pass


class MapCanvas(QWidget):
    """The map view of a :class:`~riskmap.ui.workspace.Workspace`."""

    extentChanged = Signal()  # the view settled (after pan/zoom); a render follows
    viewChanged = Signal()  # any change of the view, also during a drag
    cursorMoved = Signal(float, float)  # map coordinates under the mouse
    renderStarted = Signal()
    renderFinished = Signal(float)  # seconds the render took (the map frame; labels follow)
    labelsFinished = Signal(float)  # seconds from the render's start until its labels were shown
    featuresIdentified = Signal(list, float, float)  # [(layer id, feature id)], map x, y
    tilesUnavailable = Signal(str)  # message, once per tile source
    lodChanged = Signal()  # the layers drawn as aggregates changed (see ``aggregated``)

    def __init__(self, workspace, parent: QWidget | None = None, tile_store: TileStore | None = None):
        super().__init__(parent)
        ensure_fonts()
        self.workspace = workspace
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.background = QColor("#FFFFFF")
        self.view = MapSettings((0, 0, 1000, 1000), max(self.width(), 1), max(self.height(), 1), 96.0,
                                crs_epsg=workspace.map_epsg)
        self._image: QImage | None = None
        self._image_view: MapSettings | None = None
        self._image_rsettings: MapSettings | None = None
        self._image_frame_key = None
        self._image_seq = -1
        self._seq = 0
        self._job: RenderJob | None = None
        self._job_seq = -1
        self._labels: QImage | None = None  # the label pass: its image, view, layer state and job
        self._labels_view: MapSettings | None = None
        self._labels_key = None
        self._label_job: LabelJob | None = None
        self._image_key = None  # the label key of the frame shown
        self._relay = _Relay()
        self._relay.finished.connect(self._job_done)
        self._futures: list = []
        self._indexing: set = set()  # ids of lazy layers whose index the render worker is building
        self._tiled = weakref.WeakKeyDictionary()  # lazy lines and polygons whose exact tiles are laid out: version
        self._ahead: _PathsAhead | None = None  # the tile paths being built ahead in idle time
        self._ahead_built = weakref.WeakKeyDictionary()  # lazy layers whose tile paths are built ahead: version
        self._ahead_finished: list = []  # (layer, version) the worker has finished, taken into _ahead_built
        self._render_timer = QTimer(self, singleShot=True, timeout=self._start_render)
        self._tile_timer = QTimer(self, singleShot=True, timeout=self._compose_tiles)
        self._preview_timer = QTimer(self, singleShot=True, timeout=self.update)
        self.last_render_s = 0.0
        self.render_count = 0
        self.decorations = True
        self.demo_mark = False
        self.asof_mark = ""  # "截至 YYYY-MM-DD" while the map shows a past date (riskmap.ui.timeline)
        self.aggregated: tuple[str, ...] = ()  # ids of the layers the shown frame draws as aggregates
        self.overlays: list = []  # callables (painter, view) painted over the map, e.g. the change layer
        self.history: list[tuple] = []
        self.history_pos = -1
        self._navigating = False
        self._drag_start = None
        self._drag_view = None
        self._mid_pan = False
        self.flash_geoms: list = []
        self._flash_left = 0
        self._flash_on = False
        self._flash_timer = QTimer(self, interval=FLASH_MS, timeout=self._flash_step)
        # tiles
        self.tile_store = tile_store
        self.tile_layers: list[TileLayer] = []
        self._tile_image: QImage | None = None
        self._tile_view: MapSettings | None = None
        self._geom_cache: ViewGeometry | None = None
        if tile_store is not None:
            tile_store.tileReady.connect(lambda *_: self._tile_timer.start(60))
            tile_store.unavailable.connect(self._tiles_failed)
        # tools
        from riskmap.ui.map_tools import PanTool

        self.pan_tool = PanTool(self)
        self.map_tool = self.pan_tool
        self.setCursor(self.map_tool.cursor)
        workspace.layersReset.connect(self._layers_reset)
        workspace.layerChanged.connect(lambda *_: self.refresh())
        workspace.orderChanged.connect(self.refresh)
        workspace.selectionChanged.connect(lambda *_: self.refresh())
        workspace.labelsChanged.connect(self.refresh)

    # ------------------------------------------------------------------ view
    @property
    def settings(self) -> MapSettings:
        return self.view

    def scale(self) -> float:
        return self.view.scale_denominator()

    def set_view(self, view: MapSettings, *, settle: bool = True, delay: int = 0, now: bool = False) -> None:
        res = view.resolution
        lo = MIN_SCALE * 0.0254 / view.dpi
        hi = MAX_SCALE * 0.0254 / view.dpi
        if res < lo or res > hi:
            view = view.zoomed(res / min(max(res, lo), hi))
        if self._label_job is not None and abs(view.resolution / self.view.resolution - 1.0) > 1e-9:
            self._label_job.cancel()  # labels of another scale are of no use (a pan keeps them: they move along)
        self.view = view
        if settle and now:  # the render first: the worker starts while the GUI thread runs the view's listeners
            self.refresh(now=True)
        self.viewChanged.emit()
        if settle and now:  # the old frame moved only if the new one is late: painting it beside the render
            self._preview_timer.start(PREVIEW_DELAY_MS)  # (5-8 ms of the GUI thread) slowed a city's 10× zoom
        else:
            self.update()
        if settle:
            self._settled(delay, now)

    def _settled(self, delay: int = 0, started: bool = False) -> None:
        if not self._navigating:
            ext = self.view.extent
            if self.history_pos < 0 or not _same_extent(self.history[self.history_pos], ext):
                del self.history[self.history_pos + 1:]
                self.history.append(ext)
                del self.history[:-HISTORY]
                self.history_pos = len(self.history) - 1
        self.extentChanged.emit()
        if not started:
            self.refresh(delay)

    def set_extent(self, extent, margin: float = 0.05) -> None:
        """Show ``extent`` (map CRS) with a margin (fraction of its size)."""
        xmin, ymin, xmax, ymax = extent
        w, h = xmax - xmin, ymax - ymin
        if w <= 0 and h <= 0:
            self.set_view(MapSettings.at_scale(((xmin + xmax) / 2, (ymin + ymax) / 2), 10_000, self.view.width_px,
                                               self.view.height_px, self.view.dpi, crs_epsg=self.workspace.map_epsg))
            return
        dx, dy = w * margin, h * margin
        self.set_view(MapSettings((xmin - dx, ymin - dy, xmax + dx, ymax + dy), self.view.width_px,
                                  self.view.height_px, self.view.dpi, crs_epsg=self.workspace.map_epsg))

    def set_scale(self, denominator: float) -> None:
        self.set_view(MapSettings.at_scale(self.view.centre, denominator, self.view.width_px, self.view.height_px,
                                           self.view.dpi, crs_epsg=self.workspace.map_epsg))

    def centre_on(self, x: float, y: float, scale: float | None = None) -> None:
        self.set_view(MapSettings.at_scale((x, y), scale or self.scale(), self.view.width_px, self.view.height_px,
                                           self.view.dpi, crs_epsg=self.workspace.map_epsg))

    def zoom_by(self, factor: float, about: tuple[float, float] | None = None, delay: int = 0) -> None:
        """Zoom by ``factor`` about the pixel ``about`` (default: the centre); rendered ``delay`` ms later, or at
        once (before the moved image is painted and the view's listeners run: the x10 city's 10x zoom about 4.5 ms
        sooner on the worker)."""
        self.set_view(self.view.zoomed(factor, about), delay=delay, now=delay <= 0)

    def zoom_in(self) -> None:
        self.zoom_by(KEY_ZOOM, delay=RENDER_DELAY_MS)

    def zoom_out(self) -> None:
        self.zoom_by(1 / KEY_ZOOM, delay=RENDER_DELAY_MS)

    def pan_by(self, dx_px: float, dy_px: float, settle: bool = True, delay: int = 0) -> None:
        self.set_view(self.view.panned(dx_px, dy_px), settle=settle, delay=delay)

    def zoom_full(self) -> None:
        ext = self.workspace.full_extent()
        if ext is not None:
            self.set_extent(ext)

    def zoom_to_layer(self, layer_id: str) -> None:
        ext = self.workspace.layer_extent(layer_id)
        if ext is not None:
            self.set_extent(ext)

    def zoom_to_selection(self) -> None:
        ext = self.workspace.selection_extent()
        if ext is not None:
            self.set_extent(ext, margin=0.15)

    def zoom_to_feature(self, layer_id: str, feature_id: int, flash: bool = True, scale: float = 10_000) -> None:
        geom = self.workspace.geometry_of(layer_id, feature_id)
        if geom is None or geom.is_empty:
            return
        xmin, ymin, xmax, ymax = geom.bounds
        if xmax - xmin < 50 and ymax - ymin < 50:
            c = geom.centroid
            self.centre_on(c.x, c.y, min(self.scale(), scale) if self.scale() < scale * 1.5 else scale)
        else:
            self.set_extent(geom.bounds, margin=0.25)
        if flash:
            self.flash([geom])

    def can_go_back(self) -> bool:
        return self.history_pos > 0

    def can_go_forward(self) -> bool:
        return 0 <= self.history_pos < len(self.history) - 1

    def zoom_previous(self) -> None:
        if self.can_go_back():
            self._go(self.history_pos - 1)

    def zoom_next(self) -> None:
        if self.can_go_forward():
            self._go(self.history_pos + 1)

    def _go(self, pos: int) -> None:
        self.history_pos = pos
        self._navigating = True
        try:
            self.set_extent(self.history[pos], margin=0.0)
        finally:
            self._navigating = False

    def map_point(self, px: float, py: float) -> tuple[float, float]:
        x, y = self.view.pixel_to_map(px, py)
        return float(x), float(y)

    def pixel_point(self, x: float, y: float) -> QPointF:
        px, py = self.view.map_to_pixel(x, y)
        return QPointF(float(px), float(py))

    def pixel_tolerance(self, px: float = 4.0) -> float:
        """``px`` screen pixels in map units."""
        return px * self.view.resolution

    # ------------------------------------------------------------------ workspace events
    def _layers_reset(self) -> None:
        self._image = None
        self._image_view = None
        self._labels = None
        self._labels_view = self._labels_key = None
        self._tile_image = None
        self._geom_cache = None
        self.view = MapSettings(self.view.extent, self.view.width_px, self.view.height_px, self.view.dpi,
                                crs_epsg=self.workspace.map_epsg)
        self.history, self.history_pos = [], -1
        self.zoom_full()

    # ------------------------------------------------------------------ rendering
    def refresh(self, delay: int = 0, *, now: bool = False) -> None:
        """Ask for a new render of the current view (``delay`` ms later, coalescing requests; ``now``: started
        on the render worker before returning)."""
        self._gate(True)
        if self.tile_layers:
            self._tile_timer.start(max(0, int(delay)))
        if now:
            self._render_timer.stop()
            self._start_render()
        else:
            self._render_timer.start(max(0, int(delay)))

    def render_layers(self):
        """(prepared layers in the user's drawing order, opacity map) of the visible layers."""
        out, opacity = [], {}
        for layer in self.workspace.visible_layers():
            out.append(layer.prepared)  # its z is its place in the user's order (Workspace.sync_z)
            if layer.opacity < 1.0:
                opacity[layer.id] = layer.opacity
        return out, opacity

    def render_job(self, view: MapSettings | None = None, *, labels: bool | None = None) -> RenderJob:
        """A one-pass render of ``view`` (default: the current one) as print and export draw it; with
        ``labels=False`` the map frame of the canvas's first pass."""
        view = view or self.view
        dpr = self.devicePixelRatioF() or 1.0
        rview = view if dpr == 1.0 else view.with_dpi(view.dpi * dpr)
        layers, opacity = self.render_layers()
        selection = {k: set(v.tolist()) for k, v in self.workspace.selection.items() if len(v)}
        job = RenderJob(rview, layers, background="", labels=self.workspace.labels if labels is None else labels,
                        opacity=opacity, selection=selection)
        job.view = view
        job.dpr = dpr
        return job

    def label_job(self, view: MapSettings | None = None) -> LabelJob:
        """The canvas's second pass: the labels of ``view`` alone on a transparent image."""
        view = view or self.view
        dpr = self.devicePixelRatioF() or 1.0
        rview = view if dpr == 1.0 else view.with_dpi(view.dpi * dpr)
        layers, opacity = self.render_layers()
        job = LabelJob(rview, layers, opacity=opacity)
        job.view = view
        job.dpr = dpr
        job.key = self._label_key(view)
        return job

    def _label_key(self, view: MapSettings):
        """What the labels depend on (the view, the labelled layers and their data), None when labels are off.
        The selection is not part of it: selecting keeps the label image."""
        if not self.workspace.labels:
            return None
        state = tuple((layer.id, layer.version, id(layer.prepared), layer.prepared.version, layer.prepared.z,
                       layer.opacity > 0) for layer in self.workspace.visible_layers())
        return view, self.devicePixelRatioF() or 1.0, state

    def _start_render(self) -> None:
        if not self.workspace.layers or self.width() < 2:
            self._gate(self._job is not None)
            return
        if self._job is not None:
            self._job.cancel()
        self._cancel_ahead()
        self._seq += 1
        job = self._scroll_job(self.render_job(labels=False))
        job.seq = self._seq
        job.t0 = time.perf_counter()
        job.label_key = self._label_key(self.view)
        self._job = job
        self.renderStarted.emit()
        self._futures = [f for f in self._futures if not f.done()]
        self._futures.append(_render_executor().submit(_run_job, job, self._relay))
        self._gate(True)
        key = job.label_key
        pending = self._label_job
        if pending is not None and (pending.key != key or pending.cancelled):
            pending.cancel()
            pending = self._label_job = None
        if key is None or key == self._labels_key or pending is not None:
            return  # no labels, the label image is still right, or its job is on the way
        ljob = self.label_job()
        ljob.t0 = job.t0
        ljob.submitted = False  # queued when a frame is done (_submit_labels)
        self._label_job = ljob

    def _submit_labels(self) -> None:
        """Queue the label pass waiting for a frame, once the frame is taken: started with the frame, the label
        pass held the GIL while the GUI thread waited to take the frame (×10 city's 10× zoom: 1.3–6 ms)."""
        ljob = self._label_job
        if ljob is None or getattr(ljob, "submitted", True):
            return
        if ljob.cancelled:
            self._label_job = None
            return
        ljob.submitted = True
        self._futures = [f for f in self._futures if not f.done()]
        self._futures.append(_render_executor().submit(_run_job, ljob, self._relay))

    def _frame_key(self):
        """What the map frame (no labels) depends on besides the view: the visible layers' data, order, opacity
        and the selection (a frame drawn with the same key can be moved by a pan: riskmap.render.scroll)."""
        state = tuple((layer.id, layer.version, id(layer.prepared), getattr(layer.prepared, "version", 0),
                       getattr(layer.prepared, "z", 0), layer.opacity) for layer in self.workspace.visible_layers())
        selection = tuple(sorted((k, len(v), hash(np.asarray(v).tobytes()))
                                 for k, v in self.workspace.selection.items() if len(v)))
        return self.devicePixelRatioF() or 1.0, state, selection

    def _scroll_job(self, job: RenderJob) -> RenderJob:
        """``job``, or a :class:`~riskmap.render.scroll.ScrollJob` starting from the frame shown when the view is
        that frame's moved by whole pixels and nothing else changed (only the uncovered strips are rendered); a
        refresh of the same view draws it whole."""
        job.frame_key = key = self._frame_key()
        if self._image is None or self._image_rsettings is None or key != self._image_frame_key or self.aggregated:
            return job  # (aggregates of the last frame took the points of its view only)
        s = job.settings
        shift = scroll_shift(self._image_rsettings, s)
        if shift is None or shift == (0, 0) or uncovered_share(s.width_px, s.height_px, *shift) > SCROLL_MAX_SHARE:
            return job
        out = ScrollJob(s, job.layers, self._image, self._image_rsettings, **job.kw)
        out.view, out.dpr, out.frame_key = job.view, job.dpr, key
        return out

    def _job_done(self, job: RenderJob) -> None:
        if isinstance(job, LabelJob):
            self._labels_done(job)
            return
        if job is self._job:
            self._job = None
            self._gate(self._render_timer.isActive())
        try:
            if job.error is not None:
                from riskmap.ui.errors import show_error

                show_error(self, job.error)
                return
            if job.image is None or job.seq < self._image_seq:
                return
            self._accept(job)
            self.last_render_s = time.perf_counter() - job.t0
            self.renderFinished.emit(self.last_render_s)
        finally:
            self._submit_labels()
        self._spares_in_idle_time()
        self._index_in_idle_time()
        self._tiles_in_idle_time()
        self._paths_in_idle_time()

    def _spares_in_idle_time(self) -> None:
        """After a frame: the images no frame or layer uses any more (the frame just replaced among them) cleared
        on the render worker behind the labels (riskmap.render.painter.clear_spare_images), so that the next
        frame takes them clear: at a new view, the frame and each large layer's image (×10 city's 10× zoom: six
        images, 0.35–1 ms each, off the frame's time)."""
        from riskmap.render.painter import clear_spare_images

        self._futures = [f for f in self._futures if not f.done()]
        self._futures.append(_render_executor().submit(clear_spare_images))

    def _index_in_idle_time(self) -> None:
        """After a frame: the shown lazy layers' spatial indexes (LazyPrepared.build_index) built on the render
        worker behind the jobs queued so far, once each, so that the first view of part of a large layer finds
        its rows through the bins instead of passing over every row (×10 city: 1M enterprises 24 ms, 200k
        lifelines 7 ms of building, once a session; a 10× view's rows then 0.5 ms instead of 2–3 ms)."""
        for layer in self.workspace.visible_layers():
            prep = layer.prepared
            if not getattr(prep, "lazy", False) or id(prep) in self._indexing or not prep.needs_index():
                continue
            self._indexing.add(id(prep))

            def build(prep=prep, key=id(prep)):
                try:
                    if prep.needs_index():
                        prep.build_index()
                finally:
                    self._indexing.discard(key)
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(_render_executor().submit(build))

    def _tiles_in_idle_time(self) -> None:
        """After a frame: the shown lazy lines' and polygons' exact whole layer and its map-space tiles laid out
        (riskmap.render.painter.lay_out_tiles) on the render worker behind the jobs queued so far, once per layer
        and version, so that the first view at an exact scale (a 10× zoom) builds only the paths of the tiles it
        meets (×10 city: about 60 ms of CPU once a session: the lifelines' 200k parts binned and their exact whole
        made). Building every tile's paths ahead too (2.3M vertices, about 0.3 s of CPU and 55 MB) was measured
        and left out (bench, load 3–5): the first 10× zoom 120 ms instead of 165–226 on the GeoPackage but
        195–248 instead of 159–194 on PostGIS, whose peak memory rose to 932 MB (all of them in one task on the
        render worker). They are now built after this, in short slices that a render cancels
        (:meth:`_paths_in_idle_time`). The window's loading does both for the shown large layers it reads, before
        it hands them over (riskmap.render.painter.prepare_exact_views): here they are found done; this is for a
        layer shown later, or read again after a change."""
        from riskmap.render.painter import lay_out_tiles

        for layer in self.workspace.visible_layers():
            prep = layer.prepared
            if not getattr(prep, "lazy", False) or not getattr(prep, "shape_arrays", False) or not prep.loaded() \
                    or self._tiled.get(prep) == prep.version:
                continue
            self._tiled[prep] = prep.version
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(_render_executor().submit(lay_out_tiles, prep))

    def _paths_in_idle_time(self) -> None:
        """After a frame: the paths of the shown lazy lines' and polygons' exact tiles built ahead on the render
        worker (:class:`_PathsAhead`, behind the tiles' layout; riskmap.render.painter.tile_paths_ahead: nearest
        the view's centre first, up to its budget of vertices), so that a 10× zoom onto new ground strokes and fills them without building them (×10 city: the
        lifelines' and grid cells' 2.7M vertices, about 0.3 s of CPU and 65 MB once a session; cold 10× frames
        45–63 ms instead of 58–100, bench peak memory 815–866 MB instead of 746–751). A render cancels the build;
        the next frame takes it up again where it stopped."""
        while self._ahead_finished:
            prep, version = self._ahead_finished.pop()
            self._ahead_built[prep] = version
        if self._ahead is not None and not self._ahead.cancelled.is_set() and not self._ahead.done:
            return  # still building
        todo = []
        for prep in [layer.prepared for layer in self.workspace.visible_layers()]:
            if getattr(prep, "lazy", False) and getattr(prep, "shape_arrays", False) and prep.loaded() \
                    and self._tiled.get(prep) == prep.version and self._ahead_built.get(prep) != prep.version:
                todo.append((prep, prep.version))
        if not todo:
            return
        x0, y0, x1, y1 = self.view.extent
        self._ahead = _PathsAhead(todo, ((x0 + x1) / 2, (y0 + y1) / 2), (x1 - x0) / max(y1 - y0, 1e-9),
                                  self._ahead_finished)
        self._futures = [f for f in self._futures if not f.done()]
        self._futures.append(self._ahead.start())

    def _cancel_ahead(self) -> None:
        if self._ahead is not None:
            self._ahead.cancel()
            self._ahead = None

    def idle_work_pending(self) -> bool:
        """Whether the work queued in idle time after the last frame (large layers' indexes, tiles laid out,
        their paths built ahead) is still running: the benchmark waits for it to measure a zoom a user makes
        after looking at the map for a moment."""
        ahead = self._ahead
        if ahead is not None and not ahead.done and not ahead.cancelled.is_set():
            return True
        return any(not f.done() for f in self._futures)

    def _labels_done(self, job: LabelJob) -> None:
        if job is self._label_job:
            self._label_job = None
        if job.error is not None:
            from riskmap.ui.errors import show_error

            show_error(self, job.error)
            return
        if job.image is None or job.key != self._image_key:
            return  # cancelled, or the frame shown now has other labels
        self._accept_labels(job)
        self.labelsFinished.emit(time.perf_counter() - job.t0)

    def _accept(self, job: RenderJob) -> None:
        img = job.image
        if job.dpr != 1.0:
            img.setDevicePixelRatio(job.dpr)
        self._image = img
        self._image_view = job.view
        self._image_rsettings = job.settings  # the device pixels' view, and what else the frame was drawn from
        self._image_frame_key = getattr(job, "frame_key", None)
        self._image_seq = getattr(job, "seq", self._seq)
        self._set_aggregated(tuple(job.stats.aggregated) if job.stats is not None else ())
        key = self._image_key = getattr(job, "label_key", None)
        if key != self._labels_key:  # labels of another view or other layers: gone until the new ones come
            self._labels = None
            self._labels_view = self._labels_key = None
        self.render_count += 1
        self._preview_timer.stop()
        self.update()

    def _set_aggregated(self, ids: tuple[str, ...]) -> None:
        """Lazy layers drawn as aggregates in the frame shown: their titles (legend) and the canvas's note say so."""
        for layer in self.workspace.layers:
            if getattr(layer, "lazy", False):
                layer.prepared.aggregated = layer.id in ids
        if ids != self.aggregated:
            self.aggregated = ids
            # once the frame is painted: the legend's rebuild (1.5 ms) came before it, on a zoom in or out of them
            QTimer.singleShot(0, self, self.lodChanged.emit)

    def aggregated_note(self) -> str:
        """The canvas's note while symbols are aggregated ('' when none is)."""
        if not self.aggregated:
            return ""
        names = joined(self.workspace.layer(i).title(self.workspace.lang) for i in self.aggregated
                       if self.workspace.has_layer(i))
        return tr("{names}已聚合：每个符号为一片区域内的最高等级，数字为其中的数量").format(names=names)

    def _accept_labels(self, job: LabelJob) -> None:
        img = job.image
        if job.dpr != 1.0:
            img.setDevicePixelRatio(job.dpr)
        self._labels = img
        self._labels_view = job.view
        self._labels_key = job.key
        self.update()

    def render_now(self) -> float:
        """Render the current view (both passes) on this thread (tests, export of the view); returns seconds."""
        self._render_timer.stop()
        for pending in (self._job, self._label_job):
            if pending is not None:
                pending.cancel()
        self._cancel_ahead()
        self._job = self._label_job = None
        t = time.perf_counter()
        self._seq += 1
        job = self.render_job(labels=False)
        job.seq = self._seq
        job.label_key = self._label_key(self.view)
        job.run()
        if job.error is not None:
            raise job.error
        if job.image is not None:
            self._accept(job)
        if job.label_key is not None and job.label_key != self._labels_key:
            ljob = self.label_job()
            ljob.run()
            if ljob.error is not None:
                raise ljob.error
            if ljob.image is not None:
                self._accept_labels(ljob)
        if self.tile_layers:
            self._compose_tiles()
        self._gate(False)
        self.last_render_s = time.perf_counter() - t
        return self.last_render_s

    def shutdown(self) -> None:
        """Stop timers and renders (before the canvas goes away)."""
        self._render_timer.stop()
        self._tile_timer.stop()
        self._flash_timer.stop()
        for pending in (self._job, self._label_job):
            if pending is not None:
                pending.cancel()
        self._cancel_ahead()
        self._gate(False)
        for f in self._futures:
            try:
                f.result(timeout=5)
            except Exception:  # reported through the job already
                pass
        self._futures = []

    def is_rendering(self) -> bool:
        """A render (map frame or labels) is asked for or running."""
        return self._job is not None or self._label_job is not None or self._render_timer.isActive()

    def has_current_image(self) -> bool:
        """The canvas shows the finished render of its current view, labels included."""
        return self._image is not None and self._image_view == self.view and not self.is_rendering()

    def _gate(self, busy: bool) -> None:
        """Background layer reads wait while a map frame is on the way (see workspace.map_drawing)."""
        from riskmap.ui.workspace import map_drawing

        map_drawing(self, busy)

    # ------------------------------------------------------------------ tiles
    def set_tile_layers(self, layers: list[TileLayer]) -> None:
        self.tile_layers = list(layers)
        self._tile_image = None
        self._compose_tiles()

    def _view_geometry(self) -> ViewGeometry:
        if self._geom_cache is None or self._geom_cache.epsg != self.workspace.map_epsg:
            self._geom_cache = ViewGeometry(self.workspace.map_epsg)
        return self._geom_cache

    def _compose_tiles(self) -> None:
        """Paint the tiles available for this view into the tile image (requests the missing ones)."""
        active = [t for t in self.tile_layers if t.visible]
        if self.tile_store is None or not active or not self.workspace.layers:
            if self._tile_image is not None:
                self._tile_image = None
                self.update()
            return
        view = self.view
        geom = self._view_geometry()
        img = QImage(view.width_px, view.height_px, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        keep = set()
        try:
            for layer in active:
                z, tiles = tiles_for_view(view, geom, layer.source)
                images = {}
                for x, y in tiles:
                    keep.add((layer.source.key, z, x, y))
                    images[(x, y)] = self.tile_store.image(layer.source, z, x, y)
                p.setOpacity(layer.opacity)
                draw_tiles(p, view, geom, z, images)
        finally:
            p.end()
        self.tile_store.cancel_outside(keep)
        self._tile_image = img
        self._tile_view = view
        self.update()

    def _tiles_failed(self, name: str, reason: str) -> None:
        self.tilesUnavailable.emit(tr("在线底图“{name}”不可用（{reason}），地图仍使用本地边界显示。")
                                   .format(name=name, reason=reason))

    # ------------------------------------------------------------------ flash
    def flash(self, geoms) -> None:
        """Blink the given geometries (map CRS) a few times."""
        self.flash_geoms = [g for g in geoms if g is not None and not g.is_empty]
        self._flash_left = FLASH_TIMES
        self._flash_on = True
        self._flash_timer.start()
        self.update()

    def _flash_step(self) -> None:
        self._flash_left -= 1
        self._flash_on = not self._flash_on
        if self._flash_left <= 0:
            self._flash_timer.stop()
            self._flash_on = False
            self.flash_geoms = []
        self.update()

    def geometry_path(self, geom) -> QPainterPath:
        """A widget-pixel QPainterPath of a map-CRS geometry (for overlays; small geometries only)."""
        path = QPainterPath()
        for part in shapely.get_parts(geom):
            if part.geom_type == "Polygon":
                rings = [part.exterior, *part.interiors]
            else:
                rings = [part]
            for ring in rings:
                xy = np.asarray(ring.coords)[:, :2]
                if not len(xy):
                    continue
                pts = self.view.map_to_pixel(xy)
                if part.geom_type == "Point" or len(pts) == 1:
                    path.addEllipse(QPointF(*pts[0]), 10, 10)
                    continue
                path.moveTo(*pts[0])
                for x, y in pts[1:]:
                    path.lineTo(x, y)
        return path

    # ------------------------------------------------------------------ painting
    def _draw_cached(self, painter: QPainter, img: QImage | None, img_view: MapSettings | None) -> None:
        if img is None or img_view is None:
            return
        # (through riskmap.render.native: the GIL released, the render worker's Python runs meanwhile)
        v = self.view
        if img_view == v:
            draw_image(painter, QPointF(0, 0), img)
            return
        if img_view.crs_epsg != v.crs_epsg:
            return
        s = img_view.resolution / v.resolution
        x0, y0 = v.map_to_pixel(img_view.extent[0], img_view.extent[3])
        target = QRectF(float(x0), float(y0), img_view.width_px * s, img_view.height_px * s)
        painter.save()
        if abs(s - 1.0) > 1e-9:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        draw_image_rect(painter, target, img)
        painter.restore()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self.background)
            self._draw_cached(painter, self._tile_image, self._tile_view)
            self._draw_cached(painter, self._image, self._image_view)
            self._draw_cached(painter, self._labels, self._labels_view)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            for overlay in list(self.overlays):
                overlay(painter, self.view)
            if self.asof_mark:
                self._paint_asof_mark(painter)
            if self.aggregated:
                self._paint_lod_note(painter)
            if self.flash_geoms and self._flash_on:
                pen = QPen(QColor("#FF1744"), 3)
                painter.setPen(pen)
                painter.setBrush(QColor(255, 23, 68, 60))
                for g in self.flash_geoms:
                    painter.drawPath(self.geometry_path(g))
            if self.decorations and self.workspace.layers:
                self._paint_decorations(painter)
            if self.map_tool is not None:
                self.map_tool.paint(painter)
        finally:
            painter.end()

    def _paint_decorations(self, painter: QPainter) -> None:
        try:
            from riskmap.render.decorations import draw_north_arrow, draw_scale_bar
        except ImportError:  # the renderer's decorations are optional for the canvas
            return
        v = self.view
        painter.save()
        try:
            draw_scale_bar(painter, v, QRectF(6, v.height_px - 60, min(360, v.width_px * 0.45), 52))
            draw_north_arrow(painter, QRectF(v.width_px - 44, 10, 28, 46))
        finally:
            painter.restore()
        if self.demo_mark:
            painter.save()
            painter.setFont(map_font(9))
            painter.setPen(QColor(120, 120, 120))
            painter.drawText(QRectF(0, 0, v.width_px - 10, v.height_px - 6),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom), DEMO_MARK)
            painter.restore()

    def _paint_lod_note(self, painter: QPainter) -> None:
        """The aggregation note at the top left (below the date mark), like the legend's title says it."""
        text = self.aggregated_note()
        painter.save()
        painter.setFont(map_font(9))
        fm = painter.fontMetrics()
        w = min(fm.horizontalAdvance(text) + 16, max(self.width() - 60, 80))
        top = 8 + (fm.height() + 16 if self.asof_mark else 0)
        box = QRectF(8, top, w, fm.height() + 8)
        painter.setPen(QPen(QColor("#5D4037"), 1))
        painter.setBrush(QColor(255, 248, 225, 230))
        painter.drawRoundedRect(box, 3, 3)
        painter.drawText(box.adjusted(6, 0, -6, 0), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         fm.elidedText(text, Qt.TextElideMode.ElideRight, int(w - 12)))
        painter.restore()

    def _paint_asof_mark(self, painter: QPainter) -> None:
        """The date the map shows, in a small box at the top left (like the 示例数据 mark, always on)."""
        painter.save()
        painter.setFont(map_font(10))
        fm = painter.fontMetrics()
        w = fm.horizontalAdvance(self.asof_mark) + 16
        box = QRectF(8, 8, w, fm.height() + 8)
        painter.setPen(QPen(QColor("#B71C1C"), 1))
        painter.setBrush(QColor(255, 255, 255, 225))
        painter.drawRoundedRect(box, 3, 3)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), self.asof_mark)
        painter.restore()

    # ------------------------------------------------------------------ events
    def resizeEvent(self, event) -> None:  # noqa: N802
        w, h = max(self.width(), 1), max(self.height(), 1)
        if (w, h) != (self.view.width_px, self.view.height_px):
            self.view = self.view.resized(w, h)
            self.refresh(RENDER_DELAY_MS // 2)
        super().resizeEvent(event)

    def set_map_tool(self, tool) -> None:
        if tool is None:
            tool = self.pan_tool
        if self.map_tool is not None and self.map_tool is not tool:
            self.map_tool.deactivate()
        self.map_tool = tool
        tool.activate()
        self.setCursor(tool.cursor)
        self.update()

    def mousePressEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.MiddleButton:
            self._mid_pan = True
            self._drag_start = ev.position()
            self._drag_view = self.view
            return
        self.map_tool.press(ev, self.map_point(ev.position().x(), ev.position().y()))

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        pos = ev.position()
        x, y = self.map_point(pos.x(), pos.y())
        self.cursorMoved.emit(x, y)
        if self._mid_pan and self._drag_start is not None:
            d = pos - self._drag_start
            self.set_view(self._drag_view.panned(d.x(), d.y()), settle=False)
            return
        self.map_tool.move(ev, (x, y))

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        if self._mid_pan and ev.button() == Qt.MouseButton.MiddleButton:
            self._mid_pan = False
            self._settled()
            return
        self.map_tool.release(ev, self.map_point(ev.position().x(), ev.position().y()))

    def mouseDoubleClickEvent(self, ev) -> None:  # noqa: N802
        self.map_tool.double_click(ev, self.map_point(ev.position().x(), ev.position().y()))

    def wheelEvent(self, ev) -> None:  # noqa: N802
        steps = ev.angleDelta().y() / 120.0
        if not steps:
            return
        pos = ev.position()
        self.zoom_by(WHEEL_STEP ** steps, (pos.x(), pos.y()), delay=RENDER_DELAY_MS)

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        if self.map_tool.key_press(ev):
            return
        k = ev.key()
        w, h = self.view.width_px, self.view.height_px
        moves = {Qt.Key.Key_Left: (w * KEY_PAN, 0), Qt.Key.Key_Right: (-w * KEY_PAN, 0),
                 Qt.Key.Key_Up: (0, h * KEY_PAN), Qt.Key.Key_Down: (0, -h * KEY_PAN)}
        if k in moves:
            self.pan_by(*moves[k], delay=RENDER_DELAY_MS)
        elif k in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif k in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        else:
            super().keyPressEvent(ev)

    def leaveEvent(self, ev) -> None:  # noqa: N802
        self.map_tool.leave()
        super().leaveEvent(ev)

    # ------------------------------------------------------------------ images
    def to_image(self) -> QImage:
        """What the widget shows, as an image."""
        return self.grab().toImage()


def _same_extent(a, b, tol: float = 1e-6) -> bool:
    return all(abs(x - y) <= tol * max(1.0, abs(x)) for x, y in zip(a, b))
