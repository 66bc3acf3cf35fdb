"""Who may do what in a shared database: PostgreSQL group roles and GRANTs, and the app's view of them.

Four group roles, enforced by the database itself (a hidden button is not a permission):

========================  =====================================================================
riskmap_viewer            read everything
riskmap_editor            + edit features, lists, substances, hidden dangers, indicators — but not
                          risk levels (column privileges) and not assessments
riskmap_assessor          + record assessments and change risk levels (level columns only)
riskmap_admin             everything, and may give the three roles above to other users
========================  =====================================================================

``permissions(project)`` asks the database (has_table_privilege / has_column_privilege) what the
current user may do, so the UI shows only what will work; ``explain_refusal`` turns a refusal by the
database into a clear RiskmapError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from riskmap.errors import RiskmapError
from riskmap.model import MODEL_CLASSES

ROLES = ("viewer", "editor", "assessor", "admin")
GROUP = {r: f"riskmap_{r}" for r in ROLES}
ROLE_ZH = {"viewer": "查看", "editor": "编辑", "assessor": "评估", "admin": "管理"}

# Columns that hold a risk level and how it was decided: only assessors write them.
LEVEL_COLUMNS = {
    "enterprises": ("level", "level_basis", "level_assessment_id"),
    "risk_points": ("level", "level_assessment_id", "major_hazard_grade"),
    "zones": ("level", "level_rule", "level_reason", "level_updated_at"),
    "lifelines": ("level",),
}
# Written on every update of a Versioned row (optimistic locking), by whoever updates it.
VERSION_COLUMNS = ("version", "updated_at")
# Tables editors change freely.
EDITOR_TABLES = ("enterprise_lists", "substances", "protected_targets", "control_lines", "safety_distances",
                 "risk_contours", "lifeline_points", "emergency_resources", "hidden_dangers",
                 "hidden_danger_events", "indicators", "indicator_actuals", "plant_plans")
DANGER_TABLES = ("hidden_dangers", "hidden_danger_events")
# Tables assessors write: the assessment records (insert only: they are immutable) and zone decisions.
ASSESSOR_INSERT = ("assessments",)
ASSESSOR_TABLES = ("zone_decisions",)
HISTORY = "edit_history"  # insert only for everybody who edits; nobody rewrites history


def _tables() -> list[str]:
    return [c.__tablename__ for c in MODEL_CLASSES]


def _columns(table: str) -> list[str]:
    for cls in MODEL_CLASSES:
        if cls.__tablename__ == table:
            return [c.name for c in cls.__table__.columns]
    raise KeyError(table)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cols(names) -> str:
    return ", ".join(_q(n) for n in names)


def _seq(conn: Connection, table: str) -> str | None:
    if "id" not in _columns(table):
        return None
    return conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()


def _can_create_roles(conn: Connection) -> bool:
    return bool(conn.execute(text(
        "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar())


def _role_exists(conn: Connection, name: str) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).scalar())


# Once per statement (not per row: a 100k-row push would pay ~0.25 ms a row): users without the
# assessor's column privilege may insert rows only with NULL levels.
# (%% is a literal % for psycopg, which reads the text through exec_driver_sql)
LEVEL_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION riskmap_level_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE col text; bad boolean;
BEGIN
  FOREACH col IN ARRAY TG_ARGV LOOP
    IF NOT has_column_privilege(TG_RELID, col, 'UPDATE') THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM new_rows WHERE %%I IS NOT NULL)', col) INTO bad;
      IF bad THEN
        RAISE EXCEPTION 'permission denied for table %%', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege',
          DETAIL = format('only assessors set %%s.%%s', TG_TABLE_NAME, col);
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
"""


def level_guard_ddl() -> str:
    """A trigger per levelled table: new rows may carry a level only from a user who may set levels."""
    out = [LEVEL_GUARD_FUNCTION]
    for table, cols in LEVEL_COLUMNS.items():
        args = ", ".join(f"'{c}'" for c in cols)
        out.append(f"DROP TRIGGER IF EXISTS riskmap_level_guard ON {table};")
        out.append(f"CREATE TRIGGER riskmap_level_guard AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION riskmap_level_guard({args});")
    return "\n".join(out)


