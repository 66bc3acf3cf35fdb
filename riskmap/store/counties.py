"""Counties in one store (schema 5): the ``county`` adcode of every county-owned row, the ``counties`` table,
how new rows get their county, and PostgreSQL row-level security limiting an editor to his counties.

A GeoPackage holds one county: its ``counties`` row is the project's place when that is a county (a city,
a province or no place: no row, and its rows' ``county`` stays NULL until a push keys them by a county).
New rows get the file's county from the model's column default (:func:`riskmap.model.entities.county_default`).

A PostgreSQL database may hold a city's counties (``riskmap db push`` of each county file). A BEFORE INSERT
trigger gives a new row without a county the county of its parent row (a risk point its enterprise's, a
history row the row it records), else the county whose boundary (``zones`` kind ``county``) holds the
geometry, else the database's only county, else the session's ``riskmap.county`` setting, else the only
county the user may write — so editing code never names a county.

Row-level security: every county-owned table has SELECT open to all riskmap roles and INSERT / UPDATE /
DELETE policies ``riskmap_may_write(county)``; the function (SECURITY DEFINER) reads ``county_grants``
(user → counties): a user without rows there writes every county (today's behaviour, admins, the owner).

>>> is_county_code("341502"), is_county_code("341500"), is_county_code("34150x")
(True, False, False)
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

from riskmap.errors import RiskmapError
from riskmap.model import COUNTY_TABLES

GRANTS = "county_grants"
# the model's index (riskmap.model.entities.Enterprise): city statistics by county read it alone
COUNTY_LEVEL_INDEX = "CREATE INDEX IF NOT EXISTS ix_enterprises_county_level ON enterprises (county, level)"

# where a child row finds its county: (its column holding the parent's id, the parent table), tried in order;
# "geom": the county boundary holding the geometry; "history": the row an edit_history row records
FILL_FROM: dict[str, tuple[tuple[str, str] | str, ...]] = {
    "zones": (("parent_id", "zones"), "geom"),
    "zone_decisions": (("zone_id", "zones"),),
    "enterprises": (("zone_id", "zones"), "geom"),
    "enterprise_lists": (("enterprise_id", "enterprises"),),
    "risk_points": (("enterprise_id", "enterprises"), "geom"),
    "substances": (("risk_point_id", "risk_points"),),
    "assessments": (("enterprise_id", "enterprises"), ("risk_point_id", "risk_points")),
    "protected_targets": ("geom",),
    "control_lines": (("enterprise_id", "enterprises"), ("park_zone_id", "zones"), "geom"),
    "safety_distances": (("enterprise_id", "enterprises"), ("risk_point_id", "risk_points")),
    "risk_contours": (("enterprise_id", "enterprises"), "geom"),
    "lifelines": ("geom",),
    "lifeline_points": ("geom",),
    "emergency_resources": ("geom",),
    "hidden_dangers": (("enterprise_id", "enterprises"), "geom"),
    "hidden_danger_events": (("danger_id", "hidden_dangers"),),
    "indicators": (),
    "indicator_actuals": (("indicator_id", "indicators"),),
    "edit_history": ("history",),
    "plant_plans": (("enterprise_id", "enterprises"),),
}
assert set(FILL_FROM) == set(COUNTY_TABLES), set(FILL_FROM) ^ set(COUNTY_TABLES)


def is_county_code(code) -> bool:
    """A 6-digit adcode of a county-level division (not a city's or province's ``xxxx00``)."""
    return isinstance(code, str) and bool(re.fullmatch(r"\d{6}", code)) and not code.endswith("00")


def county_of_place(place: str | None):
    """The gazetteer Division of ``place`` when it is a county-level division, else None."""
    from riskmap.gazetteer import division

    if not place or not re.fullmatch(r"\d{6}", str(place)):
        return None
    try:
        d = division(place)
    except Exception:  # not in the gazetteer
        return None
    return d if d.level == "county" else None


def file_county(place: str | None, metric_epsg: int | None = None, source: str | None = None) -> dict | None:
    """The ``counties`` row of a file whose place is ``place`` (None when that is not a county)."""
    d = county_of_place(place)
    if d is None:
        return None
    return {"adcode": d.adcode, "name": d.name, "metric_epsg": metric_epsg or d.epsg, "pushed_at": None,
            "pushed_by": None, "source": source}


def list_counties(conn: Connection) -> list[tuple[str, str]]:
    """(adcode, name) of the counties the store holds, by adcode ([] for a store of schema 4)."""
    if conn.dialect.name == "postgresql":
        there = conn.execute(text("SELECT to_regclass('counties') IS NOT NULL")).scalar()
    else:
        there = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'counties'").first() is not None
        there = there or conn.exec_driver_sql("SELECT 1 FROM sqlite_temp_master WHERE name = 'counties'").first()
    if not there:
        return []
    return [(a, n) for a, n in conn.execute(text("SELECT adcode, name FROM counties ORDER BY adcode"))]


def own_county(conn: Connection) -> str | None:
    """The county a GeoPackage's new rows belong to (its only ``counties`` row), for writers that bypass the
    model's column default (bulk inserts); None on PostgreSQL (its trigger decides) or without one."""
    if conn.dialect.name != "sqlite":
        return None
    from riskmap.model.entities import county_default

    class _Ctx:
        connection = conn

    return county_default(_Ctx())


