"""Generalised strokes: a large line layer on an image is stroked as one antialiased 1-px cosmetic line at every
scale, a decimated band from paths built once in map units (painter ``_paint_hairlines``); small layers' exact
drawings and vector devices keep the real width."""

import re
import zlib
from dataclasses import replace

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


def _lines(n=60, seed=5, straight=3000):
    """Random walks of many short steps (decimated away at small scales), several classes, and a straight
    horizontal line of ``straight`` vertices (id 0)."""
    rng = np.random.default_rng(seed)
    geoms = [shapely.LineString(np.column_stack([np.linspace(1_000, 59_000, straight), np.full(straight, 20_037.0)]))]
    for _ in range(n):
        start = rng.uniform(0, 60_000, 2)
        geoms.append(shapely.LineString(start + np.cumsum(rng.normal(0, 40.0, (400, 2)), axis=0)))
    cats = ["gas"] + list(rng.choice(["gas", "water", "power", "heat"], n))
    gdf = gpd.GeoDataFrame({"id": np.arange(n + 1), "name": [f"线{i}" for i in range(n + 1)], "category": cats},
                           geometry=geoms)
    return PreparedLayer.from_gdf(load_catalogue()["lifelines"], gdf, EPSG, projected=True)


def _image(settings):
    img = QImage(settings.width_px, settings.height_px, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    return img


def _pixels(img):
    img = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
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


def _fresh(settings, band):
    """The band drawn from paths built now in the view's pixels, class by class (the painter's order)."""
    img = _image(settings)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    width = band.layer_def.style.stroke_width_mm * settings.px_per_mm()
    cls = band.cls[band.part_feature]
    for c in band.class_order:
        parts = np.flatnonzero(cls == c)
        if not len(parts):
            continue
        xy = np.concatenate([band.coords[band.offsets[i]:band.offsets[i + 1]] for i in parts])
        offs = np.concatenate([[0], np.cumsum(np.diff(band.offsets)[parts])])
        p.setPen(painter_module.hairline_pen(band.stroke_colours[c], width))
        p.drawPath(make_path(settings.map_to_pixel(xy), polyline_types(offs)))
    p.end()
    return _pixels(img)


def test_band_paths_built_once_draw_every_scale_and_pan_of_the_band_exactly(app, monkeypatch):
    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    prep = _lines()
    view = MapSettings((0, 0, 60_000, 40_000), 480, 320, crs_epsg=EPSG)  # 125 m a pixel: the 64 m band
    views = [view, view.zoomed(1.6), view.zoomed(1.6).panned(37.4, -21.7)]
    bands = [lazy.simplified_for_view(prep, v) for v in views]
    band = bands[0]
    assert all(b is band for b in bands) and band.lod_tolerance == 64.0  # one band serves the three views
    assert len(band.coords) < len(prep.coords) / 3
    kept = None
    wide = MapSettings((-27_600, -15_800, 87_600, 61_000), 960, 640, crs_epsg=EPSG)  # 120 m a pixel: all in view
    assert lazy.simplified_for_view(prep, wide) is band
    assert shapely.box(*wide.extent).contains(shapely.box(*shapely.total_bounds(prep.geoms)))
    for v in views + [wide]:
        stats = []
        got = _rendered(v, [prep], stats)
        want = _fresh(v, band)
        assert (got[..., 3] > 0).sum() > 2000  # lines drawn
        assert np.array_equal(got, want), np.abs(got - want).max()
        # the features counted: those of the source layer whose lines come within the stroke of the view
        margin = (0.35 * v.px_per_mm() / 2 + 1) * v.resolution
        x0, y0, x1, y1 = v.extent
        near = shapely.intersects(prep.geoms, shapely.box(x0 - margin, y0 - margin, x1 + margin, y1 + margin))
        assert stats[0].features["lifelines"] == int(near.sum()), (stats[0].features, int(near.sum()))
        if kept is None:
            kept = band.__dict__["_map_paths"]
        assert band.__dict__["_map_paths"] is kept  # the paths were built once


def _ink_across(pixels, x_range, y):
    """Ink (coverage in px) across the horizontal line near row ``y``: the alpha summed down each column."""
    cols = pixels[y - 6:y + 7, x_range[0]:x_range[1], 3].sum(axis=0) / 255.0
    return float(np.median(cols))


def test_a_small_layer_keeps_the_real_width_and_a_large_one_is_one_pixel(app, monkeypatch):
    prep = _lines(n=20)
    view = MapSettings((0, 0, 60_000, 40_000), 480, 320, crs_epsg=EPSG)
    width = prep.layer_def.style.stroke_width_mm * view.px_per_mm()
    assert 1.2 < width < HAIRLINE_MAX
    y = int(view.map_to_pixel(np.array([[0.0, 20_037.0]]))[0][1])
    x_range = (40, 90)  # a stretch of the horizontal line no walk crosses
    exact = _rendered(view, [prep])  # fewer vertices than LOD_VERTICES: drawn exactly
    assert lazy.simplified_for_view(prep, view) is prep
    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    assert lazy.simplified_for_view(prep, view).lod_tolerance is not None
    lod = _rendered(view, [prep])
    free = (exact[y - 6:y + 7, x_range[0]:x_range[1], 3] > 0).sum(axis=0) <= 3
    assert free.all()  # only the line in those columns
    real, hair = _ink_across(exact, x_range, y), _ink_across(lod, x_range, y)
    # the exact drawing's offset passes ink a 1.32-px stroke as 1.18–1.2 px on a horizontal line at this phase
    assert abs(real - width) < 0.16 and abs(hair - 1.0) < 0.05 and real - hair > 0.12, (real, hair, width)
    # a large layer (as many vertices as the layers kept as images) is one pixel at its exact scales too: there
    # its segments are longer than a pixel (Qt's cosmetic stroker inks sub-pixel segments lighter)
    monkeypatch.setattr(lazy, "LOD_VERTICES", 10 ** 9)
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 1000)
    coarse = _lines(n=20, straight=200)  # 296 m steps: 2.4 px
    assert lazy.simplified_for_view(coarse, view) is coarse
    large = _ink_across(_rendered(view, [coarse]), x_range, y)
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 10 ** 9)
    small = _ink_across(_rendered(view, [coarse]), x_range, y)
    assert abs(large - 1.0) < 0.05 and abs(small - width) < 0.16, (large, small)


