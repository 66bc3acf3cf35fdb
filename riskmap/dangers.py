"""Hidden dangers (隐患): the lifecycle 登记 → 整改中 → 挂牌督办 (重大 only) → 整改完成 → 销号.

- A 重大隐患 must be 挂牌督办 before 整改完成, and needs the five elements (五到位: 责任 responsible_person,
  措施 measures, 资金 funds_wan, 时限 deadline, 预案 plan) before it can be 整改完成.
- 销号 needs a 整改效果评价 (effect_evaluation). A failed evaluation sends a danger from 整改完成 back to
  整改中 (一般) or 挂牌督办 (重大), with a note saying why.
- Overdue: the deadline has passed (relative to a given ``today``) and the danger is neither 整改完成 nor 销号.
- Every step is appended as a :class:`~riskmap.model.HiddenDangerEvent`. Opening or closing a 重大隐患
  re-derives its enterprise's level (直接判定) and recolours only the zones that contain it.

>>> can_advance("registered", "closed", "general")[0]
False
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from riskmap.errors import RiskmapError
from riskmap.model import Enterprise, HiddenDanger, HiddenDangerEvent

STATUSES = ("registered", "rectifying", "supervised", "rectified", "closed")
STATUS_ZH = {"registered": "登记", "rectifying": "整改中", "supervised": "挂牌督办", "rectified": "整改完成",
             "closed": "销号"}
GRADES = ("general", "major")
GRADE_ZH = {"general": "一般隐患", "major": "重大隐患"}
OPEN = ("registered", "rectifying", "supervised", "rectified")  # not yet 销号
DONE = ("rectified", "closed")  # no longer overdue
FIVE_ELEMENTS = (("responsible_person", "责任（责任人）"), ("measures", "措施"), ("funds_wan", "资金（万元）"),
                 ("deadline", "时限（整改期限）"), ("plan", "预案"))
TEXT_FIELDS = ("responsible_person", "measures", "plan", "supervising_department", "effect_evaluation",
               "description", "title")
DATE_FIELDS = ("deadline", "found_date", "closed_date")
EDITABLE = TEXT_FIELDS + DATE_FIELDS + ("funds_wan",)

# (from, to) -> grades allowed
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("registered", "rectifying"): ("general", "major"),
    ("rectifying", "supervised"): ("major",),
    ("rectifying", "rectified"): ("general",),
    ("supervised", "rectified"): ("major",),
    ("rectified", "closed"): ("general", "major"),
    ("rectified", "rectifying"): ("general",),  # 整改效果评价不合格
    ("rectified", "supervised"): ("major",),  # 整改效果评价不合格
}


def _zh(status: str) -> str:
    return STATUS_ZH.get(status, status)


def check_status(status: str, where: str = "status") -> str:
    if status not in STATUSES:
        raise RiskmapError(f"未知的隐患状态 {status!r}，可选：{', '.join(f'{s}（{_zh(s)}）' for s in STATUSES)}",
                           f"unknown hidden-danger status {status!r}; use one of {', '.join(STATUSES)}", where=where)
    return status


def check_grade(grade: str, where: str = "grade") -> str:
    aliases = {"一般": "general", "一般隐患": "general", "重大": "major", "重大隐患": "major", "重大事故隐患": "major"}
    g = aliases.get(grade.strip(), grade.strip()) if isinstance(grade, str) else grade
    if g not in GRADES:
        raise RiskmapError(f"未知的隐患等级 {grade!r}，可选：general（一般）、major（重大）",
                           f"unknown hidden-danger grade {grade!r}; use general or major", where=where)
    return g


def can_advance(frm: str, to: str, grade: str) -> tuple[bool, str, str]:
    """Whether the lifecycle allows ``frm`` → ``to`` for a danger of ``grade``: (ok, why zh, why en).
    The five elements and the evaluation are checked by :func:`advance` on the danger itself."""
    if frm == to:
        return False, f"已处于“{_zh(to)}”状态", f"it is already {to}"
    if frm == "closed":
        return False, "已销号的隐患不能再变更状态", "a closed danger cannot change status"
    grades = TRANSITIONS.get((frm, to))
    if grades is None:
        nxt = [f"{_zh(b)}（{b}）" for (a, b), g in TRANSITIONS.items() if a == frm and grade in g]
        return (False, f"流程不允许跳转，可变为：{'、'.join(nxt) or '无'}",
                f"the lifecycle does not allow it; allowed next: {', '.join(b for (a, b), g in TRANSITIONS.items() if a == frm and grade in g) or 'none'}")
    if grade not in grades:
        if to == "supervised":
            return False, "挂牌督办仅适用于重大隐患", "only a major danger is supervised (挂牌督办)"
        if (frm, to) == ("rectifying", "rectified"):
            return False, "重大隐患须先挂牌督办，才能整改完成", "a major danger must be supervised before it is rectified"
        return False, "该等级的隐患不适用此变更", "not for a danger of this grade"
    return True, "", ""


def missing_five_elements(d: HiddenDanger) -> list[tuple[str, str]]:
    """Which of the five elements (五到位) ``d`` lacks: (field, Chinese name) pairs."""
    out = []
    for key, zh in FIVE_ELEMENTS:
        v = getattr(d, key)
        if v is None or (isinstance(v, str) and not v.strip()):
            out.append((key, zh))
    return out


def _date(value, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise RiskmapError(f"{where} 应为日期（YYYY-MM-DD），收到 {value!r}", f"{where} must be a date (YYYY-MM-DD), got {value!r}",
                       where=where)


def _set_fields(d: HiddenDanger, fields: dict, where: str) -> None:
    for key, value in fields.items():
        if key not in EDITABLE:
            raise RiskmapError(f"隐患没有可修改的字段 {key!r}", f"hidden dangers have no editable field {key!r}",
                               where=f"{where}.{key}")
        here = f"{where}.{key}"
        if key in DATE_FIELDS:
            value = _date(value, here)
        elif key == "funds_wan" and value is not None:
            try:
                value = float(value)
            except (TypeError, ValueError):
                value = math.nan
            if not math.isfinite(value) or value < 0:
                raise RiskmapError(f"{here} 应为不小于 0 的金额（万元），收到 {fields[key]!r}",
                                   f"{here} must be an amount ≥ 0 (10k yuan), got {fields[key]!r}", where=here)
        elif value is not None:
            if not isinstance(value, str):
                raise RiskmapError(f"{here} 应为文字", f"{here} must be text", where=here)
            value = value.strip() or None
        setattr(d, key, value)


def _after_change(session: Session, d: HiddenDanger, by: str | None) -> None:
    """A 重大隐患 opened or closed: re-derive its enterprise and recolour the zones that contain it."""
    if d.grade != "major" or d.enterprise_id is None:
        return
    from riskmap.grading.enterprise import derive_level
    from riskmap.grading.zoning import enterprises_changed

    session.flush()
    ent = session.get(Enterprise, d.enterprise_id)
    before = ent.level
    derive_level(session, ent, assessor=by, only_if_changed=True)
    enterprises_changed(session, [ent.id], old_levels={ent.id: before})


def register(session: Session, *, title: str, grade: str = "general", enterprise_id: int | None = None,
             by: str, found_date=None, geom=None, note: str | None = None, **fields) -> HiddenDanger:
    """Register (登记) a hidden danger; its location defaults to its enterprise's."""
    if not isinstance(title, str) or not title.strip():
        raise RiskmapError("隐患须填写名称", "a hidden danger needs a title", where="hidden_dangers.title")
    if not isinstance(by, str) or not by.strip():
        raise RiskmapError("须填写登记人", "the person registering it is required", where="by")
    grade = check_grade(grade, "hidden_dangers.grade")
    ent = None
    if enterprise_id is not None:
        ent = session.get(Enterprise, int(enterprise_id))
        if ent is None:
            raise RiskmapError(f"企业不存在: {enterprise_id}", f"no such enterprise: {enterprise_id}",
                               where="hidden_dangers.enterprise_id")
    d = HiddenDanger(title=title.strip(), grade=grade, status="registered", enterprise_id=enterprise_id,
                     found_date=_date(found_date, "hidden_dangers.found_date") or dt.date.today(),
                     geom=geom if geom is not None else (ent.geom if ent is not None else None))
    _set_fields(d, fields, "hidden_dangers")
    session.add(d)
    session.flush()
    session.add(HiddenDangerEvent(danger_id=d.id, from_status=None, to_status="registered", by=by.strip(), note=note))
    _after_change(session, d, by)
    return d


