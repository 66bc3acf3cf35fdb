"""The tables and sentences of a briefing, as plain text rows: the DOCX and the PDF writers lay out the same
words. Levels are written out (重大风险（红）…), never only coloured."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from riskmap.dangers import STATUS_ZH as DANGER_STATUS_ZH
from riskmap.indicators import STATUS_ZH as INDICATOR_STATUS_ZH
from riskmap.industries import industry_name, load_industries
from riskmap.layers import load_catalogue
from riskmap.printing.briefing_data import LEVEL_KEYS, date_zh, level_word

TOTAL = "合计"
MAX_ROWS = 50  # a list longer than this shows its most serious rows and says how many there are


@dataclass
class Table:
    """A table's words: header, rows, column widths (percent of the text width), the columns of text aligned
    left (the others are centred) and whether the last row is a 合计 row."""

    header: list[str]
    body: list[list]
    widths: tuple[float, ...]
    left: tuple[int, ...] = ()
    total: bool = False
    note: str = ""  # said under the table (e.g. that a long list is cut)


def _cut(rows: list, key, what: str, order: str) -> tuple[list, str]:
    """At most MAX_ROWS of ``rows`` (the first by ``key`` when cut) and the sentence saying so."""
    if len(rows) <= MAX_ROWS:
        return rows, ""
    kept = sorted(rows, key=key)[:MAX_ROWS]
    return kept, (f"注：共{len(rows)}{what}，表中列出{order}的{MAX_ROWS}{what}；完整名单可用 riskmap changes --json "
                  f"导出。")


def period_text(data) -> str:
    return f"{date_zh(data.start)}至{date_zh(data.end)}（与{date_zh(data.start)}比较）"


def figures_table(data) -> Table:
    header = ["指标", f"上期（{date_zh(data.start)}）", f"本期（{date_zh(data.end)}）", "较上期"]
    return Table(header, [[f"{f.label}（{f.unit}）", f.before, f.after, f.change] for f in data.figures],
                 (34, 25, 25, 16), left=(0,))


def towns_table(data) -> Table:
    header = [data.unit_word, "重大", "较大", "一般", "低", "未评估", "合计", "区域等级", "上期等级"]
    body = []
    for t in data.towns:
        body.append([t["name"], *(t[k] for k in LEVEL_KEYS), t["total"],
                     level_word(t["level"]) if t["zoned"] else "—",
                     level_word(t["before"]) if t["zoned"] else "—"])
    sums = [sum(int(t[k]) for t in data.towns) for k in LEVEL_KEYS]
    body.append([TOTAL, *sums, sum(int(t["total"]) for t in data.towns), "", ""])
    return Table(header, body, (17, 7.5, 7.5, 7.5, 7.5, 8.5, 8.5, 18, 18), left=(0,), total=True)


def _industry(code) -> str:
    inds = load_industries()
    return industry_name(code) if code in inds else ("" if code is None else str(code))


def _day(value) -> str:
    if value is None or value != value:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def raised_text(data) -> str:
    if not data.raised:
        text = f"{date_zh(data.start)}至{date_zh(data.end)}，没有风险等级上升的企业"
    else:
        to_red = sum(1 for r in data.raised if r.get("to") == 1)
        text = (f"{date_zh(data.start)}至{date_zh(data.end)}，风险等级上升的企业{len(data.raised)}家"
                + (f"，其中升为重大风险{to_red}家" if to_red else ""))
    return text + (f"；风险等级下降的企业{len(data.lowered)}家。" if data.lowered else "。")


def raised_table(data) -> Table:
    header = ["序号", "企业", "镇街", "行业", "原等级", "现等级", "变更日期", "依据"]
    raised, note = _cut(data.raised, lambda r: (r.get("to") or 9, (r.get("to") or 9) - (r.get("from") or 9),
                                                r.get("id") or 0), "家", "现等级最高、升幅最大")
    rows = [[i, r.get("name", ""), r.get("town") or "", _industry(r.get("industry")), level_word(r.get("from")),
             level_word(r.get("to")), _day(r.get("at")), r.get("reason") or ""]
            for i, r in enumerate(raised, start=1)]
    return Table(header, rows, (6, 20, 11, 11, 12, 12, 12, 16), left=(1, 2, 3, 7), note=note)


def dangers_text(data) -> str:
    if not data.overdue:
        return f"截至{date_zh(data.end)}，没有逾期未整改的重大隐患。"
    sup = sum(1 for r in data.overdue if r.get("supervised"))
    return (f"截至{date_zh(data.end)}，逾期未完成整改的重大隐患{len(data.overdue)}项，其中已挂牌督办{sup}项、"
            f"未挂牌督办{len(data.overdue) - sup}项。")


def dangers_table(data) -> Table:
    header = ["序号", "隐患", "企业", "状态", "整改期限", "逾期天数", "挂牌督办"]
    overdue, note = _cut(data.overdue, lambda r: (_day(r.get("deadline")) or "9999", r.get("id") or 0), "项",
                         "逾期最久")
    rows = []
    for i, r in enumerate(overdue, start=1):
        deadline = _day(r.get("deadline"))
        try:
            days = (data.end - dt.date.fromisoformat(deadline)).days if deadline else ""
        except ValueError:
            days = ""
        rows.append([i, r.get("title", ""), r.get("enterprise") or "", DANGER_STATUS_ZH.get(r.get("status"), r.get("status") or ""),
                     deadline, days, "是" if r.get("supervised") else "否"])
    return Table(header, rows, (6, 27, 25, 11, 13, 9, 9), left=(1, 2), note=note)


def indicators_text(data) -> str:
    n = len(data.indicators)
    counts = {}
    for p in data.indicators:
        counts[p.status] = counts.get(p.status, 0) + 1
    parts = [f"{INDICATOR_STATUS_ZH[s]}{counts[s]}项" for s in INDICATOR_STATUS_ZH if counts.get(s)]
    return f"规划指标{n}项（按{data.end.year}年及以前的年度实际值评估）：" + "，".join(parts) + "。"


def _num(v) -> str:
    return "" if v is None else f"{v:g}"


def indicators_table(data) -> Table:
    header = ["指标", "目标", "年份", "实际值", "完成进度", "状态"]
    rows = []
    for p in data.indicators:
        if p.target_type == "qualitative":
            actual = "" if p.met is None else ("已实现" if p.met else "未实现")
        else:
            actual = _num(p.actual) + (("%" if p.target_type == "coverage_rate" else f" {p.unit}") if p.actual is not None and p.unit else "")
        rows.append([p.name, p.target_text or "", "" if p.year is None else p.year, actual.strip(),
                     "" if p.fraction is None else f"{p.fraction * 100:.0f}%", INDICATOR_STATUS_ZH.get(p.status, p.status)])
    return Table(header, rows, (38, 11, 8, 17, 12, 14), left=(0,))


ENCROACH_KEYS = (("target", "防护目标"), ("target_kind", "目标类别"), ("object", "侵占的控制线或风险范围"),
                 ("distance_m", "距边界（米，负值在线内）"))


def _target_kind(code) -> str:
    """A protected target's kind in words (住宅区 for residential), from the layer catalogue."""
    layer = load_catalogue().get("protected_targets")
    for c in (layer.style.categories or ()) if layer is not None else ():
        if c.value == code:
            return c.zh
    return "" if code is None else str(code)


