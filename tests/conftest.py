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


# ---- PostgreSQL + PostGIS (a throwaway server; tests/pgserver.py) -------------------------------
@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL + PostGIS cluster on a private socket, removed at the end."""
    from pgserver import PgServer, Unavailable

    try:
        server = PgServer.start()
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL + PostGIS unavailable: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_demo_template(pg_server, demo_path):
    """Name of a database holding the demo project (pushed once); clone it, never open it."""
    from riskmap.store.sync import push

    pg_server.create_database("demo_template")
    push(demo_path, pg_server.url("demo_template"))
    return "demo_template"


_pg_counter = iter(range(1, 1_000_000))


@pytest.fixture
def pg_demo_url(pg_server, pg_demo_template):
    """URL (superuser) of a private copy of the demo project in PostgreSQL; dropped after the test."""
    name = f"demo_{next(_pg_counter)}"
    url = pg_server.create_database(name, template=pg_demo_template)
    yield url
    pg_server.drop_database(name)


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def any_store(request):
    """The demo project, open and writable, on each store in turn: GeoPackage file and PostGIS."""
    from riskmap.store import Project

    if request.param == "gpkg":
        target = request.getfixturevalue("demo_copy")
    else:
        target = request.getfixturevalue("pg_demo_url")
    project = Project.open(target)
    yield project
    project.close()
