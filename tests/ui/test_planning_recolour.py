"""Moving an enterprise with the map editor recolours the towns at its old and new place when saved."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
import shapely

for _k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
    os.environ.setdefault(_k, os.path.join(tempfile.mkdtemp(prefix="riskmap-recolour-tests-"), _k.lower()))

from riskmap.store import Project  # noqa: E402


def max_rule_level(town_geom, ents) -> int:
    """就高 by hand: the most severe graded level of the enterprises inside, 4 (blue) when none."""
    inside = ents[shapely.intersects(town_geom, ents.geometry.values)]
    lv = [int(v) for v in inside["level"] if v == v and v is not None and 1 <= int(v) <= 4]
    return min(lv) if lv else 4


@pytest.fixture
def pwin(window):
    window.extension("planning").controller.ask_unsaved = lambda: "discard"
    return window


def test_move_red_enterprise_into_blue_town(pwin, demo_copy):
    w = pwin
    towns = w.project.read_table("zones", where="kind = 'town'")
    ents = w.project.read_table("enterprises")
    assert set(towns["level"].dropna().astype(int)) >= {1, 4}  # the demo is zoned by town
    red = ents[ents["level"] == 1]
    blue = towns[towns["level"] == 4]
    assert len(red) and len(blue)
    ent = red.iloc[0]
    old_town = towns[shapely.intersects(towns.geometry.values, ent.geometry)].iloc[0]
    new_town = blue[blue["id"] != old_town["id"]].iloc[0]
    target = new_town.geometry.representative_point()

    c = w.extension("planning").controller
    edits = c.start("enterprises")
    assert c.set_geometry(int(ent["id"]), edits.to_map(target))
    assert c.save()
    # the canvas shows the new colour without reopening
    shown = w.workspace.layer("towns").gdf.set_index("id")["level"]
    assert int(shown[int(new_town["id"])]) == 1

    with Project.open(demo_copy) as p:
        towns2 = p.read_table("zones", where="kind = 'town'").set_index("id")
        ents2 = p.read_table("enterprises")
    moved = ents2[ents2["id"] == int(ent["id"])].geometry.iloc[0]
    assert shapely.equals_exact(moved, target, 1e-9)
    assert int(towns2.loc[int(new_town["id"]), "level"]) == 1
    want_old = max_rule_level(old_town.geometry, ents2)
    assert int(towns2.loc[int(old_town["id"]), "level"]) == want_old
    # every other town keeps its colour
    before = towns.set_index("id")["level"]
    others = [i for i in before.index if i not in (int(old_town["id"]), int(new_town["id"]))]
    assert np.array_equal(towns2.loc[others, "level"].to_numpy(), before.loc[others].to_numpy())


def test_level_change_recolours(pwin, demo_copy):
    """Lowering the only red enterprise of a red town to blue makes the town what the rule says by hand."""
    from riskmap.ui.tools.editing import FeatureState

    w = pwin
    towns = w.project.read_table("zones", where="kind = 'town'")
    ents = w.project.read_table("enterprises")
    red_towns = towns[towns["level"] == 1]
    town = red_towns.iloc[0]
    inside = ents[shapely.intersects(town.geometry, ents.geometry.values)]
    c = w.extension("planning").controller
    e = c.start("enterprises")
    changes = []
    for fid in inside[inside["level"] == 1]["id"]:
        key = e.key_for_display_id(int(fid))
        before = e.state(key)
        changes.append((key, before, FeatureState(before.geom, {**before.attrs, "level": 4})))
    c.push("level", changes)
    assert c.save()
    with Project.open(demo_copy) as p:
        towns2 = p.read_table("zones", where="kind = 'town'").set_index("id")
        ents2 = p.read_table("enterprises")
    want = max_rule_level(town.geometry, ents2)
    assert want != 1
    assert int(towns2.loc[int(town["id"]), "level"]) == want
