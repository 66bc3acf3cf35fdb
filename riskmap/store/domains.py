"""Coded-value field domains and default QGIS styles in the project's GeoPackage, so QGIS, ArcGIS and GDAL
show 加油站 and 重大风险 instead of codes, and open the tables in the four colours.

Domains use the GeoPackage schema extension: one ``enum`` row per code in ``gpkg_data_column_constraints``
(value = code, description = words), referenced from ``gpkg_data_columns.constraint_name``. Their content is
generated from the standards and layer files (levels.toml, industries.toml, gb18218.toml, the layer
catalogue's categories) and the model's own vocabularies (``riskmap.fields``), never copied; :func:`sync`
rewrites them, and the ``layer_styles`` rows riskmap owns, when those files change.

>>> d = domains()
>>> d["level"][0], dict(d["industry"])["gas_station"]
(('1', '重大风险'), '加油站')
>>> column_domains()[("enterprises", "industry")]
'industry'
"""

from __future__ import annotations

import tomllib
from functools import lru_cache

from riskmap.fields import LIST_KINDS, VOCAB
from riskmap.industries import load_industries
from riskmap.layers import load_catalogue
from riskmap.levels import load_levels
from riskmap.model import FEATURE_CLASSES, MODEL_CLASSES
from riskmap.paths import STANDARDS_DIR
from riskmap.qml import styled_tables, table_layers, table_qml, write_styles

LEVEL_COLUMNS = {("enterprises", "level"), ("zones", "level"), ("risk_points", "level"), ("lifelines", "level"),
                 ("assessments", "level"), ("zone_decisions", "object_level")}
# the model's own lists of codes, for codes that no vocabulary names yet (shown as the code itself)
MODEL_CODES = {("zones", "kind"): "KINDS", ("protected_targets", "kind"): "KINDS",
               ("protected_targets", "gb36894_class"): "CLASSES", ("lifelines", "category"): "CATEGORIES",
               ("emergency_resources", "kind"): "KINDS", ("hidden_dangers", "grade"): "GRADES",
               ("hidden_dangers", "status"): "STATUSES", ("risk_points", "kind"): "KINDS",
               ("risk_points", "category"): "CATEGORIES", ("enterprise_lists", "kind"): "KINDS",
               ("plant_plans", "method"): "METHODS"}


def _major_hazard_grades() -> list[tuple[str, str]]:
    """GB 18218 grades 1–4 (一级 … 四级) from gb18218.toml."""
    data = tomllib.loads((STANDARDS_DIR / "gb18218.toml").read_text(encoding="utf-8"))
    return [(str(int(g["n"])), f"{g['grade']}重大危险源") for g in data.get("grades", []) if "n" in g]


@lru_cache(maxsize=1)
def _content() -> tuple[dict[str, tuple[tuple[str, str], ...]], dict[tuple[str, str], str]]:
    values: dict[str, list[tuple[str, str]]] = {
        "level": [(str(n), lv.name_zh) for n, lv in load_levels().levels.items()],
        "industry": [(code, ind.zh) for code, ind in load_industries().items()],
        "major_hazard_grade": _major_hazard_grades(),
    }
    columns = {key: "level" for key in LEVEL_COLUMNS}
    columns[("enterprises", "industry")] = "industry"
    columns[("risk_points", "major_hazard_grade")] = "major_hazard_grade"

    def add(table: str, column: str, pairs) -> None:
        name = f"{table}_{column}"
        have = values.setdefault(name, [])
        known = {code for code, _ in have}
        have.extend((str(code), label) for code, label in pairs if str(code) not in known)
        columns[(table, column)] = name

    for key, vocab in VOCAB.items():
        column, table = key.split("@")
        add(table, column, ((code, words[0]) for code, words in vocab.items()))
    add("enterprise_lists", "kind", ((code, words[0]) for code, words in LIST_KINDS.items()))
    text_columns = {(cls.__tablename__, c.name) for cls in MODEL_CLASSES for c in cls.__table__.columns
                    if c.type.python_type is str}
    for layer in load_catalogue().values():  # category styles of text columns (resource kinds, lifelines …)
        st = layer.style
        if st.type == "category" and st.categories and (layer.table, st.field) in text_columns:
            add(layer.table, st.field, ((c.value, c.zh) for c in st.categories))
    by_table = {cls.__tablename__: cls for cls in MODEL_CLASSES}
    for (table, column), attr in MODEL_CODES.items():
        add(table, column, ((code, code) for code in getattr(by_table[table], attr, ())))
    return {k: tuple(v) for k, v in values.items() if v}, {k: v for k, v in columns.items() if v in values}


