"""riskmap.render.painter: on a raster frame the layers that paint into their own images (large layers' kept
images, translucent layers) are painted on worker threads and drawn in drawing order; the frame is the one a
turn-by-turn render paints, pixel for pixel."""

from __future__ import annotations

import threading
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely

import riskmap.render.painter as painter
from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer, render_image

EPSG = 4544


def _pixels(img) -> np.ndarray:
    w, h = img.width(), img.height()
    raw = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())
    return raw[:, :w * 4].reshape(h, w, 4).copy()


def _scene():
    """Towns (translucent fills), wiggly lifelines of four categories (large), enterprises of four levels and a
    county outline over 40 × 30 km; the lines and the points cross the towns' edges."""
    rng = np.random.default_rng(11)
    cat = load_catalogue()
    x0, y0 = 500_000, 3_900_000
    towns = gpd.GeoDataFrame(
        {"id": [1, 2, 3, 4], "name": ["甲镇", "乙镇", "丙乡", "丁乡"], "level": [1, 2, 3, 4]},
        geometry=[shapely.box(x0 + i * 10_000, y0, x0 + (i + 1) * 10_000 - 200, y0 + 30_000) for i in range(4)])
    lines = []
    for _ in range(300):
        s = rng.uniform([x0, y0], [x0 + 40_000, y0 + 30_000])
        lines.append(shapely.LineString(s + np.cumsum(rng.normal(0, 150.0, (60, 2)), axis=0)))
    lifelines = gpd.GeoDataFrame({"id": np.arange(len(lines)), "name": [f"管线{k}" for k in range(len(lines))],
                                  "category": rng.choice(["gas", "water", "power", "heat"], len(lines))},
                                 geometry=lines)
    pts = rng.uniform([x0, y0], [x0 + 40_000, y0 + 30_000], (3000, 2))
    ents = gpd.GeoDataFrame({"id": np.arange(len(pts)), "name": [f"企业{k}" for k in range(len(pts))],
                             "level": rng.integers(1, 5, len(pts))}, geometry=shapely.points(pts))
    county = gpd.GeoDataFrame({"id": [1], "name": ["某县"]},
                              geometry=[shapely.box(x0 + 300, y0 + 300, x0 + 39_700, y0 + 29_700)])
    out = []
    for z, (lid, gdf) in enumerate([("towns", towns), ("lifelines", lifelines), ("enterprises", ents),
                                    ("county", county)]):
        layer_def = replace(cat[lid], z=z) if hasattr(cat[lid], "z") else cat[lid]
        prep = PreparedLayer.from_gdf(layer_def, gdf.set_crs(EPSG), EPSG, projected=True)
        out.append(prep)
    return out


@pytest.fixture
def scene(app, monkeypatch):
    monkeypatch.setattr(painter, "LAYER_IMAGE_VERTICES", 2000)  # the lifelines and enterprises kept as images
    painter.clear_layer_images()
    yield _scene()
    painter.clear_layer_images()


def _render(monkeypatch, layers, view, threads, opacity=None):
    monkeypatch.setattr(painter, "RENDER_THREADS", threads)
    painter.clear_layer_images()
    stats = []
    img = render_image(view, layers, labels=False, opacity=opacity, stats=stats)
    return img, stats[0]


@pytest.mark.parametrize("zoom", [1.0, 4.0])
def test_layers_on_threads_paint_the_turn_by_turn_frame(scene, monkeypatch, zoom):
    view = MapSettings(scene[1].total_bounds(), 640, 420, crs_epsg=EPSG).zoomed(zoom)
    opacity = {"county": 0.6}  # a translucent small layer: its own image too
    threads = set()
    real = painter._layer_job
    monkeypatch.setattr(painter, "_layer_job",
                        lambda *a: threads.add(threading.current_thread().name) or real(*a))
    one, s1 = _render(monkeypatch, scene, view, 1, opacity)
    assert not threads  # one thread: no layer jobs
    two, s2 = _render(monkeypatch, scene, view, 2, opacity)
    assert threads and all(n.startswith("riskmap-layer") for n in threads)
    a, b = _pixels(one), _pixels(two)
    assert np.array_equal(a, b)
    assert s1.features == s2.features
    assert s2.features["enterprises"] > 100 and s2.features["lifelines"] > 10
    # the drawing order held: a red enterprise symbol lies over the lifelines and the towns' fill
    assert (a[..., 2].astype(int) - a[..., 1] > 150).sum() > 50


def test_kept_images_drawn_in_order_on_a_redraw(scene, monkeypatch):
    view = MapSettings(scene[1].total_bounds(), 500, 360, crs_epsg=EPSG).zoomed(2.0)
    monkeypatch.setattr(painter, "RENDER_THREADS", 2)
    painter.clear_layer_images()
    first = render_image(view, scene, labels=False)
    painted = []
    real = painter._paint_into
    monkeypatch.setattr(painter, "_paint_into", lambda *a: painted.append(1) or real(*a))
    again = render_image(view, scene, labels=False)  # the lifelines and enterprises from their kept images
    assert not painted
    assert np.array_equal(_pixels(first), _pixels(again))


def test_a_cancelled_frame_waits_for_its_layer_jobs(scene, monkeypatch):
    view = MapSettings(scene[1].total_bounds(), 500, 360, crs_epsg=EPSG)
    running = []
    lock = threading.Lock()
    real = painter._layer_job

    def job(*a):
        with lock:
            running.append(1)
        try:
            return real(*a)
        finally:
            with lock:
                running.pop()

    monkeypatch.setattr(painter, "_layer_job", job)
    monkeypatch.setattr(painter, "RENDER_THREADS", 2)
    painter.clear_layer_images()
    calls = []
    stats = []
    render_image(view, scene, labels=False, cancel=lambda: len(calls.append(1) or calls) > 3, stats=stats)
    assert stats[0].cancelled
    assert not running  # no job still painting after the render returned


