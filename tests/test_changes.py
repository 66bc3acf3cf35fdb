"""riskmap changes: exactly the level changes the dated assessments make, on a hand-written history and the demo."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from riskmap.store import Project
from tests.test_asof import history  # noqa: F401 - the fixture

METHODS = ("max", "override", "override_rules")


def test_changes_on_a_hand_written_history(history, cli):  # noqa: F811
    path, ids = history
    code, out, err = cli("changes", path, "--from", "2026-11-10", "--to", "2026-11-20", "--json")
    assert code == 0, err
    ch = json.loads(out)
    assert [(r["id"], r["from"], r["to"]) for r in ch["raised"]] == [(ids["a"], 4, 2)]
    assert [(r["id"], r["from"], r["to"]) for r in ch["lowered"]] == [(ids["b"], ids["b_level"], 4)]
    assert [r["id"] for r in ch["added"]] == [ids["c"]] and ch["added"][0]["level"] == 3
    assert ch["removed"] == []
    assert sorted(r["id"] for r in ch["dangers_opened"]) == sorted([ids["major"], ids["general"]])
    assert [r["id"] for r in ch["dangers_closed"]] == [ids["general"]]
    overdue = {r["id"]: r for r in ch["dangers_overdue"]}
    assert ids["major"] in overdue and overdue[ids["major"]]["supervised"] is False
    # the town of A: by hand, its highest level before and after from stats --at
    a_town = ch["raised"][0]["town"]
    levels = {}
    for day in ("2026-11-10", "2026-11-20"):
        st = json.loads(cli("stats", path, "--at", day, "--json")[1])
        row = st["by_town"][a_town]
        levels[day] = min(int(k) for k in ("1", "2", "3", "4") if row[k])
    town_rows = [z for z in ch["zones"] if z["unit"] == "town" and z["name"] == a_town]
    if levels["2026-11-10"] != levels["2026-11-20"]:
        assert [(z["from"], z["to"]) for z in town_rows] == [(levels["2026-11-10"], levels["2026-11-20"])]
    else:
        assert town_rows == []
    code, out, err = cli("changes", path, "--from", "2026-11-10", "--to", "2026-11-20")
    assert code == 0 and "升高 raised 1" in out and "测试新增化工有限公司" in out
    code, out, err = cli("changes", path, "--from", "2026-11-20", "--to", "2026-11-10")
    assert code == 2


def _by_hand(path, day: dt.date) -> dict:
    """Each enterprise's level at the end of ``day``, computed in Python from the assessments table."""
    with Project.open(path, readonly=True) as p:
        with p.engine.connect() as conn:
            rows = pd.read_sql("SELECT id, enterprise_id, method, level, assessed_at, risk_point_id FROM assessments",
                               conn)
    rows = rows[rows["risk_point_id"].isna() & rows["method"].isin(METHODS)]
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).strftime("%Y-%m-%dT%H:%M:%S")
    out = {}
    for r in rows.sort_values(["assessed_at", "id"]).itertuples():
        if str(r.assessed_at)[:19] < end:
            out[int(r.enterprise_id)] = int(r.level)
    return out


def test_changes_on_the_demo_equal_the_assessments_table(demo_path, cli):
    start, end = dt.date(2025, 11, 1), dt.date(2026, 11, 1)
    code, out, err = cli("changes", demo_path, "--from", start.isoformat(), "--to", end.isoformat(), "--json")
    assert code == 0, err
    ch = json.loads(out)
    a, b = _by_hand(demo_path, start), _by_hand(demo_path, end)
    raised = sorted((i, a[i], b[i]) for i in b if i in a and b[i] < a[i])
    lowered = sorted((i, a[i], b[i]) for i in b if i in a and b[i] > a[i])
    assert raised and lowered  # the demo's history has both
    assert sorted((r["id"], r["from"], r["to"]) for r in ch["raised"]) == raised
    assert sorted((r["id"], r["from"], r["to"]) for r in ch["lowered"]) == lowered
    assert ch["added"] and ch["dangers_opened"] and ch["zones"]