def with_county(conn: Connection, table: str, values: dict) -> dict:
    """``values`` (column → sequence or scalar, for a bulk insert into ``table``) with the file's county added
    when the table is county-owned and the caller did not name one."""
    if table in COUNTY_TABLES and "county" not in values:
        own = own_county(conn)
        if own is not None:
            return {**values, "county": own}
    return values


# ---- GeoPackage ----------------------------------------------------------------------------------
def sqlite_add_columns(conn: Connection, place: str | None) -> None:
    """4 → 5 on a GeoPackage: ``county`` on every county-owned table (existing rows read the file's county:
    ``ADD COLUMN … DEFAULT``, which rewrites no row — an UPDATE would also trip the immutable assessments),
    its index, and the ``counties`` table with the file's county. Safe to run again."""
    from riskmap.model import County
    from riskmap.store.gpkg import _identifier, now_iso

    row = file_county(place, _int(conn, "metric_epsg"))
    code = row["adcode"] if row else None
    for t in COUNTY_TABLES:
        have = {r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({t})")}
        if "county" not in have:
            default = f" DEFAULT '{code}'" if code else ""  # a checked 6-digit code, not user text
            conn.exec_driver_sql(f"ALTER TABLE {t} ADD COLUMN county TEXT{default}")
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{t}_county ON {t} (county)")
    conn.exec_driver_sql(COUNTY_LEVEL_INDEX)
    County.__table__.create(conn, checkfirst=True)
    if row and not conn.exec_driver_sql("SELECT 1 FROM counties").first():
        conn.execute(County.__table__.insert().values(**row))
    cur = conn.connection.driver_connection.cursor()
    cur.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change)"
                " VALUES (?, 'attributes', ?, ?, ?)",
                ("counties", _identifier("counties"), (County.__doc__ or "").strip().splitlines()[0], now_iso()))


def _int(conn, key: str) -> int | None:
    v = conn.exec_driver_sql(f"SELECT value FROM project_meta WHERE key = '{key}'").scalar()
    try:
        return int(v) if v else None
    except ValueError:
        return None


