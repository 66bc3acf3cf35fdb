"""Point symbols on images: the painter's bulk stamping (one drawPixmapFragments call per class, positions gathered
in drawing order) paints what stamping each point on its own paints, class by class in the drawing order (red
last), within a class tile by tile of the fixed map grid (STAMP_TILE_M, indices modulo 64), in data order within
a tile — pixel for pixel, with overlapping symbols across tile edges and symbols cut by the frame."""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer, render_image
from riskmap.render.image import new_image
from riskmap.render.painter import STAMP_TILE_M
from riskmap.render.symbols import STAMPS


def _layer(n=600, seed=8):
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 600, n)  # 400×240 px at 2.5 m a pixel: symbols overlap
    x[n // 2:] = 512 + rng.normal(0, 8, n - n // 2)  # half of them about a tile edge (x = 512 m), crowded
    y[n // 4:n // 2] = 512 + rng.normal(0, 8, n // 4)  # a quarter about the other (y = 512 m)
    x[:5] = [-3, 1001, 500, 500.2, 500]  # cut by the frame's edges; three on top of each other
    y[:5] = [300, 300, -2, 300, 300]
    level = rng.choice([1, 2, 3, 4, None], n)
    gdf = gpd.GeoDataFrame({"id": np.arange(n), "name": [f"企业{i}" for i in range(n)], "level": level},
                           geometry=shapely.points(np.column_stack([x, y])))
    return PreparedLayer.from_gdf(load_catalogue()["enterprises"], gdf, 4544, projected=True), x, y


def test_bulk_stamps_equal_one_stamp_at_a_time(app):
    prep, x, y = _layer()
    view = MapSettings((0.0, 0.0, 1000.0, 600.0), 400, 240, crs_epsg=4544)
    bulk = render_image(view, [prep], labels=False)
    # one symbol at a time, in the class drawing order, data order within a class
    style = prep.layer_def.style
    ppmm = view.px_per_mm()
    one = new_image(view)
    p = QPainter(one)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setClipRect(QRectF(0, 0, 400, 240))
    drawn = 0
    tiles = {i: (int(np.floor(y[i] / STAMP_TILE_M)) % 64, int(np.floor(x[i] / STAMP_TILE_M)) % 64)
             for i in range(len(x))}
    for c in prep.class_order:
        pix, d = STAMPS.get(style.symbol, style.size_mm * ppmm, prep.fill_colours[c], prep.stroke_colours[c],
                            style.stroke_width_mm * ppmm)
        for i in sorted(np.flatnonzero(prep.cls == c).tolist(), key=lambda i: tiles[i]):  # (a stable sort)
            px, py = (x[i] - 0.0) * (1.0 / view.resolution), (600.0 - y[i]) * (1.0 / view.resolution)
            frag = QPainter.PixmapFragment.create(QPointF(px, py), QRectF(0, 0, d, d))
            p.drawPixmapFragments(frag, 1, pix)
            drawn += 1
    p.end()
    assert drawn == len(x)
    assert bulk == one
    # and the order matters here: by class in data order (without the tiles), or in data order regardless of
    # class, the picture differs
    assert _stamped(prep, x, y, view, [i for c in prep.class_order for i in np.flatnonzero(prep.cls == c)]) != bulk
    assert _stamped(prep, x, y, view, range(len(x))) != bulk


def _stamped(prep, x, y, view, order):
    style = prep.layer_def.style
    ppmm = view.px_per_mm()
    mixed = new_image(view)
    p = QPainter(mixed)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    for i in order:
        c = int(prep.cls[i])
        pix, d = STAMPS.get(style.symbol, style.size_mm * ppmm, prep.fill_colours[c], prep.stroke_colours[c],
                            style.stroke_width_mm * ppmm)
        px, py = x[i] / view.resolution, (600.0 - y[i]) / view.resolution
        p.drawPixmapFragments(QPainter.PixmapFragment.create(QPointF(px, py), QRectF(0, 0, d, d)), 1, pix)
    p.end()
    return mixed


def test_fragments_layout():
    from riskmap.render._bulk import fragments

    f = fragments(np.array([[1.5, 2.0], [3.0, 4.25]]), 13, 11)
    assert f.tolist() == [[1.5, 2.0, 0, 0, 13, 11, 1, 1, 0, 1], [3.0, 4.25, 0, 0, 13, 11, 1, 1, 0, 1]]
    assert fragments(np.zeros((0, 2)), 5, 5).shape == (0, 10)
