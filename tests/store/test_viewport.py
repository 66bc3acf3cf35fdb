"""riskmap.store.viewport on a GeoPackage and on PostGIS: box reads through the spatial index checked against
shapely/numpy on the same rows, aggregates keeping the highest level (counted by hand), simplified shapes,
hostile names and values that never reach SQL text."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import shapely

from riskmap.errors import RiskmapError
from riskmap.layers import load_catalogue

HOSTILE = ["x'); DROP TABLE enterprises;--", "100%_\\'\"", "<b>粗</b>{{ 7*7 }}", "; DELETE FROM zones"]
BOX = (105.0, 35.5, 105.2, 35.65)  # where the points lie (EPSG:4490)
RED_CELL = (105.05, 35.55)  # lower-left corner of the 0.01° cell with one red among 2,000 blue
RED = (105.0543, 35.5571)


def point_rows(n: int, seed: int = 1):
    """``n`` random points in BOX with levels 2–4 or none, then 2,000 level-4 points and one level-1 point in
    the 0.01° cell at RED_CELL, then a few with hostile names; (lon, lat, level, name) arrays."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BOX[0], BOX[2], n)
    lat = rng.uniform(BOX[1], BOX[3], n)
    level = rng.choice(np.array([2, 3, 4, None], dtype=object), n, p=[0.1, 0.3, 0.5, 0.1])
    blue_lon = rng.uniform(RED_CELL[0] + 1e-4, RED_CELL[0] + 0.0099, 2000)
    blue_lat = rng.uniform(RED_CELL[1] + 1e-4, RED_CELL[1] + 0.0099, 2000)
    lon = np.concatenate([lon, blue_lon, [RED[0]], [105.11, 105.12, 105.13, 105.14]])
    lat = np.concatenate([lat, blue_lat, [RED[1]], [35.6, 35.6, 35.6, 35.6]])
    level = np.concatenate([level, np.full(2000, 4, dtype=object), np.array([1], dtype=object),
                            np.array([3, 3, None, 4], dtype=object)])
    names = np.array([f"示例企业{i:05d}" for i in range(len(lon))], dtype=object)
    names[-4:] = HOSTILE
    return lon, lat, level, names


def make_points_project(path, n: int = 3000, seed: int = 1, *, edge: bool = True):
    """A riskmap project holding the points of :func:`point_rows` (plus, with ``edge``, points exactly on the
    edges of BOX_Q and one a hair outside), a county polygon around them, towns of two kinds of zone, and
    three lifelines; returns the arrays (ids are 1..n in insertion order)."""
    from riskmap.model import Enterprise, LifelineSegment, Zone
    from riskmap.store import Project

    lon, lat, level, names = point_rows(n, seed)
    if edge:
        x0, y0, x1, y1 = BOX_Q
        lon = np.concatenate([lon, [x0, x1, 105.07, x1 + 1e-9]])
        lat = np.concatenate([lat, [35.58, y1, y0, 35.58]])
        level = np.concatenate([level, np.array([2, 3, 4, 2], dtype=object)])
        names = np.concatenate([names, np.array(["左边上", "右上角", "下边上", "差一点在外"], dtype=object)])
    pts = shapely.points(lon, lat)

    def build(project):
        with project.session(history=False) as s:
            s.add(Zone(name="示例县", kind="county", geom=shapely.box(104.99, 35.49, 105.21, 35.66)))
            s.add(Zone(name="西镇", kind="town", geom=shapely.box(104.99, 35.49, 105.1, 35.66)))
            s.add(Zone(name="东镇", kind="town", geom=shapely.box(105.1, 35.49, 105.21, 35.66)))
            s.flush()
            s.execute(Enterprise.__table__.insert(), [
                {"name": nm, "industry": "gas_station", "town": "西镇", "level": lv, "geom": g, "version": 1}
                for nm, lv, g in zip(names.tolist(), level.tolist(), pts)])
            s.execute(LifelineSegment.__table__.insert(), [
                {"name": f"示例管线{i}", "category": "gas", "geom": g, "version": 1}
                for i, g in enumerate([
                    shapely.LineString(np.column_stack([np.linspace(105.0, 105.2, 400),
                                                        35.6 + 0.001 * np.sin(np.linspace(0, 40, 400))])),
                    shapely.LineString([(105.01, 35.51), (105.0101, 35.5101)]),  # about 1.4 m long
                    shapely.LineString([(105.3, 35.7), (105.4, 35.8)])])])  # outside every box below

    Project.create(path, name="视图读取测试", metric_epsg=4544, build=build, overwrite=True).close()
    return {"id": np.arange(1, len(lon) + 1), "lon": lon, "lat": lat, "level": level, "name": names}


