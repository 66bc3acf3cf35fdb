"""A SQLAlchemy geometry column type: GeoPackage blobs on SQLite, PostGIS geometry on PostgreSQL.

Values on the Python side are shapely geometries in EPSG:4490. On SQLite the column holds a
GeoPackage geometry blob (header + WKB, OGC 12-128r18 §2.1.3); on PostgreSQL a PostGIS
``geometry(TYPE, 4490)`` that travels as WKB.
"""

from __future__ import annotations

import struct

import numpy as np
import shapely
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import UserDefinedType

SRID = 4490
_GP_HEADER = struct.Struct("<2sBBi")  # magic, version, flags, srs_id
# envelope indicator -> number of doubles in the envelope
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def to_gpkg_blob(geom, srid: int = SRID) -> bytes | None:
    """Encode a shapely geometry as a GeoPackage blob (little-endian, xy envelope).

    >>> from shapely import Point
    >>> blob = to_gpkg_blob(Point(105, 35))
    >>> blob[:2], from_gpkg_blob(blob).wkt
    (b'GP', 'POINT (105 35)')
    """
    if geom is None:
        return None
    wkb = shapely.to_wkb(geom, byte_order=1, flavor="iso")
    if geom.is_empty:
        flags = 0b00010001  # empty, no envelope, little-endian
        return _GP_HEADER.pack(b"GP", 0, flags, srid) + wkb
    flags = 0b00000011  # envelope [minx, maxx, miny, maxy], little-endian
    minx, miny, maxx, maxy = geom.bounds
    return _GP_HEADER.pack(b"GP", 0, flags, srid) + struct.pack("<4d", minx, maxx, miny, maxy) + wkb


def gpkg_wkb_offset(blob: bytes) -> int:
    """Byte offset where the WKB starts inside a GeoPackage blob."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    return 8 + 8 * _ENVELOPE_DOUBLES[(flags >> 1) & 0b111]


def from_gpkg_blob(blob: bytes | None):
    """Decode a GeoPackage blob to a shapely geometry (None stays None)."""
    if blob is None:
        return None
    return shapely.from_wkb(bytes(blob[gpkg_wkb_offset(blob):]))


_POINT_BLOB_LEN = 8 + 32 + 21  # header, xy envelope, little-endian 2-D WKB point


def _points_fast(blobs) -> np.ndarray | None:
    """Decode blobs that are all 2-D points with an xy envelope, as riskmap writes them, in bulk."""
    if not blobs or any(b is None or len(b) != _POINT_BLOB_LEN for b in blobs):
        return None
    raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), _POINT_BLOB_LEN)
    wkb_head = raw[:, 40:45]
    if not ((raw[:, 3] == 0b11).all() and (wkb_head == np.array([1, 1, 0, 0, 0], dtype=np.uint8)).all()):
        return None
    xy = np.ascontiguousarray(raw[:, 45:61]).view("<f8")
    return shapely.points(xy[:, 0], xy[:, 1])


def from_gpkg_blobs(blobs) -> np.ndarray:
    """Vectorised decode of many blobs (None allowed) to an array of shapely geometries."""
    blobs = [None if b is None else bytes(b) for b in blobs]
    fast = _points_fast(blobs)
    if fast is not None:
        return fast
    wkbs = [None if b is None else b[gpkg_wkb_offset(b):] for b in blobs]
    return shapely.from_wkb(np.array(wkbs, dtype=object))


def to_gpkg_blobs(geoms, srid: int = SRID) -> list:
    """Vectorised encode: WKB and bounds from shapely in bulk, headers packed per row."""
    geoms = np.asarray(geoms, dtype=object)
    wkbs = shapely.to_wkb(geoms, byte_order=1, flavor="iso")
    bounds = shapely.bounds(geoms)
    empty = shapely.is_empty(geoms)
    out = []
    head_full = _GP_HEADER.pack(b"GP", 0, 0b11, srid)
    head_empty = _GP_HEADER.pack(b"GP", 0, 0b10001, srid)
    for g, wkb, b, e in zip(geoms, wkbs, bounds, empty):
        if g is None:
            out.append(None)
        elif e:
            out.append(head_empty + wkb)
        else:
            out.append(head_full + struct.pack("<4d", b[0], b[2], b[1], b[3]) + wkb)
    return out


_PROMOTE = {
    "MULTIPOLYGON": ("Polygon", shapely.MultiPolygon),
    "MULTILINESTRING": ("LineString", shapely.MultiLineString),
    "MULTIPOINT": ("Point", shapely.MultiPoint),
}


def promote(geom, geometry_type: str):
    """Wrap a single part in its multi type when the column is a multi type."""
    if geom is None:
        return None
    single = _PROMOTE.get(geometry_type)
    if single and geom.geom_type == single[0]:
        return single[1]([geom])
    return geom


class _ToGeom(FunctionElement):
    inherit_cache = True
    name = "to_geom"


class _FromGeom(FunctionElement):
    inherit_cache = True
    name = "from_geom"

    def __init__(self, col, type_):
        super().__init__(col)
        self.type = type_


@compiles(_ToGeom)
def _to_geom_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_ToGeom, "postgresql")
def _to_geom_pg(element, compiler, **kw):
    return f"ST_GeomFromWKB({compiler.process(element.clauses, **kw)}, {SRID})"


@compiles(_FromGeom)
def _from_geom_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_FromGeom, "postgresql")
def _from_geom_pg(element, compiler, **kw):
    return f"ST_AsBinary({compiler.process(element.clauses, **kw)})"


class Geometry(UserDefinedType):
    """Geometry column: ``Geometry("POINT")``, ``Geometry("MULTIPOLYGON")`` …, always EPSG:4490."""

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = SRID):
        self.geometry_type = geometry_type.upper()
        self.srid = srid

    def get_col_spec(self, **kw):
        return self.geometry_type

    def bind_expression(self, bindvalue):
        return _ToGeom(bindvalue)

    def column_expression(self, colexpr):
        return _FromGeom(colexpr, self)

    def bind_processor(self, dialect):
        gtype, srid = self.geometry_type, self.srid
        if dialect.name == "postgresql":
            def process(value):
                return None if value is None else shapely.to_wkb(promote(value, gtype), flavor="iso")
        else:
            def process(value):
                return to_gpkg_blob(promote(value, gtype), srid)
        return process

    def result_processor(self, dialect, coltype):
        if dialect.name == "postgresql":
            def process(value):
                return None if value is None else shapely.from_wkb(bytes(value))
        else:
            def process(value):
                return from_gpkg_blob(value)
        return process


@compiles(Geometry, "postgresql")
def _geometry_pg_type(type_, compiler, **kw):
    return f"geometry({type_.geometry_type}, {type_.srid})"
