"""What a briefing (研判简报) says: figures, tables and lists of a county's risk between two dates, gathered
once and written by :mod:`riskmap.printing.briefing_docx` and :mod:`riskmap.printing.briefing_pdf`.

Every figure comes from the one source of truth: :func:`riskmap.stats.project_stats` at each date and
:func:`riskmap.asof.changes` between them; the zone colours from :func:`riskmap.asof.snapshot`; the indicators
from :func:`riskmap.indicators.project_progress`; the map is the print pipeline's (``printing.compose``) as of
the end date. The command line (``riskmap report``) and the desktop (文件 → 生成研判简报…) both call
:func:`make_briefing`.

>>> change_text(3, 5)
'+2'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from riskmap.errors import RiskmapError
from riskmap.marks import DEMO_MARK, demo_title
from riskmap.printing.briefing_template import BriefingTemplate, load_briefing_template
from riskmap.printing.template import fill_placeholders
from riskmap.progress import EXPORT_CANCELLED, Steps

LEVEL_KEYS = ("1", "2", "3", "4", "none")
LEVEL_SHORT = {"1": "重大", "2": "较大", "3": "一般", "4": "低", "none": "未评估"}
LEVEL_WORD = {1: "重大风险（红）", 2: "较大风险（橙）", 3: "一般风险（黄）", 4: "低风险（蓝）", None: "未定级"}
UNIT_WORD = {"town": "镇街", "county": "县区", "village": "村社区", "grid": "网格", "park": "园区"}


def date_zh(d: dt.date) -> str:
    """2025-03-31 → 2025年3月31日.

    >>> date_zh(dt.date(2025, 3, 1))
    '2025年3月1日'
    """
    return f"{d.year}年{d.month}月{d.day}日"


def change_text(before: int | None, after: int | None) -> str:
    """A figure's change against the previous period: +2, −1, 持平 (no change).

    >>> change_text(3, 5), change_text(5, 3), change_text(4, 4), change_text(None, 4)
    ('+2', '−2', '持平', '—')
    """
    if before is None or after is None:
        return "—"
    d = int(after) - int(before)
    return "持平" if d == 0 else (f"+{d}" if d > 0 else f"−{-d}")


def level_word(level) -> str:
    """A level written out with its colour, so a table read in black and white still says it.

    >>> level_word(2), level_word(None)
    ('较大风险（橙）', '未定级')
    """
    if level is None or level != level:
        return LEVEL_WORD[None]
    return LEVEL_WORD.get(int(level), str(level))


@dataclass
class Figure:
    """One key figure at the start and the end date."""

    label: str
    before: int
    after: int
    unit: str = "家"

    @property
    def change(self) -> str:
        return change_text(self.before, self.after)


@dataclass
class BriefingData:
    """Everything a briefing says, gathered once and written as DOCX or PDF."""

    place: str
    title: str
    issue_line: str
    org: str
    date_text: str
    start: dt.date
    end: dt.date
    is_demo: bool
    unit_word: str
    figures: list[Figure]
    summary: list[str]  # paragraphs of the 总体情况
    towns: list[dict]  # name, 1..4, none, total, level, before
    raised: list[dict]
    lowered: list[dict]
    first_graded: list[dict]  # 未评估 at the start, graded by the end
    overdue: list[dict]  # overdue 重大隐患 at the end date
    indicators: list  # riskmap.indicators.Progress
    encroachments: list[dict]
    values: dict  # placeholder values for the template's texts
    stats_start: dict = field(default_factory=dict)
    stats_end: dict = field(default_factory=dict)

    def fill(self, text: str) -> str:
        return fill_placeholders(text, self.values)


# ------------------------------------------------------------------------------------------------ data
def place_name(project) -> str:
    """The county (or city) the project is about: from its metadata, the gazetteer, else its name."""
    meta = project.meta()
    name = meta.get("place_name")
    if not name and project.place:
        try:
            from riskmap.gazetteer import division

            name = division(project.place).name
        except (RiskmapError, KeyError, ValueError, OSError):
            name = None
    if not name:
        name = str(project.name).replace(f"（{DEMO_MARK}）", "")
        for tail in ("安全风险一张图", "安全风险四色图", "一张图"):
            name = name.replace(tail, "")
        name = name.strip() or str(project.name)
    return name


ZONE_LAYERS = (("town", "towns"), ("county", "counties"), ("grid", "grids"), ("village", "villages"),
               ("park", "parks"))  # zoning units the briefing reports, in order of preference, and their layers


def _levels(ids, names, levels) -> dict[int, tuple[str, int | None]]:
    return {int(i): (str(n), None if lv is None or lv != lv else int(lv)) for i, n, lv in zip(ids, names, levels)}


def zone_levels_at(project, at: dt.date, source=None) -> tuple[str | None, dict[int, tuple[str, int | None]]]:
    """The zoning unit the briefing reports (towns first) and its zones' levels as of ``at``: {id: (name,
    level)}. ``source``: the map's layers as of ``at`` (riskmap.export.base.collect_layers(at=…)), whose zone
    levels are those of the same snapshot, so they are not computed twice."""
    from riskmap.asof import snapshot
    from riskmap.grading.zoning import zoned_units

    zoned = set(zoned_units(project))
    for unit, layer_id in ZONE_LAYERS:
        if unit not in zoned:
            continue
        x = source.get(layer_id) if source is not None else None
        if x is not None and "level" in x.gdf:
            return unit, _levels(x.gdf["id"], x.gdf["name"], x.gdf["level"])
        df = snapshot(project, at, units=(unit,)).zone_levels.get(unit)
        if df is not None and len(df):
            return unit, _levels(df["id"], df["name"], df["level"])
    return None, {}


def _by_name(zones: dict) -> dict[str, int | None]:
    return {name: lv for name, lv in zones.values()}


def _count(levels: dict, n: int) -> int:
    return sum(1 for v in levels.values() if v == n)


def collect(project, start: dt.date, end: dt.date, *, issue: str | None = None, org: str | None = None,
            template: BriefingTemplate | None = None, steps: Steps | None = None, source=None) -> BriefingData:
    """Gather the figures, tables and lists of a briefing for the period ``start`` → ``end``. ``source``: the
    map's layers as of ``end`` when the caller has read them (their zone levels are used)."""
    from riskmap.asof import changes
    from riskmap.indicators import project_progress
    from riskmap.stats import project_stats

    if start > end:
        raise RiskmapError(f"起始日期 {start} 晚于截止日期 {end}", f"the start date {start} is after the end date {end}",
                           where="--from")
    steps = steps or Steps(None, None, message=EXPORT_CANCELLED)
    template = template or load_briefing_template()
    st0 = project_stats(project, at=start)
    steps.report(0.2, "上期统计")
    st1 = project_stats(project, at=end)
    steps.report(0.4, "本期统计")
    unit, at_end = zone_levels_at(project, end, source)
    steps.report(0.6, "区域等级")
    ch = changes(project, start, end)
    steps.report(0.8, "变化")
    at_start = dict(at_end)  # the zones whose level changed, as they were at the start
    for z in ch.zones:
        if z.get("unit") == unit and int(z["id"]) in at_start:
            at_start[int(z["id"])] = (at_start[int(z["id"])][0], z.get("from"))
    zones1, zones0 = _by_name(at_end), _by_name(at_start)
    try:
        indicators = project_progress(project, end.year)
    except RiskmapError:
        indicators = []
    place = place_name(project)
    org = org if org is not None else (project.meta().get("org") or "")
    unit_word = UNIT_WORD.get(unit or "town", "镇街")
    values = {"place": place, "start": date_zh(start), "end": date_zh(end), "issue": issue or "", "org": org,
              "date": date_zh(dt.date.today()), "year": str(end.year), "unit": unit_word}
    title = demo_title(fill_placeholders(template.title, values), project.is_demo)
    issue_line = fill_placeholders(template.issue if issue else template.no_issue, values)

    b0, b1 = st0["by_level"], st1["by_level"]
    d0, d1 = st0["hidden_dangers"], st1["hidden_dangers"]
    figures = [Figure("企业总数", st0["enterprises"], st1["enterprises"])]
    figures += [Figure(f"{LEVEL_SHORT[k]}风险企业" if k != "none" else "未评估企业", b0[k], b1[k]) for k in LEVEL_KEYS]
    figures += [Figure(f"红色（重大风险）{unit_word}", _count(zones0, 1), _count(zones1, 1), "个"),
                Figure(f"橙色（较大风险）{unit_word}", _count(zones0, 2), _count(zones1, 2), "个"),
                Figure("未销号重大隐患", d0["open_by_grade"]["major"], d1["open_by_grade"]["major"], "项"),
                Figure("逾期重大隐患", d0["overdue_by_grade"]["major"], d1["overdue_by_grade"]["major"], "项")]

    towns = []
    for name, row in sorted(st1["by_town"].items(), key=lambda kv: (-kv[1]["1"], -kv[1]["2"], -kv[1]["3"], kv[0])):
        towns.append({"name": name, **{k: int(row[k]) for k in LEVEL_KEYS}, "total": int(row["total"]),
                      "level": zones1.get(name), "before": zones0.get(name), "zoned": name in zones1})
    overdue = [dict(r) for r in ch.dangers_overdue if r.get("grade") == "major"]
    encroach = [dict(r) for r in ch.encroachments_new]
    summary = _summary(place, start, end, figures, st0, st1, ch, overdue, unit_word)
    data = BriefingData(place=place, title=title, issue_line=issue_line, org=org, date_text=values["date"],
                        start=start, end=end, is_demo=project.is_demo, unit_word=unit_word, figures=figures,
                        summary=summary, towns=towns, raised=[dict(r) for r in ch.raised],
                        lowered=[dict(r) for r in ch.lowered],
                        first_graded=[dict(r) for r in getattr(ch, "first_graded", [])], overdue=overdue, indicators=list(indicators),
                        encroachments=encroach, values=values, stats_start=st0, stats_end=st1)
    steps.report(1.0, "数据")
    return data