def setup_roles(conn: Connection) -> list[str]:
    """Create the group roles (when allowed) and grant them their privileges on this database's tables.

    Returns notes for the user (e.g. that roles could not be created). Idempotent.
    """
    notes = []
    missing = [g for g in GROUP.values() if not _role_exists(conn, g)]
    if missing:
        if not _can_create_roles(conn):
            return [f"未创建角色 {', '.join(missing)}（需要 CREATEROLE 权限）/ roles not created (needs CREATEROLE)"]
        for g in missing:
            conn.exec_driver_sql(f"CREATE ROLE {g} NOLOGIN")
        conn.exec_driver_sql(f"GRANT {GROUP['viewer']} TO {GROUP['editor']}, {GROUP['assessor']}")
        conn.exec_driver_sql(f"GRANT {GROUP['editor']}, {GROUP['assessor']} TO {GROUP['admin']}")
        # admins hand out roles: ADMIN OPTION on the three other groups (honoured through membership on
        # PostgreSQL ≤ 15); each admin user holds riskmap_admin itself WITH ADMIN OPTION (see grant_role)
        conn.exec_driver_sql(f"GRANT {GROUP['viewer']}, {GROUP['editor']}, {GROUP['assessor']} "
                             f"TO {GROUP['admin']} WITH ADMIN OPTION")
    grant_privileges(conn)
    return notes


def grant_privileges(conn: Connection) -> None:
    """GRANT the four roles their privileges on every riskmap table (run by the tables' owner)."""
    viewer, editor, assessor, admin = (GROUP[r] for r in ROLES)
    tables = _tables()
    all_groups = ", ".join(GROUP.values())
    conn.exec_driver_sql(f"REVOKE ALL ON {', '.join(tables)} FROM {all_groups}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {all_groups}")
    conn.exec_driver_sql(f"GRANT SELECT ON {', '.join(tables)} TO {viewer}")
    conn.exec_driver_sql(f"GRANT SELECT ON spatial_ref_sys TO {viewer}")
    inserts: dict[str, list[str]] = {editor: [HISTORY], assessor: [HISTORY]}
    conn.exec_driver_sql(f"GRANT INSERT ON {HISTORY} TO {editor}, {assessor}")
    # editors: whole tables, and the non-level columns of the levelled ones
    conn.exec_driver_sql(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(EDITOR_TABLES)} TO {editor}")
    inserts[editor] += EDITOR_TABLES
    for table, level_cols in LEVEL_COLUMNS.items():
        cols = [c for c in _columns(table) if c not in level_cols]
        # INSERT on the whole table (the ORM writes NULL levels of a new feature); a non-NULL level is
        # refused by the level_guard trigger unless the user holds the assessor's column privilege
        conn.exec_driver_sql(f"GRANT INSERT ON {table} TO {editor}")
        conn.exec_driver_sql(f"GRANT UPDATE ({_cols(c for c in cols if c != 'id')}) ON {table} TO {editor}")
        conn.exec_driver_sql(f"GRANT DELETE ON {table} TO {editor}")
        inserts[editor].append(table)
        # assessors: the level columns (and the optimistic-locking columns that change with them)
        upd = list(level_cols) + [c for c in VERSION_COLUMNS if c in _columns(table)]
        conn.exec_driver_sql(f"GRANT UPDATE ({_cols(upd)}) ON {table} TO {assessor}")
    conn.exec_driver_sql(f"GRANT INSERT ON {', '.join(ASSESSOR_INSERT)} TO {assessor}")
    conn.exec_driver_sql(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(ASSESSOR_TABLES)} TO {assessor}")
    inserts[assessor] += list(ASSESSOR_INSERT) + list(ASSESSOR_TABLES)
    # admins: everything (the immutability trigger still refuses to rewrite an assessment)
    conn.exec_driver_sql(f"GRANT ALL PRIVILEGES ON {', '.join(tables)} TO {admin}")
    all_seqs = [s for s in (_seq(conn, t) for t in tables) if s]
    conn.exec_driver_sql(f"GRANT SELECT ON SEQUENCE {', '.join(all_seqs)} TO {viewer}")  # pull reads counters
    for group, names in inserts.items():
        seqs = [s for s in (_seq(conn, t) for t in dict.fromkeys(names)) if s]
        if seqs:
            conn.exec_driver_sql(f"GRANT USAGE, SELECT ON SEQUENCE {', '.join(seqs)} TO {group}")
    conn.exec_driver_sql(f"GRANT ALL PRIVILEGES ON SEQUENCE {', '.join(all_seqs)} TO {admin}")  # push sets them
    if conn.execute(text("SELECT to_regclass('county_grants') IS NOT NULL")).scalar():
        # who may write which counties (schema 5): read by the county trigger as the user, handed out by admins
        conn.exec_driver_sql(f"REVOKE ALL ON county_grants FROM {all_groups}")
        conn.exec_driver_sql(f"GRANT SELECT ON county_grants TO {viewer}")
        conn.exec_driver_sql(f"GRANT ALL PRIVILEGES ON county_grants TO {admin}")