def encroachments_text(data) -> str:
    if not data.encroachments:
        return f"{date_zh(data.start)}至{date_zh(data.end)}，没有新增的侵占安全控制线或外部安全防护距离的问题。"
    return f"{date_zh(data.start)}至{date_zh(data.end)}，新增侵占问题{len(data.encroachments)}处。"


def encroachments_table(data) -> Table:
    keys = [(k, title) for k, title in ENCROACH_KEYS if any(r.get(k) not in (None, "") for r in data.encroachments)]
    if not keys:  # unknown shape: every field as written
        names = []
        for r in data.encroachments:
            names += [k for k in r if k not in names]
        keys = [(k, k) for k in names]
    header = ["序号"] + [t for _, t in keys]
    shown, note = _cut(data.encroachments, lambda r: (r.get("distance_m") if isinstance(r.get("distance_m"), (int, float))
                                                      else 0.0), "处", "侵入最深")
    rows = [[i] + ["" if r.get(k) is None else (_target_kind(r[k]) if k == "target_kind" else r[k]) for k, _ in keys]
            for i, r in enumerate(shown, 1)]
    rest = 92.0 / max(len(keys), 1)
    return Table(header, rows, (8,) + (rest,) * len(keys), left=tuple(range(1, len(keys))), note=note)
