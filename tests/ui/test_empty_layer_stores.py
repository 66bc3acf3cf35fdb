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
