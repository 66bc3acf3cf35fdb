"""Approximate (示意) towns from town seats and generated grids on a new project for 平阴县 (370124): the seats
table as a bureau types it (title row, 度分秒), Voronoi towns, zoning, the 示意 mark on paper, in the GeoPackage
and in the web map, the errors a user meets, and grid cells."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely

from tests.conftest import run_cli as run
from riskmap.crs import to_geographic, to_metric
from riskmap.store import Project

SEATS = ["榆山街道", "锦水街道", "东阿镇", "孝直镇", "玫瑰镇"]



def county_of(path):
    with Project.open(path, readonly=True) as p:
        return shapely.union_all(p.read_table("zones", where="kind = 'county'").geometry.to_numpy()), p.metric_epsg


def seat_points(county, epsg: int, n: int = len(SEATS)) -> list[tuple[float, float]]:
    """``n`` seats inside the county, spread over it (points on a line through its middle, metric → lon/lat)."""
    cm = to_metric(county, epsg)
    x0, y0, x1, y1 = cm.bounds
    cy = cm.centroid.y
    line = shapely.LineString([(x0, cy), (x1, cy)]).intersection(cm)
    pts = [line.interpolate(f, normalized=True) for f in np.linspace(0.1, 0.9, n)]
    out = []
    for p in pts:
        g = to_geographic(p, epsg)
        assert county.contains(g)
        out.append((round(g.x, 6), round(g.y, 6)))
    return out


def dms(v: float) -> str:
    d = int(v)
    m = int((v - d) * 60)
    s = (v - d - m / 60) * 3600
    return f"{d}°{m}′{s:.3f}″"


def write_seats(path, rows) -> None:
    """An XLSX as a bureau types it: a title row, then 序号 / 镇街名称 / 经度 / 纬度, some in 度分秒."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["平阴县镇街驻地一览表"])
    ws.append(["序号", "镇街名称", "经度", "纬度"])
    for i, (name, lon, lat) in enumerate(rows, start=1):
        ws.append([i, name, dms(lon) if i % 2 else lon, dms(lat) if i % 2 else lat])
    wb.save(path)


@pytest.fixture
def with_towns(pingyin, tmp_path):
    county, epsg = county_of(pingyin)
    pts = seat_points(county, epsg)
    seats = tmp_path / "驻地.xlsx"
    write_seats(seats, [(n, x, y) for n, (x, y) in zip(SEATS, pts)])
    code, out, err = run("towns", pingyin, "--seats", seats)
    assert code == 0, err
    return pingyin, pts, out


def test_seats_become_voronoi_towns_marked_approximate(with_towns):
    path, pts, out = with_towns
    assert "示意" in out and f"{len(SEATS)} 个示意镇街" in out
    county, epsg = county_of(path)
    with Project.open(path, readonly=True) as p:
        towns = p.read_table("zones", where="kind = 'town'", columns=["id", "name", "parent_id", "area_km2", "note"])
        meta = json.loads(p.meta()["approximate.town"])
        county_id = int(p.read_table("zones", where="kind = 'county'", columns=["id"])["id"].iloc[0])
    assert towns["name"].tolist() == SEATS
    assert meta["source"] == "驻地.xlsx" and meta["method"] == "voronoi" and meta["seats"] == len(SEATS)
    assert (towns["parent_id"] == county_id).all() and towns["note"].str.startswith("示意").all()
    # each seat lies in its own cell; the cells tile the county
    for (lon, lat), g in zip(pts, towns.geometry):
        assert g.contains(shapely.Point(lon, lat))
    assert towns["area_km2"].sum() == pytest.approx(to_metric(county, epsg).area / 1e6, rel=1e-3)
    union = shapely.union_all(towns.geometry.to_numpy())
    assert union.intersection(county).area / union.area >= 0.99
    # a cell is the points nearer its seat than any other: check at the seats' midpoints, metric
    seats_m = shapely.get_coordinates(to_metric(shapely.points(np.array(pts)), epsg))
    cells_m = to_metric(towns.geometry.to_numpy(), epsg)
    for k in range(len(pts) - 1):
        mid = shapely.Point((seats_m[k] + seats_m[k + 1]) / 2)
        near_k = shapely.Point(seats_m[k] + 0.45 * (seats_m[k + 1] - seats_m[k]))
        assert cells_m[k].distance(mid) < 1 and cells_m[k + 1].distance(mid) < 1
        assert cells_m[k].contains(near_k)


def test_zoning_levels_every_approximate_town(with_towns, tmp_path):
    path, pts, _out = with_towns
    # two enterprises ~100 m from each seat (so inside its cell), levels chosen per town
    levels = {0: (1, 3), 1: (2, 4), 2: (3, 3), 3: (4, 4), 4: (2, 3)}
    rows = ["企业名称,风险等级,经度,纬度"]
    for k, (lon, lat) in enumerate(pts):
        for j, lv in enumerate(levels[k]):
            rows.append(f"企业{k}{j},{['重大', '较大', '一般', '低'][lv - 1]},{lon + 0.001 * (j + 1):.6f},{lat:.6f}")
    csv = tmp_path / "企业.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = run("import", path, csv, "--layer", "enterprises")
    assert code == 0, out + err
    code, out, err = run("zone", path, "--unit", "town", "--json")
    assert code == 0, err
    zones = {z["name"]: z for z in json.loads(out)["zones"]}
    assert set(zones) == set(SEATS)
    for k, name in enumerate(SEATS):
        assert zones[name]["level"] == min(levels[k]), name  # 就高: the highest risk inside
        assert sum(zones[name]["counts"][str(n)] for n in (1, 2, 3, 4)) == 2
    with Project.open(path, readonly=True) as p:
        ents = p.read_table("enterprises", columns=["name", "town", "zone_id"])
        towns = p.read_table("zones", where="kind = 'town'", columns=["id", "name"])
    by_id = dict(zip(towns["id"], towns["name"]))
    for name, town, zid in zip(ents["name"], ents["town"], ents["zone_id"]):
        k = int(name[2])
        assert town == SEATS[k] and by_id[zid] == SEATS[k]


