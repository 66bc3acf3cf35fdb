"""Change notices come from anyone who may connect: malformed ones are skipped, real ones still arrive."""

from __future__ import annotations

import json

import pytest

from riskmap.model import Enterprise
from riskmap.store import Project
from riskmap.store.postgis import CHANNEL, NOTIFY_MAX_IDS, parse_change

JAMS = [
    '"x"',  # JSON, but a string
    "not json at all",
    "",
    "null",
    "[]",
    "[1, 2, 3]",
    '{"table": "enterprises"}',  # keys missing
    '{"table": "enterprises", "op": "update", "ids": [1], "extra": 1}',
    '{"table": "pg_authid", "op": "update", "ids": [1]}',  # not a riskmap table
    '{"table": ["enterprises"], "op": "update", "ids": [1]}',
    '{"table": "enterprises", "op": "drop", "ids": null}',
    '{"table": "enterprises", "op": "update", "ids": "12"}',
    '{"table": "enterprises", "op": "update", "ids": {"a": 1}}',
    '{"table": "enterprises", "op": "update", "ids": [true]}',
    '{"table": "enterprises", "op": "update", "ids": [1.5]}',
    '{"table": "enterprises", "op": "update", "ids": [-4]}',
    '{"table": "enterprises", "op": "update", "ids": [1e999]}',
    '{"table": "enterprises", "op": "update", "ids": [' + "9" * 40 + "]}",
    '{"table": "enterprises", "op": "update", "ids": []}',
    json.dumps({"table": "enterprises", "op": "update", "ids": list(range(1, NOTIFY_MAX_IDS + 400))}),  # huge
    "[" * 3500 + "]" * 3500,  # deeper than the JSON parser goes
    '{"table": "' + "e" * 7900 + '", "op": "update", "ids": null}',
]


@pytest.mark.postgis
def test_malformed_notices_are_skipped_and_real_ones_kept(url_as):
    with Project.open(url_as("ann_viewer")) as watcher, Project.open(url_as("bo_editor")) as editor:
        watcher.listen()
        with editor.session(history=False) as s:
            s.get(Enterprise, 3).phone = "0943-1000003"
        # a role that may only read jams the channel between the two real changes
        with Project.open(url_as("ann_viewer")) as jammer, jammer.engine.begin() as conn:
            for payload in JAMS:
                conn.exec_driver_sql("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        with editor.session(history=False) as s:
            s.get(Enterprise, 4).phone = "0943-1000004"
        changes = []
        for _ in range(5):  # everything arrives in one or two batches
            changes += watcher.poll_changes(timeout=1.0)
            if len(changes) >= 2:
                break
        changes += watcher.poll_changes(timeout=0.3)
        got = [(c.table, c.op, c.ids) for c in changes]
        assert got == [("enterprises", "update", (3,)), ("enterprises", "update", (4,))]


def test_parse_change_accepts_what_the_triggers_send():
    assert parse_change('{"table" : "zones", "op" : "insert", "ids" : [1,2]}', 7).ids == (1, 2)
    assert parse_change('{"table" : "project_meta", "op" : "delete", "ids" : null}').ids is None
    for payload in JAMS:
        assert parse_change(payload) is None, payload[:80]
