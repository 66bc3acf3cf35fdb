"""The working copy of a layer being edited: the state of every touched feature (geometry in EPSG:4490 and
attributes), the state last saved, the database id of each, and the layer as the working copy has it.

No screen and no undo machinery: the UI's undo commands set states with :meth:`LayerEdits.set_state`
and keep their stack in ``LayerEdits.stack``; :meth:`LayerEdits.changes` gives the batch that
:func:`riskmap.analysis.editing.save_edits` writes.

>>> import geopandas as gpd, shapely
>>> from riskmap.layers import load_catalogue
>>> base = LayerData(load_catalogue()["protected_targets"], gpd.GeoDataFrame(
...     {"id": [7], "name": ["甲校"]}, geometry=[shapely.Point(105, 36)], crs=4490), 4490)
>>> e = LayerEdits(base)
>>> e.set_state(7, FeatureState(shapely.Point(105.1, 36), {"name": "甲校"}))
>>> [c.fid for c in e.changes()[1]], e.is_dirty()
([7], True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.analysis.editing import Change, editable_columns
from riskmap.crs import reproject
from riskmap.layers import LayerDef
from riskmap.scalars import plain_scalar


def _transform(geom, src: int, dst: int):
    return geom if src == dst else reproject(geom, src, dst)


class LayerData:
    """A layer's stored features: catalogue entry, features in EPSG:4490 (with ``id``), their geometry in the
    map CRS (projected here when not given). The UI's map layers have the same attributes."""

    def __init__(self, layer_def: LayerDef, gdf: gpd.GeoDataFrame, map_epsg: int, projected=None):
        self.layer_def = layer_def
        self.id = layer_def.id
        self.gdf = gdf
        self.map_epsg = map_epsg
        geoms = np.asarray(gdf.geometry.array, dtype=object)
        self.projected = _transform(geoms, 4490, map_epsg) if projected is None else projected

    @property
    def ids(self) -> np.ndarray:
        return self.gdf["id"].to_numpy()


@dataclass(frozen=True)
class FeatureState:
    """A feature: geometry in EPSG:4490 (as stored; map CRS switches leave it alone) and attribute values."""

    geom: shapely.Geometry
    attrs: dict = field(default_factory=dict)

    def same_as(self, other: FeatureState | None) -> bool:
        if other is None:
            return False
        if not shapely.equals_exact(self.geom, other.geom, 0.0):
            return False
        a, b = _clean(self.attrs), _clean(other.attrs)
        return all(a.get(k) == b.get(k) for k in a.keys() | b.keys())  # a missing value is an empty one


def _clean(attrs: dict) -> dict:
    return {k: plain_scalar(v) for k, v in attrs.items()}


