"""riskmap.render.lazy.BinIndex: a view's rows found through a fixed grid of bins are exactly those a pass over
every row finds (points and boxes on the bins' and the view's edges, wide boxes, rows without a place), in
ascending order; a lazy layer's views through it are the views without it, pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, render_image
from tests.render.conftest import points_project


def _points_pass(x, y, extent, margin):
    xmin, ymin, xmax, ymax = extent
    with np.errstate(invalid="ignore"):
        return np.flatnonzero((x >= xmin - margin) & (x <= xmax + margin) & (y >= ymin - margin)
                              & (y <= ymax + margin))


def _boxes_pass(b, extent, margin):
    xmin, ymin, xmax, ymax = extent
    with np.errstate(invalid="ignore"):
        return np.flatnonzero((b[:, 2] >= xmin - margin) & (b[:, 0] <= xmax + margin)
                              & (b[:, 3] >= ymin - margin) & (b[:, 1] <= ymax + margin))


def _views(rng, n=300):
    """Views on the bins' edges (multiples of 16 on a 0..1024 grid of 64 bins), on whole numbers and anywhere,
    some with a margin."""
    out = []
    for k in range(n):
        w, h = rng.choice([0, 16, 32, 48, 100, 3.5]), rng.choice([0, 16, 64, 7.25])
        if k % 3 == 0:
            x0, y0 = 16.0 * rng.integers(-2, 66), 16.0 * rng.integers(-2, 66)
        elif k % 3 == 1:
            x0, y0 = float(rng.integers(-20, 1040)), float(rng.integers(-20, 1040))
        else:
            x0, y0 = rng.uniform(-20, 1040), rng.uniform(-20, 1040)
        margin = [0.0, 0.0, 1.0, 16.0, 0.3][k % 5]
        out.append(((x0, y0, x0 + w, y0 + h), margin))
    return out


def test_points_through_the_bins_are_a_pass_over_every_point():
    from riskmap.render.lazy import BinIndex

    rng = np.random.default_rng(3)
    n = 60_000
    x = rng.integers(0, 1025, n).astype(float)  # whole numbers: a quarter of them on a column of bin edges
    y = rng.integers(0, 1025, n).astype(float)
    x[:3000] = rng.uniform(0, 1024, 3000)
    x[5:9] = [0.0, 1024.0, 0.0, 1024.0]  # the grid spans exactly 0..1024: 64 bins of 16
    y[5:9] = [0.0, 1024.0, 1024.0, 0.0]
    x[100:200] = np.nan  # not located: never in view
    y[150:250] = np.nan
    idx = BinIndex(x, y, bins=64)
    assert (idx.gx0, idx.gy0, idx.cw, idx.ch) == (0.0, 0.0, 16.0, 16.0)
    used = 0
    for extent, margin in _views(rng):
        rows = idx.rows(extent, margin)
        want = _points_pass(x, y, extent, margin)
        if rows is None:  # a large view: the caller passes over every point
            assert len(want) > 0.2 * n
            continue
        used += 1
        assert rows.dtype == np.int64
        assert rows.tolist() == want.tolist(), (extent, margin)
    assert used > 250


def test_boxes_through_the_bins_are_a_pass_over_every_box():
    from riskmap.render.lazy import INDEX_WIDE_BINS, BinIndex

    rng = np.random.default_rng(5)
    n = 40_000
    x0 = rng.integers(0, 1000, n).astype(float)
    y0 = rng.integers(0, 1000, n).astype(float)
    w = rng.choice([0.0, 1.0, 16.0, 31.5, 16.0 * INDEX_WIDE_BINS, 16.0 * INDEX_WIDE_BINS + 1], n)
    h = rng.choice([0.0, 2.0, 16.0, 16.0 * INDEX_WIDE_BINS], n)
    w[:40] = 900.0  # wide boxes (a long lifeline): kept apart, tested in every view
    h[40:80] = 700.0
    b = np.column_stack([x0, y0, x0 + w, y0 + h])
    b[1000:1050] = np.nan  # an empty geometry's bounds
    b[:2] = [[0, 0, 1, 1], [1023, 1023, 1024, 1024]]  # lower-left corners span 0..1023
    idx = BinIndex(b[:, 0], b[:, 1], b[:, 2], b[:, 3], bins=64)
    assert len(idx.wide) >= 80 and not np.isin(np.arange(1000, 1050), idx.perm).any()
    used = 0
    for extent, margin in _views(rng):
        rows = idx.rows(extent, margin)
        want = _boxes_pass(b, extent, margin)
        if rows is None:
            continue
        used += 1
        assert rows.tolist() == want.tolist(), (extent, margin)
    assert used > 250
    # a box whose upper-right corner touches the view's lower-left corner, its own corner INDEX_WIDE_BINS bins away
    reach = 16.0 * INDEX_WIDE_BINS
    b2 = np.vstack([b, [[500 - reach, 500 - reach, 500, 500]]])
    idx2 = BinIndex(b2[:, 0], b2[:, 1], b2[:, 2], b2[:, 3], bins=64)
    assert len(b2) - 1 in idx2.rows((500, 500, 510, 510)).tolist()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    yield from points_project(tmp_path_factory, "binned", 11)


def test_a_lazy_layers_views_through_its_index_are_the_views_without(app, project, monkeypatch):
    import riskmap.render.lazy as lazy
    from riskmap.crs import transformer

    proj, data = project
    monkeypatch.setattr(lazy, "INDEX_MIN_ROWS", 100)
    monkeypatch.setattr(lazy, "INDEX_MAX_SHARE", 0.6)  # 3000 points: a view's bins and their neighbours
    indexed = lazy.LazyPrepared(proj, load_catalogue()["enterprises"], 4544, len(data["id"]))
    indexed.load()
    assert indexed.needs_index() and indexed._points.get("index") is None  # views never build it
    idx = indexed.build_index()
    assert idx is not None and idx.n == len(data["id"]) and not indexed.needs_index()
    monkeypatch.setattr(lazy, "INDEX_MIN_ROWS", 10 ** 9)
    plain = lazy.LazyPrepared(proj, load_catalogue()["enterprises"], 4544, len(data["id"]))
    plain.load()
    assert not plain.needs_index() and plain.build_index() is None
    x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
    full = MapSettings((x.min(), y.min(), x.max(), y.max()), 400, 300, crs_epsg=4544)
    rng = np.random.default_rng(2)
    drawn = 0
    for k in range(6):
        view = full.zoomed(8.0, (rng.uniform(80, 320), rng.uniform(60, 240)))
        margin = indexed._margin(view)
        rows = idx.rows(view.extent, margin)
        assert rows is not None  # the view went through the bins
        assert rows.tolist() == _points_pass(x, y, view.extent, margin).tolist()
        assert indexed.visible_rows(view.extent, margin).tolist() == rows.tolist()
        assert np.flatnonzero(indexed.visible_mask(view.extent, margin)).tolist() == rows.tolist()
        a, b = indexed.for_view(view), plain.for_view(view)
        assert a.ids.tolist() == b.ids.tolist() == data["id"][rows].tolist()  # the same points, in data order
        drawn += a.n
        one, two = render_image(view, [indexed], labels=False), render_image(view, [plain], labels=False)
        assert one == two
    assert drawn > 100
    # a copy as of another date passes over its rows (no index built per date)
    old = indexed.with_levels(np.ones(len(data["id"]), dtype=bool), np.full(len(data["id"]), 2))
    assert not old.needs_index() and old.build_index() is None
