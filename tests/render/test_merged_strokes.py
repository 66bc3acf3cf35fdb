"""painter._stroke_paths: a group's paths stroked merged into a few (Qt called a few times, not once per tile),
the same pixels as stroking them one by one."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter, QTransform

import riskmap.render.painter as painter
from riskmap.render._bulk import make_path, polyline_types


def _paths(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        xy = rng.uniform(0, 400, 2) + np.cumsum(rng.normal(0, 9.0, (int(rng.integers(3, 40)), 2)), axis=0)
        out.append(make_path(xy, polyline_types(np.array([0, len(xy)]))))
    return out


def _image(groups, fn):
    img = QImage(420, 300, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setTransform(QTransform(0.9, 0.0, 0.0, -0.9, 7.3, 290.1))  # through a transform, as map-space tiles
    fn(p, groups)
    p.end()
    return img


@pytest.mark.parametrize("merge", [1 << 18, 60])
def test_merged_strokes_draw_the_pixels_of_one_by_one(app, monkeypatch, merge):
    monkeypatch.setattr(painter, "MERGE_ELEMENTS", merge)
    groups = [(painter.hairline_pen(colour, 1.0), _paths(60, k))
              for k, colour in enumerate(["#E53935", "#1E88E5", "#FDD835"])]

    def one_by_one(p, groups):
        for pen, paths in groups:
            p.setPen(pen)
            for path in paths:
                p.drawPath(path)

    calls = []
    real = painter.draw_path
    monkeypatch.setattr(painter, "draw_path", lambda p, path: calls.append(path.elementCount()) or real(p, path))
    a = _image(groups, one_by_one)
    b = _image(groups, lambda p, g: painter._stroke_paths(p, g, lambda: False))
    assert a == b
    assert sum(calls) == sum(path.elementCount() for _, paths in groups for path in paths)  # every vertex
    if merge > 10_000:
        assert len(calls) == 3  # one call a group
    else:
        assert 3 < len(calls) < 180 and max(calls) <= merge + 40  # chunks of about MERGE_ELEMENTS
    assert a != _image([], lambda p, g: None)  # something drawn
