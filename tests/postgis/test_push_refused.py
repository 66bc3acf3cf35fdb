"""``riskmap db push`` by a user whose role may not write: one line naming the missing right, exit 2."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from riskmap.cli import main

pytestmark = pytest.mark.postgis


@pytest.mark.parametrize("replace", [False, True])
def test_viewer_push_is_refused_in_one_line(capsys, pg_server, pg_demo_url, pg_users, demo_path, replace):
    url = pg_server.url(make_url(pg_demo_url).database, "ann_viewer", pg_users["ann_viewer"])
    argv = ["db", "push", str(demo_path), url] + (["--replace"] if replace else [])
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    if replace:
        assert err.count("\n") == 1 and "ann_viewer" in err and "没有" in err and "lacks" in err, err
        assert "Vw-3x!pass" not in err
    from riskmap.store import Project

    with Project.open(pg_demo_url) as p:  # nothing was removed
        assert p.counts()["enterprises"] > 0
