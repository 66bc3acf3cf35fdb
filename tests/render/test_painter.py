"""Pixel colours of hand-built layers rendered into a QImage."""

import numpy as np
import pyproj
import pytest
import shapely
from PySide6.QtGui import QColor

from riskmap.render import MapSettings, PreparedLayer, render_image
from tests.render.conftest import MAP_EPSG, close, frame, layer_def, rgb

EXTENT = (0, 0, 1000, 1000)  # 200 × 200 px: 5 m per pixel


def settings(**kw):
    return MapSettings(EXTENT, 200, 200, dpi=96, crs_epsg=MAP_EPSG, **kw)


def enterprises():
    d = layer_def("enterprises", "point", 60, {"type": "level", "field": "level", "symbol": "circle",
                                                "size_mm": 2.4, "stroke": "#202020", "stroke_width_mm": 0.2})
    gdf = frame([shapely.Point(252.5, 747.5), shapely.Point(752.5, 747.5), shapely.Point(1200, 500),
                 shapely.Point(502.5, 502.5)], level=[1, 4, 1, None], id=[11, 44, 99, 0])
    return PreparedLayer.from_gdf(d, gdf, MAP_EPSG, projected=True)


def test_level_colours_red_and_blue_not_green(app):
    prep = enterprises()
    stats = []
    img = render_image(settings(), [prep], stats=stats)
    assert close(rgb(img, 50, 50), (255, 0, 0))  # level 1 at (252.5, 747.5) → pixel (50, 50)
    r, g, b = rgb(img, 150, 50)  # level 4
    assert close((r, g, b), (0, 0x70, 0xFF))
    assert b > g and b > r  # blue, never green
    assert close(rgb(img, 100, 99), (0x9E, 0x9E, 0x9E), tol=4)  # no level: grey
    assert stats[0].features["enterprises"] == 3  # the point at x = 1200 m is culled


def test_point_outside_extent_is_not_drawn(app):
    prep = enterprises()
    img = render_image(settings(), [prep], labels=False)
    arr = _array(img)
    red = (arr[..., 0] > 200) & (arr[..., 1] < 60) & (arr[..., 2] < 60)
    ys, xs = np.nonzero(red)
    assert len(xs) and xs.max() < 60 and ys.max() < 60  # only the symbol at (50, 50); none at the right edge


def test_polygon_fill_opacity_blends_over_white(app):
    d = layer_def("zones", "polygon", 12, {"type": "level", "field": "level", "fill_opacity": 0.35,
                                           "stroke": "#505050", "stroke_width_mm": 0.3})
    prep = PreparedLayer.from_gdf(d, frame([shapely.box(100, 100, 900, 900)], level=[3]), MAP_EPSG, projected=True)
    img = render_image(settings(), [prep])
    # level 3 is #FFE600; 35 % over white: 255·0.65 + c·0.35
    expected = tuple(round(255 * 0.65 + c * 0.35) for c in (0xFF, 0xE6, 0x00))
    assert expected == (255, 246, 166)
    assert close(rgb(img, 100, 100), expected, tol=2)
    assert close(rgb(img, 5, 5), (255, 255, 255))  # outside the polygon
    r, g, b = rgb(img, 20, 100)  # on the outline (x = 100 m → pixel 20)
    assert r < 200 and g < 200


def test_polygon_hole_stays_empty(app):
    d = layer_def("zones", "polygon", 12, {"type": "single", "fill": "#0070FF", "stroke": "#000000",
                                           "stroke_width_mm": 0.1})
    donut = shapely.Polygon(shapely.box(100, 100, 900, 900).exterior.coords,
                            [shapely.box(400, 400, 600, 600).exterior.coords])
    prep = PreparedLayer.from_gdf(d, frame([donut]), MAP_EPSG, projected=True)
    img = render_image(settings(), [prep])
    assert close(rgb(img, 40, 100), (0, 0x70, 0xFF))
    assert close(rgb(img, 100, 100), (255, 255, 255))  # the hole


def test_category_line_colour(app):
    d = layer_def("lifelines", "line", 40, {"type": "category", "field": "category", "stroke_width_mm": 1.0,
                                            "categories": {"gas": {"colour": "#C6A700", "zh": "燃气", "en": "Gas"},
                                                           "water": {"colour": "#1E88E5", "zh": "供水",
                                                                     "en": "Water"}}})
    lines = [shapely.LineString([(0, 302.5), (1000, 302.5)]), shapely.LineString([(0, 702.5), (1000, 702.5)]),
             shapely.LineString([(502.5, 0), (502.5, 200)])]
    prep = PreparedLayer.from_gdf(d, frame(lines, category=["gas", "water", "sewage"]), MAP_EPSG, projected=True)
    img = render_image(settings(), [prep])
    assert close(rgb(img, 60, 139), (0xC6, 0xA7, 0x00))  # y = 302.5 m → pixel row 139
    assert close(rgb(img, 60, 59), (0x1E, 0x88, 0xE5))
    assert close(rgb(img, 100, 180), (0x9E, 0x9E, 0x9E), tol=4)  # unknown category: the 'other' grey


