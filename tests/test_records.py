"""The records of one feature by id (riskmap.records), checked against plain SQL on the demo file."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd

from riskmap.records import (
    assessment_history, danger_events, enterprise_dangers, enterprise_lists, risk_points, zone_decisions,
)


def _sql(path, query, *args):
    with sqlite3.connect(path) as c:
        return c.execute(query, args).fetchall()


def test_enterprise_records(demo_copy, demo_project):
    eid = _sql(demo_copy, "SELECT enterprise_id FROM risk_points GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")[0][0]
    pts = risk_points(demo_project, eid)
    want = _sql(demo_copy, "SELECT id, name FROM risk_points WHERE enterprise_id = ? ORDER BY id", eid)
    # the enterprise with the most points is the demo plant's (a 加油站): its 埋地油罐区 and six risk areas
    assert list(zip(pts["id"].astype(int), pts["name"])) == want and len(want) == 7
    lists = enterprise_lists(demo_project, eid)
    assert set(lists) == {"basic", "responsibility", "monitoring", "measures", "emergency"}
    (raw,), = _sql(demo_copy, "SELECT content FROM enterprise_lists WHERE enterprise_id = ? AND kind = 'basic'", eid)
    assert lists["basic"] == [json.loads(raw)]
    # history: the enterprise's own records and its risk points', newest first
    hist = assessment_history(demo_project, eid)
    want = _sql(demo_copy, "SELECT id FROM assessments WHERE enterprise_id = ? OR risk_point_id IN "
                           "(SELECT id FROM risk_points WHERE enterprise_id = ?) ORDER BY assessed_at DESC, id DESC",
                eid, eid)
    assert hist["id"].tolist() == [i for (i,) in want] and len(want) >= 5
    names = dict(zip(pts["id"].astype(int), pts["name"]))
    for r in hist.itertuples():
        if pd.isna(r.risk_point_id):
            assert pd.isna(r.point_name)
        else:
            assert r.point_name == names[int(r.risk_point_id)]
    assert (hist["point_name"].isna()).sum() == len(_sql(
        demo_copy, "SELECT id FROM assessments WHERE enterprise_id = ? AND risk_point_id IS NULL", eid))
    assert assessment_history(demo_project, 10**9).empty


def test_dangers_events_and_zone_decisions(demo_copy, demo_project):
    did, n = _sql(demo_copy, "SELECT danger_id, count(*) FROM hidden_danger_events GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")[0]
    ev = danger_events(demo_project, did)
    assert ev["id"].tolist() == [i for (i,) in _sql(demo_copy, "SELECT id FROM hidden_danger_events WHERE danger_id = ? "
                                                               "ORDER BY id", did)] and len(ev) == n == 4
    (eid,), = _sql(demo_copy, "SELECT enterprise_id FROM hidden_dangers WHERE id = ?", did)
    assert did in enterprise_dangers(demo_project, eid)["id"].tolist()
    zid, n = _sql(demo_copy, "SELECT zone_id, count(*) FROM zone_decisions GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")[0]
    total, dec = zone_decisions(demo_project, zid)
    assert total == n == len(dec) == 9
    ents = dict(_sql(demo_copy, "SELECT id, name FROM enterprises"))
    for r in dec.itertuples():
        assert r.name == (ents[int(r.object_id)] if r.object_table == "enterprises" else None)
    total, first = zone_decisions(demo_project, zid, limit=3)
    assert total == 9 and len(first) == 3
    assert zone_decisions(demo_project, 10**9)[0] == 0
