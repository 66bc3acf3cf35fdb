"""Fixtures for the export tests: the demo project open read-only, its layers, headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest



@pytest.fixture(scope="module")
def demo_source(demo_open):
    from riskmap.export.base import collect_layers

    return collect_layers(demo_open)


@pytest.fixture(scope="module")
def demo_tables(demo_open):
    """Raw tables read straight from the store, for counting by hand."""
    return {
        "enterprises": demo_open.read_table("enterprises"),
        "towns": demo_open.read_table("zones", where="kind = 'town'"),
        "zones": demo_open.read_table("zones"),
        "dangers": demo_open.read_table("hidden_dangers"),
        "lifelines": demo_open.read_table("lifelines"),
    }


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--enable-logging=stderr", "--v=0", "--virtual-time-budget=4000"]


def _chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture
def chromium():
    """``chromium(url, *extra_flags) -> CompletedProcess`` with a fresh profile; skips when absent."""
    binary = _chromium_binary()
    if binary is None:
        pytest.skip("headless Chromium is not installed (scripts/system-deps.sh test installs Debian's chromium)")

    def run(url: str, *extra: str) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix="rm-chrome-") as profile:
            return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
                                  capture_output=True, text=True, timeout=120)

    return run
