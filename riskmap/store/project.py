"""The project: one GeoPackage file (or a PostgreSQL + PostGIS URL) holding a county's risk data.

>>> # p = Project.create("x.gpkg", name="会宁县 示例", place="620422"); p.close()
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Date, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.orm.exc import StaleDataError

from riskmap.atomic import atomic_path
from riskmap.errors import RiskmapError
from riskmap.layers import approximate_kinds, marked_catalogue
from riskmap.model import MODEL_CLASSES, SRID, Base, JSONText, ProjectMeta, class_for_table
from riskmap.model.base import Timestamp
from riskmap.model.geometry import from_gpkg_blobs
from riskmap.store import gpkg
from riskmap.store.history import current_user, track
from riskmap.store.migrations import SCHEMA_VERSION, upgrade
from riskmap.store.prefetch import prefetch


_LAYER_TYPE_IDS = {"point": (0, 4), "line": (1, 2, 5), "polygon": (3, 6)}  # shapely type ids per layer kind


def is_url(target: str | os.PathLike) -> bool:
    return isinstance(target, str) and "://" in target


def _remember_versions(sess: Session, _ctx, _instances) -> None:
    """Before a flush: the version each edited versioned row had when this session read it."""
    seen = sess.info.setdefault("read_versions", {})
    for obj in list(sess.dirty) + list(sess.deleted):
        state = inspect(obj)
        if state.mapper.version_id_col is None or state.identity is None:
            continue
        key = (obj.__tablename__, state.identity[0])
        if key not in seen:
            label = getattr(obj, "name", None) or getattr(obj, "title", None) or ""
            seen[key] = (state.attrs.version.loaded_value, label)


def conflict_error(engine: Engine, read_versions: dict, exc: StaleDataError) -> RiskmapError:
    """The edit conflict behind a StaleDataError, naming the feature(s) someone else changed first."""
    from riskmap.store.names import TABLE_TITLES

    m = re.search(r"table '(\w+)'", str(exc))
    table = m.group(1) if m else None
    changed, deleted = [], []
    with engine.connect() as conn:
        for (t, row_id), (version, label) in read_versions.items():
            if table is not None and t != table:
                continue
            now = conn.execute(text(f"SELECT version FROM {t} WHERE id = :i"), {"i": row_id}).scalar()
            if now is None:
                deleted.append((t, row_id, label))
            elif now != version:
                changed.append((t, row_id, label))
    found = changed + deleted
    if not found and engine.dialect.name == "postgresql":  # unchanged, yet not updated: another county's row
        from riskmap.store.counties import user_counties

        with engine.connect() as conn:
            mine = user_counties(conn)
        if mine:
            return RiskmapError(
                f"不能修改{TABLE_TITLES.get(table, table or '数据')}：只能修改本人区县（{'、'.join(mine)}）的数据",
                f"cannot change {table or 'data'}: only the rows of your counties ({', '.join(mine)}) may be changed")
    if not found:
        return RiskmapError(f"保存冲突：{TABLE_TITLES.get(table, table or '数据')}已被其他用户修改，请刷新后重新编辑",
                            f"edit conflict: {table or 'data'} was changed by someone else; refresh and redo")
    t, row_id, label = found[0]
    more_zh = f"等 {len(found)} 个要素" if len(found) > 1 else ""
    more_en = f" and {len(found) - 1} more" if len(found) > 1 else ""
    how_zh, how_en = ("修改", "changed") if changed else ("删除", "deleted")
    return RiskmapError(
        f"保存冲突：{TABLE_TITLES.get(t, t)}“{label}”（id {row_id}）{more_zh}已被其他用户{how_zh}，请刷新后重新编辑",
        f"edit conflict: {t} '{label}' (id {row_id}){more_en} was {how_en} by someone else since you read it; "
        "refresh and redo")


def _sqlite_engine(path: Path, readonly: bool, *, unsynced: bool = False) -> Engine:
    """``unsynced``: no fsync per commit (PRAGMA synchronous = OFF), for a new file under a temporary name
    that is synced once before it takes its own (see Project.create)."""
    uri = f"file:{path}?mode={'ro' if readonly else 'rw'}"

    def connect():
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        if unsynced:
            conn.execute("PRAGMA synchronous = OFF")
        return conn

    # "sqlite://" alone would get SingletonThreadPool, which closes connections other threads still use
    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=4, max_overflow=16)
    gpkg.install_connect_hooks(engine)
    return engine


class Project:
    """An open project store. Use ``Project.open`` or ``Project.create``; close when done."""

    def __init__(self, engine: Engine, target: str, readonly: bool = False):
        self.engine = engine
        self.target = target
        self.readonly = readonly
        self.user = current_user()
        self._sessionmaker = sessionmaker(engine, expire_on_commit=False)
        self._meta_cache: dict[str, str | None] | None = None
        self._listener = None  # PostgreSQL change notices (see listen)
        self._reads = threading.local()  # this thread's shared reads (see shared_reads)

    # ---- opening and creating -------------------------------------------------------------
    @classmethod
    def open(cls, target: str | os.PathLike, *, readonly: bool = False) -> Project:
        """Open an existing project file or database URL; check that it is one and migrate it."""
        if is_url(target):
            from riskmap.store.postgis import open_postgis  # the shared-database backend

            return open_postgis(cls, str(target), readonly=readonly)
        path = Path(target)
        if not path.exists():
            raise RiskmapError(f"项目文件不存在: {path}", f"project file not found: {path}")
        if path.is_dir():
            raise RiskmapError(f"这是一个文件夹，不是项目文件: {path}", f"a folder, not a project file: {path}")
        try:
            kind = gpkg.sniff(path)
        except OSError as exc:
            raise RiskmapError(f"无法读取项目文件: {path} ({exc.strerror})", f"cannot read project file: {path}") from exc
        if kind != "gpkg":
            raise RiskmapError(f"不是 GeoPackage 项目文件: {path}", f"not a GeoPackage project file: {path}")
        if not readonly and not os.access(path, os.W_OK):
            readonly = True
        prefetch(path)  # the file read in order into the page cache while SQLite starts reading it
        project = cls(_sqlite_engine(path, readonly), str(path), readonly)
        try:
            project._check_schema()
        except BaseException:
            project.close()
            raise
        return project

    @classmethod
    def create(cls, target: str | os.PathLike, *, name: str, place: str | None = None, demo: bool = False,
               metric_epsg: int | None = None, build: Callable[[Project], None] | None = None,
               overwrite: bool = False) -> Project:
        """Create a new project; ``build`` fills it before it appears under its name.

        The file is written under a temporary name in the same folder and renamed at the end,
        so a failure (or a cancel) never leaves a half-written project behind.
        """
        if is_url(target):
            from riskmap.store.postgis import create_postgis

            return create_postgis(cls, str(target), name=name, place=place, demo=demo,
                                  metric_epsg=metric_epsg, build=build)
        path = Path(target)
        if path.suffix.lower() != ".gpkg":
            raise RiskmapError(f"项目文件应以 .gpkg 结尾: {path}", f"a project file must end in .gpkg: {path}")
        if path.exists() and not overwrite:
            raise RiskmapError(f"文件已存在: {path}", f"file exists already: {path}")
        with atomic_path(path) as tmp:
            project = None
            try:
                conn = sqlite3.connect(tmp)
                conn.close()
                # dozens of commits build the file: unsynced they take milliseconds, not seconds on a busy disk;
                # the file is synced once below, before it replaces ``path``
                project = cls(_sqlite_engine(tmp, False, unsynced=True), str(tmp))
                Base.metadata.create_all(project.engine)
                with project.engine.begin() as c:
                    gpkg.initialize(c.connection.driver_connection)
                project.set_meta(schema_version=str(SCHEMA_VERSION), name=name, place=place or "",
                                 demo="1" if demo else "0", metric_epsg=str(metric_epsg or ""), created_by=project.user)
                project._add_own_county(place, metric_epsg)
                if build is not None:
                    build(project)
                project.refresh_extents()
            finally:
                if project is not None:
                    project.engine.dispose()
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        return cls.open(path)

    def _check_schema(self) -> None:
        try:
            with self.engine.connect() as conn:
                tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
                if "project_meta" not in tables:
                    raise RiskmapError(
                        f"这是 GeoPackage，但不是 riskmap 项目（可用 riskmap import 导入其中的图层）: {self.target}",
                        f"a GeoPackage but not a riskmap project (use riskmap import for its layers): {self.target}")
                row = conn.execute(select(ProjectMeta.value).where(ProjectMeta.key == "schema_version")).scalar()
        except DatabaseError as exc:
            raise RiskmapError(f"项目文件已损坏或无法读取: {self.target}",
                               f"project file is damaged or unreadable: {self.target}") from exc
        upgrade(self.engine, int(row or 0), readonly=self.readonly, where=self.target)

    def _add_own_county(self, place: str | None, metric_epsg: int | None) -> None:
        """A new county project lists its own county (schema 5: its rows get it from the model's default)."""
        from riskmap.model import County
        from riskmap.store.counties import file_county

        row = file_county(place, metric_epsg)
        if row is not None:
            with self.engine.begin() as conn:
                conn.execute(County.__table__.insert().values(**row))

    def counties(self) -> list[tuple[str, str]]:
        """(adcode, name) of the counties this project holds: a county file its own place; a city's shared
        database each county pushed into it; [] when none (a file whose place is a city or none)."""
        from riskmap.store.counties import list_counties

        with self.engine.connect() as conn:
            return list_counties(conn)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.engine.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- sessions ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def session(self, *, history: bool = True) -> Iterator[Session]:
        """A unit of work: committed at the end as one transaction, rolled back on error."""
        if self.readonly:
            raise RiskmapError(f"项目以只读方式打开，不能修改: {self.target}", f"project is read-only: {self.target}")
        sess = self._sessionmaker()
        event.listen(sess, "before_flush", _remember_versions)  # to name the feature of an edit conflict
        if history:
            track(sess, self.user)
        try:
            yield sess
            sess.commit()
            self._meta_cache = None  # the work may have written project_meta (zoning settings, the 示意 mark …)
        except StaleDataError as exc:
            sess.rollback()
            raise conflict_error(self.engine, sess.info.get("read_versions", {}), exc) from exc
        except OperationalError as exc:
            sess.rollback()
            if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
                raise RiskmapError(f"项目文件只读，不能写入: {self.target}", f"project file is read-only: {self.target}") from exc
            err = self._refusal(exc)  # e.g. the database connection was lost
            if err is not None:
                raise err from exc
            raise
        except DBAPIError as exc:
            sess.rollback()
            err = self._refusal(exc)
            if err is not None:
                raise err from exc
            raise
        except BaseException:
            sess.rollback()
            raise
        finally:
            sess.close()

    def reader(self) -> Session:
        """A read-only session (the caller closes it)."""
        return self._sessionmaker()

    # ---- metadata ---------------------------------------------------------------------------
    def meta(self) -> dict[str, str | None]:
        if self._meta_cache is None:
            with self.engine.connect() as conn:
                self._meta_cache = {k: v for k, v in conn.execute(select(ProjectMeta.key, ProjectMeta.value))}
        return dict(self._meta_cache)

    def set_meta(self, **values) -> None:
        try:
            with self.engine.begin() as conn:
                for key, value in values.items():
                    conn.execute(ProjectMeta.__table__.delete().where(ProjectMeta.key == key))
                    conn.execute(ProjectMeta.__table__.insert().values(key=key, value=None if value is None else str(value)))
        except DBAPIError as exc:
            err = self._refusal(exc)
            if err is not None:
                raise err from exc
            raise
        self._meta_cache = None

    @property
    def name(self) -> str:
        return self.meta().get("name") or Path(self.target).stem

    @property
    def is_demo(self) -> bool:
        return self.meta().get("demo") == "1"

    @property
    def place(self) -> str | None:
        return self.meta().get("place") or None

    @property
    def metric_epsg(self) -> int | None:
        value = self.meta().get("metric_epsg")
        return int(value) if value else None

    def catalogue(self) -> dict:
        """The layer catalogue as this project titles it: 示意 on the layers of approximate zones (the one
        place screen, print and exports take layer titles from)."""
        return marked_catalogue(approximate_kinds(self.meta()))

    @property
    def schema_version(self) -> int:
        return int(self.meta().get("schema_version") or 0)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # ---- reading layers ---------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Row counts of every table of the model."""
        out = {}
        with self.engine.connect() as conn:
            for cls in MODEL_CLASSES:
                out[cls.__tablename__] = conn.execute(select(func.count()).select_from(cls.__table__)).scalar()
        return out

    @contextlib.contextmanager
    def shared_reads(self) -> Iterator[None]:
        """Within the block, this thread reads each table (:meth:`read_table`, same arguments) and each
        :meth:`memo` value once: for work that reads one state of the project many times, such as a briefing
        (statistics, changes and map for the same dates). Nothing may be written meanwhile."""
        outer = getattr(self._reads, "cache", None)
        if outer is None:
            self._reads.cache = {}
        try:
            yield
        finally:
            if outer is None:
                self._reads.cache = None

    def memo(self, key, compute):
        """``compute()``, made once per ``key`` inside :meth:`shared_reads` (else every time)."""
        cache = getattr(self._reads, "cache", None)
        if cache is None:
            return compute()
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def read_table(self, table: str, where: str | None = None, columns: list[str] | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
        """A whole table as a (Geo)DataFrame indexed by ``id``; geometry in EPSG:4490.

        Geometry is decoded in bulk, not per row, so a 100k-row layer reads in well under a second.
        """
        if getattr(self._reads, "cache", None) is not None:  # the whole table once, the columns asked from it
            full = self.memo(("read_table", table, where), lambda: self._read_table(table, where, None))
            if columns is not None:
                full = full[[c for c in full.columns if c in columns or c in ("id", "geometry")]]
            return full.copy()
        return self._read_table(table, where, columns)

    def _read_table(self, table: str, where: str | None, columns: list[str] | None):
        cls = class_for_table(table)
        tbl = cls.__table__
        cols = [c for c in tbl.columns if columns is None or c.name in columns or c.name in ("id", "geom")]
        sql_cols = []
        quote = self.engine.dialect.identifier_preparer.quote  # e.g. edit_history."user"
        for c in cols:
            if c.name == "geom" and self.dialect == "postgresql":
                sql_cols.append(f"ST_AsBinary({c.name}) AS geom")
            elif self.dialect == "postgresql" and isinstance(c.type, (Timestamp, Date)):
                # the same text as the GeoPackage store holds, so results do not depend on the backend
                fmt = 'YYYY-MM-DD"T"HH24:MI:SS".000Z"' if isinstance(c.type, Timestamp) else "YYYY-MM-DD"
                sql_cols.append(f"to_char({quote(c.name)}, '{fmt}') AS {quote(c.name)}")
            else:
                sql_cols.append(quote(c.name))
        sql = f"SELECT {', '.join(sql_cols)} FROM {tbl.name}"
        if where:
            sql += f" WHERE {where}"
        if self.dialect == "postgresql":
            if "id" in tbl.c:
                sql += " ORDER BY id"  # as a GeoPackage reads (rowid order); PostgreSQL moves updated rows
            sql = sql.replace("%", "%%")  # psycopg reads % as a placeholder (e.g. in LIKE '%镇')
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                # the DB-API cursor gives plain tuples, without a Row object per row
                rows = conn.connection.driver_connection.execute(sql).fetchall()
            else:
                rows = [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]
        names = [c.name for c in cols]
        if rows:
            df = pd.DataFrame({n: pd.Series(v, dtype=object if n == "geom" else None)
                               for n, v in zip(names, zip(*rows))}, columns=names)
        else:  # the same object columns without a Series each (an empty layer: 0.2 ms instead of 0.7)
            df = pd.DataFrame({n: np.empty(0, dtype=object) for n in names}, columns=names)
        for c in cols:
            if c.name != "geom" and c.type.python_type is bool and len(df):
                df[c.name] = df[c.name].astype("boolean")
        if "id" in df:
            df = df.set_index("id", drop=False)
            df.index.name = None
        if "geom" not in names:
            return df
        blobs = df.pop("geom").to_numpy()
        if self.dialect == "postgresql":
            import shapely
            geoms = shapely.from_wkb(np.array([None if b is None else bytes(b) for b in blobs], dtype=object))
        else:
            geoms = from_gpkg_blobs(blobs)
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index, crs=f"EPSG:{SRID}"))

    def read_layer(self, layer, columns: list[str] | None = None) -> gpd.GeoDataFrame:
        """The features of a catalogue layer (its table filtered by its ``where``); ``columns``: only these
        (and ``id`` and the geometry; names the table lacks are left out), else all.

        A table holding several geometry kinds (risk points: points and areas) gives each layer the rows of
        its own kind (and, to point layers, the rows without a place)."""
        import shapely

        gdf = self.read_table(layer.table, where=layer.where, columns=columns)
        kinds = _LAYER_TYPE_IDS.get(getattr(layer, "geometry", None))
        try:
            cls = class_for_table(layer.table)
        except KeyError:
            return gdf
        for c in cls.__table__.columns:  # JSON values (a risk point's signs) as text: a layer's cells are scalars
            if isinstance(c.type, JSONText) and c.name in gdf.columns and len(gdf):
                gdf[c.name] = [json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                               for v in gdf[c.name]]
        if cls.__geometry__ != "GEOMETRY" or kinds is None or not isinstance(gdf, gpd.GeoDataFrame) or not len(gdf):
            return gdf
        types = shapely.get_type_id(gdf.geometry.array)
        keep = np.isin(types, kinds) | ((types == -1) & (layer.geometry == "point"))
        return gdf if keep.all() else gdf[keep]

    def read_arrays(self, table: str, columns: list[str], *, where: str | None = None, ids=None,
                    xy: bool = False) -> dict[str, np.ndarray]:
        """Columns of ``table`` as numpy arrays, in id order (see :func:`read_arrays`)."""
        with self.engine.connect() as conn:
            return read_arrays(conn, table, columns, where=where, ids=ids, xy=xy)

    def refresh_extents(self) -> None:
        """Keep gpkg_contents extents and change times current (GeoPackage only)."""
        if self.dialect != "sqlite" or self.readonly:
            return
        with self.engine.begin() as conn:
            gpkg.refresh_contents(conn.connection.driver_connection)

    def execute(self, sql: str, **params):
        try:
            with self.engine.begin() as conn:
                return conn.execute(text(sql), params)
        except DBAPIError as exc:
            err = self._refusal(exc)
            if err is not None:
                raise err from exc
            raise

    def _refusal(self, exc: DBAPIError) -> RiskmapError | None:
        """A write refused by the database (privilege, read-only, immutable record) in words, else None."""
        from riskmap.store.roles import explain_refusal

        return explain_refusal(self, exc)

    # ---- shared database: permissions and change notices ------------------------------------
    def permissions(self):
        """What the current user may do (PostgreSQL: asked of the database; file: writable or not)."""
        from riskmap.store.roles import permissions

        return permissions(self)

    def listen(self, callback: Callable | None = None) -> None:
        """Receive other users' changes (PostgreSQL LISTEN/NOTIFY); ``poll_changes`` delivers them.

        ``callback(change)`` is called for each change; a GeoPackage project has none (no-op).
        """
        if self.dialect != "postgresql":
            return
        if self._listener is None:
            from riskmap.store.postgis import ChangeListener

            self._listener = ChangeListener(self.engine)
        if callback is not None:
            self._listener.callbacks.append(callback)

    def poll_changes(self, timeout: float = 0.0) -> list:
        """Changes that arrived since the last poll (waits up to ``timeout`` seconds); [] on GeoPackage."""
        if self._listener is None:
            return []
        return self._listener.poll(timeout)


