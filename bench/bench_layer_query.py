"""Benchmark the exact answers on a lazy layer (riskmap.store.layer_query) on 1M enterprises.

What the legend, the attribute table, identify and search ask of the project when a layer is too large to
read whole: class counts (with and without a filter), search (exact name, a common and a rare part of a
name), features at a point, a page at row 900 000 (offset, keyset), the ids of the whole table in a sorted
order (the attribute table's order), a window of 200 rows by id, distinct values, extents.

Data: bench/make_big_data.py's generators scaled to ``--n`` enterprises (default 1,000,000; fictitious), with
an address and a department each. Run from the repository root: ``python bench/bench_layer_query.py``
(GeoPackage; ``--url`` also copies the project into that empty PostgreSQL + PostGIS database and measures it
there). ``--quick``: 3,000 enterprises, one run of each (seconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.make_big_data import METRIC_EPSG, bench_project, make_big_layers  # noqa: E402

TARGETS = {"class_counts": 300, "search": 200, "page": 50, "features_at": 20}  # ms, issue 15


def build_project(path: Path, seed: int, quick: bool, n: int | None = None) -> None:
    """A project of ``n`` enterprises (bulk inserts, one transaction) and the county around them."""
    import shapely

    from riskmap.model import Zone
    from riskmap.store import Project
    from riskmap.store.project import bulk_insert

    n = n or (3000 if quick else 1_000_000)
    layers = make_big_layers(seed=seed, n_enterprises=n, n_grids=60 if quick else 500, n_lifelines=10)
    ents = layers["enterprises"]
    rng = np.random.default_rng(seed + 1)
    address = np.array([f"{t}示例路{k}号" for t, k in zip(ents["town"], rng.integers(1, 999, len(ents)))],
                       dtype=object)
    dept = rng.choice(np.array(["应急管理局", "市场监管局", "住建局", None], dtype=object), len(ents))
    county = shapely.coverage_union_all(layers["grids"].geometry.array)
    stamp = dt.datetime(2024, 1, 1)
    levels = [None if pd.isna(v) else int(v) for v in ents["level"].astype(object)]

    def build(project):
        with project.session(history=False) as s:
            s.add(Zone(name="示例大县", kind="county", geom=county))
            s.flush()
            conn = s.connection()
            for a in range(0, len(ents), 100_000):
                b = min(a + 100_000, len(ents))
                bulk_insert(conn, "enterprises", {
                    "name": ents["name"].to_numpy()[a:b], "industry": ents["industry"].to_numpy()[a:b],
                    "town": ents["town"].to_numpy()[a:b], "address": address[a:b], "department": dept[a:b],
                    "level": levels[a:b], "geom": list(ents.geometry.array[a:b]), "version": 1,
                    "qr_id": [f"bench{i}" for i in range(a, b)], "major_hazard": False,
                    "created_at": stamp, "updated_at": stamp})

    Project.create(path, name="百万企业基准（示例数据）", demo=True, metric_epsg=METRIC_EPSG, build=build,
                   overwrite=True).close()


class Filter:  # the shape of riskmap.ui.workspace.LayerFilter (no Qt here)
    def __init__(self, values=None, text=""):
        self.values, self.text = values or {}, text


def measure(project, repeat: int) -> list[tuple[str, float, str]]:
    """(label, median ms, target) of each question, on one store."""
    from riskmap.layers import load_catalogue
    from riskmap.store import layer_query as lq

    ents = load_catalogue()["enterprises"]
    n = lq.row_count(project, ents)
    deep = min(900_000, max(0, n - 200))
    probe = lq.page(project, ents, offset=min(777_777, n - 1), limit=1)
    name = probe["name"].iloc[0]
    rec = lq.record(project, ents, int(probe["id"].iloc[0]))
    x, y = rec.geometry.x, rec.geometry.y
    ids = lq.ordered_ids(project, ents)
    out = []

    def t(label, fn, target="", times=repeat):
        fn()  # warm the file cache as a second question would
        ts = []
        for _ in range(times):
            a = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - a)
        out.append((label, statistics.median(ts) * 1000, target))

    lvl = lq.filter_sql(ents, Filter({"level": frozenset({1, 2})}))
    gas = lq.filter_sql(ents, Filter({"industry": frozenset({"gas_station"})}))
    t("class_counts (legend)", lambda: lq.class_counts(project, ents), "≤ 300")
    t("class_counts, filter level 1–2", lambda: lq.class_counts(project, ents, lvl), "≤ 300")
    t("class_counts, filter industry 加油站", lambda: lq.class_counts(project, ents, gas), "≤ 300")
    t("class_counts, filter text 加油站 (every field)",
      lambda: lq.class_counts(project, ents, lq.filter_sql(ents, Filter(text="加油站"))), "", max(1, repeat // 3))
    t("row_count", lambda: lq.row_count(project, ents))
    t("search, an exact name", lambda: lq.search(project, ents, name), "≤ 200")
    t("search, a common part (加油站)", lambda: lq.search(project, ents, "加油站"), "≤ 200")
    t("search, a part found nowhere (whole table)", lambda: lq.search(project, ents, "不存在的企业"), "≤ 200",
      max(1, repeat // 3))
    t("features_at (identify, 5 px)", lambda: lq.features_at(project, ents, x, y, 0.0005), "≤ 20")
    t(f"page of 200 at row {deep:,}, id order (OFFSET)", lambda: lq.page(project, ents, offset=deep), "≤ 50")
    t(f"page of 200 after id {deep:,} (keyset)", lambda: lq.page(project, ents, after_id=deep), "≤ 50")
    t(f"page of 200 at row {deep:,}, by level", lambda: lq.page(project, ents, order_by="level", offset=deep),
      "≤ 50", max(1, repeat // 3))
    t(f"page of 200 at row {deep:,}, by name", lambda: lq.page(project, ents, order_by="name", offset=deep),
      "≤ 50", max(1, repeat // 3))
    t("ordered_ids, id order (the table's rows)", lambda: lq.ordered_ids(project, ents), "", max(1, repeat // 3))
    t("ordered_ids by level", lambda: lq.ordered_ids(project, ents, order_by="level"), "", max(1, repeat // 3))
    t("ordered_ids by name, descending",
      lambda: lq.ordered_ids(project, ents, order_by="name", descending=True), "", max(1, repeat // 3))
    t(f"rows_by_ids: a window of 200 at row {deep:,}", lambda: lq.rows_by_ids(project, ents, ids[deep:deep + 200]),
      "≤ 50")
    t("distinct_values industry (indexed)", lambda: lq.distinct_values(project, ents, "industry"))
    t("distinct_values department (no index)", lambda: lq.distinct_values(project, ents, "department"), "",
      max(1, repeat // 3))
    mid = len(ids) // 2
    t(f"extent of {len(ids[mid:mid + 1000]):,} selected ids", lambda: lq.extent(project, ents, ids[mid:mid + 1000]))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", help="folder for the benchmark project (default: riskmap-bench in the temporary "
                                   "folder; --quick: a new temporary folder)")
    ap.add_argument("--url", help="also measure PostgreSQL + PostGIS: an empty database to copy the project into")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3,000 enterprises, one run of each")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 1
    from riskmap.store import Project

    with bench_project("layer_query", args, build_project) as path:
        stores = [("GeoPackage", Project.open(path, readonly=True))]
        if args.url:
            from riskmap.store.sync import push

            t = time.perf_counter()
            push(path, args.url)
            pg = Project.open(args.url)
            with pg.engine.connect() as conn:  # the statistics a server has after autovacuum
                raw = conn.connection.driver_connection
                raw.autocommit = True
                raw.execute("VACUUM ANALYZE enterprises")
                raw.autocommit = False
            print(f"pushed to PostgreSQL in {time.perf_counter() - t:.1f} s")
            stores.append(("PostGIS", pg))
        from riskmap.layers import load_catalogue
        from riskmap.store import layer_query as lq

        n = lq.row_count(stores[0][1], load_catalogue()["enterprises"])
        results = [measure(p, args.repeat) for _, p in stores]
        print(f"\n{n:,} enterprises; median of {args.repeat} runs, ms")
        print(f"  {'':<52}" + "".join(f"{name:>12}" for name, _ in stores) + "   target")
        for i, (label, _, target) in enumerate(results[0]):
            print(f"  {label:<52}" + "".join(f"{r[i][1]:12.1f}" for r in results) + f"   {target}")
        for _, p in stores:
            p.close()


if __name__ == "__main__":
    main()
