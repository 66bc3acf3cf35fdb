"""riskmap.render.native: Qt's raster calls through ctypes draw the binding's pixels and let other threads run."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QDataStream, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap

from riskmap.render import native
from riskmap.render._bulk import fragments, make_path, polyline_types

pytestmark = pytest.mark.usefixtures("qapp")


def _image(w=300, h=200):
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor("white"))
    return img


def _random_path(n, seed=0, size=300.0):
    xy = np.random.default_rng(seed).uniform(0, size, (n, 2))
    return make_path(xy, polyline_types(np.array([0, n // 3, n])))


def _paint(img, fn):
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(200, 30, 40, 180))
    pen.setCosmetic(True)
    p.setPen(pen)
    p.setBrush(QColor(20, 90, 200, 120))
    fn(p)
    p.end()
    return img


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the names checked here are the Linux ones")
def test_every_function_found_on_linux():
    assert native.available() == ["draw_fragments", "draw_image", "draw_image_rect", "draw_path", "read_path"]


def test_draw_path_same_pixels_as_the_binding():
    path = _random_path(400)
    a = _paint(_image(), lambda p: p.drawPath(path))
    b = _paint(_image(), lambda p: native.draw_path(p, path))
    assert a == b
    assert a != _image()  # something was drawn


def test_draw_image_same_pixels_as_the_binding():
    src = _paint(QImage(120, 80, QImage.Format.Format_ARGB32_Premultiplied), lambda p: None)
    src.fill(QColor(0, 0, 0, 0))
    src = _paint(src, lambda p: p.drawPath(_random_path(50, 1, 100.0)))

    def comp(fn):
        img = _image()
        p = QPainter(img)
        p.setOpacity(0.6)
        fn(p)
        p.end()
        return img

    a = comp(lambda p: p.drawImage(QPointF(17, 9), src))
    b = comp(lambda p: native.draw_image(p, QPointF(17, 9), src))
    assert a == b
    assert a.pixelColor(17 + 60, 9 + 40) != QColor("white") or a != _image()


@pytest.mark.parametrize("smooth", [False, True])
def test_draw_image_rect_same_pixels_as_the_binding(smooth):
    src = QImage(60, 40, QImage.Format.Format_ARGB32_Premultiplied)
    src.fill(QColor(0, 0, 0, 0))
    src = _paint(src, lambda p: p.drawPath(_random_path(40, 5, 60.0)))
    target = QRectF(-35.5, 12.25, 600.0, 400.0)  # scaled 10x, partly outside

    def comp(fn):
        img = _image()
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        fn(p)
        p.end()
        return img

    a = comp(lambda p: p.drawImage(target, src))
    b = comp(lambda p: native.draw_image_rect(p, target, src))
    assert a == b
    assert a != _image()


def test_draw_fragments_same_pixels_as_the_binding():
    sym = QImage(9, 9, QImage.Format.Format_ARGB32_Premultiplied)
    sym.fill(QColor(230, 0, 0))
    pix = QPixmap.fromImage(sym)
    centres = np.random.default_rng(2).uniform(0, 200, (300, 2))
    frag = fragments(centres, 9, 9)
    from shiboken6 import wrapInstance

    def binding(p):
        p.drawPixmapFragments(wrapInstance(frag.ctypes.data, QPainter.PixmapFragment), len(frag), pix)

    a = _paint(_image(), binding)
    b = _paint(_image(), lambda p: native.draw_fragments(p, frag, pix))
    assert a == b
    x, y = (int(v) for v in centres[0])
    assert b.pixelColor(x, y) == QColor(230, 0, 0)


def test_read_path_same_elements_as_the_binding():
    path = _random_path(100, 3)
    data = QByteArray()
    out = QDataStream(data, QIODevice.OpenModeFlag.WriteOnly)
    out << path
    got = []
    for read in (lambda s, q: s >> q, native.read_path):
        q = QPainterPath()
        read(QDataStream(data), q)
        got.append([(q.elementAt(i).x, q.elementAt(i).y, q.elementAt(i).type) for i in range(q.elementCount())])
    assert got[0] == got[1]
    assert len(got[0]) == 100
    assert got[1][0][:2] == (path.elementAt(0).x, path.elementAt(0).y)


def _steps_during(draw, path) -> int:
    """How many steps of a counting loop this thread made in the middle 80 % of another thread's ``draw``
    call (none while the call holds the GIL)."""
    img = _image(1200, 1200)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor("black"))
    pen.setCosmetic(True)
    p.setPen(pen)
    span = []

    def work():
        t0 = time.perf_counter()
        draw(p, path)
        span.extend([t0, time.perf_counter()])

    t = threading.Thread(target=work)
    steps = []
    t.start()
    while t.is_alive():
        steps.append(time.perf_counter())
    t.join()
    p.end()
    t0, t1 = span
    lo, hi = t0 + 0.1 * (t1 - t0), t1 - 0.1 * (t1 - t0)
    return sum(1 for s in steps if lo < s < hi)


def test_the_gil_is_released_while_qt_draws():
    path = _random_path(30000, 4, 1200.0)  # about 0.3 s of antialiased stroking
    assert _steps_during(lambda p, q: p.drawPath(q), path) == 0  # the binding: this thread waited throughout
    assert _steps_during(native.draw_path, path) > 100


def test_riskmap_native_0_falls_back_to_the_binding():
    code = ("import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
            "from PySide6.QtGui import QGuiApplication; app = QGuiApplication([])\n"
            "from riskmap.render import native; print(native.available())")
    env = dict(os.environ, RISKMAP_NATIVE="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