# ---- what the current user may do ---------------------------------------------------------------
@dataclass(frozen=True)
class Permissions:
    """What the current user may do in a project (the UI enables actions from this)."""

    user: str
    roles: tuple[str, ...] = ()  # riskmap roles held: viewer, editor, assessor, admin (owner: all)
    read: bool = True
    edit_features: bool = False  # add, move, change and delete features (not their risk levels)
    edit_hidden_dangers: bool = False
    assess: bool = False  # record assessments and change risk levels
    admin: bool = False  # change project settings and give roles to users
    writable_tables: frozenset[str] = field(default_factory=frozenset)
    counties: tuple[str, ...] | None = None  # the counties whose rows the user may change; None: all

    def may_write_county(self, county: str | None) -> bool:
        """Whether a row of ``county`` may be changed (as far as the county limit goes)."""
        return self.counties is None or county in self.counties

    def can_write(self, table: str) -> bool:
        return table in self.writable_tables

    def summary(self) -> str:
        """One line in Chinese: e.g. ``用户 ann：编辑（可编辑要素、隐患）``."""
        can = [zh for ok, zh in ((self.edit_features, "要素"), (self.edit_hidden_dangers, "隐患"),
                                 (self.assess, "风险等级"), (self.admin, "项目设置与角色")) if ok]
        roles = "、".join(ROLE_ZH.get(r, r) for r in self.roles) or "无角色"
        limit = f"，限区县 {'、'.join(self.counties)}" if self.counties and can else ""
        return f"用户 {self.user}：{roles}（" + (f"可编辑{'、'.join(can)}" if can else "只读") + limit + "）"


def _file_permissions(project) -> Permissions:
    writable = not project.readonly
    return Permissions(user=project.user, roles=("admin",) if writable else ("viewer",), read=True,
                       edit_features=writable, edit_hidden_dangers=writable, assess=writable, admin=writable,
                       writable_tables=frozenset(_tables()) if writable else frozenset())


def permissions(project) -> Permissions:
    """The current user's permissions: database privileges on PostgreSQL, file access on GeoPackage."""
    if project.dialect != "postgresql":
        return _file_permissions(project)
    tables = _tables()
    with project.engine.connect() as conn:
        user = conn.execute(text("SELECT current_user")).scalar()
        ro = conn.execute(text("SHOW transaction_read_only")).scalar() == "on" or project.readonly
        priv = {}
        for t in tables:
            row = conn.execute(text(
                "SELECT has_table_privilege(:t, 'SELECT'), has_table_privilege(:t, 'INSERT'),"
                " has_table_privilege(:t, 'UPDATE'), has_table_privilege(:t, 'DELETE'),"
                " has_any_column_privilege(:t, 'UPDATE'), has_any_column_privilege(:t, 'INSERT')"), {"t": t}).one()
            priv[t] = row
        level_ok = all(conn.execute(text("SELECT has_column_privilege(:t, :c, 'UPDATE')"), {"t": t, "c": c}).scalar()
                       for t, cols in LEVEL_COLUMNS.items() for c in cols)
        name_ok = conn.execute(text("SELECT has_column_privilege('enterprises', 'name', 'UPDATE')")).scalar()
        held = []
        for role in ROLES:
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :g"), {"g": GROUP[role]}).scalar()
            if exists and conn.execute(text("SELECT pg_has_role(:g, 'USAGE')"), {"g": GROUP[role]}).scalar():
                held.append(role)
        owner = conn.execute(text(
            "SELECT pg_has_role(tableowner, 'USAGE') FROM pg_tables WHERE tablename = 'project_meta'")).scalar()
        from riskmap.store.counties import user_counties

        counties = None if owner else user_counties(conn)
    if owner and "admin" not in held:
        held.append("admin")
    if ro:
        return Permissions(user=user, roles=tuple(held), read=bool(priv["project_meta"][0]), counties=counties)
    writable = frozenset(t for t, (_, ins, upd, dele, any_upd, any_ins) in priv.items() if ins or upd or dele or any_upd or any_ins)
    features = bool(name_ok) and all(priv[t][3] for t in ("enterprises", "protected_targets", "control_lines"))
    dangers = all(priv[t][1] and priv[t][2] for t in DANGER_TABLES)
    assess = bool(priv["assessments"][1]) and bool(level_ok)
    admin = bool(priv["project_meta"][2]) and bool(priv["project_meta"][1])
    return Permissions(user=user, roles=tuple(held), read=bool(priv["project_meta"][0]), edit_features=features,
                       edit_hidden_dangers=dangers, assess=assess, admin=admin, writable_tables=writable,
                       counties=counties)


