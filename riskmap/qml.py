"""QGIS layer styles (QML) from the layer catalogue: one source for exported GeoPackages and the project file.

QGIS opens a GeoPackage layer with the style marked ``useAsDefault`` in ``layer_styles``. Symbol layers
carry both the ``<Option>`` map and the older ``<prop>`` list, as QGIS 3.16–3.28 themselves write. A model
table drawn as several catalogue layers (``zones``: county, towns, villages, grids, parks by ``kind``) gets a
rule-based renderer, one rule per layer with the layer's level or category rules under it.

>>> from riskmap.layers import load_catalogue
>>> qml = layer_qml(load_catalogue()["enterprises"])
>>> 'type="categorizedSymbol"' in qml and 'attr="level"' in qml
True
>>> 'type="RuleRenderer"' in table_qml("zones")
True
"""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import lru_cache
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from riskmap.layers import LayerDef, Style, _category_key, load_catalogue
from riskmap.levels import load_levels

CJK_FAMILY_NAME = "Noto Sans CJK SC"  # the bundled font (resources/fonts)
NONE_LABELS = {"enterprises": "未评估"}  # the label of features without a level (else 未定级)

QGIS_VERSION = "3.22.0-Białowieża"
MARKER_NAMES = {"circle": "circle", "square": "square", "diamond": "diamond", "triangle": "triangle",
                "star": "star", "cross": "cross"}
DASH = {"solid": "solid", "dash": "dash", "dot": "dot", "dashdot": "dash dot"}

LAYER_STYLES_SQL = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
  f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""


def qgis_colour(hex_colour: str, opacity: float = 1.0) -> str:
    """``#FF8C00`` → ``255,140,0,255`` (QGIS's r,g,b,a)."""
    h = hex_colour.lstrip("#")
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    return f"{r},{g},{b},{round(255 * max(0.0, min(1.0, opacity)))}"


def _props(values: dict[str, str], indent: str) -> str:
    opts = "".join(f'{indent}  <Option type="QString" name={quoteattr(k)} value={quoteattr(str(v))}/>\n'
                   for k, v in values.items())
    props = "".join(f'{indent}<prop k={quoteattr(k)} v={quoteattr(str(v))}/>\n' for k, v in values.items())
    return f'{indent}<Option type="Map">\n{opts}{indent}</Option>\n{props}'


def _symbol_layer(layer: LayerDef, fill: str) -> tuple[str, str, dict[str, str]]:
    """(symbol type, symbol-layer class, properties) for one colour of a layer's style."""
    st: Style = layer.style
    stroke = st.stroke or fill
    if layer.geometry == "point":
        return "marker", "SimpleMarker", {
            "angle": "0", "color": qgis_colour(fill), "joinstyle": "miter",
            "name": MARKER_NAMES.get(st.symbol, "circle"),
            "outline_color": qgis_colour(stroke), "outline_style": "solid",
            "outline_width": f"{st.stroke_width_mm:g}", "outline_width_unit": "MM",
            "scale_method": "diameter", "size": f"{st.size_mm:g}", "size_unit": "MM",
        }
    if layer.geometry == "line":
        return "line", "SimpleLine", {
            "capstyle": "round", "joinstyle": "round", "line_color": qgis_colour(fill),
            "line_style": DASH.get(st.dash, "solid"), "line_width": f"{st.stroke_width_mm:g}",
            "line_width_unit": "MM", "offset": "0", "use_custom_dash": "0",
        }
    # polygons: a level/category colour fills (at the layer's opacity) unless the layer file says
    # fill = "none"; then the colour is the outline's
    if st.type == "single":
        has_fill, outline = st.fill is not None, st.stroke or fill
    else:
        has_fill = not declares_no_fill(layer)
        outline = (st.stroke or fill) if has_fill else fill
    return "fill", "SimpleFill", {
        "color": qgis_colour(fill, st.fill_opacity) if has_fill else "0,0,0,0",
        "joinstyle": "bevel", "style": "solid" if has_fill else "no",
        "outline_color": qgis_colour(outline), "outline_style": DASH.get(st.dash, "solid"),
        "outline_width": f"{st.stroke_width_mm:g}", "outline_width_unit": "MM",
    }


def declares_no_fill(layer: LayerDef) -> bool:
    """Whether the layer's file sets ``fill = "none"`` (the catalogue keeps no difference from 'unset')."""
    if layer.path is None:
        return layer.style.stroke is None
    return _raw_fill(str(layer.path)) == "none"


