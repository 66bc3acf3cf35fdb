"""The riskmap command: demo and info, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from riskmap.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "riskmap.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_info_lists_layers_and_counts(demo_path, capsys):
    assert main(["info", str(demo_path)]) == 0
    out = capsys.readouterr().out
    assert "示例数据" in out and "EPSG:4490" in out
    for word in ("enterprises", "towns", "grids", "control_lines", "重大风险", "低风险"):
        assert word in out


def test_info_json_counts(demo_path, capsys):
    assert main(["info", str(demo_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["tables"]["enterprises"] == 239
    assert info["enterprises_by_plan_group"]["hazchem"] == 174
    assert sum(v for k, v in info["enterprises_by_level"].items()) == 239
    assert {layer["id"]: layer["count"] for layer in info["layers"]}["towns"] == 28


def test_demo_command_writes_a_project(tmp_path):
    out = tmp_path / "s.gpkg"
    r = run("demo", "--place", "商河县", "--out", str(out), "--seed", "2")
    assert r.returncode == 0, r.stderr
    assert out.exists() and "商河县" in r.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("make, needle", [
    (lambda d: d / "missing.gpkg", "不存在"),
    (lambda d: (d / "plain.gpkg").write_text("not a database") and d / "plain.gpkg", "不是 GeoPackage"),
    (lambda d: d, "文件夹"),
])
def test_info_errors_are_one_line(tmp_path, make, needle):
    target = make(tmp_path)
    r = run("info", str(target))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr


def test_newer_schema_is_refused(demo_copy):
    import sqlite3

    conn = sqlite3.connect(demo_copy)
    conn.execute("UPDATE project_meta SET value='999' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    before = demo_copy.read_bytes()
    r = run("info", str(demo_copy))
    assert r.returncode == 2 and "更新版本" in r.stderr and "newer" in r.stderr
    assert demo_copy.read_bytes() == before


def test_demo_refuses_unwritable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for target in (blocker / "sub" / "x.gpkg", "/proc/riskmap-test.gpkg"):
        r = run("demo", "--out", str(target))
        assert r.returncode == 2 and "无法在此位置写入" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_demo_refuses_existing_file_and_bad_place(tmp_path, demo_path):
    r = run("demo", "--out", str(demo_path))
    assert r.returncode == 2 and "已存在" in r.stderr
    r = run("demo", "--out", str(tmp_path / "x.gpkg"), "--place", "火星县")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert not list(tmp_path.iterdir())


def test_failed_build_leaves_nothing(tmp_path, monkeypatch):
    from riskmap import demo

    def boom(self, s):
        raise RuntimeError("cancelled halfway")

    monkeypatch.setattr(demo._Builder, "targets", boom)
    with pytest.raises(RuntimeError):
        demo.make_demo(tmp_path / "half.gpkg", place="叶集区")
    assert list(tmp_path.iterdir()) == []


def test_help_is_bilingual():
    r = run("--help")
    assert r.returncode == 0 and "示例项目" in r.stdout and "demo project" in r.stdout


def test_new_project_has_the_usual_file_mode(tmp_path):
    import stat

    from riskmap.store import Project

    umask = os.umask(0o022)
    try:
        Project.create(tmp_path / "m.gpkg", name="权限").close()
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "m.gpkg").stat().st_mode) == 0o644
