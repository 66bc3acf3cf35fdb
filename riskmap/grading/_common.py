"""Shared pieces of the grading methods: the result type, data-file reading, bands and input checks."""

from __future__ import annotations

import math
import numbers
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, TypeVar

from riskmap.errors import RiskmapError
from riskmap.levels import level_info, parse_level
from riskmap.paths import STANDARDS_DIR

T = TypeVar("T")


@dataclass(frozen=True)
class GradeResult:
    """The outcome of one grading: level 1–4 with its name and colour, the score and the reasons.

    >>> r = GradeResult("manual", 2, "较大风险", "#FF8C00", None, "评估人认定")
    >>> r.to_json()["colour"]
    '#FF8C00'
    """

    method: str
    level: int
    level_name: str
    colour: str
    score: float | None
    explanation: str
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-ready dict: method, level, level_name, colour, score, explanation, details."""
        return {
            "method": self.method,
            "level": self.level,
            "level_name": self.level_name,
            "colour": self.colour,
            "score": self.score,
            "explanation": self.explanation,
            "details": dict(self.details),
        }


def make_result(method: str, level: int, score: float | None, explanation: str, details: dict) -> GradeResult:
    """Build a :class:`GradeResult`, taking the level's name and colour from ``levels.toml``."""
    info = level_info(level)
    return GradeResult(method=method, level=info.n, level_name=info.name_zh, colour=info.colour,
                       score=None if score is None else tidy(score), explanation=explanation,
                       details=details)


# ---------------------------------------------------------------- numbers and text

def tidy(x: float) -> float:
    """Round away float noise (2.6000000000000005 → 2.6) without touching real digits."""
    return round(float(x), 10)


def fmt(x: float) -> str:
    """Short decimal text for explanations: 12.8 → "12.8", 100.0 → "100", 0.75 → "0.75"."""
    x = float(x)
    if x.is_integer():
        return str(int(x))
    return f"{x:.6f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- data files

