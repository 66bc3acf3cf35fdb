"""The shared-database backend: a project in PostgreSQL + PostGIS, opened from a SQLAlchemy URL.

The same tables as the GeoPackage store (``riskmap.model``), with PostGIS ``geometry(TYPE, 4490)``
columns and a GiST index on each; a trigger keeps assessments immutable, another stamps each history row
with the session user and the server's time; statement triggers send
``NOTIFY riskmap_changes`` with the table and the ids changed, so other users can refresh.

Credentials are never stored: the password comes from the URL (kept in memory only), PGPASSWORD,
~/.pgpass or a prompt, and every URL shown to the user has its password masked.

>>> mask_url("postgresql+psycopg://ann:secret@db.example/county")
'postgresql+psycopg://ann:***@db.example/county'
"""

from __future__ import annotations

import getpass
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from riskmap.errors import RiskmapError
from riskmap.model import FEATURE_CLASSES, MODEL_CLASSES, Base, ProjectMeta
from riskmap.store.history import HISTORY_STAMP, current_user
from riskmap.store.notices import CHANNEL, NOTIFY_FUNCTIONS, NOTIFY_MAX_IDS, QUIET_TABLES, notify_triggers
from riskmap.store.migrations import SCHEMA_VERSION, upgrade

_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg", "postgres+psycopg"}

# Asked for a password when the server wants one and none was found; returns None to give up.
# The desktop application replaces it with a dialog; the default asks on a terminal only.
PasswordPrompt = Callable[[str], "str | None"]


