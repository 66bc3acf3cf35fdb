"""``riskmap db init | push | pull | grant | roles`` against the throwaway server."""

from __future__ import annotations

import io
import sqlite3

import pytest
from sqlalchemy.engine import make_url

from riskmap.cli import main
from riskmap.store import Project

pytestmark = pytest.mark.postgis


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_init_creates_an_empty_project(capsys, pg_empty_url):
    code, out, err = run(capsys, "db", "init", pg_empty_url, "--name", "会宁县共享库", "--place", "会宁县")
    assert code == 0, err
    assert "已建立项目" in out and "会宁县共享库" in out
    with Project.open(pg_empty_url) as p:
        assert p.name == "会宁县共享库" and p.place == "620422" and p.metric_epsg == 4544
        counts = p.counts()  # only project_meta rows, and its county (schema 5)
        assert counts.pop("project_meta") == 6 and counts.pop("counties") == 1 and sum(counts.values()) == 0
        assert p.counties() == [("620422", "会宁县")]
    code, out, err = run(capsys, "db", "init", pg_empty_url)
    assert code == 2 and "已有 riskmap 项目" in err and err.count("\n") == 1


def test_push_pull_grant_roles(capsys, pg_server, pg_empty_url, demo_path, tmp_path, monkeypatch):
    code, out, err = run(capsys, "db", "push", str(demo_path), pg_empty_url)
    assert code == 0, err
    n_ent = sqlite3.connect(demo_path).execute("SELECT count(*) FROM enterprises").fetchone()[0]
    assert f"企业 enterprises {n_ent}" in out
    code, out, err = run(capsys, "db", "push", str(demo_path), pg_empty_url)
    assert code == 2 and "--replace" in err

    db = make_url(pg_empty_url).database
    monkeypatch.setattr("sys.stdin", io.StringIO("Gu-4t!pass\n"))
    code, out, err = run(capsys, "db", "grant", pg_empty_url, "--user", "gu_cli", "--role", "editor",
                         "--create", "--password-stdin")
    assert code == 0, err
    assert "gu_cli" in out and "editor" in out and "Gu-4t!pass" not in out + err
    code, out, err = run(capsys, "db", "roles", pg_empty_url)
    assert code == 0 and "gu_cli" in out and "editor" in out
    with Project.open(pg_server.url(db, "gu_cli", "Gu-4t!pass")) as p:
        assert p.permissions().edit_features and not p.permissions().assess

    out_file = tmp_path / "pulled.gpkg"
    user_url = pg_server.url(db, "gu_cli", "Gu-4t!pass")
    code, out, err = run(capsys, "db", "pull", user_url, str(out_file))
    assert code == 0, err
    assert "Gu-4t!pass" not in out + err and "gu_cli@" in out
    assert sqlite3.connect(out_file).execute("SELECT count(*) FROM enterprises").fetchone()[0] == n_ent
    code, out, err = run(capsys, "db", "pull", user_url, str(out_file))
    assert code == 2 and "文件已存在" in err

    # the editor may not hand out roles
    code, out, err = run(capsys, "db", "grant", user_url, "--user", "gu_cli", "--role", "admin")
    assert code == 2 and "无权分配角色" in err and "Gu-4t!pass" not in err


def test_errors_are_one_line_and_mask_the_password(capsys, pg_server, tmp_path):
    bad = f"postgresql+psycopg://ann:TopSecret9@/x?host={tmp_path}"
    for argv in (("db", "roles", bad), ("db", "pull", bad, str(tmp_path / "x.gpkg")), ("info", bad)):
        code, out, err = run(capsys, *argv)
        assert code == 2 and err.count("\n") == 1, err
        assert "TopSecret9" not in err and "ann:***@" in err and "无法连接数据库服务器" in err
    code, out, err = run(capsys, "db", "init", "sqlite:///x.db")
    assert code == 2 and "不是 PostgreSQL 数据库 URL" in err


def test_init_then_push_by_an_admin(capsys, pg_server, pg_empty_url, pg_users, demo_path):
    """The bureau's way: the database owner runs db init; an admin user (not the owner) pushes the file."""
    assert run(capsys, "db", "init", pg_empty_url, "--place", "会宁县")[0] == 0
    db = make_url(pg_empty_url).database
    admin_url = pg_server.url(db, "du_admin", pg_users["du_admin"])
    code, out, err = run(capsys, "db", "push", str(demo_path), admin_url)
    assert code == 0, err
    code, out, err = run(capsys, "db", "push", str(demo_path), admin_url, "--replace")
    assert code == 0, err
    with Project.open(admin_url) as p:
        assert p.is_demo and p.counts()["enterprises"] == \
            sqlite3.connect(demo_path).execute("SELECT count(*) FROM enterprises").fetchone()[0]
        with p.session() as s:  # the id counters were set by a non-owner too
            from riskmap.model import Enterprise
            e = Enterprise(name="示例新增", industry="gas_station")
            s.add(e)
        assert e.id == sqlite3.connect(demo_path).execute("SELECT max(id) FROM enterprises").fetchone()[0] + 1