def _same(a: FeatureState | None, b: FeatureState | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.same_as(b)


class LayerEdits:
    """The working copy of one layer being edited, on top of ``layer`` (a :class:`LayerData` or the UI's map
    layer); ``stack`` is the caller's undo stack, kept here and never used."""

    def __init__(self, layer, stack=None):
        self.layer_id = layer.id
        self.layer_def = layer.layer_def
        self.table = layer.layer_def.table
        self.kind = layer.layer_def.geometry
        self.stack = stack
        self.columns = [c.name for c in editable_columns(self.table)]
        self.working: dict[int, FeatureState | None] = {}
        self.saved: dict[int, FeatureState | None] = {}
        self.fid: dict[int, int | None] = {}
        self._next_new = -1
        self.set_base(layer)

    def set_base(self, layer) -> None:
        """The layer as stored in the project (read after opening or saving)."""
        self.base_gdf = layer.gdf
        self.base_projected = layer.projected
        self.map_epsg = layer.map_epsg
        self._row = pd.Index(layer.ids)
        self.display = None  # the layer object this session last put on the map (the caller's)

    def to_map(self, geom):
        """EPSG:4490 → map CRS (a geometry or an array of them)."""
        return _transform(geom, 4490, self.map_epsg)

    def to_geo(self, geom):
        """Map CRS → EPSG:4490."""
        return _transform(geom, self.map_epsg, 4490)

    # ---- keys and states
    def new_key(self) -> int:
        k = self._next_new
        self._next_new -= 1
        return k

    def key_for_display_id(self, fid: int) -> int:
        """The key of a feature shown with id ``fid`` (its database id, or a negative key when unsaved)."""
        fid = int(fid)
        if fid < 0:
            return fid
        for k, v in self.fid.items():
            if v == fid:
                return k
        return fid

    def base_state(self, fid: int) -> FeatureState | None:
        pos = self._row.get_indexer([fid])[0]
        if pos < 0:
            return None
        row = self.base_gdf.iloc[int(pos)]
        attrs = {c: row[c] for c in self.columns if c in row.index}
        return FeatureState(self.base_gdf.geometry.iloc[int(pos)], _clean(attrs))

    def state_in_base(self, key: int) -> FeatureState | None:
        """The feature of ``key`` as the base layer (the project) has it."""
        fid = self.fid.get(key, key if key > 0 else None)
        return self.base_state(fid) if fid else None

    def state(self, key: int) -> FeatureState | None:
        if key in self.working:
            return self.working[key]
        return self.base_state(key) if key > 0 else None

    def touch(self, key: int) -> None:
        if key not in self.working:
            st = self.state(key)
            self.working[key] = st
            self.saved[key] = st
            self.fid[key] = key if key > 0 and st is not None else None

    def set_state(self, key: int, st: FeatureState | None) -> None:
        self.touch(key)
        self.working[key] = st

    def differs_from_base(self) -> bool:
        """Whether any touched feature differs from the base layer (a rebase must redraw the working copy)."""
        return any(not _same(self.working[k], self.state_in_base(k)) for k in self.working)

    def dirty_keys(self) -> list[int]:
        return [k for k in self.working if not _same(self.working[k], self.saved.get(k))]

    def is_dirty(self) -> bool:
        return bool(self.dirty_keys())

    def display_ids(self) -> list[int]:
        return [int(i) for i in self.display_gdf()[0]["id"]]

    # ---- saving
    def changes(self) -> tuple[list[int], list[Change]]:
        """(keys, changes) of the features whose working state differs from the saved one."""
        keys, out = [], []
        for k in self.dirty_keys():
            st, fid = self.working[k], self.fid.get(k)
            if st is None:
                if fid is None:
                    continue
                out.append(Change(fid, None, {}))
            else:
                old = self.saved.get(k) if fid is not None else None
                attrs = dict(st.attrs) if old is None else {a: v for a, v in st.attrs.items()
                                                           if _clean({a: v}) != _clean({a: old.attrs.get(a)})}
                out.append(Change(fid, st.geom, attrs))
            keys.append(k)
        return keys, out

    def revert(self) -> bool:
        """Back to the last saved state; True when something changed."""
        if not self.is_dirty():
            return False
        for k in list(self.working):
            self.working[k] = self.saved.get(k)
        return True

    def mark_saved(self, keys: list[int], ids: list[int | None]) -> None:
        for k, i in zip(keys, ids):
            self.saved[k] = self.working[k]
            self.fid[k] = i

    # ---- display
    def display_gdf(self) -> tuple[gpd.GeoDataFrame, np.ndarray]:
        """The layer as the working copy has it: (features in EPSG:4490, their geometry in the map CRS)."""
        gdf = self.base_gdf
        gname = gdf.geometry.name
        touched = {v for k, v in self.fid.items() if v is not None and k in self.working}
        keep = ~gdf["id"].isin(touched).to_numpy() if len(gdf) else np.zeros(0, dtype=bool)
        rows = []
        for k, st in self.working.items():
            if st is None:
                continue
            rec = {c: None for c in gdf.columns if c != gname}
            rec.update(st.attrs)
            rec["id"] = self.fid.get(k) or k
            rec[gname] = st.geom
            rows.append(rec)
        out, proj = gdf[keep], self.base_projected[keep]
        if rows:
            extra = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gname, crs=gdf.crs)
            extra.index = extra["id"].to_numpy()
            out = gpd.GeoDataFrame(pd.concat([out, extra[list(gdf.columns)]]), geometry=gname, crs=gdf.crs)
            proj = np.concatenate([proj, self.to_map(np.asarray(extra.geometry.array, dtype=object))])
        return out, proj

    def display_geometry(self, display_id: int):
        """A feature's geometry in the map CRS (None when it does not exist)."""
        st = self.state(self.key_for_display_id(display_id))
        return None if st is None else self.to_map(st.geom)
