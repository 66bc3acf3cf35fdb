"""Enterprise level: 就高 of its risk points, 直接判定 rules, overrides with reasons, an append-only history."""

import pytest
import shapely
from sqlalchemy import select

from riskmap.dangers import advance, register
from riskmap.errors import RiskmapError
from riskmap.grading.enterprise import (clear_override, current_level, current_record, derive_level,
                                        enterprise_history, grade_risk_point, latest_override, override_level,
                                        regrade_risk_point)
from riskmap.model import Assessment, Enterprise, RiskPoint


def snapshot(s):
    """Every assessment row as plain values, by id."""
    return {a.id: (a.enterprise_id, a.risk_point_id, a.method, a.level, a.explanation, a.assessor, a.note,
                   a.assessed_at, repr(a.inputs)) for a in s.scalars(select(Assessment))}


def ent_by_name(s, name):
    return s.scalars(select(Enterprise).where(Enterprise.name == name)).one()


def test_level_is_the_highest_risk_point(small_project):
    project, ids = small_project
    with project.session() as s:
        e = s.get(Enterprise, ids["ents"]["E40"])
        rp2 = RiskPoint(enterprise_id=e.id, name="风险点2", geom=e.geom)
        s.add(rp2)
        s.flush()
        grade_risk_point(s, rp2, "lec", {"L": 3, "E": 6, "C": 7}, assessor="甲")  # D = 126 → 一般 (3)
        rec = derive_level(s, e, assessor="甲")
        assert (rec.method, rec.level, e.level) == ("max", 3, 3)
        assert "风险点2" in rec.explanation and "就高" in rec.explanation
        assert rec.inputs["risk_points"] == {str(rp2.id): 3, str(e.risk_points[0].id): 4}


def test_regrading_appends_history_and_never_rewrites(small_project):
    project, ids = small_project
    with project.session() as s:
        e = s.get(Enterprise, ids["ents"]["E40"])
        before = snapshot(s)
        first = current_record(s, e)
        assert (first.method, first.level) == ("max", 4)
        rp = e.risk_points[0]
        point_rec, ent_rec = regrade_risk_point(s, rp, "lec", {"L": 10, "E": 6, "C": 7}, assessor="乙")  # D=420
        after = snapshot(s)
        # old rows unchanged, two rows added (the point's and the enterprise's)
        assert {k: after[k] for k in before} == before
        assert set(after) - set(before) == {point_rec.id, ent_rec.id}
        assert (point_rec.level, point_rec.score, point_rec.risk_point_id) == (1, 420, rp.id)
        assert (ent_rec.level, e.level, rp.level) == (1, 1, 1)
        assert [r.level for r in enterprise_history(s, e)] == [4, 1]
        assert current_level(s, e) == 1
    # the database itself refuses to rewrite an assessment
    with pytest.raises(Exception, match="immutable"):
        project.execute("UPDATE assessments SET level = 4 WHERE id = :i", i=ent_rec.id)


def test_override_needs_reason_and_assessor(small_project):
    project, ids = small_project
    with project.session() as s:
        e = s.get(Enterprise, ids["ents"]["B1"])
        for kwargs, where in (({"reason": "", "assessor": "丙"}, "reason"),
                              ({"reason": "   ", "assessor": "丙"}, "reason"),
                              ({"reason": "专家论证", "assessor": ""}, "assessor")):
            with pytest.raises(RiskmapError) as exc:
                override_level(s, e, 2, **kwargs)
            assert exc.value.where == where
        with pytest.raises(RiskmapError) as exc:
            override_level(s, e, "紫", reason="专家论证", assessor="丙")
        assert exc.value.where == "level"
        assert current_level(s, e) == 1 and len(enterprise_history(s, e)) == 1


