"""XLSX workbook of the "一张图": enterprises by level, statistics, zones, encroachments, hidden dangers,
indicators — each sheet formatted for printing (title row, bold header, widths, frozen header, print
titles, landscape, fit to page width, page numbers; 示例数据 in title and page header of demo projects).

>>> # export_xlsx(collect_layers(project), "一张图.xlsx")
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import shapely

from riskmap.atomic import atomic_path
from riskmap.export.base import ExportSource, Steps, export_steps, is_approximate, plain_value, text_value
from riskmap.export.stats import NONE_COLUMN, TOTAL, add_unlocated, level_numbers, level_table
from riskmap.export.sheet import Column, StreamingBook, fill_printable_sheet, streaming_workbook
from riskmap.levels import load_levels
from riskmap.marks import DEMO_MARK, DEMO_NOTE

STATUS_ZH = {"registered": "登记", "rectifying": "整改中", "supervised": "挂牌督办", "rectified": "整改完成",
             "closed": "销号"}
GRADE_ZH = {"major": "重大隐患", "general": "一般隐患"}
TARGET_TYPE_ZH = {"relative_decrease": "相对下降", "absolute_cap": "绝对上限", "coverage_rate": "覆盖率",
                  "qualitative": "定性"}
LIST_KINDS = (("basic", "基础信息"), ("responsibility", "防控责任"), ("monitoring", "监测监控"),
              ("measures", "防范措施"), ("emergency", "应急处置"))


Col = Column


def _text_colour_on(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "000000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "FFFFFF"


class _Book:
    """A workbook whose sheets share the print formatting."""

    def __init__(self, src: ExportSource, wb: StreamingBook):
        self.src = src
        self.wb = wb  # constant memory: rows stream out, linear time, little memory
        self.levels = load_levels().levels

    def sheet(self, name: str, title: str, cols: list[Col], rows: list[dict], *, subtitle: str = "",
              notes: list[str] | None = None, level_key: str | None = None, paper: str = "A4"):
        ws = self.wb.sheet(name[:31])
        level_col = next((i for i, c in enumerate(cols) if c.key == level_key), None)
        styles = {} if level_col is None else {
            n: {level_col: self.wb.body(cols[level_col], pattern=1, bg_color=lv.colour.upper(),
                                        font_color="#" + _text_colour_on(lv.colour), bold=True)}
            for n, lv in self.levels.items()}

        def style_row(r: dict) -> dict | None:
            return styles.get(r.get("_level"))

        fill_printable_sheet(self.wb, ws, title=title, subtitle=subtitle or f"{self.src.name}    导出日期：{self.src.created.isoformat()}",
                             columns=cols, rows=rows, value=lambda r, c: _cell(r.get(c.key)), notes=notes or (),
                             demo=self.src.is_demo, paper=paper, footer_left=self.src.name, style_row=style_row)
        return ws


def _cell(v):
    t = type(v)
    if t is str or t is int:
        return v
    if t is float:
        return None if v != v else v
    v = plain_value(v)
    if isinstance(v, (dict, list)):
        return text_value(str(v))
    return v


def _level_name(n, none: str = "未定级") -> str:
    """The level's name; ``none`` for no level (enterprises: 未评估, zones: 未定级)."""
    lv = load_levels().levels
    return lv[n].name_zh if n in lv else none


def export_xlsx(src: ExportSource, out: str | os.PathLike, *, progress=None, cancel=None) -> None:
    """Write the workbook. Sheets without data are still written, with a line saying so."""
    steps = export_steps(progress, cancel, 8)
    with atomic_path(out) as tmp, streaming_workbook(tmp) as wb:
        book = _Book(src, wb)
        _readme_sheet(book)
        steps.step("说明")
        _enterprise_sheet(book)
        steps.step("企业")
        if src.unlocated is not None and len(src.unlocated):
            _unlocated_sheet(book)
        steps.step("未定位")
        _stats_sheet(book)
        steps.step("统计")
        _zone_sheet(book)
        steps.step("分区")
        _encroachment_sheet(book, steps)
        steps.step("侵占")
        _danger_sheet(book)
        steps.step("隐患")
        _indicator_sheet(book)
        props = {"title": src.name + (f"（{DEMO_MARK}）" if src.is_demo and DEMO_MARK not in src.name else ""),
                 "author": "riskmap"}
        if src.is_demo:
            props["comments"] = DEMO_NOTE
        wb.wb.set_properties(props)
    steps.step("完成")


