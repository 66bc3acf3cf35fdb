"""Schema versions of the project file and the steps between them.

The version lives in ``project_meta`` under ``schema_version``. Each step is a function that
takes a SQLAlchemy Connection inside the open transaction and upgrades by exactly one version.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from riskmap.errors import RiskmapError
from riskmap.store.gpkg import describe
from riskmap.store.history import HISTORY_STAMP

SCHEMA_VERSION = 5


def _history_stamped_by_server(conn: Connection) -> None:
    """1 → 2: on PostgreSQL the server names the user and time of each history row (a trigger), so an
    editor cannot write history in someone else's name. A GeoPackage has one local user: nothing to do."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(HISTORY_STAMP)


_history_stamped_by_server.dialects = ("postgresql",)



def _domains_and_styles(conn: Connection) -> None:
    """2 → 3: a GeoPackage gains coded-value field domains and riskmap's default QGIS styles (``layer_styles``),
    so QGIS and ArcGIS show words and the four colours; and the columns pointing at ``zones.id`` are indexed (a
    removed zone is looked up in each of them: a full scan per zone without an index). PostgreSQL keeps neither
    domains nor styles: nothing to do there."""
    if conn.dialect.name == "sqlite":
        describe(conn.connection.driver_connection.cursor())
        for table, col in ZONE_REFERENCES:
            conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{table}_{col} ON {table} ({col})")


# Columns pointing at zones.id; the model indexes them too (ix_<table>_<column>)
ZONE_REFERENCES = (("zones", "parent_id"), ("enterprises", "zone_id"), ("control_lines", "park_zone_id"))

_domains_and_styles.dialects = ("sqlite",)
_domains_and_styles.needed_to_read = False  # riskmap itself reads neither: an old file still opens read-only

# schema 4: the columns risk points gained (all TEXT; ``signs`` holds a JSON list)
RISK_POINT_COLUMNS_4 = ("category", "hazard_factors", "accident_types", "control_measures", "emergency_measures",
                        "responsible_person", "responsible_phone", "signs")


def _plant_layouts(conn: Connection) -> None:
    """3 → 4: risk points become points or areas (geometry type GEOMETRY) with a category and the content of
    their 风险告知卡; enterprises gain a georeferenced plant layout (``plant_plans``). Safe to run again on a
    store that has them already."""
    from riskmap.model import PlantPlan

    if conn.dialect.name == "sqlite":
        have = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(risk_points)")}
        for col in RISK_POINT_COLUMNS_4:
            if col not in have:
                conn.exec_driver_sql(f"ALTER TABLE risk_points ADD COLUMN {col} TEXT")
        conn.exec_driver_sql("UPDATE gpkg_geometry_columns SET geometry_type_name = 'GEOMETRY'"
                             " WHERE table_name = 'risk_points' AND column_name = 'geom'")
        PlantPlan.__table__.create(conn, checkfirst=True)
        cur = conn.connection.driver_connection.cursor()
        from riskmap.store.gpkg import _identifier, now_iso

        cur.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change)"
                    " VALUES (?, 'attributes', ?, ?, ?)",
                    ("plant_plans", _identifier("plant_plans"), (PlantPlan.__doc__ or "").strip().splitlines()[0],
                     now_iso()))
        describe(cur)  # the new coded column (category) gets its domain
        return
    from riskmap.store.notices import QUIET_TABLES, notify_triggers
    from riskmap.store.roles import grant_privileges

    conn.exec_driver_sql("ALTER TABLE risk_points ALTER COLUMN geom TYPE geometry(GEOMETRY, 4490)")
    for col in RISK_POINT_COLUMNS_4:
        conn.exec_driver_sql(f"ALTER TABLE risk_points ADD COLUMN IF NOT EXISTS {col} TEXT")
    PlantPlan.__table__.create(conn, checkfirst=True)
    if "plant_plans" not in QUIET_TABLES:
        conn.exec_driver_sql(notify_triggers("plant_plans", True))
    grant_privileges(conn)  # the roles' privileges on the new table and columns