def test_override_holds_then_a_new_major_danger_raises_it_then_clear(small_project):
    project, ids = small_project
    eid = ids["ents"]["B1"]
    with project.session() as s:
        e = s.get(Enterprise, eid)
        ov = override_level(s, e, "蓝", reason="已完成自动化改造，专家论证下调", assessor="丙")
        assert (ov.method, ov.level, e.level, ov.note) == ("override", 4, 4, "已完成自动化改造，专家论证下调")
        assert ov.inputs["graded_level"] == 1
        # re-deriving keeps the override and appends nothing
        n = len(enterprise_history(s, e))
        assert derive_level(s, e, assessor="丁").id == ov.id
        assert len(enterprise_history(s, e)) == n and e.level == 4
        # a 重大隐患 registered after the override still sets 重大风险 (直接判定, 就高)
        d = register(s, title="重大事故隐患：储罐区报警器失效", grade="major", enterprise_id=eid, by="执法员")
        assert e.level == 1
        rec = current_record(s, e)
        assert (rec.method, rec.level, rec.inputs["rules"]) == ("override_rules", 1, ["open_major_hidden_danger"])
        assert latest_override(s, e).id == ov.id  # still in force
        # the danger closed: back to the override's level, with a new record
        advance(s, d, "rectifying", by="企业")
        advance(s, d, "supervised", by="执法员", supervising_department="县应急管理局")
        advance(s, d, "rectified", by="企业", responsible_person="张三", measures="更换报警器", funds_wan=3,
                deadline="2026-12-31", plan="整改期间人工巡检")
        assert e.level == 1  # 整改完成 is not yet 销号
        advance(s, d, "closed", by="执法员", effect_evaluation="复查合格")
        assert e.level == 4
        assert [(r.method, r.level) for r in enterprise_history(s, e)] == [
            ("max", 1), ("override", 4), ("override_rules", 1), ("override_rules", 4)]
        # ending the override derives the level from the risk points again
        rec = clear_override(s, e, assessor="丙")
        assert (rec.method, rec.level, e.level) == ("max", 1, 1)
        assert latest_override(s, e) is None
        with pytest.raises(RiskmapError):
            clear_override(s, e, assessor="丙")
    # the current level is the newest record of the history, read back from the file
    with project.session() as s:
        e = s.get(Enterprise, eid)
        assert current_level(s, e) == e.level == 1


def test_only_if_changed_appends_nothing_when_unchanged(small_project):
    project, ids = small_project
    with project.session() as s:
        e = s.get(Enterprise, ids["ents"]["D4"])
        n = len(enterprise_history(s, e))
        derive_level(s, e, only_if_changed=True)
        derive_level(s, e, only_if_changed=True)
        assert len(enterprise_history(s, e)) == n
        derive_level(s, e, assessor="复评")  # a deliberate re-assessment is recorded
        assert len(enterprise_history(s, e)) == n + 1


def test_ungraded_enterprise_has_no_level(small_project):
    project, ids = small_project
    with project.session() as s:
        e = s.get(Enterprise, ids["ents"]["Cx"])
        assert derive_level(s, e) is None and e.level is None and current_level(s, e) is None
        assert "未定级" in e.level_basis


def test_major_hazard_source_grade_1_makes_red(small_project):
    project, ids = small_project
    with project.session() as s:
        e = s.get(Enterprise, ids["ents"]["E41"])
        hs = RiskPoint(enterprise_id=e.id, name="储罐区", kind="hazard_source", geom=shapely.Point(105.0515, 35.502))
        s.add(hs)
        s.flush()
        # 氯 Q = 5 t: q = 600 t → S = 120, people 150 → α = 2 → R = 2 × 4 × 120 = 960 ≥ 100 → 一级
        rec = grade_risk_point(s, hs, "gb18218", {"people_within_500m": 150,
                                                  "substances": [{"name": "氯", "quantity_t": 600}]}, assessor="甲")
        assert hs.major_hazard_grade == 1 and rec.level == 1
        ent_rec = derive_level(s, e, assessor="甲")
        assert ent_rec.level == 1 and "major_hazard_grade_1_2" in ent_rec.inputs["rules"]
        assert "直接判定" in ent_rec.explanation