def sqlite_read_as_5(dbapi_conn) -> None:
    """A GeoPackage of schema 4 opened read-only reads as schema 5 (temporary views shadowing its tables,
    nothing written): each county-owned row with the file's county, ``counties`` with its one row."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateTable

    from riskmap.model import County

    place = (dbapi_conn.execute("SELECT value FROM main.project_meta WHERE key = 'place'").fetchone() or [None])[0]
    row = file_county(place)
    value = f"'{row['adcode']}'" if row else "NULL"
    for t in COUNTY_TABLES:
        have = {r[1] for r in dbapi_conn.execute(f"PRAGMA main.table_info({t})")}
        if not have or "county" in have:
            continue
        old = dbapi_conn.execute("SELECT sql FROM temp.sqlite_master WHERE type = 'view' AND name = ?", (t,)).fetchone()
        if old:  # an earlier step's view (3 → 4): extend it
            body = re.sub(r"(?is)^\s*CREATE\s+(?:(?:TEMP|TEMPORARY)\s+)?VIEW\s+(IF\s+NOT\s+EXISTS\s+)?\w+\s+AS\s+", "", old[0])
            if re.search(r"\bcounty\b", body):
                continue
            dbapi_conn.execute(f"DROP VIEW temp.{t}")
            dbapi_conn.execute(f"CREATE TEMP VIEW {t} AS SELECT *, {value} AS county FROM ({body})")
        else:
            dbapi_conn.execute(f"CREATE TEMP VIEW IF NOT EXISTS {t} AS SELECT *, {value} AS county FROM main.{t}")
    if not dbapi_conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'counties'").fetchone():
        ddl = str(CreateTable(County.__table__).compile(dialect=sqlite.dialect()))
        dbapi_conn.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE IF NOT EXISTS", 1))
        if row and not dbapi_conn.execute("SELECT 1 FROM temp.counties").fetchone():
            dbapi_conn.execute("INSERT INTO temp.counties (adcode, name, metric_epsg) VALUES (?, ?, ?)",
                               (row["adcode"], row["name"], row["metric_epsg"]))


# ---- PostgreSQL: filling the county of new rows ---------------------------------------------------
FALLBACK_FUNCTION = """
CREATE OR REPLACE FUNCTION riskmap_county_fallback() RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE c text; n int;
BEGIN
  SELECT count(*), min(adcode) INTO n, c FROM counties;
  IF n = 1 THEN RETURN c; END IF;
  c := nullif(current_setting('riskmap.county', true), '');
  IF c IS NOT NULL THEN RETURN c; END IF;
  SELECT min(county), count(*) INTO c, n FROM county_grants WHERE usename = session_user;
  IF n = 1 THEN RETURN c; END IF;
  RETURN NULL;
END $$;
"""


def _fill_function(table: str, how) -> str:
    """One trigger function per table, its lookups written out (static SQL: plans cached per session, ~10×
    cheaper per row than a generic function building its queries)."""
    steps = []
    for h in how:
        if h == "geom":
            steps.append("""  IF NEW.county IS NULL AND NEW.geom IS NOT NULL AND NOT ST_IsEmpty(NEW.geom) THEN
    SELECT z.county INTO NEW.county FROM zones z WHERE z.kind = 'county' AND z.county IS NOT NULL
      AND z.geom && NEW.geom AND ST_Intersects(z.geom, ST_PointOnSurface(NEW.geom)) ORDER BY z.county LIMIT 1;
  END IF;""")
        elif h == "history":
            steps.append(f"""  IF NEW.county IS NULL AND NEW.row_id IS NOT NULL AND NEW.table_name = ANY(ARRAY[{', '.join(f"'{t}'" for t in COUNTY_TABLES)}]) THEN
    EXECUTE format('SELECT county FROM %%I WHERE id = $1', NEW.table_name) INTO NEW.county USING NEW.row_id;
  END IF;""")
        else:
            col, parent = h
            steps.append(f"""  IF NEW.county IS NULL AND NEW.{col} IS NOT NULL THEN
    SELECT county INTO NEW.county FROM {parent} WHERE id = NEW.{col};
  END IF;""")
    body = "\n".join(steps)
    return f"""
