"""The plant of an enterprise (riskmap.plant): its georeferenced plan, its risk points as areas graded in the four
colours with the enterprise's level following (就高) and its zones recoloured, refusals that write nothing,
and the demo's plant."""

from __future__ import annotations

import io
import json
import struct
import tomllib
import zlib

import numpy as np
import pytest
import shapely
from PIL import Image
from sqlalchemy import event

from riskmap import georef, plant
from riskmap.crs import transformer
from riskmap.errors import RiskmapError
from riskmap.paths import RESOURCES_DIR
from riskmap.store import Project


def demo_plant_id(project) -> int:
    plants = plant.plants(project)
    assert len(plants) == 1
    return int(plants["id"].iloc[0])


def offset(point, dx_m: float, dy_m: float, epsg: int):
    """``point`` (EPSG:4490) moved dx, dy metres in the metric CRS."""
    to_m, back = transformer(4490, epsg), transformer(epsg, 4490)
    x, y = to_m.transform(point.x, point.y)
    return shapely.Point(back.transform(x + dx_m, y + dy_m))


def square(point, half_m: float, epsg: int, dx: float = 0, dy: float = 0):
    to_m, back = transformer(4490, epsg), transformer(epsg, 4490)
    x, y = to_m.transform(point.x, point.y)
    xs = np.array([-1, 1, 1, -1]) * half_m + x + dx
    ys = np.array([-1, -1, 1, 1]) * half_m + y + dy
    lon, lat = back.transform(xs, ys)
    return shapely.Polygon(np.column_stack([lon, lat]))


def zone_levels(project, point) -> dict:
    zones = project.read_table("zones", columns=["id", "kind", "level"])
    inside = zones[shapely.contains(zones.geometry.values, point)]
    return {int(i): None if lv != lv or lv is None else int(lv) for i, lv in zip(inside["id"], inside["level"])}


def png_bytes(w=400, h=300, colour=(230, 230, 230)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, format="PNG")
    return buf.getvalue()


