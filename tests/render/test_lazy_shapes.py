"""Large lines and polygons as compact cached arrays (riskmap.render.lazy over riskmap.store.viewport.read_shapes):
the arrays hold the file's coordinates (read back with pyogrio), the kept copy is used again and an edit makes it
read afresh, views draw decimated within a pixel and the exact line closer in, in its class colour (pixels
sampled), and identify on a lazy lifeline finds it in the project. Thresholds are lowered so the data stay small."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings, render_image

EPSG = 4544


def _wiggle(k: int, n: int = 600):
    t = np.linspace(0, 1, n)
    return shapely.LineString(np.column_stack([105.0 + 0.2 * t, 35.5 + 0.02 * k + 0.0005 * np.sin(200 * t)]))


def make_shapes_project(path):
    """Eight wiggly lifelines (gas, water …), a two-part MultiLineString, one without a geometry, a straight water
    line with a known segment; a county, two towns and 25 grid cells (one with a hole, one level 1)."""
    from riskmap.model import LifelineSegment, Zone
    from riskmap.store import Project

    cats = ["gas", "water", "power", "heat", "telecom", "drainage", "gas", "water"]
    lines = [_wiggle(k) for k in range(8)]
    multi = shapely.MultiLineString([[(105.25, 35.5), (105.26, 35.51)], [(105.27, 35.5), (105.28, 35.52)]])
    known = shapely.LineString([(105.1, 35.45), (105.11, 35.45)])

    def build(project):
        with project.session(history=False) as s:
            s.add(Zone(name="示例县", kind="county", geom=shapely.box(104.9, 35.4, 105.4, 35.8)))
            s.add(Zone(name="西镇", kind="town", geom=shapely.box(104.9, 35.4, 105.15, 35.8)))
            s.add(Zone(name="东镇", kind="town", geom=shapely.box(105.15, 35.4, 105.4, 35.8)))
            for i in range(5):
                for j in range(5):
                    cell = shapely.box(105.0 + 0.01 * i, 35.7 + 0.01 * j, 105.01 + 0.01 * i, 35.71 + 0.01 * j)
                    if (i, j) == (2, 2):
                        cell = shapely.Polygon(cell.exterior.coords[::-1],
                                               [shapely.box(105.023, 35.723, 105.027, 35.727).exterior.coords])
                    s.add(Zone(name=f"示例网格{i}{j}", kind="grid", level=1 if (i, j) == (4, 0) else 4, geom=cell))
            s.execute(LifelineSegment.__table__.insert(), [
                {"name": f"示例管线{i}", "category": c, "geom": g, "version": 1} for i, (c, g) in
                enumerate(zip(cats + ["power", "telecom", "water"], lines + [multi, None, known]))])

    Project.create(path, name="线面数组测试", metric_epsg=EPSG, build=build, overwrite=True).close()


@pytest.fixture
def shapes_project(tmp_path):
    from riskmap.store import Project

    path = tmp_path / "shapes.gpkg"
    make_shapes_project(path)
    project = Project.open(path)
    yield project, path
    project.close()


@pytest.mark.parametrize("layer_id", ["lifelines", "grids"])
def test_compact_arrays_hold_the_files_coordinates(shapes_project, layer_id):
    import pyogrio

    from riskmap.store.viewport import read_shapes

    project, path = shapes_project
    ld = load_catalogue()[layer_id]
    got = read_shapes(project, ld)
    df = pyogrio.read_dataframe(path, layer=ld.table, where=ld.where, fid_as_index=True)
    df = df.sort_index()
    assert got["id"].tolist() == df.index.tolist()
    if layer_id == "lifelines":
        assert got["value"].tolist() == df["category"].tolist()
    else:
        assert got["value"].tolist() == df["level"].astype(float).tolist()
    # each feature's parts, ring by ring, against pyogrio's geometry
    for k, g in enumerate(df.geometry.to_numpy()):
        parts = np.flatnonzero(got["part_feature"] == k)
        if g is None:
            assert not len(parts)
            continue
        if layer_id == "grids":
            want = [np.asarray(r.coords) for poly in shapely.get_parts(shapely.orient_polygons(g, exterior_cw=False))
                    for r in [poly.exterior, *poly.interiors]]
        else:
            want = [np.asarray(p.coords) for p in shapely.get_parts(g)]
        mine = [got["coords"][got["offsets"][p]:got["offsets"][p + 1]] for p in parts]
        assert len(mine) == len(want)
        for a, b in zip(mine, want):
            assert np.array_equal(a, b[:, :2])
    if layer_id == "grids":  # the holed cell: an exterior counter-clockwise, its hole clockwise
        k = df["name"].tolist().index("示例网格22")
        rings = np.flatnonzero(got["part_feature"] == k)
        assert len(rings) == 2
        areas = [shapely.area(shapely.Polygon(got["coords"][got["offsets"][p]:got["offsets"][p + 1]])) for p in rings]
        signed = [shapely.is_ccw(shapely.LinearRing(got["coords"][got["offsets"][p]:got["offsets"][p + 1]]))
                  for p in rings]
        assert signed == [True, False] and areas[0] > areas[1] > 0


def test_cache_used_again_and_invalidated_by_an_edit(shapes_project, tmp_path, monkeypatch):
    import riskmap.store.viewport as viewport
    from riskmap.model import LifelineSegment
    from riskmap.render.lazy import LazyPrepared

    project, path = shapes_project
    ld = load_catalogue()["lifelines"]
    cache = tmp_path / "lod"
    lz = LazyPrepared(project, ld, EPSG, 11, cache_dir=cache)
    first = lz._shape_data()
    assert len(list(cache.glob("shapes-*.npz"))) == 1
    counts = lz.counts()  # by hand: gas 2, water 3 (the known line), power 2 (the multi-line), telecom 2 …
    assert {k: counts[k] for k in ("gas", "water", "power", "heat", "telecom", "drainage", "bridge")} == \
        {"gas": 2, "water": 3, "power": 2, "heat": 1, "telecom": 2, "drainage": 1, "bridge": 0}
    assert sum(counts.values()) == 11
    calls = []
    real = viewport.read_shapes
    monkeypatch.setattr(viewport, "read_shapes", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = LazyPrepared(project, ld, EPSG, 11, cache_dir=cache)._shape_data()
    assert not calls  # from the kept copy
    for k in ("id", "offsets", "part_feature", "cls"):
        assert np.array_equal(again[k], first[k])
    assert np.array_equal(again["coords"], first["coords"])
    with project.session(history=False) as s:
        s.add(LifelineSegment(name="新管线", category="gas", geom=shapely.LineString([(105.3, 35.6), (105.31, 35.61)]),
                              version=1))
    fresh = LazyPrepared(project, ld, EPSG, 11, cache_dir=cache)
    data = fresh._shape_data()
    assert calls == [1] and len(data["id"]) == 12  # the edit changed the stamp: read afresh
    assert fresh.counts()["gas"] == 3
    assert len(list(cache.glob("shapes-*.npz"))) == 1  # the stale copy removed


def test_small_scale_view_is_decimated_within_a_pixel(shapes_project, monkeypatch):
    import riskmap.render.lazy as lazy

    project, _ = shapes_project
    monkeypatch.setattr(lazy, "LOD_VERTICES", 1000)
    lz = lazy.LazyPrepared(project, load_catalogue()["lifelines"], EPSG, 11)
    sh = lz._shape_data()
    b = lz.total_bounds()
    full = MapSettings(b, 300, 200, crs_epsg=EPSG)  # the whole 30 km on 300 px: about 100 m a pixel
    prep = lz.for_view(full, labels=False)
    assert len(prep.coords) < len(sh["coords"]) / 5
    drawn = prep.ids[np.diff(prep.feature_parts) > 0]
    assert drawn.tolist() == sh["id"][np.isfinite(sh["bounds"][:, 0])].tolist()  # every located line, whole
    tol = 2.0 ** np.floor(np.log2(full.resolution))
    for k in range(prep.n):
        for p in range(prep.feature_parts[k], prep.feature_parts[k + 1]):
            mine = shapely.LineString(prep.coords[prep.offsets[p]:prep.offsets[p + 1]])
            src_k = int(np.flatnonzero(sh["id"] == prep.ids[k])[0])
            src_p = np.flatnonzero(sh["part_feature"] == src_k)[p - prep.feature_parts[k]]
            exact = shapely.LineString(sh["coords"][sh["offsets"][src_p]:sh["offsets"][src_p + 1]])
            assert shapely.hausdorff_distance(mine, exact) <= tol + 1e-6
    # a view of a corner: only the lines whose bounds meet it
    x0, y0, x1, y1 = b
    corner = MapSettings((x0, y0, x0 + (x1 - x0) / 10, y0 + (y1 - y0) / 10), 300, 200, crs_epsg=EPSG)
    want = np.flatnonzero((sh["bounds"][:, 0] <= corner.extent[2] + lz._margin(corner))
                          & (sh["bounds"][:, 2] >= corner.extent[0] - lz._margin(corner))
                          & (sh["bounds"][:, 1] <= corner.extent[3] + lz._margin(corner))
                          & (sh["bounds"][:, 3] >= corner.extent[1] - lz._margin(corner)))
    assert 2 * len(want) < len(sh["id"])  # the view's features alone (not the whole layer's band)
    assert lz.for_view(corner, labels=False).ids.tolist() == sh["id"][want].tolist()
    assert lz.for_view(full, labels=False) is prep  # the band is kept for the next view of it


def test_zoomed_in_known_segment_drawn_in_its_colour(app, shapes_project):
    import riskmap.render.lazy as lazy
    from riskmap.crs import transformer
    from tests.render.conftest import rgb as colour_at

    project, _ = shapes_project
    lz = lazy.LazyPrepared(project, load_catalogue()["lifelines"], EPSG, 11)
    (ax, bx), (ay, by) = transformer(4490, EPSG).transform([105.1, 105.11], [35.45, 35.45])
    mx, my = (ax + bx) / 2, (ay + by) / 2
    view = MapSettings((mx - 100, my - 100, mx + 100, my + 100), 400, 400, crs_epsg=EPSG)  # 0.5 m a pixel
    img = render_image(view, [lz], labels=False)
    for x in (mx - 50, mx, mx + 50):
        px, py = view.map_to_pixel(np.array([[x, ay + (x - ax) * (by - ay) / (bx - ax)]]))[0]
        across = [colour_at(img, int(round(px)), int(round(py)) + d) for d in range(-3, 4)]
        ink = sum((255 - r) / (255 - 0x1E) for r, _, _ in across)  # one pixel of water's #1E88E5 across it
        r, g, b = min(across)
        assert 0.8 < ink < 1.4 and b > 220 and r < 150, (across, ink)
    px, py = view.map_to_pixel(np.array([[mx, my + 40]]))[0]  # 40 m north of it: white
    assert colour_at(img, int(px), int(py)) == (255, 255, 255)


def test_lone_red_grid_cell_in_its_colour_at_the_full_view(app, shapes_project):
    import riskmap.render.lazy as lazy
    from riskmap.crs import transformer
    from tests.render.conftest import rgb as colour_at

    project, _ = shapes_project
    lz = lazy.LazyPrepared(project, load_catalogue()["grids"], EPSG, 25)
    assert lz.counts()[1] == 1 and lz.counts()[4] == 24  # one GROUP BY before the arrays are read
    lz.load()
    assert lz.counts()[1] == 1 and lz.counts()[4] == 24  # from the arrays
    view = MapSettings(lz.total_bounds(), 250, 250, crs_epsg=EPSG)
    img = render_image(view, [lz], labels=False)
    cx, cy = transformer(4490, EPSG).transform(105.045, 35.705)
    px, py = view.map_to_pixel(np.array([[cx, cy]]))[0]
    r, g, b = colour_at(img, int(px), int(py))
    assert r > g + 60 and r > b + 60, (r, g, b)  # the level-1 cell's red fill
    hx, hy = transformer(4490, EPSG).transform(105.025, 35.725)  # inside the hole: the white map
    px, py = view.map_to_pixel(np.array([[hx, hy]]))[0]
    assert colour_at(img, int(px), int(py)) == (255, 255, 255)


def test_identify_on_a_lazy_lifeline(app, shapes_project, monkeypatch):
    import riskmap.store.viewport as viewport
    from riskmap.crs import transformer
    from riskmap.ui.workspace import LazyMapLayer, Workspace, load_layer

    project, _ = shapes_project
    monkeypatch.setattr(viewport, "LAZY_SHAPE_ROWS", 5)
    layer = load_layer(project, load_catalogue()["lifelines"], EPSG)
    assert isinstance(layer, LazyMapLayer) and len(layer.gdf) == 0
    ws = Workspace()
    ws.project, ws.map_epsg, ws.layers = project, EPSG, [layer]
    x, y = transformer(4490, EPSG).transform(105.105, 35.45 + 2e-5)  # about 2 m north of the known line
    hits = ws.features_at(x, y, 5.0)
    with project.engine.connect() as conn:
        from sqlalchemy import text

        want = conn.execute(text("SELECT id FROM lifelines WHERE name = '示例管线10'")).scalar()
    assert hits == [("lifelines", want)]
    assert ws.features_at(x, y + 30, 5.0) == []
