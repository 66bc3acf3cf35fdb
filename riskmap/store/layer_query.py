"""Exact answers on a layer too large to hold in memory (a lazy map layer): counts per style class, text
search, features at a point, sorted pages of rows, distinct values and a filter as a parameterised WHERE —
asked of the project's database (GeoPackage or PostGIS), never counted from what is drawn.

Every user value is bound as a parameter (LIKE patterns escaped); column names come from the layer's
catalogue fields (and ``id``) only; the layer's catalogue ``where`` is always applied. A ``where`` argument
is ``None``, a ``(sql, params)`` pair from :func:`filter_sql`, or SQL text of the program's own.

>>> from riskmap.layers import load_catalogue
>>> ents = load_catalogue()["enterprises"]
>>> filter_sql(ents, {"level": frozenset({1, None})})
('("level" IN (:f0_0) OR "level" IS NULL)', {'f0_0': 1})
>>> like_pattern("100%_a\\\\b")
'%100\\\\%\\\\_a\\\\\\\\b%'
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Boolean, Float, Integer, Numeric

from riskmap.errors import RiskmapError
from riskmap.fields import BOOL_WORDS, value_mapping
from riskmap.layers import LayerDef
from riskmap.model import class_for_table
from riskmap.model.geometry import from_gpkg_blobs

OTHER = "__other__"  # class key of category values not in the catalogue (as riskmap.render.prepared.OTHER)
SEARCH_LIMIT = 50
DISTINCT_LIMIT = 81  # one more than a filter list shows: "more than 80 values" without counting them all
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_DIM = {"point": 0, "line": 1, "polygon": 2}
_PG_TYPES = {"point": "'POINT', 'MULTIPOINT'", "line": "'LINESTRING', 'MULTILINESTRING'",
             "polygon": "'POLYGON', 'MULTIPOLYGON'"}

Where = "None | str | tuple[str, dict]"


# ---- the layer's table -------------------------------------------------------------------------------------
def _table(layer_def: LayerDef):
    try:
        return class_for_table(layer_def.table).__table__
    except KeyError:
        raise RiskmapError(f"图层的表不存在：{layer_def.table}", f"no such table: {layer_def.table}",
                           where=layer_def.id) from None


def columns(layer_def: LayerDef) -> list[str]:
    """id and the catalogue fields the table has, in catalogue order: the columns a page shows.

    >>> from riskmap.layers import load_catalogue
    >>> columns(load_catalogue()["towns"])
    ['id', 'name', 'level', 'level_rule', 'population']
    """
    return _columns(layer_def)


def numeric(layer_def: LayerDef, name: str) -> bool:
    """Whether a column holds numbers (integer or real)."""
    return _kind(layer_def, name) == "num"


def _columns(layer_def: LayerDef) -> list[str]:
    tbl = _table(layer_def)
    return ["id"] + [f.name for f in layer_def.fields if f.name in tbl.c and f.name != "id"]


def _q(name: str) -> str:
    return f'"{name}"'  # whitelisted column names only (see _column)


def _column(layer_def: LayerDef, name: str, *, fields_only: bool = True) -> str:
    """``name`` if it is ``id`` or a catalogue field of the layer held by its table, else an error."""
    allowed = _columns(layer_def) if fields_only else list(_table(layer_def).c.keys())
    if name not in allowed:
        raise RiskmapError(f"图层{layer_def.name_zh}没有字段 {name!r}", f"layer {layer_def.id} has no field {name!r}",
                           where=layer_def.id)
    return name


def _kind(layer_def: LayerDef, name: str) -> str:
    """'bool', 'num' or 'text': how values of a column are bound."""
    t = _table(layer_def).c[name].type
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, (Integer, Float, Numeric)):
        return "num"
    return "text"


def _geom_dim(blob) -> int | None:
    """Dimension of a GeoPackage blob's geometry (0 points, 1 lines, 2 polygons, -1 other; None for none)."""
    if blob is None:
        return None
    b = bytes(blob)
    if len(b) < 8:
        return -1
    flags = b[3]
    env = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0b111, 0)
    at = 8 + env
    if len(b) < at + 5:
        return -1
    code = struct.unpack_from("<I" if b[at] == 1 else ">I", b, at + 1)[0] & 0xFFFF
    return {1: 0, 4: 0, 2: 1, 5: 1, 3: 2, 6: 2}.get(code % 1000, -1)


