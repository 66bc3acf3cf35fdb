"""Zoning rules on arrays: from the levels of the enterprises inside each zone to the zone's level.

The rules and numbers live in ``resources/standards/zoning.toml``; nothing here knows about projects.

>>> import numpy as np
>>> cfg = load().settings("max")
>>> out = evaluate(np.array([[0, 1, 2, 0], [0, 0, 0, 0]]), cfg)
>>> out.level.tolist()
[2, 4]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from riskmap.errors import RiskmapError
from riskmap.grading._common import (bad_data, cached_loader, data_bool, data_level, data_list, data_number,
                                     data_table, data_text, fmt, resolve)
from riskmap.levels import level_info

RULES = ("max", "weighted")
PER = ("km2", "10k_people", "zone")
PER_ZH = {"km2": "每平方千米", "10k_people": "每万人", "zone": "每区域"}


@dataclass(frozen=True)
class CountRule:
    """``min_count`` or more enterprises of ``level`` or higher → the zone is at least ``at_least``."""

    id: str
    zh: str
    en: str
    level: int
    min_count: int
    at_least: int
    enabled: bool

    def as_dict(self) -> dict:
        return {"id": self.id, "zh": self.zh, "en": self.en, "level": self.level, "min_count": self.min_count,
                "at_least": self.at_least, "enabled": self.enabled}


@dataclass(frozen=True)
class RuleSettings:
    """Everything one zoning run uses; stored with the zones so an incremental update uses the same."""

    rule: str
    zh: str
    empty_level: int | None
    count_rules: tuple[CountRule, ...]
    per: str | None = None
    weights: tuple[float, float, float, float] | None = None  # levels 1..4
    bands: tuple[float, float, float] | None = None  # lower bounds for levels 1, 2, 3 (inclusive)
    source: str = ""

    def as_dict(self) -> dict:
        return {"rule": self.rule, "zh": self.zh, "empty_level": self.empty_level,
                "count_rules": [c.as_dict() for c in self.count_rules], "per": self.per,
                "weights": None if self.weights is None else list(self.weights),
                "bands": None if self.bands is None else list(self.bands), "source": self.source}

    @classmethod
    def from_dict(cls, d: dict) -> RuleSettings:
        return cls(rule=d["rule"], zh=d["zh"], empty_level=d.get("empty_level"),
                   count_rules=tuple(CountRule(**c) for c in d.get("count_rules", [])), per=d.get("per"),
                   weights=None if d.get("weights") is None else tuple(d["weights"]),
                   bands=None if d.get("bands") is None else tuple(d["bands"]), source=d.get("source", ""))

    def label_zh(self) -> str:
        """The rule as printed on a map, e.g. ``加权密度（每平方千米）``."""
        if self.rule == "weighted":
            return f"加权密度（{PER_ZH[self.per]}）"
        return "就高"


@dataclass(frozen=True)
class ZoningStandard:
    """The parsed ``zoning.toml``."""

    path: Path
    source: str
    empty_level: int | None
    rules: dict  # rule name -> raw settings (dict)
    count_rules: dict  # id -> CountRule

    def settings(self, rule: str, per: str | None = None) -> RuleSettings:
        """The settings of one rule (``max`` or ``weighted``); ``per`` overrides the file's divisor."""
        if rule not in RULES:
            raise RiskmapError(f"未知的分区定级规则 {rule!r}，可选：{', '.join(RULES)}",
                               f"unknown zoning rule {rule!r}; use one of {', '.join(RULES)}", where="rule")
        raw = self.rules[rule]
        counts = tuple(self.count_rules[c] for c in raw["count_rules"] if self.count_rules[c].enabled)
        if rule == "max":
            return RuleSettings("max", raw["zh"], self.empty_level, counts, source=self.source)
        per = per or raw["per"]
        if per not in PER:
            raise RiskmapError(f"未知的密度口径 {per!r}，可选：{', '.join(PER)}",
                               f"unknown density divisor {per!r}; use one of {', '.join(PER)}", where="per")
        return RuleSettings("weighted", raw["zh"], self.empty_level, counts, per=per, weights=raw["weights"],
                            bands=raw["bands"][per], source=self.source)


def _levels_table(d: dict, key: str, path: Path, here: str, wanted: tuple[int, ...]) -> dict[int, float]:
    tbl = data_table(d, key, path, here)
    out = {}
    for n in wanted:
        out[n] = data_number(tbl, str(n), path, f"{here}.{key}", positive=False)
        if out[n] < 0:
            raise bad_data(f"{here}.{key}.{n} 不应为负数", f"{here}.{key}.{n} must not be negative", path,
                           f"{here}.{key}.{n}")
    return out