def test_county_outline_is_black(app):
    from riskmap.layers import load_catalogue

    county = load_catalogue()["county"]
    prep = PreparedLayer.from_gdf(county, frame([shapely.box(102.5, 102.5, 902.5, 902.5)], name=["示例县"]),
                                  MAP_EPSG, projected=True)
    img = render_image(settings(), [prep], labels=False)
    assert max(rgb(img, 20, 100)) < 40  # x = 102.5 m → pixel 20.5: on the 0.8 mm (3 px) outline
    assert close(rgb(img, 100, 100), (255, 255, 255))  # no fill


def test_wide_stroke_of_large_line_layer_matches_real_pen_width(app):
    # many vertices take the offset-pass path; the stroke must still be about 0.35 mm = 1.3 px wide
    d = layer_def("lifelines", "line", 40, {"type": "single", "stroke": "#000000", "stroke_width_mm": 0.8})
    xs = np.linspace(0, 1000, 8000)
    prep = PreparedLayer.from_gdf(d, frame([shapely.LineString(np.column_stack([xs, np.full_like(xs, 502.5)]))]),
                                  MAP_EPSG, projected=True)
    img = render_image(settings(), [prep])
    col = _array(img)[:, 100, :3].astype(int)
    ink = (255 - col.mean(axis=1)).sum() / 255.0  # ink across the line in pixels
    assert abs(ink - 0.8 * 96 / 25.4) < 0.6


def test_selection_is_highlighted_and_opacity_lightens(app):
    prep = enterprises()
    img = render_image(settings(), [prep], selection={"enterprises": {11}}, labels=False)
    halo = rgb(img, 50, 43)  # just outside the 9-px symbol: the cyan halo
    assert halo[0] < 120 and halo[1] > 200 and halo[2] > 200
    assert close(rgb(img, 150, 43), (255, 255, 255))  # the unselected one has none
    faded = render_image(settings(), [prep], opacity={"enterprises": 0.5}, labels=False)
    assert close(rgb(faded, 50, 50), (255, 128, 128), tol=4)


def test_tiny_polygon_stays_visible(app):
    d = layer_def("parks", "polygon", 20, {"type": "level", "field": "level", "fill_opacity": 0.45,
                                           "stroke": "#6A1B9A", "stroke_width_mm": 0.5})
    prep = PreparedLayer.from_gdf(d, frame([shapely.box(500, 500, 501, 501)], level=[1]), MAP_EPSG, projected=True)
    img = render_image(settings(), [prep])
    arr = _array(img)
    assert (arr[95:106, 95:106, :3] < 200).any()  # a dot where a 0.2-px polygon is


def test_all_symbols_draw(app):
    for symbol in ("circle", "square", "triangle", "diamond", "star", "cross"):
        d = layer_def("pts", "point", 50, {"type": "single", "fill": "#FF0000", "symbol": symbol, "size_mm": 4,
                                           "stroke": "#000000", "stroke_width_mm": 0.2})
        prep = PreparedLayer.from_gdf(d, frame([shapely.Point(502.5, 502.5)]), MAP_EPSG, projected=True)
        img = render_image(settings(), [prep])
        assert close(rgb(img, 100, 100), (255, 0, 0)), symbol
        assert close(rgb(img, 100, 80), (255, 255, 255)), symbol


def test_reproject_from_cgcs2000(app):
    import geopandas as gpd

    d = layer_def("enterprises", "point", 60, {"type": "level", "field": "level"})
    gdf = gpd.GeoDataFrame({"level": ["重大", "低风险"]}, geometry=[shapely.Point(105.0, 35.0),
                                                               shapely.Point(105.01, 35.0)], crs=4490)
    prep = PreparedLayer.from_gdf(d, gdf, MAP_EPSG)
    expected = pyproj.Transformer.from_crs(4490, MAP_EPSG, always_xy=True).transform(105.01, 35.0)
    assert prep.coords[1] == pytest.approx(expected, abs=0.01)
    assert prep.coords[0][0] == pytest.approx(500_000.0, abs=0.01)  # on the central meridian
    assert [prep.classes[c].key for c in prep.cls] == [1, 4]
    x0, y0 = prep.coords[0]
    s = MapSettings((x0 - 1000, y0 - 1000, x0 + 2000, y0 + 1000), 300, 200, crs_epsg=MAP_EPSG)
    img = render_image(s, [prep])
    x, y = s.map_to_pixel(*prep.coords[0])
    assert close(rgb(img, x, y), (255, 0, 0))