def _kind_condition(conn, layer_def: LayerDef) -> str | None:
    """A table holding several geometry kinds (risk points: points and areas) gives each layer the rows of
    its own kind, and point layers the rows without a place too (as Project.read_layer does)."""
    if getattr(class_for_table(layer_def.table), "__geometry__", None) != "GEOMETRY" or layer_def.geometry not in _DIM:
        return None
    dim = _DIM[layer_def.geometry]
    if conn.dialect.name == "postgresql":
        expr = f"GeometryType(geom) IN ({_PG_TYPES[layer_def.geometry]})"
    else:
        conn.connection.driver_connection.create_function("riskmap_geom_dim", 1, _geom_dim, deterministic=True)
        expr = f"riskmap_geom_dim(geom) = {dim}"
    return f"(geom IS NULL OR ({expr}))" if dim == 0 else f"({expr})"


def _where_parts(conn, layer_def: LayerDef, *wheres) -> tuple[list[str], dict]:
    conds, params = [], {}
    if layer_def.where:
        conds.append(f"({layer_def.where})")
    kind = _kind_condition(conn, layer_def)
    if kind:
        conds.append(kind)
    for w in wheres:
        if w is None:
            continue
        if isinstance(w, str):
            if w.strip():
                conds.append(f"({w})")
            continue
        sql, p = w
        if sql and sql.strip():
            conds.append(f"({sql})")
            params.update(p or {})
    return conds, params


def _where_sql(conds: list[str]) -> str:
    return (" WHERE " + " AND ".join(conds)) if conds else ""


