"""Counties in one store (schema 5): the ``county`` of every row in a county file, a city's counties pushed into one
PostgreSQL database (ids remapped, a county pushed twice refused, ``--replace`` replacing only it), a county editor
held to his county by row-level security even with raw SQL, the city's statistics equal to the sum of its counties',
and the 4 → 5 upgrade on both stores.

Two real county projects: the 会宁县 demo (620422) and a new project for 靖远县 (620421, the same city, 白银市 620400;
not a demo place: its boundary only) with two towns and nine enterprises graded here by hand."""

from __future__ import annotations

import itertools
import sqlite3

import numpy as np
import pytest
import shapely
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from riskmap.errors import RiskmapError
from riskmap.model import COUNTY_TABLES, Base, Enterprise, HiddenDanger, RiskPoint, Zone
from riskmap.store import Project
from riskmap.store.migrations import SCHEMA_VERSION
from test_schema4 import make_schema_4

HUINING, JINGYUAN = "620422", "620421"
LEC = {1: {"L": 10, "E": 6, "C": 7}, 2: {"L": 3, "E": 6, "C": 15}, 3: {"L": 3, "E": 6, "C": 7},
       4: {"L": 1, "E": 1, "C": 1}}  # D = 420, 270, 126, 1 (as tests/conftest.py SMALL_LEC)
# 靖远县's enterprises: town → levels (None: 未评估)
JY_LEVELS = {"西": [1, 2, 4, 4, None], "东": [3, 3, 4, 1]}


def build_jingyuan(path) -> None:
    """靖远县: a new project, its county split at the middle longitude into two towns, enterprises inside each
    graded by LEC (the rule derives the enterprise level), and one hidden danger (an edit recorded in history)."""
    from riskmap.grading.enterprise import derive_level, grade_risk_point
    from riskmap.newproject import new_project

    p = new_project(path, JINGYUAN)
    try:
        with p.session() as s:
            county = s.scalars(select(Zone).where(Zone.kind == "county")).one()
            b = county.geom
            minx, miny, maxx, maxy = b.bounds
            mid = (minx + maxx) / 2
            for half, box in (("西", shapely.box(minx - 1, miny - 1, mid, maxy + 1)),
                              ("东", shapely.box(mid, miny - 1, maxx + 1, maxy + 1))):
                part = shapely.intersection(b, box)
                s.add(Zone(name=f"靖远{half}镇", kind="town", parent_id=county.id,
                           geom=shapely.MultiPolygon([g for g in getattr(part, "geoms", [part])
                                                      if g.geom_type == "Polygon"])))
            s.flush()
            towns = {z.name[2]: z for z in s.scalars(select(Zone).where(Zone.kind == "town"))}
            for half, levels in JY_LEVELS.items():
                inner = towns[half].geom.buffer(-0.05)
                rng = np.random.default_rng(7 if half == "西" else 8)
                x0, y0, x1, y1 = inner.bounds
                k = 0
                while k < len(levels):
                    pt = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
                    if not inner.contains(pt):
                        continue
                    lv = levels[k]
                    e = Enterprise(name=f"靖远{half}企业{k + 1}", industry="gas_station", town=f"靖远{half}镇", geom=pt)
                    s.add(e)
                    s.flush()
                    if lv is not None:
                        rp = RiskPoint(enterprise_id=e.id, name="储罐区", geom=pt)
                        s.add(rp)
                        s.flush()
                        grade_risk_point(s, rp, "lec", LEC[lv], assessor="测试")
                        derive_level(s, e, assessor="测试")
                    k += 1
            first = s.scalars(select(Enterprise).order_by(Enterprise.id)).first()
            s.add(HiddenDanger(enterprise_id=first.id, title="靖远储罐区防火堤破损", geom=first.geom))
    finally:
        p.close()


@pytest.fixture(scope="session")
def jingyuan_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("jingyuan") / "jingyuan.gpkg"
    build_jingyuan(path)
    return path


_dbs = itertools.count(1)


