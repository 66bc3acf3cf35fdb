"""The process's memory allocator, set once at start-up.

glibc's malloc gives each thread that allocates an arena of its own (up to 8 per core) and keeps what is freed
there for reuse. riskmap's loader threads and render workers each allocate large arrays and 8 MB layer images,
so freed memory piled up in several arenas: the ×10 city (1M enterprises) peaked at 960 MB in the canvas
benchmark, 771 MB with two arenas (same session, same timings within noise). :func:`limit_arenas` caps them; it
does nothing on other C libraries and systems (Windows, macOS), whose allocators behave otherwise.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

MALLOC_ARENAS = 2  # the main thread's arena and one shared by all the others
_M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_arenas(n: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``n`` (call before starting threads); True when the C library took it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # another C library (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(_M_ARENA_MAX, int(n)) == 1