open_project = Project.open
create_project = Project.create


# ---- bulk reads through a connection (inside its transaction) -----------------------------------
def read_arrays(conn, table: str, columns: list[str], *, where: str | None = None, ids=None,
                xy: bool = False) -> dict[str, np.ndarray]:
    """Columns of ``table`` as numpy arrays, in id order: the bulk path for computations over 100k rows
    (no DataFrame, no shapely objects), through ``conn`` (a SQLAlchemy Connection; inside a transaction it
    sees that transaction's own rows). A column holding NULLs comes as an object array with None.
    ``xy``: also ``x`` and ``y`` of the point geometry (NaN where missing or empty); ``ids``: only those
    rows, in one query."""
    cls = class_for_table(table)
    tbl = cls.__table__
    quote = conn.dialect.identifier_preparer.quote
    sql_cols = [quote(tbl.c[c].name) for c in columns]
    pg = conn.dialect.name == "postgresql"
    if xy:
        if cls.__geometry__ != "POINT":
            raise ValueError(f"{table} is not a point table")
        sql_cols += ["ST_X(geom)", "ST_Y(geom)"] if pg else ["geom"]
    conds, params = [f"({where})"] if where else [], None
    if ids is not None:
        id_list = [int(i) for i in ids]
        if pg:
            conds = [c.replace("%", "%%") for c in conds] + ["id = ANY(%s)"]
            params = (id_list,)
        else:
            conds.append("id IN (SELECT value FROM json_each(?))")
            params = (json.dumps(id_list),)
    sql = f"SELECT {', '.join(sql_cols)} FROM {tbl.name}" + (f" WHERE {' AND '.join(conds)}" if conds else "")
    if pg and "id" not in columns:
        sql += " ORDER BY id"  # else sorted here, cheaper than on the server
    raw = conn.connection.driver_connection
    parts: list[list[np.ndarray]] = [[] for _ in range(len(columns) + (2 if xy else 0))]
    try:
        if pg:  # binary: numbers arrive as numbers, twice as fast as text for 100k rows
            with raw.cursor(binary=True) as cur:
                _arrays_by_chunk(cur.execute(sql, params), columns, xy, pg, parts)
        else:  # plain tuples, without a Row object per row
            _arrays_by_chunk(raw.execute(sql, params or ()), columns, xy, pg, parts)
    except Exception as exc:
        raise _raw_error(conn, sql, exc) from exc
    names = list(columns) + (["x", "y"] if xy else [])
    out = {name: _joined(chunks) for name, chunks in zip(names, parts)}
    if pg and "id" in columns:
        order = np.argsort(out["id"], kind="stable")
        out = {k: v[order] for k, v in out.items()}
    return out