HAIRLINE_MAX = painter_module.HAIRLINE_MAX_PX


def _pdf_line_widths(path) -> set:
    data = path.read_bytes()
    widths = set()
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        body = m.group(1)
        try:
            body = zlib.decompress(body)
        except zlib.error:
            pass
        widths.update(float(w) for w in re.findall(rb"([0-9.]+) w\b", body))
    return widths


def test_pdf_keeps_the_real_width(app, monkeypatch, tmp_path):
    prep = _lines(n=20)
    view = MapSettings((0, 0, 60_000, 40_000), 480, 320, crs_epsg=EPSG)

    def pdf_widths(layers, name):
        out = tmp_path / name
        writer = QPdfWriter(str(out))
        writer.setResolution(96)
        writer.setPageSize(QPageSize(QSizeF(127, 84.7), QPageSize.Unit.Millimeter))
        writer.setPageMargins(QMarginsF(0, 0, 0, 0))
        p = QPainter(writer)
        render(p, view, layers, labels=False)
        p.end()
        return _pdf_line_widths(out)

    width = prep.layer_def.style.stroke_width_mm * view.px_per_mm()
    exact = pdf_widths([prep], "exact.pdf")
    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    assert lazy.simplified_for_view(prep, view).lod_tolerance is not None  # drawn decimated
    drawn = pdf_widths([prep], "lod.pdf")
    assert drawn == exact and any(abs(w - width) < 0.01 for w in drawn), (drawn, exact, width)


def _cells(seed=9, outline=True):
    """Square cells of 60–900 m with wiggly edges (many vertices) in four levels, a few with holes."""
    rng = np.random.default_rng(seed)
    cells, levels = [], []
    for i in range(40):
        for j in range(26):
            side = rng.choice([60.0, 100.0, 150.0, 300.0, 900.0], p=[0.1, 0.15, 0.1, 0.25, 0.4])
            x, y = 500_000 + i * 1000, 3_900_000 + j * 1000
            t = np.linspace(0, 1, 30)[:-1]
            edges = [np.column_stack([x + side * t, y + 3 * np.sin(50 * t)]),
                     np.column_stack([x + side - 3 * np.sin(50 * t), y + side * t]),
                     np.column_stack([x + side * (1 - t), np.full_like(t, y + side)]),
                     np.column_stack([np.full_like(t, x), y + side * (1 - t)])]
            ring = np.concatenate(edges + [[[x, y + 3 * np.sin(0)]]])
            hole = [] if side < 900 or (i + j) % 3 else [shapely.box(x + 300, y + 300, x + 500, y + 500).exterior]
            cells.append(shapely.Polygon(ring, hole))
            levels.append(int(rng.integers(1, 5)))
    gdf = gpd.GeoDataFrame({"id": np.arange(len(cells)), "name": [f"网格{k}" for k in range(len(cells))],
                            "level": levels}, geometry=cells)
    layer_def = load_catalogue()["grids"]
    if not outline:  # one translucent colour, no outline: antialiased fills
        layer_def = replace(layer_def, style=replace(layer_def.style, type="single", fill="#3366CC", stroke=None))
    return PreparedLayer.from_gdf(layer_def, gdf, EPSG, projected=True)


