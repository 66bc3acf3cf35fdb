"""A bureau outside the five demo places, end to end on the command line: 沭阳县 (江苏省宿迁市, 321322).

The files are shaped like those a bureau sends: town seats in a workbook with a title row, an enterprise list
with a merged title, a subtitle, a 序号 column, free-text industries, 度分秒 text, rows without coordinates,
blank levels and a 合计 row, and a town shapefile from the natural-resources bureau (GBK without .cpg,
zone-prefixed Gauss–Krüger without .prj, fields named as in the 三调 XZQ layer). Every expected figure is
computed here from the rows written, never read from riskmap.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from riskmap.cli import main
from riskmap.crs import to_metric
from riskmap.gazetteer import boundary, division

ADCODE = "321322"
TOWNS = ["沭城街道", "章集街道", "胡集镇", "钱集镇", "韩山镇", "华冲镇", "贤官镇", "庙头镇"]
INDUSTRIES = ["工贸（机械）", "建材", "纺织", "商贸", "其他", "加油站", "化工", "食品加工", "木材加工", "烟花爆竹零售点"]
LEVEL_TEXT = {"重大风险": 1, "较大": 2, "一般": 3, "低风险": 4, "": None, "红": 1, "蓝": 4, None: None}
LEVELS = list(LEVEL_TEXT)
N_ROWS = 40


def dms(v: float) -> str:
    deg = int(v)
    minutes = int((v - deg) * 60)
    seconds = (v - deg - minutes / 60) * 3600
    return f"{deg}°{minutes}′{seconds:.2f}″"


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """The files of a bureau and the figures expected from them."""
    d = division(ADCODE)
    epsg = d.epsg
    b_m = to_metric(boundary(ADCODE), epsg)
    inner = b_m.buffer(-3000)  # seats and enterprises well inside the county
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = inner.bounds
    seats = []
    while len(seats) < len(TOWNS):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if inner.contains(p) and all(p.distance(q) > 8000 for q in seats):
            seats.append(p)
    to_deg = Transformer.from_crs(epsg, 4490, always_xy=True)
    folder = tmp_path_factory.mktemp("shuyang")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["沭阳县镇（街道）驻地坐标"])
    ws.append(["镇街名称", "经度", "纬度"])
    for name, p in zip(TOWNS, seats):
        lon, lat = to_deg.transform(p.x, p.y)
        ws.append([name, round(lon, 6), round(lat, 6)])
    wb.save(folder / "驻地.xlsx")

    # "Real" town boundaries: Voronoi cells of the seats (a different split from riskmap's only in name).
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seats), extend_to=b_m)
    towns_m = [next(c for c in cells.geoms if c.contains(p)).intersection(b_m) for p in seats]
    # 3° zone number of the county's central meridian: CM = 3·n (EPSG 4534…4554 are CM 75°E…135°E).
    zone_number = (75 + 3 * (epsg - 4534)) // 3
    gdf = gpd.GeoDataFrame({"XZQDM": [f"321322{100 + i}" for i in range(len(TOWNS))], "XZQMC": TOWNS},
                           geometry=gpd.GeoSeries(towns_m).translate(zone_number * 1_000_000).values)
    with pytest.warns(UserWarning, match="crs"):  # no .prj, as such files come
        pyogrio.write_dataframe(gdf, folder / "XZQ.shp", encoding="GBK")
    for ext in (".cpg", ".prj"):
        (folder / f"XZQ{ext}").unlink(missing_ok=True)

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.merge_cells("A1:H1")
    ws["A1"] = "沭阳县2025年度工贸企业安全风险分级管控名单"
    ws["A2"] = "填报单位：沭阳县应急管理局    填报日期：2025年6月"
    ws.append(["序号", "企业名称", "统一社会信用代码", "所属镇街", "行业类别", "详细地址", "经纬度", "风险等级"])
    rows = []
    for i in range(N_ROWS):
        t = i % len(TOWNS)
        p = seats[t]
        x, y = p.x + rng.uniform(-1500, 1500), p.y + rng.uniform(-1500, 1500)
        lon, lat = to_deg.transform(x, y)
        located = i % 7 != 3
        coord = "" if not located else (f"{dms(lon)},{dms(lat)}" if i % 2 else f"{lon:.6f},{lat:.6f}")
        town = TOWNS[t] if i % 5 else ""  # every fifth row leaves the town to the point or the address
        level_text = LEVELS[i % len(LEVELS)]
        ws.append([i + 1, f"沭阳县测试{i:02d}有限公司", "", town, INDUSTRIES[i % len(INDUSTRIES)],
                   f"江苏省宿迁市沭阳县{TOWNS[t]}工业路{i}号", coord, level_text])
        rows.append({"town_index": t, "point": shapely.Point(x, y) if located else None,
                     "level": LEVEL_TEXT[level_text]})
    ws.append(["合计", f"{N_ROWS}家"])
    wb.save(folder / "名单.xlsx")
    return {"folder": folder, "epsg": epsg, "towns_m": towns_m, "rows": rows}


def run(capsys, *args) -> str:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def expected_town_levels(rows, towns_m) -> dict[str, int]:
    """就高 per town: a located row counts where its point lies, an unlocated one by its town (column or address);
    a town with no graded enterprise takes zoning.toml's empty_level (4)."""
    best = {name: 4 for name in TOWNS}
    for r in rows:
        if r["level"] is None:
            continue
        if r["point"] is not None:
            names = [n for n, g in zip(TOWNS, towns_m) if g.intersects(r["point"])]
        else:
            names = [TOWNS[r["town_index"]]]
        for n in names:
            best[n] = min(best[n], r["level"])
    return best


