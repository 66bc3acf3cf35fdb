"""LS risk matrix: R = L × S, every band boundary, bad inputs."""

import pytest

from riskmap.errors import RiskmapError
from riskmap.grading import grade


@pytest.mark.parametrize("L, S, R, level", [
    (5, 5, 25, 1), (4, 5, 20, 1),                 # 20–25 重大 (红)
    (4, 4, 16, 2), (5, 3, 15, 2), (4, 3, 12, 2),  # 9–16 较大 (橙): R = 16, 15, 12, 10, 9
    (5, 2, 10, 2), (3, 3, 9, 2),
    (4, 2, 8, 3), (3, 2, 6, 3), (5, 1, 5, 3),     # 4–8 一般 (黄): R = 8, 6, 5, 4
    (2, 2, 4, 3), (1, 4, 4, 3),
    (3, 1, 3, 4), (2, 1, 2, 4), (1, 1, 1, 4),     # 1–3 低 (蓝)
])
def test_every_r_value(L, S, R, level):
    r = grade("ls", {"L": L, "S": S})
    assert (r.score, r.level) == (R, level)


def test_boundaries_20_16_9_8_4_3():
    by_r = {r: grade("ls", {"L": l, "S": s}) for r, (l, s) in
            {20: (4, 5), 16: (4, 4), 9: (3, 3), 8: (2, 4), 4: (2, 2), 3: (3, 1)}.items()}
    assert [by_r[r].level_name for r in (20, 16, 9, 8, 4, 3)] == \
        ["重大风险", "较大风险", "较大风险", "一般风险", "一般风险", "低风险"]
    assert by_r[9].details["band_range"] == "9 ≤ R ≤ 16"
    assert "R=9" in by_r[9].explanation and "L=3" in by_r[9].explanation and "S=3" in by_r[9].explanation


def test_whole_float_and_text_accepted():
    assert grade("ls", {"L": 3.0, "S": "3"}).score == 9


@pytest.mark.parametrize("inputs, field", [
    ({"L": 6, "S": 3}, "L"), ({"L": 0, "S": 3}, "L"), ({"L": 2.5, "S": 3}, "L"), ({"L": 3, "S": 7}, "S"),
])
def test_outside_table(inputs, field):
    with pytest.raises(RiskmapError) as err:
        grade("ls", inputs)
    assert err.value.where == field and "5, 4, 3, 2, 1" in str(err.value)


def test_missing_and_wrong_type():
    with pytest.raises(RiskmapError) as err:
        grade("ls", {"L": 3})
    assert err.value.where == "S"
    with pytest.raises(RiskmapError) as err:
        grade("ls", {"L": "high", "S": 3})
    assert err.value.where == "L"