@pytest.fixture
def city_url(pg_server, demo_path, jingyuan_path):
    """A database holding both counties: 会宁县 pushed first (ids kept), 靖远县 added beside it."""
    from riskmap.store.sync import push

    name = f"city_{next(_dbs)}"
    url = pg_server.create_database(name)
    push(demo_path, url)
    push(jingyuan_path, url)
    yield url
    pg_server.drop_database(name)


def rows_of(url_or_path, table, county=None):
    """Every row of ``table`` (of ``county``), in id order, as tuples of text (geometry as WKB hex)."""
    with Project.open(url_or_path, readonly=True) as p, p.engine.connect() as conn:
        cols = [c.name for c in Base.metadata.tables[table].columns]
        pg = p.dialect == "postgresql"
        sel = ", ".join(("encode(ST_AsBinary(geom), 'hex')" if pg else "hex(geom)") if c == "geom"
                        else f'"{c}"::text' if pg else f'"{c}"' for c in cols)
        where = " WHERE county = :c" if county else ""
        order = " ORDER BY id" if "id" in cols else ""
        return [tuple(r) for r in conn.execute(text(f"SELECT {sel} FROM {table}{where}{order}"), {"c": county})]


# ---- GeoPackage: a county file ------------------------------------------------------------------
def test_a_county_file_keys_every_row_by_its_county(demo_project):
    p = demo_project
    assert p.counties() == [(HUINING, "会宁县")]
    with p.session() as s:  # new rows get the file's county without naming it: ORM, and bulk zoning decisions
        e = Enterprise(name="示例新加油站", industry="gas_station", geom=shapely.Point(105.05, 35.7))
        s.add(e)
    from riskmap.grading.zoning import zone_project

    zone_project(p, unit="grid", rule="max")
    with p.engine.connect() as conn:
        for t in COUNTY_TABLES:
            n, bad = conn.execute(text(f"SELECT count(*), count(*) FILTER (WHERE county IS NOT '{HUINING}') "
                                       f"FROM {t}")).one()
            assert bad == 0, (t, n, bad)
        assert conn.execute(text("SELECT county FROM enterprises WHERE id = :i"), {"i": e.id}).scalar() == HUINING
        assert conn.execute(text("SELECT count(*) FROM zone_decisions")).scalar() > 0


def test_a_file_of_a_city_has_no_county(tmp_path):
    from riskmap.newproject import new_project

    with new_project(tmp_path / "baiyin.gpkg", "620400") as p:
        assert p.counties() == []
        with p.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM zones WHERE county IS NOT NULL")).scalar() == 0


# ---- GeoPackage: 4 → 5 -------------------------------------------------------------------------------
@pytest.fixture
def v4(demo_copy):
    make_schema_4(demo_copy)
    return demo_copy


def test_gpkg_4_to_5(v4):
    import pyogrio

    con = sqlite3.connect(v4)
    assert "county" not in {r[1] for r in con.execute("PRAGMA table_info(enterprises)")}
    n = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTY_TABLES}
    con.close()
    with Project.open(v4) as p:
        assert p.schema_version == SCHEMA_VERSION == 5
        assert p.counties() == [(HUINING, "会宁县")]
    con = sqlite3.connect(v4)
    for t in COUNTY_TABLES:  # every existing row reads the file's county, the column is indexed
        assert con.execute(f"SELECT count(*) FROM {t} WHERE county = ?", (HUINING,)).fetchone()[0] == n[t], t
        assert con.execute(f"SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'ix_{t}_county'").fetchone()
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    assert "county" in pyogrio.read_dataframe(v4, layer="enterprises").columns  # GDAL reads the new column
    with Project.open(v4) as p:  # the upgrade is not run twice; the file writes as any schema-5 file
        with p.session() as s:
            s.add(Enterprise(name="示例升级后新企业", industry="gas_station", geom=shapely.Point(105.0, 35.8)))
    assert sqlite3.connect(v4).execute("SELECT county FROM enterprises WHERE name = '示例升级后新企业'").fetchone() \
        == (HUINING,)


