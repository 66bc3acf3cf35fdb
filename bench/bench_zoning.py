"""Benchmark zoning: 100k enterprises into 5k grid cells from scratch, and the incremental update after one
enterprise changes level or moves. Targets (issue 3): from scratch ≤ 1 s, incremental ≤ 20 ms. Prints the load
average first: the figures are only comparable on an otherwise idle machine.

Data: bench/make_big_data.py (fictitious, around 会宁县), written into a riskmap project once (cached in
the folder given by --work). Run from the repository root: ``python bench/bench_zoning.py``; ``--quick`` runs the
same steps once on the small data set (make_big_data.QUICK) in a temporary folder, in seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.make_big_data import METRIC_EPSG, QUICK, bench_project, make_big_layers  # noqa: E402
from riskmap.crs import to_metric  # noqa: E402
from riskmap.grading import zoning_rules  # noqa: E402
from riskmap.grading.zoning import compute, enterprises_changed, relocate_enterprise, zone_project  # noqa: E402
from riskmap.model import Enterprise, Zone  # noqa: E402
from riskmap.store import Project  # noqa: E402


def build_project(path: Path, seed: int, quick: bool = False) -> None:
    layers = make_big_layers(seed, **(QUICK if quick else {}))
    ents, grids = layers["enterprises"], layers["grids"]

    def build(project):
        with project.session(history=False) as s:
            conn = s.connection()
            conn.execute(Zone.__table__.insert(), [
                {"id": int(i), "name": n, "kind": "grid", "geom": shapely.MultiPolygon([g]), "version": 1}
                for i, n, g in zip(grids["id"], grids["name"], grids.geometry.values)])
            conn.execute(Enterprise.__table__.insert(), [
                {"id": int(i), "name": n, "industry": ind, "town": t, "level": None if lv is None or lv is pd.NA else int(lv),
                 "geom": g, "qr_id": uuid.uuid4().hex, "version": 1, "major_hazard": False}
                for i, n, ind, t, lv, g in zip(ents["id"], ents["name"], ents["industry"], ents["town"],
                                               ents["level"].astype(object), ents.geometry.values)])

    Project.create(path, name="zoning benchmark (示例数据)", place="620422", demo=True, metric_epsg=METRIC_EPSG,
                   build=build, overwrite=True).close()


def timed(fn, repeat: int):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        out.append(time.perf_counter() - t)
    return value, out


def fmt(ts) -> str:
    return f"median {statistics.median(ts) * 1000:7.1f} ms  (min {min(ts) * 1000:.1f}, max {max(ts) * 1000:.1f})"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", help="folder for the benchmark project (default: riskmap-bench in the temporary "
                                   "folder; --quick: a new temporary folder)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="small data, one repeat")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 1
    with bench_project("zoning", args, build_project) as path:
        run(args, path)


def run(args, path: Path) -> None:
    """Measure on the project copy at ``path`` and print the figures."""
    project = Project.open(path)
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs")
    zones = project.read_table("zones", where="kind = 'grid'", columns=["id"])
    ents = project.read_arrays("enterprises", ["id", "level"], xy=True)
    print(f"{len(ents['id'])} enterprises, {len(zones)} grid cells")
    levels = np.array([0 if v is None else int(v) for v in ents["level"]])
    xy = np.column_stack([ents["x"], ents["y"]])
    zg = np.asarray(zones.geometry.values, dtype=object)

    for rule in ("max", "weighted"):
        cfg = zoning_rules.settings(rule)
        div = shapely.area(to_metric(zg, METRIC_EPSG)) / 1e6 if rule == "weighted" else None
        _, ts = timed(lambda: compute(zg, xy, levels, cfg, div), args.repeat)
        print(f"from scratch, assign + rule ({rule:8}):        {fmt(ts)}")

    for rule in ("max", "weighted"):
        result, ts = timed(lambda: zone_project(project, "grid", rule), max(3, args.repeat // 2))
        tm = result.timings
        kept = project.counts()["zone_decisions"]
        print(f"from scratch, zone_project ({rule:8}) total:   {fmt(ts)}  "
              f"[read {tm['read'] * 1000:.0f}, assign+rule {tm['assign_and_rules'] * 1000:.0f}, "
              f"reasons {tm['reasons'] * 1000:.0f}, write {tm['write'] * 1000:.0f}, "
              f"commit {tm['commit'] * 1000:.0f} ms]  zones per level {result.summary()}, "
              f"{kept} decisions kept")

    zone_project(project, "grid", "max")
    rng = np.random.default_rng(1)
    ids = rng.choice(ents["id"], size=args.repeat * 4, replace=False)
    rec_ts, tx_ts, touched = [], [], []
    for eid in ids:
        t0 = time.perf_counter()
        with project.session(history=False) as s:
            e = s.get(Enterprise, int(eid))
            e.level = 1 if e.level != 1 else 4
            t1 = time.perf_counter()
            done = enterprises_changed(s, [e.id])
            t2 = time.perf_counter()
        t3 = time.perf_counter()
        rec_ts.append(t2 - t1)
        tx_ts.append(t3 - t0)
        touched.append(len(done.get("grid", [])))
    print(f"incremental, level change: recolour           {fmt(rec_ts)}  zones recomputed per change: "
          f"{sorted(set(touched))}")
    print(f"incremental, level change: whole transaction  {fmt(tx_ts)}")
    mv_ts = []
    for eid in ids[: args.repeat * 2]:
        with project.session(history=False) as s:
            e = s.get(Enterprise, int(eid))
            p = e.geom
            t1 = time.perf_counter()
            relocate_enterprise(s, e, shapely.Point(p.x + 0.02, p.y + 0.01))
            mv_ts.append(time.perf_counter() - t1)
    print(f"incremental, relocation (old + new zones)     {fmt(mv_ts)}")
    project.close()


if __name__ == "__main__":
    main()