def _tty_prompt(where: str) -> str | None:
    if not (sys.stdin and sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    return getpass.getpass(f"数据库密码 / database password for {where}: ") or None


password_prompt: PasswordPrompt | None = _tty_prompt


def set_password_prompt(prompt: PasswordPrompt | None) -> None:
    """Replace how a missing password is asked for (None: never ask)."""
    global password_prompt
    password_prompt = prompt


# ---- URLs -----------------------------------------------------------------------------------
def is_postgres_url(target) -> bool:
    return isinstance(target, (str, URL)) and str(target).split("://", 1)[0].lower() in _SCHEMES


def _render(u: URL, hide_password: bool = False) -> str:
    """The URL as text, its query readable (``?host=/run/postgresql`` rather than ``%2Frun%2F…``)."""
    s = u.render_as_string(hide_password=hide_password)
    head, sep, query = s.partition("?")
    return head + sep + unquote(query)


def mask_url(url: str | URL) -> str:
    """The URL with any password replaced by ``***`` (also ``password=`` in the query)."""
    if isinstance(url, URL):
        s = _render(url, hide_password=True)
    else:  # as typed: mask up to the last @ of the authority (an unencoded @ may sit in the password)
        s = re.sub(r"(://[^/:@?#]*):[^/?#]*@", r"\1:***@", str(url))
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", s, flags=re.IGNORECASE)


def parse_url(url: str | URL) -> URL:
    """A SQLAlchemy URL for the psycopg (3) driver; other databases are refused."""
    if isinstance(url, URL):
        u = url
    else:
        authority = re.split(r"[/?#]", str(url).split("://", 1)[-1], maxsplit=1)[0]
        if authority.count("@") > 1:
            raise RiskmapError(f"数据库地址中的 @ 须写成 %40: {mask_url(url)}",
                               f"write an @ inside the user or password as %40: {mask_url(url)}")
        try:
            u = make_url(url)
        except ArgumentError as exc:
            raise RiskmapError(f"数据库地址格式不对: {mask_url(url)}", f"malformed database URL: {mask_url(url)}") from exc
    if u.drivername not in _SCHEMES:
        raise RiskmapError(f"不支持的数据库（只支持 PostgreSQL + PostGIS）: {mask_url(u)}",
                           f"unsupported database (only PostgreSQL + PostGIS): {mask_url(u)}")
    u = u.set(drivername="postgresql+psycopg")
    if "password" in u.query:  # libpq accepts it in the query too: keep it out of sight the same way
        u = u.set(password=u.query["password"]).difference_update_query(["password"])
    return u


def safe_url(url: str | URL) -> str:
    """The URL without its password: what may be shown, logged or remembered."""
    u = parse_url(url)
    return _render(u._replace(password=None))  # URL.set() ignores None


def _where(u: URL) -> str:
    host = u.host or u.query.get("host") or "localhost"
    return f"{u.username or ''}@{host}/{u.database or ''}"


# ---- connecting -----------------------------------------------------------------------------
def connection_error(exc: BaseException, u: URL) -> RiskmapError:
    """One clear message for a failed connection (server down, password, database, role …)."""
    msg = str(getattr(exc, "orig", None) or exc)
    low = msg.lower()
    shown = mask_url(u)
    host = u.host or u.query.get("host") or "localhost"
    if "password authentication failed" in low:
        return RiskmapError(f"数据库密码错误（用户 {u.username}）: {shown}",
                            f"wrong password for database user {u.username}: {shown}")
    if "no password supplied" in low:
        return RiskmapError(f"数据库要求密码：请设置 PGPASSWORD 或 ~/.pgpass（用户 {u.username}）: {shown}",
                            f"the database wants a password: set PGPASSWORD or ~/.pgpass (user {u.username}): {shown}")
    m = re.search(r'database "([^"]+)" does not exist', msg)
    if m:
        return RiskmapError(f"数据库不存在: {m.group(1)}（{host}）", f"database does not exist: {m.group(1)} ({host})")
    m = re.search(r'role "([^"]+)" does not exist', msg)
    if m:
        return RiskmapError(f"数据库用户不存在: {m.group(1)}", f"database user does not exist: {m.group(1)}")
    if "no pg_hba.conf entry" in low or "permission denied for database" in low:
        return RiskmapError(f"数据库服务器拒绝此用户连接: {shown}", f"the server refuses this user: {shown}")
    if "failed to resolve host" in low or "could not translate host name" in low:
        return RiskmapError(f"找不到数据库服务器主机: {host}", f"database host not found: {host}")
    if any(s in low for s in ("connection refused", "no such file or directory", "is the server running",
                              "timeout expired", "could not connect", "connection failed", "connection is bad")):
        return RiskmapError(f"无法连接数据库服务器（未运行或地址错误）: {shown}",
                            f"cannot reach the database server (not running, or wrong address): {shown}")
    first = msg.strip().splitlines()[-1] if msg.strip() else type(exc).__name__
    return RiskmapError(f"无法连接数据库: {shown}（{first}）", f"cannot connect to the database: {shown} ({first})")


def _needs_password(exc: BaseException) -> bool:
    low = str(getattr(exc, "orig", None) or exc).lower()
    return "no password supplied" in low or "password authentication failed" in low


def make_engine(url: str | URL, *, readonly: bool = False) -> Engine:
    """A connected engine for ``url``: the password is asked for when the server wants one."""
    u = parse_url(url)
    # jit=off: LLVM compilation costs ~0.5 s on the mid-size spatial joins an interactive map runs
    options = "-c jit=off" + (" -c default_transaction_read_only=on" if readonly else "")
    if u.query.get("options"):  # the user's own libpq options come first
        options = f"{u.query['options']} {options}"
    connect_args = {"application_name": "riskmap", "connect_timeout": 10, "options": options}
    for attempt in range(2):
        try:
            engine = create_engine(u, connect_args=connect_args, hide_parameters=True, pool_pre_ping=True)
        except (NoSuchModuleError, ModuleNotFoundError) as exc:  # pragma: no cover - psycopg: the extra
            raise RiskmapError("缺少 PostgreSQL 驱动：请安装 riskmap[postgis]（psycopg）",
                               "PostgreSQL driver missing: install riskmap[postgis] (psycopg)") from exc
        try:
            with engine.connect():
                pass
            return engine
        except DBAPIError as exc:
            engine.dispose()
            if attempt == 0 and u.password is None and _needs_password(exc) and password_prompt is not None:
                pw = password_prompt(_where(u))
                if pw:
                    u = u.set(password=pw)
                    continue
            raise connection_error(exc, u) from None
    raise AssertionError("unreachable")


# ---- schema ---------------------------------------------------------------------------------
def postgis_version(conn: Connection) -> str | None:
    return conn.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar()


def ensure_postgis(conn: Connection, where: str) -> None:
    """Create the postgis extension when missing and allowed; otherwise say what the admin must do."""
    if postgis_version(conn):
        return
    available = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).scalar()
    if not available:
        raise RiskmapError(
            f"数据库服务器未安装 PostGIS（Debian: postgresql-N-postgis-3）: {where}",
            f"PostGIS is not installed on the database server (Debian: postgresql-N-postgis-3): {where}")
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except DBAPIError as exc:
        raise RiskmapError(
            f"此数据库未启用 PostGIS，当前用户无权启用；请管理员执行 CREATE EXTENSION postgis: {where}",
            f"PostGIS is not enabled in this database and this user may not enable it; "
            f"ask an administrator to run CREATE EXTENSION postgis: {where}") from exc


