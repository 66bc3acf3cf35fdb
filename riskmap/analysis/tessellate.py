"""Zones when a bureau has no file: square or hexagonal grid cells, and Voronoi cells around town seats,
clipped to a boundary. Pure shapely/numpy on arrays, in a metric CRS (metres); nothing is written.

Grids: cells are aligned on multiples of the cell size (the same county and size always give the same
cells), numbered row by row from the north-west. Cells with no area inside the boundary are dropped. A
clipped piece smaller than :data:`SLIVER_SHARE` of a whole cell is a sliver: it joins the neighbouring cell
with which it shares the longest border (a sliver that touches no full-sized cell, such as a small island,
stays a cell of its own). Hexagons are pointy-top with side ``size`` (area 3√3/2·size²).

Towns from seats: each seat's Voronoi cell clipped to the boundary (a cell can be in several parts where the
boundary is concave). Seats outside the boundary, repeated names and two seats at one point are errors that
name the rows.

>>> from shapely import box
>>> cells = grid_cells(box(0, 0, 10_000, 6_000), 2_000)
>>> len(cells), round(float(cells.areas().sum()) / 1e6, 6), cells.codes[0], cells.names[0]
(15, 60.0, '01-01', '网格001')
>>> cells = seat_cells(box(0, 0, 10_000, 6_000), [(2_000, 3_000), (8_000, 3_000)], ["甲镇", "乙镇"])
>>> [round(a / 1e6, 6) for a in shapely.area(cells).tolist()]
[30.0, 30.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from riskmap.errors import RiskmapError

SHAPES = ("square", "hex")
SLIVER_SHARE = 0.1  # a clipped piece under this share of a whole cell joins its neighbour
MAX_CELLS = 400_000  # candidate cells over the boundary's bounding box
SQRT3 = 3 ** 0.5


@dataclass
class Cells:
    """Grid cells clipped to a boundary (metric CRS), in reading order."""

    geoms: np.ndarray  # polygons or multipolygons
    rows: np.ndarray  # 0-based, from the north
    cols: np.ndarray  # 0-based, from the west
    shape: str
    size: float
    cell_area: float  # of a whole cell

    def __len__(self) -> int:
        return len(self.geoms)

    def areas(self) -> np.ndarray:
        return shapely.area(self.geoms)

    @property
    def codes(self) -> list[str]:
        """Row-column codes, "01-01" at the north-west."""
        w = max(2, len(str(int(max(self.rows.max(initial=0), self.cols.max(initial=0))) + 1)))
        return [f"{r + 1:0{w}d}-{c + 1:0{w}d}" for r, c in zip(self.rows.tolist(), self.cols.tolist())]

    @property
    def names(self) -> list[str]:
        """网格001, 网格002 … in reading order."""
        w = max(3, len(str(len(self.geoms))))
        return [f"网格{i:0{w}d}" for i in range(1, len(self.geoms) + 1)]


def _check_size(boundary, size: float, shape: str) -> tuple[float, float, float, float]:
    if shape not in SHAPES:
        raise RiskmapError(f"网格形状应为 square（正方形）或 hex（六边形），而不是 {shape!r}",
                           f"the grid shape is square or hex, not {shape!r}", where="shape")
    if not (size > 0 and np.isfinite(size)):
        raise RiskmapError(f"网格边长应为正数，而不是 {size!r}", f"the cell size must be positive, not {size!r}",
                           where="size")
    if boundary is None or boundary.is_empty or boundary.area <= 0:
        raise RiskmapError("没有可划分网格的边界（县界为空）", "no boundary to divide into cells", where="boundary")
    return tuple(float(v) for v in boundary.bounds)


def _too_many(n: int, size: float) -> RiskmapError:
    return RiskmapError(f"网格过多（约 {n:,} 个 {size / 1000:g} 公里网格），请用更大的网格边长",
                        f"too many cells (about {n:,} of {size / 1000:g} km): use a larger cell size", where="size")


def _square_candidates(bounds, size: float):
    x0, y0, x1, y1 = bounds
    c0, c1 = int(np.floor(x0 / size)), int(np.ceil(x1 / size))
    r0, r1 = int(np.floor(y0 / size)), int(np.ceil(y1 / size))
    nx, ny = max(1, c1 - c0), max(1, r1 - r0)
    if nx * ny > MAX_CELLS:
        raise _too_many(nx * ny, size)
    jj, ii = np.meshgrid(np.arange(nx), np.arange(ny))  # ii: row index from the south
    ii, jj = ii.ravel(), jj.ravel()
    xa, ya = (c0 + jj) * size, (r0 + ii) * size
    geoms = shapely.box(xa, ya, xa + size, ya + size)
    return geoms, (ny - 1 - ii), jj, size * size


def _hex_candidates(bounds, size: float):
    x0, y0, x1, y1 = bounds
    dx, dy = SQRT3 * size, 1.5 * size
    r0, r1 = int(np.floor(y0 / dy)) - 1, int(np.ceil(y1 / dy)) + 1
    c0, c1 = int(np.floor(x0 / dx)) - 1, int(np.ceil(x1 / dx)) + 1
    nx, ny = c1 - c0 + 1, r1 - r0 + 1
    if nx * ny > MAX_CELLS:
        raise _too_many(nx * ny, size)
    jj, ii = np.meshgrid(np.arange(nx), np.arange(ny))
    ii, jj = ii.ravel(), jj.ravel()
    r = r0 + ii
    cx = (c0 + jj) * dx + np.where(r % 2 == 1, dx / 2, 0.0)
    cy = r * dy
    ang = np.radians(30.0 + 60.0 * np.arange(7))  # pointy-top, ring closed
    ring = np.stack([cx[:, None] + size * np.cos(ang)[None, :], cy[:, None] + size * np.sin(ang)[None, :]], axis=2)
    geoms = shapely.polygons(ring)
    return geoms, (ny - 1 - ii), jj, 1.5 * SQRT3 * size * size


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Only the polygon parts of clipped cells (a clip can add lines or points where edges touch)."""
    out = np.asarray(geoms, dtype=object).copy()
    odd = np.flatnonzero(shapely.get_type_id(out) == 7)  # GeometryCollection
    for i in odd.tolist():
        parts = [p for p in shapely.get_parts(out[i]) if p.geom_type in ("Polygon", "MultiPolygon")]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def clip_cells(boundary, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells clipped to ``boundary``: (indices of the cells with area inside, their clipped geometries).
    Cells wholly inside are kept as they are (no intersection computed)."""
    shapely.prepare(boundary)
    hit = np.flatnonzero(shapely.intersects(boundary, geoms))
    out = np.asarray(geoms[hit], dtype=object).copy()
    whole = shapely.contains_properly(boundary, out)
    part = np.flatnonzero(~whole)
    if len(part):
        out[part] = _polygonal(shapely.intersection(out[part], boundary))
    keep = shapely.area(out) > 0
    return hit[keep], out[keep]


def merge_slivers(geoms: np.ndarray, small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Join each piece flagged ``small`` to the neighbour (not small) sharing the longest border with it.
    Returns (kept indices, their geometries); a small piece touching no other stays."""
    geoms = np.asarray(geoms, dtype=object)
    small_i = np.flatnonzero(small)
    big_i = np.flatnonzero(~small)
    if not len(small_i) or not len(big_i):
        return np.arange(len(geoms)), geoms.copy()
    tree = shapely.STRtree(geoms[big_i])
    a, b = tree.query(geoms[small_i], predicate="intersects")
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[small_i[a]]), geoms[big_i[b]]))
    target = {}
    for ai, bi, length in zip(a.tolist(), b.tolist(), shared.tolist()):
        if length > 0 and length > target.get(ai, (None, 0.0))[1]:
            target[ai] = (int(big_i[bi]), length)
    out = geoms.copy()
    joins: dict[int, list[int]] = {}
    for ai, (t, _len) in target.items():
        joins.setdefault(t, []).append(int(small_i[ai]))
    for t, pieces in joins.items():
        out[t] = shapely.union_all([out[t], *out[pieces]])
    gone = np.zeros(len(geoms), dtype=bool)
    gone[[int(small_i[ai]) for ai in target]] = True
    kept = np.flatnonzero(~gone)
    return kept, out[kept]


