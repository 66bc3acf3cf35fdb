"""riskmap.render.painter.image_painter: a layer image's painter is clipped to the image, which puts Qt's cosmetic
strokes on their fast path (pixels written by the stroker itself): the same pixels as an unclipped painter for
1-px and 0-width pens; a thinner pen within three levels (its opacity is applied to the colour instead of to each
pixel's coverage)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QTransform

from riskmap.render import painter
from riskmap.render.native import draw_path

W, H = 400, 300


def _paths(seed: int) -> list[QPainterPath]:
    """Random walks, many of them leaving the image (clipped there)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(60):
        pts = rng.uniform([-80, -80], [W + 80, H + 80]) + np.cumsum(rng.normal(0, 25, (40, 2)), axis=0)
        path = QPainterPath(QPointF(*pts[0]))
        for x, y in pts[1:]:
            path.lineTo(x, y)
        out.append(path)
    return out


def _stroke(p: QPainter, paths, colours, width: float, transform: QTransform | None) -> None:
    if transform is not None:
        p.setTransform(transform)
    for k, path in enumerate(paths):
        pen = QPen(QColor(colours[k % len(colours)]), width)
        pen.setCosmetic(True)
        p.setPen(pen)
        draw_path(p, path)


def _pixels(img: QImage) -> np.ndarray:
    return np.frombuffer(img.constBits(), np.uint8).reshape(H, img.bytesPerLine())[:, :W * 4].copy()


@pytest.mark.parametrize("width", [1.0, 0.0, 0.7])
@pytest.mark.parametrize("transformed", [False, True])
def test_clipped_painter_strokes_the_same_pixels(app, width, transformed):
    colours = ["#C6A700", "#1E88E5", "#8E24AA80", "#D81B60"]  # one translucent
    transform = QTransform(0.5, 0, 0, -0.5, 100, 250) if transformed else None
    paths = _paths(3)
    if transformed:
        paths = [QTransform(2, 0, 0, -2, -200, 500).map(p) for p in paths]  # back where the transform puts them
    plain = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)
    plain.fill(0)
    p = QPainter(plain)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    _stroke(p, paths, colours, width, transform)
    p.end()
    clipped = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)
    clipped.fill(0)
    p = painter.image_painter(clipped)
    assert p.hasClipping() and p.clipBoundingRect() == QRectF(0, 0, W, H)
    _stroke(p, paths, colours, width, transform)
    p.end()
    a, b = _pixels(plain), _pixels(clipped)
    assert (a[..., 3::4] > 0).mean() > 0.05  # the lines are there
    if width in (0.0, 1.0):
        assert np.array_equal(a, b)
    else:  # a thinner pen scales its colour, not each pixel's coverage, on the fast path: a rounding apart
        assert np.abs(a.astype(int) - b).max() <= 3