BOX_Q = (105.03, 35.52, 105.12, 35.61)  # the query box of the tests
_COUNTER = itertools.count(1)


@pytest.fixture(scope="module")
def points_gpkg(tmp_path_factory):
    path = tmp_path_factory.mktemp("viewport") / "points.gpkg"
    data = make_points_project(path)
    return path, data


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request, points_gpkg):
    """(open project, the arrays it was built from) on each store."""
    from riskmap.store import Project

    path, data = points_gpkg
    if request.param == "gpkg":
        target = path
    else:
        from riskmap.store.sync import push

        server = request.getfixturevalue("pg_server")
        name = f"viewport_{next(_COUNTER)}"
        target = server.create_database(name)
        push(path, target)
    project = Project.open(target)
    yield project, data
    project.close()
    if request.param != "gpkg":
        server.drop_database(name)


def _inside(data, box):
    x0, y0, x1, y1 = box
    lon, lat = data["lon"], data["lat"]
    return data["id"][(lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)]


def test_query_bbox_returns_exactly_the_points_in_the_box(store):
    from riskmap.store.viewport import LAZY_ROWS, layer_rows, query_bbox

    project, data = store
    ents = load_catalogue()["enterprises"]
    assert layer_rows(project, ents) == len(data["id"]) < LAZY_ROWS
    got = query_bbox(project, ents, BOX_Q, columns=["name", "level"])
    want = _inside(data, BOX_Q)
    # by hand with shapely: the same rows (points on the edges are in, the one 1e-9° outside is not)
    by_shapely = data["id"][shapely.intersects(shapely.box(*BOX_Q), shapely.points(data["lon"], data["lat"]))]
    assert np.array_equal(np.sort(want), np.sort(by_shapely))
    assert got["id"].tolist() == sorted(want.tolist())
    assert len(got) > 500
    names = dict(zip(data["id"].tolist(), data["name"].tolist()))
    assert {"左边上", "右上角", "下边上"} <= set(got["name"]) and "差一点在外" not in set(got["name"])
    assert all(names[i] == nm for i, nm in zip(got["id"], got["name"]))
    assert got.crs.to_epsg() == 4490
    assert np.allclose(got.geometry.x.to_numpy(), data["lon"][got["id"].to_numpy() - 1])
    assert list(got.columns) == ["id", "name", "level", "geometry"]


def test_query_bbox_applies_the_catalogue_where(store):
    from riskmap.store.viewport import query_bbox

    project, _ = store
    towns = load_catalogue()["towns"]  # zones WHERE kind = 'town'
    got = query_bbox(project, towns, (105.15, 35.5, 105.16, 35.51), ["name", "kind"])
    assert got["name"].tolist() == ["东镇"] and set(got["kind"]) == {"town"}  # the county zone is not a town


def test_read_points_and_the_box(store):
    from riskmap.store.viewport import read_points

    project, data = store
    ents = load_catalogue()["enterprises"]
    pts = read_points(project, ents)
    assert pts["id"].tolist() == data["id"].tolist()
    assert np.allclose(pts["x"], data["lon"]) and np.allclose(pts["y"], data["lat"])
    want_level = np.array([np.nan if v is None else float(v) for v in data["level"]])
    assert np.array_equal(pts["value"], want_level, equal_nan=True)
    boxed = read_points(project, ents, BOX_Q, field="name")
    assert boxed["id"].tolist() == sorted(_inside(data, BOX_Q).tolist())
    assert set(boxed["value"]) >= {"左边上", "右上角"}


