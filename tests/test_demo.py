"""Demo projects: seed counts, determinism, fictitious names, the demo mark."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import shapely

from riskmap.demo import make_demo
from riskmap.places import boundary
from riskmap.store import Project


def test_huining_counts_follow_the_plan(demo_path):
    # 会宁县 plan (003 L22): 危化 174 = 加油站 24 + 氧气站 1 + 烟花爆竹批发 1 + 零售 148; 工贸 23; 非煤矿山 5
    with Project.open(demo_path, readonly=True) as p:
        ents = p.read_table("enterprises")
    n = ents["industry"].value_counts()
    assert (n["gas_station"], n["oxygen_station"], n["fireworks_wholesale"], n["fireworks_retail"]) == (24, 1, 1, 148)
    assert n["gas_station"] + n["oxygen_station"] + n["fireworks_wholesale"] + n["fireworks_retail"] == 174
    trade = n[["dust_explosion", "ammonia_refrigeration", "confined_space", "metallurgy"]].sum()
    assert trade == 23
    assert n["non_coal_mine"] == 5


def test_jiashan_has_9_towns_and_662_grids(tmp_path):
    # 嘉善县 (000 L20–22): 9 镇街, 662 safety grids
    with make_demo(tmp_path / "js.gpkg", place="嘉善县", seed=3) as p:
        zones = p.read_table("zones")
        kinds = zones["kind"].value_counts()
        assert kinds["town"] == 9 and kinds["grid"] == 662 and kinds["county"] == 1
        # grids tile the county: their area sums to the county's (metric CRS)
        from riskmap.crs import to_metric
        county = to_metric(zones[zones.kind == "county"].geometry, p.metric_epsg).area.sum()
        grids = to_metric(zones[zones.kind == "grid"].geometry, p.metric_epsg).area.sum()
        assert grids == pytest.approx(county, rel=1e-3)
        assert p.metric_epsg == 4549


def test_everything_lies_in_the_real_county(demo_path):
    county = boundary("会宁县").buffer(1e-6)
    with Project.open(demo_path, readonly=True) as p:
        for table in ("enterprises", "protected_targets", "emergency_resources", "hidden_dangers"):
            gdf = p.read_table(table)
            assert shapely.contains(county, gdf.geometry.values).all(), table


def test_demo_is_marked_and_names_are_fictitious(demo_path):
    with Project.open(demo_path, readonly=True) as p:
        assert p.is_demo
        assert "示例数据" in p.name
        for table, col in (("enterprises", "name"), ("protected_targets", "name"), ("emergency_resources", "name")):
            names = p.read_table(table)[col]
            assert names.str.startswith("示例").all(), table
        towns = p.read_table("zones", where="kind = 'town'")["name"]
        assert towns.str.startswith("示例").all()


def test_same_seed_same_project(tmp_path):
    def digest(path):
        with Project.open(path, readonly=True) as p:
            frames = [p.read_table(t).drop(columns=["created_at", "updated_at", "level_updated_at"], errors="ignore")
                      for t in ("zones", "enterprises", "risk_points", "protected_targets", "lifelines")]
        return hashlib.sha256(pd.util.hash_pandas_object(
            pd.concat([f.drop(columns="geometry", errors="ignore").astype(str) for f in frames]),
            index=True).values.tobytes()).hexdigest(), [f.geometry.to_wkb().tolist() for f in frames if "geometry" in f]

    a = tmp_path / "a.gpkg"
    b = tmp_path / "b.gpkg"
    c = tmp_path / "c.gpkg"
    make_demo(a, place="叶集区", seed=7).close()
    make_demo(b, place="叶集区", seed=7).close()
    make_demo(c, place="叶集区", seed=8).close()
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_enterprise_levels_have_history(demo_path):
    with Project.open(demo_path, readonly=True) as p:
        ents = p.read_table("enterprises")
        assessments = p.read_table("assessments")
    assert ents["level"].notna().all()
    assert set(ents["level"].unique()) <= {1, 2, 3, 4}
    # every enterprise's current level is the level of the record it points to
    merged = ents.merge(assessments, left_on="level_assessment_id", right_on="id", suffixes=("", "_a"))
    assert len(merged) == len(ents)
    assert (merged["level"] == merged["level_a"]).all()
    # a control line exists and some protected targets lie inside it (for the planners' check)
    with Project.open(demo_path, readonly=True) as p:
        lines = p.read_table("control_lines")
        targets = p.read_table("protected_targets")
    inside = shapely.contains(lines.geometry.iloc[0], targets.geometry.values).sum()
    assert len(lines) == 1 and inside >= 4


@pytest.mark.parametrize("place", ["历城区", "商河县"])
def test_other_places_build(tmp_path, place):
    with make_demo(tmp_path / "x.gpkg", place=place, seed=1) as p:
        counts = p.counts()
        assert counts["enterprises"] > 100 and counts["control_lines"] == 1
        assert p.place in ("370112", "370126")
        # the plant: a chemical producer of the park (重大), its plant drawn at 0.2 m a pixel, levels 就高, its
        # existing points keeping their grades where a point of that level is drawn (a 配电室 is never 重大)
        from riskmap.georef import Fit
        from riskmap.plant import plant_data, plants

        table = plants(p)
        assert len(table) == 1
        data = plant_data(p, int(table["id"].iloc[0]))
        ents = p.read_table("enterprises", columns=["industry", "level"])
        assert data.enterprise["industry"] == "hazchem_production"
        assert data.enterprise["level"] == 1 == ents[ents["industry"] == "hazchem_production"]["level"].min()
        pts = data.points
        assert int(pts["level"].min()) == data.enterprise["level"] and len(pts) == 7
        assert Fit(tuple(data.plan.transform), [0], 0, 0, "affine").scale == pytest.approx(0.2, rel=0.01)
        levels = dict(zip(pts["name"], pts["level"].astype(int)))
        assert levels["生产装置区"] == 1 and levels["配电室"] >= 3 and levels["办公楼"] == 4
        # its hidden danger lies in the plant, in one of its areas
        assert len(data.dangers) >= 1
        assert shapely.contains(shapely.union_all(pts.geometry.values), data.dangers.geometry.values).all()
