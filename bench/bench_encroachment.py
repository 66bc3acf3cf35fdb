"""Benchmark: GB 36894 encroachment check of 10 000 protected targets against 500 control lines (target ≤ 1 s).

Run by hand: ``python bench/bench_encroachment.py [--targets N] [--lines N]``; ``--quick``: 300 targets,
20 lines, one run (seconds). Builds a temporary project in
the 会宁县 zone (random targets over 60 × 60 km, control lines = unions of 3 facility buffers of 300–800 m
with 64 segments per quarter circle), then times ``check_encroachments`` (reading the tables from the project
file included) and the in-memory ``find_encroachments`` alone, best of 3.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from riskmap.analysis.encroachment import check_encroachments, find_encroachments  # noqa: E402
from riskmap.analysis.geodesy import to_geographic  # noqa: E402
from riskmap.model import ControlLine, ProtectedTarget  # noqa: E402
from riskmap.store import Project  # noqa: E402

EPSG = 4544
CENTRE = (500_000.0, 3_975_000.0)  # ≈ 105.0°E, 35.9°N in CGCS2000 / 3-degree GK CM 105E
KINDS = ["school", "kindergarten", "hospital", "elderly_home", "residential", "crowded_place", "office"]


def build(path: Path, n_targets: int, n_lines: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)

    def fill(project: Project) -> None:
        xy = rng.uniform(-30_000, 30_000, size=(n_targets, 2)) + CENTRE
        pts = to_geographic(shapely.points(xy), EPSG)
        people = rng.integers(5, 2000, n_targets)
        kinds = rng.choice(KINDS, n_targets)
        targets = [dict(name=f"目标{i}", kind=str(k), people=int(p), geom=g, version=1)
                   for i, (k, p, g) in enumerate(zip(kinds, people, pts))]
        lines = []
        for i in range(n_lines):
            c = rng.uniform(-28_000, 28_000, 2) + CENTRE
            parts = [shapely.Point(c + rng.normal(0, 300, 2)).buffer(float(rng.uniform(300, 800)), 64)
                     for _ in range(3)]
            region = shapely.union_all(parts)
            geom = to_geographic(region, EPSG)
            polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
            lines.append(dict(name=f"控制线{i}", status="approved", geom=shapely.MultiPolygon(polys), version=1,
                              applies_to=None if i % 4 else "high_sensitive,general_1"))
        with project.session(history=False) as s:
            s.execute(ProtectedTarget.__table__.insert(), targets)
            s.execute(ControlLine.__table__.insert(), lines)

    Project.create(path, name="encroachment benchmark", metric_epsg=EPSG, build=fill).close()


def best_of(n: int, fn):
    times, result = [], None
    for _ in range(n):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=10_000)
    ap.add_argument("--lines", type=int, default=500)
    ap.add_argument("--quick", action="store_true", help="300 targets, 20 control lines, best of 1")
    args = ap.parse_args(argv)
    runs = 3
    if args.quick:
        args.targets, args.lines, runs = 300, 20, 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.gpkg"
        t = time.perf_counter()
        build(path, args.targets, args.lines)
        print(f"built {args.targets} targets, {args.lines} control lines in {time.perf_counter() - t:.1f} s")
        with Project.open(path, readonly=True) as project:
            total, df = best_of(runs, lambda: check_encroachments(project))
            targets = project.read_table("protected_targets")
            lines = project.read_table("control_lines")
            core, _ = best_of(runs, lambda: find_encroachments(targets, None, lines, EPSG))
        print(f"encroachments found: {len(df)} (targets {df['target_id'].nunique()})")
        print(f"check_encroachments (read tables + check): {total:.3f} s   target ≤ 1 s: "
              f"{'OK' if total <= 1.0 else 'SLOW'}")
        print(f"find_encroachments (in memory):            {core:.3f} s")


if __name__ == "__main__":
    main()
