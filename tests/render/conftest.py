"""Helpers for the renderer tests: hand-built layers in a metric map CRS, rendered offscreen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import geopandas as gpd  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402

from riskmap.layers import parse_layer  # noqa: E402

MAP_EPSG = 4544  # CGCS2000 / 3-degree Gauss-Kruger CM 105E


def points_project(tmp_path_factory, name: str, seed: int):
    """A GeoPackage project of 3 000 generated enterprises (tests/store/test_viewport.py), opened: yields
    (project, its data); for module fixtures."""
    from riskmap.store import Project
    from tests.store.test_viewport import make_points_project

    path = tmp_path_factory.mktemp(name) / "p.gpkg"
    data = make_points_project(path, n=3000, seed=seed, edge=False)
    project = Project.open(path)
    yield project, data
    project.close()


def layer_def(id="t", geometry="point", z=50, style=None, label=None, name=("测试", "Test")):
    data = {"id": id, "table": id, "geometry": geometry, "group": "zones", "z": z,
            "name": {"zh": name[0], "en": name[1]}, "style": style or {"type": "single", "fill": "#000000"}}
    if label:
        data["label"] = label
    return parse_layer(data)


def frame(geoms, **cols):
    """A GeoDataFrame already in the map CRS (metres)."""
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=MAP_EPSG)


def rgb(img, x, y):
    c = QColor(img.pixel(int(x), int(y)))
    return c.red(), c.green(), c.blue()


def close(a, b, tol=3):
    return all(abs(int(p) - int(q)) <= tol for p, q in zip(a, b))


@pytest.fixture
def app(qapp):
    from riskmap.render import ensure_fonts

    ensure_fonts()
    return qapp