def grid_cells(boundary, size: float, shape: str = "square", *, sliver: float = SLIVER_SHARE) -> Cells:
    """Square or hexagonal cells of ``size`` metres (side length) over ``boundary`` (metric CRS), clipped
    to it, slivers under ``sliver`` × a whole cell joined to a neighbour; in reading order."""
    bounds = _check_size(boundary, size, shape)
    geoms, rows, cols, full = (_square_candidates if shape == "square" else _hex_candidates)(bounds, size)
    idx, clipped = clip_cells(boundary, geoms)
    rows, cols = rows[idx], cols[idx]
    if sliver > 0 and len(clipped) > 1:
        kept, clipped = merge_slivers(clipped, shapely.area(clipped) < sliver * full)
        rows, cols = rows[kept], cols[kept]
    order = np.lexsort((cols, rows))
    return Cells(clipped[order], rows[order], cols[order], shape, float(size), full)


def check_seats(xy, names: Sequence[str], labels: Sequence | None = None, boundary=None) -> None:
    """Errors naming the rows: a blank or repeated name, two seats at one point, a seat outside ``boundary``."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    labels = list(labels) if labels is not None else list(range(1, len(names) + 1))
    if not len(names):
        raise RiskmapError("没有镇街驻地", "no town seats given", where="seats")
    seen: dict[str, object] = {}
    for name, label in zip(names, labels):
        text = str(name or "").strip()
        if not text:
            raise RiskmapError(f"第 {label} 行没有镇街名称", f"row {label}: no town name", where=f"seats:{label}")
        if text in seen:
            raise RiskmapError(f"镇街名称重复：“{text}”（第 {seen[text]} 行和第 {label} 行）",
                               f"repeated town name {text!r} (rows {seen[text]} and {label})", where=f"seats:{label}")
        seen[text] = label
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise RiskmapError(f"第 {labels[k]} 行（{names[k]}）没有有效坐标", f"row {labels[k]} ({names[k]}): no valid "
                           "coordinates", where=f"seats:{labels[k]}")
    _u, first, inverse = np.unique(np.round(xy, 3), axis=0, return_index=True, return_inverse=True)
    dup = np.flatnonzero(first[inverse.ravel()] != np.arange(len(xy)))
    if len(dup):
        k, j = int(dup[0]), int(first[inverse.ravel()[dup[0]]])
        raise RiskmapError(f"第 {labels[j]} 行（{names[j]}）和第 {labels[k]} 行（{names[k]}）的驻地坐标相同",
                           f"rows {labels[j]} ({names[j]}) and {labels[k]} ({names[k]}) have the same seat",
                           where=f"seats:{labels[k]}")
    if boundary is not None:
        shapely.prepare(boundary)
        outside = np.flatnonzero(~shapely.intersects_xy(boundary, xy[:, 0], xy[:, 1]))
        if len(outside):
            which = "、".join(f"第 {labels[k]} 行（{names[k]}）" for k in outside[:5].tolist())
            which_en = ", ".join(f"row {labels[k]} ({names[k]})" for k in outside[:5].tolist())
            more = f" 等 {len(outside)} 个" if len(outside) > 5 else ""
            raise RiskmapError(f"镇街驻地不在县域内：{which}{more}", f"town seats outside the boundary: {which_en}",
                               where=f"seats:{labels[int(outside[0])]}")


def seat_cells(boundary, xy, names: Sequence[str], labels: Sequence | None = None) -> np.ndarray:
    """The Voronoi cell of each seat (metric x, y) clipped to ``boundary``, in the order of the seats."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    check_seats(xy, names, labels, boundary)
    if boundary.is_empty or boundary.area <= 0:
        raise RiskmapError("没有可划分的边界（县界为空）", "no boundary to divide", where="boundary")
    if len(xy) == 1:
        return np.array([boundary], dtype=object)
    points = shapely.points(xy)
    x0, y0, x1, y1 = boundary.bounds
    reach = shapely.box(x0, y0, x1, y1).buffer(max(x1 - x0, y1 - y0))
    regions = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=reach, ordered=True))
    if len(regions) != len(xy):  # not expected with distinct points; fall back to matching by containment
        tree = shapely.STRtree(regions)
        p, r = tree.query(points, predicate="within")
        regions = regions[r[np.argsort(p)]]
    else:
        # ordered=True follows the input order; check it, since GEOS may still reorder
        ok = shapely.contains(regions, points) | shapely.touches(regions, points)
        if not ok.all():
            tree = shapely.STRtree(regions)
            p, r = tree.query(points, predicate="intersects")
            first = {}
            for pi, ri in zip(p.tolist(), r.tolist()):
                first.setdefault(pi, ri)
            regions = regions[[first[i] for i in range(len(xy))]]
    return _polygonal(shapely.intersection(regions, boundary))
