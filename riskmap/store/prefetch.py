"""A project file read into the operating system's page cache ahead of SQLite's own reads.

The first frame of a large project reads pages all over the file (the R-tree, the level index, the lines' and
polygons' blobs) one at a time. From a disk the file is not cached from — the first opening after a restart —
those scattered reads cost more than the frame itself: the ×10 city (a 0.6 GB GeoPackage) took 1.14–1.26 s to its
first frame instead of 0.4–0.56 s. Reading the whole file in order is many times faster than reading it in
SQLite's order (1.8 GB/s against the frame's pace here), so :func:`prefetch` asks the kernel to read it ahead
(``posix_fadvise(WILLNEED)``, in steps: one call for the whole file reads only the kernel's readahead window) on a
daemon thread while the project opens: that first frame in 0.63–0.84 s (bench_city's row for it). The kernel
may drop the pages again under memory pressure; nothing is held by the process (no resident memory of its own),
and files larger than PREFETCH_MAX_BYTES, or than a quarter of the memory available now, are left to SQLite's
reads. So are files on a network share (cifs, nfs …: reading the whole file ahead there would take the link
from SQLite's own reads) and on file systems not known to be local disks. Where the system has no
``posix_fadvise`` (Windows), nothing is done.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PREFETCH_MAX_BYTES = 4 << 30
PREFETCH_STEP = 8 << 20  # bytes asked for per call
MOUNTS = "/proc/self/mounts"


# file systems on a local disk (Linux's names in /proc/self/mounts); others are left to SQLite's reads
LOCAL_FILE_SYSTEMS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "jfs", "reiserfs", "zfs", "vfat",
                                "exfat", "ntfs", "ntfs3", "fuseblk", "hfsplus", "overlay"})


def _free_memory() -> int | None:
    """Memory available for the page cache without swapping (MemAvailable), else the free pages."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def file_system(path: str | os.PathLike) -> str | None:
    """The type of the file system holding ``path`` (the longest mount point above it in MOUNTS), or None where
    that cannot be told."""
    try:
        real = os.path.realpath(path)
        with open(MOUNTS, encoding="utf-8", errors="replace") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    best, kind = "", None
    for fields in mounts:
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def wanted(path: str | os.PathLike, size: int) -> bool:
    """Whether the file ``path`` of ``size`` bytes is read ahead here."""
    if not hasattr(os, "posix_fadvise") or size <= 0 or size > PREFETCH_MAX_BYTES:
        return False
    if file_system(path) not in LOCAL_FILE_SYSTEMS:
        return False
    free = _free_memory()
    return free is None or size <= free // 4


def _read_ahead(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        size = os.fstat(fd).st_size
        for offset in range(0, size, PREFETCH_STEP):
            os.posix_fadvise(fd, offset, PREFETCH_STEP, os.POSIX_FADV_WILLNEED)
    except OSError:  # (an advice refused changes nothing but the speed)
        pass
    finally:
        os.close(fd)


def prefetch(path: str | os.PathLike) -> threading.Thread | None:
    """Start reading ``path`` into the page cache on a daemon thread; the thread, or None when not wanted."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if not wanted(path, size):
        return None
    thread = threading.Thread(target=_read_ahead, args=(path,), name="riskmap-prefetch", daemon=True)
    thread.start()
    return thread


def evict(path: str | os.PathLike) -> bool:
    """The inverse, for measurements and tests: drop the file's pages from the page cache (clean pages: no
    privileges needed), as after a restart. False where the system cannot (no posix_fadvise) or ``path`` is no
    file; whether the pages really went depends on the file system (tmpfs keeps them)."""
    if not hasattr(os, "posix_fadvise") or not Path(path).is_file():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True
