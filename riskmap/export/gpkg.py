"""GeoPackage export: one feature table per layer, with QGIS styles in ``layer_styles``.

>>> # export_gpkg(collect_layers(project), "一张图.gpkg")
"""

from __future__ import annotations

import os
import sqlite3

import pyogrio

from riskmap.atomic import atomic_path
from riskmap.export.base import ExportSource, export_steps, typed_frame
from riskmap.marks import DEMO_NOTE
from riskmap.qml import layer_qml, write_styles


def export_gpkg(src: ExportSource, out: str | os.PathLike, *, progress=None, cancel=None) -> None:
    """Write every layer of ``src`` (EPSG:4490) to a new GeoPackage with a default QGIS style each.

    On demo projects every table description and a ``readme`` table say 示例数据.
    """
    steps = export_steps(progress, cancel, len(src.layers) + 1)
    with atomic_path(out) as tmp:
        styles = {}
        for x in src.layers:
            steps.check()
            df = typed_frame(x)
            desc = f"{x.layer.name_zh}（{DEMO_NOTE}）" if src.is_demo else x.layer.name_zh
            geom_type = {"point": "Point", "line": "MultiLineString", "polygon": "MultiPolygon"}[x.layer.geometry]
            pyogrio.write_dataframe(
                df, tmp, layer=x.id, driver="GPKG", promote_to_multi=x.layer.geometry != "point",
                geometry_type=geom_type, layer_options={"IDENTIFIER": x.layer.name_zh, "DESCRIPTION": desc},
                append=tmp.exists())
            aliases = {c: x.field_title(c) for c in df.columns if c != df.geometry.name}
            styles[x.id] = ("geom", x.layer.name_zh, layer_qml(x.layer, aliases))
            steps.step(x.layer.name_zh)
        if not src.layers:
            raise_empty()
        con = sqlite3.connect(tmp)
        try:
            with con:
                write_styles(con, styles, description=DEMO_NOTE if src.is_demo else "")
        finally:
            con.close()
        _write_readme(tmp, src)
        steps.step("样式")


def raise_empty():
    from riskmap.errors import RiskmapError

    raise RiskmapError("没有可导出的图层", "no layers to export")


def _write_readme(path, src: ExportSource) -> None:
    """A small ``readme`` attributes table: project, date, CRS and (on demo projects) the demo note."""
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute("CREATE TABLE readme (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, value TEXT)")
            rows = [("项目 project", src.name), ("导出日期 exported", src.created.isoformat()),
                    ("坐标系 CRS", "EPSG:4490 (CGCS2000)"), ("软件 software", "riskmap")]
            if src.is_demo:
                rows.insert(0, ("示例数据 demo data", DEMO_NOTE))
            rows += [("示意 approximate", note) for note in src.approximate_notes]
            con.executemany("INSERT INTO readme (key, value) VALUES (?, ?)", rows)
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description)"
                        " VALUES ('readme', 'attributes', '说明', ?)", (DEMO_NOTE if src.is_demo else "",))
    finally:
        con.close()
