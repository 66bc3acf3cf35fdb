"""Shared fixtures: a demo project built once per test session, copied for tests that write."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory):
    """A 会宁县 demo project (seed 1), built once; do not write to it — use ``demo_copy``."""
    from riskmap.demo import make_demo

    path = tmp_path_factory.mktemp("demo") / "huining.gpkg"
    make_demo(path, place="会宁县", seed=1).close()
    return path


@pytest.fixture
def demo_copy(demo_path, tmp_path):
    """A private copy of the demo project that a test may change."""
    path = tmp_path / "demo.gpkg"
    shutil.copy(demo_path, path)
    return path


@pytest.fixture
def demo_project(demo_copy):
    """The demo copy, open."""
    from riskmap.store import Project

    project = Project.open(demo_copy)
    yield project
    project.close()