def _run(conn, sql: str, params: dict | None = None) -> list[tuple]:
    """Rows of ``sql`` with ``:name`` parameters, through the driver (plain tuples, no Row objects)."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        sql = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
        with raw.cursor() as cur:
            cur.execute(sql, params or {})
            return cur.fetchall()
    return raw.execute(sql, params or {}).fetchall()


def _ids(conn, sql: str, params: dict | None = None, *, table: str | None = None, conds=None,
         order: str = "") -> np.ndarray:
    """Integer ids in order as an int64 array: SQLite runs ``sql`` (plain tuples); PostgreSQL sends them as
    one text value (``string_agg`` over ``table`` WHERE ``conds`` in ``order``) read with numpy, without a
    Python object or a protocol message per row."""
    if conn.dialect.name != "postgresql" or table is None:
        rows = _run(conn, sql, params)
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    text = _run(conn, f"SELECT string_agg(CAST(id AS text), ','{order}) FROM {table}{_where_sql(conds)}", params)[0][0]
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, dtype=np.int64)


def _pg_sorted_by_number(conn, layer_def: LayerDef, name: str, conds: list[str], params: dict,
                         descending: bool) -> np.ndarray | None:
    """Ids of the rows with a value in numeric column ``name``, by it then id (descending: the exact
    reverse), sorted here with numpy from (value, id) sent as two text values — PostgreSQL would sort them
    row by row on its side. None if the two do not pair up."""
    sql = (f"SELECT string_agg(CAST({_q(name)} AS text), ','), string_agg(CAST(id AS text), ',') "
           f"FROM {_table(layer_def).name}{_where_sql(conds)}")  # one aggregate node: pairs stay paired
    keys, ids = _run(conn, sql, params)[0]
    if not ids:
        return np.zeros(0, dtype=np.int64)
    keys = np.fromstring(keys, dtype=np.float64, sep=",")  # PostgreSQL writes floats exactly (shortest form)
    ids = np.fromstring(ids, dtype=np.int64, sep=",")
    if len(keys) != len(ids):
        return None
    order = np.lexsort((ids, keys))
    return ids[order[::-1] if descending else order]


def _decode(conn, blobs) -> np.ndarray:
    if conn.dialect.name == "postgresql":
        return shapely.from_wkb(np.array([None if b is None else bytes(b) for b in blobs], dtype=object))
    return from_gpkg_blobs(list(blobs))


def _geom_select(conn) -> str:
    return "ST_AsBinary(geom)" if conn.dialect.name == "postgresql" else "geom"


def _box_condition(conn, layer_def: LayerDef, bbox, prefix: str = "bb") -> tuple[str, dict]:
    """Rows whose bounding box meets ``bbox`` (EPSG:4490 minx, miny, maxx, maxy): R-tree or GiST."""
    x0, y0, x1, y1 = (float(v) for v in bbox)
    p = {f"{prefix}x0": x0, f"{prefix}y0": y0, f"{prefix}x1": x1, f"{prefix}y1": y1}
    if conn.dialect.name == "postgresql":
        return f"geom && ST_MakeEnvelope(:{prefix}x0, :{prefix}y0, :{prefix}x1, :{prefix}y1, 4490)", p
    return (f"id IN (SELECT id FROM rtree_{layer_def.table}_geom WHERE maxx >= :{prefix}x0 AND minx <= :{prefix}x1"
            f" AND maxy >= :{prefix}y0 AND miny <= :{prefix}y1)"), p


def _ids_condition(conn, ids, name: str = "ids") -> tuple[str, dict]:
    id_list = [int(i) for i in ids]
    if conn.dialect.name == "postgresql":
        return f"id = ANY(:{name})", {name: id_list}
    return f"id IN (SELECT value FROM json_each(:{name}))", {name: json.dumps(id_list)}


# ---- a filter as SQL ---------------------------------------------------------------------------------------
def like_pattern(text: str) -> str:
    r"""A LIKE pattern (``ESCAPE '\'``) matching ``text`` anywhere: ``%``, ``_`` and ``\`` in it are literal."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _words_match(mapping: dict, text: str) -> list:
    return [k for k, w in mapping.items() if text in str(w).lower()]


def filter_sql(layer_def: LayerDef, flt, *, prefix: str = "f") -> tuple[str, dict]:
    """A ui LayerFilter (``values``: field → allowed values, None = missing; ``text``: free text in any
    catalogue field, as shown) or a plain dict of values, as ``(sql, params)``: every value bound as a
    parameter, field names checked against the layer's table. ``("", {})`` when it lets everything through.

    The same rows as ``LayerFilter.mask`` on the whole layer: values compared as numbers in numeric
    columns; the text found (case-insensitively) in a field's words (重大风险, 加油站, 是 …) or raw value."""
    values = flt if isinstance(flt, dict) else getattr(flt, "values", {}) or {}
    text = "" if isinstance(flt, dict) else (getattr(flt, "text", "") or "")
    tbl = _table(layer_def)
    conds, params = [], {}
    for i, (name, allowed) in enumerate(values.items()):
        if allowed is None or name not in tbl.c:
            continue  # as LayerFilter.mask: no restriction, or a field the layer does not have
        kind = _kind(layer_def, name)
        bound = []
        for v in allowed:
            if v is None:
                continue
            if kind == "num":
                try:
                    f = float(v)
                except (TypeError, ValueError):
                    continue
                if math.isnan(f):
                    continue
                bound.append(int(f) if f.is_integer() else f)
            elif kind == "bool":
                bound.append(bool(v))
            else:
                bound.append(str(v))
        parts = []
        if bound:
            keys = [f"{prefix}{i}_{k}" for k in range(len(bound))]
            params.update(zip(keys, bound))
            parts.append(f"{_q(name)} IN ({', '.join(':' + k for k in keys)})")
        if None in allowed:
            parts.append(f"{_q(name)} IS NULL")
        conds.append("(" + " OR ".join(parts) + ")" if parts else "1 = 0")
    text = text.strip().lower()
    if text:
        params[f"{prefix}t"] = like_pattern(text)
        ors = []
        for j, fd in enumerate(layer_def.fields):
            if fd.name not in tbl.c:
                continue
            col, kind = _q(fd.name), _kind(layer_def, fd.name)
            cast = col if kind == "text" else f"CAST({col} AS TEXT)"
            if text != text.upper():  # letters with a case: compare lower-cased (Chinese has none: no lower())
                cast = f"lower({cast})"
            like = f"{cast} LIKE :{prefix}t ESCAPE '\\'"
            if kind == "bool":
                yes, no = BOOL_WORDS["zh"]
                if text in yes:
                    ors.append(f"{col} = :{prefix}yes")
                    params[f"{prefix}yes"] = True
                if text in no:
                    ors.append(f"{col} = :{prefix}no")
                    params[f"{prefix}no"] = False
                continue
            mapping = value_mapping(layer_def, fd.name, "zh")
            if mapping is None:
                ors.append(like)
                continue
            codes = [(int(k) if kind == "num" else str(k)) for k in mapping]
            hits = [(int(k) if kind == "num" else str(k)) for k in _words_match(mapping, text)]
            if hits:
                keys = [f"{prefix}m{j}_{k}" for k in range(len(hits))]
                params.update(zip(keys, hits))
                ors.append(f"{col} IN ({', '.join(':' + k for k in keys)})")
            keys = [f"{prefix}a{j}_{k}" for k in range(len(codes))]  # values without words: as they are
            params.update(zip(keys, codes))
            ors.append(f"({like} AND {col} NOT IN ({', '.join(':' + k for k in keys)}))")
        conds.append("(" + " OR ".join(ors) + ")" if ors else "1 = 0")
    return " AND ".join(conds), params


# ---- counts ------------------------------------------------------------------------------------------------
def class_keys(layer_def: LayerDef) -> list:
    """The layer's class keys in legend order (as PreparedLayer.classes): levels 1–4 then None; category
    values, OTHER, None; a single-style layer: [None]."""
    style = layer_def.style
    if style.type == "single":
        return [None]
    if style.type == "level":
        return [1, 2, 3, 4, None]
    return [c.value for c in style.categories] + [OTHER, None]


def _class_of(layer_def: LayerDef, value):
    style = layer_def.style
    if style.type == "single" or value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if style.type == "level":
        from riskmap.levels import parse_level

        try:
            return parse_level(value)
        except Exception:  # an unreadable level counts as 'not graded', as it draws
            return None
    cat = style.category(value)
    return cat.value if cat is not None else OTHER


def class_counts(project, layer_def: LayerDef, flt_sql=None, *, bbox=None) -> dict:
    """Features per class key (levels 1–4, category values, OTHER, None = missing), exactly as
    ``PreparedLayer.counts()`` of the whole layer would count them, with ``flt_sql`` (see :func:`filter_sql`)
    applied; ``bbox`` (EPSG:4490): only features whose bounding box meets it."""
    out = dict.fromkeys(class_keys(layer_def), 0)
    style = layer_def.style
    tbl = _table(layer_def)
    field = style.field if style.type != "single" and style.field in tbl.c else None
    with project.engine.connect() as conn:
        extra = [flt_sql]
        if bbox is not None:
            extra.append(_box_condition(conn, layer_def, bbox))
        conds, params = _where_parts(conn, layer_def, *extra)
        if field is None:
            n = _run(conn, f"SELECT count(*) FROM {tbl.name}{_where_sql(conds)}", params)[0][0]
            rows = [(None, n)]
        else:
            rows = _run(conn, f"SELECT {_q(field)}, count(*) FROM {tbl.name}{_where_sql(conds)} GROUP BY {_q(field)}",
                        params)
    for value, n in rows:
        key = _class_of(layer_def, value)
        out[key] = out.get(key, 0) + int(n)
    return out


def row_count(project, layer_def: LayerDef, where=None) -> int:
    """Rows of the layer (its table filtered by its ``where``), with ``where`` applied too."""
    with project.engine.connect() as conn:
        conds, params = _where_parts(conn, layer_def, where)
        return int(_run(conn, f"SELECT count(*) FROM {_table(layer_def).name}{_where_sql(conds)}", params)[0][0])


def distinct_values(project, layer_def: LayerDef, field: str, where=None, limit: int = DISTINCT_LIMIT) -> list[tuple]:
    """(value, count) of a field's distinct values, sorted, missing (None) last; at most ``limit`` values
    (a caller asking ``limit`` = its maximum + 1 knows when there are more), without a full count."""
    name = _column(layer_def, field)
    tbl = _table(layer_def)
    with project.engine.connect() as conn:
        conds, params = _where_parts(conn, layer_def, where)
        params["lim"] = int(limit)
        probe = _run(conn, f"SELECT DISTINCT {_q(name)} FROM {tbl.name}{_where_sql(conds)} LIMIT :lim", params)
        if len(probe) >= limit:
            return [(r[0], None) for r in probe]
        del params["lim"]
        rows = _run(conn, f"SELECT {_q(name)}, count(*) FROM {tbl.name}{_where_sql(conds)} GROUP BY {_q(name)}",
                    params)
    real = [(v, int(n)) for v, n in rows if v is not None]
    try:
        real.sort(key=lambda r: r[0])
    except TypeError:
        real.sort(key=lambda r: str(r[0]))
    return real + [(None, int(n)) for v, n in rows if v is None]


# ---- search --------------------------------------------------------------------------------------------------
def _label_columns(layer_def: LayerDef) -> tuple[str | None, str | None]:
    tbl = _table(layer_def)
    name = layer_def.label.field if layer_def.label is not None and layer_def.label.field in tbl.c else None
    if name is None and "name" in tbl.c:
        name = "name"
    return name, ("address" if "address" in tbl.c else None)


def search(project, layer_def: LayerDef, text: str, limit: int = SEARCH_LIMIT, *, where=None) -> pd.DataFrame:
    """Features whose name is ``text``, or when none is, whose name or address contains it (as the search box
    finds them in memory), at most ``limit``, in id order: DataFrame(id, label, lon, lat, name) — label
    "name — address" as the search box shows it, lon/lat the centre of the feature's bounding box
    (EPSG:4490; NaN without a place). The exact name uses the name's index; a part of a name reads the
    table until ``limit`` features are found (all of it when fewer are)."""
    cols = ["id", "label", "lon", "lat", "name"]
    text = (text or "").strip()
    name, address = _label_columns(layer_def)
    if not text or name is None or limit <= 0:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("label", "name") else float) for c in cols})
    tbl = _table(layer_def)
    found: dict[int, tuple] = {}
    with project.engine.connect() as conn:
        conds, params = _where_parts(conn, layer_def, where)
        addr = _q(address) if address else "NULL"
        head = f"SELECT id, {_q(name)}, {addr}, {_geom_select(conn)} FROM {tbl.name}"
        params.update({"s_text": text, "s_pat": like_pattern(text), "s_lim": int(limit)})
        exact = _run(conn, head + _where_sql(conds + [f"{_q(name)} = :s_text"]) + " LIMIT :s_lim", params)
        found.update((int(r[0]), r) for r in sorted(exact, key=lambda r: r[0]))
        if not found:
            like = f"{_q(name)} LIKE :s_pat ESCAPE '\\'"
            if address:
                like = f"({like} OR {_q(address)} LIKE :s_pat ESCAPE '\\')"
            part = _run(conn, head + _where_sql(conds + [like]) + " ORDER BY id LIMIT :s_lim", params)
            found.update((int(r[0]), r) for r in part)
        rows = list(found.values())
        geoms = _decode(conn, [r[3] for r in rows])
    b = shapely.bounds(geoms).reshape(-1, 4)  # NaN without a place
    return pd.DataFrame({
        "id": np.array([int(r[0]) for r in rows], dtype=np.int64),
        "label": pd.Series([f"{r[1]} — {r[2] or ''}" if address else str(r[1]) for r in rows], dtype=object),
        "lon": (b[:, 0] + b[:, 2]) / 2,
        "lat": (b[:, 1] + b[:, 3]) / 2,
        "name": pd.Series([r[1] for r in rows], dtype=object),
    }, columns=cols)


