"""Import of Excel sheets as bureaus keep them: a title above the header, merged cells, Chinese
headers, levels and numbers written every which way, 度分秒 and swapped coordinates."""

from __future__ import annotations

import json

import openpyxl
import pyogrio
import pytest
import shapely

from riskmap.crs import parse_dms
from riskmap.errors import RiskmapError
from riskmap.io.importer import commit_import, plan_import
from riskmap.store import Project


def _sheet(path, rows, merges=(), title="企业"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(list(r))
    for m in merges:
        ws.merge_cells(m)
    wb.save(path)
    return path


def _by_name(project_path, names):
    df = pyogrio.read_dataframe(project_path, layer="enterprises")  # read back by GDAL
    df = df[df["name"].isin(names)].set_index("name")
    return df.loc[list(names)]


def test_title_row_merged_cells_two_row_header(project_path, county_facts, inside_points, tmp_path):
    towns = county_facts["towns"]["name"].tolist()
    pts = inside_points(5)
    rows = [
        ["会宁县工贸企业安全风险分级管控清单"] + [None] * 7,
        ["填报单位：会宁县应急管理局    填报日期：2024年5月"] + [None] * 7,
        ["序号", "企业名称", "行业类别", "风险等级", "所属乡镇", "从业人数", "坐标", None],
        [None, None, None, None, None, None, "经度", "纬度"],
        [1, "测试面粉厂", "粉尘涉爆", "重大", towns[0], 120, *pts[0]],
        [2, "测试化工经营部", "危化品经营", "橙色", None, 35.0, *pts[1]],
        [3, "测试加油站", "加油站", 3, None, "80人", *pts[2]],
        [4, "测试铸造厂", "冶金", "Ⅳ级", towns[1], 12, *pts[3]],
        [5, "测试食品公司", "有限空间作业", "一级", None, 7, *pts[4]],
    ]
    merges = ["A1:H1", "A2:H2", "G3:H3", "E5:E7", "E8:E9"]
    xlsx = _sheet(tmp_path / "清单.xlsx", rows, merges)
    with Project.open(project_path) as p:
        before = p.counts()
        plan = plan_import(p, xlsx, "enterprises")
        assert plan.source.header_row == 3
        assert plan.mapping.x == "经度" and plan.mapping.y == "纬度"
        assert plan.report.errors == []
        assert plan.n_good == 5
        result = commit_import(p, plan)
        after = p.counts()
        assessments = p.read_table("assessments", where="method = 'import'")
        history = p.read_table("edit_history", where="action = 'import'")
    names = [r[1] for r in rows[4:]]
    got = _by_name(project_path, names)
    assert got["level"].tolist() == [1, 2, 3, 4, 1]
    assert got["industry"].tolist() == ["dust_explosion", "hazchem_trade", "gas_station", "metallurgy", "confined_space"]
    # merged town cells fill every row they span
    assert got["town"].tolist() == [towns[0]] * 3 + [towns[1]] * 2
    assert got["employees"].tolist() == [120, 35, 80, 12, 7]
    for (x, y), g in zip(pts, got.geometry):
        assert (g.x, g.y) == pytest.approx((x, y), abs=1e-9)
    assert after["enterprises"] == before["enterprises"] + 5
    assert after["assessments"] == before["assessments"] + 5
    # each imported level is an Assessment whose inputs are the source row
    by_id = assessments.set_index("id")
    for name, row_no, raw in zip(names, range(5, 10), ["重大", "橙色", 3, "Ⅳ级", "一级"]):
        ent_id, aid = _ids_of(project_path, name)
        rec = by_id.loc[aid]
        assert rec["enterprise_id"] == ent_id
        inputs = json.loads(rec["inputs"]) if isinstance(rec["inputs"], str) else rec["inputs"]
        assert inputs["row"] == row_no
        assert inputs["cells"]["风险等级"] == raw
        assert inputs["cells"]["企业名称"] == name
        assert rec["level"] == got.loc[name, "level"]
    assert len(history) == 1
    changes = json.loads(history["changes"].iat[0])
    assert changes["rows"] == 5 and changes["file"] == "清单.xlsx"
    assert changes["ids"] == [[min(result.ids), max(result.ids)]]


def _ids_of(project_path, name) -> tuple[int, int]:
    """(enterprise id, id of its level's assessment)."""
    with Project.open(project_path, readonly=True) as p:
        df = p.read_table("enterprises", where=f"name = '{name}'", columns=["id", "level_assessment_id"])
    return int(df["id"].iat[0]), int(df["level_assessment_id"].iat[0])


def test_text_in_number_column_is_reported_and_nothing_written(project_path, inside_points, tmp_path, cli,
                                                                unchanged):
    pts = inside_points(4)
    rows = [["企业名称", "行业", "从业人数", "经度", "纬度"],
            ["数一公司", "加油站", 10, *pts[0]],
            ["数二公司", "加油站", "约五十人", *pts[1]],
            ["数三公司", "加油站", "12人", *pts[2]],
            ["数四公司", "加油站", -3, *pts[3]]]
    xlsx = _sheet(tmp_path / "人数.xlsx", rows)
    with unchanged(project_path):
        code, out, err = cli("import", project_path, xlsx, "--layer", "enterprises")
    assert code == 2
    assert "人数.xlsx 第3行 employees（从业人数）=\"约五十人\"" in out
    assert "人数.xlsx 第5行 employees（从业人数）=\"-3\"" in out
    assert "第4行" not in out  # "12人" reads as 12
    assert "2 行有错误" in err
    with unchanged(project_path):
        code, out, _ = cli("import", project_path, xlsx, "--layer", "enterprises", "--dry-run")
    assert code == 2
    code, out, _ = cli("import", project_path, xlsx, "--layer", "enterprises", "--skip-bad-rows")
    assert code == 0, out
    got = pyogrio.read_dataframe(project_path, layer="enterprises")
    got = got[got["name"].str.startswith("数")].set_index("name")
    assert sorted(got.index) == ["数一公司", "数三公司"]
    assert got.loc["数三公司", "employees"] == 12


def test_dms_swapped_and_outside(project_path, county_facts, inside_points, tmp_path, cli, unchanged):
    (x0, y0), (x1, y1), (x2, y2) = inside_points(3)

    def dms(v, hemi):
        d = int(v)
        m = int((v - d) * 60)
        s = round(((v - d) * 60 - m) * 60, 2)
        return f"{hemi}{d}°{m}′{s}″"

    rows = [["单位名称", "行业类别", "东经", "北纬"],
            ["度分秒公司", "加油站", dms(x0, ""), dms(y0, "")],
            ["汉字度分秒公司", "加油站", f"东经{int(x1)}度{int((x1 % 1) * 60)}分", f"北纬{int(y1)}度{int((y1 % 1) * 60)}分"],
            ["颠倒公司", "加油站", y2, x2],
            ["县外公司", "加油站", 116.404, 39.915]]
    xlsx = _sheet(tmp_path / "坐标.xlsx", rows)
    with Project.open(project_path) as p:
        plan = plan_import(p, xlsx, "enterprises")
    assert plan.report.errors == []
    # a point outside the county is taken for a wrong one: the enterprise is kept, unlocated, the value reported
    outside = [w for w in plan.report.of("warning") if w.row == 5]
    assert [w.field for w in outside] == ["坐标"] and "不在项目范围（会宁县）内，作为未定位导入" in outside[0].zh
    assert "116.404" in str(outside[0].value)
    assert plan.geoms[3] is None and plan.n_good == 4
    repaired = plan.report.of("repaired")
    assert [(r.row, "颠倒" in r.zh) for r in repaired] == [(4, True)]
    g = plan.geoms
    # 度分秒 by hand: d + m/60 + s/3600
    assert (g[0].x, g[0].y) == pytest.approx((parse_dms(dms(x0, "")), parse_dms(dms(y0, ""))), abs=1e-12)
    assert g[0].x == pytest.approx(x0, abs=1e-5)
    assert (g[1].x, g[1].y) == pytest.approx((int(x1) + int((x1 % 1) * 60) / 60, int(y1) + int((y1 % 1) * 60) / 60))
    assert (g[2].x, g[2].y) == (x2, y2)
    # without repair the swap is an error; the file stays as it was
    with unchanged(project_path):
        code, out, _ = cli("import", project_path, xlsx, "--layer", "enterprises", "--no-repair")
    assert code == 2
    assert "坐标.xlsx 第4行 东经/北纬" in out and "经纬度（X/Y）颠倒" in out
    assert "坐标.xlsx 第5行 坐标" in out


def test_duplicates_in_file_and_against_project(project_path, county_facts, tmp_path):
    ents = county_facts["enterprises"]
    with Project.open(project_path, readonly=True) as p:
        existing = p.read_table("enterprises", where=f"id = {int(ents['id'].iat[0])}")
    name, g = existing["name"].iat[0], existing.geometry.iat[0]
    # ~0.0001° of latitude is 11 m; 0.01° is 1.1 km
    rows = [["企业名称", "行业", "经度", "纬度"],
            [name, "加油站", g.x, g.y + 0.0001],          # the project has it (same name, same town): an update
            [name, "加油站", g.x, g.y + 0.01],            # the same name again names the same enterprise: error
            ["重名甲", "加油站", g.x + 0.01, g.y],
            ["重名甲", "加油站", g.x + 0.01, g.y + 0.0003],  # 33 m from row 4: duplicate of row 4
            ["重名甲", "加油站", g.x + 0.01, g.y + 0.002]]   # 220 m: fine
    xlsx = _sheet(tmp_path / "重复.xlsx", rows)
    with Project.open(project_path) as p:
        plan = plan_import(p, xlsx, "enterprises")
    errs = [(e.row, e.zh) for e in plan.report.sorted() if e.severity == "error"]
    assert len(errs) == 2
    assert errs[0][0] == 3 and f"与第2行指向项目中同一家企业（id={int(ents['id'].iat[0])}）" in errs[0][1]
    assert errs[1][0] == 5 and "与第4行同名" in errs[1][1]
    assert plan.n_good == 3
    assert plan.update.match[0] == int(ents["id"].iat[0]) and list(plan.update.changes) == [0]
    assert set(plan.update.changes[0]) >= {"geom"}


def test_sheet_choice_and_errors(project_path, inside_points, tmp_path, cli):
    (x, y), = inside_points(1)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填表说明"
    ws.append(["本表由各乡镇填报，坐标请用 CGCS2000。"])
    ws2 = wb.create_sheet("防护目标")
    ws2.append(["名称", "类型", "人数", "经度", "纬度"])
    ws2.append(["会宁县第一中学", "学校", 1800, x, y])
    path = tmp_path / "两表.xlsx"
    wb.save(path)
    with Project.open(project_path) as p:
        plan = plan_import(p, path, "protected_targets")
        assert plan.source.layer == "防护目标"
        assert plan.values["kind"].tolist() == ["school"]
        assert plan.values["people"].tolist() == [1800]
        with pytest.raises(RiskmapError, match="没有名为“企业”的工作表"):
            plan_import(p, path, "protected_targets", sheet="企业")
    code, _out, err = cli("import", project_path, path, "--layer", "nowhere")
    assert code == 2 and "未知图层或数据表" in err


def test_missing_required_column(project_path, inside_points, tmp_path, unchanged):
    (x, y), = inside_points(1)
    xlsx = _sheet(tmp_path / "缺列.xlsx", [["行业", "经度", "纬度"], ["加油站", x, y]])
    with Project.open(project_path) as p:
        plan = plan_import(p, xlsx, "enterprises")
        errs = plan.report.file_errors()
        assert len(errs) == 1 and errs[0].field == "name" and "--mapping" in errs[0].zh
        with unchanged(project_path), pytest.raises(RiskmapError, match="没有可导入的行"):
            commit_import(p, plan, skip_bad_rows=True)
    # a list without an industry column is not refused: every row is 其他, with a warning naming --mapping
    xlsx = _sheet(tmp_path / "缺行业.xlsx", [["企业名称", "经度", "纬度"], ["缺行业公司", x, y]])
    with Project.open(project_path) as p:
        plan = plan_import(p, xlsx, "enterprises")
    assert plan.n_good == 1 and plan.values["industry"].tolist() == ["other"]
    warn = [i for i in plan.report.issues if i.severity == "warning" and "找不到行业列" in i.zh]
    assert len(warn) == 1 and "--mapping" in warn[0].zh


def test_geometry_unchanged_by_roundtrip_through_gdal(project_path, inside_points, tmp_path):
    """The points written are GeoPackage geometry GDAL reads in EPSG:4490."""
    pts = inside_points(2)
    xlsx = _sheet(tmp_path / "gdal.xlsx", [["企业名称", "行业", "经度", "纬度"],
                                          ["读回甲", "加油站", *pts[0]], ["读回乙", "加油站", *pts[1]]])
    with Project.open(project_path) as p:
        commit_import(p, plan_import(p, xlsx, "enterprises"))
    info = pyogrio.read_info(project_path, layer="enterprises")
    assert info["crs"] == "EPSG:4490"
    got = _by_name(project_path, ["读回甲", "读回乙"])
    assert shapely.equals_exact(got.geometry.to_numpy(), shapely.points(pts), tolerance=1e-12).all()
