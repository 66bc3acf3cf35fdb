"""LEC 作业条件危险性评价: D = L × E × C, banded by ``lec.toml``.

>>> r = grade({"L": 3, "E": 6, "C": 15})
>>> r.score, r.level, r.details["band"]
(270.0, 2, '高度危险')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from riskmap.grading._common import (Band, GradeResult, as_number, band_range, cached_loader, check_inputs, choose,
                                     data_bands, data_bool, data_source, data_table, data_value_tables, fmt,
                                     make_result, need, pick_band, resolve, tidy)
from riskmap.levels import label_zh

METHOD = "lec"
FACTORS = ("L", "E", "C")


@dataclass(frozen=True)
class LECStandard:
    """The LEC tables: allowed values with meanings, bands, and the boundary setting."""

    path: Path
    source: dict
    values: dict[str, dict[float, str]]  # "L" → {10.0: "完全可以预料", …}
    bands: tuple[Band, ...]
    boundary_in_upper_band: bool


def _parse(data: dict, path: Path) -> LECStandard:
    source = data_source(data, path)
    settings = data_table(data, "settings", path)
    values = data_value_tables(data, path, FACTORS)
    return LECStandard(path=path, source=source, values=values, bands=data_bands(data, path),
                       boundary_in_upper_band=data_bool(settings, "boundary_in_upper_band", path, "settings", True))


load = cached_loader("lec.toml", _parse)


def classify(d: float, standard=None) -> tuple[Band, str]:
    """The band of a D value and its range text, e.g. ``(高度危险 band, "160 ≤ D < 320")``.

    Note: with the standard tables D can never be exactly 320 or 160 (no product L×E×C gives them);
    the boundary setting matters for D = 70 and D = 20.

    >>> band, rng = classify(320)
    >>> band.name_zh, rng
    ('极其危险', 'D ≥ 320')
    """
    std = resolve(standard, load)
    i = pick_band(d, std.bands, std.boundary_in_upper_band)
    return std.bands[i], band_range(std.bands, i, "D", std.boundary_in_upper_band)


def grade(inputs: dict, standard=None) -> GradeResult:
    """Grade ``{"L", "E", "C"}``; each must be a value of its table in ``lec.toml``."""
    std = resolve(standard, load)
    inputs = check_inputs(inputs, METHOD)
    picked = {f: choose(as_number(need(inputs, f), f), std.values[f], f) for f in FACTORS}
    d = tidy(picked["L"] * picked["E"] * picked["C"])
    band, rng = classify(d, std)
    parts = " × ".join(f"{f}={fmt(picked[f])}（{std.values[f][picked[f]]}）" for f in FACTORS)
    action = band.extra.get("action_zh")
    explanation = (f"LEC 法：{parts} = D={fmt(d)}；{rng}，属“{band.name_zh}”"
                   f"{'，' + action if action else ''}；对应{label_zh(band.level)}。")
    details = {f: picked[f] for f in FACTORS}
    details.update({f"{f}_zh": std.values[f][picked[f]] for f in FACTORS})
    details.update({"D": d, "band": band.name_zh, "band_range": rng, "action_zh": action,
                    "boundary_in_upper_band": std.boundary_in_upper_band})
    return make_result(METHOD, band.level, d, explanation, details)