def test_an_error_in_a_layer_job_reaches_the_caller(scene, monkeypatch):
    view = MapSettings(scene[1].total_bounds(), 400, 300, crs_epsg=EPSG)
    real = painter._paint_into

    def boom(img, ctx, layer, cancelled):
        if layer.id == "lifelines":
            raise RuntimeError("坏数据")
        return real(img, ctx, layer, cancelled)

    monkeypatch.setattr(painter, "_paint_into", boom)
    monkeypatch.setattr(painter, "RENDER_THREADS", 2)
    painter.clear_layer_images()
    with pytest.raises(RuntimeError, match="坏数据"):
        render_image(view, scene, labels=False)



@pytest.fixture(scope="module")
def lazy_points(tmp_path_factory):
    from tests.render.conftest import points_project

    yield from points_project(tmp_path_factory, "lazy_parallel", 5)


@pytest.mark.parametrize("own", [10_000, 10])  # its view drawn on the frame in turn / into an image of its own
def test_a_lazy_layer_finds_its_view_on_a_worker_and_draws_the_turn_by_turn_frame(app, lazy_points, scene,
                                                                                  monkeypatch, own):
    import riskmap.render.lazy as lazy
    from riskmap.crs import transformer

    project, data = lazy_points
    monkeypatch.setattr(lazy, "POINT_BUDGET", 1000)
    monkeypatch.setattr(painter, "OWN_IMAGE_VERTICES", own)
    lz = lazy.LazyPrepared(project, load_catalogue()["enterprises"], 4544, len(data["id"]))
    x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
    full = MapSettings((x.min(), y.min(), x.max(), y.max()), 640, 420, crs_epsg=EPSG)
    where = []
    real = lazy.LazyPrepared.for_view
    monkeypatch.setattr(lazy.LazyPrepared, "for_view",
                        lambda self, *a, **k: where.append(threading.current_thread().name) or real(self, *a, **k))
    town = scene[0]
    for view in (full, full.zoomed(8)):  # aggregated, then exact points
        where.clear()
        one, s1 = _render(monkeypatch, [town, lz], view, 1)
        assert where and not any(n.startswith("riskmap-layer") for n in where)
        where.clear()
        two, s2 = _render(monkeypatch, [town, lz], view, 2)
        assert where and all(n.startswith("riskmap-layer") for n in where)  # found on a worker
        assert np.array_equal(_pixels(one), _pixels(two))
        assert s1.features == s2.features and s1.aggregated == s2.aggregated
    assert s2.aggregated == [] and s2.features["enterprises"] > 0
    first, _ = _render(monkeypatch, [town, lz], full, 2)
    stats = []
    render_image(full, [town, lz], labels=False, stats=stats)
    assert stats[0].aggregated == ["enterprises"]  # an aggregated view says so


def test_the_longest_job_first_then_drawing_order_and_a_lazy_one_finds_its_view_first(app, lazy_points, scene,
                                                                                        monkeypatch):
    """Jobs start with the longest one (its work at this scale last time, else the largest layer), then the
    others in drawing order, so that images are drawn as they come; when the longest is read by view, the others
    start once its view is found (its rows are the first thing the frame waits for)."""
    import riskmap.render.lazy as lazy
    from riskmap.crs import transformer

    project, data = lazy_points
    monkeypatch.setattr(lazy, "POINT_BUDGET", 1000)
    monkeypatch.setattr(painter, "RENDER_THREADS", 2)
    monkeypatch.setattr(painter, "OWN_IMAGE_VERTICES", 10)
    lz = lazy.LazyPrepared(project, load_catalogue()["enterprises"], 4544, len(data["id"]))
    x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
    view = MapSettings((x.min(), y.min(), x.max(), y.max()), 640, 420, crs_epsg=EPSG).zoomed(8)
    events = []
    real_view = lazy.LazyPrepared.for_view

    def for_view(self, *a, **k):
        out = real_view(self, *a, **k)
        events.append(("view found", self.id))
        return out

    monkeypatch.setattr(lazy.LazyPrepared, "for_view", for_view)
    pool = painter._layer_pool()
    real_submit = pool.submit
    monkeypatch.setattr(pool, "submit", lambda fn, *a: events.append(("start", a[1].id)) or real_submit(fn, *a))
    town, lines, _, county = scene
    monkeypatch.setattr(painter, "_LAST_SECONDS", {})  # (the other tests' times stay as they were)
    painter.clear_layer_images()
    render_image(view, [town, lz, county], labels=False)
    # no time known at this scale: the largest first (the lazy layer's 3 000 rows), then in drawing order
    assert [lid for what, lid in events if what == "start"] == ["enterprises", "towns", "county"]
    assert events.index(("view found", "enterprises")) < events.index(("start", "towns"))
    # with times known at this scale, the longest of the last frame first (another scale's times do not count)
    here = int(round(np.log2(view.resolution)))
    for lid in ("towns", "lifelines", "enterprises"):
        painter._LAST_SECONDS[lid, here] = 0.001
    painter._LAST_SECONDS["county", here] = 0.5
    painter._LAST_SECONDS["lifelines", here + 4] = 9.0
    events.clear()
    painter.clear_layer_images()
    render_image(view, [town, lines, lz, county], labels=False)
    assert [lid for what, lid in events if what == "start"] == ["county", "towns", "lifelines", "enterprises"]
