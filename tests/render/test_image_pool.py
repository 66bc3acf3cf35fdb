"""Layer images and screen-sized frames come from one pool of images (painter ``_reused_image``): handed to one
taker at a time, cleared, reused only once nothing refers to them (never an image kept for later frames); frames
drawn with the pool equal frames drawn with new images."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

import riskmap.render.painter as painter_module
from riskmap.render import MapSettings
from tests.render.test_lod_hairlines import _cells
from tests.render.test_tiled_hairlines import _rendered


def _address(img: QImage) -> int:
    return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).ctypes.data


@pytest.fixture
def pool(app, monkeypatch):
    monkeypatch.setattr(painter_module, "_HANDED", [])
    monkeypatch.setattr(painter_module, "_CLEAN", set())
    return painter_module._HANDED


def _free(pool) -> list:
    return [img for img in pool if sys.getrefcount(img) <= painter_module._FREE_REFS]


def test_an_image_let_go_is_handed_out_again_cleared_to_one_taker(pool):
    a = painter_module._reused_image(64, 48)
    b = painter_module._reused_image(64, 48)
    assert a is not b and _address(a) != _address(b)
    a.fill(QColor("#FF0000"))
    a_id = id(a)
    del a
    assert len(pool) == 2 and len(_free(pool)) == 1
    c = painter_module._reused_image(64, 48)
    assert id(c) == a_id and c.pixelColor(5, 5).alpha() == 0  # the same image, transparent again
    assert painter_module._reused_image(32, 48) is not c  # another size: a new one
    more = [painter_module._reused_image(64, 48) for _ in range(painter_module.IMAGE_POOL_MAX + 2)]
    del b, c, more  # more let go than the pool holds: the oldest free ones are dropped at the next take
    painter_module._reused_image(16, 16)
    assert len(_free(pool)) <= painter_module.IMAGE_POOL_MAX + 1


def test_two_threads_never_hold_the_same_image(pool):
    held, clash = set(), []
    lock = threading.Lock()

    def work():
        for _ in range(300):
            img = painter_module._reused_image(40, 30)
            with lock:
                if id(img) in held:
                    clash.append(img)
                held.add(id(img))
            img.fill(Qt.GlobalColor.white)
            with lock:
                held.discard(id(img))
            del img

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clash == [] and len(_free(pool)) <= painter_module.IMAGE_POOL_MAX + 1


def test_frames_from_the_pool_equal_new_images_and_kept_images_are_never_handed_out(pool, monkeypatch):
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 1000)  # the cells kept as a layer image
    painter_module.clear_layer_images()
    prep = _cells(outline=False)  # antialiased translucent fills: opaque into an image of their own, drawn translucent
    full = MapSettings(prep.total_bounds(), 400, 260, crs_epsg=4544)
    views = [full.zoomed(2.5).panned(-60.3, 20.7), full.zoomed(5), full.zoomed(9).panned(130.1, -70.9)]
    taken = []
    real = painter_module._reused_image
    monkeypatch.setattr(painter_module, "_reused_image", lambda w, h, **kw: taken.append(real(w, h, **kw)) or taken[-1])
    want = []
    with monkeypatch.context() as m:
        m.setattr(painter_module, "IMAGE_POOL_MAX", 0)  # every image new
        for v in views:
            painter_module.clear_layer_images()
            taken.clear()
            want.append(_rendered(v, [prep], None))
    assert taken  # (the frames did take images)
    for v, w in zip(views * 2, want * 2):
        painter_module.clear_layer_images()
        taken.clear()
        dirty = real(v.width_px, v.height_px)
        dirty.fill(QColor("#00FF00"))  # a used image let go
        dirty_id = id(dirty)
        del dirty
        assert np.array_equal(_rendered(v, [prep], None), w)
        assert any(id(t) == dirty_id for t in taken)  # the frame drew with the used image, cleared
    kept = [entry[1] for entry in painter_module._LAYER_IMAGES.values()]
    assert kept
    taken.clear()
    nxt = real(views[0].width_px, views[0].height_px)
    assert all(nxt is not img and _address(nxt) != _address(img) for img in kept)


def test_images_handed_out_for_keeping_are_reused_only_when_nothing_refers_to_them(pool, monkeypatch):
    monkeypatch.setattr(painter_module, "_HANDED", [])
    a = painter_module._reused_image(64, 48)
    b = painter_module._reused_image(64, 48)
    assert a is not b
    a.fill(QColor("#FF0000"))
    kept = {"entry": (None, a)}  # held elsewhere: never handed out again
    assert all(painter_module._reused_image(64, 48) is not a for _ in range(3))
    address = _address(a)
    del a, kept
    again = painter_module._reused_image(64, 48)
    assert _address(again) == address and again.pixelColor(3, 3).alpha() == 0  # reused, cleared
    for _ in range(6):  # free ones beyond IMAGE_POOL_MAX are let go
        painter_module._reused_image(32, 32)
    free = [img for img in painter_module._HANDED if sys.getrefcount(img) <= painter_module._FREE_REFS]
    assert len(free) <= painter_module.IMAGE_POOL_MAX + 1 and b in painter_module._HANDED


def test_kept_layer_images_are_never_shared_and_frames_equal_those_from_new_images(pool, monkeypatch):
    monkeypatch.setattr(painter_module, "_HANDED", [])
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 1000)  # the cells kept as a layer image
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_BYTES", 3 * 400 * 260 * 4)  # three kept: evicted often
    monkeypatch.setattr(painter_module, "IMAGE_POOL_MAX", 0)  # no free image held: only those just let go
    prep = _cells()
    full = MapSettings(prep.total_bounds(), 400, 260, crs_epsg=4544)
    views = [full.zoomed(z).panned(17.3 * i, -11.1 * i) for i, z in enumerate((2.5, 3, 5, 7, 9, 4, 6))]
    real = painter_module._reused_image

    def new(w, h, warm=False):
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        return img

    painter_module.clear_layer_images()
    monkeypatch.setattr(painter_module, "_reused_image", new)
    want = [_rendered(v, [prep], None) for v in views]
    painter_module.clear_layer_images()
    monkeypatch.setattr(painter_module, "_reused_image", real)
    reused = 0
    for order in (views, views[::-1]):  # back again: the last views' kept images drawn
        for v in order:
            w = want[views.index(v)]
            before = {_address(img) for img in painter_module._HANDED}
            assert np.array_equal(_rendered(v, [prep], None), w)
            addresses = [_address(entry[1]) for entry in painter_module._LAYER_IMAGES.values()]  # (no reference kept)
            assert len(set(addresses)) == len(addresses)  # no image kept twice
            reused += bool(before & set(addresses[-1:]))
            assert np.array_equal(_rendered(v, [prep], None), w)  # drawn from the kept image
    assert reused >= len(views)  # later views painted into images earlier ones left