def advance(session: Session, d: HiddenDanger | int, to: str, *, by: str, note: str | None = None,
            **fields) -> HiddenDangerEvent:
    """Move ``d`` to status ``to`` (setting ``fields`` first, e.g. ``effect_evaluation`` when closing);
    append the event. An invalid step raises :class:`RiskmapError` naming from, to and why."""
    if not isinstance(d, HiddenDanger):
        got = session.get(HiddenDanger, int(d))
        if got is None:
            raise RiskmapError(f"隐患不存在: {d}", f"no such hidden danger: {d}", where="hidden_dangers.id")
        d = got
    to = check_status(to, "to")
    where = f"hidden_dangers[{d.id}]"
    if not isinstance(by, str) or not by.strip():
        raise RiskmapError("须填写操作人", "who does it is required", where="by")
    frm = d.status
    ok, why_zh, why_en = can_advance(frm, to, d.grade)
    head_zh = f"隐患“{d.title}”（{GRADE_ZH[d.grade]}）不能从“{_zh(frm)}”变为“{_zh(to)}”"
    head_en = f"hidden danger {d.id} ({d.grade}) cannot go from {frm} to {to}"
    if not ok:
        raise RiskmapError(f"{head_zh}：{why_zh}", f"{head_en}: {why_en}", where=f"{where}.status")
    _set_fields(d, fields, where)
    if to == "rectified" and d.grade == "major":
        missing = missing_five_elements(d)
        if missing:
            raise RiskmapError(f"{head_zh}：五到位未落实，缺少 {'、'.join(zh for _, zh in missing)}",
                               f"{head_en}: the five elements are incomplete, missing "
                               f"{', '.join(k for k, _ in missing)}", where=f"{where}.{missing[0][0]}")
    if to == "supervised" and not d.supervising_department:
        raise RiskmapError(f"{head_zh}：挂牌督办须写明督办部门", f"{head_en}: name the supervising department",
                           where=f"{where}.supervising_department")
    if to == "closed" and not d.effect_evaluation:
        raise RiskmapError(f"{head_zh}：销号须有整改效果评价", f"{head_en}: closing needs an effect evaluation (整改效果评价)",
                           where=f"{where}.effect_evaluation")
    if frm == "rectified" and to in ("rectifying", "supervised") and not (note or "").strip():
        raise RiskmapError(f"{head_zh}：退回整改须说明整改效果评价不合格的原因",
                           f"{head_en}: sending it back needs a note saying why the evaluation failed", where="note")
    d.status = to
    if to == "closed" and d.closed_date is None:
        d.closed_date = dt.date.today()
    event = HiddenDangerEvent(danger_id=d.id, from_status=frm, to_status=to, by=by.strip(), note=note)
    session.add(event)
    if to == "closed" or frm == "closed":
        _after_change(session, d, by)
    else:
        session.flush()
    return event


