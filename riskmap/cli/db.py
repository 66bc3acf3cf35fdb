"""``riskmap db``: the shared PostgreSQL + PostGIS database — init, push, pull, grant, roles.

The password never goes on the command line: it comes from PGPASSWORD, ~/.pgpass or a prompt
(a password inside the URL works but is never printed).
"""

from __future__ import annotations

import getpass
import sys

from riskmap.cli.progress import ProgressBar
from riskmap.errors import RiskmapError

URL_HELP = "数据库 URL / database URL: postgresql+psycopg://USER@HOST/DB（密码用 PGPASSWORD 或 ~/.pgpass）"


def register(sub) -> None:
    p = sub.add_parser("db", help="共享数据库（PostgreSQL + PostGIS） / shared database",
                       description="在 PostgreSQL + PostGIS 共享数据库中建立项目、上传下载项目、分配角色 / "
                                   "create a project in a shared PostgreSQL + PostGIS database, move projects "
                                   "between file and database, give users roles")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION", parser_class=type(p), required=True)

    q = dsub.add_parser("init", help="建立空项目（结构、PostGIS、角色） / create an empty project",
                        description="在已有数据库中建立 riskmap 结构、启用 PostGIS（有权限时）并建立角色 / "
                                    "create the riskmap schema in an existing database, enable PostGIS "
                                    "(where allowed) and create the roles")
    q.add_argument("url", help=URL_HELP)
    q.add_argument("--name", help="项目名称 / project name (default: the database name)")
    q.add_argument("--place", help="地点（行政区划代码或名称） / place (adcode or name)")
    q.set_defaults(func=run_init)

    q = dsub.add_parser("push", help="把项目文件上传到数据库 / copy a project file into the database",
                        description="把 GeoPackage 项目完整复制到数据库（含编辑历史与评估记录）；数据库中已有其他区县时，"
                                    "把本区县加入其中（编号重排，全市一个项目） / copy a GeoPackage project into the "
                                    "database, history and assessments included; into a database holding other "
                                    "counties, add this county beside them (new ids; the city sees one project)")
    q.add_argument("file", help="项目文件 .gpkg / project file")
    q.add_argument("url", help=URL_HELP)
    q.add_argument("--replace", action="store_true",
                   help="替换数据库中已有的同一区县（或整个单项目） / replace this county (or the single "
                        "project) the database holds")
    q.set_defaults(func=run_push)

    q = dsub.add_parser("pull", help="把数据库中的项目下载为文件 / copy the database project into a file",
                        description="把数据库中的项目完整复制为 GeoPackage 项目文件 / copy the database "
                                    "project into a GeoPackage project file")
    q.add_argument("url", help=URL_HELP)
    q.add_argument("file", help="输出的项目文件 .gpkg / output project file")
    q.add_argument("--overwrite", action="store_true", help="覆盖已有文件 / replace an existing file")
    q.add_argument("--county", metavar="ADCODE",
                   help="只下载这个区县（6 位行政区划代码），得到该区县的项目文件 / only this county (6-digit "
                        "adcode), as that county's project file")
    q.set_defaults(func=run_pull)

    q = dsub.add_parser("grant", help="给用户分配角色 / give a user a role",
                        description="角色由数据库权限保证：viewer 查看，editor 编辑要素与隐患，assessor 评估定级，"
                                    "admin 管理 / roles are database privileges: viewer reads, editor edits "
                                    "features and hidden dangers, assessor sets risk levels, admin manages")
    q.add_argument("url", help=URL_HELP)
    q.add_argument("--user", required=True, help="数据库用户名 / database user name")
    q.add_argument("--role", required=True, choices=["viewer", "editor", "assessor", "admin", "none"],
                   help="角色 / role (none: remove the user's riskmap role)")
    q.add_argument("--county", action="append", metavar="ADCODE",
                   help="只许修改这些区县的数据（可重复，或用逗号分隔；由数据库行级安全保证） / may change only "
                        "these counties' rows (repeat, or a comma list; enforced by row-level security)")
    q.add_argument("--create", action="store_true", help="用户不存在时创建 / create the user when missing")
    q.add_argument("--password-stdin", action="store_true",
                   help="从标准输入读取新用户密码 / read the new user's password from stdin")
    q.set_defaults(func=run_grant)

    q = dsub.add_parser("roles", help="列出用户及角色 / list users and their roles",
                        description="列出持有 riskmap 角色的用户，以及当前用户可做之事 / list users holding a "
                                    "riskmap role, and what the current user may do")
    q.add_argument("url", help=URL_HELP)
    q.set_defaults(func=run_roles)


