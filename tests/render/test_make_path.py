"""riskmap.render._bulk: make_path's path read from numpy records holds the given elements (compared with a path
built element by element through QPainterPath's own calls, serialised by Qt); thin_vertices keeps what a loop
keeps (part ends, and each vertex in another cell than the one before it)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QByteArray, QDataStream, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QPainterPath  # noqa: E402

from riskmap.render._bulk import make_path, polyline_types, thin_vertices  # noqa: E402


def _bytes(path: QPainterPath) -> bytes:
    out = QByteArray()
    stream = QDataStream(out, QIODevice.OpenModeFlag.WriteOnly)
    stream << path
    return bytes(out.data())


def test_same_as_element_by_element():
    rng = np.random.default_rng(3)
    xy = rng.normal(size=(57, 2)) * 300
    offsets = np.array([0, 2, 9, 30, 32, 57])
    for rule in (Qt.FillRule.WindingFill, Qt.FillRule.OddEvenFill):
        ref = QPainterPath()
        ref.setFillRule(rule)
        for a, b in zip(offsets[:-1], offsets[1:]):
            ref.moveTo(*xy[a])
            for x, y in xy[a + 1:b]:
                ref.lineTo(x, y)
        got = make_path(xy, polyline_types(offsets), rule)
        assert got.elementCount() == 57 and got.fillRule() == rule
        assert _bytes(got) == _bytes(ref)


def test_empty():
    assert make_path(np.zeros((0, 2)), np.zeros(0, dtype=np.int32)).isEmpty()


def test_thin_vertices_as_a_loop():
    rng = np.random.default_rng(8)
    xy = np.cumsum(rng.normal(scale=0.4, size=(300, 2)), axis=0)
    offsets = np.array([0, 40, 41, 170, 300])
    keep = []
    for a, b in zip(offsets[:-1], offsets[1:]):
        for i in range(a, b):
            cell, before = np.floor(xy[i] / 0.5), np.floor(xy[i - 1] / 0.5)
            keep.append(i in (a, b - 1) or i == 0 or bool((cell != before).any()))
    thinned, new_offsets, kept = thin_vertices(xy, offsets)
    assert 0 < kept.sum() < 300 and kept.tolist() == keep
    assert thinned.tolist() == xy[kept].tolist()
    assert new_offsets.tolist() == [0] + np.cumsum([sum(keep[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]).tolist()