def is_overdue(d: HiddenDanger, today: dt.date) -> bool:
    """Deadline passed and not yet 整改完成 or 销号."""
    return d.deadline is not None and d.deadline < today and d.status not in DONE


def overdue_mask(status: Iterable, deadline: Iterable, today: dt.date) -> np.ndarray:
    """Vectorised :func:`is_overdue` over columns of statuses and deadlines (dates or None)."""
    st = np.asarray(list(status), dtype=object)
    dl = pd.to_datetime(pd.Series(list(deadline), dtype=object), errors="coerce")
    passed = (dl < pd.Timestamp(today)).to_numpy(dtype=bool, na_value=False)
    return passed & ~np.isin(st, DONE)


def states_at(project, at: dt.date) -> pd.DataFrame:
    """Each hidden danger's lifecycle as of the end of the date ``at``, from its dated events: ``id``,
    ``status`` (the last step taken by then), ``supervised`` (挂牌督办 by then) and ``exists`` (found by then:
    ``found_date`` ≤ ``at``, or without one, a first event by then). A danger found but with no event yet is
    登记 (registered)."""
    from sqlalchemy import bindparam, text

    from riskmap.model.base import Timestamp

    end = dt.datetime.combine(at + dt.timedelta(days=1), dt.time())
    d = project.read_table("hidden_dangers", columns=["id", "found_date"])
    q = text("SELECT danger_id, to_status FROM hidden_danger_events WHERE at < :end ORDER BY danger_id, at, id"
             ).bindparams(bindparam("end", type_=Timestamp()))
    with project.engine.connect() as conn:
        ev = pd.DataFrame(conn.execute(q, {"end": end}).all(), columns=["danger_id", "to_status"])
    last = ev.groupby("danger_id")["to_status"].last()
    sup = set(ev.loc[ev["to_status"] == "supervised", "danger_id"].tolist())
    ids = d["id"].astype("int64").tolist()
    found = pd.to_datetime(pd.Series(list(d["found_date"]), dtype=object), errors="coerce")
    found_ok = (found <= pd.Timestamp(at)).to_numpy(dtype=bool, na_value=False)
    no_date = found.isna().to_numpy()
    has_event = np.isin(np.asarray(ids, dtype=np.int64), last.index.to_numpy(dtype=np.int64))
    status = [last.get(i, "registered") for i in ids]
    return pd.DataFrame({"id": np.asarray(ids, dtype=np.int64), "status": pd.Series(status, dtype=object),
                         "supervised": np.array([i in sup for i in ids], dtype=bool),
                         "exists": found_ok | (no_date & has_event)})


