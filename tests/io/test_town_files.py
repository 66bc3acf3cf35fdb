"""Town boundary files as bureaus have them: a GBK shapefile without .cpg, zone-prefixed Gauss–Krüger with and
without .prj (and without the zone prefix), DXF from a CAD office; real towns replacing approximate (示意) ones.

Files are built here: for 平阴县 (370124, outside the five demo places) and for the 会宁县 demo county."""

from __future__ import annotations


import ezdxf
import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import box

from tests.conftest import run_cli as run
from riskmap.crs import to_geographic, to_metric
from riskmap.store import Project

TOWNS = ["榆山街道", "锦水街道", "东阿镇", "孝直镇"]  # 平阴县's towns (names only; the areas are made up)



def county_of(path):
    with Project.open(path, readonly=True) as p:
        zones = p.read_table("zones", where="kind = 'county'")
        return shapely.union_all(zones.geometry.to_numpy()), p.metric_epsg


def quarters(county, epsg: int, names=TOWNS) -> gpd.GeoDataFrame:
    """The county cut in four at its centre (metric CRS): four made-up towns that tile it exactly."""
    cm = to_metric(county, epsg)
    x0, y0, x1, y1 = cm.bounds
    c = cm.centroid
    cells = [box(x0 - 1, y0 - 1, c.x, c.y), box(c.x, y0 - 1, x1 + 1, c.y), box(x0 - 1, c.y, c.x, y1 + 1),
             box(c.x, c.y, x1 + 1, y1 + 1)]
    geoms = [cm.intersection(b) for b in cells]
    return gpd.GeoDataFrame({"乡镇名称": names[:4], "代码": [f"T{i}" for i in range(1, 5)]}, geometry=geoms, crs=epsg)


def write_shapefile(gdf: gpd.GeoDataFrame, folder, *, zone_prefix: int | None, prj: bool):
    """GBK attributes, no .cpg; ``zone_prefix``: the zone number put in front of the easting (39 → 39 500 000
    false easting) with the matching CRS; ``prj``: keep the .prj GDAL writes."""
    folder.mkdir(parents=True, exist_ok=True)
    out = gdf.copy()
    if zone_prefix is not None:
        out["geometry"] = shapely.transform(out.geometry.values, lambda xy: xy + [zone_prefix * 1_000_000, 0])
        # CGCS2000 with the zone prefix: 3° zones 25–45 are EPSG 4513–4533, 6° zones 13–23 EPSG 4491–4501
        out = out.set_crs(4513 + zone_prefix - 25 if zone_prefix >= 25 else 4491 + zone_prefix - 13, allow_override=True)
    path = folder / "towns.shp"
    pyogrio.write_dataframe(out, path, encoding="GBK")
    (folder / "towns.cpg").unlink(missing_ok=True)
    if not prj:
        (folder / "towns.prj").unlink()
    assert not (folder / "towns.cpg").exists()
    return path


def town_zones(path):
    with Project.open(path, readonly=True) as p:
        return p.read_table("zones", where="kind = 'town'", columns=["id", "name", "parent_id", "area_km2"]), p.meta()


def inside_share(towns, county) -> float:
    t = shapely.union_all(towns.geometry.to_numpy())
    return t.intersection(county).area / t.area


@pytest.mark.parametrize("zone_prefix,prj,expect", [(39, True, "4527"), (39, False, "4527"), (None, False, "4548"),
                                                     (20, False, "4498"), (None, False, "4547")],
                         ids=["prefixed-with-prj", "prefixed-without-prj", "no-prefix-without-prj",
                              "6-degree-prefixed-without-prj", "no-prefix-neighbouring-zone-without-prj"])
