"""Hidden dangers: lifecycle transitions, the five elements, 整改效果评价, overdue, events, level and zone colour."""

import datetime as dt

import pytest
from sqlalchemy import select

from riskmap.dangers import TRANSITIONS, advance, can_advance, danger_table, is_overdue, overdue_mask, register
from riskmap.errors import RiskmapError
from riskmap.grading.zoning import zone_project
from riskmap.model import Enterprise, HiddenDanger, HiddenDangerEvent, Zone

FIVE = dict(responsible_person="张三", measures="更换阀门", funds_wan=12.5, deadline="2026-12-31",
            plan="整改期间停用储罐并人工巡检")


def events(s, d):
    return [(e.from_status, e.to_status, e.by) for e in
            s.scalars(select(HiddenDangerEvent).where(HiddenDangerEvent.danger_id == d.id)
                      .order_by(HiddenDangerEvent.id))]


def test_general_danger_full_lifecycle(small_project):
    project, ids = small_project
    with project.session() as s:
        d = register(s, title="安全出口堵塞", enterprise_id=ids["ents"]["A4a"], by="检查员",
                     deadline="2026-12-01")
        assert (d.status, d.grade) == ("registered", "general")
        advance(s, d, "rectifying", by="企业")
        advance(s, d, "rectified", by="企业")
        advance(s, d, "closed", by="检查员", effect_evaluation="复查合格")
        assert d.status == "closed" and d.closed_date is not None
        assert events(s, d) == [(None, "registered", "检查员"), ("registered", "rectifying", "企业"),
                                ("rectifying", "rectified", "企业"), ("rectified", "closed", "检查员")]


@pytest.mark.parametrize("grade,frm,to,ok", [
    ("general", "registered", "rectifying", True),
    ("general", "registered", "rectified", False),   # skips 整改中
    ("general", "registered", "closed", False),
    ("general", "rectifying", "supervised", False),  # 挂牌督办 is for 重大 only
    ("major", "rectifying", "supervised", True),
    ("major", "rectifying", "rectified", False),     # 重大 must be supervised first
    ("major", "supervised", "rectified", True),
    ("general", "rectified", "closed", True),
    ("general", "rectified", "rectifying", True),    # evaluation failed
    ("major", "rectified", "supervised", True),
    ("major", "closed", "rectifying", False),        # closed is final
    ("general", "rectifying", "rectifying", False),
])
def test_transition_table(grade, frm, to, ok):
    assert can_advance(frm, to, grade)[0] is ok
    assert ((frm, to) in TRANSITIONS and grade in TRANSITIONS[(frm, to)]) is ok


def test_invalid_transition_names_from_to_and_why(small_project):
    project, ids = small_project
    with project.session() as s:
        d = register(s, title="有限空间作业未审批", enterprise_id=ids["ents"]["A4b"], by="检查员")
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "closed", by="检查员", effect_evaluation="合格")
        e = exc.value
        assert "登记" in e.zh and "销号" in e.zh and "registered" in e.en and "closed" in e.en
        assert "整改中" in e.zh  # says what is allowed next
        assert e.where == f"hidden_dangers[{d.id}].status"
        advance(s, d, "rectifying", by="企业")
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "supervised", by="检查员", supervising_department="应急局")
        assert "重大隐患" in exc.value.zh
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "finished", by="检查员")
        assert exc.value.where == "to"
        assert d.status == "rectifying" and len(events(s, d)) == 2  # refused steps leave no event


