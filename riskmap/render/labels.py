"""Map labels: greedy placement by priority with collision avoidance, drawn with a white halo.

Candidates come from the layers' catalogue labels (field, size, bold, priority, show_below_scale):
town names at every scale, enterprise names only at large scales. Lower ``priority`` numbers place
first; within a level-styled layer the higher risk places first. Point labels try right, left,
above and below the symbol and never cover a point symbol; polygon labels sit on a point inside the
polygon's visible part; line labels on the line's midpoint. An occupancy grid of placed rectangles
rejects overlaps; dense candidates are thinned per cell and the count is capped, for speed.
Outline-only polygons (the county boundary) keep their label point and are named only when it is in view.

>>> import geopandas as gpd, shapely
>>> from riskmap.layers import load_catalogue
>>> gdf = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["甲化工", "乙加油站", "丙"], "level": [1, 2, 4]},
...                        geometry=shapely.points([[105.0, 35.0], [105.01, 35.0], [105.0, 35.01]]), crs=4490)
>>> from riskmap.render import MapSettings, PreparedLayer
>>> prepared_layers = [PreparedLayer.from_gdf(load_catalogue()["enterprises"], gdf, 4544)]
>>> settings = MapSettings(prepared_layers[0].total_bounds(), 400, 300, crs_epsg=4544)
>>> placed = place_labels(settings, prepared_layers)
>>> sorted(p.text for p in placed)
['丙', '乙加油站', '甲化工']
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from riskmap.render.fonts import device_font, map_font
from riskmap.render.settings import MapSettings
from riskmap.render.symbols import extent_factor

TEXT_COLOUR = "#000000"
HALO_COLOUR = "#FFFFFF"
HALO_MM = 0.35  # halo width around glyphs
GAP_MM = 0.5  # gap between a point symbol and its label
PAD_MM = 0.25  # minimum free space around a label
POSITIONS = ("right", "left", "above", "below")


@dataclass(frozen=True)
class PlacedLabel:
    """A label the engine placed: text, baseline origin (x, y) and rectangle (x0, y0, x1, y1) in pixels."""

    layer_id: str
    feature: int
    text: str
    x: float
    y: float
    rect: tuple[float, float, float, float]
    size_pt: float
    bold: bool
    priority: int
    position: str


class TextMeasurer:
    """Text advance widths in em (font size = 1), cached per character; unhinted fonts scale linearly."""

    REF_PT = 100.0

    def __init__(self):
        self._lock = threading.Lock()
        self._char: dict[tuple[bool, str], float] = {}
        self._text: dict[tuple[bool, str], float] = {}
        self._metrics: dict[bool, QFontMetricsF] = {}
        self._vmetrics: dict[bool, tuple[float, float]] = {}
        self._device = None

    def _fm(self, bold: bool) -> QFontMetricsF:
        fm = self._metrics.get(bold)
        if fm is None:
            if self._device is None:  # a 72 dpi device: one pixel = one point
                img = QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
                img.setDotsPerMeterX(round(72 / 0.0254))
                img.setDotsPerMeterY(round(72 / 0.0254))
                self._device = img
            fm = QFontMetricsF(map_font(self.REF_PT, bold), self._device)
            self._metrics[bold] = fm
            self._vmetrics[bold] = (fm.ascent() / self.REF_PT, fm.descent() / self.REF_PT)
        return fm

    def vertical(self, bold: bool) -> tuple[float, float]:
        """(ascent, descent) in em."""
        self._fm(bold)
        return self._vmetrics[bold]

    def width(self, text: str, bold: bool = False) -> float:
        key = (bold, text)
        w = self._text.get(key)
        if w is not None:
            return w
        chars = self._char
        total = 0.0
        for ch in text:
            a = chars.get((bold, ch))
            if a is None:
                with self._lock:
                    a = self._fm(bold).horizontalAdvance(ch) / self.REF_PT
                chars[(bold, ch)] = a
            total += a
        if len(self._text) > 200_000:
            self._text.clear()
        self._text[key] = total
        return total


MEASURER = TextMeasurer()


class OccupancyGrid:
    """Placed label rectangles as rows of bits (one Python int per row of cells): a collision test is a
    few integer ANDs. Conservative: a cell touched by a rectangle counts as taken."""

    def __init__(self, width: float, height: float, cell: float = 2.0):
        self.cell = float(cell)
        self.n_cols = int(math.ceil(width / cell)) + 2
        self.rows = [0] * (int(math.ceil(height / cell)) + 2)

    def _span(self, r):
        c = self.cell
        x0 = max(0, int(r[0] // c))
        x1 = min(self.n_cols - 1, int(r[2] // c))
        y0 = max(0, int(r[1] // c))
        y1 = min(len(self.rows) - 1, int(r[3] // c))
        return ((1 << (x1 - x0 + 1)) - 1) << x0, y0, y1

    def free(self, r) -> bool:
        mask, y0, y1 = self._span(r)
        rows = self.rows
        for y in range(y0, y1 + 1):
            if rows[y] & mask:
                return False
        return True

    def add(self, r) -> None:
        mask, y0, y1 = self._span(r)
        rows = self.rows
        for y in range(y0, y1 + 1):
            rows[y] |= mask


def _layer_candidates(settings: MapSettings, layer, scale: float, max_per_layer: int):
    """Visible label candidates of one layer in priority order: (feature indices, anchor px)."""
    label = layer.layer_def.label
    if label is None or layer.label_text is None or not label.visible_at(scale):
        return None
    order = layer.label_order
    if not len(order):
        return None
    xy = layer.label_xy[order]
    inside = settings.contains_xy(xy[:, 0], xy[:, 1])
    if layer.kind == "polygon" and getattr(layer, "geoms", None) is not None and not is_boundary(layer):
        xy = _reanchor(settings, layer, order, inside, xy)
        inside = np.isfinite(xy[:, 0])
    order, xy = order[inside], xy[inside]
    if not len(order):
        return None
    px = settings.map_to_pixel(xy)
    # thin dense candidates: keep the first few per label-sized cell (later ones would collide anyway)
    size_px = label.size_pt * settings.dpi / 72.0
    cw, ch = max(8.0, 6 * size_px), max(4.0, 2.0 * size_px)
    cell = np.floor(px[:, 0] / cw).astype(np.int64) * 1_000_003 + np.floor(px[:, 1] / ch).astype(np.int64)
    n = len(cell)
    grouped = np.argsort(cell, kind="stable")  # cells together, priority order kept inside each
    sc = cell[grouped]
    start = np.r_[True, sc[1:] != sc[:-1]]
    rank = np.empty(n, dtype=np.int64)
    rank[grouped] = np.arange(n) - np.maximum.accumulate(np.where(start, np.arange(n), 0))
    keep = rank < len(POSITIONS) if layer.kind == "point" else rank < 2
    return order[keep][:max_per_layer], px[keep][:max_per_layer]


def is_boundary(layer) -> bool:
    """An outline-only polygon layer (the county boundary): its name stays at the polygon's own label point
    (QGIS-like), shown only when that point is in view, never moved onto the visible part (zoomed in,
    that would be the centre of the view, over whatever was searched for)."""
    return not any(layer.fill_colours)


def _reanchor(settings: MapSettings, layer, order, inside, xy, limit: int = 200) -> np.ndarray:
    """Polygons whose label point is off screen, or too near its edge, but which show in the view get a
    label point on their visible part (a zoomed-in town keeps its name)."""
    xmin, ymin, xmax, ymax = settings.extent
    margin = 0.1 * min(xmax - xmin, ymax - ymin)
    near_edge = ~settings.contains_xy(xy[:, 0], xy[:, 1], margin=-margin)
    b = layer.bounds[order]
    shows = (b[:, 2] >= xmin) & (b[:, 0] <= xmax) & (b[:, 3] >= ymin) & (b[:, 1] <= ymax)
    redo = np.flatnonzero(near_edge & shows)[:limit]
    out = np.where(inside[:, None], xy, np.nan)
    if len(redo):
        view = shapely.box(xmin + margin / 2, ymin + margin / 2, xmax - margin / 2, ymax - margin / 2)
        part = shapely.intersection(layer.geoms[order[redo]], view)
        ok = ~shapely.is_empty(part)
        pts = shapely.point_on_surface(part[ok])
        out[redo[ok], 0] = shapely.get_x(pts)
        out[redo[ok], 1] = shapely.get_y(pts)
    return out


def place_labels(settings: MapSettings, layers, *, max_labels: int = 300, max_candidates: int = 5000,
                 cancel=None) -> list[PlacedLabel]:
    """Greedy placement of the layers' labels, highest priority first; returns what was placed."""
    scale = settings.scale_denominator()
    ppmm = settings.px_per_mm()
    grid = OccupancyGrid(settings.width_px, settings.height_px, cell=max(1.0, 0.5 * ppmm))
    batches = []
    for li, layer in enumerate(sorted(layers, key=lambda lay: lay.layer_def.label.priority
                                      if lay.layer_def.label else 99)):
        got = _layer_candidates(settings, layer, scale, max_candidates)
        if got is not None:
            batches.append((layer, got))
    placed: list[PlacedLabel] = []
    budget = max_candidates
    W, H = settings.width_px, settings.height_px
    c = grid.cell
    last_row, last_col = len(grid.rows) - 1, grid.n_cols - 1
    # point labels also avoid every point symbol on the map (tested for all candidates at once on summed
    # area tables of the symbols' centres); area and line names may cross symbols
    symbols = _symbol_tables(settings, layers, grid) if any(lay.kind == "point" for lay, _ in batches) else None
    rows = grid.rows
    for layer, (feats, px) in batches:
        if (cancel is not None and cancel()) or budget <= 0 or len(placed) >= max_labels:
            break
        feats, px = feats[:budget], px[:budget]
        budget -= len(feats)
        label = layer.layer_def.label
        bold = bool(label.bold)
        size_px = label.size_pt * settings.dpi / 72.0
        asc, desc = MEASURER.vertical(bold)
        asc_px = asc * size_px
        h = (asc + desc) * size_px
        style = layer.layer_def.style
        if layer.kind == "point":
            radius = extent_factor(style.symbol) * style.size_mm * ppmm + style.stroke_width_mm * ppmm / 2
            positions = POSITIONS
        else:
            radius = 0.0
            positions = ("centre",)
        gap = radius + GAP_MM * ppmm
        pad = PAD_MM * ppmm
        vgap = max(gap, h / 2 + 2 * pad + c)  # above/below clear the side labels of the same point
        texts = layer.label_text
        width = MEASURER.width
        em = layer.label_em(bold)  # cached per feature: a pan or re-render measures nothing again
        need = feats[np.isnan(em[feats])]
        if len(need):
            em[need] = [width(texts[f], bold) for f in need.tolist()]
        w = em[feats] * size_px
        ax, ay = px[:, 0], px[:, 1]
        cand = []  # per position: x0, y0 lists, in-bounds flags and the cell span of the padded rectangle
        for pos in positions:
            if pos == "right":
                x0, y0 = ax + gap, ay - h / 2
            elif pos == "left":
                x0, y0 = ax - gap - w, ay - h / 2
            elif pos == "above":
                x0, y0 = ax - w / 2, ay - vgap - h
            elif pos == "below":
                x0, y0 = ax - w / 2, ay + vgap
            else:  # centre (polygons, lines)
                x0, y0 = ax - w / 2, ay - h / 2
            rx0, ry0, rx1, ry1 = x0 - pad, y0 - pad, x0 + w + pad, y0 + h + pad
            inside = (rx0 >= 0) & (ry0 >= 0) & (rx1 <= W) & (ry1 <= H)
            cx0 = np.clip(np.floor(rx0 / c), 0, last_col).astype(np.int64)
            cx1 = np.clip(np.floor(rx1 / c), 0, last_col).astype(np.int64)
            cy0 = np.clip(np.floor(ry0 / c), 0, last_row).astype(np.int64)
            cy1 = np.clip(np.floor(ry1 / c), 0, last_row).astype(np.int64)
            if symbols and layer.kind == "point":
                inside &= _symbol_hits(symbols, cx0, cx1, cy0, cy1) == 0
            cand.append((pos, x0, y0, inside, cx0, cx1 - cx0 + 1, cy0, cy1))
        viable = np.flatnonzero(np.logical_or.reduce([c_[3] for c_ in cand]))  # some position is free of symbols
        cand = [(pos, *(a[viable].tolist() for a in arrays)) for pos, *arrays in cand]
        feats, w = feats[viable], w[viable]
        lid, prio, size_pt = layer.id, int(label.priority), float(label.size_pt)
        wl = w.tolist()
        for i, f in enumerate(feats.tolist()):
            for pos, x0s, y0s, ins, cx0s, spans, cy0s, cy1s in cand:
                if not ins[i]:
                    continue
                mask = ((1 << spans[i]) - 1) << cx0s[i]
                y_a, y_b = cy0s[i], cy1s[i] + 1
                for y in range(y_a, y_b):
                    if rows[y] & mask:
                        break
                else:
                    for y in range(y_a, y_b):
                        rows[y] |= mask
                    x0, y0 = x0s[i], y0s[i]
                    placed.append(PlacedLabel(lid, f, texts[f], x0, y0 + asc_px, (x0, y0, x0 + wl[i], y0 + h),
                                              size_pt, bold, prio, pos))
                    break
            if len(placed) >= max_labels:
                break
    return placed


