"""Offline interactive web map: one self-contained HTML file built with folium, Leaflet inlined.

Nothing is fetched from the internet: folium's CDN links are dropped, Leaflet 1.9.4 (``resources/web``)
and its images are inlined, there is no tile layer. Each layer is one ``L.geoJSON`` (circle markers on a
canvas), with four-colour styles, a layer control, a legend with counts, popups with the record and an
enterprise's 5个清单, and search by name. User text travels as JSON in a ``<script type="application/json">`` block
with ``<``, ``>`` and ``&`` escaped, is never part of a template, and reaches the page only through
``textContent``.

``page.html#q=NAME`` opens the page with the search for NAME run and its first hit's popup open.

>>> script_json({"name": "</script><b>"})
'{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
"""

from __future__ import annotations

import base64
import html
import json
import os
import re

import numpy as np
import shapely

from riskmap.atomic import atomic_path
from riskmap.errors import RiskmapError
from riskmap.export.base import ExportLayer, ExportSource, Steps, export_steps, text_value
from riskmap.export.stats import NONE_COLUMN, level_counts
from riskmap.export.webfont import font_face_css
from riskmap.levels import load_levels
from riskmap.marks import DEMO_MARK, DEMO_NOTE, demo_title
from riskmap.paths import WEB_DIR
from riskmap.qml import class_series, declares_no_fill, style_classes

LEAFLET_DIR = WEB_DIR / "leaflet"
DECIMALS = 6  # about 0.1 m
DASH = {"solid": None, "dash": "6 4", "dot": "2 3", "dashdot": "6 3 2 3"}
LIST_KINDS = (("basic", "基础信息"), ("responsibility", "防控责任"), ("monitoring", "监测监控"),
              ("measures", "防范措施"), ("emergency", "应急处置"))
DATA_ELEMENT_ID = "riskmap-data"
LIST_KEY_ZH = {"external_distance_insufficient": "外部安全防护距离不足"}


def escape_script_text(text: str) -> str:
    """JSON text made safe inside an HTML ``<script>`` block: no ``</script>``, no ``<!--``, no markup."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def script_json(obj) -> str:
    """``obj`` as JSON safe to place inside an HTML ``<script>`` block."""
    return escape_script_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


def _text_colour_on(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#FFFFFF"


def _inline_css(css: str) -> str:
    """Leaflet's CSS with its images as data: URIs (a single file works from a USB stick)."""
    def repl(m):
        path = LEAFLET_DIR / m.group(1)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[A-Za-z0-9_.-]+\.png)\)", repl, css)


def _popup_fields(x: ExportLayer) -> list[tuple[str, str]]:
    """(column, title) shown in popups: catalogue fields, coded values replaced by their Chinese names."""
    out = []
    for f in x.layer.fields:
        col = "level_name" if f.name == "level" else f.name
        if f"{f.name}_name" in x.gdf:
            col = f"{f.name}_name"
        if col in x.gdf:
            out.append((col, f.zh))
    return out


def _name_column(x: ExportLayer) -> str | None:
    for c in ((x.layer.label.field,) if x.layer.label else ()) + ("name", "title"):
        if c in x.gdf:
            return c
    return None


def _enterprise_lists(project, ids) -> dict[int, list]:
    """enterprise id → [[section title, [[key, value], …]], …] in the order of the 5个清单."""
    if project is None:
        return {}
    df = project.read_table("enterprise_lists")
    if not len(df):
        return {}
    wanted = set(int(i) for i in ids)
    order = {k: i for i, (k, _) in enumerate(LIST_KINDS)}
    titles = dict(LIST_KINDS)
    out: dict[int, list] = {}
    df = df[df["enterprise_id"].isin(wanted)]
    df = df.assign(_o=df["kind"].map(lambda k: order.get(k, 99))).sort_values(["enterprise_id", "_o"])
    for eid, kind, content in zip(df["enterprise_id"], df["kind"], df["content"]):
        items = content.items() if isinstance(content, dict) else [("内容", content)]
        pairs = [[LIST_KEY_ZH.get(str(k), str(k)), text_value(v)] for k, v in items]
        out.setdefault(int(eid), []).append([titles.get(kind, str(kind)), pairs])
    return out


