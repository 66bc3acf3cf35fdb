"""The hostile-input suite: one empty project that no case may change."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # hostile_files.py, hostile_cli.py


@pytest.fixture(scope="session")
def hostile_project(tmp_path_factory):
    """An empty project (no county) that every case must leave byte-for-byte as it was."""
    from riskmap.store import Project

    path = tmp_path_factory.mktemp("hostile") / "project.gpkg"
    Project.create(path, name="对抗输入").close()
    return path