def test_gpkg_4_reads_read_only_unwritten(v4):
    import os

    before = v4.read_bytes()
    os.chmod(v4, 0o444)
    try:
        with Project.open(v4, readonly=True) as p:
            assert p.schema_version == 4
            ents = p.read_table("enterprises")
            assert len(ents) and (ents["county"] == HUINING).all()
            assert p.counties() == [(HUINING, "会宁县")]
            from riskmap.stats import city_stats

            df = city_stats(p, by="county")
            assert df["total"].tolist() == [len(ents)]
    finally:
        os.chmod(v4, 0o644)
    assert v4.read_bytes() == before


def test_gpkg_failed_upgrade_to_5_changes_nothing(v4, monkeypatch):
    from riskmap.store import counties

    real = counties.sqlite_add_columns

    def half_then_fail(conn, place):
        real(conn, place)  # columns, indexes and the counties table made …
        raise RiskmapError("迁移失败", "migration failed")  # … then the step fails

    monkeypatch.setattr(counties, "sqlite_add_columns", half_then_fail)
    before = v4.read_bytes()
    with pytest.raises(RiskmapError):
        Project.open(v4)
    assert v4.read_bytes() == before
    monkeypatch.undo()
    with Project.open(v4) as p:
        assert p.schema_version == 5


# ---- PostgreSQL: counties in one database -------------------------------------------------------------
pg = pytest.mark.postgis


@pg
def test_two_counties_in_one_database(city_url, demo_path, jingyuan_path):
    with Project.open(city_url, readonly=True) as p:
        assert p.counties() == [(JINGYUAN, "靖远县"), (HUINING, "会宁县")]
        meta = p.meta()
        assert meta["place"] == "620400" and meta["name"] == "白银市（2 个县区）"
        assert meta["metric_epsg"] == "4544" and p.is_demo  # 104.x°E → CM 105°E; the demo marks the city
        with p.engine.connect() as conn:
            for t in COUNTY_TABLES:  # every row belongs to one of the two
                assert conn.execute(text(f"SELECT count(*) FROM {t} WHERE county IS NULL "
                                         f"OR county NOT IN ('{HUINING}', '{JINGYUAN}')")).scalar() == 0, t
            # foreign keys stay inside their county: assessments, risk points, dangers, decisions, zones
            for child, fk, parent in (("assessments", "enterprise_id", "enterprises"),
                                      ("assessments", "risk_point_id", "risk_points"),
                                      ("risk_points", "enterprise_id", "enterprises"),
                                      ("enterprise_lists", "enterprise_id", "enterprises"),
                                      ("hidden_dangers", "enterprise_id", "enterprises"),
                                      ("zones", "parent_id", "zones"),
                                      ("zone_decisions", "zone_id", "zones")):
                n, crossed = conn.execute(text(
                    f"SELECT count(*), count(*) FILTER (WHERE c.county <> p.county) FROM {child} c "
                    f"JOIN {parent} p ON p.id = c.{fk}")).one()
                assert crossed == 0, (child, fk)
            # ids not declared as foreign keys were moved the same way
            assert conn.execute(text(
                "SELECT count(*) FROM enterprises e JOIN assessments a ON a.id = e.level_assessment_id "
                "WHERE a.enterprise_id <> e.id")).scalar() == 0
            assert conn.execute(text(
                "SELECT count(*) FROM zone_decisions d JOIN enterprises e ON e.id = d.object_id "
                "WHERE d.object_table = 'enterprises' AND d.county <> e.county")).scalar() == 0
            hist = conn.execute(text("SELECT table_name, row_id FROM edit_history WHERE county = :c AND row_id "
                                     "IS NOT NULL"), {"c": JINGYUAN}).all()
            assert hist
            for table, row_id in hist:  # 靖远's history names 靖远's rows
                assert conn.execute(text(f"SELECT county FROM {table} WHERE id = :i"), {"i": row_id}).scalar() \
                    in (JINGYUAN, None)
            jy = conn.execute(text("SELECT id, name, level FROM enterprises WHERE county = :c ORDER BY id"),
                              {"c": JINGYUAN}).all()
            hn_ids = set(conn.execute(text("SELECT id FROM enterprises WHERE county = :c"), {"c": HUINING}).scalars())
    # 会宁 kept its ids; 靖远's moved past them, same names and levels in the same order
    assert [int(r[0]) for r in rows_of(demo_path, "enterprises")] == sorted(hn_ids)
    assert min(r[0] for r in jy) > max(hn_ids)
    with Project.open(jingyuan_path, readonly=True) as f:
        src = f.read_table("enterprises", columns=["id", "name", "level"])
    assert [(r[1], r[2]) for r in jy] == [(n, None if lv != lv or lv is None else int(lv))
                                          for n, lv in zip(src["name"], src["level"])]
    lv_of = {n: lv for _, n, lv in jy}
    assert lv_of["靖远西企业1"] == 1 and lv_of["靖远东企业1"] == 3 and lv_of["靖远西企业5"] is None
    # the derived assessment's risk points moved with the ids
    with Project.open(city_url, readonly=True) as p, p.engine.connect() as conn:
        rows = conn.execute(text("SELECT inputs FROM assessments WHERE county = :c AND method = 'max'"),
                            {"c": JINGYUAN}).scalars().all()
        ids = {int(k) for r in rows for k in __import__("json").loads(r)["risk_points"]}
        assert ids and ids <= set(conn.execute(text("SELECT id FROM risk_points WHERE county = :c"),
                                               {"c": JINGYUAN}).scalars())