ARRAY_CHUNK_ROWS = 100_000  # rows turned into numpy arrays at a time by read_arrays


def _arrays_by_chunk(cur, columns: list[str], xy: bool, pg: bool, parts: list) -> None:
    """The rows of ``cur`` as numpy arrays, ARRAY_CHUNK_ROWS at a time, appended to ``parts`` (one list per
    column, then x and y): only a chunk's Python objects are alive at once (a city's million enterprises with
    three text columns peaked 0.5 GB higher converted whole)."""
    while True:
        rows = cur.fetchmany(ARRAY_CHUNK_ROWS)
        if not rows:
            return
        data = list(zip(*rows))
        del rows
        for j in range(len(columns)):
            arr = np.array(data[j])
            parts[j].append(np.array(data[j], dtype=object) if arr.dtype.kind in "OSU" else arr)
        if xy and pg:
            parts[-2].append(np.array(data[-2], dtype=float))
            parts[-1].append(np.array(data[-1], dtype=float))
        elif xy:
            x, y = gpkg_points_xy(data[-1]).T
            parts[-2].append(x)
            parts[-1].append(y)


def _joined(chunks: list[np.ndarray]) -> np.ndarray:
    """One column from its chunks, as if converted whole: numbers promoted together, else (a chunk holding
    NULLs or text beside a chunk of numbers) an object array of Python values."""
    if not chunks:
        return np.array(())
    if len(chunks) == 1:
        return chunks[0]
    if all(c.dtype != object for c in chunks) or all(c.dtype == object for c in chunks):
        return np.concatenate(chunks)
    out = np.empty(sum(len(c) for c in chunks), dtype=object)
    at = 0
    for c in chunks:
        out[at:at + len(c)] = c.tolist() if c.dtype != object else c
        at += len(c)
    return out


