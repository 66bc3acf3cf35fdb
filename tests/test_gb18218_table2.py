"""GB 18218-2018 Table 2: Q by hazard class for a substance outside Table 1; Table 3 β may not be changed.

Values used, worked by hand (Table 1 / Table 2 Q in t; Table 3 / Table 4 β):
汽油 Table 1 序号66 Q200, class W5.1 β1.5 · 柴油 not in Table 1: W5.4 Q5000 β1 (易燃液体类别3) ·
W7.1 Q10 β1.5 · J1 Q5 β4 · J5 Q500 β1 · W5.3 Q1000 β1 · 氯 Table 3 β4 · 一氧化碳 Table 3 β2
α (Table 5): ≥100 → 2.0; 50–99 → 1.5; 30–49 → 1.2; 1–29 → 1.0; 0 → 0.5
"""

import json
import subprocess
import sys

import pytest

from riskmap.errors import RiskmapError
from riskmap.grading import gb18218, grade
from riskmap.paths import STANDARDS_DIR

# GB 18218-2018 Table 2, every row (see gb18218.toml [source] table2_note for the copies checked)
TABLE2 = {"J1": 5, "J2": 50, "J3": 50, "J4": 50, "J5": 500, "W1.1": 1, "W1.2": 10, "W1.3": 50, "W2": 10, "W3": 150,
          "W4": 50, "W5.1": 10, "W5.2": 50, "W5.3": 1000, "W5.4": 5000, "W6.1": 10, "W6.2": 50, "W7.1": 10, "W7.2": 50,
          "W8": 50, "W9.1": 50, "W9.2": 200, "W10": 200, "W11": 200}


def gb(people, *substances):
    return grade("gb18218", {"people_within_500m": people, "substances": list(substances)})


def sub(name, q, **extra):
    return {"name": name, "quantity_t": q, **extra}


def test_table2_rows():
    std = gb18218.load()
    assert {c: r.Q_t for c, r in std.table2.items()} == TABLE2
    assert set(std.table2) == set(std.beta_table4)  # every Table 4 class has its Table 2 row
    assert std.table2["W5.4"].hazard == "易燃液体" and "类别3" in std.table2["W5.4"].description
    assert std.find("柴油") is None and std.find("汽油").no == 66  # 汽油 is Table 1, 柴油 is not


def test_filling_station_petrol_and_diesel():
    # A filling station (figures of a published 安全评价 case): 汽油 26.64 t, 柴油 22.95 t, 120 people (α 2.0).
    # 汽油: Table 1 Q 200 → 26.64/200 = 0.1332, β 1.5 (W5.1) → 0.1998
    # 柴油: Table 2 W5.4 Q 5000 → 22.95/5000 = 0.00459, β 1 (W5.4) → 0.00459
    # S = 0.13779 < 1 → not a major hazard source; R (for reference) = 2 × (0.1998 + 0.00459) = 0.40878
    r = gb(120, sub("汽油", 26.64), sub("柴油", 22.95))
    assert r.details["S"] == pytest.approx(0.13779)
    assert r.score == pytest.approx(0.40878)
    assert r.details["major_hazard"] is False and r.level == 4
    petrol, diesel = r.details["substances"]
    assert (petrol["Q_t"], petrol["Q_source"], petrol["table1_no"], petrol["beta"]) == (200, "表1", 66, 1.5)
    assert (diesel["Q_t"], diesel["Q_source"], diesel["beta"], diesel["beta_source"]) == (5000, "表2 W5.4", 1, "表4 W5.4")
    assert diesel["class_source"] == "default"
    # the explanation names the table and row used, and the flash-point caveat of 柴油
    for text in ("Q=200 t（表1 序号66）", "Q=5000 t（表2 W5.4 易燃液体：不属于W5.1或W5.2的其他类别3", "β=1（表4 W5.4）",
                 "闪点高于 60 ℃", "26.64/200 + 22.95/5000"):
        assert text in r.explanation, text


def test_fuel_depot_is_a_major_hazard():
    # 汽油 300 t + 柴油 2500 t, 60 people (α 1.5):
    # S = 300/200 + 2500/5000 = 1.5 + 0.5 = 2.0 ≥ 1; R = 1.5 × (1.5×1.5 + 1×0.5) = 1.5 × 2.75 = 4.125 → 四级
    r = gb(60, sub("汽油", 300), sub("0号柴油", 2500))
    assert r.details["S"] == pytest.approx(2.0)
    assert r.score == pytest.approx(4.125)
    assert (r.details["grade"], r.level) == ("四级", 4)


