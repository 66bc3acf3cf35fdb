"""Map-space tile paths of a large line or polygon layer built ahead (painter ``tile_paths_ahead``, run by the
canvas in idle time): the same paths a view builds on first touching a tile, the tiles nearest the centre first,
up to a budget of vertices, stopped by a cancel; the views then build none and draw the same pixels. A polygon
layer's bands share the paths of the tiles whose every feature they keep (``_every_fill_tiles``), which are the
ones built ahead."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QDataStream, QIODevice

import riskmap.render.lazy as lazy
import riskmap.render.painter as painter_module
from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer
from tests.render.test_lod_hairlines import _cells
from tests.render.test_tiled_hairlines import EPSG, _fresh, _lines, _rendered, _views


def _bytes(paths) -> list[bytes]:
    """Each path serialised (its elements and fill rule), to compare paths built apart."""
    out = []
    for path in paths:
        data = QByteArray()
        stream = QDataStream(data, QIODevice.OpenModeFlag.WriteOnly)
        stream << path
        out.append(bytes(data.data()))
    return out


@pytest.fixture
def small_tiles(app, monkeypatch):
    monkeypatch.setattr(painter_module, "LAYER_IMAGE_VERTICES", 1000)
    monkeypatch.setattr(painter_module, "TILE_VERTICES", 400)
    monkeypatch.setattr(lazy, "LOD_VERTICES", 10 ** 9)
    monkeypatch.setattr(painter_module, "_image_key", lambda *a: None)  # drawn straight into the frame


def _line_layer():
    return PreparedLayer.from_gdf(load_catalogue()["lifelines"], _lines(), EPSG, projected=True)


def test_line_paths_built_ahead_equal_those_built_on_first_touch_and_views_build_none(small_tiles):
    ahead, touched = _line_layer(), _line_layer()  # the same data, tiles of their own
    steps = sum(1 for _ in painter_module.tile_paths_ahead(ahead, (30_000.0, 20_000.0)))
    _, tiles = painter_module._line_tiles(ahead)
    _, other = painter_module._line_tiles(touched)
    assert steps == sum(len(t.box) for t in tiles.values()) > 20  # one step a tile, every tile
    assert all(p is not None for t in tiles.values() for p in t.paths)
    for c, t in tiles.items():
        o = other[c]
        assert np.array_equal(t.members, o.members) and np.array_equal(t.starts, o.starts)
        for k in range(len(t.box)):
            first = o.paths_of(np.array([k]), lambda: False)  # built on first touch, as a view builds it
            assert _bytes(t.paths[k]) == _bytes(first) and sum(p.elementCount() for p in first) > 0
    assert list(painter_module.tile_paths_ahead(ahead)) == []  # nothing left to build
    kept = {(c, k): id(p) for c, t in tiles.items() for k, p in enumerate(t.paths)}
    built = []
    for c, t in tiles.items():
        t.build = lambda parts, cancelled, real=t.build: built.append(len(parts)) or real(parts, cancelled)
    cls = ahead.cls[ahead.part_feature]
    for v in _views(ahead):
        got = _rendered(v, [ahead])
        assert (got[..., 3] > 0).sum() > 300
        assert np.array_equal(got, _fresh(v, ahead.coords, ahead.offsets, cls, ahead))
        assert np.array_equal(got, _rendered(v, [touched]))
    assert built == [] and {(c, k): id(p) for c, t in tiles.items() for k, p in enumerate(t.paths)} == kept


def _tile_distances(tiles, centre, aspect):
    dist, built, vertices = [], [], []
    for t in tiles.values():
        b = t.box
        dx = np.maximum(np.maximum(b[:, 0] - centre[0], centre[0] - b[:, 2]), 0.0)  # 0 when the box holds it
        dy = np.maximum(np.maximum(b[:, 1] - centre[1], centre[1] - b[:, 3]), 0.0)
        dist.extend(np.maximum(dx / aspect, dy).tolist())
        built.extend(p is not None for p in t.paths)
        vertices.extend(sum(p.elementCount() for p in ps) if ps is not None else 0 for ps in t.paths)
    return np.array(dist), np.array(built), np.array(vertices)


def test_ahead_builds_the_nearest_tiles_first_and_stops_when_cancelled(small_tiles):
    prep = _line_layer()
    centre = (41_000.0, 9_000.0)
    stop = []
    steps = painter_module.tile_paths_ahead(prep, centre, lambda: bool(stop), aspect=1.5)
    for _ in range(10):
        next(steps)
    _, tiles = painter_module._line_tiles(prep)
    dist, built, _ = _tile_distances(tiles, centre, 1.5)
    assert built.sum() == 10 and dist[built].max() <= np.sort(dist)[9]  # the ten nearest tiles (a 3:2 box)
    stop.append(True)
    assert list(steps) == []  # cancelled: no further step, nothing more built
    assert sum(p is not None for t in tiles.values() for p in t.paths) == 10
    t = next(t for t in tiles.values() if len(t.unbuilt()))
    k = int(t.unbuilt()[0])
    assert t.build_tile(k, lambda: True) is None and t.paths[k] is None  # a tile's build cancelled: none kept


@pytest.mark.parametrize("outline", [True, False])
def test_fill_tiles_built_ahead_are_shared_by_every_band_that_keeps_their_features(small_tiles, monkeypatch,
                                                                                outline):
    prep = _cells(outline=outline)
    chunk = painter_module.MAP_FILL_CHUNK_RINGS if outline else painter_module.AA_FILL_CHUNK_RINGS
    assert sum(1 for _ in painter_module.tile_paths_ahead(prep)) > 4
    _, every = painter_module._every_fill_tiles(prep, chunk)
    assert all(p is not None for t in every.values() for p in t.paths)
    sizes = painter_module._feature_sizes(prep)
    assert sizes.min() >= 2 * 16.0
    _, band16 = painter_module._fill_tiles(prep, 16.0, chunk)
    assert all(band16[c] is every[c] for c in every)  # every cell kept at 16 m: the same tiles
    _, band64 = painter_module._fill_tiles(prep, 64.0, chunk)  # cells under 128 m left out at 64 m
    origin = np.array(painter_module._fill_layout(prep)[0])
    shared = own = 0
    for c, t in band64.items():
        e = every[c]
        for k in range(len(t.box)):
            feats = t.members[t.starts[k]:t.starts[k + 1]]
            paths = t.paths_of(np.array([k]), lambda: False)
            if (sizes[feats] >= 128.0).all():
                assert len(paths) == len(e.paths[k]) and all(a is b for a, b in zip(paths, e.paths[k]))
                shared += 1
            else:
                assert not any(a is b for a in paths for b in e.paths[k])
                want = painter_module._class_fill_paths(prep, feats[sizes[feats] >= 128.0], lambda xy: xy - origin,
                                                        chunk)
                assert _bytes(paths) == _bytes([p for _, ps in want for p in ps])
                own += 1
    assert shared > 0 and own > 0
    # views at exact scales draw what the frame's own paths draw, from the tiles built ahead
    full = MapSettings(prep.total_bounds(), 400, 260, crs_epsg=EPSG)
    for v in (full.zoomed(5), full.zoomed(9).panned(130.1, -70.9)):
        got = _rendered(v, [prep])
        with monkeypatch.context() as m:
            m.setattr(painter_module, "_draws_map_fills", lambda *a: False)
            want = _rendered(v, [prep])
        assert (got[..., 3] > 0).mean() > 0.1 and np.array_equal(got, want)


def test_ahead_stops_when_the_built_tiles_hold_the_budget(small_tiles):
    prep = _line_layer()
    total = len(prep.coords)
    centre = (20_000.0, 25_000.0)
    budget = total // 3
    for _ in painter_module.tile_paths_ahead(prep, centre, budget=budget):
        pass
    _, tiles = painter_module._line_tiles(prep)
    dist, built, vertices = _tile_distances(tiles, centre, 1.0)
    kept = int(vertices.sum())
    last = int(vertices[built][np.argmax(dist[built])])  # the farthest tile built went over the budget
    assert kept - last < budget <= kept < total  # stopped at the first tile that reached it
    assert dist[built].max() <= dist[~built].min()  # the nearest ones
    assert list(painter_module.tile_paths_ahead(prep, centre, budget=budget)) == []  # the kept ones count
    assert len(list(painter_module.tile_paths_ahead(prep, centre, budget=kept + 1))) >= 1