def _parse(data: dict, path: Path) -> ZoningStandard:
    source = data_text(data_table(data, "source", path), "standard", path, "source")
    general = data.get("general", {})
    empty = general.get("empty_level", 4)
    empty_level = None if empty == 0 else data_level(general, "empty_level", path, "general")
    count_rules = {}
    for i, row in enumerate(data_list(data, "count_rule", path) if "count_rule" in data else []):
        here = f"count_rule[{i}]"
        cid = data_text(row, "id", path, here)
        if cid in count_rules:
            raise bad_data(f"计数规则 {cid} 重复", f"count rule {cid} given twice", path, f"{here}.id")
        n = data_number(row, "min_count", path, here, positive=True)
        if not float(n).is_integer():
            raise bad_data(f"{here}.min_count 应为正整数", f"{here}.min_count must be a whole number", path,
                           f"{here}.min_count")
        count_rules[cid] = CountRule(id=cid, zh=data_text(row, "zh", path, here), en=data_text(row, "en", path, here),
                                     level=data_level(row, "level", path, here), min_count=int(n),
                                     at_least=data_level(row, "at_least", path, here),
                                     enabled=data_bool(row, "enabled", path, here, True))
    rules_tbl = data_table(data, "rule", path)
    rules = {}
    for name in RULES:
        raw = data_table(rules_tbl, name, path, "rule")
        here = f"rule.{name}"
        listed = raw.get("count_rules", [])
        if not isinstance(listed, list) or any(c not in count_rules for c in listed):
            unknown = [c for c in listed if c not in count_rules] if isinstance(listed, list) else listed
            raise bad_data(f"{here}.count_rules 引用了未定义的计数规则 {unknown}",
                           f"{here}.count_rules names undefined count rules {unknown}", path, f"{here}.count_rules")
        entry = {"zh": data_text(raw, "zh", path, here), "count_rules": list(listed)}
        if name == "weighted":
            per = raw.get("per", "km2")
            if per not in PER:
                raise bad_data(f"{here}.per 应为 {', '.join(PER)} 之一", f"{here}.per must be one of {', '.join(PER)}",
                               path, f"{here}.per")
            w = _levels_table(raw, "weights", path, here, (1, 2, 3, 4))
            bands_tbl = data_table(raw, "bands", path, here)
            bands = {}
            for p in PER:
                b = _levels_table(bands_tbl, p, path, f"{here}.bands", (1, 2, 3))
                if not b[1] > b[2] > b[3]:
                    raise bad_data(f"{here}.bands.{p} 阈值应从重大到一般递减",
                                   f"{here}.bands.{p} thresholds must decrease from level 1 to level 3", path,
                                   f"{here}.bands.{p}")
                bands[p] = (b[1], b[2], b[3])
            entry.update(per=per, weights=(w[1], w[2], w[3], w[4]), bands=bands)
        rules[name] = entry
    return ZoningStandard(path=path, source=source, empty_level=empty_level, rules=rules, count_rules=count_rules)


load = cached_loader("zoning.toml", _parse)


def settings(rule: str, *, per: str | None = None, standard=None) -> RuleSettings:
    """The settings of ``rule`` from ``standard`` (a path, a loaded standard, or ``None`` for the bundled file)."""
    return resolve(standard, load).settings(rule, per)


# ---------------------------------------------------------------- evaluation

@dataclass
class Outcome:
    """Per-zone results of one rule: arrays of length n_zones."""

    level: np.ndarray  # int, 0 = ungraded
    base_level: np.ndarray  # level before count rules
    score: np.ndarray  # float, NaN under 就高
    fired: np.ndarray  # bool (n_zones, n_count_rules)


def counts_by_level(zone_idx: np.ndarray, ent_level: np.ndarray, n_zones: int) -> np.ndarray:
    """(n_zones, 5) counts: columns 0..3 = levels 1..4, column 4 = ungraded (level 0 or missing)."""
    lv = np.asarray(ent_level, dtype=np.int64)
    col = np.where((lv >= 1) & (lv <= 4), lv - 1, 4)
    flat = np.bincount(np.asarray(zone_idx, dtype=np.int64) * 5 + col, minlength=n_zones * 5)
    return flat.reshape(n_zones, 5)