def test_graded_by_class_only():
    # 某有机过氧化物 30 t, class W7.1: Q 10 (Table 2), β 1.5 (Table 4) → 3 × 1.5 = 4.5
    # 某剧毒气体 10 t, class J1: Q 5, β 4 → 2 × 4 = 8
    # S = 3 + 2 = 5; 100 people α 2.0 → R = 2 × (4.5 + 8) = 25 → 三级 → 一般风险 (黄)
    r = gb(100, sub("某有机过氧化物", 30, hazard_class="W7.1"), sub("某剧毒气体", 10, hazard_class="j1"))
    assert r.details["S"] == pytest.approx(5)
    assert r.score == pytest.approx(25)
    assert (r.details["grade"], r.level, r.colour) == ("三级", 3, "#FFE600")
    a, b = r.details["substances"]
    assert (a["Q_source"], a["beta_source"], b["Q_source"], b["beta_source"]) == ("表2 W7.1", "表4 W7.1", "表2 J1", "表4 J1")
    assert "Q=10 t（表2 W7.1 有机过氧化物：A型和B型有机过氧化物）" in r.explanation


def test_several_classes_take_the_lowest_q():
    # 某溶液 120 t, classes J5 (Q 500, β 1) and W5.3 (Q 1000, β 1): Q = 500 → 120/500 = 0.24; 10 people α 1
    r = gb(10, sub("某溶液", 120, hazard_class=["W5.3", "J5"]))
    s = r.details["substances"][0]
    assert (s["Q_t"], s["Q_source"], s["hazard_class"]) == (500, "表2 J5", "J5")
    assert r.details["S"] == pytest.approx(0.24) and r.score == pytest.approx(0.24)


def test_class_of_a_table1_substance_changes_beta_not_q():
    # 汽油 100 t declared 易燃液体类别2 (W5.3) by the enterprise: Q stays Table 1's 200, β = 1 (Table 4 W5.3)
    # S = 0.5; 10 people α 1 → R = 0.5
    r = gb(10, sub("汽油", 100, hazard_class="W5.3"))
    s = r.details["substances"][0]
    assert (s["Q_t"], s["Q_source"], s["beta"], s["beta_source"]) == (200, "表1", 1, "表4 W5.3")
    assert r.score == pytest.approx(0.5)


def test_table3_beta_refused_when_different():
    with pytest.raises(RiskmapError) as err:
        gb(10, sub("液氨", 1), sub("液氯", 6, beta=2))
    assert err.value.where == "substances[1].beta"
    assert "表3" in str(err.value) and "4" in str(err.value)
    with pytest.raises(RiskmapError) as err:  # a Table 3 gas outside Table 1, with its own Q
        gb(10, sub("一氧化碳", 10, Q_t=50, beta=3))
    assert err.value.where == "substances[0].beta"
    # the table's own β is accepted: 液氯 6 t, Q 5, β 4 → 1.2 × 4 = 4.8; 10 people α 1 → R 4.8
    r = gb(10, sub("液氯", 6, beta=4))
    assert r.score == pytest.approx(4.8) and r.details["substances"][0]["beta_source"] == "表3"


def test_unknown_class_and_unknown_substance_say_what_to_give():
    with pytest.raises(RiskmapError) as err:
        gb(10, sub("某物质", 3, hazard_class="W12"))
    assert err.value.where == "substances[0].hazard_class"
    with pytest.raises(RiskmapError) as err:
        gb(10, sub("某物质", 3))
    assert err.value.where == "substances[0].name" and "hazard_class" in str(err.value)


def test_cli_refuses_table3_beta_in_one_line():
    inputs = {"people_within_500m": 5, "substances": [{"name": "硫化氢", "quantity_t": 1, "beta": 1}]}
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "grade", "--method", "gb18218", "--json", "-"],
                       input=json.dumps(inputs), capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "表3" in r.stderr and "β 应为 5" in r.stderr


def test_data_file_table2_must_match_table4(tmp_path):
    text = (STANDARDS_DIR / "gb18218.toml").read_text(encoding="utf-8")
    p = tmp_path / "gb18218.toml"
    p.write_text(text.replace('class = "W11"', 'class = "W12"', 1), encoding="utf-8")
    with pytest.raises(RiskmapError) as err:
        gb18218.load(p)
    assert err.value.where.endswith("gb18218.toml:table2") and "W11" in str(err.value)