@pg
def test_a_county_pushed_again_is_refused_and_replace_replaces_only_it(city_url, jingyuan_path, tmp_path, cli):
    import shutil

    hn_before = {t: rows_of(city_url, t, HUINING) for t in COUNTY_TABLES}
    code, out, err = cli("db", "push", str(jingyuan_path), city_url)
    assert code == 2 and "靖远县" in err and JINGYUAN in err and "--replace" in err and err.count("\n") == 1
    # a changed 靖远 file replaces 靖远, and only it
    changed = tmp_path / "jy2.gpkg"
    shutil.copy(jingyuan_path, changed)
    with Project.open(changed) as p, p.session() as s:
        s.add(Enterprise(name="靖远新增企业", industry="gas_station", geom=shapely.Point(104.7, 36.6)))
    with Project.open(city_url, readonly=True) as p:
        old_jy = p.read_table("enterprises", where=f"county = '{JINGYUAN}'")
    code, out, err = cli("db", "push", str(changed), city_url, "--replace")
    assert code == 0, err
    with Project.open(city_url, readonly=True) as p:
        new_jy = p.read_table("enterprises", where=f"county = '{JINGYUAN}'")
        assert p.counties() == [(JINGYUAN, "靖远县"), (HUINING, "会宁县")]
    assert len(new_jy) == len(old_jy) + 1 and "靖远新增企业" in set(new_jy["name"])
    assert min(new_jy["id"]) > max(old_jy["id"])  # ids are never reused
    for t in COUNTY_TABLES:  # 会宁's rows byte-equal before and after
        assert rows_of(city_url, t, HUINING) == hn_before[t], t


@pg
def test_a_file_that_is_not_a_county_is_refused(city_url, tmp_path, cli):
    from riskmap.newproject import new_project

    new_project(tmp_path / "city.gpkg", "620400").close()
    code, out, err = cli("db", "push", str(tmp_path / "city.gpkg"), city_url)
    assert code == 2 and "白银市" in err and "不是区县" in err


@pg
def test_pull_one_county(city_url, jingyuan_path, tmp_path, cli):
    out_file = tmp_path / "jy_pulled.gpkg"
    code, out, err = cli("db", "pull", city_url, str(out_file), "--county", JINGYUAN)
    assert code == 0, err
    with Project.open(out_file, readonly=True) as p:
        assert p.counties() == [(JINGYUAN, "靖远县")] and p.place == JINGYUAN and p.metric_epsg == 4544
        names = sorted(p.read_table("enterprises")["name"])
    with Project.open(jingyuan_path, readonly=True) as p:
        assert names == sorted(p.read_table("enterprises")["name"])
    code, out, err = cli("db", "pull", city_url, str(tmp_path / "x.gpkg"), "--county", "620423")
    assert code == 2 and "620423" in err