# ---- bulk writes inside a transaction ---------------------------------------------------------
def gpkg_points_xy(blobs) -> np.ndarray:
    """(n, 2) x, y of GeoPackage point blobs (NaN for None, empty or not a point): riskmap's own
    little-endian blobs with an xy envelope are read as one numpy array, any other blob one by one."""
    import shapely

    blobs = list(blobs)
    n = len(blobs)
    out = np.full((n, 2), np.nan)
    size = 8 + 32 + 21  # header, xy envelope, 2-D WKB point
    if None in blobs:
        fast = np.array([b is not None and len(b) == size for b in blobs], dtype=bool)
        joined = b"".join(blobs[i] for i in np.flatnonzero(fast))
    else:
        fast = np.fromiter(map(len, blobs), dtype=np.int64, count=n) == size
        joined = b"".join(blobs) if fast.all() else b"".join(blobs[i] for i in np.flatnonzero(fast))
    if fast.any():
        raw = np.frombuffer(joined, dtype=np.uint8).reshape(-1, size)
        ok = ((raw[:, 0] == 0x47) & (raw[:, 1] == 0x50) & (raw[:, 3] == 0b11)
              & (raw[:, 40:45] == np.array([1, 1, 0, 0, 0], dtype=np.uint8)).all(axis=1))
        idx = np.flatnonzero(fast)
        out[idx[ok]] = np.ascontiguousarray(raw[ok, 45:61]).view("<f8")
        fast[idx[~ok]] = False
    for i in np.flatnonzero(~fast):
        if blobs[i] is not None:
            g = from_gpkg_blobs([blobs[i]])[0]
            if g is not None and g.geom_type == "Point" and not g.is_empty:
                out[i] = (shapely.get_x(g), shapely.get_y(g))
    return out


