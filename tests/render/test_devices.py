"""Same output on screen and paper; off-thread jobs; cancel and progress; vector devices."""

import threading

import numpy as np
import shapely
from PySide6.QtCore import QMarginsF, QSizeF, QThreadPool
from PySide6.QtGui import QPageSize, QPainter, QPdfWriter

from riskmap.render import MapSettings, PreparedLayer, RenderJob, render, render_image
from tests.render.conftest import MAP_EPSG, frame, layer_def


def _layers():
    zones = layer_def("towns", "polygon", 12, {"type": "level", "field": "level", "fill_opacity": 0.35,
                                               "stroke": "#505050", "stroke_width_mm": 0.3},
                      label={"field": "name", "size_pt": 9, "bold": True, "priority": 2})
    lines = layer_def("lifelines", "line", 40, {"type": "single", "stroke": "#1E88E5", "stroke_width_mm": 0.35})
    pts = layer_def("enterprises", "point", 60, {"type": "level", "field": "level", "size_mm": 2.4,
                                                  "stroke": "#202020", "stroke_width_mm": 0.2},
                    label={"field": "name", "size_pt": 7, "priority": 5})
    rng = np.random.default_rng(3)
    xy = rng.uniform(50, 950, (60, 2))
    return [
        PreparedLayer.from_gdf(zones, frame([shapely.box(0, 0, 500, 1000), shapely.box(500, 0, 1000, 1000)],
                                            level=[1, 3], name=["示例东镇", "示例西镇"]), MAP_EPSG, projected=True),
        PreparedLayer.from_gdf(lines, frame([shapely.LineString(rng.uniform(0, 1000, (6, 2))) for _ in range(20)]),
                               MAP_EPSG, projected=True),
        PreparedLayer.from_gdf(pts, frame(shapely.points(xy), level=rng.integers(1, 5, 60),
                                          name=[f"示例企业{i}" for i in range(60)]), MAP_EPSG, projected=True),
    ]


def test_96_and_192_dpi_look_the_same(app):
    layers = _layers()
    screen = MapSettings((-100, -100, 1100, 1100), 250, 250, dpi=96, crs_epsg=MAP_EPSG)
    paper = screen.with_dpi(192)
    assert paper.width_px == 500 and abs(paper.scale_denominator() - screen.scale_denominator()) < 1e-6
    a = _rgb(render_image(screen, layers, labels=False))
    b = _rgb(render_image(paper, layers, labels=False))
    # the same picture: compare 5 × 5 blocks of the screen image with 10 × 10 blocks on paper (antialiasing
    # patterns differ pixel by pixel, the ink does not)
    blocks_a = a.reshape(50, 5, 50, 5, 3).mean(axis=(1, 3))
    blocks_b = b.reshape(50, 10, 50, 10, 3).mean(axis=(1, 3))
    assert np.abs(blocks_a - blocks_b).mean() < 4  # about 1 % of the range
    assert np.abs(blocks_a - blocks_b).max() < 40
    # labels: the same ones, at the same place on paper
    la, lb = [], []
    render_image(screen, layers, stats=la)
    render_image(paper, layers, stats=lb)
    pa = {(p.layer_id, p.feature): p for p in la[0].labels}
    pb = {(p.layer_id, p.feature): p for p in lb[0].labels}
    assert len(pa) > 10 and len(set(pa) ^ set(pb)) <= 0.1 * len(pa)
    for key in set(pa) & set(pb):
        assert abs(pa[key].x * 2 - pb[key].x) < 1.5 and abs(pa[key].y * 2 - pb[key].y) < 1.5
    # the colour at the same map location: a level-3 zone interior and each enterprise's centre
    lv = layers[2]
    for x, y in lv.coords[:15]:
        pa = screen.map_to_pixel(x, y)
        pb = paper.map_to_pixel(x, y)
        ca = a[int(pa[1]), int(pa[0])]
        cb = b[int(pb[1]), int(pb[0])]
        assert np.abs(ca - cb).max() < 40


def test_render_job_runs_in_a_thread_pool(app):
    layers = _layers()
    s = MapSettings((0, 0, 1000, 1000), 300, 300, crs_epsg=MAP_EPSG)
    job = RenderJob(s, layers)
    done = threading.Event()
    QThreadPool.globalInstance().start(job.runnable(lambda j: done.set()))
    assert done.wait(20)
    assert job.error is None and job.image is not None
    assert job.stats.features["enterprises"] == 60
    direct = render_image(s, layers)
    assert _rgb(job.image).tolist() == _rgb(direct).tolist()


def test_cancel_and_progress(app):
    layers = _layers()
    s = MapSettings((0, 0, 1000, 1000), 300, 300, crs_epsg=MAP_EPSG)
    job = RenderJob(s, layers)
    job.cancel()
    assert job.run() is None and job.stats.cancelled
    seen = []
    render_image(s, layers, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3


def test_pdf_is_vector_with_the_cjk_font(app, tmp_path):
    layers = _layers()
    out = tmp_path / "map.pdf"
    writer = QPdfWriter(str(out))
    writer.setResolution(300)
    writer.setPageSize(QPageSize(QSizeF(120, 120), QPageSize.Unit.Millimeter))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    s = MapSettings((0, 0, 1000, 1000), 1300, 1300, dpi=300, crs_epsg=MAP_EPSG)
    p = QPainter(writer)
    stats = render(p, s, layers)
    p.end()
    data = out.read_bytes()
    assert len(stats.labels) > 3
    assert b"NotoSansCJK" in data  # the bundled font, embedded
    assert b"/Subtype /Image" not in data  # symbols are vector paths, not stamped images


def _rgb(img):
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return arr[:, :img.width(), [2, 1, 0]].astype(float)


def test_label_glyphs_scale_with_dpi(app):
    towns = _layers()[0]
    ink = []
    for dpi in (96, 192):
        s = MapSettings((-100, -100, 1100, 1100), 250, 250, dpi=96, crs_epsg=MAP_EPSG).with_dpi(dpi)
        stats = []
        with_labels = _rgb(render_image(s, [towns], stats=stats))
        without = _rgb(render_image(s, [towns], labels=False))
        assert len(stats[0].labels) == 2
        ink.append((np.abs(with_labels - without).sum(axis=2) > 60).sum())
    assert 3.0 < ink[1] / ink[0] < 5.0  # twice the size in each direction on the 192 dpi image


def test_svg_output(app, tmp_path):
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtSvg import QSvgGenerator

    layers = _layers()
    out = tmp_path / "map.svg"
    gen = QSvgGenerator()
    gen.setFileName(str(out))
    gen.setSize(QSize(400, 400))
    gen.setViewBox(QRect(0, 0, 400, 400))
    gen.setResolution(96)
    s = MapSettings((0, 0, 1000, 1000), 400, 400, dpi=96, crs_epsg=MAP_EPSG)
    p = QPainter(gen)
    stats = render(p, s, layers)
    p.end()
    text = out.read_text(encoding="utf-8")
    assert stats.features["enterprises"] == 60 and "<path" in text
    assert "示例东镇" in text  # labels stay text
