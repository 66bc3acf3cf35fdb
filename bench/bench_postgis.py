"""Benchmark the PostgreSQL + PostGIS store against the GeoPackage store on the 100k project.

Same data in both (bench/make_big_data.py: 100k enterprises, 5k grid cells, 20k lifelines, plus 10k protected
targets, 600 control lines and 3×300 risk contours made here, all fictitious): read_table, zoning
(riskmap.grading.zoning.zone_project), the encroachment check (riskmap.analysis.encroachment), push and pull,
and the same questions asked inside PostGIS (ST_Intersects / ST_DWithin joins on GiST indexes) next to their
shapely equivalents.

Run from the repository root: ``python bench/bench_postgis.py`` — starts a throwaway server (tests/pgserver.py;
needs PostgreSQL + PostGIS, see scripts/system-deps.sh test) unless ``--url`` names an empty database.
``--quick``: the small data set (make_big_data.QUICK, 300 targets, 20 control lines, 3×10 contours), one run
of each, in a temporary folder (seconds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.make_big_data import METRIC_EPSG, QUICK, bench_project, make_big_layers  # noqa: E402
from riskmap.crs import to_metric  # noqa: E402
from riskmap.model import ControlLine, Enterprise, LifelineSegment, ProtectedTarget, RiskContour, Zone  # noqa: E402
from riskmap.store import Project  # noqa: E402
from riskmap.store.sync import pull, push  # noqa: E402

TARGET_KINDS = ("school", "kindergarten", "hospital", "elderly_home", "residential", "crowded_place", "office")


def _geo(metric_geoms):
    from riskmap.crs import to_geographic

    return to_geographic(np.asarray(metric_geoms, dtype=object), METRIC_EPSG)


FULL_EXTRAS = {"n_targets": 10_000, "n_lines": 600, "n_contours": 300}
QUICK_EXTRAS = {"n_targets": 300, "n_lines": 20, "n_contours": 10}


def build_project(path: Path, seed: int, quick: bool = False) -> None:
    """The 100k project: benchmark layers plus targets, control lines and contours around some enterprises."""
    layers = make_big_layers(seed, **(QUICK if quick else {}))
    extras = QUICK_EXTRAS if quick else FULL_EXTRAS
    ents, grids, lifelines = layers["enterprises"], layers["grids"], layers["lifelines"]
    rng = np.random.default_rng(seed + 1)
    ent_m = to_metric(ents.geometry.values, METRIC_EPSG)
    # protected targets: 10k points near enterprises (so that some fall inside lines and contours)
    n_t = extras["n_targets"]
    near = rng.integers(0, len(ents), n_t)
    xy = shapely.get_coordinates(ent_m[near]) + rng.normal(0, 900, (n_t, 2))
    targets = _geo(shapely.points(xy))
    kinds = rng.choice(TARGET_KINDS, n_t)
    people = rng.integers(5, 400, n_t)
    # control lines around 600 enterprises, 300–1000 m; contours 1e-5 / 3e-6 / 3e-7 around 300 others
    n_lines = extras["n_lines"]
    pick = rng.choice(len(ents), n_lines + extras["n_contours"], replace=False)
    line_idx, cont_idx = pick[:n_lines], pick[n_lines:]
    lines = _geo(shapely.buffer(ent_m[line_idx], rng.uniform(300, 1000, len(line_idx)), quad_segs=16))
    radii = {1e-5: 150.0, 3e-6: 400.0, 3e-7: 900.0}
    contours = []
    for c in cont_idx:
        scale = rng.uniform(0.6, 1.6)
        for risk, r in radii.items():
            contours.append((int(ents["id"].iloc[c]), risk, _geo([shapely.buffer(ent_m[c], r * scale, quad_segs=16)])[0]))

    def build(project):
        with project.session(history=False) as s:
            conn = s.connection()
            conn.execute(Zone.__table__.insert(), [
                {"id": int(i), "name": n, "kind": "grid", "geom": shapely.MultiPolygon([g]), "version": 1,
                 "level": None}
                for i, n, g in zip(grids["id"], grids["name"], grids.geometry.values)])
            conn.execute(Enterprise.__table__.insert(), [
                {"id": int(i), "name": n, "industry": ind, "town": t,
                 "level": None if lv is None or lv is pd.NA else int(lv),
                 "geom": g, "qr_id": uuid.uuid4().hex, "version": 1, "major_hazard": False}
                for i, n, ind, t, lv, g in zip(ents["id"], ents["name"], ents["industry"], ents["town"],
                                               ents["level"].astype(object), ents.geometry.values)])
            conn.execute(LifelineSegment.__table__.insert(), [
                {"id": int(i), "name": n, "category": c, "diameter_mm": float(d), "geom": g, "version": 1}
                for i, n, c, d, g in zip(lifelines["id"], lifelines["name"], lifelines["category"],
                                         lifelines["diameter_mm"], lifelines.geometry.values)])
            conn.execute(ProtectedTarget.__table__.insert(), [
                {"name": f"示例防护目标{i:05d}", "kind": str(k), "people": int(p), "geom": g, "version": 1}
                for i, (k, p, g) in enumerate(zip(kinds, people, targets), 1)])
            conn.execute(ControlLine.__table__.insert(), [
                {"name": f"示例安全控制线{i:04d}", "enterprise_id": int(ents["id"].iloc[e]), "status": "approved",
                 "geom": shapely.MultiPolygon([g]), "version": 1}
                for i, (e, g) in enumerate(zip(line_idx, lines), 1)])
            conn.execute(RiskContour.__table__.insert(), [
                {"enterprise_id": e, "facility": "示例储罐区", "individual_risk": r, "installation_status": "in_service",
                 "geom": shapely.MultiPolygon([g]), "version": 1} for e, r, g in contours])

    Project.create(path, name="PostGIS benchmark (示例数据)", place="620422", demo=True, metric_epsg=METRIC_EPSG,
                   build=build, overwrite=True).close()


def timed(fn, repeat: int):
    out, value = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        out.append(time.perf_counter() - t)
    return value, statistics.median(out)


def row(label: str, gpkg: float | None, pg: float | None, note: str = "") -> None:
    g = f"{gpkg * 1000:9.0f}" if gpkg is not None else "        -"
    p = f"{pg * 1000:9.0f}" if pg is not None else "        -"
    ratio = f"{gpkg / pg:6.2f}×" if gpkg and pg else "       "
    print(f"  {label:<46} {g} {p}   {ratio}  {note}")


def sql_rows(project, sql: str) -> list:
    with project.engine.connect() as conn:
        return conn.exec_driver_sql(sql).fetchall()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", help="folder for the benchmark project (default: riskmap-bench in the temporary "
                                   "folder; --quick: a new temporary folder)")
    ap.add_argument("--url", help="an empty PostgreSQL + PostGIS database (default: a throwaway server)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small data, one run of each")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 1
    with bench_project("postgis", args, build_project) as path:
        run(args, path)


def run(args, path: Path) -> None:
    """Copy the project at ``path`` into PostgreSQL and print the figures of both stores."""

    server = None
    url = args.url
    if url is None:
        from pgserver import PgServer

        server = PgServer.start()
        url = server.create_database("bench")
    try:
        t = time.perf_counter()
        push(path, url)
        t_push = time.perf_counter() - t
        t = time.perf_counter()
        pulled = path.with_name(path.stem.replace("_run", "_pulled") + ".gpkg")
        pull(url, pulled, overwrite=True)
        t_pull = time.perf_counter() - t
        gp, pg = Project.open(path), Project.open(url)
        counts = gp.counts()
        print(f"\n{counts['enterprises']} enterprises, {counts['zones']} grid cells, {counts['lifelines']} lifelines, "
              f"{counts['protected_targets']} protected targets, {counts['control_lines']} control lines, "
              f"{counts['risk_contours']} risk contours; median of {args.repeat} runs, ms")
        print(f"  {'':<46} {'GeoPackage':>9} {'PostGIS':>9}   gpkg/pg")
        print(f"  push file → database {t_push:.1f} s; pull database → file {t_pull:.1f} s")

        for label, fn in [
            (f"read_table enterprises ({counts['enterprises']:,} points)", lambda p: p.read_table("enterprises")),
            (f"read_table zones ({counts['zones']:,} polygons)", lambda p: p.read_table("zones")),
            (f"read_table lifelines ({counts['lifelines']:,} lines)", lambda p: p.read_table("lifelines")),
        ]:
            row(label, timed(lambda: fn(gp), args.repeat)[1], timed(lambda: fn(pg), args.repeat)[1])

        try:
            from riskmap.grading.zoning import zone_project
        except ImportError:
            zone_project = None
            print("  zoning: riskmap.grading.zoning not available — skipped")
        if zone_project is not None:
            for rule in ("max", "weighted"):
                rg, tg = timed(lambda: zone_project(gp, "grid", rule), args.repeat)
                rp, tp = timed(lambda: zone_project(pg, "grid", rule), args.repeat)
                same = {z.id: z.level for z in rg.zones} == {z.id: z.level for z in rp.zones}
                tmg, tmp = rg.timings, rp.timings
                row(f"zone_project grid {rule}", tg, tp,
                    f"same levels: {same}; read/write ms gpkg {tmg['read'] * 1e3:.0f}/{tmg['write'] * 1e3:.0f}, "
                    f"pg {tmp['read'] * 1e3:.0f}/{tmp['write'] * 1e3:.0f}")

        try:
            from riskmap.analysis.encroachment import check_encroachments
        except ImportError:
            check_encroachments = None
            print("  encroachment check: riskmap.analysis.encroachment not available — skipped")
        if check_encroachments is not None:
            eg, tg = timed(lambda: check_encroachments(gp), args.repeat)
            ep, tp = timed(lambda: check_encroachments(pg), args.repeat)
            row("check_encroachments", tg, tp, f"{len(eg)} rows; same result: {eg.equals(ep)}")

        # the same questions inside PostGIS (GiST) versus shapely on arrays already in memory
        print("\n  in the database (PostGIS, GiST) versus shapely in memory (after read_table):")
        ents = gp.read_table("enterprises", columns=["id", "level"])
        grids = gp.read_table("zones", columns=["id"])
        targets = gp.read_table("protected_targets", columns=["id"])
        lines = gp.read_table("control_lines", columns=["id"])

        def shapely_zoning():
            lv = ents["level"].to_numpy(dtype=float)
            ok = ~np.isnan(lv)
            tree = STRtree(ents.geometry.values[ok])
            zi, ei = tree.query(grids.geometry.values, predicate="intersects")
            out = pd.Series(lv[ok][ei]).groupby(zi).min()
            return len(out)

        def sql_zoning():
            return len(sql_rows(pg, "SELECT z.id, min(e.level) FROM zones z JOIN enterprises e "
                                    "ON ST_Intersects(z.geom, e.geom) WHERE e.level IS NOT NULL GROUP BY z.id"))

        n1, ts = timed(shapely_zoning, args.repeat)
        n2, tq = timed(sql_zoning, args.repeat)
        print(f"  {'zoning 就高 (point in polygon + min level)':<46} shapely {ts * 1e3:7.0f}   PostGIS {tq * 1e3:7.0f}"
              f"   zones {n1} / {n2}")

        def shapely_inside():
            ti, li = STRtree(lines.geometry.values).query(targets.geometry.values, predicate="intersects")
            return len(ti)

        def sql_inside():
            return len(sql_rows(pg, "SELECT t.id, c.id FROM protected_targets t JOIN control_lines c "
                                    "ON ST_Intersects(c.geom, t.geom)"))

        n1, ts = timed(shapely_inside, args.repeat)
        n2, tq = timed(sql_inside, args.repeat)
        print(f"  {'targets inside control lines (ST_Intersects)':<46} shapely {ts * 1e3:7.0f}   PostGIS {tq * 1e3:7.0f}"
              f"   pairs {n1} / {n2}")

        red = ents[ents["level"] == 1]
        red_m = to_metric(red.geometry.values, METRIC_EPSG)
        t_m = to_metric(targets.geometry.values, METRIC_EPSG)

        def shapely_near():
            ti, ei = STRtree(red_m).query(t_m, predicate="dwithin", distance=500.0)
            return len(ti)

        def sql_near():  # a degree radius on the GiST index (≥ 500 m here), then metres on the spheroid
            return len(sql_rows(pg, "SELECT t.id, e.id FROM protected_targets t JOIN enterprises e "
                                    "ON e.level = 1 AND ST_DWithin(t.geom, e.geom, 0.0075) "
                                    "AND ST_DWithin(t.geom::geography, e.geom::geography, 500)"))

        n1, ts = timed(shapely_near, args.repeat)
        n2, tq = timed(sql_near, args.repeat)
        print(f"  {'targets within 500 m of a 重大 enterprise':<46} shapely {ts * 1e3:7.0f}   PostGIS {tq * 1e3:7.0f}"
              f"   pairs {n1} / {n2} (Gauss–Krüger plane vs spheroid)")
        gp.close()
        pg.close()
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