# ---- features at a point -----------------------------------------------------------------------------------
def features_at(project, layer_def: LayerDef, lon: float, lat: float, tol_deg: float, *, where=None,
                map_epsg: int | None = None, map_xy: tuple[float, float] | None = None,
                tolerance: float | None = None) -> list[int]:
    """Ids of the layer's features at (lon, lat) (EPSG:4490), nearest first: candidates from the R-tree /
    GiST box of ±``tol_deg``, then the exact test with shapely — points and lines within the tolerance,
    polygons containing the point or with their outline within it (as the map's identify). The exact test
    is in degrees, or, with ``map_epsg``, ``map_xy`` and ``tolerance``, in the map CRS (map units)."""
    ids, geoms = _box_candidates(project, layer_def, (lon - tol_deg, lat - tol_deg, lon + tol_deg, lat + tol_deg),
                                 where)
    if not len(ids):
        return []
    if map_epsg is not None and map_xy is not None and tolerance is not None:
        from riskmap.crs import reproject

        geoms = reproject(geoms, 4490, int(map_epsg))
        pt, tol = shapely.Point(*map_xy), float(tolerance)
    else:
        pt, tol = shapely.Point(lon, lat), float(tol_deg)
    d = shapely.distance(geoms, pt)
    if layer_def.geometry == "polygon":
        hit = (d <= 0) | (shapely.distance(shapely.boundary(geoms), pt) <= tol)
    else:
        hit = d <= tol
    order = np.lexsort((ids[hit], d[hit]))
    return [int(i) for i in ids[hit][order]]