def test_aggregate_points_keeps_red_and_counts_by_hand(store):
    from riskmap.store.viewport import aggregate_points

    project, data = store
    ents = load_catalogue()["enterprises"]
    box = (105.0, 35.5, 105.2, 35.65)
    cell = 0.01
    agg = aggregate_points(project, ents, box, cell)
    # by hand: the cell of each point, its count, mean and highest level (smallest number)
    lon, lat = data["lon"], data["lat"]
    ok = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
    ix = np.floor((lon[ok] - box[0]) / cell).astype(int)
    iy = np.floor((lat[ok] - box[1]) / cell).astype(int)
    assert int(agg["count"].sum()) == int(ok.sum())
    red_cell = (ix == 5) & (iy == 5)  # the cell at RED_CELL
    levels = np.array([99 if v is None else v for v in data["level"][ok]])
    assert int((levels[red_cell] == 1).sum()) == 1 and int((levels[red_cell] == 4).sum()) > 2000
    row = agg[np.isclose(agg["x"], lon[ok][red_cell].mean()) & np.isclose(agg["y"], lat[ok][red_cell].mean())]
    assert len(row) == 1
    assert int(row["count"].iloc[0]) == int(red_cell.sum())  # 2,000 blue + the red + the random ones there
    assert int(row["level"].iloc[0]) == 1  # one red among thousands of blue: the cell is red
    assert int((agg["level"] == 1).sum()) == 1  # and no other cell is
    # every cell: count and highest level as computed by hand
    keys = iy * 1000 + ix
    for k in np.unique(keys)[:40]:
        sel = keys == k
        r = agg[np.isclose(agg["x"], lon[ok][sel].mean()) & np.isclose(agg["y"], lat[ok][sel].mean())]
        assert int(r["count"].iloc[0]) == int(sel.sum())
        top = levels[sel].min()
        assert (r["level"].isna().iloc[0] and top == 99) or int(r["level"].iloc[0]) == top


def test_hostile_values_never_reach_sql(store):
    from riskmap.store.viewport import aggregate_points, query_bbox, read_points

    project, data = store
    ents = load_catalogue()["enterprises"]
    got = query_bbox(project, ents, (105.105, 35.595, 105.145, 35.605), ["name"])
    assert set(HOSTILE) <= set(got["name"])  # stored and read back as text
    with pytest.raises(RiskmapError):
        query_bbox(project, ents, ("105); DROP TABLE enterprises;--", 35, 106, 36))
    with pytest.raises(RiskmapError):
        query_bbox(project, ents, BOX_Q, columns=["name FROM enterprises; DROP TABLE zones;--"])
    with pytest.raises(RiskmapError):
        read_points(project, ents, field="level); DROP TABLE enterprises;--")
    with pytest.raises(RiskmapError):
        aggregate_points(project, ents, BOX_Q, "0.01; DROP TABLE enterprises")
    hostile = ("name = :n", {"n": HOSTILE[0]})  # a filter's value is bound, never spliced
    one = query_bbox(project, ents, BOX, ["name"], where=hostile)
    assert one["name"].tolist() == [HOSTILE[0]]
    assert len(read_points(project, ents)["id"]) == len(data["id"])  # nothing dropped


def test_simplified_lines_and_tiny_ones_left_out(store):
    from riskmap.store.viewport import query_bbox, query_simplified

    project, _ = store
    lines = load_catalogue()["lifelines"]
    full = query_bbox(project, lines, BOX)
    assert full["name"].tolist() == ["示例管线0", "示例管线1"]  # the third lies outside
    simple = query_simplified(project, lines, BOX, 0.002, ["name"], min_size_deg=0.001)
    assert simple["name"].tolist() == ["示例管线0"]  # the 1.4 m line is smaller than a pixel
    n_full = len(shapely.get_coordinates(full.geometry.iloc[0]))
    n_simple = len(shapely.get_coordinates(simple.geometry.iloc[0]))
    assert n_full == 400 and n_simple < 100
    # simplified within the tolerance: every original vertex lies near the simplified line
    assert shapely.hausdorff_distance(full.geometry.iloc[0], simple.geometry.iloc[0]) <= 0.002 + 1e-9


def test_bin_points_ranks_and_empty_input():
    from riskmap.store.viewport import bin_points, level_rank

    x = np.array([0.1, 0.2, 0.3, 1.5, np.nan])
    y = np.array([0.1, 0.2, 0.3, 0.5, 0.5])
    rank = level_rank(np.array([4.0, 1.0, np.nan, np.nan, 1.0]))
    mx, my, count, top = bin_points(x, y, rank, (0, 0, 2, 1), 1.0)
    assert count.tolist() == [3, 1] and top.tolist() == [4, 0]
    assert np.allclose(mx, [0.2, 1.5]) and np.allclose(my, [0.2, 0.5])
    mx, my, count, top = bin_points(np.zeros(0), np.zeros(0), np.zeros(0, dtype=int), (0, 0, 1, 1), 0.1)
    assert len(count) == 0
    with pytest.raises(RiskmapError):
        bin_points(x, y, rank, (0, 0, 1, 1), 0.0)


