"""The four risk levels (重大/较大/一般/低) and their colours, read from ``levels.toml``.

>>> colour(1)
'#FF0000'
>>> parse_level("较大风险"), parse_level("黄"), parse_level("Ⅳ"), parse_level(2.0)
(2, 3, 4, 2)
>>> level_info(4).name_zh
'低风险'
"""

from __future__ import annotations

import math
import numbers
import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from riskmap.errors import RiskmapError
from riskmap.paths import STANDARDS_DIR

LEVELS_FILE = STANDARDS_DIR / "levels.toml"
LEVEL_NUMBERS = (1, 2, 3, 4)
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
_TEXT_KEYS = ("name_zh", "name_en", "short_zh", "colour", "colour_zh", "colour_en")


@dataclass(frozen=True)
class Level:
    """One risk level: number, names and colour.

    >>> load_levels().info(1).short_zh
    '重大'
    """

    n: int
    name_zh: str
    name_en: str
    short_zh: str
    colour: str
    colour_zh: str
    colour_en: str
    aliases: tuple[str, ...] = ()

    def rgb(self) -> tuple[int, int, int]:
        """The colour as an (r, g, b) tuple of 0–255 ints."""
        return hex_to_rgb(self.colour)


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    """``"#0070FF"`` → ``(0, 112, 255)``."""
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _key(text: str) -> str:
    """Normalise a spelling for lookup: no whitespace, case-folded."""
    return re.sub(r"\s+", "", text).casefold()


class LevelSet:
    """The four levels as loaded from one file, with a spelling → level lookup."""

    def __init__(self, levels: dict[int, Level], source: dict, path: Path):
        self.levels = levels
        self.source = source
        self.path = path
        self._lookup: dict[str, int] = {}
        for lv in levels.values():
            spellings = [lv.name_zh, lv.name_en, lv.short_zh, lv.colour_zh, lv.colour_en,
                         lv.colour_zh + "色", *lv.aliases]
            for s in spellings:
                k = _key(s)
                other = self._lookup.get(k)
                if other is not None and other != lv.n:
                    raise RiskmapError(
                        f"等级写法“{s}”同时属于第{other}级和第{lv.n}级",
                        f"spelling {s!r} is given for both level {other} and level {lv.n}",
                        where=f"{path}:level[{lv.n}].aliases")
                self._lookup[k] = lv.n

    def info(self, value) -> Level:
        """The :class:`Level` for any accepted spelling of a level."""
        return self.levels[self.parse(value)]

    def parse(self, value, where: str = "") -> int:
        """Read a level written in any accepted way; see :func:`parse_level`."""
        if isinstance(value, bool) or value is None:
            raise _bad_level(value, where)
        if isinstance(value, numbers.Real):  # int, float, numpy numbers
            number = float(value)
            if math.isfinite(number) and number.is_integer() and int(number) in self.levels:
                return int(number)
            raise _bad_level(value, where)
        if isinstance(value, str):
            k = _key(value)
            if k in self._lookup:
                return self._lookup[k]
            if k.endswith("风险") and k[:-2] in self._lookup:  # "红色风险", "一级风险"
                return self._lookup[k[:-2]]
            try:
                number = float(k)
            except ValueError:
                raise _bad_level(value, where) from None
            if math.isfinite(number) and number.is_integer() and int(number) in self.levels:
                return int(number)
        raise _bad_level(value, where)


def _bad_level(value, where: str) -> RiskmapError:
    return RiskmapError(
        f"无法识别的风险等级：{value!r}（可用 重大/较大/一般/低、红/橙/黄/蓝、1–4、Ⅰ–Ⅳ、一级–四级）",
        f"unrecognised risk level {value!r} (use 1–4, 重大/较大/一般/低, red/orange/yellow/blue, "
        f"major/significant/general/low, I–IV or Ⅰ–Ⅳ, 一级–四级)",
        where=where)