def _url(value: str) -> str:
    from riskmap.store.postgis import is_postgres_url, mask_url

    if not is_postgres_url(value):
        raise RiskmapError(f"不是 PostgreSQL 数据库 URL: {mask_url(value)}（应为 postgresql+psycopg://USER@HOST/DB）",
                           f"not a PostgreSQL URL: {mask_url(value)} (expected postgresql+psycopg://USER@HOST/DB)")
    return value


def run_init(args) -> int:
    from riskmap.gazetteer import find
    from riskmap.store import Project
    from riskmap.store.postgis import mask_url, parse_url

    url = _url(args.url)
    place, epsg = None, None
    if args.place:
        p = find(args.place)  # any county, city or province; an unknown or ambiguous name is refused
        place, epsg = p.adcode, p.epsg
    name = args.name or parse_url(url).database or "riskmap"
    with Project.create(url, name=name, place=place, metric_epsg=epsg) as project:
        perms = project.permissions()
    print(f"已建立项目 / project created: {name} — {mask_url(url)}")
    print(f"  {perms.summary()}")
    return 0


def run_push(args) -> int:
    from riskmap.store.sync import push

    bar = ProgressBar("上传 / push")
    result = push(args.file, _url(args.url), replace=args.replace, progress=bar)
    bar.done()
    total = sum(result.rows.values())
    print(f"已上传 / pushed {args.file} → {result.target}: {len(result.rows)} 表 tables, {total} 行 rows "
          f"(企业 enterprises {result.rows.get('enterprises', 0)}, 编辑历史 history {result.rows.get('edit_history', 0)})")
    return 0


def run_pull(args) -> int:
    from riskmap.store.sync import pull

    bar = ProgressBar("下载 / pull")
    result = pull(_url(args.url), args.file, overwrite=args.overwrite, county=args.county, progress=bar)
    bar.done()
    total = sum(result.rows.values())
    print(f"已下载 / pulled {result.source} → {args.file}: {len(result.rows)} 表 tables, {total} 行 rows")
    return 0


def _new_password(args) -> str | None:
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise RiskmapError("标准输入中没有密码", "no password on stdin")
        return line
    if sys.stdin.isatty():
        first = getpass.getpass(f"新用户 {args.user} 的密码 / password for new user {args.user}: ")
        second = getpass.getpass("再输入一次 / again: ")
        if first != second:
            raise RiskmapError("两次输入的密码不一致", "the two passwords differ")
        return first or None
    return None


def run_grant(args) -> int:
    from riskmap.store.counties import parse_counties
    from riskmap.store.postgis import make_engine, mask_url
    from riskmap.store.roles import ROLE_ZH, grant

    url = _url(args.url)
    counties = parse_counties(args.county)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(u)s", {"u": args.user}).scalar()
            password = _new_password(args) if (args.create and not exists) else None
            grant(conn, args.user, args.role, county=counties, password=password, create=args.create)
    finally:
        engine.dispose()
    role = "无 none" if args.role == "none" else f"{ROLE_ZH[args.role]} {args.role}"
    where = f"，区县 counties {', '.join(counties)}" if counties else ""
    print(f"用户 user {args.user}: 角色 role {role}{where} — {mask_url(url)}")
    return 0


def run_roles(args) -> int:
    from riskmap.store import Project
    from riskmap.store.roles import ROLE_ZH, list_roles

    from riskmap.store.counties import all_user_counties

    with Project.open(_url(args.url)) as project:  # not read-only: the summary shows what the user may change
        with project.engine.connect() as conn:
            rows = list_roles(conn)
            limits = all_user_counties(conn)
        names = dict(project.counties())
        perms = project.permissions()
    print(f"当前 current: {perms.summary()}")
    if names:
        print(f"区县 counties: {'、'.join(f'{n}（{a}）' for a, n in sorted(names.items()))}")
    if not rows:
        print("没有用户持有 riskmap 角色 / no user holds a riskmap role")
    for user, role in rows:
        held = limits.get(user)
        where = ("区县 counties " + "、".join(f"{names.get(c, c)} {c}" for c in held)) if held else \
            ("全部区县 all counties" if names and role in ("editor", "assessor") else "")
        print(f"  {user:<24} {role:<9} {ROLE_ZH[role]}  {where}".rstrip())
    return 0
