"""The standards the planning checks read: GB 36894 limits, GB 32167 rules, lifeline grading rules.

Each is a TOML file in ``resources/standards/`` with its source; the environment variable
``RISKMAP_STANDARDS_DIR`` (or the ``path`` arguments) point elsewhere for tests and local tables.

>>> gb = load_gb36894()
>>> gb.threshold("general_2", "in_service")
1e-05
>>> gb.derive_class("residential", 45)
'general_2'
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from riskmap.errors import RiskmapError
from riskmap.paths import STANDARDS_DIR

STATUSES = ("new", "in_service")
STATUS_ZH = {"new": "新建", "in_service": "在役"}


def standards_dir() -> Path:
    return Path(os.environ.get("RISKMAP_STANDARDS_DIR") or STANDARDS_DIR)


def read_standard(name: str, path: Path | None = None) -> dict:
    """Read one standards file; a missing or malformed file is a RiskmapError naming it."""
    path = Path(path) if path else standards_dir() / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskmapError(f"标准数据文件不存在: {path}", f"standards file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RiskmapError(f"标准数据文件格式错误: {path} ({exc})", f"malformed standards file: {path} ({exc})") from None


def _need(table: dict, key: str, where: str):
    if key not in table:
        raise RiskmapError(f"缺少字段“{key}”", f"missing field {key!r}", where=where)
    return table[key]


def _positive(value, where: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (math.isfinite(v) and v > 0):
        raise RiskmapError(f"应为正数: {value!r}", f"must be a positive number: {value!r}", where=where)
    return v


def normalise_status(value) -> str:
    """``新建``/``new`` → ``new``; ``在役``/``现有``/``in_service`` → ``in_service``."""
    text = str(value or "").strip().lower().replace("-", "_").replace(" ", "_")
    if text in ("new", "新建", "新建装置", "拟建", "改扩建", "planned"):
        return "new"
    if text in ("in_service", "inservice", "existing", "在役", "在役装置", "现有", "已建", "operating"):
        return "in_service"
    raise RiskmapError(f"装置状态应为“新建”或“在役”: {value!r}", f"installation status must be new or in_service: {value!r}")


# ------------------------------------------------------------------------------------------ GB 36894

@dataclass(frozen=True)
class TargetClass:
    code: str
    zh: str
    new: float
    in_service: float


@dataclass(frozen=True)
class GB36894:
    """Individual-risk limits by protected-target class and installation status, and class derivation."""

    classes: dict[str, TargetClass]
    by_kind: dict[str, str]
    by_people: tuple[tuple[str, int], ...]
    unknown_people: str
    contour_values: tuple[float, ...]
    match_tolerance: float
    source: dict = field(default_factory=dict)

    def threshold(self, cls: str, status: str) -> float:
        status = normalise_status(status)
        try:
            c = self.classes[cls]
        except KeyError:
            raise RiskmapError(f"未知的防护目标类别: {cls!r}", f"unknown protected-target class: {cls!r}") from None
        return c.new if status == "new" else c.in_service

    def class_zh(self, cls: str | None) -> str:
        return self.classes[cls].zh if cls in self.classes else (cls or "")

    def derive_class(self, kind: str | None, people) -> str:
        """The class of a target from its kind and people (see the data file's note)."""
        if kind in self.by_kind:
            return self.by_kind[kind]
        try:
            n = float(people)
        except (TypeError, ValueError):
            n = float("nan")
        if not math.isfinite(n):
            return self.unknown_people
        for cls, minimum in self.by_people:
            if n >= minimum:
                return cls
        return self.by_people[-1][0]

    def parse_class(self, text: str) -> str:
        """A class code from its code or Chinese name (``一类``, ``高敏感`` …)."""
        t = str(text).strip()
        if t in self.classes:
            return t
        aliases = {"高敏感": "high_sensitive", "重要": "important", "一类": "general_1", "二类": "general_2",
                   "三类": "general_3"}
        for key, code in aliases.items():
            if key in t:
                return code
        for c in self.classes.values():
            if t == c.zh:
                return c.code
        raise RiskmapError(f"未知的防护目标类别: {text!r}", f"unknown protected-target class: {text!r}")

    def snap_risk(self, value: float) -> float:
        """A contour value snapped to the standard value within the tolerance (else unchanged)."""
        for v in self.contour_values:
            if abs(value - v) <= self.match_tolerance * v:
                return v
        return value


@lru_cache(maxsize=8)
def _gb36894(path: str) -> GB36894:
    data = read_standard("gb36894.toml", Path(path))
    classes = {}
    for i, row in enumerate(_need(data, "classes", path)):
        where = f"{path} classes[{i}]"
        code = _need(row, "code", where)
        classes[code] = TargetClass(code, row.get("zh", code), _positive(_need(row, "new", where), where),
                                    _positive(_need(row, "in_service", where), where))
    derive = data.get("derive", {})
    by_kind = dict(derive.get("by_kind", {}))
    by_people = tuple((r["class"], int(r["min_people"])) for r in derive.get("by_people", []))
    for cls in [*by_kind.values(), *(c for c, _ in by_people), derive.get("unknown_people", "general_1")]:
        if cls not in classes:
            raise RiskmapError(f"类别“{cls}”未在 classes 中定义", f"class {cls!r} is not defined in classes", where=path)
    contours = data.get("contours", {})
    return GB36894(classes=classes, by_kind=by_kind, by_people=by_people,
                   unknown_people=derive.get("unknown_people", "general_1"),
                   contour_values=tuple(float(v) for v in contours.get("values", (3e-5, 1e-5, 3e-6, 3e-7))),
                   match_tolerance=float(contours.get("match_tolerance", 0.02)), source=data.get("source", {}))


def load_gb36894(path: str | Path | None = None) -> GB36894:
    return _gb36894(str(path or standards_dir() / "gb36894.toml"))


# ------------------------------------------------------------------------------------------ GB 32167

@dataclass(frozen=True)
class HcaRule:
    id: str
    zh: str
    radius: str | float  # "pir" or metres
    diameter_gt: float | None = None
    diameter_lt: float | None = None
    pressure_gt: float | None = None
    pressure_lt: float | None = None

    def matches(self, d: float | None, p: float | None) -> bool:
        checks = ((self.diameter_gt, d, lambda a, b: a > b), (self.diameter_lt, d, lambda a, b: a < b),
                  (self.pressure_gt, p, lambda a, b: a > b), (self.pressure_lt, p, lambda a, b: a < b))
        for limit, value, op in checks:
            if limit is None:
                continue
            if value is None or not math.isfinite(value) or not op(value, limit):
                return False
        return True


@dataclass(frozen=True)
class GB32167:
    categories: tuple[str, ...]
    specific_site_kinds: tuple[str, ...]
    pir_coefficient: float
    rules: tuple[HcaRule, ...]
    source: dict = field(default_factory=dict)

    def rule_for(self, d: float | None, p: float | None) -> HcaRule | None:
        for rule in self.rules:
            if rule.matches(d, p):
                return rule
        return None


@lru_cache(maxsize=8)
def _gb32167(path: str) -> GB32167:
    data = read_standard("gb32167.toml", Path(path))
    rules = []
    for i, r in enumerate(_need(data, "rules", path)):
        where = f"{path} rules[{i}]"
        radius = _need(r, "radius", where)
        if radius != "pir":
            radius = _positive(radius, where)
        rules.append(HcaRule(id=_need(r, "id", where), zh=r.get("zh", ""), radius=radius,
                             **{k: float(r[k]) for k in ("diameter_gt", "diameter_lt", "pressure_gt", "pressure_lt")
                                if k in r}))
    return GB32167(categories=tuple(_need(data, "categories", path)),
                   specific_site_kinds=tuple(_need(data, "specific_site_kinds", path)),
                   pir_coefficient=_positive(_need(data, "pir_coefficient", path), path),
                   rules=tuple(rules), source=data.get("source", {}))


def load_gb32167(path: str | Path | None = None) -> GB32167:
    return _gb32167(str(path or standards_dir() / "gb32167.toml"))


# ------------------------------------------------------------------------------------------ lifeline rules

@dataclass(frozen=True)
class LifelineRule:
    id: str
    zh: str
    level: int
    source: str
    categories: tuple[str, ...] = ()
    material_any: tuple[str, ...] = ()
    material_exact: tuple[str, ...] = ()
    min_age_years: float | None = None
    pressure_gt: float | None = None
    pressure_ge: float | None = None
    diameter_ge: float | None = None


@dataclass(frozen=True)
class LifelineRules:
    rules: tuple[LifelineRule, ...]
    default_level: int
    source: dict = field(default_factory=dict)


@lru_cache(maxsize=8)
def _lifeline_rules(path: str) -> LifelineRules:
    data = read_standard("lifeline_rules.toml", Path(path))
    rules = []
    known = {"id", "zh", "level", "source", "categories", "material_any", "material_exact", "min_age_years",
             "pressure_gt", "pressure_ge", "diameter_ge"}
    for i, r in enumerate(_need(data, "rules", path)):
        where = f"{path} rules[{i}]"
        unknown = set(r) - known
        if unknown:
            raise RiskmapError(f"未知的条件: {', '.join(sorted(unknown))}", f"unknown condition(s): {sorted(unknown)}",
                               where=where)
        level = int(_need(r, "level", where))
        if level not in (1, 2, 3, 4):
            raise RiskmapError(f"等级应为 1–4: {level}", f"level must be 1-4: {level}", where=where)
        rules.append(LifelineRule(
            id=_need(r, "id", where), zh=r.get("zh", r["id"]), level=level, source=r.get("source", ""),
            categories=tuple(r.get("categories", ())), material_any=tuple(r.get("material_any", ())),
            material_exact=tuple(r.get("material_exact", ())),
            **{k: float(r[k]) for k in ("min_age_years", "pressure_gt", "pressure_ge", "diameter_ge") if k in r}))
    return LifelineRules(rules=tuple(rules), default_level=int(_need(data, "default_level", path)),
                         source=data.get("source", {}))


def load_lifeline_rules(path: str | Path | None = None) -> LifelineRules:
    return _lifeline_rules(str(path or standards_dir() / "lifeline_rules.toml"))
