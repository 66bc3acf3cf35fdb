"""Plan indicators (规划指标): the seed plans' tables as data (``data/plans/<adcode>.toml``), yearly actuals
entered by users, and progress against each target type.

Target types and how progress is judged (latest actual up to ``as_of``; linear path from the base year to
the target year; "met" compares with the final target):

- ``relative_decrease`` (下降x%): decrease = (base − actual) / base; on track when it has reached the
  share of x% that the years passed call for; needs the base value.
- ``absolute_cap`` (≤ cap): actual ≤ cap.
- ``coverage_rate`` (达x%): actual % against x %; the path starts at the base value, or at the first
  actual when the plan gives no base.
- ``qualitative`` (有效遏制): the achieved flag of the latest year.

Status: ``on_track`` (also when met at the target year), ``at_risk`` (behind before the target year),
``missed`` (not met at or after the target year), ``no_data`` (no actual, or no base where one is needed),
``no_target`` (the plan gives no target value).

>>> p = progress_of(target_type="relative_decrease", base_year=2020, base_value=100, target_year=2025,
...                 target_value=10, actuals=[(2022, 95.0, None)])
>>> p.status, p.achieved, p.expected
('on_track', 5.0, 4.0)
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskmap.errors import RiskmapError
from riskmap.model import Indicator, IndicatorActual
from riskmap.paths import DATA_DIR

PLANS_DIR = DATA_DIR / "plans"
TARGET_TYPES = ("relative_decrease", "absolute_cap", "coverage_rate", "qualitative")
TARGET_TYPE_ZH = {"relative_decrease": "相对下降", "absolute_cap": "绝对上限", "coverage_rate": "覆盖率",
                  "qualitative": "定性"}
STATUS_ZH = {"on_track": "进度正常", "at_risk": "滞后", "missed": "未完成", "no_data": "无数据",
             "no_target": "无目标值"}
BINDINGS = ("约束性", "预期性")
EPS = 1e-9


# ---------------------------------------------------------------- plan files

@dataclass(frozen=True)
class PlanIndicator:
    """One indicator row of a plan file."""

    plan: str
    name: str
    unit: str
    target_type: str
    base_year: int | None
    base_value: float | None
    target_year: int | None
    target_value: float | None
    target_text: str
    binding: str | None
    source: str
    base_source: str | None = None
    note: str | None = None
    result: str | None = None  # the plan's own verdict, where it gives one (完成/未完成)
    actuals: tuple = ()  # ((year, value, achieved, source), …) figures the plan itself reports


@dataclass(frozen=True)
class Plan:
    adcode: str
    place: str
    name: str
    seed: str
    note: str
    applies_to: tuple[str, ...]
    indicators: tuple[PlanIndicator, ...]
    path: Path


def _bad(path: Path, key: str, zh: str, en: str) -> RiskmapError:
    return RiskmapError(f"规划指标文件错误：{zh}", f"bad plan file: {en}", where=f"{path}:{key}")


def _num(row: dict, key: str, path: Path, here: str, required: bool = False) -> float | None:
    v = row.get(key)
    if v is None:
        if required:
            raise _bad(path, f"{here}.{key}", f"缺少 {key}", f"{key} is missing")
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _bad(path, f"{here}.{key}", f"{key} 应为数字", f"{key} must be a number")
    return float(v)


def _year(row: dict, key: str, path: Path, here: str) -> int | None:
    v = row.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 1900 <= v <= 2200:
        raise _bad(path, f"{here}.{key}", f"{key} 应为年份", f"{key} must be a year")
    return v


def read_plan(path: str | Path) -> Plan:
    """Read and check one plan file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskmapError("找不到规划指标文件", "plan file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RiskmapError(f"规划指标文件无法读取：{exc}", f"cannot read plan file: {exc}", where=str(path)) from None
    head = data.get("plan")
    if not isinstance(head, dict):
        raise _bad(path, "plan", "缺少 [plan] 表", "missing [plan] table")
    for key in ("adcode", "place", "name"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            raise _bad(path, f"plan.{key}", f"缺少 plan.{key}", f"plan.{key} is missing")
    defaults = data.get("defaults", {})
    rows = data.get("indicator")
    if not isinstance(rows, list) or not rows:
        raise _bad(path, "indicator", "缺少 [[indicator]] 表", "no [[indicator]] tables")
    out, seen = [], set()
    for i, raw in enumerate(rows):
        here = f"indicator[{i}]"
        row = {**defaults, **raw}
        name = row.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad(path, f"{here}.name", "缺少指标名称", "name is missing")
        plan_name = row.get("plan", head["name"])
        if (plan_name, name) in seen:
            raise _bad(path, f"{here}.name", f"指标“{name}”重复", f"indicator {name!r} given twice")
        seen.add((plan_name, name))
        ttype = row.get("target_type")
        if ttype not in TARGET_TYPES:
            raise _bad(path, f"{here}.target_type", f"target_type 应为 {', '.join(TARGET_TYPES)} 之一",
                       f"target_type must be one of {', '.join(TARGET_TYPES)}")
        binding = row.get("binding")
        if binding is not None and binding not in BINDINGS:
            raise _bad(path, f"{here}.binding", "binding 应为 约束性 或 预期性", "binding must be 约束性 or 预期性")
        target = _num(row, "target", path, here)
        if ttype == "coverage_rate" and target is not None and not 0 < target <= 100:
            raise _bad(path, f"{here}.target", "覆盖率目标应在 0–100 之间", "a coverage target must be in 0–100")
        if not isinstance(row.get("source"), str) or not row["source"].strip():
            raise _bad(path, f"{here}.source", "每个指标须注明出处（规划文本行号）",
                       "every indicator needs its source (the plan's line)")
        actuals = []
        for j, a in enumerate(row.get("actual", [])):
            ah = f"{here}.actual[{j}]"
            year = _year(a, "year", path, ah)
            if year is None:
                raise _bad(path, f"{ah}.year", "缺少年份", "year is missing")
            achieved = a.get("achieved")
            if achieved is not None and not isinstance(achieved, bool):
                raise _bad(path, f"{ah}.achieved", "achieved 应为 true 或 false", "achieved must be true or false")
            actuals.append((year, _num(a, "value", path, ah), achieved, a.get("source")))
        out.append(PlanIndicator(
            plan=plan_name, name=name.strip(), unit=row.get("unit", ""), target_type=ttype,
            base_year=_year(row, "base_year", path, here), base_value=_num(row, "base_value", path, here),
            target_year=_year(row, "target_year", path, here), target_value=target,
            target_text=row.get("target_text", ""), binding=binding, source=row["source"],
            base_source=row.get("base_source"), note=row.get("note"), result=row.get("result"),
            actuals=tuple(actuals)))
    applies = head.get("applies_to", [])
    return Plan(adcode=head["adcode"], place=head["place"], name=head["name"], seed=head.get("seed", ""),
                note=head.get("note", ""), applies_to=tuple(applies), indicators=tuple(out), path=path)


def plan_files() -> list[Path]:
    return sorted(PLANS_DIR.glob("*.toml"))


def find_plan(key: str | Path) -> Plan:
    """The plan for an adcode (its own, or a city plan that ``applies_to`` it), a place name, or a file."""
    p = Path(key)
    if p.suffix == ".toml" and p.exists():
        return read_plan(p)
    key = str(key).strip()
    plans = [read_plan(f) for f in plan_files()]
    for plan in plans:
        if key in (plan.adcode, plan.place, plan.name):
            return plan
    for plan in plans:
        if key in plan.applies_to:
            return plan
    from riskmap.gazetteer import find
    from riskmap.places import find_place
    try:
        place = find_place(key)
    except RiskmapError:
        try:  # any place of China by name or adcode
            place = find(key)
        except RiskmapError:
            place = None
    if place is not None:
        for plan in plans:
            if place.adcode == plan.adcode or place.adcode in plan.applies_to:
                return plan
    raise RiskmapError(f"没有该地的规划指标: {key}", f"no plan indicators for {key!r}", where="plan")


# ---------------------------------------------------------------- progress

@dataclass
class Progress:
    """Progress of one indicator against its target."""

    name: str
    unit: str
    target_type: str
    binding: str | None
    base_year: int | None
    base_value: float | None
    target_year: int | None
    target_value: float | None
    target_text: str
    year: int | None  # year of the actual used
    actual: float | None
    achieved: float | None  # decrease % (relative), actual % (coverage), actual (cap)
    expected: float | None  # what the linear path asks for by ``year``
    fraction: float | None  # share of the target reached, 1 = met (a cap: 1 within it, else cap / actual)
    met: bool | None
    status: str
    explanation: str
    id: int | None = None
    plan: str | None = None
    source: str | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        d["status_zh"] = STATUS_ZH[self.status]
        d["target_type_zh"] = TARGET_TYPE_ZH[self.target_type]
        return d


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def _share(year: int, start_year: int | None, target_year: int | None) -> float:
    """How far along the linear path ``year`` is (0 at the start, 1 at the target year)."""
    if target_year is None or start_year is None or target_year <= start_year:
        return 1.0
    return min(max((year - start_year) / (target_year - start_year), 0.0), 1.0)


def progress_of(*, target_type: str, base_year: int | None, base_value: float | None, target_year: int | None,
                target_value: float | None, actuals: list[tuple], as_of: int | None = None, name: str = "",
                unit: str = "", binding: str | None = None, target_text: str = "") -> Progress:
    """Progress from yearly ``actuals`` [(year, value, achieved), …], using the latest up to ``as_of``."""
    if target_type not in TARGET_TYPES:
        raise RiskmapError(f"未知的指标类型 {target_type!r}", f"unknown target type {target_type!r}",
                           where="target_type")
    rows = sorted((a for a in actuals if as_of is None or a[0] <= as_of), key=lambda a: a[0])
    if target_type == "qualitative":
        rows = [a for a in rows if a[2] is not None]
    else:
        rows = [a for a in rows if a[1] is not None]
    p = Progress(name=name, unit=unit, target_type=target_type, binding=binding, base_year=base_year,
                 base_value=base_value, target_year=target_year, target_value=target_value, target_text=target_text,
                 year=None, actual=None, achieved=None, expected=None, fraction=None, met=None, status="no_data",
                 explanation="")
    if not rows:
        p.explanation = "尚无年度实际值"
        return p
    year, value, achieved_flag = rows[-1][:3]
    p.year, p.actual = year, None if value is None else float(value)
    final = target_year is None or year >= target_year

    if target_type == "qualitative":
        p.met = bool(achieved_flag)
        p.status = "on_track" if p.met else ("missed" if final else "at_risk")
        p.explanation = f"{year}年{'已实现' if p.met else '未实现'}“{target_text}”"
        return p

    v = float(value)
    if target_type == "relative_decrease":
        if base_value is None:
            p.explanation = f"{year}年实际值 {v:g}；缺少基数，无法计算下降幅度"
            return p
        if base_value == 0:
            p.explanation = f"{year}年实际值 {v:g}；基数为 0，无法计算相对下降"
            return p
        dec = (base_value - v) / base_value * 100
        p.achieved = _r(dec)
        if target_value is None:
            p.status = "no_target"
            change = f"下降 {dec:.1f}%" if dec >= 0 else f"上升 {-dec:.1f}%"
            p.explanation = f"{year}年 {v:g}，较{base_year}年基数 {base_value:g} {change}（规划未给出目标值）"
            return p
        t = _share(year, base_year, target_year)
        p.expected = _r(target_value * t)
        p.fraction = _r(dec / target_value) if target_value else None
        p.met = dec >= target_value - EPS
        ok = p.met if final else dec >= target_value * t - EPS
        p.status = "on_track" if ok else ("missed" if final else "at_risk")
        change = f"下降 {dec:.1f}%" if dec >= 0 else f"上升 {-dec:.1f}%"
        p.explanation = (f"{year}年 {v:g}，较{base_year}年基数 {base_value:g} {change}；"
                         f"目标下降 {target_value:g}%（{target_year}年）"
                         + ("" if final else f"，按进度应下降 {target_value * t:.1f}%"))
        return p

    if target_value is None:
        p.status = "no_target"
        p.explanation = f"{year}年实际值 {v:g}（规划未给出目标值）"
        return p
    if target_type == "absolute_cap":
        p.achieved = _r(v)
        p.expected = _r(target_value)
        p.met = v <= target_value + EPS
        p.fraction = 1.0 if p.met else _r(target_value / v)  # 1 = within the cap; below 1: how far over
        p.status = "on_track" if p.met else ("missed" if final else "at_risk")
        p.explanation = f"{year}年 {v:g}，上限 {target_value:g}：{'未超过' if p.met else '超过'}上限"
        return p

    # coverage_rate
    if not 0 <= v <= 100:
        raise RiskmapError(f"覆盖率应在 0–100 之间，收到 {v:g}", f"a coverage rate must be 0–100, got {v:g}",
                           where=f"indicator_actuals[{name}].value")
    if base_value is not None and base_year is not None:
        start_year, start = base_year, base_value
    else:
        start_year, start = rows[0][0], float(rows[0][1])
    t = _share(year, start_year, target_year)
    expect = start + (target_value - start) * t
    p.achieved = _r(v)
    p.expected = _r(expect)
    p.fraction = _r(v / target_value)
    p.met = v >= target_value - EPS
    ok = p.met if final else v >= expect - EPS
    p.status = "on_track" if ok else ("missed" if final else "at_risk")
    p.explanation = (f"{year}年 {v:g}%，目标 {target_value:g}%（{target_year}年）"
                     + ("" if final else f"，按进度应达 {expect:.2f}%（自{start_year}年 {start:g}% 起）"))
    return p


# ---------------------------------------------------------------- project

def load_plan(session: Session, plan: Plan, *, replace: bool = True) -> list[Indicator]:
    """Write ``plan``'s indicators (and the actuals the plan itself reports) into the project."""
    names = {ind.plan for ind in plan.indicators}
    existing = list(session.scalars(select(Indicator).where(Indicator.plan.in_(names))))
    if existing and not replace:
        raise RiskmapError(f"项目中已有规划“{plan.name}”的指标", f"the project already holds the plan {plan.name!r}",
                           where="indicators.plan")
    for ind in existing:
        session.delete(ind)
    session.flush()
    out = []
    for pi in plan.indicators:
        src = pi.source + (f"；基数 {pi.base_source}" if pi.base_source else "")
        ind = Indicator(plan=pi.plan, name=pi.name, unit=pi.unit, base_year=pi.base_year, base_value=pi.base_value,
                        target_year=pi.target_year, target_value=pi.target_value, target_type=pi.target_type,
                        binding=pi.binding, target_text=pi.target_text, source=src)
        for year, value, achieved, source in pi.actuals:
            ind.actuals.append(IndicatorActual(year=year, value=value, achieved=achieved,
                                               note=f"规划原文 {source}" if source else None))
        session.add(ind)
        out.append(ind)
    session.flush()
    return out


def find_indicator(session: Session, ref: str | int) -> Indicator:
    """An indicator by id or by (unique) name."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        ind = session.get(Indicator, int(ref))
        if ind is not None:
            return ind
    found = list(session.scalars(select(Indicator).where(Indicator.name == str(ref).strip())))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise RiskmapError(f"有多个名为“{ref}”的指标，请用编号", f"several indicators are named {ref!r}; use the id",
                           where="indicator")
    raise RiskmapError(f"没有这个指标: {ref}", f"no such indicator: {ref}", where="indicator")


def set_actual(session: Session, ind: Indicator, year: int, *, value: float | None = None,
               achieved: bool | None = None, note: str | None = None) -> IndicatorActual:
    """Enter (or replace) the actual of ``year``; checks the value against the target type."""
    where = f"indicator_actuals[{ind.name}, {year}]"
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2200:
        raise RiskmapError(f"年份无效: {year!r}", f"invalid year: {year!r}", where=f"{where}.year")
    if ind.target_type == "qualitative":
        if not isinstance(achieved, bool):
            raise RiskmapError("定性指标须填写是否实现（是/否）", "a qualitative indicator needs achieved yes/no",
                               where=f"{where}.achieved")
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise RiskmapError(f"实际值应为不小于 0 的数字，收到 {value!r}", f"the actual must be a number ≥ 0, got {value!r}",
                               where=f"{where}.value")
        if ind.target_type == "coverage_rate" and value > 100:
            raise RiskmapError(f"覆盖率应在 0–100 之间，收到 {value!r}", f"a coverage rate must be 0–100, got {value!r}",
                               where=f"{where}.value")
    row = next((a for a in ind.actuals if a.year == year), None)
    if row is None:
        row = IndicatorActual(year=year)
        ind.actuals.append(row)
    row.value = None if value is None else float(value)
    row.achieved = achieved
    row.note = note
    session.flush()
    return row


def indicator_progress(ind: Indicator, as_of: int | None = None) -> Progress:
    p = progress_of(target_type=ind.target_type, base_year=ind.base_year, base_value=ind.base_value,
                    target_year=ind.target_year, target_value=ind.target_value,
                    actuals=[(a.year, a.value, a.achieved) for a in ind.actuals], as_of=as_of, name=ind.name,
                    unit=ind.unit or "", binding=ind.binding, target_text=ind.target_text or "")
    p.id, p.plan, p.source = ind.id, ind.plan, ind.source
    return p


def project_progress(project, as_of: int | None = None) -> list[Progress]:
    """Progress of every indicator of the project, in plan and entry order."""
    s = project.reader()
    try:
        inds = list(s.scalars(select(Indicator).order_by(Indicator.plan, Indicator.id)))
        return [indicator_progress(i, as_of) for i in inds]
    finally:
        s.close()


# ---------------------------------------------------------------- demo

_TYPICAL_BASE = {"起": 12.0, "人": 9.0, "人/亿元": 0.06, "人/万车": 2.2, "人/十万人": 1.6}


def demo_indicators(project) -> None:
    """Load the place's plan with fictitious yearly actuals 2021–2024 (deterministic per place).

    Bases the plan does not give are invented too, and marked so in the indicator's source.
    """
    import numpy as np

    place = project.place
    try:
        plan = find_plan(place)
    except RiskmapError:
        return
    rng = np.random.default_rng(int(place) if place and place.isdigit() else 0)
    with project.session(history=False) as s:
        inds = load_plan(s, plan)
        for ind in inds:
            if ind.base_year is None or ind.target_year is None or ind.target_year <= 2020:
                continue  # the plan's own past table keeps only its real figures
            counted = (ind.unit or "") in ("起", "人")  # whole numbers
            tidy = (lambda x: float(round(x))) if counted else (lambda x: round(x, 3 if x >= 0.1 else 4))
            if ind.target_type in ("relative_decrease",) and ind.base_value is None:
                ind.base_value = tidy(_TYPICAL_BASE.get(ind.unit or "", 1.0) * float(rng.uniform(0.8, 1.2)))
                ind.source = f"{ind.source}；基数为示例数据"
            pace = float(rng.uniform(0.4, 1.4))  # < 1: behind the path, > 1: ahead
            start = float(rng.uniform(70, 95))
            for year in range(2021, 2025):
                t = (year - ind.base_year) / (ind.target_year - ind.base_year)
                noise = float(rng.normal(0, 0.03))
                if ind.target_type == "relative_decrease":
                    goal = ind.target_value if ind.target_value is not None else 10.0
                    value = ind.base_value * (1 - goal / 100 * t * pace + noise)
                    set_actual(s, ind, year, value=tidy(max(value, 0.0)), note="示例数据")
                elif ind.target_type == "absolute_cap":
                    value = ind.target_value * float(rng.uniform(0.6, 1.15))
                    set_actual(s, ind, year, value=tidy(value), note="示例数据")
                elif ind.target_type == "coverage_rate":
                    value = start + (ind.target_value - start) * min(t * pace, 1.0)
                    set_actual(s, ind, year, value=round(min(value, 100.0), 1), note="示例数据")
                else:
                    set_actual(s, ind, year, achieved=bool(rng.random() < 0.8), note="示例数据")