def _array(img):
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return arr[:, :img.width(), [2, 1, 0, 3]]  # BGRA in memory → RGBA


def test_background_colour(app):
    img = render_image(settings(background="#F0F0F0"), [])
    assert QColor(img.pixel(3, 3)).name() == "#f0f0f0"


def test_many_holed_polygons_keep_their_holes(app):
    # more features than one fill chunk: a hole must never be separated from its exterior
    from riskmap.render import painter as rp

    d = layer_def("zones", "polygon", 12, {"type": "single", "fill": "#0070FF", "stroke": "#000000",
                                           "stroke_width_mm": 0.1})
    donuts = []
    for i in range(10):
        for j in range(10):
            x, y = i * 100, j * 100
            donuts.append(shapely.Polygon(shapely.box(x + 5, y + 5, x + 95, y + 95).exterior.coords,
                                          [shapely.box(x + 35, y + 35, x + 65, y + 65).exterior.coords]))
    prep = PreparedLayer.from_gdf(d, frame(donuts), MAP_EPSG, projected=True)
    old = rp.FILL_CHUNK_RINGS, rp.AA_FILL_CHUNK_RINGS
    rp.FILL_CHUNK_RINGS = rp.AA_FILL_CHUNK_RINGS = 7  # odd: a chunk edge would fall between exterior and hole
    try:
        img = render_image(settings(), [prep])
    finally:
        rp.FILL_CHUNK_RINGS, rp.AA_FILL_CHUNK_RINGS = old
    for i in range(10):
        for j in range(10):
            assert close(rgb(img, i * 20 + 10, 200 - (j * 20 + 10)), (255, 255, 255)), (i, j)
            assert close(rgb(img, i * 20 + 3, 200 - (j * 20 + 10)), (0, 0x70, 0xFF)), (i, j)


def test_line_label_anchor_is_the_midpoint_of_the_longest_part():
    from riskmap.render.prepared import _line_midpoints

    coords = np.array([[0, 0], [10, 0], [10, 10], [100, 100], [101, 100], [0, 5], [4, 5]], dtype=float)
    offsets = np.array([0, 3, 5, 7])  # feature 0: parts 0 (length 20) and 1 (length 1); feature 2: part 2
    mid = _line_midpoints(coords, offsets, np.array([0, 0, 2]), 3)
    assert mid[0] == pytest.approx((10, 0))
    assert np.isnan(mid[1]).all()
    assert mid[2] == pytest.approx((2, 5))


def test_multi_geometries_missing_values_and_wrong_types(app):
    from riskmap.errors import RiskmapError

    d = layer_def("zones", "polygon", 12, {"type": "level", "field": "level", "fill_opacity": 1.0,
                                           "stroke": "#000000", "stroke_width_mm": 0.1},
                  label={"field": "name", "size_pt": 8, "priority": 2})
    multi = shapely.MultiPolygon([shapely.box(50, 50, 150, 150), shapely.box(850, 850, 950, 950)])
    prep = PreparedLayer.from_gdf(d, frame([multi, None, shapely.Polygon()], level=["重大", None, 2],
                                           name=["两块", None, "空"]), MAP_EPSG, projected=True)
    assert prep.n == 3 and len(prep.part_feature) == 2 and set(prep.part_feature) == {0}
    assert np.isnan(prep.bounds[1]).all()
    img = render_image(settings(), [prep], labels=False)
    assert close(rgb(img, 20, 180), (255, 0, 0)) and close(rgb(img, 180, 20), (255, 0, 0))
    assert prep.counts() == {1: 1, 2: 1, 3: 0, 4: 0, None: 1}
    with pytest.raises(RiskmapError):
        PreparedLayer.from_gdf(layer_def("p", "point"), frame([shapely.box(0, 0, 1, 1)]), MAP_EPSG, projected=True)


def test_reclassified_recolours_without_reprojecting(app):
    prep = enterprises()
    gdf = prep.source.copy()
    gdf["level"] = [4, 1, 4, 4]
    again = prep.reclassified(gdf)
    assert again.coords is prep.coords
    img = render_image(settings(), [again], labels=False)
    assert close(rgb(img, 50, 50), (0, 0x70, 0xFF)) and close(rgb(img, 150, 50), (255, 0, 0))