def _summary(place, start, end, figures, st0, st1, ch, overdue, unit_word) -> list[str]:
    f = {x.label: x for x in figures}
    b1 = st1["by_level"]
    lines = [
        f"截至{date_zh(end)}，{place}共有纳入管理的企业{st1['enterprises']}家（较{date_zh(start)}"
        f"{_delta_words(st0['enterprises'], st1['enterprises'], '家')}），其中重大风险{b1['1']}家、较大风险{b1['2']}家、"
        f"一般风险{b1['3']}家、低风险{b1['4']}家" + (f"、未评估{b1['none']}家" if b1["none"] else "") + "。",
        f"本期风险等级上升企业{len(ch.raised)}家、下降{len(ch.lowered)}家"
        + (f"、首次评估定级{len(ch.first_graded)}家" if getattr(ch, "first_graded", None) else "")
        + f"，新增企业{len(ch.added)}家、减少{len(ch.removed)}家；红色{unit_word}{f[f'红色（重大风险）{unit_word}'].after}个"
        f"（{_delta_words(f[f'红色（重大风险）{unit_word}'].before, f[f'红色（重大风险）{unit_word}'].after, '个')}），"
        f"橙色{unit_word}{f[f'橙色（较大风险）{unit_word}'].after}个"
        f"（{_delta_words(f[f'橙色（较大风险）{unit_word}'].before, f[f'橙色（较大风险）{unit_word}'].after, '个')}）。",
        f"未销号重大隐患{f['未销号重大隐患'].after}项（{_delta_words(f['未销号重大隐患'].before, f['未销号重大隐患'].after, '项')}），"
        f"其中逾期{f['逾期重大隐患'].after}项"
        + (f"（挂牌督办{sum(1 for r in overdue if r.get('supervised'))}项）" if overdue else "")
        + f"；本期新登记重大隐患{sum(1 for r in ch.dangers_opened if r.get('grade') == 'major')}项、"
          f"销号{sum(1 for r in ch.dangers_closed if r.get('grade') == 'major')}项。",
    ]
    return lines


def _delta_words(before: int, after: int, unit: str) -> str:
    """'增加2家' / '减少1家' / '持平'.

    >>> _delta_words(3, 5, "家"), _delta_words(5, 4, "项"), _delta_words(2, 2, "个")
    ('增加2家', '减少1项', '持平')
    """
    d = int(after) - int(before)
    return "持平" if d == 0 else (f"增加{d}{unit}" if d > 0 else f"减少{-d}{unit}")
