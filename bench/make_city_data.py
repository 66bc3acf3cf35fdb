"""Generate the city benchmark data set (×10 the county set): a city of 7 or 8 counties, 156 towns,
1M enterprises, 50k grid cells and 200k lifeline segments, all fictitious data marked 示例数据.

Two cities (``--city``):

- ``liuan`` (the default): 六安市's 7 county-level divisions as riskmap's gazetteer has them (real adcodes
  341502 … 341525, real boundaries, lon 115.4–117.3, lat 31.0–32.6) filled with fictitious towns, grid cells,
  enterprises and lifelines (names start with 示例; every project is a demo project titled …（示例数据）).
  Real adcodes because riskmap.store.sync.push adds a file to a database of counties only when the gazetteer
  knows its place as a county (it names the county and makes the database the city's 六安市).
- ``fictitious``: 示例市 (990100) and its 8 counties 示例甲县 … 示例辛县 (990101 … 990108) on a generated outline
  around lon 115.3–117.3, lat 31.0–32.6. 99 is the first two digits of no province (China's are 11–82), so the
  codes cannot name a real place (checked against riskmap.gazetteer); push does not take them as counties.

Metric CRS: CGCS2000 / 3-degree Gauss–Krüger CM 117E (EPSG:4548). The same seed gives the same data.

The towns, the Voronoi grid cells, the clustered enterprises and the random-walk lifelines come from
bench/make_big_data.py's generators: each county is cut into towns (Voronoi cells of seeds spread by Lloyd's
relaxation, 156 in all, shared by area) and grid cells; enterprises, cells and lifelines are shared among
counties by area; an enterprise's town is the town holding it.

Written (``write_city``), once per city, seed and size into a work folder and reused (``city.json`` lists
what is there):

- one riskmap GeoPackage project per county (``county_341502.gpkg`` …; the county's place, its boundary,
  towns, grid cells, enterprises and lifelines, ids from 1);
- the city GeoPackage (``city.gpkg``, the city's place: the city zone, its counties, every town, cell,
  enterprise and lifeline); every row carries its county's adcode (``county``, schema 5);
- into PostgreSQL + PostGIS (``push_counties``): the county files pushed one by one with
  riskmap.store.sync.push, each timed.

>>> from bench.make_city_data import make_city, QUICK      # run from the repository root
>>> city = make_city(0, **QUICK)                           # doctest: +SKIP
>>> len(city.counties), len(city.enterprises)              # doctest: +SKIP
(2, 400)

Command line: ``python bench/make_city_data.py [--work DIR] [--seed 0] [--city liuan|fictitious] [--quick]
[--url URL] [--remake]`` (--url: push the county files into that database; --quick: 2 counties, a few hundred
features, seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.make_big_data import (  # noqa: E402
    SYLLABLES, _points_in, clustered_points, enterprise_attributes, field_levels, lifeline_attributes, outline,
    random_walks)

BBOX = (115.3, 31.0, 117.3, 32.6)  # lon/lat of the city's area
METRIC_EPSG = 4548  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
LIUAN = "341500"  # 六安市: its counties from riskmap.gazetteer
CITY = ("990100", "示例市")  # the fictitious city
COUNTIES = (("990101", "示例甲县"), ("990102", "示例乙县"), ("990103", "示例丙县"), ("990104", "示例丁县"),
            ("990105", "示例戊县"), ("990106", "示例己县"), ("990107", "示例庚县"), ("990108", "示例辛县"))
FULL = {"n_counties": None, "n_towns": 156, "n_enterprises": 1_000_000, "n_grids": 50_000, "n_lifelines": 200_000}
QUICK = {"n_counties": 2, "n_towns": 8, "n_enterprises": 400, "n_grids": 60, "n_lifelines": 200}
MARK = "示例数据"
SOURCE = "bench/make_city_data.py (fictitious)"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "riskmap-bench"


@dataclass
class CityData:
    """The generated city, every layer in EPSG:4490 with the ``county`` adcode of each row."""

    counties: gpd.GeoDataFrame  # adcode, name, area_km2
    towns: gpd.GeoDataFrame  # county, name, area_km2
    grids: gpd.GeoDataFrame  # county, name, level, area_km2
    enterprises: gpd.GeoDataFrame  # county, name, industry, town, level, qr_id
    lifelines: gpd.GeoDataFrame  # county, name, category, diameter_mm
    outline: shapely.MultiPolygon  # the city (EPSG:4490)
    city: str = "liuan"  # liuan or fictitious

    def sizes(self) -> dict[str, int]:
        return {"counties": len(self.counties), "towns": len(self.towns), "grids": len(self.grids),
                "enterprises": len(self.enterprises), "lifelines": len(self.lifelines)}


def _share(total: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """``total`` split by ``weights`` into integers (largest remainder), each at least ``minimum``."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    raw = w * (total - minimum * len(w))
    out = np.floor(raw).astype(int)
    out[np.argsort(raw - out)[::-1][: total - minimum * len(w) - out.sum()]] += 1
    return out + minimum


