"""Free images cleared in idle time (painter ``clear_spare_images``): the next taker gets them transparent without a
second clear; an image in use (kept, drawn, being painted) is never cleared; frames of a screen's size come from
the same images, and a frame's resolution never reaches a layer image painted into it later."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

import riskmap.render.painter as painter_module
from riskmap.render import MapSettings
from riskmap.render.image import new_image


@pytest.fixture
def pools(app, monkeypatch):
    monkeypatch.setattr(painter_module, "_HANDED", [])
    monkeypatch.setattr(painter_module, "_CLEAN", set())


@pytest.fixture
def fills(monkeypatch):
    """The QImage.fill calls made (the image and what it was filled with)."""
    calls = []
    real = QImage.fill

    def fill(img, value):
        calls.append(img)
        return real(img, value)

    monkeypatch.setattr(QImage, "fill", fill)
    return calls


def _pixels(img: QImage) -> np.ndarray:
    return np.frombuffer(img.constBits(), np.uint32, count=img.width() * img.height()).copy()


def test_a_spare_image_cleared_in_idle_time_is_handed_out_transparent_without_clearing_again(pools, fills):
    a = painter_module._reused_image(64, 48)
    a.fill(QColor("#FF0000"))
    b = painter_module._reused_image(64, 48)
    b.fill(QColor("#00FF00"))
    ids = {id(a), id(b)}
    del a, b
    fills.clear()
    assert painter_module.clear_spare_images() == 2
    assert len(fills) == 2 and painter_module.clear_spare_images() == 0  # clear already: not again
    fills.clear()
    again = painter_module._reused_image(64, 48)
    taken = painter_module._reused_image(64, 48)
    assert {id(again), id(taken)} == ids
    assert fills == []  # handed out as they were left
    assert not _pixels(again).any() and not _pixels(taken).any()
    again.fill(QColor("#0000FF"))
    fills.clear()
    again_id = id(again)
    del again
    again = painter_module._reused_image(64, 48)  # painted since it was cleared: cleared when handed out
    assert id(again) == again_id and len(fills) == 1 and not _pixels(again).any()


def test_images_in_use_are_never_cleared(pools):
    kept = painter_module._reused_image(40, 30)  # (kept for later frames)
    kept.fill(QColor("#FF0000"))
    taken = painter_module._reused_image(40, 30)  # (being painted)
    taken.fill(QColor("#00FF00"))
    assert painter_module.clear_spare_images() == 0
    assert (_pixels(kept) == 0xFFFF0000).all() and (_pixels(taken) == 0xFF00FF00).all()


def test_takers_never_get_an_image_while_it_is_cleared(pools):
    stop = threading.Event()
    clash = []

    def clearer():
        while not stop.is_set():
            painter_module.clear_spare_images()

    def taker(colour):
        value = QColor(colour).rgba()
        for _ in range(200):
            img = painter_module._reused_image(120, 80)
            if _pixels(img).any():
                clash.append("handed out dirty")
            img.fill(QColor(colour))
            time.sleep(0.0002)
            if not (_pixels(img) == value).all():
                clash.append("cleared while held")
            del img

    threads = [threading.Thread(target=clearer)] + [threading.Thread(target=taker, args=(c,))
                                                    for c in ("#FF0000", "#00FF00")]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    assert clash == []


def test_screen_frames_reuse_free_images_and_a_frame_s_resolution_never_reaches_a_layer_image(pools):
    view = MapSettings((0.0, 0.0, 640.0, 480.0), 64, 48, crs_epsg=4544, dpi=300)
    frame = new_image(view, "")
    assert frame.dotsPerMeterX() == round(300 / 0.0254)
    frame.setDevicePixelRatio(2.0)  # as the canvas shows it on a high-dpi screen
    frame.fill(QColor("#FF0000"))
    frame_id = id(frame)
    del frame
    layer = painter_module._reused_image(64, 48)
    assert id(layer) == frame_id  # the frame nothing shows any more
    plain = QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
    assert (layer.dotsPerMeterX(), layer.dotsPerMeterY(), layer.devicePixelRatio()) == \
        (plain.dotsPerMeterX(), plain.dotsPerMeterY(), plain.devicePixelRatio())
    assert not _pixels(layer).any()
    poster = MapSettings((0.0, 0.0, 640.0, 480.0), 5000, 4000, crs_epsg=4544)
    assert painter_module.screen_image(poster.width_px, poster.height_px) is None  # a poster: its own image
    white = new_image(MapSettings((0.0, 0.0, 640.0, 480.0), 64, 48, crs_epsg=4544), "#FFFFFF")
    assert (_pixels(white) == QColor("#FFFFFF").rgba()).all()
    white.fill(Qt.GlobalColor.transparent)


def test_a_large_line_layer_s_image_is_cleared_twice_when_taken_and_other_layers_images_as_before(
        pools, fills, monkeypatch):
    import geopandas as gpd
    import shapely
    from PySide6.QtGui import QPainter

    from riskmap.layers import load_catalogue
    from riskmap.render import PreparedLayer

    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 100)  # a large layer from 100 vertices
    rng = np.random.default_rng(2)
    cat = load_catalogue()
    lines = gpd.GeoDataFrame({"id": np.arange(1, 21), "category": ["gas"] * 20},
                             geometry=[shapely.LineString(rng.uniform(0, 640, (10, 2))) for _ in range(20)])
    cells = gpd.GeoDataFrame({"id": np.arange(1, 41), "level": [1, 2, 3, 4] * 10},
                             geometry=[shapely.box(x, 0, x + 15, 15).segmentize(2.0) for x in range(0, 600, 15)])
    line_layer = PreparedLayer.from_gdf(cat["lifelines"], lines, 4544, projected=True)
    grid_layer = PreparedLayer.from_gdf(cat["grids"], cells, 4544, projected=True)
    small = PreparedLayer.from_gdf(cat["lifelines"], lines.iloc[:2], 4544, projected=True)
    assert len(line_layer.coords) >= 100 and len(grid_layer.coords) >= 100 and len(small.coords) < 100
    frame = QImage(64, 48, QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(frame)
    ctx = painter_module._Ctx(p, MapSettings((0.0, 0.0, 640.0, 480.0), 64, 48, crs_epsg=4544))
    assert ctx.raster

    def taken_by(layer, dirty: bool, ahead: bool):
        painter_module._HANDED.clear()  # (one image in the pool: the one below)
        painter_module._CLEAN.clear()
        img = painter_module._reused_image(64, 48)
        if dirty:
            img.fill(QColor("#FF0000"))
        fills.clear()  # (its entries hold the images filled)
        img_id = id(img)
        del img
        if ahead:
            assert painter_module.clear_spare_images() == 1
        fills.clear()
        got = ctx.layer_image(layer)
        assert id(got) == img_id and not _pixels(got).any()
        assert all(f is got for f in fills)
        return len(fills)

    assert taken_by(line_layer, dirty=True, ahead=True) == painter_module.WARM_CLEARS == 2
    assert taken_by(line_layer, dirty=True, ahead=False) == 2
    assert taken_by(grid_layer, dirty=True, ahead=True) == 0  # cleared ahead: not again
    assert taken_by(grid_layer, dirty=True, ahead=False) == 1
    assert taken_by(small, dirty=True, ahead=False) == 1  # a small line layer: as before
    p.end()
    vector = painter_module._Ctx(p, MapSettings((0.0, 0.0, 640.0, 480.0), 64, 48, crs_epsg=4544), raster=False)
    assert not painter_module._warms(vector, line_layer)  # (no image on a PDF or SVG)
