"""GB 18218-2018 重大危险源: identification S = Σq/Q and grading R = α·Σβq/Q, from ``gb18218.toml``.

Q comes from Table 1 for a listed substance, else from Table 2 by the substance's hazard class (``hazard_class``,
e.g. "W5.4"); β from Table 3 for a named toxic gas (an input β that differs is refused), else from Table 4 by
class. Worked example (20 t 液氨 + 3 t 液氯, 120 people within 500 m):
S = 20/10 + 3/5 = 2.6 ≥ 1; R = 2.0 × (2×2 + 4×0.6) = 12.8 → 三级 → 一般风险 (黄).

>>> r = grade({"people_within_500m": 120,
...            "substances": [{"name": "液氨", "quantity_t": 20}, {"name": "液氯", "quantity_t": 3}]})
>>> r.score, r.details["grade"], r.colour
(12.8, '三级', '#FFE600')
>>> r = grade({"people_within_500m": 10, "substances": [{"name": "某易燃液体", "quantity_t": 50,
...                                                      "hazard_class": "W5.3"}]})
>>> r.details["substances"][0]["Q_t"], r.details["substances"][0]["Q_source"]
(1000.0, '表2 W5.3')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from riskmap.errors import RiskmapError
from riskmap.grading._common import (Band, GradeResult, as_number, as_text, as_whole, bad_data, band_range,
                                     cached_loader, check_inputs, data_bands, data_bool, data_level, data_list,
                                     data_number, data_source, data_table, data_text, fmt, make_result, need,
                                     pick_band, resolve, tidy)
from riskmap.levels import label_zh

METHOD = "gb18218"
_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "，": ",", "、": ",", "；": ";", "［": "[", "］": "]"})


def name_key(name: str) -> str:
    """Normalise a substance name for lookup: no spaces, half-width brackets, case-folded."""
    return re.sub(r"\s+", "", name.translate(_FULLWIDTH)).casefold()


@dataclass(frozen=True)
class Substance:
    """One confirmed row of GB 18218-2018 Table 1 with its β."""

    no: int
    name: str
    aliases: tuple[str, ...]
    cas: str
    Q_t: float
    beta: float
    beta_from: str  # "表3" or "表4"
    hazard_class: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ClassRow:
    """One row of GB 18218-2018 Table 2: a hazard class symbol, its description and critical quantity."""

    symbol: str
    hazard: str
    description: str
    Q_t: float
    note: str | None = None

    @property
    def label(self) -> str:
        """'W5.4 易燃液体：不属于W5.1或W5.2的其他类别3'"""
        return f"{self.symbol} {self.hazard}：{self.description}"


@dataclass(frozen=True)
class OutsideRow:
    """A common substance outside Table 1 with the Table 2 class riskmap takes for it by default."""

    name: str
    aliases: tuple[str, ...]
    hazard_class: str
    note: str


@dataclass(frozen=True)
class AlphaRow:
    label: str
    min_people: int
    max_people: int | None
    alpha: float


@dataclass(frozen=True)
class GB18218Standard:
    """Everything of ``gb18218.toml``: tables 1–6 and riskmap's settings."""

    path: Path
    source: dict
    boundary_in_upper_band: bool
    threshold: float
    not_major_level: int
    not_major_name: str
    alpha: tuple[AlphaRow, ...]
    grades: tuple[Band, ...]
    beta_table3: dict[str, float]
    beta_table4: dict[str, float]
    default_beta: float
    substances: tuple[Substance, ...]
    table2: dict[str, ClassRow] = field(default_factory=dict)
    outside_table1: tuple[OutsideRow, ...] = ()
    lookup: dict[str, Substance] = field(default_factory=dict, repr=False, compare=False)
    outside_lookup: dict[str, OutsideRow] = field(default_factory=dict, repr=False, compare=False)

    def find(self, name: str) -> Substance | None:
        """The Table 1 row for a name, alias or CAS number, or ``None``."""
        return self.lookup.get(name_key(name))

    def outside(self, name: str) -> OutsideRow | None:
        """The default Table 2 class of a common substance outside Table 1 (e.g. 柴油), or ``None``."""
        return self.outside_lookup.get(name_key(name))

    def alpha_for(self, people: int) -> AlphaRow:
        for row in self.alpha:
            if people >= row.min_people and (row.max_people is None or people <= row.max_people):
                return row
        raise RiskmapError(f"表5 中找不到 {people} 人对应的 α", f"no α row in Table 5 for {people} people",
                           where=f"{self.path}:alpha")

    def table3_beta(self, name: str) -> float | None:
        key = name_key(name)
        for gas, beta in self.beta_table3.items():
            if name_key(gas) == key:
                return beta
        return None