def png_header_only(w: int, h: int) -> bytes:
    """A PNG whose header claims w × h pixels (valid signature and CRC), with one tiny data chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------- the demo's plant

def test_demo_plant_level_is_the_highest_of_its_points(demo_open):
    eid = demo_plant_id(demo_open)
    data = plant.plant_data(demo_open, eid)
    pts = data.points
    assert 5 <= len(pts) <= 8
    # 会宁县 has no chemical producer or store: the plant is a 加油站's, of the most severe level such a site has
    assert data.enterprise["industry"] == "gas_station"
    # … its level the 就高 of its points: the only more severe 加油站 is 重大 by a rule (an open 重大事故隐患)
    ents = demo_open.read_table("enterprises", columns=["id", "industry", "level", "level_assessment_id"])
    assert data.enterprise["level"] == 2
    above = ents[(ents["industry"] == "gas_station") & (ents["level"] < 2)]
    records = demo_open.read_table("assessments").loc[above["level_assessment_id"].astype(int)]
    assert len(above) == 1 and all(json.loads(i)["rules"] for i in records["inputs"])
    # 就高: the enterprise's level is the most severe (smallest number) of its graded points
    assert data.enterprise["level"] == int(pts["level"].min())
    # the plant shows several colours: 较大 (the 卸油 post), 一般 and 低 areas
    assert set(pts["level"].astype(int)) == {2, 3, 4}
    by_name = dict(zip(pts["name"], pts["level"].astype(int)))
    assert by_name["卸油作业岗位"] == 2 and by_name["加油作业区"] == 3 and by_name["站房"] == 4
    assert set(by_name) == {"卸油作业岗位", "加油作业区", "油气回收装置", "配电室", "发电机房", "站房", "埋地油罐区"}
    # the hazard source keeps its GB 18218 record and level (汽油 of a 加油站 is far below its 200 t threshold)
    tank = pts[pts["kind"] == "hazard_source"].iloc[0]
    assert tank["name"] == "埋地油罐区" and tank["method"] == "gb18218" and int(tank["level"]) == 4
    assert "汽油" in tank["hazard_factors"]
    assert (pts["kind"] == "hazard_source").sum() == 1
    assert set(pts["category"]) >= {"area", "device", "facility", "place", "post"}
    assert set(pts["method"]) >= {"lec", "ls"}
    # areas, inside the plan, with their cards written
    assert set(pts.geom_type) <= {"Polygon", "MultiPolygon"}
    footprint = data.plan.footprint_4490()
    assert shapely.contains(footprint, pts.geometry.values).all()
    for col in ("hazard_factors", "accident_types", "control_measures", "emergency_measures", "responsible_person",
                "responsible_phone"):
        assert pts[col].str.len().min() > 1, col
    # every sign a code of the sign table the cards draw
    codes = {sign["code"] for sign in tomllib.loads((RESOURCES_DIR / "standards" / "safety_signs.toml")
                                                    .read_text("utf-8"))["sign"]}
    assert all(len(s) >= 2 and set(s) <= codes for s in pts["signs"])
    assert "P031" in pts.set_index("name").loc["加油作业区", "signs"]  # no mobile phones where fuel is pumped
    # the hidden dangers lie in the plant, in one of its risk areas (this 加油站 has none)
    assert shapely.contains(shapely.union_all(pts.geometry.values), data.dangers.geometry.values).all()
    # the current enterprise record derives from all of these points (就高), dated after them
    assessments = demo_open.read_table("assessments", where=f"enterprise_id = {eid}")
    current = assessments.loc[int(data.enterprise["level_assessment_id"])]
    assert current["method"] == "max" and current["level"] == data.enterprise["level"]
    assert set(map(int, json.loads(current["inputs"])["risk_points"])) == set(pts["id"].astype(int))
    assert current["assessed_at"] > pts["assessed_at"].max()
    assert current["assessed_at"] < "2026-11-01"  # the demo's today


def test_demo_plan_is_georeferenced_within_a_metre(demo_open):
    data = plant.plant_data(demo_open, demo_plant_id(demo_open))
    plan = data.plan
    assert plan.method == "affine" and len(plan.gcps) == 4
    assert plan.max_residual_m <= 1.0 and plan.rms_m <= plan.max_residual_m
    # the residuals stored are those of the stored transform: recompute each from its pixel and lon/lat
    to_m = transformer(4490, plan.crs)
    for g in plan.gcps:
        x, y = georef.apply(plan.transform, g["col"], g["row"])
        gx, gy = to_m.transform(g["lon"], g["lat"])
        assert np.hypot(x - gx, y - gy) == pytest.approx(g["residual_m"], abs=1e-6)
    # the image decodes, at the size stored, small enough to carry along
    img = Image.open(io.BytesIO(plan.image))
    img.load()
    assert (img.format, img.size) == ("PNG", (plan.width, plan.height)) and plan.media_type == "image/png"
    assert len(plan.image) <= 300_000
    # the 加油站 drawn at 0.05 m a pixel: its wall corners (the control points) 60 m × 45 m apart on the ground
    assert georef.Fit(tuple(plan.transform), np.zeros(1), 0, 0, "affine").scale == pytest.approx(0.05, rel=0.01)
    xy = np.array([to_m.transform(g["lon"], g["lat"]) for g in plan.gcps])  # TL, TR, BR, BL of the wall
    sides = np.hypot(*(xy - np.roll(xy, -1, axis=0)).T)
    assert sides == pytest.approx([60, 45, 60, 45], abs=0.5)
    assert (plan.gcps[1]["col"] - plan.gcps[0]["col"]) * 0.05 == pytest.approx(60)
    # the enterprise's point inside the plan, the extent holding plan and points
    assert plan.footprint_4490().contains(data.enterprise["geometry"])
    assert shapely.box(*data.extent_4490).contains(plan.footprint_4490())


def test_demo_plan_draws_its_blocks_where_the_areas_are(demo_open):
    """The risk areas, mapped back into the image through the inverse transform, frame the drawn blocks: the
    pixel at the centre of each area is the block's fill colour, not the white ground or the grey road."""
    data = plant.plant_data(demo_open, demo_plant_id(demo_open))
    img = Image.open(io.BytesIO(data.plan.image)).convert("RGB")
    inv = georef.invert(data.plan.transform)
    to_m = transformer(4490, data.plan.crs)
    for g in data.points.geometry:
        x, y = to_m.transform(g.centroid.x, g.centroid.y)
        col, row = georef.apply(inv, x, y)
        assert 0 < col < img.width and 0 < row < img.height
        r, gg, b = img.getpixel((int(col) + 30, int(row) + 30))  # off the label in the block's middle
        assert (r, gg, b) != (255, 255, 255) and not (r == gg == b == 217), (col, row, (r, gg, b))


