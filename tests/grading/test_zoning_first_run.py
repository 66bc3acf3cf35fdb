"""A first zoning run (pairs assigned afresh) through the bulk paths — enterprises read as aggregated arrays,
points bucketed and tested with ``intersects_xy`` — gives exactly what the straightforward path gives:
every point tested against every zone with shapely, enterprises read row by row. On a generated project with
tricky geometry: skewed cells sharing edges and vertices, points exactly on them, a hole, a multipolygon, a
zone overlapping others, points outside every zone, enterprises without a location."""

import shutil

import numpy as np
import pytest
import shapely

from riskmap.grading import zoning
from riskmap.grading.zoning import assign_xy, zone_project, zone_table
from riskmap.store import zoning as zstore

X0, Y0, STEP, NX, NY = 116.0, 31.0, 0.01, 9, 7


def lattice() -> np.ndarray:
    """(NX + 1, NY + 1, 2) vertices: vertical lines straight (x exact), horizontal lines jittered."""
    rng = np.random.default_rng(15)
    xs = X0 + STEP * np.arange(NX + 1)
    ys = Y0 + STEP * np.arange(NY + 1)[None, :] + rng.uniform(-0.3, 0.3, (NX + 1, NY + 1)) * STEP
    ys[:, 0], ys[:, -1] = Y0, Y0 + STEP * NY
    return np.stack([np.broadcast_to(xs[:, None], ys.shape), ys], axis=-1)


def zone_geoms() -> list:
    v = lattice()
    cells = {(i, j): shapely.Polygon([v[i, j], v[i + 1, j], v[i + 1, j + 1], v[i, j + 1]])
             for i in range(NX) for j in range(NY)}
    c = cells[(2, 2)].centroid
    cells[(2, 2)] = cells[(2, 2)].difference(shapely.box(c.x - 0.002, c.y - 0.002, c.x + 0.002, c.y + 0.002))
    cells[(5, 1)] = shapely.MultiPolygon([cells[(5, 1)], cells.pop((7, 5))])  # (7, 5)'s ground: two zones' worth
    del cells[(8, 6)]  # a gap: points there are in no zone
    geoms = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in cells.values()]
    geoms.append(shapely.MultiPolygon([shapely.box(X0 + 0.035, Y0 + 0.015, X0 + 0.062, Y0 + 0.041)]))  # overlaps
    return geoms


def enterprise_points(geoms) -> list:
    """Random points, every lattice vertex, points on the straight vertical edges, on the hole's edge and in
    it, outside the city, and None (no location)."""
    rng = np.random.default_rng(16)
    v = lattice()
    pts = [tuple(p) for p in rng.uniform([X0 - 0.005, Y0 - 0.005], [X0 + STEP * NX + 0.005, Y0 + STEP * NY + 0.005],
                                         (900, 2))]
    pts += [tuple(p) for p in v.reshape(-1, 2)]
    for i in range(1, NX):
        for j in range(NY):
            y = (v[i, j, 1] + v[i, j + 1, 1]) / 2
            pts.append((float(v[i, j, 0]), float(y)))  # x exact: on the shared vertical edge
    hole = shapely.get_interior_ring(next(g for g in geoms if shapely.get_num_interior_rings(g.geoms[0])).geoms[0], 0)
    pts += [tuple(p) for p in shapely.get_coordinates(hole)[:4]]  # the hole's corners
    pts.append(tuple(shapely.centroid(hole).coords[0]))  # inside the hole
    pts += [(X0 - 1.0, Y0), (X0 + STEP * 8.5, Y0 + STEP * 6.5)]  # far away; the gap
    pts += [None] * 5
    return pts


def build(project, geoms, pts):
    from riskmap.model import Enterprise, Zone

    rng = np.random.default_rng(17)
    levels = rng.choice(np.array([1, 2, 3, 4, None], dtype=object), len(pts), p=[0.01, 0.03, 0.15, 0.71, 0.1])
    with project.session(history=False) as s:
        for k, g in enumerate(geoms):
            s.add(Zone(name=f"网格{k}", kind="grid", geom=g))
        for k, (a, b) in enumerate(((0, 4), (4, NX))):  # two towns split on a straight vertical line
            s.add(Zone(name=f"测试{k}镇", kind="town", geom=shapely.MultiPolygon(
                [shapely.box(X0 + STEP * a, Y0, X0 + STEP * b, Y0 + STEP * NY)])))
        for k, (p, lv) in enumerate(zip(pts, levels)):
            s.add(Enterprise(name=f"企业{k}", industry="gas_station", town="测试镇", level=None if lv is None else int(lv),
                             geom=None if p is None else shapely.Point(*p)))


@pytest.fixture(scope="module")
def tricky_path(tmp_path_factory):
    from riskmap.store import Project

    path = tmp_path_factory.mktemp("tricky") / "tricky.gpkg"
    geoms = zone_geoms()
    pts = enterprise_points(geoms)
    Project.create(path, name="边界测试", place="341502", metric_epsg=4547,
                   build=lambda p: build(p, geoms, pts)).close()
    return path