def test_the_mark_on_paper_in_the_geopackage_and_the_web_map(with_towns, tmp_path):
    path, _pts, _out = with_towns
    gpkg, html, pdf = tmp_path / "一张图.gpkg", tmp_path / "一张图.html", tmp_path / "一张图.pdf"
    for fmt, out in (("gpkg", gpkg), ("html", html), ("pdf", pdf)):
        code, _o, err = run("export", path, "--format", fmt, "--out", out)
        assert code == 0, err
    info = pyogrio.read_info(gpkg, layer="towns")
    assert info["layer_metadata"]["IDENTIFIER"] == "镇街（示意）"
    assert info["features"] == len(SEATS)
    readme = pyogrio.read_dataframe(gpkg, layer="readme")
    assert any("示意" in str(k) and "不是正式边界" in str(v) for k, v in zip(readme["key"], readme["value"]))
    assert "镇街（示意）" in html.read_text(encoding="utf-8")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True).stdout
        assert "镇街（示意）" in text  # the legend
        assert "各镇街（示意）企业风险等级统计" in text and "不是正式边界" in text  # statistics title, data source line
        assert "平阴县" in text


def test_real_boundaries_clear_the_mark_from_titles(with_towns):
    from riskmap.edit.zones import approximate_kinds

    path, _pts, _out = with_towns
    with Project.open(path) as p:
        assert approximate_kinds(p) == {"town"}
        assert p.catalogue()["towns"].name_zh == "镇街（示意）" and p.catalogue()["grids"].name_zh == "网格"
        p.set_meta(**{"approximate.town": None})
        assert approximate_kinds(p) == set() and p.catalogue()["towns"].name_zh == "镇街"


def test_user_mistakes_are_one_line_errors(with_towns, tmp_path):
    path, pts, _out = with_towns
    county, _epsg = county_of(path)
    seats = tmp_path / "again.xlsx"
    write_seats(seats, [(n, x, y) for n, (x, y) in zip(SEATS, pts)])
    code, _o, err = run("towns", path, "--seats", seats)
    assert code == 2 and "--replace" in err and len(err.strip().splitlines()) == 1
    bad = tmp_path / "outside.xlsx"
    write_seats(bad, [(SEATS[0], *pts[0]), ("远方镇", 120.0, 30.0)])
    code, _o, err = run("towns", path, "--seats", bad, "--replace")
    assert code == 2 and "第 4 行" in err and "远方镇" in err  # row 4: title, header, then the two seats
    dup = tmp_path / "dup.xlsx"
    write_seats(dup, [(SEATS[0], *pts[0]), (SEATS[0], *pts[1])])
    code, _o, err = run("towns", path, "--seats", dup, "--replace")
    assert code == 2 and "重复" in err and "第 3 行和第 4 行" in err
    with Project.open(path, readonly=True) as p:  # nothing changed by the refused runs
        assert p.read_table("zones", where="kind = 'town'", columns=["name"])["name"].tolist() == SEATS
    code, out, err = run("towns", path, "--seats", seats, "--replace")
    assert code == 0, err


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_grid_cells_cover_the_county(pingyin, shape):
    county, epsg = county_of(pingyin)
    code, out, err = run("grid", pingyin, "--size-km", 2, "--shape", shape, "--json")
    assert code == 0, err
    n = json.loads(out)["cells"]
    with Project.open(pingyin, readonly=True) as p:
        cells = p.read_table("zones", where="kind = 'grid'", columns=["id", "name", "code", "area_km2", "parent_id"])
    assert len(cells) == n and cells["name"].iloc[0] == "网格001" and cells["code"].notna().all()
    full = 4.0 if shape == "square" else 1.5 * 3 ** 0.5 * 4
    county_km2 = to_metric(county, epsg).area / 1e6
    assert cells["area_km2"].sum() == pytest.approx(county_km2, rel=1e-3)
    assert n >= county_km2 / full  # at least as many cells as whole cells would need
    assert cells["area_km2"].max() <= full * 1.5 and cells["area_km2"].min() > 0
    code, _o, err = run("grid", pingyin, "--size-km", 2)
    assert code == 2 and "--replace" in err
    code, _o, err = run("grid", pingyin, "--size-km", 5, "--replace")
    assert code == 0, err


def test_towns_made_after_a_grid_become_its_parents(pingyin, tmp_path):
    from riskmap.edit.zones import make_grid, towns_from_seats

    county, epsg = county_of(pingyin)
    pts = seat_points(county, epsg)
    with Project.open(pingyin) as p:
        make_grid(p, 2)
        towns_from_seats(p, [(n, x, y) for n, (x, y) in zip(SEATS, pts)])
        cells = p.read_table("zones", where="kind = 'grid'", columns=["id", "parent_id"])
        towns = p.read_table("zones", where="kind = 'town'", columns=["id"])
    tg = towns.geometry.to_numpy()
    for pid, g in zip(cells["parent_id"], cells.geometry):
        shares = shapely.area(shapely.intersection(g, tg))
        assert pid == towns["id"].iloc[int(np.argmax(shares))]
