"""Which enterprise of the project a row of a list means: by 统一社会信用代码, else by name and town.

A bureau's newer list, or a file of coordinates, names enterprises the project already has. A row is
matched by its credit code (upper case, no spaces) when the project has that code; otherwise by its
name (NFKC, no spaces, case-folded) within its town (城关镇 and 城关 are one town). A row without a
town, or an enterprise stored without one, matches by name alone when only one enterprise has that
name. A name match is refused when both sides carry different credit codes.

>>> normalise_credit_code(" 91370126 mA3c4x1e2q "), credit_code_ok("91370126MA3C4X1E2Q")
('91370126MA3C4X1E2Q', False)
>>> credit_code_ok(with_check_char("91370126MA3C4X1E2")), town_key("城关镇"), town_key("明辉路街道")
(True, '城关', '明辉路')
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CODE_DROP = re.compile(r"[\s\-—_·.]+")
_TOWN_SUFFIXES = ("街道办事处", "办事处", "街道", "民族乡", "镇", "乡")


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA or (isinstance(v, str) and not v.strip())


def normalise_credit_code(value) -> str | None:
    """A 统一社会信用代码 as compared: NFKC, upper case, no spaces or dashes; None when blank."""
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    code = _CODE_DROP.sub("", unicodedata.normalize("NFKC", str(value))).upper()
    return code or None


def with_check_char(first17: str) -> str:
    """The 18-character code for its first 17 characters (GB 32100-2015 check character)."""
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(first17, _CODE_WEIGHTS))
    return first17 + _CODE_CHARS[(31 - total % 31) % 31]


def credit_code_ok(code: str | None) -> bool:
    """18 characters of the code alphabet with a right check character (GB 32100-2015)."""
    if not code or len(code) != 18 or any(c not in _CODE_CHARS for c in code):
        return False
    return with_check_char(code[:17]) == code


def name_key(value) -> str:
    """An enterprise name as compared: NFKC, no spaces, case-folded (brackets kept: 一厂 ≠ 二厂)."""
    if value.__class__ is not str and _blank(value):
        return ""
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).casefold()


def town_key(value) -> str:
    """A town name as compared: its name key without the 镇/乡/街道 suffix (城关镇 → 城关)."""
    key = name_key(value)
    for suffix in _TOWN_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def _existing(source) -> pd.DataFrame:
    """id, name, credit_code, town of the project's enterprises (a Project or an open connection)."""
    if hasattr(source, "read_table"):
        df = source.read_table("enterprises", columns=["id", "name", "credit_code", "town"])
        return pd.DataFrame({c: df[c].to_numpy() for c in ("id", "name", "credit_code", "town")})
    rows = source.exec_driver_sql("SELECT id, name, credit_code, town FROM enterprises").fetchall()
    return pd.DataFrame(rows, columns=["id", "name", "credit_code", "town"])


class EnterpriseIndex:
    """The project's enterprises keyed for matching (built once, used for every row)."""

    def __init__(self, existing: pd.DataFrame):
        ids = existing["id"].to_numpy()
        codes = [normalise_credit_code(v) for v in existing["credit_code"].to_numpy(dtype=object)]
        names = [name_key(v) for v in existing["name"].to_numpy(dtype=object)]
        towns = [town_key(v) for v in existing["town"].to_numpy(dtype=object)]
        self.code_of: dict[int, str | None] = {}
        self.town_of: dict[int, str] = {}
        self.by_code: dict[str, int] = {}
        self.by_name_town: dict[tuple[str, str], list[int]] = {}
        self.by_name: dict[str, list[int]] = {}
        for i, c, n, t in zip(ids, codes, names, towns):
            i = int(i)
            self.code_of[i] = c
            self.town_of[i] = t
            if c:
                self.by_code.setdefault(c, i)
            if n:
                self.by_name_town.setdefault((n, t), []).append(i)
                self.by_name.setdefault(n, []).append(i)

    def match(self, code: str | None, name: str, town: str) -> int:
        """The id for one row's normalised code, name key and town key, or -1."""
        if code and code in self.by_code:
            return self.by_code[code]
        if not name:
            return -1
        if town:  # same name in the same town, or stored without a town
            cands = self.by_name_town.get((name, town)) or [i for i in self.by_name.get(name, ())
                                                            if not self.town_of[i]]
        else:
            cands = self.by_name.get(name, [])
        if code:  # a name match must not carry another credit code
            cands = [i for i in cands if not self.code_of[i] or self.code_of[i] == code]
        return cands[0] if len(cands) == 1 else -1


def match_enterprises(conn_or_project, rows: pd.DataFrame) -> np.ndarray:
    """Ids of the project's enterprises that the rows name, -1 where none (or several) match.

    ``rows`` has a ``name`` column and optionally ``credit_code`` and ``town``; ``conn_or_project`` is a
    :class:`riskmap.store.Project` or an open SQLAlchemy connection (inside an import's transaction).
    """
    existing = _existing(conn_or_project)
    return match_rows(EnterpriseIndex(existing), rows)


def match_rows(index: EnterpriseIndex, rows: pd.DataFrame) -> np.ndarray:
    """:func:`match_enterprises` against an index already built."""
    n = len(rows)

    def col(name):
        return rows[name].to_numpy(dtype=object) if name in rows else np.full(n, None, dtype=object)

    codes = [normalise_credit_code(v) for v in col("credit_code")]
    names = [name_key(v) for v in col("name")]
    town_of = {}  # few distinct towns: each reduced once
    towns = [town_of[v] if v in town_of else town_of.setdefault(v, town_key(v)) for v in col("town")]
    return np.fromiter((index.match(c, nm, t) for c, nm, t in zip(codes, names, towns)), dtype=np.int64, count=n)


__all__ = ["EnterpriseIndex", "credit_code_ok", "match_enterprises", "match_rows", "name_key",
           "normalise_credit_code", "town_key", "with_check_char"]
