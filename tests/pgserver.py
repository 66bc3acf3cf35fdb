"""A throwaway PostgreSQL + PostGIS server for the tests: its own cluster in a temporary folder.

The server listens on a Unix socket in that folder only (``listen_addresses=''``, no TCP), trusts its
own superuser ``riskmap_su`` and asks every other role for a SCRAM password. PostgreSQL refuses to
run as root, so under root the cluster belongs to the ``postgres`` system user (Debian's package creates
it; otherwise ``riskmap-pg`` is created). ``find_bindir`` installs Debian's newest
``postgresql-N-postgis-3`` when it is missing and we are root; otherwise the caller skips.

>>> # with PgServer.start() as server: url = server.create_database("x")
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "riskmap_su"


class Unavailable(Exception):
    """No PostgreSQL with PostGIS on this machine (the reason is the message)."""


def _major(bindir: str) -> int:
    m = re.search(r"/postgresql/(\d+)/bin", bindir)
    return int(m.group(1)) if m else 0


def _candidates() -> list[str]:
    """bin folders of installed PostgreSQL versions that also have PostGIS, newest first."""
    out = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bindir = os.path.dirname(initdb)
        major = _major(bindir)
        if glob.glob(f"/usr/share/postgresql/{major}/extension/postgis.control"):
            out.append(bindir)
    return sorted(out, key=_major, reverse=True)


def _apt_install_postgis() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable("PostgreSQL + PostGIS not installed (run scripts/system-deps.sh test)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
    found = subprocess.run(["apt-cache", "search", "--names-only", r"^postgresql-[0-9]+-postgis-3$"],
                           capture_output=True, text=True, env=env).stdout.split()
    names = sorted((n for n in found if re.fullmatch(r"postgresql-\d+-postgis-3", n)),
                   key=lambda n: int(n.split("-")[1]))
    if not names:
        raise Unavailable("no postgresql-N-postgis-3 package in the apt sources")
    done = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", names[-1]],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        raise Unavailable(f"apt-get install {names[-1]} failed: {done.stderr.strip()[-300:]}")


def find_bindir() -> str:
    """The bin folder of the newest PostgreSQL that has PostGIS (installing it when root)."""
    found = _candidates()
    if not found:
        _apt_install_postgis()
        found = _candidates()
    if not found:
        raise Unavailable("PostgreSQL with PostGIS not found under /usr/lib/postgresql")
    return found[0]


def _service_user() -> str | None:
    """The system user that runs the server when we are root (None when we are not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "riskmap-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "riskmap-pg"],
                   check=True, capture_output=True)
    return "riskmap-pg"


class PgServer:
    """A running throwaway cluster; ``stop()`` removes it."""

    def __init__(self, bindir: str, base: Path, user: str | None):
        self.bindir = bindir
        self.base = base
        self.user = user
        self.data = base / "data"
        self.socket_dir = base / "sock"
        self.log = base / "server.log"

    # ---- lifecycle --------------------------------------------------------------------------
    @classmethod
    def start(cls) -> PgServer:
        bindir = find_bindir()
        user = _service_user()
        base = Path(tempfile.mkdtemp(prefix="riskmap-pg-"))
        server = cls(bindir, base, user)
        try:
            server.socket_dir.mkdir()
            if user:
                shutil.chown(base, user)
                shutil.chown(server.socket_dir, user)
            server._run("initdb", "-D", str(server.data), "-U", SUPERUSER, "--no-locale", "--encoding=UTF8",
                        "--auth-local=trust", "--auth-host=reject", "--no-sync")
            # the superuser is trusted on the private socket; every other role needs its password
            (server.data / "pg_hba.conf").write_text(
                f"local all {SUPERUSER} trust\nlocal all all scram-sha-256\n", encoding="utf-8")
            opts = (f"-k {server.socket_dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                    "-c full_page_writes=off -c max_connections=60")
            server._run("pg_ctl", "-D", str(server.data), "-l", str(server.log), "-o", opts, "-w", "-t", "60",
                        "start")
        except BaseException:
            server.remove()
            raise
        return server

    def _run(self, tool: str, *args: str) -> None:
        cmd = [os.path.join(self.bindir, tool), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            log = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise Unavailable(f"{tool} failed: {done.stderr.strip()[-800:]}\n{log}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except Unavailable:
                pass
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- databases and roles ----------------------------------------------------------------
    def url(self, database: str, user: str = SUPERUSER, password: str | None = None) -> str:
        """A SQLAlchemy URL for ``database`` over the private socket."""
        cred = user if password is None else f"{user}:{password}"
        return f"postgresql+psycopg://{cred}@/{database}?host={self.socket_dir}"

    def connect(self, database: str = "postgres"):
        """A psycopg superuser connection in autocommit mode (the caller closes it)."""
        import psycopg

        return psycopg.connect(host=str(self.socket_dir), dbname=database, user=SUPERUSER, autocommit=True)

    def sql(self, statement: str, database: str = "postgres", params=None) -> list:
        with self.connect(database) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str, *, template: str | None = None, postgis: bool = True,
                        owner: str | None = None) -> str:
        """Create a database (from a template, or with PostGIS); return its superuser URL."""
        extra = f" TEMPLATE {template}" if template else ""
        extra += f" OWNER {owner}" if owner else ""
        self.sql(f"CREATE DATABASE {name}{extra}")
        if postgis and not template:
            self.sql("CREATE EXTENSION postgis", database=name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def create_login(self, name: str, password: str, *extra: str) -> None:
        """A login role with a SCRAM password (``extra``: e.g. CREATEROLE)."""
        from psycopg import sql

        opts = " ".join(extra)
        self.sql(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} " + opts).format(sql.Identifier(name), sql.Literal(password)))
