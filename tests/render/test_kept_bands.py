"""The whole layer's decimated band of a large line layer kept in the user's cache between sessions
(riskmap.render.lazy.LazyPrepared._kept_band over riskmap.store.viewport.kept_arrays): a new session takes it
from disk (no decimation) with the painter's vertex normals, equal to what it decimates itself; an edit of the
project, a band derived from rows read before an edit, a damaged file and a filtered layer are never served from
disk. Thresholds lowered so the data stay small (tests/render/test_lazy_shapes.py's project)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings
from tests.render.test_lazy_shapes import EPSG, make_shapes_project


@pytest.fixture
def setup(tmp_path, monkeypatch):
    import riskmap.render.lazy as lazy
    from riskmap.store import Project

    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    path = tmp_path / "shapes.gpkg"
    make_shapes_project(path)
    project = Project.open(path)
    calls = []
    real = lazy.decimate
    monkeypatch.setattr(lazy, "decimate", lambda *a, **k: calls.append(1) or real(*a, **k))
    yield project, tmp_path / "cache", calls
    project.close()


def _session(project, cache, where=None):
    from riskmap.render.lazy import LazyPrepared

    return LazyPrepared(project, load_catalogue()["lifelines"], EPSG, 11, cache_dir=cache, where=where)


def _full(lz):
    return MapSettings(lz.total_bounds(), 300, 200, crs_epsg=EPSG)  # about 100 m a pixel: the band


def test_a_new_session_takes_the_band_and_normals_from_disk(setup):
    from riskmap.render.prepared import _vertex_normals

    project, cache, calls = setup
    lz = _session(project, cache)
    first = lz.for_view(_full(lz), labels=False)
    # decimated twice: the level-of-detail decision's sample (all of this small layer) and the band; both kept
    assert calls == [1, 1] and len(list(cache.glob("derived-*.npz"))) == 2
    sh = lz._shape_data()
    tol = 2.0 ** np.floor(np.log2(_full(lz).resolution))
    calls.clear()
    again = _session(project, cache)
    band = again.for_view(_full(again), labels=False)
    assert calls == []  # not decimated: the decision and the band read from the user's cache
    assert np.array_equal(band.coords, first.coords) and np.array_equal(band.offsets, first.offsets)
    assert len(band.coords) < len(sh["coords"]) / 5
    # the kept normals are those of the band's own vertices, computed here by hand
    assert np.allclose(band.normals(), _vertex_normals(band.coords, band.offsets, closed=False))
    # and every part is within the tolerance of the file's line (shapely's Hausdorff distance)
    for p in range(len(band.offsets) - 1):
        src_p = p  # every part kept, in the same order
        mine = shapely.LineString(band.coords[band.offsets[p]:band.offsets[p + 1]])
        exact = shapely.LineString(sh["coords"][sh["offsets"][src_p]:sh["offsets"][src_p + 1]])
        assert shapely.hausdorff_distance(mine, exact) <= tol + 1e-6


def test_edits_damaged_files_and_filters_are_not_served_from_disk(setup):
    from riskmap.model import LifelineSegment

    project, cache, calls = setup
    lz = _session(project, cache)
    lz.for_view(_full(lz), labels=False)
    # a session that read its arrays before an edit, decimating after it: its band is kept under the old stamp
    stale = _session(project, cache)
    stale._shape_data()
    moved = shapely.LineString(np.column_stack([np.linspace(105.0, 105.2, 600), np.full(600, 35.75)]))
    with project.session(history=False) as s:
        s.get(LifelineSegment, 1).geom = shapely.MultiLineString([moved])
    view = _full(stale)
    stale.for_view(view, labels=False)
    calls.clear()
    fresh = _session(project, cache)
    band = fresh.for_view(view, labels=False)
    assert calls == [1, 1]  # decided and decimated afresh: neither the first band nor the stale session's is taken
    from riskmap.crs import reproject_coords

    exact = shapely.LineString(reproject_coords(shapely.get_coordinates(moved), 4490, EPSG))
    first = shapely.LineString(band.coords[band.offsets[0]:band.offsets[1]])
    tol = 2.0 ** np.floor(np.log2(view.resolution))
    assert shapely.hausdorff_distance(first, exact) <= tol + 1e-6  # the moved line, where it now is
    # a damaged file: truncated, so computed again (and the result the same)
    files = list(cache.glob("derived-*.npz"))
    for f in files:
        f.write_bytes(f.read_bytes()[:100])
    calls.clear()
    again = _session(project, cache)
    band2 = again.for_view(view, labels=False)
    assert calls == [1, 1] and np.array_equal(band2.coords, band.coords)
    # a filtered layer (a where) keeps nothing on disk
    n_files = len(list(cache.glob("derived-*.npz")))
    calls.clear()
    filtered = _session(project, cache, where=("category = :c", {"c": "gas"}))
    filtered.for_view(_full(filtered), labels=False)
    assert len(list(cache.glob("derived-*.npz"))) == n_files


def test_a_kept_view_follows_the_layers_place_in_the_drawing_order(setup, app):
    """A view resolved before the layer moved in the drawing order (the loader thread builds the first one before
    the workspace numbers the layers) is drawn at the layer's new place, not its old one."""
    import riskmap.render.painter as painter
    from riskmap.render import PreparedLayer, render_image
    from tests.render.test_whole_layer_images import _lines

    project, cache, calls = setup
    lz = _session(project, cache)
    view = _full(lz)
    first = lz.for_view(view, labels=False)
    assert first.z == lz.z == load_catalogue()["lifelines"].z
    towns = _lines(5)
    towns = towns.set_geometry(towns.geometry.buffer(200.0))  # polygons
    other = PreparedLayer.from_gdf(load_catalogue()["towns"], towns, EPSG, projected=True)
    other.z = 5
    lz.z = 9  # Workspace.sync_z: lifelines above the towns
    assert lz.for_view(view, labels=False) is first and first.z == 9
    stats = []
    painter.clear_layer_images()
    render_image(view, [lz, other], labels=False, stats=stats)
    assert list(stats[0].layer_seconds) == ["towns", "lifelines"]
    lz.z = 2  # moved below the towns
    stats.clear()
    render_image(view, [lz, other], labels=False, stats=stats)
    assert list(stats[0].layer_seconds) == ["lifelines", "towns"]
