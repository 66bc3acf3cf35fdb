"""直接判定 rules: conditions on an enterprise's facts that set a level regardless of any score.

Rules live in ``direct_rules.toml`` as data (field, comparison, value); nothing is evaluated as code.

>>> [f.id for f in evaluate_direct_rules({"open_major_hidden_dangers": 1})]
['open_major_hidden_danger']
>>> evaluate_direct_rules({"major_hazard_grade": 3})
[]
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskmap.errors import RiskmapError
from riskmap.grading._common import (GradeResult, bad_data, cached_loader, data_bool, data_level, data_list,
                                     data_source, data_text, resolve)
from riskmap.levels import label_zh, level_info

OPS = ("==", "!=", ">", ">=", "<", "<=", "in", "not_in", "is_true", "is_false")
_NO_VALUE = ("is_true", "is_false")
_TRUE = {"true", "yes", "y", "1", "是", "有", "√"}
_FALSE = {"false", "no", "n", "0", "否", "无", "×"}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None

    def text(self) -> str:
        if self.op in _NO_VALUE:
            return f"{self.field} {self.op}"
        return f"{self.field} {self.op} {self.value!r}"


@dataclass(frozen=True)
class DirectRule:
    """One rule of ``direct_rules.toml``."""

    id: str
    zh: str
    en: str
    level: int
    enabled: bool
    source: str
    match: str  # "all" or "any"
    when: tuple[Condition, ...]


@dataclass(frozen=True)
class DirectRules:
    path: Path
    source: dict
    rules: tuple[DirectRule, ...]


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired, with the facts that made it fire."""

    id: str
    level: int
    level_name: str
    colour: str
    zh: str
    en: str
    source: str
    facts: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def _parse(data: dict, path: Path) -> DirectRules:
    source = data_source(data, path)
    rules, ids = [], set()
    for i, row in enumerate(data_list(data, "rule", path)):
        here = f"rule[{i}]"
        rid = data_text(row, "id", path, here)
        if rid in ids:
            raise bad_data(f"规则 id “{rid}” 重复", f"rule id {rid!r} given twice", path, f"{here}.id")
        ids.add(rid)
        match = row.get("match", "all")
        if match not in ("all", "any"):
            raise bad_data(f"{here}.match 应为 all 或 any", f"{here}.match must be all or any", path, f"{here}.match")
        conds = []
        for j, c in enumerate(data_list(row, "when", path) if isinstance(row.get("when"), list) else []):
            chere = f"{here}.when[{j}]"
            fld = data_text(c, "field", path, chere)
            op = c.get("op")
            if op not in OPS:
                raise bad_data(f"{chere}.op 应为 {', '.join(OPS)} 之一", f"{chere}.op must be one of {', '.join(OPS)}",
                               path, f"{chere}.op")
            value = c.get("value")
            if op in _NO_VALUE:
                value = None
            elif value is None:
                raise bad_data(f"{chere} 缺少 value", f"{chere} needs a value", path, f"{chere}.value")
            elif op in ("in", "not_in") and not isinstance(value, list):
                raise bad_data(f"{chere}.value 应为列表", f"{chere}.value must be a list", path, f"{chere}.value")
            elif op in (">", ">=", "<", "<=") and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise bad_data(f"{chere}.value 应为数字", f"{chere}.value must be a number", path, f"{chere}.value")
            conds.append(Condition(fld, op, value))
        if not conds:
            raise bad_data(f"{here} 缺少条件 [[rule.when]]", f"{here} has no [[rule.when]] conditions", path,
                           f"{here}.when")
        rules.append(DirectRule(id=rid, zh=data_text(row, "zh", path, here), en=data_text(row, "en", path, here),
                                level=data_level(row, "level", path, here),
                                enabled=data_bool(row, "enabled", path, here, True),
                                source=data_text(row, "source", path, here), match=match, when=tuple(conds)))
    return DirectRules(path=path, source=source, rules=tuple(rules))


