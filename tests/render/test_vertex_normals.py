"""The painter's vertex normals (riskmap.render.prepared._vertex_normals), against a plain loop over each part's
vertices written here: the average of the adjacent segments' unit normals, lengthened by the miter factor
(1 / cos of half the turn, at most 2); a ring's first and last vertex share both segments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskmap.render.prepared import _vertex_normals


def _loop_normals(coords, offsets, closed):
    out = np.zeros((len(coords), 2))
    for a, b in zip(offsets[:-1], offsets[1:]):
        pts = [tuple(map(float, p)) for p in coords[a:b]]
        segs = []
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
            d = math.hypot(x1 - x0, y1 - y0) or 1.0
            segs.append((-(y1 - y0) / d, (x1 - x0) / d))
        for i in range(len(pts)):
            adjacent = [segs[j] for j in (i - 1, i) if 0 <= j < len(segs)]
            if closed and len(pts) > 1 and i in (0, len(pts) - 1):
                adjacent = [segs[0], segs[-1]]
            sx, sy = sum(s[0] for s in adjacent), sum(s[1] for s in adjacent)
            norm = math.hypot(sx, sy) or 1.0
            ux, uy = sx / norm, sy / norm
            side = segs[i] if i < len(segs) and segs[i] != (0.0, 0.0) else (segs[i - 1] if i > 0 else (0.0, 0.0))
            cos_half = min(max(abs(ux * side[0] + uy * side[1]), 0.5), 1.0)
            out[a + i] = (ux / cos_half, uy / cos_half)
    return out


def test_right_angle_by_hand():
    # (0,0) → (10,0) → (10,10): the corner's normal is (-1, 1) (unit (-0.707, 0.707) over cos 45°)
    n = _vertex_normals(np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]), np.array([0, 3]), False)
    assert np.allclose(n, [[0, 1], [-1, 1], [-1, 0]])


@pytest.mark.parametrize("closed", [False, True])
def test_against_a_loop(closed):
    rng = np.random.default_rng(5)
    parts = [rng.normal(size=(k, 2)) * 50 for k in (2, 3, 7, 1, 12, 4)]
    parts[2][3] = parts[2][2]  # a zero-length segment
    parts[4][:, 1] = 0.0  # a straight line: normals without miter
    if closed:
        parts = [np.vstack([p, p[:1]]) for p in parts]
    coords = np.vstack(parts)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
    got = _vertex_normals(coords, offsets, closed)
    assert got.shape == coords.shape
    assert np.allclose(got, _loop_normals(coords, offsets, closed), atol=1e-12)
    lengths = np.hypot(got[:, 0], got[:, 1])
    assert lengths.max() <= 2.0 + 1e-9  # the miter limit
