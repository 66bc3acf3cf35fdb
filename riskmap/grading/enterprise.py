"""Enterprise level: the highest level of its risk points and hazard sources (就高), raised by any
直接判定 rule that fires, unless an assessor has overridden it with a written reason.

Every decision is appended as an immutable :class:`~riskmap.model.Assessment` (the database refuses
updates); the enterprise's current level is the newest enterprise-level record of that history, and
``Enterprise.level`` is only a cache of it. Re-grading never rewrites an old record.

Record methods on the enterprise level (``risk_point_id`` is NULL):

- ``max``: derived — 就高 of the graded risk points plus the 直接判定 rules that fire;
- ``override``: an assessor's level with a written reason; it stays in force until ``clear_override``;
- ``override_rules``: an override is in force and a 直接判定 rule fired that had not fired when the
  override was made (e.g. a new 重大隐患); the rule still raises the level (就高). When that rule no
  longer fires, a new ``override_rules`` record returns the level to the override's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from riskmap.errors import RiskmapError
from riskmap.levels import level_info, parse_level
from riskmap.model import Assessment, Enterprise, HiddenDanger, RiskPoint

OPEN_STATUSES = ("registered", "rectifying", "supervised", "rectified")  # not yet 销号
ENTERPRISE_METHODS = ("max", "override", "override_rules")
_FACT_KEYS = ("key_hazardous_process", "key_process_automated", "accidents_larger_3y",
              "external_distance_insufficient")


def enterprise_facts(session: Session, ent: Enterprise) -> dict:
    """The facts the 直接判定 rules read (see resources/standards/direct_rules.toml)."""
    open_major = session.scalar(
        select(func.count()).select_from(HiddenDanger).where(
            HiddenDanger.enterprise_id == ent.id, HiddenDanger.grade == "major",
            HiddenDanger.status.in_(OPEN_STATUSES)))
    facts: dict = {"open_major_hidden_dangers": int(open_major or 0)}
    grades = [rp.major_hazard_grade for rp in ent.risk_points if rp.major_hazard_grade]
    if grades:
        facts["major_hazard_grade"] = min(grades)
    for lst in sorted(ent.lists, key=lambda x: x.id or 0):
        content = lst.content or {}
        for key in _FACT_KEYS:
            if key in content:
                facts[key] = content[key]
    return facts


# ---------------------------------------------------------------- history

def _enterprise_records(ent: Enterprise):
    return (select(Assessment)
            .where(Assessment.enterprise_id == ent.id, Assessment.risk_point_id.is_(None),
                   Assessment.method.in_(ENTERPRISE_METHODS)))


def enterprise_history(session: Session, ent: Enterprise, *, every_record: bool = False) -> list[Assessment]:
    """All enterprise-level records of ``ent``, oldest first; ``every_record``: every record about it (imports
    too) and its risk points' records."""
    if every_record:
        points = select(RiskPoint.id).where(RiskPoint.enterprise_id == ent.id)
        query = select(Assessment).where(or_(Assessment.enterprise_id == ent.id, Assessment.risk_point_id.in_(points)))
    else:
        query = _enterprise_records(ent)
    return list(session.scalars(query.order_by(Assessment.assessed_at, Assessment.id)))


def current_record(session: Session, ent: Enterprise) -> Assessment | None:
    """The newest enterprise-level record: the one the current level comes from."""
    return session.scalars(_enterprise_records(ent)
                           .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()).limit(1)).first()


def current_level(session: Session, ent: Enterprise) -> int | None:
    """The enterprise's current level, read from its history (``None``: never graded)."""
    rec = current_record(session, ent)
    return None if rec is None else rec.level


def day_end(at: dt.date) -> dt.datetime:
    """The first moment after the date ``at`` (records are stamped in UTC): a record counts on ``at`` when it
    is earlier than this."""
    return dt.datetime.combine(at + dt.timedelta(days=1), dt.time())


