"""riskmap.store.viewport.read_points_cached with ``epsg``: the compact point arrays kept in the map's CRS
(projecting a city's million points took longer than reading them from the cache). The kept coordinates equal
GDAL's reading of the file projected by pyproj; an unlocated enterprise stays NaN; an edit reads again."""

from __future__ import annotations

import numpy as np
import pytest

from riskmap.layers import load_catalogue


@pytest.fixture
def project(tmp_path):
    from riskmap.model import Enterprise
    from riskmap.store import Project
    from tests.store.test_viewport import make_points_project

    path = tmp_path / "p.gpkg"
    data = make_points_project(path, n=500, seed=3, edge=False)
    project = Project.open(path)

    with project.session(history=False) as s:  # an enterprise without coordinates (未定位)
        s.add(Enterprise(name="无坐标企业", industry="commerce", level=2, geom=None))
    yield project, len(data["id"])  # the project, its located enterprises (the unlocated one is the last id)
    project.close()


def _gdal_xy(path, epsg):
    import pyogrio
    from pyproj import Transformer

    df = pyogrio.read_dataframe(path, layer="enterprises", columns=[], fid_as_index=True).sort_index()
    ids = df.index.to_numpy()
    geom = df.geometry.array
    x = np.array([g.x if g is not None and not g.is_empty else np.nan for g in geom])
    y = np.array([g.y if g is not None and not g.is_empty else np.nan for g in geom])
    t = Transformer.from_crs(4490, epsg, always_xy=True)
    ok = np.isfinite(x)
    mx, my = np.full(len(x), np.nan), np.full(len(y), np.nan)
    mx[ok], my[ok] = t.transform(x[ok], y[ok])
    return ids, mx, my


def test_points_kept_in_the_map_crs_equal_gdal_projected(project, tmp_path, monkeypatch):
    project, n_located = project
    import riskmap.store.viewport as viewport
    from riskmap.model import Enterprise

    ents = load_catalogue()["enterprises"]
    cache = tmp_path / "cache"
    got = viewport.read_points_cached(project, ents, cache, epsg=4544)
    ids, mx, my = _gdal_xy(project.target, 4544)
    assert got["id"].tolist() == ids.tolist() and len(ids) == n_located + 1
    assert np.allclose(got["x"], mx, atol=1e-6, equal_nan=True) and np.allclose(got["y"], my, atol=1e-6, equal_nan=True)
    assert np.isnan(got["x"][-1]) and np.isnan(got["y"][-1])  # the unlocated one
    assert 400_000 < np.nanmin(got["x"]) and np.nanmax(got["y"]) > 3_900_000  # metres, not degrees
    # the 4490 cache is another file; both kept
    plain = viewport.read_points_cached(project, ents, cache)
    assert np.nanmax(plain["x"]) < 106 and len(list(cache.glob("points-*.npz"))) == 2

    def no_read(*a, **k):
        raise AssertionError("read from the project although unchanged")

    with monkeypatch.context() as m:
        m.setattr(viewport, "read_points", no_read)
        again = viewport.read_points_cached(project, ents, cache, epsg=4544)
    assert all(np.array_equal(got[k], again[k], equal_nan=True) for k in got)
    for f in cache.glob("points-*.npz"):  # damaged (cut short): read from the project again, not an error
        f.write_bytes(f.read_bytes()[:64])
    cut = viewport.read_points_cached(project, ents, cache, epsg=4544)
    assert all(np.array_equal(got[k], cut[k], equal_nan=True) for k in got)
    with project.session(history=False) as s:  # a move: read and projected again
        import shapely

        s.get(Enterprise, 7).geom = shapely.Point(105.1, 35.6)
    after = viewport.read_points_cached(project, ents, cache, epsg=4544)
    ids, mx, my = _gdal_xy(project.target, 4544)
    k = int(np.flatnonzero(after["id"] == 7)[0])
    assert np.allclose([after["x"][k], after["y"][k]], [mx[k], my[k]], atol=1e-6)
    assert abs(after["x"][k] - got["x"][k]) > 1.0


def test_lazy_points_from_the_kept_map_crs_arrays(project, tmp_path, monkeypatch):
    project, n_located = project
    import riskmap.crs as crs
    from riskmap.render.lazy import LazyPrepared

    ents = load_catalogue()["enterprises"]
    cache = tmp_path / "cache"
    LazyPrepared(project, ents, 4544, n_located + 1, cache_dir=cache).load()  # reads and keeps
    calls = []
    real = crs.transformer
    monkeypatch.setattr(crs, "transformer", lambda *a: calls.append(a) or real(*a))
    lz = LazyPrepared(project, ents, 4544, n_located + 1, cache_dir=cache)
    pts = lz._arrays()
    assert (4490, 4544) not in calls  # a new session projects nothing
    ids, mx, my = _gdal_xy(project.target, 4544)
    assert pts["id"].tolist() == ids.tolist()
    assert np.allclose(pts["x"], mx, atol=1e-6, equal_nan=True) and np.allclose(pts["y"], my, atol=1e-6, equal_nan=True)
    assert pts["located"].sum() == n_located and not pts["located"][-1]