# ---- refusals by the database, in words -----------------------------------------------------------
def _sqlstate(exc) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)


def explain_refusal(project, exc: BaseException) -> RiskmapError | None:
    """A RiskmapError for a write the database refused (privileges, read-only, immutable records), else None."""
    from riskmap.store.names import TABLE_TITLES

    msg = str(getattr(exc, "orig", None) or exc)
    state = _sqlstate(exc)
    if "assessments are immutable" in msg:
        return RiskmapError("评估记录不可修改：请新增一条评估记录", "assessment records are immutable: add a new assessment")
    m = re.search(r'row-level security policy for table "?(\w+)', msg)
    if m:  # a county-limited user (schema 5) wrote a row of another county
        table = m.group(1)
        title = TABLE_TITLES.get(table, table)
        try:
            perms = permissions(project)
            who, mine = perms.user, "、".join(perms.counties or ()) or "?"
        except Exception:
            who, mine = project.user, "?"
        return RiskmapError(f"数据库拒绝写入“{title}”：用户 {who} 只能修改本人区县（{mine}）的数据",
                            f"the database refused to write {table}: user {who} may change only the rows of "
                            f"his counties ({mine})")
    if state == "42501" or "permission denied" in msg:
        m = re.search(r"permission denied for (?:table|relation|sequence) (\w+)", msg)
        table = m.group(1) if m else ""
        if table.endswith("_id_seq"):
            table = table[: -len("_id_seq")]
        title = TABLE_TITLES.get(table, table) or "数据"
        try:
            perms = permissions(project)
            who, roles = perms.user, "、".join(ROLE_ZH[r] for r in perms.roles if r in ROLE_ZH) or "无"
            roles_en = ", ".join(perms.roles) or "none"
        except Exception:  # the connection may be unusable now
            who, roles, roles_en = project.user, "?", "?"
        return RiskmapError(
            f"数据库拒绝写入“{title}”：用户 {who} 没有此权限（角色：{roles}）",
            f"the database refused to write {table or 'data'}: user {who} lacks the privilege (roles: {roles_en})")
    if project.dialect == "postgresql" and (
            (state or "").startswith(("08", "57P")) or "server closed the connection" in msg
            or "terminating connection" in msg or "consuming input failed" in msg):
        return RiskmapError(f"与数据库的连接中断，未保存的修改已撤销，请重试: {project.target}",
                            f"the connection to the database was lost; unsaved changes were undone, "
                            f"try again: {project.target}")
    if state == "25006" or "read-only transaction" in msg or "readonly database" in msg:
        return RiskmapError(f"项目以只读方式打开，不能修改: {project.target}", f"project is read-only: {project.target}")
    return None


# ---- giving roles to users ----------------------------------------------------------------------
def _login_exists(conn: Connection, user: str) -> bool:
    return _role_exists(conn, user)