def test_points_kept_between_sessions_until_the_project_changes(store, tmp_path, monkeypatch):
    import riskmap.store.viewport as viewport
    from riskmap.model import Enterprise

    project, data = store
    ents = load_catalogue()["enterprises"]
    first = viewport.read_points_cached(project, ents, tmp_path)
    assert len(list(tmp_path.glob("points-*.npz"))) == 1
    assert first["id"].tolist() == data["id"].tolist()

    def no_read(*a, **k):
        raise AssertionError("read from the project although unchanged")

    with monkeypatch.context() as m:
        m.setattr(viewport, "read_points", no_read)
        again = viewport.read_points_cached(project, ents, tmp_path)
    assert all(np.array_equal(first[k], again[k], equal_nan=True) for k in first)
    with project.session(history=False) as s:  # an edit: the kept arrays are not used again
        e = s.get(Enterprise, 1)
        old_level, e.level = e.level, (1 if e.level != 1 else 2)
        new_level = e.level
    try:
        after = viewport.read_points_cached(project, ents, tmp_path)
        assert after["value"][0] == new_level
        assert len(list(tmp_path.glob("points-*.npz"))) == 1  # the old one removed
    finally:  # the module's project is shared: put the level back
        with project.session(history=False) as s:
            s.get(Enterprise, 1).level = old_level


def test_first_read_takes_the_stamp_with_the_arrays_on_postgis(store, tmp_path, monkeypatch):
    """PostGIS, nothing of the layer in the cache: read_points_first gives read_points_cached's arrays (in the
    map's CRS) and points_stamp's stamp from one statement, kept under that stamp: the next session's
    read_points_cached takes them without reading; then it does not apply (kept arrays). A GeoPackage: None."""
    import riskmap.store.viewport as viewport

    project, data = store
    ents = load_catalogue()["enterprises"]
    with monkeypatch.context() as m:  # the stamp is not asked on its own
        m.setattr(viewport, "points_stamp", lambda *a, **k: pytest.fail("stamp asked apart from the arrays"))
        got = viewport.read_points_first(project, ents, tmp_path, epsg=4544)
    if project.dialect != "postgresql":
        assert got is None and not list(tmp_path.iterdir())
        return
    pts, stamp = got
    viewport._helper().submit(lambda: None).result()  # the file is written on the helper thread, in order
    assert stamp == viewport.points_stamp(project, ents)
    assert stamp.split(":")[1:3] == [str(len(data["id"])), str(int(data["id"].max()))]  # rows, largest id
    assert len(list(tmp_path.glob("points-*.npz"))) == 1
    assert viewport.points_family(project, ents, tmp_path, epsg=4544)
    assert not viewport.points_family(project, ents, tmp_path)  # another CRS: another family
    want = viewport.read_points_cached(project, ents, tmp_path / "other", epsg=4544)
    assert sorted(pts) == sorted(want) == ["id", "value", "x", "y"]
    for k in pts:
        assert np.array_equal(pts[k], want[k], equal_nan=True), k
    assert pts["id"].tolist() == data["id"].tolist()
    assert viewport.read_points_first(project, ents, tmp_path, epsg=4544) is None  # kept: the usual way

    def no_read(*a, **k):
        raise AssertionError("read from the project although kept")

    with monkeypatch.context() as m:
        m.setattr(viewport, "read_points", no_read)
        again = viewport.read_points_cached(project, ents, tmp_path, epsg=4544, stamp=stamp)
    assert all(np.array_equal(pts[k], again[k], equal_nan=True) for k in pts)


