"""The four levels: colours from levels.toml, every accepted spelling, rejects."""

import math

import pytest

from riskmap.errors import RiskmapError
from riskmap.levels import LEVELS_FILE, colour, hex_to_rgb, label_zh, level_info, load_levels, parse_level


def test_default_colours_and_names():
    assert [colour(n) for n in (1, 2, 3, 4)] == ["#FF0000", "#FF8C00", "#FFE600", "#0070FF"]
    assert [level_info(n).name_zh for n in (1, 2, 3, 4)] == ["重大风险", "较大风险", "一般风险", "低风险"]
    assert [level_info(n).short_zh for n in (1, 2, 3, 4)] == ["重大", "较大", "一般", "低"]
    assert [level_info(n).colour_zh for n in (1, 2, 3, 4)] == ["红", "橙", "黄", "蓝"]
    assert label_zh(2) == "较大风险（橙）"


def test_low_risk_is_blue_never_green():
    r, g, b = hex_to_rgb(colour(4))
    assert b > g and b > r
    assert level_info(4).colour_en == "blue"


def test_source_note_present():
    src = load_levels().source
    assert "GB 2893" in src["note"] and "orange" in src["note"]


@pytest.mark.parametrize("value, expected", [
    # 重大/较大/一般/低, with or without 风险
    ("重大", 1), ("较大", 2), ("一般", 3), ("低", 4),
    ("重大风险", 1), ("较大风险", 2), ("一般风险", 3), ("低风险", 4),
    # 红/橙/黄/蓝 and 红色…
    ("红", 1), ("橙", 2), ("黄", 3), ("蓝", 4),
    ("红色", 1), ("橙色", 2), ("黄色", 3), ("蓝色", 4),
    # numbers: int, whole float, text
    (1, 1), (2, 2), (3, 3), (4, 4), (1.0, 1), (4.0, 4), ("1", 1), ("4", 4), (" 2 ", 2), ("3.0", 3),
    # Roman numerals, both the single characters and ASCII letters
    ("Ⅰ", 1), ("Ⅱ", 2), ("Ⅲ", 3), ("Ⅳ", 4), ("I", 1), ("II", 2), ("III", 3), ("IV", 4), ("iv", 4),
    # 一级–四级
    ("一级", 1), ("二级", 2), ("三级", 3), ("四级", 4),
    # English colours and names, any case
    ("red", 1), ("orange", 2), ("yellow", 3), ("blue", 4), ("RED", 1), ("Blue", 4),
    ("major", 1), ("significant", 2), ("general", 3), ("low", 4), ("Major Risk", 1), ("low risk", 4),
])
def test_parse_level_accepts(value, expected):
    assert parse_level(value) == expected


@pytest.mark.parametrize("value", [
    0, 5, -1, 1.5, "1.5", "5", "绿", "绿色", "green", "", "  ", "中等", "V", "五级", "high",
    None, True, False, [1], {"level": 1}, math.nan, "nan", "inf",
])
def test_parse_level_rejects(value):
    with pytest.raises(RiskmapError) as err:
        parse_level(value, where="enterprises.xlsx:7:风险等级")
    assert "enterprises.xlsx:7:风险等级" in str(err.value)
    assert repr(value) in str(err.value)


def test_level_info_and_colour_accept_spellings():
    assert level_info("橙").n == 2
    assert colour("低") == "#0070FF"


def _write_levels(tmp_path, text):
    p = tmp_path / "levels.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_custom_levels_file(tmp_path):
    text = LEVELS_FILE.read_text(encoding="utf-8").replace("#FFE600", "#FFD700")
    levels = load_levels(_write_levels(tmp_path, text))
    assert levels.info(3).colour == "#FFD700"
    assert load_levels().info(3).colour == "#FFE600"  # the bundled file is untouched


def test_levels_file_refuses_green_low_risk(tmp_path):
    text = LEVELS_FILE.read_text(encoding="utf-8").replace("#0070FF", "#00B050")
    with pytest.raises(RiskmapError) as err:
        load_levels(_write_levels(tmp_path, text))
    assert "level[4].colour" in str(err.value)


def test_levels_file_bad_colour_names_key(tmp_path):
    text = LEVELS_FILE.read_text(encoding="utf-8").replace('"#FF8C00"', '"orange"')
    with pytest.raises(RiskmapError) as err:
        load_levels(_write_levels(tmp_path, text))
    assert "levels.toml:level[1].colour" in str(err.value)


def test_levels_file_missing_level(tmp_path):
    text = LEVELS_FILE.read_text(encoding="utf-8")
    text = text[: text.rindex("[[level]]")]
    with pytest.raises(RiskmapError) as err:
        load_levels(_write_levels(tmp_path, text))
    assert "levels.toml:level" in str(err.value)


def test_levels_file_not_found(tmp_path):
    with pytest.raises(RiskmapError):
        load_levels(tmp_path / "nope.toml")
