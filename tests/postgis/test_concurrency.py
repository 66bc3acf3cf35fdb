"""Two users on one database: the second save of the same feature is refused; others hear of changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from riskmap.errors import RiskmapError
from riskmap.model import Enterprise, EnterpriseList, HiddenDanger
from riskmap.store import Project

pytestmark = pytest.mark.postgis


def test_two_open_sessions_second_commit_conflicts(url_as):
    with Project.open(url_as("bo_editor")) as a, Project.open(url_as("du_admin")) as b:
        with pytest.raises(RiskmapError) as err:
            with a.session() as sa:  # A opens the feature and starts editing …
                ent_a = sa.get(Enterprise, 7)
                name, v0 = ent_a.name, ent_a.version
                with b.session() as sb:  # … B edits the same feature and saves first
                    sb.get(Enterprise, 7).phone = "0943-0000001"
                ent_a.phone = "0943-0000002"  # A saves: refused
        assert f"企业“{name}”（id 7）已被其他用户修改" in err.value.zh
        assert f"enterprises '{name}' (id 7) was changed by someone else" in err.value.en
        with b.reader() as s:
            ent = s.get(Enterprise, 7)
            assert ent.phone == "0943-0000001" and ent.version == v0 + 1  # B's edit kept, A's not written
        # after a refresh A can redo the edit
        with a.session() as sa:
            sa.get(Enterprise, 7).phone = "0943-0000002"
        with b.reader() as s:
            assert s.get(Enterprise, 7).phone == "0943-0000002"


def test_conflict_with_a_deleted_feature(url_as):
    with Project.open(url_as("bo_editor")) as a, Project.open(url_as("du_admin")) as b:
        with a.session() as sa:
            danger = sa.scalars(select(HiddenDanger).order_by(HiddenDanger.id.desc()).limit(1)).one()
            title, did = danger.title, danger.id
        with b.session() as sb:
            sb.delete(sb.get(HiddenDanger, did))
        with pytest.raises(RiskmapError) as err, a.session() as sa:
            sa.add(danger)
            danger.status = "rectified"
        assert f"隐患“{title}”（id {did}）已被其他用户删除" in err.value.zh


def test_other_users_hear_of_changes(url_as):
    with Project.open(url_as("ann_viewer")) as watcher, Project.open(url_as("bo_editor")) as editor:
        heard = []
        watcher.listen(heard.append)
        assert watcher.poll_changes() == []
        with editor.session() as s:
            s.get(Enterprise, 3).name = "示例通知测试有限公司"
            new = Enterprise(name="示例新企业", industry="gas_station")
            s.add(new)
        changes = watcher.poll_changes(timeout=2.0)
        got = {(c.table, c.op, c.ids) for c in changes}
        assert ("enterprises", "update", (3,)) in got
        assert ("enterprises", "insert", (new.id,)) in got
        assert any(c.table == "edit_history" for c in changes) is False  # history is not announced
        assert heard == changes
        # one statement changing many rows: one notice listing them; over 500 rows: "reload the table"
        with editor.session(history=False) as s:
            s.execute(update(Enterprise).where(Enterprise.id <= 20).values(department="示例部门"))
            n_lists = s.scalar(select(text("count(*)")).select_from(EnterpriseList))
            s.execute(update(EnterpriseList).values(kind=EnterpriseList.kind))
        assert n_lists > 500
        changes = watcher.poll_changes(timeout=2.0)
        got = {(c.table, c.op): c.ids for c in changes}
        assert got[("enterprises", "update")] == tuple(range(1, 21))
        assert got[("enterprise_lists", "update")] is None
        # a rolled-back edit announces nothing
        with pytest.raises(RiskmapError), editor.session() as s:
            s.get(Enterprise, 4).level = 1  # an editor may not set levels: refused, rolled back
        assert watcher.poll_changes(timeout=0.5) == []


def test_gpkg_listen_is_a_no_op(demo_project):
    demo_project.listen(lambda change: None)
    with demo_project.session() as s:
        s.get(Enterprise, 1).phone = "1"
    assert demo_project.poll_changes(timeout=0.1) == []


def test_lost_connection_is_reported_and_nothing_is_half_saved(pg_server, pg_demo_url):
    from sqlalchemy.engine import make_url

    db = make_url(pg_demo_url).database
    with Project.open(pg_demo_url) as p:
        with pytest.raises(RiskmapError) as err, p.session() as s:
            s.get(Enterprise, 9).phone = "0943-9999999"
            s.flush()
            pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
            pg_server.sql("SELECT pg_terminate_backend(%s)", database=db, params=(pid,))  # the server goes away
        assert "连接中断" in err.value.zh and "connection to the database was lost" in err.value.en
        with p.reader() as s:  # the pool reconnects; the edit was not saved
            assert s.get(Enterprise, 9).phone != "0943-9999999"
