"""CSV files (BOM, GBK) and coordinates: GCJ-02 and BD-09 against published pairs, Gauss–Krüger metres
with and without zone prefix, the Chinese survey convention X = north, and numbers in the wrong unit."""

from __future__ import annotations

import pyproj
import pytest

from riskmap.io.fieldmap import Mapping
from riskmap.io.importer import commit_import, plan_import
from riskmap.store import Project

# Published WGS84 → GCJ-02 pairs (lon, lat), the same vectors as tests/test_crs.py:
# googollee/eviltransform (Shanghai, Shenzhen, Beijing), wandergis/coordtransform (116.404, 39.915),
# hujiulong/gcoord (123, 45).
WGS_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ((123.0, 45.0), (123.00607541, 45.00197815)),
]
METRE_PER_DEG = 111_320.0


def _csv(path, header, rows, encoding="utf-8-sig", sep=","):
    text = "\n".join(sep.join(str(c) for c in r) for r in [header, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_with_bom_and_chinese_headers(project_path, inside_points, tmp_path):
    pts = inside_points(3)
    path = _csv(tmp_path / "应急资源.csv", ["名称", "资源类型", "联系电话", "所属乡镇", "经度", "纬度"],
                [["示例救援一队", "应急救援队伍", "13800000001", "甲镇", *pts[0]],
                 ["示例消防站", "消防救援站", "0943-1234567", "乙镇", *pts[1]],
                 ["示例避难场所", "应急避难场所", "", "丙镇", *pts[2]]])
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "emergency_resources")
        assert plan.mapping.fields["name"] == "名称"  # the BOM is not part of the first header
        assert plan.report.errors == []
        res = commit_import(p, plan)
        got = p.read_table("emergency_resources", where=f"id >= {min(res.ids)}").sort_values("id")
    assert got["name"].tolist() == ["示例救援一队", "示例消防站", "示例避难场所"]
    assert got["kind"].tolist() == ["rescue_team", "fire_station", "shelter"]
    assert got["phone"].tolist()[:2] == ["13800000001", "0943-1234567"]
    assert got["phone"].isna().tolist() == [False, False, True]  # an empty cell is NULL
    assert [(g.x, g.y) for g in got.geometry] == pts


def test_gbk_csv_semicolons(project_path, inside_points, tmp_path):
    (x, y), = inside_points(1)
    path = _csv(tmp_path / "gbk.csv", ["企业名称", "行业类别", "风险级别", "经度", "纬度"],
                [["国标编码化工厂", "危险化学品生产", "较大风险", x, y]], encoding="gbk", sep=";")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "enterprises")
    assert any("GB18030" in i.zh for i in plan.report.issues)
    assert plan.values["name"].tolist() == ["国标编码化工厂"]
    assert plan.values["industry"].tolist() == ["hazchem_production"]
    assert plan.values["level"].tolist() == [2]


def test_gcj02_points_match_published_wgs84(empty_project, tmp_path):
    rows = [[f"火星点{i}", "加油站", g[0], g[1]] for i, (_w, g) in enumerate(WGS_GCJ)]
    path = _csv(tmp_path / "高德.csv", ["名称", "行业", "lng", "lat"], rows)
    with Project.open(empty_project) as p:
        plan = plan_import(p, path, "enterprises", crs="gcj02")
        assert plan.report.errors == []
        commit_import(p, plan)
        got = p.read_table("enterprises").sort_values("id")
    for (w, _g), geom in zip(WGS_GCJ, got.geometry):
        # published pairs carry 8 decimals (~1 mm): within half a metre is the issue's bar, 1e-7° is ~1 cm
        assert abs(geom.x - w[0]) < 1e-7 and abs(geom.y - w[1]) < 1e-7


def test_bd09_point(empty_project, tmp_path):
    # coordtransform: bd09togcj02(116.404, 39.915) = (116.39762729119315, 39.90865673957631)
    path = _csv(tmp_path / "百度.csv", ["名称", "行业", "经度", "纬度"], [["百度点", "加油站", 116.404, 39.915]])
    with Project.open(empty_project) as p:
        plan = plan_import(p, path, "enterprises", crs="bd09")
    from riskmap.crs import gcj02_to_wgs84

    want = gcj02_to_wgs84(116.39762729119315, 39.90865673957631)
    g = plan.geoms[0]
    assert abs(g.x - want[0]) * METRE_PER_DEG < 0.5 and abs(g.y - want[1]) * METRE_PER_DEG < 0.5