def _parse(data: dict, path: Path) -> GB18218Standard:
    source = data_source(data, path)
    settings = data_table(data, "settings", path)
    ident = data_table(data, "identification", path)
    not_major = data_table(data, "not_major", path)

    alpha_rows = []
    for i, row in enumerate(data_list(data, "alpha", path)):
        here = f"alpha[{i}]"
        lo = data_number(row, "min_people", path, here)
        hi = data_number(row, "max_people", path, here, required=False)
        if lo < 0 or not lo.is_integer() or (hi is not None and (not hi.is_integer() or hi < lo)):
            raise bad_data(f"{here} 人数范围错误", f"{here} has a bad people range", path, here)
        alpha_rows.append(AlphaRow(data_text(row, "label", path, here), int(lo), None if hi is None else int(hi),
                                   data_number(row, "alpha", path, here, positive=True)))
    covered = sorted((r.min_people, r.max_people) for r in alpha_rows)
    expect = 0
    for lo, hi in covered:  # the rows must cover 0, 1, 2, … without gaps or overlaps
        if lo != expect:
            raise bad_data("α 表人数范围须从 0 起连续且不重叠", "α rows must cover 0, 1, 2, … without gaps or overlaps",
                           path, "alpha")
        expect = None if hi is None else hi + 1
        if expect is None:
            break
    if expect is not None:
        raise bad_data("α 表缺少无上限的一行", "α table needs a row without max_people", path, "alpha")

    grades = data_bands(data, path, key="grades", name_key="grade")

    def beta_table(key: str) -> dict[str, float]:
        table = data_table(data, key, path)
        return {str(k): data_number(table, k, path, key, positive=True) for k in table}

    table3 = beta_table("beta_table3")
    table4 = beta_table("beta_table4")
    default_beta = table4.pop("default", None)
    if default_beta is None:
        raise bad_data("beta_table4 缺少 default（其他类别的 β）", "beta_table4 needs default (β of all others)",
                       path, "beta_table4.default")

    substances = []
    for i, row in enumerate(data_list(data, "substance", path)):
        here = f"substance[{i}]"
        name = data_text(row, "name", path, here)
        aliases = row.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise bad_data(f"{here}.aliases 应为文字列表", f"{here}.aliases must be a list of text", path,
                           f"{here}.aliases")
        beta = data_number(row, "beta", path, here, positive=True)
        beta_from = data_text(row, "beta_from", path, here)
        hazard_class = data_text(row, "hazard_class", path, here, required=False)
        if beta_from == "表3":
            expected = next((b for g, b in table3.items() if name_key(g) == name_key(name)), None)
            if expected is None:
                raise bad_data(f"{name} 不在表3（beta_table3）中", f"{name} is not in Table 3 (beta_table3)",
                               path, f"{here}.beta_from")
        elif beta_from == "表4":
            if hazard_class not in table4:
                raise bad_data(f"{here}.hazard_class 应为表4中的类别（{', '.join(table4)}）",
                               f"{here}.hazard_class must be a Table 4 class ({', '.join(table4)})",
                               path, f"{here}.hazard_class")
            expected = table4[hazard_class]
        else:
            raise bad_data(f"{here}.beta_from 应为 表3 或 表4", f"{here}.beta_from must be 表3 or 表4", path,
                           f"{here}.beta_from")
        if beta != expected:
            raise bad_data(f"{name} 的 β={fmt(beta)} 与{beta_from}的 {fmt(expected)} 不符",
                           f"β={fmt(beta)} of {name} differs from {fmt(expected)} in {beta_from}",
                           path, f"{here}.beta")
        no = data_number(row, "no", path, here, positive=True)
        substances.append(Substance(no=int(no), name=name, aliases=tuple(aliases),
                                    cas=data_text(row, "cas", path, here),
                                    Q_t=data_number(row, "Q_t", path, here, positive=True), beta=beta,
                                    beta_from=beta_from, hazard_class=hazard_class,
                                    note=data_text(row, "note", path, here, required=False)))
    table2 = {}
    for i, row in enumerate(data_list(data, "table2", path)):
        here = f"table2[{i}]"
        symbol = data_text(row, "class", path, here)
        if symbol in table2:
            raise bad_data(f"表2 类别 {symbol} 重复", f"Table 2 class {symbol} is listed twice", path, f"{here}.class")
        table2[symbol] = ClassRow(symbol, data_text(row, "hazard", path, here),
                                  data_text(row, "description", path, here),
                                  data_number(row, "Q_t", path, here, positive=True),
                                  data_text(row, "note", path, here, required=False))
    if set(table2) != set(table4):
        diff = ", ".join(sorted(set(table2) ^ set(table4)))
        raise bad_data(f"表2 与表4 的类别不一致：{diff}", f"Table 2 and Table 4 classes differ: {diff}", path, "table2")

    lookup: dict[str, Substance] = {}
    for sub in substances:
        cas_numbers = re.findall(r"\d{2,7}-\d{2}-\d", sub.cas)
        for n in (sub.name, *sub.aliases, *cas_numbers):
            other = lookup.setdefault(name_key(n), sub)
            if other is not sub:
                raise bad_data(f"名称“{n}”同时属于 {other.name} 和 {sub.name}",
                               f"name {n!r} is used by {other.name} and {sub.name}", path, "substance")

    outside, outside_lookup = [], {}
    for i, row in enumerate(data.get("outside_table1", [])):
        here = f"outside_table1[{i}]"
        cls = data_text(row, "hazard_class", path, here)
        if cls not in table2:
            raise bad_data(f"{here}.hazard_class 应为表2中的类别", f"{here}.hazard_class must be a Table 2 class",
                           path, f"{here}.hazard_class")
        entry = OutsideRow(data_text(row, "name", path, here), tuple(row.get("aliases", [])), cls,
                           data_text(row, "note", path, here))
        outside.append(entry)
        for n in (entry.name, *entry.aliases):
            if name_key(n) in lookup or name_key(n) in outside_lookup:
                raise bad_data(f"名称“{n}”在表1或 outside_table1 中重复", f"name {n!r} is listed twice", path, here)
            outside_lookup[name_key(n)] = entry

    return GB18218Standard(
        path=path, source=source,
        boundary_in_upper_band=data_bool(settings, "boundary_in_upper_band", path, "settings", True),
        threshold=data_number(ident, "threshold", path, "identification", positive=True),
        not_major_level=data_level(not_major, "level", path, "not_major"),
        not_major_name=data_text(not_major, "name_zh", path, "not_major"),
        alpha=tuple(alpha_rows), grades=grades, beta_table3=table3, beta_table4=table4,
        default_beta=default_beta, substances=tuple(substances), table2=table2, outside_table1=tuple(outside),
        lookup=lookup, outside_lookup=outside_lookup)


