"""GB 18218-2018: cases worked by hand from the standard's tables, boundaries, data file, bad inputs.

Table values used (GB 18218-2018 Table 1 Q in t; Table 3/4 β):
氨 Q10 β2 · 氯 Q5 β4 · 硫化氢 Q5 β5 · 氰化氢 Q1 β10 · 碳酰氯(光气) Q0.3 β20 · 异氰酸甲酯 Q0.75 β20 ·
二氧化硫 Q20 β2 · 氢 Q5 β1.5 (W2) · 液化石油气 Q50 β1.5 (W2) · 苯 Q50 β1 (W5.3)
α (Table 5): ≥100 → 2.0; 50–99 → 1.5; 30–49 → 1.2; 1–29 → 1.0; 0 → 0.5
Grades (Table 6): 一级 R ≥ 100; 二级 50 ≤ R < 100; 三级 10 ≤ R < 50; 四级 R < 10
"""

import pytest

from riskmap.errors import RiskmapError
from riskmap.grading import gb18218, grade


def gb(people, *substances, standard=None):
    return grade("gb18218", {"people_within_500m": people, "substances": list(substances)}, standard=standard)


def sub(name, q, **extra):
    return {"name": name, "quantity_t": q, **extra}


def test_ammonia_and_chlorine_120_people():
    # 20 t 液氨 + 3 t 液氯, 120 people within 500 m
    # S = 20/10 + 3/5 = 2 + 0.6 = 2.6 ≥ 1 → 重大危险源
    # α = 2.0 (≥100 people); R = 2.0 × (2×2 + 4×0.6) = 2.0 × 6.4 = 12.8 → 三级 → 一般风险 黄
    r = gb(120, sub("液氨", 20), sub("液氯", 3))
    assert r.details["S"] == pytest.approx(2.6)
    assert r.score == pytest.approx(12.8)
    assert (r.details["grade"], r.details["grade_n"], r.level, r.colour) == ("三级", 3, 3, "#FFE600")
    assert r.details["major_hazard"] is True and r.details["alpha"] == 2.0
    assert [s["table_name"] for s in r.details["substances"]] == ["氨", "氯"]
    assert [s["beta"] for s in r.details["substances"]] == [2, 4]
    for text in ("液氨", "液氯", "S = Σq/Q = 20/10 + 3/5 = 2.6", "α=2", "2×(2×2 + 4×0.6) = 12.8", "三级"):
        assert text in r.explanation


def test_alpha_band_100_or_more():
    # 350 people → α = 2.0
    # 光气 0.6 t: q/Q = 0.6/0.3 = 2, β = 20 → 40;  氯 5 t: q/Q = 5/5 = 1, β = 4 → 4
    # S = 2 + 1 = 3; R = 2.0 × (40 + 4) = 88 → 二级 → 较大风险 橙
    r = gb(350, sub("光气", 0.6), sub("氯", 5))
    assert r.details["S"] == pytest.approx(3)
    assert r.score == pytest.approx(88)
    assert (r.details["grade"], r.level, r.colour) == ("二级", 2, "#FF8C00")


def test_alpha_band_50_to_99():
    # 50 people → α = 1.5
    # 液氨 50 t: 50/10 = 5, ×2 = 10;  硫化氢 5 t: 5/5 = 1, ×5 = 5;  氢气 10 t: 10/5 = 2, ×1.5 = 3
    # S = 5 + 1 + 2 = 8; R = 1.5 × (10 + 5 + 3) = 1.5 × 18 = 27 → 三级 黄
    r = gb(50, sub("液氨", 50), sub("硫化氢", 5), sub("氢气", 10))
    assert r.details["S"] == pytest.approx(8)
    assert r.details["alpha"] == 1.5
    assert r.score == pytest.approx(27)
    assert (r.details["grade"], r.level) == ("三级", 3)


def test_alpha_band_30_to_49():
    # 49 people → α = 1.2
    # 氰化氢 5 t: 5/1 = 5, ×10 = 50;  异氰酸甲酯 1.5 t: 1.5/0.75 = 2, ×20 = 40
    # S = 7; R = 1.2 × 90 = 108 → 一级 → 重大风险 红
    r = gb(49, sub("氰化氢", 5), sub("异氰酸甲酯", 1.5))
    assert r.details["S"] == pytest.approx(7)
    assert r.details["alpha"] == 1.2
    assert r.score == pytest.approx(108)
    assert (r.details["grade"], r.level, r.colour) == ("一级", 1, "#FF0000")


