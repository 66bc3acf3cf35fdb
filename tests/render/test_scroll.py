"""riskmap.render.scroll: a view panned by whole pixels drawn from the last frame plus the uncovered strips equals
a full render of that view (pixels compared), a red enterprise uncovered by the pan shows in red, and the
shortcut is not taken where it could differ (aggregates, a fraction of a pixel, another scale)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer
from riskmap.render.image import RenderJob
from riskmap.render.scroll import ScrollJob, scroll_shift, sub_view, uncovered, uncovered_share
from tests.render.conftest import points_project

EPSG = 4544


@pytest.fixture(scope="module")
def scroll_project(tmp_path_factory):
    yield from points_project(tmp_path_factory, "scroll", 11)


def _layers(project, n):
    """The enterprises and lifelines as lazy layers (as the canvas holds a city's), towns and county whole."""
    from riskmap.render.lazy import LazyPrepared

    cat = load_catalogue()
    out = [LazyPrepared(project, cat["enterprises"], EPSG, n), LazyPrepared(project, cat["lifelines"], EPSG, 3)]
    zones = project.read_table("zones").to_crs(EPSG)
    for lid in ("towns", "county"):
        ld = cat[lid]
        kind = "town" if lid == "towns" else "county"
        out.append(PreparedLayer.from_gdf(ld, zones[zones["kind"] == kind], EPSG, projected=True))
    return out


def _pixels(img) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return a[:, :img.width() * 4].reshape(img.height(), img.width(), 4).astype(np.int16)


def _frame(view, layers):
    job = RenderJob(view, layers, background="", labels=False)
    assert job.run() is not None
    return job.image


def test_shift_and_uncovered_strips_by_hand():
    a = MapSettings((1000.0, 2000.0, 1400.0, 2300.0), 400, 300)
    assert scroll_shift(a, a.panned(40, -25)) == (40, -25)
    assert scroll_shift(a, a.panned(40.4, 0)) is None  # a fraction of a pixel
    assert scroll_shift(a, a.zoomed(1.25)) is None
    assert scroll_shift(a, a.resized(401, 300)) is None
    assert scroll_shift(a.with_dpi(192), a.panned(1, 0).with_dpi(192)) == (2, 0)  # device pixels
    # content moved 40 right and 25 up: a 40-px column on the left, a 25-px row at the bottom beside it
    assert uncovered(400, 300, 40, -25) == [(0, 0, 40, 300), (40, 275, 360, 25)]
    assert uncovered_share(400, 300, 40, -25) == pytest.approx((40 * 300 + 360 * 25) / (400 * 300))
    s = sub_view(a, 40, 275, 360, 25)  # its pixels are the frame's pixels (40, 275) … (400, 300)
    assert (s.width_px, s.height_px) == (360, 25) and s.resolution == pytest.approx(a.resolution)
    assert s.map_to_pixel(*a.pixel_to_map(123.0, 280.0)) == pytest.approx((83.0, 5.0))


@pytest.mark.parametrize("shift", [(150, -90), (-233, 0), (0, 170), (-31, 47)])
def test_scrolled_frame_equals_a_full_render(app, scroll_project, shift):
    from riskmap.crs import transformer

    project, data = scroll_project
    layers = _layers(project, len(data["id"]))
    x, y = transformer(4490, EPSG).transform(data["lon"], data["lat"])
    cx, cy = float(np.median(x)), float(np.median(y))
    view = MapSettings.at_scale((cx, cy), 25_000, 640, 480, crs_epsg=EPSG)
    base = _frame(view, layers)
    new = view.panned(*shift)
    job = ScrollJob(new, layers, base, view, background="", labels=False)
    img = job.run()
    assert job.scrolled == shift and img is not None
    whole = _frame(new, layers)
    a, b = _pixels(img), _pixels(whole)
    d = np.abs(a - b).max(axis=2)
    # the same picture: equal but for the antialiasing of a few pixels where a strip meets the moved part
    assert (d > 4).mean() < 0.002, (d > 4).mean()  # 4: rounding of layer images blended or not
    assert (d > 48).sum() <= 40, (d > 48).sum()
    # every enterprise of the uncovered strips with no neighbour within 12 px shows in its level's colour there
    from riskmap.levels import colour

    px = new.map_to_pixel(np.column_stack([x, y]))
    strips = np.zeros(len(px), dtype=bool)
    for rx, ry, rw, rh in uncovered(640, 480, *shift):
        strips |= (px[:, 0] >= rx + 6) & (px[:, 0] < rx + rw - 6) & (px[:, 1] >= ry + 6) & (px[:, 1] < ry + rh - 6)
    checked = 0
    for k in np.flatnonzero(strips):
        if np.sort(np.hypot(*(px - px[k]).T))[1] < 12:
            continue
        lv = data["level"][k]
        want = "#9E9E9E" if lv is None else colour(int(lv))
        r, g, bl = (int(v) for v in a[int(px[k, 1]), int(px[k, 0]), [2, 1, 0]])
        assert max(abs(r - int(want[1:3], 16)), abs(g - int(want[3:5], 16)), abs(bl - int(want[5:7], 16))) < 40, \
            (k, lv, (r, g, bl))
        checked += 1
    assert checked >= 3


def test_frames_beside_fill_what_the_base_leaves(app, scroll_project):
    """Another frame of the same layers on the same pixel grid (the one to the right) fills the strip the moved
    frame leaves: nothing is rendered, and the picture is a full render's."""
    from riskmap.crs import transformer

    project, data = scroll_project
    layers = _layers(project, len(data["id"]))
    x, y = transformer(4490, EPSG).transform(data["lon"], data["lat"])
    view = MapSettings.at_scale((float(np.median(x)), float(np.median(y))), 25_000, 640, 480, crs_epsg=EPSG)
    right = view.panned(-640, 0)
    new = view.panned(-250, -30)  # content 250 px left and 30 up: a column on the right, a row at the bottom
    job = ScrollJob(new, layers, _frame(view, layers), view, sources=[(_frame(right, layers), right)],
                    background="", labels=False)
    img = job.run()
    assert job.scrolled == (-250, -30) and job.pieces == 2
    assert job.rendered == [(0, 450, 640, 30)]  # the bottom row alone: the right frame holds the column
    d = np.abs(_pixels(img) - _pixels(_frame(new, layers))).max(axis=2)
    assert (d > 4).mean() < 0.002 and (d > 48).sum() <= 40, ((d > 4).mean(), (d > 48).sum())


def test_red_enterprise_uncovered_by_a_pan_is_red(app, scroll_project):
    from riskmap.crs import transformer
    from tests.store.test_viewport import RED

    project, data = scroll_project
    layers = _layers(project, len(data["id"]))
    rx, ry = transformer(4490, EPSG).transform(*RED)
    # the red enterprise 60 px beyond the right edge, then panned 200 px to the left: it lies in the new strip
    view = MapSettings.at_scale((rx - 60 * 5.0 - 320 * 5.0, ry), 5.0 * 96 / 0.0254, 640, 480, crs_epsg=EPSG)
    assert view.resolution == pytest.approx(5.0)
    base = _frame(view, layers)
    assert not view.contains_xy(np.array([rx]), np.array([ry]))[0]
    new = view.panned(-200, 0)
    job = ScrollJob(new, layers, base, view, background="", labels=False)
    img = job.run()
    assert job.scrolled == (-200, 0)
    px, py = new.map_to_pixel(rx, ry)
    assert 440 < px < 640
    r, g, b = (int(v) for v in _pixels(img)[int(py), int(px), [2, 1, 0]])
    assert r > 200 and g < 60 and b < 60, (r, g, b)


def test_aggregates_and_other_views_are_rendered_whole(app, scroll_project, monkeypatch):
    import riskmap.render.lazy as lazy
    from riskmap.crs import transformer

    project, data = scroll_project
    monkeypatch.setattr(lazy, "POINT_BUDGET", 500)
    layers = _layers(project, len(data["id"]))
    x, y = transformer(4490, EPSG).transform(data["lon"], data["lat"])
    view = MapSettings((x.min(), y.min(), x.max(), y.max()), 400, 300, crs_epsg=EPSG)
    base = _frame(view, layers)
    new = view.panned(50, 0)
    job = ScrollJob(new, layers, base, view, background="", labels=False)
    img = job.run()
    assert job.scrolled is None and job.stats.aggregated == ["enterprises"]  # aggregated: drawn whole
    assert np.array_equal(_pixels(img), _pixels(_frame(new, layers)))
    for other in (view.panned(50.5, 0), view.zoomed(1.5), view.panned(380, 0)):  # fraction, scale, 95 % new
        job = ScrollJob(other, layers, base, view, background="", labels=False)
        job.run()
        assert job.scrolled is None


def test_a_layer_kept_whole_renders_the_view_whole(app, scroll_project, monkeypatch):
    """Where the painter keeps an image of a large layer's whole extent (small scales), a full render serves
    the pan from it: the scroll renders whole; closer in (the layer larger than the image may be) it scrolls."""
    import riskmap.render.painter as painter
    from riskmap.crs import transformer

    project, data = scroll_project
    monkeypatch.setattr(painter, "LAYER_IMAGE_VERTICES", 390)  # the lifelines (404 vertices) count as large
    layers = _layers(project, len(data["id"]))
    lines = layers[1]
    sh = lines._shape_data()
    b = sh["bounds"]
    whole = MapSettings((np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3])), 640, 480,
                        crs_epsg=EPSG).zoomed(0.5)
    job = ScrollJob(whole.panned(40, 0), layers, _frame(whole, layers), whole, background="", labels=False)
    job.run()
    assert job.scrolled is None and job.image is not None
    cx, cy = transformer(4490, EPSG).transform(105.18, 35.52)  # a sparse corner: about 130 enterprises
    close = MapSettings.at_scale((cx, cy), 25_000, 640, 480, crs_epsg=EPSG)
    assert all(len(lay.for_view(close.panned(40, 0), labels=False).coords) < 390 for lay in layers[:2])
    job = ScrollJob(close.panned(40, 0), layers, _frame(close, layers), close, background="", labels=False)
    job.run()
    assert job.scrolled == (40, 0)

