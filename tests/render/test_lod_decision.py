"""One level of detail per layer and band (riskmap.render.lazy.band_of): decimate() works part by part (a subset of
parts decimates to the vertices those parts have in the whole layer), a lazy layer's partial view is decimated to
exactly the whole band's vertices for its features, and it is drawn pixel for pixel as the eager layer of the same
rows at the same settings. On generated city data (bench/make_city_data.py: one county's random-walk lifelines and
Voronoi grid cells), with LOD_VERTICES lowered so that the small layer qualifies."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

import riskmap.render.lazy as lazy
from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, render


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """A GeoPackage county project of 3 000 generated lifelines and 400 grid cells: (path, epsg)."""
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)  # the repository's bench/ (pytest puts it there when run from the repository)
    from bench.make_city_data import METRIC_EPSG, make_city, write_project

    data = make_city(0, n_counties=1, n_towns=4, n_enterprises=0, n_grids=400, n_lifelines=3000)
    path = tmp_path_factory.mktemp("lod") / "county.gpkg"
    write_project(path, data, [data.counties["adcode"].iloc[0]])
    return path, METRIC_EPSG


@pytest.fixture
def opened(county, monkeypatch):
    from riskmap.store import Project

    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    path, epsg = county
    project = Project.open(path)
    yield project, epsg
    project.close()


def _lazy(project, epsg, layer_id="lifelines"):
    return lazy.LazyPrepared(project, load_catalogue()[layer_id], epsg, 0)


def _subset(coords, offsets, parts):
    lengths = offsets[parts + 1] - offsets[parts]
    sub = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=sub[1:])
    return coords[lazy._runs(offsets[parts], lengths)], sub


@pytest.mark.parametrize("layer_id", ["lifelines", "grids"])
def test_decimate_of_some_parts_equals_those_parts_of_the_whole(opened, layer_id):
    project, epsg = opened
    sh = _lazy(project, epsg, layer_id)._shape_data()
    coords, offsets = sh["coords"], sh["offsets"]
    closed = layer_id == "grids"
    rng = np.random.default_rng(3)
    n_parts = len(offsets) - 1
    for tol in (8.0, 32.0, 128.0, 512.0):
        c_all, o_all = lazy.decimate(coords, offsets, tol, closed=closed)
        assert len(o_all) == len(offsets) and len(c_all) < len(coords)
        for size in (1, 7, n_parts // 10, n_parts // 2):
            parts = np.sort(rng.choice(n_parts, size=size, replace=False))
            c, o = lazy.decimate(*_subset(coords, offsets, parts), tol, closed=closed)
            want_c, want_o = _subset(c_all, o_all, parts)
            assert np.array_equal(o, want_o) and np.array_equal(c, want_c), (tol, size)


@pytest.mark.parametrize("layer_id", ["lifelines", "grids"])
def test_decimate_in_blocks_of_parts_equals_all_at_once(opened, layer_id, monkeypatch):
    project, epsg = opened
    sh = _lazy(project, epsg, layer_id)._shape_data()
    closed = layer_id == "grids"
    for tol in (16.0, 128.0):
        monkeypatch.setattr(lazy, "DECIMATE_CHUNK", 10**9)
        c1, o1 = lazy.decimate(sh["coords"], sh["offsets"], tol, closed=closed)
        monkeypatch.setattr(lazy, "DECIMATE_CHUNK", 700)  # dozens of blocks, cut between parts
        c2, o2 = lazy.decimate(sh["coords"], sh["offsets"], tol, closed=closed)
        assert len(c1) < len(sh["coords"]) and np.array_equal(o1, o2) and np.array_equal(c1, c2)


def _between(lz, view, monkeypatch):
    """LOD_VERTICES set between the view's own vertices and the whole layer's (the city's lifelines at 5x: 0.4M
    and 2.3M against 0.5M), as a view's own count would have drawn it exactly."""
    sh = lz._shape_data()
    monkeypatch.setattr(lazy, "LOD_VERTICES", len(sh["coords"]) // 2)
    feats = np.flatnonzero(lz.visible_mask(view.extent, lz._margin(view)))
    fp = sh["feature_parts"]
    own = int(np.sum(sh["offsets"][fp[feats + 1]] - sh["offsets"][fp[feats]]))
    assert own < lazy.LOD_VERTICES <= len(sh["coords"])


def test_a_partial_view_has_the_whole_bands_vertices_for_its_features(opened, monkeypatch):
    project, epsg = opened
    lz = _lazy(project, epsg)
    sh = lz._shape_data()
    full = MapSettings(lz.total_bounds(), 300, 200, crs_epsg=epsg)
    zoomed = full.zoomed(5.0)
    _between(lz, zoomed, monkeypatch)
    tol = lz._tolerance(zoomed)
    assert tol is not None  # the band decimates at 5x (else the test would compare exact lines)
    part = lz.for_view(zoomed, labels=False)  # decimated on its own: no band of that tolerance kept yet
    assert part.lod_tolerance == tol and 0 < part.n < len(sh["id"]) / 2
    decimated = []
    real = lazy.decimate
    monkeypatch.setattr(lazy, "decimate", lambda c, *a, **k: decimated.append(len(c)) or real(c, *a, **k))
    panned = lz.for_view(zoomed.panned(100, 40), labels=False)  # only the parts new to the band decimated now
    assert panned.lod_tolerance == tol and 0 < sum(decimated) < len(lz._arrays_prepared(
        np.searchsorted(sh["id"], panned.ids), None).coords)
    monkeypatch.setattr(lazy, "decimate", real)
    whole = lz._arrays_prepared(np.arange(len(sh["id"])), tol)
    assert whole.lod_tolerance == tol and len(whole.coords) <= lazy.LOD_KEEP * len(sh["coords"])
    for view in (part, panned):
        feats = np.searchsorted(sh["id"], view.ids)
        parts = lazy._runs(sh["feature_parts"][feats], np.diff(sh["feature_parts"])[feats])
        want_c, want_o = _subset(whole.coords, whole.offsets, parts)
        assert np.array_equal(view.offsets, want_o) and np.array_equal(view.coords, want_c)
    # the same when the whole band is kept (the view's parts then taken from it)
    with lz._lock:
        lz._bands[tol] = whole
    again = lz._arrays_prepared(feats, tol)
    assert np.array_equal(again.offsets, want_o) and np.array_equal(again.coords, want_c)


def _pixels(settings, layers):
    img = QImage(settings.width_px, settings.height_px, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.white)
    p = QPainter(img)
    render(p, settings, layers, labels=False)
    p.end()
    return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(
        img.height(), img.bytesPerLine() // 4, 4)[:, :img.width()].copy()


@pytest.mark.parametrize("layer_id", ["lifelines", "grids"])
def test_lazy_and_eager_layers_decide_alike_and_draw_a_5x_view_alike(app, opened, layer_id, monkeypatch):
    import riskmap.render.painter as painter

    project, epsg = opened
    lz = _lazy(project, epsg, layer_id)
    sh = lz._shape_data()
    eager = lz._arrays_prepared(np.arange(len(sh["id"])), None)  # the same rows, held whole: an eager layer
    assert eager.lod_tolerance is None
    full = MapSettings(lz.total_bounds(), 300, 200, crs_epsg=epsg)
    decided = []
    for k in (1.0, 2.0, 5.0, 10.0, 40.0):  # the same decision at every scale
        view = full.zoomed(k)
        decided.append(lz._tolerance(view))
        assert lazy.simplified_for_view(eager, view).__dict__.get("lod_tolerance") == decided[-1]
    assert decided[0] is not None and decided[-1] is None
    zoomed = full.zoomed(5.0, (120, 90))
    _between(lz, zoomed, monkeypatch)
    part = lz.for_view(zoomed, labels=False)
    band = lazy.simplified_for_view(eager, zoomed)
    if layer_id == "lifelines":
        assert part.lod_tolerance == band.lod_tolerance is not None and part.n < eager.n / 2
    # both straight into the frame (a layer's own image, drawn over the frame, rounds the overlaps of its ink
    # a level apart: the lazy view is under OWN_IMAGE_VERTICES, the eager layer over)
    monkeypatch.setattr(painter, "OWN_IMAGE_VERTICES", 10 ** 12)
    painter.clear_layer_images()
    a = _pixels(zoomed, [lz])
    painter.clear_layer_images()
    b = _pixels(zoomed, [eager])
    assert (a[..., :3] != 255).any(axis=2).sum() > 500  # something drawn
    assert np.array_equal(a, b)


@pytest.mark.parametrize("layer_id", ["lifelines", "grids"])
def test_decide_levels_decides_every_band_inwards_once(opened, layer_id, monkeypatch):
    """decide_levels(resolution) measures each band from the resolution's down to the first drawn exactly (a
    pixel under 1/LOD_SEGMENTS of the median segment), each once: views at those scales measure nothing more and
    decide as they would have."""
    project, epsg = opened
    lz = _lazy(project, epsg, layer_id)
    sh = lz._shape_data()
    full = MapSettings(lz.total_bounds(), 300, 200, crs_epsg=epsg)
    measured = []
    real = lazy.decimate
    monkeypatch.setattr(lazy, "decimate", lambda c, o, tol, **k: measured.append(tol) or real(c, o, tol, **k))
    lz.decide_levels(full.resolution)
    first = 2.0 ** np.floor(np.log2(full.resolution))
    want = [first / 2 ** k for k in range(64) if first / 2 ** k * lazy.LOD_SEGMENTS >= sh["segment"]]
    assert len(want) >= 2 and measured == want  # by hand: every band inwards, each once
    assert sorted(sh["lod_worth"]) == sorted(want)
    decided = {tol: sh["lod_worth"][tol] for tol in want}
    fresh = _lazy(project, epsg, layer_id)  # (its own cache of decisions, measured on asking)
    for k in (1.0, 2.0, 4.0, 8.0, 16.0, 64.0):
        view = full.zoomed(k)
        got = lz._tolerance(view)
        assert got == fresh._tolerance(view)
        tol = 2.0 ** np.floor(np.log2(view.resolution))
        assert got == (tol if decided.get(tol) else None)
    assert measured.count(want[0]) == 1 + 1  # the fresh layer's own measure of the first band, nothing of lz's