def test_plants_lists_the_demo_plant(demo_open):
    df = plant.plants(demo_open)
    row = df.iloc[0]
    assert list(df.columns) == ["id", "name", "credit_code", "level", "has_plan", "n_points", "n_areas"]
    assert bool(row["has_plan"]) and row["n_points"] == row["n_areas"] >= 5
    assert row["name"].startswith("示例")


def test_plant_data_takes_a_few_queries(demo_open):
    eid = demo_plant_id(demo_open)
    seen = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(demo_open.engine, "before_cursor_execute", listener)
    try:
        plant.plant_data(demo_open, eid)
    finally:
        event.remove(demo_open.engine, "before_cursor_execute", listener)
    # enterprise, plan, lists, points, their records, hidden dangers (plus what the ORM adds per object)
    assert len(seen) <= 12, seen


# ---------------------------------------------------------------------------------------- drawing and grading

def test_add_grade_delete_an_area_follows_就高_and_recolours_zones(demo_project):
    p = demo_project
    eid = demo_plant_id(p)
    ent = p.read_table("enterprises").loc[eid]
    assert ent["level"] == 2  # 会宁县's demo plant: a 加油站 whose 卸油作业岗位 is 较大 (orange)
    before_zones = zone_levels(p, ent.geometry)
    levelled = {z: lv for z, lv in before_zones.items() if lv is not None}
    assert len(levelled) >= 3 and all(lv <= 2 for lv in levelled.values())  # town, village, grid: 就高
    area = square(ent.geometry, 4, p.metric_epsg, dx=10, dy=-5)
    n_hist = p.counts()["edit_history"]

    # L=6 × E=6 × C=15 = 540: D ≥ 320 → 重大 (1, red)
    rp_id, rec, ent_rec = plant.add_risk_point(
        p, eid, name="撬装式加油装置", category="device", geom=area, method="lec", inputs={"L": 6, "E": 6, "C": 15},
        assessor="测试评估员", hazard_factors="汽油泄漏", signs="W002, P002 m015")
    assert (rec.score, rec.level, rec.method) == (540.0, 1, "lec")
    assert ent_rec.level == 1 and ent_rec.method == "max" and "撬装式加油装置" in ent_rec.explanation
    assert p.read_table("enterprises").loc[eid, "level"] == 1
    # 就高 in every levelled zone holding it: red
    assert zone_levels(p, ent.geometry) == {z: None if lv is None else 1 for z, lv in before_zones.items()}
    row = p.read_table("risk_points").loc[rp_id]
    assert row["signs"] == '["W002", "P002", "M015"]' and row["category"] == "device"
    assert row.geometry.equals_exact(area, 1e-12)
    hist = p.read_table("edit_history").iloc[n_hist:]
    assert ("risk_points", rp_id, "insert") in set(zip(hist["table_name"], hist["row_id"], hist["action"]))
    assert ("enterprises", eid, "update") in set(zip(hist["table_name"], hist["row_id"], hist["action"]))

    # re-graded by LS: L=1 × S=3 = 3 → 低 (4): the enterprise (its 卸油作业岗位 is 较大) and the zones go back
    rec2, ent_rec2 = plant.grade_point(p, rp_id, "ls", {"L": 1, "S": 3}, assessor="测试评估员")
    assert (rec2.score, rec2.level) == (3.0, 4) and ent_rec2.level == 2
    assert zone_levels(p, ent.geometry) == before_zones
    records = p.read_table("assessments", where=f"risk_point_id = {rp_id}")
    assert sorted(records["method"]) == ["lec", "ls"]  # both kept, in order

    # graded 较大 (L=3 × E=6 × C=15 = 270, 160 ≤ D < 320): as severe as the post, nothing changes colour
    rec3, ent_rec3 = plant.grade_point(p, rp_id, "lec", {"L": 3, "E": 6, "C": 15}, assessor="测试评估员")
    assert (rec3.score, rec3.level) == (270.0, 2) and ent_rec3.level == 2
    assert p.read_table("enterprises").loc[eid, "level"] == 2 and zone_levels(p, ent.geometry) == before_zones
    # deleted: the level is what the others give
    ent_rec4 = plant.delete_risk_point(p, rp_id, assessor="测试评估员")
    assert ent_rec4.level == 2 and p.read_table("enterprises").loc[eid, "level"] == 2
    assert zone_levels(p, ent.geometry) == before_zones
    assert rp_id not in p.read_table("risk_points").index
    assert p.read_table("assessments", where=f"risk_point_id = {rp_id}").empty
    gone = p.read_table("edit_history", where="table_name = 'assessments' AND action = 'delete'")
    kept = json.loads(gone["changes"].iloc[-1])
    assert kept["risk_point_id"] == rp_id and [r["score"] for r in kept["records"]] == [540.0, 3.0, 270.0]


