"""Translucent outlined fills painted into a layer's own blank image go straight into it (Source mode, painter
``_fills``) instead of opaque into a second image drawn with the fill opacity: the same pixels, overlaps too."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter

import riskmap.render.painter as painter_module
from riskmap.layers import load_catalogue
from riskmap.levels import colour
from riskmap.render import MapSettings, PreparedLayer
from tests.render.test_lod_hairlines import _cells, _rendered

EPSG = 4544


def _strip(paint) -> np.ndarray:
    img = QImage(40, 3, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    paint(p)
    p.end()
    return np.frombuffer(img.constBits(), np.uint32, count=40 * 3).copy()


@pytest.mark.parametrize("opacity", [0.35, 0.5, 0.07, 0.93])
def test_the_source_colour_leaves_the_pixel_of_the_opaque_fill_drawn_with_the_opacity(app, opacity):
    naive = []
    for fill in [colour(n) for n in (1, 2, 3, 4)] + ["#FFFFFF", "#8A8A8A", "#123456", "#80FF8000"]:
        opaque = QImage(40, 3, QImage.Format.Format_ARGB32_Premultiplied)
        opaque.fill(QColor(fill))

        def layered(p):
            p.setOpacity(opacity)
            p.drawImage(QPointF(0, 0), opaque)

        def direct(p):
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QBrush(painter_module._source_colour(fill, opacity)))
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            p.drawRect(QRectF(0, 0, 40, 3))

        want = _strip(layered)
        assert want[0] != 0 and np.array_equal(_strip(direct), want), fill
        plain = QColor(fill)
        plain.setAlphaF(plain.alphaF() * opacity)
        naive.append(np.array_equal(_strip(lambda p: p.fillRect(QRectF(0, 0, 40, 3), plain)), want))
    assert not all(naive)  # the obvious colour is a level off for some: why it is searched


def _cells_gdf():
    """The test grid's wiggly cells (tests.render.test_lod_hairlines) as a GeoDataFrame again."""
    prep = _cells()
    polys = []
    for f in range(prep.n):
        rings = [prep.coords[prep.offsets[k]:prep.offsets[k + 1]]
                 for k in range(prep.feature_parts[f], prep.feature_parts[f + 1])]
        polys.append(shapely.Polygon(rings[0], rings[1:]))
    return gpd.GeoDataFrame({"id": np.arange(prep.n), "name": [f"网格{k}" for k in range(prep.n)],
                             "level": [prep.classes[c].key for c in prep.cls]}, geometry=polys)


def _overlapping_cells(layer_id="grids"):
    """The test grid, plus large cells of other levels lying across its cells (overlaps: a later fill replaces
    an earlier one in the layer's image, it does not blend with it)."""
    over = gpd.GeoDataFrame({"id": np.arange(6) + 10_000, "name": [f"叠{k}" for k in range(6)],
                             "level": [1, 4, 2, 3, 1, 2]},
                            geometry=[shapely.box(500_000 + k * 6000 + 200, 3_900_000 + 3000 + k * 2500,
                                                  500_000 + k * 6000 + 4700, 3_900_000 + 9000 + k * 2500)
                                      for k in range(6)])
    gdf = gpd.GeoDataFrame(pd.concat([_cells_gdf(), over], ignore_index=True), geometry="geometry")
    return PreparedLayer.from_gdf(replace(load_catalogue()[layer_id], z=1), gdf, EPSG, projected=True)


def _layered(monkeypatch, view, layers):
    with monkeypatch.context() as m:  # the fills opaque into a second image drawn with the opacity
        m.setattr(painter_module, "_source_colour", lambda *a: None)
        return _rendered(view, layers)


def test_a_large_outlined_layer_in_its_own_image_fills_straight_into_it_pixel_for_pixel(app, monkeypatch):
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 1000)  # kept as an image of its own
    prep = _overlapping_cells()
    assert prep.layer_def.style.fill_opacity < 1 and prep.layer_def.style.stroke
    full = MapSettings(prep.total_bounds(), 400, 260, crs_epsg=EPSG)
    seconds = []
    real = painter_module._fill_painter
    monkeypatch.setattr(painter_module, "_fill_painter", lambda *a: seconds.append(a) or real(*a))
    for view in (full, full.zoomed(3).panned(-40.5, 12.25), full.zoomed(7).panned(80.0, -30.0)):
        painter_module.clear_layer_images()
        got = _rendered(view, [prep])
        assert not seconds  # no second image
        painter_module.clear_layer_images()
        want = _layered(monkeypatch, view, [prep])
        assert seconds  # (the reference did paint through one)
        seconds.clear()
        assert (got[..., 3] > 0).mean() > 0.3
        assert np.array_equal(got, want), (np.abs(got.astype(int) - want).max(),
                                           (np.abs(got.astype(int) - want).max(axis=2) > 0).sum())


def _over_background(view, layers, opacity):
    painter_module.clear_layer_images()
    img = QImage(view.width_px, view.height_px, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor("#F0F0E0"))
    p = QPainter(img)
    painter_module.render(p, view, layers, labels=False, opacity=opacity)
    p.end()
    return np.frombuffer(img.constBits(), np.uint8).copy()


def test_a_layer_drawn_with_an_opacity_fills_straight_in_and_unoutlined_fills_keep_the_second_image(
        app, monkeypatch):
    """A small layer drawn with a layer opacity (into its own image) fills straight in, the same frame over a
    background; antialiased fills (no outline) keep the second image (in Source mode their shared antialiased
    edges would leave seams)."""
    towns = _overlapping_cells("towns")
    view = MapSettings(towns.total_bounds(), 400, 260, crs_epsg=EPSG).zoomed(2).panned(13.5, -7.25)
    calls = []
    real = painter_module._fill_painter
    monkeypatch.setattr(painter_module, "_fill_painter", lambda *a: calls.append(a[2]) or real(*a))
    got = _over_background(view, [towns], {"towns": 0.7})
    assert calls == []
    with monkeypatch.context() as m:
        m.setattr(painter_module, "_source_colour", lambda *a: None)
        want = _over_background(view, [towns], {"towns": 0.7})
    assert calls == [False] and np.array_equal(got, want)
    calls.clear()
    plain = _cells(outline=False)
    _over_background(view, [plain], {plain.id: 0.7})
    assert calls == [True]  # antialiased: through the second image
