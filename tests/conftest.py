"""Shared fixtures: a demo project built once per test session, copied for tests that write."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from contextlib import redirect_stderr, redirect_stdout

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# what riskmap keeps in the user's cache folder (zoning's enterprise/zone pairs) goes to a private folder
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="riskmap-tests-cache-")


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


@pytest.fixture(scope="module")
def demo_open(demo_path):
    """The shared demo project, open read-only for the module."""
    from riskmap.store import Project

    project = Project.open(demo_path, readonly=True)
    yield project
    project.close()


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


# ---- risk engine: a small hand-built project (towns and grids of known shape, enterprises of known level)

SMALL_LEC = {1: {"L": 10, "E": 6, "C": 7}, 2: {"L": 3, "E": 6, "C": 15}, 3: {"L": 3, "E": 6, "C": 7},
             4: {"L": 1, "E": 1, "C": 1}}  # D = 420, 270, 126, 1


def build_small_project(path):
    """Towns A–G side by side (0.01° wide, 0.01° high, D 0.02° wide) at 105°E 35.5°N, each split into two
    grids (west/east half); enterprises with one LEC-graded risk point each. Returns {"zones", "ents"} ids.

    A: 2 (on the A|B border), 3, 3, 4, 4, 4, 4     B: 2 (same border point), 1, 4, 4
    C: one ungraded                                 D: 1, 1, 1, 4
    E: 4 × 7                                        F|G: 2 on their shared border, G also a 4
    """
    import shapely

    from riskmap.grading.enterprise import derive_level, grade_risk_point
    from riskmap.model import Enterprise, RiskPoint, Zone
    from riskmap.store import Project

    x0, y0, h = 105.0, 35.5, 0.01
    widths = {"A": 1, "B": 1, "C": 1, "D": 2, "E": 1, "F": 1, "G": 1}
    boxes, x = {}, x0
    for name, w in widths.items():
        boxes[name] = (round(x, 6), y0, round(x + w * h, 6), y0 + h)
        x += w * h
    ents = {  # name -> (town, level, (x, y))
        "A|B": (None, 2, (boxes["A"][2], y0 + 0.005)),
        "A3a": ("A", 3, (105.002, 35.502)), "A3b": ("A", 3, (105.003, 35.507)),
        "A4a": ("A", 4, (105.004, 35.503)), "A4b": ("A", 4, (105.006, 35.504)),
        "A4c": ("A", 4, (105.007, 35.506)), "A4d": ("A", 4, (105.008, 35.508)),
        "B1": ("B", 1, (105.013, 35.505)), "B4a": ("B", 4, (105.016, 35.502)), "B4b": ("B", 4, (105.018, 35.508)),
        "Cx": ("C", None, (105.025, 35.505)),
        "D1a": ("D", 1, (105.032, 35.502)), "D1b": ("D", 1, (105.036, 35.506)), "D1c": ("D", 1, (105.044, 35.503)),
        "D4": ("D", 4, (105.047, 35.507)),
        **{f"E4{k}": ("E", 4, (105.0505 + 0.001 * k, 35.501 + 0.001 * k)) for k in range(7)},
        "F|G": (None, 2, (boxes["F"][2], y0 + 0.005)), "G4": ("G", 4, (105.077, 35.505)),
    }

    def build(project):
        with project.session(history=False) as s:
            zones = {}
            for name, (a, b, c, d) in boxes.items():
                town = Zone(name=f"测试{name}镇", kind="town", population=10_000,
                            geom=shapely.MultiPolygon([shapely.box(a, b, c, d)]))
                s.add(town)
                s.flush()
                zones[name] = town.id
                mid = round((a + c) / 2, 6)
                for half, (p, q) in (("西", (a, mid)), ("东", (mid, c))):
                    g = Zone(name=f"测试{name}{half}网格", kind="grid", parent_id=town.id,
                             geom=shapely.MultiPolygon([shapely.box(p, b, q, d)]))
                    s.add(g)
                    s.flush()
                    zones[f"{name}{half}"] = g.id
            ids = {}
            for name, (town, level, (ex, ey)) in ents.items():
                e = Enterprise(name=f"测试企业{name}", industry="gas_station", town=town and f"测试{town}镇",
                               geom=shapely.Point(ex, ey))
                s.add(e)
                s.flush()
                if level is not None:
                    rp = RiskPoint(enterprise_id=e.id, name="风险点1", geom=shapely.Point(ex, ey))
                    s.add(rp)
                    s.flush()
                    grade_risk_point(s, rp, "lec", SMALL_LEC[level], assessor="测试")
                derive_level(s, e, assessor="测试")
                ids[name] = e.id
        project.set_meta(small_ids=__import__("json").dumps({"zones": zones, "ents": ids}))

    Project.create(path, name="小测试项目", place="620422", metric_epsg=4544, build=build).close()
    import json
    with Project.open(path, readonly=True) as p:
        return json.loads(p.meta()["small_ids"])


@pytest.fixture(scope="session")
def small_project_path(tmp_path_factory):
    """A small hand-built project (see ``build_small_project``), built once; copy it before writing."""
    path = tmp_path_factory.mktemp("small") / "small.gpkg"
    ids = build_small_project(path)
    return path, ids


@pytest.fixture
def small_project(small_project_path, tmp_path):
    """A private, open copy of the small project and its ids {"zones": {...}, "ents": {...}}."""
    from riskmap.store import Project

    src, ids = small_project_path
    path = tmp_path / "small.gpkg"
    shutil.copy(src, path)
    project = Project.open(path)
    yield project, ids
    project.close()


def run_cli(*argv) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``riskmap ARGV`` run in this process."""
    from riskmap.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cli():
    """``cli(*args)`` → (exit code, stdout, stderr) of ``riskmap ARGS``."""
    return run_cli


@pytest.fixture(scope="session")
def pingyin_path(tmp_path_factory):
    """A new project for 平阴县 (370124, not a demo place: its boundary only), built once; tests copy it."""
    from riskmap.newproject import new_project

    path = tmp_path_factory.mktemp("pingyin") / "pingyin.gpkg"
    new_project(path, "370124").close()
    return path


@pytest.fixture
def pingyin(pingyin_path, tmp_path):
    """A private copy of the 平阴县 project."""
    path = tmp_path / "py.gpkg"
    shutil.copy(pingyin_path, path)
    return path
