"""The layer shown while a big layer loads, and a lazy layer, on both stores: no rows, the table's columns.

They read their columns with a WHERE that is false: ``WHERE 0`` worked on SQLite only, and a PostGIS project
with a layer over BIG_LAYER rows could not be opened.
"""

from __future__ import annotations

from riskmap.layers import load_catalogue
from riskmap.ui.workspace import LazyMapLayer, empty_layer


def test_empty_layer_on_both_stores(any_store):
    catalogue = load_catalogue()
    for layer_id in ("enterprises", "towns", "lifelines"):  # a plain table and one with a catalogue where
        layer = empty_layer(any_store, catalogue[layer_id], 4544)
        assert len(layer.gdf) == 0
        assert "name" in layer.gdf.columns
    n = any_store.counts()["enterprises"]
    assert n > 0
    lazy = LazyMapLayer(any_store, catalogue["enterprises"], 4544, n)
    assert len(lazy.gdf) == 0 and lazy.row_count == n and lazy.lazy


def test_empty_read_is_the_frame_built_from_no_rows(any_store):
    """An empty read builds its object columns without a Series each: the same frame as one built from empty
    Series (the row path given no rows), for every layer's table."""
    import pandas as pd
    from pandas.testing import assert_frame_equal

    from riskmap.model import class_for_table

    for layer_def in load_catalogue().values():
        try:
            names = [c.name for c in class_for_table(layer_def.table).__table__.columns if c.name != "geom"]
        except KeyError:
            continue
        got = any_store.read_table(layer_def.table, where="1 = 0")
        want = pd.DataFrame({n: pd.Series((), dtype=None) for n in names}, columns=names)
        if "id" in want:
            want = want.set_index("id", drop=False)
            want.index.name = None
        assert len(got) == 0 and got.crs == "EPSG:4490" and got.geometry.name == "geometry"
        assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")), want, check_index_type=True)
        assert set(got.dtypes.drop("geometry").astype(str)) <= {"object"}
