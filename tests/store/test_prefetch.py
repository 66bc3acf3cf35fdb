"""A project file opened is read ahead into the page cache (riskmap.store.prefetch): the pages are resident
afterwards, asked of the kernel by mincore, where they were not before."""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
import time

import pytest

import riskmap.store.prefetch as prefetch_module
from riskmap.store import Project

pytestmark = pytest.mark.skipif(not hasattr(os, "posix_fadvise") or not sys.platform.startswith("linux"),
                                reason="posix_fadvise and mincore are Linux's")


def _resident_share(path) -> float:
    """The share of the file's pages in the page cache (mincore on a private mapping of it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    size = os.path.getsize(path)
    n = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vec = (ctypes.c_ubyte * n)()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY) as m:
        anchor = ctypes.c_char.from_buffer(m)
        try:
            assert libc.mincore(ctypes.addressof(anchor), size, vec) == 0, ctypes.get_errno()
        finally:
            del anchor
    return sum(v & 1 for v in vec) / n


def _evicted_file(tmp_path, size=24 << 20):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(size))
    prefetch_module.evict(path)
    if _resident_share(path) > 0.2:
        pytest.skip("this file system keeps the file's pages (no eviction to read ahead after)")
    return path


def _wait_resident(path, share=0.95, timeout=10.0) -> float:
    end = time.monotonic() + timeout
    got = _resident_share(path)
    while got < share and time.monotonic() < end:
        time.sleep(0.02)
        got = _resident_share(path)
    return got


def test_prefetch_reads_the_whole_file_into_the_page_cache(tmp_path):
    if prefetch_module.file_system(tmp_path) not in prefetch_module.LOCAL_FILE_SYSTEMS:
        pytest.skip(f"the temporary folder is on {prefetch_module.file_system(tmp_path)}: not read ahead")
    path = _evicted_file(tmp_path)
    thread = prefetch_module.prefetch(path)
    assert thread is not None and thread.daemon
    thread.join(10)
    assert _wait_resident(path) >= 0.95  # every step of PREFETCH_STEP asked for, not the kernel's window only


def test_files_too_large_for_the_memory_or_the_cap_are_left_alone(tmp_path, monkeypatch):
    path = _evicted_file(tmp_path, 4 << 20)
    monkeypatch.setattr(prefetch_module, "PREFETCH_MAX_BYTES", 1 << 20)
    assert prefetch_module.prefetch(path) is None
    time.sleep(0.2)
    assert _resident_share(path) < 0.2
    monkeypatch.setattr(prefetch_module, "PREFETCH_MAX_BYTES", 4 << 30)
    monkeypatch.setattr(prefetch_module, "_free_memory", lambda: 8 << 20)  # a quarter: 2 MB, under the file
    assert prefetch_module.prefetch(path) is None
    assert prefetch_module.prefetch(tmp_path / "missing.gpkg") is None


def test_files_on_a_network_share_are_left_alone(tmp_path, monkeypatch):
    """The file system is found by the longest mount point above the file (an escaped space in it too); a share
    (cifs) is not read ahead, a local disk is."""
    share = tmp_path / "共享 盘"
    share.mkdir()
    path = share / "p.gpkg"
    path.write_bytes(b"x" * 4096)
    mounts = tmp_path / "mounts"
    escaped = str(share.resolve()).replace(" ", "\\040")
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\n//server/share {escaped} cifs rw 0 0\n"
                      f"tmpfs {tmp_path.resolve()}/other tmpfs rw 0 0\n", encoding="utf-8")
    monkeypatch.setattr(prefetch_module, "MOUNTS", str(mounts))
    assert prefetch_module.file_system(path) == "cifs"
    assert prefetch_module.file_system(tmp_path / "other" / "x.gpkg") == "tmpfs"
    assert prefetch_module.file_system(tmp_path / "other.gpkg") == "ext4"  # (…/other is no folder above it)
    assert prefetch_module.prefetch(path) is None
    assert not prefetch_module.wanted(path, 4096)
    assert prefetch_module.wanted(tmp_path / "other.gpkg", 4096)


def test_opening_a_project_reads_its_file_ahead(tmp_path):
    path = tmp_path / "p.gpkg"
    Project.create(path, name="预读").close()
    prefetch_module.evict(path)
    if _resident_share(path) > 0.2:
        pytest.skip("this file system keeps the file's pages")
    project = Project.open(path)
    try:
        assert _wait_resident(path) >= 0.95
    finally:
        project.close()
