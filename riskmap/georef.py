"""Georeferencing a scanned or drawn plan: the pixel → map transform from control points (numpy only).

A transform is the six numbers of a GDAL geotransform, for pixel corners (col 0, row 0 is the top-left corner
of the top-left pixel): ``x = a + b*col + c*row``, ``y = d + e*col + f*row``, in a metric CRS (the project's
Gauss–Krüger zone). Two control points fix a similarity (shift, rotation, one scale: 4 parameters, exact);
three or more an affine transform by least squares (6 parameters), whose residual per point says how well
the plan fits the map.

>>> t = fit([(0, 0), (100, 0)], [(500.0, 1000.0), (600.0, 1000.0)])
>>> t.method, [round(v, 6) + 0.0 for v in t.transform]
('similarity', [500.0, 1.0, 0.0, 1000.0, 0.0, -1.0])
>>> [round(v, 6) for v in apply(t.transform, 50, 20)]
[550.0, 980.0]
>>> a = fit([(0, 0), (10, 0), (0, 10), (10, 10)], [(0, 0), (20, 0), (0, -20), (20, -20.5)])
>>> a.method, round(a.rms_m, 3), round(a.max_m, 3)
('affine', 0.125, 0.125)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskmap.errors import RiskmapError

Transform = tuple[float, float, float, float, float, float]

# Relative tolerance below which control points count as the same place or as lying on one line
_SAME = 1e-9
_COLLINEAR = 1e-6


@dataclass(frozen=True)
class Fit:
    """A fitted transform and how well it fits its control points."""

    transform: Transform
    residuals_m: np.ndarray  # distance, in the CRS's metres, from each point's mapped pixel to its map position
    rms_m: float
    max_m: float
    method: str  # similarity | affine

    @property
    def scale(self) -> float:
        """Metres per pixel (the square root of the area scale)."""
        return float(np.sqrt(abs(determinant(self.transform))))


def _points(values, what_zh: str, what_en: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise RiskmapError(f"{what_zh}应为数字对", f"{what_en} must be pairs of numbers", where=what_en) from exc
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise RiskmapError(f"{what_zh}应为 (x, y) 数对的列表", f"{what_en} must be a list of (x, y) pairs",
                           where=what_en)
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if len(bad):
        raise RiskmapError(f"控制点 {bad[0] + 1} 的{what_zh}不是有限数", f"control point {bad[0] + 1}: {what_en} not finite",
                           where=f"gcp {bad[0] + 1}")
    return arr


def _check_distinct(arr: np.ndarray, what_zh: str, what_en: str) -> None:
    span = float(np.ptp(arr, axis=0).max()) if len(arr) else 0.0
    tol = max(span, 1.0) * _SAME
    for j in range(1, len(arr)):
        d = np.hypot(*(arr[:j] - arr[j]).T)
        i = int(np.argmin(d))
        if d[i] <= tol:
            raise RiskmapError(f"控制点 {j + 1} 与控制点 {i + 1} 的{what_zh}相同，请删去一个或另选位置",
                               f"control point {j + 1} has the same {what_en} as control point {i + 1}",
                               where=f"gcp {j + 1}")


def _check_not_collinear(arr: np.ndarray, what_zh: str, what_en: str) -> None:
    centred = arr - arr.mean(axis=0)
    sv = np.linalg.svd(centred, compute_uv=False)
    if sv[0] == 0 or sv[1] / sv[0] < _COLLINEAR:
        raise RiskmapError(f"{len(arr)} 个控制点的{what_zh}在一条直线上，无法求仿射变换：请另选不共线的点",
                           f"the {len(arr)} control points' {what_en} lie on one line: choose points not in a line",
                           where="gcps")


def fit(pixels, world) -> Fit:
    """The transform from pixel (col, row) to map (x, y) through the control points.

    2 points: similarity (exact, residuals 0); 3 or more: affine least squares. Fewer than 2 points,
    two points at the same pixel or the same map position, or 3+ points on one line are refused.
    """
    px = _points(pixels, "像素坐标", "pixel position")
    wd = _points(world, "地图坐标", "map position")
    if len(px) != len(wd):
        raise RiskmapError(f"像素坐标 {len(px)} 个，地图坐标 {len(wd)} 个：数目应相同",
                           f"{len(px)} pixel positions but {len(wd)} map positions", where="gcps")
    if len(px) < 2:
        raise RiskmapError(f"至少需要 2 个控制点（现有 {len(px)} 个）", f"at least 2 control points are needed ({len(px)} given)",
                           where="gcps")
    _check_distinct(px, "像素位置", "pixel position")
    _check_distinct(wd, "地图位置", "map position")
    n = len(px)
    # solved about the points' centres: map coordinates of millions of metres keep their precision
    pm, wm = px.mean(axis=0), wd.mean(axis=0)
    col, row = (px - pm).T
    wx, wy = (wd - wm).T
    if n == 2:
        # x = p*col + q*row, y = q*col - p*row about the centres (rotation and one scale; the rows run down)
        m = np.vstack([np.column_stack([col, row]), np.column_stack([-row, col])])
        (p, q), *_ = np.linalg.lstsq(m, np.concatenate([wx, wy]), rcond=None)
        b, c, e, f = p, q, q, -p
        method = "similarity"
    else:
        _check_not_collinear(px, "像素位置", "pixel positions")
        _check_not_collinear(wd, "地图位置", "map positions")
        m = np.column_stack([col, row])
        (b, c), *_ = np.linalg.lstsq(m, wx, rcond=None)
        (e, f), *_ = np.linalg.lstsq(m, wy, rcond=None)
        method = "affine"
    a = wm[0] - b * pm[0] - c * pm[1]
    d = wm[1] - e * pm[0] - f * pm[1]
    t = tuple(float(v) for v in (a, b, c, d, e, f))
    if abs(determinant(t)) < 1e-18:
        raise RiskmapError("控制点无法确定变换（比例为零）", "the control points give no transform (zero scale)", where="gcps")
    # residuals about the centres too (the same numbers, without the rounding of the large offsets)
    res = np.hypot(b * col + c * row - wx, e * col + f * row - wy)
    return Fit(t, res, float(np.sqrt(np.mean(res ** 2))), float(res.max()), method)


def apply(transform, cols, rows):
    """Map (x, y) of pixel positions (scalars or arrays).

    >>> apply((100.0, 2.0, 0.0, 500.0, 0.0, -2.0), [0, 10], [0, 5])
    (array([100., 120.]), array([500., 490.]))
    """
    a, b, c, d, e, f = transform
    scalar = np.isscalar(cols) and np.isscalar(rows)
    cols, rows = np.asarray(cols, dtype=float), np.asarray(rows, dtype=float)
    x, y = a + b * cols + c * rows, d + e * cols + f * rows
    return (float(x), float(y)) if scalar else (x, y)


def determinant(transform) -> float:
    """b*f − c*e: the signed area of one pixel on the map (negative for a north-up image)."""
    _, b, c, _, e, f = transform
    return float(b * f - c * e)


def invert(transform) -> Transform:
    """The map → pixel transform, in the same form (col = a' + b'*x + c'*y, row = d' + e'*x + f'*y).

    >>> t = (100.0, 2.0, 0.0, 500.0, 0.0, -2.0)
    >>> apply(invert(t), 120.0, 490.0)
    (10.0, 5.0)
    """
    a, b, c, d, e, f = (float(v) for v in transform)
    det = b * f - c * e
    if det == 0:
        raise RiskmapError("变换不可逆（比例为零）", "the transform cannot be inverted (zero scale)", where="transform")
    ib, ic, ie, if_ = f / det, -c / det, -e / det, b / det
    return (-(ib * a + ic * d), ib, ic, -(ie * a + if_ * d), ie, if_)


def corners(transform, width: int, height: int) -> np.ndarray:
    """Map positions of the image's four corners, 4×2: top-left, top-right, bottom-right, bottom-left.

    >>> corners((100.0, 2.0, 0.0, 500.0, 0.0, -2.0), 10, 5).tolist()
    [[100.0, 500.0], [120.0, 500.0], [120.0, 490.0], [100.0, 490.0]]
    """
    cols = np.array([0, width, width, 0], dtype=float)
    rows = np.array([0, 0, height, height], dtype=float)
    x, y = apply(transform, cols, rows)
    return np.column_stack([x, y])
