"""The commit: one transaction, never half a file; progress and cancel; the report as CSV."""

from __future__ import annotations

import csv

import openpyxl
import pytest

import riskmap.io.importer as importer
from riskmap.io.importer import commit_import, import_file, plan_import
from riskmap.progress import Cancelled
from riskmap.store import Project


def _xlsx(path, rows):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(list(r))
    wb.save(path)
    return path


@pytest.fixture
def twelve(inside_points, tmp_path):
    pts = inside_points(12)
    rows = [["企业名称", "行业", "风险等级", "经度", "纬度"]]
    rows += [[f"事务公司{i:02d}", "加油站", 1 + i % 4, x, y] for i, (x, y) in enumerate(pts)]
    return _xlsx(tmp_path / "十二.xlsx", rows)


def test_failure_inside_the_transaction_leaves_file_unchanged(project_path, twelve, monkeypatch, unchanged):
    """Enterprises are inserted, then the assessments fail: nothing of it may stay."""

    def boom(*args, **kwargs):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(importer, "_insert_assessments", boom)
    monkeypatch.setattr(importer, "BATCH", 5)  # several insert batches before the failure
    with Project.open(project_path) as p:
        before = p.counts()
        plan = plan_import(p, twelve, "enterprises")
        with unchanged(project_path), pytest.raises(RuntimeError, match="simulated"):
            commit_import(p, plan)
        assert p.counts() == before


def test_cancel_during_commit(project_path, twelve, monkeypatch, unchanged):
    monkeypatch.setattr(importer, "BATCH", 4)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) >= 3  # after two batches are in

    with Project.open(project_path) as p:
        before = p.counts()
        plan = plan_import(p, twelve, "enterprises")
        with unchanged(project_path), pytest.raises(Cancelled, match="导入已取消，项目未改动"):
            commit_import(p, plan, cancel=cancel)
        assert p.counts() == before
        with unchanged(project_path), pytest.raises(Cancelled, match="导入已取消，项目未改动"):
            plan_import(p, twelve, "enterprises", cancel=lambda: True)


def test_progress_rises_to_one(project_path, twelve):
    seen = []
    with Project.open(project_path) as p:
        res = import_file(p, twelve, "enterprises", progress=lambda f, m: seen.append(f))
    assert len(res.ids) == 12 and res.committed
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == pytest.approx(1.0)
    assert all(0.0 <= f <= 1.0 for f in seen)


def test_dry_run_writes_nothing_and_report_csv(project_path, twelve, tmp_path, cli, unchanged):
    out_csv = tmp_path / "报告.csv"
    with unchanged(project_path):
        code, out, _ = cli("import", project_path, twelve, "--layer", "enterprises", "--dry-run", "--report", out_csv)
    assert code == 0 and "试运行" in out
    with open(out_csv, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:5] == ["文件 file", "行 row", "字段 field", "值 value", "级别 severity"]
    assert all(r[0] == "十二.xlsx" for r in rows[1:])
    # the second import of the same file finds every row already there: an update that changes nothing
    code, _out, _ = cli("import", project_path, twelve, "--layer", "enterprises")
    assert code == 0
    with unchanged(project_path):
        code, out, err = cli("import", project_path, twelve, "--layer", "enterprises")
    assert code == 0 and "疑似重复" not in out and "新增 0 家，更新 0 家，无变化 12 家" in out


def test_locked_project_is_refused_cleanly(project_path, twelve):
    import sqlite3

    import sqlalchemy

    with Project.open(project_path) as p:
        before = p.counts()["enterprises"]
        plan = plan_import(p, twelve, "enterprises")
        other = sqlite3.connect(project_path, timeout=0)
        other.execute("BEGIN EXCLUSIVE")
        try:
            p.engine.dispose()

            @sqlalchemy.event.listens_for(p.engine, "connect")
            def _short_timeout(dbapi_conn, _rec):
                dbapi_conn.execute("PRAGMA busy_timeout = 100")

            with pytest.raises(importer.RiskmapError, match="锁定|locked"):
                commit_import(p, plan)
        finally:
            other.rollback()
            other.close()
        assert p.counts()["enterprises"] == before


def test_rtree_filled_and_trigger_back(project_path, twelve):
    """The GeoPackage R-tree holds the imported rows (filled in bulk) and indexes later edits again."""
    import sqlite3

    import pyogrio
    import shapely

    from riskmap.model import Enterprise

    with Project.open(project_path) as p:
        res = import_file(p, twelve, "enterprises")
        got = p.read_table("enterprises", where=f"id >= {min(res.ids)}")
        with p.session() as s:  # an ordinary edit after the import
            s.add(Enterprise(name="导入后新增", industry="gas_station", geom=shapely.Point(105.1, 35.8)))
    con = sqlite3.connect(project_path)
    trig = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'rtree_enterprises_geom_insert'").fetchone()
    rt = dict((r[0], r[1:]) for r in con.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_enterprises_geom"))
    n_rows = con.execute("SELECT count(*) FROM enterprises WHERE geom IS NOT NULL").fetchone()[0]
    last = con.execute("SELECT max(id) FROM enterprises").fetchone()[0]
    con.close()
    assert trig == (1,)
    assert len(rt) == n_rows and last in rt
    for i, g in zip(got["id"], got.geometry):
        minx, maxx, miny, maxy = rt[int(i)]  # float32, rounded outwards
        assert minx <= g.x <= maxx and miny <= g.y <= maxy and maxx - minx < 1e-4 and maxy - miny < 1e-4
    # GDAL's spatial filter goes through the R-tree
    g0 = got.geometry.iat[0]
    hit = pyogrio.read_dataframe(project_path, layer="enterprises", bbox=(g0.x - 1e-4, g0.y - 1e-4, g0.x + 1e-4, g0.y + 1e-4))
    assert got["name"].iat[0] in set(hit["name"])
