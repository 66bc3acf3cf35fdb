"""Roles are enforced by PostgreSQL itself: each user tries writes through the app's own connection."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from riskmap.errors import RiskmapError
from riskmap.grading.enterprise import derive_level, override_level
from riskmap.model import Assessment, Enterprise, HiddenDanger
from riskmap.store import Project

pytestmark = pytest.mark.postgis


def _open(url):
    project = Project.open(url)
    return project


def test_viewer_cannot_write_even_with_raw_sql(url_as):
    with _open(url_as("ann_viewer")) as p:
        perms = p.permissions()
        assert perms.user == "ann_viewer" and perms.roles == ("viewer",)
        assert perms.read and not (perms.edit_features or perms.edit_hidden_dangers or perms.assess or perms.admin)
        assert perms.writable_tables == frozenset()
        # reading works
        assert len(p.read_table("enterprises")) == p.counts()["enterprises"] > 0
        # raw SQL inside the app's session: refused by the database, reported in words
        with pytest.raises(RiskmapError) as err, p.session() as s:
            s.execute(text("UPDATE enterprises SET name = '示例篡改' WHERE id = 1"))
        assert "数据库拒绝写入“企业”" in err.value.zh and "ann_viewer" in err.value.zh and "查看" in err.value.zh
        assert "refused" in err.value.en and "enterprises" in err.value.en
        with pytest.raises(RiskmapError) as err:
            p.execute("DELETE FROM hidden_dangers")
        assert "隐患" in err.value.zh
        with pytest.raises(RiskmapError):
            p.execute("INSERT INTO assessments (method, level, assessed_at) VALUES ('manual', 1, now())")
        # an ORM edit, the way the UI saves
        with pytest.raises(RiskmapError), p.session() as s:
            s.get(Enterprise, 1).name = "示例篡改"
        # bypassing the app's translation: the database itself still says no
        with p.engine.connect() as conn:
            with pytest.raises(ProgrammingError) as raw:
                conn.exec_driver_sql("UPDATE zones SET name = 'x'")
            assert raw.value.orig.sqlstate == "42501"
            conn.rollback()
            with pytest.raises(ProgrammingError):
                conn.exec_driver_sql("SET ROLE riskmap_admin")  # not a member: no escalation
            conn.rollback()
            with pytest.raises(ProgrammingError):
                conn.exec_driver_sql("GRANT riskmap_editor TO ann_viewer")
    with _open(url_as("du_admin")) as admin:
        with admin.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM enterprises WHERE id = 1")).scalar() != "示例篡改"
            assert conn.execute(text("SELECT count(*) FROM hidden_dangers")).scalar() > 0


def test_editor_edits_features_but_not_levels(url_as):
    with _open(url_as("bo_editor")) as p:
        perms = p.permissions()
        assert perms.roles == ("viewer", "editor")
        assert perms.edit_features and perms.edit_hidden_dangers and not perms.assess and not perms.admin
        assert perms.can_write("enterprises") and perms.can_write("hidden_dangers")
        assert not perms.can_write("assessments") and not perms.can_write("project_meta")
        with p.session() as s:
            ent = s.get(Enterprise, 1)
            ent.name = "示例编辑改名有限公司"
            danger = s.scalars(select(HiddenDanger).order_by(HiddenDanger.id).limit(1)).one()
            danger.status = "rectifying"
            s.add(Enterprise(name="示例新增加油站", industry="gas_station", geom=ent.geom))
        with p.reader() as s:
            assert s.get(Enterprise, 1).name == "示例编辑改名有限公司"
            assert s.scalars(select(Enterprise).where(Enterprise.name == "示例新增加油站")).one().level is None
        # the level columns are the assessor's: refused column by column
        with pytest.raises(RiskmapError) as err, p.session() as s:
            s.get(Enterprise, 1).level = 1
        assert "企业" in err.value.zh and "编辑" in err.value.zh
        with pytest.raises(RiskmapError), p.session() as s:
            derive_level(s, s.get(Enterprise, 1), assessor="bo")
        with pytest.raises(RiskmapError):
            p.execute("INSERT INTO enterprises (name, industry, level, major_hazard, version, created_at, "
                      "updated_at, qr_id) VALUES ('示例', 'gas_station', 1, false, 1, now(), now(), 'q1')")
        p.execute("INSERT INTO enterprises (name, industry, major_hazard, version, created_at, updated_at, qr_id) "
                  "VALUES ('示例无等级', 'gas_station', false, 1, now(), now(), 'q2')")  # without a level: allowed
        with pytest.raises(RiskmapError):
            p.set_meta(name="改名")
        with pytest.raises(RiskmapError):
            p.execute("DELETE FROM edit_history")  # nobody rewrites history
        assert p.counts()["edit_history"] >= 3


def test_assessor_changes_levels_only(url_as):
    with _open(url_as("cai_assessor")) as p:
        perms = p.permissions()
        assert perms.assess and not perms.edit_features and not perms.admin
        n0 = p.counts()["assessments"]
        with p.session() as s:
            ent = s.get(Enterprise, 5)
            rec = override_level(s, ent, 1, reason="示例：专家论证上调", assessor="cai")
            rec_id = rec.id
        assert p.counts()["assessments"] == n0 + 1
        with p.reader() as s:
            ent = s.get(Enterprise, 5)
            assert ent.level == 1 and ent.level_assessment_id == rec_id
            assert s.get(Assessment, rec_id).assessor == "cai"
        with pytest.raises(RiskmapError), p.session() as s:
            s.get(Enterprise, 5).name = "示例评估人改名"
        with pytest.raises(RiskmapError):
            p.execute("DELETE FROM hidden_dangers WHERE id = 1")
        with pytest.raises(RiskmapError) as err:  # the trigger: even with UPDATE rights nobody rewrites a record
            p.execute(f"UPDATE assessments SET level = 4 WHERE id = {rec_id}")
        assert "评估记录" in err.value.zh or "拒绝" in err.value.zh


def test_admin_sets_project_and_gives_roles(url_as, pg_server):
    pg_server.sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eva') THEN "
                  "CREATE ROLE eva LOGIN PASSWORD 'Ev-5q!pass'; END IF; END $$")
    from riskmap.store.roles import grant_role, list_roles

    with _open(url_as("du_admin")) as p:
        perms = p.permissions()
        assert perms.admin and perms.assess and perms.edit_features
        assert set(perms.roles) == {"viewer", "editor", "assessor", "admin"}
        p.set_meta(note="管理员设置")
        assert p.meta()["note"] == "管理员设置"
        with p.engine.begin() as conn:
            grant_role(conn, "eva", "editor")
        with p.engine.connect() as conn:
            assert ("eva", "editor") in list_roles(conn)
        with p.engine.begin() as conn:
            grant_role(conn, "eva", "viewer")  # exactly one riskmap role: the editor role goes
        with p.engine.connect() as conn:
            held = [r for u, r in list_roles(conn) if u == "eva"]
        assert held == ["viewer"]
    database = p.engine.url.database
    with _open(pg_server.url(database, "eva", "Ev-5q!pass")) as eva:
        assert not eva.permissions().edit_features


def test_non_admin_cannot_give_roles(url_as):
    from riskmap.store.roles import grant_role

    with _open(url_as("bo_editor")) as p:
        with pytest.raises(RiskmapError) as err, p.engine.begin() as conn:
            grant_role(conn, "ann_viewer", "admin")
        assert "无权分配角色" in err.value.zh


def test_gpkg_permissions_follow_the_file(demo_copy):
    import os

    with Project.open(demo_copy) as p:
        perms = p.permissions()
        assert perms.admin and perms.edit_features and perms.can_write("assessments")
    os.chmod(demo_copy, 0o444)
    try:
        with Project.open(demo_copy) as p:
            if os.geteuid() != 0:  # root writes anyway; the project is then not read-only
                assert p.readonly and not p.permissions().edit_features
    finally:
        os.chmod(demo_copy, 0o644)
    with Project.open(demo_copy, readonly=True) as p:
        perms = p.permissions()
        assert perms.read and not perms.edit_features and not perms.admin and not perms.writable_tables