def test_arrays_read_in_two_halves_on_postgis_equal_one_read(store, monkeypatch):
    """PostGIS: a table whose ids span more than PG_SPLIT_IDS is read as two id ranges on two connections
    sharing one snapshot: the same arrays as one read, and the same stamp as points_stamp; where no snapshot
    can be exported, one statement."""
    import riskmap.store.viewport as viewport

    project, data = store
    if project.dialect != "postgresql":
        pytest.skip("PostGIS only")
    ents = load_catalogue()["enterprises"]
    one = viewport.read_points(project, ents)
    calls = []
    real = viewport._array_row

    def spy(conn, sql):
        calls.append(sql)
        return real(conn, sql)

    monkeypatch.setattr(viewport, "PG_SPLIT_IDS", 10)
    monkeypatch.setattr(viewport, "_array_row", spy)
    two = viewport.read_points(project, ents)
    assert len(calls) == 2 and "id <=" in calls[0] and "id >" in calls[1]
    assert sorted(one) == sorted(two)
    for k in one:
        assert np.array_equal(one[k], two[k], equal_nan=True), k
    assert two["id"].tolist() == data["id"].tolist()
    tbl, field, _cols, conds, _params = viewport._read_parts(ents, "style")
    assert viewport._pg_array_points(project, tbl, field, conds, stamp=True)["stamp"] == \
        viewport.points_stamp(project, ents)
    # projected as read: each half on the thread that read it, bit for bit _points_in's values (a row without
    # a place among them stays NaN)
    from riskmap.model import Enterprise

    with project.session(history=False) as s:
        s.add(Enterprise(name="无坐标", industry="gas_station", town="西镇", level=2, geom=None, version=1))
    try:
        threads = []
        real_here = viewport._projected_here

        def here(x, y, epsg):
            import threading

            threads.append(threading.current_thread().name)
            return real_here(x, y, epsg)

        monkeypatch.setattr(viewport, "_projected_here", here)
        calls.clear()
        got = viewport._pg_array_points(project, tbl, field, conds, epsg=4544)
        assert len(calls) == 2 and len(threads) == 2 and len(set(threads)) == 2
        want = viewport._points_in(viewport.read_points(project, ents), 4544)
        assert sorted(got) == sorted(want)
        for k in want:
            assert np.array_equal(got[k], want[k], equal_nan=True), k
        assert np.isnan(got["x"][-1]) and np.isnan(got["y"][-1]) and got["value"][-1] == 2.0
        assert np.isfinite(got["x"][:-1]).all() and abs(got["x"][0]) > 1e5  # metres, not degrees
    finally:
        with project.session(history=False) as s:
            s.query(Enterprise).filter(Enterprise.name == "无坐标").delete()

    def no_snapshot(*a, **k):  # a server that exports no snapshot (a standby): one statement instead
        from sqlalchemy.exc import DBAPIError

        raise DBAPIError("SELECT pg_export_snapshot()", {}, Exception("cannot export a snapshot"))

    monkeypatch.setattr(viewport, "_pg_array_halves", no_snapshot)
    calls.clear()
    three = viewport.read_points(project, ents)
    assert len(calls) == 1 and all(np.array_equal(one[k], three[k], equal_nan=True) for k in one)


def test_read_points_by_arrays_on_postgis_equals_the_rows(store, monkeypatch):
    """PostGIS: the whole layer comes as four array columns of one row (no row tuples); the same arrays as the row
    read, a row without a place NaN, a level NULL NaN, ids in order, no row empty arrays; on a GeoPackage this
    is never tried."""
    import riskmap.store.viewport as viewport
    from riskmap.model import Enterprise

    project, data = store
    ents = load_catalogue()["enterprises"]
    pg = project.dialect == "postgresql"
    copied = []
    real = viewport._pg_array_points

    def spy(*a, **k):
        out = real(*a, **k)
        copied.append(out is not None)
        return out

    with project.session(history=False) as s:  # a row without a place (and without a level)
        s.add(Enterprise(name="无坐标", industry="gas_station", town="西镇", level=None, geom=None, version=1))
    try:
        with monkeypatch.context() as m:
            m.setattr(viewport, "_pg_array_points", spy)
            got = viewport.read_points(project, ents)
        assert copied == ([True] if pg else [])
        with monkeypatch.context() as m:
            m.setattr(viewport, "_pg_array_points", lambda *a, **k: None)  # the rows read one by one
            rows = viewport.read_points(project, ents)
        assert sorted(got) == sorted(rows) == ["id", "value", "x", "y"]
        for k in got:
            assert got[k].dtype == rows[k].dtype and np.array_equal(got[k], rows[k], equal_nan=True), k
        n = len(data["id"])
        assert got["id"][:n].tolist() == data["id"].tolist() and len(got["id"]) == n + 1
        assert np.isnan(got["x"][-1]) and np.isnan(got["y"][-1]) and np.isnan(got["value"][-1])
        assert np.allclose(got["x"][:n], data["lon"]) and np.allclose(got["y"][:n], data["lat"])
        want_level = np.array([np.nan if v is None else float(v) for v in data["level"]])
        assert np.array_equal(got["value"][:n], want_level, equal_nan=True)
        copied.clear()
        with monkeypatch.context() as m:  # a text field or a box is read as rows
            m.setattr(viewport, "_pg_array_points", spy)
            named = viewport.read_points(project, ents, field="name")
            viewport.read_points(project, ents, BOX_Q)
        assert copied == ([False] if pg else [])
        assert named["value"][-1] == "无坐标" and named["value"][0] == data["name"][0]
        copied.clear()
        with monkeypatch.context() as m:  # no row: array_agg of nothing is NULL, read as empty arrays
            m.setattr(viewport, "_pg_array_points", spy)
            none = viewport.read_points(project, replace(ents, where="1 = 0"))
        assert copied == ([True] if pg else [])
        assert sorted(none) == ["id", "value", "x", "y"] and all(len(v) == 0 for v in none.values())
        assert none["id"].dtype == np.int64 and none["x"].dtype == none["value"].dtype == np.float64
    finally:
        with project.session(history=False) as s:
            s.query(Enterprise).filter(Enterprise.name == "无坐标").delete()


