"""The demo built straight into PostgreSQL: the same project as in a file, and a failed build leaves nothing."""

from __future__ import annotations

import sqlite3

import pytest
import shapely

from riskmap.errors import RiskmapError
from riskmap.store import Project
from riskmap.store.postgis import has_schema, make_engine

pytestmark = pytest.mark.postgis


def test_make_demo_into_postgis_equals_the_file(pg_empty_url, demo_path):
    from riskmap.demo import make_demo

    project = make_demo(pg_empty_url, place="会宁县", seed=1)  # the fixture's file: same place and seed
    try:
        assert project.is_demo and project.dialect == "postgresql"
        raw = sqlite3.connect(demo_path)
        for table, n in project.counts().items():
            if table == "project_meta":
                continue
            assert n == raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table
        with Project.open(demo_path, readonly=True) as ref:
            for table in ("enterprises", "zones", "lifelines", "protected_targets"):
                a = ref.read_table(table).sort_index()
                b = project.read_table(table).sort_index()
                assert a["name"].tolist() == b["name"].tolist(), table
                assert shapely.equals_exact(a.geometry.values, b.geometry.values, 1e-9).all(), table
                if "level" in a:
                    assert a["level"].fillna(0).tolist() == b["level"].fillna(0).tolist(), table
    finally:
        project.close()


def test_failed_create_leaves_the_database_empty(pg_empty_url):
    def build(project):
        with project.session() as s:
            from riskmap.model import Zone
            s.add(Zone(name="示例镇", kind="town"))
        raise RiskmapError("中途失败", "failed half-way")

    with pytest.raises(RiskmapError):
        Project.create(pg_empty_url, name="x", build=build)
    engine = make_engine(pg_empty_url)
    with engine.connect() as conn:
        assert not has_schema(conn)
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                                    "AND tablename <> 'spatial_ref_sys'").scalar() == 0
    engine.dispose()
    with Project.create(pg_empty_url, name="第二次") as p:  # and the database can be used again
        assert p.name == "第二次"
