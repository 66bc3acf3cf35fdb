"""The change layer's marks (riskmap.render.changes) on any painter: the canvas draws them, and so can print.

Each mark is 16 px at 96 dpi, centred 0.55 of its size up and left of its point; pixels are sampled inside the
template shapes of riskmap.render.symbols, computed here from their outlines.
"""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from riskmap.render.changes import CHANGE_KINDS, MARK_PX, OFFSET, change_kind, change_legend, draw_change_marks
from riskmap.render.settings import MapSettings
from tests.render.conftest import MAP_EPSG, close, rgb


def _hex(c):
    return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))


def _draw(kinds, xy, dpi=96.0):
    view = MapSettings((0, 0, 400, 200), 400, 200, dpi, crs_epsg=MAP_EPSG)  # 1 m per pixel at 96 dpi
    img = QImage(view.width_px, view.height_px, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.white)
    p = QPainter(img)
    n = draw_change_marks(p, view, kinds, xy)
    p.end()
    return img, view, n


def test_each_kind_draws_its_shape_in_its_colour(app):
    keys = [k.key for k in CHANGE_KINDS]
    xy = np.array([[40.0 + 80 * i, 100.0] for i in range(len(keys))])  # map metres, y up
    img, view, n = _draw(keys, xy)
    assert n == 5
    size = MARK_PX
    for key, (x, y) in zip(keys, xy):
        px, py = view.map_to_pixel(x, y)
        cx, cy = px + OFFSET[0] * size, py + OFFSET[1] * size  # the mark's centre
        colour = _hex(change_kind(key).colour)
        inside = {  # unit offsets well inside each template (y down)
            "raised": [(0, -0.3), (0, 0.35)],  # head above, shaft below
            "lowered": [(0, 0.3), (0, -0.35)],
            "added": [(0, 0), (0.4, 0), (0, 0.4)],  # plus: centre and arms
            "removed": [(0, 0), (0.3, 0.3), (-0.3, 0.3)],  # ×: centre and diagonals
            "danger_closed": [(-0.14, 0.25)],  # the check's lower stroke
        }[key]
        for ux, uy in inside:
            got = rgb(img, cx + ux * size, cy + uy * size)
            assert close(got, colour, 40), (key, ux, uy, got)
        assert close(rgb(img, px + 0.5, py + 0.5), (255, 255, 255), 3)  # the point itself stays visible
    # an up arrow is not a down arrow: beside the shaft, where the other's head would be
    px, py = view.map_to_pixel(*xy[0])
    assert close(rgb(img, px + OFFSET[0] * size + 5, py + OFFSET[1] * size + 3), (255, 255, 255), 30)


def test_marks_outside_the_view_are_skipped_and_scale_with_dpi(app):
    _, _, n = _draw(["raised", "raised"], np.array([[100.0, 100.0], [5000.0, 100.0]]))
    assert n == 1
    img, view, _ = _draw(["raised"], np.array([[200.0, 100.0]]), dpi=192.0)  # print resolution: twice the pixels
    px, py = view.map_to_pixel(200.0, 100.0)
    size = MARK_PX * 2
    assert close(rgb(img, px + OFFSET[0] * size, py + OFFSET[1] * size + 0.35 * size), _hex("#D32F2F"), 40)


def test_legend_rows():
    rows = change_legend({"raised": 3, "danger_closed": 1})
    assert [(r.label, r.count, r.symbol) for r in rows] == [
        ("等级上升", 3, "arrow_up"), ("等级下降", 0, "arrow_down"), ("新增企业", 0, "plus"), ("减少企业", 0, "x_mark"),
        ("隐患销号", 1, "check")]
    assert [r.label for r in change_legend(None, "en")][:2] == ["Raised", "Lowered"]
    assert all(r.count is None for r in change_legend())