def test_alpha_band_1_to_29():
    # 1 person → α = 1.0
    # 液化石油气 100 t: 100/50 = 2, ×1.5 = 3;  苯 25 t: 25/50 = 0.5, ×1 = 0.5;  液氯 2.5 t: 0.5, ×4 = 2
    # S = 2 + 0.5 + 0.5 = 3; R = 1.0 × (3 + 0.5 + 2) = 5.5 → 四级 → 低风险 蓝
    r = gb(1, sub("液化石油气", 100), sub("苯", 25), sub("液氯", 2.5))
    assert r.details["S"] == pytest.approx(3)
    assert r.score == pytest.approx(5.5)
    assert (r.details["grade"], r.level, r.colour) == ("四级", 4, "#0070FF")
    assert r.details["major_hazard"] is True


def test_alpha_band_0():
    # 0 people → α = 0.5
    # 氯 25 t: 25/5 = 5, ×4 = 20;  二氧化硫 40 t: 40/20 = 2, ×2 = 4
    # S = 7; R = 0.5 × 24 = 12 → 三级
    r = gb(0, sub("氯", 25), sub("二氧化硫", 40))
    assert r.details["alpha"] == 0.5
    assert r.score == pytest.approx(12)
    assert r.details["grade"] == "三级"


@pytest.mark.parametrize("people, alpha", [
    (0, 0.5), (1, 1.0), (29, 1.0), (30, 1.2), (49, 1.2), (50, 1.5), (99, 1.5), (100, 2.0), (100000, 2.0),
])
def test_alpha_edges(people, alpha):
    # 硫化氢 10 t: S = 2, Σβq/Q = 5 × 2 = 10 → R = 10 α
    r = gb(people, sub("硫化氢", 10))
    assert r.details["alpha"] == alpha
    assert r.score == pytest.approx(10 * alpha)


def test_not_a_major_hazard_source():
    # 液氨 5 t + 液氯 2 t: S = 5/10 + 2/5 = 0.5 + 0.4 = 0.9 < 1 → 未构成重大危险源 → 低风险 (setting)
    # R (for reference) = 2.0 × (2×0.5 + 4×0.4) = 2.0 × 2.6 = 5.2
    r = gb(120, sub("液氨", 5), sub("液氯", 2))
    assert r.details["S"] == pytest.approx(0.9)
    assert r.details["major_hazard"] is False
    assert r.details["grade"] is None
    assert (r.level, r.level_name, r.colour) == (4, "低风险", "#0070FF")
    assert r.score == pytest.approx(5.2)
    assert "未构成重大危险源" in r.explanation


def test_s_exactly_1_is_a_major_hazard_source():
    # 液氨 10 t: S = 10/10 = 1 ≥ 1 → 重大危险源; 0 people: R = 0.5 × 2 × 1 = 1 → 四级
    r = gb(0, sub("液氨", 10))
    assert r.details["major_hazard"] is True
    assert (r.score, r.details["grade"]) == (1, "四级")


def test_not_major_mapping_is_configurable(edited_standard):
    p = edited_standard("gb18218.toml", "[not_major]\n# What", "[not_major]\nlevel = 3\n# What")
    p.write_text(p.read_text(encoding="utf-8").replace("level = 4\nname_zh", "name_zh"), encoding="utf-8")
    r = gb(120, sub("液氨", 5), standard=p)
    assert r.level == 3 and r.details["major_hazard"] is False


def test_custom_substance_with_q_and_beta():
    # 某溶剂 30 t with Q_t = 10 t and β = 1.5, 60 people (α = 1.5)
    # S = 30/10 = 3; R = 1.5 × 1.5 × 3 = 6.75 → 四级
    r = gb(60, sub("某溶剂", 30, Q_t=10, beta=1.5))
    assert r.score == pytest.approx(6.75)
    assert r.details["grade"] == "四级"
    s = r.details["substances"][0]
    assert (s["Q_source"], s["beta_source"], s["table_name"]) == ("input", "input", None)
    assert "（输入）" in r.explanation