def load_levels(path: str | os.PathLike | None = None) -> LevelSet:
    """Read and check a levels file (default: the bundled ``levels.toml``); cached per file version.

    >>> sorted(load_levels().levels)
    [1, 2, 3, 4]
    """
    p = Path(path) if path is not None else LEVELS_FILE
    try:
        mtime = p.stat().st_mtime_ns
    except OSError:
        raise RiskmapError("找不到风险等级文件", "levels file not found", where=str(p)) from None
    return _load_levels_cached(str(p), mtime)


@lru_cache(maxsize=16)
def _load_levels_cached(path: str, _mtime: int) -> LevelSet:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RiskmapError(f"风险等级文件无法读取：{exc}", f"cannot read levels file: {exc}",
                           where=path) from None
    source = data.get("source")
    if not isinstance(source, dict):
        raise RiskmapError("缺少 [source] 表", "missing [source] table", where=f"{path}:source")
    rows = data.get("level")
    if not isinstance(rows, list):
        raise RiskmapError("缺少 [[level]] 表", "missing [[level]] tables", where=f"{path}:level")
    levels: dict[int, Level] = {}
    for i, row in enumerate(rows):
        here = f"{path}:level[{i}]"
        if not isinstance(row, dict):
            raise RiskmapError("格式错误", "not a table", where=here)
        n = row.get("n")
        if isinstance(n, bool) or n not in LEVEL_NUMBERS:
            raise RiskmapError("n 必须是 1–4", "n must be 1–4", where=f"{here}.n")
        if n in levels:
            raise RiskmapError(f"第{n}级重复", f"level {n} given twice", where=f"{here}.n")
        for key in _TEXT_KEYS:
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise RiskmapError(f"缺少文字字段 {key}", f"missing text field {key}", where=f"{here}.{key}")
        if not _HEX.match(row["colour"]):
            raise RiskmapError("颜色须写成 #RRGGBB", "colour must be #RRGGBB", where=f"{here}.colour")
        aliases = row.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise RiskmapError("aliases 须为文字列表", "aliases must be a list of strings",
                               where=f"{here}.aliases")
        levels[n] = Level(n=n, aliases=tuple(aliases), **{k: row[k] for k in _TEXT_KEYS})
    missing = [n for n in LEVEL_NUMBERS if n not in levels]
    if missing:
        raise RiskmapError(f"缺少第{missing}级", f"levels {missing} are missing", where=f"{path}:level")
    r, g, b = hex_to_rgb(levels[4].colour)
    if g > b and g >= r:
        raise RiskmapError("低风险须为蓝色，不得用绿色", "low risk must be blue, never green",
                           where=f"{path}:level[4].colour")
    return LevelSet(dict(sorted(levels.items())), source, p)


def parse_level(value, where: str = "") -> int:
    """Read a risk level written as 重大/较大/一般/低 (with or without 风险), 红/橙/黄/蓝 (or 红色…),
    1–4 (int, whole float, or text), Ⅰ–Ⅳ, I–IV, 一级–四级, red/orange/yellow/blue or
    major/significant/general/low. Anything else raises :class:`RiskmapError` naming the value and
    ``where``.

    >>> parse_level("Ⅱ"), parse_level(" 重大 "), parse_level("Blue")
    (2, 1, 4)
    """
    return load_levels().parse(value, where)


def level_info(n) -> Level:
    """The :class:`Level` for a level number (or any spelling :func:`parse_level` accepts)."""
    return load_levels().info(n)


def colour(n) -> str:
    """The ``"#RRGGBB"`` colour of a level.

    >>> colour("低")
    '#0070FF'
    """
    return level_info(n).colour


def level_name(n) -> str:
    """The Chinese name of a level, e.g. ``"重大风险"``."""
    return level_info(n).name_zh


def label_zh(n) -> str:
    """Name and colour in Chinese, e.g. ``"较大风险（橙）"``."""
    lv = level_info(n)
    return f"{lv.name_zh}（{lv.colour_zh}）"