def test_update_reshapes_and_rewrites_the_card(demo_project):
    p = demo_project
    eid = demo_plant_id(p)
    pts = plant.plant_data(p, eid).points
    rp_id = int(pts.index[0])
    version = int(pts.loc[rp_id, "version"])
    ent = p.read_table("enterprises").loc[eid]
    shape = square(ent.geometry, 10, p.metric_epsg, dx=-50)
    out = plant.update_risk_point(p, rp_id, geom=shape, name="一号装置", category="装置", control_measures="巡检",
                                  signs=["w001"])
    assert out["name"] == "一号装置" and out["category"] == "device" and out["signs"] == ["W001"]
    row = p.read_table("risk_points").loc[rp_id]
    assert row.geometry.equals_exact(shape, 1e-12) and row["version"] == version + 1
    assert row["level"] == pts.loc[rp_id, "level"]  # not re-graded by an edit


def test_a_point_risk_point_is_allowed(demo_project):
    p = demo_project
    eid = demo_plant_id(p)
    ent = p.read_table("enterprises").loc[eid]
    spot = offset(ent.geometry, 20, 10, p.metric_epsg)
    rp_id, rec, _ = plant.add_risk_point(p, eid, name="巡检岗", category="post", geom=spot, method="ls",
                                         inputs={"L": 2, "S": 3}, assessor="测试")
    assert rec.level == 3  # L=2 × S=3 = 6: 4–8 → 一般
    assert p.read_table("risk_points").loc[rp_id].geometry.geom_type == "Point"
    assert p.read_table("enterprises").loc[eid, "level"] == 2  # 就高: its 卸油作业岗位 stays the most severe
    # 重大 by LS (L=4 × S=5 = 20): the point raises the enterprise
    plant.grade_point(p, rp_id, "ls", {"L": 4, "S": 5}, assessor="测试")
    assert p.read_table("enterprises").loc[eid, "level"] == 1