def evaluate(counts: np.ndarray, cfg: RuleSettings, divisor: np.ndarray | None = None) -> Outcome:
    """Levels of zones from their (n, 4 or 5) level counts. ``divisor``: km² or 10k people per zone
    (ignored for ``max`` and for ``per = zone``)."""
    counts = np.asarray(counts)
    graded = counts[:, :4]
    n = len(graded)
    has = graded.sum(axis=1) > 0
    empty = cfg.empty_level or 0
    if cfg.rule == "max":
        base = np.where(has, (graded > 0).argmax(axis=1) + 1, empty)
        score = np.full(n, np.nan)
    else:
        raw = graded @ np.asarray(cfg.weights, dtype=float)
        if cfg.per == "zone":
            score = raw
        else:
            d = np.asarray(divisor, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.where(d > 0, raw / d, np.nan)
        b1, b2, b3 = cfg.bands
        base = np.select([score >= b1, score >= b2, score >= b3], [1, 2, 3], 4)
        base = np.where(has, base, empty)
    level = base.copy()
    fired = np.zeros((n, len(cfg.count_rules)), dtype=bool)
    cum = np.cumsum(graded, axis=1)  # enterprises of level ≤ k
    for j, cr in enumerate(cfg.count_rules):
        fired[:, j] = cum[:, cr.level - 1] >= cr.min_count
        raise_to = fired[:, j] & ((level == 0) | (level > cr.at_least))
        level = np.where(raise_to, cr.at_least, level)
    return Outcome(level=level.astype(np.int64), base_level=base.astype(np.int64), score=score, fired=fired)


@dataclass(frozen=True)
class Names:
    """Level names and colour words, read once per run (``level_info`` reads the levels file each call)."""

    name: dict
    colour: dict

    @classmethod
    def load(cls) -> Names:
        infos = {k: level_info(k) for k in (1, 2, 3, 4)}
        return cls({k: v.name_zh for k, v in infos.items()}, {k: v.colour_zh for k, v in infos.items()})


def reason_texts(out: Outcome, counts: np.ndarray, cfg: RuleSettings, divisor, named: list[list[str]],
                 n_deciders, names: Names | None = None) -> list[str]:
    """The readable reason of every zone (Chinese). ``named``: per zone the names of the first enterprises of
    the highest level inside, ``n_deciders``: how many enterprises of that level there are.

    Under 加权密度 every graded enterprise adds its weight to the score, so the reason says that all of them
    are counted and kept as the objects that decided the level."""
    names = names or Names.load()
    rows = np.asarray(counts).tolist()
    levels, bases = out.level.tolist(), out.base_level.tolist()
    scores = np.asarray(out.score, dtype=float).tolist()
    divs = None if divisor is None else np.asarray(divisor, dtype=float).tolist()
    fired = out.fired.tolist()
    colour = [names.colour[k] for k in (1, 2, 3, 4)]
    c1, c2, c3, c4 = colour
    empty_note = "（zoning.toml general.empty_level）"
    weights = [fmt(w) for w in cfg.weights] if cfg.rule == "weighted" else None
    if cfg.rule == "weighted":
        band = {lv: f"≥ {fmt(cfg.bands[lv - 1])}" for lv in (1, 2, 3)} | {4: f"< {fmt(cfg.bands[2])}"}
        unit = "km²" if cfg.per == "km2" else "万人"
        head = f"加权密度（{PER_ZH[cfg.per]}）："
    effects = [({lv: (f"→ {names.name[cr.at_least]}" if cr.at_least < lv else "（未改变等级）") for lv in (1, 2, 3, 4)},
                f"计数规则：{cr.zh} ") for cr in cfg.count_rules]
    texts = []
    for i, row in enumerate(rows):
        inside = (f"区内企业 {c1}{row[0]} {c2}{row[1]} {c3}{row[2]} {c4}{row[3]}"  # one f-string: 50k zones
                  + (f" 未定级{row[4]}" if len(row) > 4 and row[4] else ""))
        graded = row[0] + row[1] + row[2] + row[3]
        lv = levels[i]
        if graded == 0:
            texts.append(f"区内无已定级企业，按{names.name[lv]}{empty_note}；{inside}" if lv
                         else f"区内无已定级企业，未定级；{inside}")
            continue
        base = bases[i]
        if cfg.rule == "max":
            who = "、".join(named[i]) + (f"等{n_deciders[i]}家" if n_deciders[i] > len(named[i]) else "")
            parts = [f"就高：区内最高为{names.name[base]}（{who}）"]
        else:
            terms = "+".join(f"{weights[k]}×{row[k]}" for k in range(4) if row[k])
            score = scores[i]
            if cfg.per == "zone":
                formula = f"{terms} = {fmt(round(score, 3))}"
            elif math.isfinite(score):
                formula = f"({terms}) ÷ {fmt(round(divs[i], 3))}{unit} = {fmt(round(score, 3))}"
            else:
                formula = f"({terms}) ÷ 0{unit}：无法计算"
            parts = [f"{head}{formula} {band[base]} → {names.name[base]}（得分计入区内全部 {graded} 家已定级企业，"
                     f"均保存为定级依据）"]
        for j, (effect, label) in enumerate(effects):
            if fired[i][j]:
                parts.append(label + effect[base])
        parts.append(inside)
        texts.append("；".join(parts))
    return texts