def test_a_bureau_outside_the_demo_places(county, tmp_path, capsys):
    folder, rows = county["folder"], county["rows"]
    p = tmp_path / "沭阳县.gpkg"
    out = run(capsys, "new", "--place", "沭阳县", "--out", p, "--org", "沭阳县应急管理局")
    assert "321322" in out

    out = run(capsys, "towns", p, "--seats", folder / "驻地.xlsx")
    assert "示意" in out

    out = run(capsys, "import", p, folder / "名单.xlsx", "--layer", "enterprises")
    with_point = sum(r["point"] is not None for r in rows)
    unassessed = sum(r["level"] is None for r in rows)
    stats = json.loads(run(capsys, "stats", p, "--json"))
    assert stats["enterprises"] == N_ROWS  # no row lost, the 合计 row not taken for an enterprise
    assert stats["unlocated"] == N_ROWS - with_point
    assert stats["unassessed"] == unassessed == stats["by_level"]["none"]
    for level in (1, 2, 3, 4):
        assert stats["by_level"][str(level)] == sum(r["level"] == level for r in rows)
    assert sum(stats["by_level"].values()) == N_ROWS

    # industries: every free text maps into the taxonomy (工贸 sectors, 其他), none refused
    ents = pyogrio.read_dataframe(p, layer="enterprises", read_geometry=True)
    assert len(ents) == N_ROWS and ents["industry"].notna().all()
    by_name = ents.set_index("name")
    assert by_name.loc["沭阳县测试00有限公司", "industry"] == "machinery"  # 工贸（机械）
    assert by_name.loc["沭阳县测试04有限公司", "industry"] == "other"
    assert by_name.loc["沭阳县测试05有限公司", "industry"] == "gas_station"
    # every enterprise has a town: from the column, the point or the address
    assert ents["town"].isin(TOWNS).all()
    unlocated = ents[ents.geometry.isna()]
    assert sorted(unlocated["town"]) == sorted(TOWNS[r["town_index"]] for r in rows if r["point"] is None)

    # the real town boundaries replace the approximate ones
    out = run(capsys, "import", p, folder / "XZQ.shp", "--layer", "towns")
    zone_number = (75 + 3 * (county["epsg"] - 4534)) // 3
    assert f"EPSG:{4513 + zone_number - 25}" in out  # the zone-prefixed CRS detected (no .prj) and said
    towns = pyogrio.read_dataframe(p, layer="zones", where="kind = 'town'")
    assert sorted(towns["name"]) == sorted(TOWNS)
    county_geom = pyogrio.read_dataframe(p, layer="zones", where="kind = 'county'").geometry.iloc[0]
    towns_m = to_metric(shapely.union_all(towns.geometry.values), county["epsg"])
    assert towns_m.intersection(to_metric(county_geom, county["epsg"])).area / towns_m.area > 0.99

    zoned = json.loads(run(capsys, "zone", p, "--unit", "town", "--json"))
    got = {z["name"]: z["level"] for z in zoned["zones"]}
    assert got == expected_town_levels(rows, county["towns_m"])

    pdf = tmp_path / "一张图.pdf"
    run(capsys, "export", p, "--format", "pdf", "--out", pdf)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "沭阳县" in text and "沭阳县应急管理局" in text
        assert "示例数据" not in text and "示意" not in text  # real towns now, and not a demo


def test_a_newer_list_updates_instead_of_duplicating(county, tmp_path, capsys):
    folder = county["folder"]
    p = tmp_path / "p.gpkg"
    run(capsys, "new", "--place", ADCODE, "--out", p)
    run(capsys, "towns", p, "--seats", folder / "驻地.xlsx")
    run(capsys, "import", p, folder / "名单.xlsx", "--layer", "enterprises")
    # the next quarter's list: one level raised, one enterprise gone, one new
    wb = openpyxl.load_workbook(folder / "名单.xlsx")
    ws = wb.active
    header = 3
    level_col = 8
    ws.cell(header + 2, level_col).value = "重大"  # 测试01: 较大 -> 重大
    ws.delete_rows(header + 3)  # 测试02 no longer listed
    ws.insert_rows(header + N_ROWS)
    ws.cell(header + N_ROWS, 1).value = 99
    ws.cell(header + N_ROWS, 2).value = "沭阳县新开业有限公司"
    ws.cell(header + N_ROWS, 4).value = TOWNS[0]
    ws.cell(header + N_ROWS, 5).value = "纺织"
    newer = tmp_path / "名单2.xlsx"
    wb.save(newer)
    out = run(capsys, "import", p, newer, "--layer", "enterprises")
    assert "新增 1 家" in out and "更新 1 家" in out and "新名单中没有 1 家" in out
    ents = pyogrio.read_dataframe(p, layer="enterprises", read_geometry=False).set_index("name")
    assert len(ents) == N_ROWS + 1  # nothing deleted without the user's word
    assert ents.loc["沭阳县测试01有限公司", "level"] == 1