@pytest.mark.parametrize("geom, kwargs, words", [
    (lambda e, epsg: shapely.LineString([(e.x, e.y), (e.x + 0.001, e.y)]), {}, "只能是点或面"),
    (lambda e, epsg: offset(e, 5000, 0, epsg), {}, "超过 3 km"),
    (lambda e, epsg: square(e, 2000, epsg), {}, "超过 10 km²"),
    (lambda e, epsg: shapely.Polygon([(e.x, e.y), (e.x + 0.001, e.y), (e.x + 0.002, e.y)]), {}, "无效且无法修复"),
    (lambda e, epsg: shapely.Point(e.x * 1000, e.y), {}, "不是经纬度"),
    (lambda e, epsg: None, {}, "需要位置"),
    (lambda e, epsg: square(e, 10, epsg), {"category": "车间"}, "类别"),
    (lambda e, epsg: square(e, 10, epsg), {"signs": ["X999"]}, "GB 2894"),
    (lambda e, epsg: square(e, 10, epsg), {"inputs": {"L": 7, "E": 6, "C": 15}}, "L"),
    (lambda e, epsg: square(e, 10, epsg), {"assessor": " "}, "评估人"),
])
def test_bad_risk_points_are_refused_and_nothing_is_written(demo_project, geom, kwargs, words):
    p = demo_project
    eid = demo_plant_id(p)
    ent = p.read_table("enterprises").loc[eid]
    before = p.counts()
    args = dict(name="坏风险点", category="area", method="lec", inputs={"L": 3, "E": 6, "C": 15}, assessor="测试")
    args.update(kwargs)
    with pytest.raises(RiskmapError) as err:
        plant.add_risk_point(p, eid, geom=geom(ent.geometry, p.metric_epsg), **args)
    assert words in err.value.zh
    assert p.counts() == before
    assert p.read_table("enterprises").loc[eid, "level"] == ent["level"]


def test_a_self_crossing_area_is_repaired(demo_project):
    p = demo_project
    eid = demo_plant_id(p)
    e = p.read_table("enterprises").loc[eid].geometry
    d = 0.0003
    bowtie = shapely.Polygon([(e.x, e.y), (e.x + d, e.y + d), (e.x + d, e.y), (e.x, e.y + d)])
    assert not bowtie.is_valid
    rp_id, _, _ = plant.add_risk_point(p, eid, name="领结", category="area", geom=bowtie, method="lec",
                                       inputs={"L": 1, "E": 6, "C": 7}, assessor="测试")
    g = p.read_table("risk_points").loc[rp_id].geometry
    # by hand: the two triangles either side of the crossing, each a quarter of the d × d square
    assert g.is_valid and g.geom_type == "MultiPolygon" and len(g.geoms) == 2
    assert g.area == pytest.approx(d * d / 2, rel=1e-9)


# ---------------------------------------------------------------------------------------- plans

def corner_gcps(ent_point, w, h, epsg, metres_per_px=0.25):
    """Four corners of a w×h image placed north-up around ``ent_point`` at ``metres_per_px``."""
    to_m, back = transformer(4490, epsg), transformer(epsg, 4490)
    x0, y0 = to_m.transform(ent_point.x, ent_point.y)
    x0, y0 = x0 - w * metres_per_px / 2, y0 + h * metres_per_px / 2
    out = []
    for col, row in ((0, 0), (w, 0), (w, h), (0, h)):
        lon, lat = back.transform(x0 + col * metres_per_px, y0 - row * metres_per_px)
        out.append((col, row, lon, lat))
    return out


