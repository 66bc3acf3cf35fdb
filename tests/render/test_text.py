"""Chinese glyphs from the bundled font, and the label engine's placement."""

import numpy as np
import shapely
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFontDatabase, QFontInfo, QFontMetricsF, QImage, QPainter

from riskmap.paths import FONTS_DIR
from riskmap.render import MapSettings, PreparedLayer, place_labels, render_image
from riskmap.render.fonts import CJK_FAMILY, application_font_ids, ensure_fonts, map_font
from tests.render.conftest import MAP_EPSG, frame, layer_def


def _text_image(text, size_pt=14):
    img = QImage(160, 40, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.white)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    p.setFont(map_font(size_pt))
    p.setPen(Qt.GlobalColor.black)
    p.drawText(QPointF(4, 28), text)
    p.end()
    ptr = img.constBits()
    return 255 - np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(40, 160, 4)[..., 1].astype(int)


def test_font_comes_from_the_bundled_files(app):
    family = ensure_fonts()
    assert family == CJK_FAMILY
    assert ensure_fonts() == family  # idempotent
    bundled = {f for i in application_font_ids() for f in QFontDatabase.applicationFontFamilies(i)}
    assert family in bundled
    assert (FONTS_DIR / "NotoSansSC-Regular.otf").exists()
    font = map_font(9)
    assert font.families()[0] == family
    assert QFontInfo(font).family() == family
    fm = QFontMetricsF(font)
    assert all(fm.inFontUcs4(ord(ch)) for ch in "重大风险低区较一般")
    assert map_font(9, bold=True).bold()


def test_chinese_glyphs_drawn_not_boxes(app):
    a = _text_image("重大风险")
    b = _text_image("低风险区")
    assert a.sum() > 255 * 60 and b.sum() > 255 * 60  # each has ink
    diff = np.abs(a - b).sum()
    assert diff > 0.3 * max(a.sum(), b.sum())  # different characters, not the same box four times
    # two identical glyphs are identical, and 重 ≠ 低 in the first cell
    assert np.abs(_text_image("重") - _text_image("低")).sum() > 255 * 20


def _poly_layer(id, priority, name, z=12):
    d = layer_def(id, "polygon", z, {"type": "single", "fill": "#FFFFFF", "stroke": "#000000"},
                  label={"field": "name", "size_pt": 9, "priority": priority, "show_below_scale": 0})
    return PreparedLayer.from_gdf(d, frame([shapely.box(400, 400, 600, 600)], name=[name]), MAP_EPSG,
                                  projected=True)


SETTINGS = MapSettings((0, 0, 1000, 1000), 300, 300, crs_epsg=MAP_EPSG)


def test_collision_keeps_the_higher_priority_label(app):
    towns = _poly_layer("towns", 2, "示例青石镇")
    parks = _poly_layer("parks", 5, "示例化工园区", z=20)
    placed = place_labels(SETTINGS, [parks, towns])
    assert [(p.layer_id, p.text) for p in placed] == [("towns", "示例青石镇")]
    # apart, both are placed
    far = PreparedLayer.from_gdf(parks.layer_def, frame([shapely.box(0, 0, 400, 300)], name=["示例化工园区"]),
                                 MAP_EPSG, projected=True)
    assert {p.layer_id for p in place_labels(SETTINGS, [far, towns])} == {"towns", "parks"}


def test_point_labels_try_other_positions_and_never_overlap(app):
    d = layer_def("enterprises", "point", 60, {"type": "level", "field": "level", "size_mm": 2.4},
                  label={"field": "name", "size_pt": 7, "priority": 5, "show_below_scale": 50_000})
    pts = [shapely.Point(500, 500)] * 5
    prep = PreparedLayer.from_gdf(d, frame(pts, level=[4, 3, 1, 2, 4], name=["低一", "一般", "重大企业", "较大", "低二"]),
                                  MAP_EPSG, projected=True)
    placed = place_labels(SETTINGS, [prep])
    assert placed[0].text == "重大企业" and placed[0].position == "right"  # highest risk first
    assert [p.position for p in placed] == ["right", "left", "above", "below"]  # the fifth has no room
    rects = [p.rect for p in placed]
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_labels_respect_scale_and_cap(app):
    d = layer_def("enterprises", "point", 60, {"type": "single", "fill": "#FF0000"},
                  label={"field": "name", "size_pt": 7, "priority": 5, "show_below_scale": 50_000})
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1000, (400, 2))
    prep = PreparedLayer.from_gdf(d, frame(shapely.points(xy), name=[f"企业{i}" for i in range(400)]), MAP_EPSG,
                                  projected=True)
    large = MapSettings((0, 0, 1000, 1000), 800, 800, crs_epsg=MAP_EPSG)  # 1:4 700
    small = MapSettings((0, 0, 100_000, 100_000), 800, 800, crs_epsg=MAP_EPSG)  # 1:470 000
    assert place_labels(small, [prep]) == []
    assert len(place_labels(large, [prep])) > 20
    assert len(place_labels(large, [prep], max_labels=7)) == 7


def test_rendered_labels_have_ink_and_halo(app):
    towns = _poly_layer("towns", 2, "示例青石镇")
    stats = []
    img = render_image(SETTINGS, [towns], stats=stats)
    (lab,) = stats[0].labels
    x0, y0, x1, y1 = (int(v) for v in lab.rect)
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(300, 300, 4)
    box = arr[y0:y1, x0:x1, 1]
    assert (box < 60).sum() > 30  # dark glyph pixels


def test_zoomed_in_polygon_keeps_its_name(app):
    towns = _poly_layer("towns", 2, "示例青石镇")  # the box (400, 400)–(600, 600), label point at its centre
    corner = MapSettings((560, 560, 640, 640), 300, 300, crs_epsg=MAP_EPSG)  # only a corner of it shows
    placed = place_labels(corner, [towns])
    assert [p.text for p in placed] == ["示例青石镇"]
    x0, y0, x1, y1 = placed[0].rect
    mx, my = corner.pixel_to_map((x0 + x1) / 2, (y0 + y1) / 2)
    assert mx < 600 and my < 600  # on the visible part of the town


def test_point_labels_avoid_other_symbols(app):
    d = layer_def("enterprises", "point", 60, {"type": "level", "field": "level", "size_mm": 2.4},
                  label={"field": "name", "size_pt": 7, "priority": 5, "show_below_scale": 50_000})
    # B sits where A's label would go on the right (18 px away at 3.3 m per pixel); B has no name
    prep = PreparedLayer.from_gdf(d, frame([shapely.Point(500, 500), shapely.Point(560, 500)], level=[1, 4],
                                           name=["重大企业", None]), MAP_EPSG, projected=True)
    (lab,) = place_labels(SETTINGS, [prep])
    assert lab.position == "left"
    alone = PreparedLayer.from_gdf(d, frame([shapely.Point(500, 500)], level=[1], name=["重大企业"]), MAP_EPSG,
                                   projected=True)
    assert place_labels(SETTINGS, [alone])[0].position == "right"