def levels_at(conn, at: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Every enterprise's level as of the end of the date ``at``: the level of its newest enterprise-level
    record (the record :func:`current_record` would have returned then) — arrays (enterprise id, level), in id
    order, for the enterprises that had a record by then. One query (a window over the records), no loop."""
    a = Assessment.__table__
    ranked = (select(a.c.enterprise_id, a.c.level,
                     func.row_number().over(partition_by=a.c.enterprise_id,
                                            order_by=(a.c.assessed_at.desc(), a.c.id.desc())).label("rn"))
              .where(a.c.risk_point_id.is_(None), a.c.enterprise_id.is_not(None),
                     a.c.method.in_(ENTERPRISE_METHODS), a.c.assessed_at < day_end(at))
              .subquery())
    rows = conn.execute(select(ranked.c.enterprise_id, ranked.c.level).where(ranked.c.rn == 1)
                        .order_by(ranked.c.enterprise_id)).all()
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    n = len(rows)  # numpy on Row objects probes each as a mapping first: seconds at 100k rows
    return (np.fromiter((r[0] for r in rows), np.int64, n), np.fromiter((r[1] for r in rows), np.int64, n))


def project_levels_at(project, at: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """:func:`levels_at` on ``project`` (read once per date inside ``project.shared_reads()``); copies."""
    def read():
        with project.engine.connect() as conn:
            return levels_at(conn, at)

    ids, lv = project.memo(("levels_at", at), read)
    return ids.copy(), lv.copy()


def latest_override(session: Session, ent: Enterprise) -> Assessment | None:
    """The assessor's override in force: the newest ``override`` not followed by a derived (``max``) record."""
    last = session.scalars(
        select(Assessment).where(Assessment.enterprise_id == ent.id, Assessment.risk_point_id.is_(None),
                                 Assessment.method.in_(("max", "override")))
        .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()).limit(1)).first()
    return last if last is not None and last.method == "override" else None


# ---------------------------------------------------------------- deciding the level

@dataclass
class LevelDecision:
    """What the rules say an enterprise's level is now (nothing written yet)."""

    level: int | None
    method: str  # max | override_rules | override
    explanation: str
    inputs: dict = field(default_factory=dict)
    override: Assessment | None = None


def _graded_level(session: Session, ent: Enterprise):
    """就高 of the graded risk points, and the fired 直接判定 rules."""
    from riskmap.grading import evaluate_direct_rules

    points = [rp for rp in ent.risk_points if rp.level is not None]
    fired = evaluate_direct_rules(enterprise_facts(session, ent))
    level, reasons = None, []
    if points:
        worst = min(points, key=lambda rp: (rp.level, rp.id or 0))
        level = worst.level
        reasons.append(f"就高: {'危险源' if worst.kind == 'hazard_source' else '风险点'}“{worst.name}”"
                       f"为{level_info(level).name_zh}（共{len(points)}个已评估）")
    inputs = {"risk_points": {str(rp.id): rp.level for rp in sorted(points, key=lambda p: p.id or 0)},
              "rules": [f.id for f in fired]}
    return level, reasons, inputs, fired


def decide_level(session: Session, ent: Enterprise, *, keep_override: bool = True) -> LevelDecision:
    """The level the risk points, the 直接判定 rules and any override in force give ``ent`` now."""
    session.flush()
    override = latest_override(session, ent) if keep_override else None
    level, reasons, inputs, fired = _graded_level(session, ent)
    if override is not None:
        before = set((override.inputs or {}).get("rules", []))
        new = [f for f in fired if f.id not in before]
        level, method = override.level, "override_rules"
        reasons = [f"评估人覆盖为{level_info(override.level).name_zh}（{override.assessor or ''}，"
                   f"{override.assessed_at:%Y-%m-%d}）: {override.note or ''}"]
        for f in new:
            if f.level < level:
                level = f.level
            reasons.append(f"覆盖后新触发直接判定: {f.zh} → {level_info(f.level).name_zh}")
        inputs = {"override_id": override.id, "rules": [f.id for f in new]}
        return LevelDecision(level, method, "；".join(reasons), inputs, override)
    for f in fired:
        if level is None or f.level < level:
            level = f.level
        reasons.append(f"直接判定: {f.zh} → {level_info(f.level).name_zh}")
    if level is None:
        return LevelDecision(None, "max", "无已评估的风险点，未定级", inputs)
    return LevelDecision(level, "max", "；".join(reasons), inputs)


def _apply(ent: Enterprise, record: Assessment | None, decision: LevelDecision) -> None:
    ent.level = decision.level
    ent.level_basis = decision.explanation
    ent.level_assessment_id = None if record is None else record.id


def derive_level(session: Session, ent: Enterprise, *, assessor: str | None = None, keep_override: bool = True,
                 only_if_changed: bool = False) -> Assessment | None:
    """Decide ``ent``'s level now; append the record and return it.

    With ``only_if_changed`` (automatic re-derivation, e.g. after a hidden danger changes), nothing is
    appended when the level and its inputs equal the current record's. With an override in force and
    no rule newer than it, the override record itself is returned. An enterprise with no graded risk
    point and no fired rule gets no record and level ``None`` (未定级).
    """
    decision = decide_level(session, ent, keep_override=keep_override)
    current = current_record(session, ent)
    if decision.level is None:
        _apply(ent, None, decision)
        return None
    if decision.method == "override_rules" and current is not None:
        if current.id == decision.override.id and not decision.inputs["rules"]:
            _apply(ent, current, decision)  # the override alone, as recorded
            return current
        if current.method == "override_rules" and current.level == decision.level \
                and (current.inputs or {}) == decision.inputs:
            _apply(ent, current, decision)
            return current
    elif only_if_changed and current is not None and current.method == "max" \
            and current.level == decision.level and (current.inputs or {}) == decision.inputs:
        _apply(ent, current, decision)
        return current
    record = Assessment(enterprise_id=ent.id, method=decision.method, inputs=decision.inputs, score=None,
                        level=decision.level, explanation=decision.explanation, assessor=assessor)
    session.add(record)
    session.flush()
    _apply(ent, record, decision)
    return record


