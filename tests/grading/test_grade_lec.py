"""LEC: D = L × E × C, every band boundary, the boundary setting, bad inputs."""

import itertools

import pytest

from riskmap.errors import RiskmapError
from riskmap.grading import grade, lec

FLIP = ("boundary_in_upper_band = true", "boundary_in_upper_band = false")


def test_worked_example():
    # L=3 (可能，但不经常) × E=6 (每天工作时间内暴露) × C=15 (非常严重，一人死亡) = 270 → 高度危险 → 橙
    r = grade("lec", {"L": 3, "E": 6, "C": 15})
    assert (r.score, r.level, r.level_name, r.colour) == (270, 2, "较大风险", "#FF8C00")
    assert r.details["band"] == "高度危险"
    assert "L=3" in r.explanation and "D=270" in r.explanation and "160 ≤ D < 320" in r.explanation


@pytest.mark.parametrize("d, band, level", [
    (320, "极其危险", 1), (319.99, "高度危险", 2),
    (160, "高度危险", 2), (159.99, "显著危险", 3),
    (70, "显著危险", 3), (69.99, "一般危险", 4),
    (20, "一般危险", 4), (19.99, "稍有危险", 4),
    (0.05, "稍有危险", 4), (10000, "极其危险", 1),
])
def test_band_boundaries_upper_inclusive(d, band, level):
    b, _ = lec.classify(d)
    assert (b.name_zh, b.level) == (band, level)


@pytest.mark.parametrize("d, band", [
    (320, "高度危险"), (320.01, "极其危险"),
    (160, "显著危险"), (160.01, "高度危险"),
    (70, "一般危险"), (70.01, "显著危险"),
    (20, "稍有危险"), (20.01, "一般危险"),
])
def test_band_boundaries_flipped(edited_standard, d, band):
    std = lec.load(edited_standard("lec.toml", *FLIP))
    assert lec.classify(d, std)[0].name_zh == band


def test_range_text_follows_setting(edited_standard):
    assert lec.classify(200)[1] == "160 ≤ D < 320"
    assert lec.classify(200, lec.load(edited_standard("lec.toml", *FLIP)))[1] == "160 < D ≤ 320"


def test_reachable_boundaries_through_grade(edited_standard):
    # 10 × 1 × 7 = 70 exactly: lower bound inclusive → 显著危险 (黄); flipped → 一般危险 (蓝)
    r = grade("lec", {"L": 10, "E": 1, "C": 7})
    assert (r.score, r.details["band"], r.level) == (70, "显著危险", 3)
    flipped = edited_standard("lec.toml", *FLIP)
    r = grade("lec", {"L": 10, "E": 1, "C": 7}, standard=flipped)
    assert (r.details["band"], r.level) == ("一般危险", 4)
    # 10 × 2 × 1 = 20 exactly → 一般危险; flipped → 稍有危险 (both 蓝)
    assert grade("lec", {"L": 10, "E": 2, "C": 1}).details["band"] == "一般危险"
    assert grade("lec", {"L": 10, "E": 2, "C": 1}, standard=flipped).details["band"] == "稍有危险"
    # just below 70 with table values: 6 × 10 × 1 = 60 → 一般危险; just above: 3 × 2 × 15 = 90 → 显著危险
    assert grade("lec", {"L": 6, "E": 10, "C": 1}).details["band"] == "一般危险"
    assert grade("lec", {"L": 3, "E": 2, "C": 15}).details["band"] == "显著危险"
    # 6 × 6 × 7 = 252 → 高度危险 (橙); 10 × 6 × 15 = 900 → 极其危险 (红); 6 × 3 × 7 = 126 → 黄
    assert grade("lec", {"L": 6, "E": 6, "C": 7}).colour == "#FF8C00"
    assert grade("lec", {"L": 10, "E": 6, "C": 15}).colour == "#FF0000"
    assert grade("lec", {"L": 6, "E": 3, "C": 7}).colour == "#FFE600"


def test_320_and_160_are_not_products_of_table_values():
    std = lec.load()
    products = {round(l * e * c, 9) for l, e, c in itertools.product(*(std.values[f] for f in "LEC"))}
    assert 320 not in products and 160 not in products
    assert 70 in products and 20 in products


def test_float_noise_does_not_cross_a_boundary():
    # 0.2 × 10 × ... products carry float noise (0.2*6*15 = 18.000000000000004); D shown tidy
    r = grade("lec", {"L": 0.2, "E": 6, "C": 15})
    assert r.score == 18 and r.details["band"] == "稍有危险"


def test_numeric_text_is_accepted():
    assert grade("lec", {"L": "3", "E": "6", "C": "15"}).score == 270


def test_l_outside_table_names_l_and_lists_values():
    with pytest.raises(RiskmapError) as err:
        grade("lec", {"L": 7, "E": 6, "C": 15})
    msg = str(err.value)
    assert err.value.where == "L"
    assert "L=7" in msg and "10, 6, 3, 1, 0.5, 0.2, 0.1" in msg


def test_e_and_c_outside_table():
    with pytest.raises(RiskmapError) as err:
        grade("lec", {"L": 3, "E": 4, "C": 15})
    assert err.value.where == "E" and "10, 6, 3, 2, 1, 0.5" in str(err.value)
    with pytest.raises(RiskmapError) as err:
        grade("lec", {"L": 3, "E": 6, "C": 50})
    assert err.value.where == "C" and "100, 40, 15, 7, 3, 1" in str(err.value)


@pytest.mark.parametrize("field", ["L", "E", "C"])
def test_missing_field_is_named(field):
    inputs = {"L": 3, "E": 6, "C": 15}
    del inputs[field]
    with pytest.raises(RiskmapError) as err:
        grade("lec", inputs)
    assert err.value.where == field and f"缺少字段 {field}" in str(err.value)


@pytest.mark.parametrize("bad", ["abc", [3], {"v": 3}, True, None, float("nan")])
def test_wrong_type_is_named(bad):
    with pytest.raises(RiskmapError) as err:
        grade("lec", {"L": bad, "E": 6, "C": 15})
    assert err.value.where == "L"


def test_inputs_must_be_a_dict():
    with pytest.raises(RiskmapError):
        grade("lec", [3, 6, 15])