load = cached_loader("direct_rules.toml", _parse)


def _truth(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().casefold() in _TRUE | _FALSE:
        return value.strip().casefold() in _TRUE
    raise RiskmapError(f"{where} 应为是/否，收到 {value!r}", f"{where} must be yes/no, got {value!r}", where=where)


def _number(value: Any, where: str) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise RiskmapError(f"{where} 应为数字，收到 {value!r}", f"{where} must be a number, got {value!r}", where=where)


def _same(a: Any, b: Any) -> bool:
    """Equality for facts: bools only equal bools; numbers (or numeric text) compare by value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    try:
        if isinstance(a, (numbers.Real, str)) and isinstance(b, (numbers.Real, str)) \
                and not (isinstance(a, str) and isinstance(b, str)):
            return float(a) == float(b)
    except ValueError:
        return False
    return a == b


def _holds(cond: Condition, facts: dict) -> bool:
    """Whether one condition holds; a missing (or None) fact never holds."""
    if facts.get(cond.field) is None:
        return False
    actual = facts[cond.field]
    where = f"facts.{cond.field}"
    if isinstance(actual, str):
        actual = actual.strip()
    if cond.op == "is_true":
        return _truth(actual, where)
    if cond.op == "is_false":
        return not _truth(actual, where)
    if cond.op in ("in", "not_in"):
        inside = any(_same(actual, v) for v in cond.value)
        return inside if cond.op == "in" else not inside
    if cond.op in ("==", "!="):
        return _same(actual, cond.value) == (cond.op == "==")
    a, v = _number(actual, where), float(cond.value)
    return {">": a > v, ">=": a >= v, "<": a < v, "<=": a <= v}[cond.op]


def evaluate_direct_rules(facts: dict, rules=None, *, include_disabled: bool = False) -> list[FiredRule]:
    """The enabled rules that fire on ``facts``, highest level first. ``rules``: a loaded rule set, a
    path to a rules file, or ``None`` for the bundled ``direct_rules.toml``."""
    if not isinstance(facts, dict):
        raise RiskmapError("facts 应为字典", "facts must be a dict", where="facts")
    rs = resolve(rules, load)
    fired = []
    for rule in rs.rules:
        if not (rule.enabled or include_disabled):
            continue
        results = [_holds(c, facts) for c in rule.when]
        if all(results) if rule.match == "all" else any(results):
            info = level_info(rule.level)
            used = {c.field: facts.get(c.field) for c, ok in zip(rule.when, results) if ok}
            fired.append(FiredRule(id=rule.id, level=rule.level, level_name=info.name_zh, colour=info.colour,
                                   zh=rule.zh, en=rule.en, source=rule.source, facts=used))
    return sorted(fired, key=lambda f: f.level)


def apply_direct_rules(result: GradeResult, facts: dict, rules=None) -> GradeResult:
    """Raise ``result`` to the level of any fired rule (就高) and say which rule fired.

    >>> from riskmap.grading import grade
    >>> r = apply_direct_rules(grade("ls", {"L": 1, "S": 2}), {"major_hazard_grade": 1})
    >>> r.level, r.details["direct_rules"]
    (1, ['major_hazard_grade_1_2'])
    """
    fired = evaluate_direct_rules(facts, rules)
    if not fired:
        return result
    top = fired[0]
    details = dict(result.details)
    details["direct_rules"] = [f.id for f in fired]
    details["graded_level"] = result.level
    names = "；".join(f"{f.zh}（{f.id}）→ {label_zh(f.level)}" for f in fired)
    if top.level < result.level:
        return dataclasses.replace(
            result, level=top.level, level_name=top.level_name, colour=top.colour, details=details,
            explanation=f"{result.explanation} 直接判定：{names}；就高取{label_zh(top.level)}。")
    return dataclasses.replace(result, details=details,
                               explanation=f"{result.explanation} 直接判定：{names}；不高于评定等级，维持原等级。")