@lru_cache(maxsize=64)
def _raw_fill(path: str):
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh).get("style", {}).get("fill")
    except (OSError, tomllib.TOMLDecodeError):
        return None


def _symbol(layer: LayerDef, name: str, colour: str, level: int = 0, *, outline_only: bool = False) -> str:
    """One ``<symbol>``; ``level`` is its symbol level (``pass``), drawn in ascending order."""
    kind, cls, props = _symbol_layer(layer, colour)
    if outline_only and kind == "fill":
        props.update({"color": "0,0,0,0", "style": "no", "outline_color": qgis_colour(colour),
                      "outline_style": "solid", "outline_width": "0.2"})
    return (f'      <symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">\n'
            f'        <layer class="{cls}" pass="{level}" locked="0" enabled="1">\n'
            f'{_props(props, "          ")}'
            f'        </layer>\n      </symbol>\n')


def style_classes(layer: LayerDef) -> list[tuple[str, str, str]]:
    """(value, label, colour) per class of a layer's style; value '' is 'no value / other'."""
    st = layer.style
    if st.type == "level":
        levels = load_levels().levels
        out = [(str(n), lv.name_zh, lv.colour) for n, lv in levels.items()]
        return out + [("", NONE_LABELS.get(layer.table, "未定级"), st.none_colour)]
    if st.type == "category":
        return [(c.value, c.zh, c.colour) for c in st.categories] + [("", "其他", st.other_colour)]
    return [("", layer.name_zh, st.fill or st.stroke or "#000000")]


def class_series(layer: LayerDef, df) -> pd.Series:
    """Per feature, the value of its class in :func:`style_classes` ('' = no level / other / single)."""
    st = layer.style
    if st.type == "single" or st.field not in df:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    known = {v for v, _, _ in style_classes(layer) if v}

    def key(v):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return ""
        try:
            k = _category_key(int(v)) if st.type == "level" else _category_key(v)
        except (TypeError, ValueError):
            return ""
        return k if k in known else ""

    return df[st.field].map(key).astype(object)


def _label_settings(layer: LayerDef, indent: str) -> str:
    """The ``<settings>`` of a layer's labels (font, halo, placement, scale range)."""
    lab = layer.label
    visibility = (f' scaleVisibility="1" scaleMin="{lab.show_above_scale:g}" scaleMax="{lab.show_below_scale:g}"'
                  if lab.show_below_scale or lab.show_above_scale else ' scaleVisibility="0"')
    placement = {"point": "6", "line": "2", "polygon": "1"}[layer.geometry]  # around point / curved / horizontal
    return (
        f'{indent}<settings calloutType="simple">\n'
        f'{indent}  <text-style fieldName={quoteattr(lab.field)} isExpression="0"'
        f' fontFamily={quoteattr(CJK_FAMILY_NAME)}'
        f' fontSize="{lab.size_pt:g}" fontSizeUnit="Point" fontWeight="{75 if lab.bold else 50}"'
        ' textColor="20,20,20,255" textOpacity="1" namedStyle="">\n'
        f'{indent}    <text-buffer bufferDraw="1" bufferSize="0.7" bufferSizeUnits="MM" bufferColor="255,255,255,255"'
        ' bufferOpacity="1" bufferJoinStyle="128"/>\n'
        f'{indent}  </text-style>\n'
        f'{indent}  <placement placement="{placement}" dist="0.6" distUnits="MM"'
        f' priority="{10 - min(lab.priority, 10)}"/>\n'
        f'{indent}  <rendering{visibility} obstacle="1" displayAll="0" labelPerPart="0"/>\n'
        f'{indent}</settings>\n')


def _labeling(layer: LayerDef) -> str:
    if layer.label is None:
        return ""
    return '  <labeling type="simple">\n' + _label_settings(layer, "    ") + '  </labeling>\n'


def _rule_labeling(table: str, layers: list[LayerDef]) -> str:
    """Rule-based labels: one rule per labelled layer of a table, with the layer's filter and label settings."""
    rules = "".join(
        f'      <rule key="{{{table}-{layer.id}-label}}"' + (f" filter={quoteattr(layer.where)}" if layer.where else "")
        + f" description={quoteattr(layer.name_zh)}" + ("" if layer.visible else ' active="0"') + ">\n"
        + _label_settings(layer, "        ") + "      </rule>\n"
        for layer in layers if layer.label is not None)
    if not rules:
        return ""
    return f'  <labeling type="rule-based">\n    <rules key="{{{table}-labels}}">\n{rules}    </rules>\n  </labeling>\n'


