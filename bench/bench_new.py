"""Benchmark ``riskmap new``: a project for a county, a city and a province from the gazetteer, and place search.

Target (issue 13): a county ≤ 2 s; search (what the new-project dialog calls on every keystroke) < 50 ms.
Prints the load average first: the figures are only comparable on an otherwise idle machine. Run from the
repository root: ``python bench/bench_new.py``; ``--quick`` makes each project once and searches a few names.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shapely  # noqa: E402

from riskmap import gazetteer  # noqa: E402
from riskmap.newproject import new_project  # noqa: E402
from riskmap.store import Project  # noqa: E402

PLACES = [("county", "平阴县"), ("county", "会宁县"), ("city", "六安市"), ("city", "喀什地区"), ("province", "安徽省"),
          ("province", "新疆维吾尔自治区")]
QUICK_PLACES = [("county", "平阴县"), ("city", "六安市"), ("province", "安徽省")]
SEARCHES = ["平阴", "城关区", "370124", "朝阳", "兰州市城关区", "县", "安"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="each project once, a few searches (seconds)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per place (default 3)")
    ap.add_argument("--work", help="folder for the projects (default: a temporary folder)")
    args = ap.parse_args()
    repeat = 1 if args.quick else max(1, args.repeat)
    places = QUICK_PLACES if args.quick else PLACES
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench_new_"))
    work.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    gazetteer.search("平阴")
    print(f"gazetteer first load: {(time.perf_counter() - t) * 1000:.1f} ms")
    times = []
    for text in SEARCHES:
        runs = []
        for _ in range(1 if args.quick else 20):
            t = time.perf_counter()
            hits = gazetteer.search(text)
            runs.append(time.perf_counter() - t)
        times.append(max(runs))
        print(f"search {text!r}: {len(hits)} hits, {statistics.median(runs) * 1000:.2f} ms median, "
              f"{max(runs) * 1000:.2f} ms worst")
    print(f"search worst: {max(times) * 1000:.1f} ms (target < 50 ms)")

    runs = []
    for i in range(repeat):
        t = time.perf_counter()
        Project.create(work / f"empty_{i}.gpkg", name="empty", overwrite=True).close()
        runs.append(time.perf_counter() - t)
    print(f"empty Project.create (the floor under every new project): {statistics.median(runs):.2f} s median of {repeat}")

    for level, name in places:
        place = gazetteer.find(name)
        gazetteer._boundary.cache_clear()
        t = time.perf_counter()
        parts = [place] + (gazetteer.children(place.adcode) if place.level != "county" else [])
        vertices = sum(shapely.get_num_coordinates(d.boundary()) for d in parts)
        print(f"boundaries of {name}: {len(parts)} read in {(time.perf_counter() - t) * 1000:.0f} ms, {vertices:,} vertices")
        runs = []
        for i in range(repeat):
            out = work / f"{level}_{i}.gpkg"
            t = time.perf_counter()
            project = new_project(out, name, overwrite=True)
            runs.append(time.perf_counter() - t)
            n = project.counts()["zones"]
            project.close()
        size = out.stat().st_size / 1e6
        target = " (target ≤ 2 s)" if level == "county" else ""
        print(f"new {level} {name}: {statistics.median(runs):.2f} s median of {repeat}{target}, "
              f"{n} zones, {size:.1f} MB")
    if not args.work:
        for f in work.glob("*.gpkg"):
            f.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