@pg
def test_city_counts_equal_the_sum_of_the_counties(city_url, demo_path, jingyuan_path, cli):
    from riskmap.stats import city_stats, project_stats

    with Project.open(city_url, readonly=True) as p:
        by_county = city_stats(p, by="county").set_index("county")
        by_town = city_stats(p, by="town")
    with Project.open(demo_path, readonly=True) as f:
        hn = project_stats(f)
    with Project.open(jingyuan_path, readonly=True) as f:
        jy = project_stats(f)
    for code, st in ((HUINING, hn), (JINGYUAN, jy)):
        for k in ("1", "2", "3", "4", "none"):
            assert by_county.loc[code, k] == st["by_level"][k], (code, k)
        assert by_county.loc[code, "total"] == st["enterprises"]
        towns = by_town[by_town["county"] == code].set_index("name")
        for town, row in st["by_town"].items():
            for k in ("1", "2", "3", "4", "none", "total"):
                assert towns.loc[town, k] == row[k], (code, town, k)
    # 靖远 by hand: 西 1, 2, 4, 4, 未评估; 东 3, 3, 4, 1
    assert by_county.loc[JINGYUAN, ["1", "2", "3", "4", "none", "total"]].tolist() == [2, 1, 2, 3, 1, 9]
    total = hn["enterprises"] + 9
    assert int(by_county["total"].sum()) == total
    code, out, err = cli("stats", city_url, "--by", "county", "--json")
    assert code == 0, err
    data = __import__("json").loads(out)
    assert data["total"]["total"] == total and [r["county"] for r in data["rows"]] == [JINGYUAN, HUINING]


# ---- PostgreSQL: a county editor ----------------------------------------------------------------------
PW = "Jy-5k!pass"


def _jy_login(pg_server, city_url, cli, user: str, role: str) -> str:
    """A login ``user`` with ``role`` limited to 靖远县 (granted through the CLI): its URL for the city database."""
    import io

    mp = pytest.MonkeyPatch()
    mp.setattr("sys.stdin", io.StringIO(PW + "\n"))
    try:
        code, out, err = cli("db", "grant", city_url, "--user", user, "--role", role,
                             "--county", JINGYUAN, "--create", "--password-stdin")
    finally:
        mp.undo()
    assert code == 0, err
    assert JINGYUAN in out
    return pg_server.url(make_url(city_url).database, user, PW)


@pytest.fixture
def jy_editor_url(pg_server, city_url, cli):
    """A login limited to 靖远县 (granted through the CLI), and its URL for the city database."""
    return _jy_login(pg_server, city_url, cli, "jy_editor", "editor")


def _ent(conn, county):
    return conn.execute(text("SELECT id, name FROM enterprises WHERE county = :c ORDER BY id LIMIT 1"),
                        {"c": county}).one()


