"""Enterprise level: the highest level of its risk points and hazard sources (就高), raised by any
直接判定 rule that fires, unless an assessor has overridden it with a written reason.

Every decision is appended as an immutable Assessment; the enterprise's current level is derived from
that history and never rewrites an old record.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskmap.errors import RiskmapError
from riskmap.levels import level_info
from riskmap.model import Assessment, Enterprise, HiddenDanger, RiskPoint

OPEN_STATUSES = ("registered", "rectifying", "supervised", "rectified")


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
    lists = {lst.kind: lst.content or {} for lst in ent.lists}
    for key in ("key_hazardous_process", "key_process_automated", "accidents_larger_3y",
                "external_distance_insufficient"):
        for content in lists.values():
            if key in content:
                facts[key] = content[key]
    return facts


def latest_override(session: Session, ent: Enterprise) -> Assessment | None:
    """The assessor's override in force: the newest enterprise record, when it is an override."""
    last = session.scalars(
        select(Assessment).where(Assessment.enterprise_id == ent.id, Assessment.risk_point_id.is_(None))
        .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()).limit(1)).first()
    return last if last is not None and last.method == "override" else None


def derive_level(session: Session, ent: Enterprise, *, assessor: str | None = None,
                 keep_override: bool = True) -> Assessment:
    """Recompute ``ent``'s level from its risk points and the direct rules; record it; return the record."""
    from riskmap.grading import evaluate_direct_rules

    if keep_override:
        override = latest_override(session, ent)
        if override is not None:
            ent.level = override.level
            ent.level_basis = f"评估人覆盖: {override.note or ''}（{override.assessor or ''}）"
            ent.level_assessment_id = override.id
            return override
    points = [rp for rp in ent.risk_points if rp.level is not None]
    level, reasons, inputs = 4, [], {"risk_points": {}, "rules": []}
    if points:
        worst = min(points, key=lambda rp: rp.level)
        level = worst.level
        reasons.append(f"就高: 风险点“{worst.name}”为{level_info(level).name_zh}")
        inputs["risk_points"] = {str(rp.id): rp.level for rp in points}
    else:
        reasons.append("无已评估的风险点，默认低风险")
    for rule in evaluate_direct_rules(enterprise_facts(session, ent)):
        inputs["rules"].append(rule.id)
        if rule.level < level:
            level = rule.level
        reasons.append(f"直接判定: {rule.zh} → {level_info(rule.level).name_zh}")
    record = Assessment(enterprise_id=ent.id, method="max", inputs=inputs, score=None, level=level,
                        explanation="；".join(reasons), assessor=assessor)
    session.add(record)
    session.flush()
    ent.level = level
    ent.level_basis = record.explanation
    ent.level_assessment_id = record.id
    return record


def override_level(session: Session, ent: Enterprise, level: int, *, reason: str, assessor: str) -> Assessment:
    """An assessor sets the level by hand; a written reason and a name are required."""
    if not (reason or "").strip():
        raise RiskmapError("覆盖风险等级必须填写理由", "an override needs a written reason", where="reason")
    if not (assessor or "").strip():
        raise RiskmapError("覆盖风险等级必须填写评估人", "an override needs the assessor's name", where="assessor")
    if level not in (1, 2, 3, 4):
        raise RiskmapError(f"风险等级应为 1–4: {level}", f"level must be 1-4: {level}", where="level")
    record = Assessment(enterprise_id=ent.id, method="override", inputs={"level": level}, level=level,
                        explanation=f"评估人覆盖为{level_info(level).name_zh}: {reason}", assessor=assessor, note=reason)
    session.add(record)
    session.flush()
    ent.level = level
    ent.level_basis = f"评估人覆盖: {reason}（{assessor}）"
    ent.level_assessment_id = record.id
    return record


def clear_override(session: Session, ent: Enterprise, *, assessor: str) -> Assessment:
    """End an override: the level is derived from the risk points again."""
    return derive_level(session, ent, assessor=assessor, keep_override=False)


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
