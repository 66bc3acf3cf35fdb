"""Layers prepared for painting: projected once, held as flat numpy arrays, classified by style.

Painting then works on arrays (cull, transform, group by colour) and never loops over features in
Python. A change to one layer re-prepares only that layer (:meth:`PreparedLayer.from_gdf`), and a new
level or category column alone only re-classifies it (:meth:`PreparedLayer.reclassified`).

>>> import geopandas as gpd, shapely
>>> from riskmap.layers import load_catalogue
>>> gdf = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["甲化工", "乙加油站", "丙"], "level": [1, 2, 4]},
...                        geometry=shapely.points([[105.0, 35.0], [105.01, 35.0], [105.0, 35.01]]), crs=4490)
>>> prep = PreparedLayer.from_gdf(load_catalogue()["enterprises"], gdf, 4544)
>>> prep.counts()
{1: 1, 2: 1, 3: 0, 4: 1, None: 0}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from riskmap.errors import RiskmapError
from riskmap.layers import LayerDef

OTHER = "__other__"  # class key of category values not in the catalogue
_TYPE_IDS = {"point": (0, 4), "line": (1, 2, 5), "polygon": (3, 6)}
_NONE_NAMES = {"level": ("未定级", "Not graded"), "category": ("无", "None")}


@dataclass(frozen=True)
class StyleClass:
    """One colour class of a layer: a level, a category, 'other', missing (key None) or the single style."""

    key: object
    colour: str
    label_zh: str
    label_en: str

    def label(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" else self.label_zh


def _level_api():
    from riskmap import levels  # written beside the renderer; imported late to keep start-up light

    return levels


def _classes_for(layer_def: LayerDef) -> list[StyleClass]:
    style = layer_def.style
    if style.type == "single":
        if layer_def.geometry == "line":
            colour = style.stroke or style.fill or "#000000"
        else:
            colour = style.fill or style.stroke or "#000000"
        return [StyleClass(None, colour, layer_def.name_zh, layer_def.name_en)]
    none_zh, none_en = _NONE_NAMES[style.type]
    if style.type == "level" and layer_def.table == "enterprises":
        none_zh, none_en = "未评估", "Not assessed"  # an enterprise without a level: grey, never 低
    if style.type == "level":
        lv = _level_api()
        out = []
        for n in (1, 2, 3, 4):
            info = lv.level_info(n)
            out.append(StyleClass(n, lv.colour(n), info.name_zh, info.name_en))
        out.append(StyleClass(None, style.none_colour, none_zh, none_en))
        return out
    out = [StyleClass(c.value, c.colour, c.zh, c.en) for c in style.categories]
    out.append(StyleClass(OTHER, style.other_colour, "其他", "Other"))
    out.append(StyleClass(None, style.none_colour, none_zh, none_en))
    return out


def classify(layer_def: LayerDef, values) -> np.ndarray:
    """Class index (into the layer's classes) of every value of the style field, vectorised by unique value."""
    style = layer_def.style
    n = len(values)
    if style.type == "single":
        return np.zeros(n, dtype=np.int32)
    classes = _classes_for(layer_def)
    none_idx = len(classes) - 1
    if values is None:
        return np.full(n, none_idx, dtype=np.int32)
    codes, uniques = pd.factorize(pd.Series(values, copy=False), use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=np.int32)
    table[-1] = none_idx  # code -1 (missing) indexes the last slot
    if style.type == "level":
        parse = _level_api().parse_level
        for i, u in enumerate(uniques):
            try:
                table[i] = parse(u) - 1
            except Exception:  # an unreadable level draws as 'not graded'
                table[i] = none_idx
    else:
        index = {c.key: i for i, c in enumerate(classes)}
        for i, u in enumerate(uniques):
            cat = style.category(u)
            table[i] = index[cat.value] if cat is not None else none_idx - 1
    return table[codes]


def _line_midpoints(coords: np.ndarray, offsets: np.ndarray, part_feature: np.ndarray, n: int) -> np.ndarray:
    """The point halfway along each feature's longest part (NaN for features without parts), vectorised."""
    out = np.full((n, 2), np.nan)
    n_parts = len(offsets) - 1
    if n_parts == 0 or len(coords) < 2:
        return out
    seg = np.hypot(*np.diff(coords, axis=0).T)
    ends = offsets[1:-1] - 1
    seg[ends[(ends >= 0) & (ends < len(seg))]] = 0.0  # no segment between two parts
    cum = np.concatenate([[0.0], np.cumsum(seg)])  # distance along the flattened vertices
    start, last = offsets[:-1], offsets[1:] - 1
    length = cum[last] - cum[start]
    # the longest part of each feature
    order = np.lexsort((-length, part_feature))
    first = np.r_[True, part_feature[order][1:] != part_feature[order][:-1]]
    best = order[first]
    target = cum[start[best]] + length[best] / 2
    i = np.clip(np.searchsorted(cum, target, side="right") - 1, start[best], np.maximum(last[best] - 1, start[best]))
    j = np.minimum(i + 1, last[best])
    span = cum[j] - cum[i]
    t = np.where(span > 0, (target - cum[i]) / np.where(span > 0, span, 1.0), 0.0)
    out[part_feature[best]] = coords[i] + (coords[j] - coords[i]) * t[:, None]
    return out


def _vertex_normals(coords: np.ndarray, offsets: np.ndarray, closed: bool) -> np.ndarray:
    """Normals per vertex (average of the adjacent segment normals, lengthened by the miter factor up to 2),
    used to offset the 1-px passes of wide strokes. Column by column, without (n, 2) temporaries: a 10× view's
    120k lifeline vertices in about 9 ms instead of 18."""
    n = len(coords)
    if n < 2:
        return np.zeros((n, 2))
    x, y = coords[:, 0], coords[:, 1]
    dx, dy = x[1:] - x[:-1], y[1:] - y[:-1]
    length = np.hypot(dx, dy)
    length[length == 0] = 1.0
    segx, segy = -dy / length, dx / length  # the unit normal of each segment
    ends = offsets[1:-1] - 1  # the segment from a part's last vertex to the next part's first is not real
    ends = ends[(ends >= 0) & (ends < n - 1)]
    segx[ends] = 0.0
    segy[ends] = 0.0
    nx, ny = np.zeros(n), np.zeros(n)
    nx[:-1] = segx
    ny[:-1] = segy
    nx[1:] += segx
    ny[1:] += segy
    if closed:  # first and last vertex of a ring are the same point: share both adjacent segments
        starts, last = offsets[:-1], offsets[1:] - 1
        ok = last > starts
        s, e = starts[ok], last[ok]
        bx, by = nx[s] + nx[e], ny[s] + ny[e]
        nx[s], nx[e], ny[s], ny[e] = bx, bx, by, by
    norm = np.hypot(nx, ny)
    norm[norm == 0] = 1.0
    nx /= norm
    ny /= norm
    # miter length: an offset d along the averaged normal must be d / cos(half the turn), limited to 2; the turn
    # measured against the segment leaving each vertex (the one arriving at a part's last vertex)
    sx, sy = np.zeros(n), np.zeros(n)
    sx[:-1] = segx
    sy[:-1] = segy
    arriving = np.flatnonzero(~((np.abs(sx) > 0) | (np.abs(sy) > 0)))
    arriving = arriving[arriving > 0]
    sx[arriving] = segx[arriving - 1]
    sy[arriving] = segy[arriving - 1]
    cos_half = np.abs(nx * sx + ny * sy)
    np.clip(cos_half, 0.5, 1.0, out=cos_half)
    out = np.empty((n, 2))
    np.divide(nx, cos_half, out=out[:, 0])
    np.divide(ny, cos_half, out=out[:, 1])
    return out


def bounds_touch(bounds: np.ndarray, extent, margin: float = 0.0) -> np.ndarray:
    """Rows of ``bounds`` (xmin, ymin, xmax, ymax) that touch ``extent`` widened by ``margin``.

    >>> bounds_touch(np.array([[0, 0, 1, 1], [5, 5, 6, 6]]), (0.5, 0.5, 2, 2)).tolist()
    [True, False]
    """
    xmin, ymin, xmax, ymax = extent
    b = bounds
    return ((b[:, 2] >= xmin - margin) & (b[:, 0] <= xmax + margin)
            & (b[:, 3] >= ymin - margin) & (b[:, 1] <= ymax + margin))


class PreparedLayer:
    """A layer ready to paint: projected coordinates, bounds, style classes, labels and ids as arrays.

    Attributes (n features; parts are points, linestrings or rings):
        layer_def, id, z, kind ('point' | 'line' | 'polygon'), crs_epsg, n, ids
        bounds (n, 4) map-CRS bounds (NaN for empty geometries)
        classes list[StyleClass]; cls (n,) class index; fill_colours / stroke_colours per class (None = none)
        coords (m, 2), offsets (p + 1), part_feature (p,), part_bounds (p, 4)
        feature_parts (n + 1): parts of feature i are feature_parts[i]:feature_parts[i + 1]
        label_text (n,) object or None, label_xy (n, 2), label_order (feature indices, best first)
        source: the GeoDataFrame it was made from; geoms: projected shapely geometries (None for points)
    """

    def __init__(self, layer_def: LayerDef, crs_epsg: int):
        self.layer_def = layer_def
        self.id = layer_def.id
        self.z = layer_def.z
        self.kind = layer_def.geometry
        self.crs_epsg = int(crs_epsg)
        self.version = 0
        self._normals = None
        self._id_index = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_gdf(cls, layer_def: LayerDef, gdf, map_crs_epsg: int, *, projected: bool = False) -> "PreparedLayer":
        """Prepare ``gdf`` (EPSG:4490, or its own ``crs``; already in the map CRS if ``projected``)."""
        self = cls(layer_def, map_crs_epsg)
        self.source = gdf
        self.n = len(gdf)
        geoms = np.asarray(gdf.geometry.array if hasattr(gdf, "geometry") else gdf, dtype=object)
        crs = None if projected else getattr(gdf, "crs", None)
        if self.kind == "point" and np.isin(shapely.get_type_id(geoms), (-1, 0)).all():
            self._build_points(geoms, crs, projected)  # single points: coordinates only, no new geometries
        else:
            if not projected:
                geoms = _project(geoms, crs, map_crs_epsg, layer_def.id)
            if self.kind == "polygon":
                geoms = shapely.orient_polygons(geoms, exterior_cw=False)
            self.bounds = shapely.bounds(geoms)
            self._build_parts(geoms)
            self.geoms = geoms  # projected; polygon labels are re-anchored on the visible part
        self.ids = _feature_ids(gdf)
        self._classify(gdf)
        self._prepare_labels(gdf, geoms)
        return self

    def _build_points(self, geoms: np.ndarray, crs, projected: bool) -> None:
        self.geoms = None
        coords, feat = shapely.get_coordinates(geoms, return_index=True)
        if not projected and len(coords):
            x, y = _transformer(crs, self.crs_epsg, self.id).transform(coords[:, 0], coords[:, 1])
            coords = np.column_stack([x, y])
        self.skipped_parts = 0
        self.coords = np.ascontiguousarray(coords, dtype=np.float64)
        self.offsets = np.arange(len(coords) + 1, dtype=np.int64)
        self.part_feature = feat.astype(np.int64)
        self.feature_parts = np.searchsorted(self.part_feature, np.arange(self.n + 1)).astype(np.int64)
        self.part_bounds = np.column_stack([self.coords, self.coords])
        self.bounds = np.full((self.n, 4), np.nan)
        self.bounds[self.part_feature] = self.part_bounds

    def reclassified(self, gdf=None, layer_def: LayerDef | None = None, *, labels: bool = True) -> "PreparedLayer":
        """A copy with new style classes (new level/category values, or a new style), same geometry.
        ``labels=False``: the label texts stay (only their order by level follows the new classes), so ``gdf``
        needs only the style field."""
        new = object.__new__(PreparedLayer)
        new.__dict__.update(self.__dict__)
        if layer_def is not None:
            new.layer_def = layer_def
            new.z = layer_def.z
        gdf = self.source if gdf is None else gdf
        if len(gdf) != self.n:
            raise RiskmapError("要素数量已改变，须重新准备图层", "feature count changed: prepare the layer again",
                               where=self.id)
        new.source = gdf
        new._classify(gdf)
        if new.layer_def.label is not None:
            if labels:
                new._prepare_labels(gdf, None, keep_anchors=True)
            else:
                new._label_em = dict(self._label_em)
                new._order_labels()
        new.version = self.version + 1
        return new

    def subset(self, keep: np.ndarray, gdf) -> "PreparedLayer":
        """The features ``keep`` (boolean, n) lets through, classed by ``gdf`` (their rows, with the style field),
        without preparing the geometry again: point layers only (the as-of-date map hides enterprises not yet
        created this way). Label texts and anchors are kept."""
        if self.kind != "point" or self.geoms is not None:
            raise RiskmapError("只能对点图层取子集", "subset works on point layers only", where=self.id)
        keep = np.asarray(keep, dtype=bool)
        if len(keep) != self.n or len(gdf) != int(keep.sum()):
            raise RiskmapError("要素数量不符", "feature count does not match", where=self.id)
        new = object.__new__(PreparedLayer)
        new.__dict__.update(self.__dict__)
        kp = keep[self.part_feature]
        renumber = np.cumsum(keep) - 1
        new.n = int(keep.sum())
        new.coords = np.ascontiguousarray(self.coords[kp])
        new.offsets = np.arange(len(new.coords) + 1, dtype=np.int64)
        new.part_feature = renumber[self.part_feature[kp]].astype(np.int64)
        new.feature_parts = np.searchsorted(new.part_feature, np.arange(new.n + 1)).astype(np.int64)
        new.part_bounds = self.part_bounds[kp]
        new.bounds = self.bounds[keep]
        new.ids = self.ids[keep]
        new._normals = None
        new._id_index = None
        new._label_em = {b: em[keep] for b, em in self._label_em.items()}
        if self.label_text is not None:
            new.label_text = self.label_text[keep]
            new.label_xy = self.label_xy[keep]
        new.source = gdf
        new._classify(gdf)
        if self.label_text is not None:
            new._order_labels()
        new.version = self.version + 1
        return new

    def _build_parts(self, geoms: np.ndarray) -> None:
        single = {"point": 0, "line": 1, "polygon": 3}[self.kind]
        types = shapely.get_type_id(geoms)
        if np.isin(types, (-1, single)).all():  # no multi-geometries: the features are the parts
            feat = np.flatnonzero(types == single)
            parts = geoms[feat]
        else:
            parts, feat = shapely.get_parts(geoms, return_index=True)
        types = shapely.get_type_id(parts)
        wanted = np.isin(types, _TYPE_IDS[self.kind]) & ~shapely.is_empty(parts)
        if len(parts) and not wanted.any():
            raise RiskmapError(f"图层几何类型与定义不符（应为 {self.kind}）",
                               f"geometries do not match the layer's type ({self.kind})", where=self.id)
        self.skipped_parts = int((~wanted).sum())
        parts, feat = parts[wanted], feat[wanted]
        if self.kind == "polygon":
            rings, ring_part = shapely.get_rings(parts, return_index=True)
            feat = feat[ring_part]
            parts = rings
        coords, idx = shapely.get_coordinates(parts, return_index=True)
        counts = np.bincount(idx, minlength=len(parts)) if len(parts) else np.zeros(0, np.int64)
        self.coords = np.ascontiguousarray(coords, dtype=np.float64)
        self.offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self.part_feature = feat.astype(np.int64)
        self.feature_parts = np.searchsorted(self.part_feature, np.arange(self.n + 1)).astype(np.int64)
        if self.kind == "point":
            self.part_bounds = np.column_stack([self.coords, self.coords])
        elif len(parts):
            starts = self.offsets[:-1]
            x, y = self.coords[:, 0], self.coords[:, 1]
            self.part_bounds = np.column_stack([np.minimum.reduceat(x, starts), np.minimum.reduceat(y, starts),
                                                np.maximum.reduceat(x, starts), np.maximum.reduceat(y, starts)])
        else:
            self.part_bounds = np.empty((0, 4))

    def _classify(self, gdf) -> None:
        layer_def = self.layer_def
        style = layer_def.style
        self.classes = _classes_for(layer_def)
        field = style.field
        values = gdf[field] if (field and field in getattr(gdf, "columns", ())) else None
        if values is None and style.type != "single":
            values = pd.Series([None] * self.n, dtype=object)
        self.cls = classify(layer_def, values) if style.type != "single" else np.zeros(self.n, dtype=np.int32)
        colours = [c.colour for c in self.classes]
        if self.kind == "point":
            self.fill_colours = colours if (style.type != "single" or style.fill) else [None]
            self.stroke_colours = [style.stroke] * len(colours)
        elif self.kind == "line":
            self.fill_colours = [None] * len(colours)
            self.stroke_colours = colours
        elif style.type == "single":
            self.fill_colours = [style.fill]
            self.stroke_colours = [style.stroke]
        elif style.stroke_by_class:  # level/category polygons filled and outlined in their class colour
            self.fill_colours = colours
            self.stroke_colours = colours
        elif style.stroke is None:  # level/category polygons without an outline colour: coloured outlines
            self.fill_colours = [None] * len(colours)
            self.stroke_colours = colours
        else:  # level/category polygons: coloured fills, one outline colour
            self.fill_colours = colours
            self.stroke_colours = [style.stroke] * len(colours)
        # draw order of classes: missing and other first, then low to high risk (level 1 on top)
        keys = [c.key for c in self.classes]
        if style.type == "level":
            self.class_order = [keys.index(None), 3, 2, 1, 0]
        else:
            self.class_order = list(range(len(self.classes)))[::-1]
        self._counts = np.bincount(self.cls, minlength=len(self.classes))

    def _prepare_labels(self, gdf, geoms, keep_anchors: bool = False) -> None:
        self._label_em = {}
        label = self.layer_def.label
        if label is None or label.field not in getattr(gdf, "columns", ()):
            self.label_text = None
            if not keep_anchors:
                self.label_xy = None
            self.label_order = np.zeros(0, dtype=np.int64)
            return
        s = gdf[label.field]
        text = s.astype(str).to_numpy(dtype=object)
        has = s.notna().to_numpy() & (text != "")
        text[~has] = None
        self.label_text = text
        if not keep_anchors or getattr(self, "label_xy", None) is None:
            xy = np.full((self.n, 2), np.nan)
            sel = np.flatnonzero(has)
            g = geoms[sel] if geoms is not None else None
            if self.kind == "point" and len(sel):  # the point itself (the first, for multipoints)
                first = self.feature_parts[sel]
                ok = first < self.feature_parts[sel + 1]
                xy[sel[ok]] = self.coords[first[ok]]
            elif g is not None and len(sel):
                if self.kind == "line":
                    mid = _line_midpoints(self.coords, self.offsets, self.part_feature, self.n)
                    xy[sel] = mid[sel]
                else:
                    ok = ~shapely.is_missing(g) & ~shapely.is_empty(g)
                    anchors = shapely.point_on_surface(g[ok])
                    xy[sel[ok], 0] = shapely.get_x(anchors)
                    xy[sel[ok], 1] = shapely.get_y(anchors)
            self.label_xy = xy
        self._order_labels(has)

    def _order_labels(self, has: np.ndarray | None = None) -> None:
        """Label order: by level (highest risk first) for level layers, then by feature order."""
        if has is None:
            has = np.not_equal(self.label_text, None)
        candidates = np.flatnonzero(has & np.isfinite(self.label_xy[:, 0]))
        if self.layer_def.style.type == "level":
            rank = self.cls[candidates]
            candidates = candidates[np.argsort(rank, kind="stable")]
        self.label_order = candidates

    def label_em(self, bold: bool) -> np.ndarray:
        """Label widths in em per feature (NaN until measured); filled in by the label engine."""
        em = self._label_em.get(bold)
        if em is None:
            em = self._label_em[bold] = np.full(self.n, np.nan)
        return em

    # ------------------------------------------------------------------ queries
    def title(self, lang: str = "zh") -> str:
        return self.layer_def.title(lang)

    def counts(self, mask: np.ndarray | None = None) -> dict:
        """Features per class key (levels 1–4, category values, OTHER, None = missing)."""
        counts = self._counts if mask is None else np.bincount(self.cls[mask], minlength=len(self.classes))
        return {c.key: int(k) for c, k in zip(self.classes, counts)}

    def visible_mask(self, extent, margin: float = 0.0) -> np.ndarray:
        """Features whose bounds touch ``extent`` widened by ``margin`` map units."""
        return bounds_touch(self.bounds, extent, margin)

    def indices_of(self, ids) -> np.ndarray:
        """Feature indices of the given ids (unknown ids are ignored)."""
        if self._id_index is None:
            self._id_index = pd.Index(self.ids)
        ids = list(ids)
        if not ids:
            return np.zeros(0, dtype=np.int64)
        idx = self._id_index.get_indexer(ids)
        return idx[idx >= 0].astype(np.int64)

    def normals(self) -> np.ndarray:
        """Unit normals per vertex in map coordinates (cached)."""
        if self._normals is None:
            self._normals = _vertex_normals(self.coords, self.offsets, closed=self.kind == "polygon")
        return self._normals

    def total_bounds(self) -> tuple[float, float, float, float] | None:
        """Bounds of all features, or None when the layer is empty."""
        if not self.n or np.all(np.isnan(self.bounds[:, 0])):
            return None
        b = self.bounds
        return (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])), float(np.nanmax(b[:, 2])),
                float(np.nanmax(b[:, 3])))

    def __repr__(self) -> str:
        return f"<PreparedLayer {self.id} {self.kind} n={self.n}>"


def _transformer(crs, epsg: int, where: str):
    from riskmap.crs import transformer

    src = 4490 if crs is None else crs
    try:
        return transformer(src, epsg)
    except RiskmapError:
        raise
    except Exception as exc:  # pyproj errors name the CRS
        raise RiskmapError("坐标转换失败", f"cannot transform coordinates: {exc}", where=where) from None


def _project(geoms: np.ndarray, crs, epsg: int, where: str) -> np.ndarray:
    from riskmap.crs import reproject

    _transformer(crs, epsg, where)  # an unknown CRS is an error naming the layer
    return reproject(geoms, 4490 if crs is None else crs, epsg)


def _feature_ids(gdf) -> np.ndarray:
    if "id" in getattr(gdf, "columns", ()):
        return gdf["id"].to_numpy()
    return np.asarray(gdf.index)