def _bulk_columns(conn, table: str, values: dict) -> tuple[list[str], list[list]]:
    """Column names and per-column Python lists (scalars repeated), after each column type's bind processing."""
    tbl = class_for_table(table).__table__
    n = max((len(v) for v in values.values() if isinstance(v, (list, tuple, np.ndarray, pd.Series))), default=0)
    names, cols = [], []
    for name, v in values.items():
        proc = tbl.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if isinstance(v, (list, tuple, np.ndarray, pd.Series)):
            v = v.tolist() if hasattr(v, "tolist") else list(v)
            if len(v) != n:
                raise ValueError(f"column {name}: {len(v)} values, expected {n}")
            cols.append([proc(x) for x in v] if proc else v)
        else:
            cols.append([proc(v) if proc else v] * n)
        names.append(name)
    return names, cols


def _raw_error(conn, sql: str, exc: BaseException) -> BaseException:
    """A DB-API error raised on the driver connection, as SQLAlchemy would raise it (so the session's
    handlers treat it alike)."""
    dbapi = conn.dialect.loaded_dbapi
    if isinstance(exc, dbapi.Error):
        return DBAPIError.instance(sql, None, exc, dbapi.Error, hide_parameters=True, dialect=conn.dialect)
    return exc


def bulk_insert(conn, table: str, values: dict) -> int:
    """Insert many rows through ``conn`` (a SQLAlchemy Connection, inside its transaction). ``values`` maps
    column names to sequences of one length, or to one value for every row; plain columns only (no geometry).
    SQLite: multi-row ``INSERT … VALUES`` statements (half the cost of one statement per row); PostgreSQL:
    ``COPY … FROM STDIN``. Returns the number of rows."""
    from riskmap.store.counties import with_county

    names, cols = _bulk_columns(conn, table, with_county(conn, table, values))
    n = len(cols[0]) if cols else 0
    if not n:
        return 0
    quote = conn.dialect.identifier_preparer.quote
    col_sql = ", ".join(quote(c) for c in names)
    if conn.dialect.name == "postgresql":
        pg_copy_rows(conn, table, names, None, columns=cols)
        return n
    per = max(1, 999 // len(names))  # rows per statement within SQLite's oldest limit of bound variables
    one = "(" + ", ".join(["?"] * len(names)) + ")"
    flat = np.empty((n, len(names)), dtype=object)
    for j, c in enumerate(cols):
        flat[:, j] = c
    full = n // per * per
    if full:
        conn.exec_driver_sql(f"INSERT INTO {table} ({col_sql}) VALUES " + ", ".join([one] * per),
                             list(map(tuple, flat[:full].reshape(-1, per * len(names)).tolist())))
    if full < n:
        conn.exec_driver_sql(f"INSERT INTO {table} ({col_sql}) VALUES " + ", ".join([one] * (n - full)),
                             tuple(flat[full:].reshape(-1).tolist()))
    return n


def _pg_text(v):
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(v).hex()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


_PLAIN = {int, str, type(None)}  # exact types written as text here (float, bool, numpy, dates…: the driver)
_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _plain_texts(col) -> list | None:
    """The values of one column as text (None kept: NULL), or None when a value is not exactly an int, str or
    None (the driver then dumps the column itself)."""
    kinds = set(map(type, col))
    if not kinds <= _PLAIN:
        return None
    if int not in kinds:
        return list(col)
    if kinds == {int}:
        return list(map(str, col))
    return [v if v is None or type(v) is str else str(v) for v in col]


def pg_array_literal(col) -> str | None:
    """One PostgreSQL array literal of ``col``'s values — each element double-quoted with ``"`` and ``\\``
    escaped, None as an unquoted NULL — bound as one parameter the server parses, instead of the driver
    dumping each element; None when a value is not an int, str or None."""
    texts = _plain_texts(col)
    if texts is None:
        return None
    if set(map(type, col)) == {int}:
        return "{" + ",".join(texts) + "}"
    if texts and None not in texts:
        raw = "\x00".join(texts)
        if "\\" not in raw and '"' not in raw:
            return '{"' + '","'.join(texts) + '"}'
    return "{" + ",".join("NULL" if t is None else '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for t in texts) + "}"


def _copy_text(cols: list) -> str | None:
    """The rows of ``cols`` (columns of one length) in COPY's text format — tab-separated, ``\\N`` for NULL,
    backslash, tab, newline and carriage return escaped — or None when a value is not an int, str or None."""
    out = []
    for col in cols:
        texts = _plain_texts(col)
        if texts is None:
            return None
        joined = "\x00".join(filter(None, texts))
        if any(ch in joined for ch in "\\\t\n\r"):
            texts = ["\\N" if t is None else t.translate(_COPY_ESCAPE) for t in texts]
        elif None in texts:
            texts = ["\\N" if t is None else t for t in texts]
        out.append(texts)
    return "\n".join(map("\t".join, zip(*out))) + "\n"


def pg_copy_rows(conn, table: str, names: list[str], rows: list[tuple] | None, *, chunk: int = 20_000,
                 columns: list | None = None) -> None:
    """Rows (or ``columns``, lists of one length) into a PostgreSQL table inside ``conn``'s transaction:
    ``COPY … FROM STDIN`` — ``chunk`` rows at a time written as one text block when every value is an int, str
    or None, else row by row by the driver — or, where row-level security applies to the user (a
    county-limited database, schema 5: PostgreSQL refuses COPY then), ``INSERT … SELECT FROM unnest(…)``, one
    statement per ``chunk`` rows, each row checked by the policies. A geometry column takes (E)WKB hex text."""
    quote = conn.dialect.identifier_preparer.quote
    col_sql = ", ".join(quote(c) for c in names)
    raw = conn.connection.driver_connection
    if columns is None:
        columns = [list(c) for c in zip(*rows)] if len(rows) else [[] for _ in names]
    n = len(columns[0]) if columns else 0
    rls = conn.execute(text("SELECT row_security_active(:t)"), {"t": table}).scalar()
    if not rls:
        sql = f"COPY {table} ({col_sql}) FROM STDIN"
        try:
            with raw.cursor() as cur, cur.copy(sql) as copy:
                for k in range(0, n, chunk):
                    part = [c[k:k + chunk] for c in columns]
                    block = _copy_text(part)
                    if block is not None:
                        copy.write(block)
                    else:
                        for row in zip(*part):
                            copy.write_row(row)
        except Exception as exc:
            raise _raw_error(conn, sql, exc) from exc
        return
    tbl = class_for_table(table).__table__
    types = []
    for c in names:
        t = tbl.c[c].type
        types.append("text" if isinstance(t, JSONText) or c == "geom" else t.compile(dialect=conn.dialect))
    # every value as text (bytea as \\x hex), cast by the column's type as COPY's text format would be read
    sel = ", ".join(f"v{i}::geometry" if c == "geom" else f"v{i}::{t}" for i, (c, t) in enumerate(zip(names, types)))
    arrays = ", ".join(["%s::text[]"] * len(names))
    sql = (f"INSERT INTO {table} ({col_sql}) SELECT {sel} FROM unnest({arrays}) "
           f"AS v({', '.join(f'v{i}' for i in range(len(names)))})")
    try:
        with raw.cursor() as cur:
            for k in range(0, n, chunk):
                cur.execute(sql, [pg_array_literal([_pg_text(v) for v in col[k:k + chunk]]) for col in columns])
    except Exception as exc:
        raise _raw_error(conn, sql, exc) from exc


def bulk_update(conn, table: str, values: dict, key: str = "id") -> int:
    """Set columns of many rows, each found by ``values[key]``, through ``conn`` inside its transaction:
    SQLite ``executemany`` of plain tuples, PostgreSQL one ``UPDATE … FROM unnest(…)`` (one statement, so one
    change notice). ``values`` as for :func:`bulk_insert`. Returns the number of rows given."""
    names, cols = _bulk_columns(conn, table, values)
    n = len(cols[0]) if cols else 0
    if not n:
        return 0
    quote = conn.dialect.identifier_preparer.quote
    k = names.index(key)
    others = [i for i in range(len(names)) if i != k]
    if conn.dialect.name == "postgresql":
        # each column one parameter: an array literal the server parses (see pg_array_literal), else the list
        # the driver dumps element by element (other types); a value given once for all rows bound once
        tbl = class_for_table(table).__table__
        once = [i for i in others if not isinstance(values[names[i]], (list, tuple, np.ndarray, pd.Series))]
        arr = [i for i in range(len(names)) if i not in once]
        sql_type = {i: tbl.c[names[i]].type.compile(dialect=conn.dialect) for i in range(len(names))}
        sets = ", ".join(f"{quote(names[i])} = %s::{sql_type[i]}" if i in once else
                         f"{quote(names[i])} = v.{quote(names[i])}" for i in others)
        arrays = [f"%s::{sql_type[i]}[]" for i in arr]
        params = [cols[i][0] for i in once]  # SET's placeholders come before FROM's
        for i in arr:
            lit = pg_array_literal(cols[i])
            params.append(cols[i] if lit is None else lit)
        conn.exec_driver_sql(f"UPDATE {table} AS t SET {sets} FROM unnest({', '.join(arrays)}) "
                             f"AS v({', '.join(quote(names[i]) for i in arr)}) "
                             f"WHERE t.{quote(key)} = v.{quote(key)}", tuple(params))
        return n
    sets = ", ".join(f"{quote(names[i])} = ?" for i in others)
    conn.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE {quote(key)} = ?",
                         list(zip(*[cols[i] for i in others], cols[k])))
    return n
