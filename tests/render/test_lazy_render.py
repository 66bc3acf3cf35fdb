"""riskmap.render.lazy: a lazy layer's views (aggregates keep the highest level, exact points below the budget,
exact counts), and large line layers drawn simplified at small scales."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, PreparedLayer, render_image


@pytest.fixture(scope="module")
def lazy_project(tmp_path_factory):
    from riskmap.store import Project
    from tests.store.test_viewport import make_points_project

    path = tmp_path_factory.mktemp("lazy") / "p.gpkg"
    data = make_points_project(path, n=3000, seed=5, edge=False)
    project = Project.open(path)
    yield project, data
    project.close()


def test_lazy_views_aggregate_above_the_budget_and_keep_red(app, lazy_project, monkeypatch):
    import riskmap.render.lazy as lazy
    from riskmap.crs import transformer

    project, data = lazy_project
    monkeypatch.setattr(lazy, "POINT_BUDGET", 1000)
    lz = lazy.LazyPrepared(project, load_catalogue()["enterprises"], 4544, len(data["id"]))
    # exact counts of every row, by hand
    want = {1: 0, 2: 0, 3: 0, 4: 0, None: 0}
    for v in data["level"]:
        want[v] += 1
    assert lz.counts() == want
    x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
    full = MapSettings((x.min(), y.min(), x.max(), y.max()), 800, 600, crs_epsg=4544)
    agg = lz.for_view(full)
    assert agg.aggregated and lz.is_aggregated(full)
    keys = np.array([agg.classes[c].key for c in agg.cls], dtype=object)
    assert (keys == 1).sum() == 1  # the one red enterprise's aggregate is red, no other
    assert sum(int(t) if t else 1 for t in agg.label_text) == len(data["id"])  # counts add up to every point
    assert agg.title() == "企业（已聚合：每个符号为一片区域内最高等级）"
    zoomed = full.zoomed(8)
    exact = lz.for_view(zoomed)
    assert not exact.aggregated
    inside = zoomed.contains_xy(x, y, margin=(2.4 * zoomed.px_per_mm() + 2) * zoomed.resolution)
    assert sorted(exact.ids.tolist()) == sorted(data["id"][inside].tolist())
    assert np.allclose(np.sort(exact.coords[:, 0]), np.sort(x[inside]))
    img = render_image(full, [lz])  # the renderer resolves the lazy layer itself
    assert not img.isNull()


def test_large_lines_drawn_simplified_at_small_scales(monkeypatch):
    import riskmap.render.lazy as lazy
    import geopandas as gpd

    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    t = np.linspace(0, 60, 3000)
    wiggly = [shapely.LineString(np.column_stack([1000 * t + k * 50, 2000 + 3 * np.sin(40 * t) + k * 400]))
              for k in range(3)]
    gdf = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["甲", "乙", "丙"], "category": ["gas", "water", "power"]},
                           geometry=wiggly)
    prep = PreparedLayer.from_gdf(load_catalogue()["lifelines"], gdf, 4544, projected=True)
    small = MapSettings((0, 0, 61_000, 4000), 600, 300, crs_epsg=4544)  # about 100 m a pixel
    drawn = lazy.simplified_for_view(prep, small)
    assert drawn is not prep and len(drawn.coords) < len(prep.coords) / 10
    tol = 2.0 ** np.floor(np.log2(small.resolution))
    for a, b in zip(prep.geoms, drawn.geoms):
        assert shapely.hausdorff_distance(a, b) <= tol + 1e-6  # within a pixel of the real line
    assert drawn.ids.tolist() == [1, 2, 3] and drawn.cls.tolist() == prep.cls.tolist()
    assert lazy.simplified_for_view(prep, small) is drawn  # kept for the next frame of that band
    close = MapSettings((0, 1900, 300, 2100), 600, 300, crs_epsg=4544)  # 0.5 m a pixel: drawn as it is
    assert lazy.simplified_for_view(prep, close) is prep


def test_lazy_layer_as_of_a_date_draws_those_levels(app, lazy_project):
    from riskmap.crs import transformer
    from riskmap.render.lazy import LazyPrepared

    project, data = lazy_project
    lz = LazyPrepared(project, load_catalogue()["enterprises"], 4544, len(data["id"]))
    ids = lz.ids
    red = int(np.flatnonzero(data["level"] == 1)[0])
    exists = np.ones(len(ids), dtype=bool)
    exists[:100] = False  # not yet created on that date
    levels = np.full(len(ids), 4.0)
    levels[red] = 1.0
    levels[200] = 1.0  # a second red on that date
    past = lz.with_levels(exists, levels)
    assert past.counts() == {1: 2, 2: 0, 3: 0, 4: len(ids) - 102, None: 0}
    assert lz.counts()[1] == 1  # the layer itself is unchanged
    x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
    view = MapSettings((x.min(), y.min(), x.max(), y.max()), 800, 600, crs_epsg=4544).zoomed(1.01)
    exact = past.for_view(view)  # 3,000 points: under the default budget, drawn one by one
    assert not exact.aggregated and set(exact.ids.tolist()) == set(ids[100:].tolist())
    keys = np.array([exact.classes[c].key for c in exact.cls], dtype=object)
    assert sorted(exact.ids[keys == 1].tolist()) == sorted([int(ids[red]), int(ids[200])])