def _box_candidates(project, layer_def: LayerDef, bbox, where) -> tuple[np.ndarray, np.ndarray]:
    """(ids, geometries) of the layer's features whose index box meets ``bbox`` (EPSG:4490), empty ones left out."""
    tbl = _table(layer_def)
    with project.engine.connect() as conn:
        conds, params = _where_parts(conn, layer_def, where, _box_condition(conn, layer_def, bbox))
        rows = _run(conn, f"SELECT id, {_geom_select(conn)} FROM {tbl.name}{_where_sql(conds)}", params)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
        ids = np.array([int(r[0]) for r in rows], dtype=np.int64)
        geoms = _decode(conn, [r[1] for r in rows])
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    return ids[ok], geoms[ok]


def features_in_box(project, layer_def: LayerDef, bbox, *, where=None, map_epsg: int | None = None,
                    map_box=None) -> list[int]:
    """Ids (ascending) of the layer's features meeting a box: candidates from the R-tree / GiST box ``bbox``
    (EPSG:4490), then shapely's exact test against ``bbox`` — or, with ``map_epsg`` and ``map_box``, against
    that box in the map CRS (a box on the screen is not a box in degrees)."""
    ids, geoms = _box_candidates(project, layer_def, bbox, where)
    if not len(ids):
        return []
    box = shapely.box(*bbox)
    if map_epsg is not None and map_box is not None:
        from riskmap.crs import reproject

        geoms, box = reproject(geoms, 4490, int(map_epsg)), shapely.box(*map_box)
    return sorted(int(i) for i in ids[shapely.intersects(geoms, box)])


