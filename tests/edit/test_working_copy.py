"""The edit working copy (riskmap.edit) without a screen: states, changes, display frame, save round trip."""

from __future__ import annotations

import shapely

from riskmap.analysis.editing import save_edits
from riskmap.edit import FeatureState, LayerData, LayerEdits
from riskmap.layers import load_catalogue

EPSG = 4544  # Gauss–Krüger zone CM 105°E, the demo county's


def _edits(project, layer_id="protected_targets"):
    d = load_catalogue()[layer_id]
    gdf = project.read_layer(d)
    return LayerEdits(LayerData(d, gdf, EPSG))


def test_untouched_copy_equals_the_base(demo_project):
    e = _edits(demo_project)
    assert not e.is_dirty() and e.changes() == ([], [])
    gdf, proj = e.display_gdf()
    assert len(gdf) == len(e.base_gdf) == len(proj)
    fid = int(e.base_gdf["id"].iloc[0])
    st = e.state(fid)
    assert st.same_as(e.base_state(fid)) and st.geom.equals(e.base_gdf.geometry.iloc[0])


def test_move_rename_add_delete_then_revert(demo_project):
    e = _edits(demo_project)
    ids = [int(i) for i in e.base_gdf["id"].iloc[:2]]
    a, b = ids
    before = e.state(a)
    moved = shapely.Point(before.geom.x + 0.01, before.geom.y)
    e.set_state(a, FeatureState(moved, {**before.attrs, "name": "改名学校"}))
    e.set_state(b, None)
    new = e.new_key()
    assert new == -1 and e.new_key() == -2
    e.set_state(new, FeatureState(shapely.Point(105.2, 35.9), {"name": "新目标"}))
    keys, changes = e.changes()
    assert sorted(keys) == sorted([a, b, new])
    by_key = dict(zip(keys, changes))
    assert by_key[a].fid == a and by_key[a].attrs == {"name": "改名学校"}  # only the changed attribute
    assert by_key[b].fid == b and by_key[b].geom is None  # a delete
    assert by_key[new].fid is None and by_key[new].attrs["name"] == "新目标"  # an insert
    gdf, proj = e.display_gdf()
    assert len(gdf) == len(e.base_gdf) - 1 + 1
    assert b not in set(gdf["id"]) and -1 in set(gdf["id"])
    row = gdf[gdf["id"] == a].iloc[0]
    assert row["name"] == "改名学校" and row.geometry.equals(moved)
    # the display geometry is the working geometry in the map CRS: 0.01° of longitude at 36°N is ~900 m
    pos = list(gdf["id"]).index(a)
    old_x = e.to_map(before.geom).x
    assert 850 < proj[pos].x - old_x < 950
    assert e.to_geo(e.to_map(moved)).distance(moved) < 1e-9
    assert e.revert() and not e.is_dirty() and not e.revert()
    assert e.state(a).same_as(before)


def test_save_round_trip_marks_saved(demo_project):
    e = _edits(demo_project)
    a = int(e.base_gdf["id"].iloc[0])
    st = e.state(a)
    e.set_state(a, FeatureState(st.geom, {**st.attrs, "people": 321}))
    k = e.new_key()
    e.set_state(k, FeatureState(shapely.Point(105.21, 35.91), {"name": "新建小学", "kind": st.attrs["kind"], "people": 45}))
    keys, changes = e.changes()
    ids = save_edits(demo_project, e.table, changes)
    e.mark_saved(keys, ids)
    assert not e.is_dirty()
    new_id = e.fid[k]
    assert new_id is not None and new_id > 0 and e.key_for_display_id(new_id) == k
    stored = demo_project.read_table("protected_targets", where=f"id IN ({a}, {new_id})")
    assert dict(zip(stored["id"].astype(int), stored["people"].astype(int))) == {a: 321, new_id: 45}
    # rebased on the layer read again, the copy equals its base (columns left out of a new feature are empty)
    e.set_base(LayerData(e.layer_def, demo_project.read_layer(e.layer_def), EPSG))
    assert not e.differs_from_base()

