"""化工园区 safety-risk grade A/B/C/D from the park's score (0–100; lower score = higher risk).

>>> r = grade({"score": 72})
>>> r.details["grade"], r.level_name
('C', '一般风险')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from riskmap.grading._common import (Band, GradeResult, as_number, band_range, bad_data, cached_loader, check_inputs,
                                     data_bands, data_bool, data_number, data_source, data_table, fmt,
                                     make_result, need, pick_band, resolve, tidy)
from riskmap.errors import RiskmapError
from riskmap.levels import label_zh

METHOD = "park"


@dataclass(frozen=True)
class ParkStandard:
    """The park score bands (A 高 … D 较低) and the score range."""

    path: Path
    source: dict
    bands: tuple[Band, ...]
    boundary_in_upper_band: bool
    min_score: float
    max_score: float


def _parse(data: dict, path: Path) -> ParkStandard:
    source = data_source(data, path)
    settings = data_table(data, "settings", path)
    bands = data_bands(data, path)
    for i, b in enumerate(bands):
        if not isinstance(b.extra.get("grade"), str):
            raise bad_data(f"bands[{i}].grade 应为文字（A/B/C/D）", f"bands[{i}].grade must be text (A/B/C/D)",
                           path, f"bands[{i}].grade")
    lo = data_number(settings, "min_score", path, "settings")
    hi = data_number(settings, "max_score", path, "settings")
    if not lo < hi:
        raise bad_data("min_score 须小于 max_score", "min_score must be below max_score", path, "settings.min_score")
    return ParkStandard(path=path, source=source, bands=bands,
                        boundary_in_upper_band=data_bool(settings, "boundary_in_upper_band", path, "settings", True),
                        min_score=lo, max_score=hi)


load = cached_loader("park.toml", _parse)


def grade(inputs: dict, standard=None) -> GradeResult:
    """Grade ``{"score"}``, the park's score under 化工园区安全风险排查治理导则."""
    std = resolve(standard, load)
    inputs = check_inputs(inputs, METHOD)
    score = as_number(need(inputs, "score"), "score")
    if not std.min_score <= score <= std.max_score:
        raise RiskmapError(f"score 应在 {fmt(std.min_score)}–{fmt(std.max_score)} 之间，收到 {fmt(score)}",
                           f"score must be between {fmt(std.min_score)} and {fmt(std.max_score)}, got {fmt(score)}",
                           where="score")
    score = tidy(score)
    i = pick_band(score, std.bands, std.boundary_in_upper_band)
    band = std.bands[i]
    rng = band_range(std.bands, i, "分数", std.boundary_in_upper_band)
    g = band.extra["grade"]
    explanation = (f"化工园区安全风险评分 {fmt(score)} 分：{rng}，为 {g} 类（{band.name_zh}）；"
                   f"对应{label_zh(band.level)}。")
    details = {"score": score, "grade": g, "band": band.name_zh, "band_range": rng}
    return make_result(METHOD, band.level, score, explanation, details)
