"""Qt's heavy raster calls with Python's GIL released, so that layers paint in parallel on threads.

PySide6 6.11 holds the GIL through every wrapped call: while ``QPainter.drawPath`` strokes a 1M-vertex path
(0.36 s) no other Python thread runs, and two threads painting two images take as long as one after the other.
ctypes releases the GIL around a foreign call, so this module calls the same exported Qt functions through ctypes
on the C++ objects behind the Python wrappers (``shiboken6.getCppPointer``): the drawing is Qt's own, pixel for
pixel; only the lock is let go. Measured: two threads stroking 200 paths into two images 0.44 s instead of 0.81 s
through the binding (0.80 s one after the other).

The functions are found by their exported names in the Qt GUI library PySide6 has already loaded (Itanium C++
names on Linux and other ELF systems, MSVC names on Windows). Where the library or a name is not found (another
Qt build or ABI), or with ``RISKMAP_NATIVE=0`` in the environment, each function falls back to the binding's call:
the same pixels, without the parallelism. :func:`available` says which.

The caller keeps the Python wrappers alive for the call's length (they are its arguments) and must not use the
same painter, path or image from another thread meanwhile: the rules of QPainter on a QImage anyway.
"""

from __future__ import annotations

import ctypes
import os
import sys

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter

# name: (Itanium name, MSVC x64 name, argument types after the first object pointer)
_SYMBOLS = {
    "draw_path": ("_ZN8QPainter8drawPathERK12QPainterPath",
                  "?drawPath@QPainter@@QEAAXAEBVQPainterPath@@@Z", [ctypes.c_void_p]),
    "draw_image": ("_ZN8QPainter9drawImageERK7QPointFRK6QImage",
                   "?drawImage@QPainter@@QEAAXAEBVQPointF@@AEBVQImage@@@Z", [ctypes.c_void_p, ctypes.c_void_p]),
    "draw_image_rect": ("_ZN8QPainter9drawImageERK6QRectFRK6QImageS2_6QFlagsIN2Qt19ImageConversionFlagEE",
                        "?drawImage@QPainter@@QEAAXAEBVQRectF@@AEBVQImage@@0V?$QFlags@W4ImageConversionFlag@Qt@@@@@Z",
                        [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]),
    "draw_fragments": ("_ZN8QPainter19drawPixmapFragmentsEPKNS_14PixmapFragmentEiRK7QPixmap6QFlagsINS_18Pixmap"
                       "FragmentHintEE",
                       "?drawPixmapFragments@QPainter@@QEAAXPEBVPixmapFragment@1@HAEBVQPixmap@@V?$QFlags@W4Pixmap"
                       "FragmentHint@QPainter@@@@@Z", [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]),
    "read_path": ("_ZrsR11QDataStreamR12QPainterPath",
                  "??5@YAAEAVQDataStream@@AEAV0@AEAVQPainterPath@@@Z", [ctypes.c_void_p]),
}


def _gui_library():
    """The Qt GUI library already loaded by PySide6.QtGui (None when not found)."""
    try:
        if sys.platform == "win32":
            return ctypes.CDLL("Qt6Gui.dll")
        if sys.platform == "darwin":
            return None
        return ctypes.CDLL("libQt6Gui.so.6", mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
    except OSError:
        return None


def _load() -> dict:
    if os.environ.get("RISKMAP_NATIVE", "1") == "0":
        return {}
    lib = _gui_library()
    if lib is None:
        return {}
    out = {}
    for name, (itanium, msvc, args) in _SYMBOLS.items():
        try:
            fn = getattr(lib, msvc if sys.platform == "win32" else itanium)
        except AttributeError:
            continue
        fn.argtypes = [ctypes.c_void_p, *args]
        fn.restype = ctypes.c_void_p if name == "read_path" else None
        out[name] = fn
    return out


_FN = _load()


def available() -> list[str]:
    """The functions that release the GIL here (the others fall back to the binding)."""
    return sorted(_FN)


def _ptr(obj) -> int:
    return shiboken6.getCppPointer(obj)[0]


def draw_path(painter: QPainter, path) -> None:
    """``painter.drawPath(path)``."""
    fn = _FN.get("draw_path")
    if fn is None:
        painter.drawPath(path)
    else:
        fn(_ptr(painter), _ptr(path))


def draw_image(painter: QPainter, at: QPointF, image) -> None:
    """``painter.drawImage(at, image)``."""
    fn = _FN.get("draw_image")
    if fn is None:
        painter.drawImage(at, image)
    else:
        fn(_ptr(painter), _ptr(at), _ptr(image))


def draw_image_rect(painter: QPainter, target: QRectF, image) -> None:
    """``painter.drawImage(target, image)``: the whole image scaled into ``target``."""
    fn = _FN.get("draw_image_rect")
    if fn is None:
        painter.drawImage(target, image)
    else:
        source = QRectF(0.0, 0.0, float(image.width()), float(image.height()))
        fn(_ptr(painter), _ptr(target), _ptr(image), _ptr(source), 0)


def draw_fragments(painter: QPainter, frag: np.ndarray, pixmap) -> None:
    """``painter.drawPixmapFragments`` of a C-contiguous float64 array of QPainter::PixmapFragment rows (n, 10)
    (:func:`riskmap.render._bulk.fragments`), which must outlive the call."""
    fn = _FN.get("draw_fragments")
    if fn is None:
        first = shiboken6.wrapInstance(frag.ctypes.data, QPainter.PixmapFragment)
        painter.drawPixmapFragments(first, len(frag), pixmap)
    else:
        fn(_ptr(painter), frag.ctypes.data, len(frag), _ptr(pixmap), 0)


def read_path(stream, path) -> None:
    """``stream >> path`` (a QDataStream into a QPainterPath)."""
    fn = _FN.get("read_path")
    if fn is None:
        stream >> path
    else:
        fn(_ptr(stream), _ptr(path))
