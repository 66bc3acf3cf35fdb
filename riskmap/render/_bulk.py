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

MOVE, LINE, CURVE, CURVE_DATA = 0, 1, 2, 3
_ELEMENT = np.dtype([("t", "<i4"), ("x", "<f8"), ("y", "<f8")])


def make_path(xy: np.ndarray, types: np.ndarray, fill_rule=Qt.FillRule.WindingFill) -> QPainterPath:
    """A QPainterPath from (n, 2) coordinates and element types (MOVE/LINE/CURVE/CURVE_DATA)."""
    n = len(xy)
    path = QPainterPath()
    if n == 0:
        return path
    buf = np.empty(n + 1, dtype=_ELEMENT)  # one spare record holds the count header and the trailer
    body = buf[:n]
    body["t"] = types
    body["x"] = xy[:, 0]
    body["y"] = xy[:, 1]
    moves = np.flatnonzero(types == MOVE)
    c_start = int(moves[-1]) if len(moves) else 0
    raw = (np.int32(n).tobytes() + body.tobytes()
           + np.array([c_start, 1 if fill_rule == Qt.FillRule.WindingFill else 0], dtype="<i4").tobytes())
    data = QByteArray(raw)
    stream = QDataStream(data)  # read-only stream over a copy; ``data`` must stay alive while reading
    stream.setByteOrder(QDataStream.ByteOrder.LittleEndian)
    stream >> path
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
    n = len(centres)
    f = np.zeros((n, 10), dtype=np.float64)
    f[:, 0:2] = centres
    f[:, 4] = width
    f[:, 5] = height
    f[:, 6] = 1.0  # scaleX
    f[:, 7] = 1.0  # scaleY
    f[:, 9] = 1.0  # opacity
    return f


def draw_fragments(painter: QPainter, frag: np.ndarray, pixmap) -> None:
    """Stamp ``pixmap`` at every row of a :func:`fragments` array in one call."""
    if len(frag) == 0:
        return
    frag = np.ascontiguousarray(frag, dtype=np.float64)
    first = shiboken6.wrapInstance(frag.ctypes.data, QPainter.PixmapFragment)
    painter.drawPixmapFragments(first, len(frag), pixmap)


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
    q = np.floor(xy / tol)
    keep = np.empty(n, dtype=bool)
    keep[0] = True
    np.any(q[1:] != q[:-1], axis=1, out=keep[1:])
    starts = offsets[:-1]
    keep[starts[starts < n]] = True
    ends = offsets[1:] - 1
    keep[ends[ends >= 0]] = True
    if keep.all():
        return xy, offsets, None
    csum = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep, out=csum[1:])
    return xy[keep], csum[offsets], keep