def test_custom_substance_beta_from_hazard_class_or_table3():
    # 某剧毒气体 2 t, Q_t 5 t, class J1 → β 4 (Table 4): 2/5 = 0.4, ×4 = 1.6
    # 一氧化碳 10 t, Q_t 50 t (user's own Q; no Table 1 row) → β 2 (Table 3): 0.2, ×2 = 0.4
    # 液氨 20 t: 2, ×2 = 4.  S = 0.4 + 0.2 + 2 = 2.6; 10 people α 1.0: R = 1.6 + 0.4 + 4 = 6
    r = gb(10, sub("某剧毒气体", 2, Q_t=5, hazard_class="J1"), sub("一氧化碳", 10, Q_t=50), sub("液氨", 20))
    betas = [(s["beta"], s["beta_source"]) for s in r.details["substances"]]
    assert betas == [(4, "表4 J1"), (2, "表3"), (2, "表3")]
    assert r.score == pytest.approx(6)


def test_input_beta_and_q_override_table_values():
    # 汽油 100 t with beta 1 (enterprise's own class) and Q_t 200: 0.5 × 1 = 0.5; α 1.0 → R = 0.5
    r = gb(5, sub("汽油", 100, beta=1, Q_t=200))
    assert r.score == pytest.approx(0.5)
    assert r.details["substances"][0]["beta_source"] == "input"


@pytest.mark.parametrize("q, R, grade_name", [
    # custom substance Q_t = 1 t, β = 1, 100 people (α = 2): R = 2 q
    (50, 100, "一级"), (49.99, 99.98, "二级"),
    (25, 50, "二级"), (24.99, 49.98, "三级"),
    (5, 10, "三级"), (4.99, 9.98, "四级"),
])
def test_r_boundaries(q, R, grade_name):
    r = gb(100, sub("X", q, Q_t=1, beta=1))
    assert r.score == pytest.approx(R)
    assert r.details["grade"] == grade_name


@pytest.mark.parametrize("q, grade_name", [(50, "二级"), (25, "三级"), (5, "四级"), (50.01, "一级")])
def test_r_boundaries_flipped(edited_standard, q, grade_name):
    p = edited_standard("gb18218.toml", "boundary_in_upper_band = true", "boundary_in_upper_band = false")
    assert gb(100, sub("X", q, Q_t=1, beta=1), standard=p).details["grade"] == grade_name


def test_r_float_noise_at_boundary():
    # 0.1 + 0.2 style noise: 3 × (10/3) may not be exactly 10 in floats; still 三级
    r = gb(10, sub("X", 10 / 3, Q_t=1, beta=3))
    assert r.details["grade"] == "三级" and r.score == 10


def test_grade_of():
    assert gb18218.grade_of(100)[0].name_zh == "一级"
    assert gb18218.grade_of(99.999)[0].name_zh == "二级"


def test_lookup_by_alias_cas_and_fullwidth_brackets():
    std = gb18218.load()
    assert std.find("7664-41-7").name == "氨"
    assert std.find("氯化氢（无水）").name == "氯化氢"
    assert std.find(" 光气 ").name == "碳酰氯"
    assert std.find("lpg").name == "液化石油气"
    assert std.find("甲烷").name == "天然气"
    assert std.find("盐酸") is None


# ------------------------------------------------------------------ bad inputs

def bad(inputs):
    with pytest.raises(RiskmapError) as err:
        grade("gb18218", inputs)
    return err.value


def test_unknown_substance_is_named():
    e = bad({"people_within_500m": 10, "substances": [sub("液氨", 1), sub("神秘物质", 3)]})
    assert e.where == "substances[1].name" and "神秘物质" in str(e)


def test_unknown_substance_with_q_but_no_beta():
    e = bad({"people_within_500m": 10, "substances": [sub("神秘物质", 3, Q_t=10)]})
    assert e.where == "substances[0].beta" and "神秘物质" in str(e)


def test_bad_hazard_class():
    e = bad({"people_within_500m": 10, "substances": [sub("神秘物质", 3, Q_t=10, hazard_class="Z9")]})
    assert e.where == "substances[0].hazard_class"


@pytest.mark.parametrize("q", [-1, 0, "abc", None, [1]])
def test_bad_quantity_is_named(q):
    items = [sub("液氨", 1), sub("液氯", 1), {"name": "苯", "quantity_t": q}]
    e = bad({"people_within_500m": 10, "substances": items})
    assert e.where == "substances[2].quantity_t" and "substances[2].quantity_t" in str(e)


