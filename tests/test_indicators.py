"""Plan indicators: the seed plans' tables as data, progress by target type worked by hand, actuals, errors."""

import re

import pytest
from sqlalchemy import select

from riskmap.errors import RiskmapError
from riskmap.indicators import (PLANS_DIR, demo_indicators, find_indicator, find_plan, load_plan, plan_files,
                                progress_of, project_progress, read_plan, set_actual)
from riskmap.model import Indicator, IndicatorActual
from riskmap.paths import ROOT

SEEDS = ROOT.parent / "shared" / "seeds"


def rel(**kw):
    base = dict(target_type="relative_decrease", base_year=2020, base_value=50.0, target_year=2025,
                target_value=10.0)
    return progress_of(**{**base, **kw})


# ---------------------------------------------------------------- progress by hand

def test_relative_decrease_by_hand():
    # 2023: 47 → (50 − 47) / 50 = 6 %; the path asks 10 % × 3/5 = 6 % → on track (inclusive)
    p = rel(actuals=[(2021, 49, None), (2023, 47, None)])
    assert (p.year, p.achieved, p.expected, p.fraction, p.status) == (2023, 6.0, 6.0, 0.6, "on_track")
    assert p.met is False
    # 2023: 47.5 → 5 % < 6 % → at risk
    assert rel(actuals=[(2023, 47.5, None)]).status == "at_risk"
    # 2025: 45 → 10 % = target → met; 45.5 → 9 % → missed
    p = rel(actuals=[(2025, 45, None)])
    assert (p.status, p.met, p.fraction) == ("on_track", True, 1.0)
    assert rel(actuals=[(2025, 45.5, None)]).status == "missed"
    # an increase is a negative decrease
    p = rel(actuals=[(2025, 60, None)])
    assert p.achieved == -20.0 and p.status == "missed" and "上升 20.0%" in p.explanation
    # as_of picks the latest year up to it
    assert rel(actuals=[(2022, 49, None), (2024, 40, None)], as_of=2023).year == 2022


def test_relative_decrease_without_data():
    assert rel(actuals=[]).status == "no_data"
    p = rel(base_value=None, actuals=[(2022, 40, None)])
    assert p.status == "no_data" and "基数" in p.explanation
    assert rel(base_value=0.0, actuals=[(2022, 0, None)]).status == "no_data"
    p = rel(target_value=None, actuals=[(2022, 40, None)])
    assert (p.status, p.achieved) == ("no_target", 20.0)


def test_absolute_cap_by_hand():
    cap = dict(target_type="absolute_cap", base_year=2020, base_value=None, target_year=2025, target_value=1.35)
    p = progress_of(**cap, actuals=[(2022, 1.2, None)])
    assert (p.status, p.met, p.fraction) == ("on_track", True, 1.0)
    p = progress_of(**cap, actuals=[(2022, 1.5, None)])
    assert (p.status, p.met, p.fraction) == ("at_risk", False, 0.9)  # 1.35 / 1.5
    assert progress_of(**cap, actuals=[(2025, 1.5, None)]).status == "missed"
    assert progress_of(**cap, actuals=[(2025, 1.35, None)]).status == "on_track"  # equal to the cap is within it


def test_coverage_rate_by_hand():
    cov = dict(target_type="coverage_rate", base_year=2020, base_value=60.0, target_year=2025, target_value=100.0)
    # path from 60 % (2020) to 100 % (2025): 2023 asks 60 + 40 × 3/5 = 84 %
    p = progress_of(**cov, actuals=[(2023, 84, None)])
    assert (p.expected, p.fraction, p.status) == (84.0, 0.84, "on_track")
    assert progress_of(**cov, actuals=[(2023, 83.9, None)]).status == "at_risk"
    assert progress_of(**cov, actuals=[(2025, 99, None)]).status == "missed"
    # no base: the path starts at the first actual (70 % in 2021): 2023 asks 70 + 30 × 2/4 = 85 %
    nob = {**cov, "base_value": None}
    assert progress_of(**nob, actuals=[(2021, 70, None), (2023, 85, None)]).status == "on_track"
    assert progress_of(**nob, actuals=[(2021, 70, None), (2023, 84.9, None)]).status == "at_risk"
    with pytest.raises(RiskmapError):
        progress_of(**cov, actuals=[(2023, 120, None)])