def read_toml(path: Path) -> dict:
    """Read a TOML data file; a missing or malformed file is a :class:`RiskmapError` naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskmapError("找不到标准数据文件", "standard data file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RiskmapError(f"标准数据文件无法读取：{exc}", f"cannot read standard data file: {exc}",
                           where=str(path)) from None


def cached_loader(default_file: str, parse: Callable[[dict, Path], T]) -> Callable[..., T]:
    """Make ``load(path=None)`` for one data file: default the bundled file, cache per file version."""

    @lru_cache(maxsize=16)
    def _cached(path: str, _mtime: int) -> T:
        p = Path(path)
        return parse(read_toml(p), p)

    def load(path: str | os.PathLike | None = None) -> T:
        p = Path(path) if path is not None else STANDARDS_DIR / default_file
        try:
            mtime = p.stat().st_mtime_ns
        except OSError:
            raise RiskmapError("找不到标准数据文件", "standard data file not found", where=str(p)) from None
        return _cached(str(p), mtime)

    load.cache_clear = _cached.cache_clear  # type: ignore[attr-defined]
    load.__doc__ = f"Read and check ``{default_file}`` (or ``path``); cached until the file changes."
    return load


def resolve(standard, load: Callable[..., T]) -> T:
    """``None`` → the bundled standard; a path → that file; otherwise an already loaded standard."""
    if standard is None or isinstance(standard, (str, os.PathLike)):
        return load(standard)
    return standard


def bad_data(zh: str, en: str, path: Path, key: str) -> RiskmapError:
    return RiskmapError(f"标准数据文件错误：{zh}", f"bad standard data file: {en}", where=f"{path}:{key}")


def data_table(d: dict, key: str, path: Path, here: str = "") -> dict:
    where = f"{here}.{key}" if here else key
    v = d.get(key)
    if not isinstance(v, dict):
        raise bad_data(f"缺少表 {where}", f"missing table {where}", path, where)
    return v


def data_list(d: dict, key: str, path: Path) -> list:
    v = d.get(key)
    if not isinstance(v, list) or not v or not all(isinstance(r, dict) for r in v):
        raise bad_data(f"缺少 [[{key}]] 表", f"missing [[{key}]] tables", path, key)
    return v


def data_text(d: dict, key: str, path: Path, here: str, required: bool = True) -> str | None:
    v = d.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        raise bad_data(f"{here}.{key} 应为文字", f"{here}.{key} must be text", path, f"{here}.{key}")
    return v


def data_number(d: dict, key: str, path: Path, here: str, *, required: bool = True,
                positive: bool = False) -> float | None:
    v = d.get(key)
    if v is None and not required:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or (positive and v <= 0):
        what = "正数" if positive else "数字"
        raise bad_data(f"{here}.{key} 应为{what}", f"{here}.{key} must be a {'positive ' if positive else ''}number",
                       path, f"{here}.{key}")
    return float(v)


def data_bool(d: dict, key: str, path: Path, here: str, default: bool) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise bad_data(f"{here}.{key} 应为 true 或 false", f"{here}.{key} must be true or false",
                       path, f"{here}.{key}")
    return v


def data_level(d: dict, key: str, path: Path, here: str) -> int:
    try:
        return parse_level(d.get(key), where=f"{path}:{here}.{key}")
    except RiskmapError as exc:
        raise bad_data(exc.zh, exc.en, path, f"{here}.{key}") from None


def data_value_tables(data: dict, path: Path, factors: tuple[str, ...]) -> dict[str, dict[float, str]]:
    """Read ``[[L]]``-style tables of allowed values: ``{"L": {10.0: "完全可以预料", …}, …}``."""
    values: dict[str, dict[float, str]] = {}
    for f in factors:
        table: dict[float, str] = {}
        for i, row in enumerate(data_list(data, f, path)):
            v = data_number(row, "value", path, f"{f}[{i}]", positive=True)
            if v in table:
                raise bad_data(f"{f} 取值 {fmt(v)} 重复", f"{f} value {fmt(v)} given twice", path, f"{f}[{i}].value")
            table[v] = data_text(row, "zh", path, f"{f}[{i}]")
        values[f] = table
    return values


def data_source(data: dict, path: Path) -> dict:
    """Check the ``[source]`` table every standards file carries."""
    src = data_table(data, "source", path)
    data_text(src, "standard", path, "source")
    return src


# ---------------------------------------------------------------- bands

@dataclass(frozen=True)
class Band:
    """One band of a banded score: ``min`` is its lower boundary (``None`` for the lowest band)."""

    name_zh: str
    min: float | None
    level: int
    max: float | None = None
    extra: dict = field(default_factory=dict)


def data_bands(data: dict, path: Path, key: str = "bands", name_key: str = "name_zh") -> tuple[Band, ...]:
    """Read ``[[bands]]`` ordered from the highest boundary down; every band but the last needs ``min``."""
    rows = data_list(data, key, path)
    bands: list[Band] = []
    for i, row in enumerate(rows):
        here = f"{key}[{i}]"
        name = data_text(row, name_key, path, here)
        lo = data_number(row, "min", path, here, required=i < len(rows) - 1)
        hi = data_number(row, "max", path, here, required=False)
        if bands and lo is not None and not lo < bands[-1].min:
            raise bad_data(f"{here}.min 须小于上一档的 min（由高到低排列）",
                           f"{here}.min must be below the previous band's min (highest band first)",
                           path, f"{here}.min")
        extra = {k: v for k, v in row.items() if k not in (name_key, "min", "max", "level")}
        bands.append(Band(name_zh=name, min=lo, level=data_level(row, "level", path, here), max=hi,
                          extra=extra))
    return tuple(bands)


def pick_band(value: float, bands: tuple[Band, ...], boundary_in_upper_band: bool) -> int:
    """Index of the band holding ``value``. With ``boundary_in_upper_band`` a value equal to a
    boundary goes to the upper band (lower bounds inclusive); otherwise to the lower band.

    >>> bs = (Band("hi", 10, 1), Band("lo", None, 4))
    >>> pick_band(10, bs, True), pick_band(10, bs, False), pick_band(9.99, bs, True)
    (0, 1, 1)
    """
    v = round(float(value), 9)  # 9.9999999999 from float noise is 10
    for i, b in enumerate(bands):
        if b.min is None or (v >= b.min if boundary_in_upper_band else v > b.min):
            return i
    return len(bands) - 1


def band_range(bands: tuple[Band, ...], i: int, symbol: str, boundary_in_upper_band: bool) -> str:
    """Band ``i`` as text, e.g. ``"160 ≤ D < 320"`` (or ``"160 < D ≤ 320"`` with the setting flipped)."""
    b = bands[i]
    if b.min is not None and b.max is not None:
        return f"{fmt(b.min)} ≤ {symbol} ≤ {fmt(b.max)}"
    upper = bands[i - 1].min if i > 0 else None
    lo_op, hi_op = ("≤", "<") if boundary_in_upper_band else ("<", "≤")
    if b.min is None and upper is None:
        return f"任意 {symbol}"
    if b.min is None:
        return f"{symbol} {hi_op} {fmt(upper)}"
    if upper is None:
        return f"{symbol} {'≥' if boundary_in_upper_band else '>'} {fmt(b.min)}"
    return f"{fmt(b.min)} {lo_op} {symbol} {hi_op} {fmt(upper)}"


# ---------------------------------------------------------------- inputs

def check_inputs(inputs: Any, method: str) -> dict:
    if not isinstance(inputs, dict):
        raise RiskmapError(f"{method} 的输入应为字典（JSON 对象），收到 {type(inputs).__name__}",
                           f"{method} inputs must be a dict (JSON object), got {type(inputs).__name__}",
                           where="inputs")
    return inputs


def need(inputs: dict, key: str, where: str | None = None) -> Any:
    """``inputs[key]``, or an error naming the missing field."""
    where = where or key
    if key not in inputs or inputs[key] is None:
        raise RiskmapError(f"缺少字段 {where}", f"missing field {where}", where=where)
    return inputs[key]


def as_number(value: Any, where: str, *, positive: bool = False, minimum: float | None = None) -> float:
    """A finite number from an int, float or numeric text; anything else names ``where``."""
    number = None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise RiskmapError(f"{where} 应为数字，收到 {value!r}", f"{where} must be a number, got {value!r}",
                           where=where)
    if positive and number <= 0:
        raise RiskmapError(f"{where} 应大于 0，收到 {fmt(number)}", f"{where} must be greater than 0, got {fmt(number)}",
                           where=where)
    if minimum is not None and number < minimum:
        raise RiskmapError(f"{where} 不能小于 {fmt(minimum)}，收到 {fmt(number)}",
                           f"{where} must not be below {fmt(minimum)}, got {fmt(number)}", where=where)
    return number


def as_whole(value: Any, where: str, *, minimum: int | None = None) -> int:
    """A whole number (5 or 5.0 or "5"); 5.5 or text names ``where``."""
    number = as_number(value, where)
    if not number.is_integer():
        raise RiskmapError(f"{where} 应为整数，收到 {value!r}", f"{where} must be a whole number, got {value!r}",
                           where=where)
    if minimum is not None and number < minimum:
        raise RiskmapError(f"{where} 不能小于 {minimum}，收到 {fmt(number)}",
                           f"{where} must not be below {minimum}, got {fmt(number)}", where=where)
    return int(number)


def as_text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RiskmapError(f"{where} 应为非空文字，收到 {value!r}", f"{where} must be non-empty text, got {value!r}",
                           where=where)
    return value.strip()


def choose(value: float, allowed: dict[float, str], where: str) -> float:
    """Check ``value`` is one of the table's values; the error lists them."""
    for v in allowed:
        if math.isclose(value, v, rel_tol=1e-9, abs_tol=1e-12):
            return v
    listed = ", ".join(fmt(v) for v in allowed)
    raise RiskmapError(f"{where}={fmt(value)} 不在取值表中，可选值：{listed}",
                       f"{where}={fmt(value)} is not in the table; allowed values: {listed}", where=where)
