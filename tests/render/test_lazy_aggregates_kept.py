"""riskmap.render.lazy: when most of a large point layer is in view, the whole layer is aggregated on the
map-fixed grid and kept per cell size, so a pan at that scale takes the same cells without binning again. Each
cell's count and colour are those of all its points (computed by hand here); an edit, another date's levels and
a view holding few of the points never take kept cells."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings


@pytest.fixture
def setup(tmp_path, monkeypatch):
    import riskmap.render.lazy as lazy
    import riskmap.store.viewport as viewport
    from riskmap.crs import transformer
    from riskmap.store import Project
    from tests.store.test_viewport import make_points_project

    monkeypatch.setattr(lazy, "POINT_BUDGET", 1000)
    data = make_points_project(tmp_path / "p.gpkg", n=3000, seed=5, edge=False)
    project = Project.open(tmp_path / "p.gpkg")
    calls = []
    real = viewport.bin_points
    monkeypatch.setattr(viewport, "bin_points", lambda *a, **k: calls.append(len(a[0])) or real(*a, **k))
    x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
    lz = lazy.LazyPrepared(project, load_catalogue()["enterprises"], 4544, len(data["id"]))
    full = MapSettings((x.min(), y.min(), x.max(), y.max()), 800, 600, crs_epsg=4544).zoomed(0.9)
    yield lz, full, x, y, data, calls
    project.close()


def _hand_cells(x, y, levels, cell):
    """{(i, j): (count, best level)} of every point in the map-fixed cells of side ``cell``."""
    out = {}
    for xi, yi, lv in zip(x, y, levels):
        k = (math.floor(xi / cell), math.floor(yi / cell))
        n, best = out.get(k, (0, 9))
        out[k] = (n + 1, min(best, lv if lv is not None else 5))
    return out


def test_a_pan_takes_the_kept_cells_and_each_cell_counts_all_its_points(setup):
    lz, full, x, y, data, calls = setup
    agg = lz.for_view(full)
    assert agg.aggregated and calls == [len(data["id"])]  # the whole layer binned once
    panned = full.panned(23, -17)
    assert lz.for_view(panned) is agg and calls == [len(data["id"])]  # the same cells: not binned again
    # every cell: its count and colour are those of all its points, by hand
    cell = 3.2 * full.px_per_mm() * full.resolution
    hand = _hand_cells(x, y, data["level"], cell)
    got_count = agg.counts_drawn
    keys = [agg.classes[c].key for c in agg.cls]
    assert sum(got_count) == len(data["id"]) and len(got_count) == len(hand)
    ij = [(math.floor(px / cell), math.floor(py / cell)) for px, py in agg.coords]  # a cell's mean lies in it
    for k, n, key in zip(ij, got_count, keys):
        want_n, best = hand[k]
        assert n == want_n and (key if key is not None else 5) == best
    red = int(np.flatnonzero(data["level"] == 1)[0])
    red_cell = (math.floor(x[red] / cell), math.floor(y[red] / cell))
    assert keys[ij.index(red_cell)] == 1 and hand[red_cell][0] > 100  # one red among the blue: the cell is red


def test_edits_other_dates_and_part_views_do_not_take_kept_cells(setup):
    lz, full, x, y, data, calls = setup
    agg = lz.for_view(full)
    # another date's levels: its own cells (two reds now)
    exists = np.ones(len(data["id"]), dtype=bool)
    levels = np.where(data["level"] == None, np.nan, data["level"]).astype(float)  # noqa: E711
    levels[10] = 1.0
    past = lz.with_levels(exists, levels)
    old = past.for_view(full.panned(3, 3))
    assert old is not agg and sum(1 for c in old.cls if old.classes[c].key == 1) == 2
    assert sum(1 for c in lz.for_view(full).cls if agg.classes[c].key == 1) == 1  # today's cells unchanged
    # a view holding under half the points but over the budget: its own points binned, not kept
    n = len(calls)
    red = int(np.flatnonzero(data["level"] == 1)[0])
    part = full.zoomed(5.0, about=tuple(full.map_to_pixel(np.array([[x[red], y[red]]]))[0]))  # the blue cluster
    inside = part.contains_xy(x, y, margin=lz._margin(part))
    assert 1000 < inside.sum() < len(x) / 2
    p = lz.for_view(part)
    assert calls[n:] == [int(inside.sum())] and p is not agg and sum(p.counts_drawn) == int(inside.sum())
    # an edit (drop): binned again
    lz.drop()
    again = lz.for_view(full)
    assert again is not agg and calls[-1] == len(data["id"])


def test_the_whole_layers_cells_kept_between_sessions(setup, tmp_path):
    import riskmap.render.lazy as lazy
    from riskmap.model import Enterprise

    lz, full, x, y, data, calls = setup
    cache = tmp_path / "cache"
    first = lazy.LazyPrepared(lz.project, lz.layer_def, 4544, len(data["id"]), cache_dir=cache)
    a = first.for_view(full)
    assert len(calls) == 1 and len(list(cache.glob("derived-*.npz"))) == 1
    second = lazy.LazyPrepared(lz.project, lz.layer_def, 4544, len(data["id"]), cache_dir=cache)
    b = second.for_view(full.panned(5, 5))
    assert len(calls) == 1  # the next session: the cells from disk, not binned
    assert np.array_equal(a.coords, b.coords) and np.array_equal(a.cls, b.cls)
    assert np.array_equal(a.counts_drawn, b.counts_drawn) and list(a.label_text) == list(b.label_text)
    # an edit: the red enterprise turns blue; a new session bins afresh and no cell is red any more
    red = int(data["id"][np.flatnonzero(data["level"] == 1)[0]])
    with lz.project.session(history=False) as s:
        s.get(Enterprise, red).level = 4
    third = lazy.LazyPrepared(lz.project, lz.layer_def, 4544, len(data["id"]), cache_dir=cache)
    c = third.for_view(full)
    assert len(calls) == 2 and not any(c.classes[k].key == 1 for k in c.cls)
    # another date's levels are never kept (nor taken from disk)
    past = third.with_levels(np.ones(len(data["id"]), dtype=bool), np.full(len(data["id"]), 1.0))
    d = past.for_view(full)
    assert len(calls) == 3 and all(d.classes[k].key == 1 for k in d.cls)
    assert len(list(cache.glob("derived-*.npz"))) == 1


def test_kept_cells_of_many_scales_stay_few(setup, tmp_path):
    import riskmap.render.lazy as lazy
    import riskmap.store.viewport as viewport

    lz, full, x, y, data, calls = setup
    cache = tmp_path / "cache"
    views = [full.zoomed(0.9 ** k) for k in range(7)]  # seven scales, each its own cell size
    for v in views:
        lazy.LazyPrepared(lz.project, lz.layer_def, 4544, len(data["id"]), cache_dir=cache).for_view(v)
    assert len(calls) == 7 and len(list(cache.glob("derived-*.npz"))) == viewport.KEPT_PER_FAMILY
    n = len(calls)
    lazy.LazyPrepared(lz.project, lz.layer_def, 4544, len(data["id"]), cache_dir=cache).for_view(views[-1])
    assert len(calls) == n  # the last scale's cells are among those kept
    lazy.LazyPrepared(lz.project, lz.layer_def, 4544, len(data["id"]), cache_dir=cache).for_view(views[0])
    assert len(calls) == n + 1  # the first one's were dropped