IMMUTABLE_ASSESSMENTS = """
CREATE OR REPLACE FUNCTION riskmap_assessments_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'assessments are immutable records' USING ERRCODE = 'integrity_constraint_violation';
END $$;
DROP TRIGGER IF EXISTS assessments_immutable ON assessments;
CREATE TRIGGER assessments_immutable BEFORE UPDATE ON assessments
  FOR EACH ROW EXECUTE FUNCTION riskmap_assessments_immutable();
"""

ZONES_FILLFACTOR = 50  # percent of each page of zones filled by inserts (about one zone row is 450 bytes)


def has_schema(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT to_regclass('project_meta') IS NOT NULL")).scalar())


def create_schema(conn: Connection, where: str) -> None:
    """Tables, GiST indexes, triggers and role grants, inside the caller's transaction."""
    from riskmap.store.counties import pg_setup
    from riskmap.store.roles import level_guard_ddl, setup_roles

    ensure_postgis(conn, where)
    Base.metadata.create_all(conn)
    # room on each page for a second version of every zone: a run of zoning rewrites a unit's levels in place
    # (HOT: no new index entries, GiST included): the city's 50k grid cells' UPDATE 0.18-0.19 s on the server
    # instead of 0.68-0.74 s (70: 0.46-0.50 s); the table twice the size (reading every grid cell +5-10 ms)
    conn.exec_driver_sql(f"ALTER TABLE zones SET (fillfactor = {ZONES_FILLFACTOR})")
    for cls in FEATURE_CLASSES:
        t = cls.__tablename__
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{t}_geom_gist ON {t} USING gist (geom)")
    conn.exec_driver_sql(IMMUTABLE_ASSESSMENTS)
    conn.exec_driver_sql(HISTORY_STAMP)
    conn.exec_driver_sql(level_guard_ddl())
    pg_setup(conn)  # county of new rows, row-level security (schema 5)
    conn.exec_driver_sql(NOTIFY_FUNCTIONS)
    for cls in MODEL_CLASSES:
        t = cls.__tablename__
        if t not in QUIET_TABLES:
            conn.exec_driver_sql(notify_triggers(t, "id" in cls.__table__.c))
    setup_roles(conn)


def drop_schema(conn: Connection) -> None:
    """Remove every riskmap table and function (used to undo a failed create)."""
    from riskmap.store.counties import FILL_FUNCTIONS

    Base.metadata.drop_all(conn)
    conn.exec_driver_sql("DROP TABLE IF EXISTS county_grants")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS riskmap_may_write(text) CASCADE")
    for fn in ("riskmap_assessments_immutable", "riskmap_notify_rows", "riskmap_notify_table", "riskmap_level_guard",
               "riskmap_history_stamp", *FILL_FUNCTIONS):
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {fn}() CASCADE")


def _check_project(project, u: URL) -> None:
    where = mask_url(u)
    with project.engine.connect() as conn:
        if not postgis_version(conn):
            available = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).scalar()
            if not available:
                raise RiskmapError(f"数据库服务器未安装 PostGIS: {where}",
                                   f"PostGIS is not installed on the database server: {where}")
            raise RiskmapError(f"此数据库未启用 PostGIS，请先运行 riskmap db init: {where}",
                               f"PostGIS is not enabled in this database; run riskmap db init first: {where}")
        if not has_schema(conn):
            raise RiskmapError(f"数据库中没有 riskmap 项目（先运行 riskmap db init 或 db push）: {where}",
                               f"no riskmap project in this database (run riskmap db init or db push first): {where}")
        version = int(conn.execute(text("SELECT value FROM project_meta WHERE key = 'schema_version'")).scalar() or 0)
    upgrade(project.engine, version, readonly=project.readonly, where=where, what_zh="数据库", what_en="database")