def _plant_layouts_read_only(dbapi_conn) -> None:
    """A GeoPackage of schema 3 opened read-only reads as schema 4, each connection through temporary objects
    that shadow the file's own (SQLite looks in ``temp`` first; the file is not written): risk points with the
    new columns empty, and no plans."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateTable

    from riskmap.model import PlantPlan

    have = {r[1] for r in dbapi_conn.execute("PRAGMA main.table_info(risk_points)")}
    extra = ", ".join(f"NULL AS {c}" for c in RISK_POINT_COLUMNS_4 if c not in have)
    if extra:
        dbapi_conn.execute(f"CREATE TEMP VIEW IF NOT EXISTS risk_points AS SELECT *, {extra} FROM main.risk_points")
    if not dbapi_conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'plant_plans'").fetchone():
        ddl = str(CreateTable(PlantPlan.__table__).compile(dialect=sqlite.dialect()))
        dbapi_conn.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE IF NOT EXISTS", 1))


_plant_layouts.read_only = {"sqlite": _plant_layouts_read_only}

def _counties(conn: Connection) -> None:
    """4 → 5: counties in one store. Every county-owned table gains ``county`` (the 6-digit adcode, indexed;
    see riskmap.model.entities for which tables and why), its rows filled with the project's place when that
    is a county — a project whose place is a city, a province or none keeps NULL (its rows belong to no
    county until ``riskmap db push`` keys them; such a store lists no county). A ``counties`` table lists the
    counties held (one in a county's file). PostgreSQL also gains the trigger giving new rows their county
    and row-level security on every county-owned table (riskmap.store.counties). Safe to run again."""
    from riskmap.store import counties

    if conn.dialect.name == "sqlite":
        place = conn.exec_driver_sql("SELECT value FROM project_meta WHERE key = 'place'").scalar()
        counties.sqlite_add_columns(conn, place)
        return
    from riskmap.store.notices import QUIET_TABLES, notify_triggers
    from riskmap.store.roles import grant_privileges

    counties.pg_add_columns(conn)
    if "counties" not in QUIET_TABLES:
        conn.exec_driver_sql(notify_triggers("counties", False))
    grant_privileges(conn)


def _counties_read_only(dbapi_conn) -> None:
    from riskmap.store.counties import sqlite_read_as_5

    sqlite_read_as_5(dbapi_conn)


_counties.read_only = {"sqlite": _counties_read_only}

# MIGRATIONS[n] upgrades a project from version n to n + 1; a step's ``dialects`` names the stores it changes
# (all when absent), so a read-only open of a store that a step leaves alone needs no upgrade; nor does one
# whose steps are all ``needed_to_read = False`` (the version is bumped on the first write), or that can be
# read as upgraded without writing (``read_only``: dialect -> a function run on each new read-only connection).
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _history_stamped_by_server, 2: _domains_and_styles,
                                                       3: _plant_layouts, 4: _counties}


def pending(version: int) -> list[Callable[[Connection], None]]:
    """The steps that bring ``version`` up to SCHEMA_VERSION, in order."""
    return [MIGRATIONS[v] for v in range(version, SCHEMA_VERSION)]


def upgrade(engine: Engine, version: int, *, readonly: bool, where: str, what_zh: str = "项目文件",
            what_en: str = "project") -> None:
    """Refuse a newer schema; bring an older one up to SCHEMA_VERSION in one transaction."""
    from riskmap.model import ProjectMeta

    if version > SCHEMA_VERSION:
        raise RiskmapError(
            f"{what_zh}由更新版本的 riskmap 创建（结构版本 {version}，本程序支持 {SCHEMA_VERSION}），请升级 riskmap",
            f"{what_en} was made by a newer riskmap (schema {version}, this one reads {SCHEMA_VERSION}); upgrade riskmap")
    steps = pending(version)
    if not steps:
        return
    applies = [step for step in steps if engine.dialect.name in getattr(step, "dialects", ("sqlite", "postgresql"))]
    if not applies:
        # nothing changes in this store: it reads and writes as it is, and a later step that does change it
        # bumps the version (a shared database at 2 needs no owner's visit for a GeoPackage-only step)
        return
    dialect = engine.dialect.name
    shims = [getattr(step, "read_only", {}).get(dialect) for step in applies]
    if readonly and all(shim is not None or not getattr(step, "needed_to_read", True)
                        for step, shim in zip(applies, shims)):
        # riskmap reads the old file as it is (through the steps' read-only views); the first write upgrades it
        shims = [shim for shim in shims if shim is not None]
        if shims:
            @event.listens_for(engine, "connect")
            def _read_as_upgraded(dbapi_conn, _record):
                for shim in shims:
                    shim(dbapi_conn)

            engine.dispose()  # the connection already open reconnects with the views
        return
    if readonly:
        raise RiskmapError(f"{what_zh}需要升级结构，但以只读方式打开: {where}",
                           f"{what_en} needs a schema upgrade but was opened read-only: {where}")
    try:
        with engine.begin() as conn:
            for step in steps:
                step(conn)
            conn.execute(ProjectMeta.__table__.update().where(ProjectMeta.key == "schema_version")
                         .values(value=str(SCHEMA_VERSION)))
    except DBAPIError as exc:
        text = str(getattr(exc, "orig", None) or exc)
        if getattr(getattr(exc, "orig", None), "sqlstate", None) != "42501" and "must be owner" not in text:
            raise
        raise RiskmapError(
            f"{what_zh}需要升级结构（版本 {version} → {SCHEMA_VERSION}），当前用户无权升级；"
            f"请{what_zh}所有者（建立它的管理员）先打开一次: {where}",
            f"{what_en} needs a schema upgrade ({version} → {SCHEMA_VERSION}) this user may not make; "
            f"its owner (the administrator who created it) must open it once first: {where}") from exc