def test_qualitative_by_hand():
    q = dict(target_type="qualitative", base_year=2020, base_value=None, target_year=2025, target_value=None)
    assert progress_of(**q, actuals=[(2022, None, True)]).status == "on_track"
    assert progress_of(**q, actuals=[(2022, None, False)]).status == "at_risk"
    assert progress_of(**q, actuals=[(2025, None, False)]).status == "missed"
    assert progress_of(**q, actuals=[(2025, 3.0, None)]).status == "no_data"  # a number is no verdict


def test_liuan_13th_plan_results_reproduced():
    """六安市's 十三五 table (002 L33–46) gives base, 2020 actual and its own verdict: progress agrees."""
    plan = find_plan("341500")
    rows = [i for i in plan.indicators if i.result]
    assert len(rows) == 9
    for ind in rows:
        p = progress_of(target_type=ind.target_type, base_year=ind.base_year, base_value=ind.base_value,
                        target_year=ind.target_year, target_value=ind.target_value,
                        actuals=[a[:3] for a in ind.actuals])
        assert p.status == {"完成": "on_track", "未完成": "missed"}[ind.result], ind.name
    by = {i.name: i for i in rows}
    p = progress_of(target_type="relative_decrease", base_year=2015, base_value=335, target_year=2020,
                    target_value=10, actuals=[(2020, 273, None)])
    assert round(p.achieved, 1) == 18.5  # the plan's 降幅 column
    ind = by["工矿商贸就业人员十万人生产安全事故死亡率（十三五）"]
    assert (ind.base_value, ind.actuals[0][1]) == (0.67, 1.74)


# ---------------------------------------------------------------- plan files

def test_every_seed_plan_is_there():
    plans = {read_plan(f).adcode: read_plan(f) for f in plan_files()}
    assert set(plans) == {"620422", "370126", "370112", "341500", "330421"}
    assert len(plans["620422"].indicators) == 12
    assert find_plan("叶集区").adcode == "341500" and find_plan("341504").adcode == "341500"
    assert "叶集区" in plans["341500"].note
    assert find_plan("会宁县").adcode == "620422"
    with pytest.raises(RiskmapError):
        find_plan("北京市")
    liuan = {i.name: i for i in plans["341500"].indicators}
    assert liuan["亿元国内生产总值生产安全事故死亡率"].binding == "约束性"
    assert liuan["工矿商贸就业人员十万人生产安全事故死亡率"].binding == "预期性"
    assert liuan["生产安全事故死亡人数"].base_value == 88  # the 2020 actual of the 十三五 table
    jiashan = {i.name: i for i in plans["330421"].indicators}
    assert jiashan["亿元地区生产总值生产安全事故死亡率"].base_value == 0.0168


@pytest.mark.skipif(not SEEDS.exists(), reason="the seed documents are not beside the repository")
def test_indicators_match_their_seed_lines():
    """Each indicator's name, target number and base value appear on the seed lines it cites."""
    seeds = {p.name[:3]: p.read_text(encoding="utf-8").splitlines() for p in SEEDS.glob("*.txt")}

    def cited(ref):
        m = re.match(r"(\d{3}) L(\d+)(?:–(\d+))?", ref)
        assert m, ref
        lines = seeds[m.group(1)][int(m.group(2)) - 1:int(m.group(3) or m.group(2))]
        return re.sub(r"\s+", "", "".join(lines))

    for f in plan_files():
        plan = read_plan(f)
        for ind in plan.indicators:
            text = cited(ind.source)
            name = ind.name.replace("（十三五）", "")
            it = iter(text)  # a table row broken over lines (002 L41–43): the name's characters in order
            assert name in text or all(ch in it for ch in name), (f.name, ind.name, ind.source)
            if ind.target_value is not None:
                assert f"{ind.target_value:g}" in text, (f.name, ind.name, ind.target_value)
            if ind.base_value not in (None, 0):
                where = cited(ind.base_source) if ind.base_source else text
                assert f"{ind.base_value:g}" in where, (f.name, ind.name, ind.base_value)
            for year, value, _, source in ind.actuals:
                if value not in (None, 0):
                    assert f"{value:g}" in cited(source), (f.name, ind.name, year, value)