def _db_user(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_user")).scalar()


# ---- the two entry points Project.open / Project.create call ------------------------------------
def open_postgis(cls, url: str, *, readonly: bool = False):
    """Open the project held in a PostgreSQL + PostGIS database."""
    u = parse_url(url)
    engine = make_engine(u, readonly=readonly)
    project = cls(engine, safe_url(u), readonly)
    try:
        project.user = _db_user(engine)
        _check_project(project, u)
    except BaseException:
        project.close()
        raise
    return project


def create_postgis(cls, url: str, *, name: str, place: str | None = None, demo: bool = False,
                   metric_epsg: int | None = None, build: Callable | None = None):
    """Create the schema in an existing database and fill it; a failure leaves the database as it was."""
    u = parse_url(url)
    where = mask_url(u)
    engine = make_engine(u)
    try:
        with engine.begin() as conn:
            if has_schema(conn):
                raise RiskmapError(f"数据库中已有 riskmap 项目: {where}", f"the database holds a riskmap project already: {where}")
            create_schema(conn, where)
            user = conn.execute(text("SELECT current_user")).scalar() or current_user()
            meta = dict(schema_version=str(SCHEMA_VERSION), name=name, place=place or "",
                        demo="1" if demo else "0", metric_epsg=str(metric_epsg or ""), created_by=user)
            conn.execute(ProjectMeta.__table__.insert(), [{"key": k, "value": v} for k, v in meta.items()])
            from riskmap.model import County
            from riskmap.store.counties import file_county

            own = file_county(place, metric_epsg)
            if own is not None:
                conn.execute(County.__table__.insert().values(**own))
    except BaseException:
        engine.dispose()
        raise
    project = cls(engine, safe_url(u))
    project.user = user
    if build is not None:
        try:
            build(project)
        except BaseException:
            with engine.begin() as conn:
                drop_schema(conn)
            project.close()
            raise
    return project


# ---- change notices (LISTEN / NOTIFY) -----------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """Rows changed by someone (maybe this program): ``ids`` None means "many: reload the table"."""

    table: str
    op: str  # insert, update, delete
    ids: tuple[int, ...] | None
    pid: int = 0  # server process of the connection that made the change


_TABLES = frozenset(c.__tablename__ for c in MODEL_CLASSES)
_OPS = frozenset({"insert", "update", "delete"})
_MAX_ID = 2**63 - 1
# the server caps a payload at 8000 bytes; riskmap's own hold at most NOTIFY_MAX_IDS ids of ≤ 19 digits
_MAX_PAYLOAD = 8000


def parse_change(payload: str, pid: int = 0) -> Change | None:
    """The Change a notice announces, or None when it is not one riskmap's triggers send.

    Any role that may connect can ``pg_notify`` on the channel, so a notice is data from a stranger:
    anything else than ``{"table": <riskmap table>, "op": insert|update|delete, "ids": null | [int, …]}``
    (≤ NOTIFY_MAX_IDS ids) is skipped, never raised on, and does not cost the notices around it.

    >>> parse_change('{"table": "enterprises", "op": "update", "ids": [3]}')
    Change(table='enterprises', op='update', ids=(3,), pid=0)
    >>> parse_change('"x"') is None
    True
    """
    if not isinstance(payload, str) or len(payload) > _MAX_PAYLOAD:
        return None
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    if not isinstance(data, dict) or set(data) != {"table", "op", "ids"}:
        return None
    table, op, ids = data["table"], data["op"], data["ids"]
    if not (isinstance(table, str) and table in _TABLES and isinstance(op, str) and op in _OPS):
        return None
    if ids is not None:
        if not (isinstance(ids, list) and 0 < len(ids) <= NOTIFY_MAX_IDS and all(
                type(i) is int and 0 < i <= _MAX_ID for i in ids)):
            return None
        ids = tuple(ids)
    return Change(table, op, ids, pid)


class ChangeListener:
    """A dedicated connection that LISTENs on ``riskmap_changes``; ``poll()`` returns what arrived."""

    def __init__(self, engine: Engine):
        raw = engine.raw_connection()
        self.conn = raw.driver_connection
        raw.detach()  # keep it out of the pool: it stays in LISTEN mode for the project's life
        self._raw = raw
        self.conn.autocommit = True
        self.conn.execute(f"LISTEN {CHANNEL}")
        self.callbacks: list[Callable[[Change], None]] = []

    def fileno(self) -> int:
        """The socket to watch (e.g. with a QSocketNotifier) before calling ``poll``."""
        return self.conn.fileno()

    def poll(self, timeout: float = 0.0) -> list[Change]:
        """The changes announced since the last poll; notices not of riskmap's own shape are skipped."""
        out = []
        for note in self.conn.notifies(timeout=timeout):
            change = parse_change(note.payload, note.pid)
            if change is not None:
                out.append(change)
        for change in out:
            for cb in list(self.callbacks):
                cb(change)
        return out

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # pragma: no cover - closing a broken connection
            pass