def _layer_json(x: ExportLayer, lists: dict[int, list]) -> str:
    """One layer as JSON text: its style and a FeatureCollection (features joined as text, not as objects)."""
    st = x.layer.style
    gdf = x.gdf
    classes = style_classes(x.layer)
    cls = class_series(x.layer, gdf).to_numpy()
    fields = _popup_fields(x)
    name_col = _name_column(x)
    geoms = shapely.transform(gdf.geometry.values, lambda c: np.round(c, DECIMALS))
    geo_json = shapely.to_geojson(geoms)
    values = [gdf[c].map(text_value).tolist() for c, _ in fields]
    names = gdf[name_col].map(text_value).tolist() if name_col else [""] * len(gdf)
    ids = gdf["id"].tolist() if "id" in gdf else [None] * len(gdf)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    features = []
    for i in range(len(gdf)):
        props = {"_c": cls[i], "_n": names[i], "_v": [v[i] for v in values]}
        if lists and ids[i] is not None and int(ids[i]) in lists:
            props["_l"] = lists[int(ids[i])]
        features.append(f'{{"type":"Feature","geometry":{geo_json[i] or "null"},"properties":{dumps(props)}}}')
    fill = x.layer.geometry == "polygon" and (st.fill is not None if st.type == "single" else not declares_no_fill(x.layer))
    class_map = {v: {"colour": c, "label": lbl, "text": _text_colour_on(c)} for v, lbl, c in classes}
    other = class_map.get("", {"colour": st.other_colour, "label": "其他", "text": "#000000"})
    meta = {
        "id": x.id, "name": x.layer.name_zh, "geometry": x.layer.geometry, "visible": x.layer.visible,
        "count": len(gdf), "styleType": st.type, "fields": [t for _, t in fields],
        "classes": class_map, "other": other,
        "style": {"radius": round(st.size_mm * 96 / 25.4 / 2 + 0.5, 1), "stroke": st.stroke,
                  "weight": round(max(0.6, st.stroke_width_mm * 96 / 25.4), 1), "fill": fill,
                  "fillOpacity": st.fill_opacity, "dash": DASH.get(st.dash)},
    }
    head = dumps(meta)[:-1]
    return head + ',"features":{"type":"FeatureCollection","features":[' + ",".join(features) + "]}}"


def page_json(src: ExportSource, *, title: str | None = None, subtitle: str = "", steps: Steps | None = None) -> str:
    """Everything the page's script needs, as JSON text (not yet escaped for a script block)."""
    steps = steps or Steps(None, None)
    ents = src.get("enterprises")
    lists = _enterprise_lists(src.project, ents.gdf["id"]) if ents is not None and "id" in ents.gdf else {}
    layers = []
    for x in src.layers:
        steps.check()
        if not len(x.gdf):
            continue
        layers.append(_layer_json(x, lists if x.id == "enterprises" else {}))
    counts = level_counts(ents.gdf["level"]) if ents is not None and "level" in ents.gdf else {}
    levels = [{"n": n, "name": lv.name_zh, "colour": lv.colour, "count": counts.get(n, 0)}
              for n, lv in load_levels().levels.items()]
    if counts.get(0):  # 未评估: grey, on its own, never counted as 低
        levels.append({"n": 0, "name": NONE_COLUMN, "colour": ents.layer.style.none_colour, "count": counts[0]})
    shown = len(ents.gdf) if ents is not None else 0
    unlocated = 0 if src.unlocated is None else len(src.unlocated)
    legend_title = (f"企业风险等级（共 {shown + unlocated} 家，其中未定位 {unlocated} 家未上图）" if unlocated
                    else f"企业风险等级（共 {shown} 家）")
    meta = {
        "title": title or src.name, "subtitle": subtitle, "demo": DEMO_NOTE if src.is_demo else "",
        "legendTitle": legend_title,
        "levels": levels, "note": "离线地图：无需联网。坐标系 CGCS2000。",
    }
    text = json.dumps(meta, ensure_ascii=False, separators=(",", ":"))
    return text[:-1] + ',"layers":[' + ",".join(layers) + "]}"


