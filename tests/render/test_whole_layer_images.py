"""riskmap.render.painter: at small scales a large layer's kept image covers the whole layer on the view's pixel
grid, so a pan by whole pixels is served from it, pixel for pixel what a fresh render paints (its 1-px lines,
stroked through the view's transform, within a few levels on a few pixels); anything else (a pan by part of a
pixel, another scale, an edit) paints afresh."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer, render_image


def _pixels(img) -> np.ndarray:
    w, h = img.width(), img.height()
    raw = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())
    return raw[:, :w * 4].reshape(h, w, 4).copy()


def _lines(n=400, seed=7):
    """Short wiggly lifelines of four categories over 40 × 30 km; every tenth one gas (yellow)."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    lines, cats = [], []
    for k in range(n):
        x0, y0 = rng.uniform(500_000, 540_000), rng.uniform(3_900_000, 3_930_000)
        t = np.linspace(0, 1, 40)
        xy = np.column_stack([x0 + 1500 * t + 30 * np.sin(25 * t), y0 + 900 * t * rng.uniform(-1, 1)])
        lines.append(shapely.LineString(xy))
        cats.append("gas" if k % 10 == 0 else ("water", "power", "heat")[k % 3])
    return gpd.GeoDataFrame({"id": np.arange(1, n + 1), "name": [f"管线{k}" for k in range(n)], "category": cats},
                            geometry=lines)


@pytest.fixture(params=["hairline", "wide"])
def lines_layer(app, monkeypatch, request):
    """The lifelines as a large layer: their 0.35 mm drawn as one antialiased pixel (through the view's
    transform), or a 0.6 mm stroke (offset passes in the frame's pixels)."""
    from dataclasses import replace

    import riskmap.render.painter as painter

    monkeypatch.setattr(painter, "LAYER_IMAGE_VERTICES", 1000)
    painter.clear_layer_images()
    layer_def = load_catalogue()["lifelines"]
    if request.param == "wide":
        layer_def = replace(layer_def, style=replace(layer_def.style, stroke_width_mm=0.6))
    yield PreparedLayer.from_gdf(layer_def, _lines(), 4544, projected=True)
    painter.clear_layer_images()


def _same(served, fresh, layer) -> bool:
    """Pixel for pixel; a large layer's 1-px lines (stroked through the view's transform, whose translation a
    pan changes) may differ by a few levels on a few pixels, where Qt's fixed-point line stepping rounds the
    other way."""
    a, b = _pixels(served).astype(int), _pixels(fresh).astype(int)
    if layer.layer_def.style.stroke_width_mm > 0.5:
        return np.array_equal(a, b)
    d = np.abs(a - b).max(axis=2)
    return d.max() <= 4 and (d > 0).sum() <= 0.001 * (b[..., 0] < 255).sum()


def _counting(monkeypatch):
    import riskmap.render.painter as painter

    calls = []
    real = painter._paint_body
    monkeypatch.setattr(painter, "_paint_body", lambda *a: calls.append(1) or real(*a))
    return calls