def test_bad_plan_file_names_the_field(tmp_path):
    text = (PLANS_DIR / "370126.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('source = "004 L41"', '', 1), encoding="utf-8")
    with pytest.raises(RiskmapError) as exc:
        read_plan(bad)
    assert exc.value.where.endswith("indicator[1].source")
    bad.write_text(text.replace('target_type = "absolute_cap"', 'target_type = "cap"', 1), encoding="utf-8")
    with pytest.raises(RiskmapError) as exc:
        read_plan(bad)
    assert exc.value.where.endswith("indicator[2].target_type")


# ---------------------------------------------------------------- in a project

def test_load_plan_and_enter_actuals(small_project):
    project, _ = small_project
    with project.session() as s:
        inds = load_plan(s, find_plan("370126"))
        assert len(inds) == 9
        cap = find_indicator(s, "道路交通万车死亡率")
        assert (cap.target_type, cap.target_value, cap.source) == ("absolute_cap", 1.35, "004 L44")
        set_actual(s, cap, 2022, value=1.5)
        set_actual(s, cap, 2022, value=1.3)  # replaces the same year
        assert [(a.year, a.value) for a in cap.actuals] == [(2022, 1.3)]
        cov = find_indicator(s, "化工重点危险工艺自动化控制率")
        with pytest.raises(RiskmapError) as exc:
            set_actual(s, cov, 2022, value=120)
        assert exc.value.where.endswith(".value")
        with pytest.raises(RiskmapError):
            set_actual(s, cap, 2022, value=-1)
        qual = find_indicator(s, "较大及以上事故")
        with pytest.raises(RiskmapError) as exc:
            set_actual(s, qual, 2022, value=1)
        assert exc.value.where.endswith(".achieved")
        set_actual(s, qual, 2022, achieved=True)
        with pytest.raises(RiskmapError):
            find_indicator(s, "没有这个指标")
    progress = {p.name: p for p in project_progress(project)}
    assert progress["道路交通万车死亡率"].status == "on_track"
    assert progress["较大及以上事故"].status == "on_track"
    assert progress["各类生产安全事故死亡人数"].status == "no_data"
    with project.session() as s:  # loading again replaces, never duplicates
        load_plan(s, find_plan("370126"))
        assert s.scalar(select(Indicator.id).where(Indicator.name == "道路交通万车死亡率").limit(1)) is not None
        assert len(s.scalars(select(Indicator)).all()) == 9
        assert len(s.scalars(select(IndicatorActual)).all()) == 0


def test_demo_indicators_are_deterministic(small_project_path, tmp_path):
    import shutil

    from riskmap.store import Project

    src, _ = small_project_path
    values = []
    for k in range(2):
        path = tmp_path / f"p{k}.gpkg"
        shutil.copy(src, path)
        with Project.open(path) as p:
            demo_indicators(p)
            values.append([(x.name, x.base_value, x.year, x.actual, x.status) for x in project_progress(p)])
    assert values[0] == values[1] and len(values[0]) == 12
    assert all(v[2] == 2024 for v in values[0])


def test_demo_project_has_its_plan(demo_project):
    progress = project_progress(demo_project)
    assert len(progress) == 12 and all(p.plan == "会宁县“十四五”安全生产规划" for p in progress)
    assert {p.status for p in progress} <= {"on_track", "at_risk"}