@pg
def test_a_county_editor_cannot_change_another_county_even_with_raw_sql(city_url, jy_editor_url, cli):
    with Project.open(city_url, readonly=True) as owner, owner.engine.connect() as conn:
        hn_id, hn_name = _ent(conn, HUINING)
        jy_id, _ = _ent(conn, JINGYUAN)
        n_hn = conn.execute(text("SELECT count(*) FROM enterprises WHERE county = :c"), {"c": HUINING}).scalar()
    with Project.open(jy_editor_url) as p:
        perms = p.permissions()
        assert perms.counties == (JINGYUAN,) and perms.edit_features
        assert perms.may_write_county(JINGYUAN) and not perms.may_write_county(HUINING)
        assert "限区县 620421" in perms.summary()
        # another county's rows: an UPDATE changes none, a DELETE removes none, an INSERT is refused
        assert p.execute("UPDATE enterprises SET name = '篡改' WHERE id = :i", i=hn_id).rowcount == 0
        assert p.execute("UPDATE enterprises SET name = '篡改' WHERE county = :c", c=HUINING).rowcount == 0
        assert p.execute("DELETE FROM hidden_danger_events WHERE county = :c", c=HUINING).rowcount == 0
        assert p.execute("DELETE FROM enterprise_lists WHERE county = :c", c=HUINING).rowcount == 0
        with pytest.raises(RiskmapError, match="只能修改本人区县（620421）"):
            p.execute("INSERT INTO enterprises (name, industry, county, major_hazard, qr_id, version, created_at, "
                      "updated_at) VALUES ('越界企业', 'gas_station', :c, false, 'qr-x', 1, now(), now())", c=HUINING)
        with pytest.raises(RiskmapError):  # nor may he move his own row into the other county
            p.execute("UPDATE enterprises SET county = :c WHERE id = :i", c=HUINING, i=jy_id)
        # a new feature placed in 会宁 gets 会宁's county from the boundary, and is refused
        hn_point = shapely.Point(105.05, 35.7)
        with pytest.raises(RiskmapError), p.session() as s:
            s.add(Enterprise(name="越界新企业", industry="gas_station", geom=hn_point))
        # an ORM edit of another county's enterprise, the way the UI saves: refused, and said why
        with pytest.raises(RiskmapError, match="只能修改本人区县"), p.session() as s:
            s.get(Enterprise, hn_id).name = "篡改"
        # bypassing the app: the database itself
        with p.engine.connect() as conn:
            assert conn.exec_driver_sql(f"DELETE FROM enterprises WHERE id = {hn_id}").rowcount == 0
            conn.rollback()
        # his own county: all three work (the same raw INSERT with his county goes in)
        p.execute("INSERT INTO enterprises (name, industry, county, major_hazard, qr_id, version, created_at, "
                  "updated_at) VALUES ('靖远原始企业', 'gas_station', :c, false, 'qr-y', 1, now(), now())", c=JINGYUAN)
        assert p.execute("UPDATE enterprises SET name = '靖远改名企业' WHERE id = :i", i=jy_id).rowcount == 1
        with p.session() as s:
            e = Enterprise(name="靖远编辑新企业", industry="gas_station", geom=shapely.Point(104.7, 36.6))
            s.add(e)
        with p.engine.connect() as conn:
            assert conn.execute(text("SELECT county FROM enterprises WHERE id = :i"), {"i": e.id}).scalar() == JINGYUAN
        assert p.execute("DELETE FROM enterprises WHERE id = :i", i=e.id).rowcount == 1
    with Project.open(city_url, readonly=True) as owner, owner.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM enterprises WHERE id = :i"), {"i": hn_id}).scalar() == hn_name
        assert conn.execute(text("SELECT count(*) FROM enterprises WHERE county = :c"), {"c": HUINING}).scalar() == n_hn
        assert conn.execute(text("SELECT name FROM enterprises WHERE id = :i"), {"i": jy_id}).scalar() == "靖远改名企业"
        assert not conn.execute(text("SELECT 1 FROM enterprises WHERE name IN ('越界企业', '越界新企业')")).first()
        assert conn.execute(text("SELECT county FROM enterprises WHERE name = '靖远原始企业'")).scalar() == JINGYUAN
    code, out, err = cli("db", "roles", city_url)
    assert code == 0 and "jy_editor" in out and "靖远县 620421" in out


@pg
def test_an_editor_without_a_county_limit_edits_every_county(pg_server, city_url, cli):
    import io

    db = make_url(city_url).database
    mp = pytest.MonkeyPatch()
    mp.setattr("sys.stdin", io.StringIO(PW + "\n"))
    try:
        code, out, err = cli("db", "grant", city_url, "--user", "all_editor", "--role", "editor", "--create",
                             "--password-stdin")
    finally:
        mp.undo()
    assert code == 0, err
    with Project.open(pg_server.url(db, "all_editor", PW)) as p:
        assert p.permissions().counties is None
        for county in (HUINING, JINGYUAN):
            assert p.execute("UPDATE enterprises SET address = '已核实' WHERE county = :c", c=county).rowcount > 0
    # a county limit on a viewer or an unknown county is refused with the reason
    code, out, err = cli("db", "grant", city_url, "--user", "all_editor", "--role", "viewer", "--county", HUINING)
    assert code == 2 and "editor" in err
    code, out, err = cli("db", "grant", city_url, "--user", "all_editor", "--role", "editor", "--county", "620423")
    assert code == 2 and "620423" in err