def test_gauss_kruger_with_zone_prefix_is_detected(project_path, inside_points, tmp_path):
    pts = inside_points(3)
    fwd = pyproj.Transformer.from_crs(4490, 4523, always_xy=True)  # 3° zone 35 (CM 105E): easting 35xxxxxx
    xy = [fwd.transform(x, y) for x, y in pts]
    assert all(35_000_000 < e < 36_000_000 for e, _n in xy)
    # Chinese survey tables put X = northing first
    path = _csv(tmp_path / "测量.csv", ["名称", "类型", "X坐标", "Y坐标"],
                [[f"测量点{i}", "学校", round(n, 3), round(e, 3)] for i, (e, n) in enumerate(xy)])
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "protected_targets")
    assert plan.crs.key == 4523
    assert plan.report.errors == []
    assert len(plan.report.of("repaired")) == 3  # X/Y exchanged on every row
    for (x, y), g in zip(pts, plan.geoms):
        assert abs(g.x - x) < 1e-7 and abs(g.y - y) < 1e-7


def test_cm_zone_from_project_and_explicit_crs(project_path, inside_points, tmp_path):
    pts = inside_points(2)
    fwd = pyproj.Transformer.from_crs(4490, 4544, always_xy=True)  # CM 105E, no prefix (the project's zone)
    xy = [fwd.transform(x, y) for x, y in pts]
    path = _csv(tmp_path / "cm.csv", ["名称", "类型", "x", "y"],
                [[f"中央经线点{i}", "医院", round(e, 3), round(n, 3)] for i, (e, n) in enumerate(xy)])
    with Project.open(project_path) as p:
        auto = plan_import(p, path, "protected_targets")
        given = plan_import(p, path, "protected_targets", crs="EPSG:4544")
    assert auto.crs.key == 4544 and given.crs.key == 4544
    assert any("自动识别坐标系为 EPSG:4544" in i.zh for i in auto.report.issues)
    for plan in (auto, given):
        for (x, y), g in zip(pts, plan.geoms):
            assert abs(g.x - x) < 1e-7 and abs(g.y - y) < 1e-7


def test_wrong_units_are_row_errors(project_path, inside_points, tmp_path, cli, unchanged):
    (x0, y0), (x1, y1) = inside_points(2)
    e1, n1 = pyproj.Transformer.from_crs(4490, 4544, always_xy=True).transform(x1, y1)
    path = _csv(tmp_path / "单位.csv", ["名称", "类型", "经度", "纬度"],
                [["度数点", "学校", x0, y0], ["米数点", "学校", round(e1, 2), round(n1, 2)]])
    with Project.open(project_path) as p:
        as_degrees = plan_import(p, path, "protected_targets", crs=4490)
        as_metres = plan_import(p, path, "protected_targets", crs=4544)
    [err] = as_degrees.report.errors
    assert err.row == 3 and "数值像投影坐标（米）" in err.zh
    [err] = as_metres.report.errors
    assert err.row == 2 and "数值像经纬度（度）" in err.zh
    with unchanged(project_path):
        code, out, _ = cli("import", project_path, path, "--layer", "protected_targets", "--crs", "4490")
    assert code == 2 and "单位.csv 第3行 经度/纬度" in out


def test_saved_mapping_is_reused(project_path, inside_points, tmp_path, cli):
    (x, y), (x2, y2) = inside_points(2)
    path = _csv(tmp_path / "怪表头.csv", ["单位全名", "门类", "甲", "乙"], [["映射公司", "加油站", x, y]])
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "enterprises")
    assert "name" not in plan.mapping.fields or plan.mapping.fields["name"] != "单位全名"
    m = Mapping(table="enterprises", fields={"name": "单位全名", "industry": "门类"}, x="甲", y="乙")
    mpath = tmp_path / "map.json"
    m.save(mpath)
    code, out, err = cli("import", project_path, path, "--layer", "enterprises", "--mapping", mpath,
                         "--save-mapping", tmp_path / "again.json")
    assert code == 0, out + err
    assert Mapping.load(tmp_path / "again.json").fields == {"name": "单位全名", "industry": "门类"}
    with Project.open(project_path, readonly=True) as p:
        got = p.read_table("enterprises", where="name = '映射公司'")
    assert len(got) == 1 and got["industry"].iat[0] == "gas_station"
    # a mapping naming a column the file does not have is refused before anything is read further
    bad = Mapping(table="enterprises", fields={"name": "没有这列"}, x="甲", y="乙")
    bad.save(tmp_path / "bad.json")
    code, _out, err = cli("import", project_path, path, "--layer", "enterprises", "--mapping", tmp_path / "bad.json")
    assert code == 2 and "没有这列" in err