CREATE OR REPLACE FUNCTION riskmap_county_fill_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.county IS NOT NULL OR current_setting('riskmap.copy_history', true) = 'on' THEN RETURN NEW; END IF;
{body}
  IF NEW.county IS NULL THEN NEW.county := riskmap_county_fallback(); END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS riskmap_county_fill ON {table};
CREATE TRIGGER riskmap_county_fill BEFORE INSERT ON {table} FOR EACH ROW WHEN (NEW.county IS NULL)
  EXECUTE FUNCTION riskmap_county_fill_{table}();
"""


def fill_ddl() -> str:
    """The county-filling trigger of every county-owned table (idempotent): the parent row's county, else the
    county boundary holding the geometry, else :data:`FALLBACK_FUNCTION` (the only county, the session's
    ``riskmap.county``, the only county the user may write)."""
    return FALLBACK_FUNCTION + "".join(_fill_function(t, how) for t, how in FILL_FROM.items())


FILL_FUNCTIONS = tuple(f"riskmap_county_fill_{t}" for t in FILL_FROM) + ("riskmap_county_fallback",)


# ---- PostgreSQL: row-level security ---------------------------------------------------------------
MAY_WRITE = f"""
CREATE TABLE IF NOT EXISTS {GRANTS} (usename text NOT NULL, county text NOT NULL, PRIMARY KEY (usename, county));
CREATE OR REPLACE FUNCTION riskmap_may_write(c text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp AS $$
  SELECT NOT EXISTS (SELECT 1 FROM {GRANTS} WHERE usename = session_user)
      OR EXISTS (SELECT 1 FROM {GRANTS} WHERE usename = session_user AND county = c)
$$;
"""


def rls_ddl() -> str:
    """Row-level security on every county-owned table (idempotent). The history accepts rows whose county
    could not be told (a deleted row's history): it names its user by the server anyway."""
    out = [MAY_WRITE]
    for t in COUNTY_TABLES:
        check = "county IS NULL OR riskmap_may_write(county)" if t == "edit_history" else "riskmap_may_write(county)"
        out += [f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;",
                f"DROP POLICY IF EXISTS riskmap_read ON {t};",
                f"CREATE POLICY riskmap_read ON {t} FOR SELECT USING (true);",
                f"DROP POLICY IF EXISTS riskmap_insert ON {t};",
                f"CREATE POLICY riskmap_insert ON {t} FOR INSERT WITH CHECK ({check});",
                f"DROP POLICY IF EXISTS riskmap_update ON {t};",
                f"CREATE POLICY riskmap_update ON {t} FOR UPDATE USING (riskmap_may_write(county)) "
                f"WITH CHECK (riskmap_may_write(county));",
                f"DROP POLICY IF EXISTS riskmap_delete ON {t};",
                f"CREATE POLICY riskmap_delete ON {t} FOR DELETE USING (riskmap_may_write(county));"]
    return "\n".join(out)


def pg_setup(conn: Connection) -> None:
    """The county triggers and row-level security of a database (schema 5; run by the tables' owner)."""
    conn.exec_driver_sql(MAY_WRITE)
    conn.exec_driver_sql(fill_ddl())
    conn.exec_driver_sql(rls_ddl())


def pg_add_columns(conn: Connection) -> None:
    """4 → 5 on PostgreSQL: ``county`` on every county-owned table, filled with the database's place when it is
    a county (``ADD COLUMN … DEFAULT`` then ``DROP DEFAULT``: existing rows keep the value, none is rewritten —
    an UPDATE would trip the immutable assessments), its index, ``counties``, triggers and row-level security."""
    from riskmap.model import County

    place = conn.exec_driver_sql("SELECT value FROM project_meta WHERE key = 'place'").scalar()
    epsg = conn.exec_driver_sql("SELECT value FROM project_meta WHERE key = 'metric_epsg'").scalar()
    row = file_county(place, int(epsg) if epsg and str(epsg).isdigit() else None)
    code = row["adcode"] if row else None
    for t in COUNTY_TABLES:
        have = conn.execute(text("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                                 "AND table_name = :t AND column_name = 'county'"), {"t": t}).scalar()
        if not have:
            if code:
                conn.exec_driver_sql(f"ALTER TABLE {t} ADD COLUMN county text DEFAULT '{code}'")
                conn.exec_driver_sql(f"ALTER TABLE {t} ALTER COLUMN county DROP DEFAULT")
            else:
                conn.exec_driver_sql(f"ALTER TABLE {t} ADD COLUMN county text")
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{t}_county ON {t} (county)")
    conn.exec_driver_sql(COUNTY_LEVEL_INDEX)
    County.__table__.create(conn, checkfirst=True)
    if row and not conn.exec_driver_sql("SELECT 1 FROM counties").first():
        conn.execute(County.__table__.insert().values(**row))
    pg_setup(conn)


# ---- who may write which counties -----------------------------------------------------------------
def parse_counties(values) -> list[str]:
    """Adcodes from ``--county`` values (repeatable, or comma lists), checked to be county codes.

    >>> parse_counties(["341502,341503", "341502", " 341522 "])
    ['341502', '341503', '341522']
    """
    out: list[str] = []
    for v in values or ():
        for part in str(v).replace("，", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not is_county_code(part):
                raise RiskmapError(f"区县代码应为 6 位县级行政区划代码: {part}",
                                   f"a county must be a 6-digit county adcode: {part}", where="--county")
            if part not in out:
                out.append(part)
    return out


def set_user_counties(conn: Connection, user: str, counties: list[str] | None) -> None:
    """Limit ``user``'s writes to ``counties`` (None or []: no limit), checked against the database's counties."""
    if not conn.execute(text(f"SELECT to_regclass('{GRANTS}') IS NOT NULL")).scalar():
        if counties:
            raise RiskmapError("数据库结构版本过旧：请数据库所有者先打开一次（升级到结构版本 5）",
                               "the database schema is too old: its owner must open it once first (schema 5)")
        return
    if counties:
        held = {a for a, _ in list_counties(conn)}
        missing = [c for c in counties if c not in held]
        if missing:
            raise RiskmapError(f"数据库中没有这些区县: {', '.join(missing)}（已有: {', '.join(sorted(held)) or '无'}）",
                               f"the database holds no such county: {', '.join(missing)} "
                               f"(it holds: {', '.join(sorted(held)) or 'none'})", where="--county")
    conn.execute(text(f"DELETE FROM {GRANTS} WHERE usename = :u"), {"u": user})
    for c in counties or ():
        conn.execute(text(f"INSERT INTO {GRANTS} (usename, county) VALUES (:u, :c)"), {"u": user, "c": c})


def user_counties(conn: Connection, user: str | None = None) -> tuple[str, ...] | None:
    """The counties ``user`` (default: the session user) may write; None: all of them."""
    if not conn.execute(text(f"SELECT to_regclass('{GRANTS}') IS NOT NULL")).scalar():
        return None
    rows = conn.execute(text(f"SELECT county FROM {GRANTS} WHERE usename = coalesce(:u, session_user) ORDER BY county"),
                        {"u": user}).scalars().all()
    return tuple(rows) or None


def all_user_counties(conn: Connection) -> dict[str, tuple[str, ...]]:
    """user → the counties he is limited to (users without a limit are absent)."""
    if not conn.execute(text(f"SELECT to_regclass('{GRANTS}') IS NOT NULL")).scalar():
        return {}
    out: dict[str, list[str]] = {}
    for u, c in conn.execute(text(f"SELECT usename, county FROM {GRANTS} ORDER BY usename, county")):
        out.setdefault(u, []).append(c)
    return {u: tuple(cs) for u, cs in out.items()}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