def test_a_pan_by_whole_pixels_is_served_from_the_whole_layer_image(lines_layer, monkeypatch):
    import riskmap.render.painter as painter

    prep = lines_layer
    full = MapSettings(prep.total_bounds(), 480, 300, crs_epsg=4544).zoomed(0.9)
    render_image(full, [prep], labels=False)
    (key, (_, img, n, origin)), = painter._LAYER_IMAGES.items()
    assert "whole" in key and n == len(prep.ids)
    # the image holds the whole layer: its box contains every feature's bounds, on the view's pixel grid
    x0, y1 = origin
    res = full.resolution
    b = prep.total_bounds()
    assert x0 <= b[0] and y1 >= b[3] and x0 + img.width() * res >= b[2] and y1 - img.height() * res <= b[1]
    assert abs((x0 - full.extent[0]) / res - round((x0 - full.extent[0]) / res)) < 1e-6
    calls = _counting(monkeypatch)
    for dx, dy in ((37, 23), (-120, 15), (3, -90)):  # the last two push part of the layer out of view
        view = full.panned(dx, dy)
        stats = []
        served = render_image(view, [prep], labels=False, stats=stats)
        assert calls == [], (dx, dy)  # no painting: the kept image moved by whole pixels
        painter.clear_layer_images()
        fresh = render_image(view, [prep], labels=False)
        assert calls == [1]
        calls.clear()
        assert _same(served, fresh, prep), (dx, dy)  # pixel for pixel
        # the features counted are those in view (bounds meeting it), computed by hand
        bounds = prep.bounds
        margin = (prep.layer_def.style.stroke_width_mm * view.px_per_mm() / 2 + 1) * view.resolution
        xmin, ymin, xmax, ymax = view.extent
        want = int(((bounds[:, 2] >= xmin - margin) & (bounds[:, 0] <= xmax + margin)
                    & (bounds[:, 3] >= ymin - margin) & (bounds[:, 1] <= ymax + margin)).sum())
        assert stats[0].features["lifelines"] == want
        assert (dx, dy) == (37, 23) or want < len(prep.ids)
    # a gas line (yellow #C6A700) shows where the kept image put it: sample its vertices' pixels
    view = full.panned(11, 7)
    img = render_image(view, [prep], labels=False)
    assert calls == []
    gas = np.flatnonzero(prep.cls == [c.key for c in prep.classes].index("gas"))
    px = view.map_to_pixel(shapely.get_coordinates(_lines().geometry.iloc[0]))
    hits = 0
    for x, y in px[::5]:
        if 1 <= x < view.width_px - 1 and 1 <= y < view.height_px - 1:
            from tests.render.conftest import rgb

            near = [rgb(img, int(x) + i, int(y) + j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
            hits += any(r > 150 and g > 120 and b < 90 for r, g, b in near)
    assert len(gas) and hits >= 3


def test_part_pixel_pans_other_scales_and_edits_paint_afresh(lines_layer, monkeypatch):
    import riskmap.render.painter as painter

    prep = lines_layer
    full = MapSettings(prep.total_bounds(), 480, 300, crs_epsg=4544).zoomed(0.9)
    render_image(full, [prep], labels=False)
    calls = _counting(monkeypatch)
    half = full.panned(0.5, 0.25)  # the pixel grid moved: the kept image does not fit it
    img = render_image(half, [prep], labels=False)
    assert calls == [1]
    painter.clear_layer_images()
    assert _same(img, render_image(half, [prep], labels=False), prep)
    calls.clear()
    render_image(full.zoomed(1.25), [prep], labels=False)  # another scale
    assert calls == [1]
    calls.clear()
    zoomed = full.zoomed(10)  # the whole layer would be 100 views: an image of the view, as before
    render_image(zoomed, [prep], labels=False)
    last = list(painter._LAYER_IMAGES)[-1]
    assert calls == [1] and "whole" not in last and last[-1] == zoomed
    # an edit (a new PreparedLayer: the first line now gas → power) or a new version is never served stale
    render_image(full, [prep], labels=False)
    calls.clear()
    gdf = _lines()
    gdf.loc[0, "category"] = "power"
    edited = PreparedLayer.from_gdf(load_catalogue()["lifelines"], gdf, 4544, projected=True)
    view = full.panned(5, 5)
    img = render_image(view, [edited], labels=False)
    assert calls == [1]
    painter.clear_layer_images()
    assert _same(img, render_image(view, [edited], labels=False), edited)
    calls.clear()
    render_image(view, [prep], labels=False)
    render_image(view.panned(3, 0), [prep], labels=False)
    assert calls == [1]  # the first drawn, its pan served
    prep.version += 1
    render_image(view.panned(6, 0), [prep], labels=False)
    assert calls == [1, 1]