# ---- PostgreSQL: 4 → 5 --------------------------------------------------------------------------------
DOWNGRADE_5 = "\n".join(  # the database as riskmap 4 left it: no policies, trigger, county columns or tables
    [f"DROP POLICY IF EXISTS riskmap_{w} ON {t};" for t in COUNTY_TABLES for w in ("read", "insert", "update", "delete")]
    + [f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY; DROP TRIGGER IF EXISTS riskmap_county_fill ON {t}; "
       f"ALTER TABLE {t} DROP COLUMN county;" for t in COUNTY_TABLES]
    + ["DROP TABLE counties; DROP TABLE county_grants; DROP FUNCTION riskmap_may_write(text); "
       "DROP FUNCTION riskmap_county_fallback();"]
    + [f"DROP FUNCTION riskmap_county_fill_{t}();" for t in COUNTY_TABLES]
    + [
       "UPDATE project_meta SET value = '4' WHERE key = 'schema_version';"])


@pg
def test_postgis_4_to_5(pg_server, pg_demo_url):
    db = make_url(pg_demo_url).database
    pg_server.sql(DOWNGRADE_5, database=db)
    sql = lambda s: pg_server.sql(s, database=db)  # noqa: E731
    n = sql("SELECT count(*) FROM enterprises")[0][0]
    assert sql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'county'") == [(0,)]
    with Project.open(pg_demo_url) as p:
        assert p.schema_version == 5 and p.counties() == [(HUINING, "会宁县")]
    for t in COUNTY_TABLES:
        assert sql(f"SELECT count(*) FILTER (WHERE county = '{HUINING}'), count(*) FROM {t}")[0][0] == \
            sql(f"SELECT count(*) FROM {t}")[0][0], t
    assert sql("SELECT count(*) FROM enterprises WHERE county = '620422'") == [(n,)]
    assert sql("SELECT bool_and(relrowsecurity) FROM pg_class WHERE relname = ANY(%(t)s)"
               .replace("%(t)s", "ARRAY[" + ", ".join(f"'{t}'" for t in COUNTY_TABLES) + "]")) == [(True,)]
    # the column has no default left: a new row gets its county from the trigger
    with Project.open(pg_demo_url) as p, p.session() as s:
        s.add(Enterprise(name="示例升级后新企业", industry="gas_station", geom=shapely.Point(105.05, 35.7)))
    assert sql("SELECT county FROM enterprises WHERE name = '示例升级后新企业'") == [(HUINING,)]
    assert sql("SELECT column_default FROM information_schema.columns WHERE table_name = 'enterprises' "
               "AND column_name = 'county'") == [(None,)]


@pg
def test_postgis_failed_upgrade_to_5_changes_nothing(pg_server, pg_demo_url, monkeypatch):
    from riskmap.store import counties

    db = make_url(pg_demo_url).database
    pg_server.sql(DOWNGRADE_5, database=db)

    def fail(conn):
        raise RiskmapError("迁移失败", "migration failed")

    monkeypatch.setattr(counties, "pg_setup", fail)  # after the columns were added and filled
    with pytest.raises(RiskmapError):
        Project.open(pg_demo_url)
    assert pg_server.sql("SELECT count(*) FROM information_schema.columns WHERE column_name = 'county'",
                         database=db) == [(0,)]
    assert pg_server.sql("SELECT value FROM project_meta WHERE key = 'schema_version'", database=db) == [("4",)]