# ---- rows ----------------------------------------------------------------------------------------------------
def _order_parts(layer_def: LayerDef, order_by: str | None, descending: bool) -> list[tuple[str | None, str]]:
    """The order of a sorted layer as (condition, ORDER BY) parts read one after the other: the rows with a
    value by the column (ties by id; descending: the exact reverse), then those without one in id order —
    each part walks the column's index where it has one, instead of sorting the table."""
    d = " DESC" if descending else ""
    if order_by is None or order_by == "id":
        return [(None, f" ORDER BY id{d}")]
    name = _column(layer_def, order_by)
    col = _q(name)
    if not _table(layer_def).c[name].nullable:
        return [(None, f" ORDER BY {col}{d}, id{d}")]
    return [(f"{col} IS NOT NULL", f" ORDER BY {col}{d}, id{d}"), (f"{col} IS NULL", " ORDER BY id")]


def page(project, layer_def: LayerDef, *, order_by: str | None = None, descending: bool = False, offset: int = 0,
         limit: int = 200, where=None, after_id: int | None = None) -> pd.DataFrame:
    """``limit`` rows from row ``offset`` of the layer sorted by ``order_by`` (id or a catalogue field; ties by
    id, descending the exact reverse; rows without a value last, in id order): a DataFrame of id and the
    catalogue fields the table has. ``after_id`` (ascending id order only): keyset paging, the rows after
    that id without skipping ``offset`` rows. The ids are sorted alone (an index walk where the column has
    one), then their rows read by id."""
    tbl = _table(layer_def)
    offset, limit = max(0, int(offset)), max(0, int(limit))
    ids: list[int] = []
    with project.engine.connect() as conn:
        extra = [where]
        if after_id is not None:
            if order_by not in (None, "id") or descending:
                raise RiskmapError("按编号之后分页只能按编号升序", "after_id pages in ascending id order only",
                                   where=layer_def.id)
            extra.append(("id > :after_id", {"after_id": int(after_id)}))
        skip = offset
        for cond, order in _order_parts(layer_def, order_by, descending):
            if len(ids) >= limit:
                break
            conds, params = _where_parts(conn, layer_def, *extra, cond)
            if skip:
                n = int(_run(conn, f"SELECT count(*) FROM {tbl.name}{_where_sql(conds)}", params)[0][0])
                if n <= skip:
                    skip -= n
                    continue
            params.update({"p_lim": limit - len(ids), "p_off": skip})
            ids += [int(r[0]) for r in _run(conn, f"SELECT id FROM {tbl.name}{_where_sql(conds)}{order}"
                                                  " LIMIT :p_lim OFFSET :p_off", params)]
            skip = 0
    return rows_by_ids(project, layer_def, ids)


