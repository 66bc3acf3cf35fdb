"""DXF export for CAD: every layer and level on its own named CAD layer, in the metric CRS.

Points become circles of their map size at a reference scale (1:10 000 by default), lines and polygon
rings LWPOLYLINEs, level-coloured zones also get a translucent solid hatch. Levels are layer colours:
the true colour of levels.toml and the nearest AutoCAD colour index (ACI). Coordinates are metres of
the project's Gauss–Krüger zone; a note on the ``说明`` layer names the CRS.

>>> dxf_layer_name("村/社区", "重大风险")
'村_社区-重大风险'
"""

from __future__ import annotations

import os
import re

import ezdxf
import numpy as np
import shapely
from ezdxf import colors as dxf_colors

from riskmap.atomic import atomic_path
from riskmap.crs import to_metric
from riskmap.export.base import ExportLayer, ExportSource, export_steps, text_value
from riskmap.levels import hex_to_rgb
from riskmap.marks import DEMO_MARK, DEMO_NOTE
from riskmap.qml import class_series, declares_no_fill, style_classes

LEVEL_ACI = {"1": 1, "2": 30, "3": 2, "4": 5}  # red, orange, yellow, blue
TEXT_STYLE = "riskmap"
TEXT_FONT = "simhei.ttf"  # present on every Chinese Windows; CAD substitutes elsewhere
_BAD = re.compile(r'[<>/\\":;?*|=`,]')


def dxf_layer_name(*parts: str) -> str:
    """A valid DXF layer name from Chinese parts joined by '-'."""
    return "-".join(_BAD.sub("_", p).strip() for p in parts if p)


def nearest_aci(hex_colour: str) -> int:
    """The AutoCAD colour index (1–255) nearest to an RGB colour."""
    rgb = np.array(hex_to_rgb(hex_colour), dtype=float)
    table = np.array([dxf_colors.int2rgb(v) for v in dxf_colors.DXF_DEFAULT_COLORS[1:256]], dtype=float)
    return int(np.argmin(((table - rgb) ** 2).sum(axis=1))) + 1


def _rings(geom) -> list[np.ndarray]:
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            out.append(np.asarray(part.exterior.coords)[:, :2])
            out += [np.asarray(r.coords)[:, :2] for r in part.interiors]
        else:
            out.append(np.asarray(part.coords)[:, :2])
    return out


def export_dxf(src: ExportSource, out: str | os.PathLike, *, reference_scale: float = 10_000, labels: bool = True,
               progress=None, cancel=None) -> None:
    """Write the layers of ``src`` to a DXF (R2010, UTF-8) in the project's metric CRS."""
    steps = export_steps(progress, cancel, len(src.layers) + 1)
    doc = ezdxf.new("R2010", setup=True)
    doc.units = ezdxf.units.M
    doc.header["$INSUNITS"] = 6
    doc.styles.add(TEXT_STYLE, font=TEXT_FONT)
    msp = doc.modelspace()
    all_bounds = []
    for x in src.layers:
        steps.check()
        _add_layer(doc, msp, x, src.metric_epsg, reference_scale, labels, all_bounds)
        steps.step(x.layer.name_zh)
    _add_note(doc, msp, src, all_bounds)
    with atomic_path(out) as tmp:
        doc.saveas(tmp, encoding="utf-8")
    steps.step("完成")