def danger_table(project, today: dt.date | None = None, *, only_open: bool = False,
                 only_overdue: bool = False, at: dt.date | None = None) -> pd.DataFrame:
    """The hidden dangers with enterprise name, Chinese status and overdue flag (relative to ``today``).
    ``at``: as they stood at the end of that date (:func:`states_at`; those not yet found are left out,
    ``today`` defaults to ``at``)."""
    today = today or at or dt.date.today()
    if at is not None:  # read once per date inside project.shared_reads()
        key = ("danger_table", today, only_open, only_overdue, at)
        return project.memo(key, lambda: _danger_table(project, today, only_open, only_overdue, at)).copy()
    return _danger_table(project, today, only_open, only_overdue, at)


def _danger_table(project, today: dt.date, only_open: bool, only_overdue: bool, at) -> pd.DataFrame:
    d = project.read_table("hidden_dangers", columns=[
        "id", "enterprise_id", "title", "grade", "status", "found_date", "deadline", "responsible_person",
        "measures", "funds_wan", "plan", "supervising_department", "effect_evaluation", "closed_date"])
    d = pd.DataFrame(d.drop(columns="geometry", errors="ignore"))
    if at is not None:
        st = states_at(project, at).set_index("id")
        ids = d["id"].astype("int64")
        d = d.assign(status=st["status"].reindex(ids).to_numpy(), supervised=st["supervised"].reindex(ids).to_numpy())
        d = d[st["exists"].reindex(ids).to_numpy(dtype=bool)].reset_index(drop=True)
        closed = d["status"] == "closed"
        d["closed_date"] = d["closed_date"].where(closed, None)
    from riskmap.store.zoning import enterprise_names

    with project.engine.connect() as conn:  # the dangers' enterprises only, not all (a city's million: 6.5 s)
        names = enterprise_names(conn, {int(i) for i in d["enterprise_id"].tolist() if i is not None and i == i})
    d["enterprise"] = [names.get(int(i)) if i is not None and i == i else None for i in d["enterprise_id"].tolist()]
    d["status_zh"] = [_zh(s) for s in d["status"]]
    d["grade_zh"] = [GRADE_ZH.get(g, g) for g in d["grade"]]
    d["overdue"] = overdue_mask(d["status"], d["deadline"], today) if len(d) else np.zeros(0, bool)
    d["open"] = d["status"].isin(OPEN)
    if only_open:
        d = d[d["open"]]
    if only_overdue:
        d = d[d["overdue"]]
    return d
