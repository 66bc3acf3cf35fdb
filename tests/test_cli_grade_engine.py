"""``riskmap zone``, ``stats``, ``danger`` and ``indicator`` on the demo project, checked against the data."""

import datetime as dt
import json

import numpy as np
import pytest
import shapely

from riskmap.cli import main
from riskmap.store import Project

TODAY = "2026-11-01"


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_zone_json_matches_an_independent_count(capsys, demo_copy):
    code, out, err = run(capsys, "zone", demo_copy, "--unit", "town", "--rule", "max", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["rule"] == "max" and res["demo"] is True
    with Project.open(demo_copy, readonly=True) as p:
        towns = p.read_table("zones", where="kind = 'town'", columns=["id", "name", "level", "level_reason"])
        ents = p.read_table("enterprises", columns=["id", "level"])
    assert len(res["zones"]) == len(towns)
    pts = ents.geometry.values
    for z in res["zones"]:
        poly = towns.loc[z["id"]].geometry
        inside = shapely.covers(poly, pts)  # independent of the STRtree assignment
        lv = ents["level"].to_numpy()[inside]
        assert [z["counts"][str(k)] for k in (1, 2, 3, 4)] == [int((lv == k).sum()) for k in (1, 2, 3, 4)]
        assert z["level"] == (int(lv.min()) if len(lv) else 4)  # 就高; an empty town is 低风险
        # stored in the project, reason readable back
        assert towns.loc[z["id"], "level"] == z["level"] and towns.loc[z["id"], "level_reason"] == z["reason"]
    assert sum(res["summary"].values()) == len(towns)


def test_zone_text_and_weighted_grid(capsys, demo_copy):
    code, out, err = run(capsys, "zone", demo_copy, "--unit", "grid", "--rule", "weighted")
    assert code == 0, err
    assert "加权密度" in out and "示例数据" in out and "网格" in out
    code, out, err = run(capsys, "zone", demo_copy, "--unit", "grid", "--rule", "weighted", "--per", "10k_people")
    assert code == 2 and out == "" and "zones.population" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:  # argparse refuses an unknown rule
        run(capsys, "zone", demo_copy, "--unit", "town", "--rule", "median")
    assert exc.value.code == 2 and "median" in capsys.readouterr().err


def test_stats_counts(capsys, demo_path):
    code, out, err = run(capsys, "stats", demo_path, "--json", "--today", TODAY)
    assert code == 0, err
    st = json.loads(out)
    with Project.open(demo_path, readonly=True) as p:
        ents = p.read_table("enterprises", columns=["id", "level", "industry"])
        d = p.read_table("hidden_dangers", columns=["id", "status", "deadline", "grade"])
    lv = ents["level"].to_numpy()
    assert st["by_level"] == {"1": int((lv == 1).sum()), "2": int((lv == 2).sum()), "3": int((lv == 3).sum()),
                              "4": int((lv == 4).sum()), "none": 0}
    gas = ents[ents["industry"] == "gas_station"]
    assert st["by_industry"]["gas_station"]["total"] == len(gas)
    assert st["by_industry"]["gas_station"]["1"] == int((gas["level"] == 1).sum())
    assert sum(r["count"] for r in st["level_industry_town"]) == len(ents)
    assert sum(v["total"] for v in st["by_town"].values()) == len(ents)
    today = dt.date.fromisoformat(TODAY)
    overdue = [r.id for r in d.itertuples() if r.deadline is not None and r.status not in ("rectified", "closed")
               and dt.date.fromisoformat(str(r.deadline)) < today]
    hd = st["hidden_dangers"]
    assert hd["overdue"] == len(overdue) and sorted(x["id"] for x in hd["overdue_list"]) == sorted(overdue)
    assert hd["open"] == int((d["status"] != "closed").sum())
    code, out, err = run(capsys, "stats", demo_path, "--today", "11/01/2026")
    assert code == 2 and "--today" in err
    code, out, err = run(capsys, "stats", demo_path)
    assert code == 0 and "隐患" in out and "示例数据" in out


def test_danger_commands(capsys, demo_copy):
    code, out, err = run(capsys, "danger", demo_copy, "list", "--overdue", "--today", TODAY, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows and all(r["overdue"] for r in rows)
    with Project.open(demo_copy, readonly=True) as p:
        d = p.read_table("hidden_dangers", columns=["id", "status", "grade", "enterprise_id"])
    reg = d[(d["status"] == "registered") & (d["grade"] == "general")].iloc[0]
    code, out, err = run(capsys, "danger", demo_copy, "advance", reg["id"], "closed", "--by", "检查员")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "登记" in err and "销号" in err and "registered" in err and "closed" in err
    code, out, err = run(capsys, "danger", demo_copy, "advance", reg["id"], "rectifying", "--by", "检查员",
                         "--note", "已责令整改")
    assert code == 0 and "registered → rectifying" in out
    code, out, err = run(capsys, "danger", demo_copy, "show", reg["id"], "--json")
    info = json.loads(out)
    assert info["status"] == "rectifying" and info["events"][-1]["note"] == "已责令整改"
    # closing the demo's supervised major danger turns its enterprise from red to its graded level
    sup = d[(d["status"] == "supervised")].iloc[0]
    eid = int(sup["enterprise_id"])
    with Project.open(demo_copy, readonly=True) as p:
        before = p.read_table("enterprises", where=f"id = {eid}", columns=["id", "level"])["level"].iloc[0]
    assert before == 1
    code, out, err = run(capsys, "danger", demo_copy, "advance", sup["id"], "rectified", "--by", "企业")
    assert code == 0, err
    code, out, err = run(capsys, "danger", demo_copy, "advance", sup["id"], "closed", "--by", "检查员")
    assert code == 2 and "effect_evaluation" in err
    code, out, err = run(capsys, "danger", demo_copy, "advance", sup["id"], "closed", "--by", "检查员",
                         "--set", "effect_evaluation=复查合格")
    assert code == 0, err
    with Project.open(demo_copy, readonly=True) as p:
        e = p.read_table("enterprises", where=f"id = {eid}", columns=["id", "level", "level_basis"])
        a = p.read_table("assessments", where=f"enterprise_id = {eid} AND risk_point_id IS NULL",
                         columns=["id", "level", "method"])
        rps = p.read_table("risk_points", where=f"enterprise_id = {eid}", columns=["id", "level",
                                                                                  "major_hazard_grade"])
    assert "override" not in set(a["method"])
    # by hand: 就高 of its risk points, red again only if a 一级/二级 major hazard or another open 重大隐患
    other_open_major = ((d["enterprise_id"] == eid) & (d["grade"] == "major") & (d["status"] != "closed")
                        & (d["id"] != sup["id"])).any()
    red_rule = other_open_major or rps["major_hazard_grade"].isin([1, 2]).any()
    expected = 1 if red_rule else int(rps["level"].min())
    assert e["level"].iloc[0] == expected and a["level"].iloc[-1] == expected
    assert a["method"].iloc[-1] == "max" and len(a) == 2  # derived at build, re-derived once on closing


def test_indicator_commands(capsys, demo_copy):
    code, out, err = run(capsys, "indicator", demo_copy, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["demo"] and len(res["indicators"]) == 12
    first = res["indicators"][0]
    assert first["name"] == "生产安全事故起数" and first["source"].startswith("003 L45–47")
    base = first["base_value"]
    code, out, err = run(capsys, "indicator", demo_copy, "--set", first["id"], 2025, round(base * 0.85))
    assert code == 0, err
    code, out, err = run(capsys, "indicator", demo_copy, "--json")
    p = json.loads(out)["indicators"][0]
    assert p["year"] == 2025 and p["achieved"] == np.round((base - round(base * 0.85)) / base * 100, 4)
    assert p["status"] == ("on_track" if p["achieved"] >= 10 else "missed")
    code, out, err = run(capsys, "indicator", demo_copy, "--set", first["id"], 2025, "很多")
    assert code == 2 and "VALUE" in err
    code, out, err = run(capsys, "indicator", demo_copy, "--load", "六安市")
    assert code == 0 and "六安市" in out
    code, out, err = run(capsys, "indicator", demo_copy, "--json")
    names = {i["name"] for i in json.loads(out)["indicators"]}
    assert "生产安全事故起数（十三五）" in names
