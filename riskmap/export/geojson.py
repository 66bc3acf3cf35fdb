"""GeoJSON export (RFC 7946): one FeatureCollection, each feature tagged with its layer.

CGCS2000 longitude/latitude are written as they are (they differ from WGS 84 by centimetres).
On demo projects the collection and every feature say 示例数据.
"""

from __future__ import annotations

import json
import os

import numpy as np
import shapely

from riskmap.atomic import atomic_path
from riskmap.export.base import ExportSource, export_steps, plain_value, typed_frame
from riskmap.marks import DEMO_MARK, DEMO_NOTE

DECIMALS = 7  # about 1 cm


def geometry_json(geoms, decimals: int = DECIMALS) -> np.ndarray:
    """GeoJSON geometry strings for an array of shapely geometries, coordinates rounded."""
    arr = np.asarray(geoms, dtype=object)
    rounded = shapely.transform(arr, lambda c: np.round(c, decimals))
    return shapely.to_geojson(rounded)


def export_geojson(src: ExportSource, out: str | os.PathLike, *, progress=None, cancel=None) -> None:
    steps = export_steps(progress, cancel, len(src.layers))
    head = {"type": "FeatureCollection", "name": src.name}
    if src.is_demo:
        head["description"] = DEMO_NOTE
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n')
        first = True
        for x in src.layers:
            df = typed_frame(x)
            cols = [c for c in df.columns if c != df.geometry.name]
            geoms = geometry_json(df.geometry.values)
            records = df[cols].to_dict("records")
            for g, rec in zip(geoms, records):
                props = {"layer": x.id, "layer_name": x.layer.name_zh}
                if src.is_demo:
                    props["demo_note"] = DEMO_MARK
                props.update({k: plain_value(v) for k, v in rec.items()})
                if not first:
                    fh.write(",\n")
                fh.write('{"type": "Feature", "geometry": ' + (g or "null") + ', "properties": '
                         + json.dumps(props, ensure_ascii=False, default=str) + "}")
                first = False
            steps.step(x.layer.name_zh)
        fh.write("\n]}\n")
