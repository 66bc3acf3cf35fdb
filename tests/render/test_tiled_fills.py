"""A large polygon layer drawn at an exact scale with only part of it in view: its fills and thin outlines from
map-space paths kept per spatial tile of the whole layer (painter ``_fill_tiles``), only the tiles meeting the
view, through the view's transform; pixel for pixel what the painter draws from paths built for the frame."""

from __future__ import annotations

import numpy as np
import pytest

import riskmap.render.lazy as lazy
import riskmap.render.painter as painter_module
from riskmap.layers import load_catalogue
from riskmap.render import MapSettings
from tests.render.test_lod_hairlines import _cells, _rendered


@pytest.fixture
def exact(app, monkeypatch):
    """Large (LAYER_IMAGE_VERTICES lowered), drawn exactly (LOD_VERTICES above it), in small tiles, straight into
    the frame (no layer image)."""
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 1000)
    monkeypatch.setattr(painter_module, "TILE_VERTICES", 600)
    monkeypatch.setattr(lazy, "LOD_VERTICES", 10 ** 9)
    monkeypatch.setattr(painter_module, "_image_key", lambda *a: None)


def _views(prep):
    full = MapSettings(prep.total_bounds(), 400, 260, crs_epsg=4544)
    (_, tiles), = painter_module._fill_tiles(prep, 16.0, painter_module.MAP_FILL_CHUNK_RINGS),  # a band's tiles
    box = next(iter(tiles.values())).box[3]
    res = full.resolution / 5
    edge = MapSettings((box[2], box[1], box[2] + 400 * res, box[1] + 260 * res), 400, 260, crs_epsg=4544)
    return [full.zoomed(2.5).panned(-60.3, 20.7), full.zoomed(5), full.zoomed(9).panned(130.1, -70.9), edge]


def _frame_drawn(monkeypatch, view, layers):
    with monkeypatch.context() as m:  # the painter's own drawing: paths built for the frame
        m.setattr(painter_module, "_draws_map_fills", lambda *a: False)
        return _rendered(view, layers)


@pytest.mark.parametrize("outline", [True, False])
def test_partial_exact_views_fill_and_outline_from_the_tiles_meeting_them(exact, monkeypatch, outline):
    prep = _cells(outline=outline)
    views = _views(prep)
    calls = []
    real = painter_module._fill_tiles
    monkeypatch.setattr(painter_module, "_fill_tiles", lambda *a: calls.append(a[1]) or real(*a))
    sizes = np.maximum(prep.bounds[:, 2] - prep.bounds[:, 0], prep.bounds[:, 3] - prep.bounds[:, 1])
    own = []
    for v in views:
        assert lazy.simplified_for_view(prep, v) is prep
        stats = []
        got = _rendered(v, [prep], stats)
        want = _frame_drawn(monkeypatch, v, [prep])
        assert (got[..., 3] > 0).mean() > 0.1
        assert np.array_equal(got, want), (np.abs(got - want).max(), (np.abs(got - want).max(axis=2) > 0).sum())
        margin = (prep.layer_def.style.stroke_width_mm * v.px_per_mm() / 2 + 1) * v.resolution if outline \
            else v.resolution
        x0, y0, x1, y1 = v.extent
        b = prep.bounds
        near = (b[:, 2] >= x0 - margin) & (b[:, 0] <= x1 + margin) & (b[:, 3] >= y0 - margin) & (b[:, 1] <= y1 + margin)
        assert stats[0].features["grids"] == int(near.sum())  # every cell in view, dots too, counted by hand
        own.append(((sizes < 2 * calls[-1]) & (sizes >= v.resolution) & near).any())  # this frame's own paths
    assert len(calls) == len(views) and any(own)
    kept = prep.__dict__["_fill_tiles"][2]
    built = [k for _, tiles in kept.values() for t in tiles.values() for k in t.paths if k is not None]
    total = sum(len(t.paths) for _, tiles in kept.values() for t in tiles.values())
    assert 0 < len(built) < total  # only the tiles the views met


def test_a_skipped_tile_shows_and_a_lazy_grid_draws_from_the_whole_layers_tiles(exact, monkeypatch, tmp_path):
    prep = _cells()
    view = _views(prep)[2]
    want = _frame_drawn(monkeypatch, view, [prep])
    assert np.array_equal(_rendered(view, [prep]), want)
    band = 2.0 ** np.floor(np.log2(view.resolution))
    (origin, tiles), = [v for k, v in prep.__dict__["_fill_tiles"][2].items() if k[0] == band]
    real = painter_module._MapTiles.meeting
    x0, y0, x1, y1 = view.extent
    checked = 0
    for c, t in tiles.items():
        for k in real(t, view.extent, 0.0):
            feats = t.members[t.starts[k]:t.starts[k + 1]]
            b = prep.bounds[feats]
            if not ((b[:, 0] > x0) & (b[:, 2] < x1) & (b[:, 1] > y0) & (b[:, 3] < y1)).any():
                continue  # no cell of it wholly in view
            monkeypatch.setattr(painter_module._MapTiles, "meeting",
                                lambda self, e, m, skip=(t, k): real(self, e, m)[
                                    (real(self, e, m) != skip[1]) | (self is not skip[0])])
            assert not np.array_equal(_rendered(view, [prep]), want), (c, k)
            monkeypatch.setattr(painter_module._MapTiles, "meeting", real)
            checked += 1
    assert checked >= 4
    # a lazy grid layer's exact partial view: the whole layer's tiles (LazyPrepared.exact_layer)
    from riskmap.render.lazy import LazyPrepared
    from riskmap.store import Project
    from tests.render.test_lazy_shapes import EPSG as SHAPES_EPSG, make_shapes_project

    path = tmp_path / "shapes.gpkg"
    make_shapes_project(path)
    project = Project.open(path)
    try:
        lz = LazyPrepared(project, load_catalogue()["grids"], SHAPES_EPSG, 25)
        sh = lz._shape_data()
        sizes = np.maximum(sh["bounds"][:, 2] - sh["bounds"][:, 0], sh["bounds"][:, 3] - sh["bounds"][:, 1])
        cells = sh["bounds"][sizes < 2_000]  # the 25 grid cells (the layer holds the county and towns too)
        b = (cells[:, 0].min(), cells[:, 1].min(), cells[:, 2].max(), cells[:, 3].max())
        v = MapSettings(b, 300, 200, crs_epsg=SHAPES_EPSG).zoomed(2.5).panned(-41.3, 23.9)
        part = lz.for_view(v, labels=False)
        assert part.lod_tolerance is None and 0 < part.n < len(sh["id"]) / 2 and part.exact_whole is lz.exact_layer()
        got = _rendered(v, [lz])
        assert (got[..., 3] > 0).mean() > 0.3
        assert np.array_equal(got, _frame_drawn(monkeypatch, v, [lz]))
        assert "_fill_tiles" in lz.exact_layer().__dict__ and "_fill_tiles" not in part.__dict__
    finally:
        project.close()
