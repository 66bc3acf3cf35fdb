"""Connecting: passwords from PGPASSWORD, ~/.pgpass or a prompt, never shown; one clear message per failure."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.engine import make_url

from riskmap.errors import RiskmapError
from riskmap.store import Project
from riskmap.store import postgis
from riskmap.store.postgis import mask_url, safe_url

pytestmark = pytest.mark.postgis


@pytest.fixture
def no_prompt(monkeypatch):
    monkeypatch.setattr(postgis, "password_prompt", None)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")


def test_mask_and_safe_url():
    url = "postgresql+psycopg://ann:S3cr%40t!@db.example:5433/county?sslmode=require"
    assert mask_url(url) == "postgresql+psycopg://ann:***@db.example:5433/county?sslmode=require"
    assert safe_url(url) == "postgresql+psycopg://ann@db.example:5433/county?sslmode=require"
    assert "secret" not in mask_url("postgresql://ann@/db?host=/run/x&password=secret")
    assert safe_url("postgresql://ann@/db?host=/run/x&password=secret") == "postgresql+psycopg://ann@/db?host=/run/x"
    with pytest.raises(RiskmapError) as err:
        safe_url("postgresql://ann:pa@ss@db/county")
    assert "pa@ss" not in str(err.value) and "%40" in str(err.value)
    with pytest.raises(RiskmapError):
        safe_url("mysql://ann:x@db/county")


def test_password_in_url_is_never_shown(pg_server, pg_demo_url, pg_users, no_prompt, caplog):
    db = make_url(pg_demo_url).database
    secret = pg_users["ann_viewer"]
    caplog.set_level(logging.DEBUG)
    with Project.open(pg_server.url(db, "ann_viewer", secret)) as p:
        assert secret not in p.target and "ann_viewer@" in p.target
        assert p.user == "ann_viewer"
        with pytest.raises(RiskmapError) as err:
            p.execute("DELETE FROM zones")
        assert secret not in str(err.value)
        assert secret not in repr(p.engine.url) and secret not in str(p.engine.url)
    with pytest.raises(RiskmapError) as err:
        Project.open(pg_server.url(db, "ann_viewer", "wrong-" + secret))
    assert "数据库密码错误" in err.value.zh and "wrong password" in err.value.en
    assert secret not in str(err.value) and "ann_viewer:***@" in str(err.value)
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_password_from_pgpassword_pgpass_and_prompt(pg_server, pg_demo_url, pg_users, no_prompt,
                                                    monkeypatch, tmp_path):
    db = make_url(pg_demo_url).database
    url = pg_server.url(db, "bo_editor")  # no password in the URL
    with pytest.raises(RiskmapError) as err:
        Project.open(url)
    assert "PGPASSWORD" in err.value.zh and "~/.pgpass" in err.value.en
    monkeypatch.setenv("PGPASSWORD", pg_users["bo_editor"])
    with Project.open(url) as p:
        assert p.permissions().edit_features
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"*:*:{db}:bo_editor:{pg_users['bo_editor']}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    with Project.open(url) as p:
        assert p.user == "bo_editor"
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    asked = []
    monkeypatch.setattr(postgis, "password_prompt", lambda where: asked.append(where) or pg_users["bo_editor"])
    with Project.open(url) as p:
        assert p.user == "bo_editor" and pg_users["bo_editor"] not in p.target
    assert asked == [f"bo_editor@{pg_server.socket_dir}/{db}"]


def test_one_clear_message_per_failure(pg_server, pg_users, no_prompt, tmp_path):
    cases = [
        (f"postgresql+psycopg://riskmap_su@/x?host={tmp_path}", "无法连接数据库服务器", "cannot reach"),
        (pg_server.url("no_such_db"), "数据库不存在: no_such_db", "database does not exist"),
        (pg_server.url("postgres", "nobody", "x"), "数据库密码错误", "wrong password"),
        (pg_server.url("postgres"), "未启用 PostGIS", "PostGIS is not enabled"),
    ]
    for url, zh, en in cases:
        with pytest.raises(RiskmapError) as err:
            Project.open(url)
        assert zh in err.value.zh and en in err.value.en, (url, str(err.value))
        assert "\n" not in str(err.value)


def test_database_without_riskmap_and_without_postgis_rights(pg_server, pg_empty_url, pg_users, no_prompt):
    with pytest.raises(RiskmapError) as err:
        Project.open(pg_empty_url)
    assert "没有 riskmap 项目" in err.value.zh and "db init" in err.value.en
    # a database owner who may not create extensions: a clear request to the administrator
    pg_server.sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'owner_fu') THEN "
                  "CREATE ROLE owner_fu LOGIN PASSWORD 'Ow-2k!pass'; END IF; END $$")
    pg_server.sql("CREATE DATABASE plain_fu OWNER owner_fu")
    try:
        with pytest.raises(RiskmapError) as err:
            Project.create(pg_server.url("plain_fu", "owner_fu", "Ow-2k!pass"), name="x")
        assert "CREATE EXTENSION postgis" in err.value.zh and "ask an administrator" in err.value.en
        assert "Ow-2k!pass" not in str(err.value)
        # once a superuser has enabled PostGIS the owner can create the project (roles need CREATEROLE)
        pg_server.sql("CREATE EXTENSION postgis", database="plain_fu")
        with Project.create(pg_server.url("plain_fu", "owner_fu", "Ow-2k!pass"), name="丰县") as p:
            assert p.name == "丰县" and p.permissions().admin
    finally:
        pg_server.drop_database("plain_fu")