def _polygonal(g) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])


def _relaxed_cells(region, n: int, rng: np.random.Generator, rounds: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """``n`` cells tiling ``region`` from seeds spread by Lloyd's relaxation: (seeds, cells in seed order;
    MultiPolygons). Each cell is the part of ``region`` nearer its seed than any other."""
    seeds = _points_in(region, n, rng)
    if n == 1:
        return seeds, np.array([_polygonal(region)], dtype=object)
    for r in range(rounds + 1):
        parts = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=region))
        # voronoi_polygons does not keep the seeds' order: match each cell to the seed inside it
        order = np.array([int(np.flatnonzero(shapely.contains_xy(c, seeds[:, 0], seeds[:, 1]))[0]) for c in parts])
        cells = np.empty(n, dtype=object)
        cells[order] = shapely.intersection(parts, region)
        if r == rounds:
            break
        c = shapely.get_coordinates(shapely.centroid(cells))
        out = ~shapely.contains_xy(region, c[:, 0], c[:, 1])
        if out.any():
            c[out] = shapely.get_coordinates(shapely.point_on_surface(cells[out]))
        seeds = c
    return seeds, np.array([_polygonal(c) for c in cells], dtype=object)


def _grid_cells(region, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` Voronoi cells tiling ``region`` (as make_big_data.voronoi_cells, but a cell cut in two by a bend
    of a real boundary is kept, as a MultiPolygon)."""
    seeds = _points_in(region, n, rng)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=region))
    cells = np.array([_polygonal(c) for c in shapely.intersection(cells, region)], dtype=object)
    return cells[~shapely.is_empty(cells)]


def _unique_town_names(n: int, rng: np.random.Generator) -> np.ndarray:
    k = len(SYLLABLES)
    pick = rng.choice(k * k, n, replace=False)
    return np.array([f"示例{SYLLABLES[i // k]}{SYLLABLES[i % k]}镇" for i in pick], dtype=object)


def city_counties(city: str = "liuan") -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """((adcode, name) of the city, [(adcode, name) of its counties]) for ``city`` liuan or fictitious."""
    if city == "fictitious":
        return CITY, list(COUNTIES)
    if city != "liuan":
        raise ValueError(f"unknown city {city!r}: liuan or fictitious")
    from riskmap.gazetteer import children, division

    return (LIUAN, division(LIUAN).name), [(d.adcode, d.name) for d in children(LIUAN) if d.level == "county"]


def make_city(seed: int = 0, n_counties: int | None = None, n_towns: int = 156, n_enterprises: int = 1_000_000,
              n_grids: int = 50_000, n_lifelines: int = 200_000, city: str = "liuan") -> CityData:
    """The city data set (``make_city(0, **QUICK)`` for the quick one): see the module docstring.
    ``n_counties``: the first that many of the city's counties (None: all)."""
    _, county_list = city_counties(city)
    county_list = county_list[:n_counties]
    rng = np.random.default_rng(seed)
    to_geo = pyproj.Transformer.from_crs(METRIC_EPSG, 4490, always_xy=True)
    to_metric = pyproj.Transformer.from_crs(4490, METRIC_EPSG, always_xy=True)

    def geo(geoms):
        return shapely.transform(np.asarray(geoms, dtype=object), lambda c: np.column_stack(to_geo.transform(c[:, 0], c[:, 1])))

    if city == "fictitious":
        whole = outline(rng, BBOX, METRIC_EPSG)
        _, county_cells = _relaxed_cells(whole, len(county_list), rng)
    else:
        from riskmap.gazetteer import boundary

        county_cells = np.array([_polygonal(shapely.transform(boundary(a), lambda c: np.column_stack(
            to_metric.transform(c[:, 0], c[:, 1])))) for a, _ in county_list], dtype=object)
        whole = shapely.union_all(county_cells)
    areas = shapely.area(county_cells)
    towns_per = _share(n_towns, areas)
    ents_per = _share(n_enterprises, areas, 0)
    grids_per = _share(n_grids, areas)
    lines_per = _share(n_lifelines, areas, 0)
    town_names = _unique_town_names(n_towns, rng)
    rows = {k: [] for k in ("towns", "grids", "enterprises", "lifelines")}
    t0 = 0
    for i, (poly, (adcode, cname)) in enumerate(zip(county_cells, county_list)):
        # towns: relaxed Voronoi cells of the county
        seeds, tcells = _relaxed_cells(poly, int(towns_per[i]), rng, rounds=4)
        names = town_names[t0:t0 + len(tcells)]
        t0 += len(tcells)
        rows["towns"].append(pd.DataFrame({"county": adcode, "name": names, "geom": tcells}))
        # enterprises: 60 % around the town seats, 40 % anywhere in the county; the town is the one holding it
        n = int(ents_per[i])
        pts = clustered_points(poly, seeds, n, rng) if n else np.empty((0, 2))
        nearest = np.empty(len(pts), dtype=np.int64)
        for a in range(0, len(pts), 100_000):
            chunk = pts[a:a + 100_000]
            nearest[a:a + len(chunk)] = ((chunk[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        attrs = enterprise_attributes(n, rng)
        rows["enterprises"].append(pd.DataFrame({
            "county": adcode, "name": attrs["name"], "industry": attrs["industry"], "town": names[nearest],
            "level": attrs["level"], "x": pts[:, 0], "y": pts[:, 1]}))
        # grid cells: a Voronoi tessellation of the county, levels from a smooth field around the towns
        cells = _grid_cells(poly, int(grids_per[i]), rng)
        rows["grids"].append(pd.DataFrame({
            "county": adcode, "name": [f"示例{cname}网格{j:05d}" for j in range(1, len(cells) + 1)],
            "level": pd.array(field_levels(cells, seeds, rng), dtype="Int64"), "geom": cells}))
        # lifelines: random walks starting in the county
        m = int(lines_per[i])
        if m:
            x, y, feature = random_walks(poly, m, rng)
            lines = shapely.linestrings(np.column_stack([x, y]), indices=feature)
            rows["lifelines"].append(pd.DataFrame({"county": adcode, **lifeline_attributes(m, rng), "geom": lines}))

    def frame(parts, geom_col="geom") -> gpd.GeoDataFrame:
        df = pd.concat(parts, ignore_index=True)
        g = df.pop(geom_col).to_numpy()
        gdf = gpd.GeoDataFrame(df, geometry=geo(g), crs=4490)
        gdf["area_km2"] = np.round(shapely.area(g) / 1e6, 3)
        return gdf

    ents = pd.concat(rows["enterprises"], ignore_index=True)
    lon, lat = to_geo.transform(ents.pop("x").to_numpy(), ents.pop("y").to_numpy())
    ents["qr_id"] = np.frombuffer(rng.bytes(16 * len(ents)), dtype="S16").tolist()
    ents["qr_id"] = [b.hex() for b in ents["qr_id"]]
    counties = gpd.GeoDataFrame({"adcode": [c[0] for c in county_list], "name": [c[1] for c in county_list],
                                 "area_km2": np.round(areas / 1e6, 2)}, geometry=geo(county_cells), crs=4490)
    lifelines = frame(rows["lifelines"]).drop(columns="area_km2") if rows["lifelines"] else gpd.GeoDataFrame(
        {"county": [], "name": [], "category": [], "diameter_mm": []}, geometry=[], crs=4490)
    return CityData(counties=counties, towns=frame(rows["towns"]), grids=frame(rows["grids"]),
                    enterprises=gpd.GeoDataFrame(ents, geometry=gpd.points_from_xy(lon, lat), crs=4490),
                    lifelines=lifelines, outline=_polygonal(geo([whole])[0]), city=city)


# ---------------------------------------------------------------------------------------------- writing
def _multi(geoms: np.ndarray) -> np.ndarray:
    """Polygons → MultiPolygons, LineStrings → MultiLineStrings (the tables' GeoPackage types)."""
    geoms = np.asarray(geoms, dtype=object)
    kind = shapely.get_type_id(geoms)
    out = geoms.copy()
    poly, line = kind == 3, kind == 1
    out[poly] = [shapely.MultiPolygon([g]) for g in geoms[poly]]
    out[line] = [shapely.MultiLineString([g]) for g in geoms[line]]
    return out


def _insert(conn, table_name: str, values: dict, geoms, chunk: int = 50_000) -> None:
    """Insert many rows into a project table through ``conn`` (inside its transaction): ``values`` maps
    columns to sequences (or one value for every row); ``geoms`` (shapely, EPSG:4490) go in as GeoPackage
    blobs. Columns the schema does not have (``county`` before schema 5) are left out."""
    from riskmap.model import Base
    from riskmap.model.geometry import to_gpkg_blobs

    table = Base.metadata.tables[table_name]
    dialect = conn.dialect
    n = len(geoms)
    names, cols = [], []
    for name, v in values.items():
        if name not in table.c:
            continue
        proc = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if isinstance(v, (list, tuple, np.ndarray, pd.Series, pd.api.extensions.ExtensionArray)):
            v = [None if x is None or x is pd.NA or (isinstance(x, float) and x != x) else x
                 for x in (v.tolist() if hasattr(v, "tolist") else list(v))]
            v = [None if x is None else (proc(x) if proc else x) for x in v]
        else:
            v = [proc(v) if proc and v is not None else v] * n
        names.append(name)
        cols.append(v)
    geoms = np.asarray(geoms, dtype=object)
    sql = (f"INSERT INTO {table_name} ({', '.join(names)}, geom) "
           f"VALUES ({', '.join('?' * (len(names) + 1))})")
    for a in range(0, n, chunk):
        blobs = to_gpkg_blobs(geoms[a:a + chunk])
        conn.exec_driver_sql(sql, list(zip(*[c[a:a + chunk] for c in cols], blobs)))


def _fill(project, data: CityData, adcodes: list[str], city_zone: bool) -> None:
    """Write the rows of ``adcodes``' counties into ``project`` (a new GeoPackage), ids from 1."""
    import datetime as dt

    from riskmap.model import Base

    now = dt.datetime(2026, 1, 1)
    common = {"version": 1, "created_at": now, "updated_at": now}
    with project.session(history=False) as s:
        conn = s.connection()
        counties = data.counties[data.counties["adcode"].isin(adcodes)].reset_index(drop=True)
        (city_code, city_name), _ = city_counties(data.city)
        zone_id = 0
        parent = None
        if city_zone:
            _insert(conn, "zones", {"id": [1], "name": [city_name], "kind": "city", "code": [city_code],
                                    "area_km2": [round(float(counties["area_km2"].sum()), 2)],
                                    "note": [f"{city_name}（{MARK}）"], **common}, _multi([data.outline]))
            zone_id, parent = 1, 1
        county_ids = dict(zip(counties["adcode"], range(zone_id + 1, zone_id + 1 + len(counties))))
        _insert(conn, "zones", {"id": list(county_ids.values()), "name": counties["name"], "kind": "county",
                                "code": counties["adcode"], "parent_id": parent, "area_km2": counties["area_km2"],
                                "county": counties["adcode"], "note": f"{city_name}（{MARK}）", **common},
                _multi(counties.geometry.values))
        zone_id += len(counties)
        towns = data.towns[data.towns["county"].isin(adcodes)]
        _insert(conn, "zones", {"id": np.arange(zone_id + 1, zone_id + 1 + len(towns)), "name": towns["name"],
                                "kind": "town", "parent_id": towns["county"].map(county_ids).to_numpy(),
                                "area_km2": towns["area_km2"], "county": towns["county"], **common},
                _multi(towns.geometry.values))
        zone_id += len(towns)
        grids = data.grids[data.grids["county"].isin(adcodes)]
        _insert(conn, "zones", {"id": np.arange(zone_id + 1, zone_id + 1 + len(grids)), "name": grids["name"],
                                "kind": "grid", "level": grids["level"], "area_km2": grids["area_km2"],
                                "county": grids["county"], **common}, _multi(grids.geometry.values))
        ents = data.enterprises[data.enterprises["county"].isin(adcodes)]
        _insert(conn, "enterprises", {"id": np.arange(1, len(ents) + 1), "name": ents["name"],
                                      "industry": ents["industry"], "town": ents["town"], "level": ents["level"],
                                      "qr_id": ents["qr_id"], "major_hazard": False, "county": ents["county"],
                                      **common}, ents.geometry.values)
        lines = data.lifelines[data.lifelines["county"].isin(adcodes)]
        _insert(conn, "lifelines", {"id": np.arange(1, len(lines) + 1), "name": lines["name"],
                                    "category": lines["category"], "diameter_mm": lines["diameter_mm"].astype(float),
                                    "county": lines["county"], **common}, _multi(lines.geometry.values))
        if "counties" in Base.metadata.tables:  # schema 5: the counties this file holds (a county file: its own)
            table = Base.metadata.tables["counties"]
            there = {r[0] for r in conn.exec_driver_sql("SELECT adcode FROM counties")}
            rows = [{k: v for k, v in {"adcode": a, "name": nm, "metric_epsg": METRIC_EPSG, "source": SOURCE}.items()
                     if k in table.c} for a, nm in zip(counties["adcode"], counties["name"]) if a not in there]
            if rows:
                conn.execute(table.insert(), rows)


def write_project(path: Path, data: CityData, adcodes: list[str]) -> None:
    """One riskmap GeoPackage project holding ``adcodes``' counties (one: a county project; all: the city)."""
    from riskmap.store import Project

    (city_code, city_name), county_list = city_counties(data.city)
    province = "安徽省" if data.city == "liuan" else "示例省"
    if len(adcodes) == 1:
        (adcode, name), = [c for c in county_list if c[0] == adcodes[0]]
        place, title = adcode, f"{name}安全风险一张图（{MARK}）"
        meta = {"place_name": name, "place_level": "county", "place_full_name": f"{province}{city_name}{name}"}
    else:
        place, title = city_code, f"{city_name}（{len(adcodes)} 个县区）安全风险一张图（{MARK}）"
        meta = {"place_name": city_name, "place_level": "city", "place_full_name": f"{province}{city_name}"}

    def build(project):
        _fill(project, data, adcodes, city_zone=len(adcodes) > 1)
        project.set_meta(**meta, boundary_source=SOURCE)

    Project.create(path, name=title, place=place, demo=True, metric_epsg=METRIC_EPSG, build=build,
                   overwrite=True).close()


def check_adcodes() -> None:
    """The made-up adcodes name no real place (riskmap.gazetteer knows none of them)."""
    from riskmap.gazetteer import all_divisions

    real = {d.adcode for d in all_divisions()}
    clash = sorted({CITY[0], *(c[0] for c in COUNTIES)} & real)
    if clash:
        raise SystemExit(f"the benchmark adcodes {clash} are real places: choose others")


def write_city(work: Path, seed: int = 0, quick: bool = False, remake: bool = False, log=print,
               city: str = "liuan") -> dict:
    """The city data set's files in ``work`` (made once per city, seed and size, then reused): returns the
    manifest {"county_files": {adcode: path}, "city_file": path, "sizes": {...}, "seconds": {...}}."""
    work = Path(work) / f"city_{city}_{'quick_' if quick else ''}{seed}"
    manifest_path = work / "city.json"
    from riskmap.store.migrations import SCHEMA_VERSION

    if manifest_path.exists() and not remake:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("schema") == SCHEMA_VERSION and all(
                Path(f).exists() for f in [manifest["city_file"], *manifest["county_files"].values()]):
            return manifest
        log("the files are of another project schema: made again")
    manifest_path.unlink(missing_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    if city == "fictitious":
        check_adcodes()
    seconds = {}
    t = time.perf_counter()
    data = make_city(seed, **(QUICK if quick else FULL), city=city)
    seconds["generate"] = time.perf_counter() - t
    log(f"generated in {seconds['generate']:.1f} s: {data.sizes()}")
    files = {}
    for adcode in data.counties["adcode"]:
        t = time.perf_counter()
        files[adcode] = str(work / f"county_{adcode}.gpkg")
        write_project(Path(files[adcode]), data, [adcode])
        seconds[f"write {adcode}"] = time.perf_counter() - t
        log(f"  {adcode} written in {seconds[f'write {adcode}']:.1f} s")
    t = time.perf_counter()
    city_file = work / "city.gpkg"
    write_project(city_file, data, list(data.counties["adcode"]))
    seconds["write city"] = time.perf_counter() - t
    log(f"  city written in {seconds['write city']:.1f} s")
    per_county = {a: {k: int((getattr(data, k)["county"] == a).sum()) for k in ("towns", "grids", "enterprises",
                                                                                 "lifelines")}
                  for a in data.counties["adcode"]}
    manifest = {"county_files": files, "city_file": str(city_file), "sizes": data.sizes(),
                "per_county": per_county, "names": dict(zip(data.counties["adcode"], data.counties["name"])),
                "bbox_4490": [round(float(v), 6) for v in data.enterprises.total_bounds],
                "seconds": seconds, "seed": seed, "quick": quick, "schema": SCHEMA_VERSION, "city": city}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def push_counties(manifest: dict, url: str, log=print) -> dict:
    """Push the county files one by one into the database ``url`` (riskmap.store.sync.push), each timed.
    Returns {"seconds": {adcode: s}, "total_s": s, "mode": "counties"}; when this riskmap's push cannot add a
    county to a database holding another (before schema 5), the city file is pushed instead ("mode": "city")."""
    from riskmap.errors import RiskmapError
    from riskmap.store.sync import push

    out = {"seconds": {}, "mode": "counties"}
    t0 = time.perf_counter()
    for i, (adcode, path) in enumerate(manifest["county_files"].items()):
        t = time.perf_counter()
        try:
            push(path, url)
        except RiskmapError as exc:
            if i == 0:
                raise
            log(f"  push {adcode} refused ({exc}); pushing the city file instead")
            t = time.perf_counter()
            push(manifest["city_file"], url, replace=True)
            out["seconds"] = {"city": time.perf_counter() - t}
            out["mode"] = "city"
            break
        out["seconds"][adcode] = time.perf_counter() - t
        log(f"  push {adcode}: {out['seconds'][adcode]:.1f} s")
    out["total_s"] = time.perf_counter() - t0
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK, help="folder for the files (default: riskmap-bench "
                                                                  "in the temporary folder)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help=f"small sizes {QUICK}")
    ap.add_argument("--remake", action="store_true", help="generate the files again")
    ap.add_argument("--city", choices=("liuan", "fictitious"), default="liuan",
                    help="六安市's 7 counties (real boundaries, fictitious data; default) or 示例市's 8 made-up ones")
    ap.add_argument("--url", help="push the county files into this PostgreSQL + PostGIS database")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    m = write_city(args.work, args.seed, args.quick, args.remake, city=args.city)
    print(f"city data set ready in {time.perf_counter() - t:.1f} s: {Path(m['city_file']).parent}")
    for key, n in m["sizes"].items():
        print(f"  {key}: {n:,}")
    for adcode, counts in m["per_county"].items():
        size = os.path.getsize(m["county_files"][adcode]) / 2**20
        print(f"  county {adcode} {m['names'][adcode]}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
              + f"; {size:.1f} MB")
    print(f"  city file: {os.path.getsize(m['city_file']) / 2**20:.1f} MB")
    if args.url:
        r = push_counties(m, args.url)
        print(f"pushed ({r['mode']}) in {r['total_s']:.1f} s")


if __name__ == "__main__":
    main()