load = cached_loader("gb18218.toml", _parse)


def grade_of(r: float, standard=None) -> tuple[Band, str]:
    """The Table 6 grade (一级–四级) of an R value and its range text.

    >>> band, rng = grade_of(50)
    >>> band.name_zh, rng
    ('二级', '50 ≤ R < 100')
    """
    std = resolve(standard, load)
    i = pick_band(r, std.grades, std.boundary_in_upper_band)
    return std.grades[i], band_range(std.grades, i, "R", std.boundary_in_upper_band)


def _classes(std: GB18218Standard, value, where: str) -> tuple[str, ...]:
    """The input's hazard_class (one symbol or a list), checked against Table 2."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise RiskmapError(f"{where} 不能为空", f"{where} must not be empty", where=where)
    out = []
    for v in items:
        cls = as_text(v, where).strip().upper()
        if cls not in std.table2:
            listed = ", ".join(std.table2)
            raise RiskmapError(f"{where} “{cls}” 不是表2/表4中的类别（{listed}）",
                               f"{where} {cls!r} is not a Table 2/Table 4 class ({listed})", where=where)
        out.append(cls)
    return tuple(dict.fromkeys(out))


def _substance_terms(std: GB18218Standard, item, i: int) -> tuple[float, float, float, dict]:
    """Resolve one input substance to q, Q, β and a details dict saying where each came from."""
    here = f"substances[{i}]"
    if not isinstance(item, dict):
        raise RiskmapError(f"{here} 应为对象（含 name、quantity_t）", f"{here} must be an object with name and quantity_t",
                           where=here)
    name = as_text(need(item, "name", f"{here}.name"), f"{here}.name")
    q = as_number(need(item, "quantity_t", f"{here}.quantity_t"), f"{here}.quantity_t", positive=True)
    row = std.find(name)

    # hazard classes: the input's; else the default class of a common substance outside Table 1 (柴油)
    hint = std.outside(name) if row is None else None
    class_note = None
    if item.get("hazard_class") is not None:
        classes, class_source = _classes(std, item["hazard_class"], f"{here}.hazard_class"), "input"
    elif hint is not None:
        classes, class_source, class_note = (hint.hazard_class,), "default", hint.note
    else:
        classes, class_source = (), None
    # a substance of several classes: the lowest Table 2 Q, and on a tie the higher Table 4 β
    chosen = min(classes, key=lambda c: (std.table2[c].Q_t, -std.beta_table4[c])) if classes else None

    if item.get("Q_t") is not None:
        Q, Q_source = as_number(item["Q_t"], f"{here}.Q_t", positive=True), "input"
    elif row is not None:
        Q, Q_source = row.Q_t, "表1"
    elif chosen is not None:
        Q, Q_source = std.table2[chosen].Q_t, f"表2 {chosen}"
    else:
        raise RiskmapError(
            f"未知物质“{name}”：不在 GB 18218 表1 数据中，请提供 hazard_class（表2类别，如 W5.4、J1），"
            f"或提供 Q_t（临界量，t）和 beta",
            f"unknown substance {name!r}: not in the GB 18218 Table 1 data; give hazard_class (a Table 2 class such "
            f"as W5.4 or J1), or Q_t (critical quantity, t) and beta", where=f"{here}.name")

    # β: Table 3 for a named toxic gas (an input β must agree); else the input's beta; else Table 4 by class
    # (the class that gave Q); else the Table 1 row's β (its Table 4 class); else an error (never a silent default).
    hazard_class = chosen or (row.hazard_class if row else None)
    b3_name = row.name if row and std.table3_beta(row.name) is not None else name
    b3 = std.table3_beta(b3_name)
    if item.get("beta") is not None:
        beta = as_number(item["beta"], f"{here}.beta", positive=True)
        if b3 is not None and beta != b3:
            raise RiskmapError(
                f"{name} 是 GB 18218-2018 表3所列毒性气体（{b3_name}），β 应为 {fmt(b3)}，不能取输入的 {fmt(beta)}；"
                f"请删去 beta 或改为 {fmt(b3)}",
                f"{name} is a toxic gas of GB 18218-2018 Table 3 ({b3_name}): its β is {fmt(b3)}, not the input's "
                f"{fmt(beta)}; leave beta out or set it to {fmt(b3)}", where=f"{here}.beta")
        beta_source = "表3" if b3 is not None else "input"
    elif b3 is not None:
        beta, beta_source = b3, "表3"
    elif chosen is not None:
        beta, beta_source = std.beta_table4[chosen], f"表4 {chosen}"
    elif row is not None:
        beta, beta_source = row.beta, f"{row.beta_from} {row.hazard_class}"
    else:
        raise RiskmapError(
            f"物质“{name}”不在表1/表3数据中：请提供 beta，或提供 hazard_class（表4类别，如 W2、J1）",
            f"substance {name!r} is not in the Table 1/Table 3 data: give beta, or hazard_class (a Table 4 class "
            f"such as W2 or J1)", where=f"{here}.beta")

    ratio = q / Q
    t2 = std.table2.get(chosen) if chosen else None
    details = {"name": name, "table_name": row.name if row else None, "table1_no": row.no if row else None,
               "cas": row.cas if row else None, "quantity_t": tidy(q), "Q_t": tidy(Q), "Q_source": Q_source,
               "q_over_Q": tidy(ratio), "beta": tidy(beta), "beta_source": beta_source,
               "hazard_class": hazard_class, "hazard_classes": list(classes) or None, "class_source": class_source,
               "table2_row": t2.label if t2 else None, "beta_q_over_Q": tidy(beta * ratio),
               "note": row.note if row else class_note}
    return q, Q, beta, details


def _where_from(t: dict) -> str:
    """'（表1 序号51）', '（表2 W5.4 易燃液体：…）' or '（输入）': the table row that gave Q."""
    if t["Q_source"] == "input":
        return "（输入）"
    if t["Q_source"] == "表1":
        return f"（表1 序号{t['table1_no']}）"
    how = "，按默认类别" if t["class_source"] == "default" else ""
    return f"（表2 {t['table2_row']}{how}）"


def grade(inputs: dict, standard=None) -> GradeResult:
    """Grade ``{"people_within_500m", "substances": [{"name", "quantity_t", "Q_t"?, "beta"?, "hazard_class"?}]}``.

    ``hazard_class`` is a Table 2 symbol ("W5.4") or a list of them; it gives Q (Table 2) for a substance not
    in Table 1 and β (Table 4) for one not in Table 3. ``score`` is R (always computed); when S < 1 the unit is
    not a major hazard source and the level is ``[not_major].level`` of the data file (default 4, 低风险).
    """
    std = resolve(standard, load)
    inputs = check_inputs(inputs, METHOD)
    people = as_whole(need(inputs, "people_within_500m"), "people_within_500m", minimum=0)
    items = need(inputs, "substances")
    if not isinstance(items, list):
        raise RiskmapError("substances 应为列表", "substances must be a list", where="substances")
    if not items:
        raise RiskmapError("substances 不能为空", "substances must not be empty", where="substances")
    resolved = [_substance_terms(std, item, i) for i, item in enumerate(items)]
    terms = [t for *_, t in resolved]

    s_value = tidy(sum(q / Q for q, Q, _, _ in resolved))
    weighted = sum(beta * q / Q for q, Q, beta, _ in resolved)
    arow = std.alpha_for(people)
    r_value = tidy(arow.alpha * weighted)
    major = round(s_value, 9) >= std.threshold

    listed = "；".join(
        f"{t['name']}{'（' + t['table_name'] + '）' if t['table_name'] and t['table_name'] != t['name'] else ''} "
        f"{fmt(t['quantity_t'])} t，Q={fmt(t['Q_t'])} t{_where_from(t)}，"
        f"q/Q={fmt(t['q_over_Q'])}，β={fmt(t['beta'])}（{'输入' if t['beta_source'] == 'input' else t['beta_source']}）"
        + (f"（{t['note']}）" if t["class_source"] == "default" and t["note"] else "")
        for t in terms)
    s_sum = " + ".join(f"{fmt(t['quantity_t'])}/{fmt(t['Q_t'])}" for t in terms)
    r_sum = " + ".join(f"{fmt(t['beta'])}×{fmt(t['q_over_Q'])}" for t in terms)
    details = {"people_within_500m": people, "alpha": arow.alpha, "alpha_band": arow.label, "S": s_value,
               "R": r_value, "major_hazard": major, "substances": terms}
    head = f"GB 18218-2018：{listed}。S = Σq/Q = {s_sum} = {fmt(s_value)}"
    r_text = (f"500 m 内 {people} 人（{arow.label}）→ α={fmt(arow.alpha)}；"
              f"R = α·Σβq/Q = {fmt(arow.alpha)}×({r_sum}) = {fmt(r_value)}")

    if not major:
        level = std.not_major_level
        details.update({"grade": None, "grade_n": None, "band": std.not_major_name})
        explanation = (f"{head} < {fmt(std.threshold)}，{std.not_major_name}，不分级"
                       f"（{r_text}，仅供参考）；按设置记为{label_zh(level)}。")
        return make_result(METHOD, level, r_value, explanation, details)

    band, rng = grade_of(r_value, std)
    details.update({"grade": band.name_zh, "grade_n": band.extra.get("n"), "band": band.name_zh, "band_range": rng})
    explanation = (f"{head} ≥ {fmt(std.threshold)}，构成重大危险源；{r_text}；{rng} → {band.name_zh}重大危险源；"
                   f"对应{label_zh(band.level)}。")
    return make_result(METHOD, band.level, r_value, explanation, details)
