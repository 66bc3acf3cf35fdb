"""GeoPackage (OGC 12-128r18) specifics: metadata tables, feature registration, R-tree index.

No SpatiaLite: geometry is a GeoPackage blob and the few SQL functions that the R-tree triggers
call (ST_MinX … ST_IsEmpty) are registered on every connection.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import struct
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from riskmap.model import FEATURE_CLASSES, MODEL_CLASSES, SRID
from riskmap.model.geometry import _ENVELOPE_DOUBLES, from_gpkg_blob
from riskmap.store import domains

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3 (R-tree triggers of 1.3; GDAL 3.6 warns on 1.4)
SQLITE_MAGIC = b"SQLite format 3\x00"

CGCS2000_WKT = (
    'GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",'
    'SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],'
    'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4490"]]'
)
WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)


def _envelope(blob):
    """(minx, maxx, miny, maxy) of a GeoPackage blob, from its header when it has one."""
    if blob is None:
        return None
    flags = blob[3]
    if flags & 0b10000:
        return None
    if _ENVELOPE_DOUBLES[(flags >> 1) & 0b111]:
        return struct.unpack_from("<4d" if flags & 1 else ">4d", blob, 8)
    geom = from_gpkg_blob(blob)
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def _st(index):
    def fn(blob):
        env = _envelope(blob)
        return None if env is None else env[index]
    return fn


def _st_is_empty(blob):
    if blob is None:
        return None
    return 1 if blob[3] & 0b10000 else 0


def register_functions(dbapi_conn) -> None:
    """The SQL functions GeoPackage R-tree triggers call, in plain Python."""
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        dbapi_conn.create_function(name, 1, _st(i), deterministic=True)
    dbapi_conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)


def install_connect_hooks(engine: Engine) -> None:
    """Register functions and pragmas on every new SQLite connection of ``engine``."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        register_functions(dbapi_conn)
        dbapi_conn.execute("PRAGMA foreign_keys = ON")

    # pysqlite's own transaction handling defers BEGIN; take it over so that a whole
    # import or edit is one real transaction (SQLAlchemy docs, "Serializable isolation").
    @event.listens_for(engine, "connect")
    def _no_autobegin(dbapi_conn, _record):
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


CORE_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
        scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
]

SRS_ROWS = [
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
    ("WGS 84 geodetic", 4326, "EPSG", 4326, WGS84_WKT, "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
    ("China Geodetic Coordinate System 2000", SRID, "EPSG", SRID, CGCS2000_WKT, "CGCS2000 (国家2000大地坐标系), longitude/latitude in degrees"),
]

RTREE_TRIGGERS = """
CREATE TRIGGER rtree_{t}_{c}_insert AFTER INSERT ON {t}
  WHEN (new.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  INSERT OR REPLACE INTO rtree_{t}_{c} VALUES (NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}));
END;
CREATE TRIGGER rtree_{t}_{c}_update1 AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  INSERT OR REPLACE INTO rtree_{t}_{c} VALUES (NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}));
END;
CREATE TRIGGER rtree_{t}_{c}_update2 AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM rtree_{t}_{c} WHERE id = OLD.{i};
END;
CREATE TRIGGER rtree_{t}_{c}_update3 AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM rtree_{t}_{c} WHERE id = OLD.{i};
  INSERT OR REPLACE INTO rtree_{t}_{c} VALUES (NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}));
END;
CREATE TRIGGER rtree_{t}_{c}_update4 AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM rtree_{t}_{c} WHERE id IN (OLD.{i}, NEW.{i});
END;
CREATE TRIGGER rtree_{t}_{c}_delete AFTER DELETE ON {t}
  WHEN old.{c} NOT NULL
BEGIN
  DELETE FROM rtree_{t}_{c} WHERE id = OLD.{i};
END;
"""

IMMUTABLE_ASSESSMENTS = """
CREATE TRIGGER IF NOT EXISTS assessments_immutable BEFORE UPDATE ON assessments
BEGIN
  SELECT RAISE(ABORT, 'assessments are immutable records');
END;
"""


def _identifier(table: str) -> str:
    from riskmap.store.names import TABLE_TITLES
    return TABLE_TITLES.get(table, table)


def initialize(dbapi_conn: sqlite3.Connection) -> None:
    """Turn a fresh SQLite database holding the model tables into a valid GeoPackage."""
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    cur.execute(f"PRAGMA user_version = {USER_VERSION}")
    for ddl in CORE_DDL:
        cur.execute(ddl)
    cur.executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", SRS_ROWS)
    stamp = now_iso()
    for cls in MODEL_CLASSES:
        t = cls.__tablename__
        data_type = "features" if cls.__geometry__ else "attributes"
        cur.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id)"
            " VALUES (?,?,?,?,?,?)",
            (t, data_type, _identifier(t), (cls.__doc__ or "").strip().splitlines()[0], stamp,
             SRID if cls.__geometry__ else None),
        )
    for cls in FEATURE_CLASSES:
        t = cls.__tablename__
        cur.execute("INSERT OR IGNORE INTO gpkg_geometry_columns VALUES (?,?,?,?,0,0)",
                    (t, "geom", cls.__geometry__, SRID))
        cur.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS rtree_{t}_geom USING rtree(id, minx, maxx, miny, maxy)")
        cur.executescript(RTREE_TRIGGERS.format(t=t, c="geom", i="id"))
        cur.execute(
            "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index',"
            " 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')", (t,))
    cur.executescript(IMMUTABLE_ASSESSMENTS)
    describe(cur)


