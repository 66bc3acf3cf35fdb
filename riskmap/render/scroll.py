"""A panned view drawn from the frame before it: the part still in view moved, only the uncovered strips rendered.

After a pan the canvas's map frame (no labels: they are placed for the whole view by their own pass) differs
from the last one by whole pixels. :class:`ScrollJob` moves the last frame by that shift and renders only the
strips the move uncovers, each through :func:`riskmap.render.painter.render` with the painter translated to
the strip (one renderer: the strips are the full view's features, resolved once for the whole new view, so a
lazy layer's exact points, decimation band and classes are those of the whole view, and the painter's clip
keeps each strip to its own pixels). A pixel is drawn either by the render of the view it was drawn for
(moved by a whole number of pixels) or by the strip's render, so the frame equals a full render of the view
up to the antialiasing of vertices thinned or cut a little differently near a seam.

No shortcut is taken when it could show something else than a full render: a frame with aggregated symbols
(their cells take the points of the view, so a cell at the old frame's edge may have missed a red point
beyond it) is rendered whole, as is a view that is not the last one moved by whole pixels (another scale,
size, dpi, CRS or background, or a fraction of a pixel). Nor where it would be slower: at small scales, where
the painter keeps an image of a large layer's whole extent (:func:`whole_layer_images`), a full render is.

The ×10 city (1M enterprises, 50k grid cells, 200k lifelines), GeoPackage, 1920×1080 at 1:68 000, a canvas
pan by a third of the width and a fifth of the height (47 % of the frame uncovered) until the frame is shown,
this way and with the whole view rendered, alternately in one process (12 pans each, other views each time):
median 180 ms (43–292) against 533 ms (171–667) at load 5.5; 105 ms (42–161) against 239 ms at load 2
(bench/bench_city.py's ``pan_settled_s``).

>>> w, h = 100, 50
>>> uncovered(w, h, 30, -10)
[(0, 0, 30, 50), (30, 40, 70, 10)]
>>> uncovered(w, h, 0, 0), uncovered(w, h, 120, 0)
([], [(0, 0, 100, 50)])
"""

from __future__ import annotations

import time
from dataclasses import fields, replace

from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage, QPainter, QRegion

from riskmap.render.image import RenderJob, new_image, render_image
from riskmap.render.lazy import resolve_layers
from riskmap.render.painter import RenderStats, drawn_layers, render
from riskmap.render.settings import MapSettings

SCROLL_MAX_SHARE = 0.75  # a larger uncovered share of the frame is rendered whole
SHIFT_TOL_PX = 1e-6  # a shift further than this from whole pixels is no scroll


def scroll_shift(old: MapSettings, new: MapSettings) -> tuple[int, int] | None:
    """The whole device pixels (right, down) by which the content of ``old`` moves to show ``new``, or None when
    ``new`` is not ``old`` panned by whole pixels (another size, dpi, CRS, background, language or scale).

    >>> a = MapSettings((0, 0, 100, 50), 100, 50)
    >>> scroll_shift(a, a.panned(7, -3)), scroll_shift(a, a.panned(0.5, 0)), scroll_shift(a, a.zoomed(2))
    ((7, -3), None, None)
    """
    if any(getattr(old, f.name) != getattr(new, f.name) for f in fields(MapSettings) if f.name != "extent"):
        return None
    res = new.resolution
    if abs(old.resolution - res) > 1e-9 * res:
        return None
    dx = (old.extent[0] - new.extent[0]) / res
    dy = (new.extent[3] - old.extent[3]) / res
    rx, ry = round(dx), round(dy)
    if abs(dx - rx) > SHIFT_TOL_PX or abs(dy - ry) > SHIFT_TOL_PX:
        return None
    return int(rx), int(ry)


def uncovered(w: int, h: int, dx: int, dy: int) -> list[tuple[int, int, int, int]]:
    """Rectangles (x, y, width, height) of a ``w`` × ``h`` frame left uncovered when its content moves by
    (``dx``, ``dy``) pixels: a full-height column on the side it left, then a row beside it."""
    if abs(dx) >= w or abs(dy) >= h:
        return [(0, 0, w, h)]
    rects = []
    if dx > 0:
        rects.append((0, 0, dx, h))
    elif dx < 0:
        rects.append((w + dx, 0, -dx, h))
    x0, x1 = max(dx, 0), min(w + dx, w)
    if dy > 0:
        rects.append((x0, 0, x1 - x0, dy))
    elif dy < 0:
        rects.append((x0, h + dy, x1 - x0, -dy))
    return [r for r in rects if r[2] > 0 and r[3] > 0]


def uncovered_share(w: int, h: int, dx: int, dy: int) -> float:
    """The share of the frame :func:`uncovered` gives."""
    return sum(r[2] * r[3] for r in uncovered(w, h, dx, dy)) / float(w * h)


def sub_view(settings: MapSettings, x: int, y: int, w: int, h: int) -> MapSettings:
    """The settings of the pixels (x, y, w, h) of ``settings`` alone (same resolution)."""
    res = settings.resolution
    xmin, _, _, ymax = settings.extent
    return replace(settings, extent=(xmin + x * res, ymax - (y + h) * res, xmin + (x + w) * res, ymax - y * res),
                   width_px=int(w), height_px=int(h))