HASH_SEARCH_JS = """
(function () {
  var m = /^#q=(.*)$/.exec(window.location.hash || "");
  if (!m) { return; }
  var input = document.querySelector(".rm-search input");
  input.value = decodeURIComponent(m[1]);
  input.dispatchEvent(new Event("input"));
  setTimeout(function () {
    var first = document.querySelector(".rm-results li");
    if (first && first.click) { first.click(); }
    document.documentElement.setAttribute("data-riskmap-search", "done");
  }, 200);
})();
"""


def build_html(src: ExportSource, *, title: str | None = None, subtitle: str = "", steps: Steps | None = None) -> str:
    """The whole page as one string.

    folium lays out the page, but no user text and none of riskmap's own code goes through a folium
    element whose output branca compiles as a Jinja template (every ``MacroElement`` script is): the data
    is a ``<script type="application/json">`` block and the code a raw element, both output as they are.
    """
    import folium

    data_text = page_json(src, title=title, subtitle=subtitle, steps=steps)
    bounds = _bounds(src)
    centre = [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]
    shown_title = title or src.name
    page_title = demo_title(shown_title, src.is_demo)
    fig = folium.Figure(title=html.escape(page_title))
    m = folium.Map(location=centre, zoom_start=10, tiles=None, prefer_canvas=True, control_scale=False,
                   max_zoom=19, zoom_snap=0.25)
    m.default_js = []  # no CDN: Leaflet is inlined below, nothing else is needed
    m.default_css = []
    m.add_to(fig)
    leaflet_css = _inline_css((LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8"))
    leaflet_js = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    if "</script" in leaflet_js.lower():
        raise RiskmapError("Leaflet 文件内容异常", "unexpected </script> in leaflet.js")
    own_css = (WEB_DIR / "webmap.css").read_text(encoding="utf-8")
    fig.header.add_child(_raw(f"<style>/* Leaflet 1.9.4, BSD-2-Clause */\n{leaflet_css}</style>"), name="leaflet_css")
    fig.header.add_child(_raw(f"<script>{leaflet_js}</script>"), name="leaflet_js")
    fig.html.add_child(_raw(f'<script type="application/json" id="{DATA_ELEMENT_ID}">'
                            f"{escape_script_text(data_text)}</script>"), name="riskmap_data")
    code = (WEB_DIR / "webmap.js").read_text(encoding="utf-8")
    data_expr = f'JSON.parse(document.getElementById("{DATA_ELEMENT_ID}").textContent)'
    code = code.replace("MAP_VARIABLE, RISKMAP_DATA", f"{m.get_name()}, {data_expr}") + HASH_SEARCH_JS
    if re.search(r"</script|<!--", code, re.I):  # would end the script block early
        raise RiskmapError("网页脚本含有非法片段", "page script contains a closing script tag")
    page_text = data_text + code + own_css + page_title + DEMO_MARK
    fig.header.add_child(_raw(f"<style>{font_face_css(page_text)}\n{own_css}</style>"), name="riskmap_css")
    # Figure's script block holds the map's own script after this one: run once the page has loaded.
    fig.script.add_child(_raw(f'document.addEventListener("DOMContentLoaded", function () {{\n{code}\n}});'),
                         name="riskmap_script")
    if src.is_demo:
        fig.html.add_child(_raw(f'<div style="display:none" id="riskmap-demo">{DEMO_MARK}</div>'))
    return fig.render()


def _raw(text: str):
    """A branca element that outputs ``text`` as it is: a Jinja variable's value, never parsed as a template."""
    from branca.element import Element
    from jinja2 import Template

    class _Raw(Element):
        _template = Template("{{ this.text }}")

        def __init__(self, text):
            super().__init__()
            self.text = text

    return _Raw(text)


def _bounds(src: ExportSource) -> tuple[float, float, float, float]:
    boxes = [x.gdf.total_bounds for x in src.layers if len(x.gdf)]
    if not boxes:
        raise RiskmapError("没有可导出的要素", "no features to export")
    b = np.array(boxes)
    return b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()


def export_html(src: ExportSource, out: str | os.PathLike, *, title: str | None = None, subtitle: str = "",
                progress=None, cancel=None) -> None:
    """Write the offline web map as one self-contained HTML file."""
    steps = export_steps(progress, cancel, 2)
    page = build_html(src, title=title, subtitle=subtitle, steps=steps)
    steps.step("页面")
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    steps.step("完成")