def describe(cur) -> None:
    """What other GIS read from the file: Chinese column titles, coded-value domains, default QGIS styles."""
    _data_columns(cur)
    domains.write_all(cur)


def _data_columns(cur) -> None:
    """Chinese field names as GeoPackage data columns (gpkg_schema): GDAL and QGIS show them as aliases."""
    from riskmap.layers import load_catalogue

    cur.execute("""CREATE TABLE IF NOT EXISTS gpkg_data_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
        mime_type TEXT, constraint_name TEXT,
        CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
        CONSTRAINT gdc_tn UNIQUE (table_name, name))""")
    seen = set()
    for layer in load_catalogue().values():
        for f in layer.fields:
            if (layer.table, f.name) in seen:
                continue
            seen.add((layer.table, f.name))
            cur.execute("INSERT OR IGNORE INTO gpkg_data_columns (table_name, column_name, name, title) VALUES (?,?,?,?)",
                        (layer.table, f.name, f.zh, f.en))
    for ext_table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        cur.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema',"
                    " 'http://www.geopackage.org/spec/#extension_schema', 'read-write')", (ext_table,))
    cur.execute("""CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
        constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
        min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
        CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))""")


def refresh_contents(dbapi_conn: sqlite3.Connection, tables=None) -> None:
    """Update gpkg_contents extents (from the R-tree) and last_change for feature tables."""
    stamp = now_iso()
    cur = dbapi_conn.cursor()
    for cls in FEATURE_CLASSES:
        t = cls.__tablename__
        if tables is not None and t not in tables:
            continue
        row = cur.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_{t}_geom").fetchone()
        cur.execute("UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, last_change=? WHERE table_name=?",
                    (*row, stamp, t))
    domains.sync(cur)  # domains and styles follow the standards and layer files (no write when unchanged)


def sniff(path: Path) -> str:
    """'gpkg' for a GeoPackage, 'sqlite' for another SQLite file, else 'other' (reads 100 bytes)."""
    with open(path, "rb") as fh:
        head = fh.read(100)
    if not head.startswith(SQLITE_MAGIC) or len(head) < 72:
        return "other"
    app_id = struct.unpack(">I", head[68:72])[0]
    return "gpkg" if app_id == APPLICATION_ID else "sqlite"
