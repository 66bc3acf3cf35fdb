"""Bulk transfer of numpy arrays into Qt geometry (no Python loop per vertex or per feature).

- :func:`make_path` serialises element types and coordinates into a QByteArray that QDataStream reads
  into a QPainterPath in C++ (the pyqtgraph trick, little-endian so numpy needs no byte swap).
- :func:`fragments` / :func:`qlines` wrap numpy memory as the first element of a C++ array
  (``shiboken6.wrapInstance``) for Qt calls that take a pointer and a count:
  ``drawPixmapFragments`` and ``drawLines``. The numpy array must outlive the call.
"""

from __future__ import annotations

import numpy as np
import shiboken6
from PySide6.QtCore import QByteArray, QDataStream, QLineF, Qt
from PySide6.QtGui import QPainter, QPainterPath

from riskmap.render import native

MOVE, LINE, CURVE, CURVE_DATA = 0, 1, 2, 3
_ELEMENT = np.dtype([("t", "<i4"), ("x", "<f8"), ("y", "<f8")])


def make_path(xy: np.ndarray, types: np.ndarray, fill_rule=Qt.FillRule.WindingFill) -> QPainterPath:
    """A QPainterPath from (n, 2) coordinates and element types (MOVE/LINE/CURVE/CURVE_DATA)."""
    n = len(xy)
    path = QPainterPath()
    if n == 0:
        return path
    raw = bytearray(4 + _ELEMENT.itemsize * n + 8)  # the count, the elements, the last subpath's start, the rule
    body = np.ndarray(n, dtype=_ELEMENT, buffer=raw, offset=4)  # written in place: no copies of the records
    body["t"] = types
    body["x"] = xy[:, 0]
    body["y"] = xy[:, 1]
    moves = np.flatnonzero(types == MOVE)
    c_start = int(moves[-1]) if len(moves) else 0
    raw[:4] = np.int32(n).astype("<i4").tobytes()
    raw[-8:] = np.array([c_start, 1 if fill_rule == Qt.FillRule.WindingFill else 0], dtype="<i4").tobytes()
    del body  # (a bytearray with an exported buffer cannot be resized; QByteArray copies it)
    data = QByteArray(raw)
    stream = QDataStream(data)  # read-only stream over a copy; ``data`` must stay alive while reading
    stream.setByteOrder(QDataStream.ByteOrder.LittleEndian)
    native.read_path(stream, path)
    return path


def polyline_types(offsets: np.ndarray) -> np.ndarray:
    """Element types for parts given by ``offsets`` (n_parts + 1): MOVE at each part start, else LINE."""
    n = int(offsets[-1]) if len(offsets) else 0
    t = np.full(n, LINE, dtype=np.int32)
    starts = offsets[:-1]
    t[starts[starts < n]] = MOVE
    return t


def parts_path(xy: np.ndarray, offsets: np.ndarray, fill_rule=Qt.FillRule.WindingFill) -> QPainterPath:
    """One QPainterPath with a subpath per part (polyline or ring)."""
    return make_path(xy, polyline_types(offsets), fill_rule)


def fragments(centres: np.ndarray, width: float, height: float) -> np.ndarray:
    """A (n, 10) float64 array laid out as QPainter::PixmapFragment (x, y = target centre)."""
    # x, y, sourceLeft, sourceTop, width, height, scaleX, scaleY, rotation, opacity: one row repeated, then the
    # centres written in (half the time of zeros filled column by column: 37k in 0.3 ms)
    f = np.tile(np.array([0.0, 0.0, 0.0, 0.0, width, height, 1.0, 1.0, 0.0, 1.0]), (len(centres), 1))
    f[:, 0:2] = centres
    return f


def draw_fragments(painter: QPainter, frag: np.ndarray, pixmap) -> None:
    """Stamp ``pixmap`` at every row of a :func:`fragments` array in one call."""
    if len(frag) == 0:
        return
    native.draw_fragments(painter, np.ascontiguousarray(frag, dtype=np.float64), pixmap)


def draw_segments(painter: QPainter, seg: np.ndarray) -> None:
    """Draw an (n, 4) array of x1, y1, x2, y2 segments in one drawLines call."""
    if len(seg) == 0:
        return
    seg = np.ascontiguousarray(seg, dtype=np.float64)
    first = shiboken6.wrapInstance(seg.ctypes.data, QLineF)
    painter.drawLines(first, len(seg))


def thin_vertices(xy: np.ndarray, offsets: np.ndarray, tol: float = 0.5):
    """Drop consecutive vertices in the same ``tol``-pixel cell (part ends kept): (xy, offsets, kept mask|None)."""
    n = len(xy)
    if n < 64:
        return xy, offsets, None
    qx, qy = np.floor(xy[:, 0] / tol), np.floor(xy[:, 1] / tol)
    keep = np.empty(n, dtype=bool)
    keep[0] = True
    np.not_equal(qx[1:], qx[:-1], out=keep[1:])  # (column by column: a row-wise any over (n, 2) is slow)
    keep[1:] |= qy[1:] != qy[:-1]
    starts = offsets[:-1]
    keep[starts[starts < n]] = True
    ends = offsets[1:] - 1
    keep[ends[ends >= 0]] = True
    if keep.all():
        return xy, offsets, None
    csum = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep, out=csum[1:])
    return xy[keep], csum[offsets], keep