def grant_role(conn: Connection, user: str, role: str, *, password: str | None = None, create: bool = False) -> None:
    """Make ``user`` hold exactly riskmap role ``role`` (or none: ``role='none'``).

    With ``create`` a missing login is created; its password is hashed (SCRAM) on this side, so
    the plain text never reaches the server or its logs.
    """
    if role != "none" and role not in ROLES:
        raise RiskmapError(f"未知角色: {role}（viewer/editor/assessor/admin）", f"unknown role: {role}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]{0,62}", user or ""):
        raise RiskmapError(f"用户名不合法: {user}", f"invalid user name: {user}")
    if user in GROUP.values():
        raise RiskmapError(f"不能把角色授予角色组本身: {user}", f"cannot grant to a group role: {user}")
    missing = [g for g in GROUP.values() if not _role_exists(conn, g)]
    if missing:
        raise RiskmapError("数据库中没有 riskmap 角色：请先以管理员身份运行 riskmap db init",
                           "the riskmap roles are missing: run riskmap db init as an administrator")
    try:
        with conn.begin_nested():
            if not _login_exists(conn, user):
                if not create:
                    raise RiskmapError(f"数据库用户不存在: {user}（加 --create 创建）",
                                       f"database user does not exist: {user} (add --create to create it)")
                if password:
                    pg = conn.connection.driver_connection.pgconn
                    hashed = pg.encrypt_password(password.encode(), user.encode(), b"scram-sha-256").decode()
                    conn.exec_driver_sql(f"CREATE ROLE {_q(user)} LOGIN PASSWORD '{hashed}'")
                else:
                    conn.exec_driver_sql(f"CREATE ROLE {_q(user)} LOGIN")
            others = [GROUP[r] for r in ROLES if r != role]
            held = [g for g in others if conn.execute(text(
                "SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member"
                " WHERE g.rolname = :g AND u.rolname = :u"), {"g": g, "u": user}).scalar()]
            if held:
                conn.exec_driver_sql(f"REVOKE {', '.join(held)} FROM {_q(user)}")
            if role != "none":
                admin_option = " WITH ADMIN OPTION" if role == "admin" else ""
                conn.exec_driver_sql(f"GRANT {GROUP[role]} TO {_q(user)}{admin_option}")
    except RiskmapError:
        raise
    except Exception as exc:
        if "permission denied" in str(exc) or "must have admin option" in str(exc) or _sqlstate(exc) == "42501":
            raise RiskmapError("无权分配角色：需要 riskmap_admin 角色或 CREATEROLE 权限",
                               "not allowed to give roles: needs riskmap_admin or CREATEROLE") from exc
        raise


def list_roles(conn: Connection) -> list[tuple[str, str]]:
    """(user, role) for every login that holds a riskmap role, sorted by user."""
    rows = conn.execute(text(
        "SELECT u.rolname, g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
        " JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = ANY(:groups) AND NOT u.rolname = ANY(:groups)"
        " ORDER BY u.rolname, g.rolname"), {"groups": list(GROUP.values())}).all()
    back = {g: r for r, g in GROUP.items()}
    return [(u, back[g]) for u, g in rows]


def grant(conn_or_project, user: str, role: str, *, county=None, password: str | None = None,
          create: bool = False) -> None:
    """Give ``user`` riskmap role ``role`` and limit his writes to ``county`` (an adcode, a list of them, or
    None: every county), in one transaction. The limit is enforced by row-level security (riskmap.store.counties);
    it applies to editors and assessors (a viewer writes nothing, an admin everything)."""
    from riskmap.store.counties import parse_counties, set_user_counties

    counties = parse_counties([county] if isinstance(county, str) else county)
    if counties and role not in ("editor", "assessor"):
        raise RiskmapError(f"区县限制只用于编辑（editor）与评估（assessor）角色，不用于 {role}",
                           f"a county limit applies to the editor and assessor roles only, not {role}",
                           where="--county")
    if not isinstance(conn_or_project, Connection):  # a Project
        with conn_or_project.engine.begin() as conn:
            grant(conn, user, role, county=counties, password=password, create=create)
        return
    conn = conn_or_project
    grant_role(conn, user, role, password=password, create=create)
    try:
        with conn.begin_nested():
            set_user_counties(conn, user, counties)
    except RiskmapError:
        raise
    except Exception as exc:
        if "permission denied" in str(exc) or _sqlstate(exc) == "42501":
            raise RiskmapError("无权分配区县：需要 riskmap_admin 角色", "not allowed to limit counties: needs riskmap_admin") from exc
        raise
