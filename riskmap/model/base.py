"""Declarative base and column helpers shared by every model class."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import DateTime, Integer, Text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


class JSONText(TypeDecorator):
    """JSON stored as TEXT (a GeoPackage column type that GDAL and QGIS read as a string)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


class Timestamp(TypeDecorator):
    """DATETIME stored on SQLite as the GeoPackage form ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sqlite.DATETIME(
                storage_format="%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d.000Z",
                regexp=r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(?:\.\d+)?Z?",
            ))
        return dialect.type_descriptor(DateTime())


class Base(DeclarativeBase):
    """Base of all riskmap tables. ``__geometry__`` names the geometry type of a feature table."""

    __geometry__: str | None = None  # None: an attributes table

    def as_dict(self) -> dict:
        """Column values by attribute name (geometry included, as a shapely object)."""
        return {c.key: getattr(self, c.key) for c in self.__mapper__.column_attrs}


class Versioned:
    """Optimistic locking and timestamps for editable records."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}
