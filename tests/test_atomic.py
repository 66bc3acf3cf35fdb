"""Atomic writes: one temporary naming, leftovers of killed runs removed by the next write, errors name the target."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from riskmap.atomic import STALE_AFTER_S, _host, atomic_path, clean_stale, is_temp_name, temp_prefix
from riskmap.errors import RiskmapError

KILLED_WRITER = """
import os, signal, sys
from riskmap.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_bytes(b"x" * 100_000)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killed_export_is_cleaned_by_the_next_one(tmp_path):
    out = tmp_path / "企业.xlsx"
    r = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(out)], capture_output=True)
    assert r.returncode == -signal.SIGKILL
    left = leftovers(tmp_path)
    assert len(left) == 1 and is_temp_name(left[0]) and not out.exists()
    from riskmap.export.table import write_rows

    write_rows(tmp_path / "other.xlsx", "t", ["a"], [[1]])
    assert leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["other.xlsx"]


def test_a_running_writer_is_left_alone(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".a.xlsx.riskmap-{_host()}-{sleeper.pid}-abc123.tmp"
        busy.mkdir()
        (busy / "a.xlsx").write_bytes(b"half")
        mine = tmp_path / (temp_prefix(tmp_path / "b.gpkg") + "xyz.tmp")
        mine.write_bytes(b"this process")
        elsewhere = tmp_path / ".c.pdf.riskmap-otherhost-1-abc.tmp"  # another machine on a shared folder
        elsewhere.write_bytes(b"?")
        assert clean_stale(tmp_path) == []
        assert leftovers(tmp_path) == sorted([busy.name, mine.name, elsewhere.name])
        day_ago = time.time() - STALE_AFTER_S - 60
        for p in (busy / "a.xlsx", busy, elsewhere):
            os.utime(p, (day_ago, day_ago))
        assert sorted(p.name for p in clean_stale(tmp_path)) == sorted([busy.name, elsewhere.name])
        assert leftovers(tmp_path) == [mine.name]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_dead_writer_and_old_style_leftovers(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    gone = tmp_path / f".a.gpkg.riskmap-{_host()}-{pid}-q1.tmp"
    gone.write_bytes(b"x")
    old_style, recent_old_style = tmp_path / ".b.xlsx.k2j4h_8z.tmp", tmp_path / ".c.xlsx.aaaabbbb.tmp"
    old_style.mkdir()
    recent_old_style.write_bytes(b"x")
    not_ours = tmp_path / ".notes.txt.abcdefgh.tmp"
    not_ours.write_bytes(b"x")
    day_ago = time.time() - STALE_AFTER_S - 60
    for p in (old_style, not_ours):
        os.utime(p, (day_ago, day_ago))
    clean_stale(tmp_path)
    assert leftovers(tmp_path) == sorted([recent_old_style.name, not_ours.name])


def test_error_inside_names_the_target_not_the_temporary_path(tmp_path):
    out = tmp_path / "图.pdf"
    with pytest.raises(RiskmapError) as info:
        with atomic_path(out) as tmp:
            raise RiskmapError(f"无法写入 PDF: {tmp}", f"cannot write PDF: {tmp}")
    assert str(out) in str(info.value) and ".tmp" not in str(info.value)
    with pytest.raises(RiskmapError) as info:
        with atomic_path(out) as tmp:
            raise OSError(28, "No space left on device", str(tmp))
    assert str(info.value) == (f"无法写入文件: {out}（No space left on device） / "
                               f"cannot write the file: {out} (No space left on device)")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_read_while_writing_is_named(tmp_path):
    """A template or image missing while a file is written is the file the message names, not the output."""
    out = tmp_path / "简报.docx"
    missing = tmp_path / "templates" / "default-header.xml"
    with pytest.raises(RiskmapError) as info:
        with atomic_path(out):
            open(missing, "rb")
    assert str(info.value) == (f"无法生成 {out}：{missing}（No such file or directory） / "
                               f"cannot make {out}: {missing} (No such file or directory)")
    assert list(tmp_path.iterdir()) == []


def test_project_create_failure_names_the_project_file(tmp_path):
    from riskmap.store import Project

    def build(project):
        raise RiskmapError(f"写入失败: {project.target}", f"write failed: {project.target}")

    out = tmp_path / "p.gpkg"
    with pytest.raises(RiskmapError) as info:
        Project.create(out, name="x", build=build)
    assert str(info.value) == f"写入失败: {out} / write failed: {out}"
    assert list(tmp_path.iterdir()) == []


def test_new_files_get_the_usual_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
        with atomic_path(tmp_path / "d", directory=True) as tmp:
            (tmp / "f").write_text("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
