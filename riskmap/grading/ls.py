"""LS 风险矩阵: R = L × S, each 1–5, banded by ``ls_matrix.toml``.

>>> r = grade({"L": 4, "S": 4})
>>> r.score, r.level_name
(16.0, '较大风险')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from riskmap.grading._common import (Band, GradeResult, as_number, band_range, cached_loader, check_inputs, choose,
                                     data_bands, data_bool, data_source, data_table, data_value_tables, fmt,
                                     make_result, need, pick_band, resolve, tidy)
from riskmap.levels import label_zh

METHOD = "ls"
FACTORS = ("L", "S")


@dataclass(frozen=True)
class LSStandard:
    """The risk-matrix tables: L and S values with meanings, and the R bands."""

    path: Path
    source: dict
    values: dict[str, dict[float, str]]
    bands: tuple[Band, ...]
    boundary_in_upper_band: bool


def _parse(data: dict, path: Path) -> LSStandard:
    source = data_source(data, path)
    settings = data_table(data, "settings", path)
    values = data_value_tables(data, path, FACTORS)
    return LSStandard(path=path, source=source, values=values, bands=data_bands(data, path),
                      boundary_in_upper_band=data_bool(settings, "boundary_in_upper_band", path, "settings", True))


load = cached_loader("ls_matrix.toml", _parse)


def grade(inputs: dict, standard=None) -> GradeResult:
    """Grade ``{"L", "S"}``, each a whole number 1–5 (the values of ``ls_matrix.toml``)."""
    std = resolve(standard, load)
    inputs = check_inputs(inputs, METHOD)
    picked = {f: choose(as_number(need(inputs, f), f), std.values[f], f) for f in FACTORS}
    r = tidy(picked["L"] * picked["S"])
    i = pick_band(r, std.bands, std.boundary_in_upper_band)
    band = std.bands[i]
    rng = band_range(std.bands, i, "R", std.boundary_in_upper_band)
    parts = " × ".join(f"{f}={fmt(picked[f])}（{std.values[f][picked[f]]}）" for f in FACTORS)
    label = label_zh(band.level)
    named = label if label.startswith(band.name_zh) else f"“{band.name_zh}”，对应{label}"
    explanation = f"风险矩阵（LS）：{parts} = R={fmt(r)}；{rng}，属{named}。"
    details = {f: picked[f] for f in FACTORS}
    details.update({f"{f}_zh": std.values[f][picked[f]] for f in FACTORS})
    details.update({"R": r, "band": band.name_zh, "band_range": rng})
    return make_result(METHOD, band.level, r, explanation, details)
