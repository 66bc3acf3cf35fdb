"""Cell values to field values, a whole column at a time.

Each converter takes the raw cells of one column (a pandas Series of objects) and returns the typed
values and a mask of cells that had something unreadable in them. Coded values (levels, industries,
kinds) are looked up once per distinct spelling, not once per row.

>>> vals, bad = convert(pd.Series(["重大", "橙", 3, "Ⅳ", "紫", None]), FieldSpec("level", "level"))
>>> vals.tolist(), bad.tolist()
([1, 2, 3, 4, None, None], [False, False, False, False, True, False])
>>> parse_risk("3×10⁻⁷"), parse_risk("1E-06"), parse_risk("10^-5")
(3e-07, 1e-06, 1e-05)
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import numpy as np
import pandas as pd

from riskmap.errors import RiskmapError
from riskmap.io.fieldmap import FieldSpec, load_synonyms, normalise

REASONS = {  # type -> (zh, en) said when a cell cannot be read
    "int": ("不是整数", "not a whole number"),
    "float": ("不是数字", "not a number"),
    "bool": ("不是“是/否”", "not yes/no"),
    "date": ("不是日期", "not a date"),
    "level": ("无法识别的风险等级（可用 重大/较大/一般/低、红/橙/黄/蓝、1–4、Ⅰ–Ⅳ、一级–四级）",
              "unrecognised risk level (use 重大/较大/一般/低, 红/橙/黄/蓝, 1–4, Ⅰ–Ⅳ, 一级–四级)"),
    "industry": ("无法识别的行业", "unknown industry"),
    "risk": ("不是个人风险值（如 3×10⁻⁷、1E-6）", "not an individual risk value (such as 3×10⁻⁷ or 1E-6)"),
    "enum": ("无法识别的取值", "unknown value"),
    "enterprise": ("", ""),
    "text": ("", ""),
}


def is_blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if isinstance(v, str) and not v.strip():
        return True
    return v is pd.NaT


def _blank_mask(s: pd.Series) -> np.ndarray:
    """is_blank over a column (inline: this runs over every cell of a big sheet)."""
    arr = s.to_numpy(dtype=object) if isinstance(s, pd.Series) else s
    return np.array([v is None or v != v or v is pd.NaT or (v.__class__ is str and not v.strip()) for v in arr],
                    dtype=bool)


def text_of(v) -> str | None:
    """A cell as text: integral floats without '.0' (phone numbers typed as numbers), dates in ISO."""
    if is_blank(v):
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return " ".join(str(v).split())


def _by_unique(s: pd.Series, fn) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fn`` (raises on bad input) once per distinct non-blank value."""
    arr = s.to_numpy(dtype=object)
    blank = _blank_mask(s)
    out = np.full(len(arr), None, dtype=object)
    bad = np.zeros(len(arr), dtype=bool)
    if (~blank).any():
        values = pd.Series(arr[~blank], dtype=object)
        table = {}
        for v in values.unique():
            try:
                table[v] = (fn(v), False)
            except (RiskmapError, KeyError, ValueError, TypeError, OverflowError):
                table[v] = (None, True)
        looked = [table[v] for v in values.to_numpy(dtype=object)]
        out[~blank] = np.array([t[0] for t in looked] + [None], dtype=object)[:-1]
        bad[~blank] = np.fromiter((t[1] for t in looked), dtype=bool, count=len(looked))
    return out, bad


