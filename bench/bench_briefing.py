"""Benchmark the briefing (研判简报, ``riskmap report``) on a county-sized project with a dated history.

The 100k-enterprise county of bench/make_big_data.py (fictitious) written into a project with: 28 towns (the
grid cells dissolved by the town of their nearest enterprise) and the 5k grid cells, both levelled (就高);
every enterprise created on 2024-01-01 (5 % later) and graded then, 30 % graded again and 10 % a third time
on later days (about 140k dated assessment records); 600 hidden dangers with dated lifecycle events (the
重大 ones 挂牌督办, some overdue); the plan indicators of 会宁县 with fictitious actuals.

Measured, in one process: the briefing for 2025-01-01 → 2025-12-31 as DOCX and as PDF (the figures of both
dates, the zone levels, the changes, the 一张图 map as of the end date at 200 dpi, the indicator chart, the
document), with the time of each part. Target (issue 14): a briefing for the 100k county ≤ 10 s.

    .venv/bin/python bench/bench_briefing.py [--work FOLDER] [--out FOLDER]
    .venv/bin/python bench/bench_briefing.py --quick     # 400 enterprises, in seconds
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.peak import peak_mb  # noqa: E402

START = dt.datetime(2024, 1, 1, 9, 0)
DAYS = 730
PERIOD = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
TARGET_S = 10.0


def build_project(path: Path, seed: int, quick: bool = False) -> None:
    """The generated county with towns, grids, a dated history of levels and hidden dangers (bulk inserts)."""
    import numpy as np
    import shapely

    from bench.make_big_data import METRIC_EPSG, QUICK, dated_history, insert_dated_enterprises, make_big_layers
    from riskmap.grading.zoning import zone_project
    from riskmap.indicators import demo_indicators
    from riskmap.model import HiddenDanger, HiddenDangerEvent, Zone
    from riskmap.store import Project

    layers = make_big_layers(seed, **(QUICK if quick else {}))
    ents, grids = layers["enterprises"], layers["grids"]
    rng = np.random.default_rng(seed)
    n = len(ents)
    # towns: grid cells dissolved by the town of the enterprise nearest to each cell
    tree = shapely.STRtree(ents.geometry.array)
    nearest = tree.nearest(shapely.point_on_surface(grids.geometry.array))
    cell_town = ents["town"].to_numpy()[nearest]
    towns = {t: shapely.union_all(grids.geometry.array[cell_town == t]) for t in sorted(set(cell_town))}
    county = shapely.union_all(list(towns.values()))
    history = dated_history(ents, DAYS, rng)

    def when(day, minutes=0) -> dt.datetime:
        return START + dt.timedelta(days=int(day), minutes=int(minutes))

    def multi(g):
        return g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])

    def build(project):
        with project.session(history=False) as s:
            s.add(Zone(name="示例大县", kind="county", geom=multi(county)))
            s.execute(Zone.__table__.insert(), [{"name": t, "kind": "town", "geom": multi(g), "version": 1}
                                                for t, g in towns.items()])
            s.execute(Zone.__table__.insert(), [{"name": name, "kind": "grid", "geom": multi(g), "version": 1}
                                                for name, g in zip(grids["name"], grids.geometry.array)])
            ids, n_rows = insert_dated_enterprises(s, ents, history, DAYS, rng, when)
            n_d = 30 if quick else 600
            owners = rng.choice(ids, n_d, replace=False)
            dangers, events = [], []
            for k, eid in enumerate(owners, start=1):
                major = rng.random() < 0.25
                found = int(rng.integers(300, DAYS - 10))
                deadline = (START + dt.timedelta(days=found + int(rng.integers(20, 120)))).date()
                steps = ["registered", "rectifying"] + (["supervised"] if major else []) + \
                    (["rectified", "closed"] if rng.random() < 0.5 else [])
                dangers.append({"id": k, "enterprise_id": int(eid), "title": f"示例隐患{k:04d}",
                                "grade": "major" if major else "general", "status": steps[-1],
                                "found_date": (START + dt.timedelta(days=found)).date(), "deadline": deadline,
                                "version": 1})
                for j, st in enumerate(steps):
                    events.append({"danger_id": k, "to_status": st, "by": "基准",
                                   "at": when(min(found + 9 * j, DAYS), j)})
            s.execute(HiddenDanger.__table__.insert(), dangers)
            s.execute(HiddenDangerEvent.__table__.insert(), events)
        print(f"  {n:,} enterprises, {n_rows:,} dated assessments, {len(towns)} towns, {len(grids):,} grids, "
              f"{len(dangers)} hidden dangers")

    path.parent.mkdir(parents=True, exist_ok=True)
    Project.create(path, name="基准测试大县安全风险一张图（示例数据）", place="620422", demo=True,
                   metric_epsg=METRIC_EPSG, build=build, overwrite=True).close()
    with Project.open(path) as p:
        zone_project(p, "town", "max")
        zone_project(p, "grid", "max")
        demo_indicators(p)


def measure(path: Path, out_dir: Path) -> list[dict]:
    """The briefing as DOCX and as PDF, each part timed."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from riskmap.printing import briefing, briefing_paint
    from riskmap.printing.briefing import make_briefing
    from riskmap.store import Project

    briefing_paint.ensure_app()
    parts: dict[str, float] = {}

    def timed(module, name):
        fn = getattr(module, name)

        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - t
        setattr(module, name, wrapper)
        return fn

    originals = {(m, n): timed(m, n) for m, n in ((briefing, "collect"), (briefing_paint, "map_source"),
                                                   (briefing_paint, "map_image"), (briefing_paint, "indicator_chart"))}
    out = []
    try:
        with Project.open(path, readonly=True) as project:
            n = len(project.read_table("enterprises", columns=["id"]))
            for fmt in ("docx", "pdf", "docx"):  # the second DOCX: warm caches, as a second run in the app
                parts.clear()
                target = out_dir / f"briefing.{fmt}"
                t = time.perf_counter()
                make_briefing(project, target, start=PERIOD[0], end=PERIOD[1], fmt=fmt, issue="12",
                              org="示例大县应急管理局")
                total = time.perf_counter() - t
                known = sum(parts.values())
                out.append({"fmt": fmt, "total": total, "enterprises": n, **parts, "write": total - known,
                            "size": target.stat().st_size, "path": target})
    finally:
        for (m, name), fn in originals.items():
            setattr(m, name, fn)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", help="folder for the benchmark project (default: riskmap-bench in the temporary "
                                   "folder; --quick: a new temporary folder)")
    ap.add_argument("--out", help="folder for the briefings written (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="small data (400 enterprises), in seconds")
    args = ap.parse_args(argv)
    from bench.make_big_data import bench_project

    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs")
    with bench_project("briefing", args, build_project) as path, tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(args.out) if args.out else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        results = measure(path, out_dir)
        print(f"period {PERIOD[0]} → {PERIOD[1]}, {results[0]['enterprises']:,} enterprises")
        for r in results:
            print(f"briefing {r['fmt'].upper():4}: {r['total']:6.2f} s  [layers as of the end date "
                  f"{r['map_source']:.2f} s, figures and changes {r['collect']:.2f} s, map {r['map_image']:.2f} s, "
                  f"chart {r.get('indicator_chart', 0.0):.2f} s, document {r['write']:.2f} s]  {r['size'] / 1e6:.2f} MB")
        rss = peak_mb()
        print(f"peak memory: {rss:.0f} MB")
        worst = max(r["total"] for r in results)
        print(f"target: ≤ {TARGET_S:.0f} s per briefing — slowest {worst:.2f} s "
              f"({'met' if worst <= TARGET_S else 'NOT met'}{', quick data' if args.quick else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