def placements(settings: MapSettings, pieces) -> list[tuple[QImage, tuple[int, int]]]:
    """The ``(image, shift)`` of each ``(image, its settings)`` of ``pieces`` that shows part of ``settings``
    moved by whole pixels (:func:`scroll_shift`), in the order given."""
    w, h = settings.width_px, settings.height_px
    out = []
    for img, st in pieces:
        if img is None or st is None or img.width() != w or img.height() != h:
            continue
        shift = scroll_shift(st, settings)
        if shift is not None and abs(shift[0]) < w and abs(shift[1]) < h:
            out.append((img, shift))
    return out


def left_over(w: int, h: int, shifts) -> list[tuple[int, int, int, int]]:
    """Rectangles (x, y, width, height) of a ``w`` × ``h`` frame that frames moved by ``shifts`` leave uncovered.

    >>> left_over(100, 50, [(30, -10)])  # the area of uncovered(100, 50, 30, -10), cut in bands
    [(0, 0, 30, 40), (0, 40, 100, 10)]
    >>> left_over(100, 50, [(30, -10), (-70, -10)])  # and the frame that was to the left of it
    [(0, 40, 100, 10)]
    """
    region = QRegion(0, 0, w, h)
    for dx, dy in shifts:
        region = region.subtracted(QRegion(dx, dy, w, h))
    return [(r.x(), r.y(), r.width(), r.height()) for r in region]


def whole_layer_images(settings: MapSettings, layers) -> bool:
    """Whether the painter draws one of ``layers`` (resolved) at ``settings`` from an image of the whole layer
    (large layers at small scales, :func:`riskmap.render.painter._whole_layer_box`): a full render serves a pan
    from it, cheaper than painting that layer's strips."""
    from types import SimpleNamespace

    from riskmap.render import painter

    ctx = SimpleNamespace(ppmm=settings.px_per_mm(), settings=settings, w=settings.width_px, h=settings.height_px)
    for lay in layers:
        coords = getattr(lay, "coords", None)
        if coords is not None and len(coords) >= painter.LAYER_IMAGE_VERTICES \
                and painter._whole_layer_box(ctx, lay) is not None:
            return True
    return False


class ScrollJob(RenderJob):
    """A :class:`RenderJob` of the map frame (``labels=False``) of ``settings`` that starts from ``base``, the
    frame of ``base_settings`` drawn from the same layers in the same state (the caller's promise), and renders
    only what it leaves uncovered when :func:`scroll_shift` finds it moved by whole pixels, that is at most
    :data:`SCROLL_MAX_SHARE` of the frame and no layer is drawn aggregated; else a full render. ``sources``:
    more ``(image, settings)`` frames of the same state to draw from (drawn before the base). ``scrolled``: the
    base's shift when it was used, else None; ``pieces``: the frames used; ``rendered``: the rectangles rendered
    anew."""

    def __init__(self, settings: MapSettings, layers, base: QImage | None, base_settings: MapSettings | None,
                 sources=(), **kw):
        super().__init__(settings, layers, **kw)
        self.base = base
        self.base_settings = base_settings
        self.sources = list(sources)
        self.scrolled: tuple[int, int] | None = None
        self.pieces = 0
        self.rendered: list[tuple[int, int, int, int]] = []  # the rectangles rendered anew

    def run(self) -> QImage | None:
        try:
            img = self._run()
        except BaseException as exc:  # reported to the caller through .error, never lost in a thread
            self.error = exc
            return None
        self.image = None if self.stats is None or self.stats.cancelled else img
        return self.image

    def _run(self) -> QImage | None:
        s = self.settings
        kw = dict(self.kw)
        background = kw.pop("background", None)
        placed = [] if kw.get("labels", True) else \
            placements(s, [*self.sources, (self.base, self.base_settings)])  # the base drawn last
        rects = left_over(s.width_px, s.height_px, [sh for _, sh in placed])
        if not placed or sum(r[2] * r[3] for r in rects) > SCROLL_MAX_SHARE * s.width_px * s.height_px:
            return self._whole(s, self.layers, background, kw)
        t0 = time.perf_counter()
        cancel = self._cancel.is_set
        layers = resolve_layers(drawn_layers(self.layers, kw.get("opacity"), s), s, labels=False, cancel=cancel)
        if any(getattr(lay, "aggregated", False) for lay in layers) or whole_layer_images(s, layers):
            return self._whole(s, layers, background, kw)
        img = new_image(s, background)
        stats = RenderStats()
        p = QPainter(img)
        try:
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            for piece, (dx, dy) in placed:
                piece = QImage(piece)  # a shallow copy: the canvas keeps showing its own
                piece.setDevicePixelRatio(1.0)
                p.drawImage(QPoint(dx, dy), piece)
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            for x, y, w, h in rects:
                p.save()
                p.translate(x, y)
                try:
                    st = render(p, sub_view(s, x, y, w, h), layers, cancel=cancel, **kw)
                finally:
                    p.restore()
                for k, v in st.layer_seconds.items():
                    stats.layer_seconds[k] = stats.layer_seconds.get(k, 0.0) + v
                for k, v in st.features.items():  # features drawn in the strips
                    stats.features[k] = stats.features.get(k, 0) + v
                if st.cancelled:
                    stats.cancelled = True
                    break
        finally:
            p.end()
        stats.cancelled = stats.cancelled or cancel()
        stats.elapsed_s = time.perf_counter() - t0
        self.stats = stats
        self.pieces = len(placed)
        self.rendered = rects
        base = placements(s, [(self.base, self.base_settings)])
        self.scrolled = base[0][1] if base else None
        return img

    def _whole(self, s, layers, background, kw) -> QImage | None:
        out: list = []
        img = render_image(s, layers, background=background, stats=out, cancel=self._cancel.is_set, **kw)
        self.stats = out[0]
        return img