def _numbers(s: pd.Series, units: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats from cells ("50人" and "1,200" read as 50 and 1200); returns (values, blank, bad)."""
    arr = s.to_numpy(dtype=object)
    blank = _blank_mask(s)
    vals = np.array(pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce")
                    .to_numpy(dtype=float, na_value=np.nan), dtype=float)
    todo = ~blank & np.isnan(vals)
    if todo.any():
        unit_re = re.compile("(" + "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True)) + r")$",
                             re.IGNORECASE) if units else None

        def clean(v):
            t = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "")
            if unit_re is not None:
                t = unit_re.sub("", t).strip()
            return float(t)

        fixed, bad_here = _by_unique(pd.Series(arr[todo], dtype=object), clean)
        vals[todo] = np.array([np.nan if f is None else f for f in fixed], dtype=float)
    bad = ~blank & ~np.isfinite(vals)
    return vals, blank, bad


_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_RISK = re.compile(r"^(?:(\d+(?:\.\d*)?)\s*[×xX*·]\s*)?10\s*\^?\s*([-+]?\d+)$")


def parse_risk(value) -> float:
    """An individual risk per year: 3×10⁻⁷, 3x10^-7, 3E-07, 1e-6, 10^-5 or a number (0 < r < 1)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        r = float(value)
    else:
        t = unicodedata.normalize("NFKC", str(value)).translate(_SUPER).replace(" ", "").replace("/年", "")
        t = t.replace("−", "-").replace("–", "-")
        m = _RISK.match(t)
        if m:
            r = float(m.group(1) or 1) * 10.0 ** int(m.group(2))
        else:
            r = float(t)
    if not (0 < r < 1):
        raise ValueError(value)
    return float(f"{r:.6g}")


_DATE_SEP = re.compile(r"[年月/.]")


def parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # an Excel serial day number
            return (dt.datetime(1899, 12, 30) + dt.timedelta(days=float(value))).date()
        raise ValueError(value)
    t = unicodedata.normalize("NFKC", str(value)).strip().rstrip("日号")
    t = _DATE_SEP.sub("-", t.split(" ")[0].split("T")[0])
    if re.fullmatch(r"\d{8}", t):
        t = f"{t[:4]}-{t[4:6]}-{t[6:]}"
    y, m, d = (int(p) for p in t.split("-"))
    return dt.date(y, m, d)


def _industry(value):
    from riskmap.industries import parse_industry

    return parse_industry(str(value).strip())


UNASSESSED_WORDS = ("未评估", "待评估", "未定级", "未分级", "暂未评估", "暂无", "无", "/", "-", "—", "－", "——")


def _level(value):
    """A level 1–4, or None for a cell saying 未评估 (blank cells never get here)."""
    from riskmap.levels import parse_level

    if isinstance(value, str) and "".join(unicodedata.normalize("NFKC", value).split()) in UNASSESSED_WORDS:
        return None
    return parse_level(value.strip() if isinstance(value, str) else value)


def _enum(vocab: str):
    voc = load_synonyms().vocabularies[vocab]
    codes = {str(v) for v in voc.values.values()}

    def fn(value):
        text = str(value).strip()
        if text in codes:
            return text
        return voc.lookup(value)

    return fn


def _bool(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    return load_synonyms().vocabularies["bool"].lookup(value)


def convert(s: pd.Series, spec: FieldSpec, enterprises: dict[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(values, bad) for one column; ``enterprises`` maps names to ids for ``enterprise`` fields."""
    t = spec.type
    if t == "text":
        arr = s.to_numpy(dtype=object)
        out = [(" ".join(v.split()) or None) if v.__class__ is str else text_of(v) for v in arr]
        return np.array(out + [None], dtype=object)[:-1], np.zeros(len(arr), dtype=bool)
    if t in ("int", "float"):
        vals, blank, bad = _numbers(s, spec.unit)
        with np.errstate(invalid="ignore"):
            bad |= ~blank & np.isfinite(vals) & (vals < 0)
            if t == "int":
                bad |= ~blank & np.isfinite(vals) & (vals != np.round(vals))
        ok = ~blank & ~bad
        out = np.full(len(vals), None, dtype=object)
        if t == "int":
            out[ok] = np.array(vals[ok].astype(np.int64).tolist() + [None], dtype=object)[:-1]
        else:
            out[ok] = np.array(vals[ok].tolist() + [None], dtype=object)[:-1]
        return out, bad
    if t == "level":
        return _by_unique(s, _level)
    if t == "industry":
        return _by_unique(s, _industry)
    if t == "risk":
        return _by_unique(s, parse_risk)
    if t == "date":
        return _by_unique(s, parse_date)
    if t == "bool":
        return _by_unique(s, _bool)
    if t == "enum":
        return _by_unique(s, _enum(spec.vocab))
    if t == "enterprise":
        table = {normalise_name(k): v for k, v in (enterprises or {}).items()}
        out, _bad = _by_unique(s, lambda v: table[normalise_name(v)])
        return out, np.zeros(len(out), dtype=bool)  # unknown enterprises are warnings, see validate
    raise ValueError(t)


def normalise_name(value) -> str:
    """Names compared for duplicates: NFKC, no spaces, case-folded (brackets kept: 一厂 ≠ 二厂)."""
    if is_blank(value):
        return ""
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).casefold()


def describe(spec: FieldSpec) -> tuple[str, str]:
    """What a bad cell of this field is, in Chinese and English."""
    zh, en = REASONS[spec.type]
    if spec.type == "enum":
        codes = load_synonyms().vocabularies[spec.vocab].codes()
        zh, en = f"{zh}（可用：{'、'.join(codes)} 或其中文名）", f"{en} (use {', '.join(codes)} or their Chinese names)"
    if spec.type == "industry":
        from riskmap.industries import load_industries

        names = [i.zh for i in load_industries().values()]
        zh, en = f"{zh}（可用：{'、'.join(names)}）", f"{en} (use one of the {len(names)} industries of industries.toml)"
    if spec.type in ("int", "float"):
        zh, en = zh + "或为负数", en + " or negative"
    return zh, en


def plain(value):
    """A cell as a JSON-friendly value (for the inputs of an Assessment)."""
    if is_blank(value):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return int(f) if f.is_integer() and abs(f) < 1e15 else f
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, str)):
        return value
    return str(value)


def normalise_header(text) -> str:  # re-exported for the UI
    return normalise(text)