def domains() -> dict[str, tuple[tuple[str, str], ...]]:
    """Domain name → ((code, words), …), from the standards and layer files."""
    return _content()[0]


def column_domains() -> dict[tuple[str, str], str]:
    """(table, column) → domain name, for every coded column of the model."""
    return _content()[1]


@lru_cache(maxsize=1)
def styles() -> dict[str, tuple[str, str, str]]:
    """Table → (geometry column, style name, QML) for every model table a catalogue layer draws."""
    features = {cls.__tablename__ for cls in FEATURE_CLASSES}
    doms, cols = _content()
    out = {}
    for table in styled_tables():
        if table not in features:
            continue
        value_maps = {c: list(doms[d]) for (t, c), d in cols.items() if t == table}
        layers = table_layers(table)
        name = layers[0].name_zh if len(layers) == 1 else f"{'、'.join(x.name_zh for x in layers[:3])}等"
        out[table] = ("geom", f"riskmap {name}"[:30], table_qml(table, value_maps=value_maps))
    return out


def _expected_constraints() -> set[tuple[str, str, str]]:
    return {(name, code, label) for name, pairs in domains().items() for code, label in pairs}


def write_domains(cur) -> None:
    """(Re)write riskmap's enum constraints and point the coded columns at them (inside the caller's transaction)."""
    names = list(domains())
    cur.execute(f"DELETE FROM gpkg_data_column_constraints WHERE constraint_type = 'enum' AND constraint_name IN"
                f" ({', '.join('?' * len(names))})", names)
    cur.executemany("INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, description)"
                    " VALUES (?, 'enum', ?, ?)", sorted(_expected_constraints()))
    for (table, column), name in column_domains().items():
        cur.execute("UPDATE gpkg_data_columns SET constraint_name = ? WHERE table_name = ? AND column_name = ?",
                    (name, table, column))
        # a coded column without a catalogue title gets a row of its own (its name stands for the title)
        cur.execute("INSERT OR IGNORE INTO gpkg_data_columns (table_name, column_name, name, constraint_name)"
                    " VALUES (?, ?, ?, ?)", (table, column, column, name))


def write_all(cur) -> None:
    """Domains and default styles, written unconditionally (new project, migration)."""
    write_domains(cur)
    write_styles(cur, styles())


def sync(cur) -> bool:
    """Rewrite domains and riskmap's styles when the standards or layer files changed since they were written.

    Cheap when nothing changed (two small reads); returns whether anything was written.
    """
    names = list(domains())
    have = set(cur.execute(
        f"SELECT constraint_name, value, description FROM gpkg_data_column_constraints WHERE constraint_type = 'enum'"
        f" AND constraint_name IN ({', '.join('?' * len(names))})", names).fetchall())
    linked = {(t, c): n for t, c, n in cur.execute(
        "SELECT table_name, column_name, constraint_name FROM gpkg_data_columns WHERE constraint_name IS NOT NULL")}
    changed = False
    if have != _expected_constraints() or any(linked.get(k) != v for k, v in column_domains().items()):
        write_domains(cur)
        changed = True
    return write_styles(cur, styles()) > 0 or changed
