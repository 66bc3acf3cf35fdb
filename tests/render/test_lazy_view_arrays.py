"""A lazy line or polygon layer's view taken from its compact arrays (LazyPrepared._arrays_prepared): the view's
features with all their parts, in order, renumbered, with their classes and the layer's colours, as a loop over
the arrays takes them (tests/render/test_lazy_shapes.py's project)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmap.layers import load_catalogue
from tests.render.test_lazy_shapes import EPSG, make_shapes_project


@pytest.fixture
def project(tmp_path):
    from riskmap.store import Project

    make_shapes_project(tmp_path / "shapes.gpkg")
    project = Project.open(tmp_path / "shapes.gpkg")
    yield project
    project.close()


def _loop_view(sh, feats):
    coords, offsets, part_feature, part_bounds = [], [0], [], []
    for k, f in enumerate(feats):
        for p in np.flatnonzero(sh["part_feature"] == f):
            part = sh["coords"][sh["offsets"][p]:sh["offsets"][p + 1]]
            coords.extend(part.tolist())
            offsets.append(offsets[-1] + len(part))
            part_feature.append(k)
            part_bounds.append(sh["part_bounds"][p].tolist())
    return coords, offsets, part_feature, part_bounds


@pytest.mark.parametrize("layer, n", [("lifelines", 11), ("grids", 25)])
def test_view_arrays_as_a_loop_takes_them(project, layer, n):
    from riskmap.render.lazy import LazyPrepared

    lz = LazyPrepared(project, load_catalogue()[layer], EPSG, n)
    sh = lz._shape_data()
    multi = int(np.flatnonzero(np.bincount(sh["part_feature"], minlength=len(sh["id"])) != 1)[0])
    rng = np.random.default_rng(4)
    for feats in (np.array([multi]), np.array([0, multi, len(sh["id"]) - 1]),
                  np.sort(rng.choice(len(sh["id"]), 5, replace=False)), np.zeros(0, dtype=np.int64)):
        feats = np.unique(feats)
        prep = lz._arrays_prepared(feats, None)
        coords, offsets, part_feature, part_bounds = _loop_view(sh, feats)
        assert prep.n == len(feats)
        assert prep.coords.reshape(-1, 2).tolist() == coords
        assert prep.offsets.tolist() == offsets
        assert prep.part_feature.tolist() == part_feature
        assert prep.part_bounds.reshape(-1, 4).tolist() == part_bounds
        assert prep.feature_parts.tolist() == np.searchsorted(part_feature, np.arange(len(feats) + 1)).tolist()
        assert prep.ids.tolist() == sh["id"][feats].tolist() and prep.cls.tolist() == sh["cls"][feats].tolist()
        assert prep.classes == lz.classes and prep.class_order == lz.class_order
        assert prep.fill_colours == lz.fill_colours and prep.stroke_colours == lz.stroke_colours
        assert prep._counts.tolist() == np.bincount(sh["cls"][feats], minlength=len(lz.classes)).tolist()
