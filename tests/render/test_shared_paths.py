"""A polygon layer's thin outlines stroked with the paths its fill built (painter._shares_paths): the same
pixels as stroking paths of their own built from the same vertices, half the paths built, and the cases that
keep their own paths (dashes, outlines to cut, a class without fill, vector devices)."""

import numpy as np
import shapely
import shapely.affinity
from PySide6.QtGui import QPainter, QPdfWriter

from riskmap.render import MapSettings, PreparedLayer, painter, render_image
from tests.render.conftest import MAP_EPSG, close, frame, layer_def, rgb

GRID_STYLE = {"type": "level", "field": "level", "fill_opacity": 0.35, "stroke": "#8A8A8A",
              "stroke_width_mm": 0.1}


def _array(img):
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return a[:, :img.width() * 4].reshape(img.height(), img.width(), 4).astype(int)


def _cells(n=4000, seed=3):
    """Irregular cells (a Voronoi diagram of random points in a 1 km box, a few with a hole), levels 1-4 at
    random: many rings a few pixels across, with vertices closer than half a pixel."""
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(rng.uniform(0, 1000, (n, 2)))
    box = shapely.box(0, 0, 1000, 1000)
    cells = [c.intersection(box) for c in shapely.voronoi_polygons(pts, extend_to=box).geoms]
    cells = [c for c in cells if c.geom_type == "Polygon" and not c.is_empty]
    for i in range(0, len(cells), 97):  # holes: a third of the cell's size around its centroid
        c = cells[i]
        hole = shapely.affinity.scale(c, 0.3, 0.3, origin=c.centroid)
        cells[i] = shapely.Polygon(c.exterior.coords, [hole.exterior.coords[::-1]])
    level = rng.integers(1, 5, len(cells))
    return cells, level


def _layer(cells, level, style=GRID_STYLE):
    return PreparedLayer.from_gdf(layer_def("cells", "polygon", 12, style), frame(cells, level=level),
                                  MAP_EPSG, projected=True)


def _settings(extent=(0, 0, 1000, 1000), size=600):
    return MapSettings(extent, size, size, dpi=96, crs_epsg=MAP_EPSG)


def _counting(monkeypatch):
    calls = []
    real = painter.make_path

    def make_path(xy, types, *a, **kw):
        calls.append(len(xy))
        return real(xy, types, *a, **kw)

    monkeypatch.setattr(painter, "make_path", make_path)
    return calls


def test_outlines_on_the_fill_paths_equal_their_own_paths_pixel_for_pixel(app, monkeypatch):
    cells, level = _cells()
    lay = _layer(cells, level)
    s = _settings()
    shared = []
    real_shares = painter._shares_paths
    monkeypatch.setattr(painter, "_shares_paths", lambda *a: shared.append(real_shares(*a)) or shared[-1])
    calls = _counting(monkeypatch)
    new = _array(render_image(s, [lay], labels=False))
    new_calls = list(calls)
    assert shared == [True]
    n_vertices = int(lay.offsets[-1])
    assert sum(new_calls) == n_vertices  # each ring's vertices went into one path: the fill's

    # the outlines on paths of their own, of the same vertices (no thinning): the very same pixels
    calls.clear()
    monkeypatch.setattr(painter, "_shares_paths", lambda *a: False)
    monkeypatch.setattr(painter, "thin_vertices", lambda xy, offs, tol=0.5: (xy, offs, None))
    own = _array(render_image(s, [lay], labels=False))
    assert sum(calls) == 2 * n_vertices  # fill and outline each built their paths
    assert np.array_equal(new, own)

    # by hand: a cell's inside is its level colour at 35 % over white, its outline grey
    colours = {1: (0xFF, 0x00, 0x00), 4: (0x00, 0x70, 0xFF)}
    img = render_image(s, [lay], labels=False)
    for lv, want in colours.items():
        i = int(np.flatnonzero((level == lv) & (np.array([c.area for c in cells]) > 900))[0])
        p = cells[i].representative_point()
        x, y = s.map_to_pixel(np.array([[p.x, p.y]]))[0]
        assert close(rgb(img, x, y), tuple(round(255 * 0.65 + c * 0.35) for c in want), tol=2), lv
    # the outlines are drawn: against the fill alone, pixels on every cell's edge turn greyer and darker
    fill_only = _array(render_image(s, [_layer(cells, level, dict(GRID_STYLE, stroke=None))], labels=False))
    changed = np.abs(new - fill_only).max(axis=2) > 8
    assert changed.sum() > 4 * len(cells)
    assert (new[..., :3].sum(axis=2)[changed] < fill_only[..., :3].sum(axis=2)[changed]).mean() > 0.9


def test_outlines_that_keep_their_own_paths(app, monkeypatch, tmp_path):
    cells, level = _cells(600, seed=5)
    seen = []
    real_shares = painter._shares_paths
    monkeypatch.setattr(painter, "_shares_paths", lambda *a: seen.append(real_shares(*a)) or seen[-1])
    s = _settings()
    render_image(s, [_layer(cells, level, dict(GRID_STYLE, dash="dash"))], labels=False)
    render_image(s, [_layer(cells, level, dict(GRID_STYLE, stroke_width_mm=0.5))], labels=False)  # 1.9 px
    no_fill = dict(GRID_STYLE, type="single", fill=None)
    render_image(s, [_layer(cells, level, no_fill)], labels=False)
    # zoomed in onto a cell's corner (1 m across: its other vertices thousands of pixels out): cut to the frame
    lay = _layer(cells, level)
    vx, vy = cells[0].exterior.coords[1]
    zoomed = _settings((vx - 0.5, vy - 0.5, vx + 0.5, vy + 0.5), 600)
    arr = _array(render_image(zoomed, [lay], labels=False))
    assert seen == [False, False, False, False]
    monkeypatch.setattr(painter, "_shares_paths", lambda *a: False)
    fill_only = _array(render_image(zoomed, [_layer(cells, level, dict(GRID_STYLE, stroke=None))], labels=False))
    assert (np.abs(arr - fill_only).max(axis=2) > 8).sum() > 200  # the cut outlines meet at the corner
    # a PDF draws the outlines with real pens, its own paths
    monkeypatch.setattr(painter, "_shares_paths", lambda *a: seen.append(real_shares(*a)) or seen[-1])
    w = QPdfWriter(str(tmp_path / "x.pdf"))
    p = QPainter(w)
    painter.render(p, s, [lay], labels=False)
    p.end()
    assert len(seen) == 5 and seen[-1] is False