def _symbol_tables(settings: MapSettings, layers, grid: OccupancyGrid) -> list[tuple[np.ndarray, int]]:
    """Per point layer: a summed-area table of symbol centres per grid cell, and the symbol's reach in
    cells. A label rectangle meets a symbol when the symbol's centre lies in the rectangle widened by that
    reach (cells only grazed by a symbol's antialiased edge do not count)."""
    n_rows, n_cols = len(grid.rows), grid.n_cols
    c = grid.cell
    ppmm = settings.px_per_mm()
    out = []
    for layer in layers:
        if layer.kind != "point" or not len(layer.coords):
            continue
        style = layer.layer_def.style
        half = extent_factor(style.symbol) * style.size_mm * ppmm
        xy = layer.coords
        inside = settings.contains_xy(xy[:, 0], xy[:, 1], margin=half * settings.resolution)
        if not inside.any():
            continue
        px = settings.map_to_pixel(xy[inside])
        reach = int(max(half - c / 2, 0.0) // c)
        cx = np.clip(np.floor(px[:, 0] / c), 0, n_cols - 1).astype(np.int64)
        cy = np.clip(np.floor(px[:, 1] / c), 0, n_rows - 1).astype(np.int64)
        counts = np.bincount(cy * n_cols + cx, minlength=n_rows * n_cols).astype(np.int32)
        rows = np.zeros((n_rows + 1, n_cols + 1), dtype=np.int32)
        np.cumsum(counts.reshape(n_rows, n_cols), axis=1, out=rows[1:, 1:])
        table = np.ascontiguousarray(rows.T)  # the second cumulative sum runs along contiguous memory
        np.cumsum(table, axis=1, out=table)
        out.append((table, reach))  # table[x, y] = symbols in columns < x and rows < y
    return out


def _symbol_hits(tables, cx0, cx1, cy0, cy1) -> np.ndarray:
    """Number of symbols meeting each label rectangle (cell spans, vectorised)."""
    hits = np.zeros(len(cx0), dtype=np.int64)
    for t, r in tables:
        n_cols, n_rows = t.shape[0] - 1, t.shape[1] - 1
        x0 = np.clip(cx0 - r, 0, n_cols - 1)
        x1 = np.clip(cx1 + r, 0, n_cols - 1) + 1
        y0 = np.clip(cy0 - r, 0, n_rows - 1)
        y1 = np.clip(cy1 + r, 0, n_rows - 1) + 1
        hits += t[x1, y1] - t[x0, y1] - t[x1, y0] + t[x0, y0]
    return hits


# ---------------------------------------------------------------------------------------- drawing


def _is_raster(painter: QPainter) -> bool:
    dev = painter.device()
    return isinstance(dev, QImage) and not painter.worldTransform().isScaling()


def draw_labels(painter: QPainter, settings: MapSettings, placed: list[PlacedLabel], *,
                colour: str = TEXT_COLOUR, halo: str | None = HALO_COLOUR, raster: bool | None = None) -> None:
    """Draw placed labels with a halo.

    On images the glyphs are painted once into an alpha mask, the mask is grown by the halo radius and
    both are drawn as images (cost independent of the label count). Composited that way, labels painted
    onto the map and labels painted onto a transparent image of their own (the canvas's label pass) that is
    then drawn over the map give the same pixels (text drawn straight onto the map would blend its glyph
    edges with the map's colours instead). On PDF/SVG the halo is the stroked glyph outline and the text
    stays text.
    """
    if not placed:
        return
    raster = _is_raster(painter) if raster is None else raster
    device = painter.device()
    device_dpi = device.logicalDpiY() if device is not None else settings.dpi
    halo_px = HALO_MM * settings.px_per_mm()
    fonts = {}

    def font_of(lab):
        key = (lab.size_pt, lab.bold)
        f = fonts.get(key)
        if f is None:
            f = fonts[key] = device_font(lab.size_pt, lab.bold, settings.dpi, device_dpi)
        return f

    painter.save()
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if raster:
            _draw_masked(painter, settings, placed, font_of, colour, halo, halo_px)
            return
        if halo:
            pen = QPen(QColor(halo), 2 * halo_px)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            for lab in placed:
                path = QPainterPath()
                path.addText(QPointF(lab.x, lab.y), font_of(lab), lab.text)
                painter.strokePath(path, pen)
        painter.setPen(QColor(colour))
        for lab in placed:
            painter.setFont(font_of(lab))
            painter.drawText(QPointF(lab.x, lab.y), lab.text)
    finally:
        painter.restore()


def _draw_masked(painter, settings, placed, font_of, colour, halo, halo_px) -> None:
    """All glyphs painted once into an alpha mask; halo = the mask grown by the halo radius."""
    pad = int(math.ceil(halo_px)) + 2
    x0 = max(0, int(min(p.rect[0] for p in placed)) - pad)
    y0 = max(0, int(min(p.rect[1] for p in placed)) - pad)
    x1 = min(settings.width_px, int(max(p.rect[2] for p in placed)) + pad + 1)
    y1 = min(settings.height_px, int(max(p.rect[3] for p in placed)) + pad + 1)
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return
    mask = QImage(w, h, QImage.Format.Format_Alpha8)
    device = painter.device()
    if device is not None:  # fonts were sized for the target device's dpi
        dpm = round(device.logicalDpiY() / 0.0254)
        mask.setDotsPerMeterX(dpm)
        mask.setDotsPerMeterY(dpm)
    mask.fill(0)
    mp = QPainter(mask)
    mp.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    mp.setPen(QColor(0, 0, 0, 255))
    mp.translate(-x0, -y0)
    current = None
    for lab in placed:
        f = font_of(lab)
        if f is not current:
            mp.setFont(f)
            current = f
        mp.drawText(QPointF(lab.x, lab.y), lab.text)
    mp.end()
    if halo:
        stride = mask.bytesPerLine()
        a = np.frombuffer(mask.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)[:, :w]
        grown = np.zeros((h, stride), dtype=np.uint8)  # scanline padding stays zero
        grown[:, :w] = _dilate(a, halo_px)
        halo_c = QColor(halo)
        if halo_c.rgb() == 0xFFFFFFFF:  # premultiplied white: all four channels equal the alpha
            white = grown[:, :w].astype(np.uint32) * 0x01010101
            painter.drawImage(QPointF(x0, y0), QImage(white.data, w, h, 4 * w,
                                                      QImage.Format.Format_ARGB32_Premultiplied))
        else:
            grown_img = QImage(grown.data, w, h, stride, QImage.Format.Format_Alpha8)
            painter.drawImage(QPointF(x0, y0), _coloured(grown_img, halo_c))
    text_c = QColor(colour)
    # an Alpha8 image draws as black: black text needs no colouring pass
    painter.drawImage(QPointF(x0, y0), mask if text_c.rgb() == 0xFF000000 else _coloured(mask, text_c))


def _coloured(mask: QImage, colour: QColor) -> QImage:
    """A premultiplied image of one colour whose alpha is the Alpha8 ``mask`` (DestinationIn)."""
    img = QImage(mask.width(), mask.height(), QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(colour)
    p = QPainter(img)
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    p.drawImage(0, 0, mask)
    p.end()
    return img


def _dilate(a: np.ndarray, radius: float) -> np.ndarray:
    """Grey-level dilation by a roughly round element of about ``radius`` pixels (square and plus steps)."""
    out = a.copy()
    for i in range(max(1, int(round(radius)))):
        prev = out.copy()
        _max_shift(out, prev, square=(i % 2 == 0))
    return out


def _max_shift(dst: np.ndarray, src: np.ndarray, square: bool) -> None:
    np.maximum(dst[1:], src[:-1], out=dst[1:])
    np.maximum(dst[:-1], src[1:], out=dst[:-1])
    np.maximum(dst[:, 1:], src[:, :-1], out=dst[:, 1:])
    np.maximum(dst[:, :-1], src[:, 1:], out=dst[:, :-1])
    if square:
        np.maximum(dst[1:, 1:], src[:-1, :-1], out=dst[1:, 1:])
        np.maximum(dst[:-1, :-1], src[1:, 1:], out=dst[:-1, :-1])
        np.maximum(dst[1:, :-1], src[:-1, 1:], out=dst[1:, :-1])
        np.maximum(dst[:-1, 1:], src[1:, :-1], out=dst[:-1, 1:])
