"""The enterprise industry taxonomy (resources/standards/industries.toml) and how a list's free-text
industry cell is read into it.

>>> industry_name("gas_station")
'加油站'
>>> [match_industry(t)[0] for t in ("工贸（机械）", "工贸(冶金)", "纺织行业", "液化气站", "化工机械", "奶茶")]
['machinery', 'metallurgy', 'textile', 'hazchem_trade', 'machinery', None]
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from riskmap.errors import RiskmapError
from riskmap.paths import STANDARDS_DIR


@dataclass(frozen=True)
class Industry:
    code: str
    zh: str
    en: str
    group: str
    plan_group: str
    department: str


OTHER = "other"  # the code of 其他: what no spelling names


@lru_cache(maxsize=1)
def _data() -> dict:
    return tomllib.loads((STANDARDS_DIR / "industries.toml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_industries() -> dict[str, Industry]:
    return {code: Industry(code=code, **v) for code, v in _data()["industries"].items()}


@lru_cache(maxsize=1)
def groups() -> dict[str, dict[str, str]]:
    return _data()["groups"]


def industry(code: str) -> Industry:
    try:
        return load_industries()[code]
    except KeyError:
        raise RiskmapError(f"未知行业代码: {code}", f"unknown industry code: {code}") from None


def industry_name(code: str, lang: str = "zh") -> str:
    ind = load_industries().get(code)
    if ind is None:
        return code
    return ind.en if lang == "en" else ind.zh


def parse_industry(value: str) -> str:
    """An industry code from a code, its Chinese or English name, or a list spelling
    (:func:`match_industry`); RiskmapError when none names one."""
    code, _how = match_industry(value)
    if code is None:
        raise RiskmapError(f"无法识别的行业: {value}", f"unknown industry: {value}")
    return code


_BRACKETS = re.compile(r"[()\[\]{}【】〔〕<>《》「」]")
_SEPARATORS = re.compile(r"[\s\u3000,，、;；:：/|\\·.。\-—_*]+")
_SUFFIXES = ("行业", "企业", "单位", "类")


def industry_key(value) -> str:
    """An industry cell as compared: NFKC, brackets dropped but their text kept, no spaces or
    separators, case-folded, without a trailing 行业 / 企业 / 单位 / 类.

    >>> industry_key("工贸（ 机械 ）"), industry_key("纺织行业"), industry_key("商贸类企业")
    ('工贸机械', '纺织', '商贸')
    """
    s = unicodedata.normalize("NFKC", str(value))
    s = _SEPARATORS.sub("", _BRACKETS.sub("", s)).casefold()
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if s.endswith(suffix) and len(s) > len(suffix):
                s, changed = s[: -len(suffix)], True
    return s


@lru_cache(maxsize=1)
def _spellings() -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    """(names: key → code, spellings: key → code, keywords: [(key, code)] longest first)."""
    data = _data()
    inds = load_industries()
    names: dict[str, str] = {}
    for ind in inds.values():
        for t in (ind.code, ind.zh, ind.en):
            names.setdefault(industry_key(t), ind.code)
    for table in ("spellings", "keywords"):
        for spelling, code in data.get(table, {}).items():
            if code not in inds:
                raise RiskmapError(f"industries.toml 的 {table} 中“{spelling}”指向未知行业 {code}",
                                   f"industries.toml {table}: {spelling!r} names unknown industry {code!r}")
    spellings = {industry_key(k): v for k, v in data.get("spellings", {}).items()}
    keywords = sorted(((industry_key(k), v) for k, v in data.get("keywords", {}).items()),
                      key=lambda kv: -len(kv[0]))
    return names, spellings, keywords


def match_industry(value) -> tuple[str | None, str]:
    """(code, how) for a list's industry cell: how is "name", "spelling", "keyword" or "" (code None:
    nothing names an industry; the importer then takes 其他 and warns)."""
    if value is None:
        return None, ""
    key = industry_key(value)
    if not key:
        return None, ""
    names, spellings, keywords = _spellings()
    if key in names:
        return names[key], "name"
    if key in spellings:
        return spellings[key], "spelling"
    best = None  # (length, end position, code)
    for word, code in keywords:
        if best is not None and len(word) < best[0]:
            break
        pos = key.rfind(word)
        if pos >= 0 and (best is None or pos + len(word) > best[1]):
            best = (len(word), pos + len(word), code)
    if best is not None:
        return best[2], "keyword"
    return None, ""