def _frame(rows: Sequence[tuple], cols: list[str]) -> pd.DataFrame:
    data = list(zip(*rows)) if rows else [()] * len(cols)
    df = pd.DataFrame({c: pd.Series(list(v), dtype=object) for c, v in zip(cols, data)}, columns=cols)
    for c in df.columns:  # numbers as numbers (NULLs as NaN), as Project.read_table gives them
        if c == "geometry" or not len(df):
            continue
        non_null = df[c].dropna()
        if len(non_null) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in non_null):
            df[c] = pd.to_numeric(df[c])
    if "id" in df:
        df["id"] = df["id"].astype(np.int64)
    return df


def ordered_ids(project, layer_def: LayerDef, *, order_by: str | None = None, descending: bool = False,
                where=None) -> np.ndarray:
    """Every id of the layer (``where`` applied) in the order :func:`page` gives them: row N of a table is
    ``ordered_ids(...)[N]`` (8 bytes a row: 8 MB for a million)."""
    out = []
    with project.engine.connect() as conn:
        if order_by in (None, "id") and not descending:  # ids without gaps: the range, without reading them
            conds, params = _where_parts(conn, layer_def, where)
            lo, hi, n = _run(conn, f"SELECT min(id), max(id), count(*) FROM {_table(layer_def).name}"
                                   f"{_where_sql(conds)}", params)[0]
            if not n:
                return np.zeros(0, dtype=np.int64)
            if int(hi) - int(lo) + 1 == int(n):  # id is the key: n distinct ids in a range of n
                return np.arange(int(lo), int(hi) + 1, dtype=np.int64)
        for k, (cond, order) in enumerate(_order_parts(layer_def, order_by, descending)):
            conds, params = _where_parts(conn, layer_def, where, cond)
            if (k == 0 and conn.dialect.name == "postgresql" and order_by not in (None, "id")
                    and numeric(layer_def, order_by)):
                ids = _pg_sorted_by_number(conn, layer_def, order_by, conds, params, descending)
                if ids is not None:
                    out.append(ids)
                    continue
            out.append(_ids(conn, f"SELECT id FROM {_table(layer_def).name}{_where_sql(conds)}{order}", params,
                            table=_table(layer_def).name, conds=conds, order=order))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def rows_by_ids(project, layer_def: LayerDef, ids: Iterable[int], *, columns: list[str] | None = None,
                geometry: bool = False, all_columns: bool = False) -> pd.DataFrame:
    """The rows of ``ids`` in the order given (unknown ids left out): id and the catalogue fields (or every
    column of the table with ``all_columns``), and their geometry (EPSG:4490) with ``geometry``."""
    tbl = _table(layer_def)
    if all_columns:
        cols = [c for c in tbl.c.keys() if c != "geom"]
    else:
        cols = _columns(layer_def) if columns is None else ["id"] + [_column(layer_def, c) for c in columns if c != "id"]
    ids = [int(i) for i in ids]
    if not ids:
        return _frame([], cols + (["geometry"] if geometry else []))
    with project.engine.connect() as conn:
        icond = _ids_condition(conn, ids)
        conds, params = _where_parts(conn, layer_def, icond)
        sel = ", ".join(_q(c) for c in cols) + (f", {_geom_select(conn)}" if geometry else "")
        rows = _run(conn, f"SELECT {sel} FROM {tbl.name}{_where_sql(conds)}", params)
        geoms = _decode(conn, [r[-1] for r in rows]) if geometry else None
    df = _frame([r[:len(cols)] for r in rows], cols)
    for c in cols:  # booleans as booleans (SQLite keeps 0/1), as Project.read_table gives them: 是/否
        if c in tbl.c and _kind(layer_def, c) == "bool" and len(df):
            df[c] = df[c].astype("boolean")
    if geometry:
        import geopandas as gpd

        df = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index, crs="EPSG:4490"))
    pos = pd.Index(df["id"].to_numpy()).get_indexer(ids)
    return df.iloc[pos[pos >= 0]].reset_index(drop=True)


