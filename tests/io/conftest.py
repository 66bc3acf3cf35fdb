"""Fixtures for the import tests: a writable demo project, points inside its county, the CLI, hashes."""

from __future__ import annotations

import hashlib

import pytest
import shapely

from riskmap.store import Project


def sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="session")
def county_facts(demo_path):
    """The demo county (EPSG:4490), its town polygons and names, read once."""
    with Project.open(demo_path, readonly=True) as p:
        zones = p.read_table("zones", columns=["id", "name", "kind"])
        ents = p.read_table("enterprises", columns=["id", "name"])
        epsg = p.metric_epsg
    county = shapely.union_all(zones[zones["kind"] == "county"].geometry.to_numpy())
    towns = zones[zones["kind"] == "town"].reset_index(drop=True)
    return {"county": county, "towns": towns, "epsg": epsg, "enterprises": ents.reset_index(drop=True)}


@pytest.fixture
def inside_points(county_facts):
    """``inside_points(n)`` → n (lon, lat) pairs inside n different towns (6 decimals)."""

    def make(n: int) -> list[tuple[float, float]]:
        towns = county_facts["towns"]
        assert n <= len(towns)
        out = []
        for i in range(n):
            p = shapely.point_on_surface(towns.geometry.iat[i])
            q = (round(p.x, 6), round(p.y, 6))
            assert towns.geometry.iat[i].contains(shapely.Point(q))
            out.append(q)
        return out

    return make


@pytest.fixture
def project_path(demo_copy):
    """A writable copy of the demo project (path)."""
    return demo_copy


@pytest.fixture
def empty_project(tmp_path):
    """A new project with no county (no place check)."""
    path = tmp_path / "empty.gpkg"
    Project.create(path, name="空项目").close()
    return path


@pytest.fixture
def unchanged():
    """``with unchanged(path): …`` asserts the file is byte-for-byte the same afterwards."""
    import contextlib

    @contextlib.contextmanager
    def check(path):
        before = sha256(path)
        yield
        assert sha256(path) == before, "the project file changed"

    return check