def test_set_plan_from_png_and_replace(demo_project):
    p = demo_project
    eid = demo_plant_id(p)
    ent = p.read_table("enterprises").loc[eid]
    gcps = corner_gcps(ent.geometry, 400, 300, p.metric_epsg)
    old = plant.plant_data(p, eid).plan
    res = plant.set_plan(p, eid, png_bytes(), gcps[:2], source_name="图.png")
    assert res.fit.method == "similarity" and res.fit.max_m < 1e-6 and (res.width, res.height) == (400, 300)
    assert res.plan_id == old.id  # replaced in place: one plan per enterprise
    plan = plant.plant_data(p, eid).plan
    assert plan.source_name == "图.png" and plan.method == "similarity"
    assert plan.width == 400 and plan.transform[1] == pytest.approx(0.25)
    # the plan's corners where they were placed, within 0.01 m
    to_m = transformer(4490, p.metric_epsg)
    want = np.array([to_m.transform(lo, la) for _, _, lo, la in gcps])
    assert np.abs(plan.corners() - want).max() < 0.01
    assert p.counts()["plant_plans"] == 1
    hist = p.read_table("edit_history", where="table_name = 'plant_plans'")
    assert hist["action"].iloc[-1] == "update" and "bytes" in hist["changes"].iloc[-1]


def test_set_plan_from_a_pdf_page(demo_project, tmp_path):
    p = demo_project
    eid = demo_plant_id(p)
    ent = p.read_table("enterprises").loc[eid]
    pdf = tmp_path / "plan.pdf"
    pages = [Image.new("RGB", (842, 595), c) for c in ("white", (200, 220, 240))]
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=72)  # two A4 landscape pages
    # page 2 at 300 dpi: 842 pt × 300/72 = 3508.3 → 3509 px, 595 pt → 2479.2 → 2480 px (pdfium rounds up)
    img = plant.read_plan_image(pdf, page=2)
    assert (img.width, img.height) == (3509, 2480) and img.page == 2
    px = Image.open(io.BytesIO(img.data)).getpixel((1000, 1000))  # Pillow wrote the page as a JPEG
    assert np.abs(np.array(px) - (200, 220, 240)).max() <= 3
    gcps = corner_gcps(ent.geometry, img.width, img.height, p.metric_epsg, 0.05)
    res = plant.set_plan(p, eid, pdf, gcps, page=2)
    assert res.fit.max_m < 0.01
    assert plant.plant_data(p, eid).plan.page == 2
    with pytest.raises(RiskmapError) as err:
        plant.set_plan(p, eid, pdf, gcps, page=3)
    assert "只有 2 页" in err.value.zh


def test_large_photo_is_kept_as_jpeg(demo_project):
    p = demo_project
    eid = demo_plant_id(p)
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (1500, 2000, 3), dtype=np.uint8)  # incompressible: ~9 MB as PNG
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    assert len(buf.getvalue()) > plant.JPEG_ABOVE
    ent = p.read_table("enterprises").loc[eid]
    plant.set_plan(p, eid, buf.getvalue(), corner_gcps(ent.geometry, 2000, 1500, p.metric_epsg, 0.1))
    plan = plant.plant_data(p, eid).plan
    assert plan.media_type == "image/jpeg" and len(plan.image) < len(buf.getvalue())
    assert Image.open(io.BytesIO(plan.image)).size == (2000, 1500)


