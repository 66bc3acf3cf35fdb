"""The enterprise industry taxonomy (resources/standards/industries.toml).

>>> industry_name("gas_station")
'加油站'
"""

from __future__ import annotations

import tomllib
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


@lru_cache(maxsize=1)
def load_industries() -> dict[str, Industry]:
    data = tomllib.loads((STANDARDS_DIR / "industries.toml").read_text(encoding="utf-8"))
    return {code: Industry(code=code, **v) for code, v in data["industries"].items()}


@lru_cache(maxsize=1)
def groups() -> dict[str, dict[str, str]]:
    return tomllib.loads((STANDARDS_DIR / "industries.toml").read_text(encoding="utf-8"))["groups"]


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
    """An industry code from a code or its Chinese or English name."""
    text = str(value).strip()
    for ind in load_industries().values():
        if text in (ind.code, ind.zh, ind.en) or text.lower() == ind.en.lower():
            return ind.code
    raise RiskmapError(f"无法识别的行业: {value}", f"unknown industry: {value}")
