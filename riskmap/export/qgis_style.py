"""QGIS layer styles (QML) written from the layer catalogue, and the GeoPackage ``layer_styles`` table.

QGIS opens a GeoPackage layer with the style marked ``useAsDefault`` in ``layer_styles``, so an
exported GeoPackage shows the same four colours as riskmap. Symbol layers carry both the
``<Option>`` map and the older ``<prop>`` list, as QGIS 3.16–3.28 themselves write.

>>> from riskmap.layers import load_catalogue
>>> qml = layer_qml(load_catalogue()["enterprises"])
>>> 'type="categorizedSymbol"' in qml and 'attr="level"' in qml
True
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tomllib
from functools import lru_cache
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from riskmap.layers import LayerDef, Style, _category_key
from riskmap.levels import load_levels

CJK_FAMILY_NAME = "Noto Sans CJK SC"  # the bundled font (resources/fonts)

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


def _symbol(layer: LayerDef, name: str, colour: str) -> str:
    kind, cls, props = _symbol_layer(layer, colour)
    return (f'      <symbol type="{kind}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">\n'
            f'        <layer class="{cls}" pass="0" locked="0" enabled="1">\n'
            f'{_props(props, "          ")}'
            f'        </layer>\n      </symbol>\n')


def style_classes(layer: LayerDef) -> list[tuple[str, str, str]]:
    """(value, label, colour) per class of a layer's style; value '' is 'no value / other'."""
    st = layer.style
    if st.type == "level":
        levels = load_levels().levels
        out = [(str(n), lv.name_zh, lv.colour) for n, lv in levels.items()]
        return out + [("", "未定级", st.none_colour)]
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


def _labeling(layer: LayerDef) -> str:
    lab = layer.label
    if lab is None:
        return ""
    visibility = (f' scaleVisibility="1" minScale="{lab.show_below_scale:g}" maxScale="0"'
                  if lab.show_below_scale else ' scaleVisibility="0"')
    placement = {"point": "6", "line": "2", "polygon": "1"}[layer.geometry]  # around point / curved / horizontal
    return (
        '  <labeling type="simple">\n    <settings calloutType="simple">\n'
        f'      <text-style fieldName={quoteattr(lab.field)} isExpression="0" fontFamily={quoteattr(CJK_FAMILY_NAME)}'
        f' fontSize="{lab.size_pt:g}" fontSizeUnit="Point" fontWeight="{75 if lab.bold else 50}"'
        ' textColor="20,20,20,255" textOpacity="1" namedStyle="">\n'
        '        <text-buffer bufferDraw="1" bufferSize="0.7" bufferSizeUnits="MM" bufferColor="255,255,255,255"'
        ' bufferOpacity="1" bufferJoinStyle="128"/>\n'
        '      </text-style>\n'
        f'      <placement placement="{placement}" dist="0.6" distUnits="MM" priority="{10 - min(lab.priority, 10)}"/>\n'
        f'      <rendering{visibility} obstacle="1" displayAll="0" labelPerPart="0"/>\n'
        '    </settings>\n  </labeling>\n')


def layer_qml(layer: LayerDef, field_aliases: dict[str, str] | None = None) -> str:
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
    alias_xml = "".join(f'    <alias field={quoteattr(k)} index="{i}" name={quoteattr(v)}/>\n'
                        for i, (k, v) in enumerate(aliases.items()))
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling|Fields"'
            f' labelsEnabled="{1 if layer.label else 0}">\n'
            f'{renderer}{_labeling(layer)}  <aliases>\n{alias_xml}  </aliases>\n</qgis>\n')


def write_layer_styles(gpkg_path, styles: dict[str, tuple[LayerDef, str, dict[str, str]]],
                       description: str = "") -> None:
    """Add a ``layer_styles`` table with one default style per table to a GeoPackage.

    ``styles`` maps table name → (layer, geometry column, field aliases). The table is registered
    in ``gpkg_contents`` as an attributes table, as QGIS does.
    """
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    con = sqlite3.connect(gpkg_path)
    try:
        with con:
            con.execute(LAYER_STYLES_SQL)
            con.execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description,"
                        " last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', ?, ?)",
                        ("QGIS 图层样式 / QGIS layer styles", now))
            for table, (layer, geom_col, aliases) in styles.items():
                con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (table,))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,"
                    " styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)"
                    " VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '', ?)",
                    (table, geom_col, layer.name_zh, layer_qml(layer, aliases),
                     f"riskmap 四色图样式 {description}".strip(), now))
    finally:
        con.close()