def _field_config(value_maps: dict[str, list[tuple[str, str]]] | None) -> str:
    """Value-map edit widgets (code → words) so attribute tables show 加油站 and 重大风险 instead of codes."""
    if not value_maps:
        return ""
    fields = []
    for name, pairs in value_maps.items():
        entries = "".join(f'                <Option type="Map"><Option type="QString" name={quoteattr(label)}'
                          f' value={quoteattr(code)}/></Option>\n' for code, label in pairs)
        fields.append(f'    <field name={quoteattr(name)} configurationFlags="None">\n'
                      '      <editWidget type="ValueMap">\n        <config>\n          <Option type="Map">\n'
                      f'            <Option type="List" name="map">\n{entries}            </Option>\n'
                      '          </Option>\n        </config>\n      </editWidget>\n    </field>\n')
    return "  <fieldConfiguration>\n" + "".join(fields) + "  </fieldConfiguration>\n"


def _document(renderer: str, labeling: str, labels_on: bool, aliases: dict[str, str],
              value_maps: dict[str, list[tuple[str, str]]] | None = None) -> str:
    alias_xml = "".join(f'    <alias field={quoteattr(k)} index="{i}" name={quoteattr(v)}/>\n'
                        for i, (k, v) in enumerate(aliases.items()))
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling|Fields|Forms"'
            f' labelsEnabled="{1 if labels_on else 0}">\n'
            f'{renderer}{labeling}{_field_config(value_maps)}  <aliases>\n{alias_xml}  </aliases>\n</qgis>\n')


def layer_qml(layer: LayerDef, field_aliases: dict[str, str] | None = None,
              value_maps: dict[str, list[tuple[str, str]]] | None = None) -> str:
    """The QML document of one catalogue layer: categorized or single-symbol renderer, labels, aliases."""
    st = layer.style
    classes = style_classes(layer)
    if st.type == "single":
        _, _, colour = classes[0]
        renderer = ('  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">\n'
                    '    <symbols>\n' + _symbol(layer, "0", colour) + '    </symbols>\n  </renderer-v2>\n')
    else:
        cats = "".join(f'      <category value={quoteattr(v)} label={quoteattr(lbl)} symbol="{i}" render="true"/>\n'
                       for i, (v, lbl, _) in enumerate(classes))
        syms = "".join(_symbol(layer, str(i), c) for i, (_, _, c) in enumerate(classes))
        renderer = (f'  <renderer-v2 type="categorizedSymbol" attr={quoteattr(st.field or "")} symbollevels="0"'
                    ' enableorderby="0" forceraster="0">\n'
                    f'    <categories>\n{cats}    </categories>\n    <symbols>\n{syms}    </symbols>\n'
                    '  </renderer-v2>\n')
    aliases = field_aliases if field_aliases is not None else {f.name: f.zh for f in layer.fields}
    return _document(renderer, _labeling(layer), layer.label is not None, aliases, value_maps)


def table_layers(table: str) -> list[LayerDef]:
    """The catalogue layers drawn from one model table, lowest z first."""
    return [layer for layer in load_catalogue().values() if layer.table == table]


def styled_tables() -> list[str]:
    """The model tables that some catalogue layer draws (each gets a default style in the project file)."""
    return list(dict.fromkeys(layer.table for layer in load_catalogue().values()))


def _sql_literal(value: str, numeric: bool) -> str:
    return value if numeric else "'" + value.replace("'", "''") + "'"


def _class_filter(layer: LayerDef, value: str) -> str:
    """A QGIS expression selecting one class of a layer's style ('' = none / other values)."""
    field = '"' + (layer.style.field or "") + '"'
    numeric = layer.style.type == "level"
    if value:
        return f"{field} = {_sql_literal(value, numeric)}"
    return "ELSE"


def _rule(key: str, filt: str | None, label: str, symbol: str | None, children: str = "", on: bool = True) -> str:
    attrs = f' key="{{{key}}}"' + (f" filter={quoteattr(filt)}" if filt else "") + f" label={quoteattr(label)}"
    attrs += (f' symbol="{symbol}"' if symbol is not None else "") + ("" if on else ' checkstate="0"')
    return f"      <rule{attrs}>\n{children}      </rule>\n" if children else f"      <rule{attrs}/>\n"