@pytest.mark.parametrize("outline", [True, False])
def test_band_fills_and_outlines_from_map_paths_equal_this_frames_paths(app, monkeypatch, outline):
    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    prep = _cells(outline=outline)
    full = MapSettings(prep.total_bounds(), 400, 260, crs_epsg=EPSG)  # about 100 m a pixel: the 64 m band
    views = [full, full.zoomed(1.4), full.zoomed(1.4).panned(-23.3, 11.6)]
    band = lazy.simplified_for_view(prep, full)
    assert band.lod_tolerance == 64.0 and all(lazy.simplified_for_view(prep, v) is band for v in views)
    sizes = np.maximum(prep.bounds[:, 2] - prep.bounds[:, 0], prep.bounds[:, 3] - prep.bounds[:, 1])
    assert (sizes < full.resolution).any() and ((sizes > 64) & (sizes < 128)).any()  # dots and this frame's own
    calls = []
    real = painter_module._paint_map_polygons
    monkeypatch.setattr(painter_module, "_paint_map_polygons", lambda *a: calls.append(1) or real(*a))
    for v in views:
        got = _rendered(v, [prep])
        with monkeypatch.context() as m:  # the painter's own drawing of the band, paths built for the frame
            m.setattr(painter_module, "_draws_map_fills", lambda *a: False)
            want = _rendered(v, [prep])
        assert (got[..., 3] > 0).mean() > 0.2
        assert np.array_equal(got, want), (np.abs(got - want).max(), (np.abs(got - want).max(axis=2) > 0).sum())
    assert len(calls) == len(views)
    (_, big, _), = band.__dict__["_map_fills"][2].values()
    assert big.sum() == (sizes >= 128).sum()  # the paths kept: cells of 2 tol or more


def test_a_lazy_layers_band_is_drawn_as_hairlines_and_its_exact_view_at_the_real_width(app, tmp_path, monkeypatch):
    from riskmap.render.lazy import LazyPrepared
    from riskmap.store import Project
    from tests.render.test_lazy_shapes import EPSG as SHAPES_EPSG, make_shapes_project

    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    path = tmp_path / "shapes.gpkg"
    make_shapes_project(path)
    project = Project.open(path)
    try:
        lz = LazyPrepared(project, load_catalogue()["lifelines"], SHAPES_EPSG, 11, cache_dir=tmp_path / "cache")
        full = MapSettings(lz.total_bounds(), 300, 200, crs_epsg=SHAPES_EPSG)  # about 100 m a pixel
        band = lz.for_view(full, labels=False)
        assert band.lod_tolerance == 2.0 ** np.floor(np.log2(full.resolution))
        assert len(band.coords) < len(lz._shape_data()["coords"]) / 5
        x, y = (lz._shape_data()["coords"][0] + lz._shape_data()["coords"][1]) / 2  # on a line
        close = MapSettings((x - 15, y - 10, x + 15, y + 10), 300, 200, crs_epsg=SHAPES_EPSG)  # 0.1 m a pixel
        assert lz.for_view(close, labels=False).lod_tolerance is None
        calls = []
        real = painter_module._paint_hairlines
        monkeypatch.setattr(painter_module, "_paint_hairlines", lambda *a: calls.append(a[1]) or real(*a))
        got = _rendered(full, [lz])
        assert len(calls) == 1 and calls[0] is band  # the band drawn through its map-space paths
        assert np.array_equal(got, _fresh(full, band))
        assert (_rendered(close, [lz])[..., 3] > 0).sum() > 100
        assert len(calls) == 1  # the exact view the usual way (offset passes at the real width)
    finally:
        project.close()


def test_a_level_of_detail_far_beyond_the_frame_is_generalised_too(app, monkeypatch):
    """A band reaching more than FAR_PX beyond the frame is drawn from the frame's own paths (cut to it), with
    the same 1-px pen: a pan never changes the width."""
    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    long = shapely.LineString(np.column_stack([np.linspace(0, 2_000_000, 20_000), np.full(20_000, 20_037.0)]))
    wiggle = shapely.LineString(np.column_stack([np.linspace(0, 2_000_000, 40_000),
                                                 30_000 + 30 * np.sin(np.arange(40_000))]))
    gdf = gpd.GeoDataFrame({"id": [1, 2], "name": ["甲", "乙"], "category": ["gas", "water"]},
                           geometry=[long, wiggle])
    prep = PreparedLayer.from_gdf(load_catalogue()["lifelines"], gdf, EPSG, projected=True)
    view = MapSettings((970_000, 0, 1_030_000, 40_000), 480, 320, crs_epsg=EPSG)  # 125 m a pixel, 8000 px of line
    band = lazy.simplified_for_view(prep, view)
    img = _image(view)
    p = QPainter(img)
    far = not painter_module._near_frame(painter_module._Ctx(p, view), band)
    p.end()
    assert band.lod_tolerance == 64.0 and far
    calls = []
    real = painter_module._paint_hairlines
    monkeypatch.setattr(painter_module, "_paint_hairlines", lambda *a: calls.append(1) or real(*a))
    got = _rendered(view, [prep])
    assert calls == []  # not from the map-space paths
    y = int(view.map_to_pixel(np.array([[0.0, 20_037.0]]))[0][1])
    assert abs(_ink_across(got, (40, 440), y) - 1.0) < 0.05, _ink_across(got, (40, 440), y)