def test_missing_quantity_and_name():
    e = bad({"people_within_500m": 10, "substances": [{"name": "苯"}]})
    assert e.where == "substances[0].quantity_t" and "缺少字段" in str(e)
    e = bad({"people_within_500m": 10, "substances": [{"quantity_t": 3}]})
    assert e.where == "substances[0].name"


def test_bad_q_t():
    e = bad({"people_within_500m": 10, "substances": [sub("X", 3, Q_t=0, beta=1)]})
    assert e.where == "substances[0].Q_t"


@pytest.mark.parametrize("people", [-1, 12.5, "many", None])
def test_bad_people(people):
    e = bad({"people_within_500m": people, "substances": [sub("液氨", 20)]})
    assert e.where == "people_within_500m"


def test_bad_substances():
    assert bad({"people_within_500m": 1}).where == "substances"
    assert bad({"people_within_500m": 1, "substances": []}).where == "substances"
    assert bad({"people_within_500m": 1, "substances": {"name": "氨"}}).where == "substances"
    assert bad({"people_within_500m": 1, "substances": ["氨"]}).where == "substances[0]"


# ------------------------------------------------------------------ the data file

CONFIRMED_Q = {  # GB 18218-2018 Table 1, as checked (see gb18218.toml [source])
    "氨": 10, "氯": 5, "硫化氢": 5, "氰化氢": 1, "光气": 0.3, "氢": 5, "液化石油气": 50, "天然气": 50,
    "汽油": 200, "甲醇": 500, "苯": 50, "乙炔": 1, "二氧化硫": 20, "氟化氢": 1, "二氧化氮": 1,
    "环氧乙烷": 10, "氯化氢": 20, "溴甲烷": 10, "磷化氢": 1, "异氰酸甲酯": 0.75,
}

TABLE3 = {"一氧化碳": 2, "二氧化硫": 2, "氨": 2, "环氧乙烷": 2, "氯化氢": 3, "溴甲烷": 3, "氯": 4, "硫化氢": 5,
          "氟化氢": 5, "二氧化氮": 10, "氰化氢": 10, "碳酰氯": 20, "磷化氢": 20, "异氰酸甲酯": 20}


def test_table1_values():
    std = gb18218.load()
    for name, q in CONFIRMED_Q.items():
        assert std.find(name).Q_t == q, name
    assert std.find("一氧化碳") is None  # no separate Table 1 row in GB 18218-2018


def test_table3_and_table4_betas():
    std = gb18218.load()
    assert std.beta_table3 == TABLE3
    t4 = std.beta_table4
    assert (t4["J1"], t4["J2"], t4["J3"], t4["J4"], t4["J5"]) == (4, 1, 2, 2, 1)
    assert (t4["W1.1"], t4["W1.2"], t4["W1.3"], t4["W2"]) == (2, 2, 2, 1.5)
    assert (t4["W5.1"], t4["W6.1"], t4["W7.1"]) == (1.5, 1.5, 1.5)
    assert std.default_beta == 1
    for s in std.substances:  # each row carries its β, from Table 3 or from its Table 4 class
        expected = TABLE3[s.name] if s.beta_from == "表3" else t4[s.hazard_class]
        assert s.beta == expected, s.name


def test_bad_beta_in_data_file_is_reported_with_path_and_key(edited_standard):
    p = edited_standard("gb18218.toml", 'name = "氯"\naliases = ["液氯", "氯气"]\ncas = "7782-50-5"\nQ_t = 5\nbeta = 4',
                        'name = "氯"\naliases = ["液氯", "氯气"]\ncas = "7782-50-5"\nQ_t = 5\nbeta = 3')
    with pytest.raises(RiskmapError) as err:
        gb18218.load(p)
    assert "gb18218.toml:substance[" in err.value.where and err.value.where.endswith("].beta")


def test_alpha_gap_in_data_file(edited_standard):
    p = edited_standard("gb18218.toml", "min_people = 30\nmax_people = 49", "min_people = 31\nmax_people = 49")
    with pytest.raises(RiskmapError) as err:
        gb18218.load(p)
    assert err.value.where.endswith("gb18218.toml:alpha")