def _readme_sheet(book: _Book) -> None:
    src = book.src
    rows = [{"k": "项目", "v": src.name}, {"k": "导出日期", "v": src.created.isoformat()},
            {"k": "坐标系", "v": "CGCS2000 (EPSG:4490)"},
            {"k": "风险等级", "v": "；".join(f"{lv.name_zh}（{lv.colour_zh}，{lv.colour}）" for lv in book.levels.values())},
            {"k": "工作表", "v": "企业、" + ("未定位、" if src.unlocated is not None and len(src.unlocated) else "")
             + "统计、分区、侵占、隐患、指标"}]
    if src.is_demo:
        rows.insert(0, {"k": DEMO_MARK, "v": DEMO_NOTE})
    rows += [{"k": "示意", "v": note} for note in src.approximate_notes]
    book.sheet("说明", "安全风险“一张图”数据表", [Col("k", "项目", 16), Col("v", "内容", 90)], rows)


def _enterprise_sheet(book: _Book) -> None:
    x = book.src.get("enterprises")
    cols = [Col("n", "序号", 6), Col("name", "企业名称", 30), Col("level_name", "风险等级", 10),
            Col("industry_name", "行业", 14), Col("town", "镇街", 12), Col("address", "地址", 28),
            Col("employees", "从业人数", 9, "0"), Col("department", "监管部门", 14),
            Col("major_hazard", "重大危险源", 10), Col("level_basis", "定级依据", 36),
            Col("lon", "经度", 12, "0.000000"), Col("lat", "纬度", 12, "0.000000")]
    rows = []
    if x is not None and len(x.gdf):
        df = x.gdf.copy()
        lv = level_numbers(df["level"]) if "level" in df else np.zeros(len(df), dtype=int)
        df["_level"] = lv
        df["_order"] = np.where(lv == 0, 9, lv)
        xy = shapely.get_coordinates(df.geometry.values)
        df["lon"], df["lat"] = xy[:, 0], xy[:, 1]
        df = df.sort_values(["_order", "town", "name"], kind="stable")
        for i, r in enumerate(df.to_dict("records"), start=1):
            r["n"] = i
            r["level_name"] = _level_name(r["_level"], NONE_COLUMN)
            r["major_hazard"] = "是" if r.get("major_hazard") is True else ("否" if r.get("major_hazard") is False else None)
            rows.append(r)
    counts = pd.Series([r["_level"] for r in rows]).value_counts() if rows else pd.Series(dtype=int)
    summary = "，".join(f"{_level_name(n)} {int(counts.get(n, 0))} 家" for n in (1, 2, 3, 4))
    if rows and int(counts.get(0, 0)):
        summary += f"，{NONE_COLUMN} {int(counts.get(0, 0))} 家"
    unl = book.src.unlocated
    n_unl = 0 if unl is None else len(unl)
    notes = [f"另有未定位企业 {n_unl} 家（无坐标），见“未定位”工作表。"] if n_unl else []
    book.sheet("企业", "企业安全风险等级清单", cols, rows, level_key="level_name", notes=notes,
               subtitle=f"{book.src.name}    共 {len(rows)} 家：{summary}    导出日期：{book.src.created.isoformat()}")


