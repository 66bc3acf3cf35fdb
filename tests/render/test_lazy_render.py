"""riskmap.render.lazy: a lazy layer's views (aggregates keep the highest level, exact points below the budget,
exact counts), and large line layers drawn simplified at small scales."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer, render_image
from tests.render.conftest import points_project


@pytest.fixture(scope="module")
def lazy_project(tmp_path_factory):
    yield from points_project(tmp_path_factory, "lazy", 5)


def test_lazy_views_aggregate_above_the_budget_and_keep_red(app, lazy_project, monkeypatch):
    import riskmap.render.lazy as lazy
    from riskmap.crs import transformer

    project, data = lazy_project
    monkeypatch.setattr(lazy, "POINT_BUDGET", 1000)
    lz = lazy.LazyPrepared(project, load_catalogue()["enterprises"], 4544, len(data["id"]))
    # exact counts of every row, by hand
    want = {1: 0, 2: 0, 3: 0, 4: 0, None: 0}
    for v in data["level"]:
        want[v] += 1
    assert lz.counts() == want
    x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
    full = MapSettings((x.min(), y.min(), x.max(), y.max()), 800, 600, crs_epsg=4544)
    agg = lz.for_view(full)
    assert agg.aggregated and lz.is_aggregated(full)
    keys = np.array([agg.classes[c].key for c in agg.cls], dtype=object)
    assert (keys == 1).sum() == 1  # the one red enterprise's aggregate is red, no other
    assert sum(int(t) if t else 1 for t in agg.label_text) == len(data["id"])  # counts add up to every point
    assert agg.title() == "企业（已聚合：每个符号为一片区域内最高等级）"
    zoomed = full.zoomed(8)
    exact = lz.for_view(zoomed)
    assert not exact.aggregated
    inside = zoomed.contains_xy(x, y, margin=(2.4 * zoomed.px_per_mm() + 2) * zoomed.resolution)
    assert sorted(exact.ids.tolist()) == sorted(data["id"][inside].tolist())
    assert np.allclose(np.sort(exact.coords[:, 0]), np.sort(x[inside]))
    img = render_image(full, [lz])  # the renderer resolves the lazy layer itself
    assert not img.isNull()


def _parts(coords, offsets):
    return [coords[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def test_large_lines_drawn_decimated_at_small_scales(monkeypatch):
    import riskmap.render.lazy as lazy
    import geopandas as gpd

    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    t = np.linspace(0, 60, 3000)
    wiggly = [shapely.LineString(np.column_stack([1000 * t + k * 50, 2000 + 3 * np.sin(40 * t) + k * 400]))
              for k in range(3)]
    tiny = shapely.LineString([(30_000, 3500), (30_020, 3510), (30_040, 3500)])  # a fifth of a pixel long
    gdf = gpd.GeoDataFrame({"id": [1, 2, 3, 4], "name": ["甲", "乙", "丙", "丁"],
                            "category": ["gas", "water", "power", "heat"]}, geometry=wiggly + [tiny])
    prep = PreparedLayer.from_gdf(load_catalogue()["lifelines"], gdf, 4544, projected=True)
    small = MapSettings((0, 0, 61_000, 4000), 600, 300, crs_epsg=4544)  # about 100 m a pixel
    drawn = lazy.simplified_for_view(prep, small)
    assert drawn is not prep and len(drawn.coords) < len(prep.coords) / 10
    tol = 2.0 ** np.floor(np.log2(small.resolution))
    assert tol <= small.resolution
    got = _parts(drawn.coords, drawn.offsets)
    assert len(got) == 4  # every part kept, the sub-pixel line too
    for a, b in zip(prep.geoms, got):
        assert len(b) >= 2 and np.array_equal(b[0], shapely.get_coordinates(a)[0])  # ends kept exactly
        assert np.array_equal(b[-1], shapely.get_coordinates(a)[-1])
        assert shapely.hausdorff_distance(a, shapely.LineString(b)) <= tol + 1e-6  # within a pixel of the real line
    assert drawn.ids.tolist() == [1, 2, 3, 4] and drawn.cls.tolist() == prep.cls.tolist()
    assert lazy.simplified_for_view(prep, small) is drawn  # kept for the next frame of that band
    close = MapSettings((0, 1900, 300, 2100), 600, 300, crs_epsg=4544)  # 0.5 m a pixel: drawn as it is
    assert lazy.simplified_for_view(prep, close) is prep


def test_decimate_keeps_rings_and_bounds_the_error():
    import riskmap.render.lazy as lazy

    rng = np.random.default_rng(3)
    # a random walk (nothing to gain by much) and a square ring sampled densely (almost everything goes)
    walk = np.cumsum(rng.normal(0, 1.0, (500, 2)), axis=0)
    side = np.linspace(0, 10, 101)[:-1]
    ring = np.concatenate([np.column_stack([side, np.zeros(100)]), np.column_stack([np.full(100, 10), side]),
                           np.column_stack([10 - side, np.full(100, 10)]), np.column_stack([np.zeros(100), 10 - side]),
                           [[0, 0]]])
    for tol in (0.1, 0.5, 2.0):
        c, o = lazy.decimate(walk, np.array([0, len(walk)]), tol)
        assert shapely.hausdorff_distance(shapely.LineString(walk), shapely.LineString(c)) <= tol + 1e-9
        c, o = lazy.decimate(ring, np.array([0, len(ring)]), tol, closed=True)
        assert o.tolist() == [0, len(c)] and len(c) >= 4 and np.array_equal(c[0], c[-1])
        assert abs(shapely.Polygon(c).area - 100.0) <= 40 * tol  # within tol of the square's outline
        assert shapely.hausdorff_distance(shapely.LineString(ring), shapely.LineString(c)) <= tol + 1e-9
        assert len(c) <= 40  # of 401: the collinear vertices go
    # a tiny ring is never emptied: it keeps its 4 vertices however large the tolerance
    tri = np.array([[0, 0], [1, 0], [0.5, 0.1], [0, 0]])
    c, o = lazy.decimate(tri, np.array([0, 4]), 100.0, closed=True)
    assert o.tolist() == [0, 4] and len(c) == 4


def _big_grid(n_side=60, red=(17, 41)):
    """n_side² square grid cells 100 m wide, all level 4 but one level 1 (red)."""
    import geopandas as gpd

    cells, levels, ids = [], [], []
    for i in range(n_side):
        for j in range(n_side):
            x, y = 500_000 + i * 100, 3_900_000 + j * 100
            edge = np.linspace(0, 100, 11)
            ring = np.concatenate([np.column_stack([x + edge, np.full(11, y)]),
                                   np.column_stack([np.full(10, x + 100), y + edge[1:]]),
                                   np.column_stack([x + edge[::-1][1:], np.full(10, y + 100)]),
                                   np.column_stack([np.full(10, x), y + edge[::-1][1:]])])
            cells.append(shapely.Polygon(ring))
            levels.append(1 if (i, j) == red else 4)
            ids.append(len(ids) + 1)
    return gpd.GeoDataFrame({"id": ids, "name": [f"网格{k}" for k in ids], "level": levels}, geometry=cells)


def test_lone_red_grid_cell_stays_red_at_the_full_view(app, monkeypatch):
    import riskmap.render.lazy as lazy
    import riskmap.render.painter as painter
    from tests.render.conftest import close, rgb as colour_at

    monkeypatch.setattr(lazy, "LOD_VERTICES", 10_000)
    gdf = _big_grid()
    prep = PreparedLayer.from_gdf(load_catalogue()["grids"], gdf, 4544, projected=True)
    assert len(prep.coords) > 100_000
    full = MapSettings(prep.total_bounds(), 200, 200, crs_epsg=4544)  # 6 km on 200 px: a cell is 3.3 px
    drawn = lazy.simplified_for_view(prep, full)
    assert drawn is not prep and len(drawn.coords) <= 3600 * 9  # of 41 vertices a cell, 9 at most are left
    assert len(drawn.offsets) == len(prep.offsets)  # every cell kept
    painter.clear_layer_images()
    img = render_image(full, [prep], labels=False)
    cx, cy = full.map_to_pixel(np.array([[500_000 + 17 * 100 + 50, 3_900_000 + 41 * 100 + 50]]))[0]
    from PySide6.QtGui import QColor

    def over_white(level):  # the level's fill at the grids' fill opacity (0.35) over the white background
        c = QColor(prep.fill_colours[[k.key for k in prep.classes].index(level)])
        return tuple(round(0.35 * v + 0.65 * 255) for v in (c.red(), c.green(), c.blue()))

    assert close(colour_at(img, int(cx), int(cy)), over_white(1), 4), colour_at(img, int(cx), int(cy))
    assert close(colour_at(img, int(cx) + 10, int(cy)), over_white(4), 4)  # a level-4 cell beside it
    far = MapSettings(prep.total_bounds(), 40, 40, crs_epsg=4544)  # 150 m a pixel: cells under a pixel
    img = render_image(far, [prep], labels=False)
    cx, cy = far.map_to_pixel(np.array([[500_000 + 17 * 100 + 50, 3_900_000 + 41 * 100 + 50]]))[0]
    reds = [colour_at(img, int(cx) + dx, int(cy) + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert any(r > 180 and g < 120 for r, g, b in reds), reds  # the red cell still shows as red


def test_zoomed_in_the_exact_line_is_drawn(app, monkeypatch):
    import geopandas as gpd
    import riskmap.render.lazy as lazy
    import riskmap.render.painter as painter
    from tests.render.conftest import rgb as colour_at

    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    monkeypatch.setattr(painter, "LAYER_IMAGE_VERTICES", 1000)
    t = np.linspace(0, 1, 2001)
    # a zigzag 20 m high every 10 m: decimated away at 100 m a pixel, drawn exactly at 0.1 m a pixel
    xy = np.column_stack([1000 + 2000 * t, 2000 + 20 * (np.arange(2001) % 2)])
    gdf = gpd.GeoDataFrame({"id": [7], "name": ["甲"], "category": ["water"]}, geometry=[shapely.LineString(xy)])
    prep = PreparedLayer.from_gdf(load_catalogue()["lifelines"], gdf, 4544, projected=True)
    view = MapSettings((1000, 1990, 1040, 2030), 400, 400, crs_epsg=4544)  # 0.1 m a pixel
    assert lazy.simplified_for_view(prep, view) is prep
    img = render_image(view, [prep], labels=False)
    # the segment from (1010, 2000) to (1011, 2020): its middle point is on the line, in water's blue (#1E88E5),
    # one pixel of ink across it (a large layer's thin stroke is one antialiased pixel at every scale)
    for x, y in ((1010.5, 2010.0), (1011.5, 2010.0)):
        px, py = view.map_to_pixel(np.array([[x, y]]))[0]
        across = [colour_at(img, int(round(px)) + d, int(round(py))) for d in range(-3, 4)]
        ink = sum((255 - r) / (255 - 0x1E) for r, _, _ in across)
        r, g, b = min(across)
        assert 0.8 < ink < 1.4 and b > 220 and r < 150, (x, y, across, ink)
    px, py = view.map_to_pixel(np.array([[1010.0, 2025.0]]))[0]  # above the zigzag: white
    assert colour_at(img, int(px), int(py)) == (255, 255, 255)


def test_layer_images_redraw_unchanged_layers_and_never_stale_ones(app, monkeypatch):
    import riskmap.render.painter as painter
    from tests.render.conftest import rgb as colour_at

    monkeypatch.setattr(painter, "LAYER_IMAGE_VERTICES", 1000)
    painter.clear_layer_images()
    gdf = _big_grid(20, red=(5, 5))
    grids = load_catalogue()["grids"]
    prep = PreparedLayer.from_gdf(grids, gdf, 4544, projected=True)
    view = MapSettings(prep.total_bounds(), 200, 200, crs_epsg=4544)
    first = render_image(view, [prep], labels=False)
    calls = []
    real = painter._paint_body
    monkeypatch.setattr(painter, "_paint_body", lambda *a: calls.append(1) or real(*a))
    again = render_image(view, [prep], labels=False)
    assert calls == [] and again == first  # drawn from the kept image
    cx, cy = view.map_to_pixel(np.array([[500_000 + 5 * 100 + 50, 3_900_000 + 5 * 100 + 50]]))[0]
    assert colour_at(again, int(cx), int(cy))[0] > 200
    # an edit makes a new PreparedLayer: the cell turned level 4 is drawn blue, not from the old image
    gdf2 = gdf.copy()
    gdf2.loc[gdf2["level"] == 1, "level"] = 4
    edited = PreparedLayer.from_gdf(grids, gdf2, 4544, projected=True)
    img = render_image(view, [edited], labels=False)
    assert calls and colour_at(img, int(cx), int(cy))[2] > colour_at(img, int(cx), int(cy))[0]
    # a new version of the same object (a filter or reload) and a new opacity are drawn afresh too
    calls.clear()
    prep.version += 1
    render_image(view, [prep], labels=False)
    assert calls
    calls.clear()
    faint = render_image(view, [prep], labels=False, opacity={"grids": 0.3})
    assert calls == []  # the opacity applies to the kept image ...
    r, g, b = colour_at(faint, int(cx), int(cy))
    assert r > 240 and g > 200  # ... drawn fainter
    # a painter that is not a view-sized raster image (print, a translated frame) never uses them
    from PySide6.QtGui import QImage, QPainter
    big = QImage(300, 300, QImage.Format.Format_ARGB32_Premultiplied)
    big.fill(0)
    p = QPainter(big)
    p.translate(50, 50)
    painter.render(p, view, [prep], labels=False)
    p.end()
    assert calls


def test_lazy_layer_as_of_a_date_draws_those_levels(app, lazy_project):
    from riskmap.crs import transformer
    from riskmap.render.lazy import LazyPrepared

    project, data = lazy_project
    lz = LazyPrepared(project, load_catalogue()["enterprises"], 4544, len(data["id"]))
    ids = lz.ids
    red = int(np.flatnonzero(data["level"] == 1)[0])
    exists = np.ones(len(ids), dtype=bool)
    exists[:100] = False  # not yet created on that date
    levels = np.full(len(ids), 4.0)
    levels[red] = 1.0
    levels[200] = 1.0  # a second red on that date
    past = lz.with_levels(exists, levels)
    assert past.counts() == {1: 2, 2: 0, 3: 0, 4: len(ids) - 102, None: 0}
    assert lz.counts()[1] == 1  # the layer itself is unchanged
    x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
    view = MapSettings((x.min(), y.min(), x.max(), y.max()), 800, 600, crs_epsg=4544).zoomed(1.01)
    exact = past.for_view(view)  # 3,000 points: under the default budget, drawn one by one
    assert not exact.aggregated and set(exact.ids.tolist()) == set(ids[100:].tolist())
    keys = np.array([exact.classes[c].key for c in exact.cls], dtype=object)
    assert sorted(exact.ids[keys == 1].tolist()) == sorted([int(ids[red]), int(ids[200])])


def test_layer_images_stay_within_their_memory(app, monkeypatch):
    import riskmap.render.painter as painter

    monkeypatch.setattr(painter, "LAYER_IMAGE_VERTICES", 1000)
    monkeypatch.setattr(painter, "LAYER_IMAGE_BYTES", 3 * 200 * 200 * 4)  # three 200×200 images
    monkeypatch.setattr(painter, "WHOLE_LAYER_AREA", 0.0)  # images of the view (else one image serves the pans)
    painter.clear_layer_images()
    prep = PreparedLayer.from_gdf(load_catalogue()["grids"], _big_grid(20), 4544, projected=True)
    view = MapSettings(prep.total_bounds(), 200, 200, crs_epsg=4544)
    for k in range(5):
        render_image(view.panned(10 * k, 0), [prep], labels=False)
    assert len(painter._LAYER_IMAGES) == 3  # the last three views
    monkeypatch.setattr(painter, "LAYER_IMAGE_MAX_PX", 199 * 199)
    painter.clear_layer_images()
    render_image(view, [prep], labels=False)
    assert len(painter._LAYER_IMAGES) == 0  # a frame larger than that is never kept
