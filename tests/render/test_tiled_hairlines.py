"""A large line layer drawn exactly (every vertex) on an image: its thin solid stroke is one antialiased 1-px
cosmetic line as at its levels of detail, stroked from map-space paths kept per spatial tile of the whole layer,
only the tiles meeting the view (painter ``_paint_tiled_hairlines``). Pixels are compared with paths built for the
frame in its own pixels; small layers and PDF keep the real width."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PySide6.QtCore import QMarginsF, QSizeF, Qt
from PySide6.QtGui import QImage, QPageSize, QPainter, QPdfWriter

import riskmap.render.lazy as lazy
import riskmap.render.painter as painter_module
from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer, render
from riskmap.render._bulk import make_path, polyline_types

EPSG = 4544


def _lines(seed=3):
    """Random walks of 20–300 vertices (several categories, crossing each other) over 60 × 40 km, a long
    straight gas line (id 0) across the whole box and a two-part line far apart (no vertex on a whole pixel of
    the views: a line end exactly between two pixels rounds either way by the last bit of the transform)."""
    rng = np.random.default_rng(seed)
    geoms = [shapely.LineString(np.column_stack([np.linspace(503.1, 59_497.3, 500),
                                                 np.linspace(3_001.7, 36_998.9, 500)]))]
    for _ in range(150):
        start = rng.uniform(0, [60_000, 40_000])
        geoms.append(shapely.LineString(start + np.cumsum(rng.normal(0, 60.0, (int(rng.integers(20, 300)), 2)),
                                                          axis=0)))
    geoms.append(shapely.MultiLineString([[(1_003.7, 38_991.3), (2_011.9, 38_507.1)],
                                          [(58_004.3, 1_012.9), (59_010.1, 2_003.3)]]))
    cats = ["gas"] + list(rng.choice(["gas", "water", "power", "heat"], len(geoms) - 1))
    gdf = gpd.GeoDataFrame({"id": np.arange(len(geoms)), "name": [f"线{i}" for i in range(len(geoms))],
                            "category": cats}, geometry=geoms)
    return gdf


@pytest.fixture
def large(app, monkeypatch):
    """The lines as a large layer (LAYER_IMAGE_VERTICES lowered) in small tiles, drawn exactly (no level of
    detail: LOD_VERTICES above it)."""
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 1000)
    monkeypatch.setattr(painter_module, "TILE_VERTICES", 400)
    monkeypatch.setattr(lazy, "LOD_VERTICES", 10 ** 9)
    monkeypatch.setattr(painter_module, "_image_key", lambda *a: None)  # drawn straight into the frame
    return PreparedLayer.from_gdf(load_catalogue()["lifelines"], _lines(), EPSG, projected=True)


def _image(settings):
    img = QImage(settings.width_px, settings.height_px, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    return img


def _pixels(img):
    return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(
        img.height(), img.bytesPerLine() // 4, 4)[:, :img.width()].astype(int)


def _rendered(settings, layers, stats=None):
    img = _image(settings)
    p = QPainter(img)
    got = render(p, settings, layers, labels=False)
    p.end()
    if stats is not None:
        stats.append(got)
    return _pixels(img)


def _fresh(settings, coords, offsets, part_class, layer):
    """Every part drawn from paths built now in the frame's pixels, class by class in the layer's drawing order,
    with the 1-px cosmetic pen."""
    img = _image(settings)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    for c in layer.class_order:
        parts = np.flatnonzero(part_class == c)
        if not len(parts):
            continue
        xy = np.concatenate([coords[offsets[i]:offsets[i + 1]] for i in parts])
        offs = np.concatenate([[0], np.cumsum(np.diff(offsets)[parts])])
        p.setPen(painter_module.hairline_pen(layer.stroke_colours[c], 1.32))
        p.drawPath(make_path(settings.map_to_pixel(xy), polyline_types(offs)))
    p.end()
    return _pixels(img)


def _near(geoms, settings, width_mm=0.35) -> int:
    """Features with a part whose bounds meet the view widened by the stroke (as the frame counts them), by
    hand from the shapely geometries."""
    margin = (width_mm * settings.px_per_mm() / 2 + 1) * settings.resolution
    x0, y0, x1, y1 = settings.extent
    parts, owner = shapely.get_parts(geoms, return_index=True)
    b = shapely.bounds(parts)
    meet = ((b[:, 2] >= x0 - margin) & (b[:, 0] <= x1 + margin) & (b[:, 3] >= y0 - margin)
            & (b[:, 1] <= y1 + margin))
    return len(set(owner[meet].tolist()))


def _views(prep):
    """Views at exact scales: the whole layer, zooms, one whose left edge lies on a tile's box edge, one
    whose corner cuts the long line, and a pan."""
    full = MapSettings((0, 0, 60_000, 40_000), 480, 320, crs_epsg=EPSG)
    _, tiles = painter_module._line_tiles(prep)
    box = tiles[prep.class_order[-1]].box[len(tiles[prep.class_order[-1]].box) // 2]
    res = full.resolution / 6
    edge = MapSettings((box[2], box[1], box[2] + 480 * res, box[1] + 320 * res), 480, 320, crs_epsg=EPSG)
    corner = MapSettings((29_000, 18_000, 29_000 + 480 * res, 18_000 + 320 * res), 480, 320, crs_epsg=EPSG)
    return [full, full.zoomed(3), edge, corner, corner.panned(-133.3, 71.7), full.zoomed(8).panned(900, -400)]


def test_exact_views_draw_the_tiles_meeting_them_pixel_for_pixel(large):
    prep = large
    cls = prep.cls[prep.part_feature]
    calls = []
    real = painter_module._paint_tiled_hairlines
    for v in _views(prep):
        assert lazy.simplified_for_view(prep, v) is prep  # drawn exactly
        stats = []
        with pytest.MonkeyPatch.context() as m:
            m.setattr(painter_module, "_paint_tiled_hairlines", lambda *a: calls.append(1) or real(*a))
            got = _rendered(v, [prep], stats)
        want = _fresh(v, prep.coords, prep.offsets, cls, prep)
        assert (got[..., 3] > 0).sum() > 300  # lines drawn
        assert np.array_equal(got, want), (np.abs(got - want).max(), (np.abs(got - want).max(axis=2) > 0).sum())
        assert stats[0].features["lifelines"] == _near(prep.geoms, v)
    assert len(calls) == len(_views(prep))
    _, tiles = painter_module._line_tiles(prep)
    built = sum(p is not None for t in tiles.values() for p in t.paths)
    assert 20 < sum(len(t.paths) for t in tiles.values())  # many tiles
    kept = {id(p) for t in tiles.values() for got in t.paths if got for p in got}
    _rendered(_views(prep)[2], [prep])
    again = {id(p) for t in tiles.values() for got in t.paths if got for p in got}
    assert kept == again and built == sum(p is not None for t in tiles.values() for p in t.paths)  # kept, once


def test_tiles_are_built_on_first_touch_and_a_skipped_tile_shows(large, monkeypatch):
    prep = large
    view = _views(prep)[3]  # a corner of the layer, 1/6 of its width
    cls = prep.cls[prep.part_feature]
    want = _fresh(view, prep.coords, prep.offsets, cls, prep)
    assert np.array_equal(_rendered(view, [prep]), want)
    _, tiles = painter_module._line_tiles(prep)
    total = sum(len(t.paths) for t in tiles.values())
    built = [(c, k) for c, t in tiles.items() for k, got in enumerate(t.paths) if got is not None]
    assert 0 < len(built) < total / 2  # only the tiles meeting the view
    x0, y0, x1, y1 = view.extent
    r = 2 * view.resolution
    inside = (prep.coords[:, 0] > x0 + r) & (prep.coords[:, 0] < x1 - r) & (prep.coords[:, 1] > y0 + r) & (
        prep.coords[:, 1] < y1 - r)
    showing = np.flatnonzero(np.add.reduceat(inside, prep.offsets[:-1]) > 0)  # parts with a vertex in view
    shown = [(c, k) for c, k in built if np.isin(tiles[c].members[tiles[c].starts[k]:tiles[c].starts[k + 1]],
                                                  showing).any()]
    assert len(shown) >= 5
    real = painter_module._MapTiles.meeting
    for c, k in shown:  # drawing without any one of them misses lines
        monkeypatch.setattr(painter_module._MapTiles, "meeting",
                            lambda self, e, m, skip=(tiles[c], k): real(self, e, m)[
                                (real(self, e, m) != skip[1]) | (self is not skip[0])])
        assert not np.array_equal(_rendered(view, [prep]), want), (c, k)
    monkeypatch.setattr(painter_module._MapTiles, "meeting", real)


def test_the_long_line_spanning_tiles_is_drawn_whole(large):
    prep = large
    _, tiles = painter_module._line_tiles(prep)
    gas = [c.key for c in prep.classes].index("gas")
    t = tiles[gas]
    where = [k for k in range(len(t.box)) if 0 in t.members[t.starts[k]:t.starts[k + 1]]]
    assert len(where) == 1 and t.box[where[0]][2] - t.box[where[0]][0] > 50_000  # one tile, its box the line's
    full = MapSettings((0, 0, 60_000, 40_000), 480, 320, crs_epsg=EPSG)
    for v in (full.zoomed(5).panned(-500, 300), full.zoomed(5).panned(600, -300)):  # its two ends
        got = _rendered(v, [prep])
        a, c = v.map_to_pixel(np.array([[503.1, 3_001.7], [59_497.3, 36_998.9]]))
        inside = [(x, y) for x, y in np.linspace(a, c, 4000) if 2 <= x < 478 and 2 <= y < 318]
        assert len(inside) > 100
        assert all(got[int(round(y)) - 1:int(round(y)) + 2, int(round(x)) - 1:int(round(x)) + 2, 3].max() > 100
                   for x, y in inside)  # the line shows all along


def test_a_lazy_layers_exact_view_draws_from_the_whole_layers_tiles(app, tmp_path, monkeypatch):
    from riskmap.render.lazy import LazyPrepared
    from riskmap.store import Project
    from tests.render.test_lazy_shapes import EPSG as SHAPES_EPSG, make_shapes_project

    monkeypatch.setattr(painter_module, "TILE_VERTICES", 300)
    path = tmp_path / "shapes.gpkg"
    make_shapes_project(path)
    project = Project.open(path)
    try:
        lz = LazyPrepared(project, load_catalogue()["lifelines"], SHAPES_EPSG, 11)
        sh = lz._shape_data()
        b = lz.total_bounds()
        full = MapSettings(b, 300, 200, crs_epsg=SHAPES_EPSG)
        calls = []
        real = painter_module._paint_tiled_hairlines
        monkeypatch.setattr(painter_module, "_paint_tiled_hairlines", lambda *a: calls.append(a[2]) or real(*a))
        for v in (full, full.zoomed(4).panned(-200, 30), full.zoomed(12).panned(-700, 120)):
            view = lz.for_view(v, labels=False)
            assert view.lod_tolerance is None
            stats = []
            got = _rendered(v, [lz], stats)
            want = _fresh(v, sh["coords"], sh["offsets"], sh["cls"][sh["part_feature"]], view)
            assert (got[..., 3] > 0).sum() > 100
            assert np.array_equal(got, want)
            geoms = gpd.read_file(path, layer="lifelines").to_crs(SHAPES_EPSG).geometry.array
            assert stats[0].features["lifelines"] == _near(np.asarray(geoms), v)
        whole = lz.exact_layer()
        assert calls == [whole] * 3 and calls[0].n == len(sh["id"])  # one whole layer's tiles for every view
        # idle time (the canvas): the exact whole and its tiles laid out, no path built; views draw from them
        lz.drop()
        painter_module.lay_out_tiles(lz)
        laid = lz.exact_layer().__dict__["_line_tiles"]
        _, tiles = laid[2]
        assert all(p is None for t in tiles.values() for p in t.paths)
        v = full.zoomed(12).panned(-700, 120)
        assert np.array_equal(_rendered(v, [lz]), _fresh(v, sh["coords"], sh["offsets"],
                                                         sh["cls"][sh["part_feature"]], lz.exact_layer()))
        assert lz.exact_layer().__dict__["_line_tiles"] is laid and any(p for t in tiles.values() for p in t.paths)
    finally:
        project.close()


def _pdf_line_widths(path) -> set:
    from tests.render.test_lod_hairlines import _pdf_line_widths as widths

    return widths(path)


def test_pdf_and_small_layers_keep_the_real_width(large, tmp_path, monkeypatch):
    prep = large
    view = _views(prep)[1]
    width = prep.layer_def.style.stroke_width_mm * view.px_per_mm()
    out = tmp_path / "exact.pdf"
    writer = QPdfWriter(str(out))
    writer.setResolution(96)
    writer.setPageSize(QPageSize(QSizeF(127, 84.7), QPageSize.Unit.Millimeter))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    p = QPainter(writer)
    calls = []
    real = painter_module._paint_tiled_hairlines
    monkeypatch.setattr(painter_module, "_paint_tiled_hairlines", lambda *a: calls.append(1) or real(*a))
    render(p, view, [prep], labels=False)
    p.end()
    widths = _pdf_line_widths(out)
    assert calls == [] and any(abs(w - width) < 0.01 for w in widths), widths
    # an image at print dpi (an exported sheet): the real width too
    at_300 = MapSettings(view.extent, 1500, 1000, dpi=300, crs_epsg=EPSG)
    got = _rendered(at_300, [prep])
    assert calls == [] and (got[..., 3] > 0).sum() > 1000
    # the same lines as a small layer (below LAYER_IMAGE_VERTICES): the real width's offset passes on images
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 10 ** 9)
    small = PreparedLayer.from_gdf(load_catalogue()["lifelines"], _lines(), EPSG, projected=True)
    got = _rendered(view, [small])
    assert calls == [] and not np.array_equal(got, _fresh(view, small.coords, small.offsets,
                                                          small.cls[small.part_feature], small))
    assert got[..., 3].sum() > 1.1 * _fresh(view, small.coords, small.offsets, small.cls[small.part_feature],
                                             small)[..., 3].sum()  # more ink: the 1.32 px stroke