def test_gbk_shapefile_in_gauss_krueger(pingyin, tmp_path, zone_prefix, prj, expect):
    county, epsg = county_of(pingyin)
    assert epsg == 4548  # 平阴县 (116.4°E): the 3° zone of 117°E, zone 39
    towns = quarters(county, epsg)
    if expect == "4547":  # drawn in the zone of 114°E, the next one west: no prefix, no .prj
        towns = towns.to_crs(4547)
    shp = write_shapefile(towns, tmp_path / "shp", zone_prefix=zone_prefix, prj=prj)
    dbf = (tmp_path / "shp" / "towns.dbf").read_bytes()
    assert "东阿镇".encode("gbk") in dbf and "东阿镇".encode("utf-8") not in dbf  # really GBK
    if zone_prefix:
        x = shapely.get_coordinates(pyogrio.read_dataframe(shp).geometry.values)[:, 0]
        # 平阴县 lies on 117°E, the central meridian of both 3° zone 39 and 6° zone 20: only the prefix differs
        assert (x > zone_prefix * 1_000_000).all() and (x < (zone_prefix + 1) * 1_000_000).all()
    code, out, err = run("import", pingyin, shp, "--layer", "towns")
    assert code == 0, err
    assert "GB18030" in out or "GBK" in out  # the report says the encoding was detected
    assert f"EPSG:{expect}" in out  # …and which coordinate system was used (declared or detected)
    towns, _meta = town_zones(pingyin)
    assert sorted(towns["name"]) == sorted(TOWNS)
    assert inside_share(towns, county) >= 0.99
    # the four quarters tile the county: their areas add up to the county's
    assert towns["area_km2"].sum() == pytest.approx(to_metric(county, epsg).area / 1e6, rel=1e-3)
    assert towns["parent_id"].notna().all()