def override_level(session: Session, ent: Enterprise, level, *, reason: str, assessor: str) -> Assessment:
    """An assessor sets the level by hand; a written reason and a name are required.

    ``level`` may be written in any way :func:`~riskmap.levels.parse_level` accepts. The record keeps
    the derived level and the rules that fired at the time, so later rules can still raise it.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise RiskmapError("覆盖风险等级必须填写理由", "an override needs a written reason", where="reason")
    if not isinstance(assessor, str) or not assessor.strip():
        raise RiskmapError("覆盖风险等级必须填写评估人", "an override needs the assessor's name", where="assessor")
    n = parse_level(level, where="level")
    session.flush()
    graded, _, inputs, _ = _graded_level(session, ent)
    reason, assessor = reason.strip(), assessor.strip()
    record = Assessment(enterprise_id=ent.id, method="override",
                        inputs={"level": n, "graded_level": graded, "rules": inputs["rules"]}, level=n,
                        explanation=f"评估人覆盖为{level_info(n).name_zh}: {reason}", assessor=assessor, note=reason)
    session.add(record)
    session.flush()
    ent.level = n
    ent.level_basis = f"评估人覆盖: {reason}（{assessor}）"
    ent.level_assessment_id = record.id
    return record


def clear_override(session: Session, ent: Enterprise, *, assessor: str) -> Assessment | None:
    """End an override: the level is derived from the risk points and rules again (a ``max`` record)."""
    if latest_override(session, ent) is None:
        raise RiskmapError(f"企业“{ent.name}”没有生效的评估人覆盖", f"enterprise {ent.name!r} has no override in force",
                           where=f"enterprises[{ent.id}]")
    decision = decide_level(session, ent, keep_override=False)
    if decision.level is None:
        raise RiskmapError(f"企业“{ent.name}”没有已评估的风险点，解除覆盖后无法定级；请先评估风险点",
                           f"enterprise {ent.name!r} has no graded risk point: grade one before ending the override",
                           where=f"enterprises[{ent.id}]")
    record = Assessment(enterprise_id=ent.id, method="max", inputs={**decision.inputs, "cleared_override": True},
                        level=decision.level, explanation=f"解除评估人覆盖；{decision.explanation}", assessor=assessor)
    session.add(record)
    session.flush()
    _apply(ent, record, LevelDecision(decision.level, "max", record.explanation))
    return record


def grade_risk_point(session: Session, rp: RiskPoint, method: str, inputs: dict, *, assessor: str | None = None,
                     note: str | None = None) -> Assessment:
    """Grade one risk point or hazard source; append the record and set the point's level."""
    from riskmap.grading import grade

    result = grade(method, inputs)
    record = Assessment(enterprise_id=rp.enterprise_id, risk_point_id=rp.id, method=method, inputs=inputs,
                        score=result.score, level=result.level, explanation=result.explanation,
                        assessor=assessor, note=note)
    session.add(record)
    session.flush()
    rp.level = result.level
    rp.level_assessment_id = record.id
    if method == "gb18218":
        details = result.details or {}
        rp.major_hazard_grade = details.get("grade_n") if details.get("major_hazard") else None
    return record


def regrade_risk_point(session: Session, rp: RiskPoint, method: str, inputs: dict, *, assessor: str,
                       note: str | None = None, recolour: bool = True) -> tuple[Assessment, Assessment | None]:
    """Re-grade one risk point, then its enterprise (appending both records) and, when the enterprise's
    level changed, recolour only the zones that contain it. Returns (point record, enterprise record)."""
    ent = session.get(Enterprise, rp.enterprise_id)
    before = ent.level
    point_record = grade_risk_point(session, rp, method, inputs, assessor=assessor, note=note)
    ent_record = derive_level(session, ent, assessor=assessor)
    if recolour:
        from riskmap.grading.zoning import enterprises_changed
        enterprises_changed(session, [ent.id], old_levels={ent.id: before})
    return point_record, ent_record
