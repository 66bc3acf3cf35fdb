"""A small layer's solid wide pen (the county outline) on a screen image strokes long parts in pieces of
WIDE_PIECE_VERTICES vertices (painter ``_draw_wide_pieces``): the same shape, pixels differ only about the seams,
and print resolution strokes whole parts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PySide6.QtGui import QImage, QPainter

import riskmap.render.painter as painter_module
from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer

EPSG = 4544


def _county():
    """A county of 5,000 wiggly vertices (a river boundary) 30 × 20 km; nowhere does the outline come within the
    pen's width of itself (where it does, pieces' ink overlapping is composited twice too)."""
    t = np.linspace(0, 2 * np.pi, 5000, endpoint=False)
    r = 1 + 0.03 * np.sin(37 * t) + 0.004 * np.sin(301 * t)
    ring = np.column_stack([500_000 + 15_000 * r * np.cos(t), 3_900_000 + 10_000 * r * np.sin(t)])
    gdf = gpd.GeoDataFrame({"id": [1], "name": ["某县"]}, geometry=[shapely.Polygon(ring)], crs=EPSG)
    return PreparedLayer.from_gdf(load_catalogue()["county"], gdf, EPSG, projected=True)


def _render(view, layer):
    img = QImage(view.width_px, view.height_px, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(0xFFFFFFFF)
    p = QPainter(img)
    painter_module.render(p, view, [layer], labels=False)
    p.end()
    raw = np.frombuffer(img.constBits(), np.uint8).reshape(view.height_px, img.bytesPerLine())
    return raw[:, :view.width_px * 4].reshape(view.height_px, view.width_px, 4).astype(int)


@pytest.fixture
def drawn(monkeypatch):
    """The element counts of the paths the painter draws."""
    sizes = []
    real = painter_module.draw_path
    monkeypatch.setattr(painter_module, "draw_path", lambda p, path: sizes.append(path.elementCount()) or real(p, path))
    return sizes


def _whole(monkeypatch, view, layer):
    with monkeypatch.context() as m:  # whole parts, as before
        m.setattr(painter_module, "_draw_wide_pieces",
                  lambda p, xy, offs, c: painter_module._draw_parts_chunked(p, xy, offs, 600, 16, c))
        return _render(view, layer)


def test_long_parts_stroke_in_pieces_with_the_same_shape_and_differ_only_about_the_seams(app, monkeypatch, drawn):
    county = _county()
    full = MapSettings(county.total_bounds(), 900, 600, crs_epsg=EPSG)
    edge = MapSettings((510_000.3, 3_901_000.7, 519_000.3, 3_907_000.7), 900, 600, crs_epsg=EPSG)  # 10 m a px
    for view in (full, edge):
        drawn.clear()
        got = _render(view, county)
        assert len(drawn) > 3 and max(drawn) <= painter_module.WIDE_PIECE_VERTICES
        want = _whole(monkeypatch, view, county)
        assert max(drawn) > 2 * painter_module.WIDE_PIECE_VERTICES  # (whole: a path of the part in view)
        ink_got, ink_want = 255 - got[..., 0], 255 - want[..., 0]
        assert (ink_want > 128).sum() > 2000
        # the same shape: the seams' round caps make the round join they replace, flattened a little apart
        assert (np.maximum(ink_got, ink_want)[(ink_got > 0) != (ink_want > 0)] <= 4).all()
        assert ((ink_got == 255) != (ink_want == 255)).sum() < 0.002 * (ink_want > 0).sum()
        assert np.abs(ink_got - ink_want).max() <= 80
        # every differing pixel lies within the pen's width of a seam (a piece's first vertex), a few a seam
        width = county.layer_def.style.stroke_width_mm * view.px_per_mm()
        xy, offs = _in_view(view, county)
        step = painter_module.WIDE_PIECE_VERTICES - 1
        seams = np.concatenate([xy[s:e - 1:step] for s, e in zip(offs[:-1], offs[1:])]
                               + [xy[offs[1:] - 1]])  # (and a part's ends: a closed ring's meet in one path)
        differ = np.argwhere(np.abs(got - want).max(axis=2) > 0)
        assert 0 < len(differ) <= 8 * len(seams)
        d = np.hypot(differ[:, 1, None] + 0.5 - seams[None, :, 0], differ[:, 0, None] + 0.5 - seams[None, :, 1])
        assert len(differ) == 0 or d.min(axis=1).max() <= width + 1.5


def _in_view(view, layer):
    """The outline's pixel coordinates as the painter strokes them (cut to the frame, thinned), recorded."""
    got = []
    real = painter_module._draw_wide_pieces
    painter_module._draw_wide_pieces = lambda p, xy, offs, c: got.append((xy.copy(), offs - offs[0])) or real(
        p, xy, offs, c)
    try:
        _render(view, layer)
    finally:
        painter_module._draw_wide_pieces = real
    (xy, offs), = got
    return xy, offs


def test_print_resolution_and_dashes_stroke_whole_parts(app, monkeypatch, drawn):
    county = _county()
    full = MapSettings(county.total_bounds(), 900, 600, crs_epsg=EPSG)
    _render(full.with_dpi(300), county)  # an image at print dpi: whole parts
    assert max(drawn) > painter_module.WIDE_PIECE_VERTICES
    drawn.clear()
    from dataclasses import replace

    dashed = PreparedLayer.from_gdf(replace(county.layer_def, style=replace(county.layer_def.style, dash="dash")),
                                    gpd.GeoDataFrame({"id": [1], "name": ["某县"]},
                                                     geometry=[shapely.Polygon(county.coords)], crs=EPSG),
                                    EPSG, projected=True)
    _render(full, dashed)  # a dash pattern restarts at a cut: whole parts
    assert max(drawn) > painter_module.WIDE_PIECE_VERTICES


def test_parts_sharing_a_chunk_stay_one_path_and_a_common_boundary_is_inked_once(app, monkeypatch, drawn):
    """Two counties with a common wiggly boundary (each outline 250 vertices: one chunk of the two): drawn as
    before, pixel for pixel (in pieces the common boundary's antialiased edges would be composited twice)."""
    y = np.linspace(3_900_000, 3_910_000, 120)
    edge = np.column_stack([505_000 + 300 * np.sin(y / 700.0), y])
    west = shapely.Polygon(np.vstack([[[495_000, 3_910_000], [495_000, 3_900_000]], edge]))
    east = shapely.Polygon(np.vstack([edge, [[515_000, 3_910_000], [515_000, 3_900_000]]]))
    gdf = gpd.GeoDataFrame({"id": [1, 2], "name": ["西县", "东县"]}, geometry=[west, east], crs=EPSG)
    two = PreparedLayer.from_gdf(load_catalogue()["county"], gdf, EPSG, projected=True)
    view = MapSettings((500_000.3, 3_899_000.7, 510_000.3, 3_911_000.7), 500, 600, crs_epsg=EPSG)
    got = _render(view, two)
    assert max(drawn) > painter_module.WIDE_PIECE_VERTICES
    want = _whole(monkeypatch, view, two)
    assert (got[..., 0] < 128).sum() > 1000 and np.array_equal(got, want)
