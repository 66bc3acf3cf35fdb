"""The project: one GeoPackage file (or a PostgreSQL + PostGIS URL) holding a county's risk data.

>>> # p = Project.create("x.gpkg", name="会宁县 示例", place="620422"); p.close()
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from riskmap.errors import RiskmapError
from riskmap.model import MODEL_CLASSES, SRID, Base, ProjectMeta, class_for_table
from riskmap.model.geometry import from_gpkg_blobs
from riskmap.store import gpkg
from riskmap.store.history import current_user, track
from riskmap.store.migrations import SCHEMA_VERSION, pending

DEMO_MARK = "示例数据"


def is_url(target: str | os.PathLike) -> bool:
    return isinstance(target, str) and "://" in target


def _sqlite_engine(path: Path, readonly: bool) -> Engine:
    uri = f"file:{path}?mode={'ro' if readonly else 'rw'}"

    def connect():
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    engine = create_engine("sqlite://", creator=connect)
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
        folder = path.parent if str(path.parent) else Path(".")
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
            os.close(fd)
        except OSError as exc:
            raise RiskmapError(f"无法在此位置写入: {folder} ({exc.strerror})",
                               f"cannot write to this location: {folder} ({exc.strerror})") from exc
        tmp = Path(tmp_name)
        project = None
        try:
            conn = sqlite3.connect(tmp)
            conn.close()
            project = cls(_sqlite_engine(tmp, False), str(tmp))
            Base.metadata.create_all(project.engine)
            with project.engine.begin() as c:
                gpkg.initialize(c.connection.driver_connection)
            project.set_meta(schema_version=str(SCHEMA_VERSION), name=name, place=place or "",
                             demo="1" if demo else "0", metric_epsg=str(metric_epsg or ""), created_by=project.user)
            if build is not None:
                build(project)
            project.refresh_extents()
            project.engine.dispose()
            os.replace(tmp, path)
        except BaseException:
            if project is not None:
                project.engine.dispose()
            tmp.unlink(missing_ok=True)
            raise
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
        version = int(row or 0)
        if version > SCHEMA_VERSION:
            raise RiskmapError(
                f"项目文件由更新版本的 riskmap 创建（结构版本 {version}，本程序支持 {SCHEMA_VERSION}），请升级 riskmap",
                f"project was made by a newer riskmap (schema {version}, this one reads {SCHEMA_VERSION}); upgrade riskmap")
        steps = pending(version)
        if steps:
            if self.readonly:
                raise RiskmapError(f"项目需要升级结构，但文件只读: {self.target}",
                                   f"project needs a schema upgrade but is read-only: {self.target}")
            with self.engine.begin() as conn:
                for step in steps:
                    step(conn)
                conn.execute(ProjectMeta.__table__.update().where(ProjectMeta.key == "schema_version")
                             .values(value=str(SCHEMA_VERSION)))

    def close(self) -> None:
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
        if history:
            track(sess, self.user)
        try:
            yield sess
            sess.commit()
        except OperationalError as exc:
            sess.rollback()
            if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
                raise RiskmapError(f"项目文件只读，不能写入: {self.target}", f"project file is read-only: {self.target}") from exc
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
        with self.engine.begin() as conn:
            for key, value in values.items():
                conn.execute(ProjectMeta.__table__.delete().where(ProjectMeta.key == key))
                conn.execute(ProjectMeta.__table__.insert().values(key=key, value=None if value is None else str(value)))
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

    def read_table(self, table: str, where: str | None = None, columns: list[str] | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
        """A whole table as a (Geo)DataFrame indexed by ``id``; geometry in EPSG:4490.

        Geometry is decoded in bulk, not per row, so a 100k-row layer reads in well under a second.
        """
        cls = class_for_table(table)
        tbl = cls.__table__
        cols = [c for c in tbl.columns if columns is None or c.name in columns or c.name in ("id", "geom")]
        sql_cols = []
        for c in cols:
            if c.name == "geom" and self.dialect == "postgresql":
                sql_cols.append(f"ST_AsBinary({c.name}) AS geom")
            else:
                sql_cols.append(c.name)
        sql = f"SELECT {', '.join(sql_cols)} FROM {tbl.name}"
        if where:
            sql += f" WHERE {where}"
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(sql).fetchall()
        names = [c.name for c in cols]
        df = pd.DataFrame.from_records(rows, columns=names)
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

    def read_layer(self, layer) -> gpd.GeoDataFrame:
        """The features of a catalogue layer (its table filtered by its ``where``)."""
        return self.read_table(layer.table, where=layer.where)

    def refresh_extents(self) -> None:
        """Keep gpkg_contents extents and change times current (GeoPackage only)."""
        if self.dialect != "sqlite" or self.readonly:
            return
        with self.engine.begin() as conn:
            gpkg.refresh_contents(conn.connection.driver_connection)

    def execute(self, sql: str, **params):
        with self.engine.begin() as conn:
            return conn.execute(text(sql), params)


open_project = Project.open
create_project = Project.create