def _unlocated_sheet(book: _Book) -> None:
    """The enterprises without a location (未定位): on no map, counted in their town's statistics."""
    from riskmap.industries import industry_name, load_industries

    inds = load_industries()
    cols = [Col("n", "序号", 6), Col("id", "编号", 8, "0"), Col("name", "企业名称", 30),
            Col("credit_code", "统一社会信用代码", 22), Col("level_name", "风险等级", 10),
            Col("industry_name", "行业", 14), Col("town", "镇街", 12), Col("address", "地址", 32)]
    rows = []
    for i, r in enumerate(book.src.unlocated.to_dict("records"), start=1):
        n = int(level_numbers([r.get("level")])[0])
        ind = r.get("industry")
        rows.append({**r, "n": i, "_level": n, "level_name": _level_name(n, NONE_COLUMN),
                     "industry_name": industry_name(ind) if ind in inds else ind})
    book.sheet("未定位", "未定位企业清单（无坐标）", cols, rows, level_key="level_name",
               notes=["这些企业没有坐标，未在地图上标绘；按所属镇街计入统计和镇街分区定级。"
                      "可在桌面程序中用“定位”工具点选位置，或用 riskmap locate 导入坐标文件。"])


def _stats_sheet(book: _Book) -> None:
    ents, towns = book.src.get("enterprises"), book.src.get("towns")
    names = [lv.name_zh for lv in book.levels.values()]
    cols = [Col("unit", "镇街", 16)] + [Col(nm, nm, 10, "0") for nm in names] + \
        [Col(NONE_COLUMN, NONE_COLUMN, 10, "0"), Col(TOTAL, TOTAL, 10, "0")]
    rows = []
    if ents is not None and towns is not None and len(towns.gdf):
        table = add_unlocated(level_table(ents.gdf, towns.gdf), book.src.unlocated)
        rows = [{"unit": unit, **{k: int(v) for k, v in r.items()}} for unit, r in table.iterrows()]
    notes = ["按企业位置落入的镇街统计（空间叠加）；未定位企业按所属镇街计入；合计行含全部企业。"]
    if towns is not None and is_approximate(towns.layer):
        notes += [n for n in book.src.approximate_notes if n.startswith(towns.layer.name_zh)]
    book.sheet("统计", "各镇街企业风险等级统计", cols, rows, notes=notes)


def _zone_sheet(book: _Book) -> None:
    cols = [Col("n", "序号", 6), Col("kind_zh", "类型", 10), Col("name", "名称", 24), Col("level_name", "风险等级", 10),
            Col("level_rule", "定级规则", 16), Col("level_reason", "定级理由", 40), Col("area_km2", "面积(km²)", 11, "0.00"),
            Col("population", "人口", 10, "0")]
    rows = []
    for layer_id, kind_zh in (("towns", "镇街"), ("parks", "园区"), ("villages", "村/社区"), ("grids", "网格")):
        x = book.src.get(layer_id)
        if x is None:
            continue
        if is_approximate(x.layer):
            kind_zh = f"{kind_zh}（示意）"
        for r in x.gdf.to_dict("records"):
            n = int(level_numbers([r.get("level")])[0])
            kz = {"chemical_park": "化工园区", "industrial_park": "工业园区"}.get(r.get("kind"), kind_zh)
            rows.append({**r, "kind_zh": kz, "level_name": _level_name(n), "_level": n})
    for i, r in enumerate(rows, start=1):
        r["n"] = i
    book.sheet("分区", "分区风险等级表", cols, rows, level_key="level_name")


