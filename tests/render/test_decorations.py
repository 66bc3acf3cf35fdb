import numpy as np
import pytest
import shapely
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter

from riskmap.render import (
    LegendEntry, MapSettings, PreparedLayer, draw_legend, draw_north_arrow, draw_scale_bar, legend_entries,
    map_font, nice_scale_length, scale_text,
)
from riskmap.render.decorations import format_length
from tests.render.conftest import MAP_EPSG, frame, layer_def


@pytest.mark.parametrize("target, expected", [
    (18_000, 20_000), (2_100, 2_000), (1_100, 1_000), (4_400, 5_000), (0.9, 1), (130, 100), (6_000, 5_000),
    (16_000, 20_000), (700_000, 500_000),
])
def test_nice_lengths_by_hand(target, expected):
    assert nice_scale_length(target) == expected


def test_format_and_scale_text():
    assert format_length(2500, "km") == "2.5"
    assert format_length(500, "m") == "500"
    assert scale_text(MapSettings((0, 0, 10_000, 10_000), 1000, 1000, dpi=96)) == "1:37,795"


def _image(w, h):
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.white)
    return img


@pytest.mark.parametrize("res, expected", [(10.0, 2_000), (37.0, 10_000), (1.0, 200), (120.0, 20_000)])
def test_scale_bar_round_length_about_a_fifth(app, res, expected):
    s = MapSettings((0, 0, 1000 * res, 600 * res), 1000, 600)
    img = _image(1000, 600)
    p = QPainter(img)
    length, bar = draw_scale_bar(p, s, QRectF(0, 0, 500, 600))
    p.end()
    assert length == expected
    assert bar.width() == pytest.approx(length / res)
    assert 0.1 <= bar.width() / 1000 <= 0.3
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(600, 1000, 4)
    row = arr[int(bar.center().y()), int(bar.left()) + 2:int(bar.right()) - 2, 1]
    assert (row < 50).sum() > 0.3 * len(row) and (row > 200).sum() > 0.3 * len(row)  # black and white segments


def test_scale_bar_shrinks_to_fit_its_rect(app):
    s = MapSettings((0, 0, 10_000, 6_000), 1000, 600)
    img = _image(1000, 600)
    p = QPainter(img)
    length, bar = draw_scale_bar(p, s, QRectF(0, 500, 120, 100))
    p.end()
    assert length in (500, 1000) and bar.right() <= 120


def test_legend_entries_count_levels(app):
    d = layer_def("enterprises", "point", 60, {"type": "level", "field": "level"}, name=("企业", "Enterprises"))
    prep = PreparedLayer.from_gdf(d, frame([shapely.Point(i, i) for i in range(6)], level=[1, 1, 1, 4, None, "较大"]),
                                  MAP_EPSG, projected=True)
    entries = legend_entries([prep])
    assert entries[0] == LegendEntry("header", None, None, "企业")
    rows = [(e.label, e.count, e.colour) for e in entries[1:]]
    assert rows == [("重大风险", 3, "#FF0000"), ("较大风险", 1, "#FF8C00"), ("一般风险", 0, "#FFE600"),
                    ("低风险", 1, "#0070FF"), ("未评估", 1, "#9E9E9E")]
    en = legend_entries([prep], "en")
    assert en[1].label == "Major risk"
    # counts within an extent
    s = MapSettings((-0.5, -0.5, 1.5, 1.5), 100, 100)
    assert [e.count for e in legend_entries([prep], settings=s)[1:]] == [2, 0, 0, 0]


def test_legend_and_north_arrow_draw(app):
    img = _image(400, 300)
    p = QPainter(img)
    entries = [("header", None, None, "企业", None), ("point", "#FF0000", "#202020", "重大风险", 12),
               ("line", None, "#C6A700", "燃气", 3), ("polygon", "#FFE600", "#505050", "一般风险", 7)]
    used = draw_legend(p, QRectF(10, 10, 300, 280), entries, map_font(9), title="图例")
    draw_north_arrow(p, QRectF(340, 10, 40, 70))
    p.end()
    assert used.width() > 50 and used.height() > 80
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(300, 400, 4)
    assert (arr[10:290, 10:300, 1] < 80).sum() > 100  # text and swatches
    assert (arr[10:80, 340:380, 1] < 80).sum() > 100  # the arrow
