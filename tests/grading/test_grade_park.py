"""化工园区 score → A/B/C/D: boundaries 60, 70, 85 and bad inputs."""

import pytest

from riskmap.errors import RiskmapError
from riskmap.grading import grade


@pytest.mark.parametrize("score, grade_letter, level, colour", [
    (0, "A", 1, "#FF0000"), (59.9, "A", 1, "#FF0000"),
    (60, "B", 2, "#FF8C00"), (69.9, "B", 2, "#FF8C00"),
    (70, "C", 3, "#FFE600"), (84.9, "C", 3, "#FFE600"),
    (85, "D", 4, "#0070FF"), (100, "D", 4, "#0070FF"),
])
def test_bands(score, grade_letter, level, colour):
    r = grade("park", {"score": score})
    assert (r.details["grade"], r.level, r.colour, r.score) == (grade_letter, level, colour, score)


def test_explanation_names_score_band_and_grade():
    r = grade("park", {"score": 70})
    assert "70 分" in r.explanation and "70 ≤ 分数 < 85" in r.explanation and "C 类" in r.explanation


def test_flipped_setting(edited_standard):
    p = edited_standard("park.toml", "boundary_in_upper_band = true", "boundary_in_upper_band = false")
    assert [grade("park", {"score": s}, standard=p).details["grade"] for s in (60, 70, 85)] == ["A", "B", "C"]


@pytest.mark.parametrize("bad", [-1, 100.5, "abc", None, [80]])
def test_bad_score(bad):
    with pytest.raises(RiskmapError) as err:
        grade("park", {"score": bad})
    assert err.value.where == "score"
