"""Direct entry by an assessor, and the 直接判定 rules."""

import pytest

from riskmap.errors import RiskmapError
from riskmap.grading import apply_direct_rules, evaluate_direct_rules, grade
from riskmap.grading import direct


def test_manual_entry():
    r = grade("manual", {"level": "Ⅱ", "reason": "重点监管工艺，复核后定为较大", "assessor": "张三"})
    assert (r.level, r.level_name, r.colour, r.score) == (2, "较大风险", "#FF8C00", None)
    assert "张三" in r.explanation and "复核后定为较大" in r.explanation
    assert r.details["assessor"] == "张三" and r.details["entered_level"] == "Ⅱ"


@pytest.mark.parametrize("inputs, field", [
    ({"reason": "x", "assessor": "y"}, "level"),
    ({"level": "绿", "reason": "x", "assessor": "y"}, "level"),
    ({"level": 1, "assessor": "y"}, "reason"),
    ({"level": 1, "reason": "  ", "assessor": "y"}, "reason"),
    ({"level": 1, "reason": "x"}, "assessor"),
    ({"level": 1, "reason": "x", "assessor": 5}, "assessor"),
])
def test_manual_errors(inputs, field):
    with pytest.raises(RiskmapError) as err:
        grade("manual", inputs)
    assert err.value.where == field


def ids(facts, **kw):
    return [f.id for f in evaluate_direct_rules(facts, **kw)]


def test_open_major_hidden_danger_fires():
    fired = evaluate_direct_rules({"open_major_hidden_dangers": 1})
    assert [f.id for f in fired] == ["open_major_hidden_danger"]
    f = fired[0]
    assert (f.level, f.level_name, f.colour) == (1, "重大风险", "#FF0000")
    assert f.facts == {"open_major_hidden_dangers": 1} and "重大事故隐患" in f.zh
    assert ids({"open_major_hidden_dangers": 0}) == []


@pytest.mark.parametrize("grade_value, fires", [
    (1, True), (2, True), ("一级", True), ("二级", True), (2.0, True), ("2", True),
    (3, False), (4, False), ("三级", False), (None, False), (True, False),
])
def test_major_hazard_grade(grade_value, fires):
    assert (ids({"major_hazard_grade": grade_value}) == ["major_hazard_grade_1_2"]) is fires


def test_key_process_rule_needs_both_facts():
    assert ids({"key_hazardous_process": True, "key_process_automated": False}) == ["key_process_not_automated"]
    assert ids({"key_hazardous_process": "是", "key_process_automated": "否"}) == ["key_process_not_automated"]
    assert ids({"key_hazardous_process": True, "key_process_automated": True}) == []
    assert ids({"key_hazardous_process": True}) == []  # missing fact: never fires


def test_disabled_rules_do_not_fire_unless_asked():
    facts = {"accidents_larger_3y": 1, "external_distance_insufficient": True}
    assert ids(facts) == []
    assert ids(facts, include_disabled=True) == ["larger_accident_3y", "external_distance_insufficient"]


def test_wrong_fact_type_is_named():
    with pytest.raises(RiskmapError) as err:
        evaluate_direct_rules({"open_major_hidden_dangers": "many"})
    assert err.value.where == "facts.open_major_hidden_dangers"
    with pytest.raises(RiskmapError):
        evaluate_direct_rules(["not", "a", "dict"])


def test_apply_raises_level_and_says_which_rule():
    base = grade("ls", {"L": 2, "S": 2})  # R = 4 → 一般风险
    r = apply_direct_rules(base, {"open_major_hidden_dangers": 2})
    assert (r.level, r.colour) == (1, "#FF0000")
    assert r.details["direct_rules"] == ["open_major_hidden_danger"] and r.details["graded_level"] == 3
    assert "直接判定" in r.explanation and "open_major_hidden_danger" in r.explanation
    assert apply_direct_rules(base, {}) is base


def test_custom_rule_file(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text('''
[source]
standard = "本县规定"
[[rule]]
id = "dust"
zh = "涉爆粉尘作业人数 10 人以上"
en = "dust explosion work with 10 or more people"
level = "较大"
source = "本县规定"
match = "any"
[[rule.when]]
field = "dust_workers"
op = ">="
value = 10
[[rule.when]]
field = "industry"
op = "in"
value = ["粉尘涉爆"]
''', encoding="utf-8")
    assert [f.level for f in evaluate_direct_rules({"industry": "粉尘涉爆"}, p)] == [2]
    assert evaluate_direct_rules({"dust_workers": 3}, p) == []


@pytest.mark.parametrize("old, new, key", [
    ('op = ">="\nvalue = 1\n', 'op = "~"\nvalue = 1\n', "rule[0].when[0].op"),
    ('level = 1\nenabled = true\nsource = "practice in provincial 双重预防 guides"\n[[rule.when]]\nfield = "open',
     'level = 9\nenabled = true\nsource = "practice in provincial 双重预防 guides"\n[[rule.when]]\nfield = "open',
     "rule[0].level"),
    ('id = "major_hazard_grade_1_2"', 'id = "open_major_hidden_danger"', "rule[1].id"),
])
def test_bad_rules_file_names_key(edited_standard, old, new, key):
    p = edited_standard("direct_rules.toml", old, new)
    with pytest.raises(RiskmapError) as err:
        direct.load(p)
    assert err.value.where.endswith(f"direct_rules.toml:{key}")
