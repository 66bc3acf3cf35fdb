"""Generate the large benchmark data set: 100k enterprises, 5k grid cells, 20k lifeline segments.

Everything is fictitious (names start with 示例), placed around 会宁县 (lon 104.6–105.6, lat 35.2–36.3),
in EPSG:4490. The same seed gives the same data.

>>> from bench.make_big_data import make_big_layers      # run from the repository root
>>> layers = make_big_layers(seed=0)                      # doctest: +SKIP
>>> {k: len(v) for k, v in layers.items()}                # doctest: +SKIP
{'enterprises': 100000, 'grids': 5000, 'lifelines': 20000}

Every benchmark has a quick mode (``--quick``) on :data:`QUICK` sizes (a few hundred features, seconds), which
tests/test_bench_quick.py runs so that the benchmarks cannot rot; their full runs stay by hand.

Command line: ``python bench/make_big_data.py [--out big.gpkg] [--seed 0] [--quick]`` writes the layers to a
GeoPackage (one table per layer) or, without --out, prints a summary.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = 104.6, 105.6, 35.2, 36.3
METRIC_EPSG = 4544  # CGCS2000 / 3-degree Gauss-Kruger CM 105E
N_ENTERPRISES = 100_000
N_GRIDS = 5_000
N_LIFELINES = 20_000
N_TOWNS = 28
QUICK = {"n_enterprises": 400, "n_grids": 60, "n_lifelines": 200}  # the benchmarks' --quick sizes

SYLLABLES = list("青石兴安和平东西南北新丰永宁泰康福民川河山林桥湖源阳云华晨星光明盛荣旭")
COMPANY_WORDS = list("华恒瑞鑫泰昌隆盛宏远达创联信通汇德正元利佳")
INDUSTRIES = {  # industry -> (suffix, weight)
    "gas_station": ("加油站", 0.06), "fireworks_retail": ("烟花爆竹零售点", 0.10),
    "hazchem_trade": ("化工贸易有限公司", 0.08), "hazchem_use": ("化工有限公司", 0.06),
    "dust_explosion": ("面粉加工厂", 0.10), "confined_space": ("食品有限公司", 0.14),
    "metallurgy": ("铸造有限公司", 0.06), "construction": ("建筑工程有限公司", 0.16),
    "crowded_place": ("商贸城", 0.14), "non_coal_mine": ("石料厂", 0.10),
}
LIFELINE_CATEGORIES = {  # category -> (name word, weight)
    "gas": ("燃气管线", 0.22), "water": ("供水管线", 0.25), "drainage": ("排水管线", 0.18),
    "heat": ("热力管线", 0.06), "power": ("电力线路", 0.14), "telecom": ("通信线路", 0.10),
    "oil_pipeline": ("输油管道", 0.02), "gas_pipeline": ("输气管道", 0.03),
}
LEVEL_P = (0.03, 0.10, 0.27, 0.52)  # levels 1..4; the rest (8 %) has no level yet



def dated_history(ents: gpd.GeoDataFrame, days: int, rng: np.random.Generator) -> tuple:
    """A generated history for ``ents`` over ``days``: (creation day — 95 % there from day 0 —, final level,
    number of level records — 1, 2 or 3 —) per enterprise."""
    n = len(ents)
    created = np.where(rng.random(n) < 0.95, 0, rng.integers(1, days, n))
    final = ents["level"].astype(object).to_numpy()
    n_records = np.where(rng.random(n) < 0.1, 3, np.where(rng.random(n) < 0.3 / 0.9, 2, 1))
    return created, final, n_records


def insert_dated_enterprises(session, ents: gpd.GeoDataFrame, history: tuple, days: int, rng: np.random.Generator,
                             when: Callable) -> tuple[list[int], int]:
    """Bulk-insert ``ents`` and their dated level records (random earlier levels, the last one the enterprise's
    level; 未评估 ones have none) in ``session``; ``when(day)`` stamps a day. Returns (ids, records written)."""
    from riskmap.model import Assessment, Enterprise

    created, final, n_records = history
    session.execute(Enterprise.__table__.insert(), [
        {"name": name, "industry": ind, "town": town, "level": None if pd.isna(lv) else int(lv), "geom": g,
         "version": 1, "created_at": when(c)}
        for name, ind, town, lv, g, c in zip(ents["name"], ents["industry"], ents["town"], final,
                                             ents.geometry.array, created)])
    ids = [r[0] for r in session.execute(Enterprise.__table__.select().with_only_columns(
        Enterprise.__table__.c.id).order_by(Enterprise.__table__.c.id))]
    rows = []
    for eid, lv, c, k in zip(ids, final, created, n_records):
        if pd.isna(lv):
            continue  # 未评估 to this day
        moves = sorted(rng.integers(c + 1, days + 1, k - 1).tolist()) if k > 1 and c + 1 < days else []
        levels = [int(x) for x in rng.integers(1, 5, len(moves))] + [int(lv)]
        for day, level in zip([c] + moves, levels):
            rows.append({"enterprise_id": eid, "method": "override", "level": level,
                         "explanation": "基准测试定级", "assessor": "基准", "assessed_at": when(day)})
    session.execute(Assessment.__table__.insert(), rows)
    return ids, len(rows)

def _to_geographic(x: np.ndarray, y: np.ndarray, epsg: int = METRIC_EPSG) -> tuple[np.ndarray, np.ndarray]:
    tr = pyproj.Transformer.from_crs(epsg, 4490, always_xy=True)
    return tr.transform(x, y)


def outline(rng: np.random.Generator, bbox: tuple[float, float, float, float] = (LON_MIN, LAT_MIN, LON_MAX, LAT_MAX),
            epsg: int = METRIC_EPSG) -> shapely.Polygon:
    """A smooth, irregular county-like outline filling most of ``bbox`` (lon/lat), in metres of ``epsg``."""
    tr = pyproj.Transformer.from_crs(4490, epsg, always_xy=True)
    x0, y0 = tr.transform(bbox[0], bbox[1])
    x1, y1 = tr.transform(bbox[2], bbox[3])
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    t = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    r = 0.86 + sum(rng.uniform(0.01, 0.05) * np.sin(k * t + rng.uniform(0, 6.3)) for k in range(2, 9))
    return shapely.Polygon(np.column_stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)]))


def _county(rng: np.random.Generator) -> shapely.Polygon:
    """The county outline of the 100k data set (metres)."""
    return outline(rng)


def _points_in(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out = np.empty((0, 2))
    while len(out) < n:
        cand = np.column_stack([rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)])
        out = np.vstack([out, cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]])
    return out[:n]


def _names(rng: np.random.Generator, n: int, suffixes: np.ndarray) -> np.ndarray:
    a = np.array(SYLLABLES)[rng.integers(0, len(SYLLABLES), n)]
    b = np.array(SYLLABLES)[rng.integers(0, len(SYLLABLES), n)]
    c = np.array(COMPANY_WORDS)[rng.integers(0, len(COMPANY_WORDS), n)]
    return np.char.add(np.char.add(np.char.add(np.char.add("示例", a), b), c), suffixes).astype(object)


def _levels(rng: np.random.Generator, n: int, none_share: float = 0.08) -> pd.array:
    p = np.array(LEVEL_P) / sum(LEVEL_P) * (1 - none_share)
    lv = rng.choice([1, 2, 3, 4, 0], size=n, p=[*p, none_share])
    return pd.array(np.where(lv == 0, None, lv), dtype="Int64")


def clustered_points(region, centres: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points (metres) in ``region``: 60 % around the ``centres`` (normal, 0.8–4 km per centre), the rest
    anywhere; shuffled."""
    n_near = int(n * 0.6)
    which = rng.integers(0, len(centres), n_near)
    near = centres[which] + rng.normal(0, 1, (n_near, 2)) * rng.uniform(800, 4000, len(centres))[which][:, None]
    inside = shapely.contains_xy(region, near[:, 0], near[:, 1])
    near = near[inside]
    far = _points_in(region, n - len(near), rng)
    pts = np.vstack([near, far])
    return pts[rng.permutation(len(pts))]


