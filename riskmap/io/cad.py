"""Polygons from CAD drawings named by the text inside them: a DXF from a CAD office draws town (or village)
boundaries as closed LWPOLYLINE/POLYLINE entities and writes each name as TEXT/MTEXT somewhere inside. GDAL
reads both as rows of one layer (lines, and points with a ``Text`` field); :func:`name_polygons` gives each
closed polyline the name written inside it, in a column ``名称`` the field mapping finds; the texts
themselves are left out of the rows (row numbers stay those of the drawing).

When the drawing has texts on several CAD layers (town names, village names, notes), the layer whose texts
name the most polygons one each is used. A polygon holding several texts of that layer takes the one nearest
its centre (a warning lists the others); a polygon holding none is an error naming the polygon (its row, CAD
handle and layer).

>>> # source = name_polygons(read_source("镇界.dxf"))
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import shapely

NAME_COLUMN = "名称"


def _closed_polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the closed rings and polygons, and their polygons."""
    idx, polys = [], []
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        if g.geom_type in ("Polygon", "MultiPolygon"):
            idx.append(i), polys.append(g)
        elif g.geom_type == "LineString" and g.is_closed and len(g.coords) >= 4:
            p = shapely.Polygon(g.coords)
            if p.area > 0:
                idx.append(i), polys.append(p)
    return np.asarray(idx, dtype=np.int64), np.asarray(polys, dtype=object)


def _text(v) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return " ".join(str(v).split())


def name_polygons(source):
    """``source`` (a DXF read by :func:`riskmap.io.readers.read_source`) with a ``名称`` column naming each
    closed polyline by the text inside it; unchanged when the drawing has no texts or no closed polylines."""
    frame = source.frame
    if source.geometry is None or "Text" not in frame.columns or NAME_COLUMN in frame.columns:
        return source
    geoms = np.asarray(source.geometry, dtype=object)
    p_idx, polys = _closed_polygons(geoms)
    texts = np.array([_text(v) for v in frame["Text"].to_numpy(dtype=object)], dtype=object)
    is_pt = np.array([g is not None and g.geom_type == "Point" and not g.is_empty for g in geoms], dtype=bool)
    t_idx = np.flatnonzero(is_pt & (texts != ""))
    if not len(p_idx) or not len(t_idx):
        return source
    layers = (frame["Layer"].to_numpy(dtype=object) if "Layer" in frame.columns
              else np.full(len(frame), "", dtype=object))
    tree = shapely.STRtree(polys)
    t_pos, p_pos = tree.query(geoms[t_idx], predicate="within")
    # a text inside nested polygons belongs to the smallest one
    area = shapely.area(polys)
    order = np.lexsort((area[p_pos], t_pos))
    t_pos, p_pos = t_pos[order], p_pos[order]
    first = np.unique(t_pos, return_index=True)[1]
    t_pos, p_pos = t_pos[first], p_pos[first]
    t_layer = layers[t_idx[t_pos]]
    best, best_score = None, (-1, 0)
    for lay in pd.unique(t_layer):
        counts = np.bincount(p_pos[t_layer == lay], minlength=len(polys))
        score = (int((counts == 1).sum()), -int((counts > 1).sum()))
        if score > best_score:
            best, best_score = lay, score
    use = t_layer == best
    t_pos, p_pos = t_pos[use], p_pos[use]
    names = np.full(len(frame), None, dtype=object)
    report = source.report
    centres = shapely.centroid(polys)
    for k in range(len(polys)):
        mine = t_pos[p_pos == k]
        row = source.rows[p_idx[k]]
        if not len(mine):
            if report is not None:
                handle = frame["EntityHandle"].iat[p_idx[k]] if "EntityHandle" in frame.columns else ""
                report.add(row, NAME_COLUMN, None,
                           f"闭合多段线（句柄 {handle}，图层 {layers[p_idx[k]]}）内没有名称注记（TEXT/MTEXT）",
                           f"no name text (TEXT/MTEXT) inside the closed polyline (handle {handle}, layer "
                           f"{layers[p_idx[k]]})")
            continue
        cand = t_idx[mine]
        if len(cand) > 1:
            d = shapely.distance(centres[k], geoms[cand])
            cand = cand[np.argsort(d, kind="stable")]
            if report is not None:
                report.add(row, NAME_COLUMN, texts[cand[0]], f"多段线内有多个注记，取最靠近中心的“{texts[cand[0]]}”"
                           f"（其余：{'、'.join(texts[cand[1:]])}）", f"several texts inside the polyline: took "
                           f"{texts[cand[0]]!r}, nearest its centre", "warning")
        names[p_idx[k]] = texts[cand[0]]
    if report is not None:
        report.note(f"DXF：按多段线内的注记（图层 {best}）命名 {int(sum(n is not None for n in names))} 个面",
                    f"DXF: {int(sum(n is not None for n in names))} polygons named by the text inside them "
                    f"(layer {best})")
    frame = frame.copy()
    frame.insert(0, NAME_COLUMN, pd.Series(names, index=frame.index, dtype=object))
    keep = np.ones(len(frame), dtype=bool)
    keep[t_idx] = False  # the texts became names: not features of their own
    frame = frame[keep].reset_index(drop=True)
    return replace(source, frame=frame, rows=source.rows[keep], geometry=geoms[keep])