def _encroachment_sheet(book: _Book, steps: Steps) -> None:
    project = book.src.project
    rows, cols = [], [Col("n", "序号", 6), Col("text", "说明", 100)]
    note = []
    if project is None:
        note = ["（未连接项目，未做侵占检查）"]
    else:
        try:
            from riskmap.analysis.encroachment import check_encroachments
            from riskmap.analysis.check import encroachment_rows
            from riskmap.export.check_xlsx import ENCROACHMENT_COLUMNS
        except ImportError:  # the analysis package is optional for this workbook
            note = ["（本版本未提供侵占检查）"]
        else:
            df = check_encroachments(project, cancel=steps.cancel)
            rows = encroachment_rows(df)
            cols = [Col(c.key, c.header, c.width, c.number_format) for c in ENCROACHMENT_COLUMNS]
            note = ["风险基准依据 GB 36894-2018；线内深度为防护目标到控制线或等值线边界的地面距离（米）。"]
            if not rows:
                note.insert(0, "未发现防护目标侵占安全控制线或个人风险等值线。")
    book.sheet("侵占", "防护目标侵占安全控制线及个人风险等值线检查表", cols, rows, notes=note)


def _danger_sheet(book: _Book) -> None:
    cols = [Col("n", "序号", 6), Col("title", "隐患", 30), Col("grade_zh", "等级", 10), Col("status_zh", "状态", 10),
            Col("enterprise", "企业", 26), Col("found_date", "发现日期", 11), Col("deadline", "整改期限", 11),
            Col("overdue", "逾期", 6), Col("responsible_person", "责任人", 10), Col("measures", "措施", 20),
            Col("funds_wan", "资金(万元)", 10, "0.0"), Col("plan", "预案", 20),
            Col("supervising_department", "督办部门", 12), Col("closed_date", "销号日期", 11)]
    project = book.src.project
    rows = []
    if project is not None:
        df = project.read_table("hidden_dangers")
        ents = project.read_table("enterprises", columns=["id", "name"])
        names = dict(zip(ents["id"], ents["name"]))
        today = book.src.created
        df = df.assign(_major=(df["grade"] != "major").astype(int)).sort_values(["_major", "deadline"], kind="stable")
        for i, r in enumerate(df.to_dict("records"), start=1):
            deadline = plain_value(r.get("deadline"))
            open_ = r.get("status") not in ("rectified", "closed")
            overdue = bool(deadline and open_ and str(deadline) < today.isoformat())
            rows.append({**r, "n": i, "grade_zh": GRADE_ZH.get(r.get("grade"), r.get("grade")),
                         "status_zh": STATUS_ZH.get(r.get("status"), r.get("status")),
                         "enterprise": names.get(r.get("enterprise_id")), "overdue": "是" if overdue else "",
                         "_level": 1 if r.get("grade") == "major" else None})
    book.sheet("隐患", "隐患排查治理台账", cols, rows, level_key="grade_zh",
               notes=["五到位：责任、措施、资金、时限、预案。逾期：未整改完成且已过整改期限。"])


def _indicator_sheet(book: _Book) -> None:
    cols = [Col("n", "序号", 6), Col("name", "指标", 30), Col("unit", "单位", 10), Col("type_zh", "目标类型", 10),
            Col("binding", "属性", 8), Col("base", "基期", 14), Col("target", "目标", 20), Col("actuals", "年度实际值", 36),
            Col("source", "来源", 24)]
    project = book.src.project
    rows = []
    if project is not None:
        ind = project.read_table("indicators")
        act = project.read_table("indicator_actuals")
        for i, r in enumerate(ind.to_dict("records"), start=1):
            a = act[act["indicator_id"] == r["id"]].sort_values("year") if len(act) else act
            actuals = "；".join(f"{int(y)}年 {text_value(v)}" for y, v in zip(a.get("year", []), a.get("value", [])))
            base = f"{text_value(r.get('base_year'))}年 {text_value(r.get('base_value'))}" if r.get("base_year") else ""
            target = r.get("target_text") or (f"{text_value(r.get('target_year'))}年 {text_value(r.get('target_value'))}"
                                              if r.get("target_year") else "")
            rows.append({**r, "n": i, "type_zh": TARGET_TYPE_ZH.get(r.get("target_type"), r.get("target_type")),
                         "base": base, "target": target, "actuals": actuals})
    book.sheet("指标", "规划指标完成情况", cols, rows,
               notes=[] if rows else ["项目中尚无规划指标。"])