def brute_assign(xy, polygons):
    """Every point against every polygon with shapely.intersects (closed polygons: a point on a shared edge
    or vertex is in each zone there)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    ok = np.isfinite(xy).all(axis=1)
    pts = np.full(len(xy), None, dtype=object)
    pts[ok] = shapely.points(xy[ok])
    pt, pg = [], []
    for j, poly in enumerate(polygons):
        if poly is None or poly.is_empty:
            continue
        hit = np.flatnonzero(ok & shapely.intersects(poly, pts))
        pt.append(hit), pg.append(np.full(len(hit), j))
    return np.concatenate(pt).astype(np.int64), np.concatenate(pg).astype(np.int64)


def rows_read(conn, **_) -> dict:
    """The enterprises read row by row, levels made numbers as zoning does."""
    e = zstore.read_enterprise_points(conn)
    return {"id": np.asarray(e["id"], dtype=np.int64), "level": zoning._levels_array(e["level"]),
            "x": e["x"], "y": e["y"]}


def outcome_of(result, project, unit: str = "grid") -> tuple:
    return ([(z.id, z.name, z.level, z.rule, z.reason, z.counts, z.deciders) for z in result.zones],
            result.unlocated_counted, result.unlocated_skipped, zone_table(project, unit))


@pytest.mark.parametrize("chunk", [zoning.ASSIGN_CHUNK, 7])
def test_bulk_assignment_equals_shapely_point_by_point(tricky_path, chunk, monkeypatch):
    from riskmap.store import Project

    monkeypatch.setattr(zoning, "ASSIGN_CHUNK", chunk)  # 7: many chunks, a bucket's points split among them

    with Project.open(tricky_path, readonly=True) as p, p.engine.connect() as conn:
        _, geoms = zstore.read_zones(conn, ("grid",))
        ents = zstore.read_enterprise_xy(conn)
    xy = np.column_stack([ents["x"], ents["y"]])
    got = set(zip(*(a.tolist() for a in assign_xy(xy, geoms))))
    want = set(zip(*(a.tolist() for a in brute_assign(xy, geoms))))
    assert got == want
    n_zones = np.bincount([pt for pt, _ in want], minlength=len(xy))
    assert (n_zones >= 4).sum() >= (7 - 1) * (9 - 1) - 2  # inner lattice vertices: in four cells (or more)
    assert (n_zones == 0).sum() >= 5 + 2 and (n_zones == 2).sum() > 40  # outside / on a shared edge


def test_first_run_equals_the_straightforward_path(tricky_path, tmp_path, monkeypatch):
    from riskmap.store import Project

    plain, bulk = tmp_path / "plain.gpkg", tmp_path / "bulk.gpkg"
    shutil.copy(tricky_path, plain)
    shutil.copy(tricky_path, bulk)
    zstore.forget_pairs()
    with Project.open(bulk) as p:
        new = outcome_of(zone_project(p, "grid", "max"), p)
    with monkeypatch.context() as m:
        m.setattr(zoning, "assign_xy", brute_assign)
        m.setattr(zstore, "read_enterprise_xy_counted", lambda conn, **_: (rows_read(conn), None))
        with Project.open(plain) as p:
            old = outcome_of(zone_project(p, "grid", "max"), p)
    assert new == old
    levels = [z[2] for z in new[0]]
    assert len(set(levels)) >= 3 and new[2] == 5  # several levels; the five without a location skipped


def test_another_units_first_run_reuses_the_points_until_they_change(tricky_path, tmp_path, monkeypatch):
    """The points read by the grid's first run serve the towns' first run in the same process (levels read
    again), with the result of a run that reads them; after a move they are read again."""
    from riskmap.grading.zoning import relocate_enterprise
    from riskmap.model import Enterprise
    from riskmap.store import Project

    fresh, reuse = tmp_path / "fresh.gpkg", tmp_path / "reuse.gpkg"
    shutil.copy(tricky_path, fresh)
    shutil.copy(tricky_path, reuse)
    zstore.forget_pairs()
    with Project.open(fresh) as p:
        want = outcome_of(zone_project(p, "town", "max"), p, "town")
    zstore.forget_pairs()
    reads = []
    real = zstore.read_enterprise_xy_counted
    monkeypatch.setattr(zstore, "read_enterprise_xy_counted", lambda conn, **k: reads.append(1) or real(conn, **k))
    with Project.open(reuse) as p:
        zone_project(p, "grid", "max")
        assert len(reads) == 1
        assert outcome_of(zone_project(p, "town", "max"), p, "town") == want
        assert len(reads) == 1  # the towns' pairs assigned afresh from the kept points
        with p.session() as s:  # the file changes: neither the towns' pairs nor the points may be used
            ent = s.get(Enterprise, 1)
            to_x = X0 + STEP * (1.5 if ent.geom.x > X0 + STEP * 4 else 6.5)  # into the other town
            relocate_enterprise(s, ent, shapely.Point(to_x, Y0 + STEP * 0.5))
        moved = outcome_of(zone_project(p, "town", "max"), p, "town")
        assert len(reads) == 2
    assert moved != want
    again = tmp_path / "again.gpkg"  # the moved store in a new place: nothing kept for it
    shutil.copy(reuse, again)
    zstore.forget_pairs()
    with Project.open(again) as p:
        assert outcome_of(zone_project(p, "town", "max"), p, "town") == moved
    assert len(reads) == 3