def enterprise_attributes(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """industry, name and level (1–4 or missing, 8 %) of ``n`` generated enterprises."""
    keys = list(INDUSTRIES)
    weights = np.array([INDUSTRIES[k][1] for k in keys])
    ind = rng.choice(len(keys), size=n, p=weights / weights.sum())
    suffix = np.array([INDUSTRIES[k][0] for k in keys])[ind]
    return {"name": _names(rng, n, suffix), "industry": np.array(keys, dtype=object)[ind], "level": _levels(rng, n)}


def voronoi_cells(region, n: int, rng: np.random.Generator) -> np.ndarray:
    """About ``n`` Voronoi cells tiling ``region`` (metres; polygons only, rare slivers dropped)."""
    seeds = _points_in(region, n, rng)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=region))
    cells = shapely.intersection(cells, region)
    return cells[shapely.get_type_id(cells) == 3]


def field_levels(cells: np.ndarray, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Levels 1–4 of ``cells`` following a smooth random field (bumps at 12 of the ``centres``)."""
    cent = shapely.get_coordinates(shapely.centroid(cells))
    field = np.zeros(len(cells))
    for _ in range(12):
        c = centres[rng.integers(0, len(centres))]
        field += rng.uniform(0.5, 1.0) * np.exp(-((cent - c) ** 2).sum(axis=1) / (2 * rng.uniform(3e3, 9e3) ** 2))
    field += rng.normal(0, 0.08, len(cells))
    grid_level = np.digitize(field, [0.08, 0.3, 0.6])  # 0..3 → level 4..1
    return (4 - grid_level).astype(np.int64)


def random_walks(region, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` lines of 3–20 vertices starting in ``region``: random walks with a persistent heading, 80–400 m
    steps. Returns (x, y, feature index of each vertex), metres."""
    counts = rng.integers(3, 21, n)
    total = int(counts.sum())
    starts = np.repeat(_points_in(region, n, rng), counts, axis=0)
    heading = np.repeat(rng.uniform(0, 2 * np.pi, n), counts) + rng.normal(0, 0.35, total)
    step = rng.uniform(80, 400, total)
    first = np.zeros(total, dtype=bool)
    first[np.cumsum(counts) - counts] = True
    dx = np.where(first, 0.0, step * np.cos(heading))
    dy = np.where(first, 0.0, step * np.sin(heading))
    feature = np.repeat(np.arange(n), counts)
    cx, cy = np.cumsum(dx), np.cumsum(dy)
    base = np.cumsum(counts) - counts
    x = starts[:, 0] + cx - np.repeat(cx[base], counts)
    y = starts[:, 1] + cy - np.repeat(cy[base], counts)
    return x, y, feature


def lifeline_attributes(n: int, rng: np.random.Generator, first_id: int = 1) -> dict[str, np.ndarray]:
    """name, category and diameter_mm of ``n`` generated lifeline segments (numbered from ``first_id``)."""
    cats = list(LIFELINE_CATEGORIES)
    cw = np.array([LIFELINE_CATEGORIES[k][1] for k in cats])
    cat = rng.choice(len(cats), size=n, p=cw / cw.sum())
    word = np.array([LIFELINE_CATEGORIES[k][0] for k in cats], dtype=object)[cat]
    return {"name": np.array([f"示例{w}{i:05d}" for i, w in enumerate(word, first_id)], dtype=object),
            "category": np.array(cats, dtype=object)[cat],
            "diameter_mm": rng.choice([100, 150, 200, 300, 400, 600], n)}


def make_big_layers(seed: int = 0, n_enterprises: int = N_ENTERPRISES, n_grids: int = N_GRIDS,
                    n_lifelines: int = N_LIFELINES) -> dict[str, gpd.GeoDataFrame]:
    """The benchmark layers, keyed by layer id (``enterprises``, ``grids``, ``lifelines``), in EPSG:4490.

    enterprises: 100k points (id, name, industry, town, level 1–4 or missing), clustered around 28 towns;
    grids: 5k Voronoi cells tiling the county (id, name, level 1–4);
    lifelines: 20k LineStrings of 3–20 vertices (id, name, category, diameter_mm).
    Smaller sets for quick runs: ``make_big_layers(0, **QUICK)``.
    """
    rng = np.random.default_rng(seed)
    county = _county(rng)

    # enterprises: 60 % around town centres, 40 % anywhere in the county
    towns = _points_in(shapely.buffer(county, -8000), N_TOWNS, rng)
    town_names = np.array([f"示例{SYLLABLES[i % len(SYLLABLES)]}{SYLLABLES[(7 * i + 3) % len(SYLLABLES)]}镇"
                           for i in range(N_TOWNS)], dtype=object)
    pts = clustered_points(county, towns, n_enterprises, rng)
    # town of each enterprise: the nearest town centre
    d2 = ((pts[:, None, :] - towns[None, :, :]) ** 2).sum(axis=2)
    town_of = town_names[d2.argmin(axis=1)]
    attrs = enterprise_attributes(len(pts), rng)
    lon, lat = _to_geographic(pts[:, 0], pts[:, 1])
    enterprises = gpd.GeoDataFrame({
        "id": np.arange(1, len(pts) + 1, dtype=np.int64),
        "name": attrs["name"],
        "industry": attrs["industry"],
        "town": town_of,
        "level": attrs["level"],
    }, geometry=gpd.points_from_xy(lon, lat), crs=4490)

    # grids: a Voronoi tessellation of the county; levels follow a smooth random field
    cells = voronoi_cells(county, n_grids, rng)
    grid_level = field_levels(cells, towns, rng)
    geo_cells = shapely.transform(cells, lambda c: np.column_stack(_to_geographic(c[:, 0], c[:, 1])))
    grids = gpd.GeoDataFrame({
        "id": np.arange(1, len(cells) + 1, dtype=np.int64),
        "name": np.array([f"示例网格{i:04d}" for i in range(1, len(cells) + 1)], dtype=object),
        "level": pd.array(grid_level, dtype="Int64"),
    }, geometry=geo_cells, crs=4490)

    # lifelines: random walks with a persistent heading, 80–400 m steps
    x, y, feature = random_walks(county, n_lifelines, rng)
    lon, lat = _to_geographic(x, y)
    lines = shapely.linestrings(np.column_stack([lon, lat]), indices=feature)
    lifelines = gpd.GeoDataFrame({"id": np.arange(1, n_lifelines + 1, dtype=np.int64),
                                  **lifeline_attributes(n_lifelines, rng)}, geometry=lines, crs=4490)
    return {"enterprises": enterprises, "grids": grids, "lifelines": lifelines}


@contextlib.contextmanager
def bench_project(kind: str, args, build: Callable[[Path, int, bool], None]) -> Iterator[Path]:
    """A fresh copy of a benchmark project to run on. The project (``build(path, seed, quick)``) is made once
    per kind and seed in ``args.work`` (default: riskmap-bench in the temporary folder) and reused; with
    ``args.quick`` and no --work it lives in a new temporary folder, removed afterwards."""
    with contextlib.ExitStack() as stack:
        if args.work:
            work = Path(args.work)
        elif args.quick:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-{kind}-")))
        else:
            work = Path(tempfile.gettempdir()) / "riskmap-bench"
        work.mkdir(parents=True, exist_ok=True)
        name = f"{kind}_{'quick_' if args.quick else ''}{args.seed}"
        base = work / f"{name}.gpkg"
        if not base.exists():
            t = time.perf_counter()
            build(base, args.seed, args.quick)
            print(f"built the benchmark project in {time.perf_counter() - t:.1f} s: {base}")
        path = work / f"{name}_run.gpkg"
        shutil.copy(base, path)  # every run starts from the same data
        yield path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write a GeoPackage with one table per layer")
    ap.add_argument("--quick", action="store_true", help=f"small sizes {QUICK}")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    layers = make_big_layers(args.seed, **(QUICK if args.quick else {}))
    print(f"generated in {time.perf_counter() - t:.1f} s")
    for key, gdf in layers.items():
        print(f"  {key}: {len(gdf)} features, bounds {np.round(gdf.total_bounds, 3).tolist()}")
        if args.out:
            gdf.to_file(args.out, layer=key, driver="GPKG")
    if args.out:
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
