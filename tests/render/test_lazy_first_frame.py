"""The first frame of a large point layer: the stamp asked before (taken once, and before the read, so the
arrays' cache stays valid), and the approximate R-tree positions replaced by the exact ones on reading."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest

from tests.render.conftest import MAP_EPSG, points_project


@pytest.fixture(scope="module")
def first_project(tmp_path_factory):
    yield from points_project(tmp_path_factory, "first_frame", 11)


def test_stamp_asked_before_is_taken_once_and_a_failed_one_asked_again(first_project, tmp_path, monkeypatch):
    import riskmap.store.viewport as viewport
    from riskmap.layers import load_catalogue
    from riskmap.render.lazy import LazyPrepared

    project, data = first_project
    ents = load_catalogue()["enterprises"]
    asked = []
    real = viewport.points_stamp
    monkeypatch.setattr(viewport, "points_stamp", lambda *a: asked.append(1) or real(*a))
    hint = Future()
    hint.set_result(real(project, ents))
    lazy = LazyPrepared(project, ents, MAP_EPSG, len(data["id"]), cache_dir=tmp_path)
    lazy.stamp_hint = hint
    pts = lazy._arrays()
    assert asked == [] and pts["stamp"] == hint.result() and lazy.stamp_hint is None  # taken, not asked again
    assert len(list(tmp_path.glob("points-*.npz"))) == 1  # kept under it
    failed = Future()
    failed.set_exception(OSError("server gone"))
    again = LazyPrepared(project, ents, MAP_EPSG, len(data["id"]), cache_dir=tmp_path)
    again.stamp_hint = failed
    pts2 = again._arrays()
    assert asked == [1] and pts2["stamp"] == pts["stamp"]  # asked now; the same rows: the kept file found
    assert np.array_equal(pts2["x"], pts["x"], equal_nan=True)


def test_quick_points_are_approximate_and_an_empty_cache_only(first_project, tmp_path):
    from riskmap.layers import load_catalogue
    from riskmap.render.lazy import LazyPrepared

    project, data = first_project
    ents = load_catalogue()["enterprises"]
    quick = LazyPrepared(project, ents, MAP_EPSG, len(data["id"]), cache_dir=tmp_path)
    assert quick.load_quick() and quick.approximate
    assert not list(tmp_path.glob("*.npz"))  # nothing approximate kept
    exact = LazyPrepared(project, ents, MAP_EPSG, len(data["id"]), cache_dir=tmp_path)
    exact.load()
    assert not exact.approximate and len(list(tmp_path.glob("points-*.npz"))) == 1
    assert quick.counts() == exact.counts() and sum(quick.counts().values()) == len(data["id"])  # counts exact
    levels = [None if v is None else int(v) for v in data["level"]]
    assert quick.counts()[1] == levels.count(1) == 1 and quick.counts()[4] == levels.count(4)
    q, e = quick._arrays(), exact._arrays()
    assert np.array_equal(q["id"], e["id"]) and np.array_equal(q["cls"], e["cls"])
    d = np.hypot(q["x"] - e["x"], q["y"] - e["y"])
    assert 0 < np.nanmax(d) < 1.0  # metres: within a float32 step of the R-tree
    later = LazyPrepared(project, ents, MAP_EPSG, len(data["id"]), cache_dir=tmp_path)
    assert not later.load_quick() and not later.approximate  # the exact arrays are in the cache: read those
    quick.drop()
    assert not quick.approximate