def test_major_needs_supervision_five_elements_and_evaluation(small_project):
    project, ids = small_project
    with project.session() as s:
        d = register(s, title="重大事故隐患：液氨管道腐蚀", grade="重大", enterprise_id=ids["ents"]["E42"],
                     by="检查员")
        advance(s, d, "rectifying", by="企业")
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "rectified", by="企业", **FIVE)
        assert "挂牌督办" in exc.value.zh
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "supervised", by="检查员")
        assert exc.value.where.endswith("supervising_department")
        advance(s, d, "supervised", by="检查员", supervising_department="县应急管理局")
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "rectified", by="企业", responsible_person="张三", measures="更换管道")
        e = exc.value
        for zh in ("资金", "时限", "预案"):
            assert zh in e.zh
        assert "责任" not in e.zh.split("缺少")[1] and e.where.endswith("funds_wan")
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "rectified", by="企业", **{**FIVE, "funds_wan": -1})
        assert exc.value.where.endswith("funds_wan")
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "rectified", by="企业", **{**FIVE, "deadline": "明年"})
        assert exc.value.where.endswith("deadline")
        advance(s, d, "rectified", by="企业", **FIVE)
        with pytest.raises(RiskmapError) as exc:
            advance(s, d, "closed", by="检查员")
        assert exc.value.where.endswith("effect_evaluation") and "整改效果评价" in exc.value.zh
        with pytest.raises(RiskmapError) as exc:  # sending back needs the reason
            advance(s, d, "supervised", by="检查员")
        assert exc.value.where == "note"
        advance(s, d, "supervised", by="检查员", note="复查不合格：管道壁厚仍不足")
        advance(s, d, "rectified", by="企业")
        advance(s, d, "closed", by="检查员", effect_evaluation="第三方检测合格")
        assert [t for _, t, _ in events(s, d)] == ["registered", "rectifying", "supervised", "rectified",
                                                  "supervised", "rectified", "closed"]


def test_overdue_relative_to_today():
    d = HiddenDanger(title="x", grade="general", status="rectifying", deadline=dt.date(2026, 6, 30))
    assert not is_overdue(d, dt.date(2026, 6, 30))  # due today: not yet overdue
    assert is_overdue(d, dt.date(2026, 7, 1))
    d.status = "rectified"
    assert not is_overdue(d, dt.date(2026, 7, 1))
    mask = overdue_mask(["registered", "closed", "supervised", "rectifying"],
                        ["2026-01-01", "2026-01-01", None, dt.date(2026, 3, 1)], dt.date(2026, 2, 1))
    assert mask.tolist() == [True, False, False, False]


def test_danger_table_on_demo(demo_project):
    today = dt.date(2026, 11, 1)
    d = danger_table(demo_project, today)
    assert len(d) and set(d["status"]) <= {"registered", "rectifying", "supervised", "rectified", "closed"}
    by_hand = [r.deadline is not None and dt.date.fromisoformat(str(r.deadline)) < today
               and r.status not in ("rectified", "closed") for r in d.itertuples()]
    assert d["overdue"].tolist() == by_hand and any(by_hand)
    assert danger_table(demo_project, today, only_overdue=True)["overdue"].all()


def test_major_danger_recolours_its_enterprise_and_only_its_zones(small_project):
    project, ids = small_project
    zone_project(project, "town", "max")
    zone_project(project, "grid", "max")
    z, e = ids["zones"], ids["ents"]

    def zone_rows():
        with project.session() as s:
            return {r.id: (r.level, r.level_reason, r.level_updated_at) for r in s.scalars(select(Zone))}

    before = zone_rows()
    with project.session() as s:
        d = register(s, title="重大事故隐患：粉尘除尘系统未设泄爆", grade="major", enterprise_id=e["E44"], by="检查员")
        assert s.get(Enterprise, e["E44"]).level == 1
        did = d.id
    after = zone_rows()
    # E44 is at x = 105.0545: town E, grid E西 (x < 105.055); no other zone changes
    assert {k for k in after if after[k] != before[k]} == {z["E"], z["E西"]}
    assert after[z["E"]][0] == 1
    with project.session() as s:
        d = s.get(HiddenDanger, did)
        advance(s, d, "rectifying", by="企业")
        advance(s, d, "supervised", by="检查员", supervising_department="应急局")
        advance(s, d, "rectified", by="企业", **FIVE)
        advance(s, d, "closed", by="检查员", effect_evaluation="合格")
        assert s.get(Enterprise, e["E44"]).level == 4
    assert zone_rows()[z["E"]][0] == 4