@pg
def test_city_zoning_grades_every_county_and_their_towns(city_url):
    """Zoning at city level runs over all counties' towns at once and grades the counties themselves (unit
    county); an unlocated enterprise counts in the county its row belongs to."""
    from riskmap.grading.zoning import zone_project

    with Project.open(city_url) as p:
        unl = p.execute("INSERT INTO enterprises (name, industry, county, level, major_hazard, qr_id, version, "
                        "created_at, updated_at) VALUES ('靖远未定位企业', 'gas_station', :c, 1, false, 'qr-unl', 1, "
                        "now(), now()) RETURNING id",
                        c=JINGYUAN).scalar()
        towns = zone_project(p, "town", "max")
        counties = zone_project(p, "county", "max")
        with p.engine.connect() as conn:
            n_towns = conn.execute(text("SELECT count(*) FROM zones WHERE kind = 'town'")).scalar()
            zone_county = dict(conn.execute(text("SELECT id, county FROM zones WHERE kind = 'county'")).all())
            decided = conn.execute(text("SELECT z.county FROM zone_decisions d JOIN zones z ON z.id = d.zone_id "
                                        "WHERE z.kind = 'county' AND d.object_id = :e"), {"e": unl}).scalars().all()
    assert len(towns.zones) == n_towns and {z.name for z in towns.zones} >= {"靖远西镇", "靖远东镇"}
    level = {z.name: z.level for z in towns.zones}
    assert level["靖远西镇"] == 1 and level["靖远东镇"] == 1  # each holds a 重大 enterprise (西企业1, 东企业4)
    assert sorted(zone_county[z.id] for z in counties.zones) == [JINGYUAN, HUINING]
    assert all(z.level == 1 for z in counties.zones)
    assert decided == [JINGYUAN]


@pg
def test_a_county_assessor_bulk_inserts_hostile_text_through_row_security(pg_server, city_url, cli):
    """A county-limited assessor's bulk insert goes row by row through the policies (no COPY): text with quotes,
    backslashes, commas, braces, NULL-like text and control characters arrives exactly; a row of another
    county is refused."""
    from riskmap.store.project import bulk_insert

    url = _jy_login(pg_server, city_url, cli, "jy_assessor", "assessor")
    with Project.open(city_url, readonly=True) as owner, owner.engine.connect() as conn:
        jy = conn.execute(text("SELECT id FROM zones WHERE county = :c ORDER BY id LIMIT 3"), {"c": JINGYUAN}).scalars().all()
        hn = conn.execute(text("SELECT id FROM zones WHERE county = :c LIMIT 1"), {"c": HUINING}).scalar()
    notes = ['他说"好"', "C:\\temp\\", "a,b", "{x}", "NULL", "", "\t\n\r", None, '{"}']
    with Project.open(url) as p:
        with p.session(history=False) as s:
            conn = s.connection()
            assert conn.execute(text("SELECT row_security_active('zone_decisions')")).scalar()
            bulk_insert(conn, "zone_decisions", {"zone_id": [jy[i % len(jy)] for i in range(len(notes))],
                                                 "rule": "rls", "object_table": "enterprises",
                                                 "object_id": list(range(800_000, 800_000 + len(notes))),
                                                 "object_level": 2, "note": notes})
        with pytest.raises(RiskmapError), p.session(history=False) as s:
            bulk_insert(s.connection(), "zone_decisions", {"zone_id": [hn], "rule": "rls", "object_id": [1],
                                                           "object_table": "enterprises"})
    with Project.open(city_url, readonly=True) as owner, owner.engine.connect() as conn:
        got = conn.execute(text("SELECT note, county, zone_id FROM zone_decisions WHERE rule = 'rls' ORDER BY object_id")).all()
    assert [r[0] for r in got] == notes
    assert {r[1] for r in got} == {JINGYUAN} and len(got) == len(notes)


def test_a_county_editor_cannot_zone_the_other_counties(jy_editor_url, city_url):
    """Zoning the city's towns as an editor limited to 靖远县 (its decisions written beside the reasons, its
    names read on another connection): the other county's levels and decisions are refused by the policies,
    the run fails and nothing is kept."""
    from riskmap.grading.zoning import zone_project

    def state():
        with Project.open(city_url, readonly=True) as owner, owner.engine.connect() as conn:
            return (conn.execute(text("SELECT count(*) FROM zone_decisions")).scalar(),
                    conn.execute(text("SELECT id, level, level_rule, level_reason FROM zones ORDER BY id")).all())

    before = state()
    with Project.open(jy_editor_url) as p:
        with pytest.raises(RiskmapError):
            zone_project(p, "town", "max")
    assert state() == before
