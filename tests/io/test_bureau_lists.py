"""Enterprise lists as county bureaus keep them: a title over the header, merged town cells, free-text
industries, rows without coordinates or levels, DMS text, a 合计 and a 备注 row — imported with no mapping
and no row lost; a newer list updates the project instead of duplicating it."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely

from riskmap.errors import RiskmapError
from riskmap.io.importer import commit_import, plan_import
from riskmap.io.matching import match_enterprises, with_check_char
from riskmap.model import Zone
from riskmap.store import Project

CODES = [with_check_char(f"9137{k:013d}") for k in range(1, 9)]
TOWNS = {  # quadrants of the county box 116.2–116.7 E, 35.7–36.1 N
    "城关镇": (116.2, 35.7, 116.45, 35.9), "城南镇": (116.45, 35.7, 116.7, 35.9),
    "玉皇庙镇": (116.2, 35.9, 116.45, 36.1), "许商街道": (116.45, 35.9, 116.7, 36.1),
}
HEADER = ["序号", "企业名称", "统一社会信用代码", "所属乡镇", "行业类别", "企业地址", "经度", "纬度", "风险等级", "联系电话"]


@pytest.fixture
def county(tmp_path):
    """A new (non-demo) project: a county and four towns, no enterprises."""
    path = tmp_path / "某县.gpkg"

    def build(project):
        with project.session() as s:
            c = Zone(name="某县", kind="county", geom=shapely.MultiPolygon([shapely.box(116.2, 35.7, 116.7, 36.1)]))
            s.add(c)
            s.flush()
            for name, box in TOWNS.items():
                s.add(Zone(name=name, kind="town", parent_id=c.id, geom=shapely.MultiPolygon([shapely.box(*box)])))

    Project.create(path, name="某县", place="371499", metric_epsg=4548, build=build).close()
    return path


def _workbook(path, rows, title="某县2024年工贸企业安全风险分级名单", merges=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append([title] + [None] * (len(HEADER) - 1))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(["填报单位：某县应急管理局", None, None, None, None, None, None, "填报日期：2024年6月30日"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    wb.save(path)
    return path


# the list as a bureau keeps it (sheet rows 4–17 are enterprises; 18 合计, 19 备注)
BUREAU = [
    [1, "甲机械有限公司", CODES[0], "城关镇", "工贸（机械）", "城关镇新华路1号", 116.30, 35.75, "重大", "0531-1"],
    [2, "乙冶金有限公司", CODES[1].lower()[:9] + " " + CODES[1].lower()[9:], None, "工贸(冶金)", "新华路2号",
     "116°18′00″", "35°45'36\"N", "较大", None],
    [3, "丙建材厂", CODES[2], None, "建材", "新华路3号", None, None, None, None],
    [4, "丁纺织有限公司", "12345", None, "纺织行业", "玉皇庙工业园3号", None, None, "黄", None],
    [5, "戊商贸公司", None, None, "商贸", "许商街道与城关镇交界处", "", " ", "橙色", None],
    [6, "己食品有限公司", None, None, "食品", "城关镇城南镇交界", "abc", "35.8", "重大风险", None],
    [7, "庚烟草站", None, None, "烟草", None, "116.35度", "35.80度", "蓝", None],
    [8, "辛化工有限公司", CODES[3], "玉皇庙镇", "化工", None, "116°25′30″", "35°54'12.3\"N", "红", None],
    [9, "壬加油站", CODES[4], "城南镇", "加油加气站", None, "东经116度36分00秒", "北纬35度48分00秒", "一般", None],
    [10, "癸液化气站", None, "城南镇", "液化气站", None, None, None, "橙", None],
    [11, "子烟花爆竹店", None, "许商街道", "烟花爆竹零售点", None, 116.6, 36.0, "低", None],
    [12, "丑建筑公司", None, "许商", "建筑", None, None, None, None, None],
    [13, "寅奶茶店", None, "城关镇", "奶茶", None, None, None, "未评估", None],
    [14, "卯轻工有限公司", None, "城关镇", "轻工", None, 116.25, 35.72, "一般", None],
    ["合计", None, "共14家", None, None, None, None, None, None, None],
    ["备注：坐标为 CGCS2000 经纬度；风险等级空白的企业尚未评估。"] + [None] * 9,
]
# 甲–丙 share one merged town cell (D4:D6, 城关镇); the 合计 label spans A:B; the note spans the row
MERGES = ("D4:D6", "A18:B18", "A19:J19")
INDUSTRY = {"甲机械有限公司": "machinery", "乙冶金有限公司": "metallurgy", "丙建材厂": "building_materials",
            "丁纺织有限公司": "textile", "戊商贸公司": "commerce", "己食品有限公司": "light_industry",
            "庚烟草站": "tobacco", "辛化工有限公司": "hazchem_production", "壬加油站": "gas_station",
            "癸液化气站": "hazchem_trade", "子烟花爆竹店": "fireworks_retail", "丑建筑公司": "construction",
            "寅奶茶店": "other", "卯轻工有限公司": "light_industry"}
LEVEL = {"甲机械有限公司": 1, "乙冶金有限公司": 2, "丙建材厂": None, "丁纺织有限公司": 3, "戊商贸公司": 2,
         "己食品有限公司": 1, "庚烟草站": 4, "辛化工有限公司": 1, "壬加油站": 3, "癸液化气站": 2, "子烟花爆竹店": 4,
         "丑建筑公司": None, "寅奶茶店": None, "卯轻工有限公司": 3}
TOWN = {"甲机械有限公司": "城关镇", "乙冶金有限公司": "城关镇", "丙建材厂": "城关镇",  # merged cell
        "丁纺织有限公司": "玉皇庙镇",  # 玉皇庙 in the address
        "戊商贸公司": "许商街道",  # 许商街道 (4 characters) is longer than 城关镇 (3)
        "己食品有限公司": None,  # 城关镇 and 城南镇 as long: left blank
        "庚烟草站": "城关镇",  # by its point
        "辛化工有限公司": "玉皇庙镇", "壬加油站": "城南镇", "癸液化气站": "城南镇", "子烟花爆竹店": "许商街道",
        "丑建筑公司": "许商街道",  # 许商 is the short form
        "寅奶茶店": "城关镇", "卯轻工有限公司": "城关镇"}
POINT = {"甲机械有限公司": (116.30, 35.75), "乙冶金有限公司": (116.3, 35.76), "庚烟草站": (116.35, 35.80),
         "辛化工有限公司": (116.425, 35 + 54 / 60 + 12.3 / 3600), "壬加油站": (116.6, 35.8),
         "子烟花爆竹店": (116.6, 36.0), "卯轻工有限公司": (116.25, 35.72)}


def _read(path):
    """The enterprises as GDAL reads them back from the project file."""
    df = pyogrio.read_dataframe(path, layer="enterprises")
    return df.set_index("name")


def test_bureau_list_without_mapping_loses_no_row(county, tmp_path, cli):
    xlsx = _workbook(tmp_path / "名单.xlsx", BUREAU, merges=MERGES)
    code, out, err = cli("import", county, xlsx, "--layer", "enterprises")
    assert code == 0, out + err
    assert "表头在第3行" in out
    assert "共 14 行：可导入 14，有错误 0" in out  # 16 rows under the header, 合计 and 备注 left out
    assert "合计行，已跳过" in out and "备注行（非企业），已跳过" in out
    df = _read(county)
    assert len(df) == 14 and sorted(df.index) == sorted(INDUSTRY)
    # industries: each one checked
    assert df["industry"].to_dict() == INDUSTRY
    assert "第16行 industry（行业类别）" in out and "无法识别的行业，记为“其他”" in out  # 奶茶, a warning
    assert "行业“工贸（机械）”按“机械”读取（1 行）" in out
    # levels: blank and 未评估 stay NULL (未评估), never 4
    got = {n: (None if v != v else int(v)) for n, v in df["level"].items()}
    assert got == LEVEL
    assert "3 行没有风险等级，记为未评估" in out
    # points: numbers, DMS text, 度 and 东经…度分秒; the others unlocated, with a warning for "abc"
    located = {n: (g.x, g.y) for n, g in df.geometry.items() if g is not None}
    assert set(located) == set(POINT)
    for n, (x, y) in POINT.items():
        assert located[n] == pytest.approx((x, y), abs=1e-9), n
    assert "7 行没有可用的坐标，作为未定位企业导入" in out
    assert "第9行 经度" in out and "坐标无法识别" in out
    # towns: column (merged cells, short form), point, address (longest wins; a tie left blank)
    towns = {n: (None if t is None or t != t else t) for n, t in df["town"].items()}
    assert towns == TOWN
    assert "地址中有多个乡镇名（城关镇、城南镇），乡镇留空" in out
    with Project.open(county, readonly=True) as p:
        zones = p.read_table("zones", columns=["id", "name"])
        zid = dict(zip(zones["name"], zones["id"]))
        ents = p.read_table("enterprises", columns=["name", "zone_id", "credit_code", "level_assessment_id"])
        n_assess = len(p.read_table("assessments", columns=["id"]))
    zone_of = {n: (None if z != z else int(z)) for n, z in zip(ents["name"], ents["zone_id"])}
    assert zone_of == {n: (zid[t] if t else None) for n, t in TOWN.items()}
    # credit codes upper case without spaces; a malformed one kept, with a warning
    codes = dict(zip(ents["name"], ents["credit_code"]))
    assert codes["乙冶金有限公司"] == CODES[1] and codes["丁纺织有限公司"] == "12345"
    assert "第7行 credit_code（统一社会信用代码）" in out and "不是有效的18位代码" in out
    # one Assessment per level given (11), none for the 3 未评估
    assert n_assess == 11 and ents["level_assessment_id"].notna().sum() == 11


def test_newer_list_updates_instead_of_duplicating(county, tmp_path, cli, unchanged):
    first = _workbook(tmp_path / "2024.xlsx", BUREAU, merges=MERGES)
    assert cli("import", county, first, "--layer", "enterprises")[0] == 0
    before = _read(county)
    with Project.open(county, readonly=True) as p:
        ents = p.read_table("enterprises", columns=["id", "name", "qr_id", "version"]).set_index("name")
        n_hist = len(p.read_table("edit_history", columns=["id"]))
    # the same list again changes nothing, and writes nothing
    with unchanged(county):
        code, out, _ = cli("import", county, first, "--layer", "enterprises")
    assert code == 0 and "新增 0 家，更新 0 家，无变化 14 家，新名单中没有 0 家" in out
    # the 2025 list: 甲 by its credit code under a new name and a new level; 丙 located; 壬 gone;
    # 戊 with a new phone; one new enterprise; the rest as before (without the 合计 and 备注 rows)
    rows = [list(r) for r in BUREAU[:14]]
    rows[0][1], rows[0][8] = "甲机械制造有限公司", "较大"
    rows[2][6], rows[2][7] = 116.21, 35.71
    rows[4][9] = "0531-5"
    del rows[8]  # 壬加油站
    rows.append([15, "辰纺织有限公司", CODES[5], "城南镇", "纺织", None, 116.5, 35.75, "一般", None])
    newer = _workbook(tmp_path / "2025.xlsx", rows, title="某县2025年工贸企业安全风险分级名单", merges=("D4:D6",))
    code, out, err = cli("import", county, newer, "--layer", "enterprises")
    assert code == 0, out + err
    assert "新增 1 家，更新 3 家，无变化 10 家，新名单中没有 1 家" in out
    assert f"新名单中没有 not in the list id={int(ents.loc['壬加油站', 'id'])} 壬加油站: 保留 kept" in out
    after = _read(county)
    assert len(after) == 15  # nothing deleted, nothing doubled
    assert "甲机械有限公司" not in after.index and after.loc["甲机械制造有限公司", "level"] == 2
    assert after.loc["丙建材厂"].geometry.equals(shapely.Point(116.21, 35.71))
    assert after.loc["戊商贸公司", "phone"] == "0531-5"
    with Project.open(county, readonly=True) as p:
        now = p.read_table("enterprises", columns=["id", "name", "qr_id", "version", "level_basis"]).set_index("id")
        hist = p.read_table("edit_history", columns=["row_id", "action", "changes"])
        assessed = p.read_table("assessments", columns=["enterprise_id", "level", "method"])
    jia = int(ents.loc["甲机械有限公司", "id"])
    # the same record: id and qr_id kept, version + 1, the new level through an import Assessment
    assert now.loc[jia, "qr_id"] == ents.loc["甲机械有限公司", "qr_id"]
    assert now.loc[jia, "version"] == ents.loc["甲机械有限公司", "version"] + 1
    assert "2025.xlsx 第4行" in now.loc[jia, "level_basis"] and "较大" in now.loc[jia, "level_basis"]
    mine = assessed[assessed["enterprise_id"] == jia]
    assert sorted(mine["level"].tolist()) == [1, 2] and set(mine["method"]) == {"import"}
    for name in ("丙建材厂", "戊商贸公司"):
        i = int(ents.loc[name, "id"])
        assert now.loc[i, "version"] == ents.loc[name, "version"] + 1
    untouched = int(ents.loc["庚烟草站", "id"])
    assert now.loc[untouched, "version"] == ents.loc["庚烟草站", "version"]
    # one history record per changed enterprise, with old and new values, and one for the import
    new_hist = hist.iloc[n_hist:]
    upd = new_hist[new_hist["action"] == "update"]
    assert sorted(upd["row_id"].astype(int)) == sorted(int(ents.loc[n, "id"]) for n in ("甲机械有限公司", "丙建材厂", "戊商贸公司"))
    jia_change = upd[upd["row_id"] == jia]["changes"].iat[0]
    jia_change = json.loads(jia_change) if isinstance(jia_change, str) else jia_change
    assert jia_change["name"] == ["甲机械有限公司", "甲机械制造有限公司"] and jia_change["level"] == [1, 2]
    assert (new_hist["action"] == "import").sum() == 1
    # --delete-missing deletes 壬 (and only 壬), in the same transaction, and says so
    code, out, err = cli("import", county, newer, "--layer", "enterprises", "--delete-missing")
    ren = int(ents.loc["壬加油站", "id"])
    assert code == 0 and f"id={ren} 壬加油站: 已删除 deleted" in out, err
    assert "新增 0 家，更新 0 家，无变化 14 家，新名单中没有 1 家" in out
    final = _read(county)
    assert len(final) == 14 and "壬加油站" not in final.index
    assert len(before) == 14
    with Project.open(county, readonly=True) as p:
        hist = p.read_table("edit_history", columns=["row_id", "action", "changes"])
        left = p.read_table("assessments", columns=["enterprise_id"])
    gone = hist[(hist["action"] == "delete") & (hist["row_id"] == ren)]["changes"].iat[0]
    gone = json.loads(gone) if isinstance(gone, str) else gone
    # its import assessment (一般 = 3) went with it, kept as evidence in the history record
    assert gone["name"] == "壬加油站" and [a["level"] for a in gone["assessments"]] == [3]
    assert ren not in set(left["enterprise_id"])


def test_two_rows_naming_one_enterprise_is_a_row_error(county, tmp_path):
    first = _workbook(tmp_path / "a.xlsx", BUREAU[:3])
    with Project.open(county) as p:
        commit_import(p, plan_import(p, first, "enterprises"))
        # by credit code (lower case, spaces) and by name + town: both name 甲
        rows = [[1, "甲机械（新名）", CODES[0].lower(), "城关镇", "机械", None, None, None, "一般", None],
                [2, "甲机械有限公司", None, "城关", "机械", None, None, None, "较大", None]]
        plan = plan_import(p, _workbook(tmp_path / "b.xlsx", rows), "enterprises")
        errs = [(e.row, e.zh) for e in plan.report.errors]
        jia = int(p.read_table("enterprises", where="name = '甲机械有限公司'", columns=["id"])["id"].iat[0])
        assert errs == [(5, f"与第4行指向项目中同一家企业（id={jia}）")]
        assert plan.update.match.tolist() == [jia, jia]
        with pytest.raises(RiskmapError, match="1 行有错误"):
            commit_import(p, plan)
        # D's locate_from_file uses the same matching
        import pandas as pd
        got = match_enterprises(p, pd.DataFrame({"name": ["乙冶金有限公司", "无此企业", "甲机械有限公司"],
                                                 "credit_code": [None, None, None], "town": [None, None, "城南镇"]}))
        yi = int(p.read_table("enterprises", where="name = '乙冶金有限公司'", columns=["id"])["id"].iat[0])
        assert got.tolist() == [yi, -1, -1]  # 甲 is in 城关镇, not 城南镇


def test_unlocated_rows_of_one_name_and_town_are_duplicates(county, tmp_path):
    rows = [[1, "同名厂", None, "城关镇", "机械", None, None, None, None, None],
            [2, "同名厂", None, "城关", "机械", None, None, None, None, None],  # 城关 = 城关镇: a duplicate
            [3, "同名厂", None, "城南镇", "机械", None, None, None, None, None]]  # another town: another site
    with Project.open(county) as p:
        plan = plan_import(p, _workbook(tmp_path / "同名.xlsx", rows), "enterprises")
    assert [(e.row, e.zh) for e in plan.report.errors] == [(5, "与第4行同名、同乡镇且都没有坐标，疑似重复")]
    assert plan.n_good == 2


def test_partial_mapping_merges_with_detection(county, tmp_path, cli):
    rows = [["单位名称", "备用名称", "行业", "经度", "纬度"],
            ["午机械厂", "别名一", "机械", 116.3, 35.8],
            ["未纺织厂", "别名二", "纺织", 116.6, 35.8]]
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    xlsx = tmp_path / "部分映射.xlsx"
    wb.save(xlsx)
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"fields": {"name": "备用名称"}}, ensure_ascii=False), encoding="utf-8")
    code, out, _ = cli("import", county, xlsx, "--layer", "enterprises", "--mapping", mapping, "--dry-run")
    assert code == 0
    assert "name←备用名称（指定）" in out and "industry←行业（识别）" in out and "x←经度, y←纬度（识别）" in out
    # one constant only: the industry column is left out, everything else is detected
    mapping.write_text(json.dumps({"constants": {"industry": "其他"}}, ensure_ascii=False), encoding="utf-8")
    with Project.open(county) as p:
        plan = plan_import(p, xlsx, "enterprises", mapping=mapping)
        assert plan.mapping.fields["name"] == "单位名称" and "industry" not in plan.mapping.fields
        assert plan.values["industry"].tolist() == ["other", "other"] and plan.n_good == 2
        assert plan.mapping.origin["name"] == "detected" and plan.mapping.origin["industry"] == "given"
        res = commit_import(p, plan)
    assert len(res.ids) == 2
    df = _read(county)
    assert sorted(df.index) == ["午机械厂", "未纺织厂"] and set(df["industry"]) == {"other"}
    # a field mapped to null is not detected either
    with Project.open(county) as p:
        plan = plan_import(p, xlsx, "enterprises", mapping={"fields": {"industry": None}})
    assert "industry" not in plan.mapping.fields and plan.mapping.fields["name"] == "单位名称"
    assert any("找不到行业列" in i.zh for i in plan.report.issues)


def test_bureau_list_in_a_demo_project(tmp_path, cli):
    """The same shape of list for 商河县 (a demo project): its own town names and points inside them."""
    demo = tmp_path / "商河.gpkg"
    assert cli("demo", "--place", "商河县", "--out", demo)[0] == 0
    with Project.open(demo, readonly=True) as p:
        zones = p.read_table("zones", columns=["id", "name", "kind"])
        n0 = len(p.read_table("enterprises", columns=["id"]))
    towns = zones[zones["kind"] == "town"].reset_index(drop=True)
    t0, t1 = str(towns["name"].iat[0]), str(towns["name"].iat[1])
    p0 = shapely.point_on_surface(towns.geometry.iat[0])
    rows = [
        [1, "示例午机械厂", None, t0, "工贸（机械）", None, round(p0.x, 6), round(p0.y, 6), "重大", None],
        [2, "示例未纺织厂", None, None, "纺织", f"{t1}幸福路8号", None, None, None, None],
        [3, "示例申烟花店", None, None, "烟花爆竹零售点", None, "x", "y", "黄", None],
        ["合计", None, None, None, None, None, None, None, None, None],
    ]
    xlsx = _workbook(tmp_path / "商河名单.xlsx", rows, title="商河县2024年工贸企业安全风险分级名单", merges=("A7:B7",))
    code, out, err = cli("import", demo, xlsx, "--layer", "enterprises")
    assert code == 0, out + err
    assert "共 3 行：可导入 3，有错误 0" in out
    df = _read(demo)
    assert len(df) == n0 + 3  # the demo's enterprises are all still there, none matched by these names
    got = df.loc[["示例午机械厂", "示例未纺织厂", "示例申烟花店"]]
    assert got["industry"].tolist() == ["machinery", "textile", "fireworks_retail"]
    assert [None if v != v else int(v) for v in got["level"]] == [1, None, 3]
    assert got["town"].tolist()[:2] == [t0, t1]
    assert got.geometry.iat[0].equals(shapely.Point(round(p0.x, 6), round(p0.y, 6)))
    assert got.geometry.iat[1] is None and got.geometry.iat[2] is None
    assert np.sum([g is None for g in df.geometry]) == 2
