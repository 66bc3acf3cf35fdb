"""The canvas's two passes (map frame, then labels on a transparent image) equal one render; strokes cut to
the frame draw the same picture; the county boundary's name stays at its own label point."""

import numpy as np
import shapely
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter

from riskmap.layers import load_catalogue
from riskmap.render import LabelJob, MapSettings, PreparedLayer, RenderJob, place_labels, render_image
from riskmap.render import painter as painter_module
from riskmap.render._bulk import cull_segments
from tests.render.conftest import MAP_EPSG, frame, layer_def


def _array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(
        img.height(), img.width(), 4).astype(int)


def _over_white(*images: QImage) -> QImage:
    """The images drawn one over the other on white, as the canvas widget paints them."""
    out = QImage(images[0].size(), QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(0xFFFFFFFF)
    p = QPainter(out)
    for img in images:
        p.drawImage(QPointF(0, 0), img)
    p.end()
    return out


def _layers():
    cat = load_catalogue()
    rng = np.random.default_rng(7)
    towns = PreparedLayer.from_gdf(cat["towns"], frame(
        [shapely.box(0, 0, 500, 1000), shapely.box(500, 0, 1000, 1000)], level=[1, 3],
        name=["示例东镇", "示例西镇"]), MAP_EPSG, projected=True)
    lines = PreparedLayer.from_gdf(cat["lifelines"], frame(
        [shapely.LineString(rng.uniform(0, 1000, (8, 2))) for _ in range(30)],
        category=rng.choice(["gas", "water", "power"], 30), name=[f"示例管线{i}" for i in range(30)]),
        MAP_EPSG, projected=True)
    xy = rng.uniform(30, 970, (150, 2))
    ents = PreparedLayer.from_gdf(cat["enterprises"], frame(
        shapely.points(xy), level=rng.integers(1, 5, 150), name=[f"示例企业{i}" for i in range(150)]),
        MAP_EPSG, projected=True)
    county = PreparedLayer.from_gdf(cat["county"], frame([shapely.box(-50, -50, 1050, 1050)], name=["示例县"]),
                                    MAP_EPSG, projected=True)
    return [towns, lines, ents, county]


def test_frame_then_labels_equal_one_render(app):
    layers = _layers()
    view = MapSettings((0, 0, 1000, 1000), 400, 400, crs_epsg=MAP_EPSG).zoomed(1.5)  # 1:6 300: many labels
    opacity = {"towns": 0.6}
    selection = {"enterprises": {3, 4}}
    one = []
    one_pass = render_image(view, layers, background="", opacity=opacity, selection=selection, stats=one)
    frame_job = RenderJob(view, layers, background="", labels=False, opacity=opacity, selection=selection)
    label_job = LabelJob(view, layers, opacity=opacity)
    assert frame_job.run() is not None and label_job.run() is not None
    assert not frame_job.stats.labels and len(label_job.stats.labels) > 20
    assert [(p.layer_id, p.feature, p.x, p.y) for p in label_job.stats.labels] == [
        (p.layer_id, p.feature, p.x, p.y) for p in one[0].labels]
    a = _array(_over_white(one_pass))
    b = _array(_over_white(frame_job.image, label_job.image))
    diff = np.abs(a - b)
    assert diff.max() <= 2, diff.max()  # premultiplied rounding only
    # the label image holds only labels: transparent away from them, inked on them
    lab = _array(label_job.image)
    inside = np.zeros(lab.shape[:2], dtype=bool)
    for p in label_job.stats.labels:
        x0, y0, x1, y1 = (int(v) for v in p.rect)
        inside[max(y0 - 3, 0):y1 + 4, max(x0 - 3, 0):x1 + 4] = True
    assert lab[..., 3][~inside].max() == 0
    assert (lab[..., 3][inside] > 0).mean() > 0.2


def test_label_job_skips_hidden_layers_and_cancels(app):
    layers = _layers()
    view = MapSettings((0, 0, 1000, 1000), 400, 400, crs_epsg=MAP_EPSG).zoomed(1.5)
    job = LabelJob(view, layers, opacity={"enterprises": 0.0})
    job.run()
    assert job.stats.labels and all(p.layer_id != "enterprises" for p in job.stats.labels)
    cancelled = LabelJob(view, layers)
    cancelled.cancel()
    assert cancelled.run() is None and cancelled.image is None


def _zigzag(n: int, x0: float, x1: float, y: float, amp: float) -> np.ndarray:
    xs = np.linspace(x0, x1, n)
    return np.column_stack([xs, y + amp * (np.arange(n) % 2)])


def test_cull_keeps_every_segment_that_can_show():
    rng = np.random.default_rng(1)
    parts = [rng.uniform(-300, 500, (rng.integers(2, 9), 2)) for _ in range(400)]
    xy = np.concatenate(parts)
    offs = np.r_[0, np.cumsum([len(p) for p in parts])]
    out, new_offs, rows, towards, t = cull_segments(xy, offs, 200, 100, 2.0, min_outside=0.0)
    assert not t.any() and np.array_equal(out, xy[rows])

    def segments(xy, offs):
        return {(tuple(a), tuple(b)) for i in range(len(offs) - 1)
                for a, b in zip(xy[offs[i]:offs[i + 1] - 1], xy[offs[i] + 1:offs[i + 1]])}

    def touches(a, b, m=2.0):
        return (max(a[0], b[0]) >= -m and min(a[0], b[0]) <= 200 + m
                and max(a[1], b[1]) >= -m and min(a[1], b[1]) <= 100 + m)

    kept = segments(out, new_offs)
    shown = {s for s in segments(xy, offs) if touches(*s)}
    assert shown <= kept  # nothing visible is lost
    # exactly the vertices of a segment that touches the frame remain
    expected = [v for i in range(len(offs) - 1) for v in range(offs[i], offs[i + 1])
                if (v > offs[i] and touches(xy[v - 1], xy[v])) or (v < offs[i + 1] - 1 and touches(xy[v], xy[v + 1]))]
    assert rows.tolist() == expected and len(rows) < 0.7 * len(xy)
    assert np.all(np.diff(new_offs) >= 2)
    # few vertices, mostly inside: left alone
    assert cull_segments(xy[:8], np.array([0, 8]), 200, 100, 2.0) is None


def test_far_run_ends_move_onto_their_segment():
    xy = np.array([[-1e7, 50.0], [100.0, 50.0], [120.0, 60.0], [1e7, 60.0 + 5e5]])
    out, offs, rows, towards, t = cull_segments(xy, np.array([0, 4]), 200, 100, 2.0, far=1000.0)
    assert offs.tolist() == [0, 4] and rows.tolist() == [0, 1, 2, 3]
    assert out[0].tolist() == [-1000.0, 50.0]  # on the segment, at the far box
    assert towards[0] == 1 and 0 < t[0] < 1
    assert out[3][0] == 1200.0 and abs(out[3][1] - (60.0 + 5e5 * (1200.0 - 120.0) / (1e7 - 120.0))) < 1e-6
    assert np.allclose(out[1:3], xy[1:3])


def test_long_lines_mostly_outside_draw_the_same_cut(app, monkeypatch):
    d = layer_def("lifelines", "line", 40, {"type": "single", "stroke": "#1E88E5", "stroke_width_mm": 0.35})
    lines = [shapely.LineString(_zigzag(3000, -20_000, 20_000, 480 + 10 * i, 7.0)) for i in range(5)]
    lines.append(shapely.LineString([(-5e7, 300.0), (5e7, 700.0)]))  # vertices ~10^7 px away
    prep = PreparedLayer.from_gdf(d, frame(lines), MAP_EPSG, projected=True)
    view = MapSettings((0, 0, 1000, 1000), 300, 300, crs_epsg=MAP_EPSG)
    calls = []
    original = painter_module.cull_segments

    def spy(*args, **kw):
        out = original(*args, **kw)
        calls.append(out)
        return out

    monkeypatch.setattr(painter_module, "cull_segments", spy)
    cut = _array(render_image(view, [prep], labels=False))
    assert any(c is not None and len(c[0]) < 0.1 * len(prep.coords) for c in calls)
    monkeypatch.setattr(painter_module, "cull_segments", lambda *a, **k: None)
    whole = _array(render_image(view, [prep], labels=False))
    ink_cut, ink_whole = 255 * 3 - cut[..., :3].sum(axis=2), 255 * 3 - whole[..., :3].sum(axis=2)
    assert ink_whole.sum() > 0
    # Qt's antialiasing of a segment depends a little on the path around it: the ink is the same, not
    # every pixel
    assert abs(ink_cut.sum() - ink_whole.sum()) < 0.01 * ink_whole.sum()
    assert np.abs(cut - whole).max(axis=2).mean() < 1.0
    rows_cut = (ink_cut > 200).any(axis=1)
    assert np.array_equal(rows_cut, (ink_whole > 200).any(axis=1))


def test_county_name_stays_at_its_label_point(app):
    county_def = load_catalogue()["county"]
    county = PreparedLayer.from_gdf(county_def, frame([shapely.box(0, 0, 10_000, 10_000)], name=["示例县"]),
                                    MAP_EPSG, projected=True)
    anchor = county.label_xy[0]
    whole = MapSettings((-500, -500, 10_500, 10_500), 400, 400, crs_epsg=MAP_EPSG)
    (lab,) = place_labels(whole, [county])
    x0, y0, x1, y1 = lab.rect
    mx, my = whole.pixel_to_map((x0 + x1) / 2, (y0 + y1) / 2)
    assert abs(mx - anchor[0]) < 2 * whole.resolution and abs(my - anchor[1]) < 2 * whole.resolution
    # zoomed in on a feature inside the county, away from its label point: no county name (it would sit
    # at the centre of the view, over the feature)
    inside = MapSettings.at_scale((2000.0, 2500.0), 10_000, 400, 400, crs_epsg=MAP_EPSG)
    assert place_labels(inside, [county]) == []
    # its label point in view (near the edge, too): the name is there
    near = MapSettings.at_scale((anchor[0] + 450.0, anchor[1]), 10_000, 400, 400, crs_epsg=MAP_EPSG)
    (lab,) = place_labels(near, [county])
    px, py = near.map_to_pixel(anchor[0], anchor[1])
    assert abs((lab.rect[0] + lab.rect[2]) / 2 - px) < 1 and abs((lab.rect[1] + lab.rect[3]) / 2 - py) < 1
    # a filled area (a town) zoomed into keeps its name on the visible part
    towns = PreparedLayer.from_gdf(load_catalogue()["towns"], frame([shapely.box(0, 0, 10_000, 10_000)],
                                                                     name=["示例青石镇"], level=[2]),
                                   MAP_EPSG, projected=True)
    assert [p.text for p in place_labels(inside, [towns])] == ["示例青石镇"]