def make_dxf(path, gdf_metric: gpd.GeoDataFrame, *, zone_prefix: int = 39, unnamed: str | None = None,
             village_labels: bool = False) -> None:
    """A CAD office's drawing: closed LWPOLYLINEs on layer 镇界, names as TEXT (one as MTEXT) on layer 注记 inside
    each; ``unnamed`` gets no text; ``village_labels`` adds two texts per town on another layer."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    for name in ("镇界", "注记", "村名"):
        doc.layers.add(name)
    for k, (name, geom) in enumerate(zip(gdf_metric["乡镇名称"], gdf_metric.geometry)):
        poly = geom if geom.geom_type == "Polygon" else max(geom.geoms, key=lambda p: p.area)
        ring = np.asarray(poly.exterior.coords)[:-1] + [zone_prefix * 1_000_000, 0]
        msp.add_lwpolyline(ring.tolist(), close=True, dxfattribs={"layer": "镇界"})
        pt = poly.representative_point()
        at = (pt.x + zone_prefix * 1_000_000, pt.y)
        if name == unnamed:
            pass
        elif k == 2:
            msp.add_mtext(name, dxfattribs={"layer": "注记", "insert": at, "char_height": 300})
        else:
            msp.add_text(name, dxfattribs={"layer": "注记", "height": 300}).set_placement(at)
        if village_labels:
            near = [shapely.Point(pt.x + dx, pt.y + dy) for dx, dy in ((800, 0), (-800, 0), (0, 800), (0, -800))]
            for j, q in enumerate([q for q in near if poly.contains(q)][:2]):
                msp.add_text(f"{name}{j}村", dxfattribs={"layer": "村名", "height": 100}).set_placement(
                    (q.x + zone_prefix * 1_000_000, q.y))
    doc.saveas(path)


def test_dxf_polygons_named_by_the_text_inside(pingyin, tmp_path):
    county, epsg = county_of(pingyin)
    quarters_ = quarters(county, epsg)
    path = tmp_path / "镇界.dxf"
    make_dxf(path, quarters_, village_labels=True)
    code, out, err = run("import", pingyin, path, "--layer", "towns")
    assert code == 0, err
    towns, _meta = town_zones(pingyin)
    assert sorted(towns["name"]) == sorted(TOWNS)
    assert inside_share(towns, county) >= 0.99
    # each name went to the polygon it was written in: the town holds the representative point of its quarter
    rep = {n: to_geographic(g.representative_point() if g.geom_type == "Polygon"
                            else max(g.geoms, key=lambda p: p.area).representative_point(), epsg)
           for n, g in zip(quarters_["乡镇名称"], quarters_.geometry)}
    for name, geom in zip(towns["name"], towns.geometry):
        assert geom.buffer(1e-7).contains(rep[name])


def test_dxf_polygon_without_a_name_is_an_error_naming_it(pingyin, tmp_path):
    county, epsg = county_of(pingyin)
    path = tmp_path / "镇界.dxf"
    make_dxf(path, quarters(county, epsg), unnamed="东阿镇")
    before = town_zones(pingyin)[0]
    code, out, err = run("import", pingyin, path, "--layer", "towns")
    assert code == 2
    assert "没有名称注记" in out and "句柄" in out and "镇界" in out
    assert len(town_zones(pingyin)[0]) == len(before) == 0  # nothing written


# ---------------------------------------------------------------- replacing approximate towns (demo county)

def test_real_towns_replace_approximate_ones(demo_copy, tmp_path):
    from riskmap.edit.zones import approximate_kinds, towns_from_seats
    from riskmap.grading.zoning import zone_table

    with Project.open(demo_copy) as p:
        epsg = p.metric_epsg
        real = p.read_table("zones", where="kind = 'town'", columns=["id", "name"])
        county = shapely.union_all(p.read_table("zones", where="kind = 'county'").geometry.to_numpy())
        # the bureau's file: the demo's towns, zone-prefixed Gauss–Krüger, GBK, no .prj
        zone = epsg - 4534 + 25  # 3° zone number of the CM variant (4544 → 35)
        gdf = gpd.GeoDataFrame({"乡镇名称": real["name"].to_numpy()},
                               geometry=to_metric(real.geometry.to_numpy(), epsg), crs=epsg)
        shp = write_shapefile(gdf, tmp_path / "shp", zone_prefix=zone, prj=False)
        # approximate towns first: a seat inside each real town, the cells replacing the demo's towns
        seats = [(n, shapely.point_on_surface(g).x, shapely.point_on_surface(g).y)
                 for n, g in zip(real["name"], real.geometry)]
        n = towns_from_seats(p, seats, replace=True, source="驻地.xlsx")
        assert n == len(real) and approximate_kinds(p) == {"town"}
        approx = p.read_table("zones", where="kind = 'town'", columns=["id", "name"])
        assert set(approx["id"]).isdisjoint(real["id"])
        assert p.catalogue()["towns"].name_zh == "镇街（示意）"
    code, out, err = run("import", demo_copy, shp, "--layer", "towns")
    assert code == 0, out + err
    with Project.open(demo_copy, readonly=True) as p:
        assert approximate_kinds(p) == set() and "approximate.town" not in p.meta()
        assert p.catalogue()["towns"].name_zh == "镇街"
        towns = p.read_table("zones", where="kind = 'town'", columns=["id", "name"])
        assert len(towns) == len(real) and set(towns["id"]).isdisjoint(approx["id"])  # the approximate ones are gone
        assert inside_share(towns, county) >= 0.99
        ents = p.read_table("enterprises", columns=["id", "town", "zone_id", "level"])
        villages = p.read_table("zones", where="kind = 'village'", columns=["id", "parent_id"])
        table = {z["name"]: z for z in zone_table(p, "town")}
    # every located enterprise: zone_id and town of the town its point is in (worked out here with shapely)
    located = ents[ents.geometry.notna()]
    tree = shapely.STRtree(towns.geometry.to_numpy())
    pi, ti = tree.query(located.geometry.to_numpy(), predicate="within")
    assert len(np.unique(pi)) > 0.95 * len(located)
    want_zone = dict(zip(located.index[pi], towns["id"].to_numpy()[ti]))
    want_name = dict(zip(located.index[pi], towns["name"].to_numpy()[ti]))
    for i, zid in want_zone.items():
        assert ents.at[i, "zone_id"] == zid and ents.at[i, "town"] == want_name[i]
    assert set(villages["parent_id"].dropna().astype(int)) <= set(towns["id"])  # villages re-linked
    # the town unit (zoned by the demo under 就高) was levelled again: highest level inside, by hand
    for tid, name in zip(towns["id"], towns["name"]):
        inside = [ents.at[i, "level"] for i, z in want_zone.items() if z == tid]
        graded = [int(v) for v in inside if v == v and v is not None]
        assert table[name]["rule"] == "max"
        assert table[name]["level"] == (min(graded) if graded else None), name


def test_an_open_project_drops_the_mark_when_real_towns_come_in(pingyin, tmp_path):
    from riskmap.edit.zones import towns_from_seats
    from riskmap.io.importer import import_file

    county, epsg = county_of(pingyin)
    q = quarters(county, epsg)
    shp = write_shapefile(q, tmp_path / "shp", zone_prefix=39, prj=True)
    seats = [(n, *to_geographic(g.representative_point(), epsg).coords[0]) for n, g in zip(q["乡镇名称"], q.geometry)]
    with Project.open(pingyin) as p:
        assert towns_from_seats(p, seats) == 4
        assert p.catalogue()["towns"].name_zh == "镇街（示意）"
        import_file(p, shp, "towns")
        assert p.catalogue()["towns"].name_zh == "镇街"  # no reopening: the cached metadata was dropped
        assert sorted(p.read_table("zones", where="kind = 'town'", columns=["name"])["name"]) == sorted(TOWNS)


def test_approximate_towns_on_each_store(any_store):
    """Seats → 示意 towns replacing the demo's towns on the GeoPackage and on PostGIS: enterprises follow."""
    from riskmap.edit.zones import approximate_kinds, towns_from_seats

    p = any_store
    real = p.read_table("zones", where="kind = 'town'", columns=["id", "name"])
    seats = [(n, shapely.point_on_surface(g).x, shapely.point_on_surface(g).y) for n, g in zip(real["name"], real.geometry)]
    assert towns_from_seats(p, seats, replace=True) == len(real)
    assert approximate_kinds(p) == {"town"}
    towns = p.read_table("zones", where="kind = 'town'", columns=["id", "name"])
    assert set(towns["id"]).isdisjoint(real["id"])
    ents = p.read_table("enterprises", columns=["id", "zone_id", "town"])
    located = ents[ents.geometry.notna()]
    pi, ti = shapely.STRtree(towns.geometry.to_numpy()).query(located.geometry.to_numpy(), predicate="within")
    got = located["zone_id"].to_numpy()[pi]
    assert (got == towns["id"].to_numpy()[ti]).mean() > 0.99  # points on a shared border may go to either
    assert set(ents["zone_id"].dropna().astype(int)) <= set(towns["id"])


