"""Render to an image, on any thread.

QImage painting is thread-safe, so the canvas runs a :class:`RenderJob` on a worker thread (see
:meth:`RenderJob.runnable`) and shows the finished image; a newer job cancels the older one. Call
:func:`riskmap.render.fonts.ensure_fonts` once on the GUI thread before the first job.

The canvas renders in two passes, as QGIS does: the map without labels (``RenderJob(..., labels=False)``),
then a :class:`LabelJob` painting only the labels into a transparent image of the same view, drawn over
the map when ready. The two composited equal one ``render_image(..., labels=True)`` (print and export).

>>> import geopandas as gpd, shapely
>>> from riskmap.layers import load_catalogue
>>> gdf = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["甲化工", "乙加油站", "丙"], "level": [1, 2, 4]},
...                        geometry=shapely.points([[105.0, 35.0], [105.01, 35.0], [105.0, 35.01]]), crs=4490)
>>> from riskmap.render import MapSettings, PreparedLayer
>>> prepared_layers = [PreparedLayer.from_gdf(load_catalogue()["enterprises"], gdf, 4544)]
>>> settings = MapSettings(prepared_layers[0].total_bounds(), 400, 300, crs_epsg=4544)
>>> img = render_image(settings, prepared_layers)
>>> frame = RenderJob(settings, prepared_layers).run()
>>> labels = LabelJob(settings, prepared_layers).run()
>>> (img.width(), img.height()) == (frame.width(), frame.height()) == (labels.width(), labels.height())
True
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QRunnable, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from riskmap.render.painter import RenderStats, render, render_labels, screen_image
from riskmap.render.settings import MapSettings


def new_image(settings: MapSettings, background: str | None = None) -> QImage:
    """An ARGB32 premultiplied image of the settings' size and dpi, filled with the background. One of a screen's
    size (up to LAYER_IMAGE_MAX_PX) comes from the painter's images that nothing refers to any more (a canvas's
    frame it no longer shows), transparent already when cleared in idle time: a new 8 MB frame took 1 ms of
    fresh pages at the start of each canvas frame."""
    w, h = settings.width_px, settings.height_px
    bg = settings.background if background is None else background
    img = screen_image(w, h)
    if img is None:
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        if not bg:
            img.fill(QColor(Qt.GlobalColor.transparent))
    dpm = round(settings.dpi / 0.0254)
    img.setDotsPerMeterX(dpm)
    img.setDotsPerMeterY(dpm)
    if bg:
        img.fill(QColor(bg))
    return img


def render_image(settings: MapSettings, layers, *, background: str | None = None, stats: list | None = None,
                 **kw) -> QImage:
    """Render ``layers`` into a new QImage (antialiased); keyword arguments as :func:`render`.

    Pass a list as ``stats`` to receive the :class:`RenderStats`.
    """
    img = new_image(settings, background)
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        st = render(p, settings, layers, **kw)
    finally:
        p.end()
    if stats is not None:
        stats.append(st)
    return img


class RenderJob:
    """One render of a view, to run off the GUI thread; ``cancel()`` stops it between layers and chunks.

    After ``run()``: ``image`` (None when cancelled) and ``stats``.
    """

    def __init__(self, settings: MapSettings, layers, **kw):
        self.settings = settings
        self.layers = list(layers)
        self.kw = kw
        self._cancel = threading.Event()
        self.image: QImage | None = None
        self.stats: RenderStats | None = None
        self.error: BaseException | None = None

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> QImage | None:
        out: list = []
        try:
            img = render_image(self.settings, self.layers, cancel=self._cancel.is_set, stats=out, **self.kw)
        except BaseException as exc:  # reported to the caller through .error, never lost in a thread
            self.error = exc
            return None
        self.stats = out[0]
        self.image = None if self.stats.cancelled else img
        return self.image

    def runnable(self, done=None) -> QRunnable:
        """A QRunnable for QThreadPool.start(); ``done(job)`` is called on the worker thread afterwards
        (emit a queued signal from it to reach the GUI thread)."""

        def work():
            self.run()
            if done is not None:
                done(self)

        return QRunnable.create(work)


class LabelJob(RenderJob):
    """The labels of a view alone, on a transparent image (:func:`riskmap.render.painter.render_labels`).

    Keyword arguments: ``opacity`` (layers at 0 are not labelled) and ``max_labels``; ``stats.labels``
    lists what was placed.
    """

    def run(self) -> QImage | None:
        if self._cancel.is_set():
            return None
        try:
            img = new_image(self.settings, "")
            p = QPainter(img)
            try:
                self.stats = render_labels(p, self.settings, self.layers, cancel=self._cancel.is_set, **self.kw)
            finally:
                p.end()
        except BaseException as exc:  # reported to the caller through .error, never lost in a thread
            self.error = exc
            return None
        self.image = None if self.stats.cancelled else img
        return self.image
