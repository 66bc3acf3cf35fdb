"""Whether a map frame is on the way: a canvas says so (:func:`map_drawing`), and work off the GUI thread that
would slow it (a layer read, a count) waits for it first (:func:`wait_for_map`). Apart from
riskmap.ui.workspace so that the modules it imports can wait too."""

from __future__ import annotations

import threading
import time
import weakref

import shiboken6

MAP_WAIT_S = 2.0  # the longest a background layer read waits for a map frame
_drawing: dict[int, weakref.ref] = {}  # canvases with a map frame on the way
_drawing_lock = threading.Lock()


def map_drawing(canvas, busy: bool) -> None:
    """A canvas tells whether a map frame of it is asked for or being drawn (see :func:`wait_for_map`)."""
    with _drawing_lock:
        if busy:
            _drawing[id(canvas)] = weakref.ref(canvas)
        else:
            _drawing.pop(id(canvas), None)


def _map_busy() -> bool:
    with _drawing_lock:
        for key, ref in list(_drawing.items()):
            canvas = ref()
            if canvas is None or not shiboken6.isValid(canvas):  # gone without saying so
                del _drawing[key]
        return bool(_drawing)


def wait_for_map(timeout: float = MAP_WAIT_S) -> None:
    """Off the GUI thread: wait (at most ``timeout`` s) until no map frame is being drawn. Python threads
    share one interpreter lock, so a layer read beside a render slows both; the frame the user waits for
    goes first (a project's first frame shows before its large layers are read)."""
    if threading.current_thread() is threading.main_thread():
        return
    end = time.monotonic() + timeout
    while _map_busy() and time.monotonic() < end:
        time.sleep(0.01)
