"""The offset passes' plan (riskmap.render.painter.pass_plan): the ink of the planned passes equals the stroke's
width at every angle of the grid it can reach, computed here pass by pass through the scalar ink; the ink of many spacings at
once is the ink of each."""

from __future__ import annotations

import numpy as np
import pytest

from riskmap.render.painter import _C_GRID, _pass_ink, pass_plan


def test_ink_of_many_is_ink_of_each():
    spacing = np.array([0.0, 0.3, 0.55, 0.9])
    c = np.array([1.0, 0.9, 0.75, 0.7])
    many = _pass_ink(3, 0.6, spacing, c)
    assert many.shape == (4,)
    assert many.tolist() == [_pass_ink(3, 0.6, float(s), float(v)) for s, v in zip(spacing, c)]
    assert isinstance(_pass_ink(2, 1.0, 0.5, 0.8), float)


@pytest.mark.parametrize("width", [1.13, 1.32, 2.0, 3.02, 4.5])
def test_planned_ink_equals_width(width):
    k, alpha, spacing = pass_plan(width)
    assert k >= 2 and 0 < alpha <= 1 and spacing.shape == _C_GRID.shape
    assert np.all(np.diff(spacing) <= 0)  # wider tents (c → 1) need less spacing
    reached = spacing < 0.999  # (a thin stroke's passes a pixel apart may not reach it on diagonals)
    assert reached.sum() >= 6
    for s, c in zip(spacing[reached].tolist(), _C_GRID[reached].tolist()):
        assert _pass_ink(k, alpha, s, c) == pytest.approx(width, abs=1e-4)