FAR_PX = 4096.0  # run ends farther than this outside the frame are moved along their segment to this box
CULL_OUTSIDE_SHARE = 0.3  # cut polylines when at least this share of their vertices lies outside the frame
CULL_MIN_VERTICES = 1500  # fewer vertices cost less to draw than to cut


def cull_segments(xy: np.ndarray, offsets: np.ndarray, width: float, height: float, margin: float,
                  far: float = FAR_PX, min_outside: float = CULL_OUTSIDE_SHARE):
    """Polylines (pixel coordinates) cut to the part that can show in a ``width`` × ``height`` frame.

    Vertices whose segments all miss the frame widened by ``margin`` are dropped, and a part splits where
    it leaves the frame; a run end farther than ``far`` px outside moves along its segment onto that box
    (the drawn segment is the same line, and coordinates stay small for Qt's fixed-point rasteriser).
    Few vertices (under CULL_MIN_VERTICES), and lines mostly in the frame (less than ``min_outside`` of the
    vertices outside), are left alone unless a vertex lies beyond ``far``: Qt's own clipping of a few
    outside segments costs less than cutting.
    Returns None when nothing changes, else ``(xy, offsets, rows, towards, t)``: output vertex ``i`` is
    ``xy[rows[i]] + t[i] * (xy[towards[i]] - xy[rows[i]])`` of the input, so per-vertex data (normals)
    interpolate the same way.
    """
    n = len(xy)
    if n < 2 or len(offsets) < 2:
        return None
    x, y = xy[:, 0], xy[:, 1]
    lo_x, lo_y, hi_x, hi_y = -margin, -margin, width + margin, height + margin
    beyond = (x < -far) | (x > width + far) | (y < -far) | (y > height + far)
    if not beyond.any():
        if n < CULL_MIN_VERTICES:
            return None
        outside = n - np.count_nonzero((x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y))
        if outside < min_outside * n:
            return None
    xa, xb, ya, yb = x[:-1], x[1:], y[:-1], y[1:]
    seg = ((np.maximum(xa, xb) >= lo_x) & (np.minimum(xa, xb) <= hi_x)
           & (np.maximum(ya, yb) >= lo_y) & (np.minimum(ya, yb) <= hi_y))
    starts = offsets[:-1]
    is_start = np.zeros(n, dtype=bool)
    is_start[starts[starts < n]] = True
    seg &= ~is_start[1:]  # the step from one part's last vertex to the next part's first is no segment
    keep = np.zeros(n, dtype=bool)
    keep[:-1] |= seg
    keep[1:] |= seg
    rows = np.flatnonzero(keep)
    if not len(rows):
        return xy[:0], np.zeros(1, dtype=np.int64), rows, rows, np.zeros(0)
    run_start = is_start[rows]
    run_start[0] = True
    run_start[1:] |= rows[1:] != rows[:-1] + 1
    new_off = np.append(np.flatnonzero(run_start), len(rows)).astype(np.int64)
    first_pos, last_pos = new_off[:-1], new_off[1:] - 1
    first, last = rows[first_pos], rows[last_pos]
    clip_first, clip_last = beyond[first], beyond[last]
    if len(rows) == n and not clip_first.any() and not clip_last.any():
        return None
    out = xy[rows]
    towards = rows.copy()
    t = np.zeros(len(rows))
    box = (-far, -far, width + far, height + far)
    for pos, p, step in ((first_pos[clip_first], first[clip_first], 1), (last_pos[clip_last], last[clip_last], -1)):
        if not len(p):
            continue
        q = p + step  # the run's next vertex inwards
        tt = _entry(xy[p], xy[q], box)
        out[pos] = xy[p] + tt[:, None] * (xy[q] - xy[p])
        towards[pos] = q
        t[pos] = tt
    return out, new_off, rows, towards, t


def _entry(p: np.ndarray, q: np.ndarray, box) -> np.ndarray:
    """Where segments p→q enter ``box`` (parameter 0..1, Liang–Barsky); 0 when they miss it."""
    x0, y0, x1, y1 = box
    t_in = np.zeros(len(p))
    t_out = np.ones(len(p))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, lo, hi in ((0, x0, x1), (1, y0, y1)):
            d = q[:, k] - p[:, k]
            a = (lo - p[:, k]) / d
            b = (hi - p[:, k]) / d
            moving = d != 0
            inside = (p[:, k] >= lo) & (p[:, k] <= hi)
            t_in = np.maximum(t_in, np.where(moving, np.minimum(a, b), np.where(inside, -np.inf, np.inf)))
            t_out = np.minimum(t_out, np.where(moving, np.maximum(a, b), np.where(inside, np.inf, -np.inf)))
    return np.where(t_in <= t_out, t_in, 0.0)