def record(project, layer_def: LayerDef, feature_id: int) -> pd.Series | None:
    """One feature's whole row (every column, geometry in EPSG:4490) as a Series, or None."""
    df = rows_by_ids(project, layer_def, [feature_id], geometry=True, all_columns=True)
    if not len(df):
        return None
    row = df.iloc[0]
    row.name = int(feature_id)
    return row


def extent(project, layer_def: LayerDef, ids: Iterable[int] | None = None,
           where=None) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) in EPSG:4490 of the layer's features (those of ``ids``, ``where`` applied)
    from the R-tree / PostGIS, or None when none has a place."""
    tbl = _table(layer_def)
    with project.engine.connect() as conn:
        extra = [where]
        if ids is not None:
            ids = [int(i) for i in ids]
            if not ids:
                return None
            extra.append(_ids_condition(conn, ids))
        conds, params = _where_parts(conn, layer_def, *extra)
        if conn.dialect.name == "postgresql":
            sql = (f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                   f"(SELECT ST_Extent(geom) AS e FROM {tbl.name}{_where_sql(conds)}) s")
        elif not conds:  # the whole table: its R-tree alone
            sql = f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_{tbl.name}_geom"
        else:
            sql = (f"SELECT min(r.minx), min(r.miny), max(r.maxx), max(r.maxy) FROM "
                   f"(SELECT id FROM {tbl.name}{_where_sql(conds)}) t JOIN rtree_{tbl.name}_geom r ON r.id = t.id")
        row = _run(conn, sql, params)[0]
    if row is None or row[0] is None:
        return None
    return tuple(float(v) for v in row)