def test_towns_imported_after_enterprises_and_a_grid(pingyin, tmp_path):
    """No approximate towns: the imported towns take the enterprises that had none and become the grid's parents."""
    from riskmap.edit.zones import make_grid

    county, epsg = county_of(pingyin)
    q = quarters(county, epsg)
    pts = [to_geographic(g.representative_point() if g.geom_type == "Polygon"
                         else max(g.geoms, key=lambda p: p.area).representative_point(), epsg) for g in q.geometry]
    csv = tmp_path / "企业.csv"
    csv.write_text("企业名称,风险等级,经度,纬度\n" + "".join(
        f"企业{k},{['重大', '较大', '一般', '低'][k]},{p.x:.6f},{p.y:.6f}\n" for k, p in enumerate(pts)), encoding="utf-8")
    assert run("import", pingyin, csv, "--layer", "enterprises")[0] == 0
    with Project.open(pingyin) as p:
        make_grid(p, 5)
        assert p.read_table("enterprises", columns=["zone_id"])["zone_id"].isna().all()
    shp = write_shapefile(q, tmp_path / "shp", zone_prefix=39, prj=False)
    code, out, err = run("import", pingyin, shp, "--layer", "towns")
    assert code == 0, out + err
    with Project.open(pingyin, readonly=True) as p:
        towns = p.read_table("zones", where="kind = 'town'", columns=["id", "name"])
        ents = p.read_table("enterprises", columns=["name", "town", "zone_id"])
        cells = p.read_table("zones", where="kind = 'grid'", columns=["parent_id"])
    by_name = dict(zip(towns["name"], towns["id"]))
    for k, (town, zid) in enumerate(zip(ents["town"], ents["zone_id"])):
        assert town == TOWNS[k] and zid == by_name[TOWNS[k]]  # enterprise k stands in quarter k
    tg = towns.geometry.to_numpy()
    for pid, g in zip(cells["parent_id"], cells.geometry):
        assert pid == towns["id"].iloc[int(np.argmax(shapely.area(shapely.intersection(g, tg))))]
