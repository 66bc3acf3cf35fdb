"""History names whoever the server says is connected: an editor cannot write it in someone else's name,
nor change or delete it afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from riskmap.errors import RiskmapError
from riskmap.model import EditRecord, Enterprise
from riskmap.store import Project
from riskmap.store.migrations import SCHEMA_VERSION

pytestmark = pytest.mark.postgis

FORGED = ("INSERT INTO edit_history (at, \"user\", table_name, row_id, action, changes) "
          "VALUES ('2001-01-01 00:00:00', 'admin', 'enterprises', 1, 'update', '{}') RETURNING id")


def _forge(project) -> int:
    with project.engine.begin() as conn:
        return conn.exec_driver_sql(FORGED).scalar()


def _row(project, row_id):
    with project.engine.connect() as conn:
        return conn.execute(text('SELECT "user", at FROM edit_history WHERE id = :i'), {"i": row_id}).one()


def _recent(at: dt.datetime) -> bool:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return abs((now - at).total_seconds()) < 120


def test_editor_cannot_forge_or_rewrite_history(url_as):
    with Project.open(url_as("bo_editor")) as p:
        forged = _forge(p)
        user, at = _row(p, forged)
        assert user == "bo_editor" and _recent(at)  # not 'admin', not 2001
        # through the ORM with a made-up name, after SET ROLE, and asking for the copy exemption of db push
        with p.session(history=False) as s:
            s.execute(text("SET LOCAL riskmap.copy_history = 'on'"))
            s.execute(text("SET LOCAL ROLE riskmap_editor"))
            rec = EditRecord(user="du_admin", at=dt.datetime(2001, 1, 1), table_name="enterprises", row_id=2,
                             action="update", changes={})
            s.add(rec)
        assert _row(p, rec.id)[0] == "bo_editor"
        # the app's own history of an edit names the editor too
        with p.session() as s:
            s.get(Enterprise, 1).phone = "0943-2000001"
        with p.engine.connect() as conn:
            last = conn.execute(select(EditRecord.user).order_by(EditRecord.id.desc()).limit(1)).scalar()
        assert last == "bo_editor"
        # rewriting or deleting history is refused by the database
        with pytest.raises(RiskmapError) as err:
            p.execute(f"UPDATE edit_history SET \"user\" = 'admin' WHERE id = {forged}")
        assert "编辑历史" in err.value.zh
        with pytest.raises(RiskmapError):
            p.execute(f"DELETE FROM edit_history WHERE id = {forged}")
        with p.engine.connect() as conn:
            for sql in (f"UPDATE edit_history SET at = now() WHERE id = {forged}", "DELETE FROM edit_history",
                        "TRUNCATE edit_history"):
                with pytest.raises(ProgrammingError) as raw:
                    conn.exec_driver_sql(sql)
                assert raw.value.orig.sqlstate == "42501"
                conn.rollback()
        assert _row(p, forged)[0] == "bo_editor"
    with Project.open(url_as("cai_assessor")) as p:
        assert _row(p, _forge(p))[0] == "cai_assessor"
        with pytest.raises(RiskmapError):
            p.execute("DELETE FROM edit_history")


def test_older_database_gets_the_trigger_from_its_owner(url_as, pg_server, pg_demo_url):
    db = make_url(pg_demo_url).database
    pg_server.sql("DROP TRIGGER riskmap_history_stamp ON edit_history; DROP FUNCTION riskmap_history_stamp();"
                  "UPDATE project_meta SET value = '1' WHERE key = 'schema_version'", database=db)
    with pytest.raises(RiskmapError) as err:  # an editor may not change the schema: told whom to ask
        Project.open(url_as("bo_editor"))
    assert "需要升级结构" in err.value.zh and "owner" in err.value.en
    with Project.open(pg_demo_url) as owner:  # the owner's open upgrades it
        assert owner.schema_version == SCHEMA_VERSION
    with Project.open(url_as("bo_editor")) as p:
        assert _row(p, _forge(p))[0] == "bo_editor"
