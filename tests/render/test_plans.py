"""The plant plan as an image layer of the one renderer: pixels at known map positions, under the risk points."""

import subprocess

import geopandas as gpd
import numpy as np
import shapely
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

from riskmap.layers import load_catalogue, raster_catalogue
from riskmap.render import MapSettings, PreparedLayer, legend_entries, render_image
from riskmap.render.plans import PlanImages, PlanLayer, map_transform
from tests.render.conftest import MAP_EPSG, close, rgb

# four quadrants of a 200 × 100 px plan, colours no level uses
TL, TR, BL, BR = (200, 0, 200), (0, 160, 160), (0, 150, 0), (40, 40, 120)
OPACITY = raster_catalogue()["plant_plans"].style.fill_opacity


def plan_png(w=200, h=100) -> bytes:
    img = QImage(w, h, QImage.Format.Format_RGB32)
    for (x0, y0, colour) in ((0, 0, TL), (w // 2, 0, TR), (0, h // 2, BL), (w // 2, h // 2, BR)):
        for y in range(y0, y0 + h // 2):
            for x in range(x0, x0 + w // 2):
                img.setPixel(x, y, QColor(*colour).rgb())
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(buf.data())


def on_white(colour, opacity=OPACITY):
    return tuple(round(opacity * c + (1 - opacity) * 255) for c in colour)


class Fetch:
    """The project's image read, counted."""

    def __init__(self, images):
        self.images = images
        self.asked = []

    def __call__(self, ids):
        self.asked.extend(ids)
        return {i: self.images[i] for i in ids if i in self.images}


def plans(rows, fetch, epsg=MAP_EPSG):
    gdf = gpd.GeoDataFrame(rows, geometry=[shapely.box(0, 0, 1, 1)] * len(rows["id"]), crs=4490)
    return PlanLayer.from_gdf(raster_catalogue()["plant_plans"], gdf, epsg, fetch=fetch, images=PlanImages())


# a plan 2 m per pixel, its top-left corner at (1000, 2000): it covers x 1000–1400, y 1800–2000
T = [1000.0, 2.0, 0.0, 2000.0, 0.0, -2.0]
VIEW = MapSettings((900, 1700, 1500, 2100), 600, 400, dpi=96, crs_epsg=MAP_EPSG)  # 1 m per pixel


def px(x, y, view=VIEW):
    p = view.map_to_pixel(np.array([[x, y]]))[0]
    return int(p[0]), int(p[1])


def one_plan(fetch=None, transform=T, crs=MAP_EPSG, epsg=MAP_EPSG):
    fetch = fetch or Fetch({5: plan_png()})
    return plans({"id": [5], "version": [1], "width": [200], "height": [100], "crs": [crs],
                  "transform": [transform]}, fetch, epsg), fetch


def test_plan_pixels_at_known_map_positions(app):
    layer, fetch = one_plan()
    img = render_image(VIEW, [layer])
    # the centre of each quadrant: plan pixel (50, 25) is map (1100, 1950) …
    for (x, y), colour in (((1100, 1950), TL), ((1300, 1950), TR), ((1100, 1850), BL), ((1300, 1850), BR)):
        assert close(rgb(img, *px(x, y)), on_white(colour), tol=3), (x, y)
    # just outside the plan's corners: white
    for x, y in ((995, 1950), (1405, 1950), (1100, 2005), (1100, 1795)):
        assert rgb(img, *px(x, y)) == (255, 255, 255)
    # just inside them: the plan (edges sharp to a pixel)
    assert close(rgb(img, *px(1003, 1997)), on_white(TL), tol=4)
    assert close(rgb(img, *px(1397, 1803)), on_white(BR), tol=4)
    assert fetch.asked == [5]


def test_rotated_plan_follows_its_affine_transform(app):
    # 90° rotation: columns run north, rows run east; 1 m per pixel; top-left corner at (1000, 1800)
    t = [1000.0, 0.0, 1.0, 1800.0, 1.0, 0.0]
    layer, _ = one_plan(transform=t)
    img = render_image(VIEW, [layer])
    # plan pixel (col 50, row 25) — TL quadrant — is at x = 1000 + 25, y = 1800 + 50
    assert close(rgb(img, *px(1025, 1850)), on_white(TL), tol=3)
    # plan pixel (col 150, row 75) — BR — is at x = 1075, y = 1950
    assert close(rgb(img, *px(1075, 1950)), on_white(BR), tol=3)
    # (col 150, row 25) — TR — at x = 1025, y = 1950
    assert close(rgb(img, *px(1025, 1950)), on_white(TR), tol=3)


def test_plan_in_another_crs_is_placed_through_its_projected_corners(app):
    import pyproj

    # the plan georeferenced in the next Gauss–Krüger zone (EPSG:4545, CM 108°E), the map in EPSG:4544 (CM 105°E)
    to_other = pyproj.Transformer.from_crs(MAP_EPSG, 4545, always_xy=True)
    x0, y0 = to_other.transform(1000.0, 2000.0)
    t = [x0, 2.0, 0.0, y0, 0.0, -2.0]
    layer, _ = one_plan(transform=t, crs=4545)
    mt = map_transform(t, 4545, MAP_EPSG, 200, 100)
    back = pyproj.Transformer.from_crs(4545, MAP_EPSG, always_xy=True)
    # the plan's pixel (50, 25) lands where pyproj puts it, within a fraction of a metre
    ex, ey = back.transform(x0 + 100.0, y0 - 50.0)
    mx, my = mt[0] + mt[1] * 50 + mt[2] * 25, mt[3] + mt[4] * 50 + mt[5] * 25
    assert abs(mx - ex) < 0.05 and abs(my - ey) < 0.05
    view = MapSettings((ex - 300, ey - 200, ex + 300, ey + 200), 600, 400, dpi=96, crs_epsg=MAP_EPSG)
    img = render_image(view, [layer])
    assert close(rgb(img, *px(ex, ey, view)), on_white(TL), tol=3)


def area_layer(level=1):
    gdf = gpd.GeoDataFrame({"id": [1], "name": ["储罐区"], "level": [level], "kind": ["risk_point"]},
                           geometry=[shapely.box(1040, 1900, 1160, 1980)], crs=MAP_EPSG)
    return PreparedLayer.from_gdf(load_catalogue()["risk_points"], gdf, MAP_EPSG, projected=True)


def test_red_risk_point_area_is_drawn_over_the_plan(app):
    layer, _ = one_plan()
    area = area_layer(1)
    assert layer.z < area.z  # the catalogue puts the plan under the plant's features
    img = render_image(VIEW, [area, layer], labels=False)
    a = load_catalogue()["risk_points"].style.fill_opacity
    under = on_white(TL)
    expected = tuple(round(a * r + (1 - a) * u) for r, u in zip((255, 0, 0), under))  # red over the plan
    got = rgb(img, *px(1100, 1940))  # the area's centroid
    assert close(got, expected, tol=4), (got, expected)
    assert close(rgb(img, *px(1020, 1940)), under, tol=3)  # beside the area: the plan alone
    # the outline is solid red (the level's colour), on the area's edge
    edge = rgb(img, *px(1100, 1980))
    assert edge[0] > 200 and edge[1] < 80 and edge[2] < 80


def test_risk_point_layers_show_only_at_plant_scales(app):
    layer, fetch = one_plan()
    area = area_layer(1)
    far = MapSettings.at_scale((1200, 1900), 200_000, 600, 400, dpi=96, crs_epsg=MAP_EPSG)
    stats = []
    img = render_image(far, [area, layer], stats=stats)
    assert stats[0].features == {}  # neither drawn at 1:200 000
    assert fetch.asked == []  # and the image was never read
    assert rgb(img, *px(1100, 1940, far)) == (255, 255, 255)
    assert [e.label for e in legend_entries([area], settings=far)] == []
    near = legend_entries([area], settings=VIEW)
    assert [e.label for e in near][:5] == ["风险点（区域）", "重大风险", "较大风险", "一般风险", "低风险"]
    assert [e.colour for e in near[1:5]] == ["#FF0000", "#FF8C00", "#FFE600", "#0070FF"]
    assert all(e.stroke == e.colour for e in near[1:5])  # outlined in the level's colour


def test_images_read_lazily_and_decoded_once(app):
    images = {5: plan_png(), 6: plan_png()}
    fetch = Fetch(images)
    far_t = [90000.0, 2.0, 0.0, 2000.0, 0.0, -2.0]  # plan 6 far outside the view
    layer = plans({"id": [5, 6], "version": [1, 1], "width": [200, 200], "height": [100, 100],
                   "crs": [MAP_EPSG] * 2, "transform": [T, far_t]}, fetch)
    render_image(VIEW, [layer])
    render_image(VIEW.panned(10, 0), [layer])
    assert fetch.asked == [5]
    assert layer.images.decoded == 1


def test_bad_image_bytes_are_skipped_not_fatal(app):
    fetch = Fetch({5: b"\x89PNG\r\n\x1a\n" + b"\0" * 40})
    layer, _ = one_plan(fetch)
    stats = []
    render_image(VIEW, [layer], stats=stats)
    assert stats[0].features["plant_plans"] == 0
    # an image of another size than the transform was made for is not drawn either
    fetch = Fetch({5: plan_png(100, 100)})
    layer, _ = one_plan(fetch)
    assert render_image(VIEW, [layer]) is not None and layer.image(0) is None


def test_small_views_use_a_smaller_copy(app):
    layer, _ = one_plan(transform=[1000.0, 0.5, 0.0, 2000.0, 0.0, -0.5])  # 0.5 m per pixel: 100 m × 50 m
    # 5 m per screen pixel (1:18 898): 0.1 device px per plan px → the copy halved three times (25 × 12 px)
    view = MapSettings((1000, 1950, 1100, 2000), 20, 10, dpi=96, crs_epsg=MAP_EPSG)
    img = render_image(view, [layer])
    assert layer.images.get((5, 1), 3).width() == 25
    assert layer.images.get((5, 1), 4) is None
    assert close(rgb(img, 5, 2), on_white(TL), tol=6) and close(rgb(img, 15, 7), on_white(BR), tol=6)


def test_plan_on_a_pdf_page(app, tmp_path):
    from riskmap.render import render

    layer, _ = one_plan()
    area = area_layer(1)
    pdf = tmp_path / "plan.pdf"
    writer = QPdfWriter(str(pdf))
    writer.setResolution(96)
    writer.setPageLayout(QPageLayout(QPageSize(QSizeF(600 * 25.4 / 96, 400 * 25.4 / 96), QPageSize.Unit.Millimeter),
                                     QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    p = QPainter(writer)
    render(p, VIEW, [area, layer], labels=False)
    p.end()
    out = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "96", "-png", "-singlefile", str(pdf), str(out)], check=True)
    page = QImage(str(out) + ".png")
    assert abs(page.width() - 600) <= 2
    assert close(rgb(page, *px(1300, 1850)), on_white(BR), tol=6)
    a = load_catalogue()["risk_points"].style.fill_opacity
    expected = tuple(round(a * r + (1 - a) * u) for r, u in zip((255, 0, 0), on_white(TL)))
    assert close(rgb(page, *px(1100, 1940)), expected, tol=6)
    assert rgb(page, *px(950, 1950)) == (255, 255, 255)



def test_county_print_zoomed_to_the_plant_draws_the_plan(demo_open, app, tmp_path):
    """The normal print path (collect_layers → build_content → PDF) adds the plans: zoomed to the demo's plant
    the page embeds the plan image and the content holds it under the risk-point areas; the whole county
    (far above the plant scales) neither draws nor reads it."""
    from riskmap.export.options import ExportOptions
    from riskmap.plant import plant_data, plants
    from riskmap.printing.export import export_print, prepare, visible_layer_ids
    from riskmap.export.base import collect_layers
    from riskmap.render.plans import extent_in

    eid = int(plants(demo_open)["id"].iloc[0])
    plant = plant_data(demo_open, eid)
    epsg = demo_open.metric_epsg
    extent = extent_in(epsg, plant.extent_4490)
    out = tmp_path / "plant.pdf"
    opts = ExportOptions(out=out, paper="A4", dpi=150)
    export_print(demo_open, "pdf", opts, extent=extent)
    listing = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True).stdout
    sizes = {tuple(int(v) for v in line.split()[3:5]) for line in listing.splitlines()[2:]}
    w, h = plant.plan.width, plant.plan.height
    # the plan, embedded at its own pixels or (denser than the page needs) as a halved copy (LOD_FACTOR)
    assert any((w >> k, h >> k) in sizes for k in range(3)), listing
    src = collect_layers(demo_open, visible_layer_ids(None))
    content, _, _ = prepare(src, opts, extent=extent)
    ids = [lay.id for lay in sorted(content.layers, key=lambda lay: lay.z)]
    assert "plant_plans" in ids and ids.index("plant_plans") < ids.index("risk_points")
    county = tmp_path / "county.pdf"
    export_print(demo_open, "pdf", ExportOptions(out=county, paper="A4", dpi=150))
    listing = subprocess.run(["pdfimages", "-list", str(county)], capture_output=True, text=True, check=True).stdout
    sizes = {tuple(int(v) for v in line.split()[3:5]) for line in listing.splitlines()[2:]}
    assert not any((w >> k, h >> k) in sizes for k in range(3)), listing
