"""As of a date (riskmap.asof, --at): a history written by hand with explicit dates, read back."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import geopandas as gpd
import pytest
import shapely

from riskmap.model import Assessment, Enterprise, HiddenDanger, HiddenDangerEvent
from riskmap.store import Project

D = dt.date
T = dt.datetime


def _stamp(day: dt.date, hour: int = 10) -> dt.datetime:
    return T(day.year, day.month, day.day, hour)


@pytest.fixture
def history(demo_copy):
    """The demo (its history ends before 2026-11-01) with a hand-written fortnight after it:
    A (now 低) assessed 较大 on 11-15; B (now 较大/重大) assessed 低 on 11-16; C created 11-12, graded 一般 11-13;
    a 重大隐患 found 11-14 (deadline 11-18, 整改中 from 11-15); a 一般隐患 found 11-11 and 销号 on 11-16."""
    with Project.open(demo_copy) as p:
        ents = p.read_table("enterprises", columns=["id", "level", "town"])
        a = int(ents[ents["level"] == 4]["id"].min())
        b = int(ents[ents["level"] == 2]["id"].min())
        with p.session() as s:
            s.add(Assessment(enterprise_id=a, method="max", level=2, explanation="复评（测试）", assessed_at=_stamp(D(2026, 11, 15))))
            s.add(Assessment(enterprise_id=b, method="max", level=4, explanation="复评（测试）", assessed_at=_stamp(D(2026, 11, 16))))
            ea = s.get(Enterprise, a)
            ea.level, s.get(Enterprise, b).level = 2, 4  # the cache of the newest record, as derive_level keeps it
            c = Enterprise(name="测试新增化工有限公司", industry=ea.industry, town=ea.town, zone_id=ea.zone_id,
                           geom=shapely.Point(ea.geom.x + 0.0001, ea.geom.y), created_at=_stamp(D(2026, 11, 12)),
                           level=3)
            s.add(c)
            s.flush()
            s.add(Assessment(enterprise_id=c.id, method="max", level=3, explanation="首次评估（测试）",
                             assessed_at=_stamp(D(2026, 11, 13))))
            major = HiddenDanger(enterprise_id=a, title="重大事故隐患：测试", grade="major", status="rectifying",
                                 found_date=D(2026, 11, 14), deadline=D(2026, 11, 18), geom=ea.geom)
            general = HiddenDanger(enterprise_id=a, title="一般隐患：测试", grade="general", status="closed",
                                   found_date=D(2026, 11, 11), deadline=D(2026, 11, 30), closed_date=D(2026, 11, 16),
                                   effect_evaluation="合格", geom=ea.geom)
            s.add_all([major, general])
            s.flush()
            for d, steps in ((major, [("registered", 14), ("rectifying", 15)]),
                             (general, [("registered", 11), ("rectifying", 12), ("rectified", 13), ("closed", 16)])):
                prev = None
                for st, day in steps:
                    s.add(HiddenDangerEvent(danger_id=d.id, from_status=prev, to_status=st, by="测试",
                                            at=_stamp(D(2026, 11, day))))
                    prev = st
            ids = {"a": a, "b": b, "c": c.id, "major": major.id, "general": general.id,
                   "b_level": int(ents.set_index("id").loc[b, "level"])}
    return demo_copy, ids


def test_levels_at_follow_the_dated_records(history):
    path, ids = history
    from riskmap.asof import levels_at

    with Project.open(path, readonly=True) as p:
        before, mid, after = (levels_at(p, D(2026, 11, d)) for d in (11, 15, 20))
    assert before[ids["a"]] == 4 and mid[ids["a"]] == 2 and after[ids["a"]] == 2
    assert before[ids["b"]] == ids["b_level"] and mid[ids["b"]] == ids["b_level"] and after[ids["b"]] == 4
    assert ids["c"] not in before and mid[ids["c"]] == 3
    assert levels_at(p, D(2000, 1, 1)) == {}  # nothing existed then


def test_stats_at_gives_the_earlier_level(history, cli):
    path, ids = history
    code, out, err = cli("stats", path, "--at", "2026-11-14", "--json")
    assert code == 0, err
    st14 = json.loads(out)
    code, out, _ = cli("stats", path, "--at", "2026-11-16", "--json")
    st16 = json.loads(out)
    # by hand: from 11-14 to 11-16 A went 低 → 较大 and B 较大 → 低; C (一般) exists on both dates
    assert st14["at"] == "2026-11-14"
    assert st16["by_level"]["2"] == st14["by_level"]["2"]  # one 较大 in (A), one out (B)
    assert st16["by_level"]["4"] == st14["by_level"]["4"]
    code, out, _ = cli("stats", path, "--at", "2026-11-12", "--json")
    st12 = json.loads(out)
    assert st14["enterprises"] == st12["enterprises"] and st14["by_level"]["3"] == st12["by_level"]["3"] + 1
    assert st12["by_level"]["none"] == 1  # C exists from 11-12, graded 11-13
    # the major danger: not yet found on 11-12, open (登记) on 11-14, overdue on 11-20
    assert st12["hidden_dangers"]["total"] + 1 == st14["hidden_dangers"]["total"]
    code, out, _ = cli("stats", path, "--at", "2026-11-20", "--json")
    st20 = json.loads(out)
    assert ids["major"] in [r["id"] for r in st20["hidden_dangers"]["overdue_list"]]
    assert ids["major"] not in [r["id"] for r in st14["hidden_dangers"]["overdue_list"]]
    # today (no --at) equals --at of a date after every record
    code, out, _ = cli("stats", path, "--json")
    now = json.loads(out)
    assert now["by_level"] == st20["by_level"]


def test_zone_at_writes_nothing_and_refuses_a_rule(history, cli):
    path, ids = history
    with Project.open(path, readonly=True) as p:
        stored = p.read_table("zones", where="kind = 'town'", columns=["id", "level"])
    code, out, err = cli("zone", path, "--at", "2026-11-11", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["at"] == "2026-11-11"
    with Project.open(path, readonly=True) as p:
        again = p.read_table("zones", where="kind = 'town'", columns=["id", "level"])
    assert stored["level"].tolist() == again["level"].tolist()
    code, out, err = cli("zone", path, "--at", "2026-11-11", "--rule", "max")
    assert code == 2 and "--at" in err


def test_export_at_says_the_date_and_counts_as_stats(history, cli, tmp_path):
    path, ids = history
    out_pdf = tmp_path / "at.pdf"
    code, out, err = cli("export", path, "--out", out_pdf, "--at", "2026-11-14", "--paper", "A4", "--dpi", "100")
    assert code == 0, err
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", out_pdf, "-"], capture_output=True, text=True).stdout
        assert "截至2026年11月14日" in text
        assert "示例数据" in text
    out_gpkg = tmp_path / "at.gpkg"
    code, out, err = cli("export", path, "--out", out_gpkg, "--at", "2026-11-14", "--layers", "enterprises")
    assert code == 0, err
    layers = gpd.list_layers(out_gpkg)["name"].tolist()
    ents = gpd.read_file(out_gpkg, layer=[n for n in layers if "enterprise" in n or "企业" in n][0])
    code, out, _ = cli("stats", path, "--at", "2026-11-14", "--json")
    st = json.loads(out)
    got = {str(k): int(v) for k, v in ents["level"].fillna(0).astype(int).value_counts().items()}
    want = {k: v for k, v in st["by_level"].items() if v and k != "none"}
    assert {k: v for k, v in got.items() if k != "0"} == want
    assert ids["c"] in ents["id"].tolist()
    assert int(ents.set_index("id").loc[ids["a"], "level"]) == 4  # A was 低 on 11-14