def _add_layer(doc, msp, x: ExportLayer, epsg: int, reference_scale: float, labels: bool, all_bounds: list) -> None:
    st = x.layer.style
    gdf = to_metric(x.gdf, epsg)
    if not len(gdf):
        return
    all_bounds.append(gdf.total_bounds)
    classes = style_classes(x.layer)
    cls = class_series(x.layer, gdf)
    fill_zones = x.layer.geometry == "polygon" and st.type == "level" and not declares_no_fill(x.layer)
    for value, label, colour in classes:
        mask = (cls == value).to_numpy()
        if not mask.any():
            continue
        name = dxf_layer_name(x.layer.name_zh, label) if len(classes) > 1 else dxf_layer_name(x.layer.name_zh)
        if x.layer.geometry == "polygon" and not value and st.stroke:
            colour = st.stroke  # unlevelled zones: their outline colour, not the (white) 'no level' fill
        dl = doc.layers.add(name)
        dl.color = LEVEL_ACI.get(value, nearest_aci(colour)) if st.type == "level" and value else nearest_aci(colour)
        dl.rgb = hex_to_rgb(colour)
        attribs = {"layer": name}
        geoms = gdf.geometry.values[mask]
        if x.layer.geometry == "point":
            radius = st.size_mm / 2 / 1000 * reference_scale
            xy = shapely.get_coordinates(geoms)
            for px, py in xy:
                msp.add_circle((px, py), radius, dxfattribs=attribs)
            continue
        for geom in geoms:
            for ring in _rings(geom):
                closed = x.layer.geometry == "polygon"
                pts = ring[:-1] if closed and len(ring) > 1 and (ring[0] == ring[-1]).all() else ring
                msp.add_lwpolyline(pts, close=closed, dxfattribs=attribs)
            if fill_zones and value:
                hatch = msp.add_hatch(dxfattribs=attribs)
                hatch.set_solid_fill(rgb=hex_to_rgb(colour))
                hatch.transparency = 1 - st.fill_opacity
                for part in shapely.get_parts(geom):
                    hatch.paths.add_polyline_path(np.asarray(part.exterior.coords)[:-1, :2], is_closed=True, flags=1)
                    for r in part.interiors:
                        hatch.paths.add_polyline_path(np.asarray(r.coords)[:-1, :2], is_closed=True)
    if labels and x.layer.label is not None and x.layer.label.field in gdf:
        _add_labels(doc, msp, x, gdf, reference_scale)


def _add_labels(doc, msp, x: ExportLayer, gdf, reference_scale: float) -> None:
    lab = x.layer.label
    name = dxf_layer_name(x.layer.name_zh, "注记")
    if name not in doc.layers:
        doc.layers.add(name, color=7)
    height = lab.size_pt * 0.3528 / 1000 * reference_scale  # pt → mm on paper → metres on the ground
    anchors = shapely.point_on_surface(gdf.geometry.values) if x.layer.geometry != "point" else gdf.geometry.values
    xy = shapely.get_coordinates(anchors)
    offset = 0 if x.layer.geometry != "point" else x.layer.style.size_mm / 1000 * reference_scale
    for (px, py), text in zip(xy, gdf[lab.field].map(text_value)):
        if text:
            msp.add_text(text, height=height, dxfattribs={"layer": name, "style": TEXT_STYLE}).set_placement(
                (px + offset, py))


def _add_note(doc, msp, src: ExportSource, all_bounds: list) -> None:
    """The 说明 layer: project, CRS and (demo) the 示例数据 mark across the drawing."""
    doc.layers.add("说明", color=7)
    if all_bounds:
        b = np.array(all_bounds)
        xmin, ymin, xmax, ymax = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    else:
        xmin = ymin = 0.0
        xmax = ymax = 1000.0
    h = max(xmax - xmin, ymax - ymin) / 80
    lines = [src.name, f"坐标系 CGCS2000 3度带高斯-克吕格投影 EPSG:{src.metric_epsg}，单位：米", "由 riskmap 导出"]
    if src.is_demo:
        lines.insert(0, DEMO_NOTE)
    msp.add_mtext("\\P".join(lines), dxfattribs={"layer": "说明", "style": TEXT_STYLE, "char_height": h,
                                                 "insert": (xmin, ymax + 6 * h)})
    if src.is_demo:
        big = max(xmax - xmin, ymax - ymin) / 12
        doc.layers.add(DEMO_MARK, color=8)
        msp.add_text(DEMO_MARK, height=big, dxfattribs={"layer": DEMO_MARK, "style": TEXT_STYLE}).set_placement(
            ((xmin + xmax) / 2, (ymin + ymax) / 2), align=ezdxf.enums.TextEntityAlignment.MIDDLE_CENTER)
