"""GB 18218-2018 重大危险源: identification S = Σq/Q and grading R = α·Σβq/Q, from ``gb18218.toml``.

Worked example (20 t 液氨 + 3 t 液氯, 120 people within 500 m):
S = 20/10 + 3/5 = 2.6 ≥ 1; R = 2.0 × (2×2 + 4×0.6) = 12.8 → 三级 → 一般风险 (黄).

>>> r = grade({"people_within_500m": 120,
...            "substances": [{"name": "液氨", "quantity_t": 20}, {"name": "液氯", "quantity_t": 3}]})
>>> r.score, r.details["grade"], r.colour
(12.8, '三级', '#FFE600')
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
class AlphaRow:
    label: str
    min_people: int
    max_people: int | None
    alpha: float


@dataclass(frozen=True)
class GB18218Standard:
    """Everything of ``gb18218.toml``: tables 1, 3, 4, 5, 6 and riskmap's settings."""

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
    lookup: dict[str, Substance] = field(default_factory=dict, repr=False, compare=False)

    def find(self, name: str) -> Substance | None:
        """The Table 1 row for a name, alias or CAS number, or ``None``."""
        return self.lookup.get(name_key(name))

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
    lookup: dict[str, Substance] = {}
    for sub in substances:
        cas_numbers = re.findall(r"\d{2,7}-\d{2}-\d", sub.cas)
        for n in (sub.name, *sub.aliases, *cas_numbers):
            other = lookup.setdefault(name_key(n), sub)
            if other is not sub:
                raise bad_data(f"名称“{n}”同时属于 {other.name} 和 {sub.name}",
                               f"name {n!r} is used by {other.name} and {sub.name}", path, "substance")

    return GB18218Standard(
        path=path, source=source,
        boundary_in_upper_band=data_bool(settings, "boundary_in_upper_band", path, "settings", True),
        threshold=data_number(ident, "threshold", path, "identification", positive=True),
        not_major_level=data_level(not_major, "level", path, "not_major"),
        not_major_name=data_text(not_major, "name_zh", path, "not_major"),
        alpha=tuple(alpha_rows), grades=grades, beta_table3=table3, beta_table4=table4,
        default_beta=default_beta, substances=tuple(substances), lookup=lookup)


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


def _substance_terms(std: GB18218Standard, item, i: int) -> tuple[float, float, float, dict]:
    """Resolve one input substance to q, Q, β and a details dict saying where each came from."""
    here = f"substances[{i}]"
    if not isinstance(item, dict):
        raise RiskmapError(f"{here} 应为对象（含 name、quantity_t）", f"{here} must be an object with name and quantity_t",
                           where=here)
    name = as_text(need(item, "name", f"{here}.name"), f"{here}.name")
    q = as_number(need(item, "quantity_t", f"{here}.quantity_t"), f"{here}.quantity_t", positive=True)
    row = std.find(name)

    if item.get("Q_t") is not None:
        Q, Q_source = as_number(item["Q_t"], f"{here}.Q_t", positive=True), "input"
    elif row is not None:
        Q, Q_source = row.Q_t, "表1"
    else:
        raise RiskmapError(
            f"未知物质“{name}”：不在 GB 18218 表1 数据中，请提供 Q_t（临界量，t）和 beta",
            f"unknown substance {name!r}: not in the GB 18218 Table 1 data; give Q_t (critical quantity, t) and beta",
            where=f"{here}.name")

    # β: the input's beta; else Table 3 for a named toxic gas; else Table 4 by the input's hazard_class;
    # else the Table 1 row's β (its Table 4 class); else an error (never a silent default).
    hazard_class = row.hazard_class if row else None
    b3 = std.table3_beta(row.name) if row else std.table3_beta(name)
    if item.get("beta") is not None:
        beta, beta_source = as_number(item["beta"], f"{here}.beta", positive=True), "input"
    elif b3 is not None:
        beta, beta_source = b3, "表3"
    elif item.get("hazard_class") is not None:
        hazard_class = as_text(item["hazard_class"], f"{here}.hazard_class").upper()
        if hazard_class not in std.beta_table4:
            listed = ", ".join(std.beta_table4)
            raise RiskmapError(f"{here}.hazard_class “{hazard_class}” 不是表4中的类别（{listed}）",
                               f"{here}.hazard_class {hazard_class!r} is not a Table 4 class ({listed})",
                               where=f"{here}.hazard_class")
        beta, beta_source = std.beta_table4[hazard_class], f"表4 {hazard_class}"
    elif row is not None:
        beta, beta_source = row.beta, f"{row.beta_from} {row.hazard_class}"
    else:
        raise RiskmapError(
            f"物质“{name}”不在表1/表3数据中：请提供 beta，或提供 hazard_class（表4类别，如 W2、J1）",
            f"substance {name!r} is not in the Table 1/Table 3 data: give beta, or hazard_class (a Table 4 class "
            f"such as W2 or J1)", where=f"{here}.beta")

    ratio = q / Q
    details = {"name": name, "table_name": row.name if row else None, "table1_no": row.no if row else None,
               "cas": row.cas if row else None, "quantity_t": tidy(q), "Q_t": tidy(Q), "Q_source": Q_source,
               "q_over_Q": tidy(ratio), "beta": tidy(beta), "beta_source": beta_source,
               "hazard_class": hazard_class, "beta_q_over_Q": tidy(beta * ratio),
               "note": row.note if row else None}
    return q, Q, beta, details


def grade(inputs: dict, standard=None) -> GradeResult:
    """Grade ``{"people_within_500m", "substances": [{"name", "quantity_t", "Q_t"?, "beta"?, "hazard_class"?}]}``.

    ``score`` is R (always computed); when S < 1 the unit is not a major hazard source and the level is
    ``[not_major].level`` of the data file (default 4, 低风险).
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
        f"{fmt(t['quantity_t'])} t，Q={fmt(t['Q_t'])} t{'（输入）' if t['Q_source'] == 'input' else ''}，"
        f"q/Q={fmt(t['q_over_Q'])}，β={fmt(t['beta'])}（{'输入' if t['beta_source'] == 'input' else t['beta_source']}）"
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