def test_read_points_quick_from_the_rtree(tmp_path):
    """GeoPackage: the arrays of a first frame read from the R-tree's leaf nodes and the level index: the same
    ids and levels as the table (a deleted row's gap, a row without a place NaN), each position within one
    float32 step of the point; binned into 0.01° cells they give the hand binning's counts and top levels
    except for points that close to a cell edge (none here), and the lone red cell is red."""
    from riskmap.model import Enterprise
    from riskmap.store import Project
    from riskmap.store.viewport import bin_points, level_rank, read_points, read_points_quick

    path = tmp_path / "quick.gpkg"
    data = make_points_project(path, n=3000, seed=5, edge=False)
    lon, lat = data["lon"], data["lat"]
    step_x = np.spacing(np.abs(lon).astype(np.float32)).astype(float)  # one float32 step at each point
    step_y = np.spacing(np.abs(lat).astype(np.float32)).astype(float)
    with Project.open(path) as project:
        ents = load_catalogue()["enterprises"]
        whole = read_points_quick(project, ents)  # ids 1..n, no gap: each placed by its number (no sort)
        exact = read_points(project, ents)
        assert whole["id"].tolist() == exact["id"].tolist() == data["id"].tolist()
        assert np.array_equal(whole["value"], exact["value"], equal_nan=True)
        assert (np.abs(whole["x"] - lon) <= step_x).all() and (np.abs(whole["y"] - lat) <= step_y).all()
        with project.session(history=False) as s:
            s.delete(s.get(Enterprise, 7))  # a gap in the ids
            s.add(Enterprise(name="无坐标", industry="gas_station", town="西镇", level=2, geom=None, version=1))
        quick = read_points_quick(project, ents)  # a gap: ids sorted
        exact = read_points(project, ents)
        assert quick is not None and sorted(quick) == ["id", "value", "x", "y"]
        keep = data["id"] != 7
        assert quick["id"].tolist() == exact["id"].tolist() == [*data["id"][keep].tolist(), len(data["id"]) + 1]
        assert np.array_equal(quick["value"], exact["value"], equal_nan=True)
        assert np.isnan(quick["x"][-1]) and np.isnan(quick["y"][-1]) and quick["value"][-1] == 2
        lon, lat, step_x, step_y = lon[keep], lat[keep], step_x[keep], step_y[keep]
        assert (np.abs(quick["x"][:-1] - lon) <= step_x).all() and (np.abs(quick["y"][:-1] - lat) <= step_y).all()
        assert (quick["x"][:-1] != lon).any()  # really from the float32 index, not the table
        # 0.01° cells by hand from the table's positions
        cell, box = 0.01, (105.0, 35.5, 105.2, 35.7)
        rank = level_rank(exact["value"][:-1])
        near = (np.abs(lon / cell - np.round(lon / cell)) * cell <= step_x) | \
               (np.abs(lat / cell - np.round(lat / cell)) * cell <= step_y)
        assert 4 <= near.sum() < 40  # the four on the 35.6° line (exactly on an edge) and a few by chance
        got = bin_points(quick["x"], quick["y"], level_rank(quick["value"]), box, cell)
        ix, iy = np.floor((lon - box[0]) / cell).astype(int), np.floor((lat - box[1]) / cell).astype(int)
        hand = {}
        for a, b, r in zip(ix.tolist(), iy.tolist(), rank.tolist()):
            n, top = hand.get((a, b), (0, -1))
            hand[(a, b)] = (n + 1, max(top, r))
        got_cells = {(int(np.floor((x - box[0]) / cell)), int(np.floor((y - box[1]) / cell))): (int(n), int(t))
                     for x, y, n, t in zip(*got)}
        near_cells = {(a + da, b + db) for a, b in zip(ix[near].tolist(), iy[near].tolist())
                      for da in (-1, 0, 1) for db in (-1, 0, 1)}
        assert sum(n for n, _ in got_cells.values()) == sum(n for n, _ in hand.values()) == len(lon)
        assert {k: v for k, v in got_cells.items() if k not in near_cells} == \
               {k: v for k, v in hand.items() if k not in near_cells}  # equal but beside the points on an edge
        assert len(hand) == 20 * 15 and len(set(hand) - near_cells) > 150  # 0.2° × 0.15° of points
        red = (int((RED[0] - box[0]) // cell), int((RED[1] - box[1]) // cell))
        assert hand[red][1] == 4 and hand[red][0] > 2000  # the lone red among 2,000 blue: the cell is red
        assert got_cells[red] == hand[red]
        assert sum(1 for v in hand.values() if v[1] == 4) == 1


def test_read_points_quick_projected_by_the_zone_series(tmp_path, monkeypatch):
    """In the map's Gauss–Krüger zone the quick arrays are projected by the zone's series (twice as fast),
    within a micrometre of the exact projection of the same R-tree positions; in a zone whose meridian is 24°
    away (where the series is metres off) the exact projection is used, bit for bit."""
    from riskmap import crs
    from riskmap.store import Project
    from riskmap.store.viewport import read_points_quick

    path = tmp_path / "series.gpkg"
    make_points_project(path, n=3000, seed=7, edge=False)
    with Project.open(path) as project:
        ents = load_catalogue()["enterprises"]
        geo = read_points_quick(project, ents)
        used = []
        real = crs.series_transformer
        monkeypatch.setattr(crs, "series_transformer", lambda *a: used.append(a) or real(*a))
        near = read_points_quick(project, ents, epsg=4544)  # CM 105E: the points 0–0.2° east of it
        ex, ey = crs.transformer(4490, 4544).transform(geo["x"], geo["y"])
        assert used and max(np.abs(near["x"] - ex).max(), np.abs(near["y"] - ey).max()) < 1e-6
        assert near["id"].tolist() == geo["id"].tolist()
        far = read_points_quick(project, ents, epsg=4552)  # CM 129E
        fx, fy = crs.transformer(4490, 4552).transform(geo["x"], geo["y"])
        sx, _ = real(4490, 4552).transform(geo["x"], geo["y"])
        assert np.abs(sx - fx).max() > 1.0  # the series is off there
        assert np.array_equal(far["x"], fx) and np.array_equal(far["y"], fy)


def test_read_points_quick_not_on_postgis_nor_with_a_where(store):
    from riskmap.store.viewport import read_points_quick

    project, _ = store
    cat = load_catalogue()
    assert (read_points_quick(project, cat["enterprises"]) is None) == (project.dialect == "postgresql")
    assert read_points_quick(project, cat["towns"]) is None  # a catalogue where (and not points)


def test_estimated_rows_is_the_planners_figure(store):
    """PostGIS: the planner's estimate of a layer's table (pg_class.reltuples, the row count after the push
    analysed it); a layer with a ``where`` (its table's estimate is not the layer's) and a GeoPackage: None."""
    import riskmap.store.viewport as viewport

    project, data = store
    cat = load_catalogue()
    ents = cat["enterprises"]
    got = viewport.estimated_rows(project, [ents, replace(ents, id="some", where="level = 1")])
    if project.dialect != "postgresql":
        assert got == {"enterprises": None, "some": None}
        return
    assert got == {"enterprises": len(data["id"]), "some": None}


def test_packed_points_read_equals_the_rows_on_postgis(store, monkeypatch):
    """PostGIS: an integer field of values 0–13 (a level) comes packed with the ids (id × 16 + value) and the
    positions as one point[]; a value outside 0–13 (14, 100, −1) anywhere reads the arrays again unpacked; both
    equal the row read exactly, with a negative id, NULL values, an empty point and a row without a place."""
    import riskmap.store.viewport as viewport
    from riskmap.model import Enterprise

    project, data = store
    if project.dialect != "postgresql":
        pytest.skip("PostGIS only")
    ents = load_catalogue()["enterprises"]
    sent = []
    real = viewport._array_row

    def spy(conn, sql):
        sent.append("* 16" in sql)
        return real(conn, sql)

    def rows_read(**k):
        with monkeypatch.context() as m:
            m.setattr(viewport, "_pg_array_points", lambda *a, **kw: None)  # the rows read one by one
            return viewport.read_points(project, ents, **k)

    def same(got, want):
        assert sorted(got) == sorted(want)
        for k in want:
            assert got[k].dtype == want[k].dtype and np.array_equal(got[k], want[k], equal_nan=True), k

    monkeypatch.setattr(viewport, "PG_SPLIT_IDS", 10)  # two halves, each packed
    monkeypatch.setattr(viewport, "_array_row", spy)
    with project.session(history=False) as s:
        s.add(Enterprise(id=-7, name="负号", industry="gas_station", town="西镇", level=1,
                         geom=shapely.Point(105.05, 35.55), version=1))
        s.add(Enterprise(name="空点", industry="gas_station", town="西镇", level=None,
                         geom=shapely.from_wkt("POINT EMPTY"), version=1))
        s.add(Enterprise(name="无坐标", industry="gas_station", town="西镇", level=4, geom=None, version=1))
        for i, n in zip((1, 2, 3, 4), (0, 13, None, 7)):
            s.get(Enterprise, i).employees = n
    try:
        got = viewport.read_points(project, ents)  # levels 1–4 and NULL: packed
        assert sent == [True, True]
        same(got, rows_read())
        assert got["id"][0] == -7 and got["value"][0] == 1.0
        assert np.isnan(got["x"][-2:]).all() and np.isnan(got["y"][-2:]).all()  # the empty point, no place
        assert np.isnan(got["value"][-2]) and got["value"][-1] == 4.0
        sent.clear()
        same(viewport.read_points(project, ents, field="employees"), rows_read(field="employees"))
        assert sent == [True, True]  # 0, 13 and NULL: packed
        for bad in (14, 100, -1):
            with project.session(history=False) as s:
                s.get(Enterprise, 2).employees = bad
            sent.clear()
            got = viewport.read_points(project, ents, field="employees")
            assert sent == [True, True, False, False], bad  # read again unpacked
            same(got, rows_read(field="employees"))
            assert got["value"][np.searchsorted(got["id"], 2)] == bad
    finally:
        with project.session(history=False) as s:
            s.query(Enterprise).filter(Enterprise.name.in_(["负号", "空点", "无坐标"])).delete()
            for i in (1, 2, 3, 4):
                s.get(Enterprise, i).employees = None


def test_bin_points_inside_box_made_around_the_points():
    """``inside``: a box made around every point is not tested again; the same cells as the tested read, counted
    independently by a loop (points on the box's edges and in its last row and column among them)."""
    from riskmap.store.viewport import bin_points

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(10.0, 30.0, 5000), [10.0, 30.0, 30.0]])
    y = np.concatenate([rng.uniform(-5.0, 7.0, 5000), [-5.0, 7.0, -5.0]])
    rank = rng.integers(0, 5, len(x))
    cell = 0.7
    box = (np.floor((x.min() - cell) / cell) * cell, np.floor((y.min() - cell) / cell) * cell, x.max() + cell,
           y.max() + cell)
    got = bin_points(x, y, rank, box, cell, inside=True)
    want = bin_points(x, y, rank, box, cell)
    assert all(np.array_equal(a, b) for a, b in zip(got, want))
    cells = {}
    for xi, yi, r in zip(x, y, rank):
        k = (int((xi - box[0]) / cell), int((yi - box[1]) / cell))
        n, sx, sy, top = cells.get(k, (0, 0.0, 0.0, -1))
        cells[k] = (n + 1, sx + xi, sy + yi, max(top, r))
    assert sorted(got[2].tolist()) == sorted(v[0] for v in cells.values()) and got[2].sum() == len(x)
    by_count_top = sorted(zip(got[2].tolist(), got[3].tolist()))
    assert by_count_top == sorted((v[0], v[3]) for v in cells.values())
    assert np.allclose(sorted(got[0]), sorted(v[1] / v[0] for v in cells.values()))