def table_qml(table: str, field_aliases: dict[str, str] | None = None,
              value_maps: dict[str, list[tuple[str, str]]] | None = None) -> str:
    """The default QML of a model table: the one catalogue layer's style, or for a table behind several layers
    (or one with a ``where``) a rule-based renderer, one rule per layer in z order (symbol levels follow z),
    hidden layers' rules unchecked, and an outline-only ELSE rule for rows no layer draws."""
    layers = table_layers(table)
    if not layers:
        raise KeyError(table)
    if field_aliases is None:
        field_aliases = {}
        for layer in layers:
            for f in layer.fields:
                field_aliases.setdefault(f.name, f.zh)
    if len(layers) == 1 and not layers[0].where:
        return layer_qml(layers[0], field_aliases, value_maps)
    rules, symbols, n = [], [], 0
    for rank, layer in enumerate(layers):
        classes = style_classes(layer)
        if layer.style.type == "single":
            symbols.append(_symbol(layer, str(n), classes[0][2], rank))
            rules.append(_rule(f"{table}-{layer.id}", layer.where, layer.name_zh, str(n), on=layer.visible))
            n += 1
            continue
        children = []
        for i, (value, label, colour) in enumerate(classes):
            symbols.append(_symbol(layer, str(n), colour, rank))
            children.append("  " + _rule(f"{table}-{layer.id}-{i}", _class_filter(layer, value), label, str(n)))
            n += 1
        rules.append(_rule(f"{table}-{layer.id}", layer.where, layer.name_zh, None, "".join(children),
                           on=layer.visible))
    if layers[0].geometry == "polygon" and any(layer.where for layer in layers):
        # areas none of the layers draws (e.g. another zone kind): a thin grey outline
        rest = layers[0]
        symbols.append(_symbol(rest, str(n), "#9E9E9E", 0, outline_only=True))
        rules.append(_rule(f"{table}-else", "ELSE", "其他", str(n)))
    renderer = ('  <renderer-v2 type="RuleRenderer" symbollevels="1" enableorderby="0" forceraster="0">\n'
                f'    <rules key="{{{table}-root}}">\n{"".join(rules)}    </rules>\n'
                f'    <symbols>\n{"".join(symbols)}    </symbols>\n  </renderer-v2>\n')
    labeling = _rule_labeling(table, layers)
    return _document(renderer, labeling, bool(labeling), field_aliases, value_maps)


STYLE_OWNER = "riskmap"


def write_styles(con, styles: dict[str, tuple[str, str, str]], description: str = "") -> int:
    """Write one default style per table into ``layer_styles`` through a DB-API connection or cursor
    (inside the caller's transaction); the table is registered in ``gpkg_contents`` as QGIS does.

    ``styles`` maps table name → (geometry column, style name, QML). A style riskmap wrote before (owner
    ``riskmap``, same name) is replaced in place, keeping whether it is the default; a style a user saved
    in QGIS is left alone. Returns the number of styles written or changed.
    """
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    con.execute(LAYER_STYLES_SQL)
    con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change)"
                " VALUES ('layer_styles', 'attributes', 'layer_styles', ?, ?)", ("QGIS 图层样式 / QGIS layer styles", now))
    changed = 0
    desc = f"riskmap 四色图样式 {description}".strip()
    for table, (geom_col, name, qml) in styles.items():
        rows = con.execute("SELECT id, styleQML FROM layer_styles WHERE f_table_name = ? AND owner = ?"
                           " AND styleName = ?", (table, STYLE_OWNER, name)).fetchall()
        if len(rows) == 1 and rows[0][1] == qml:
            continue
        if rows:
            con.execute("UPDATE layer_styles SET styleQML = ?, f_geometry_column = ?, description = ?,"
                        " update_time = ? WHERE id = ?", (qml, geom_col, desc, now, rows[0][0]))
            for extra in rows[1:]:
                con.execute("DELETE FROM layer_styles WHERE id = ?", (extra[0],))
        else:
            default = con.execute("SELECT count(*) FROM layer_styles WHERE f_table_name = ? AND useAsDefault",
                                  (table,)).fetchone()[0] == 0
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,"
                " styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)"
                " VALUES ('', '', ?, ?, ?, ?, '', ?, ?, ?, '', ?)",
                (table, geom_col, name, qml, 1 if default else 0, desc, STYLE_OWNER, now))
        changed += 1
    return changed