@pytest.mark.parametrize("make, words", [
    (lambda tmp: png_header_only(20_000, 20_000), "百万像素"),  # Pillow's own bomb limit answers first
    (lambda tmp: png_header_only(9_000, 8_000), "百万像素"),  # 72 MP: under Pillow's limit, over riskmap's
    (lambda tmp: png_bytes()[:200], "损坏或不完整"),
    (lambda tmp: b"name,lon,lat\n" * 20, "不是可识别的图像"),
    (lambda tmp: b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer\n%%EOF", "PDF 文件已损坏"),
    (lambda tmp: tmp / "missing.png", "不存在"),
    (lambda tmp: tmp, "文件夹"),
])
def test_bad_plan_files_are_refused_and_nothing_is_written(demo_project, tmp_path, make, words):
    p = demo_project
    eid = demo_plant_id(p)
    ent = p.read_table("enterprises").loc[eid]
    before = p.counts()
    plan_before = plant.plant_data(p, eid).plan
    with pytest.raises(RiskmapError) as err:
        plant.set_plan(p, eid, make(tmp_path), corner_gcps(ent.geometry, 400, 300, p.metric_epsg))
    assert words in err.value.zh
    assert p.counts() == before
    assert plant.plant_data(p, eid).plan.image == plan_before.image


@pytest.mark.parametrize("gcps, words", [
    (lambda g: g[:1], "至少需要 2 个控制点"),
    (lambda g: [(c, r, la, lo) for c, r, lo, la in g], "经度在前"),  # lon and lat swapped
    (lambda g: [(c, r, lo + 0.2, la) for c, r, lo, la in g], "km"),  # 18 km east of the enterprise
    (lambda g: [g[0], (g[0][0], g[0][1], g[1][2], g[1][3])], "像素位置相同"),
    (lambda g: [(0, 0, *g[0][2:]), (100, 100, *g[1][2:]), (200, 200, *g[2][2:])], "一条直线"),
    (lambda g: [(c * 50, r, lo, la) for c, r, lo, la in g], "图像"),
    (lambda g: [(c, r, lo, la, 1) for c, r, lo, la in g], "四个数"),
])
def test_bad_control_points_are_refused(demo_project, gcps, words):
    p = demo_project
    eid = demo_plant_id(p)
    ent = p.read_table("enterprises").loc[eid]
    before = p.counts()
    with pytest.raises(RiskmapError) as err:
        plant.set_plan(p, eid, png_bytes(), gcps(corner_gcps(ent.geometry, 400, 300, p.metric_epsg)))
    assert words in err.value.zh
    assert p.counts() == before


def test_unknown_enterprise_and_point_are_named(demo_project):
    with pytest.raises(RiskmapError, match="999999"):
        plant.plant_data(demo_project, 999999)
    with pytest.raises(RiskmapError, match="888888"):
        plant.grade_point(demo_project, 888888, "lec", {"L": 1, "E": 1, "C": 1}, assessor="x")


def test_plants_lists_enterprises_with_a_plan_an_area_or_a_placed_point(demo_project):
    p = demo_project
    ents = p.read_table("enterprises")
    plant_id = demo_plant_id(p)
    other = ents[(ents["id"] != plant_id) & ents.geometry.notna()].iloc[10]
    oid = int(other["id"])
    n_before = len(p.read_table("risk_points", where=f"enterprise_id = {oid}"))
    assert oid not in set(plant.plants(p)["id"])  # its points are plain points without a category
    plant.add_risk_point(p, oid, name="值班岗", category="post", geom=offset(other.geometry, 5, 5, p.metric_epsg),
                         method="lec", inputs={"L": 1, "E": 6, "C": 7}, assessor="测试")
    row = plant.plants(p).set_index("id").loc[oid]
    assert (bool(row["has_plan"]), row["n_points"], row["n_areas"]) == (False, n_before + 1, 0)
    assert list(plant.plants(p)["id"]) == sorted([plant_id, oid])


def test_delete_plan_and_unknown_fields(demo_project):
    p = demo_project
    eid = demo_plant_id(p)
    rp_id = int(plant.plant_data(p, eid).points.index[0])
    with pytest.raises(RiskmapError, match="level"):
        plant.update_risk_point(p, rp_id, level=1)  # levels change by grading only
    assert plant.delete_plan(p, eid) is True
    assert plant.plant_data(p, eid).plan is None and p.counts()["plant_plans"] == 0
    assert plant.delete_plan(p, eid) is False
    row = plant.plants(p).set_index("id").loc[eid]
    assert not row["has_plan"] and row["n_areas"] >= 5  # still a plant: its areas stay
